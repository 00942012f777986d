/* Several files made durable at once (internal): the store's commit (its
 * columns, new runs and their folder) and the watcher's alert log with
 * its alerts file. */
#ifndef COINHOUND_UTIL_SYNCMANY_H
#define COINHOUND_UTIL_SYNCMANY_H

#include <stdbool.h>
#include <stddef.h>

#include "coinhound/error.h"

/* A file to make durable: fdatasync, or fsync for a folder (its entries). */
typedef struct ch_sync_job {
    int fd;
    bool dir;
    const char *path; /* for the error */
    int errnum;       /* set by ch_sync_many: 0 or the call's errno */
} ch_sync_job;

/* Make every job's file durable, side by side: on the caller's thread,
 * the process's spare threads (util/spare.h) and threads started for the
 * rest, up to four in all (one after the other when none can help);
 * returns when all are done: 0, or -1 naming the first that failed. */
int ch_sync_many(ch_sync_job *jobs, size_t n, ch_error *err);

#endif
