/* Merges of a writer's runs in a thread of their own (runs.h, "merges in
 * the background"): what keeps a watcher's commit from waiting a second or
 * more for a carry of the merge policy.
 *
 * The thread reads only the runs it was given (copies of their mappings,
 * which no one unmaps while it runs: v's runs change only by appends, by
 * merges of runs newer than its range, and by adopting its own result)
 * and writes only its own new files. It shares with the writer's thread
 * one atomic state and one cancel flag; everything else changes hands
 * through the join. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "store/runs.h"

enum { MERGE_RUNNING, MERGE_DONE, MERGE_FAILED };

typedef struct st_run_merge {
    pthread_t th;
    char dir[4096], name[16];
    bool filters;
    size_t from, to; /* v[from, to) is merged */
    st_run in[ST_RUNS_MAX];
    uint64_t seq;
    st_run out;
    atomic_int state;
    atomic_bool cancel;
    const st_run_hold *hold; /* the writer's (st_runs.hold), or NULL */
    ch_error err;
} st_run_merge;

static void *merge_main(void *arg) {
    st_run_merge *m = arg;
    /* below the writer's threads: the merge takes what they leave */
    setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 10);
    int rc = st_run_write_merged(m->dir, m->name, m->filters, m->in, m->to - m->from, m->seq,
                                 &m->cancel, m->hold, &m->out, &m->err);
    atomic_store(&m->state, rc == 0 ? MERGE_DONE : MERGE_FAILED);
    return NULL;
}

int st_runs_merge_start(st_runs *r, uint64_t seq) {
    if (r->bg || r->staged || r->n < 2) return 0;
    /* st_runs_add's policy, with the newest run as the batch */
    uint64_t total = r->v[r->n - 1].n;
    size_t from = st_runs_policy(r, r->n - 1, 0, &total, true, SIZE_MAX);
    size_t k = r->n - from;
    if (k < 2 || r->n_retired + k > sizeof r->retired / sizeof r->retired[0]) return 0;
    st_run_merge *m = calloc(1, sizeof *m);
    if (!m) return 0;
    snprintf(m->dir, sizeof m->dir, "%s", r->dir);
    snprintf(m->name, sizeof m->name, "%s", r->name);
    m->filters = r->filters;
    m->from = from;
    m->to = r->n;
    m->seq = seq;
    m->hold = r->hold;
    for (size_t i = 0; i < k; i++) { /* the mappings only: filters and fences stay the writer's */
        m->in[i] = (st_run){
            .seq = r->v[from + i].seq, .n = r->v[from + i].n, .map = r->v[from + i].map, .fd = -1};
    }
    atomic_init(&m->state, MERGE_RUNNING);
    atomic_init(&m->cancel, false);
    if (pthread_create(&m->th, NULL, merge_main, m) != 0) {
        free(m);
        return 0;
    }
    r->bg = m;
    return 1;
}

size_t st_runs_merge_end(const st_runs *r) {
    return r->bg ? r->bg->to : 0;
}

/* A finished merge's thread joined and its result put in place of the
 * runs it merged (done), or let go (failed). */
static int merge_finish(st_runs *r, ch_error *err) {
    st_run_merge *m = r->bg;
    pthread_join(m->th, NULL);
    r->bg = NULL;
    if (atomic_load(&m->state) != MERGE_DONE) {
        if (err) *err = m->err;
        free(m);
        return -1;
    }
    size_t k = m->to - m->from;
    for (size_t i = m->from; i < m->to; i++) {
        r->retired[r->n_retired++] = r->v[i].seq;
        st_run_unmap(&r->v[i]);
    }
    r->v[m->from] = m->out;
    memmove(&r->v[m->from + 1], &r->v[m->to], (r->n - m->to) * sizeof r->v[0]);
    r->n -= k - 1;
    free(m);
    return 1;
}

int st_runs_merge_adopt(st_runs *r, ch_error *err) {
    if (!r->bg || atomic_load(&r->bg->state) == MERGE_RUNNING) return 0;
    return merge_finish(r, err);
}

int st_runs_merge_wait(st_runs *r, ch_error *err) {
    if (!r->bg) return 0;
    return merge_finish(r, err) < 0 ? -1 : 0;
}

void st_runs_merge_stop(st_runs *r) {
    st_run_merge *m = r->bg;
    if (!m) return;
    atomic_store(&m->cancel, true);
    pthread_join(m->th, NULL);
    if (atomic_load(&m->state) == MERGE_DONE) { /* finished before the cancel: never listed */
        st_run_unmap(&m->out);
        st_run_unlink(m->dir, m->name, m->seq);
    }
    free(m);
    r->bg = NULL;
}
