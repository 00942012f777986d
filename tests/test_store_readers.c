/* Readers while the writer works: a reader holds one committed state from
 * its open to its close (or its refresh), through appends and through a
 * reorg's cut, and never takes a signal. The chains are generated (regtest
 * proof of work, cheap to mine again): a rival branch carries the same
 * transactions under other headers, so a reorg replaces 1,200 blocks. The
 * oracle is the reader's own first look: what it read at its start must
 * read the same at its end, and what the indexes give must exist in its
 * columns. */
#include "support/testutil.h"
#include "support/blkedit.h"
#include "support/storecmp.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "coinhound/address.h"
#include "coinhound/gen.h"
#include "coinhound/ingest.h"
#include "coinhound/store.h"

#define FORK_AT 50

typedef struct chains {
    char *dir;
    char first[1100]; /* the old chain: heights 0 .. n_first-1 */
    char next[1100];  /* 0 .. FORK_AT-1, then a rival branch one block longer than the original */
    char db[1100];
    tu_blkfile f;
    uint32_t n_first, n_next;
} chains;

static void chains_make(chains *c, uint32_t blocks, uint32_t cut) {
    c->dir = tu_tmpdir();
    char gen_dir[1100];
    snprintf(gen_dir, sizeof gen_dir, "%s/gen", c->dir);
    ch_gen_opts o;
    ch_gen_opts_init(&o);
    o.out_dir = gen_dir;
    o.seed = 11;
    o.blocks = blocks;
    o.txs = (uint64_t)blocks * 6;
    o.txs_per_block = 6;
    o.maturity = 10;
    ch_error err;
    if (ch_gen_run(&o, NULL, &err) != 0) fail_msg("gen: %s", err.msg);
    tu_blk_load(&c->f, gen_dir);
    assert_int_equal(c->f.n, blocks);
    c->n_first = FORK_AT + cut;
    c->n_next = blocks;
    assert_true(c->n_first < c->n_next);
    snprintf(c->first, sizeof c->first, "%s/first", c->dir);
    snprintf(c->next, sizeof c->next, "%s/next", c->dir);
    snprintf(c->db, sizeof c->db, "%s/db", c->dir);
    assert_int_equal(mkdir(c->first, 0755), 0);
    assert_int_equal(mkdir(c->next, 0755), 0);
    tu_blk_write(c->first, c->f.rec, c->n_first);
    tu_blkrec *rival = tu_blk_rival(&c->f, FORK_AT, blocks, 9);
    tu_blkrec *recs = malloc(blocks * sizeof *recs);
    memcpy(recs, c->f.rec, FORK_AT * sizeof *recs);
    memcpy(recs + FORK_AT, rival, (blocks - FORK_AT) * sizeof *recs);
    tu_blk_write(c->next, recs, blocks);
    for (uint32_t i = 0; i < blocks - FORK_AT; i++)
        free(rival[i].p);
    free(rival);
    free(recs);
}

static void chains_free(chains *c) {
    tu_blk_free(&c->f);
    tu_rmrf(c->dir);
    free(c->dir);
}

static void must_ingest(const char *blocks, const char *db, uint64_t commit_bytes,
                        ch_ingest_stats *st) {
    ch_ingest_opts o = {.progress = 0, .commit_bytes = commit_bytes};
    ch_ingest_stats scratch;
    ch_error err;
    if (ch_ingest_btc(blocks, db, &o, st ? st : &scratch, &err) != 0)
        fail_msg("ingest %s: %s", blocks, err.msg);
}

/* Ingest in a child process (LMDB forbids one process to open an
 * environment twice: closing the writer's would drop the reader's slot). */
static pid_t ingest_child(const char *blocks, const char *db) {
    pid_t w = fork();
    assert_true(w >= 0);
    if (w == 0) {
        ch_ingest_opts o = {.progress = 0};
        ch_error err;
        _exit(ch_ingest_btc(blocks, db, &o, NULL, &err) == 0 ? 0 : 1);
    }
    return w;
}

static void wait_ok(pid_t w) {
    int status;
    assert_int_equal(waitpid(w, &status, 0), w);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* --- what a reader checks --- */

static uint64_t fold(uint64_t h, const void *p, size_t n) {
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

/* The records a cut would remove or overwrite: the top blocks, their
 * txids, outputs and address records. */
static uint64_t tail_sum(ch_store *s, const ch_store_counts *c) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (uint64_t b = c->blocks > 64 ? c->blocks - 64 : 0; b < c->blocks; b++)
        h = fold(h, ch_store_block(s, (uint32_t)b), sizeof(ch_block_rec));
    for (uint64_t t = c->txs > 512 ? c->txs - 512 : 0; t < c->txs; t++) {
        ch_hash256 id;
        ch_store_txid(s, t, &id);
        h = fold(h, id.b, 32);
        h = fold(h, ch_store_tx(s, t), sizeof(ch_tx_rec));
    }
    for (uint64_t o = c->outputs > 1024 ? c->outputs - 1024 : 0; o < c->outputs; o++) {
        const ch_out_rec *r = ch_store_output(s, o);
        h = fold(h, r->b, CH_OUT_SPENT_OFF); /* value, type, address: not the spent mark */
    }
    return h;
}

/* Queries over the upper part of the chain, as trace and address do:
 * every output's address, found again through the index; every input's
 * source output; address histories walked back. Returns a reason for an
 * inconsistency, or NULL. */
static const char *queries(ch_store *s, const ch_store_counts *c, unsigned *seed) {
    for (int k = 0; k < 200; k++) {
        uint64_t tx = c->txs / 2 + (uint64_t)rand_r(seed) % (c->txs - c->txs / 2);
        uint64_t first, n;
        ch_store_tx_outputs(s, tx, &first, &n);
        if (first + n > c->outputs) return "outputs past the count";
        for (uint64_t o = first; o < first + n; o++) {
            const ch_out_rec *r = ch_store_output(s, o);
            if (!ch_out_addr(r)) continue;
            ch_addr a;
            ch_store_addr_of(s, ch_out_addr(r), &a);
            ch_addr_id id;
            uint64_t last;
            ch_error err;
            if (ch_store_find_addr(s, &a, &id, &last, &err) != 1) return "address not indexed";
            if (id != ch_out_addr(r)) return "index gives another id";
            if (last >= c->outputs) return "address head past the outputs";
            int steps = 0;
            for (int64_t p = (int64_t)last; p >= 0 && steps < 50; steps++)
                p = ch_store_output_prev_same_addr(s, (uint64_t)p);
            int64_t sp = ch_store_output_spender(s, o);
            if (sp >= (int64_t)c->txs) return "spender past the txs";
        }
        ch_store_tx_inputs(s, tx, &first, &n);
        for (uint64_t i = first; i < first + n; i++)
            if (ch_store_input_spent_output(s, i) >= (int64_t)c->outputs)
                return "input spends past the outputs";
        ch_hash256 id;
        ch_store_txid(s, tx, &id);
        uint64_t found;
        ch_error err;
        if (ch_store_find_tx(s, &id, &found, &err) != 1 || found != tx) return "txid not found";
    }
    return NULL;
}

/* A reader process: until `stop` exists, open (or refresh) the store, look,
 * query, look again. Exit 0 when every look agreed, 3 otherwise. */
static void reader_main(const char *db, const char *stop, bool refresh, unsigned seed) {
    /* a signal must kill the reader, for the parent to count it (cmocka's
     * handlers, inherited through fork, would catch it) */
    const int sigs[] = {SIGBUS, SIGSEGV, SIGILL, SIGFPE, SIGABRT};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        signal(sigs[i], SIG_DFL);
    ch_store *s = NULL;
    ch_error err;
    long rounds = 0;
    while (access(stop, F_OK) != 0) {
        if (!s || !refresh) {
            if (s) ch_store_close(s);
            if (ch_store_open(db, "btc", CH_STORE_READ, &s, &err) != 0) {
                fprintf(stderr, "reader: %s\n", err.msg);
                _exit(3);
            }
        } else if (ch_store_refresh(s, &err) < 0) {
            fprintf(stderr, "reader: refresh: %s\n", err.msg);
            _exit(3);
        }
        ch_store_counts c;
        ch_store_get_counts(s, &c);
        uint64_t before = tail_sum(s, &c);
        const char *bad = c.txs ? queries(s, &c, &seed) : NULL;
        if (!bad && tail_sum(s, &c) != before) bad = "records changed under the reader";
        if (bad) {
            fprintf(stderr, "reader (round %ld, %llu blocks): %s\n", rounds,
                    (unsigned long long)c.blocks, bad);
            _exit(3);
        }
        rounds++;
    }
    ch_store_close(s);
    _exit(0);
}

/* Run the CLI (output dropped); its wait status. */
static int run_cli(char *const argv[]) {
    pid_t pid = fork();
    if (pid == 0) {
        FILE *null = freopen("/dev/null", "w", stdout);
        null = freopen("/dev/null", "w", stderr);
        (void)null;
        execv(argv[0], argv);
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return status;
}

/* The CLI's address and trace queries in a loop until `stop` exists, on an
 * address of the common chain and one of the cut part: exit 0 when every
 * run answered (0, or 1 for "never appears"), 4 on a signal, 5 on an error. */
static void cli_reader_main(const char *db, const char *stop, const char *low, const char *high) {
    char bin[1024];
    snprintf(bin, sizeof bin, "%s", tu_bin("coinhound"));
    const char *addrs[2] = {low, high};
    for (long round = 0; access(stop, F_OK) != 0; round++) {
        const char *a = addrs[round % 2];
        char *q1[] = {bin, "address", (char *)a, "--db", (char *)db, "--limit", "20", NULL};
        char *q2[] = {bin, "trace", "--db", (char *)db, "--from", (char *)a, NULL};
        char **q = (round / 2) % 2 ? q2 : q1;
        int st = run_cli(q);
        if (WIFSIGNALED(st)) {
            fprintf(stderr, "cli reader: %s %s died of signal %d\n", q[1], a, WTERMSIG(st));
            _exit(4);
        }
        if (WEXITSTATUS(st) > 1) {
            fprintf(stderr, "cli reader: %s %s exited %d\n", q[1], a, WEXITSTATUS(st));
            _exit(5);
        }
    }
    _exit(0);
}

/* The text of the first address paid at or after output `from`. */
static void some_addr(const char *db, uint64_t from, char out[CH_ADDR_STR_MAX]) {
    ch_store *s;
    ch_error err;
    assert_int_equal(ch_store_open(db, "btc", CH_STORE_READ, &s, &err), 0);
    ch_store_counts c;
    ch_store_get_counts(s, &c);
    for (uint64_t o = from; o < c.outputs; o++) {
        const ch_out_rec *r = ch_store_output(s, o);
        ch_addr a;
        if (!ch_out_addr(r)) continue;
        ch_store_addr_of(s, ch_out_addr(r), &a);
        if (ch_addr_to_string(&a, CH_NET_MAINNET, out) == 0) {
            ch_store_close(s);
            return;
        }
    }
    fail_msg("no address at or after output %llu", (unsigned long long)from);
}

/* Readers in loops (fresh opens, long-lived ones that refresh, and the
 * CLI's address and trace queries) while the writer cuts 1,200 blocks and
 * appends the rival branch, committing often: no reader takes a signal or
 * sees its state change. */
static void test_readers_during_long_reorg_take_no_signal(void **state) {
    (void)state;
    chains c;
    chains_make(&c, 1300, 1200);
    must_ingest(c.first, c.db, 0, NULL);
    char stop[1200];
    snprintf(stop, sizeof stop, "%s/stop", c.dir);
    char low[CH_ADDR_STR_MAX], high[CH_ADDR_STR_MAX];
    ch_store_counts before;
    tu_store_counts(c.db, "btc", &before);
    some_addr(c.db, 0, low);
    some_addr(c.db, before.outputs - before.outputs / 8, high);
    enum { READERS = 5 };
    pid_t pid[READERS];
    for (int i = 0; i < READERS; i++) {
        pid[i] = fork();
        assert_true(pid[i] >= 0);
        if (pid[i] == 0 && i == READERS - 1) cli_reader_main(c.db, stop, low, high);
        if (pid[i] == 0) reader_main(c.db, stop, i % 2 == 1, 1234u + (unsigned)i);
    }
    usleep(100 * 1000);
    ch_ingest_stats st;
    must_ingest(c.next, c.db, 64 << 10, &st); /* a commit every 64 KiB */
    assert_int_equal(st.reorg_height, FORK_AT);
    assert_int_equal(st.tip_height, c.n_next - 1);
    FILE *f = fopen(stop, "w");
    assert_non_null(f);
    fclose(f);
    int signals = 0, bad = 0;
    for (int i = 0; i < READERS; i++) {
        int status;
        assert_int_equal(waitpid(pid[i], &status, 0), pid[i]);
        if (WIFSIGNALED(status)) {
            signals++;
            print_message("reader %d died of signal %d\n", i, WTERMSIG(status));
        } else if (WEXITSTATUS(status) != 0) {
            bad++;
        }
    }
    assert_int_equal(signals, 0);
    assert_int_equal(bad, 0);
    /* and the store is the new chain's */
    char *clean = tu_tmpdir();
    must_ingest(c.next, clean, 0, NULL);
    tu_assert_same_columns(clean, c.db, "btc");
    tu_assert_same_indexes(clean, c.db, "btc");
    tu_rmrf(clean);
    free(clean);
    chains_free(&c);
}

/* A long-lived reader keeps its state through the writer's appends and a
 * reorg (the writer waits for it), and moves to the new state with
 * ch_store_refresh, without reopening. */
static void test_refresh_moves_a_reader_to_new_commits(void **state) {
    (void)state;
    chains c;
    chains_make(&c, 130, 40);
    /* a store of the old chain's first 60 blocks */
    ch_ingest_opts o = {.progress = 0, .max_blocks = 60};
    ch_ingest_stats st;
    ch_error err;
    assert_int_equal(ch_ingest_btc(c.first, c.db, &o, &st, &err), 0);
    ch_store *r;
    assert_int_equal(ch_store_open(c.db, "btc", CH_STORE_READ, &r, &err), 0);
    ch_store_counts c0, c1;
    ch_store_get_counts(r, &c0);
    assert_int_equal(c0.blocks, 60);
    assert_int_equal(ch_store_refresh(r, &err), 0); /* nothing new */

    /* appends: invisible until the refresh */
    wait_ok(ingest_child(c.first, c.db));
    ch_store_get_counts(r, &c1);
    assert_memory_equal(&c0, &c1, sizeof c0);
    if (ch_store_refresh(r, &err) != 1) fail_msg("refresh: %s", err.msg);
    ch_store_get_counts(r, &c1);
    assert_int_equal(c1.blocks, c.n_first);
    ch_hash256 old55;
    memcpy(old55.b, ch_store_block(r, FORK_AT + 5)->hash, 32);

    /* a reorg in another process: it waits for this reader */
    pid_t w = ingest_child(c.next, c.db);
    usleep(300 * 1000);
    int status;
    assert_int_equal(waitpid(w, &status, WNOHANG), 0); /* still waiting */
    ch_store_counts c2;
    ch_store_get_counts(r, &c2);
    assert_memory_equal(&c1, &c2, sizeof c1);
    assert_memory_equal(ch_store_block(r, FORK_AT + 5)->hash, old55.b, 32);
    uint32_t h;
    assert_int_equal(ch_store_find_block(r, &old55, &h, &err), 1);
    assert_int_equal(h, FORK_AT + 5);
    /* moving on lets the writer cut; refreshed again at its end, the reader
     * sees the rival branch */
    if (ch_store_refresh(r, &err) != 1) fail_msg("refresh: %s", err.msg);
    wait_ok(w);
    assert_int_equal(ch_store_refresh(r, &err), 1);
    ch_store_get_counts(r, &c2);
    assert_int_equal(c2.blocks, c.n_next);
    tu_blkfile nf;
    tu_blk_load(&nf, c.next);
    ch_hash256 new55 = tu_blk_hash(&nf.rec[FORK_AT + 5]);
    tu_blk_free(&nf);
    assert_memory_not_equal(new55.b, old55.b, 32);
    assert_memory_equal(ch_store_block(r, FORK_AT + 5)->hash, new55.b, 32);
    assert_int_equal(ch_store_find_block(r, &old55, &h, &err), 0);
    ch_store_close(r);
    chains_free(&c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_readers_during_long_reorg_take_no_signal),
        cmocka_unit_test(test_refresh_moves_a_reader_to_new_commits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
