/* A file's write-back started from a thread of its own (st_writeback in
 * store_internal.h): sync_file_range is a hint that makes nothing
 * durable, and the kernel's work of submitting the dirty pages overlaps
 * the caller's until st_writeback_join. (Making several files durable at
 * once is util/syncmany.c's.) */
#include "store/store_internal.h"

#include <fcntl.h>
#include <pthread.h>

static void *writeback_main(void *arg) {
    const st_writeback *w = arg;
    sync_file_range(w->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
    return NULL;
}

void st_writeback_start(st_writeback *w, int fd) {
    w->fd = fd;
    w->started = fd >= 0 && pthread_create(&w->th, NULL, writeback_main, w) == 0;
}

void st_writeback_join(st_writeback *w) {
    if (w->started) pthread_join(w->th, NULL);
    w->started = false;
}
