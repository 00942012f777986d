/* The process's spare threads (spare.h): a queue under one mutex, worked
 * by threads started on first use and never stopped (an idle one sleeps
 * on a condition variable; the process's exit ends it).
 *
 * Off the poster's core. A scheduler trace of `watch btc` (perf sched,
 * 30 s, 3,001-tx blocks, session 13) showed the watcher's thread
 * preempted 1,087 times, for 208 ms in all, 141 ms of it by its own spare
 * thread, woken onto the watcher's core while the other core stayed idle
 * (single gaps up to 4 ms: a scheduler tick, until the balancer moved one
 * of them). So a post first narrows the spare threads' CPU set to the
 * process's less the poster's current core (when that changed since the
 * last post: a vDSO call and a compare otherwise): the wake then places
 * them elsewhere. With no other core allowed the set is left whole.
 *
 * A waiter spins a little before it sleeps: the pieces handed off are a
 * few milliseconds at most, and a waiter that must sleep and be woken
 * again pays the scheduler's wake on top (the thing kept threads are
 * for). */
#include "util/spare.h"

#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

/* a waiter's busy checks before it sleeps: some tens of microseconds */
#define SPIN_CHECKS 4096

enum { TASK_DONE = 0, TASK_QUEUED = 1, TASK_RUNNING = 2 };

static struct {
    pthread_once_t once;
    pthread_mutex_t mu;
    pthread_cond_t work, done, started;
    ch_spare_task *head, *tail;
    pid_t pid; /* the process that started them (a forked child has none) */
    pid_t tid[CH_SPARE_MAX];
    size_t n_tid;   /* the threads started, each once it has told its id */
    cpu_set_t cpus; /* the process's, when they started */
    int avoided;    /* the core their set leaves out, or -1 (under mu) */
} spare = {.once = PTHREAD_ONCE_INIT,
           .mu = PTHREAD_MUTEX_INITIALIZER,
           .work = PTHREAD_COND_INITIALIZER,
           .done = PTHREAD_COND_INITIALIZER,
           .started = PTHREAD_COND_INITIALIZER,
           .avoided = -1};

static void *spare_main(void *arg) {
    (void)arg;
    pthread_mutex_lock(&spare.mu);
    spare.tid[spare.n_tid++] = (pid_t)syscall(SYS_gettid);
    pthread_cond_broadcast(&spare.started);
    for (;;) {
        while (!spare.head)
            pthread_cond_wait(&spare.work, &spare.mu);
        ch_spare_task *t = spare.head;
        spare.head = t->next;
        if (!spare.head) spare.tail = NULL;
        atomic_store(&t->state, TASK_RUNNING);
        pthread_mutex_unlock(&spare.mu);
        t->run(t->arg);
        pthread_mutex_lock(&spare.mu);
        atomic_store(&t->state, TASK_DONE);
        pthread_cond_broadcast(&spare.done);
    }
    return NULL;
}

static void start_threads(void) {
    if (sched_getaffinity(0, sizeof spare.cpus, &spare.cpus) != 0) {
        CPU_ZERO(&spare.cpus);
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        for (long c = 0; c < cores && c < CPU_SETSIZE; c++)
            CPU_SET((int)c, &spare.cpus);
    }
    int allowed = CPU_COUNT(&spare.cpus);
    size_t want = allowed > 1 ? (size_t)allowed - 1 : 0, started = 0;
    if (want > CH_SPARE_MAX) want = CH_SPARE_MAX;
    pthread_attr_t attr;
    if (pthread_attr_init(&attr) != 0) return;
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    for (pthread_t th; started < want; started++)
        if (pthread_create(&th, &attr, spare_main, NULL) != 0) break;
    pthread_attr_destroy(&attr);
    /* every one's id, for the CPU sets: n_tid is then the count */
    pthread_mutex_lock(&spare.mu);
    while (spare.n_tid < started)
        pthread_cond_wait(&spare.started, &spare.mu);
    pthread_mutex_unlock(&spare.mu);
    spare.pid = getpid();
}

size_t ch_spare_threads(void) {
    pthread_once(&spare.once, start_threads);
    return spare.pid == getpid() ? spare.n_tid : 0;
}

/* Keep the spare threads off core `cpu` (see the top; left whole when no
 * other core is allowed). Under mu. */
static void avoid(int cpu) {
    if (cpu < 0 || cpu >= CPU_SETSIZE || cpu == spare.avoided) return;
    cpu_set_t set = spare.cpus;
    CPU_CLR(cpu, &set);
    if (CPU_COUNT(&set) == 0) return;
    for (size_t i = 0; i < spare.n_tid; i++)
        (void)sched_setaffinity(spare.tid[i], sizeof set, &set); /* a hint: failure is harmless */
    spare.avoided = cpu;
}

bool ch_spare_post(ch_spare_task *t, void (*run)(void *), void *arg) {
    if (ch_spare_threads() == 0) return false;
    t->run = run;
    t->arg = arg;
    t->next = NULL;
    int cpu = sched_getcpu();
    pthread_mutex_lock(&spare.mu);
    avoid(cpu);
    atomic_store(&t->state, TASK_QUEUED);
    if (spare.tail)
        spare.tail->next = t;
    else
        spare.head = t;
    spare.tail = t;
    pthread_cond_signal(&spare.work);
    pthread_mutex_unlock(&spare.mu);
    return true;
}

bool ch_spare_done(const ch_spare_task *t) {
    return atomic_load(&t->state) == TASK_DONE;
}

void ch_spare_wait(ch_spare_task *t) {
    for (int i = 0; i < SPIN_CHECKS; i++) {
        if (ch_spare_done(t)) return;
        ch_cpu_pause();
    }
    pthread_mutex_lock(&spare.mu);
    while (!ch_spare_done(t))
        pthread_cond_wait(&spare.done, &spare.mu);
    pthread_mutex_unlock(&spare.mu);
}

bool ch_spare_withdraw(ch_spare_task *t) {
    bool taken = false;
    if (atomic_load(&t->state) == TASK_QUEUED) {
        pthread_mutex_lock(&spare.mu);
        if (atomic_load(&t->state) == TASK_QUEUED) {
            ch_spare_task **p = &spare.head, *prev = NULL;
            while (*p != t) {
                prev = *p;
                p = &(*p)->next;
            }
            *p = t->next;
            if (spare.tail == t) spare.tail = prev;
            atomic_store(&t->state, TASK_DONE);
            taken = true;
        }
        pthread_mutex_unlock(&spare.mu);
    }
    ch_spare_wait(t);
    return taken;
}
