/* The process's spare threads (internal): one for each core beyond the
 * caller's, started once and kept, for small pieces of work a
 * long-running writer hands off while it goes on (a block's index
 * lookups, its witness check, the second of two syncs).
 *
 * Why kept rather than started per piece: a watcher handed a few such
 * pieces to threads of their own for every block, and a scheduler trace
 * showed the cost: three runnable threads on two cores during the adds,
 * the watcher's own thread waiting its turn (its run-queue time in the add
 * rose from 1.8 to 9-14 ms at the p99 when the lookups' helper came in).
 * With kept threads the work queues behind whatever the spare thread is
 * doing, and the watcher's thread keeps its core.
 *
 * A task is posted, runs once on a spare thread in the order posted, and
 * is waited for before its memory or arguments go. A process that forked
 * has no spare threads in the child: posts there say so. The spare
 * threads keep off the core of the last thread that posted (spare.c says
 * why). */
#ifndef COINHOUND_UTIL_SPARE_H
#define COINHOUND_UTIL_SPARE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

/* The most spare threads a process starts (one a core beyond the
 * caller's): what a poster sizes its tasks for. */
#define CH_SPARE_MAX 3

typedef struct ch_spare_task {
    void (*run)(void *);
    void *arg;
    atomic_int state; /* 0 idle or done, 1 queued, 2 running */
    struct ch_spare_task *next;
} ch_spare_task;

/* Spare threads this process has (started on the first call): the cores
 * it may run on (its CPU affinity) less one, at most CH_SPARE_MAX; 0 on one
 * core or when none could start. */
size_t ch_spare_threads(void);

/* Queue run(arg) for a spare thread: true, and the caller must
 * ch_spare_wait(t) before t or arg goes; false when there is no spare
 * thread (the caller then does the work itself). t must not be queued or
 * running already. */
bool ch_spare_post(ch_spare_task *t, void (*run)(void *), void *arg);

/* Until t has run (at once when it was never posted or has run). */
void ch_spare_wait(ch_spare_task *t);

/* Take t back if no spare thread has started it yet (it will not run:
 * true, and the caller does the work itself if it still needs doing),
 * else wait until it has run (false): for work the caller would
 * otherwise wait for behind other work, or help it has finished alone. */
bool ch_spare_withdraw(ch_spare_task *t);

/* Has t run (or was it never posted)? */
bool ch_spare_done(const ch_spare_task *t);

/* One step of a short busy wait: tells the core so (it then spends less
 * on the loop and leaves more to the other thread on it). */
static inline void ch_cpu_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

#endif
