/* Scripts of generated outputs and the inputs that spend them.
 *
 * A key id stands for a key pair that never existed: the "public key" is 33
 * bytes drawn from the key id (0x02/0x03 prefix, like a compressed key), and
 * every hash in an output script is computed from it, so P2PKH/P2WPKH/P2SH/
 * P2WSH inputs carry the very key or script their output committed to. Only
 * the signatures are noise (random bytes in DER or Schnorr shape). */
#include "gen_internal.h"

#include <string.h>

#define OP_0             0x00
#define OP_PUSHDATA1     0x4c
#define OP_1             0x51
#define OP_2             0x52
#define OP_3             0x53
#define OP_RETURN        0x6a
#define OP_DUP           0x76
#define OP_EQUAL         0x87
#define OP_EQUALVERIFY   0x88
#define OP_HASH160       0xa9
#define OP_CHECKSIG      0xac
#define OP_CHECKMULTISIG 0xae

#define MULTI_SCRIPT_LEN 105 /* OP_2 <33> <33> <33> OP_3 OP_CHECKMULTISIG */

static void hash160(const uint8_t *data, size_t n, uint8_t out[20]) {
    ch_hash160_of(data, n, (ch_hash160 *)out);
}

/* 32 bytes that depend only on (seed, key, j). */
static void derive32(uint64_t seed, uint64_t key, uint32_t j, uint8_t out[32]) {
    uint64_t s = seed ^ (key * 0xd1342543de82ef95ULL) ^ ((uint64_t)j << 58);
    for (int i = 0; i < 4; i++) {
        uint64_t v = gen_splitmix64(&s);
        for (int k = 0; k < 8; k++)
            out[8 * i + k] = (uint8_t)(v >> (8 * k));
    }
}

static void pubkey(uint64_t seed, uint64_t key, uint32_t j, uint8_t out[33]) {
    derive32(seed, key, j, out + 1);
    out[0] = 0x02 | (out[32] & 1);
}

/* OP_2 <k0> <k1> <k2> OP_3 OP_CHECKMULTISIG: the 2-of-3 that P2SH and P2WSH
 * wallets use. */
static void multi_script(uint64_t seed, uint64_t key, uint8_t out[MULTI_SCRIPT_LEN]) {
    size_t n = 0;
    out[n++] = OP_2;
    for (uint32_t j = 0; j < 3; j++) {
        out[n++] = 33;
        pubkey(seed, key, j, out + n);
        n += 33;
    }
    out[n++] = OP_3;
    out[n++] = OP_CHECKMULTISIG;
}

static void key_hash160(uint64_t seed, uint64_t key, uint8_t out[20]) {
    uint8_t pk[33];
    pubkey(seed, key, 0, pk);
    hash160(pk, 33, out);
}

/* The redeem script of P2SH-P2WPKH: OP_0 <20-byte key hash>. */
static void nested_redeem(uint64_t seed, uint64_t key, uint8_t out[22]) {
    out[0] = OP_0;
    out[1] = 20;
    key_hash160(seed, key, out + 2);
}

ch_script_type gen_stype_model(gen_stype t) {
    switch (t) {
    case ST_P2PKH:
        return CH_SCRIPT_P2PKH;
    case ST_P2PK:
        return CH_SCRIPT_P2PK;
    case ST_P2SH_P2WPKH:
    case ST_P2SH_MULTI:
        return CH_SCRIPT_P2SH;
    case ST_P2WPKH:
        return CH_SCRIPT_P2WPKH;
    case ST_P2WSH_MULTI:
        return CH_SCRIPT_P2WSH;
    case ST_P2TR:
        return CH_SCRIPT_P2TR;
    case ST_BARE_MULTI:
        return CH_SCRIPT_MULTISIG;
    case ST_NULLDATA:
        return CH_SCRIPT_NULLDATA;
    default:
        return CH_SCRIPT_NONSTANDARD;
    }
}

bool gen_stype_segwit(gen_stype t) {
    return t == ST_P2SH_P2WPKH || t == ST_P2WPKH || t == ST_P2WSH_MULTI || t == ST_P2TR;
}

uint32_t gen_stype_in_vsize(gen_stype t) {
    static const uint32_t VSIZE[ST_COUNT] = {
        [ST_P2PKH] = 148, [ST_P2PK] = 114,        [ST_P2SH_P2WPKH] = 91, [ST_P2SH_MULTI] = 297,
        [ST_P2WPKH] = 68, [ST_P2WSH_MULTI] = 105, [ST_P2TR] = 58,        [ST_BARE_MULTI] = 115,
    };
    return t < ST_COUNT ? VSIZE[t] : 148;
}

static void put_script(gen_buf *b, const uint8_t *s, size_t n) {
    gen_put_varint(b, n);
    gen_put(b, s, n);
}

void gen_put_out_script(gen_buf *b, uint64_t seed, gen_stype t, uint64_t key) {
    uint8_t s[128], h[32];
    size_t n = 0;
    switch (t) {
    case ST_P2PKH:
        key_hash160(seed, key, h);
        s[n++] = OP_DUP;
        s[n++] = OP_HASH160;
        s[n++] = 20;
        memcpy(s + n, h, 20);
        n += 20;
        s[n++] = OP_EQUALVERIFY;
        s[n++] = OP_CHECKSIG;
        break;
    case ST_P2PK:
        s[n++] = 33;
        pubkey(seed, key, 0, s + n);
        n += 33;
        s[n++] = OP_CHECKSIG;
        break;
    case ST_P2SH_P2WPKH:
    case ST_P2SH_MULTI: {
        uint8_t redeem[MULTI_SCRIPT_LEN];
        size_t rn = 22;
        if (t == ST_P2SH_P2WPKH) {
            nested_redeem(seed, key, redeem);
        } else {
            multi_script(seed, key, redeem);
            rn = MULTI_SCRIPT_LEN;
        }
        hash160(redeem, rn, h);
        s[n++] = OP_HASH160;
        s[n++] = 20;
        memcpy(s + n, h, 20);
        n += 20;
        s[n++] = OP_EQUAL;
        break;
    }
    case ST_P2WPKH:
        key_hash160(seed, key, h);
        s[n++] = OP_0;
        s[n++] = 20;
        memcpy(s + n, h, 20);
        n += 20;
        break;
    case ST_P2WSH_MULTI: {
        uint8_t ws[MULTI_SCRIPT_LEN];
        multi_script(seed, key, ws);
        ch_sha256(ws, sizeof ws, h);
        s[n++] = OP_0;
        s[n++] = 32;
        memcpy(s + n, h, 32);
        n += 32;
        break;
    }
    case ST_P2TR:
        /* The x-only output key of a key-path-only taproot wallet. */
        s[n++] = OP_1;
        s[n++] = 32;
        derive32(seed, key, 7, s + n);
        n += 32;
        break;
    case ST_BARE_MULTI:
        /* 1-of-2 bare multisig, as old escrow and "counterparty" outputs. */
        s[n++] = OP_1;
        for (uint32_t j = 0; j < 2; j++) {
            s[n++] = 33;
            pubkey(seed, key, j, s + n);
            n += 33;
        }
        s[n++] = OP_2;
        s[n++] = OP_CHECKMULTISIG;
        break;
    case ST_NULLDATA: {
        /* OP_RETURN <tag + 20 bytes>: the shape of timestamping services. */
        static const char TAG[] = "chgen";
        s[n++] = OP_RETURN;
        s[n++] = 5 + 20;
        memcpy(s + n, TAG, 5);
        n += 5;
        derive32(seed, key, 9, h);
        memcpy(s + n, h, 20);
        n += 20;
        break;
    }
    default:
        break;
    }
    put_script(b, s, n);
}

/* A DER ECDSA signature plus SIGHASH_ALL: 71 or 72 bytes like real ones (a
 * high r needs a 0x00 pad; s is always low, as BIP62 requires). */
static size_t ecdsa_sig(gen_rng *r, uint8_t out[73]) {
    uint8_t rs[64];
    gen_rng_bytes(r, rs, 64);
    rs[0] |= 0x01; /* no leading zero byte: DER would need a shorter integer */
    rs[32] = (uint8_t)((rs[32] & 0x7f) | 0x01);
    size_t rlen = (rs[0] & 0x80) ? 33 : 32;
    size_t n = 0;
    out[n++] = 0x30;
    out[n++] = (uint8_t)(4 + rlen + 32);
    out[n++] = 0x02;
    out[n++] = (uint8_t)rlen;
    if (rlen == 33) out[n++] = 0x00;
    memcpy(out + n, rs, 32);
    n += 32;
    out[n++] = 0x02;
    out[n++] = 32;
    memcpy(out + n, rs + 32, 32);
    n += 32;
    out[n++] = 0x01; /* SIGHASH_ALL */
    return n;
}

/* Append a push of data (direct push or OP_PUSHDATA1) to a script. */
static size_t push(uint8_t *s, size_t n, const uint8_t *data, size_t len) {
    if (len < OP_PUSHDATA1) {
        s[n++] = (uint8_t)len;
    } else {
        s[n++] = OP_PUSHDATA1;
        s[n++] = (uint8_t)len;
    }
    memcpy(s + n, data, len);
    return n + len;
}

static size_t push_sig(gen_rng *r, uint8_t *s, size_t n) {
    uint8_t sig[73];
    size_t len = ecdsa_sig(r, sig);
    return push(s, n, sig, len);
}

void gen_put_script_sig(gen_buf *b, gen_rng *r, uint64_t seed, gen_stype t, uint64_t key) {
    uint8_t s[320], pk[33], redeem[MULTI_SCRIPT_LEN];
    size_t n = 0;
    switch (t) {
    case ST_P2PKH:
        n = push_sig(r, s, n);
        pubkey(seed, key, 0, pk);
        n = push(s, n, pk, 33);
        break;
    case ST_P2PK:
        n = push_sig(r, s, n);
        break;
    case ST_P2SH_P2WPKH:
        nested_redeem(seed, key, redeem);
        n = push(s, n, redeem, 22);
        break;
    case ST_P2SH_MULTI:
        s[n++] = OP_0; /* the extra item CHECKMULTISIG pops */
        n = push_sig(r, s, n);
        n = push_sig(r, s, n);
        multi_script(seed, key, redeem);
        n = push(s, n, redeem, MULTI_SCRIPT_LEN);
        break;
    case ST_BARE_MULTI:
        s[n++] = OP_0;
        n = push_sig(r, s, n);
        break;
    default:
        break; /* native segwit: empty scriptSig */
    }
    put_script(b, s, n);
}

static void witness_item(gen_buf *b, const uint8_t *data, size_t len) {
    gen_put_varint(b, len);
    gen_put(b, data, len);
}

static void witness_sig(gen_buf *b, gen_rng *r) {
    uint8_t sig[73];
    size_t len = ecdsa_sig(r, sig);
    witness_item(b, sig, len);
}

void gen_put_witness(gen_buf *b, gen_rng *r, uint64_t seed, gen_stype t, uint64_t key) {
    uint8_t pk[33], ws[MULTI_SCRIPT_LEN], sig[64];
    switch (t) {
    case ST_P2SH_P2WPKH:
    case ST_P2WPKH:
        gen_put_u8(b, 2);
        witness_sig(b, r);
        pubkey(seed, key, 0, pk);
        witness_item(b, pk, 33);
        break;
    case ST_P2WSH_MULTI:
        gen_put_u8(b, 4);
        gen_put_u8(b, 0); /* empty item for CHECKMULTISIG */
        witness_sig(b, r);
        witness_sig(b, r);
        multi_script(seed, key, ws);
        witness_item(b, ws, MULTI_SCRIPT_LEN);
        break;
    case ST_P2TR:
        /* Key-path spend: one 64-byte Schnorr signature (SIGHASH_DEFAULT). */
        gen_put_u8(b, 1);
        gen_rng_bytes(r, sig, 64);
        witness_item(b, sig, 64);
        break;
    default:
        gen_put_u8(b, 0);
        break;
    }
}

void gen_key_addr(uint64_t seed, gen_stype t, uint64_t key, ch_addr *a) {
    memset(a, 0, sizeof *a);
    uint8_t redeem[MULTI_SCRIPT_LEN];
    switch (t) {
    case ST_P2PKH:
    case ST_P2PK:
        a->kind = CH_ADDR_P2PKH;
        a->len = 20;
        key_hash160(seed, key, a->bytes);
        break;
    case ST_P2SH_P2WPKH:
        a->kind = CH_ADDR_P2SH;
        a->len = 20;
        nested_redeem(seed, key, redeem);
        hash160(redeem, 22, a->bytes);
        break;
    case ST_P2SH_MULTI:
        a->kind = CH_ADDR_P2SH;
        a->len = 20;
        multi_script(seed, key, redeem);
        hash160(redeem, MULTI_SCRIPT_LEN, a->bytes);
        break;
    case ST_P2WPKH:
        a->kind = CH_ADDR_WITNESS;
        a->len = 20;
        key_hash160(seed, key, a->bytes);
        break;
    case ST_P2WSH_MULTI:
        a->kind = CH_ADDR_WITNESS;
        a->len = 32;
        multi_script(seed, key, redeem);
        ch_sha256(redeem, MULTI_SCRIPT_LEN, a->bytes);
        break;
    case ST_P2TR:
        a->kind = CH_ADDR_WITNESS;
        a->version = 1;
        a->len = 32;
        derive32(seed, key, 7, a->bytes);
        break;
    default:
        a->kind = CH_ADDR_NONE;
        break;
    }
}
