/* Several files made durable at once (syncmany.h). One after the other,
 * each fdatasync waited for its own write-back and its own flush of the
 * disk's cache; side by side, the write-backs overlap (and use both cores
 * where the kernel's work is CPU: walking the dirty pages), the journal
 * commits of their metadata are shared, and the disk takes the flushes
 * together. Nothing about what is durable changes: the caller still waits
 * for every one before it goes on. */
#include "util/syncmany.h"
#include "util/ioerr.h"
#include "util/spare.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

/* threads besides the caller's */
#define SYNC_HELPERS 3

typedef struct sync_work {
    ch_sync_job *jobs;
    size_t n;
    atomic_size_t next;
} sync_work;

static void sync_jobs(void *arg) {
    sync_work *w = arg;
    for (size_t i; (i = atomic_fetch_add(&w->next, 1)) < w->n;) {
        ch_sync_job *j = &w->jobs[i];
        int rc = j->dir ? fsync(j->fd) : fdatasync(j->fd);
        j->errnum = rc != 0 ? errno : 0;
    }
}

static void *sync_main(void *arg) {
    sync_jobs(arg);
    return NULL;
}

int ch_sync_many(ch_sync_job *jobs, size_t n, ch_error *err) {
    sync_work w = {jobs, n, 0};
    /* helpers: the process's kept spare threads first (nothing started for
     * the watcher's two files, every block), then threads of their own */
    ch_spare_task spare[SYNC_HELPERS] = {{0}};
    pthread_t th[SYNC_HELPERS];
    size_t posted = 0, started = 0, spares = ch_spare_threads();
    while (posted + started < SYNC_HELPERS && posted + started + 1 < n) {
        if (posted < spares && ch_spare_post(&spare[posted], sync_jobs, &w))
            posted++;
        else if (pthread_create(&th[started], NULL, sync_main, &w) == 0)
            started++;
        else
            break;
    }
    sync_jobs(&w); /* (with no helper, the caller does them all) */
    for (size_t i = 0; i < posted; i++)
        ch_spare_withdraw(&spare[i]); /* one not started found nothing left */
    for (size_t i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    for (size_t i = 0; i < n; i++)
        if (jobs[i].errnum)
            return ch_io_err(err, jobs[i].path, jobs[i].dir ? "fsync" : "fdatasync", NULL,
                             jobs[i].errnum);
    return 0;
}
