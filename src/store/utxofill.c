/* Filling the writer's UTXO map (utxomap.h) from the columns: when the tx
 * hot maps let go of a generation of txs, the unspent outputs of those txs
 * go to the map, so that an input spending one is still resolved without
 * reading a record. The outputs of the txs the hot maps hold are not in
 * it: an input spending one of them finds its tx in a hot map and its
 * records among the recent ones (dense, mostly cached), which costs less
 * than a put into a large random table for every output (measured in
 * docs/store.md, Memory). */
#include "store/store_internal.h"
#include "util/bigmem.h"

#include <stdlib.h>
#include <string.h>

/* txs a pass reads at once */
#define FILL_TXS 1024u
/* keys hashed and their slots loaded ahead of the puts */
#define FILL_AHEAD 16u

typedef struct fill_item {
    st_utxo_key k;
    st_utxo_val v;
} fill_item;

/* Is output record o unspent as the store reads it (a mark past the tx
 * count is a crashed writer's, read as unspent: see store.h)? */
static bool unspent(const ch_store *s, const ch_out_rec *o) {
    uint64_t spent = ch_out_spent(o);
    return spent == 0 || spent > st_col_count(&s->col[COL_TXS]);
}

void st_utxo_fill(ch_store *s, uint64_t a, uint64_t b) {
    st_col *txs = &s->col[COL_TXS], *txids = &s->col[COL_TXIDS], *outs = &s->col[COL_OUTS];
    if (!s->utxo.slots || a >= b || b > txs->n_committed) return;
    ch_tx_rec *t = malloc((FILL_TXS + 1) * sizeof *t);
    ch_hash256 *id = malloc(FILL_TXS * sizeof *id);
    ch_out_rec *o = NULL;
    fill_item *ring = malloc(FILL_AHEAD * sizeof *ring);
    size_t o_cap = 0;
    for (uint64_t t0 = a; t && id && ring && t0 < b; t0 += FILL_TXS) {
        uint64_t n = b - t0 < FILL_TXS ? b - t0 : FILL_TXS;
        /* the records by pread (not through the mapping: a pass over a
         * generation would map hundreds of MB into the process) */
        bool last = t0 + n >= txs->n_committed;
        if (st_col_pread_n(txs, t0, last ? n : n + 1, t) != 0 ||
            st_col_pread_n(txids, t0, n, id) != 0)
            break;
        uint64_t o0 = t[0].first_out, o1 = last ? outs->n_committed : t[n].first_out;
        if (o1 < o0 || o1 > outs->n_committed) break;
        if (o1 - o0 > o_cap) {
            ch_out_rec *w = realloc(o, (o1 - o0) * sizeof *w);
            if (!w) break;
            o = w;
            o_cap = o1 - o0;
        }
        if (o1 > o0 && st_col_pread_n(outs, o0, o1 - o0, o) != 0) break;
        /* each unspent output hashed, its slot loaded, and put FILL_AHEAD
         * outputs later */
        size_t queued = 0;
        for (uint64_t i = 0; i < n; i++) {
            uint64_t first = t[i].first_out, end = i + 1 < n ? t[i + 1].first_out : o1;
            for (uint64_t out = first; out < end && out >= o0; out++) {
                /* a held mark (marks.c) is not in the record yet */
                if (!unspent(s, &o[out - o0]) || st_marks_has(s, out)) continue;
                fill_item *f = &ring[queued++ % FILL_AHEAD];
                if (queued > FILL_AHEAD) st_utxo_put(&s->utxo, f->k, &f->v);
                f->k = st_utxo_key_of(&s->utxo, &id[i], (uint32_t)(out - first));
                f->v = (st_utxo_val){out, t0 + i, CH_OUT_VALUE(&o[out - o0])};
                st_utxo_prefetch(&s->utxo, f->k);
            }
        }
        for (size_t q = queued > FILL_AHEAD ? queued - FILL_AHEAD : 0; q < queued; q++)
            st_utxo_put(&s->utxo, ring[q % FILL_AHEAD].k, &ring[q % FILL_AHEAD].v);
    }
    free(t);
    free(id);
    free(o);
    free(ring);
}
