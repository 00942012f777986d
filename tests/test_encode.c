/* Base58, Base58Check, Bech32, Bech32m, segwit and ch_addr strings against
 * published test vectors.
 *
 * Sources (typed in from the published lists):
 *   BIP173  https://github.com/bitcoin/bips/blob/master/bip-0173.mediawiki  "Test vectors"
 *   BIP350  https://github.com/bitcoin/bips/blob/master/bip-0350.mediawiki  "Test vectors"
 *   Bitcoin Core src/test/data/base58_encode_decode.json (Base58)
 *   Bitcoin Core src/test/data/key_io_valid.json (addresses with scriptPubKeys) */
#include "support/testutil.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "coinhound/address.h"
#include "coinhound/encode.h"
#include "coinhound/hash.h"

/* ---- helpers ---- */

static void lower_copy(const char *s, char *out, size_t cap) {
    size_t i;
    for (i = 0; s[i] && i + 1 < cap; i++)
        out[i] = (char)tolower((unsigned char)s[i]);
    out[i] = '\0';
}

/* The hrp of a segwit test address: what precedes the last '1', lowercased. */
static void hrp_of(const char *addr, char *out, size_t cap) {
    const char *sep = strrchr(addr, '1');
    size_t n = sep ? (size_t)(sep - addr) : 0, i;
    assert_true(n + 1 <= cap);
    for (i = 0; i < n; i++)
        out[i] = (char)tolower((unsigned char)addr[i]);
    out[n] = '\0';
}

/* scriptPubKey of a witness program, in hex: OP_n, push, program. */
static void witness_script_hex(int ver, const uint8_t *prog, size_t len, char *out) {
    uint8_t spk[42];
    spk[0] = (uint8_t)(ver ? 0x50 + ver : 0);
    spk[1] = (uint8_t)len;
    memcpy(spk + 2, prog, len);
    ch_hex_encode(spk, len + 2, out);
}

/* scriptPubKey of a ch_addr, in hex (P2PKH, P2SH or witness). */
static void addr_script_hex(const ch_addr *a, char *out) {
    char h[81];
    ch_hex_encode(a->bytes, a->len, h);
    switch (a->kind) {
    case CH_ADDR_P2PKH:
        sprintf(out, "76a914%s88ac", h);
        break;
    case CH_ADDR_P2SH:
        sprintf(out, "a914%s87", h);
        break;
    case CH_ADDR_WITNESS:
        witness_script_hex(a->version, a->bytes, a->len, out);
        break;
    default:
        strcpy(out, "?");
    }
}

/* ---- Bech32 / Bech32m checksums ---- */

/* BIP173: valid Bech32 strings. */
static const char *const BECH32_VALID[] = {
    "A12UEL5L",
    "a12uel5l",
    "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
    "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
    "11qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqc8247j",
    "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
    "?1ezyfcl",
};

/* BIP350: valid Bech32m strings. */
static const char *const BECH32M_VALID[] = {
    "A1LQFN3A",
    "a1lqfn3a",
    "an83characterlonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11sg7hg6",
    "abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx",
    "11llllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllludsr8",
    "split1checkupstagehandshakeupstreamerranterredcaperredlc445v",
    "?1v759aa",
};

/* Decode s, expect variant v, and re-encode to the lowercase string. */
static void check_valid_checksum(const char *s, ch_bech32_variant v) {
    char hrp[91], enc[91], low[91];
    uint8_t data[90];
    size_t n = 0;
    ch_error err = {{0}};
    ch_bech32_variant got = ch_bech32_decode(s, hrp, sizeof hrp, data, sizeof data, &n, &err);
    if (got != v) fail_msg("%s: got variant %d, want %d (%s)", s, got, v, err.msg);
    assert_int_equal(ch_bech32_encode(hrp, data, n, v, enc, sizeof enc), strlen(s));
    lower_copy(s, low, sizeof low);
    assert_string_equal(enc, low);
}

static void test_bech32_valid(void **state) {
    (void)state;
    size_t i;
    for (i = 0; i < sizeof BECH32_VALID / sizeof *BECH32_VALID; i++)
        check_valid_checksum(BECH32_VALID[i], CH_BECH32);
}

static void test_bech32m_valid(void **state) {
    (void)state;
    size_t i;
    for (i = 0; i < sizeof BECH32M_VALID / sizeof *BECH32M_VALID; i++)
        check_valid_checksum(BECH32M_VALID[i], CH_BECH32M);
}

static void test_bech32_decoded_data(void **state) {
    (void)state;
    /* "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7l..." spells the words 0..31 in
     * alphabet order. */
    char hrp[16];
    uint8_t data[64];
    size_t n = 0, i;
    assert_int_equal(ch_bech32_decode("abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw", hrp,
                                      sizeof hrp, data, sizeof data, &n, NULL),
                     CH_BECH32);
    assert_string_equal(hrp, "abcdef");
    assert_int_equal(n, 32);
    for (i = 0; i < 32; i++)
        assert_int_equal(data[i], i);
}

typedef struct invalid_case {
    const char *s;
    const char *why; /* expected substring of the error message */
} invalid_case;

/* BIP173 invalid Bech32 strings and BIP350 invalid Bech32m strings (those
 * whose first or last byte is outside ASCII are built in the test). */
static const invalid_case BECH32_INVALID[] = {
    /* BIP173 */
    {"an84characterslonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1569pvx",
     "too long"},
    {"pzry9x0s0muk", "no separator"},
    {"1pzry9x0s0muk", "empty human-readable part"},
    {"x1b4n0q5v", "invalid character at position 2"},
    {"li1dgmt3", "checksum too short"},
    {"A1G7SGD8", "bad checksum"},
    {"10a06t8", "empty human-readable part"},
    {"1qzzfhee", "empty human-readable part"},
    /* BIP350 */
    {"an84characterslonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11d6pts4",
     "too long"},
    {"qyrz8wqd2c9m", "no separator"},
    {"1qyrz8wqd2c9m", "empty human-readable part"},
    {"y1b0jsk6g", "invalid character at position 2"},
    {"lt1igcx5c0", "invalid character at position 3"},
    {"in1muywd", "checksum too short"},
    {"mm1crxm3i", "invalid character at position 8"},
    {"au1s5cgom", "invalid character at position 7"},
    {"M1VUXWEZ", "bad checksum"},
    {"16plkw9", "empty human-readable part"},
    {"1p2gdwpf", "empty human-readable part"},
    /* Mixed case (BIP173: decoders must not accept it). */
    {"a12UEL5L", "mixed case"},
};

static void expect_bech32_invalid(const char *s, const char *why) {
    char hrp[91];
    uint8_t data[90];
    size_t n = 0;
    ch_error err = {{0}};
    ch_bech32_variant v = ch_bech32_decode(s, hrp, sizeof hrp, data, sizeof data, &n, &err);
    if (v != CH_BECH32_INVALID) fail_msg("accepted invalid string %s", s);
    if (!strstr(err.msg, why)) fail_msg("%s: message \"%s\" lacks \"%s\"", s, err.msg, why);
}

static void test_bech32_invalid(void **state) {
    (void)state;
    size_t i;
    for (i = 0; i < sizeof BECH32_INVALID / sizeof *BECH32_INVALID; i++)
        expect_bech32_invalid(BECH32_INVALID[i].s, BECH32_INVALID[i].why);
}

static void test_bech32_invalid_bytes(void **state) {
    (void)state;
    /* BIP173: 0x20/0x7F/0x80 + "1nwldj5"/"1axkwrx"/"1eym55h" (HRP character
     * out of range) and "de1lg7wt" + 0xFF (invalid character in checksum).
     * BIP350: 0x20/0x7F/0x80 + "1xj0phk"/"1g6xzxy"/"1vctc34". */
    expect_bech32_invalid("\x20"
                          "1nwldj5",
                          "invalid character at position 0");
    expect_bech32_invalid("\x7f"
                          "1axkwrx",
                          "invalid character at position 0");
    expect_bech32_invalid("\x80"
                          "1eym55h",
                          "invalid character at position 0");
    expect_bech32_invalid("de1lg7wt\xff", "invalid character at position 8");
    expect_bech32_invalid("\x20"
                          "1xj0phk",
                          "invalid character at position 0");
    expect_bech32_invalid("\x7f"
                          "1g6xzxy",
                          "invalid character at position 0");
    expect_bech32_invalid("\x80"
                          "1vctc34",
                          "invalid character at position 0");
}

static void test_bech32_variants_disjoint(void **state) {
    (void)state;
    /* BIP350: no string is valid as both; each valid string decodes to
     * exactly its own variant (checked above), and re-encoding its data
     * with the other variant gives a different string. */
    char hrp[91], enc[91], low[91];
    uint8_t data[90];
    size_t n = 0, i;
    for (i = 0; i < sizeof BECH32_VALID / sizeof *BECH32_VALID; i++) {
        assert_int_equal(
            ch_bech32_decode(BECH32_VALID[i], hrp, sizeof hrp, data, sizeof data, &n, NULL),
            CH_BECH32);
        assert_true(ch_bech32_encode(hrp, data, n, CH_BECH32M, enc, sizeof enc) > 0);
        lower_copy(BECH32_VALID[i], low, sizeof low);
        assert_string_not_equal(enc, low);
    }
}

static void test_bech32_encode_limits(void **state) {
    (void)state;
    char out[128];
    uint8_t data[90] = {0};
    /* 1 + 1 + 82 + 6 = 90 characters is the most allowed. */
    assert_int_equal(ch_bech32_encode("a", data, 82, CH_BECH32, out, sizeof out), 90);
    assert_int_equal(ch_bech32_encode("a", data, 83, CH_BECH32, out, sizeof out), 0);
    /* Too small a buffer, a word over 31, an empty hrp, a bad variant. */
    assert_int_equal(ch_bech32_encode("a", data, 10, CH_BECH32, out, 18), 0);
    assert_int_equal(ch_bech32_encode("a", data, 10, CH_BECH32, out, 19), 18);
    data[3] = 32;
    assert_int_equal(ch_bech32_encode("a", data, 10, CH_BECH32, out, sizeof out), 0);
    data[3] = 0;
    assert_int_equal(ch_bech32_encode("", data, 10, CH_BECH32, out, sizeof out), 0);
    assert_int_equal(ch_bech32_encode("a", data, 10, CH_BECH32_INVALID, out, sizeof out), 0);
    /* Uppercase hrp is written (and checksummed) in lowercase. */
    assert_int_equal(ch_bech32_encode("A", NULL, 0, CH_BECH32, out, sizeof out), 8);
    assert_string_equal(out, "a12uel5l");
}

/* ---- Segwit addresses ---- */

typedef struct segwit_case {
    const char *addr;
    const char *spk; /* scriptPubKey hex */
} segwit_case;

/* BIP350's valid list (which keeps BIP173's v0 entries and replaces its
 * v1+ entries with Bech32m ones). */
static const segwit_case SEGWIT_VALID[] = {
    {"BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "0014751e76e8199196d454941c45d1b3a323f1433bd6"},
    {"tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7",
     "00201863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262"},
    {"bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y",
     "5128751e76e8199196d454941c45d1b3a323f1433bd6751e76e8199196d454941c45d1b3a323f1433bd6"},
    {"BC1SW50QGDZ25J", "6002751e"},
    {"bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", "5210751e76e8199196d454941c45d1b3a323"},
    {"tb1qqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesrxh6hy",
     "0020000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433"},
    {"tb1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesf3hn0c",
     "5120000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433"},
    {"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
     "512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"},
};

static void test_segwit_valid(void **state) {
    (void)state;
    size_t i;
    for (i = 0; i < sizeof SEGWIT_VALID / sizeof *SEGWIT_VALID; i++) {
        const segwit_case *c = &SEGWIT_VALID[i];
        char hrp[8], spk[90], enc[91], low[91];
        uint8_t prog[40];
        size_t len = 0;
        int ver = -1;
        ch_error err = {{0}};
        hrp_of(c->addr, hrp, sizeof hrp);
        if (ch_segwit_decode(c->addr, hrp, &ver, prog, &len, &err) != 0)
            fail_msg("%s: %s", c->addr, err.msg);
        witness_script_hex(ver, prog, len, spk);
        assert_string_equal(spk, c->spk);
        assert_int_equal(ch_segwit_encode(hrp, ver, prog, len, enc, sizeof enc), strlen(c->addr));
        lower_copy(c->addr, low, sizeof low);
        assert_string_equal(enc, low);
    }
}

/* BIP350's invalid list, then BIP173's (whose v1+ "valid" addresses carry
 * Bech32 checksums and so are invalid now). Each is tried against both
 * mainnet and testnet hrps; the message is checked for the hrp it names. */
static const invalid_case SEGWIT_INVALID[] = {
    /* BIP350 */
    {"tc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq5zuyut", "human-readable part"},
    {"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd",
     "wrong checksum variant for witness version 1"},
    {"tb1z0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqglt7rf",
     "wrong checksum variant for witness version 2"},
    {"BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL",
     "wrong checksum variant for witness version 16"},
    {"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh", "wrong checksum variant for witness version 0"},
    {"tb1q0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq24jc47",
     "wrong checksum variant for witness version 0"},
    {"bc1p38j9r5y49hruaue7wxjce0updqjuyyx0kh56v8s25huc6995vvpql3jow4",
     "invalid character at position 59"},
    {"BC130XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ7ZWS8R",
     "invalid witness version 17"},
    {"bc1pw5dgrnzv", "invalid program length 1"},
    {"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v8n0nx0muaewav253zgeav",
     "invalid program length 41"},
    {"BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P", "invalid program length 16 for witness version 0"},
    {"tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq47Zagq", "mixed case"},
    {"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v07qwwzcrf",
     "more than 4 bits of padding"},
    {"tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vpggkg4j", "non-zero padding"},
    {"bc1gmk9yu", "empty data section"},
    /* BIP173 */
    {"tc1qw508d6qejxtdg4y5r3zarvary0c5xw7kg3g4ty", "human-readable part"},
    {"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5", "bad checksum"},
    {"BC13W508D6QEJXTDG4Y5R3ZARVARY0C5XW7KN40WF2", "invalid witness version 17"},
    {"bc1rw5uspcuh", "invalid program length 1"},
    {"bc10w508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kw5rljs90",
     "invalid program length 41"},
    {"BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P", "invalid program length 16 for witness version 0"},
    {"tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sL5k7", "mixed case"},
    {"bc1zw508d6qejxtdg4y5r3zarvaryvqyzf3du", "more than 4 bits of padding"},
    {"tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3pjxtptv", "non-zero padding"},
    {"bc1gmk9yu", "empty data section"},
    /* BIP173's v1+ valid addresses: Bech32 checksums, rejected since BIP350. */
    {"bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7k7grplx",
     "wrong checksum variant for witness version 1"},
    {"BC1SW50QA3JX3S", "wrong checksum variant for witness version 16"},
    {"bc1zw508d6qejxtdg4y5r3zarvaryvg6kdaj", "wrong checksum variant for witness version 2"},
};

static void test_segwit_invalid(void **state) {
    (void)state;
    static const char *const HRPS[] = {"bc", "tb"};
    size_t i, h;
    for (i = 0; i < sizeof SEGWIT_INVALID / sizeof *SEGWIT_INVALID; i++) {
        const invalid_case *c = &SEGWIT_INVALID[i];
        char own[8];
        hrp_of(c->s, own, sizeof own);
        for (h = 0; h < 2; h++) {
            uint8_t prog[40];
            size_t len = 0;
            int ver = -1;
            ch_error err = {{0}};
            if (ch_segwit_decode(c->s, HRPS[h], &ver, prog, &len, &err) == 0)
                fail_msg("accepted invalid address %s (hrp %s)", c->s, HRPS[h]);
            /* Against the address's own hrp (or, for a foreign hrp, against
             * mainnet's) the named rule must be the one reported. */
            int own_hrp = strcmp(own, HRPS[h]) == 0;
            int foreign = strcmp(own, "bc") != 0 && strcmp(own, "tb") != 0;
            if ((own_hrp || (foreign && h == 0)) && !strstr(err.msg, c->why))
                fail_msg("%s: message \"%s\" lacks \"%s\"", c->s, err.msg, c->why);
        }
        ch_addr a;
        assert_int_equal(ch_addr_from_string(c->s, &a, NULL, NULL), -1);
    }
}

static void test_segwit_encode_rules(void **state) {
    (void)state;
    uint8_t prog[41] = {0};
    char out[128];
    assert_int_equal(ch_segwit_encode("bc", 0, prog, 20, out, sizeof out), 42);
    assert_int_equal(ch_segwit_encode("bc", 0, prog, 32, out, sizeof out), 62);
    assert_int_equal(ch_segwit_encode("bc", 0, prog, 21, out, sizeof out), 0);
    assert_int_equal(ch_segwit_encode("bc", 1, prog, 1, out, sizeof out), 0);
    assert_true(ch_segwit_encode("bc", 1, prog, 2, out, sizeof out) > 0);
    assert_true(ch_segwit_encode("bc", 16, prog, 40, out, sizeof out) > 0);
    assert_int_equal(ch_segwit_encode("bc", 16, prog, 41, out, sizeof out), 0);
    assert_int_equal(ch_segwit_encode("bc", 17, prog, 20, out, sizeof out), 0);
    assert_int_equal(ch_segwit_encode("bc", -1, prog, 20, out, sizeof out), 0);
}

/* ---- Base58 / Base58Check ---- */

typedef struct b58_case {
    const char *hex;
    const char *b58;
} b58_case;

/* Bitcoin Core src/test/data/base58_encode_decode.json (all but the two
 * longest entries). Z10 is ten zero bytes in hex. */
#define Z10 "00000000000000000000"
static const b58_case B58[] = {
    {"", ""},
    {"61", "2g"},
    {"626262", "a3gV"},
    {"636363", "aPEr"},
    {"73696d706c792061206c6f6e6720737472696e67", "2cFupjhnEsSn59qHXstmK2ffpLv2"},
    {"00eb15231dfceb60925886b67d065299925915aeb172c06647", "1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L"},
    {"516b6fcd0f", "ABnLTmg"},
    {"bf4f89001e670274dd", "3SEo3LWLoPntC"},
    {"572e4794", "3EFU7m"},
    {"ecac89cad93923c02321", "EJDM8drfXA6uyA"},
    {"10c8511e", "Rt5zm"},
    {"00000000000000000000", "1111111111"},
    {Z10 Z10 Z10 Z10, "1111111111111111111111111111111111111111"},
    {Z10 Z10 Z10 "000000000000000000"
                 "01",
     "1111111111111111111111111111111111111112"},
    {"000111d38e5fc9071ffcd20b4a763cc9ae4f252bb4e48fd66a835e252ada93ff480d6dd43dc62a641155a5",
     "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"},
    {"271f359e", "zzzzy"},
    {"271f359f", "zzzzz"},
    {"271f35a0", "211111"},
    {"271f35a1", "211112"},
};

static void test_base58_vectors(void **state) {
    (void)state;
    size_t i;
    for (i = 0; i < sizeof B58 / sizeof *B58; i++) {
        uint8_t raw[64], back[64];
        char enc[128], hex[129];
        size_t n = strlen(B58[i].hex) / 2, m = 99;
        assert_int_equal(ch_hex_decode(B58[i].hex, 2 * n, raw, n), 0);
        assert_int_equal(ch_base58_encode(raw, n, enc, sizeof enc), strlen(B58[i].b58));
        assert_string_equal(enc, B58[i].b58);
        assert_int_equal(ch_base58_decode(B58[i].b58, back, sizeof back, &m), 0);
        assert_int_equal(m, n);
        ch_hex_encode(back, m, hex);
        assert_string_equal(hex, B58[i].hex);
    }
}

static void test_base58_limits(void **state) {
    (void)state;
    uint8_t raw[4] = {0x27, 0x1f, 0x35, 0x9f}, out[8];
    char enc[8];
    size_t n;
    /* "zzzzz" needs 6 bytes with the NUL. */
    assert_int_equal(ch_base58_encode(raw, 4, enc, 5), 0);
    assert_int_equal(ch_base58_encode(raw, 4, enc, 6), 5);
    /* Decoding refuses characters outside the alphabet and output that does
     * not fit. */
    assert_int_equal(ch_base58_decode("3EFU0m", out, sizeof out, &n), -1);
    assert_int_equal(ch_base58_decode("zzzzz", out, 3, &n), -1);
    assert_int_equal(ch_base58_decode("zzzzz", out, 4, &n), 0);
    assert_int_equal(ch_base58_decode("1111", out, 3, &n), -1);
}

/* Decoding (five digits to a 32-bit limb at a time) inverts encoding (a
 * byte at a time, the schoolbook): random byte strings of 0 to 400 bytes,
 * with up to 4 leading zero bytes, encoded then decoded give the bytes
 * back; a buffer one byte short is refused, one of the exact size is
 * enough. Lengths past 260 bytes take the decoder's heap path. */
static void test_base58_decode_inverts_encode(void **state) {
    (void)state;
    uint64_t x = 88172645463325252ull;
    static uint8_t raw[400], back[400];
    static char enc[700];
    for (int round = 0; round < 3000; round++) {
        size_t n = round < 2900 ? (size_t)(round % 60) : 260 + (size_t)(round % 140);
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            raw[i] = (uint8_t)x;
        }
        for (size_t z = 0; z < n && z < (size_t)(round % 5); z++)
            raw[z] = 0;
        size_t len = ch_base58_encode(raw, n, enc, sizeof enc), m = 0;
        assert_true(len > 0 || n == 0);
        assert_int_equal(ch_base58_decode(enc, back, n, &m), 0);
        assert_int_equal(m, n);
        assert_memory_equal(back, raw, n);
        if (n > 0) assert_int_equal(ch_base58_decode(enc, back, n - 1, &m), -1);
    }
}

/* The genesis coinbase's address and its key hash (block 0, widely
 * published). */
#define GENESIS_ADDR    "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
#define GENESIS_HASH160 "62e907b15cbf27d5425399ebf6f0fb50ebb88f18"

static void test_base58check_genesis(void **state) {
    (void)state;
    uint8_t payload[21], out[32];
    char enc[64], hex[41];
    size_t n = 0;
    ch_error err = {{0}};
    payload[0] = 0x00;
    assert_int_equal(ch_hex_decode(GENESIS_HASH160, 40, payload + 1, 20), 0);
    assert_int_equal(ch_base58check_encode(payload, 21, enc, sizeof enc), strlen(GENESIS_ADDR));
    assert_string_equal(enc, GENESIS_ADDR);
    assert_int_equal(ch_base58check_decode(GENESIS_ADDR, out, sizeof out, &n, &err), 0);
    assert_int_equal(n, 21);
    assert_int_equal(out[0], 0x00);
    ch_hex_encode(out + 1, 20, hex);
    assert_string_equal(hex, GENESIS_HASH160);
}

static void test_base58check_errors(void **state) {
    (void)state;
    uint8_t out[32];
    size_t n;
    ch_error err = {{0}};
    char s[64];

    /* '0', 'O', 'I', 'l' are not in the alphabet; positions are 0-based. */
    strcpy(s, GENESIS_ADDR);
    s[5] = '0';
    assert_int_equal(ch_base58check_decode(s, out, sizeof out, &n, &err), -1);
    assert_string_equal(err.msg, "invalid character '0' at position 5");
    s[5] = 'l';
    assert_int_equal(ch_base58check_decode(s, out, sizeof out, &n, &err), -1);
    assert_string_equal(err.msg, "invalid character 'l' at position 5");
    assert_int_equal(ch_base58check_decode("1A1z P1", out, sizeof out, &n, &err), -1);
    assert_string_equal(err.msg, "invalid character 0x20 at position 4");

    /* A valid string whose payload does not fit the caller's buffer. */
    uint8_t payload[30] = {0x05, 1, 2, 3};
    assert_true(ch_base58check_encode(payload, sizeof payload, s, sizeof s) > 0);
    assert_int_equal(ch_base58check_decode(s, out, 29, &n, &err), -1);
    assert_string_equal(err.msg, "too long");
    assert_int_equal(ch_base58check_decode(s, out, 30, &n, &err), 0);
    assert_int_equal(n, 30);
    assert_memory_equal(out, payload, 30);

    /* Longer than any Base58Check string we read (256-byte payloads). */
    char big[400];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(ch_base58check_decode(big, out, sizeof out, &n, &err), -1);
    assert_string_equal(err.msg, "too long");

    /* Fewer than four bytes cannot hold a checksum. */
    assert_int_equal(ch_base58check_decode("zzz", out, sizeof out, &n, &err), -1);
    assert_non_null(strstr(err.msg, "too short"));
}

/* Every single-character substitution of a valid address must be caught as
 * a bad checksum: never silently accepted, never misreported. */
static void expect_all_flips_rejected(const char *addr, const char *alphabet, size_t from) {
    size_t i, len = strlen(addr);
    char s[128];
    for (i = from; i < len; i++) {
        const char *c;
        for (c = alphabet; *c; c++) {
            ch_addr a;
            ch_error err = {{0}};
            if (*c == addr[i]) continue;
            strcpy(s, addr);
            s[i] = *c;
            if (ch_addr_from_string(s, &a, NULL, &err) == 0) fail_msg("accepted mistyped %s", s);
            if (strcmp(err.msg, "bad checksum") != 0)
                fail_msg("%s: \"%s\", want \"bad checksum\"", s, err.msg);
        }
    }
}

static void test_mistyped_rejected(void **state) {
    (void)state;
    expect_all_flips_rejected(GENESIS_ADDR,
                              "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz", 1);
    /* After "bc1": BCH codes detect any single substitution. */
    expect_all_flips_rejected("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
                              "qpzry9x8gf2tvdw0s3jn54khce6mua7l", 3);
    expect_all_flips_rejected("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
                              "qpzry9x8gf2tvdw0s3jn54khce6mua7l", 3);
}

/* ---- ch_addr ---- */

typedef struct addr_case {
    const char *addr;
    const char *spk;
    ch_network net;
} addr_case;

/* Bitcoin Core src/test/data/key_io_valid.json (testnet4 and signet use
 * testnet's encodings). Base58 regtest addresses read back as testnet. */
static const addr_case ADDRS[] = {
    {"1FsSia9rv4NeEwvJ2GvXrX7LyxYspbN2mo", "76a914a31c06bd463e3923bc1aadbde48b16976c08071788ac",
     CH_NET_MAINNET},
    {"36j4NfKv6Akva9amjWrLG6MuSQym1GuEmm", "a914373b819a068f32b7a6b38b6b38729647cfde01c287",
     CH_NET_MAINNET},
    {"mzK2FFDEhxqHcmrJw1ysqFkVyhUULo45hZ", "76a914ce28b26c57472737f5c3561a1761185bd8589a4388ac",
     CH_NET_TESTNET},
    {"2NC2hEhe28ULKAJkW5MjZ3jtTMJdvXmByvK", "a914ce0bba75891ff9ec60148d4bd4a09ee2dc5c933187",
     CH_NET_TESTNET},
    {"bc1qvyq0cc6rahyvsazfdje0twl7ez82ndmuac2lhv", "00146100fc6343edc8c874496cb2f5bbfec88ea9b77c",
     CH_NET_MAINNET},
    {"bc1qyucykdlhp62tezs0hagqury402qwhk589q80tqs5myh3rxq34nwqhkdhv7",
     "002027304b37f70e94bc8a0fbf500e0c957a80ebda87280ef58214d92f119811acdc", CH_NET_MAINNET},
    {"bc1p83n3au0rjylefxq2nc2xh2y4jzz4pm6zxj4mw5pagdjjr2a9f36s6jjnnu",
     "51203c671ef1e3913f94980a9e146ba895908550ef4234abb7503d436521aba54c75", CH_NET_MAINNET},
    {"bc1z2rksukkjr8", "520250ed", CH_NET_MAINNET},
    {"tb1qcrh3yqn4nlleplcez2yndq2ry8h9ncg3qh7n54", "0014c0ef1202759fff90ff19128936814321ee59e111",
     CH_NET_TESTNET},
    {"tb1rgv5m6uvdk3kc7qsuz0c79v88ycr5w4wa", "53104329bd718db46d8f021c13f1e2b0e726",
     CH_NET_TESTNET},
    {"bcrt1qdavt4j2sd7dlhqsavtnfxvzppw6k7qy97tmnu9", "00146f58bac9506f9bfb821d62e69330410bb56f0085",
     CH_NET_REGTEST},
    {"bcrt1pfwxjqvtt4tcxrtdluukfmy2dv7xd2qzdfy6kajv5nwn4yam3wxkq3553uh",
     "51204b8d20316baaf061adbfe72c9d914d678cd5004d49356ec9949ba752777171ac", CH_NET_REGTEST},
    {"bcrt1sx6p8njlx7h9mc2agz4yg82dzne23050ncq72cneeecez2pst8mahn8xecsf8g6hzx94420",
     "6028368279cbe6f5cbbc2ba8154883a9a29e5517d1f3c03cac4f39ce3225060b3efb799cd9c412746ae2",
     CH_NET_REGTEST},
    {GENESIS_ADDR, "76a914" GENESIS_HASH160 "88ac", CH_NET_MAINNET},
};

static void test_addr_round_trip(void **state) {
    (void)state;
    size_t i;
    for (i = 0; i < sizeof ADDRS / sizeof *ADDRS; i++) {
        const addr_case *c = &ADDRS[i];
        ch_addr a;
        ch_network net = (ch_network)-1;
        ch_error err = {{0}};
        char spk[100], out[CH_ADDR_STR_MAX], up[CH_ADDR_STR_MAX];
        size_t k;
        if (ch_addr_from_string(c->addr, &a, &net, &err) != 0) fail_msg("%s: %s", c->addr, err.msg);
        assert_int_equal(net, c->net);
        addr_script_hex(&a, spk);
        assert_string_equal(spk, c->spk);
        assert_int_equal(ch_addr_to_string(&a, net, out), 0);
        assert_string_equal(out, c->addr);
        /* Segwit addresses may be written in uppercase (as in QR codes). */
        if (a.kind == CH_ADDR_WITNESS) {
            for (k = 0; c->addr[k]; k++)
                up[k] = (char)toupper((unsigned char)c->addr[k]);
            up[k] = '\0';
            ch_addr b;
            assert_int_equal(ch_addr_from_string(up, &b, NULL, &err), 0);
            assert_memory_equal(&a, &b, sizeof a);
        }
    }
}

static void test_addr_regtest_base58(void **state) {
    (void)state;
    /* key_io_valid.json: regtest P2PKH/P2SH use testnet's version bytes. */
    ch_addr a;
    ch_network net;
    char out[CH_ADDR_STR_MAX], spk[100];
    assert_int_equal(ch_addr_from_string("n4fajahJrAuKbN7uNsKjLjQkz9Qn5ewJXQ", &a, &net, NULL), 0);
    assert_int_equal(net, CH_NET_TESTNET);
    addr_script_hex(&a, spk);
    assert_string_equal(spk, "76a914fdeca3b08e38af53d7c4c60e3ad208ce5066441088ac");
    assert_int_equal(ch_addr_to_string(&a, CH_NET_REGTEST, out), 0);
    assert_string_equal(out, "n4fajahJrAuKbN7uNsKjLjQkz9Qn5ewJXQ");
    assert_int_equal(ch_addr_from_string("2MxFajLApXpYk4VodBSZSt7rw8y4ryABkfA", &a, &net, NULL), 0);
    assert_int_equal(a.kind, CH_ADDR_P2SH);
    addr_script_hex(&a, spk);
    assert_string_equal(spk, "a91436e9f191e0b75036a77f65e2eaa4752443233fbe87");
}

static void test_addr_same_bytes_per_network(void **state) {
    (void)state;
    /* One witness program printed for each network, then read back. */
    static const char *const PREFIX[] = {"bc1q", "tb1q", "bcrt1q"};
    ch_addr a = {0}, b;
    ch_network net;
    char out[CH_ADDR_STR_MAX];
    int n;
    a.kind = CH_ADDR_WITNESS;
    a.version = 0;
    a.len = 20;
    assert_int_equal(ch_hex_decode(GENESIS_HASH160, 40, a.bytes, 20), 0);
    for (n = 0; n < 3; n++) {
        assert_int_equal(ch_addr_to_string(&a, (ch_network)n, out), 0);
        assert_int_equal(strncmp(out, PREFIX[n], strlen(PREFIX[n])), 0);
        assert_int_equal(ch_addr_from_string(out, &b, &net, NULL), 0);
        assert_int_equal(net, n);
        assert_memory_equal(&a, &b, sizeof a);
    }
}

static void test_addr_evm_and_none(void **state) {
    (void)state;
    ch_addr a = {0};
    char out[CH_ADDR_STR_MAX];
    size_t i;
    a.kind = CH_ADDR_EVM;
    a.len = 20;
    for (i = 0; i < 20; i++)
        a.bytes[i] = (uint8_t)(0xa0 + i);
    assert_int_equal(ch_addr_to_string(&a, CH_NET_MAINNET, out), 0);
    assert_string_equal(out, "0xa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3");
    a.kind = CH_ADDR_NONE;
    assert_int_equal(ch_addr_to_string(&a, CH_NET_MAINNET, out), -1);
    /* A P2PKH address must hold exactly 20 bytes. */
    a.kind = CH_ADDR_P2PKH;
    a.len = 19;
    assert_int_equal(ch_addr_to_string(&a, CH_NET_MAINNET, out), -1);
}

static void test_addr_rejects(void **state) {
    (void)state;
    ch_addr a;
    ch_error err = {{0}};
    uint8_t payload[21] = {0x30}; /* Litecoin's P2PKH version: not ours */
    char s[64];
    assert_int_equal(ch_addr_from_string("", &a, NULL, &err), -1);
    assert_string_equal(err.msg, "empty address");
    assert_true(ch_base58check_encode(payload, 21, s, sizeof s) > 0);
    assert_int_equal(ch_addr_from_string(s, &a, NULL, &err), -1);
    assert_string_equal(err.msg, "unknown version byte 0x30");
    /* A valid Base58Check string of the wrong length. */
    assert_true(ch_base58check_encode(payload, 20, s, sizeof s) > 0);
    assert_int_equal(ch_addr_from_string(s, &a, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "wrong length"));
    /* A segwit address of another chain (Litecoin's hrp). */
    assert_int_equal(ch_segwit_encode("ltc", 0, payload + 1, 20, s, sizeof s) > 0, 1);
    assert_int_equal(ch_addr_from_string(s, &a, NULL, &err), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bech32_valid),
        cmocka_unit_test(test_bech32m_valid),
        cmocka_unit_test(test_bech32_decoded_data),
        cmocka_unit_test(test_bech32_invalid),
        cmocka_unit_test(test_bech32_invalid_bytes),
        cmocka_unit_test(test_bech32_variants_disjoint),
        cmocka_unit_test(test_bech32_encode_limits),
        cmocka_unit_test(test_segwit_valid),
        cmocka_unit_test(test_segwit_invalid),
        cmocka_unit_test(test_segwit_encode_rules),
        cmocka_unit_test(test_base58_vectors),
        cmocka_unit_test(test_base58_limits),
        cmocka_unit_test(test_base58_decode_inverts_encode),
        cmocka_unit_test(test_base58check_genesis),
        cmocka_unit_test(test_base58check_errors),
        cmocka_unit_test(test_mistyped_rejected),
        cmocka_unit_test(test_addr_round_trip),
        cmocka_unit_test(test_addr_regtest_base58),
        cmocka_unit_test(test_addr_same_bytes_per_network),
        cmocka_unit_test(test_addr_evm_and_none),
        cmocka_unit_test(test_addr_rejects),
    };
    return cmocka_run_group_tests_name("encode", tests, NULL, NULL);
}
