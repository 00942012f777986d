/* Checking a branch before the cut (btc_branch.h). The spends of the
 * branch are played against the state the cut will leave: the store's
 * transactions below the fork (its index and spent marks), then the
 * branch's own, kept here in two small hash sets: the branch's txids with
 * their output counts, and the outputs the branch has spent. */
#include "ingest/btc_branch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Where a message about height h of the best chain points. */
static void name_block(ch_blkdir *d, const ch_blk_chain *chain, uint32_t h, char *buf, size_t n) {
    char hex[65];
    const ch_blk_rec *r = ch_blk_chain_rec(chain, h);
    ch_hash256_to_hex(&r->hash, hex);
    snprintf(buf, n, "%s offset %llu: block %s at height %u", ch_blkdir_path(d, r->file_no),
             (unsigned long long)r->offset, hex, h);
}

uint32_t *btc_stored_bits(ch_store *s, uint32_t fork_h) {
    uint32_t have = ch_store_next_height(s);
    uint32_t *bits = malloc((size_t)(have > fork_h ? have - fork_h : 1) * sizeof *bits);
    for (uint32_t h = fork_h; bits && h < have; h++)
        bits[h - fork_h] = ch_store_block(s, h)->bits;
    return bits;
}

int btc_check_more_work(ch_store *s, ch_blkdir *d, const ch_blk_chain *chain, uint32_t fork_h,
                        uint32_t *need, ch_error *err) {
    uint32_t have = ch_store_next_height(s);
    uint32_t *stored = btc_stored_bits(s, fork_h);
    /* the shortest prefix of the branch that passes them (work only grows) */
    uint32_t n_branch = chain->n > fork_h ? (uint32_t)chain->n - fork_h : 0, lo = 0, hi = n_branch;
    uint32_t *branch = malloc((n_branch ? n_branch : 1) * sizeof *branch);
    if (!stored || !branch) {
        free(stored);
        free(branch);
        return ch_err(err, "out of memory");
    }
    for (uint32_t i = 0; i < n_branch; i++)
        branch[i] = ch_blk_chain_rec(chain, fork_h + i)->bits;
    if (ch_btc_work_cmp(branch, n_branch, stored, have - fork_h) <= 0) {
        free(stored);
        free(branch);
        char where[300] = "";
        if (n_branch) name_block(d, chain, fork_h, where, sizeof where);
        if (!n_branch)
            return ch_err(err,
                          "the blk files' best chain ends at height %zu but the store holds "
                          "blocks up to %u: the files lack blocks the store has (not a reorg); "
                          "the store is unchanged",
                          chain->n ? chain->n - 1 : 0, have - 1);
        return ch_err(err,
                      "%s: the blk files' branch from height %u carries no more work than the "
                      "%u blocks the store holds from there (not a reorg: lost or damaged "
                      "blocks?); the store is unchanged",
                      where, fork_h, have - fork_h);
    }
    while (lo + 1 < hi) { /* smallest count whose work exceeds the stored blocks' */
        uint32_t mid = lo + (hi - lo) / 2;
        if (ch_btc_work_cmp(branch, mid, stored, have - fork_h) > 0)
            hi = mid;
        else
            lo = mid;
    }
    free(stored);
    free(branch);
    *need = fork_h + hi;
    return 0;
}

/* --- the branch's transactions and spends --- */

typedef struct branch_tx {
    ch_hash256 txid;
    uint32_t n_out;
    uint32_t vout; /* in the spent set: the output spent */
} branch_tx;

/* Open addressing over entries keyed by txid (and vout in the spent set);
 * slot value = entry index + 1, 0 empty. */
typedef struct tx_set {
    branch_tx *e;
    size_t n, cap;
    uint32_t *slot;
    size_t mask;
} tx_set;

static uint64_t key_of(const ch_hash256 *txid, uint32_t vout) {
    uint64_t k;
    memcpy(&k, txid->b, 8); /* txids are uniform already */
    return k ^ (uint64_t)vout * 0x9e3779b97f4a7c15ULL;
}

static int set_grow(tx_set *t) {
    size_t slots = t->slot ? (t->mask + 1) * 2 : 1024;
    uint32_t *ns = calloc(slots, sizeof *ns);
    /* not ch_grow: the entries follow the table, half as many as its slots */
    branch_tx *ne = realloc(t->e, slots / 2 * sizeof *ne);
    if (!ns || !ne) {
        free(ns);
        if (ne) t->e = ne;
        return -1;
    }
    t->e = ne;
    t->cap = slots / 2;
    free(t->slot);
    t->slot = ns;
    t->mask = slots - 1;
    for (size_t i = 0; i < t->n; i++) {
        size_t j = key_of(&t->e[i].txid, t->e[i].vout) & t->mask;
        while (t->slot[j])
            j = (j + 1) & t->mask;
        t->slot[j] = (uint32_t)i + 1;
    }
    return 0;
}

/* The entry for (txid, vout), or NULL. */
static branch_tx *set_find(const tx_set *t, const ch_hash256 *txid, uint32_t vout) {
    if (!t->slot) return NULL;
    for (size_t j = key_of(txid, vout) & t->mask; t->slot[j]; j = (j + 1) & t->mask) {
        branch_tx *e = &t->e[t->slot[j] - 1];
        if (e->vout == vout && !memcmp(e->txid.b, txid->b, 32)) return e;
    }
    return NULL;
}

static int set_add(tx_set *t, const ch_hash256 *txid, uint32_t vout, uint32_t n_out) {
    if (t->n + 1 > t->cap && set_grow(t) != 0) return -1;
    size_t j = key_of(txid, vout) & t->mask;
    while (t->slot[j])
        j = (j + 1) & t->mask;
    t->e[t->n] = (branch_tx){*txid, n_out, vout};
    t->slot[j] = (uint32_t)++t->n;
    return 0;
}

static void set_free(tx_set *t) {
    free(t->e);
    free(t->slot);
    memset(t, 0, sizeof *t);
}

struct btc_spends {
    ch_store *s;
    uint64_t cut_tx; /* the store's transactions below the fork: [0, cut_tx) */
    tx_set txs;      /* the branch's transactions so far (vout 0) */
    tx_set spent;    /* outputs the branch has spent */
};
typedef struct btc_spends spends;

/* One input of the branch against the state the cut leaves and the branch
 * so far; -1 with err saying what is wrong. */
static int check_input(spends *sp, const ch_hash256 *prev, uint32_t vout, ch_error *err) {
    char hex[65];
    uint64_t n_out = 0;
    const branch_tx *bt = set_find(&sp->txs, prev, 0);
    if (bt) {
        n_out = bt->n_out;
    } else {
        uint64_t tx, first;
        int rc = ch_store_find_tx(sp->s, prev, &tx, err);
        if (rc < 0) return -1;
        if (rc == 0 || tx >= sp->cut_tx) {
            ch_hash256_to_hex(prev, hex);
            return ch_err(err, "input spends %s:%u, a transaction not in the chain before it", hex,
                          vout);
        }
        ch_store_tx_outputs(sp->s, tx, &first, &n_out);
        if (vout < n_out) {
            int64_t by = ch_store_output_spender(sp->s, first + vout);
            if (by >= 0 && (uint64_t)by < sp->cut_tx) {
                ch_hash256_to_hex(prev, hex);
                return ch_err(err, "input spends %s:%u, already spent by tx #%lld", hex, vout,
                              (long long)by);
            }
        }
    }
    if (vout >= n_out) {
        ch_hash256_to_hex(prev, hex);
        return ch_err(err, "input spends %s:%u, but that transaction has %llu outputs", hex, vout,
                      (unsigned long long)n_out);
    }
    if (set_find(&sp->spent, prev, vout)) {
        ch_hash256_to_hex(prev, hex);
        return ch_err(err, "input spends %s:%u, already spent earlier in the branch", hex, vout);
    }
    if (set_add(&sp->spent, prev, vout, 0) != 0) return ch_err(err, "out of memory");
    return 0;
}

int btc_spends_block(btc_spends *sp, const ch_btc_block *b, ch_error *err) {
    for (uint32_t t = 0; t < b->n_tx; t++) {
        const ch_btc_tx *tx = &b->tx[t];
        bool coinbase = t == 0 && ch_btc_tx_is_coinbase(tx);
        for (uint32_t i = 0; i < tx->n_in && !coinbase; i++)
            if (check_input(sp, &tx->in[i].prev_txid, tx->in[i].prev_vout, err) != 0) {
                char hex[65];
                ch_hash256_to_hex(&tx->txid, hex);
                return ch_err_prefix(err, "tx %s (#%u in the block)", hex, t);
            }
        if (set_add(&sp->txs, &tx->txid, 0, tx->n_out) != 0) return ch_err(err, "out of memory");
    }
    return 0;
}

btc_spends *btc_spends_new(ch_store *s, uint32_t fork_h) {
    btc_spends *sp = calloc(1, sizeof *sp);
    if (!sp) return NULL;
    const ch_block_rec *fork = ch_store_block(s, fork_h);
    sp->s = s;
    sp->cut_tx = fork ? fork->first_tx : 0;
    return sp;
}

void btc_spends_free(btc_spends *sp) {
    if (!sp) return;
    set_free(&sp->txs);
    set_free(&sp->spent);
    free(sp);
}

int btc_check_branch(ch_store *s, ch_blkdir *d, const ch_blk_chain *chain, uint32_t from,
                     uint32_t to, ch_error *err) {
    ch_btc_parser *p = ch_btc_parser_new();
    uint8_t *buf = NULL;
    size_t cap = 0;
    btc_spends *sp = btc_spends_new(s, from);
    int rc = p && sp ? 0 : ch_err(err, "out of memory");
    for (uint32_t h = from; h < to && rc == 0; h++) {
        ch_blk_pos at = ch_blk_chain_pos(chain, h);
        const ch_blk_pos *pos = &at;
        ch_btc_block b;
        if (ch_blkdir_read(d, pos, &buf, &cap, err) != 0 ||
            ch_btc_parse_block(p, buf, pos->size, &b, err) != 0 ||
            ch_btc_check_witness_commitment(&b, err) != 0 || btc_spends_block(sp, &b, err) != 0)
            rc = ch_err_prefix(err, "%s offset %llu (height %u)", ch_blkdir_path(d, pos->file_no),
                               (unsigned long long)pos->offset, h);
    }
    btc_spends_free(sp);
    free(buf);
    ch_btc_parser_free(p);
    return rc;
}
