/* The query library (query.h) against an independent oracle: every address
 * summary and history is recomputed here by a scan of the whole store's
 * columns (every output's tx found by walking the tx ranges in order, not
 * by the library's binary search nor the address chains the library walks).
 * Stores: real mainnet blocks 0..255 (skipped without the fixtures), the
 * generated chain (tests/support/genchain.c) and a hand-made account chain
 * (tests/support/acctchain.c). Claims: summaries equal the oracle; history
 * pages of any size concatenate to the whole history with no duplicates;
 * a cursor taken before an append continues it unchanged after; a unique
 * txid prefix finds its tx and an ambiguous one names its candidates. */
#include "support/testutil.h"
#include "support/acctchain.h"
#include "support/genchain.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/address.h"
#include "coinhound/ingest.h"
#include "coinhound/query.h"

/* ---- the oracle: UTXO --------------------------------------------------- */

typedef struct o_ev {
    uint64_t tx;
    int64_t delta;
} o_ev;

typedef struct oracle {
    o_ev *v; /* history, newest first, one per tx */
    size_t n;
    uint64_t received, sent, outputs;
} oracle;

static int ev_desc(const void *a, const void *b) {
    uint64_t x = ((const o_ev *)a)->tx, y = ((const o_ev *)b)->tx;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* out_tx[o] for every output, by walking the tx ranges in order. */
static uint64_t *all_out_tx(ch_store *s) {
    ch_store_counts c;
    ch_store_get_counts(s, &c);
    uint64_t *m = calloc(c.outputs + 1, sizeof *m);
    for (uint64_t t = 0; t < c.txs; t++) {
        uint64_t first, n;
        ch_store_tx_outputs(s, t, &first, &n);
        for (uint64_t o = first; o < first + n; o++)
            m[o] = t;
    }
    return m;
}

/* The history of address id, only txs below T. */
static void utxo_oracle(ch_store *s, const uint64_t *out_tx, ch_addr_id id, uint64_t T, oracle *r) {
    ch_store_counts c;
    ch_store_get_counts(s, &c);
    memset(r, 0, sizeof *r);
    o_ev *e = malloc(2 * (c.outputs + 1) * sizeof *e);
    size_t n = 0;
    for (uint64_t o = 0; o < c.outputs; o++) {
        const ch_out_rec *rec = ch_store_output(s, o);
        if (ch_out_addr(rec) != id || out_tx[o] >= T) continue;
        int64_t v = (int64_t)CH_OUT_VALUE(rec);
        r->received += (uint64_t)v;
        r->outputs++;
        e[n++] = (o_ev){out_tx[o], v};
        int64_t sp = ch_store_output_spender(s, o);
        if (sp >= 0 && (uint64_t)sp < T) {
            r->sent += (uint64_t)v;
            e[n++] = (o_ev){(uint64_t)sp, -v};
        }
    }
    qsort(e, n, sizeof *e, ev_desc);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m && e[m - 1].tx == e[i].tx)
            e[m - 1].delta += e[i].delta;
        else
            e[m++] = e[i];
    }
    r->v = e;
    r->n = m;
}

/* Page through a's history with limit, from cursor (NULL: the start);
 * every entry is checked against want[at..]; returns the entries seen. */
static size_t page_all(ch_store *s, const ch_q_address *a, const char *cursor, uint64_t limit,
                       const oracle *want, size_t at) {
    char cur[CH_Q_CURSOR_MAX] = "";
    if (cursor) snprintf(cur, sizeof cur, "%s", cursor);
    size_t pages = 0;
    for (;;) {
        ch_q_page p;
        ch_error err;
        if (ch_query_history(s, a, cur, limit, &p, &err) != 0) fail_msg("%s", err.msg);
        if (limit) assert_true(p.n <= limit);
        for (size_t i = 0; i < p.n; i++, at++) {
            if (at >= want->n)
                fail_msg("%s: entry %zu beyond the %zu of the history", a->canonical, at, want->n);
            if (p.v[i].tx != want->v[at].tx)
                fail_msg("%s limit %llu: entry %zu is tx %llu, oracle %llu", a->canonical,
                         (unsigned long long)limit, at, (unsigned long long)p.v[i].tx,
                         (unsigned long long)want->v[at].tx);
            int64_t d = p.v[i].sign < 0 ? -(int64_t)p.v[i].amount : (int64_t)p.v[i].amount;
            assert_true(d == want->v[at].delta);
            assert_int_equal(p.v[i].height, ch_store_tx_height(s, p.v[i].tx));
        }
        /* a cursor a URL carries as it is */
        for (const char *c = p.next; *c; c++)
            assert_true((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z'));
        bool more = p.next[0] != 0;
        snprintf(cur, sizeof cur, "%s", p.next);
        ch_q_page_free(&p);
        pages++;
        if (!more) break;
        assert_true(pages < 1000000);
    }
    return at;
}

static void check_utxo_address(ch_store *s, const uint64_t *out_tx, ch_addr_id id) {
    ch_addr ad;
    char text[CH_ADDR_STR_MAX];
    ch_store_addr_of(s, id, &ad);
    if (ch_addr_to_string(&ad, CH_NET_MAINNET, text) != 0) return;
    oracle want;
    utxo_oracle(s, out_tx, id, UINT64_MAX, &want);
    ch_q_address a;
    ch_error err;
    if (ch_query_address(s, text, &a, &err) != 1) fail_msg("%s: %s", text, err.msg);
    if (a.id != id) { /* a P2PK key's outputs count under its P2PKH form */
        ch_q_address_free(&a);
        free(want.v);
        return;
    }
    assert_int_equal(a.n_balances, 1);
    assert_true(a.balances[0].received == want.received);
    assert_true(a.balances[0].sent == want.sent);
    assert_true(a.balances[0].balance == want.received - want.sent);
    assert_int_equal(a.items, want.outputs);
    assert_int_equal(a.tx_count, want.n);
    if (want.n) {
        assert_int_equal(a.last_height, ch_store_tx_height(s, want.v[0].tx));
        assert_int_equal(a.first_height, ch_store_tx_height(s, want.v[want.n - 1].tx));
    }
    static const uint64_t limits[] = {0, 1, 2, 3, 7, 100};
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++)
        assert_int_equal(page_all(s, &a, NULL, limits[i], &want, 0), want.n);
    ch_q_address_free(&a);
    free(want.v);
}

static void check_every_utxo_address(ch_store *s, uint32_t step) {
    uint64_t *out_tx = all_out_tx(s);
    ch_store_counts c;
    ch_store_get_counts(s, &c);
    /* the library's output->tx search against the walk */
    for (uint64_t o = 0; o < c.outputs; o++)
        assert_int_equal(ch_query_output_tx(s, o), (int64_t)out_tx[o]);
    assert_int_equal(ch_query_output_tx(s, c.outputs), -1);
    size_t seen = 0;
    for (uint64_t o = 0; o < c.outputs; o += step) {
        ch_addr_id id = ch_out_addr(ch_store_output(s, o));
        if (id) check_utxo_address(s, out_tx, id), seen++;
    }
    assert_true(seen > 0);
    free(out_tx);
}

/* ---- UTXO stores ---------------------------------------------------------- */

static int ingest(const char *blocks, const char *db, uint32_t max_blocks, ch_error *err) {
    ch_ingest_opts o = {.progress = 0, .max_blocks = max_blocks, .commit_bytes = 1};
    ch_ingest_stats st;
    return ch_ingest_btc(blocks, db, &o, &st, err);
}

static void test_mainnet_summaries_and_pages_equal_the_oracle(void **state) {
    (void)state;
    const char *blocks = tu_fixture("btc/mainnet-0-255");
    if (!blocks) skip();
    char *db = tu_tmpdir();
    ch_error err;
    if (ingest(blocks, db, 0, &err) != 0) fail_msg("%s", err.msg);
    ch_store *s;
    assert_int_equal(ch_store_open(db, "btc", CH_STORE_READ, &s, &err), 0);
    check_every_utxo_address(s, 1);
    /* Hal Finney's first coins: tx f4184fc5 of block 170, from 12cbQLTF...,
     * found by a prefix as the text output prints the id */
    uint64_t tx;
    size_t nc;
    assert_int_equal(ch_query_find_tx(s, "f4184fc5", &tx, &nc, &err), 1);
    assert_int_equal(ch_store_tx_height(s, tx), 170);
    assert_int_equal(ch_query_find_tx(s, "F4184FC596403B9D", &tx, &nc, &err), 1);
    assert_int_equal(
        ch_query_find_tx(s, "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16", &tx,
                         &nc, &err),
        1);
    assert_int_equal(ch_query_find_tx(s, "00000000deadbeef", &tx, &nc, &err), -1);
    assert_non_null(strstr(err.msg, "no tx id begins with"));
    assert_int_equal(
        ch_query_find_tx(s, "00000000deadbeef00000000deadbeef00000000deadbeef00000000deadbeef", &tx,
                         &nc, &err),
        0); /* a whole id absent: a negative answer */
    assert_int_equal(ch_query_find_tx(s, "f41", &tx, &nc, &err), -1); /* too short */
    assert_int_equal(ch_query_find_tx(s, "f418zz", &tx, &nc, &err), -1);
    /* the tx view and the block view of that tx's block */
    char *buf;
    size_t len;
    FILE *mf = open_memstream(&buf, &len);
    ch_q_tx_json(mf, s, tx, NULL);
    fclose(mf);
    json_error_t je;
    json_t *j = json_loads(buf, 0, &je);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "txid")),
                        "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16");
    assert_int_equal(json_integer_value(json_object_get(j, "block_height")), 170);
    assert_int_equal(json_integer_value(json_object_get(j, "fee")), 0); /* 50 BTC in, 10 + 40 out */
    assert_int_equal(json_array_size(json_object_get(j, "outputs")), 2);
    json_decref(j);
    free(buf);
    ch_q_block b, b2;
    assert_int_equal(ch_query_block(s, "170", &b, &err), 1);
    assert_int_equal(b.height, 170);
    assert_int_equal(b.n_tx, 2);
    assert_true(tx >= b.first_tx && tx < b.first_tx + b.n_tx);
    char bh[65];
    ch_hash256_to_hex(&b.hash, bh);
    assert_string_equal(bh, "00000000d1145790a8694403d4063f323d499e655c83426834d4ce2f8dd4a2ee");
    assert_int_equal(ch_query_block(s, bh, &b2, &err), 1);
    assert_int_equal(b2.height, 170);
    assert_int_equal(ch_query_block(s, "256", &b2, &err), 0);
    assert_int_equal(ch_query_block(s, "0x1234", &b2, &err), -1);
    assert_non_null(strstr(err.msg, "neither a height nor a block hash"));
    mf = open_memstream(&buf, &len);
    ch_q_block_json(mf, s, &b, false, NULL);
    fclose(mf);
    j = json_loads(buf, 0, &je);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "height")), 170);
    assert_int_equal(json_array_size(json_object_get(j, "tx")), 2);
    json_decref(j);
    free(buf);
    ch_q_address a;
    assert_int_equal(ch_query_address(s, "12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S", &a, &err), 1);
    assert_true(a.tx_count >= 2);
    assert_int_equal(a.first_height, 9); /* its coinbase */
    ch_q_address_free(&a);
    assert_int_equal(ch_query_address(s, "1BoatSLRHtKNngkdXEeobR76b53LETtpyT", &a, &err), 0);
    assert_int_equal(ch_query_address(s, "not-an-address", &a, &err), -1);
    assert_non_null(strstr(err.msg, "not a valid address"));
    ch_store_close(s);
    tu_rmrf(db);
    free(db);
}

/* The address with the most txs, and a height halfway through its history. */
static ch_addr_id busiest(ch_store *s, const uint64_t *out_tx, oracle *want) {
    ch_store_counts c;
    ch_store_get_counts(s, &c);
    ch_addr_id best = 0;
    size_t best_n = 0;
    for (uint64_t o = 0; o < c.outputs; o++) {
        ch_addr_id id = ch_out_addr(ch_store_output(s, o));
        if (!id) continue;
        oracle r;
        utxo_oracle(s, out_tx, id, UINT64_MAX, &r);
        if (r.n > best_n) best = id, best_n = r.n;
        free(r.v);
    }
    utxo_oracle(s, out_tx, best, UINT64_MAX, want);
    return best;
}

static void test_utxo_cursor_is_stable_across_an_append(void **state) {
    (void)state;
    const char *blocks = tu_fixture("btc/mainnet-0-255");
    if (!blocks) skip();
    char *db = tu_tmpdir();
    ch_error err;
    /* the full store tells which address and where to cut */
    if (ingest(blocks, db, 0, &err) != 0) fail_msg("%s", err.msg);
    ch_store *s;
    assert_int_equal(ch_store_open(db, "btc", CH_STORE_READ, &s, &err), 0);
    uint64_t *out_tx = all_out_tx(s);
    oracle full;
    ch_addr_id id = busiest(s, out_tx, &full);
    assert_true(full.n >= 4);
    uint32_t cut = ch_store_tx_height(s, full.v[full.n / 2].tx) + 1;
    ch_addr ad;
    char text[CH_ADDR_STR_MAX];
    ch_store_addr_of(s, id, &ad);
    ch_addr_to_string(&ad, CH_NET_MAINNET, text);
    ch_store_close(s);
    free(out_tx);
    free(full.v);
    tu_rmrf(db);

    /* a store of blocks below the cut; the first page; then the rest */
    if (ingest(blocks, db, cut, &err) != 0) fail_msg("%s", err.msg);
    assert_int_equal(ch_store_open(db, "btc", CH_STORE_READ, &s, &err), 0);
    out_tx = all_out_tx(s);
    oracle before;
    utxo_oracle(s, out_tx, id, UINT64_MAX, &before);
    free(out_tx);
    assert_true(before.n >= 2);
    ch_q_address a;
    assert_int_equal(ch_query_address(s, text, &a, &err), 1);
    ch_q_page first;
    assert_int_equal(ch_query_history(s, &a, NULL, 1, &first, &err), 0);
    assert_int_equal(first.n, 1);
    assert_true(first.v[0].tx == before.v[0].tx);
    assert_true(first.next[0] != 0);
    ch_q_address_free(&a);
    /* the append from another process, as a live store grows (LMDB allows
     * one environment of a file per process) */
    char cmd[4096];
    int st;
    snprintf(cmd, sizeof cmd, "%s ingest btc %s --db %s --no-progress >/dev/null",
             tu_bin("coinhound"), blocks, db);
    free(tu_run(cmd, &st));
    assert_int_equal(st, 0);
    if (ch_store_refresh(s, &err) != 1) fail_msg("refresh: %s", err.msg);
    ch_store_counts c;
    ch_store_get_counts(s, &c);
    assert_int_equal(c.blocks, 256);
    /* the grown store's summary, the old cursor: the rest of the old history */
    assert_int_equal(ch_query_address(s, text, &a, &err), 1);
    assert_int_equal(page_all(s, &a, first.next, 1, &before, 1), before.n);
    assert_int_equal(page_all(s, &a, first.next, 0, &before, 1), before.n);
    ch_q_address_free(&a);
    ch_q_page_free(&first);
    free(before.v);
    ch_store_close(s);
    tu_rmrf(db);
    free(db);
}

static void test_generated_chain_summaries_pages_and_prefixes(void **state) {
    (void)state;
    tu_genchain g;
    tu_genchain_make(&g, 4242, 3000);
    check_every_utxo_address(g.s, 7);
    /* two txids sharing their first 4 hex digits: the prefix is ambiguous */
    ch_store_counts c;
    ch_store_get_counts(g.s, &c);
    char(*hex)[65] = malloc(c.txs * sizeof *hex);
    for (uint64_t t = 0; t < c.txs; t++) {
        ch_hash256 h;
        ch_store_txid(g.s, t, &h);
        ch_hash256_to_hex(&h, hex[t]);
    }
    bool found = false;
    for (uint64_t i = 0; i < c.txs && !found; i++)
        for (uint64_t j = i + 1; j < c.txs && !found; j++)
            if (!strncmp(hex[i], hex[j], 4)) {
                char p[5];
                memcpy(p, hex[i], 4);
                p[4] = 0;
                uint64_t tx;
                size_t nc;
                ch_error err;
                assert_int_equal(ch_query_find_tx(g.s, p, &tx, &nc, &err), -1);
                assert_true(nc >= 2);
                assert_non_null(strstr(err.msg, "ambiguous"));
                assert_non_null(strstr(err.msg, hex[i]));
                assert_non_null(strstr(err.msg, hex[j]));
                /* the whole id, and a prefix long enough, are unique */
                assert_int_equal(ch_query_find_tx(g.s, hex[j], &tx, &nc, &err), 1);
                assert_int_equal(tx, j);
                char longer[17];
                memcpy(longer, hex[j], 16);
                longer[16] = 0;
                assert_int_equal(ch_query_find_tx(g.s, longer, &tx, &nc, &err), 1);
                assert_int_equal(tx, j);
                /* the CLI: exit 2 naming both; the longer prefix shows the tx */
                char cmd[4096];
                int st;
                snprintf(cmd, sizeof cmd, "%s tx %s --db=%s 2>&1", tu_bin("coinhound"), p, g.db);
                char *out = tu_run(cmd, &st);
                assert_int_equal(st, 2);
                assert_non_null(strstr(out, hex[i]));
                assert_non_null(strstr(out, hex[j]));
                free(out);
                snprintf(cmd, sizeof cmd, "%s tx %s --db %s", tu_bin("coinhound"), longer, g.db);
                out = tu_run(cmd, &st);
                assert_int_equal(st, 0);
                assert_non_null(strstr(out, hex[j]));
                free(out);
                found = true;
            }
    assert_true(found); /* 3000 txs over 65,536 prefixes: a pair for sure */
    free(hex);
    tu_genchain_close(&g);
}

/* ---- account store -------------------------------------------------------- */

static void test_account_summary_and_pages_equal_the_oracle(void **state) {
    (void)state;
    achain c;
    ac_open(&c);
    ch_addr A = ac_addr("00000000000000000000000000000000000000aa");
    ch_addr B = ac_addr("00000000000000000000000000000000000000bb");
    ch_addr C = ac_addr("00000000000000000000000000000000000000cc");
    ch_addr T = ac_addr("00000000000000000000000000000000000000dd"); /* a token */
    uint64_t in_native = 0, out_native = 0, in_tok = 0, out_tok = 0;
    for (int b = 0; b < 12; b++) {
        ac_block(&c);
        ac_pay(&c, &B, &A, 1000 + (uint64_t)b), in_native += 1000 + (uint64_t)b;
        ac_pay(&c, &A, &C, 10), out_native += 10;
        ac_tx(&c, &C, &T, 1);
        ac_xfer(&c, CH_XFER_TOKEN, &T, &C, &A, 7, 0), in_tok += 7;
        ac_xfer(&c, CH_XFER_TOKEN, &T, &A, &B, 3, 0), out_tok += 3;
        ac_end_block(&c);
        ac_commit(&c);
    }
    /* a reader beside the writer: the summary and a first page */
    ch_store *r;
    ch_error err;
    assert_int_equal(ch_store_open(c.dir, "eth", CH_STORE_READ, &r, &err), 0);
    ch_q_address a;
    assert_int_equal(ch_query_address(r, "0x00000000000000000000000000000000000000AA", &a, &err),
                     1);
    assert_true(a.account);
    assert_int_equal(a.items, 12 * 4);
    assert_int_equal(a.tx_count, 12 * 3);
    assert_int_equal(a.n_balances, 2);
    for (size_t i = 0; i < 2; i++) {
        bool native = a.balances[i].asset == 0;
        assert_true(a.balances[i].received == (native ? in_native : in_tok));
        assert_true(a.balances[i].sent == (native ? out_native : out_tok));
        assert_true(a.balances[i].balance_known);
    }
    assert_int_equal(a.n_peers, 2); /* B and C */
    assert_int_equal(a.peers[0].count + a.peers[1].count, 12 * 4);
    assert_int_equal(a.first_height, 0);
    assert_int_equal(a.last_height, 11);
    /* the oracle: every transfer of the store naming A, newest first */
    uint64_t n_x = ch_store_xfer_count(r), *want = malloc(n_x * sizeof *want);
    size_t nw = 0;
    for (uint64_t x = n_x; x-- > 0;) {
        const ch_xfer_rec *rec = ch_store_xfer(r, x);
        if (rec->from == a.id || rec->to == a.id) want[nw++] = x;
    }
    assert_int_equal(nw, 12 * 4);
    static const uint64_t limits[] = {0, 1, 5, 48, 100};
    for (size_t l = 0; l < sizeof limits / sizeof limits[0]; l++) {
        char cur[CH_Q_CURSOR_MAX] = "";
        size_t at = 0;
        do {
            ch_q_page p;
            assert_int_equal(ch_query_history(r, &a, cur, limits[l], &p, &err), 0);
            for (size_t i = 0; i < p.n; i++, at++) {
                assert_true(at < nw);
                assert_int_equal(p.v[i].xfer, want[at]);
                const ch_xfer_rec *rec = ch_store_xfer(r, want[at]);
                assert_int_equal(p.v[i].sign, rec->to == a.id ? 1 : -1);
                assert_true(p.v[i].amount == rec->value_lo);
            }
            snprintf(cur, sizeof cur, "%s", p.next);
            ch_q_page_free(&p);
        } while (cur[0]);
        assert_int_equal(at, nw);
    }
    /* a cursor from before an append continues as before */
    ch_q_page first;
    assert_int_equal(ch_query_history(r, &a, NULL, 5, &first, &err), 0);
    ch_q_address_free(&a);
    ac_block(&c);
    ac_pay(&c, &B, &A, 99);
    ac_end_block(&c);
    ac_commit(&c);
    assert_int_equal(ch_store_refresh(r, &err), 1); /* it moved */
    assert_int_equal(ch_query_address(r, "0x00000000000000000000000000000000000000aa", &a, &err),
                     1);
    assert_int_equal(a.items, 12 * 4 + 1);
    size_t at = 5;
    char cur[CH_Q_CURSOR_MAX];
    snprintf(cur, sizeof cur, "%s", first.next);
    while (cur[0]) {
        ch_q_page p;
        assert_int_equal(ch_query_history(r, &a, cur, 7, &p, &err), 0);
        for (size_t i = 0; i < p.n; i++, at++)
            assert_int_equal(p.v[i].xfer, want[at]);
        snprintf(cur, sizeof cur, "%s", p.next);
        ch_q_page_free(&p);
    }
    assert_int_equal(at, nw);
    /* bad cursors: another kind's, garbage, a transfer not of A */
    ch_q_page p;
    assert_int_equal(ch_query_history(r, &a, "u10", 5, &p, &err), -1);
    assert_non_null(strstr(err.msg, "bad cursor"));
    assert_int_equal(ch_query_history(r, &a, "a%2F", 5, &p, &err), -1);
    assert_int_equal(ch_query_history(r, &a, "affffffffff", 5, &p, &err), -1);
    ch_q_page_free(&first);
    ch_q_address_free(&a);
    int rc = ch_query_address(r, "0x00000000000000000000000000000000000000ee", &a, &err);
    if (rc != 0) fail_msg("rc %d %s %s", rc, a.canonical, err.msg);
    free(want);
    ch_store_close(r);
    ac_close(&c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mainnet_summaries_and_pages_equal_the_oracle),
        cmocka_unit_test(test_utxo_cursor_is_stable_across_an_append),
        cmocka_unit_test(test_generated_chain_summaries_pages_and_prefixes),
        cmocka_unit_test(test_account_summary_and_pages_equal_the_oracle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
