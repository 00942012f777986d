/* The fast paths of address decoding give the answers of independent
 * oracles and of the one-at-a-time parser.
 *
 * Where the expected values come from:
 *   - ch_keccak256_many (several Keccak states per vector instruction):
 *     OpenSSL's SHA3-256, the same sponge with domain byte 0x06, at every
 *     one-block length and batch size; and ch_keccak256_domain for 0x01.
 *   - Base58 (32-bit limbs): OpenSSL's BIGNUM arithmetic, digit by digit,
 *     on random strings of every length up to 90, the "too long" boundary
 *     included; Base58Check: strings built by BIGNUM from random payloads
 *     and OpenSSL's EVP SHA-256 twice, then altered in one character.
 *   - EIP-55 (checked without branches, hashes worked out ahead): the rule
 *     as EIP-55 states it, applied here letter by letter to a hash from the
 *     sponge checked above; every one-letter case flip must be refused as a
 *     checksum fault naming that letter's position.
 *   - The fast path of the common forms (EVM, P2PKH, P2SH, P2WPKH, P2WSH,
 *     P2TR): the general parser's answer (chainaddr_parse_general, every
 *     family tried in detection's order), field by field, under several
 *     hints, on random valid addresses of each form, of neighbouring forms
 *     (testnet, other witness versions and lengths, foreign Base58
 *     versions) and on their one-character mutations and case flips.
 *   - The character classes by 16 bytes at a time (addr_scan_str, SSE2):
 *     the byte-by-byte definition (addr_scan_byte), on random bytes of
 *     every value and every length up to 64.
 *   - ch_chainaddr_parse_many and ch_screen_lookup_many: the answer of
 *     ch_chainaddr_parse_fault and ch_screen_lookup on each string, field
 *     by field, on valid addresses of every form and their one-character
 *     mutations, in batches longer than their internal chunks. */
#include "support/testutil.h"

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coinhound/chainaddr.h"
#include "coinhound/encode.h"
#include "coinhound/hash.h"
#include "coinhound/screen.h"
#include "intel/addr_scan.h"
#include "intel/chainaddr_general.h"
#include "util/keccak.h"

static const char B58[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

static uint64_t rng = 0x1234567;
static uint32_t rnd(void) {
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(rng >> 33);
}

static void test_keccak_many_against_openssl_sha3(void **state) {
    (void)state;
    enum { MAXN = 19 };
    static uint8_t msg[MAXN][135];
    const uint8_t *p[MAXN];
    for (size_t i = 0; i < MAXN; i++) {
        for (size_t k = 0; k < sizeof msg[i]; k++)
            msg[i][k] = (uint8_t)rnd();
        p[i] = msg[i];
    }
    for (size_t len = 0; len < 136; len++)
        for (size_t n = 0; n <= MAXN; n++) {
            uint8_t out[MAXN][32], ref[32];
            ch_keccak256_many(p, len, n, KECCAK_DOMAIN_SHA3, out);
            for (size_t i = 0; i < n; i++) {
                unsigned got = 0;
                assert_int_equal(EVP_Digest(p[i], len, ref, &got, EVP_sha3_256(), NULL), 1);
                if (memcmp(out[i], ref, 32) != 0)
                    fail_msg("SHA3-256 mismatch: length %zu, batch of %zu, message %zu", len, n, i);
            }
            ch_keccak256_many(p, len, n, KECCAK_DOMAIN_ORIGINAL, out);
            for (size_t i = 0; i < n; i++) {
                ch_keccak256_domain(p[i], len, KECCAK_DOMAIN_ORIGINAL, ref);
                if (memcmp(out[i], ref, 32) != 0)
                    fail_msg("Keccak-256 mismatch: length %zu, batch of %zu, message %zu", len, n,
                             i);
            }
        }
}

/* The bytes a Base58 string stands for, by BIGNUM: its leading '1's as zero
 * bytes, then the value big-endian. -1 for a character outside the
 * alphabet. */
static int oracle_b58_decode(const char *s, uint8_t *out, size_t cap, size_t *len) {
    BIGNUM *bn = BN_new();
    size_t zeros = 0, n = strlen(s);
    assert_non_null(bn);
    while (zeros < n && s[zeros] == '1')
        zeros++;
    for (size_t i = 0; i < n; i++) {
        const char *d = strchr(B58, s[i]);
        if (!s[i] || !d) {
            BN_free(bn);
            return -1;
        }
        assert_int_equal(BN_mul_word(bn, 58), 1);
        assert_int_equal(BN_add_word(bn, (BN_ULONG)(d - B58)), 1);
    }
    size_t vb = (size_t)BN_num_bytes(bn);
    if (zeros + vb > cap) {
        BN_free(bn);
        return -2; /* too long for cap */
    }
    memset(out, 0, zeros);
    BN_bn2bin(bn, out + zeros);
    *len = zeros + vb;
    BN_free(bn);
    return 0;
}

/* bytes as Base58, by BIGNUM (division by 58 until nothing is left). */
static void oracle_b58_encode(const uint8_t *in, size_t len, char *out) {
    BIGNUM *bn = BN_bin2bn(in, (int)len, NULL);
    char rev[256];
    size_t k = 0, zeros = 0;
    assert_non_null(bn);
    while (zeros < len && in[zeros] == 0)
        zeros++;
    while (!BN_is_zero(bn)) {
        BN_ULONG r = BN_div_word(bn, 58);
        rev[k++] = B58[r];
    }
    BN_free(bn);
    size_t o = 0;
    for (size_t i = 0; i < zeros; i++)
        out[o++] = '1';
    while (k > 0)
        out[o++] = rev[--k];
    out[o] = '\0';
}

static void test_base58_decode_against_bignum(void **state) {
    (void)state;
    for (int iter = 0; iter < 20000; iter++) {
        char s[96];
        size_t n = rnd() % 91, lead = rnd() % 4 == 0 ? rnd() % 5 : 0;
        for (size_t i = 0; i < n; i++)
            s[i] = i < lead ? '1' : B58[rnd() % 58];
        if (n && rnd() % 16 == 0) s[rnd() % n] = "0OIl+ "[rnd() % 6]; /* not in the alphabet */
        s[n] = '\0';
        uint8_t ref[128], got[128];
        size_t ref_len = 0, got_len = 0;
        int want = oracle_b58_decode(s, ref, sizeof ref, &ref_len);
        int rc = ch_base58_decode(s, got, sizeof got, &got_len);
        if (want == -1) {
            if (rc != -1) fail_msg("'%s' has a character outside the alphabet: accepted", s);
            continue;
        }
        assert_int_equal(want, 0); /* 90 digits fit 128 bytes */
        if (rc != 0) fail_msg("'%s' refused", s);
        assert_int_equal(got_len, ref_len);
        if (memcmp(got, ref, ref_len) != 0) fail_msg("'%s' decodes to other bytes", s);
        /* the room boundary: exactly enough decodes, one byte less is refused */
        if (ref_len > 0) {
            assert_int_equal(ch_base58_decode(s, got, ref_len, &got_len), 0);
            assert_int_equal(got_len, ref_len);
            assert_memory_equal(got, ref, ref_len);
            assert_int_equal(ch_base58_decode(s, got, ref_len - 1, &got_len), -1);
        }
    }
}

static void sha256d_evp(const uint8_t *in, size_t len, uint8_t out[32]) {
    uint8_t first[32];
    unsigned n = 0;
    assert_int_equal(EVP_Digest(in, len, first, &n, EVP_sha256(), NULL), 1);
    assert_int_equal(EVP_Digest(first, 32, out, &n, EVP_sha256(), NULL), 1);
}

static void test_base58check_against_bignum_and_evp(void **state) {
    (void)state;
    for (int iter = 0; iter < 5000; iter++) {
        uint8_t payload[64 + 4], h[32];
        size_t len = 1 + rnd() % 64, zeros = rnd() % 8 == 0 ? rnd() % 3 : 0;
        for (size_t i = 0; i < len; i++)
            payload[i] = i < zeros ? 0 : (uint8_t)rnd();
        sha256d_evp(payload, len, h);
        memcpy(payload + len, h, 4);
        char s[128];
        oracle_b58_encode(payload, len + 4, s);
        uint8_t got[80];
        size_t got_len = 0;
        ch_error err = {{0}};
        if (ch_base58check_decode(s, got, sizeof got, &got_len, &err) != 0)
            fail_msg("'%s' refused: %s", s, err.msg);
        assert_int_equal(got_len, len);
        assert_memory_equal(got, payload, len);
        /* one character changed: accepted only when the oracle's checksum
         * holds for what it then stands for (it almost never does) */
        size_t at = rnd() % strlen(s);
        char was = s[at];
        s[at] = B58[(strchr(B58, was) - B58 + 1 + rnd() % 57) % 58];
        uint8_t raw[128];
        size_t raw_len = 0;
        int ok = oracle_b58_decode(s, raw, sizeof raw, &raw_len) == 0 && raw_len >= 4;
        if (ok) {
            sha256d_evp(raw, raw_len - 4, h);
            ok = memcmp(h, raw + raw_len - 4, 4) == 0 && raw_len - 4 <= sizeof got;
        }
        int rc = ch_base58check_decode(s, got, sizeof got, &got_len, NULL);
        if ((rc == 0) != ok)
            fail_msg("'%s' (altered at %zu): decoder %d, oracle %d", s, at, rc, ok);
    }
}

/* EIP-55's rule, letter by letter: upper case where the nibble of
 * Keccak-256(lower-case hex) at its position is 8 or more. */
static void eip55_by_rule(const uint8_t addr[20], char out[43]) {
    static const char HEX[] = "0123456789abcdef";
    uint8_t h[32];
    out[0] = '0';
    out[1] = 'x';
    for (size_t i = 0; i < 20; i++) {
        out[2 + 2 * i] = HEX[addr[i] >> 4];
        out[3 + 2 * i] = HEX[addr[i] & 15];
    }
    out[42] = '\0';
    ch_keccak256_domain(out + 2, 40, KECCAK_DOMAIN_ORIGINAL, h);
    for (size_t i = 0; i < 40; i++) {
        unsigned nib = i % 2 ? h[i / 2] & 15 : h[i / 2] >> 4;
        if (out[2 + i] >= 'a' && nib >= 8) out[2 + i] = (char)(out[2 + i] - 32);
    }
}

static int mixed_case(const char *s) {
    int up = 0, low = 0;
    for (; *s; s++) {
        up |= *s >= 'A' && *s <= 'F';
        low |= *s >= 'a' && *s <= 'f';
    }
    return up && low;
}

static void test_eip55_random_by_the_rule(void **state) {
    (void)state;
    enum { N = 300 };
    static char strs[N * 41][43];
    static const char *ptr[N * 41];
    static size_t flipped_at[N * 41];
    size_t m = 0;
    for (int iter = 0; iter < N; iter++) {
        uint8_t addr[20];
        char base[43];
        for (size_t i = 0; i < 20; i++)
            addr[i] = (uint8_t)rnd();
        eip55_by_rule(addr, base);
        memcpy(strs[m], base, sizeof base);
        flipped_at[m++] = 0;
        /* each letter's case flipped (a flip that leaves one case only
         * claims no checksum: left out) */
        for (size_t k = 2; k < 42; k++) {
            char c = base[k];
            if (!((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) continue;
            memcpy(strs[m], base, sizeof base);
            strs[m][k] = (char)(c ^ 0x20);
            if (!mixed_case(strs[m])) continue;
            flipped_at[m++] = k;
        }
    }
    for (size_t i = 0; i < m; i++)
        ptr[i] = strs[i];
    ch_chainaddr *out = calloc(m, sizeof *out);
    int *rc = calloc(m, sizeof *rc);
    ch_addr_fault *fault = calloc(m, sizeof *fault);
    ch_error *err = calloc(m, sizeof *err);
    assert_non_null(out);
    assert_non_null(rc);
    assert_non_null(fault);
    assert_non_null(err);
    ch_chainaddr_parse_many(ptr, m, CH_FAM_UNKNOWN, out, rc, fault, err);
    for (size_t i = 0; i < m; i++) {
        ch_chainaddr one;
        ch_addr_fault f1;
        ch_error e1 = {{0}};
        int r1 = ch_chainaddr_parse_fault(strs[i], CH_FAM_UNKNOWN, &one, &f1, &e1);
        if (flipped_at[i] == 0) {
            if (r1 != 0 || rc[i] != 0) fail_msg("%s (by the rule) refused: %s", strs[i], e1.msg);
            assert_int_equal(one.family, CH_FAM_EVM);
            assert_string_equal(out[i].canonical, one.canonical);
        } else {
            char want[96];
            snprintf(want, sizeof want, "at position %zu)", flipped_at[i]);
            if (r1 != -1 || f1 != CH_ADDR_FAULT_CHECKSUM || !strstr(e1.msg, want))
                fail_msg("%s (case flipped at %zu): %d %d %s", strs[i], flipped_at[i], r1, (int)f1,
                         e1.msg);
            assert_int_equal(rc[i], -1);
            assert_int_equal(fault[i], CH_ADDR_FAULT_CHECKSUM);
            assert_string_equal(err[i].msg, e1.msg);
        }
    }
    free(out);
    free(rc);
    free(fault);
    free(err);
}

/* Valid addresses of every form the parser knows, another chain's, and
 * strings of none. */
static const char *const SEEDS[] = {
    "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
    "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",
    "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
    "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4",
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
    "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7",
    "bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a",
    "qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a",
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "  0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB\t",
    "0xd1220a0cf47c7b9be7a2e6ba89f429762e7b9adb",
    "0x52908400098527886E0F7030069857D2E4169EE7",
    "rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTh",
    "TN3W4H6rK2ce4vX9YnFQHwKENnHjoxb3m9",
    "LM2WMpR1Rp6j3Sa59cMXMs1SPzj9eXpGc1",
    "4Nd1mBQtrMJVYVfhd1ZdcXPyAvNYHWAjhzYjjMB3s4Ht",
    "thor1dheycdevq39qlkxs2a6wuuzyn4aqxhve4qxtxt",
    "0x1111111111111111111111111111111111111111111111111111111111111111",
    "not an address",
    "",
    "0x",
};

static void test_parse_many_same_as_parse(void **state) {
    (void)state;
    enum { CAP = 6000 };
    static char strs[CAP][CH_ADDR_STR_MAX];
    static const char *ptr[CAP];
    size_t m = 0;
    for (size_t i = 0; i < sizeof SEEDS / sizeof SEEDS[0]; i++) {
        size_t n = strlen(SEEDS[i]);
        snprintf(strs[m++], CH_ADDR_STR_MAX, "%s", SEEDS[i]);
        /* each character's case flipped, and each replaced by its neighbour */
        for (size_t k = 0; k < n && m + 2 <= CAP; k++) {
            char c = SEEDS[i][k];
            snprintf(strs[m], CH_ADDR_STR_MAX, "%s", SEEDS[i]);
            strs[m++][k] = (char)(c ^ 0x20);
            snprintf(strs[m], CH_ADDR_STR_MAX, "%s", SEEDS[i]);
            strs[m++][k] = (char)(c + 1);
        }
    }
    for (size_t i = 0; i < m; i++)
        ptr[i] = strs[i];
    static const ch_family HINTS[] = {CH_FAM_UNKNOWN, CH_FAM_EVM, CH_FAM_BTC, CH_FAM_BCH};
    ch_chainaddr *out = calloc(m, sizeof *out);
    int *rc = calloc(m, sizeof *rc);
    ch_addr_fault *fault = calloc(m, sizeof *fault);
    ch_error *err = calloc(m, sizeof *err);
    assert_non_null(out);
    assert_non_null(rc);
    assert_non_null(fault);
    assert_non_null(err);
    for (size_t h = 0; h < sizeof HINTS / sizeof HINTS[0]; h++) {
        ch_chainaddr_parse_many(ptr, m, HINTS[h], out, rc, fault, err);
        for (size_t i = 0; i < m; i++) {
            ch_chainaddr one;
            ch_addr_fault f1;
            ch_error e1 = {{0}};
            int r1 = ch_chainaddr_parse_fault(strs[i], HINTS[h], &one, &f1, &e1);
            if (r1 != rc[i] || f1 != fault[i])
                fail_msg("'%s' (hint %d): one at a time %d/%d, many %d/%d", strs[i], (int)HINTS[h],
                         r1, (int)f1, rc[i], (int)fault[i]);
            if (r1 == 0) {
                assert_string_equal(out[i].canonical, one.canonical);
                assert_int_equal(out[i].family, one.family);
                assert_int_equal(out[i].testnet, one.testnet);
            } else {
                assert_string_equal(err[i].msg, e1.msg);
            }
        }
    }
    free(out);
    free(rc);
    free(fault);
    free(err);
}

static void test_lookup_many_same_as_lookup(void **state) {
    (void)state;
    char *dir = tu_tmpdir(), path[512];
    assert_non_null(dir);
    snprintf(path, sizeof path, "%s/set.chset", dir);
    ch_screen_writer *w = ch_screen_set_writer_new();
    assert_non_null(w);
    ch_attribution a;
    memset(&a, 0, sizeof a);
    strcpy(a.category, "sanctions");
    strcpy(a.entity, "Listed");
    strcpy(a.source_name, "test");
    a.confidence = 90;
    ch_error err = {{0}};
    /* every other seed listed, by its canonical key */
    for (size_t i = 0; i < sizeof SEEDS / sizeof SEEDS[0]; i += 2) {
        ch_chainaddr c;
        if (ch_chainaddr_parse(SEEDS[i], CH_FAM_UNKNOWN, &c, NULL) != 0) continue;
        if (ch_screen_set_writer_add_key(w, c.canonical, &a, &err) != 0) fail_msg("%s", err.msg);
    }
    assert_int_equal(ch_screen_set_writer_add_key(w, "not an address", &a, &err), 0);
    ch_screen_info info;
    if (ch_screen_set_writer_finish(w, path, &info, &err) != 0) fail_msg("%s", err.msg);
    ch_screen_set_writer_free(w);
    ch_screen_set *set;
    if (ch_screen_set_open(path, &set, &err) != 0) fail_msg("%s", err.msg);

    enum { M = 100 };
    const char *ptr[M];
    ch_screen_result many[M];
    for (size_t i = 0; i < M; i++)
        ptr[i] = SEEDS[(i * 7) % (sizeof SEEDS / sizeof SEEDS[0])];
    ch_screen_lookup_many(set, ptr, M, many);
    size_t listed = 0;
    for (size_t i = 0; i < M; i++) {
        ch_screen_result one;
        ch_screen_lookup(set, ptr[i], &one);
        assert_int_equal(many[i].status, one.status);
        assert_int_equal(many[i].family, one.family);
        assert_string_equal(many[i].canonical, one.canonical);
        assert_string_equal(many[i].reason, one.reason);
        assert_int_equal(many[i].n_attr, one.n_attr);
        assert_ptr_equal(many[i].attr_index, one.attr_index);
        listed += one.status == CH_SCREEN_LISTED;
    }
    assert_true(listed > 0 && listed < M); /* both answers were asked */
    ch_screen_set_close(set);
    tu_rmrf(dir);
    free(dir);
}

/* One random address of a common form or a neighbour of one, as text. */
static void gen_form(int form, char *out, size_t cap) {
    uint8_t b[40];
    for (size_t i = 0; i < sizeof b; i++)
        b[i] = (uint8_t)rnd();
    switch (form) {
    case 0: /* P2PKH */
        b[0] = 0x00;
        ch_base58check_encode(b, 21, out, cap);
        break;
    case 1: /* P2SH */
        b[0] = 0x05;
        ch_base58check_encode(b, 21, out, cap);
        break;
    case 2: /* P2PKH with leading zero bytes in the hash: several leading '1's */
        b[0] = 0x00;
        b[1] = 0x00;
        b[2] = (uint8_t)(rnd() % 3 ? 0x00 : b[2]);
        ch_base58check_encode(b, 21, out, cap);
        break;
    case 3: /* P2WPKH */
        ch_segwit_encode("bc", 0, b, 20, out, cap);
        break;
    case 4: /* P2WSH */
        ch_segwit_encode("bc", 0, b, 32, out, cap);
        break;
    case 5: /* P2TR */
        ch_segwit_encode("bc", 1, b, 32, out, cap);
        break;
    case 6: /* EVM, EIP-55 */
        ch_evm_checksum_address(b, out);
        break;
    case 7: /* EVM, lower case */
        ch_evm_checksum_address(b, out);
        for (char *c = out + 2; *c; c++)
            if (*c >= 'A' && *c <= 'F') *c = (char)(*c + 32);
        break;
    case 8: /* EVM, upper-case digits */
        ch_evm_checksum_address(b, out);
        for (char *c = out + 2; *c; c++)
            if (*c >= 'a' && *c <= 'f') *c = (char)(*c - 32);
        break;
    case 9: /* neighbours: testnet, other witness versions and lengths */
        switch (rnd() % 6) {
        case 0:
            ch_segwit_encode(rnd() % 2 ? "tb" : "bcrt", rnd() % 2, b, 32, out, cap);
            if (out[0] && rnd() % 2) ch_segwit_encode("bcrt", 0, b, 20, out, cap);
            break;
        case 1:
            ch_segwit_encode("bc", 1, b, 20, out, cap);
            break;
        case 2:
            ch_segwit_encode("bc", 2, b, 32, out, cap);
            break;
        case 3:
            ch_segwit_encode("ltc", 0, b, 20, out, cap);
            break;
        case 4:
            ch_segwit_encode("bc", 0, b, 24, out, cap); /* refused: v0 is 20 or 32 */
            if (!out[0]) ch_segwit_encode("bc", 16, b, 24, out, cap);
            break;
        default:
            ch_segwit_encode("bc", 1, b, 40, out, cap);
            break;
        }
        break;
    default: /* neighbours: Base58Check of other versions (testnet's among them) and lengths */
        b[0] = (uint8_t)(rnd() % 2 ? rnd() : (rnd() % 2 ? 0x30 : rnd() % 2 ? 0x6f : 0xc4));
        ch_base58check_encode(b, rnd() % 4 ? 21 : 20 + rnd() % 4, out, cap);
        break;
    }
}

/* s under hint: the fast path's answer equals the general one's. */
static void same_answer(const char *s, ch_family hint) {
    ch_chainaddr f, g;
    ch_addr_fault ff, gf;
    ch_error fe = {{0}}, ge = {{0}};
    memset(&f, 0, sizeof f);
    memset(&g, 0, sizeof g);
    int fr = ch_chainaddr_parse_fault(s, hint, &f, &ff, &fe);
    int gr = chainaddr_parse_general(s, hint, &g, &gf, &ge);
    if (fr != gr || ff != gf)
        fail_msg("'%s' (hint %d): fast %d/%d (%s), general %d/%d (%s)", s, (int)hint, fr, (int)ff,
                 fe.msg, gr, (int)gf, ge.msg);
    if (fr == 0) {
        if (strcmp(f.canonical, g.canonical) || f.family != g.family || f.testnet != g.testnet)
            fail_msg("'%s' (hint %d): fast %s %d %d, general %s %d %d", s, (int)hint, f.canonical,
                     (int)f.family, f.testnet, g.canonical, (int)g.family, g.testnet);
    } else if (strcmp(fe.msg, ge.msg) != 0) {
        fail_msg("'%s' (hint %d): fast says '%s', general '%s'", s, (int)hint, fe.msg, ge.msg);
    }
}

static void test_fast_path_same_as_general(void **state) {
    (void)state;
    static const ch_family HINTS[] = {CH_FAM_UNKNOWN, CH_FAM_BTC, CH_FAM_EVM,
                                      CH_FAM_BCH,     CH_FAM_LTC, CH_FAM_ZEC};
    size_t valid[11] = {0}, checked = 0;
    for (int iter = 0; iter < 600; iter++)
        for (int form = 0; form < 11; form++) {
            char base[CH_ADDR_STR_MAX] = "", m[CH_ADDR_STR_MAX + 2];
            gen_form(form, base, sizeof base);
            if (!base[0]) continue;
            size_t n = strlen(base);
            ch_chainaddr c;
            valid[form] += ch_chainaddr_parse(base, CH_FAM_UNKNOWN, &c, NULL) == 0;
            for (size_t h = 0; h < sizeof HINTS / sizeof HINTS[0]; h++)
                same_answer(base, HINTS[h]);
            /* upper case whole (Bech32's other case), padded */
            for (size_t k = 0; k <= n; k++)
                m[k] = base[k] >= 'a' && base[k] <= 'z' ? (char)(base[k] - 32) : base[k];
            same_answer(m, CH_FAM_UNKNOWN);
            snprintf(m, sizeof m, " %s\t", base);
            same_answer(m, CH_FAM_UNKNOWN);
            /* one character changed: its case, a neighbour, a random digit;
             * one dropped, one doubled */
            for (size_t k = 0; k < n; k++) {
                static const char ALPHA[] = "0123456789abcdefABCDEFqpzrylmnoIOl1";
                char subs[3] = {(char)(base[k] ^ 0x20), (char)(base[k] + 1),
                                ALPHA[rnd() % (sizeof ALPHA - 1)]};
                for (int t = 0; t < 3; t++) {
                    if (subs[t] <= 0x20 || subs[t] >= 0x7f) continue;
                    memcpy(m, base, n + 1);
                    m[k] = subs[t];
                    same_answer(m, HINTS[rnd() % 3]);
                    checked++;
                }
                if (k % 7 == 0) {
                    memcpy(m, base, k);
                    memcpy(m + k, base + k + 1, n - k);
                    same_answer(m, CH_FAM_UNKNOWN);
                    memcpy(m, base, k + 1);
                    memcpy(m + k + 1, base + k, n - k + 1);
                    same_answer(m, CH_FAM_UNKNOWN);
                }
            }
        }
    /* the common forms were valid, so the fast path was taken */
    for (int form = 0; form < 9; form++)
        if (valid[form] != 600) fail_msg("form %d: %zu of 600 valid", form, valid[form]);
    assert_true(checked > 100000);
}

static void test_scan_same_as_byte_by_byte(void **state) {
    (void)state;
    for (int iter = 0; iter < 20000; iter++) {
        char buf[80];
        size_t n = rnd() % 65;
        for (size_t i = 0; i < sizeof buf; i++) /* every byte value, printable ASCII often */
            buf[i] = (char)(rnd() % 3 ? 0x20 + rnd() % 0x60 : rnd() % 256);
        addr_scan fast, slow;
        addr_scan_str(buf, n, &fast);
        memset(&slow, 0, sizeof slow);
        for (size_t i = 0; i < n; i++)
            addr_scan_byte((unsigned char)buf[i], i, &slow);
        if (memcmp(&fast, &slow, sizeof fast) != 0)
            fail_msg("scan of %zu bytes differs (print %llx/%llx b58 %llx/%llx)", n,
                     (unsigned long long)fast.print, (unsigned long long)slow.print,
                     (unsigned long long)fast.b58, (unsigned long long)slow.b58);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keccak_many_against_openssl_sha3),
        cmocka_unit_test(test_base58_decode_against_bignum),
        cmocka_unit_test(test_base58check_against_bignum_and_evp),
        cmocka_unit_test(test_eip55_random_by_the_rule),
        cmocka_unit_test(test_parse_many_same_as_parse),
        cmocka_unit_test(test_lookup_many_same_as_lookup),
        cmocka_unit_test(test_fast_path_same_as_general),
        cmocka_unit_test(test_scan_same_as_byte_by_byte),
    };
    return cmocka_run_group_tests_name("address fast paths", tests, NULL, NULL);
}
