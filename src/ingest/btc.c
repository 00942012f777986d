/* Bitcoin blk files -> the store: the Bitcoin module's parse turned into the
 * chain-neutral calls of store.h. */
#include "coinhound/ingest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coinhound/progress.h"
#include "ingest/btc_branch.h"
#include "ingest/btc_pipe.h"
#include "util/vec.h"

/* A block's lookups go to the store a few transactions ahead of the adds
 * that make them: enough at once for their cache misses to overlap, few
 * enough that what they bring in is still in cache when the adds come. */
#define AHEAD_TXS 32

/* The lookahead's lists, kept across blocks. */
typedef struct btc_look {
    ch_store_spend *spend;
    size_t spend_cap;
    const ch_hash256 **txid;
    size_t txid_cap;
} btc_look;

static void look_free(btc_look *lk) {
    free(lk->spend);
    free(lk->txid);
}

static int look_fit(btc_look *lk, const ch_btc_block *b) {
    size_t ins = 0;
    for (uint32_t t = 0; t < b->n_tx; t++)
        ins += b->tx[t].n_in;
    if (ins > lk->spend_cap) {
        ch_store_spend *v = ch_grow(lk->spend, &lk->spend_cap, ins, sizeof *v);
        if (!v) return -1;
        lk->spend = v;
    }
    if (b->n_tx > lk->txid_cap) {
        const ch_hash256 **v = ch_grow(lk->txid, &lk->txid_cap, b->n_tx, sizeof *v);
        if (!v) return -1;
        lk->txid = v;
    }
    return 0;
}

/* Tell the store the lookups of txs [t0, t1), whose outputs' addresses
 * and their keys start at addr[first_out], key[first_out]; returns how
 * many outputs those txs have. */
static size_t prefetch_txs(ch_store *s, const ch_btc_block *b, uint32_t t0, uint32_t t1,
                           const ch_addr *addr, const uint64_t *key, size_t first_out,
                           btc_look *sc) {
    size_t n_spend = 0, n_out = 0;
    for (uint32_t t = t0; t < t1; t++) {
        const ch_btc_tx *tx = &b->tx[t];
        sc->txid[t - t0] = &tx->txid;
        n_out += tx->n_out;
        if (t == 0 && ch_btc_tx_is_coinbase(tx)) continue;
        for (uint32_t i = 0; i < tx->n_in; i++)
            sc->spend[n_spend++] = (ch_store_spend){&tx->in[i].prev_txid, tx->in[i].prev_vout};
    }
    ch_store_prefetch_keyed(s, sc->txid, t1 - t0, sc->spend, n_spend, addr + first_out,
                            key + first_out, n_out);
    return n_out;
}

static int add_tx(ch_store *s, const ch_btc_tx *tx, bool coinbase, const btc_prep *r,
                  size_t first_out, ch_error *err) {
    if (ch_store_add_tx(s, &tx->txid, (uint32_t)tx->size, err) != 0) return -1;
    for (uint32_t i = 0; i < tx->n_in; i++) {
        int rc = coinbase ? ch_store_add_coinbase_input(s, err)
                          : ch_store_add_input(s, &tx->in[i].prev_txid, tx->in[i].prev_vout, err);
        if (rc != 0) return -1;
    }
    for (uint32_t o = 0; o < tx->n_out; o++) {
        size_t k = first_out + o;
        if (ch_store_add_output_keyed(s, tx->out[o].value, r->type[k], &r->addr[k], r->key[k],
                                      err) != 0)
            return -1;
    }
    return 0;
}

/* Append block r->b, its outputs classified (btc_prep_classify), with the
 * lookahead's lists in lk. */
static int add_block(ch_store *s, const btc_prep *r, btc_look *lk, ch_error *err) {
    const ch_btc_block *b = &r->b;
    ch_block_meta m = {.hash = b->header.hash,
                       .time = b->header.time,
                       .bits = b->header.bits,
                       .size = (uint32_t)b->size,
                       .nonce = b->header.nonce,
                       .version = b->header.version};
    if (look_fit(lk, b) != 0) return ch_err(err, "out of memory");
    if (ch_store_begin_block(s, &m, err) != 0) return -1;
    /* the whole block's lookups at once, on the cores a watcher has to
     * spare (only when the store was asked: ch_store_resolve_in_parallel;
     * a bulk ingest does not build the list) */
    size_t n_spend = 0, n_out = 0;
    for (uint32_t t = 0; t < b->n_tx && ch_store_resolves_ahead(s); t++) {
        const ch_btc_tx *tx = &b->tx[t];
        n_out += tx->n_out;
        if (t == 0 && ch_btc_tx_is_coinbase(tx)) continue;
        for (uint32_t i = 0; i < tx->n_in; i++)
            lk->spend[n_spend++] = (ch_store_spend){&tx->in[i].prev_txid, tx->in[i].prev_vout};
    }
    ch_store_resolve_block(s, lk->spend, n_spend, r->addr, r->key, n_out);
    size_t first_out = 0, ahead_out = 0;
    for (uint32_t t = 0; t < b->n_tx; t++) {
        const ch_btc_tx *tx = &b->tx[t];
        if (t % AHEAD_TXS == 0) {
            uint32_t end = b->n_tx - t < AHEAD_TXS ? b->n_tx : t + AHEAD_TXS;
            ahead_out += prefetch_txs(s, b, t, end, r->addr, r->key, ahead_out, lk);
        }
        if (add_tx(s, tx, t == 0 && ch_btc_tx_is_coinbase(tx), r, first_out, err) != 0) {
            char hex[65];
            ch_hash256_to_hex(&tx->txid, hex);
            return ch_err_prefix(err, "tx %s (#%u in the block)", hex, t);
        }
        first_out += tx->n_out;
    }
    return ch_store_end_block(s, err);
}

int ch_ingest_btc_block(ch_store *s, const ch_btc_block *b, ch_error *err) {
    btc_prep r = {.b = *b};
    btc_look lk = {0};
    int rc = btc_prep_classify(&r) == 0 ? add_block(s, &r, &lk, err) : ch_err(err, "out of memory");
    btc_prep_free(&r);
    look_free(&lk);
    return rc;
}

/* Rough sizes for the store's sizing hint: a transaction per 400 bytes of
 * blocks and a new address per 250, about right for recent mainnet blocks
 * and for the generator's chains. A wrong guess costs some memory or one
 * more doubling of a map, nothing else. */
#define BYTES_PER_TX       400
#define BYTES_PER_NEW_ADDR 250

/* The first height where the store and the best chain disagree. */
static int find_fork(ch_store *s, const ch_blk_chain *chain, uint32_t *fork, ch_error *err) {
    uint32_t have = ch_store_next_height(s);
    if (have > 0 && chain->n > 0 &&
        memcmp(ch_store_block(s, 0)->hash, ch_blk_chain_rec(chain, 0)->hash.b, 32) != 0)
        return ch_err(err, "the store holds a different chain (its genesis block differs)");
    uint32_t h = have < chain->n ? have : (uint32_t)chain->n;
    /* walk back from the shared top while the hashes differ: a stale tip */
    while (h > 0 &&
           memcmp(ch_store_block(s, h - 1)->hash, ch_blk_chain_rec(chain, h - 1)->hash.b, 32) != 0)
        h--;
    *fork = h;
    return 0;
}

/* What the blocks read ahead of the store may hold: a 64th of the memory
 * bound, at most 64 MiB (a few hundred of today's blocks, 16 of the
 * largest). Taken from the store's share in one thread as in two, so that
 * both build the same store with the same memory plan. */
static uint64_t queue_budget(uint64_t mem) {
    uint64_t q = mem / 64;
    return q < (64u << 20) ? q : (64u << 20);
}

/* Append the blocks of heights [from, to) of the best chain: a reader
 * (btc_pipe.h: a thread of its own unless o->threads is 1) reads, parses
 * and checks each; this thread adds it and commits as the pending bytes
 * and memory bound say. */
static int ingest_range(ch_store *s, ch_blkdir *d, const ch_blk_chain *chain, uint32_t from,
                        uint32_t to, const ch_ingest_opts *o, btc_keep *keep, ch_ingest_stats *st,
                        ch_error *err) {
    uint64_t total = 0;
    for (uint32_t h = from; h < to; h++)
        total += ch_blk_chain_rec(chain, h)->size;
    ch_progress prog;
    ch_progress_init(&prog, stderr, o->progress, total, to ? to - 1 : 0);
    btc_look lk = {0};
    uint64_t commit_bytes = o->commit_bytes ? o->commit_bytes : (64u << 20);
    /* the memory bound: the pending batch (about twice commit_bytes with
     * its buffers' doubling) must leave room for the rest */
    uint64_t mem = o->mem_bytes ? o->mem_bytes : ch_ingest_default_mem();
    if (!o->commit_bytes && commit_bytes > mem / 32) commit_bytes = mem / 32;
    uint64_t queue = queue_budget(mem);
    ch_store_set_mem(s, mem - queue);
    int rc = -1;
    btc_pipe *pp = NULL;
    ch_store_utxo_counts uc0, uc1;
    ch_store_utxo_stats(s, &uc0);
    if (o->utxo_mem_bytes &&
        ch_store_set_utxo_mem(
            s, o->utxo_mem_bytes == CH_INGEST_UTXO_AUTO ? (mem - queue) / 5 : o->utxo_mem_bytes,
            err) != 0)
        goto out;
    pp = btc_pipe_start_kept(d, chain, from, to, o->threads != 1, queue, keep, err);
    if (!pp) goto out;
    /* only a hint: without the memory for it the maps grow as they fill */
    (void)ch_store_expect(s, total / BYTES_PER_TX, total / BYTES_PER_NEW_ADDR, NULL);
    for (;;) {
        const btc_prep *r;
        double r0 = ch_now();
        int got = btc_pipe_next(pp, &r, err);
        st->read_seconds += ch_now() - r0;
        if (got < 0) goto out;
        if (got == 0) break;
        int added = add_block(s, r, &lk, err);
        /* a kept pipe's check ran beside the adds: a block it refuses is
         * named for that, as a one-thread read would have named it before
         * any add */
        double c0 = ch_now();
        int checked = btc_pipe_checked(pp, err);
        st->read_seconds += ch_now() - c0;
        if (checked != 0) goto out;
        if (added != 0) {
            ch_blk_pos pos = r->pos; /* r goes with the reader */
            uint32_t h = r->height;
            btc_pipe_free(pp); /* the reader lets go of d */
            pp = NULL;
            ch_err_prefix(err, "%s offset %llu (height %u)", ch_blkdir_path(d, pos.file_no),
                          (unsigned long long)pos.offset, h);
            goto out;
        }
        st->blocks++;
        st->txs += r->b.n_tx;
        st->bytes += r->pos.size;
        if (ch_store_pending_bytes(s) >= commit_bytes && ch_store_commit(s, err) != 0) goto out;
        ch_store_trim(s);
        ch_progress_update(&prog, r->height, st->txs, st->bytes);
    }
    rc = o->defer_commit ? 0 : ch_store_commit(s, err);
out:
    ch_store_utxo_stats(s, &uc1);
    st->utxo_hits += uc1.hits - uc0.hits;
    st->utxo_misses += uc1.misses - uc0.misses;
    btc_pipe_free(pp);
    ch_progress_done(&prog);
    if (rc != 0) ch_store_abort(s);
    look_free(&lk);
    return rc;
}

uint64_t ch_ingest_default_mem(void) {
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || size <= 0) return 4ULL << 30;
    return (uint64_t)pages * (uint64_t)size / 2;
}

int btc_ingest_chain(ch_store *s, ch_blkdir *d, const ch_blk_chain *chain, const ch_ingest_opts *o,
                     ch_ingest_stats *st, ch_error *err) {
    return btc_ingest_chain_kept(s, d, chain, o, NULL, st, err);
}

int btc_ingest_chain_kept(ch_store *s, ch_blkdir *d, const ch_blk_chain *chain,
                          const ch_ingest_opts *o, btc_keep *keep, ch_ingest_stats *st,
                          ch_error *err) {
    /* the store remembers whose blocks it holds, so that its addresses are
     * written in that network's encoding and another's blocks are refused */
    if (chain->n && ch_store_set_network(s, (int)ch_blkdir_net(d), err) != 0) return -1;
    uint32_t fork_h = 0, need = 0;
    if (find_fork(s, chain, &fork_h, err) != 0) return -1;
    bool reorg = fork_h < ch_store_next_height(s);
    /* blocks a deferred commit left pending are committed before the
     * reorg's checks read the store and its cut (which drops a pending
     * batch) */
    if (reorg && btc_commit_pending(s, err) != 0) return -1;
    if (reorg && btc_check_more_work(s, d, chain, fork_h, &need, err) != 0) return -1;
    uint32_t to = (uint32_t)chain->n;
    if (o->max_blocks && to - fork_h > o->max_blocks) to = fork_h + o->max_blocks;
    if (to < need) to = need; /* a reorg goes at least past the old tip's work */
    if (reorg) {
        if (btc_check_branch(s, d, chain, fork_h, to, err) != 0) return -1;
        st->reorg_height = fork_h;
        if (ch_store_truncate(s, fork_h, err) != 0) return -1;
    }
    st->start_height = fork_h;
    int rc = ingest_range(s, d, chain, fork_h, to, o, keep, st, err);
    uint32_t next = ch_store_next_height(s);
    st->tip_height = next ? next - 1 : UINT32_MAX;
    return rc;
}

int btc_commit_pending(ch_store *s, ch_error *err) {
    ch_store_counts c;
    ch_store_get_counts(s, &c);
    if (c.blocks == ch_store_next_height(s)) return 0;
    if (ch_store_commit(s, err) == 0) return 0;
    ch_store_abort(s);
    return -1;
}

int btc_index_path(const char *db_dir, char *out, size_t cap, ch_error *err) {
    if (snprintf(out, cap, "%s/btc/blkindex", db_dir) >= (int)cap)
        return ch_err(err, "%s: path too long", db_dir);
    return 0;
}

int ch_ingest_btc(const char *blocks_dir, const char *db_dir, const ch_ingest_opts *opts,
                  ch_ingest_stats *stats, ch_error *err) {
    ch_ingest_stats scratch;
    ch_ingest_stats *st = stats ? stats : &scratch;
    ch_ingest_opts defaults = {.progress = -1, .utxo_mem_bytes = CH_INGEST_UTXO_AUTO};
    const ch_ingest_opts *o = opts ? opts : &defaults;
    memset(st, 0, sizeof *st);
    st->reorg_height = UINT32_MAX;
    double t0 = ch_now();
    ch_blkdir *d = NULL;
    ch_blkidx *x = NULL;
    ch_store *s = NULL;
    const ch_blk_chain *chain = NULL;
    char idx_path[4200];
    int rc = -1;
    if (btc_index_path(db_dir, idx_path, sizeof idx_path, err) != 0) return -1;
    if (ch_blkdir_open(blocks_dir, &d, err) != 0) return -1;
    /* headers first: a chain that claims work it did not do stops here,
     * before the store is opened. The store's block index (DIR/btc/
     * blkindex) holds the headers read by earlier runs: only what the
     * folder gained since is read. */
    if (ch_blkidx_load(idx_path, d, &x, err) != 0 || ch_blkidx_update(x, d, true, err) < 0 ||
        ch_blkidx_chain(x, &chain, err) != 0 || ch_blkidx_check(x, d, err) != 0)
        goto out;
    st->stale = chain->n_stale;
    if (ch_store_open(db_dir, "btc", CH_STORE_WRITE | (o->wait ? CH_STORE_WAIT : 0), &s, err) != 0)
        goto out;
    /* a cache: failing to keep it costs the next run a full read, no more */
    ch_error ignored;
    (void)ch_blkidx_save(x, idx_path, &ignored);
    rc = btc_ingest_chain(s, d, chain, o, st, err);
out:
    st->seconds = ch_now() - t0;
    ch_store_close(s);
    ch_blkidx_free(x);
    ch_blkdir_close(d);
    return rc;
}
