/* The process's spare threads (src/util/spare.h), which a watcher hands a
 * block's lookups, witness check and second sync.
 *
 * Claims, each checked against what the test itself observes:
 *   - as many spare threads as the cores this process may use less one
 *     (at most 3), the count read here from the test's own CPU set;
 *   - a posted task runs exactly once, on a thread other than the
 *     poster's; tasks start in the order posted (checked with one spare
 *     thread, where the order is the queue's); 20,000 tasks posted from two
 *     threads at once each run once;
 *   - a task queued behind busy spare threads and withdrawn never runs,
 *     and the withdrawal returns without waiting for the busy ones;
 *   - a task withdrawn while it runs is waited for: its effect is there
 *     when the withdrawal returns;
 *   - waiting for a task never posted returns at once;
 *   - a task posted from a thread held to one core runs on another, and
 *     the spare threads' own CPU sets leave the poster's core out (checked
 *     from each of the first two allowed cores in turn);
 *   - a forked child has no spare threads: a post there says so (false)
 *     instead of queueing work no thread will take. */
#include "support/testutil.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/spare.h"

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_one_thread_per_spare_core(void **state) {
    (void)state;
    cpu_set_t mine;
    assert_int_equal(sched_getaffinity(0, sizeof mine, &mine), 0);
    int cores = CPU_COUNT(&mine);
    size_t want = cores > 1 ? (size_t)cores - 1 : 0;
    if (want > 3) want = 3;
    assert_int_equal(ch_spare_threads(), want);
    if (want == 0) skip();
}

typedef struct probe {
    atomic_int runs;
    atomic_int started_as; /* the start counter's value when it started */
    pthread_t on;
} probe;

static atomic_int g_starts;

static void record(void *arg) {
    probe *p = arg;
    atomic_store(&p->started_as, atomic_fetch_add(&g_starts, 1));
    p->on = pthread_self();
    atomic_fetch_add(&p->runs, 1);
}

static void test_tasks_run_once_in_order_elsewhere(void **state) {
    (void)state;
    if (ch_spare_threads() == 0) skip();
    enum { N = 200 };
    static ch_spare_task t[N];
    static probe p[N];
    atomic_store(&g_starts, 0);
    for (int i = 0; i < N; i++)
        assert_true(ch_spare_post(&t[i], record, &p[i]));
    for (int i = 0; i < N; i++) {
        ch_spare_wait(&t[i]);
        assert_true(ch_spare_done(&t[i]));
        assert_int_equal(atomic_load(&p[i].runs), 1);
        assert_false(pthread_equal(p[i].on, pthread_self()));
        if (ch_spare_threads() == 1) assert_int_equal(atomic_load(&p[i].started_as), i);
    }
}

static atomic_int g_sum;

static void add_one(void *arg) {
    (void)arg;
    atomic_fetch_add(&g_sum, 1);
}

/* 10,000 posts, each waited for in batches of 100. */
static void *poster(void *arg) {
    (void)arg;
    static _Thread_local ch_spare_task t[100];
    for (int round = 0; round < 100; round++) {
        for (int i = 0; i < 100; i++)
            if (!ch_spare_post(&t[i], add_one, NULL)) return (void *)1;
        for (int i = 0; i < 100; i++)
            ch_spare_wait(&t[i]);
    }
    return NULL;
}

static void test_two_posters_at_once(void **state) {
    (void)state;
    if (ch_spare_threads() == 0) skip();
    atomic_store(&g_sum, 0);
    pthread_t a, b;
    assert_int_equal(pthread_create(&a, NULL, poster, NULL), 0);
    assert_int_equal(pthread_create(&b, NULL, poster, NULL), 0);
    void *ra, *rb;
    pthread_join(a, &ra);
    pthread_join(b, &rb);
    assert_null(ra);
    assert_null(rb);
    assert_int_equal(atomic_load(&g_sum), 20000);
}

static atomic_int g_release, g_blocked;

/* Holds its spare thread until the test lets go. */
static void block(void *arg) {
    (void)arg;
    atomic_fetch_add(&g_blocked, 1);
    while (!atomic_load(&g_release))
        sleep_ms(1);
}

static void test_withdrawn_before_start_never_runs(void **state) {
    (void)state;
    size_t n = ch_spare_threads();
    if (n == 0) skip();
    ch_spare_task blockers[3] = {{0}}, t = {0};
    probe p = {0};
    atomic_store(&g_release, 0);
    atomic_store(&g_blocked, 0);
    for (size_t i = 0; i < n; i++)
        assert_true(ch_spare_post(&blockers[i], block, NULL));
    while ((size_t)atomic_load(&g_blocked) < n) /* every spare thread held */
        sleep_ms(1);
    assert_true(ch_spare_post(&t, record, &p));
    assert_false(ch_spare_done(&t));
    assert_true(ch_spare_withdraw(&t)); /* taken back, with the blockers still running */
    assert_true(ch_spare_done(&t));
    assert_false(ch_spare_done(&blockers[0]));
    atomic_store(&g_release, 1);
    for (size_t i = 0; i < n; i++)
        ch_spare_wait(&blockers[i]);
    sleep_ms(20); /* room for a wrongly queued task to run */
    assert_int_equal(atomic_load(&p.runs), 0);
}

static atomic_int g_slow_started, g_slow_done;

static void slow(void *arg) {
    (void)arg;
    atomic_store(&g_slow_started, 1);
    sleep_ms(50);
    atomic_store(&g_slow_done, 1);
}

static void test_withdrawn_while_running_is_waited_for(void **state) {
    (void)state;
    if (ch_spare_threads() == 0) skip();
    ch_spare_task t = {0};
    atomic_store(&g_slow_started, 0);
    atomic_store(&g_slow_done, 0);
    assert_true(ch_spare_post(&t, slow, NULL));
    while (!atomic_load(&g_slow_started))
        sleep_ms(1);
    assert_false(ch_spare_withdraw(&t)); /* not taken back: it ran */
    assert_int_equal(atomic_load(&g_slow_done), 1);
}

static void test_never_posted_is_done(void **state) {
    (void)state;
    ch_spare_task t = {0};
    assert_true(ch_spare_done(&t));
    ch_spare_wait(&t);
    assert_false(ch_spare_withdraw(&t));
}

typedef struct where {
    int cpu;
    cpu_set_t set;
} where;

static void where_am_i(void *arg) {
    where *w = arg;
    w->cpu = sched_getcpu();
    CPU_ZERO(&w->set);
    sched_getaffinity(0, sizeof w->set, &w->set);
}

static void test_spare_threads_keep_off_the_posters_core(void **state) {
    (void)state;
    cpu_set_t mine;
    assert_int_equal(sched_getaffinity(0, sizeof mine, &mine), 0);
    if (ch_spare_threads() == 0 || CPU_COUNT(&mine) < 2) skip();
    int cores[2], k = 0;
    for (int c = 0; c < CPU_SETSIZE && k < 2; c++)
        if (CPU_ISSET(c, &mine)) cores[k++] = c;
    for (int i = 0; i < 2; i++) {
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(cores[i], &one);
        assert_int_equal(sched_setaffinity(0, sizeof one, &one), 0);
        assert_int_equal(sched_getcpu(), cores[i]);
        for (int round = 0; round < 20; round++) {
            ch_spare_task t = {0};
            where w = {-1, {{0}}};
            assert_true(ch_spare_post(&t, where_am_i, &w));
            ch_spare_wait(&t);
            assert_int_not_equal(w.cpu, cores[i]);
            assert_false(CPU_ISSET(cores[i], &w.set));
            assert_true(CPU_COUNT(&w.set) >= 1);
        }
    }
    assert_int_equal(sched_setaffinity(0, sizeof mine, &mine), 0);
}

static void test_forked_child_has_none(void **state) {
    (void)state;
    if (ch_spare_threads() == 0) skip();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        ch_spare_task t = {0};
        int code = ch_spare_threads() == 0 && !ch_spare_post(&t, add_one, NULL) ? 0 : 1;
        _exit(code);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_thread_per_spare_core),
        cmocka_unit_test(test_tasks_run_once_in_order_elsewhere),
        cmocka_unit_test(test_two_posters_at_once),
        cmocka_unit_test(test_withdrawn_before_start_never_runs),
        cmocka_unit_test(test_withdrawn_while_running_is_waited_for),
        cmocka_unit_test(test_never_posted_is_done),
        cmocka_unit_test(test_spare_threads_keep_off_the_posters_core),
        cmocka_unit_test(test_forked_child_has_none),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
