/* Bitcoin blk files -> the store: the Bitcoin module's parse turned into the
 * chain-neutral calls of store.h. */
#include "coinhound/ingest.h"

#include <stdlib.h>
#include <string.h>

#include "coinhound/progress.h"

int ch_ingest_btc_block(ch_store *s, const ch_btc_block *b, ch_error *err) {
    ch_block_meta m = {.hash = b->header.hash,
                       .time = b->header.time,
                       .bits = b->header.bits,
                       .size = (uint32_t)b->size,
                       .nonce = b->header.nonce,
                       .version = b->header.version};
    if (ch_store_begin_block(s, &m, err) != 0) return -1;
    for (uint32_t t = 0; t < b->n_tx; t++) {
        const ch_btc_tx *tx = &b->tx[t];
        if (ch_store_add_tx(s, &tx->txid, (uint32_t)tx->size, err) != 0) goto fail;
        bool coinbase = t == 0 && ch_btc_tx_is_coinbase(tx);
        for (uint32_t i = 0; i < tx->n_in; i++) {
            int rc = coinbase
                         ? ch_store_add_coinbase_input(s, err)
                         : ch_store_add_input(s, &tx->in[i].prev_txid, tx->in[i].prev_vout, err);
            if (rc != 0) goto fail;
        }
        for (uint32_t o = 0; o < tx->n_out; o++) {
            ch_addr a;
            ch_script_type type = ch_btc_classify(tx->out[o].script, tx->out[o].script_len, &a);
            if (ch_store_add_output(s, tx->out[o].value, type, &a, err) != 0) goto fail;
        }
        continue;
    fail : {
        char hex[65];
        ch_hash256_to_hex(&tx->txid, hex);
        return ch_err_prefix(err, "tx %s (#%u in the block)", hex, t);
    }
    }
    return ch_store_end_block(s, err);
}

/* The first height where the store and the best chain disagree. */
static int find_fork(ch_store *s, const ch_blk_chain *chain, uint32_t *fork, ch_error *err) {
    uint32_t have = ch_store_next_height(s);
    if (have > 0 && chain->n > 0 && memcmp(ch_store_block(s, 0)->hash, chain->hash[0].b, 32) != 0)
        return ch_err(err, "the store holds a different chain (its genesis block differs)");
    uint32_t h = have < chain->n ? have : (uint32_t)chain->n;
    /* walk back from the shared top while the hashes differ: a stale tip */
    while (h > 0 && memcmp(ch_store_block(s, h - 1)->hash, chain->hash[h - 1].b, 32) != 0)
        h--;
    *fork = h;
    return 0;
}

static int ingest_range(ch_store *s, ch_blkdir *d, const ch_blk_chain *chain, uint32_t from,
                        uint32_t to, const ch_ingest_opts *o, ch_ingest_stats *st, ch_error *err) {
    uint64_t total = 0;
    for (uint32_t h = from; h < to; h++)
        total += chain->pos[h].size;
    ch_progress prog;
    ch_progress_init(&prog, stderr, o->progress, total, to ? to - 1 : 0);
    ch_btc_parser *p = ch_btc_parser_new();
    uint8_t *buf = NULL;
    size_t cap = 0;
    uint64_t commit_bytes = o->commit_bytes ? o->commit_bytes : (64u << 20);
    int rc = -1;
    if (!p) {
        ch_err(err, "out of memory");
        goto out;
    }
    for (uint32_t h = from; h < to; h++) {
        const ch_blk_pos *pos = &chain->pos[h];
        ch_btc_block b;
        if (ch_blkdir_read(d, pos, &buf, &cap, err) != 0 ||
            ch_btc_parse_block(p, buf, pos->size, &b, err) != 0 ||
            ch_ingest_btc_block(s, &b, err) != 0) {
            ch_err_prefix(err, "%s offset %llu (height %u)", ch_blkdir_path(d, pos->file_no),
                          (unsigned long long)pos->offset, h);
            goto out;
        }
        st->blocks++;
        st->txs += b.n_tx;
        st->bytes += pos->size;
        if (ch_store_pending_bytes(s) >= commit_bytes && ch_store_commit(s, err) != 0) goto out;
        ch_progress_update(&prog, h, st->txs, st->bytes);
    }
    rc = ch_store_commit(s, err);
out:
    ch_progress_done(&prog);
    if (rc != 0) ch_store_abort(s);
    free(buf);
    ch_btc_parser_free(p);
    return rc;
}

int ch_ingest_btc(const char *blocks_dir, const char *db_dir, const ch_ingest_opts *opts,
                  ch_ingest_stats *stats, ch_error *err) {
    ch_ingest_stats scratch;
    ch_ingest_stats *st = stats ? stats : &scratch;
    ch_ingest_opts defaults = {.progress = -1};
    const ch_ingest_opts *o = opts ? opts : &defaults;
    memset(st, 0, sizeof *st);
    st->reorg_height = UINT32_MAX;
    double t0 = ch_now();
    ch_blkdir *d = NULL;
    ch_store *s = NULL;
    ch_blk_chain chain = {0};
    int rc = -1;
    if (ch_blkdir_open(blocks_dir, &d, err) != 0) return -1;
    if (ch_blkdir_best_chain(d, &chain, err) != 0) goto out;
    st->stale = chain.n_stale;
    if (ch_store_open(db_dir, "btc", CH_STORE_WRITE, &s, err) != 0) goto out;
    uint32_t fork_h = 0;
    if (find_fork(s, &chain, &fork_h, err) != 0) goto out;
    if (fork_h < ch_store_next_height(s)) {
        st->reorg_height = fork_h;
        if (ch_store_truncate(s, fork_h, err) != 0) goto out;
    }
    uint32_t to = (uint32_t)chain.n;
    if (o->max_blocks && to - fork_h > o->max_blocks) to = fork_h + o->max_blocks;
    st->start_height = fork_h;
    rc = ingest_range(s, d, &chain, fork_h, to, o, st, err);
    uint32_t next = ch_store_next_height(s);
    st->tip_height = next ? next - 1 : UINT32_MAX;
out:
    st->seconds = ch_now() - t0;
    ch_store_close(s);
    ch_blk_chain_free(&chain);
    ch_blkdir_close(d);
    return rc;
}
