/* Bech32 (BIP173), Bech32m (BIP350) and segwit addresses.
 *
 * A string is hrp + '1' + data characters, the last six of which are a BCH
 * checksum over the hrp and the data. Bech32 and Bech32m differ only in the
 * constant the checksum is xored with. Segwit addresses put the witness
 * version in the first data word and the program, regrouped from 8-bit bytes
 * into 5-bit words, after it; v0 uses Bech32, v1..16 Bech32m.
 *
 * Positions in error messages are 0-based offsets into the string. */
#include "coinhound/encode.h"

#include <pthread.h>
#include <string.h>

#include "encode/bech32.h"

static const char BECH32_CHARSET[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

#define BECH32_MAX_LEN    90 /* BIP173: whole string, separator included */
#define BECH32_CHECKSUM   6
#define BECH32_CONST      1u
#define BECH32M_CONST     0x2bc830a3u
#define SEGWIT_MIN_PROG   2
#define SEGWIT_MAX_PROG   40
#define SEGWIT_MAX_WITVER 16

/* The BCH checksum state update: BIP173's generator coefficients. */
/* The generator terms xor'ed in for each value of the 5 bits shifted out:
 * GEN_TERMS[t] is the xor of 0x3b6a57b2, 0x26508e6d, 0x1ea119fa,
 * 0x3d4233dd, 0x2a1462b3 for each bit set in t (BIP173's generator). A
 * table rather than five data-dependent branches, which mispredict half
 * the time on the random bits of real checksums. */
static const uint32_t GEN_TERMS[32] = {
    0x00000000, 0x3b6a57b2, 0x26508e6d, 0x1d3ad9df, 0x1ea119fa, 0x25cb4e48, 0x38f19797, 0x039bc025,
    0x3d4233dd, 0x0628646f, 0x1b12bdb0, 0x2078ea02, 0x23e32a27, 0x18897d95, 0x05b3a44a, 0x3ed9f3f8,
    0x2a1462b3, 0x117e3501, 0x0c44ecde, 0x372ebb6c, 0x34b57b49, 0x0fdf2cfb, 0x12e5f524, 0x298fa296,
    0x1756516e, 0x2c3c06dc, 0x3106df03, 0x0a6c88b1, 0x09f74894, 0x329d1f26, 0x2fa7c6f9, 0x14cd914b,
};

static uint32_t polymod_step(uint32_t chk, uint8_t v) {
    uint32_t top = chk >> 25;
    return ((chk & 0x1ffffff) << 5) ^ v ^ GEN_TERMS[top];
}

/* Checksum state after the hrp (lowercase): its high bits, a zero, then its
 * low bits, as BIP173's "hrp expansion". */
static uint32_t polymod_hrp(const char *hrp, size_t hrp_len) {
    uint32_t chk = 1;
    size_t i;
    for (i = 0; i < hrp_len; i++)
        chk = polymod_step(chk, (uint8_t)((unsigned char)hrp[i] >> 5));
    chk = polymod_step(chk, 0);
    for (i = 0; i < hrp_len; i++)
        chk = polymod_step(chk, (uint8_t)(hrp[i] & 31));
    return chk;
}

static uint32_t variant_const(ch_bech32_variant v) {
    return v == CH_BECH32M ? BECH32M_CONST : BECH32_CONST;
}

static int is_upper(unsigned char c) {
    return c >= 'A' && c <= 'Z';
}
static int is_lower(unsigned char c) {
    return c >= 'a' && c <= 'z';
}
static char to_lower(unsigned char c) {
    return (char)(is_upper(c) ? c + ('a' - 'A') : c);
}

/* Value of a (lowercase) data character, or -1. */
/* Each byte's value in the (lowercase) alphabet, 0xff for none:
 * CHARSET_VALUE[BECH32_CHARSET[i]] == i. */
static const uint8_t CHARSET_VALUE[256] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x0f, 0xff, 0x0a, 0x11, 0x15, 0x14, 0x1a, 0x1e, 0x07, 0x05, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0x1d, 0xff, 0x18, 0x0d, 0x19, 0x09, 0x08, 0x17, 0xff, 0x12, 0x16, 0x1f, 0x1b, 0x13, 0xff,
    0x01, 0x00, 0x03, 0x10, 0x0b, 0x1c, 0x0c, 0x0e, 0x06, 0x04, 0x02, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
};

static int charset_value(char c) {
    uint8_t v = CHARSET_VALUE[(unsigned char)c];
    return v == 0xff ? -1 : v;
}

size_t ch_bech32_encode(const char *hrp, const uint8_t *data5, size_t len, ch_bech32_variant v,
                        char *out, size_t out_cap) {
    size_t hrp_len = strlen(hrp), total, i, k = 0;
    int has_upper = 0, has_lower = 0;
    uint32_t chk;

    if (v != CH_BECH32 && v != CH_BECH32M) return 0;
    if (hrp_len < 1) return 0;
    total = hrp_len + 1 + len + BECH32_CHECKSUM;
    if (total > BECH32_MAX_LEN || total + 1 > out_cap) return 0;
    for (i = 0; i < hrp_len; i++) {
        unsigned char c = (unsigned char)hrp[i];
        if (c < 33 || c > 126) return 0;
        has_upper |= is_upper(c);
        has_lower |= is_lower(c);
        out[k++] = to_lower(c);
    }
    if (has_upper && has_lower) return 0;
    out[k++] = '1';

    /* The checksum is always over the lowercase hrp, which out now holds. */
    chk = polymod_hrp(out, hrp_len);
    for (i = 0; i < len; i++) {
        if (data5[i] >> 5) return 0;
        chk = polymod_step(chk, data5[i]);
        out[k++] = BECH32_CHARSET[data5[i]];
    }
    for (i = 0; i < BECH32_CHECKSUM; i++)
        chk = polymod_step(chk, 0);
    chk ^= variant_const(v);
    for (i = 0; i < BECH32_CHECKSUM; i++)
        out[k++] = BECH32_CHARSET[(chk >> (5 * (BECH32_CHECKSUM - 1 - i))) & 31];
    out[k] = '\0';
    return k;
}

/* Character range and case rules over the whole string. */
static int bech32_check_chars(const char *s, size_t n, ch_error *err) {
    int has_upper = 0, has_lower = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 33 || c > 126)
            return ch_err(
                err, "invalid character at position %zu (byte 0x%02x is not printable US-ASCII)", i,
                c);
        has_upper |= is_upper(c);
        has_lower |= is_lower(c);
    }
    if (has_upper && has_lower) return ch_err(err, "mixed case");
    return 0;
}

ch_bech32_variant ch_bech32_decode(const char *s, char *hrp, size_t hrp_cap, uint8_t *data5,
                                   size_t data_cap, size_t *data_len, ch_error *err) {
    size_t n = strlen(s), sep, hrp_len, ndata, i;
    const char *p;
    uint32_t chk;

    if (n > BECH32_MAX_LEN) {
        ch_err(err, "too long (%zu characters, at most %d)", n, BECH32_MAX_LEN);
        return CH_BECH32_INVALID;
    }
    if (bech32_check_chars(s, n, err) != 0) return CH_BECH32_INVALID;
    p = strrchr(s, '1');
    if (!p) {
        ch_err(err, "no separator '1'");
        return CH_BECH32_INVALID;
    }
    sep = (size_t)(p - s);
    hrp_len = sep;
    if (hrp_len == 0) {
        ch_err(err, "empty human-readable part");
        return CH_BECH32_INVALID;
    }
    if (n - sep - 1 < BECH32_CHECKSUM) {
        ch_err(err, "checksum too short (%zu characters after the separator, need 6)", n - sep - 1);
        return CH_BECH32_INVALID;
    }
    ndata = n - sep - 1 - BECH32_CHECKSUM;
    if (hrp_len + 1 > hrp_cap || ndata > data_cap) {
        ch_err(err, "too long for the caller's buffer");
        return CH_BECH32_INVALID;
    }
    for (i = 0; i < hrp_len; i++)
        hrp[i] = to_lower((unsigned char)s[i]);
    hrp[hrp_len] = '\0';

    chk = polymod_hrp(hrp, hrp_len);
    for (i = sep + 1; i < n; i++) {
        int v = charset_value(to_lower((unsigned char)s[i]));
        if (v < 0) {
            ch_err(err, "invalid character at position %zu ('%c' is not in the Bech32 alphabet)", i,
                   s[i]);
            return CH_BECH32_INVALID;
        }
        chk = polymod_step(chk, (uint8_t)v);
        if (i < n - BECH32_CHECKSUM) data5[i - sep - 1] = (uint8_t)v;
    }
    *data_len = ndata;
    if (chk == BECH32_CONST) return CH_BECH32;
    if (chk == BECH32M_CONST) return CH_BECH32M;
    ch_err(err, "bad checksum");
    return CH_BECH32_INVALID;
}

/* Regroup bits: 8 -> 5 pads the tail with zeros; 5 -> 8 refuses a tail of
 * 5 bits or more (a whole group) and any non-zero padding, as BIP173 asks. */
static int convert_bits(const uint8_t *in, size_t len, int from, int to, int pad, uint8_t *out,
                        size_t out_cap, size_t *out_len, ch_error *err) {
    uint32_t acc = 0, maxv = (1u << to) - 1;
    int bits = 0;
    size_t i, k = 0;
    for (i = 0; i < len; i++) {
        acc = ((acc << from) | in[i]) & 0xfff; /* only the low 12 bits matter */
        bits += from;
        while (bits >= to) {
            bits -= to;
            if (k == out_cap) return ch_err(err, "program too long");
            out[k++] = (uint8_t)((acc >> bits) & maxv);
        }
    }
    if (pad) {
        if (bits) {
            if (k == out_cap) return ch_err(err, "program too long");
            out[k++] = (uint8_t)((acc << (to - bits)) & maxv);
        }
    } else if (bits >= from) {
        return ch_err(err, "more than 4 bits of padding");
    } else if ((acc << (to - bits)) & maxv) {
        return ch_err(err, "non-zero padding");
    }
    *out_len = k;
    return 0;
}

/* The BIP141 rules on a witness version and program length. */
static int segwit_check(int witver, size_t prog_len, ch_error *err) {
    if (witver < 0 || witver > SEGWIT_MAX_WITVER)
        return ch_err(err, "invalid witness version %d", witver);
    if (prog_len < SEGWIT_MIN_PROG || prog_len > SEGWIT_MAX_PROG)
        return ch_err(err, "invalid program length %zu (must be 2..40 bytes)", prog_len);
    if (witver == 0 && prog_len != 20 && prog_len != 32)
        return ch_err(err, "invalid program length %zu for witness version 0 (must be 20 or 32)",
                      prog_len);
    return 0;
}

size_t ch_segwit_encode(const char *hrp, int witver, const uint8_t *prog, size_t prog_len,
                        char *out, size_t out_cap) {
    uint8_t data5[1 + (SEGWIT_MAX_PROG * 8 + 4) / 5];
    size_t n5 = 0;
    if (segwit_check(witver, prog_len, NULL) != 0) return 0;
    data5[0] = (uint8_t)witver;
    if (convert_bits(prog, prog_len, 8, 5, 1, data5 + 1, sizeof data5 - 1, &n5, NULL) != 0)
        return 0;
    return ch_bech32_encode(hrp, data5, n5 + 1, witver == 0 ? CH_BECH32 : CH_BECH32M, out, out_cap);
}

int ch_segwit_decode(const char *addr, const char *hrp, int *witver, uint8_t *prog,
                     size_t *prog_len, ch_error *err) {
    char got_hrp[BECH32_MAX_LEN + 1];
    uint8_t data5[BECH32_MAX_LEN], tmp[BECH32_MAX_LEN * 5 / 8];
    size_t n5 = 0, n8 = 0;
    ch_bech32_variant v;
    int ver;

    v = ch_bech32_decode(addr, got_hrp, sizeof got_hrp, data5, sizeof data5, &n5, err);
    if (v == CH_BECH32_INVALID) return -1;
    if (strcmp(got_hrp, hrp) != 0)
        return ch_err(err, "wrong human-readable part '%s' (expected '%s')", got_hrp, hrp);
    if (n5 == 0) return ch_err(err, "empty data section");
    ver = data5[0];
    if (ver > SEGWIT_MAX_WITVER) return ch_err(err, "invalid witness version %d", ver);
    /* tmp holds any program a 90-character string can carry (at most 51
     * bytes), so the length rule below reports an over-long program. */
    if (convert_bits(data5 + 1, n5 - 1, 5, 8, 0, tmp, sizeof tmp, &n8, err) != 0) return -1;
    if (segwit_check(ver, n8, err) != 0) return -1;
    if ((ver == 0) != (v == CH_BECH32))
        return ch_err(err, "wrong checksum variant for witness version %d (%s, needs %s)", ver,
                      v == CH_BECH32 ? "Bech32" : "Bech32m", ver == 0 ? "Bech32" : "Bech32m");
    memcpy(prog, tmp, n8);
    *witver = ver;
    *prog_len = n8;
    return 0;
}

/* Two checksum steps at once: the generator terms for the 10 bits two steps
 * shift out (the state's top 10 bits), worked out once from GEN_TERMS.
 * Two steps of polymod_step are
 *   ((chk & 0xfffff) << 10) ^ (v1 << 5 | v2) ^ GEN_TERMS2[chk >> 20]
 * (the state is linear in what it shifts out), which halves the chain of
 * dependent look-ups a checksum is. */
static uint32_t GEN_TERMS2[1024];
static uint32_t hrp_state[3]; /* the states after the hrps "bc", "tb", "bcrt" */
static pthread_once_t gen_terms2_once = PTHREAD_ONCE_INIT;

static void gen_terms2_init(void) {
    for (uint32_t t = 0; t < 1024; t++)
        GEN_TERMS2[t] = polymod_step(polymod_step(t << 20, 0), 0);
    hrp_state[0] = polymod_hrp("bc", 2);
    hrp_state[1] = polymod_hrp("tb", 2);
    hrp_state[2] = polymod_hrp("bcrt", 4);
}

int enc_segwit_btc_common(const char *s, size_t n, bool *testnet) {
    /* the prefix, in one case: bc1 (mainnet), tb1 (testnet), bcrt1 (regtest) */
    unsigned fold = s[0] >= 'A' && s[0] <= 'Z'; /* an upper-case string, read lowered */
    char lo[5];
    for (size_t i = 0; i < 5 && i < n; i++)
        lo[i] = (char)(s[i] | (fold && s[i] >= 'A' && s[i] <= 'Z' ? 0x20 : 0));
    int net;
    size_t hl;
    if (n >= 3 && lo[0] == 'b' && lo[1] == 'c' && s[2] == '1')
        net = 0, hl = 2;
    else if (n >= 3 && lo[0] == 't' && lo[1] == 'b' && s[2] == '1')
        net = 1, hl = 2;
    else if (n >= 5 && !memcmp(lo, "bcrt", 4) && s[4] == '1')
        net = 2, hl = 4;
    else
        return 0;
    if (n != hl + 40 && n != hl + 60) return 0;
    pthread_once(&gen_terms2_once, gen_terms2_init);
    /* One case throughout (BIP-173): an upper-case string has no lower-case
     * letter and is read lowered; a lower-case one has no upper-case
     * letter (the prefix included). Any other byte is refused by the
     * alphabet's table (digits and letters only map; '1', 'b', 'i', 'o' do
     * not). */
    uint32_t bad = 0;
    for (size_t i = 0; i < hl; i++) {
        unsigned c = (unsigned char)s[i];
        bad |= ((c >> 5) & 1) ^ (fold ^ 1u); /* the prefix is all letters */
    }
    uint8_t d[64] = {0};
    size_t nd = n - hl - 1; /* data words, checksum included: 39 or 59 */
    for (size_t i = 0; i < nd; i++) {
        unsigned c = (unsigned char)s[hl + 1 + i];
        unsigned letter = (unsigned)((c | 0x20) - 'a') < 26;
        /* a letter of the other case: bit 5 set in an upper-case string,
         * clear in a lower-case one */
        bad |= letter & (((c >> 5) & 1) ^ (fold ^ 1u));
        uint8_t v = CHARSET_VALUE[c | (letter ? 0x20 : 0)];
        bad |= v >> 7;
        d[i] = v & 31;
    }
    if (bad) return 0;
    /* the data words (an odd count) two at a time after the first */
    uint32_t chk = polymod_step(hrp_state[net], d[0]);
    for (size_t i = 1; i + 1 < nd; i += 2)
        chk = ((chk & 0xfffff) << 10) ^ ((uint32_t)d[i] << 5 | d[i + 1]) ^ GEN_TERMS2[chk >> 20];
    unsigned ver = d[0];
    if (ver == 0) {
        if (chk != BECH32_CONST) return 0;
    } else if (ver == 1 && nd == 59) {
        if (chk != BECH32M_CONST) return 0;
    } else {
        return 0;
    }
    /* 32 words of program (20 bytes, no padding) or 52 (32 bytes and 4
     * bits of padding, which must be zero) */
    if (nd == 59 && (d[52] & 15)) return 0;
    *testnet = net != 0;
    return 1;
}
