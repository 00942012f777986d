/* Appending blocks to the store and committing them (see store.h).
 *
 * Lookups during ingest go to the hot maps first; an empty store's indexes
 * live wholly in them (the *_complete flags), so a fresh ingest never asks
 * LMDB. New index keys wait in lists and reach LMDB, sorted, in the commit's
 * single write transaction. */
#include "store/store_internal.h"
#include "store/checksums.h"
#include "util/ioerr.h"

#include "util/bigmem.h"
#include "util/vec.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

/* The hot maps keep the recent part of each index in two generations: new
 * entries go into the young map; once it holds 3/8 of its slots (its table
 * then has hot_slots slots, at most half full, with room for a batch more)
 * it turns old after a commit and the old one before it is dropped (the
 * runs have every entry). A lookup tries young, old, then the runs. Most
 * spends and payments are of recent txs and addresses, so they keep
 * hitting memory however long the chain; the earlier design cleared the
 * one map whole when it passed its limit, and every lookup went to the
 * runs until it filled again (measured in docs/store.md). The tables are
 * reused, so the maps' memory stays at four tables of hot_slots slots.
 * Without ch_store_set_mem, HOT_SLOTS. */
#define HOT_SLOTS (1u << 26)

static uint64_t hot_slots(const ch_store *s) {
    return s->hot_slots ? s->hot_slots : HOT_SLOTS;
}

uint64_t st_young_max(const ch_store *s) {
    return hot_slots(s) / 8 * 3;
}

/* Turn the young map old when it is full enough: the old one's entries
 * leave memory (complete is then false: the runs must be asked) and its
 * table, cleared, is the next young one; under a cap (ch_store_set_hot_cap)
 * back to `slots` slots if a large batch grew it, so that the memory
 * stays at four tables of hot_slots slots (without one, a grown table is
 * kept: a bulk ingest would only grow it again). Only between batches (no
 * entry is dirty). */
static void hot_age(st_hotmap *young, st_hotmap *old, bool *complete, uint64_t slots, bool capped) {
    if (young->count <= slots / 8 * 3) return;
    if (old->count) *complete = false;
    st_hotmap t = *old;
    *old = *young;
    *young = t;
    st_hot_clear(young);
    if (capped) (void)st_hot_shrink(young, slots); /* failing, the larger table: still right */
}

int st_u64_push(st_u64_list *l, uint64_t x) {
    if (l->n == l->cap) { /* ingest pushes per address: the call only to grow */
        uint64_t *v = ch_grow(l->v, &l->cap, l->n + 1, sizeof *v);
        if (!v) return -1;
        l->v = v;
    }
    l->v[l->n++] = x;
    return 0;
}

/* A tx entry (store_internal.h) carries its output range beside its tx
 * number, so that an input whose tx the hot maps hold reads neither the
 * tx's records (where its outputs start and end) nor its txid: one pread
 * fewer per input once the columns are cold, and none for the lookahead
 * (docs/store.md, "A tx entry's output range"). The txid is then checked
 * by its 64-bit key and 24 bits of SipHash-2-4 of it under the writer's
 * random key (s->addr_sip), where the entry sits at its own key; an entry
 * moved off it (two txids sharing their first 8 bytes) is confirmed by
 * its txid's record. A false hit needs two held txids sharing their key
 * and the 24 keyed bits: the key can be ground (some 2^32 tries for a
 * pair of one's own), the keyed bits cannot be aimed at from outside the
 * process, so it costs 2^24 such pairs put on chain. */
#define TX_SHIFTED    (1ULL << 63)
#define TX_CHECK_MASK ((1ULL << 24) - 1)

static uint64_t tx_check(const ch_store *s, const ch_hash256 *txid) {
    return st_siphash24(s->addr_sip, txid->b, sizeof txid->b) & TX_CHECK_MASK;
}

/* Whether entry e, met by a lookup for txid (at txid's own key: at_key),
 * is txid's; *check is txid's keyed check, computed on first use (*have). */
static bool tx_match(const ch_store *s, const st_hot_entry *e, const ch_hash256 *txid, bool at_key,
                     uint64_t *check, bool *have) {
    if (at_key && !(e->aux & TX_SHIFTED) && !s->tx_check_off) {
        if (!*have) *check = tx_check(s, txid), *have = true;
        return (e->idf >> ST_TX_NUM_BITS & TX_CHECK_MASK) == *check;
    }
    ch_hash256 t;
    st_col_get(&s->col[COL_TXIDS], st_hot_tx(e), t.b);
    return memcmp(t.b, txid->b, sizeof t.b) == 0;
}

/* The entry of the tx hot map m that holds txid, probing keys upward from
 * its key (two items may share one), or NULL (*free_key then gets the
 * first free slot's key). */
static const st_hot_entry *hot_find_tx(const ch_store *s, const st_hotmap *m,
                                       const ch_hash256 *txid, uint64_t *check, bool *have,
                                       uint64_t *free_key) {
    const uint64_t key = st_txid_key(txid);
    uint64_t k = key;
    const st_hot_entry *e;
    for (; (e = st_hot_get(m, k)) != NULL; k++)
        if (st_hot_tx(e) < st_col_count(&s->col[COL_TXS]) &&
            tx_match(s, e, txid, k == key, check, have))
            return e;
    *free_key = k;
    return NULL;
}

/* The young tx hot map's entry for txid, then the old one's, or NULL. */
static const st_hot_entry *tx_hot_entry(const ch_store *s, const ch_hash256 *txid) {
    uint64_t k, check = 0;
    bool have = false;
    const st_hot_entry *e = hot_find_tx(s, &s->tx_hot, txid, &check, &have, &k);
    return e ? e : hot_find_tx(s, &s->tx_old, txid, &check, &have, &k);
}

/* The young tx hot map, then the old one: 1 found, 0 not. */
int st_find_tx_hot(const ch_store *s, const ch_hash256 *txid, uint64_t *tx) {
    const st_hot_entry *e = tx_hot_entry(s, txid);
    if (e) *tx = st_hot_tx(e);
    return e != NULL;
}

/* The tx whose outputs were being added is complete: its entry gets their
 * count (where it and its first output fit their fields). */
static void tx_outputs_done(ch_store *s) {
    if (!s->tx_pend_set) return;
    s->tx_pend_set = false;
    st_hot_entry *e;
    for (uint64_t k = s->tx_pend_key; (e = st_hot_get(&s->tx_hot, k)) != NULL; k++) {
        if (st_hot_tx(e) != s->tx_pend) continue;
        uint64_t first = e->idf & ST_TX_NUM_MASK, outs = st_col_count(&s->col[COL_OUTS]);
        if (first != ST_TX_NUM_MASK && outs >= first && outs - first < ST_TX_NOUT_NONE)
            e->aux = (e->aux & ~(ST_TX_NOUT_NONE << ST_TX_NUM_BITS)) | (outs - first)
                                                                           << ST_TX_NUM_BITS;
        return;
    }
}

/* The runs, when the hot maps do not hold the whole index (asked after
 * find_tx_hot missed). */
static int find_tx_cold(ch_store *s, const ch_hash256 *txid, uint64_t *tx) {
    if (s->tx_hot_complete) return 0;
    return st_index_find_tx(s, txid, tx);
}

static void hex_txid(const ch_hash256 *h, char out[65]) {
    ch_hash256_to_hex(h, out);
}

int ch_store_begin_block(ch_store *s, const ch_block_meta *b, ch_error *err) {
    if (!s->writable) return ch_err(err, "store opened read-only");
    if (s->in_block) return ch_err(err, "begin_block inside a block");
    ch_block_rec r;
    memset(&r, 0, sizeof r);
    memcpy(r.hash, b->hash.b, 32);
    r.first_tx = st_col_count(&s->col[COL_TXS]);
    r.time = b->time;
    r.bits = b->bits;
    r.size = b->size;
    r.version = b->version;
    r.nonce = b->nonce;
    if (st_col_append(&s->col[COL_BLOCKS], &r) == UINT64_MAX) return ch_err(err, "out of memory");
    if (s->account) {
        st_bxfer_rec bx = {st_col_count(&s->col[COL_XFERS]), st_col_count(&s->col[COL_ADDRS20]),
                           st_col_count(&s->col[COL_ADDRS32])};
        if (st_col_append(&s->col[COL_BXFER], &bx) == UINT64_MAX)
            return ch_err(err, "out of memory");
    }
    s->in_block = true;
    s->block_first_tx = r.first_tx;
    return 0;
}

/* The tx record and its txid, and the txid in the hot map. */
static int append_tx(ch_store *s, const ch_hash256 *txid, uint32_t size, ch_error *err) {
    if (!s->in_block) return ch_err(err, "add_tx outside a block");
    uint64_t tx = st_col_count(&s->col[COL_TXS]);
    if (tx >= CH_ID_MASK - 1)
        return ch_err(err, "the store holds at most 2^40-2 transactions (40-bit tx numbers in its "
                           "records: docs/store.md, Format 4)");
    /* A duplicate txid (BIP30's two coinbases) is stored again, so a new
     * txid needs no lookup (in the runs, that lookup is a miss in every
     * run: measured as the largest cost of ingest once the hot maps no
     * longer held the whole index), only a free slot in the young map. */
    tx_outputs_done(s);
    const uint64_t index_key = st_txid_key(txid);
    uint64_t key = index_key;
    while (st_hot_get(&s->tx_hot, key))
        key++;
    ch_tx_rec r = {.first_in_size = st_col_count(&s->col[COL_INS]) |
                                    ((uint64_t)(size < 0xffffff ? size : 0xffffff) << 40),
                   .first_out = st_col_count(&s->col[s->account ? COL_XFERS : COL_OUTS])};
    st_hot_entry *e = st_hot_put(&s->tx_hot, key);
    uint64_t vin = 0; /* the inputs add their values as they come */
    if (!e || st_col_append(&s->col[COL_TXS], &r) == UINT64_MAX ||
        st_col_append(&s->col[COL_TXIDS], txid->b) == UINT64_MAX ||
        (!s->account && st_col_append(&s->col[COL_TXVIN], &vin) == UINT64_MAX))
        return ch_err(err, "out of memory");
    /* the outputs' count is not known yet (tx_outputs_done) */
    uint64_t first = r.first_out < ST_TX_NUM_MASK ? r.first_out : ST_TX_NUM_MASK;
    e->aux = tx | ST_TX_NOUT_NONE << ST_TX_NUM_BITS | (key != index_key ? TX_SHIFTED : 0);
    e->idf = first | tx_check(s, txid) << ST_TX_NUM_BITS;
    if (!s->account) s->tx_pend_set = true, s->tx_pend = tx, s->tx_pend_key = key;
    s->cur_tx = tx;
    return 0;
}

int ch_store_add_tx(ch_store *s, const ch_hash256 *txid, uint32_t size, ch_error *err) {
    if (s->account) return ch_err(err, "an account chain's store takes add_account_tx");
    return append_tx(s, txid, size, err);
}

/* The records of a spend, whichever path found the output (out, of tx
 * prev, worth value): its spent mark (a committed output's waits for the
 * commit, marks.c), the input's record and the tx's input value. */
static int record_spend(ch_store *s, uint64_t prev, uint32_t vout, uint64_t out, uint64_t value,
                        ch_error *err) {
    st_col *outs = &s->col[COL_OUTS];
    bool committed = out < outs->n_committed;
    uint64_t mark = s->cur_tx + 1; /* < 2^40: append_tx keeps tx numbers below 2^40 - 1 */
    if (committed ? st_marks_add(s, out, mark) != 0
                  : st_col_patch(outs, out, CH_OUT_SPENT_OFF, &mark, CH_OUT_ID_BYTES, err) != 0)
        return committed ? ch_err(err, "out of memory") : -1;
    ch_in_rec r = st_in_make(prev, vout);
    if (st_col_append(&s->col[COL_INS], &r) == UINT64_MAX) return ch_err(err, "out of memory");
    /* the tx's record is pending (written at the commit), so it can grow */
    *(uint64_t *)st_col_at(&s->col[COL_TXVIN], s->cur_tx) += value;
    return 0;
}

/* An input the UTXO map resolves: its entry is an unspent output of a
 * committed tx (unspent when the map took it, not spent since: a spend
 * removes it, a cut sweeps it), so the checks of the record path hold;
 * the records written are that path's. 1 done, 0 not in the map, -1 error. */
static int add_input_mapped(ch_store *s, const ch_hash256 *prev_txid, uint32_t vout,
                            ch_error *err) {
    st_utxo_key k = st_utxo_input_key(s, prev_txid, vout);
    st_utxo_val v;
    if (!st_utxo_get(&s->utxo, k, &v) || v.tx >= s->cur_tx) {
        s->utxo.misses++;
        return 0;
    }
    s->utxo.hits++;
    if (record_spend(s, v.tx, vout, v.out, v.value, err) != 0) return -1;
    st_utxo_del(&s->utxo, k);
    return 1;
}

int ch_store_add_input(ch_store *s, const ch_hash256 *prev_txid, uint32_t vout, ch_error *err) {
    if (s->cur_tx == UINT64_MAX) return ch_err(err, "input outside a transaction");
    uint64_t prev, first, n;
    const st_resolved_tx *resolved = NULL;
    const st_hot_entry *hot = tx_hot_entry(s, prev_txid);
    int rc = hot != NULL;
    if (hot) prev = st_hot_tx(hot);
    if (rc == 0) {
        /* the map holds the outputs of txs the hot maps let go of: asked
         * when they miss, before the runs */
        if (s->utxo.count) {
            int got = add_input_mapped(s, prev_txid, vout, err);
            if (got != 0) return got < 0 ? -1 : 0;
        }
        /* the block's lookups made before its adds (resolve.c), else the runs */
        resolved = st_resolved_tx_get(s, prev_txid);
        if (resolved) {
            rc = resolved->found;
            prev = resolved->tx;
            s->resolver.taken++;
        } else {
            rc = find_tx_cold(s, prev_txid, &prev);
        }
    }
    char hex[65];
    if (rc < 0) return -1;
    if (rc == 0 || prev >= s->cur_tx) {
        hex_txid(prev_txid, hex);
        return ch_err(err, "input spends %s:%u, a transaction not in the chain before it", hex,
                      vout);
    }
    st_col *txs = &s->col[COL_TXS], *outs = &s->col[COL_OUTS];
    if (resolved) {
        first = resolved->first_out;
        n = resolved->n_out;
    } else if (hot && st_hot_tx_outputs(hot, &first, &n)) {
        /* the entry's range (append_tx, tx_outputs_done) */
    } else { /* the tx's output range (as ch_store_tx_outputs, through st_col_get) */
        ch_tx_rec t[2] = {{0, 0}, {0, st_col_count(outs)}};
        st_col_get_n(txs, prev, prev + 1 < st_col_count(txs) ? 2 : 1, t);
        first = t[0].first_out;
        n = t[1].first_out >= first && t[1].first_out <= st_col_count(outs) ? t[1].first_out - first
                                                                            : 0;
    }
    if (vout >= n) {
        hex_txid(prev_txid, hex);
        return ch_err(err, "input spends %s:%u, but that transaction has %llu outputs", hex, vout,
                      (unsigned long long)n);
    }
    ch_out_rec o;
    uint64_t out = first + vout;
    st_col_get(outs, out, &o);
    /* a committed output's mark waits for the commit (marks.c) */
    bool committed = out < outs->n_committed;
    uint64_t spent = ch_out_spent(&o);
    if ((spent != 0 && spent <= st_col_count(txs)) || (committed && st_marks_has(s, out))) {
        hex_txid(prev_txid, hex);
        if (spent == 0 || spent > st_col_count(txs))
            return ch_err(err, "input spends %s:%u, already spent in this batch", hex, vout);
        return ch_err(err, "input spends %s:%u, already spent by tx #%llu", hex, vout,
                      (unsigned long long)(spent - 1));
    }
    return record_spend(s, prev, vout, out, CH_OUT_VALUE(&o), err);
}

int ch_store_add_coinbase_input(ch_store *s, ch_error *err) {
    if (s->cur_tx == UINT64_MAX) return ch_err(err, "input outside a transaction");
    ch_in_rec r = st_in_make(CH_NO_TX, 0);
    if (st_col_append(&s->col[COL_INS], &r) == UINT64_MAX) return ch_err(err, "out of memory");
    return 0;
}

/* An address entry is dirty (its key is in dirty_addr_keys, its index
 * entry due at the next commit) when its flags carry this batch's tag: a
 * commit then cleans every entry at once by moving to the next tag, instead
 * of revisiting each one (a cache miss apiece). */
static bool hot_dirty(const ch_store *s, const st_hot_entry *e) {
    return st_hot_flags(e) >> ST_HOT_TAG_SHIFT == s->batch;
}

static int mark_dirty(ch_store *s, st_hot_entry *e, ch_error *err) {
    if (hot_dirty(s, e)) return 0;
    if (st_u64_push(&s->dirty_addr_keys, e->key) != 0) return ch_err(err, "out of memory");
    /* dirty in an earlier batch, so no longer new to the index */
    st_hot_set_flags(e, (st_hot_flags(e) & ST_HOT_SHIFTED) | s->batch << ST_HOT_TAG_SHIFT);
    return 0;
}

/* After a commit or an abort: no entry is dirty any more. */
static void next_batch(ch_store *s) {
    s->batch++;
    if (s->batch < 1u << (ST_HOT_FLAG_BITS - ST_HOT_TAG_SHIFT)) return;
    /* the tag wrapped (after four million commits): clear the old tags */
    st_hot_clear_flags(&s->addr_hot);
    s->batch = 1;
}

/* An address entry's aux holds its last output (or transfer) and a check:
 * 23 bits of SipHash-2-4 of the address under a key drawn at random for
 * each writer (s->addr_sip). A hit on an entry whose hot key is the
 * address's index key (not moved off it) is confirmed by the check instead
 * of reading the address's record: once the columns are cold that read is
 * a pread, one for every payment to an address the hot maps hold
 * (docs/store.md, "The miss path's reads"). A false hit needs another
 * held address sharing the 64-bit index key and the 23 keyed bits, which
 * nobody can aim at (the key is the process's own); an entry moved off its
 * key, or whose last output does not fit 40 bits (kept raw, bit 63 clear),
 * is confirmed by its record as before. Bits: the last in 0..39 (all ones:
 * none), the check in 40..62, bit 63 set when packed; a raw last has bit 63
 * clear (an output or transfer number: a count of records, below 2^63). */
#define ADDR_LAST_BITS  40
#define ADDR_LAST_NONE  ((1ULL << ADDR_LAST_BITS) - 1)
#define ADDR_CHECK_MASK ((1ULL << 23) - 1)
#define ADDR_PACKED     (1ULL << 63)

uint64_t st_addr_check(const ch_store *s, const ch_addr *a) {
    uint8_t b[3 + sizeof a->bytes];
    size_t n = a->len <= sizeof a->bytes ? a->len : sizeof a->bytes;
    b[0] = a->kind;
    b[1] = a->version;
    b[2] = a->len;
    memcpy(b + 3, a->bytes, n);
    return st_siphash24(s->addr_sip, b, 3 + n) & ADDR_CHECK_MASK;
}

uint64_t st_addr_aux(uint64_t last, uint64_t check) {
    if (last == UINT64_MAX)
        last = ADDR_LAST_NONE;
    else if (last >= ADDR_LAST_NONE)
        return last; /* raw: confirmed by the record */
    return ADDR_PACKED | (check & ADDR_CHECK_MASK) << ADDR_LAST_BITS | last;
}

uint64_t st_addr_aux_last(uint64_t aux) {
    if (!(aux & ADDR_PACKED)) return aux;
    uint64_t l = aux & ADDR_LAST_NONE;
    return l == ADDR_LAST_NONE ? UINT64_MAX : l;
}

static uint64_t addr_last(const st_hot_entry *e) {
    return st_addr_aux_last(e->aux);
}

/* a new last output (never none), the check kept; an entry without one
 * (raw) stays raw */
static void addr_set_last(st_hot_entry *e, uint64_t last) {
    e->aux = e->aux & ADDR_PACKED ? st_addr_aux(last, e->aux >> ADDR_LAST_BITS) : last;
}

/* Is e (met probing from a's index key) a's entry? check: st_addr_check(s, a). */
static bool addr_match(const ch_store *s, const st_hot_entry *e, const ch_addr *a,
                       uint64_t index_key, uint64_t check) {
    if ((e->aux & ADDR_PACKED) && !(st_hot_flags(e) & ST_HOT_SHIFTED) && !s->addr_check_off)
        return e->key == ST_HOT_KEY(index_key) &&
               (e->aux >> ADDR_LAST_BITS & ADDR_CHECK_MASK) == check;
    return st_addr_equal(s, st_hot_id(e), a);
}

/* The entry the old generation holds for a, or NULL. */
static const st_hot_entry *old_address(const ch_store *s, const ch_addr *a, uint64_t index_key,
                                       uint64_t check) {
    const st_hot_entry *e;
    for (uint64_t k = index_key; (e = st_hot_get(&s->addr_old, k)) != NULL; k++)
        if (addr_match(s, e, a, index_key, check)) return e;
    return NULL;
}

bool st_addr_in_hot(const ch_store *s, const ch_addr *a, uint64_t key) {
    const uint64_t check = st_addr_check(s, a);
    const st_hot_entry *e;
    for (uint64_t k = key; (e = st_hot_get(&s->addr_hot, k)) != NULL; k++)
        if (addr_match(s, e, a, key, check)) return true;
    return old_address(s, a, key, check) != NULL;
}

int ch_store_writer_find_addr(ch_store *s, const ch_addr *a, ch_addr_id *id, ch_error *err) {
    if (!s->writable) return ch_store_find_addr(s, a, id, NULL, err);
    const uint64_t index_key = st_addr_key(a), check = st_addr_check(s, a);
    const st_hot_entry *e;
    for (uint64_t k = index_key; (e = st_hot_get(&s->addr_hot, k)) != NULL; k++)
        if (addr_match(s, e, a, index_key, check)) return *id = st_hot_id(e), 1;
    if ((e = old_address(s, a, index_key, check)) != NULL) return *id = st_hot_id(e), 1;
    if (s->addr_hot_complete) return 0;
    return ch_store_find_addr(s, a, id, NULL, err);
}

int ch_store_writer_find_tx(ch_store *s, const ch_hash256 *txid, uint64_t *tx, ch_error *err) {
    if (s->writable && st_find_tx_hot(s, txid, tx)) return 1;
    return ch_store_find_tx(s, txid, tx, err);
}

/* The address's entry in the young hot map (moved up from the old one,
 * loaded from the runs or created), or NULL on error; index_key is
 * st_addr_key(a). An entry moved up
 * leaves a stale copy in the old map, which the young one hides. */
static st_hot_entry *address_entry(ch_store *s, const ch_addr *a, uint64_t index_key,
                                   ch_error *err) {
    uint64_t k = index_key;
    const uint64_t check = st_addr_check(s, a);
    st_hot_entry *e;
    for (; (e = st_hot_get(&s->addr_hot, k)) != NULL; k++)
        if (addr_match(s, e, a, index_key, check)) return e;
    ch_addr_id id = 0;
    uint64_t last = UINT64_MAX;
    int rc;
    const st_hot_entry *o = old_address(s, a, index_key, check);
    if (o) {
        id = st_hot_id(o);
        last = addr_last(o);
        rc = 1;
    } else if (s->addr_hot_complete) {
        rc = 0;
    } else {
        /* the block's lookups made before its adds (resolve.c), else the runs */
        const st_resolved_addr *r = st_resolved_addr_get(s, a, index_key);
        if (r) {
            s->resolver.taken++;
            rc = r->found;
            if (rc) id = r->id, last = r->last;
        } else {
            rc = st_index_find_addr(s, a, &id, &last);
        }
    }
    if (rc == 0) { /* a new address */
        id = st_addr_append(s, a);
        if (id == 0) {
            ch_err(err, "cannot store the address (out of memory or 2^39-1 of its class)");
            return NULL;
        }
    }
    e = st_hot_put(&s->addr_hot, k);
    if (!e) {
        ch_err(err, "out of memory");
        return NULL;
    }
    st_hot_set_id(e, id);
    e->aux = st_addr_aux(last, check);
    /* the commit takes an entry's index key from its hot key, unless two
     * addresses' keys collided and this one had to move up */
    st_hot_set_flags(e, e->key != index_key ? ST_HOT_SHIFTED : 0);
    if (rc == 0) {
        /* a new address enters the index at the next commit even if it never
         * gets a history of its own (a token contract, a tx's recipient) */
        if (mark_dirty(s, e, err) != 0) return NULL;
        st_hot_set_flags(e, st_hot_flags(e) | ST_HOT_NEW);
    }
    return e;
}

int ch_store_add_output(ch_store *s, uint64_t value, ch_script_type type, const ch_addr *addr,
                        ch_error *err) {
    bool keyed = addr && addr->kind != CH_ADDR_NONE && addr->len <= 32;
    return ch_store_add_output_keyed(s, value, type, addr, keyed ? st_addr_key(addr) : 0, err);
}

uint64_t ch_store_addr_key(const ch_addr *a) {
    return st_addr_key(a);
}

int ch_store_add_output_keyed(ch_store *s, uint64_t value, ch_script_type type, const ch_addr *addr,
                              uint64_t key, ch_error *err) {
    if (s->cur_tx == UINT64_MAX) return ch_err(err, "output outside a transaction");
    if (value > 0x00ffffffffffffffULL)
        return ch_err(err, "output value %llu does not fit the store's 56 bits",
                      (unsigned long long)value);
    uint64_t out = st_col_count(&s->col[COL_OUTS]);
    ch_addr_id id = 0;
    uint32_t prev_dist = 0;
    if (addr && addr->kind != CH_ADDR_NONE && addr->len <= 32) {
        st_hot_entry *e = address_entry(s, addr, key, err);
        if (!e) return -1;
        id = st_hot_id(e);
        uint64_t last = addr_last(e);
        if (last != UINT64_MAX) {
            uint64_t d = out - last;
            if (d < ST_OUTPREV_FAR) {
                prev_dist = (uint32_t)d;
            } else {
                prev_dist = ST_OUTPREV_FAR;
                if (st_u64_push(&s->far_pend, out) || st_u64_push(&s->far_pend, last))
                    return ch_err(err, "out of memory");
            }
        }
        addr_set_last(e, out);
        if (mark_dirty(s, e, err) != 0) return -1;
    }
    ch_out_rec r = st_out_make(value | ((uint64_t)type << 56), id);
    if (st_col_append(&s->col[COL_OUTS], &r) == UINT64_MAX ||
        st_col_append(&s->col[COL_OUTPREV], &prev_dist) == UINT64_MAX)
        return ch_err(err, "out of memory");
    return 0;
}

/* --- account chains --- */

int ch_store_set_first_number(ch_store *s, uint64_t number, ch_error *err) {
    if (st_col_count(&s->col[COL_BLOCKS]) != 0 && number != s->first_number)
        return ch_err(err, "the store starts at block %llu, not %llu",
                      (unsigned long long)s->first_number, (unsigned long long)number);
    s->first_number = number;
    return 0;
}

static ch_addr_id account_id(ch_store *s, const ch_addr *a, ch_error *err, int *rc) {
    *rc = 0;
    if (!a || a->kind == CH_ADDR_NONE) return 0;
    st_hot_entry *e = address_entry(s, a, st_addr_key(a), err);
    if (!e) *rc = -1;
    return e ? st_hot_id(e) : 0;
}

int ch_store_add_account_tx(ch_store *s, const ch_hash256 *txid, const ch_addr *from,
                            const ch_addr *to, const ch_addr *created, int status, uint8_t type,
                            ch_error *err) {
    if (!s->account) return ch_err(err, "a UTXO chain's store takes add_tx");
    int rc1, rc2, rc3;
    ch_etx_rec r = {.from = account_id(s, from, err, &rc1),
                    .to = account_id(s, to, err, &rc2),
                    .created = account_id(s, created, err, &rc3),
                    .status = (uint8_t)(status < 0 ? 2 : status),
                    .type = type,
                    .pad = 0};
    if (rc1 || rc2 || rc3) return -1;
    if (append_tx(s, txid, 0, err) != 0) return -1;
    if (st_col_append(&s->col[COL_ETXS], &r) == UINT64_MAX) return ch_err(err, "out of memory");
    return 0;
}

/* Link transfer x into an account's history (side 0 from, 1 to) and make
 * it the account's head; returns the link distance to store. */
static int link_account(ch_store *s, st_hot_entry *e, uint64_t x, int side, uint32_t *dist,
                        ch_error *err) {
    *dist = 0;
    uint64_t last = addr_last(e);
    if (last != UINT64_MAX && last != x) {
        uint64_t d = x - last;
        if (d < ST_OUTPREV_FAR) {
            *dist = (uint32_t)d;
        } else {
            *dist = ST_OUTPREV_FAR;
            if (st_u64_push(&s->far_pend, st_far_xkey(x, side)) || st_u64_push(&s->far_pend, last))
                return ch_err(err, "out of memory");
        }
    }
    addr_set_last(e, x);
    return mark_dirty(s, e, err);
}

int ch_store_add_transfer(ch_store *s, ch_xfer_kind kind, uint32_t position, const ch_addr *asset,
                          const ch_addr *from, const ch_addr *to, uint64_t value_lo,
                          uint64_t value_hi, uint8_t flags, ch_error *err) {
    if (!s->account) return ch_err(err, "transfers belong to account chains");
    if (!s->in_block) return ch_err(err, "transfer outside a block");
    bool no_tx = kind == CH_XFER_WITHDRAWAL || kind == CH_XFER_REWARD;
    if (!no_tx && s->cur_tx == UINT64_MAX) return ch_err(err, "transfer outside a transaction");
    uint64_t x = st_col_count(&s->col[COL_XFERS]);
    int rc;
    ch_xfer_rec r = {.tx = no_tx ? CH_NO_TX : s->cur_tx,
                     .asset = account_id(s, asset, err, &rc),
                     .value_lo = value_lo,
                     .value_hi = value_hi,
                     .position = position,
                     .kind = (uint8_t)kind,
                     .flags = flags,
                     .pad = 0};
    if (rc) return -1;
    uint32_t links[2] = {0, 0};
    st_hot_entry *ef = NULL, *et = NULL;
    if (from && from->kind != CH_ADDR_NONE) {
        if (!(ef = address_entry(s, from, st_addr_key(from), err))) return -1;
        r.from = st_hot_id(ef);
    }
    if (to && to->kind != CH_ADDR_NONE) {
        if (!(et = address_entry(s, to, st_addr_key(to), err))) return -1;
        r.to = st_hot_id(et);
    }
    /* a self-transfer links once; both sides then share the link */
    if (ef && link_account(s, ef, x, 0, &links[0], err) != 0) return -1;
    if (et && et == ef)
        links[1] = links[0];
    else if (et && link_account(s, et, x, 1, &links[1], err) != 0)
        return -1;
    if (st_col_append(&s->col[COL_XFERS], &r) == UINT64_MAX ||
        st_col_append(&s->col[COL_XPREV], links) == UINT64_MAX)
        return ch_err(err, "out of memory");
    return 0;
}

int ch_store_end_block(ch_store *s, ch_error *err) {
    if (!s->in_block) return ch_err(err, "end_block outside a block");
    ch_block_rec *b = st_col_at(&s->col[COL_BLOCKS], st_col_count(&s->col[COL_BLOCKS]) - 1);
    b->n_tx = (uint32_t)(st_col_count(&s->col[COL_TXS]) - s->block_first_tx);
    tx_outputs_done(s);
    s->in_block = false;
    s->cur_tx = UINT64_MAX;
    st_resolved_drop(s);
    return 0;
}

/* LSD radix sort of run items on the 48 key bits the runs keep, in four
 * passes of 12 bits: linear, and stable, so equal keys keep the order they
 * came in (tx number order for txids). */
static int sort_items(st_run_item *v, size_t n) {
    st_run_item *tmp = ch_big_alloc(n * sizeof *tmp);
    if (!tmp) return -1;
    static size_t count[4096];
    for (int shift = 16; shift < 64; shift += 12) {
        memset(count, 0, sizeof count);
        for (size_t i = 0; i < n; i++)
            count[(v[i].key >> shift) & 4095]++;
        size_t sum = 0;
        for (int b = 0; b < 4096; b++) {
            size_t c = count[b];
            count[b] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            tmp[count[(v[i].key >> shift) & 4095]++] = v[i];
        st_run_item *t = v;
        v = tmp;
        tmp = t;
    }
    /* four passes: the sorted data is back in the caller's array */
    ch_big_free(tmp, n * sizeof *tmp);
    return 0;
}

/* Write the batch's items (sorted here) as the next run of r. */
static int stage_run(ch_store *s, st_runs *r, st_run_item *v, size_t n, ch_error *err) {
    if (n == 0) return 0;
    if (sort_items(v, n) != 0) return ch_err(err, "out of memory");
    return st_runs_add(r, v, n, s->run_seq, err);
}

/* The batch's txids go to the txid runs. */
static int stage_txids(ch_store *s, ch_error *err) {
    st_col *txids = &s->col[COL_TXIDS];
    uint64_t from = txids->n_committed, n = st_col_count(txids) - from;
    if (n == 0) return 0;
    st_run_item *v = ch_big_alloc(n * sizeof *v);
    if (!v) return ch_err(err, "out of memory");
    for (uint64_t i = 0; i < n; i++) {
        ch_hash256 id;
        memcpy(id.b, st_col_at(txids, from + i), 32);
        v[i].key = st_txid_key(&id);
        v[i].val = from + i;
    }
    int rc = stage_run(s, &s->txid_runs, v, n, err);
    ch_big_free(v, n * sizeof *v);
    return rc;
}

/* The index key of an address entry: its hot key, unless it had to move
 * off it (then it is computed again from the address). */
static uint64_t addr_index_key(const ch_store *s, const st_hot_entry *e) {
    if (!(st_hot_flags(e) & ST_HOT_SHIFTED)) return e->key;
    ch_addr a;
    ch_store_addr_of(s, st_hot_id(e), &a);
    return st_addr_key(&a);
}

/* how many lookups ahead a loop over random hot entries asks for the next */
#define PREFETCH_DISTANCE 16

static bool head_pending(const ch_store *s, ch_addr_id id) {
    const st_col *c = &s->col[(id & CH_ADDR_ID_WIDE) ? COL_HEADS32 : COL_HEADS20];
    return (id & ~CH_ADDR_ID_WIDE) > c->n_committed;
}

/* Every dirty address, in one pass over the hot map that keeps several of
 * its cache misses in flight: a new address's head goes into its pending
 * record (written with the batch) and its key to *v (*m of them, for the
 * address runs: stage_run); an older address's new head waits in
 * heads_moves for the commit to land. *v is NULL when nothing is dirty;
 * the caller frees it (ch_big_free, *cap entries). */
static int gather_addresses(ch_store *s, st_run_item **v, size_t *m, size_t *cap, ch_error *err) {
    const uint64_t *keys = s->dirty_addr_keys.v;
    size_t n = s->dirty_addr_keys.n;
    *v = NULL;
    *m = *cap = 0;
    if (n == 0) return 0;
    st_run_item *items = ch_big_alloc(n * sizeof *items);
    if (!items) return ch_err(err, "out of memory");
    s->heads_moves[0].n = s->heads_moves[1].n = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (i + PREFETCH_DISTANCE < n) st_hot_prefetch(&s->addr_hot, keys[i + PREFETCH_DISTANCE]);
        const st_hot_entry *e = st_hot_get(&s->addr_hot, keys[i]);
        if (head_pending(s, st_hot_id(e))) {
            st_heads_set(s, st_hot_id(e), addr_last(e));
        } else if (st_edits_push(&s->heads_moves[(st_hot_id(e) & CH_ADDR_ID_WIDE) != 0],
                                 (st_hot_id(e) & ~CH_ADDR_ID_WIDE) - 1, addr_last(e)) != 0) {
            ch_big_free(items, n * sizeof *items);
            return ch_err(err, "out of memory");
        }
        if (st_hot_flags(e) & ST_HOT_NEW)
            items[k++] = (st_run_item){addr_index_key(s, e), st_hot_id(e)};
    }
    *v = items;
    *m = k;
    *cap = n;
    return 0;
}

static int put_u64(MDB_txn *txn, MDB_dbi dbi, uint64_t key, const void *val, size_t len) {
    MDB_val k = {sizeof key, &key}, v = {len, (void *)val};
    return mdb_put(txn, dbi, &k, &v, 0);
}

/* The LMDB part of a commit: far links, block hashes, lengths and the run
 * lists (a few pages: the big indexes are the runs). */
static int write_indexes(ch_store *s, MDB_txn *txn, ch_error *err) {
    int rc = 0;
    for (size_t i = 0; i + 1 < s->far_pend.n && !rc; i += 2)
        rc = put_u64(txn, s->db_farprev, s->far_pend.v[i], &s->far_pend.v[i + 1], 8);
    st_col *blocks = &s->col[COL_BLOCKS];
    for (uint64_t h = blocks->n_committed; h < st_col_count(blocks) && !rc; h++) {
        const ch_block_rec *b = st_col_at(blocks, h);
        uint32_t height = (uint32_t)h;
        MDB_val k = {32, (void *)b->hash}, v = {4, &height};
        rc = mdb_put(txn, s->db_block, &k, &v, 0);
    }
    if (!rc) rc = st_ck_record(s, txn);
    if (rc) return ch_err(err, "%s: writing the index: %s", s->dir, mdb_strerror(rc));
    return st_write_lengths(s, txn, err);
}

/* After the commit: the older addresses' new heads, in place, then durable
 * and recorded (until then a crash leaves them to be replayed). Each heads
 * file in one sorted pass (st_col_patch_many), not through the mapping. A
 * small commit (lag) leaves them to the next commit's syncs, which record
 * heads_upto (heads.c): their write-back starts now, so that those syncs
 * find them written. */
static int move_heads(ch_store *s, bool lag, ch_error *err) {
    for (int w = 0; w < 2; w++) {
        st_edit_list *l = &s->heads_moves[w];
        st_col *c = &s->col[w ? COL_HEADS32 : COL_HEADS20];
        bool moved = l->n > 0;
        int rc = st_col_patch_many(c, l->v, l->n, 0, sizeof(uint64_t), err);
        l->n = 0;
        if (rc != 0) return -1;
        if (lag && moved) st_writeback_start(&s->lag_wb[1 + w], c->fd);
    }
    if (lag) return 0;
    static const int heads[2] = {COL_HEADS20, COL_HEADS32};
    ch_sync_job jobs[2];
    size_t n = 0;
    for (int i = 0; i < 2; i++) {
        const st_col *c = &s->col[heads[i]];
        if (c->fd >= 0) jobs[n++] = (ch_sync_job){c->fd, false, c->path, 0};
    }
    if (ch_sync_many(jobs, n, err) != 0) return -1;
    s->heads_upto = st_heads_domain(s);
    return st_write_heads_upto(s, err);
}

/* The batch's records appended to the columns and the spent marks of
 * older outputs written in place, their write-back started (wb: outs.col's,
 * when there are marks: they dirty a page each all over it, the sync's
 * longest, so it starts now, beside the runs and the transaction; joined
 * before sync_batch): step 1 of a commit. It only reads the store's pending
 * records and writes the column files, so it may run beside the staging of
 * the runs (which reads the pending txids and writes the run files). */
/* Milliseconds since *t, and *t moved to now (the commit's part times). */
static double lap(struct timespec *t) {
    struct timespec n;
    clock_gettime(CLOCK_MONOTONIC, &n);
    double ms = (double)(n.tv_sec - t->tv_sec) * 1e3 + (double)(n.tv_nsec - t->tv_nsec) / 1e6;
    *t = n;
    return ms;
}

static int write_columns(ch_store *s, st_writeback *wb, bool marks, double *columns_ms,
                         double *marks_ms, ch_error *err) {
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < COL_COUNT; i++)
        if (st_col_write(&s->col[i], err) != 0) return -1;
    *columns_ms = lap(&t0);
    if (!marks) return 0; /* written after the syncs (lag_in_place) */
    if (st_marks_write(s, err) != 0) return -1;
    *marks_ms = lap(&t0);
    if (s->marks.n) st_writeback_start(wb, s->col[COL_OUTS].fd);
    return 0;
}

/* Step 1's data durable: every column, the batch's new runs and their
 * folder's entries for them, all at once (ch_sync_many). */
static int sync_batch(ch_store *s, ch_error *err) {
    ch_sync_job jobs[COL_COUNT + 3];
    size_t n = 0;
    for (int i = 0; i < COL_COUNT; i++)
        if (s->col[i].fd >= 0) jobs[n++] = (ch_sync_job){s->col[i].fd, false, s->col[i].path, 0};
    st_runs *runs[2] = {&s->txid_runs, &s->addr_runs};
    char run_path[2][4200];
    bool new_run = false;
    for (int i = 0; i < 2; i++)
        if (st_runs_sync_fd(runs[i]) >= 0) {
            snprintf(run_path[i], sizeof run_path[i], "%s/%s-%llu.run", runs[i]->dir, runs[i]->name,
                     (unsigned long long)runs[i]->next.seq);
            jobs[n++] = (ch_sync_job){st_runs_sync_fd(runs[i]), false, run_path[i], 0};
            new_run = true;
        }
    int dir = -1;
    if (new_run) { /* both indexes' runs live in one folder */
        dir = open(s->txid_runs.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0) return ch_io_err(err, s->txid_runs.dir, "open", NULL, errno);
        jobs[n++] = (ch_sync_job){dir, true, s->txid_runs.dir, 0};
    }
    int rc = ch_sync_many(jobs, n, err);
    if (dir >= 0) close(dir);
    return rc;
}

/* A commit of this many pending bytes or more writes its columns (and its
 * marks) in a thread of its own while this one sorts and writes the runs:
 * on two cores the two overlap (the column writes are the kernel's copy
 * into the page cache; the runs are a sort, a merge and their writes). A
 * small commit (a watcher's, a block at a time) is not worth a thread's
 * start. Same files, same bytes either way; both are made durable
 * together afterwards (sync_batch). */
#define COMMIT_THREAD_FROM (4u << 20)

typedef struct column_job {
    ch_store *s;
    pthread_t th;
    bool started;
    st_writeback wb; /* started by write_columns, joined by the commit */
    bool marks;      /* write the marks too (not left until after the syncs) */
    double columns_ms, marks_ms;
    int rc;
    ch_error err;
} column_job;

static void *column_job_main(void *arg) {
    column_job *j = arg;
    j->rc = write_columns(j->s, &j->wb, j->marks, &j->columns_ms, &j->marks_ms, &j->err);
    return NULL;
}

/* Start write_columns: in a thread for a large batch (when one starts),
 * else here and now. */
static void column_job_start(column_job *j, ch_store *s, bool marks) {
    j->s = s;
    j->marks = marks;
    j->started = false;
    j->wb.started = false;
    j->columns_ms = j->marks_ms = 0;
    j->rc = 0;
    uint64_t from = s->commit_thread_from ? s->commit_thread_from : COMMIT_THREAD_FROM;
    if (ch_store_pending_bytes(s) >= from &&
        pthread_create(&j->th, NULL, column_job_main, j) == 0) {
        j->started = true;
        s->commit_threads++;
        return;
    }
    column_job_main(j);
}

/* Wait for write_columns (not for the write-back it started: the caller
 * joins job.wb): 0, or -1 with its error in err (unless err already holds
 * one: the first failure is the one reported). */
static int column_job_wait(column_job *j, bool err_set, ch_error *err) {
    if (j->started) pthread_join(j->th, NULL);
    j->started = false;
    if (j->rc != 0 && !err_set) *err = j->err;
    return j->rc;
}

static void unstage(ch_store *s) {
    st_runs_unstage(&s->txid_runs);
    st_runs_unstage(&s->addr_runs);
    s->heads_moves[0].n = s->heads_moves[1].n = 0;
}

static void fit_filters(ch_store *s);
static void make_room(ch_store *s, uint64_t bytes);

/* Does this commit write its spent marks and the older addresses' heads
 * after its syncs, leaving them durable at the next commit's (marks.c,
 * heads.c)? A small one does (a watcher's block: the fdatasync of outs.col
 * would otherwise wait for the write-back of a random page per mark), where
 * there is a boot id to say whether the page cache that holds them is this
 * boot's. A large one (bulk ingest) writes them beside its runs and makes
 * them durable itself, as its sync costs little more for them. */
static bool lag_in_place(const ch_store *s) {
    uint64_t from = s->commit_thread_from ? s->commit_thread_from : COMMIT_THREAD_FROM;
    return st_boot_id()[0] != 0 && ch_store_pending_bytes(s) < from;
}

/* Step 3 up to the transaction's commit: its entries, with what the syncs
 * make durable (marks_upto, heads_upto: everything written in place before
 * them; a small commit's marks and heads come after them), the join of
 * step 1's write-back (wb), then the syncs. 0, or -1 with txn aborted. */
static int prepare_txn(ch_store *s, MDB_txn *txn, bool lag, bool hold, st_writeback *wb,
                       ch_store_commit_times *t, struct timespec *t0, ch_error *err) {
    st_col *ins = &s->col[COL_INS];
    uint64_t marks_was = s->marks_upto, heads_was = s->heads_upto, held_was = s->marks_held_from;
    /* held marks (this commit's, or earlier ones' that a small commit
     * writes after its syncs) leave marks_upto where it is; readers index
     * the held ones from marks_held_from (marks.c) */
    if (!hold && !(lag && s->marks_held))
        s->marks_upto = lag ? ins->n_committed : st_col_count(ins);
    if (lag) {
        /* a small commit writes its marks (and any held before) after its
         * transaction (write_lag_marks): until the next commit's, readers
         * index them from ins.col, as held ones */
        if (!s->marks_held) s->marks_held_from = s->marks.n ? ins->n_committed : UINT64_MAX;
    } else if (!hold)
        s->marks_held_from = UINT64_MAX;
    else if (!s->marks_held)
        s->marks_held_from = ins->n_committed;
    if (lag) s->heads_upto = st_heads_domain(s);
    int wrc = write_indexes(s, txn, err);
    st_writeback_join(wb);
    t->index = lap(t0);
    if (wrc != 0 || sync_batch(s, err) != 0) {
        s->marks_upto = marks_was; /* not made durable after all */
        s->heads_upto = heads_was;
        s->marks_held_from = held_was;
        mdb_txn_abort(txn);
        return -1;
    }
    t->syncs = lap(t0);
    return 0;
}

/* A small commit's marks, once its transaction committed, into the page
 * cache, where every reader of this boot finds them once the next commit
 * stops indexing them from ins.col; durable at that commit's syncs. They
 * come after the transaction so that the block is readable without
 * waiting for them (a random page of outs.col a mark). Should they fail
 * (the disk gone bad), the commit stands (readers index its inputs'
 * marks, and a writer's open writes them again from there), but this
 * writer commits nothing more: its next commit would record them as
 * written. */
static void write_lag_marks(ch_store *s, ch_store_commit_times *t, struct timespec *t0) {
    ch_error e;
    if (st_marks_write(s, &e) != 0) {
        snprintf(s->refuse, sizeof s->refuse,
                 "the spent marks of its last commit could not be written (%.300s): close the "
                 "store and open it again (its open writes them from the inputs)",
                 e.msg);
        return;
    }
    if (s->marks.n) st_writeback_start(&s->lag_wb[0], s->col[COL_OUTS].fd);
    t->marks = lap(t0);
}

/* Background merges (runs.h): what finished is taken in. */
static void adopt_merges(ch_store *s) {
    st_runs *runs[2] = {&s->txid_runs, &s->addr_runs};
    for (int i = 0; i < 2; i++) {
        ch_error e;
        if (st_runs_merge_adopt(runs[i], &e) < 0)
            fprintf(stderr,
                    "coinhound: warning: %s: a background merge of the %s index failed "
                    "(its runs stay as they were): %s\n",
                    s->dir, runs[i]->name, e.msg);
    }
}

/* One background merge at a time, of either index, taking turns: two
 * would take both cores from the writer. */
static void start_merge(ch_store *s) {
    st_runs *runs[2] = {&s->txid_runs, &s->addr_runs};
    if (!runs[0]->background || runs[0]->bg || runs[1]->bg) return;
    for (int k = 0; k < 2; k++) {
        st_runs *r = runs[(s->merge_turn + k) & 1];
        if (st_runs_merge_start(r, s->run_seq)) {
            s->run_seq++; /* the merged run's number: recorded with the list that names it */
            s->merge_turn ^= 1;
            return;
        }
    }
}

int ch_store_merge_in_background(ch_store *s) {
    if (!s->writable) return -1;
    s->txid_runs.background = s->addr_runs.background = true;
    s->txid_runs.hold = s->addr_runs.hold = &s->bg_hold;
    return 0;
}

void ch_store_hold_background(ch_store *s, bool hold) {
    atomic_store(&s->bg_hold.on, hold);
}

void ch_store_last_commit_times(const ch_store *s, ch_store_commit_times *out) {
    *out = s->commit_times;
}

int ch_store_commit(ch_store *s, ch_error *err) {
    if (!s->writable) return ch_err(err, "store opened read-only");
    if (s->refuse[0]) return ch_err(err, "%s: %s", s->dir, s->refuse);
    if (s->in_block) return ch_err(err, "commit inside a block");
    ch_store_commit_times t = {0};
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < 3; i++) /* the last commit's write-backs (started long ago, as a rule) */
        st_writeback_join(&s->lag_wb[i]);
    bool lag = lag_in_place(s);
    /* a background merge that finished replaces its runs in the list this
     * commit records (one that failed leaves them as they were: merged
     * again later, or in a commit once the list grows too long) */
    adopt_merges(s);
    /* a large commit may hold its marks with the ones held before (marks.c) */
    bool hold = !lag && st_marks_hold(s);
    /* 1. the data, on its way to the disk (new addresses' heads first,
     * into their pending records; the spent marks of older outputs, which
     * name txs past the committed count until the transaction below
     * commits); beside it, in this thread: */
    st_run_item *addr_items;
    size_t n_addr_items, addr_cap;
    if (gather_addresses(s, &addr_items, &n_addr_items, &addr_cap, err) != 0) return -1;
    t.addresses = lap(&t0);
    column_job job;
    column_job_start(&job, s, !lag && !hold);
    (void)lap(&t0); /* a job done here and now: timed by itself */
    /* 2. the batch's index entries as runs, durable (merged with the
     * newest runs: written in key order, never in place) */
    int staged = stage_run(s, &s->addr_runs, addr_items, n_addr_items, err);
    ch_big_free(addr_items, addr_cap * sizeof *addr_items);
    t.addresses += lap(&t0);
    if (staged == 0) staged = stage_txids(s, err);
    if (column_job_wait(&job, staged != 0, err) != 0 || staged != 0) {
        st_writeback_join(&job.wb);
        unstage(s);
        return -1;
    }
    t.txids = lap(&t0); /* with the wait for a column thread, if any */
    t.columns = job.columns_ms;
    if (!lag) t.marks = job.marks_ms;
    s->run_seq++; /* the next batch's runs take the next number */
    /* 3. the lengths and run lists in one LMDB transaction; the data is
     * durable before it commits */
    mdb_txn_reset(s->rtxn);
    MDB_txn *txn;
    int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (rc) {
        st_writeback_join(&job.wb);
        unstage(s);
        st_renew_read(s, NULL);
        return ch_err(err, "%s: index transaction: %s", s->dir, mdb_strerror(rc));
    }
    if (prepare_txn(s, txn, lag, hold, &job.wb, &t, &t0, err) != 0) {
        unstage(s);
        st_renew_read(s, NULL);
        return -1;
    }
    rc = mdb_txn_commit(txn);
    t.lmdb = lap(&t0);
    if (rc) {
        unstage(s);
        st_renew_read(s, NULL);
        char path[4200];
        snprintf(path, sizeof path, "%s/index/data.mdb", s->dir);
        return ch_io_err(err, path, "index commit", mdb_strerror(rc), rc);
    }
    if (s->after_txn_for_tests) s->after_txn_for_tests(s);
    if (lag) write_lag_marks(s, &t, &t0);
    /* 4. readers may now see it; the older addresses' heads move */
    st_runs_publish(&s->txid_runs);
    st_runs_publish(&s->addr_runs);
    start_merge(s);
    for (int i = 0; i < COL_COUNT; i++)
        if (st_col_publish(&s->col[i], err) != 0) return -1;
    s->dirty_addr_keys.n = s->far_pend.n = 0;
    st_marks_committed(s, hold);
    next_batch(s);
    if (st_renew_read(s, err) != 0 || move_heads(s, lag, err) != 0) return -1;
    t.heads = lap(&t0);
    if (s->tx_hot.count > st_young_max(s)) { /* hot_age turns the tx maps */
        /* the old generation's txs leave memory: their unspent outputs go
         * to the UTXO map */
        if (s->utxo.slots && s->tx_old.count) {
            /* the first fill's puts touch nearly every page of the map at
             * once (random slots), inside this commit, with no trim after
             * a block to make room: make it first */
            if (!s->utxo.count) make_room(s, s->utxo.cap * ST_UTXO_REC);
            st_utxo_fill(s, s->tx_old_from, s->tx_hot_from);
        }
        s->tx_old_from = s->tx_hot_from;
        s->tx_hot_from = st_col_count(&s->col[COL_TXS]);
    }
    hot_age(&s->tx_hot, &s->tx_old, &s->tx_hot_complete, hot_slots(s), s->hot_cap != 0);
    hot_age(&s->addr_hot, &s->addr_old, &s->addr_hot_complete, hot_slots(s), s->hot_cap != 0);
    fit_filters(s); /* a merge may have made a run with a large filter */
    t.rest = lap(&t0);
    s->commit_times = t;
    return 0;
}

void ch_store_abort(ch_store *s) {
    if (!s || !s->writable) return;
    st_resolved_drop(s);
    /* undo the spent marks this batch wrote into committed outputs (a
     * commit that failed after writing them) */
    st_col *ins = &s->col[COL_INS], *outs = &s->col[COL_OUTS];
    for (uint64_t i = ins->n_committed; s->marks_written && i < st_col_count(ins); i++) {
        const ch_in_rec *r = st_col_at(ins, i);
        if (ch_in_spent_tx(r) == CH_NO_TX) continue;
        uint64_t o = ch_store_tx(s, ch_in_spent_tx(r))->first_out + ch_in_vout(r);
        uint64_t zero = 0;
        if (o < outs->n_committed)
            st_col_patch(outs, o, CH_OUT_SPENT_OFF, &zero, CH_OUT_ID_BYTES, NULL);
    }
    for (int i = 0; i < COL_COUNT; i++)
        st_col_discard(&s->col[i]);
    /* pending keys and moved address heads live in the hot maps: drop them */
    bool had_pending =
        st_col_count(&s->col[COL_TXS]) > s->col[COL_TXS].n_committed || s->dirty_addr_keys.n;
    for (int i = 0; i < COL_COUNT; i++)
        st_col_discard(&s->col[i]);
    if (had_pending) {
        st_hot_clear(&s->tx_hot);
        st_hot_clear(&s->addr_hot);
        st_hot_clear(&s->tx_old);
        st_hot_clear(&s->addr_old);
        s->tx_hot_complete = s->col[COL_TXS].n_committed == 0;
        s->addr_hot_complete =
            s->col[COL_ADDRS20].n_committed == 0 && s->col[COL_ADDRS32].n_committed == 0;
        /* the txs the maps held are in neither them nor the UTXO map: their
         * outputs are found through the records (the map holds committed
         * outputs only, so an abort leaves it right; the outputs the batch
         * spent are missing from it, found the same way) */
        s->tx_hot_from = s->tx_old_from = s->col[COL_TXS].n_committed;
    }
    s->dirty_addr_keys.n = s->far_pend.n = 0;
    st_marks_abort(s);
    next_batch(s);
    s->tx_pend_set = false;
    s->in_block = false;
    s->cur_tx = UINT64_MAX;
}

uint64_t ch_store_pending_bytes(const ch_store *s) {
    uint64_t n = 0;
    for (int i = 0; i < COL_COUNT; i++)
        n += s->col[i].pend_n * s->col[i].rec;
    return n;
}

uint32_t ch_store_next_height(const ch_store *s) {
    return (uint32_t)st_col_count(&s->col[COL_BLOCKS]);
}

/* How the budget is shared: the hot maps (four tables of hot_slots slots,
 * 24 bytes each: young and old of the two indexes) at most 2/5 of it; the
 * pending batch (commits come every 32nd, its buffers double) and a
 * commit's sort buffers about a tenth; the rest is for mapped pages of the
 * columns and runs, which ch_store_trim lets go once the process passes
 * 7/8 of the budget. */
#define HOT_SHARE_NUM 2
#define HOT_SHARE_DEN 5

/* The most slots (a power of two, at least 4096) that four tables of them
 * fit in bytes. */
static uint64_t slots_within(uint64_t bytes) {
    uint64_t slots = 1u << 12;
    while (4 * (slots * 2) * sizeof(st_hot_entry) <= bytes)
        slots *= 2;
    return slots;
}

/* hot_slots from the memory bound's share and the cap, the smaller. */
static void size_hot(ch_store *s) {
    uint64_t slots =
        s->mem_budget ? slots_within(s->mem_budget / HOT_SHARE_DEN * HOT_SHARE_NUM) : HOT_SLOTS;
    if (s->hot_cap && slots_within(s->hot_cap) < slots) slots = slots_within(s->hot_cap);
    s->hot_slots = slots;
}

/* The runs' filters take at most this share of the budget: 1.25 bytes an
 * index entry would pass any budget as the chain grows (about 3.3 GB at
 * mainnet's size). Over it, the filters of the largest runs are let go,
 * largest first: a run without one is searched on every lookup that gets
 * that far (a bracketed search of its pages), never skipped, so lookups
 * stay right and only slower. The files stay (derived: read again by the
 * next writer). */
#define FILTER_SHARE_DEN 16

/* Let go of the largest runs' filters until they fit their share. */
static void fit_filters(ch_store *s) {
    if (!s->mem_budget) return;
    uint64_t share = s->mem_budget / FILTER_SHARE_DEN;
    while (st_runs_filter_bytes(&s->txid_runs) + st_runs_filter_bytes(&s->addr_runs) > share) {
        st_run *a = st_runs_largest_filter(&s->txid_runs);
        st_run *b = st_runs_largest_filter(&s->addr_runs);
        st_run *r = !a ? b : !b ? a : a->filter.blocks >= b->filter.blocks ? a : b;
        if (!r) break;
        st_filter_free(&r->filter);
    }
}

void ch_store_set_mem(ch_store *s, uint64_t bytes) {
    s->mem_budget = bytes;
    size_hot(s);
    fit_filters(s);
}

int ch_store_set_hot_cap(ch_store *s, uint64_t bytes, ch_error *err) {
    if (!s->writable) return ch_err(err, "store opened read-only");
    s->hot_cap = bytes;
    size_hot(s);
    if (!bytes) return 0;
    /* the four tables at their full size now, each page written once: the
     * memory is what it will be from the start, not steps as they fill */
    st_hotmap *m[4] = {&s->tx_hot, &s->addr_hot, &s->tx_old, &s->addr_old};
    for (int i = 0; i < 4; i++) {
        if (st_hot_shrink(m[i], hot_slots(s)) != 0 || st_hot_reserve(m[i], st_young_max(s)) != 0)
            return ch_err(err, "%s: out of memory for the index tables (%llu bytes)", s->dir,
                          (unsigned long long)(4 * hot_slots(s) * sizeof(st_hot_entry)));
        if (!m[i]->count) st_hot_clear(m[i]);
    }
    return 0;
}

int ch_store_keep_small_pages(ch_store *s, ch_error *err) {
    if (!s->writable) return ch_err(err, "store opened read-only");
    static const int in_place[] = {COL_OUTS, COL_HEADS20, COL_HEADS32};
    for (size_t i = 0; i < sizeof in_place / sizeof *in_place; i++)
        if (st_col_small_pages(&s->col[in_place[i]], err) != 0) return -1;
    return 0;
}

int ch_store_set_utxo_mem(ch_store *s, uint64_t bytes, ch_error *err) {
    if (!s->writable) return ch_err(err, "store opened read-only");
    if (s->account) return 0;                                          /* no outputs to spend */
    if (s->utxo.slots && bytes / ST_UTXO_REC == s->utxo.cap) return 0; /* kept: same size */
    s->ahead_in_n = 0;                                                 /* keys of the map before */
    if (st_utxo_init(&s->utxo, bytes) != 0)
        return ch_err(err, "%s: out of memory for the UTXO map (%llu bytes)", s->dir,
                      (unsigned long long)bytes);
    return 0;
}

void ch_store_utxo_stats(const ch_store *s, ch_store_utxo_counts *c) {
    c->entries = s->utxo.count;
    c->capacity = s->utxo.max;
    c->hits = s->utxo.hits;
    c->misses = s->utxo.misses;
    c->evictions = s->utxo.evictions;
}

uint64_t ch_store_hot_bytes(const ch_store *s) {
    if (!s->writable) return 0;
    return (s->tx_hot.mask + 1 + s->addr_hot.mask + 1 + s->tx_old.mask + 1 + s->addr_old.mask + 1) *
           sizeof(st_hot_entry);
}

/* Resident bytes of this process (/proc/self/statm), 0 when unknown. The
 * file stays open with the store (ch_store_trim asks after every block:
 * one pread then, not an open, a read and a close); opened by the store,
 * not once per process, so that a child forked after another store was
 * opened reads its own. */
static uint64_t resident_bytes(ch_store *s) {
    if (!s->statm_fd1) {
        int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
        if (fd < 0) return 0;
        s->statm_fd1 = fd + 1;
    }
    char buf[128];
    ssize_t n = pread(s->statm_fd1 - 1, buf, sizeof buf - 1, 0);
    if (n <= 0) return 0;
    buf[n] = 0;
    unsigned long long size = 0, rss = 0;
    if (sscanf(buf, "%llu %llu", &size, &rss) != 2) return 0;
    return rss * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* Drop the mapped column and run pages this process has read (see
 * ch_store_trim): from then on the columns are cold. */
static void release_mapped(ch_store *s) {
    for (int i = 0; i < COL_COUNT; i++) {
        if (s->col[i].map) madvise(s->col[i].map, s->col[i].map_len, MADV_DONTNEED);
        s->col[i].cold = true; /* from now on, random reads by pread (column.h) */
    }
    st_runs_release(&s->txid_runs);
    st_runs_release(&s->addr_runs);
}

/* Let go of the mapped pages now when bytes more of anonymous memory
 * would take the process past the trim's threshold. */
static void make_room(ch_store *s, uint64_t bytes) {
    if (s->mem_budget && resident_bytes(s) + bytes >= s->mem_budget / 8 * 7) release_mapped(s);
}

bool ch_store_trim(ch_store *s) {
    if (!s->mem_budget) return false;
    if (resident_bytes(s) < s->mem_budget / 8 * 7) return false;
    /* the mapped column and run pages read so far: dropping them from this
     * process costs a fault when one is read again (shared file pages stay
     * in the page cache, the dirty ones are written back as ever). With the
     * anonymous part under about half the budget, a trim frees at least the
     * third of it that the mapped pages took, so trims come seldom; checked
     * after every block, the process overshoots by at most one block's
     * faults (about 20 pages a tx). */
    release_mapped(s);
    return true;
}
