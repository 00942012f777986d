/* Addresses of every chain on OFAC's list: recognise, validate, normalise.
 *
 * Each chain's forms are checked down to their checksum, so a mistyped
 * address is refused with a reason and never reaches a lookup as if it were
 * a clean one. The forms:
 *   Base58Check, 1-byte version + 20-byte hash: BTC, LTC, BCH/BSV legacy,
 *     BTG, DASH, TRX, XVG; 2-byte version: ZEC t-addresses (and Sprout zc);
 *   Bech32/Bech32m segwit: BTC (bc, tb, bcrt), LTC (ltc, tltc), BTG (btg);
 *   cashaddr (BCH): its own 40-bit BCH-code checksum over prefix + payload;
 *   EVM: 0x + 40 hex, EIP-55 mixed-case checksum via Keccak-256;
 *   Monero: base58 in 8-byte blocks, Keccak-256 checksum;
 *   XRP: Base58Check with the Ripple alphabet;
 *   Solana: plain base58 of a 32-byte key (it has no checksum at all).
 * The string forms of Base58 encodings are unique for their bytes, so a
 * string that decodes and verifies is already canonical and kept as written. */
#include "coinhound/chainaddr.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "coinhound/encode.h"
#include "coinhound/hash.h"
#include "encode/base58.h"
#include "encode/bech32.h"
#include "intel/addr_scan.h"
#include "intel/chainaddr_general.h"
#include "util/hexval.h"
#include "util/keccak.h"

static const char *const FAMILY_NAMES[CH_FAM_COUNT] = {
    [CH_FAM_UNKNOWN] = "unknown", [CH_FAM_BTC] = "BTC",   [CH_FAM_EVM] = "EVM",
    [CH_FAM_LTC] = "LTC",         [CH_FAM_BCH] = "BCH",   [CH_FAM_BSV] = "BSV",
    [CH_FAM_BTG] = "BTG",         [CH_FAM_DASH] = "DASH", [CH_FAM_ZEC] = "ZEC",
    [CH_FAM_XMR] = "XMR",         [CH_FAM_TRX] = "TRX",   [CH_FAM_XRP] = "XRP",
    [CH_FAM_XVG] = "XVG",         [CH_FAM_SOL] = "SOL",
};

const char *ch_family_name(ch_family f) {
    return (unsigned)f < CH_FAM_COUNT ? FAMILY_NAMES[f] : "unknown";
}

static char lower_ascii(char c) {
    return (c >= 'A' && c <= 'Z') ? (char)(c + ('a' - 'A')) : c;
}

static bool ieq(const char *a, const char *b) {
    for (; *a && *b; a++, b++)
        if (lower_ascii(*a) != lower_ascii(*b)) return false;
    return *a == *b;
}

/* Asset codes as OFAC writes them ("Digital Currency Address - XBT") and a
 * few common chain names. The family names themselves map too. */
static const struct {
    const char *code;
    ch_family fam;
} ASSETS[] = {
    {"XBT", CH_FAM_BTC},   {"BTC", CH_FAM_BTC}, {"ETH", CH_FAM_EVM},   {"ETC", CH_FAM_EVM},
    {"BSC", CH_FAM_EVM},   {"ARB", CH_FAM_EVM}, {"USDC", CH_FAM_EVM},  {"USDT", CH_FAM_EVM},
    {"MATIC", CH_FAM_EVM}, {"EVM", CH_FAM_EVM}, {"LTC", CH_FAM_LTC},   {"BCH", CH_FAM_BCH},
    {"BSV", CH_FAM_BSV},   {"BTG", CH_FAM_BTG}, {"DASH", CH_FAM_DASH}, {"ZEC", CH_FAM_ZEC},
    {"XMR", CH_FAM_XMR},   {"TRX", CH_FAM_TRX}, {"XRP", CH_FAM_XRP},   {"XVG", CH_FAM_XVG},
    {"SOL", CH_FAM_SOL},
};

ch_family ch_family_from_asset(const char *asset_code) {
    if (!asset_code) return CH_FAM_UNKNOWN;
    for (size_t i = 0; i < sizeof ASSETS / sizeof ASSETS[0]; i++)
        if (ieq(asset_code, ASSETS[i].code)) return ASSETS[i].fam;
    return CH_FAM_UNKNOWN;
}

/* ---- EVM ---------------------------------------------------------------- */

static int hex_val(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Nibble i (0 = high nibble of byte 0) of a hash. */
/* The inner parsers return -1 for a string of no valid form and BAD_SUM
 * when the form holds but its checksum does not: the reason code of
 * ch_chainaddr_parse_fault comes from that, never from the message. */
#define BAD_SUM (-2)

__attribute__((format(printf, 2, 3))) static int bad_sum(ch_error *err, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return BAD_SUM;
}

static unsigned nibble(const uint8_t *h, size_t i) {
    return (i % 2 == 0) ? (unsigned)(h[i / 2] >> 4) : (unsigned)(h[i / 2] & 15);
}

void ch_evm_checksum_address(const uint8_t addr[20], char out[43]) {
    uint8_t h[32];
    char *hex = out + 2;
    out[0] = '0';
    out[1] = 'x';
    ch_hex_encode(addr, 20, hex);
    /* EIP-55: hash the lowercase hex; a letter is upper-case where the
     * hash's nibble at its position is 8 or more. */
    ch_keccak256(hex, 40, h);
    for (size_t i = 0; i < 40; i++)
        if (hex[i] >= 'a' && nibble(h, i) >= 8) hex[i] = (char)(hex[i] - ('a' - 'A'));
    out[42] = '\0';
}

/* An EIP-55 hash worked out ahead (ch_chainaddr_parse_many hashes a batch's
 * together): the 40 lower-case digits it is the Keccak-256 of, and it. */
typedef struct evm_prehash {
    char hex[40];
    uint8_t hash[32];
} evm_prehash;

/* The Keccak-256 of an EVM address's 40 lower-case hex digits, for its
 * EIP-55 checksum: pre's when pre (may be NULL) holds these very digits
 * (a batch hashed them together), else hashed into buf. */
static const uint8_t *evm_sum_hash(const evm_prehash *pre, const char *lower40, uint8_t buf[32]) {
    if (pre && !memcmp(pre->hex, lower40, 40)) return pre->hash;
    ch_keccak256(lower40, 40, buf);
    return buf;
}

/* 0x and 40 hex digits; a mixed-case string must pass EIP-55 (BAD_SUM when
 * not). The canonical form is lower case. pre (may be NULL) is used for the
 * checksum when it is the hash of these very digits, else they are hashed. */
static int parse_evm(const char *s, size_t n, const evm_prehash *pre, ch_chainaddr *out,
                     ch_error *err) {
    if (n != 42 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
        return ch_err(err, "not an EVM address (expected 0x and 40 hex digits)");
    /* One pass by table, without branches on the digits (which are random:
     * a branch per letter mispredicted most of the time): validity (faults
     * or'ed), which cases occur, the lowercase copy (a hex letter's 0x20 bit
     * makes it lowercase; digits have it set already) */
    const unsigned char *u = (const unsigned char *)s + 2;
    unsigned bad = 0, upper = 0, lower = 0;
    for (size_t i = 0; i < 40; i++) {
        unsigned c = u[i], v = ch_hexval[c];
        unsigned letter = ((v & 15) + 6) >> 4, small = (c >> 5) & 1;
        bad |= v;
        upper |= letter & (small ^ 1);
        lower |= letter & small;
        out->canonical[2 + i] = (char)(c | 0x20);
    }
    if (bad & 0x80)
        for (size_t i = 2; i < n; i++)
            if (hex_val(s[i]) < 0)
                return ch_err(err, "invalid character '%c' at position %zu (not hex)", s[i], i);
    out->canonical[0] = '0';
    out->canonical[1] = 'x';
    out->canonical[n] = '\0';
    if (upper && lower) {
        /* Mixed case claims an EIP-55 checksum: it must be right. A letter
         * is upper-case exactly where the hash's nibble is 8 or more. */
        uint8_t hbuf[32];
        const uint8_t *h = evm_sum_hash(pre, out->canonical + 2, hbuf);
        unsigned wrong = 0;
        for (size_t i = 0; i < 40; i++) {
            unsigned c = u[i], letter = ((ch_hexval[c] & 15) + 6) >> 4;
            unsigned want_upper = nibble(h, i) >> 3, is_upper = ((c >> 5) & 1) ^ 1;
            wrong |= letter & (want_upper ^ is_upper);
        }
        for (size_t i = 0; wrong && i < 40; i++) {
            unsigned c = u[i];
            if (ch_hexval[c] < 10) continue;
            if ((nibble(h, i) >= 8) != !(c & 0x20))
                return bad_sum(err,
                               "bad checksum (EIP-55 mixed case does not match at "
                               "position %zu)",
                               2 + i);
        }
    }
    out->family = CH_FAM_EVM;
    out->testnet = false;
    return 0;
}

int ch_evm_addr_parse_fault(const char *s, uint8_t out[20], ch_addr_fault *fault, ch_error *err) {
    ch_chainaddr c;
    ch_addr_fault f = CH_ADDR_FAULT_FORM;
    int rc = s ? parse_evm(s, strlen(s), NULL, &c, err) : ch_err(err, "no address");
    if (rc == 0 && ch_hex_decode(c.canonical + 2, 40, out, 20) != 0) rc = ch_err(err, "not hex");
    if (rc == BAD_SUM) f = CH_ADDR_FAULT_CHECKSUM;
    if (fault) *fault = rc == 0 ? CH_ADDR_FAULT_NONE : f;
    return rc == 0 ? 0 : -1;
}

int ch_evm_addr_parse(const char *s, uint8_t out[20], ch_error *err) {
    return ch_evm_addr_parse_fault(s, out, NULL, err);
}

/* ---- Base58Check with a version prefix ---------------------------------- */

typedef struct b58_version {
    ch_family fam;
    uint8_t ver[2];
    uint8_t ver_len;
    uint8_t data_len; /* bytes after the version */
    bool testnet;
} b58_version;

/* Ordered so that detection without a hint picks the first match: the
 * legacy forms BTC shares with BCH and BSV come out as BTC. */
static const b58_version B58_VERSIONS[] = {
    {CH_FAM_BTC, {0x00}, 1, 20, false},       {CH_FAM_BTC, {0x05}, 1, 20, false},
    {CH_FAM_BTC, {0x6f}, 1, 20, true},        {CH_FAM_BTC, {0xc4}, 1, 20, true},
    {CH_FAM_LTC, {0x30}, 1, 20, false},       {CH_FAM_LTC, {0x32}, 1, 20, false},
    {CH_FAM_LTC, {0x05}, 1, 20, false},       {CH_FAM_LTC, {0x6f}, 1, 20, true},
    {CH_FAM_LTC, {0x3a}, 1, 20, true},        {CH_FAM_LTC, {0xc4}, 1, 20, true},
    {CH_FAM_BCH, {0x00}, 1, 20, false},       {CH_FAM_BCH, {0x05}, 1, 20, false},
    {CH_FAM_BCH, {0x6f}, 1, 20, true},        {CH_FAM_BCH, {0xc4}, 1, 20, true},
    {CH_FAM_BSV, {0x00}, 1, 20, false},       {CH_FAM_BSV, {0x05}, 1, 20, false},
    {CH_FAM_BSV, {0x6f}, 1, 20, true},        {CH_FAM_BSV, {0xc4}, 1, 20, true},
    {CH_FAM_BTG, {38}, 1, 20, false},         {CH_FAM_BTG, {23}, 1, 20, false},
    {CH_FAM_BTG, {0x6f}, 1, 20, true},        {CH_FAM_BTG, {0xc4}, 1, 20, true},
    {CH_FAM_DASH, {76}, 1, 20, false},        {CH_FAM_DASH, {16}, 1, 20, false},
    {CH_FAM_DASH, {140}, 1, 20, true},        {CH_FAM_DASH, {19}, 1, 20, true},
    {CH_FAM_ZEC, {0x1c, 0xb8}, 2, 20, false}, /* t1: transparent P2PKH */
    {CH_FAM_ZEC, {0x1c, 0xbd}, 2, 20, false}, /* t3: transparent P2SH */
    {CH_FAM_ZEC, {0x1d, 0x25}, 2, 20, true},  /* tm */
    {CH_FAM_ZEC, {0x1c, 0xba}, 2, 20, true},  /* t2 */
    {CH_FAM_ZEC, {0x16, 0x9a}, 2, 64, false}, /* zc: Sprout shielded */
    {CH_FAM_ZEC, {0x16, 0xb6}, 2, 64, true},  /* zt: Sprout testnet */
    {CH_FAM_TRX, {0x41}, 1, 20, false},       {CH_FAM_XVG, {30}, 1, 20, false},
    {CH_FAM_XVG, {33}, 1, 20, false},
};

static int set_canonical(ch_chainaddr *out, const char *s, size_t n, ch_family fam, bool testnet) {
    memcpy(out->canonical, s, n);
    out->canonical[n] = '\0';
    out->family = fam;
    out->testnet = testnet;
    return 0;
}

/* Base58Check-decode s (n bytes, NUL-terminated) into buf[0..80), as
 * ch_base58check_decode does, remembering the last string per thread:
 * parsing one string asks this up to three times (is it another chain's?
 * which version? of which family?), and each time is a decode and a
 * double SHA-256. The answer depends on the bytes alone. */
static int b58check_decode(const char *s, size_t n, uint8_t buf[80], size_t *len, ch_error *err) {
    static _Thread_local struct {
        bool valid;
        size_t n;
        char s[CH_ADDR_STR_MAX];
        int rc;
        uint8_t buf[80];
        size_t len;
        char msg[CH_ERROR_MAX];
    } memo;
    if (n >= CH_ADDR_STR_MAX) return ch_base58check_decode(s, buf, 80, len, err);
    if (!memo.valid || memo.n != n || memcmp(memo.s, s, n) != 0) {
        ch_error e;
        e.msg[0] = '\0';
        memo.valid = false;
        memo.rc = ch_base58check_decode(s, memo.buf, sizeof memo.buf, &memo.len, &e);
        memcpy(memo.s, s, n);
        memo.n = n;
        memcpy(memo.msg, e.msg, sizeof memo.msg);
        memo.valid = true;
    }
    if (memo.rc != 0) {
        if (err) memcpy(err->msg, memo.msg, sizeof err->msg);
        return -1;
    }
    memcpy(buf, memo.buf, memo.len);
    *len = memo.len;
    return 0;
}

/* Legacy Base58Check; fam == CH_FAM_UNKNOWN accepts any family's version. */
static int parse_b58_legacy(const char *s, size_t n, ch_family fam, ch_chainaddr *out,
                            ch_error *err) {
    uint8_t buf[80];
    size_t len = 0;
    if (b58check_decode(s, n, buf, &len, err) != 0) {
        /* base58 that decodes to more than its 4 checksum bytes: only the
         * checksum can have failed */
        uint8_t raw[80];
        size_t raw_len = 0;
        if (ch_base58_decode(s, raw, sizeof raw, &raw_len) == 0 && raw_len > 4) return BAD_SUM;
        return -1;
    }
    for (size_t i = 0; i < sizeof B58_VERSIONS / sizeof B58_VERSIONS[0]; i++) {
        const b58_version *v = &B58_VERSIONS[i];
        if (fam != CH_FAM_UNKNOWN && v->fam != fam) continue;
        if (len != (size_t)v->ver_len + v->data_len) continue;
        if (memcmp(buf, v->ver, v->ver_len) != 0) continue;
        return set_canonical(out, s, n, v->fam, v->testnet);
    }
    if (len == 0) return ch_err(err, "empty payload");
    if (fam == CH_FAM_UNKNOWN)
        return ch_err(err, "unknown address version 0x%02x (%zu-byte payload)", buf[0], len);
    return ch_err(err, "version 0x%02x (%zu-byte payload) is not a %s address", buf[0], len,
                  ch_family_name(fam));
}

/* ---- Bech32: segwit and Zcash Sapling ----------------------------------- */

static const struct {
    const char *hrp;
    ch_family fam;
    bool testnet;
} SEGWIT_HRPS[] = {
    {"bc", CH_FAM_BTC, false},  {"tb", CH_FAM_BTC, true},           {"bcrt", CH_FAM_BTC, true},
    {"ltc", CH_FAM_LTC, false}, {"tltc", CH_FAM_LTC, true},         {"btg", CH_FAM_BTG, false},
    {"zs", CH_FAM_ZEC, false},  {"ztestsapling", CH_FAM_ZEC, true},
};

/* The lowercase human-readable part of s (before its last '1'), or -1. */
static int bech32_hrp_of(const char *s, size_t n, char *hrp, size_t cap) {
    size_t sep = n;
    while (sep > 0 && s[sep - 1] != '1')
        sep--;
    if (sep == 0 || sep - 1 >= cap) return -1;
    for (size_t i = 0; i + 1 < sep; i++)
        hrp[i] = lower_ascii(s[i]);
    hrp[sep - 1] = '\0';
    return 0;
}

/* Index into SEGWIT_HRPS of a lower-case prefix, or -1. */
static int hrp_form(const char *hrp) {
    for (size_t i = 0; i < sizeof SEGWIT_HRPS / sizeof SEGWIT_HRPS[0]; i++)
        if (!strcmp(hrp, SEGWIT_HRPS[i].hrp)) return (int)i;
    return -1;
}

/* Index into SEGWIT_HRPS of s's prefix, or -1. */
static int bech32_form(const char *s, size_t n) {
    char hrp[16];
    if (bech32_hrp_of(s, n, hrp, sizeof hrp) != 0) return -1;
    return hrp_form(hrp);
}

/* A segwit address of the family its prefix names (v0 Bech32, v1+ Bech32m)
 * or a Zcash Sapling one, re-encoded in lower case as the canonical form;
 * BAD_SUM when only the checksum fails. */
static int parse_bech32(const char *s, size_t n, int form, ch_chainaddr *out, ch_error *err) {
    ch_family fam = SEGWIT_HRPS[form].fam;
    const char *hrp = SEGWIT_HRPS[form].hrp;
    if (fam == CH_FAM_ZEC) {
        /* Sapling: Bech32 (not m) of 43 bytes (11-byte diversifier + key). */
        char got[16];
        uint8_t d5[90];
        size_t d5n = 0;
        d5n = SIZE_MAX;
        ch_bech32_variant v = ch_bech32_decode(s, got, sizeof got, d5, sizeof d5, &d5n, err);
        if (v == CH_BECH32_INVALID) return d5n == SIZE_MAX ? -1 : BAD_SUM;
        if (v != CH_BECH32) return ch_err(err, "a Sapling address uses Bech32, not Bech32m");
        if (d5n != 69) return ch_err(err, "a Sapling address carries 43 bytes");
        for (size_t i = 0; i < n; i++)
            out->canonical[i] = lower_ascii(s[i]);
        out->canonical[n] = '\0';
        out->family = fam;
        out->testnet = SEGWIT_HRPS[form].testnet;
        return 0;
    }
    int ver = 0;
    uint8_t prog[40];
    size_t plen = 0;
    if (ch_segwit_decode(s, hrp, &ver, prog, &plen, err) != 0) {
        /* the checksum alone failed when the string is well formed
         * (ch_bech32_decode set the data length); a checksum of the other
         * variant than the witness version needs is a malformed encoding */
        char got[16];
        uint8_t d5[90];
        size_t d5n = SIZE_MAX;
        ch_bech32_variant v = ch_bech32_decode(s, got, sizeof got, d5, sizeof d5, &d5n, NULL);
        return v == CH_BECH32_INVALID && d5n != SIZE_MAX ? BAD_SUM : -1;
    }
    /* The canonical form is lowercase, whatever case came in: the string
     * lowercased is what re-encoding would give, the decoder being strict
     * (checksum over the lowercase text, the variant its version needs,
     * zero padding of at most 4 bits), so it is copied, not re-encoded. */
    for (size_t i = 0; i < n; i++)
        out->canonical[i] = lower_ascii(s[i]);
    out->canonical[n] = '\0';
    out->family = fam;
    out->testnet = SEGWIT_HRPS[form].testnet;
    return 0;
}

/* ---- cashaddr (Bitcoin Cash) --------------------------------------------- */

static const char CASH_CHARSET[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

/* The cashaddr checksum: a BCH code over GF(2^5) with a 40-bit result;
 * generator coefficients from the cashaddr specification. */
static uint64_t cash_polymod_step(uint64_t c, uint8_t d) {
    uint8_t c0 = (uint8_t)(c >> 35);
    c = ((c & 0x07ffffffffULL) << 5) ^ d;
    if (c0 & 0x01) c ^= 0x98f2bc8e61ULL;
    if (c0 & 0x02) c ^= 0x79b76d99e2ULL;
    if (c0 & 0x04) c ^= 0xf33e5fb3c4ULL;
    if (c0 & 0x08) c ^= 0xae2eabe2a8ULL;
    if (c0 & 0x10) c ^= 0x1e4f43e470ULL;
    return c;
}

static int cash_value(char c) {
    const char *p = c ? strchr(CASH_CHARSET, lower_ascii(c)) : NULL;
    return p ? (int)(p - CASH_CHARSET) : -1;
}

/* Does s look like a cashaddr payload (charset, and a length some hash size
 * gives)? Used to detect a prefix-less input. */
static bool cash_payload_form(const char *s, size_t n) {
    static const size_t LENS[] = {42, 48, 54, 61, 74, 86, 99, 112};
    bool len_ok = false;
    for (size_t i = 0; i < sizeof LENS / sizeof LENS[0]; i++)
        len_ok |= (n == LENS[i]);
    if (!len_ok) return false;
    for (size_t i = 0; i < n; i++)
        if (cash_value(s[i]) < 0) return false;
    return true;
}

/* Verify payload (no prefix) against prefix; 0 when the checksum holds. */
static int cash_verify(const char *prefix, const char *p, size_t n, ch_error *err) {
    uint64_t c = 1;
    uint8_t bytes[70];
    size_t nb = 0;
    uint32_t acc = 0;
    int bits = 0;

    if (n < 8 + 2) return ch_err(err, "cashaddr payload too short");
    for (const char *q = prefix; *q; q++)
        c = cash_polymod_step(c, (uint8_t)(*q & 31));
    c = cash_polymod_step(c, 0);
    for (size_t i = 0; i < n; i++) {
        int v = cash_value(p[i]);
        if (v < 0) return ch_err(err, "invalid character '%c' in cashaddr payload at %zu", p[i], i);
        c = cash_polymod_step(c, (uint8_t)v);
        if (i < n - 8) { /* regroup the data words (not the checksum) into bytes */
            acc = ((acc << 5) | (uint32_t)v) & 0xfff;
            bits += 5;
            if (bits >= 8) {
                bits -= 8;
                if (nb == sizeof bytes) return ch_err(err, "cashaddr payload too long");
                bytes[nb++] = (uint8_t)(acc >> bits);
            }
        }
    }
    if ((c ^ 1) != 0) return bad_sum(err, "bad checksum");
    if (bits >= 5 || (acc & ((1u << bits) - 1)) != 0) return ch_err(err, "non-zero padding");
    static const size_t HASH_BITS[8] = {160, 192, 224, 256, 320, 384, 448, 512};
    if (nb < 1 || (bytes[0] & 0x80)) return ch_err(err, "invalid cashaddr version byte");
    if ((bytes[0] >> 3) > 3) return ch_err(err, "unknown cashaddr type %d", bytes[0] >> 3);
    if ((nb - 1) * 8 != HASH_BITS[bytes[0] & 7])
        return ch_err(err, "cashaddr hash length %zu does not match its version byte", nb - 1);
    return 0;
}

/* Bitcoin Cash's cashaddr, with or without its prefix (then each network's
 * prefix is tried); one case only; canonical with the prefix. */
static int parse_cashaddr(const char *s, size_t n, ch_chainaddr *out, ch_error *err) {
    static const struct {
        const char *prefix;
        bool testnet;
    } PREFIXES[] = {{"bitcoincash", false}, {"bchtest", true}, {"bchreg", true}};
    bool up = false, low = false;
    for (size_t i = 0; i < n; i++) {
        up |= (s[i] >= 'A' && s[i] <= 'Z');
        low |= (s[i] >= 'a' && s[i] <= 'z');
    }
    if (up && low) return ch_err(err, "mixed case");

    const char *colon = memchr(s, ':', n);
    const char *payload = colon ? colon + 1 : s;
    size_t pn = n - (size_t)(payload - s);
    for (size_t k = 0; k < sizeof PREFIXES / sizeof PREFIXES[0]; k++) {
        const char *pre = PREFIXES[k].prefix;
        size_t pl = strlen(pre);
        if (colon) {
            if ((size_t)(colon - s) != pl) continue;
            bool same = true;
            for (size_t i = 0; i < pl; i++)
                same &= (lower_ascii(s[i]) == pre[i]);
            if (!same) continue;
        }
        ch_error e;
        int rc = cash_verify(pre, payload, pn, &e);
        if (rc != 0) {
            /* Without a prefix, try the next network before giving up. */
            if (!colon && k + 1 < sizeof PREFIXES / sizeof PREFIXES[0]) continue;
            if (err) *err = e;
            return rc;
        }
        if (pl + 1 + pn >= sizeof out->canonical) return ch_err(err, "too long");
        memcpy(out->canonical, pre, pl);
        out->canonical[pl] = ':';
        for (size_t i = 0; i < pn; i++)
            out->canonical[pl + 1 + i] = lower_ascii(payload[i]);
        out->canonical[pl + 1 + pn] = '\0';
        out->family = CH_FAM_BCH;
        out->testnet = PREFIXES[k].testnet;
        return 0;
    }
    return ch_err(err, "unknown cashaddr prefix");
}

/* ---- Base58 with another alphabet (XRP), Monero's block base58 ----------- */

static const char B58_BTC[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
static const char B58_RIPPLE[] = "rpshnaf39wBUDNEGHJKLM4PQRST7VWXYZ2bcdeCg65jkm8oFqi1tuvAxyz";

/* Bitcoin's alphabet by table (the common case, on the hot path of
 * screening raw addresses), any other by search. */
static int b58_digit(const char *alphabet, char c) {
    if (alphabet == B58_BTC) return enc_b58_digit((unsigned char)c); /* every address screened */
    const char *p = c ? strchr(alphabet, c) : NULL;
    return p ? (int)(p - alphabet) : -1;
}

/* Plain base58 decode with any alphabet (leading zero digits become zero
 * bytes), big-endian into out[0..*len). */
static int b58_decode_alpha(const char *alphabet, const char *s, size_t n, uint8_t *out, size_t cap,
                            size_t *len, ch_error *err) {
    size_t zeros = 0, used = 0;
    uint8_t num[128];
    if (alphabet == B58_BTC) { /* every Solana key and legacy-looking address screened */
        for (size_t i = 0; i < n; i++)
            if (enc_b58_digit((unsigned char)s[i]) < 0)
                return ch_err(err, "invalid character '%c' at position %zu", s[i], i);
        /* n is under CH_ADDR_STR_MAX: at most 94 bytes, within num's 128 */
        if (enc_b58_decode_digits(s, n, out, cap, len) != 0) return ch_err(err, "too long");
        return 0;
    }
    while (zeros < n && s[zeros] == alphabet[0])
        zeros++;
    for (size_t i = zeros; i < n; i++) {
        int d = b58_digit(alphabet, s[i]);
        if (d < 0) return ch_err(err, "invalid character '%c' at position %zu", s[i], i);
        unsigned carry = (unsigned)d;
        /* num holds the value little-endian in num[0..used). */
        for (size_t j = 0; j < used; j++) {
            carry += (unsigned)num[j] * 58;
            num[j] = (uint8_t)carry;
            carry >>= 8;
        }
        while (carry) {
            if (used == sizeof num) return ch_err(err, "too long");
            num[used++] = (uint8_t)carry;
            carry >>= 8;
        }
    }
    if (zeros + used > cap) return ch_err(err, "too long");
    memset(out, 0, zeros);
    for (size_t j = 0; j < used; j++)
        out[zeros + j] = num[used - 1 - j];
    *len = zeros + used;
    return 0;
}

static int parse_xrp(const char *s, size_t n, ch_chainaddr *out, ch_error *err) {
    uint8_t buf[64];
    size_t len = 0;
    ch_hash256 h;
    if (b58_decode_alpha(B58_RIPPLE, s, n, buf, sizeof buf, &len, err) != 0) return -1;
    if (len != 25 || buf[0] != 0x00) return ch_err(err, "not an XRP account address");
    ch_sha256d(buf, 21, &h);
    if (memcmp(h.b, buf + 21, 4) != 0) return bad_sum(err, "bad checksum");
    return set_canonical(out, s, n, CH_FAM_XRP, false);
}

/* Monero cuts the bytes into 8-byte blocks, each written as exactly 11
 * base58 digits (a short last block as fewer, per this table). */
static const size_t XMR_BLOCK_CHARS[9] = {0, 2, 3, 5, 6, 7, 9, 10, 11};

static int xmr_decode(const char *s, size_t n, uint8_t *out, size_t cap, size_t *len,
                      ch_error *err) {
    size_t full = n / 11, rest = n % 11, rest_bytes = 0, k = 0;
    if (rest) {
        while (rest_bytes < 8 && XMR_BLOCK_CHARS[rest_bytes] != rest)
            rest_bytes++;
        if (rest_bytes == 8) return ch_err(err, "invalid Monero base58 length %zu", n);
    }
    if (full * 8 + rest_bytes > cap) return ch_err(err, "too long");
    for (size_t b = 0; b <= full; b++) {
        size_t chars = b < full ? 11 : rest, bytes = b < full ? 8 : rest_bytes;
        uint64_t v = 0;
        if (chars == 0) break;
        for (size_t i = 0; i < chars; i++) {
            char c = s[b * 11 + i];
            int d = b58_digit(B58_BTC, c);
            if (d < 0) return ch_err(err, "invalid character '%c' at position %zu", c, b * 11 + i);
            if (v > (UINT64_MAX - (uint64_t)d) / 58) return ch_err(err, "block overflow");
            v = v * 58 + (uint64_t)d;
        }
        if (bytes < 8 && (v >> (8 * bytes)) != 0) return ch_err(err, "block overflow");
        for (size_t i = 0; i < bytes; i++)
            out[k + i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
        k += bytes;
    }
    *len = k;
    return 0;
}

static int parse_xmr(const char *s, size_t n, ch_chainaddr *out, ch_error *err) {
    /* Network tags (one-byte varints): standard, integrated, subaddress on
     * mainnet, testnet and stagenet. */
    static const struct {
        uint8_t tag;
        bool integrated, testnet;
    } TAGS[] = {{18, false, false}, {19, true, false}, {42, false, false},
                {53, false, true},  {54, true, true},  {63, false, true},
                {24, false, true},  {25, true, true},  {36, false, true}};
    uint8_t buf[80], h[32];
    size_t len = 0;
    if (n != 95 && n != 106)
        return ch_err(err, "a Monero address has 95 (or 106, integrated) characters, not %zu", n);
    if (xmr_decode(s, n, buf, sizeof buf, &len, err) != 0) return -1;
    ch_keccak256(buf, len - 4, h);
    if (memcmp(h, buf + len - 4, 4) != 0) return bad_sum(err, "bad checksum");
    for (size_t i = 0; i < sizeof TAGS / sizeof TAGS[0]; i++)
        if (TAGS[i].tag == buf[0] && (len == (TAGS[i].integrated ? 77u : 69u)))
            return set_canonical(out, s, n, CH_FAM_XMR, TAGS[i].testnet);
    return ch_err(err, "unknown Monero network tag %u", buf[0]);
}

/* OFAC's XMR list also holds a bare 64-digit hex value, which is no Monero
 * address form (it has the shape of a key or transaction hash). Accepted
 * only when the caller says the asset is XMR, so that such a listing can be
 * stored and screened, and kept in lowercase. */
static int parse_xmr_hex(const char *s, size_t n, ch_chainaddr *out, ch_error *err) {
    if (n != 64) return ch_err(err, "not a 64-digit hex value");
    for (size_t i = 0; i < n; i++) {
        if (hex_val(s[i]) < 0) return ch_err(err, "not a 64-digit hex value");
        out->canonical[i] = lower_ascii(s[i]);
    }
    out->canonical[n] = '\0';
    out->family = CH_FAM_XMR;
    out->testnet = false;
    return 0;
}

/* Solana: base58 of a 32-byte public key, no checksum, so a typo cannot be
 * detected (it can only be not found). */
static int parse_sol(const char *s, size_t n, ch_chainaddr *out, ch_error *err) {
    uint8_t buf[64];
    size_t len = 0;
    if (n < 32 || n > 44) return ch_err(err, "not a Solana address (32 to 44 characters)");
    if (!err) {
        /* Detection asks every Base58 string of this length (a Bitcoin
         * address among them): m digits after z leading '1's make a value
         * of between floor((m-1) log256 58) + 1 and ceil(m log256 58) bytes
         * (log256 58 = 0.73224762..., rounded down for the one, up for the
         * other); when 32 - z is outside, skip the decode */
        size_t z = 0;
        while (z < n && s[z] == '1')
            z++;
        uint64_t m = n - z, lo = m ? (m - 1) * 7322476 / 10000000 + 1 : 0,
                 hi = (m * 7322477 + 9999999) / 10000000;
        if (z > 32 || 32 - z < lo || 32 - z > hi) return -1;
    }
    if (b58_decode_alpha(B58_BTC, s, n, buf, sizeof buf, &len, err) != 0) return -1;
    if (len != 32) return ch_err(err, "not a Solana address (%zu bytes, not 32)", len);
    return set_canonical(out, s, n, CH_FAM_SOL, false);
}

static bool all_b58(const char *s, size_t n);

/* ---- chains coinhound does not support ---------------------------------- */

/* Bech32 prefixes of chains whose addresses people paste into a screening
 * box but whose ledgers coinhound does not hold. Named so that the answer
 * says which chain it is; any other prefix with a valid Bech32 checksum is
 * "unsupported" too (by prefix), never guessed as a supported chain. */
static const struct {
    const char *hrp, *chain;
} FOREIGN_HRPS[] = {
    {"thor", "THORChain"},
    {"sthor", "THORChain stagenet"},
    {"tthor", "THORChain testnet"},
    {"maya", "Maya Protocol"},
    {"cosmos", "Cosmos Hub"},
    {"osmo", "Osmosis"},
    {"terra", "Terra"},
    {"kava", "Kava"},
    {"juno", "Juno"},
    {"secret", "Secret Network"},
    {"akash", "Akash"},
    {"inj", "Injective"},
    {"sei", "Sei"},
    {"celestia", "Celestia"},
    {"dydx", "dYdX Chain"},
    {"evmos", "Evmos"},
    {"axelar", "Axelar"},
    {"stars", "Stargaze"},
    {"noble", "Noble"},
    {"neutron", "Neutron"},
    {"stride", "Stride"},
    {"kujira", "Kujira"},
    {"cro", "Cronos POS"},
    {"bnb", "BNB Beacon Chain"},
    {"tbnb", "BNB Beacon Chain testnet"},
    {"one", "Harmony"},
    {"zil", "Zilliqa"},
    {"erd", "MultiversX"},
    {"addr", "Cardano"},
    {"stake", "Cardano"},
    {"addr_test", "Cardano testnet"},
    {"ckb", "Nervos CKB"},
    {"xch", "Chia"},
    {"ltcmweb", "Litecoin MWEB"},
};

/* Cardano's addresses are longer than Bech32's 90 characters, so only the
 * prefix can be checked; others must also carry a valid Bech32 checksum to
 * be recognised by an unknown prefix. */
static int foreign_bech32(const char *s, size_t n, char *why, size_t cap) {
    char hrp[16];
    /* no prefix (a Base58 string whose only '1' leads it): not Bech32 */
    if (bech32_hrp_of(s, n, hrp, sizeof hrp) != 0 || !hrp[0]) return 0;
    if (hrp_form(hrp) >= 0 || !strcmp(hrp, "bitcoincash") || !strcmp(hrp, "bchtest"))
        return 0; /* a form of a supported chain */
    /* every known prefix starts with a letter (an EVM address's "0x..." up
     * to its last '1' is none of them) */
    if (hrp[0] >= 'a' && hrp[0] <= 'z')
        for (size_t i = 0; i < sizeof FOREIGN_HRPS / sizeof FOREIGN_HRPS[0]; i++)
            if (!strcmp(hrp, FOREIGN_HRPS[i].hrp)) {
                snprintf(why, cap, "%s (Bech32 prefix '%s')", FOREIGN_HRPS[i].chain, hrp);
                return 1;
            }
    char got[16];
    uint8_t d5[90];
    size_t d5n = 0;
    if (ch_bech32_decode(s, got, sizeof got, d5, sizeof d5, &d5n, NULL) == CH_BECH32_INVALID)
        return 0;
    snprintf(why, cap, "a Bech32 address of prefix '%s', no chain coinhound screens", hrp);
    return 1;
}

static int unsupported_trimmed(const char *s, size_t n, char *why, size_t cap);

int ch_chainaddr_unsupported(const char *str, char *why, size_t cap) {
    char tmp[160];
    if (!why || cap == 0) {
        why = tmp;
        cap = sizeof tmp;
    }
    why[0] = '\0';
    if (!str) return 0;
    while (*str == ' ' || *str == '\t')
        str++;
    size_t n = strnlen(str, CH_ADDR_STR_MAX);
    while (n > 0 &&
           (str[n - 1] == ' ' || str[n - 1] == '\t' || str[n - 1] == '\r' || str[n - 1] == '\n'))
        n--;
    if (n < 3 || n >= CH_ADDR_STR_MAX) return 0;
    char s[CH_ADDR_STR_MAX];
    memcpy(s, str, n);
    s[n] = '\0';
    return unsupported_trimmed(s, n, why, cap);
}

/* ch_chainaddr_unsupported of s, n bytes (3 <= n < CH_ADDR_STR_MAX) already
 * trimmed and NUL-terminated; why and cap as given (not NULL, not 0). */
static int unsupported_trimmed(const char *s, size_t n, char *why, size_t cap) {
    if (foreign_bech32(s, n, why, cap)) return 1;
    /* 32-byte account keys in hex (Aptos, Sui, Starknet): not a 20-byte EVM
     * address, and easy to take for one. */
    if (n == 66 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        size_t i = 2;
        while (i < n && hex_val(s[i]) >= 0)
            i++;
        if (i == n) {
            snprintf(why, cap,
                     "0x and 64 hex digits (an Aptos, Sui or Starknet account, or a "
                     "transaction hash), not a 20-byte EVM address");
            return 1;
        }
    }
    /* A valid Base58Check string whose version no supported chain uses
     * (Tezos tz1/KT1, Decred, Dogecoin's D..., ...): the checksum holds, so
     * it was not mistyped; it is another chain's. */
    uint8_t buf[80];
    size_t len = 0;
    ch_chainaddr c;
    /* (the legacy parse first: a valid address, the common case, is
     * decoded once, the second decode answered by its memo) */
    if (all_b58(s, n) && parse_b58_legacy(s, n, CH_FAM_UNKNOWN, &c, NULL) != 0 &&
        b58check_decode(s, n, buf, &len, NULL) == 0 && len > 0) {
        snprintf(why, cap,
                 "a valid Base58Check string of version 0x%02x (%zu-byte payload) that no "
                 "chain coinhound screens uses",
                 buf[0], len);
        return 1;
    }
    return 0;
}

/* ---- dispatch ----------------------------------------------------------- */

static bool all_b58(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (b58_digit(B58_BTC, s[i]) < 0) return false;
    return true;
}

/* Parse as one named family, choosing among its forms by shape. */
static int parse_as(ch_family fam, const char *s, size_t n, const evm_prehash *pre,
                    ch_chainaddr *out, ch_error *err) {
    int form = bech32_form(s, n);
    if (form >= 0 && SEGWIT_HRPS[form].fam == fam) return parse_bech32(s, n, form, out, err);
    switch (fam) {
    case CH_FAM_EVM:
        return parse_evm(s, n, pre, out, err);
    case CH_FAM_BCH:
        if (memchr(s, ':', n) || cash_payload_form(s, n)) return parse_cashaddr(s, n, out, err);
        return parse_b58_legacy(s, n, fam, out, err);
    case CH_FAM_XMR:
        if (n == 64) return parse_xmr_hex(s, n, out, err);
        return parse_xmr(s, n, out, err);
    case CH_FAM_XRP:
        return parse_xrp(s, n, out, err);
    case CH_FAM_SOL:
        return parse_sol(s, n, out, err);
    case CH_FAM_BTC:
    case CH_FAM_LTC:
    case CH_FAM_BSV:
    case CH_FAM_BTG:
    case CH_FAM_DASH:
    case CH_FAM_ZEC:
    case CH_FAM_TRX:
    case CH_FAM_XVG:
        return parse_b58_legacy(s, n, fam, out, err);
    default:
        return ch_err(err, "unknown address family");
    }
}

/* Detect the family from the form. */
static int parse_detect(const char *s, size_t n, const evm_prehash *pre, ch_chainaddr *out,
                        ch_error *err) {
    int form;
    if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        return parse_evm(s, n, pre, out, err);
    if (memchr(s, ':', n)) return parse_cashaddr(s, n, out, err);
    if ((form = bech32_form(s, n)) >= 0) return parse_bech32(s, n, form, out, err);
    if (cash_payload_form(s, n) && strchr("qpzrQPZR", s[0])) return parse_cashaddr(s, n, out, err);
    if (n == 95 || n == 106) return parse_xmr(s, n, out, err);
    if (s[0] == 'r') return parse_xrp(s, n, out, err);
    if (n >= 32 && n <= 44 && all_b58(s, n) && parse_sol(s, n, out, NULL) == 0) return 0;
    return parse_b58_legacy(s, n, CH_FAM_UNKNOWN, out, err);
}

static bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* ---- the common forms, fast --------------------------------------------- */

/* A Bitcoin P2PKH or P2SH address (version 0x00 or 0x05; testnet's and
 * regtest's 0x6f and 0xc4; 20 bytes) whose Base58Check checksum holds: 1,
 * with out set; else 0. s is all Base58. */
static int fast_b58_btc(const char *s, size_t n, ch_chainaddr *out) {
    uint8_t b[25];
    size_t len = 0;
    if (enc_b58_decode_digits(s, n, b, sizeof b, &len) != 0 || len != 25) return 0;
    bool testnet = b[0] == 0x6f || b[0] == 0xc4;
    if (b[0] != 0x00 && b[0] != 0x05 && !testnet) return 0;
    ch_hash256 h;
    ch_sha256d(b, 21, &h);
    if (memcmp(h.b, b + 21, 4) != 0) return 0;
    set_canonical(out, s, n, CH_FAM_BTC, testnet);
    return 1;
}

/* 0x and 40 hex digits (m its scan), lower case, or upper case, or mixed
 * case that passes EIP-55: 1, with out set as parse_evm sets it; else 0
 * (parse_evm then says what is wrong). */
static int fast_evm(const char *s, const addr_scan *m, const evm_prehash *pre, ch_chainaddr *out) {
    const uint64_t digits = ((uint64_t)1 << 42) - 4; /* bits 2..41 */
    uint64_t up = m->uphex & digits, lo = m->lowhex & digits;
    if (((m->digit | up | lo) & digits) != digits) return 0;
    out->canonical[0] = '0';
    out->canonical[1] = 'x';
    for (size_t i = 2; i < 42; i++) /* a hex letter's 0x20 bit lowers it; digits have it */
        out->canonical[i] = (char)(s[i] | 0x20);
    out->canonical[42] = '\0';
    if (up && lo) {
        /* EIP-55: a letter is upper case exactly where the hash of the
         * lower-case digits has a nibble of 8 or more */
        uint8_t hbuf[32];
        const uint8_t *h = evm_sum_hash(pre, out->canonical + 2, hbuf);
        uint64_t want = 0;
        for (unsigned j = 0; j < 20; j++)
            want |= (uint64_t)(h[j] >> 7) << (2 + 2 * j) | (uint64_t)((h[j] >> 3) & 1)
                                                               << (3 + 2 * j);
        if ((up | lo) & (want ^ up)) return 0;
    }
    out->family = CH_FAM_EVM;
    out->testnet = false;
    return 1;
}

/* The forms nearly every screened address has - EVM, Bitcoin P2PKH, P2SH,
 * P2WPKH, P2WSH, P2TR - validated in one pass each, without detection's
 * tries of every other family. s: n bytes (n <= 64), trimmed, printable,
 * in a buffer of at least 64 bytes; m: its scan. 1 when s is valid in one
 * of these forms, with out set exactly as parse_any without a hint would
 * set it; 0 when it is not, or might be something else first (another
 * chain's Bech32 string, a Base58Check string of a foreign version): the
 * general path then decides, and says what is wrong. It never accepts what
 * that path refuses: each form's checksum is checked in full. */
static int parse_fast(const char *s, size_t n, const addr_scan *m, const evm_prehash *pre,
                      ch_chainaddr *out) {
    if (n != 42 && n != 44 && n != 62 && n != 64 && (n < 26 || n > 35)) return 0;
    uint64_t all = n >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << n) - 1; /* (n is at most 64) */
    bool all_b58 = m->b58 == all;
    /* Could ch_bech32_decode accept s, as unsupported_trimmed's Bech32 test
     * asks of every string? Not when its letter case is mixed (BIP-173),
     * nor when no prefix of 1 to 15 characters precedes its last '1'
     * (bech32_hrp_of's rule). */
    unsigned last1 = m->one ? 63u - (unsigned)__builtin_clzll(m->one) : 64u;
    bool bech32 = !(m->upper && m->lower) && last1 >= 1 && last1 < 16;
    if (bech32) {
        /* our own Bech32 forms, unless the string is also Base58 (then a
         * Base58Check test comes first) */
        bool testnet = false;
        if ((last1 != 2 && last1 != 4) || all_b58 || !enc_segwit_btc_common(s, n, &testnet))
            return 0;
        for (size_t i = 0; i < n; i++)
            out->canonical[i] = lower_ascii(s[i]);
        out->canonical[n] = '\0';
        out->family = CH_FAM_BTC;
        out->testnet = testnet;
        return 1;
    }
    if (n == 42 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) return fast_evm(s, m, pre, out);
    /* Base58: mainnet's 1 and 3, testnet's and regtest's m, n and 2 */
    bool btc_first = s[0] == '1' || s[0] == '3' || s[0] == 'm' || s[0] == 'n' || s[0] == '2';
    if (btc_first && n <= 35 && all_b58) return fast_b58_btc(s, n, out);
    return 0;
}

#define FOREIGN (-3) /* parse_any: another chain's address */

/* ch_chainaddr_parse_fault without the fault: -1, or BAD_SUM when the form
 * held and its checksum did not, or FOREIGN for another chain's address. */
static int parse_any(const char *s, ch_family hint, const evm_prehash *pre, bool fast,
                     ch_chainaddr *out, ch_error *err) {
    char buf[CH_ADDR_STR_MAX];
    size_t n;
    ch_chainaddr tmp;
    if (!s) return ch_err(err, "no address");
    while (is_space(*s))
        s++;
    n = strnlen(s, CH_ADDR_STR_MAX);
    while (n > 0 && is_space(s[n - 1]))
        n--;
    if (n == 0) return ch_err(err, "empty address");
    if (n >= CH_ADDR_STR_MAX) return ch_err(err, "too long to be an address");
    memcpy(buf, s, n);
    buf[n] = '\0';
    /* a short string's classes at once (the scan reads 64 bytes: zeroed past
     * the string) */
    addr_scan m;
    bool scanned = n <= 64;
    if (scanned) {
        memset(buf + n, 0, 64 - n);
        addr_scan_str(buf, n, &m);
    }
    if (!scanned || m.print != (n == 64 ? ~(uint64_t)0 : ((uint64_t)1 << n) - 1)) {
        if (memchr(buf, '\0', n)) return ch_err(err, "embedded NUL");
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)buf[i] <= 0x20 || (unsigned char)buf[i] >= 0x7f)
                return ch_err(err, "invalid character 0x%02x at position %zu",
                              (unsigned char)buf[i], i);
    }
    memset(&tmp, 0, sizeof tmp);
    /* Another chain's address is named as such, never guessed as one of
     * ours (a thor1... string can decode as a Solana key) nor called a bad
     * checksum. */
    char why[160];
    why[0] = '\0';
    if (fast && scanned && parse_fast(buf, n, &m, pre, &tmp) &&
        (hint == CH_FAM_UNKNOWN || hint == tmp.family)) {
        *out = tmp;
        return 0;
    }
    if (n >= 3 && unsupported_trimmed(buf, n, why, sizeof why)) {
        ch_err(err, "unsupported chain: %s", why);
        return FOREIGN;
    }
    if (hint > CH_FAM_UNKNOWN && hint < CH_FAM_COUNT) {
        ch_error first;
        first.msg[0] = '\0';
        int rc = parse_as(hint, buf, n, pre, &tmp, &first);
        if (rc == 0) {
            *out = tmp;
            return 0;
        }
        /* Sources file addresses under the wrong asset (OFAC's USDT list
         * holds Tron addresses); a string whose own form validates as
         * another family is accepted as that family. Never weaker: every
         * form checks its own checksum. */
        if (parse_detect(buf, n, pre, &tmp, NULL) == 0) {
            *out = tmp;
            return 0;
        }
        if (err) *err = first;
        return rc;
    }
    int rc = parse_detect(buf, n, pre, &tmp, err);
    if (rc != 0) return rc;
    *out = tmp;
    return 0;
}

static ch_addr_fault fault_of(int rc) {
    return rc == 0         ? CH_ADDR_FAULT_NONE
           : rc == BAD_SUM ? CH_ADDR_FAULT_CHECKSUM
           : rc == FOREIGN ? CH_ADDR_FAULT_UNSUPPORTED
                           : CH_ADDR_FAULT_FORM;
}

int ch_chainaddr_parse_fault(const char *s, ch_family hint, ch_chainaddr *out, ch_addr_fault *fault,
                             ch_error *err) {
    int rc = parse_any(s, hint, NULL, true, out, err);
    if (fault) *fault = fault_of(rc);
    return rc == 0 ? 0 : -1;
}

int chainaddr_parse_general(const char *s, ch_family hint, ch_chainaddr *out, ch_addr_fault *fault,
                            ch_error *err) {
    int rc = parse_any(s, hint, NULL, false, out, err);
    if (fault) *fault = fault_of(rc);
    return rc == 0 ? 0 : -1;
}

/* The lower-cased digits of s when s, trimmed as parse_any trims, is 0x and
 * 40 hex digits of both cases (an EIP-55 checksum to verify): 1, else 0. */
static int eip55_digits(const char *s, char hex[40]) {
    if (!s) return 0;
    while (is_space(*s))
        s++;
    if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X')) return 0;
    size_t n = strnlen(s, 64);
    if (n < 42) return 0;
    for (const char *t = s + 42; *t; t++) /* (long strings: parse_any refuses them) */
        if (!is_space(*t)) return 0;
    char buf[64];
    memcpy(buf, s, 42);
    memset(buf + 42, 0, sizeof buf - 42);
    addr_scan m;
    addr_scan_str(buf, 42, &m);
    const uint64_t digits = ((uint64_t)1 << 42) - 4; /* bits 2..41 */
    uint64_t up = m.uphex & digits, lo = m.lowhex & digits;
    if (((m.digit | up | lo) & digits) != digits || !up || !lo) return 0;
    for (size_t i = 0; i < 40; i++) /* a hex letter's 0x20 bit lowers it; digits have it */
        hex[i] = (char)(buf[2 + i] | 0x20);
    return 1;
}

/* Batches of this many: the pre-hashes live on the stack. */
#define PARSE_MANY_CHUNK 64

void ch_chainaddr_parse_many(const char *const *s, size_t n, ch_family hint, ch_chainaddr *out,
                             int *rc, ch_addr_fault *fault, ch_error *err) {
    for (size_t base = 0; base < n; base += PARSE_MANY_CHUNK) {
        size_t m = n - base < PARSE_MANY_CHUNK ? n - base : PARSE_MANY_CHUNK, k = 0;
        evm_prehash pre[PARSE_MANY_CHUNK];
        int which[PARSE_MANY_CHUNK]; /* pre[which[i]] is string i's, -1 none */
        const uint8_t *msg[PARSE_MANY_CHUNK];
        uint8_t hash[PARSE_MANY_CHUNK][32];
        for (size_t i = 0; i < m; i++) {
            which[i] = -1;
            if (eip55_digits(s[base + i], pre[k].hex)) {
                msg[k] = (const uint8_t *)pre[k].hex;
                which[i] = (int)k++;
            }
        }
        ch_keccak256_many(msg, 40, k, KECCAK_DOMAIN_ORIGINAL, hash);
        for (size_t j = 0; j < k; j++)
            memcpy(pre[j].hash, hash[j], 32);
        for (size_t i = 0; i < m; i++) {
            size_t at = base + i;
            int r = parse_any(s[at], hint, which[i] >= 0 ? &pre[which[i]] : NULL, true, &out[at],
                              err ? &err[at] : NULL);
            rc[at] = r == 0 ? 0 : -1;
            if (fault) fault[at] = fault_of(r);
        }
    }
}

int ch_chainaddr_parse(const char *s, ch_family hint, ch_chainaddr *out, ch_error *err) {
    return ch_chainaddr_parse_fault(s, hint, out, NULL, err);
}
