/* ch_store_verify: a store checked end to end, every record against the
 * files it points into (see store.h). One pass per column, in the order the
 * links go, so that each check only needs what the earlier ones proved. */
#include "store/store_internal.h"
#include "store/checksums.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "util/path.h"

#define MAX_REPORTED 20

typedef struct vctx {
    ch_store *s;
    ch_verify_fn fn;
    void *ctx;
    uint64_t problems;
    char first[400];
} vctx;

static void problem(vctx *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(vctx *v, const char *fmt, ...) {
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (v->problems == 0) snprintf(v->first, sizeof v->first, "%s", msg);
    if (v->problems < MAX_REPORTED && v->fn) v->fn(msg, v->ctx);
    v->problems++;
}

static void ck_problem(void *ctx, const char *msg) {
    problem(ctx, "%s", msg);
}

#define FIRST_IN(t) ((t)->first_in_size & 0xffffffffffULL)
#define N(c)        (v->s->col[c].n_committed)
#define AT(c, i)    st_col_at(&v->s->col[c], i)

/* blocks.col: consecutive tx ranges; the block index names each height. */
static void check_blocks(vctx *v) {
    uint64_t nb = N(COL_BLOCKS), nt = N(COL_TXS), next = 0;
    for (uint64_t h = 0; h < nb; h++) {
        const ch_block_rec *b = AT(COL_BLOCKS, h);
        if (b->first_tx != next || b->first_tx + b->n_tx > nt) {
            problem(v,
                    "blocks.col: block %llu holds txs [%llu, +%u), expected from %llu within %llu",
                    (unsigned long long)h, (unsigned long long)b->first_tx, b->n_tx,
                    (unsigned long long)next, (unsigned long long)nt);
            return; /* every later range is off too */
        }
        next = b->first_tx + b->n_tx;
        ch_hash256 hash;
        memcpy(hash.b, b->hash, 32);
        uint32_t got;
        ch_error err;
        int rc = ch_store_find_block(v->s, &hash, &got, &err);
        if (rc != 1 || got != h)
            problem(v, "index/block: block %llu's hash %s", (unsigned long long)h,
                    rc < 0    ? err.msg
                    : rc == 0 ? "is missing"
                              : "names another height");
    }
    if (next != nt)
        problem(v, "blocks.col: the blocks hold %llu txs, txs.col %llu", (unsigned long long)next,
                (unsigned long long)nt);
}

/* txs.col: nondecreasing starts within the inputs and outputs; the txid
 * index finds each tx (a duplicate txid, as mainnet's two, finds the first). */
static void check_txs(vctx *v) {
    uint64_t nt = N(COL_TXS), n_in = N(COL_INS);
    uint64_t n_out = v->s->account ? N(COL_XFERS) : N(COL_OUTS);
    uint64_t prev_in = 0, prev_out = 0;
    for (uint64_t t = 0; t < nt; t++) {
        const ch_tx_rec *r = AT(COL_TXS, t);
        uint64_t fi = FIRST_IN(r), fo = r->first_out;
        bool in_ok = v->s->account || (fi >= prev_in && fi <= n_in);
        if (!in_ok || fo < prev_out || fo > n_out) {
            problem(v,
                    "txs.col: tx %llu starts at input %llu, output %llu: not after tx %llu's "
                    "(%llu, %llu) within (%llu, %llu)",
                    (unsigned long long)t, (unsigned long long)fi, (unsigned long long)fo,
                    (unsigned long long)(t ? t - 1 : 0), (unsigned long long)prev_in,
                    (unsigned long long)prev_out, (unsigned long long)n_in,
                    (unsigned long long)n_out);
            return;
        }
        prev_in = fi;
        prev_out = fo;
        ch_hash256 id;
        memcpy(id.b, AT(COL_TXIDS, t), 32);
        uint64_t got;
        ch_error err;
        int rc = ch_store_find_tx(v->s, &id, &got, &err);
        if (rc != 1 || memcmp(AT(COL_TXIDS, got), id.b, 32) != 0 || got > t)
            problem(v, "index/txid: tx %llu %s", (unsigned long long)t,
                    rc < 0 ? err.msg : "is not found by its txid");
    }
}

/* ins.col and txvin.col: each input spends an existing output of an
 * earlier tx; a tx's input value is the sum of what they spend. */
static void check_inputs(vctx *v) {
    uint64_t nt = N(COL_TXS), n_in = N(COL_INS), n_out = N(COL_OUTS);
    for (uint64_t t = 0; t < nt && v->problems < MAX_REPORTED; t++) {
        uint64_t fi = FIRST_IN((const ch_tx_rec *)AT(COL_TXS, t));
        uint64_t end = t + 1 < nt ? FIRST_IN((const ch_tx_rec *)AT(COL_TXS, t + 1)) : n_in;
        uint64_t sum = 0;
        for (uint64_t i = fi; i < end; i++) {
            const ch_in_rec *r = AT(COL_INS, i);
            if (ch_in_spent_tx(r) == CH_NO_TX) continue;
            const ch_tx_rec *src = ch_in_spent_tx(r) < t ? AT(COL_TXS, ch_in_spent_tx(r)) : NULL;
            uint64_t o = src ? src->first_out + ch_in_vout(r) : UINT64_MAX;
            uint64_t src_end =
                !src ? 0
                : ch_in_spent_tx(r) + 1 < nt
                    ? ((const ch_tx_rec *)AT(COL_TXS, ch_in_spent_tx(r) + 1))->first_out
                    : n_out;
            if (!src || o >= src_end) {
                problem(v,
                        "ins.col: input %llu of tx %llu spends tx %llu output %u, which does not "
                        "exist before it",
                        (unsigned long long)i, (unsigned long long)t,
                        (unsigned long long)ch_in_spent_tx(r), ch_in_vout(r));
                continue;
            }
            const ch_out_rec *out = AT(COL_OUTS, o);
            sum += CH_OUT_VALUE(out);
            uint64_t mark = ch_out_spent(out);
            if (mark == 0) mark = st_marks_spent(v->s, o); /* held by a bulk writer */
            if (mark != t + 1)
                problem(v, "outs.col: output %llu is spent by tx %llu but marked %llu",
                        (unsigned long long)o, (unsigned long long)t, (unsigned long long)mark);
        }
        uint64_t vin = *(const uint64_t *)AT(COL_TXVIN, t);
        if (vin != sum)
            problem(v, "txvin.col: tx %llu spends %llu, its inputs add up to %llu",
                    (unsigned long long)t, (unsigned long long)vin, (unsigned long long)sum);
    }
}

/* outs.col and outprev.col: addresses exist; a spent mark names a later
 * tx; the previous output of the same address comes before and pays it. */
static void check_outputs(vctx *v) {
    uint64_t n_out = N(COL_OUTS), nt = N(COL_TXS), t = 0;
    for (uint64_t o = 0; o < n_out && v->problems < MAX_REPORTED; o++) {
        while (t + 1 < nt && ((const ch_tx_rec *)AT(COL_TXS, t + 1))->first_out <= o)
            t++; /* o's own tx */
        const ch_out_rec *r = AT(COL_OUTS, o);
        if (ch_out_addr(r) && !st_addr_valid(v->s, ch_out_addr(r))) {
            problem(v, "outs.col: output %llu pays address id %llu, which is not stored",
                    (unsigned long long)o, (unsigned long long)ch_out_addr(r));
            continue;
        }
        if (ch_out_spent(r) && ch_out_spent(r) <= nt && ch_out_spent(r) - 1 <= t)
            problem(v, "outs.col: output %llu is marked spent by tx %llu, not a later one",
                    (unsigned long long)o, (unsigned long long)(ch_out_spent(r) - 1));
        int64_t p = ch_store_output_prev_same_addr(v->s, o);
        if (p >= 0 &&
            ch_out_addr(((const ch_out_rec *)AT(COL_OUTS, (uint64_t)p))) != ch_out_addr(r))
            problem(v, "outprev.col: output %llu links to output %lld, another address's",
                    (unsigned long long)o, (long long)p);
    }
}

/* Account chains: transfers name stored txs and addresses; links go back
 * to the same account; block starts are in order. */
static void check_transfers(vctx *v) {
    uint64_t nx = N(COL_XFERS), nt = N(COL_TXS), prev_first = 0;
    for (uint64_t x = 0; x < nx && v->problems < MAX_REPORTED; x++) {
        const ch_xfer_rec *r = AT(COL_XFERS, x);
        if ((r->tx != CH_NO_TX && r->tx >= nt) || (r->from && !st_addr_valid(v->s, r->from)) ||
            (r->to && !st_addr_valid(v->s, r->to)) ||
            (r->asset && !st_addr_valid(v->s, r->asset))) {
            problem(
                v,
                "xfers.col: transfer %llu names tx %llu, addresses %llu -> %llu, asset %llu: not "
                "all stored",
                (unsigned long long)x, (unsigned long long)r->tx, (unsigned long long)r->from,
                (unsigned long long)r->to, (unsigned long long)r->asset);
            continue;
        }
        for (int side = 0; side < 2; side++) {
            ch_addr_id a = side ? r->to : r->from;
            if (!a) continue;
            int64_t p = st_account_prev(v->s, NULL, x, a);
            if (p < 0) continue;
            const ch_xfer_rec *q = AT(COL_XFERS, (uint64_t)p);
            if (q->from != a && q->to != a)
                problem(v,
                        "xprev.col: transfer %llu links to %lld, which does not involve "
                        "address %llu",
                        (unsigned long long)x, (long long)p, (unsigned long long)a);
        }
    }
    for (uint64_t t = 0; t < nt && v->problems < MAX_REPORTED; t++) {
        const ch_etx_rec *e = AT(COL_ETXS, t);
        if ((e->from && !st_addr_valid(v->s, e->from)) || (e->to && !st_addr_valid(v->s, e->to)) ||
            (e->created && !st_addr_valid(v->s, e->created)))
            problem(v, "etxs.col: tx %llu names addresses that are not stored",
                    (unsigned long long)t);
    }
    for (uint64_t b = 0; b < N(COL_BXFER); b++) {
        const st_bxfer_rec *r = AT(COL_BXFER, b);
        if (r->first_xfer < prev_first || r->first_xfer > nx) {
            problem(v, "bxfer.col: block %llu starts at transfer %llu, out of order",
                    (unsigned long long)b, (unsigned long long)r->first_xfer);
            break;
        }
        prev_first = r->first_xfer;
    }
}

/* Every stored address is found by the index, under its own id, with a
 * history head that is a record paying it. */
static void check_addresses(vctx *v) {
    uint64_t n = N(COL_ADDRS20) + N(COL_ADDRS32);
    uint64_t n_rec = v->s->account ? N(COL_XFERS) : N(COL_OUTS);
    for (uint64_t i = 0; i < n && v->problems < MAX_REPORTED; i++) {
        ch_addr_id id = ch_store_addr_id_at(v->s, i), got;
        ch_addr a;
        ch_store_addr_of(v->s, id, &a);
        uint64_t last;
        ch_error err;
        int rc = st_index_find_addr(v->s, &a, &got, &last);
        if (rc != 1 || got != id) {
            problem(v, "index/addr: address id %llu %s", (unsigned long long)id,
                    rc < 0 ? err.msg : "is not found by its bytes");
            continue;
        }
        if (last == UINT64_MAX) continue;
        if (last >= n_rec) {
            problem(v,
                    "index/addr: address id %llu's history starts at record %llu, past the %llu "
                    "stored",
                    (unsigned long long)id, (unsigned long long)last, (unsigned long long)n_rec);
            continue;
        }
        bool pays;
        if (v->s->account) {
            const ch_xfer_rec *x = AT(COL_XFERS, last);
            pays = x->from == id || x->to == id;
        } else {
            pays = ch_out_addr(((const ch_out_rec *)AT(COL_OUTS, last))) == id;
        }
        if (!pays)
            problem(v,
                    "index/addr: address id %llu's history starts at record %llu, which is "
                    "another address's",
                    (unsigned long long)id, (unsigned long long)last);
    }
}

int ch_store_verify(const char *dir, const char *chain, ch_verify_fn fn, void *ctx,
                    ch_store_counts *counts, ch_error *err) {
    char path[4096];
    struct stat st;
    if (ch_path_join(path, sizeof path, dir, chain) != 0 || stat(path, &st) != 0)
        return ch_err(err, "%s: no store '%s' here", dir, chain);
    vctx v = {.fn = fn, .ctx = ctx};
    ch_error oerr;
    if (ch_store_open(dir, chain, CH_STORE_READ, &v.s, &oerr) != 0) {
        /* a store that is there but cannot be opened is a damaged one */
        if (fn) fn(oerr.msg, ctx);
        ch_err(err, "%s", oerr.msg);
        return 1;
    }
    if (counts) ch_store_get_counts(v.s, counts);
    check_blocks(&v);
    check_txs(&v);
    if (v.problems == 0) { /* the ranges hold: the records they bound can be read */
        if (v.s->account) {
            check_transfers(&v);
        } else {
            check_inputs(&v);
            check_outputs(&v);
        }
        check_addresses(&v);
    }
    /* the bytes themselves, which no link shows: a flipped txid or value */
    uint64_t commits = 0;
    st_ck_check(v.s, ck_problem, &v, &commits);
    if (counts) counts->checksum_commits = commits;
    ch_error derr;
    if (ch_store_damage(v.s, &derr) != 0) problem(&v, "%s", derr.msg);
    ch_store_close(v.s);
    if (v.problems == 0) return 0;
    if (v.problems > MAX_REPORTED && fn) {
        char more[64];
        snprintf(more, sizeof more, "... and %llu more problems",
                 (unsigned long long)(v.problems - MAX_REPORTED));
        fn(more, ctx);
    }
    ch_err(err, "%s/%s is damaged: %s", dir, chain, v.first);
    return 1;
}
