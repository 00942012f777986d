/* A block's steps through the watcher, timed (watch_internal.h: the
 * timeline; COINHOUND_WATCH_TIMING turns it on).
 *
 * Why more than wall clocks: on a shared machine a slow block is either
 * work (the thread's CPU), a wait for a core (the run queue: other
 * processes had both), a wait for the disk (major faults, syncs: wall
 * that is neither), or memory mapped anew (minor faults). Each step's
 * four figures tell which, without a profiler on the running watcher.
 * On a virtual machine a fifth: the time the hypervisor took the cores
 * away (steal, /proc/stat, in 10 ms ticks), which stretches every step's
 * CPU alike. */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "watch/watch_internal.h"

void watch_timeline_init(watch_timeline *t) {
    memset(t, 0, sizeof *t);
    /* the thread's own file: kept open, it stays this thread's */
    t->schedstat_fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
    t->stat_fd = open("/proc/stat", O_RDONLY | O_CLOEXEC);
}

void watch_timeline_close(watch_timeline *t) {
    if (t->schedstat_fd >= 0) close(t->schedstat_fd);
    if (t->stat_fd >= 0) close(t->stat_fd);
    t->schedstat_fd = t->stat_fd = -1;
}

/* A /proc file kept open (fd), read again from its start into buf
 * (NUL-terminated); false when it is not open or says nothing. */
static bool read_proc(int fd, char *buf, size_t cap) {
    if (fd < 0) return false;
    ssize_t n = pread(fd, buf, cap - 1, 0);
    if (n <= 0) return false;
    buf[n] = 0;
    return true;
}

/* The run queue's ms from schedstat ("on-CPU ns, run-queue ns, slices"). */
static double runq_ms(const watch_timeline *t) {
    char buf[128];
    if (!read_proc(t->schedstat_fd, buf, sizeof buf)) return 0;
    unsigned long long on, wait;
    return sscanf(buf, "%llu %llu", &on, &wait) == 2 ? (double)wait / 1e6 : 0;
}

/* The machine's steal ms so far: /proc/stat's first line, "cpu user nice
 * system idle iowait irq softirq steal ..." in USER_HZ ticks. */
static double steal_ms(const watch_timeline *t) {
    char buf[256];
    if (!read_proc(t->stat_fd, buf, sizeof buf)) return 0;
    unsigned long long v[8];
    if (sscanf(buf, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
               &v[4], &v[5], &v[6], &v[7]) != 8)
        return 0;
    long hz = sysconf(_SC_CLK_TCK);
    return (double)v[7] * 1e3 / (double)(hz > 0 ? hz : 100);
}

watch_mark watch_timeline_now(const watch_timeline *t) {
    watch_mark m = {0};
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    m.wall = (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    m.cpu = (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
    m.runq = runq_ms(t);
    struct rusage ru;
    if (getrusage(RUSAGE_THREAD, &ru) == 0) {
        m.minflt = ru.ru_minflt;
        m.majflt = ru.ru_majflt;
        m.nvcsw = ru.ru_nvcsw;
        m.nivcsw = ru.ru_nivcsw;
    }
    return m;
}

void watch_timeline_mark(watch_timeline *t, int step) {
    t->m[step] = watch_timeline_now(t);
    /* a line's first and last marks only (the wake, or a batch's start
     * without one, and the cursor): the file is read whole each time */
    if (step == WATCH_STEP_WAKE || step == WATCH_STEP_CURSOR ||
        (step == WATCH_STEP_CHECKS && !t->taken[WATCH_STEP_WAKE]))
        t->m[step].steal = steal_ms(t);
    t->taken[step] = true;
}

void watch_timeline_reset(watch_timeline *t) {
    for (int i = WATCH_STEP_WAKE; i < WATCH_STEPS; i++)
        t->taken[i] = false;
    t->read_ms = 0;
}

/* The line's steps and totals. A batch that came with a wake starts at it;
 * one without (a catch-up's batch after the first, a node's answer)
 * starts at its WATCH_STEP_CHECKS mark (the batch's start). */
void watch_timeline_log(const watch_timeline *t, uint32_t from, uint32_t to) {
    static const char *const names[WATCH_STEPS] = {"idle",  "wake",     "index",    "checks", "add",
                                                   "rules", "log sync", "delivery", "cursor"};
    bool woke = t->taken[WATCH_STEP_WAKE];
    int first = woke ? WATCH_STEP_WAKE : WATCH_STEP_CHECKS;
    if (!t->taken[first] || !t->taken[WATCH_STEP_CURSOR]) return;
    char line[1024];
    int len, prev = first;
    if (woke) {
        /* when it went to sleep: after the block's write, it was busy (a
         * commit, the block index's save) when the block came */
        const watch_mark *idle = t->taken[WATCH_STEP_IDLE] ? &t->m[WATCH_STEP_IDLE] : NULL;
        len = snprintf(line, sizeof line,
                       "timing: blocks %u-%u steps: woke at %.3f, asleep from %.3f", from, to,
                       t->m[WATCH_STEP_WAKE].wall / 1e3,
                       (idle ? idle : &t->m[WATCH_STEP_WAKE])->wall / 1e3);
        /* the wake itself: from going to sleep, its run queue and switches
         * are the wait for a core once the event came */
        if (idle) prev = WATCH_STEP_IDLE;
    } else {
        len = snprintf(line, sizeof line,
                       "timing: blocks %u-%u steps: no wake, from the batch's start", from, to);
    }
    for (int i = woke ? WATCH_STEP_WAKE : first + 1; i < WATCH_STEPS && len < (int)sizeof line;
         i++) {
        if (!t->taken[i]) continue;
        const watch_mark *a = &t->m[prev], *b = &t->m[i];
        double wall = b->wall - a->wall, cpu = b->cpu - a->cpu;
        if (i == WATCH_STEP_ADD) {
            /* the ingest's wait for its reader thread, then the adds */
            len += snprintf(line + len, sizeof line - (size_t)len, "; read %.2f", t->read_ms);
            wall -= t->read_ms;
        }
        if (len < (int)sizeof line)
            len += snprintf(line + len, sizeof line - (size_t)len, "; %s %.2f/%.2f/%.2f/%ld",
                            names[i], wall, cpu, b->runq - a->runq, b->minflt - a->minflt);
        prev = i;
    }
    const watch_mark *w = &t->m[first], *c = &t->m[WATCH_STEP_CURSOR];
    if (len < (int)sizeof line)
        snprintf(line + len, sizeof line - (size_t)len,
                 " (wall/cpu/run queue ms/minor faults); from the %s: %.2f ms, cpu %.2f, run "
                 "queue %.2f, major faults %ld, switches %ld voluntary %ld involuntary, the "
                 "machine's steal %.0f ms",
                 woke ? "wake" : "start", c->wall - w->wall, c->cpu - w->cpu, c->runq - w->runq,
                 c->majflt - w->majflt, c->nvcsw - w->nvcsw, c->nivcsw - w->nivcsw,
                 c->steal - w->steal);
    watch_log("info", "%s", line);
}
