/* The reader thread of a Bitcoin ingest (src/ingest/btc_pipe.h): with it
 * the store is the same, byte for byte and query for query, as with one
 * thread; it hands over every block in height order, parsed and classified
 * as a one-thread parse gives them, within its memory budget; a bad block
 * in the middle of the chain stops both ingests at the same commit with
 * the same message. The oracle is the one-thread path (the parser called
 * directly, ch_btc_classify on each output). */
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
#include "ingest/btc_branch.h"
#include "ingest/btc_pipe.h"
#include "store/store_internal.h"

static void ingest_with(const char *blocks, const char *db, uint32_t threads, uint64_t commit,
                        uint64_t mem) {
    ch_ingest_opts o = {
        .progress = 0, .commit_bytes = commit, .mem_bytes = mem, .threads = threads};
    ch_ingest_stats st;
    ch_error err;
    if (ch_ingest_btc(blocks, db, &o, &st, &err) != 0) fail_msg("threads %u: %s", threads, err.msg);
}

/* The blocks folder, its block index at idx (made or brought up to date)
 * and the index's best chain; fails the test when any cannot be had. */
static void open_chain(const char *blocks, const char *idx, ch_blkdir **d, ch_blkidx **x,
                       const ch_blk_chain **chain) {
    ch_error err;
    assert_int_equal(ch_blkdir_open(blocks, d, &err), 0);
    assert_int_equal(ch_blkidx_load(idx, *d, x, &err), 0);
    assert_true(ch_blkidx_update(*x, *d, true, &err) >= 0);
    assert_int_equal(ch_blkidx_chain(*x, chain, &err), 0);
}

/* An ingest by hand: the chain of blocks (its index in db) and the store
 * at db opened to write. */
typedef struct by_hand {
    ch_blkdir *d;
    ch_blkidx *x;
    const ch_blk_chain *chain;
    ch_store *s;
} by_hand;

static void by_hand_open(by_hand *h, const char *blocks, const char *db) {
    char idx[1200];
    snprintf(idx, sizeof idx, "%s/blkindex.test", db);
    open_chain(blocks, idx, &h->d, &h->x, &h->chain);
    ch_error err;
    if (ch_store_open(db, "btc", CH_STORE_WRITE, &h->s, &err) != 0) fail_msg("open: %s", err.msg);
}

static void by_hand_close(by_hand *h) {
    ch_store_close(h->s);
    ch_blkidx_free(h->x);
    ch_blkdir_close(h->d);
}

typedef char err_msg[sizeof(((ch_error *)0)->msg)];

/* Two ingests of a chain with a bad block at bad_h refused it alike: the
 * same message, naming its height; each store holds the commits before it
 * (some) and they are the same. The stores are removed. */
static void assert_same_refusal(err_msg msg[2], uint32_t bad_h, char *db[2]) {
    assert_string_equal(msg[0], msg[1]);
    char at[64];
    snprintf(at, sizeof at, "(height %u)", bad_h);
    assert_non_null(strstr(msg[0], at));
    ch_store_counts c;
    tu_store_counts(db[0], "btc", &c);
    assert_true(c.blocks > 0 && c.blocks <= bad_h); /* commits came before it */
    tu_assert_same_store(db[0], db[1], "btc");
    for (int i = 0; i < 2; i++) {
        tu_rmrf(db[i]);
        free(db[i]);
    }
}

/* Several commits (one per 64 KiB of records), then a budget so small
 * that the reader waits for every block to come back: both build the
 * store a one-thread ingest builds. */
static void test_reader_thread_builds_the_same_store_as_one_thread(void **state) {
    (void)state;
    tu_genchain g;
    tu_genchain_make(&g, 21, 8000);
    char *one = tu_tmpdir(), *two = tu_tmpdir(), *tight = tu_tmpdir();
    ingest_with(g.blocks, one, 1, 64 << 10, 0);
    ingest_with(g.blocks, two, 2, 64 << 10, 0);
    ingest_with(g.blocks, tight, 2, 64 << 10, 1u << 20); /* a 16 KiB queue */
    ch_store_counts c;
    tu_store_counts(one, "btc", &c);
    assert_true(c.txs > 8000);
    tu_assert_same_store(one, two, "btc");
    tu_assert_same_store(one, tight, "btc");
    tu_assert_same_store(one, g.db, "btc"); /* the default (two threads) too */
    tu_rmrf(one);
    tu_rmrf(two);
    tu_rmrf(tight);
    free(one);
    free(two);
    free(tight);
    tu_genchain_close(&g);
}

/* What a block's buffers hold when parsed into fresh ones. */
static uint64_t fresh_bytes(const btc_prep *r) {
    return (uint64_t)r->cap + r->addr_cap * sizeof *r->addr + r->key_cap * sizeof *r->key +
           r->type_cap * sizeof *r->type + ch_btc_parser_bytes(r->p);
}

/* Every block from the pipe equals the parser's own result, in height
 * order, with or without the thread; with a budget of one byte (every
 * slot lets its buffers go when it comes back) the threaded pipe never
 * holds more than the largest block's fresh buffers (measured without the
 * thread, where the one slot lets its buffers go after each block too). */
static void test_pipe_hands_over_every_block_in_order_within_budget(void **state) {
    (void)state;
    /* blocks only, no store: the test also runs under ThreadSanitizer,
     * which cannot map LMDB's address space */
    char *tmp = tu_tmpdir(), idx[1200], blocks[1200];
    snprintf(idx, sizeof idx, "%s/blkindex", tmp);
    snprintf(blocks, sizeof blocks, "%s/blocks", tmp);
    ch_gen_opts go;
    ch_gen_opts_init(&go);
    go.out_dir = blocks;
    go.seed = 4;
    go.txs = 3000;
    go.txs_per_block = 40;
    go.maturity = 20;
    ch_blkdir *d;
    ch_blkidx *x;
    const ch_blk_chain *chain;
    ch_error err;
    if (ch_gen_run(&go, NULL, &err) != 0) fail_msg("gen: %s", err.msg);
    open_chain(blocks, idx, &d, &x, &chain);
    uint32_t n = (uint32_t)chain->n;
    assert_true(n > 50);
    ch_btc_parser *p = ch_btc_parser_new();
    uint8_t *buf = NULL;
    size_t cap = 0;
    uint64_t most = 0;
    for (int round = 0; round < 3; round++) {
        bool threaded = round > 0;
        uint64_t budget = round == 1 ? 64u << 20 : 1; /* 1: fresh buffers each block */
        btc_pipe *pp = btc_pipe_start(d, chain, 0, n, threaded, budget, &err);
        assert_non_null(pp);
        const btc_prep *r;
        uint32_t h = 0;
        int got;
        while ((got = btc_pipe_next(pp, &r, &err)) == 1) {
            assert_int_equal(r->height, h);
            ch_btc_block b;
            assert_int_equal(ch_blk_chain_read(d, chain, h, &buf, &cap, &err), 0);
            assert_int_equal(ch_btc_parse_block(p, buf, ch_blk_chain_rec(chain, h)->size, &b, &err),
                             0);
            assert_memory_equal(r->b.header.hash.b, b.header.hash.b, 32);
            assert_int_equal(r->b.n_tx, b.n_tx);
            size_t k = 0;
            for (uint32_t t = 0; t < b.n_tx; t++) {
                assert_memory_equal(r->b.tx[t].txid.b, b.tx[t].txid.b, 32);
                assert_int_equal(r->b.tx[t].n_in, b.tx[t].n_in);
                assert_int_equal(r->b.tx[t].n_out, b.tx[t].n_out);
                for (uint32_t o = 0; o < b.tx[t].n_out; o++, k++) {
                    ch_addr a;
                    memset(&a, 0, sizeof a);
                    ch_script_type ty =
                        ch_btc_classify(b.tx[t].out[o].script, b.tx[t].out[o].script_len, &a);
                    assert_int_equal(r->type[k], ty);
                    assert_int_equal(r->addr[k].kind, a.kind);
                    assert_int_equal(r->addr[k].len, a.len);
                    assert_memory_equal(r->addr[k].bytes, a.bytes, a.len);
                    /* the store's key, hashed by the reader for the outputs it keeps */
                    bool kept = a.kind != CH_ADDR_NONE && a.len <= 32;
                    assert_true(r->key[k] == (kept ? ch_store_addr_key(&a) : 0));
                }
            }
            if (round == 0 && fresh_bytes(r) > most) most = fresh_bytes(r);
            if (round == 2 && btc_pipe_bytes(pp) > most)
                fail_msg("height %u: the pipe holds %llu bytes, past the largest block's %llu", h,
                         (unsigned long long)btc_pipe_bytes(pp), (unsigned long long)most);
            h++;
        }
        assert_int_equal(got, 0);
        assert_int_equal(h, n);
        btc_pipe_free(pp);
    }
    /* stopped early, with blocks read ahead: freed without a leak or a hang */
    btc_pipe *pp = btc_pipe_start(d, chain, 0, n, true, 64u << 20, &err);
    const btc_prep *r;
    assert_int_equal(btc_pipe_next(pp, &r, &err), 1);
    btc_pipe_free(pp);
    free(buf);
    ch_btc_parser_free(p);
    ch_blkidx_free(x);
    ch_blkdir_close(d);
    tu_rmrf(tmp);
    free(tmp);
}

/* A flipped byte in a transaction two thirds of the way in: both ingests
 * fail naming the block's file, offset, height and the merkle mismatch,
 * with the same message, and leave the same store (the blocks of the
 * commits before it). */
static void test_bad_block_mid_chain_same_error_and_store_either_way(void **state) {
    (void)state;
    tu_genchain g;
    tu_genchain_make(&g, 9, 4000);
    char src[1200];
    snprintf(src, sizeof src, "%s/blk00000.dat", g.blocks);
    size_t len;
    uint8_t *data = tu_read_file(src, &len);
    assert_non_null(data);
    ch_store_counts full;
    ch_store_get_counts(g.s, &full);
    uint32_t bad_h = (uint32_t)(full.blocks * 2 / 3);
    size_t off = 0;
    for (uint32_t h = 0; h < bad_h; h++) {
        uint32_t size;
        memcpy(&size, data + off + 4, 4);
        off += 8 + size;
    }
    data[off + 8 + 80 + 10] ^= 0x40; /* inside the first transaction */
    char *bad = tu_tmpdir(), path[1200];
    snprintf(path, sizeof path, "%s/blk00000.dat", bad);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
    char *db[2] = {tu_tmpdir(), tu_tmpdir()};
    err_msg msg[2];
    for (int i = 0; i < 2; i++) {
        ch_ingest_opts o = {.progress = 0, .commit_bytes = 32 << 10, .threads = (uint32_t)i + 1};
        ch_ingest_stats st;
        ch_error err;
        assert_int_equal(ch_ingest_btc(bad, db[i], &o, &st, &err), -1);
        snprintf(msg[i], sizeof msg[i], "%s", err.msg);
    }
    assert_non_null(strstr(msg[0], "blk00000.dat"));
    assert_non_null(strstr(msg[0], "merkle"));
    assert_same_refusal(msg, bad_h, db);
    tu_rmrf(bad);
    free(bad);
    free(data);
    tu_genchain_close(&g);
}

/* Ingest the chain in blocks into db, one block at a time through
 * ch_ingest_btc_block, a commit every 15 blocks, with commit_thread_from
 * as given (1: every commit writes its columns in a thread of its own;
 * UINT64_MAX: none does); returns how many commits did. */
static uint64_t ingest_blocks_committing(const char *blocks, const char *db, uint64_t thread_from) {
    by_hand in;
    by_hand_open(&in, blocks, db);
    in.s->commit_thread_from = thread_from;
    ch_btc_parser *p = ch_btc_parser_new();
    uint8_t *buf = NULL;
    size_t cap = 0;
    ch_error err;
    for (uint32_t h = 0; h < in.chain->n; h++) {
        ch_btc_block b;
        assert_int_equal(ch_blk_chain_read(in.d, in.chain, h, &buf, &cap, &err), 0);
        assert_int_equal(ch_btc_parse_block(p, buf, ch_blk_chain_rec(in.chain, h)->size, &b, &err),
                         0);
        if (ch_ingest_btc_block(in.s, &b, &err) != 0) fail_msg("height %u: %s", h, err.msg);
        if ((h % 15 == 14 || h + 1 == in.chain->n) && ch_store_commit(in.s, &err) != 0)
            fail_msg("commit at %u: %s", h, err.msg);
    }
    uint64_t threads = in.s->commit_threads;
    by_hand_close(&in);
    free(buf);
    ch_btc_parser_free(p);
    return threads;
}

/* A large commit writes and syncs its columns in a thread of its own
 * while the caller's thread writes the runs (append.c): the store is the
 * same, byte for byte and query for query, as when each commit does both
 * in turn; over many commits, with spent marks of committed outputs and
 * heads of committed addresses moved in each. */
static void test_commit_writing_columns_in_a_thread_builds_the_same_store(void **state) {
    (void)state;
    tu_genchain g;
    tu_genchain_make(&g, 17, 6000);
    char *inline_db = tu_tmpdir(), *thread_db = tu_tmpdir();
    assert_int_equal(ingest_blocks_committing(g.blocks, inline_db, UINT64_MAX), 0);
    uint64_t threads = ingest_blocks_committing(g.blocks, thread_db, 1);
    ch_store_counts c;
    tu_store_counts(inline_db, "btc", &c);
    assert_true(c.txs > 6000);
    assert_true(threads >= 10); /* every commit: one per 15 blocks */
    tu_assert_same_store(inline_db, thread_db, "btc");
    tu_rmrf(inline_db);
    tu_rmrf(thread_db);
    free(inline_db);
    free(thread_db);
    tu_genchain_close(&g);
}

/* blocks into db one at a time as the watcher takes them
 * (btc_ingest_chain_kept, max_blocks 1, commits deferred and made every
 * seventh block and at the end or the first error), keeping a block's
 * buffers from one call to the next when keep is given. 0, or -1 with
 * msg. */
static int ingest_one_at_a_time(const char *blocks, const char *db, btc_keep *keep, char *msg,
                                size_t cap) {
    by_hand in;
    by_hand_open(&in, blocks, db);
    ch_error err;
    int rc = 0;
    for (uint32_t n = 0; ch_store_next_height(in.s) < in.chain->n; n++) {
        ch_ingest_opts o = {.progress = 0, .max_blocks = 1, .defer_commit = true};
        ch_ingest_stats st = {.reorg_height = UINT32_MAX};
        if (btc_ingest_chain_kept(in.s, in.d, in.chain, &o, keep, &st, &err) != 0) {
            snprintf(msg, cap, "%s", err.msg);
            rc = -1;
            break;
        }
        assert_int_equal(st.blocks, 1);
        if (n % 7 == 6 && btc_commit_pending(in.s, &err) != 0) fail_msg("commit: %s", err.msg);
    }
    if (rc == 0 && btc_commit_pending(in.s, &err) != 0) fail_msg("commit: %s", err.msg);
    by_hand_close(&in);
    return rc;
}

/* The watcher's way (a kept block, read in its thread, its witness
 * commitment checked on another beside the adds) builds the store a whole
 * ingest builds; a block whose witness is altered (its txids, so its
 * merkle root, unchanged) is refused with the message a one-thread read
 * gives, at the same height, leaving the same store as the same calls
 * without a kept block. */
static void test_kept_block_one_at_a_time_same_store_and_witness_error(void **state) {
    (void)state;
    tu_genchain g;
    tu_genchain_make(&g, 23, 4000);
    char *kept = tu_tmpdir();
    err_msg msg[2];
    btc_keep *keep = btc_keep_new();
    assert_non_null(keep);
    assert_int_equal(ingest_one_at_a_time(g.blocks, kept, keep, msg[0], sizeof msg[0]), 0);
    tu_assert_same_store(g.db, kept, "btc");
    /* a witness byte altered in a block two thirds of the way in */
    ch_blkdir *d;
    ch_blk_chain c;
    ch_error err;
    assert_int_equal(ch_blkdir_open(g.blocks, &d, &err), 0);
    assert_int_equal(ch_blkdir_best_chain(d, &c, &err), 0);
    ch_btc_parser *p = ch_btc_parser_new();
    uint8_t *buf = NULL;
    size_t cap = 0, at = 0;
    uint32_t bad_h = 0;
    for (uint32_t h = (uint32_t)(c.n * 2 / 3); h < c.n && !at; h++) {
        ch_btc_block b;
        assert_int_equal(ch_blk_chain_read(d, &c, h, &buf, &cap, &err), 0);
        assert_int_equal(ch_btc_parse_block(p, buf, ch_blk_chain_rec(&c, h)->size, &b, &err), 0);
        for (uint32_t t = 1; t < b.n_tx && !at; t++)
            for (uint32_t i = 0; i < b.tx[t].n_in && !at; i++)
                if (b.tx[t].in[i].witness_len > 2) {
                    const ch_btc_txin *in = &b.tx[t].in[i];
                    at = ch_blk_chain_rec(&c, h)->offset +
                         (size_t)(in->witness + in->witness_len - 1 - buf);
                    bad_h = h;
                }
    }
    if (!at) fail_msg("no input with a witness past two thirds of the chain");
    char path[1200];
    snprintf(path, sizeof path, "%s/blk%05u.dat", g.blocks, ch_blk_chain_rec(&c, bad_h)->file_no);
    ch_blk_chain_free(&c);
    ch_blkdir_close(d);
    ch_btc_parser_free(p);
    free(buf);
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, (long)at, SEEK_SET), 0);
    int byte = fgetc(f);
    assert_int_equal(fseek(f, (long)at, SEEK_SET), 0);
    fputc(byte ^ 0x5a, f);
    fclose(f);
    char *db[2] = {tu_tmpdir(), tu_tmpdir()};
    assert_int_equal(ingest_one_at_a_time(g.blocks, db[0], keep, msg[0], sizeof msg[0]), -1);
    assert_int_equal(ingest_one_at_a_time(g.blocks, db[1], NULL, msg[1], sizeof msg[1]), -1);
    assert_non_null(strstr(msg[0], "witness commitment mismatch"));
    assert_same_refusal(msg, bad_h, db);
    btc_keep_free(keep);
    tu_rmrf(kept);
    free(kept);
    tu_genchain_close(&g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reader_thread_builds_the_same_store_as_one_thread),
        cmocka_unit_test(test_pipe_hands_over_every_block_in_order_within_budget),
        cmocka_unit_test(test_bad_block_mid_chain_same_error_and_store_either_way),
        cmocka_unit_test(test_commit_writing_columns_in_a_thread_builds_the_same_store),
        cmocka_unit_test(test_kept_block_one_at_a_time_same_store_and_witness_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
