/* Tx and transfer numbers above 2^32 end to end: ingest -> query -> trace
 * on a Bitcoin store and on an Ethereum (account) store (issue 10 item 3;
 * docs/store.md, "Format 4").
 *
 * A store past 2^32 transactions cannot be written in a test, so the store
 * is given a prefix it never reads: two blocks of 2^31-1 empty
 * transactions each, made as the store would hold them (a block record
 * each, zeroed tx, txid and input-value records, and the committed lengths
 * in the index's meta table) but as holes of sparse files, so they cost no
 * disk and are never touched. The generated chain is then ingested on top
 * through the library's own append (ch_ingest_btc_block, the path ingest
 * and the watcher take), so its transactions are numbered from 2^32-2 on:
 * the first two below 2^32 (one of them 2^32-1, the walks' "none"), every
 * other one above. Why this is faithful: every reader, the ingest's txid
 * lookups, the query and the trace run unmodified on the store, and each
 * record they read of the real chain carries its full number; a number cut
 * to 32 bits anywhere on the way names one of the empty prefix
 * transactions (or the wrong real one), which spends and pays nothing, and
 * the answers would differ. The prefix transactions are what a store of
 * that size holds in those places except that they have no outputs and no
 * index entries (nothing can reach them).
 *
 * The account store gets the same two blocks of empty transactions, the
 * last of which holds 2^32-3 empty transfers (zeroed transfer and link
 * records, as holes too), and a generated EVM chain is ingested on top by
 * `ch_ingest_evm`, the command's own path, the prefix's blocks numbered
 * just before the chain's first so that the chain's blocks keep their
 * numbers.
 *
 * A third store holds 2^32 20-byte addresses and more: empty ones put
 * between the chain's blocks half-way (add_address_holes), so that the
 * trace's address slots pass 32 bits and clash, cut to 32 bits, with older
 * ones; the cluster build must refuse it naming its limit.
 *
 * The oracle is the same chain ingested into a store of its own from
 * block 0 (as ingest makes it): every answer must be the same, with tx
 * (transfer) numbers shifted by exactly the prefix and heights by its two
 * blocks. */
#include "support/genchain.h"
#include "support/storemeta.h"
#include "support/testutil.h"

#include <fcntl.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coinhound/address.h"
#include "coinhound/btc.h"
#include "coinhound/cluster.h"
#include "coinhound/evmgen.h"
#include "coinhound/hash.h"
#include "coinhound/ingest.h"
#include "coinhound/query.h"
#include "coinhound/store.h"
#include "coinhound/trace.h"
#include "coinhound/trace_account.h"
#include "store/store_internal.h"
#include "trace/trace_internal.h"

#define PREFIX_BLOCKS 2
#define PREFIX_BLOCK  ((1ULL << 31) - 1)
#define PREFIX        (PREFIX_BLOCKS * PREFIX_BLOCK) /* 2^32 - 2 */
#define PREFIX_XFERS  ((1ULL << 32) - 3)

/* A file of n records of rec bytes, zeros, as a hole. */
static void sparse(const char *dir, const char *name, uint64_t n, size_t rec) {
    char p[4200];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    int fd = open(p, O_RDWR | O_CREAT, 0644);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)(n * rec)), 0);
    close(fd);
}

/* The committed lengths of the prefix, as a commit records them. */
static void put_meta(const char *index_dir, const char *const *keys, const uint64_t *vals,
                     size_t n) {
    for (size_t i = 0; i < n; i++)
        tu_meta_put_u64(index_dir, keys[i], vals[i]);
}

/* Empty 20-byte addresses put between the chain's blocks: after block
 * height-1, skip of them follow the n20 the chain had made (their ids and
 * head records holes, the lengths in meta). */
typedef struct gap {
    size_t height;
    uint64_t n20, skip;
} gap;

static void add_address_holes_to(const char *db, const char *chain, uint64_t n20, uint64_t skip) {
    char dir[4200], index_dir[4300];
    snprintf(dir, sizeof dir, "%s/%s", db, chain);
    snprintf(index_dir, sizeof index_dir, "%s/index", dir);
    sparse(dir, "addrs20.col", n20 + skip, ADDR20_REC);
    sparse(dir, "heads20.col", n20 + skip, sizeof(uint64_t));
    const char *keys[] = {"n_addrs20", "n_heads20"};
    const uint64_t vals[] = {n20 + skip, n20 + skip};
    put_meta(index_dir, keys, vals, 2);
}

static void add_address_holes(const char *db, uint64_t n20, uint64_t skip) {
    add_address_holes_to(db, "btc", n20, skip);
}

/* The prefix's two block records (block 1's hash: last_hash) and their
 * empty txs, into a new store of chain at db; more columns and meta values
 * given by the caller. */
static void write_prefix(const char *db, const char *chain, const uint8_t last_hash[32],
                         const char *const *keys, const uint64_t *vals, size_t n) {
    ch_error err;
    ch_store *s;
    assert_int_equal(ch_store_open(db, chain, CH_STORE_WRITE, &s, &err), 0);
    ch_store_close(s);
    char dir[4200], index_dir[4300];
    snprintf(dir, sizeof dir, "%s/%s", db, chain);
    snprintf(index_dir, sizeof index_dir, "%s/index", dir);
    ch_block_rec b[PREFIX_BLOCKS];
    memset(b, 0, sizeof b);
    for (int i = 0; i < PREFIX_BLOCKS; i++) {
        memset(b[i].hash, 0xa0 + i, 32);
        b[i].first_tx = (uint64_t)i * PREFIX_BLOCK;
        b[i].n_tx = (uint32_t)PREFIX_BLOCK;
        b[i].bits = 0x207fffff;
        b[i].time = 1231006505;
    }
    if (last_hash) memcpy(b[PREFIX_BLOCKS - 1].hash, last_hash, 32);
    char p[4300];
    snprintf(p, sizeof p, "%s/blocks.col", dir);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, sizeof b, 1, f), 1);
    fclose(f);
    sparse(dir, "txs.col", PREFIX, sizeof(ch_tx_rec));
    sparse(dir, "txids.col", PREFIX, 32);
    for (size_t i = 0; i < n; i++) { /* a column's length: a hole of its records */
        if (!strcmp(keys[i], "n_txvin")) sparse(dir, "txvin.col", vals[i], sizeof(uint64_t));
        if (!strcmp(keys[i], "n_etxs")) sparse(dir, "etxs.col", vals[i], sizeof(ch_etx_rec));
        if (!strcmp(keys[i], "n_xfers")) sparse(dir, "xfers.col", vals[i], sizeof(ch_xfer_rec));
        if (!strcmp(keys[i], "n_xprev")) sparse(dir, "xprev.col", vals[i], 2 * sizeof(uint32_t));
        if (!strcmp(keys[i], "n_bxfer")) sparse(dir, "bxfer.col", vals[i], sizeof(st_bxfer_rec));
        if (!strcmp(keys[i], "n_addrs20")) sparse(dir, "addrs20.col", vals[i], ADDR20_REC);
        if (!strcmp(keys[i], "n_heads20")) sparse(dir, "heads20.col", vals[i], sizeof(uint64_t));
    }
    const char *k0[] = {"n_blocks", "n_txs", "n_txids"};
    const uint64_t v0[] = {PREFIX_BLOCKS, PREFIX, PREFIX};
    put_meta(index_dir, k0, v0, 3);
    put_meta(index_dir, keys, vals, n);
}

/* A new Bitcoin store at db whose first PREFIX txs, in PREFIX_BLOCKS
 * blocks, are empty holes; the generated chain of blocks_dir appended. */
static ch_store *prefixed_store(const char *db, const char *blocks_dir, gap *gp) {
    ch_error err;
    ch_store *s;
    const char *keys[] = {"n_txvin"};
    const uint64_t vals[] = {PREFIX};
    write_prefix(db, "btc", NULL, keys, vals, 1);

    /* the chain on top, through the library's append */
    assert_int_equal(ch_store_open(db, "btc", CH_STORE_WRITE, &s, &err), 0);
    ch_blkdir *d;
    ch_blk_chain c;
    if (ch_blkdir_open(blocks_dir, &d, &err) != 0 || ch_blkdir_best_chain(d, &c, &err) != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(ch_store_set_network(s, (int)ch_blkdir_net(d), &err), 0);
    ch_btc_parser *pr = ch_btc_parser_new();
    uint8_t *buf = NULL;
    size_t cap = 0;
    for (size_t h = 0; h < c.n; h++) {
        ch_btc_block blk;
        if (ch_blk_chain_read(d, &c, h, &buf, &cap, &err) != 0 ||
            ch_btc_parse_block(pr, buf, ch_blk_chain_rec(&c, h)->size, &blk, &err) != 0 ||
            ch_ingest_btc_block(s, &blk, &err) != 0)
            fail_msg("block %zu: %s", h, err.msg);
        if (h % 16 == 15 && ch_store_commit(s, &err) != 0) fail_msg("%s", err.msg);
        if (gp && h + 1 == gp->height) { /* the address gap: committed, then holes */
            assert_int_equal(ch_store_commit(s, &err), 0);
            gp->n20 = ch_store_addr_index(s, CH_ADDR_ID_WIDE | 1);
            gp->skip = (1ULL << 32) - gp->n20 / 2;
            ch_store_close(s);
            add_address_holes(db, gp->n20, gp->skip);
            assert_int_equal(ch_store_open(db, "btc", CH_STORE_WRITE, &s, &err), 0);
        }
    }
    assert_int_equal(ch_store_commit(s, &err), 0);
    free(buf);
    ch_btc_parser_free(pr);
    ch_blk_chain_free(&c);
    ch_blkdir_close(d);
    ch_store_close(s);
    assert_int_equal(ch_store_open(db, "btc", CH_STORE_READ, &s, &err), 0);
    return s;
}

/* ---- the query ---------------------------------------------------------- */

static void same_records(ch_store *lo, ch_store *hi) {
    ch_store_counts a, b;
    ch_store_get_counts(lo, &a);
    ch_store_get_counts(hi, &b);
    assert_true(b.txs == a.txs + PREFIX);
    assert_true(b.outputs == a.outputs && b.inputs == a.inputs && b.addresses == a.addresses);
    assert_true(b.blocks == a.blocks + PREFIX_BLOCKS);
    ch_error err;
    for (uint64_t i = 0; i < a.txs; i++) {
        ch_hash256 id, id2;
        ch_store_txid(lo, i, &id);
        ch_store_txid(hi, PREFIX + i, &id2);
        assert_memory_equal(id.b, id2.b, 32);
        assert_int_equal(ch_store_tx_height(hi, PREFIX + i), ch_store_tx_height(lo, i) + 2);
        if (i % 97 == 0 || i < 4) { /* the txid index, and the query's door to it */
            uint64_t tx;
            assert_int_equal(ch_store_find_tx(hi, &id, &tx, &err), 1);
            assert_true(tx == PREFIX + i);
            char hex[65];
            ch_hash256_to_hex(&id, hex);
            size_t nc;
            assert_int_equal(ch_query_find_tx(hi, hex, &tx, &nc, &err), 1);
            assert_true(tx == PREFIX + i);
        }
    }
    for (uint64_t i = 0; i < a.inputs; i++) {
        uint64_t x = ch_in_spent_tx(ch_store_input(lo, i)),
                 y = ch_in_spent_tx(ch_store_input(hi, i));
        assert_true(x == CH_NO_TX ? y == CH_NO_TX : y == x + PREFIX);
    }
    for (uint64_t o = 0; o < a.outputs; o++) {
        assert_true(ch_query_output_tx(hi, o) == ch_query_output_tx(lo, o) + (int64_t)PREFIX);
        int64_t x = ch_store_output_spender(lo, o), y = ch_store_output_spender(hi, o);
        assert_true(x < 0 ? y < 0 : y == x + (int64_t)PREFIX);
    }
}

/* An address's history: the same entries, tx numbers and heights shifted. */
static void same_history(ch_store *lo, ch_store *hi, ch_addr_id id) {
    ch_addr a;
    ch_store_addr_of(lo, id, &a);
    char text[CH_ADDR_STR_MAX];
    assert_int_equal(ch_addr_to_string(&a, ch_store_addr_net(lo), text), 0);
    ch_error err;
    ch_q_address qa, qb;
    assert_int_equal(ch_query_address(lo, text, &qa, &err), 1);
    assert_int_equal(ch_query_address(hi, text, &qb, &err), 1);
    assert_true(qa.id == qb.id && qa.tx_count == qb.tx_count && qa.items == qb.items);
    assert_int_equal(qb.first_height, qa.first_height + 2);
    assert_int_equal(qb.last_height, qa.last_height + 2);
    ch_q_page pa, pb;
    assert_int_equal(ch_query_history(lo, &qa, NULL, 0, &pa, &err), 0);
    assert_int_equal(ch_query_history(hi, &qb, NULL, 0, &pb, &err), 0);
    assert_int_equal(pa.n, pb.n);
    for (size_t i = 0; i < pa.n; i++) {
        assert_true(pb.v[i].tx == pa.v[i].tx + PREFIX);
        assert_true(pb.v[i].tx > UINT32_MAX || pa.v[i].tx < 2);
        assert_int_equal(pb.v[i].height, pa.v[i].height + 2);
        assert_true(pb.v[i].amount == pa.v[i].amount && pb.v[i].sign == pa.v[i].sign);
    }
    ch_q_page_free(&pa);
    ch_q_page_free(&pb);
    ch_q_address_free(&qa);
    ch_q_address_free(&qb);
}

/* ---- the trace ---------------------------------------------------------- */

typedef struct flows {
    ch_trace_flow *v;
    size_t n;
} flows;

static int keep_flow(const ch_trace_flow *f, void *ctx) {
    flows *x = ctx;
    x->v = realloc(x->v, (x->n + 1) * sizeof *x->v);
    x->v[x->n++] = *f;
    return 0;
}

/* A forward haircut trace from every tx in [first, first + n): taint
 * that reaches most of a small chain. */
static ch_trace *run_wide(ch_store *s, int walk, uint64_t first, uint64_t n) {
    ch_error err;
    ch_trace_opts o;
    ch_trace_opts_init(&o);
    o.policy = CH_POLICY_HAIRCUT;
    o.direction = CH_TRACE_FORWARD;
    ch_trace *t;
    assert_int_equal(ch_trace_new(s, &o, &t, &err), 0);
    tr_set_walk(t, walk);
    for (uint64_t i = 0; i < n; i++)
        assert_int_equal(ch_trace_add_tx(t, first + i, &err), 0);
    if (ch_trace_run(t, &err) != 0) fail_msg("%s", err.msg);
    return t;
}

static ch_trace *run(ch_store *s, const char *labels_csv, ch_trace_policy p, ch_trace_direction d,
                     int walk, uint64_t out, ch_labels **l) {
    ch_error err;
    assert_int_equal(ch_labels_new(s, NULL, CH_TRACE_DEFAULT_STOP, l, &err), 0);
    uint64_t rows, skipped;
    assert_int_equal(ch_labels_load_csv(*l, labels_csv, &rows, &skipped, &err), 0);
    ch_trace_opts o;
    ch_trace_opts_init(&o);
    o.policy = p;
    o.direction = d;
    o.labels = *l;
    ch_trace *t;
    assert_int_equal(ch_trace_new(s, &o, &t, &err), 0);
    tr_set_walk(t, walk);
    assert_int_equal(ch_trace_add_output(t, out, &err), 0);
    if (ch_trace_run(t, &err) != 0) fail_msg("%s", err.msg);
    return t;
}

#define SAME_SUM(f) assert_true(ta.f == tb.f)

/* The trace from out on both stores: the same totals, landings, holdings
 * and flows, tx numbers shifted; returns how many flows it had. */
static size_t same_trace(ch_store *lo, ch_store *hi, const char *labels_csv, ch_trace_policy p,
                         ch_trace_direction d, int walk, uint64_t out) {
    ch_labels *la, *lb;
    ch_trace *a = run(lo, labels_csv, p, d, walk, out, &la);
    ch_trace *b = run(hi, labels_csv, p, d, walk, out, &lb);
    ch_trace_totals ta, tb;
    ch_trace_get_totals(a, &ta);
    ch_trace_get_totals(b, &tb);
    SAME_SUM(source);
    SAME_SUM(landed);
    SAME_SUM(held);
    SAME_SUM(fees);
    SAME_SUM(coinbase);
    SAME_SUM(below_min);
    SAME_SUM(returned);
    SAME_SUM(clean_in);
    SAME_SUM(edge_visits);
    SAME_SUM(txs);
    SAME_SUM(outputs);
    const ch_trace_landing *xa, *xb;
    size_t n = ch_trace_landings(a, &xa);
    assert_int_equal(ch_trace_landings(b, &xb), n);
    for (size_t i = 0; i < n; i++)
        assert_true(xa[i].addr == xb[i].addr && xa[i].amount == xb[i].amount &&
                    xa[i].outputs == xb[i].outputs && xa[i].hops == xb[i].hops);
    const ch_trace_holding *ha, *hb;
    n = ch_trace_holdings(a, &ha);
    assert_int_equal(ch_trace_holdings(b, &hb), n);
    for (size_t i = 0; i < n; i++)
        assert_true(ha[i].addr == hb[i].addr && ha[i].amount == hb[i].amount &&
                    ha[i].outputs == hb[i].outputs);
    flows fa = {0}, fb = {0};
    assert_int_equal(ch_trace_foreach_flow(a, keep_flow, &fa), 0);
    assert_int_equal(ch_trace_foreach_flow(b, keep_flow, &fb), 0);
    assert_int_equal(fa.n, fb.n);
    for (size_t i = 0; i < fa.n; i++) {
        const ch_trace_flow *x = &fa.v[i], *y = &fb.v[i];
        assert_true(x->out == y->out && x->addr == y->addr && x->amount == y->amount &&
                    x->hops == y->hops && x->landing == y->landing);
        assert_true(y->from_tx == x->from_tx + (int64_t)PREFIX);
        assert_true(x->to_tx < 0 ? y->to_tx < 0 : y->to_tx == x->to_tx + (int64_t)PREFIX);
        /* the path back to the source, through the entries' tx numbers */
        uint64_t pa[64], pb[64];
        size_t k = ch_trace_path(a, x->out, pa, 64);
        assert_int_equal(ch_trace_path(b, y->out, pb, 64), k);
        for (size_t j = 0; j < k && j < 64; j++)
            assert_true(pb[j] == pa[j] + PREFIX);
    }
    size_t n_flows = fa.n;
    free(fa.v);
    free(fb.v);
    ch_trace_free(a);
    ch_trace_free(b);
    ch_labels_free(la);
    ch_labels_free(lb);
    return n_flows;
}

/* The output the generator's theft.json names as stolen. */
static uint64_t theft_output(ch_store *s, const char *blocks_dir) {
    char p[4200];
    snprintf(p, sizeof p, "%s/theft.json", blocks_dir);
    FILE *f = fopen(p, "rb");
    assert_non_null(f);
    char text[1 << 16];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = 0;
    const char *k = strstr(text, "\"theft_txid\"");
    assert_non_null(k);
    k = strchr(k + 12, '"');
    assert_non_null(k);
    char hex[65];
    memcpy(hex, k + 1, 64);
    hex[64] = 0;
    const char *v = strstr(text, "\"theft_vout\"");
    assert_non_null(v);
    unsigned vout = (unsigned)strtoul(strchr(v, ':') + 1, NULL, 10);
    ch_hash256 id;
    assert_int_equal(ch_hash256_from_hex(hex, &id), 0);
    uint64_t tx;
    ch_error err;
    assert_int_equal(ch_store_find_tx(s, &id, &tx, &err), 1);
    return ch_store_tx(s, tx)->first_out + vout;
}

static void test_btc_tx_numbers_above_2_32_through_ingest_query_trace(void **state) {
    (void)state;
    tu_genchain g;
    tu_genchain_make(&g, 23, 3000);
    char db[1100], labels[1100];
    snprintf(db, sizeof db, "%s/high", g.dir);
    snprintf(labels, sizeof labels, "%s/labels.csv", g.blocks);
    ch_store *hi = prefixed_store(db, g.blocks, NULL);
    same_records(g.s, hi);

    uint64_t out = theft_output(g.s, g.blocks);
    assert_true(theft_output(hi, g.blocks) == out); /* outputs keep their numbers */
    size_t n = 0;
    n += same_trace(g.s, hi, labels, CH_POLICY_HAIRCUT, CH_TRACE_FORWARD, TR_WALK_HEAP, out);
    n += same_trace(g.s, hi, labels, CH_POLICY_HAIRCUT, CH_TRACE_FORWARD, TR_WALK_SWEEP, out);
    n += same_trace(g.s, hi, labels, CH_POLICY_POISON, CH_TRACE_FORWARD, TR_WALK_SWEEP, out);
    n += same_trace(g.s, hi, labels, CH_POLICY_FIFO, CH_TRACE_FORWARD, TR_WALK_HEAP, out);
    n += same_trace(g.s, hi, labels, CH_POLICY_FIFO, CH_TRACE_FORWARD, TR_WALK_SWEEP, out);
    n += same_trace(g.s, hi, labels, CH_POLICY_HAIRCUT, CH_TRACE_BACKWARD, TR_WALK_HEAP, out);
    n += same_trace(g.s, hi, labels, CH_POLICY_LIFO, CH_TRACE_BACKWARD, TR_WALK_HEAP, out);
    assert_true(n > 100); /* the traces went somewhere */

    /* the histories of the addresses the theft's output paid */
    same_history(g.s, hi, ch_out_addr(ch_store_output(g.s, out)));
    same_history(g.s, hi, ch_out_addr(ch_store_output(g.s, 1)));
    ch_error err;
    assert_int_equal(ch_store_damage(hi, &err), 0);
    ch_store_close(hi);
    tu_genchain_close(&g);
}

/* ---- the account chain --------------------------------------------------- */

/* The parent hash of the generator's first block, as coinhound-evmgen makes
 * it (a hash of its seed: src/evmgen/evmgen.c); the prefix's last block
 * takes it, so that the chain's first block links to the prefix. */
static void evmgen_first_parent(uint64_t seed, uint8_t out[32]) {
    uint8_t b[16] = "evmgen:";
    for (int i = 0; i < 8; i++)
        b[8 + i] = (uint8_t)(seed >> (8 * i));
    ch_keccak256(b, sizeof b, out);
}

static void same_account_records(ch_store *lo, ch_store *hi) {
    ch_store_counts a, b;
    ch_store_get_counts(lo, &a);
    ch_store_get_counts(hi, &b);
    assert_true(b.txs == a.txs + PREFIX && b.blocks == a.blocks + PREFIX_BLOCKS);
    assert_true(b.addresses == a.addresses);
    uint64_t nx = ch_store_xfer_count(lo);
    assert_true(ch_store_xfer_count(hi) == nx + PREFIX_XFERS);
    assert_true(ch_store_first_number(hi) + PREFIX_BLOCKS == ch_store_first_number(lo));
    ch_error err;
    for (uint64_t i = 0; i < a.txs; i++) {
        ch_hash256 id, id2;
        ch_store_txid(lo, i, &id);
        ch_store_txid(hi, PREFIX + i, &id2);
        assert_memory_equal(id.b, id2.b, 32);
        assert_memory_equal(ch_store_etx(lo, i), ch_store_etx(hi, PREFIX + i), sizeof(ch_etx_rec));
        assert_true(ch_store_tx(hi, PREFIX + i)->first_out ==
                    ch_store_tx(lo, i)->first_out + PREFIX_XFERS);
        if (i % 53 == 0) {
            uint64_t tx;
            assert_int_equal(ch_store_find_tx(hi, &id, &tx, &err), 1);
            assert_true(tx == PREFIX + i);
        }
    }
    for (uint64_t x = 0; x < nx; x++) {
        ch_xfer_rec r = *ch_store_xfer(lo, x), q = *ch_store_xfer(hi, PREFIX_XFERS + x);
        assert_true(r.tx == CH_NO_TX ? q.tx == CH_NO_TX : q.tx == r.tx + PREFIX);
        q.tx = r.tx;
        assert_memory_equal(&r, &q, sizeof r);
    }
}

/* An account's history: the same transfers, numbers shifted. */
static void same_account_history(ch_store *lo, ch_store *hi, const char *text) {
    ch_error err;
    ch_q_address qa, qb;
    assert_int_equal(ch_query_address(lo, text, &qa, &err), 1);
    assert_int_equal(ch_query_address(hi, text, &qb, &err), 1);
    assert_true(qa.id == qb.id && qa.tx_count == qb.tx_count && qa.items == qb.items);
    assert_true(qb.last == qa.last + PREFIX_XFERS);
    assert_true(qb.first_number == qa.first_number && qb.last_number == qa.last_number);
    ch_q_page pa, pb;
    assert_int_equal(ch_query_history(lo, &qa, NULL, 0, &pa, &err), 0);
    assert_int_equal(ch_query_history(hi, &qb, NULL, 0, &pb, &err), 0);
    assert_int_equal(pa.n, pb.n);
    assert_true(pa.n > 0);
    for (size_t i = 0; i < pa.n; i++) {
        const ch_q_entry *x = &pa.v[i], *y = &pb.v[i];
        assert_true(y->xfer == x->xfer + PREFIX_XFERS && y->xfer > UINT32_MAX);
        assert_true(x->tx == CH_NO_TX ? y->tx == CH_NO_TX : y->tx == x->tx + PREFIX);
        assert_true(y->number == x->number && y->height == x->height + PREFIX_BLOCKS);
        assert_true(y->amount == x->amount && y->sign == x->sign && y->from == x->from &&
                    y->to == x->to && y->asset == x->asset);
    }
    ch_q_page_free(&pa);
    ch_q_page_free(&pb);
    ch_q_address_free(&qa);
    ch_q_address_free(&qb);
}

typedef struct moves {
    uint64_t *x;
    size_t n;
} moves;

static int keep_move(ch_atrace *t, const ch_atrace_move *m, void *ctx) {
    (void)t;
    moves *v = ctx;
    v->x = realloc(v->x, (v->n + 1) * sizeof *v->x);
    v->x[v->n++] = m->xfer;
    return 0;
}

static ch_atrace *arun(ch_store *s, const char *labels_csv, ch_trace_policy p, ch_trace_direction d,
                       const char *from, uint64_t xfer, moves *mv, ch_labels **l) {
    ch_error err;
    assert_int_equal(ch_labels_new(s, NULL, NULL, l, &err), 0);
    assert_int_equal(ch_labels_load_csv(*l, labels_csv, NULL, NULL, &err), 0);
    ch_atrace_opts o;
    ch_atrace_opts_init(&o);
    o.policy = p;
    o.direction = d;
    o.labels = *l;
    if (d == CH_TRACE_FORWARD) {
        o.on_move = keep_move;
        o.move_ctx = mv;
    }
    ch_atrace *t;
    assert_int_equal(ch_atrace_new(s, &o, &t, &err), 0);
    if (from)
        assert_int_equal(ch_atrace_add_from_string(t, from, &err), 1);
    else
        assert_int_equal(ch_atrace_add_xfer(t, xfer, &err), 0);
    if (ch_atrace_run(t, &err) != 0) fail_msg("%s", err.msg);
    return t;
}

/* The account trace on both stores: the same per-asset totals, landings,
 * holdings, moves and paths, transfer numbers shifted. Returns the first
 * landing's transfer on the plain store (UINT64_MAX: none). */
static uint64_t same_atrace(ch_store *lo, ch_store *hi, const char *labels_csv, ch_trace_policy p,
                            ch_trace_direction d, const char *from, uint64_t xfer) {
    ch_labels *la, *lb;
    moves ma = {0}, mb = {0};
    ch_atrace *a = arun(lo, labels_csv, p, d, from, xfer, &ma, &la);
    ch_atrace *b = arun(hi, labels_csv, p, d, from, xfer + PREFIX_XFERS, &mb, &lb);
    const ch_atrace_asset *sa, *sb;
    size_t n = ch_atrace_assets(a, &sa);
    assert_int_equal(ch_atrace_assets(b, &sb), n);
    assert_true(n > 0);
    assert_memory_equal(sa, sb, n * sizeof *sa);
    ch_atrace_stats ta, tb;
    ch_atrace_get_stats(a, &ta);
    ch_atrace_get_stats(b, &tb);
    assert_memory_equal(&ta, &tb, sizeof ta);
    assert_int_equal(ma.n, mb.n);
    for (size_t i = 0; i < ma.n; i++)
        assert_true(mb.x[i] == ma.x[i] + PREFIX_XFERS);
    const ch_atrace_landing *la_, *lb_;
    n = ch_atrace_landings(a, &la_);
    assert_int_equal(ch_atrace_landings(b, &lb_), n);
    uint64_t first = n ? la_[0].xfer : UINT64_MAX;
    for (size_t i = 0; i < n; i++) {
        const ch_atrace_landing *x = &la_[i], *y = &lb_[i];
        assert_true(x->addr == y->addr && x->asset == y->asset && x->amount == y->amount &&
                    x->xfers == y->xfers && x->hops == y->hops);
        assert_true(y->xfer == x->xfer + PREFIX_XFERS);
        ch_atrace_step pa[64], pb[64];
        size_t k = ch_atrace_landing_path(a, x, pa, 64);
        assert_int_equal(ch_atrace_landing_path(b, y, pb, 64), k);
        for (size_t j = 0; j < k && j < 64; j++)
            assert_true(pb[j].xfer == pa[j].xfer + PREFIX_XFERS && pb[j].swap == pa[j].swap);
    }
    const ch_atrace_holding *ha, *hb;
    n = ch_atrace_holdings(a, &ha);
    assert_int_equal(ch_atrace_holdings(b, &hb), n);
    for (size_t i = 0; i < n; i++)
        assert_true(ha[i].addr == hb[i].addr && ha[i].asset == hb[i].asset &&
                    ha[i].amount == hb[i].amount && ha[i].hops == hb[i].hops);
    free(ma.x);
    free(mb.x);
    ch_atrace_free(a);
    ch_atrace_free(b);
    ch_labels_free(la);
    ch_labels_free(lb);
    return first;
}

static void test_eth_tx_and_transfer_numbers_above_2_32_through_ingest_query_trace(void **state) {
    (void)state;
    char *dir = tu_tmpdir(), gen[2048], lo_db[2048], hi_db[2048], path[4096];
    snprintf(gen, sizeof gen, "%s/gen", dir);
    snprintf(lo_db, sizeof lo_db, "%s/lo", dir);
    snprintf(hi_db, sizeof hi_db, "%s/hi", dir);
    ch_error err = {{0}};
    ch_evmgen_opts go;
    ch_evmgen_opts_init(&go);
    go.out_dir = gen;
    go.seed = 11;
    go.transfers = 6000;
    go.theft = true;
    if (ch_evmgen_run(&go, NULL, &err) != 0) fail_msg("evmgen: %s", err.msg);
    ch_ingest_opts io = {0};
    ch_ingest_stats ist;
    if (ch_ingest_evm(gen, lo_db, "eth", &io, &ist, &err) != 0) fail_msg("ingest: %s", err.msg);

    uint8_t parent[32];
    evmgen_first_parent(go.seed, parent);
    /* heads_upto: the address heads are durable up to the committed
     * transfers, as each commit records (else open would replay them) */
    const char *keys[] = {"n_etxs", "n_xfers", "n_xprev", "n_bxfer", "first_number", "heads_upto"};
    const uint64_t vals[] = {
        PREFIX,      PREFIX_XFERS, PREFIX_XFERS, PREFIX_BLOCKS, go.first_block - PREFIX_BLOCKS,
        PREFIX_XFERS};
    write_prefix(hi_db, "eth", parent, keys, vals, 6);
    if (ch_ingest_evm(gen, hi_db, "eth", &io, &ist, &err) != 0) fail_msg("ingest: %s", err.msg);

    ch_store *lo, *hi;
    assert_int_equal(ch_store_open(lo_db, "eth", CH_STORE_READ, &lo, &err), 0);
    assert_int_equal(ch_store_open(hi_db, "eth", CH_STORE_READ, &hi, &err), 0);
    same_account_records(lo, hi);

    snprintf(path, sizeof path, "%s/theft.json", gen);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char text[1 << 20];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = 0;
    const char *k = strstr(text, "\"exploiter\"");
    assert_non_null(k);
    k = strstr(k, "0x");
    assert_non_null(k);
    char exploiter[43];
    memcpy(exploiter, k, 42);
    exploiter[42] = 0;
    same_account_history(lo, hi, exploiter);

    snprintf(path, sizeof path, "%s/labels.csv", gen);
    uint64_t landed = UINT64_MAX;
    for (int p = 0; p < 3; p++) {
        uint64_t x = same_atrace(lo, hi, path, (ch_trace_policy)p, CH_TRACE_FORWARD, exploiter, 0);
        if (landed == UINT64_MAX) landed = x;
    }
    assert_true(landed != UINT64_MAX); /* the theft lands (theft.json says where) */
    same_atrace(lo, hi, path, CH_POLICY_HAIRCUT, CH_TRACE_BACKWARD, NULL, landed);
    same_atrace(lo, hi, path, CH_POLICY_FIFO, CH_TRACE_BACKWARD, NULL, landed);
    assert_int_equal(ch_store_damage(hi, &err), 0);
    ch_store_close(lo);
    ch_store_close(hi);
    tu_rmrf(dir);
    free(dir);
}

/* ---- address ids above 2^32 ---------------------------------------------- */

/* An id of the plain store as the store with the gap numbers it: 20-byte
 * addresses made after the gap come after its empty ones; 32-byte ones
 * (their own class, CH_ADDR_ID_WIDE) keep theirs. */
static ch_addr_id shifted(const gap *gp, ch_addr_id id) {
    return id && !(id & CH_ADDR_ID_WIDE) && id > gp->n20 ? id + gp->skip : id;
}

/* A store that holds 2^32 20-byte addresses and more: half-way through the
 * chain, empty ones take the ids up to 2^32 + n/2 (n: the chain's so
 * far), so that the addresses made after have slots past 2^32 that equal,
 * cut to 32 bits, slots of addresses made before. The trace's holdings
 * table and sort, indexed by slot, must keep them apart; the cluster
 * build, whose union-find keeps 32-bit slots, refuses the store naming the
 * limit. */
static void test_btc_address_ids_above_2_32_trace_and_cluster_refusal(void **state) {
    (void)state;
    tu_genchain g;
    tu_genchain_make(&g, 29, 2000);
    char db[1100], labels[1100];
    snprintf(db, sizeof db, "%s/high", g.dir);
    snprintf(labels, sizeof labels, "%s/labels.csv", g.blocks);
    ch_store_counts a, b;
    ch_store_get_counts(g.s, &a);
    gap gp = {.height = a.blocks / 2};
    ch_store *hi = prefixed_store(db, g.blocks, &gp);
    ch_store_get_counts(hi, &b);
    assert_true(b.addresses == a.addresses + gp.skip && b.addresses > UINT32_MAX);
    size_t after = 0, clash = 0;
    for (uint64_t o = 0; o < a.outputs; o++) {
        ch_addr_id x = ch_out_addr(ch_store_output(g.s, o)), y = shifted(&gp, x);
        assert_true(ch_out_addr(ch_store_output(hi, o)) == y);
        after += y > UINT32_MAX && !(y & CH_ADDR_ID_WIDE);
        clash += y != x && (uint32_t)y <= gp.n20; /* its slot cut to 32 bits: an older one's */
    }
    assert_true(after > 100 && clash > 100);
    uint64_t out = theft_output(g.s, g.blocks);
    for (int walk = TR_WALK_HEAP; walk <= TR_WALK_SWEEP; walk++) {
        ch_labels *la, *lb;
        ch_trace *ta = run(g.s, labels, CH_POLICY_HAIRCUT, CH_TRACE_FORWARD, walk, out, &la);
        ch_trace *tb = run(hi, labels, CH_POLICY_HAIRCUT, CH_TRACE_FORWARD, walk, out, &lb);
        const ch_trace_holding *ha, *hb;
        size_t n = ch_trace_holdings(ta, &ha);
        assert_int_equal(ch_trace_holdings(tb, &hb), n);
        assert_true(n > 10);
        size_t past = 0;
        for (size_t i = 0; i < n; i++)
            past += hb[i].addr > UINT32_MAX && !(hb[i].addr & CH_ADDR_ID_WIDE);
        assert_true(past > 0); /* holdings at slots past 2^32 */
        for (size_t i = 0; i < n; i++) {
            assert_true(hb[i].addr == shifted(&gp, ha[i].addr));
            assert_true(hb[i].amount == ha[i].amount && hb[i].outputs == ha[i].outputs);
        }
        const ch_trace_landing *xa, *xb;
        n = ch_trace_landings(ta, &xa);
        assert_int_equal(ch_trace_landings(tb, &xb), n);
        for (size_t i = 0; i < n; i++)
            assert_true(xb[i].addr == shifted(&gp, xa[i].addr) && xb[i].amount == xa[i].amount &&
                        xb[i].outputs == xa[i].outputs && xb[i].hops == xa[i].hops);
        ch_trace_free(ta);
        ch_trace_free(tb);
        ch_labels_free(la);
        ch_labels_free(lb);
        /* from the first quarter's txs: holdings at most addresses, those
         * whose slots clash when cut to 32 bits among them */
        ta = run_wide(g.s, walk, 0, a.txs / 4);
        tb = run_wide(hi, walk, PREFIX, a.txs / 4);
        n = ch_trace_holdings(ta, &ha);
        assert_int_equal(ch_trace_holdings(tb, &hb), n);
        size_t near = 0;
        for (size_t i = 0; i < n; i++) {
            assert_true(hb[i].addr == shifted(&gp, ha[i].addr));
            assert_true(hb[i].amount == ha[i].amount && hb[i].outputs == ha[i].outputs);
            near += hb[i].addr != ha[i].addr;
        }
        assert_true(near > 50);
        ch_trace_free(ta);
        ch_trace_free(tb);
    }
    /* the union-find's 32-bit slots: refused, the limit named */
    ch_error err;
    ch_cluster_meta m;
    assert_int_equal(ch_cluster_build(db, NULL, &m, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "2^32-2"));
    ch_store_close(hi);
    tu_genchain_close(&g);
}

/* Deposit-address clustering numbers addresses in 32 bits as the
 * union-find does (its role and first-customer arrays, its slots): an
 * account store of 2^32-1 addresses, the fewest past its limit of 2^32-2
 * (empty ones, holes of sparse files, as above), is refused naming the
 * limit, before any array is taken, and no clusters file is written. */
static void test_eth_deposit_clustering_past_its_32_bit_limit_refused(void **state) {
    (void)state;
    char *t = tu_tmpdir();
    char db[600], col[700];
    snprintf(db, sizeof db, "%s/db", t);
    ch_error err;
    ch_store *s;
    assert_int_equal(ch_store_open(db, "eth", CH_STORE_WRITE, &s, &err), 0);
    ch_store_close(s);
    add_address_holes_to(db, "eth", 0, UINT32_MAX);
    assert_int_equal(ch_store_open(db, "eth", CH_STORE_READ, &s, &err), 0);
    assert_true(ch_store_is_account(s));
    ch_store_counts c;
    ch_store_get_counts(s, &c);
    assert_true(c.addresses == UINT32_MAX);
    ch_store_close(s);
    ch_cluster_meta m;
    size_t n_exch = 1;
    assert_int_equal(ch_deposit_build(db, "eth", NULL, NULL, 0, &m, &n_exch, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "too many addresses (4294967295)"));
    assert_non_null(strstr(err.msg, "2^32-2"));
    snprintf(col, sizeof col, "%s/eth/clusters.col", db);
    assert_int_equal(access(col, F_OK), -1);
    tu_rmrf(t);
    free(t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_btc_tx_numbers_above_2_32_through_ingest_query_trace),
        cmocka_unit_test(test_eth_tx_and_transfer_numbers_above_2_32_through_ingest_query_trace),
        cmocka_unit_test(test_btc_address_ids_above_2_32_trace_and_cluster_refusal),
        cmocka_unit_test(test_eth_deposit_clustering_past_its_32_bit_limit_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
