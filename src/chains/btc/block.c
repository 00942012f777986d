/* Bitcoin blocks: an 80-byte header, a compact-size transaction count and
 * the transactions, back to back. The merkle root is recomputed as the
 * txids come out of the parser, so nothing but the parser's reused arrays
 * is written per block. */
#include <string.h>

#include "chains/btc/btc_internal.h"

#define HEADER_BYTES 80

/* BIP141 commitment: OP_RETURN, push 36, aa21a9ed, 32-byte commitment. */
static const uint8_t COMMIT_PREFIX[6] = {0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed};

void btc_header_decode(const uint8_t *raw, ch_btc_header *h) {
    h->version = (int32_t)btc_le32(raw);
    memcpy(h->prev.b, raw + 4, 32);
    memcpy(h->merkle_root.b, raw + 36, 32);
    h->time = btc_le32(raw + 68);
    h->bits = btc_le32(raw + 72);
    h->nonce = btc_le32(raw + 76);
    ch_sha256d(raw, HEADER_BYTES, &h->hash);
}

int ch_btc_parse_header(const uint8_t *data, size_t len, ch_btc_header *h, ch_error *err) {
    if (len < HEADER_BYTES)
        return ch_err(err, "truncated block header at offset 0: needs 80 bytes but data has %zu",
                      len);
    btc_header_decode(data, h);
    return 0;
}

/* The transaction count: a compact size right after the header. */
static int read_tx_count(const uint8_t *data, size_t len, const char *hash, uint64_t *n,
                         ch_error *err) {
    size_t pos = HEADER_BYTES;
    if (len <= pos)
        return ch_err(err,
                      "truncated block %s at offset 80: expected transaction count but data "
                      "ends",
                      hash);
    uint8_t b = data[pos];
    size_t w = b < 0xfd ? 0 : b == 0xfd ? 2 : b == 0xfe ? 4 : 8;
    if (len - pos - 1 < w)
        return ch_err(err,
                      "truncated block %s at offset 80: expected transaction count but data "
                      "ends",
                      hash);
    const uint8_t *q = data + pos + 1;
    *n = w == 0 ? b : w == 2 ? (uint64_t)(q[0] | q[1] << 8) : w == 4 ? btc_le32(q) : btc_le64(q);
    size_t after = pos + 1 + w;
    if (*n == 0) return ch_err(err, "corrupt block %s at offset 80: no transactions", hash);
    if (*n > UINT32_MAX)
        return ch_err(err, "corrupt block %s at offset 80: transaction count %llu", hash,
                      (unsigned long long)*n);
    return (int)after;
}

/* Point each transaction at its inputs and outputs, now that the arrays
 * will not move any more. */
static void link_arrays(ch_btc_parser *p, ch_btc_block *b) {
    size_t in = 0, out = 0;
    for (uint32_t i = 0; i < b->n_tx; i++) {
        b->tx[i].in = p->in + in;
        b->tx[i].out = p->out + out;
        in += b->tx[i].n_in;
        out += b->tx[i].n_out;
    }
}

int ch_btc_parse_block(ch_btc_parser *p, const uint8_t *data, size_t len, ch_btc_block *b,
                       ch_error *err) {
    if (ch_btc_parse_header(data, len, &b->header, err) < 0) return -1;
    char hash[65];
    ch_hash256_to_hex(&b->header.hash, hash);

    uint64_t n_tx = 0;
    int first = read_tx_count(data, len, hash, &n_tx, err);
    if (first < 0) return -1;

    p->in_used = 0;
    p->out_used = 0;
    btc_merkle_acc m;
    btc_merkle_init(&m);
    size_t pos = (size_t)first;
    for (uint32_t i = 0; i < n_tx; i++) {
        /* grown as transactions are found, so a corrupt count cannot make
         * it allocate more than the data could hold */
        if (btc_grow((void **)&p->tx, &p->tx_cap, (size_t)i + 1, sizeof *p->tx) < 0)
            return ch_err(err, "out of memory after %u transactions", i);
        ch_btc_tx *tx = &p->tx[i];
        if (btc_parse_tx_at(p, data, len, pos, tx, err) < 0)
            return ch_err_prefix(err, "block %s, transaction %u of %llu", hash, i,
                                 (unsigned long long)n_tx);
        pos += tx->size;
        btc_merkle_push(&m, &tx->txid);
    }
    if (pos != len)
        return ch_err(err,
                      "block %s: %zu bytes of trailing data at offset %zu after the last "
                      "transaction",
                      hash, len - pos, pos);
    b->n_tx = (uint32_t)n_tx;
    b->tx = p->tx;
    b->size = len;
    link_arrays(p, b);

    ch_hash256 root;
    btc_merkle_finish(&m, &root);
    if (memcmp(root.b, b->header.merkle_root.b, 32)) {
        char want[65], got[65];
        ch_hash256_to_hex(&b->header.merkle_root, want);
        ch_hash256_to_hex(&root, got);
        return ch_err(err, "block %s: merkle root mismatch: header says %s, transactions give %s",
                      hash, want, got);
    }
    /* Duplicated transactions can reproduce the right root (CVE-2012-2459). */
    if (m.mutated)
        return ch_err(err, "block %s: merkle tree is mutated (duplicate transactions)", hash);
    return 0;
}

/* Index of the last coinbase output holding a commitment, or -1 (BIP141:
 * when several match, the one with the highest index counts). */
static int find_commitment(const ch_btc_tx *cb) {
    for (uint32_t i = cb->n_out; i-- > 0;) {
        const ch_btc_txout *o = &cb->out[i];
        if (o->script_len >= 38 && !memcmp(o->script, COMMIT_PREFIX, sizeof COMMIT_PREFIX))
            return (int)i;
    }
    return -1;
}

int ch_btc_check_witness_commitment(const ch_btc_block *b, ch_error *err) {
    char hash[65];
    ch_hash256_to_hex(&b->header.hash, hash);
    if (b->n_tx == 0) return ch_err(err, "block %s: no transactions", hash);
    const ch_btc_tx *cb = &b->tx[0];
    bool any_witness = false;
    for (uint32_t i = 0; i < b->n_tx && !any_witness; i++)
        any_witness = b->tx[i].has_witness;

    /* Without witness data there is nothing to commit to, and the rule is
     * segwit's: blocks mined while segwit was locked in but not yet active
     * (just below height 481,824) carry a commitment output and no witness,
     * and are valid. Checking only blocks with witness data applies the
     * rule where it holds without knowing the height. */
    if (!any_witness) return 0;
    int at = find_commitment(cb);
    if (at < 0)
        return ch_err(err,
                      "block %s: transactions carry witness data but the coinbase has no "
                      "witness commitment",
                      hash);
    /* The coinbase's witness is the one 32-byte "witness reserved value". */
    const ch_btc_txin *cin = &cb->in[0];
    if (cb->n_in != 1 || cin->witness_items != 1 || cin->witness_len != 33 || cin->witness[0] != 32)
        return ch_err(err, "block %s: coinbase witness must be a single 32-byte reserved value",
                      hash);

    btc_merkle_acc m;
    btc_merkle_init(&m);
    ch_hash256 leaf;
    memset(&leaf, 0, sizeof leaf); /* the coinbase's wtxid counts as zero */
    btc_merkle_push(&m, &leaf);
    for (uint32_t i = 1; i < b->n_tx; i++) {
        ch_btc_tx_wtxid(&b->tx[i], &leaf);
        btc_merkle_push(&m, &leaf);
    }
    uint8_t buf[64];
    ch_hash256 root, commit;
    btc_merkle_finish(&m, &root);
    memcpy(buf, root.b, 32);
    memcpy(buf + 32, cin->witness + 1, 32);
    ch_sha256d(buf, sizeof buf, &commit);
    const uint8_t *want = cb->out[at].script + 6;
    if (memcmp(commit.b, want, 32)) {
        char w[65], g[65];
        ch_hex_encode(want, 32, w);
        ch_hex_encode(commit.b, 32, g);
        return ch_err(err,
                      "block %s: witness commitment mismatch: coinbase output %d says %s, "
                      "witnesses give %s",
                      hash, at, w, g);
    }
    return 0;
}
