/* Output script templates, in the order Bitcoin Core's Solver tries them,
 * so a script gets the same "type" bitcoin-cli would show. */
#include <string.h>

#include "chains/btc/btc_internal.h"

enum {
    OP_0 = 0x00,
    OP_PUSHDATA1 = 0x4c,
    OP_PUSHDATA2 = 0x4d,
    OP_PUSHDATA4 = 0x4e,
    OP_1 = 0x51,
    OP_16 = 0x60,
    OP_RETURN = 0x6a,
    OP_DUP = 0x76,
    OP_EQUAL = 0x87,
    OP_EQUALVERIFY = 0x88,
    OP_HASH160 = 0xa9,
    OP_CHECKSIG = 0xac,
    OP_CHECKMULTISIG = 0xae,
};

static void set_addr(ch_addr *a, ch_addr_kind kind, uint8_t version, const uint8_t *b, size_t n) {
    a->kind = (uint8_t)kind;
    a->version = version;
    a->len = (uint8_t)n;
    memcpy(a->bytes, b, n);
}

/* A public key of a valid size for its first byte (CPubKey::ValidSize). */
static bool pubkey_size_ok(const uint8_t *k, size_t n) {
    if (n == 33) return k[0] == 2 || k[0] == 3;
    if (n == 65) return k[0] == 4 || k[0] == 6 || k[0] == 7;
    return false;
}

/* BIP141 witness program: a version opcode then one direct push of 2..40. */
static bool witness_program(const uint8_t *s, size_t len, int *version) {
    if (len < 4 || len > 42) return false;
    if (s[0] != OP_0 && (s[0] < OP_1 || s[0] > OP_16)) return false;
    if ((size_t)s[1] + 2 != len) return false;
    *version = s[0] == OP_0 ? 0 : s[0] - OP_1 + 1;
    return true;
}

/* Step over one opcode and its push data; false when the data runs past
 * the end. */
static bool next_op(const uint8_t *s, size_t len, size_t *pos, uint8_t *op) {
    if (*pos >= len) return false;
    uint8_t o = s[(*pos)++];
    size_t n = 0, w = 0;
    if (o < OP_PUSHDATA1)
        n = o;
    else if (o == OP_PUSHDATA1)
        w = 1;
    else if (o == OP_PUSHDATA2)
        w = 2;
    else if (o == OP_PUSHDATA4)
        w = 4;
    if (w) {
        if (len - *pos < w) return false;
        const uint8_t *q = s + *pos;
        n = w == 1 ? q[0] : w == 2 ? (size_t)(q[0] | q[1] << 8) : (size_t)btc_le32(q);
        *pos += w;
    }
    if (len - *pos < n) return false;
    *pos += n;
    *op = o;
    return true;
}

/* OP_RETURN followed only by pushes (Core: IsPushOnly after the first byte). */
static bool is_nulldata(const uint8_t *s, size_t len) {
    if (len < 1 || s[0] != OP_RETURN) return false;
    size_t pos = 1;
    uint8_t op;
    while (pos < len) {
        if (!next_op(s, len, &pos, &op) || op > OP_16) return false;
    }
    return true;
}

/* OP_m <n pubkeys> OP_n OP_CHECKMULTISIG, 1 <= m <= n <= 16. */
static bool is_multisig(const uint8_t *s, size_t len) {
    if (len < 3 || s[len - 1] != OP_CHECKMULTISIG) return false;
    if (s[0] < OP_1 || s[0] > OP_16) return false;
    int m = s[0] - OP_1 + 1, keys = 0;
    size_t pos = 1;
    while (pos < len - 2) {
        size_t n = s[pos];
        if ((n != 33 && n != 65) || len - 2 - (pos + 1) < n) return false;
        if (!pubkey_size_ok(s + pos + 1, n)) return false;
        pos += 1 + n;
        keys++;
    }
    if (pos != len - 2) return false;
    uint8_t last = s[len - 2];
    if (last < OP_1 || last > OP_16) return false;
    int n = last - OP_1 + 1;
    return keys == n && m <= n;
}

static void p2pk_addr(const uint8_t *key, size_t n, ch_addr *a) {
    ch_hash160 h;
    ch_hash160_of(key, n, &h);
    set_addr(a, CH_ADDR_P2PKH, 0, h.b, 20);
}

ch_script_type ch_btc_classify(const uint8_t *s, size_t len, ch_addr *addr) {
    ch_addr none;
    if (!addr) addr = &none;
    addr->kind = CH_ADDR_NONE;
    addr->version = 0;
    addr->len = 0;

    if (len == 23 && s[0] == OP_HASH160 && s[1] == 20 && s[22] == OP_EQUAL) {
        set_addr(addr, CH_ADDR_P2SH, 0, s + 2, 20);
        return CH_SCRIPT_P2SH;
    }
    int ver;
    if (witness_program(s, len, &ver)) {
        size_t n = len - 2;
        if (ver == 0 && n != 20 && n != 32) return CH_SCRIPT_NONSTANDARD;
        set_addr(addr, CH_ADDR_WITNESS, (uint8_t)ver, s + 2, n);
        if (ver == 0) return n == 20 ? CH_SCRIPT_P2WPKH : CH_SCRIPT_P2WSH;
        if (ver == 1 && n == 32) return CH_SCRIPT_P2TR;
        return CH_SCRIPT_WITNESS_UNKNOWN;
    }
    if (is_nulldata(s, len)) return CH_SCRIPT_NULLDATA;
    if ((len == 35 || len == 67) && s[0] == len - 2 && s[len - 1] == OP_CHECKSIG &&
        pubkey_size_ok(s + 1, len - 2)) {
        p2pk_addr(s + 1, len - 2, addr);
        return CH_SCRIPT_P2PK;
    }
    if (len == 25 && s[0] == OP_DUP && s[1] == OP_HASH160 && s[2] == 20 &&
        s[23] == OP_EQUALVERIFY && s[24] == OP_CHECKSIG) {
        set_addr(addr, CH_ADDR_P2PKH, 0, s + 3, 20);
        return CH_SCRIPT_P2PKH;
    }
    if (is_multisig(s, len)) return CH_SCRIPT_MULTISIG;
    return CH_SCRIPT_NONSTANDARD;
}
