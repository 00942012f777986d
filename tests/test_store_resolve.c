/* A block's index lookups made before its adds, on several threads
 * (ch_store_resolve_block, src/store/resolve.c): the store it builds is
 * the one an ingest without them builds, byte for byte and query for
 * query, across commits and reopenings (which empty the hot maps, so that
 * the lookups go to the runs); the answers are taken by the adds; and a
 * block the store must refuse is refused with the same message. The
 * oracle is the plain ingest (ch_ingest_btc, whose adds ask the index one
 * at a time). */
#include "support/testutil.h"
#include "support/storecmp.h"
#include "support/genchain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/btc.h"
#include "coinhound/gen.h"
#include "coinhound/ingest.h"
#include "coinhound/store.h"
#include "store/store_internal.h"

/* blocks of this many txs: some 1,200 lookups a block, past resolve.c's
 * threshold for sharing them */
#define TXS_PER_BLOCK 600
/* blocks the plain ingest puts in before the resolving writer takes over */
#define FIRST_PART 20

typedef struct fx {
    char *tmp;
    char blocks[1200], idx[1200];
    ch_blkdir *d;
    ch_blkidx *x;
    const ch_blk_chain *chain;
} fx;

static int fx_setup(void **state) {
    fx *f = calloc(1, sizeof *f);
    f->tmp = tu_tmpdir();
    snprintf(f->blocks, sizeof f->blocks, "%s/blocks", f->tmp);
    snprintf(f->idx, sizeof f->idx, "%s/blkindex", f->tmp);
    ch_gen_opts o = tu_gen_opts(f->blocks);
    o.seed = 7;
    o.txs = 30000;
    o.txs_per_block = TXS_PER_BLOCK;
    o.maturity = 20;
    tu_gen_run(&o);
    ch_error err;
    if (ch_blkdir_open(f->blocks, &f->d, &err) != 0 ||
        ch_blkidx_load(f->idx, f->d, &f->x, &err) != 0 ||
        ch_blkidx_update(f->x, f->d, true, &err) < 0 || ch_blkidx_chain(f->x, &f->chain, &err) != 0)
        fail_msg("the generated chain: %s", err.msg);
    *state = f;
    return 0;
}

static int fx_teardown(void **state) {
    fx *f = *state;
    ch_blkidx_free(f->x);
    ch_blkdir_close(f->d);
    tu_rmrf(f->tmp);
    free(f->tmp);
    free(f);
    return 0;
}

static void plain_ingest(const fx *f, const char *db, uint32_t max_blocks) {
    ch_ingest_opts o = {.progress = 0, .max_blocks = max_blocks};
    ch_error err;
    if (ch_ingest_btc(f->blocks, db, &o, NULL, &err) != 0) fail_msg("ingest: %s", err.msg);
}

static ch_store *open_resolving(const char *db) {
    ch_store *s;
    ch_error err;
    if (ch_store_open(db, "btc", CH_STORE_WRITE, &s, &err) != 0) fail_msg("open: %s", err.msg);
    assert_int_equal(ch_store_resolve_in_parallel(s), 0);
    return s;
}

/* Block h of the chain, parsed into *b (p's buffers). */
static void read_block(const fx *f, uint32_t h, ch_btc_parser *p, uint8_t **buf, size_t *cap,
                       ch_btc_block *b) {
    ch_error err;
    if (ch_blk_chain_read(f->d, f->chain, h, buf, cap, &err) != 0 ||
        ch_btc_parse_block(p, *buf, ch_blk_chain_rec(f->chain, h)->size, b, &err) != 0)
        fail_msg("block %u: %s", h, err.msg);
}

static void test_resolving_writer_builds_the_plain_ingests_store(void **state) {
    fx *f = *state;
    uint32_t n = (uint32_t)f->chain->n;
    assert_true(n > FIRST_PART + 20);
    char plain[1400], resolved[1400];
    snprintf(plain, sizeof plain, "%s/plain", f->tmp);
    snprintf(resolved, sizeof resolved, "%s/resolved", f->tmp);
    plain_ingest(f, plain, 0);
    plain_ingest(f, resolved, FIRST_PART);

    ch_btc_parser *p = ch_btc_parser_new();
    uint8_t *buf = NULL;
    size_t cap = 0;
    ch_error err;
    ch_store *s = open_resolving(resolved);
    uint64_t made_tx = 0, made_addr = 0, taken = 0;
    for (uint32_t h = FIRST_PART; h < n; h++) {
        ch_btc_block b;
        read_block(f, h, p, &buf, &cap, &b);
        if (ch_ingest_btc_block(s, &b, &err) != 0) fail_msg("block %u: %s", h, err.msg);
        assert_false(s->resolver.valid); /* forgotten at the block's end */
        if (h % 3 == 0 && ch_store_commit(s, &err) != 0) fail_msg("commit: %s", err.msg);
        if (h % 10 == 9) { /* a new writer: its hot maps hold nothing committed */
            if (ch_store_commit(s, &err) != 0) fail_msg("commit: %s", err.msg);
            made_tx += s->resolver.made_tx;
            made_addr += s->resolver.made_addr;
            taken += s->resolver.taken;
            ch_store_close(s);
            s = open_resolving(resolved);
        }
    }
    if (ch_store_commit(s, &err) != 0) fail_msg("commit: %s", err.msg);
    made_tx += s->resolver.made_tx;
    made_addr += s->resolver.made_addr;
    taken += s->resolver.taken;
    ch_store_close(s);
    free(buf);
    ch_btc_parser_free(p);

    /* the path was taken: most of a block's lookups, txids and addresses */
    ch_store_counts c;
    tu_store_counts(plain, "btc", &c);
    assert_true(c.txs > 29000);
    print_message("    %llu txids and %llu addresses resolved ahead, %llu answers taken\n",
                  (unsigned long long)made_tx, (unsigned long long)made_addr,
                  (unsigned long long)taken);
    assert_true(made_tx > 5000);
    assert_true(made_addr > 5000);
    assert_true(taken > 10000);
    tu_assert_same_store(plain, resolved, "btc");
    tu_assert_check(resolved);
}

/* The refusal an add gives after the block's lookups were resolved ahead
 * (resolving true) or not: an input spending a tx the chain does not
 * hold, or an output this block already spent. */
static void refusal(const char *db, bool resolving, bool twice, char *msg, size_t len) {
    ch_store *s;
    ch_error err;
    assert_int_equal(ch_store_open(db, "btc", CH_STORE_WRITE, &s, &err), 0);
    if (resolving) assert_int_equal(ch_store_resolve_in_parallel(s), 0);
    ch_store_counts c;
    ch_store_get_counts(s, &c);
    /* spends of the first outputs of the store's last 400 txs, and one
     * of a txid no block holds */
    enum { N = 400 };
    ch_hash256 txids[N + 1];
    ch_store_spend spends[N + 1];
    for (int i = 0; i < N; i++) {
        ch_store_txid(s, c.txs - N + (uint64_t)i, &txids[i]);
        spends[i] = (ch_store_spend){&txids[i], 0};
    }
    memset(txids[N].b, 0xab, 32);
    spends[N] = (ch_store_spend){&txids[N], 0};
    ch_block_meta m;
    memset(&m, 0, sizeof m);
    memset(m.hash.b, 0x5c, 32);
    assert_int_equal(ch_store_begin_block(s, &m, &err), 0);
    ch_store_resolve_block(s, spends, N + 1, NULL, NULL, 0);
    assert_int_equal(s->resolver.valid, resolving);
    ch_hash256 own;
    memset(own.b, 0x11, 32);
    assert_int_equal(ch_store_add_tx(s, &own, 100, &err), 0);
    /* the outputs those txs left unspent */
    int rc = 0;
    for (int i = 0; i < N && rc == 0; i++) {
        uint64_t first, n;
        uint64_t tx = c.txs - N + (uint64_t)i;
        ch_store_tx_outputs(s, tx, &first, &n);
        if (n == 0 || ch_store_output_spender(s, first) >= 0) continue;
        rc = ch_store_add_input(s, &txids[i], 0, &err);
        if (rc == 0 && twice) rc = ch_store_add_input(s, &txids[i], 0, &err);
    }
    if (rc == 0) rc = ch_store_add_input(s, &txids[N], 0, &err);
    assert_int_not_equal(rc, 0);
    snprintf(msg, len, "%s", err.msg);
    ch_store_abort(s);
    ch_store_close(s);
}

static void test_refusals_are_the_same_with_answers_made_ahead(void **state) {
    fx *f = *state;
    char db[1400];
    snprintf(db, sizeof db, "%s/refuse", f->tmp);
    plain_ingest(f, db, 0);
    size_t before;
    char *snap = tu_store_snapshot(db, "btc", &before);
    for (int twice = 0; twice < 2; twice++) {
        char a[512], b[512];
        refusal(db, false, twice, a, sizeof a);
        refusal(db, true, twice, b, sizeof b);
        assert_string_equal(a, b);
        assert_non_null(strstr(a, twice ? "already spent in this batch" : "not in the chain"));
    }
    /* and the store is as it was */
    size_t after;
    char *again = tu_store_snapshot(db, "btc", &after);
    assert_int_equal(before, after);
    assert_memory_equal(snap, again, before);
    free(snap);
    free(again);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_resolving_writer_builds_the_plain_ingests_store,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_refusals_are_the_same_with_answers_made_ahead,
                                        fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
