/* Assembling a block around the transactions of gen_tx_finish: the
 * coinbase (BIP34 height, subsidy + fees, BIP141 witness commitment), the
 * merkle root, the header, and regtest's proof of work. */
#include "gen_internal.h"

#include <stdlib.h>
#include <string.h>

#include "util/vec.h"

#define REGTEST_BITS 0x207fffffu

/* BIP141: the commitment output's script starts with these 6 bytes. */
static const uint8_t COMMIT_HEAD[6] = {0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed};

static void merkle_root(ch_hash256 *row, size_t n, ch_hash256 *root) {
    /* row is overwritten: each level is written over the previous one. */
    while (n > 1) {
        if (n & 1) row[n] = row[n - 1]; /* Bitcoin duplicates the odd one out */
        size_t half = (n + 1) / 2;
        for (size_t i = 0; i < half; i++)
            ch_sha256d(row[2 * i].b, 64, &row[i]);
        n = half;
    }
    *root = row[0];
}

/* The height push BIP34 requires, as Core writes it (CScript() << height):
 * OP_0 / OP_1..OP_16 for small heights, else a minimal little-endian number. */
static void put_height(uint8_t *s, size_t *n, uint32_t h) {
    if (h == 0) {
        s[(*n)++] = 0x00;
        return;
    }
    if (h <= 16) {
        s[(*n)++] = (uint8_t)(0x50 + h);
        return;
    }
    uint8_t num[5];
    size_t len = 0;
    for (uint32_t v = h; v; v >>= 8)
        num[len++] = (uint8_t)v;
    if (num[len - 1] & 0x80) num[len++] = 0; /* keep the number positive */
    s[(*n)++] = (uint8_t)len;
    memcpy(s + *n, num, len);
    *n += len;
}

typedef struct coinbase_spec {
    uint32_t height;
    uint64_t value;
    gen_stype type;
    uint64_t key;
    uint64_t extranonce;
    const ch_hash256 *commitment; /* NULL: no witness data in the block */
} coinbase_spec;

/* Serialise the block's coinbase: BIP34 height, the tag, the reward outputs
 * and, in a segwit block, the witness commitment; its txid out. */
static void put_coinbase(gen *g, gen_buf *b, const coinbase_spec *cb, ch_hash256 *txid) {
    static const char TAG[] = "/coinhound-gen/";
    size_t off = b->len;
    gen_put_u32(b, 2);
    if (cb->commitment) {
        gen_put_u8(b, 0x00);
        gen_put_u8(b, 0x01);
    }
    size_t body = b->len;
    gen_put_u8(b, 1);
    uint8_t zero[32] = {0};
    gen_put(b, zero, 32);
    gen_put_u32(b, 0xffffffffu);
    uint8_t s[64];
    size_t n = 0;
    put_height(s, &n, cb->height);
    s[n++] = 8;
    for (int i = 0; i < 8; i++)
        s[n++] = (uint8_t)(cb->extranonce >> (8 * i));
    s[n++] = (uint8_t)(sizeof TAG - 1);
    memcpy(s + n, TAG, sizeof TAG - 1);
    n += sizeof TAG - 1;
    gen_put_varint(b, n);
    gen_put(b, s, n);
    gen_put_u32(b, 0xffffffffu);

    gen_put_u8(b, cb->commitment ? 2 : 1);
    gen_put_u64(b, cb->value);
    gen_put_out_script(b, g->key_seed, cb->type, cb->key);
    if (cb->commitment) {
        gen_put_u64(b, 0);
        gen_put_u8(b, 38);
        gen_put(b, COMMIT_HEAD, 6);
        gen_put(b, cb->commitment->b, 32);
    }
    size_t body_end = b->len;
    if (cb->commitment) {
        /* The witness reserved value: one 32-byte item, all zero. */
        gen_put_u8(b, 1);
        gen_put_u8(b, 32);
        gen_put(b, zero, 32);
    }
    gen_put_u32(b, 0);

    ch_sha256_ctx c;
    ch_sha256_init(&c);
    ch_sha256_update(&c, b->p + off, 4);
    ch_sha256_update(&c, b->p + body, body_end - body);
    ch_sha256_update(&c, b->p + b->len - 4, 4);
    ch_sha256d_final(&c, txid);
}

static void ensure_hashes(gen *g, size_t n) {
    if (n + 1 <= g->cap_hashes) return;
    ch_hash256 *v = ch_grow(g->hashes, &g->cap_hashes, n + 1, sizeof *v); /* util/vec.h */
    if (!v) abort();
    g->hashes = v;
}

/* Compact "bits" to a 256-bit target, little-endian like hashes. */
static void bits_target(uint32_t bits, uint8_t t[32]) {
    memset(t, 0, 32);
    int exp = (int)(bits >> 24);
    uint32_t mant = bits & 0x007fffff;
    for (int i = 0; i < 3; i++) {
        int at = exp - 3 + i;
        if (at >= 0 && at < 32) t[at] = (uint8_t)(mant >> (8 * i));
    }
}

static bool meets_target(const ch_hash256 *h, const uint8_t t[32]) {
    for (int i = 31; i >= 0; i--)
        if (h->b[i] != t[i]) return h->b[i] < t[i];
    return true;
}

void gen_block_assemble(gen *g, gen_buf *out, const ch_hash256 *prev, uint32_t time, uint32_t n,
                        uint64_t cb_value, gen_stype cb_type, uint64_t cb_key, uint64_t extranonce,
                        ch_hash256 *cb_txid, ch_hash256 *hash) {
    ensure_hashes(g, n + 1);
    bool wit = false;
    for (uint32_t i = 0; i < n; i++)
        wit |= g->btx[i].witness;

    ch_hash256 commitment;
    if (wit) {
        /* BIP141: SHA256d(witness merkle root || reserved value), the
         * coinbase's wtxid counting as zero. */
        memset(&g->hashes[0], 0, sizeof g->hashes[0]);
        for (uint32_t i = 0; i < n; i++)
            g->hashes[i + 1] = g->btx[i].wtxid;
        uint8_t buf[64] = {0};
        ch_hash256 root;
        merkle_root(g->hashes, n + 1, &root);
        memcpy(buf, root.b, 32);
        ch_sha256d(buf, 64, &commitment);
    }
    coinbase_spec cb = {.height = g->height,
                        .value = cb_value,
                        .type = cb_type,
                        .key = cb_key,
                        .extranonce = extranonce,
                        .commitment = wit ? &commitment : NULL};
    g->scratch.len = 0;
    put_coinbase(g, &g->scratch, &cb, cb_txid);
    g->hashes[0] = *cb_txid;
    for (uint32_t i = 0; i < n; i++)
        g->hashes[i + 1] = g->btx[i].txid;
    ch_hash256 root;
    merkle_root(g->hashes, n + 1, &root);

    out->len = 0;
    gen_put_u32(out, 0x20000000u); /* BIP9 version bits, nothing signalled */
    gen_put(out, prev->b, 32);
    gen_put(out, root.b, 32);
    gen_put_u32(out, time);
    gen_put_u32(out, REGTEST_BITS);
    gen_put_u32(out, 0);
    gen_put_varint(out, (uint64_t)n + 1);
    gen_put(out, g->scratch.p, g->scratch.len);
    size_t tx_bytes = n ? g->btx[n - 1].off + g->btx[n - 1].len : 0;
    gen_put(out, g->txs.p, tx_bytes);

    /* Regtest's target passes about every second hash: real proof of work
     * costs next to nothing here. */
    uint8_t target[32];
    bits_target(REGTEST_BITS, target);
    for (uint32_t nonce = 0;; nonce++) {
        for (int i = 0; i < 4; i++)
            out->p[76 + i] = (uint8_t)(nonce >> (8 * i));
        ch_sha256d(out->p, 80, hash);
        if (meets_target(hash, target)) break;
    }
}
