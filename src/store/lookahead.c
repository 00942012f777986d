/* Lookahead for ingest: telling the store what comes next, so it can get
 * ready (see ch_store_prefetch and ch_store_expect in store.h).
 *
 * A lookup during ingest is a chain of dependent cache misses: the hot-map
 * slot, then the records its entry names (the txid that confirms the match,
 * the tx record that locates the outputs), then the output an input spends.
 * Made one lookup at a time, each miss waits for the one before. Here each
 * stage runs over the whole batch before the next starts, so the misses of
 * a stage are in flight together; nothing is written. */
#include "store/store_internal.h"
#include "util/vec.h"

#include <stdlib.h>
#include <string.h>

/* Hints past this are capped: a hint sizes memory up front, and a wrong
 * one must not cost more than the doublings it saves. */
#define EXPECT_MAX (1u << 22)

/* Start loading record i of column c (both ends: it may straddle lines). */
static void prefetch_rec(const st_col *c, uint64_t i) {
    if (i >= st_col_count(c)) return;
    const char *p = st_col_at(c, i);
    __builtin_prefetch(p);
    __builtin_prefetch(p + c->rec - 1);
}

/* Outputs the store keeps an address for (as ch_store_add_output). */
static bool has_address(const ch_addr *a) {
    return a->kind != CH_ADDR_NONE && a->len <= 32;
}

/* The entry a lookup of txid meets first, when it names a stored tx. */
static const st_hot_entry *tx_candidate(const ch_store *s, const ch_hash256 *txid) {
    uint64_t k = st_txid_key(txid);
    const st_hot_entry *e = st_hot_get(&s->tx_hot, k);
    if (!e) e = st_hot_get(&s->tx_old, k);
    return e && st_hot_tx(e) < st_col_count(&s->col[COL_TXS]) ? e : NULL;
}

/* Stage 1 for addresses: their keys (given in given, else hashed here;
 * kept for stage 2) and hot slots. Returns how many keys were kept; 0 when
 * there is no room for them. */
static size_t address_slots(ch_store *s, const ch_addr *addrs, const uint64_t *given, size_t n) {
    st_u64_list *keys = &s->prefetch_keys;
    if (keys->cap < n) {
        uint64_t *v = ch_grow(keys->v, &keys->cap, n, sizeof *v);
        if (!v) return 0;
        keys->v = v;
    }
    keys->n = 0;
    for (size_t i = 0; i < n; i++) {
        if (!has_address(&addrs[i])) continue;
        uint64_t k = given ? given[i] : st_addr_key(&addrs[i]);
        keys->v[keys->n++] = k;
        st_hot_prefetch(&s->addr_hot, k);
        st_hot_prefetch(&s->addr_old, k);
    }
    return keys->n;
}

/* Stage 2 for addresses: the record of each address found, which the
 * lookup compares with the address to confirm the match. */
static void address_records(const ch_store *s) {
    for (size_t i = 0; i < s->prefetch_keys.n; i++) {
        const st_hot_entry *e = st_hot_get(&s->addr_hot, s->prefetch_keys.v[i]);
        if (!e) e = st_hot_get(&s->addr_old, s->prefetch_keys.v[i]);
        if (!e && !s->addr_hot_complete && !s->resolver.valid) /* off to the runs: their filters */
            st_runs_prefetch(&s->addr_runs, s->prefetch_keys.v[i]);
        if (!e || !st_addr_valid(s, st_hot_id(e))) continue;
        const char *p = (const char *)st_addr_rec(s, st_hot_id(e));
        __builtin_prefetch(p);
        __builtin_prefetch(p + ADDR32_REC - 1);
    }
}

st_utxo_key st_utxo_input_key(ch_store *s, const ch_hash256 *txid, uint32_t vout) {
    /* the next key of the list, or one a little further (a spend of a tx
     * the hot maps took in between has none: skipped) */
    for (size_t i = s->ahead_in_i; i < s->ahead_in_n && i < s->ahead_in_i + 4; i++) {
        const st_utxo_ahead *a = &s->ahead_in[i];
        if (a->vout == vout && memcmp(a->txid.b, txid->b, 32) == 0) {
            s->ahead_in_i = i + 1;
            return a->k;
        }
    }
    return st_utxo_key_of(&s->utxo, txid, vout);
}

/* Stage 2 for inputs: each candidate's tx record with the next one (where
 * its outputs start and end), unless its hot entry carries that range (the
 * txid itself is never read: the entry carries a check of it). A spend the
 * hot maps miss: its UTXO map slot, its key kept for add_input (when the
 * map holds anything); else the runs' filters. */
static void spend_records(ch_store *s, const ch_store_spend *spends, size_t n) {
    bool keyed = s->utxo.count != 0;
    if (keyed && s->ahead_in_cap < n) {
        st_utxo_ahead *v = ch_grow(s->ahead_in, &s->ahead_in_cap, n, sizeof *v);
        if (v) s->ahead_in = v;
        keyed = v != NULL;
    }
    s->ahead_in_n = s->ahead_in_i = 0;
    for (size_t i = 0; i < n; i++) {
        const st_hot_entry *e = tx_candidate(s, spends[i].txid);
        uint64_t first, count;
        if (e) {
            if (!st_hot_tx_outputs(e, &first, &count)) { /* (else the entry knows them) */
                prefetch_rec(&s->col[COL_TXS], st_hot_tx(e));
                prefetch_rec(&s->col[COL_TXS], st_hot_tx(e) + 1);
            }
        } else if (keyed) {
            st_utxo_ahead *a = &s->ahead_in[s->ahead_in_n++];
            a->txid = *spends[i].txid;
            a->vout = spends[i].vout;
            a->k = st_utxo_key_of(&s->utxo, spends[i].txid, spends[i].vout);
            st_utxo_prefetch(&s->utxo, a->k);
        } else if (!s->tx_hot_complete && !s->resolver.valid) { /* (resolved: asked) */
            st_runs_prefetch(&s->txid_runs, st_txid_key(spends[i].txid));
        }
    }
}

/* Stage 3 for inputs: the output each one spends (and marks spent), and
 * where the batch's set of spent outputs would hold it; for the spends of
 * stage 2's list, whether the map holds them, and the runs' filters of
 * those it does not. */
static void spent_outputs(ch_store *s, const ch_store_spend *spends, size_t n) {
    for (size_t i = 0; i < n; i++) {
        const st_hot_entry *e = tx_candidate(s, spends[i].txid);
        if (!e) continue;
        uint64_t first, count;
        if (!st_hot_tx_outputs(e, &first, &count))
            ch_store_tx_outputs(s, st_hot_tx(e), &first, &count);
        if (spends[i].vout >= count) continue;
        prefetch_rec(&s->col[COL_OUTS], first + spends[i].vout);
        st_marks_prefetch(s, first + spends[i].vout); /* the double-spend check's slot */
    }
    for (size_t i = 0; i < s->ahead_in_n; i++) {
        const st_utxo_ahead *a = &s->ahead_in[i];
        st_utxo_val v;
        if (!st_utxo_get(&s->utxo, a->k, &v) && !s->tx_hot_complete)
            st_runs_prefetch(&s->txid_runs, st_txid_key(&a->txid));
    }
}

void ch_store_prefetch(ch_store *s, const ch_hash256 *const *txids, size_t n_txids,
                       const ch_store_spend *spends, size_t n_spends, const ch_addr *addrs,
                       size_t n_addrs) {
    ch_store_prefetch_keyed(s, txids, n_txids, spends, n_spends, addrs, NULL, n_addrs);
}

void ch_store_prefetch_keyed(ch_store *s, const ch_hash256 *const *txids, size_t n_txids,
                             const ch_store_spend *spends, size_t n_spends, const ch_addr *addrs,
                             const uint64_t *addr_keys, size_t n_addrs) {
    if (!s->writable) return;
    if (s->account) n_spends = 0; /* no outputs to spend */
    /* stage 1: every lookup's hot slot (a new txid's is where it goes) */
    for (size_t i = 0; i < n_txids; i++)
        st_hot_prefetch(&s->tx_hot, st_txid_key(txids[i]));
    for (size_t i = 0; i < n_spends; i++) {
        st_hot_prefetch(&s->tx_hot, st_txid_key(spends[i].txid));
        st_hot_prefetch(&s->tx_old, st_txid_key(spends[i].txid));
    }
    size_t n_keys = n_addrs ? address_slots(s, addrs, addr_keys, n_addrs) : 0;
    /* stage 2: the records the slots name */
    spend_records(s, spends, n_spends);
    if (n_keys) address_records(s);
    /* stage 3: what those records locate */
    spent_outputs(s, spends, n_spends);
}

int ch_store_expect(ch_store *s, uint64_t txs, uint64_t addresses, ch_error *err) {
    if (!s->writable) return ch_err(err, "store opened read-only");
    if (txs > EXPECT_MAX) txs = EXPECT_MAX;
    if (addresses > EXPECT_MAX) addresses = EXPECT_MAX;
    /* never past what the young maps hold before they turn old (append.c) */
    uint64_t most = st_young_max(s);
    if (txs > most) txs = most;
    if (addresses > most) addresses = most;
    if (st_hot_reserve(&s->tx_hot, s->tx_hot.count + txs) != 0 ||
        st_hot_reserve(&s->addr_hot, s->addr_hot.count + addresses) != 0)
        return ch_err(err, "out of memory");
    return 0;
}
