/* A small commit (a watcher's block) writes its spent marks and the older
 * addresses' heads after its syncs, into the page cache, and the next
 * commit's syncs make them durable (src/store/marks.c, heads.c): the
 * store's meta says how far they are (marks_upto, heads_upto) and in which
 * boot the rest was written. These tests make a writer die right after
 * such commits (its process ends without closing the store, as kill -9
 * would end it), then put the lagging marks and heads back to what the
 * disk held before them, as a power cut before their write-back would
 * leave them, and present another boot id: a reader must still name every
 * spender and every address's last output (an oracle computed from the
 * chain's plan, not from the store), whether a writer replays them at the
 * reader's open or at its own; a reader that cannot have them replayed
 * (the writer's lock held) refuses, saying how to recover. The heads alone
 * put back in the same boot (a writer that died between its transaction's
 * commit and the heads' move) are found by a reader itself, through its
 * index of the outputs past heads_upto (st_heads_index). */
#include "support/storecmp.h"
#include "support/storemeta.h"
#include "support/testutil.h"
#include "support/handchain.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "coinhound/lock.h"
#include "coinhound/store.h"
#include "store/store_internal.h"

enum { OUTS = 3000, TXS_A_BLOCK = 100, ADDRS = 700, BLOCKS_MAX = 8 };
enum { N_OUT_MAX = OUTS + TXS_A_BLOCK * BLOCKS_MAX };

/* What the chain's plan says, independent of the store: each output's
 * spending tx (-1: unspent) and address (plan index k of addr_of). */
typedef struct oracle {
    int64_t spender[N_OUT_MAX];
    uint32_t addr[N_OUT_MAX];
    uint64_t n_out;
} oracle;

/* Made-up txids (block hashes from 0x100000 on) and v0 witness addresses
 * (tests/support/handchain.c). */
static ch_hash256 txid_of(uint32_t n) {
    return mkhash(0x7a, n);
}

static ch_addr addr_of(uint32_t k) {
    return mkaddr_kind(CH_ADDR_WITNESS, k);
}

/* Blocks [0, to) of the plan: block 0 a coinbase of OUTS outputs to 500
 * addresses; each later one TXS_A_BLOCK txs spending two outputs left
 * unspent (chosen at random) and paying one address of ADDRS, old or new.
 * Blocks [from, to) are added to s (when not NULL), a commit each. */
static void run_plan(ch_store *s, int from, int to, oracle *o) {
    uint64_t rng = 0x9e3779b97f4a7c15ULL;
    uint32_t left[OUTS], n_left = OUTS, ntx = 0;
    ch_error err;
    memset(o, 0, sizeof *o);
    for (uint32_t k = 0; k < OUTS; k++) {
        left[k] = k;
        o->spender[k] = -1;
        o->addr[k] = k % 500;
    }
    o->n_out = OUTS;
    for (int b = 0; b < to; b++) {
        bool add = s && b >= from;
        ch_block_meta m;
        memset(&m, 0, sizeof m);
        m.hash = txid_of(0x100000u + (uint32_t)b);
        if (add) assert_int_equal(ch_store_begin_block(s, &m, &err), 0);
        if (b == 0) {
            ch_hash256 id = txid_of(ntx++);
            if (add) {
                assert_int_equal(ch_store_add_tx(s, &id, 100, &err), 0);
                assert_int_equal(ch_store_add_coinbase_input(s, &err), 0);
                for (uint32_t k = 0; k < OUTS; k++) {
                    ch_addr a = addr_of(k % 500);
                    assert_int_equal(ch_store_add_output(s, 5000 + k, CH_SCRIPT_P2WPKH, &a, &err),
                                     0);
                }
            }
        } else {
            for (int t = 0; t < TXS_A_BLOCK; t++) {
                uint32_t tx = ntx++, ins[2];
                for (int j = 0; j < 2; j++) {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    uint32_t k = (uint32_t)(rng % n_left);
                    ins[j] = left[k];
                    left[k] = left[--n_left];
                    o->spender[ins[j]] = tx;
                }
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                uint32_t pay = (uint32_t)(rng % ADDRS);
                o->spender[o->n_out] = -1;
                o->addr[o->n_out++] = pay;
                if (!add) continue;
                ch_hash256 id = txid_of(tx), prev = txid_of(0);
                assert_int_equal(ch_store_add_tx(s, &id, 100, &err), 0);
                for (int j = 0; j < 2; j++)
                    assert_int_equal(ch_store_add_input(s, &prev, ins[j], &err), 0);
                ch_addr a = addr_of(pay);
                assert_int_equal(ch_store_add_output(s, 100, CH_SCRIPT_P2WPKH, &a, &err), 0);
            }
        }
        if (add) {
            assert_int_equal(ch_store_end_block(s, &err), 0);
            if (ch_store_commit(s, &err) != 0) fail_msg("commit: %s", err.msg);
        }
    }
}

/* The last output below `below` paying plan address k (-1: none). */
static int64_t last_out(const oracle *o, uint32_t k, uint64_t below) {
    for (uint64_t x = below; x-- > 0;)
        if (o->addr[x] == k) return (int64_t)x;
    return -1;
}

/* A bulk writer (every commit large: commit_thread_from 1) that holds
 * its marks over its commits (marks_density past any count: they wait
 * until a close, a small commit or the memory share writes them). */
static void hold_marks(ch_store *w) {
    w->commit_thread_from = 1;
    w->marks_density = 1e12;
}

/* A writer in a child process adds blocks [from, to) and ends without
 * closing the store: it exits (its page cache writes stay; nothing is
 * synced for it), or, holding its marks (hold_marks; still held after its
 * last commit), is killed with SIGKILL. */
static void writer_ends_after(const char *dir, int from, int to, bool holding) {
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        ch_store *s;
        ch_error err;
        if (ch_store_open(dir, "btc", CH_STORE_WRITE, &s, &err) != 0) _exit(3);
        if (holding) hold_marks(s);
        oracle *o = malloc(sizeof *o);
        run_plan(s, from, to, o);
        if (!holding) _exit(0);
        if (!ch_store_marks_held(s)) _exit(4);
        kill(getpid(), SIGKILL);
        _exit(5);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (holding)
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    else
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Every output's spender and every address's last output, as handle s
 * answers, equal the oracle's. */
static void assert_answers(ch_store *s, const oracle *o) {
    ch_store_counts c;
    ch_store_get_counts(s, &c);
    assert_int_equal(c.outputs, o->n_out);
    for (uint64_t x = 0; x < o->n_out; x++)
        if (ch_store_output_spender(s, x) != o->spender[x])
            fail_msg("output %llu: spender %lld, want %lld", (unsigned long long)x,
                     (long long)ch_store_output_spender(s, x), (long long)o->spender[x]);
    for (uint32_t k = 0; k < ADDRS; k++) {
        ch_addr a = addr_of(k);
        ch_addr_id id;
        uint64_t last;
        ch_error err;
        int64_t want = last_out(o, k, o->n_out);
        int found = ch_store_find_addr(s, &a, &id, &last, &err);
        assert_int_equal(found, want >= 0 ? 1 : 0);
        if (want >= 0 && last != (uint64_t)want)
            fail_msg("address %u: last output %llu, want %lld", k, (unsigned long long)last,
                     (long long)want);
    }
}

static void assert_reader_answers(const char *dir, const oracle *o) {
    ch_store *r;
    ch_error err;
    if (ch_store_open(dir, "btc", CH_STORE_READ, &r, &err) != 0) fail_msg("%s", err.msg);
    assert_answers(r, o);
    ch_store_close(r);
}

/* What a power cut before the write-back leaves: the marks of the inputs
 * at or past marks_upto zero in outs.col, the heads moved by outputs at or
 * past heads_upto back to the last output below it (the value the disk
 * held; lose_marks false: the heads alone, as a writer that died between
 * its transaction's commit and the heads' move leaves them). Read through
 * a reader of this boot, written with pwrite (the page cache is the file's
 * content for everyone after). Says how many marks and heads it put back. */
static void lose_page_cache(const char *dir, const oracle *o, bool lose_marks, int *marks,
                            int *heads) {
    ch_store *r;
    ch_error err;
    assert_int_equal(ch_store_open(dir, "btc", CH_STORE_READ, &r, &err), 0);
    ch_store_counts c;
    ch_store_get_counts(r, &c);
    char path[4200];
    snprintf(path, sizeof path, "%s/btc/outs.col", dir);
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    *marks = *heads = 0;
    for (uint64_t i = r->marks_upto; lose_marks && i < c.inputs; i++) {
        int64_t x = ch_store_input_spent_output(r, i);
        if (x < 0) continue;
        uint8_t zero[CH_OUT_ID_BYTES] = {0};
        assert_int_equal(pwrite(fd, zero, sizeof zero, (off_t)x * 18 + CH_OUT_SPENT_OFF),
                         (ssize_t)sizeof zero);
        (*marks)++;
    }
    close(fd);
    snprintf(path, sizeof path, "%s/btc/heads20.col", dir);
    fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    for (uint64_t x = r->heads_upto; x < o->n_out; x++) {
        ch_addr a = addr_of(o->addr[x]);
        ch_addr_id id;
        uint64_t last;
        assert_int_equal(ch_store_find_addr(r, &a, &id, &last, &err), 1);
        int64_t before = last_out(o, o->addr[x], r->heads_upto);
        if (before < 0) continue; /* a new address: its head came with its record */
        uint64_t v = (uint64_t)before;
        assert_int_equal(pwrite(fd, &v, 8, (off_t)(id - 1) * 8), 8);
        (*heads)++;
    }
    close(fd);
    ch_store_close(r);
}

/* The lag the test is about is there: the last commit's marks and heads
 * past the watermarks. */
static void assert_lagging(const char *dir) {
    ch_store *r;
    ch_error err;
    assert_int_equal(ch_store_open(dir, "btc", CH_STORE_READ, &r, &err), 0);
    ch_store_counts c;
    ch_store_get_counts(r, &c);
    assert_true(r->marks_upto < c.inputs);
    assert_true(r->heads_upto < c.outputs);
    ch_store_close(r);
}

static void test_lost_page_cache_marks_and_heads_are_replayed(void **state) {
    (void)state;
    if (!st_boot_id()[0]) {
        print_message("no boot id here: every commit makes its marks durable itself\n");
        skip();
    }
    char *dir = tu_tmpdir();
    oracle *o = malloc(sizeof *o);
    /* 1. blocks 0-3, the writer dies: in this boot the page cache holds
     * the last commit's marks and heads, and readers read them */
    writer_ends_after(dir, 0, 4, false);
    run_plan(NULL, 0, 4, o);
    assert_lagging(dir);
    assert_reader_answers(dir, o);
    /* the heads as a writer that died before moving them leaves them: a
     * reader of this boot finds the last block's outputs itself */
    int marks, heads;
    lose_page_cache(dir, o, false, &marks, &heads);
    assert_int_equal(marks, 0);
    assert_true(heads > 0);
    assert_reader_answers(dir, o);
    /* 2. the machine "restarts" before their write-back: the disk's old
     * marks and heads, another boot id */
    lose_page_cache(dir, o, true, &marks, &heads);
    assert_true(marks >= 2 * TXS_A_BLOCK); /* at least the last block's */
    assert_true(heads > 0);
    st_boot_id_set_for_tests("00000000-test-boot-0000-000000000001");
    /* a reader that cannot have them replayed (a writer holds the lock
     * and has not) refuses, saying how to recover */
    char sub[4200];
    snprintf(sub, sizeof sub, "%s/btc", dir);
    ch_writer_lock *lock;
    ch_error err;
    assert_int_equal(ch_writer_lock_take(sub, false, &lock, &err), 0);
    ch_store *r;
    /* the marks lost are the last commit's, which its meta says readers
     * index from ins.col (they were written after its transaction): a
     * reader needs no replay */
    assert_int_equal(ch_store_open(dir, "btc", CH_STORE_READ, &r, &err), 0);
    assert_answers(r, o);
    ch_store_close(r);
    /* a store whose meta does not say so (written before that) */
    char index[4200];
    snprintf(index, sizeof index, "%s/btc/index", dir);
    tu_meta_del(index, "marks_held_from");
    assert_int_equal(ch_store_open(dir, "btc", CH_STORE_READ, &r, &err), -1);
    assert_null(r);
    assert_non_null(strstr(err.msg, "not yet on disk when the machine restarted"));
    assert_non_null(strstr(err.msg, "open it once with a writer"));
    ch_writer_lock_release(lock);
    /* else the reader's open has a writer replay them: right answers */
    assert_reader_answers(dir, o);
    assert_int_equal(ch_store_open(dir, "btc", CH_STORE_READ, &r, &err), 0);
    assert_true(r->marks_upto >= r->col[COL_INS].n_committed); /* durable now */
    ch_store_close(r);

    /* 3. blocks 4-6 by a writer that dies, the same loss, and this time a
     * writer opens first: it replays them, its own answers are right and
     * so are a reader's */
    writer_ends_after(dir, 4, 7, false);
    run_plan(NULL, 0, 7, o);
    assert_lagging(dir);
    lose_page_cache(dir, o, true, &marks, &heads);
    assert_true(marks >= 2 * TXS_A_BLOCK);
    st_boot_id_set_for_tests("00000000-test-boot-0000-000000000002");
    ch_store *w;
    assert_int_equal(ch_store_open(dir, "btc", CH_STORE_WRITE, &w, &err), 0);
    assert_answers(w, o);
    /* and the writer goes on from there: one more block */
    run_plan(w, 7, 8, o);
    assert_answers(w, o);
    ch_store_close(w);
    assert_reader_answers(dir, o);
    st_boot_id_set_for_tests(NULL);
    free(o);
    tu_rmrf(dir);
    free(dir);
}

/* In the same boot nothing is replayed for a reader: the page cache is
 * what it reads. A commit's marks past marks_upto are there at once, and a
 * reader open beside the writer sees each block's spends as it commits. */
/* A reader refreshed between a small commit's transaction and its marks
 * (after_txn_for_tests): it sees the block, and every spend in it. */
static ch_store *window_reader;
static const oracle *window_want;
static int window_calls;

static void refresh_in_the_window(ch_store *w) {
    (void)w;
    ch_error err;
    assert_int_equal(ch_store_refresh(window_reader, &err), 1);
    assert_answers(window_reader, window_want);
    window_calls++;
}

static void test_reader_beside_a_lagging_writer_sees_every_spend(void **state) {
    (void)state;
    char *dir = tu_tmpdir();
    oracle *o = malloc(sizeof *o), *want = malloc(sizeof *want);
    ch_store *w, *r;
    ch_error err;
    assert_int_equal(ch_store_open(dir, "btc", CH_STORE_WRITE, &w, &err), 0);
    run_plan(w, 0, 1, o);
    assert_int_equal(ch_store_open(dir, "btc", CH_STORE_READ, &r, &err), 0);
    window_reader = r;
    window_want = want;
    w->after_txn_for_tests = refresh_in_the_window;
    for (int b = 1; b < 5; b++) {
        run_plan(NULL, 0, b + 1, want);
        run_plan(w, b, b + 1, o);
        assert_true(ch_store_refresh(r, &err) >= 0);
        assert_answers(r, want);
    }
    assert_int_equal(window_calls, 4);
    w->after_txn_for_tests = NULL;
    ch_store_close(r);
    ch_store_close(w);
    /* a clean close leaves nothing lagging */
    assert_int_equal(ch_store_open(dir, "btc", CH_STORE_READ, &r, &err), 0);
    assert_int_equal(r->marks_upto, r->col[COL_INS].n_committed);
    assert_int_equal(r->heads_upto, r->col[COL_OUTS].n_committed);
    ch_store_close(r);
    free(o);
    free(want);
    tu_rmrf(dir);
    free(dir);
}

/* Some committed inputs' marks are held (not in outs.col) as r sees it. */
static void assert_held(ch_store *r) {
    assert_true(ch_store_marks_held(r));
    assert_true(r->marks_held_from < r->col[COL_INS].n_committed);
    assert_true(r->marks_upto <= r->marks_held_from);
    /* and outs.col lacks at least one of them: the reader's answers come
     * from its index, not the records */
    int64_t x = ch_store_input_spent_output(r, r->col[COL_INS].n_committed - 1);
    assert_true(x >= 0);
    assert_int_equal(ch_out_spent(ch_store_output(r, (uint64_t)x)), 0);
}

/* A bulk ingest holds a commit's spent marks with the ones held before
 * (marks.c: it writes them once they are dense enough in outs.col) and
 * records in its meta from which input on outs.col may lack them. A
 * reader beside it indexes those inputs' marks itself (from ins.col) and
 * names every spender after each commit; a SIGKILL with marks held over
 * several commits, then a writer that goes on, leaves the store equal,
 * file for file and query for query, to one written in one go without
 * holding anything. */
static void test_marks_held_over_bulk_commits(void **state) {
    (void)state;
    char *dir = tu_tmpdir(), clean[4200], held[4200];
    snprintf(clean, sizeof clean, "%s/clean", dir);
    snprintf(held, sizeof held, "%s/held", dir);
    oracle *o = malloc(sizeof *o), *want = malloc(sizeof *want);
    ch_store *w, *r;
    ch_error err;
    /* the store to compare with: every commit writes its own marks */
    assert_int_equal(ch_store_open(clean, "btc", CH_STORE_WRITE, &w, &err), 0);
    w->commit_thread_from = 1;
    w->marks_density = -1; /* never hold */
    run_plan(w, 0, BLOCKS_MAX, o);
    assert_false(ch_store_marks_held(w));
    ch_store_close(w);

    /* 1. a holding writer and a reader beside it, refreshed after each
     * commit: right answers, from its index of the held marks */
    assert_int_equal(ch_store_open(held, "btc", CH_STORE_WRITE, &w, &err), 0);
    hold_marks(w);
    run_plan(w, 0, 1, o);
    assert_int_equal(ch_store_open(held, "btc", CH_STORE_READ, &r, &err), 0);
    for (int b = 1; b < 4; b++) {
        run_plan(w, b, b + 1, o);
        assert_true(ch_store_marks_held(w));
        assert_answers(w, o); /* the writer knows its held marks too */
        run_plan(NULL, 0, b + 1, want);
        assert_true(ch_store_refresh(r, &err) >= 0);
        assert_held(r);
        assert_answers(r, want);
    }
    ch_store_close(r);
    ch_store_close(w);
    /* a clean close wrote them: nothing held, nothing lagging */
    assert_int_equal(ch_store_open(held, "btc", CH_STORE_READ, &r, &err), 0);
    assert_false(ch_store_marks_held(r));
    assert_int_equal(r->marks_upto, r->col[COL_INS].n_committed);
    assert_answers(r, want);
    ch_store_close(r);

    /* 2. killed with the marks of three commits held: a reader of the
     * state it left indexes them; a writer replays them at its open and
     * goes on to the end */
    writer_ends_after(held, 4, 7, true);
    run_plan(NULL, 0, 7, want);
    assert_int_equal(ch_store_open(held, "btc", CH_STORE_READ, &r, &err), 0);
    assert_held(r);
    assert_answers(r, want);
    ch_store_close(r);
    assert_int_equal(ch_store_open(held, "btc", CH_STORE_WRITE, &w, &err), 0);
    assert_false(ch_store_marks_held(w));
    assert_answers(w, want);
    hold_marks(w);
    run_plan(w, 7, BLOCKS_MAX, o);
    ch_store_close(w);
    tu_assert_same_store(clean, held, "btc");

    free(o);
    free(want);
    tu_rmrf(dir);
    free(dir);
}

/* Held marks are written by a commit once they reach the density asked
 * (marks_density a page of outs.col), and a reader then reads them in the
 * records again; a cut (reorg) writes them first and clears the cut
 * inputs' marks, as without holding. */
static void test_held_marks_written_when_dense_and_before_a_cut(void **state) {
    (void)state;
    char *dir = tu_tmpdir(), clean[4200], held[4200];
    snprintf(clean, sizeof clean, "%s/clean", dir);
    snprintf(held, sizeof held, "%s/held", dir);
    oracle *o = malloc(sizeof *o);
    ch_store *w, *r;
    ch_error err;
    assert_int_equal(ch_store_open(clean, "btc", CH_STORE_WRITE, &w, &err), 0);
    w->commit_thread_from = 1;
    w->marks_density = -1;
    run_plan(w, 0, 7, o);
    assert_int_equal(ch_store_truncate(w, 4, &err), 0);
    ch_store_close(w);

    assert_int_equal(ch_store_open(held, "btc", CH_STORE_WRITE, &w, &err), 0);
    w->commit_thread_from = 1;
    /* outs.col of 3,000 outputs and 100 a block is 14-15 pages; a block
     * spends 200 of the first 3,000: held while under 25 a page (about
     * 350-375), so a commit holds and the next writes both */
    w->marks_density = 25.0;
    run_plan(w, 0, 2, o);
    assert_true(ch_store_marks_held(w));
    int writes = 0;
    for (int b = 2; b < 6; b++) {
        bool was = ch_store_marks_held(w);
        run_plan(w, b, b + 1, o);
        writes += was && !ch_store_marks_held(w);
    }
    assert_true(writes >= 1);
    /* (a reader closed in this process would take the writer's LMDB
     * locks with it: the writer answers, the reader's turn is below) */
    assert_answers(w, o);
    /* a cut with marks held: the same store as the clean one's cut */
    w->marks_density = 1e12;
    run_plan(w, 6, 7, o);
    assert_true(ch_store_marks_held(w));
    assert_int_equal(ch_store_truncate(w, 4, &err), 0);
    assert_false(ch_store_marks_held(w));
    ch_store_close(w);
    tu_assert_same_store(clean, held, "btc");
    assert_int_equal(ch_store_open(held, "btc", CH_STORE_READ, &r, &err), 0);
    assert_false(ch_store_marks_held(r));
    ch_store_close(r);
    free(o);
    tu_rmrf(dir);
    free(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_marks_held_over_bulk_commits),
        cmocka_unit_test(test_held_marks_written_when_dense_and_before_a_cut),
        cmocka_unit_test(test_lost_page_cache_marks_and_heads_are_replayed),
        cmocka_unit_test(test_reader_beside_a_lagging_writer_sees_every_spend),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
