/* Base58 and Base58Check (Bitcoin alphabet).
 *
 * Base58 reads the bytes as one big-endian number and writes it in base 58,
 * except that each leading zero byte becomes a leading '1' (the digit zero),
 * so leading zeros survive the round trip. Encoding works digit by digit on
 * the output buffer itself (schoolbook multiply-and-add): quadratic, but
 * addresses are a few dozen characters and this needs no allocation.
 * Decoding (what screening does for every address) takes ten digits at a
 * time into 64-bit limbs.
 *
 * Positions in error messages are 0-based offsets into the string. */
#include "coinhound/encode.h"

#include <stdlib.h>
#include <string.h>

#include "coinhound/hash.h"
#include "encode/base58.h"

static const char B58_ALPHABET[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/* Largest Base58Check payload we handle (version + data). Addresses use 21
 * bytes and extended keys 78; 256 leaves room without any allocation. */
#define B58CHECK_MAX_PAYLOAD 256

__extension__ typedef unsigned __int128 u128;

/* The digit of each ASCII byte, -1 when not in the alphabet: B58_ALPHABET
 * inverted (a strchr per character was a tenth of a screening batch). */
const signed char enc_b58_digits[128] = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, 0,  1,  2,  3,  4,  5,  6,  7,  8,  -1, -1, -1, -1, -1, -1, -1, 9,
    10, 11, 12, 13, 14, 15, 16, -1, 17, 18, 19, 20, 21, -1, 22, 23, 24, 25, 26, 27, 28, 29,
    30, 31, 32, -1, -1, -1, -1, -1, -1, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, -1, 44,
    45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, -1, -1, -1, -1, -1,
};

/* Message for a character outside the alphabet; shows unprintable bytes in
 * hex so the message stays one readable line. */
static int b58_bad_char(ch_error *err, unsigned char c, size_t pos) {
    if (c >= 0x21 && c <= 0x7e)
        return ch_err(err, "invalid character '%c' at position %zu", c, pos);
    return ch_err(err, "invalid character 0x%02x at position %zu", c, pos);
}

size_t ch_base58_encode(const uint8_t *in, size_t len, char *out, size_t out_cap) {
    size_t zeros = 0, ndig = 0, i, j;
    if (out_cap == 0) return 0;
    while (zeros < len && in[zeros] == 0)
        zeros++;
    if (zeros + 1 > out_cap) return 0;

    /* Base-58 digits, least significant first, kept in out[zeros..). */
    uint8_t *dig = (uint8_t *)out + zeros;
    size_t room = out_cap - 1 - zeros; /* keep one byte for the NUL */
    for (i = zeros; i < len; i++) {
        unsigned carry = in[i];
        for (j = 0; j < ndig; j++) {
            carry += (unsigned)dig[j] << 8;
            dig[j] = (uint8_t)(carry % 58);
            carry /= 58;
        }
        while (carry) {
            if (ndig == room) return 0;
            dig[ndig++] = (uint8_t)(carry % 58);
            carry /= 58;
        }
    }
    /* Most significant digit first, then map digits to characters. */
    for (i = 0; i < ndig / 2; i++) {
        uint8_t t = dig[i];
        dig[i] = dig[ndig - 1 - i];
        dig[ndig - 1 - i] = t;
    }
    for (i = 0; i < ndig; i++)
        dig[i] = (uint8_t)B58_ALPHABET[dig[i]];
    memset(out, '1', zeros);
    out[zeros + ndig] = '\0';
    return zeros + ndig;
}

int enc_b58_decode_digits(const char *s, size_t n, uint8_t *out, size_t cap, size_t *out_len) {
    size_t zeros = 0;
    while (zeros < n && s[zeros] == '1')
        zeros++;
    if (zeros > cap) return -1;
    /* The number in 64-bit limbs, least significant first, taking ten
     * digits at a time (58^10 < 2^64 < 58^11): an address's 34 digits are
     * four multiply-adds over at most four limbs. Limbs for the room left
     * and then some: running out of them is "too long". */
    uint64_t stack[(B58CHECK_MAX_PAYLOAD + 4) / 8 + 2], *limb = stack;
    size_t room = cap - zeros, max_limbs = room / 8 + 2, used = 0;
    /* n - zeros digits hold under 0.733 bytes each */
    size_t need = ((n - zeros) * 733 / 1000 + 1) / 8 + 2;
    if (need < max_limbs) max_limbs = need;
    if (max_limbs > sizeof stack / sizeof stack[0]) { /* a long string and a large buffer */
        limb = malloc(max_limbs * sizeof *limb);
        if (!limb) return -1;
    }
    int rc = -1;
    size_t i = zeros, rest = (n - zeros) % 10;
    size_t group = rest ? rest : 10;
    while (i < n) {
        uint64_t g = 0, mul = 1;
        for (size_t k = 0; k < group; k++) {
            g = g * 58 + (uint64_t)enc_b58_digit((unsigned char)s[i + k]);
            mul *= 58;
        }
        i += group;
        group = 10;
        uint64_t carry = g;
        for (size_t j = 0; j < used; j++) {
            u128 t = (u128)limb[j] * mul + carry;
            limb[j] = (uint64_t)t;
            carry = (uint64_t)(t >> 64);
        }
        if (carry) {
            if (used == max_limbs) goto done;
            limb[used++] = carry;
        }
    }
    /* its bytes, big-endian, without leading zero bytes */
    size_t bytes = used * 8;
    while (bytes && !((limb[(bytes - 1) / 8] >> (8 * ((bytes - 1) % 8))) & 0xff))
        bytes--;
    if (bytes > room) goto done;
    memset(out, 0, zeros);
    for (size_t b = 0; b < bytes; b++) {
        size_t at = bytes - 1 - b; /* byte index from the least significant */
        out[zeros + b] = (uint8_t)(limb[at / 8] >> (8 * (at % 8)));
    }
    *out_len = zeros + bytes;
    rc = 0;
done:
    if (limb != stack) free(limb);
    return rc;
}

/* Decode s into out[0..cap); on failure says why in err (may be NULL). */
static int b58_decode(const char *s, uint8_t *out, size_t cap, size_t *out_len, ch_error *err) {
    size_t n = strlen(s), i;

    /* Check the alphabet first, so a typo is reported as such even in a
     * string that would also be too long. */
    for (i = 0; i < n; i++)
        if (enc_b58_digit((unsigned char)s[i]) < 0)
            return b58_bad_char(err, (unsigned char)s[i], i);
    if (enc_b58_decode_digits(s, n, out, cap, out_len) != 0) return ch_err(err, "too long");
    return 0;
}

int ch_base58_decode(const char *s, uint8_t *out, size_t out_cap, size_t *out_len) {
    return b58_decode(s, out, out_cap, out_len, NULL);
}

size_t ch_base58check_encode(const uint8_t *payload, size_t len, char *out, size_t out_cap) {
    uint8_t buf[B58CHECK_MAX_PAYLOAD + 4];
    ch_hash256 h;
    if (len > B58CHECK_MAX_PAYLOAD) return 0;
    if (len) memcpy(buf, payload, len);
    ch_sha256d(payload, len, &h);
    memcpy(buf + len, h.b, 4);
    return ch_base58_encode(buf, len + 4, out, out_cap);
}

int ch_base58check_decode(const char *s, uint8_t *out, size_t out_cap, size_t *out_len,
                          ch_error *err) {
    uint8_t buf[B58CHECK_MAX_PAYLOAD + 4];
    size_t n;
    ch_hash256 h;

    /* Decode into the full buffer, not just out_cap + 4: a typo can change
     * the decoded length, and it should still be reported as a bad checksum
     * rather than as a length problem. */
    if (b58_decode(s, buf, sizeof buf, &n, err) != 0) return -1;
    if (n < 4) return ch_err(err, "too short for a checksum (%zu bytes)", n);
    ch_sha256d(buf, n - 4, &h);
    if (memcmp(h.b, buf + n - 4, 4) != 0) return ch_err(err, "bad checksum");
    if (n - 4 > out_cap) return ch_err(err, "too long");
    if (n > 4) memcpy(out, buf, n - 4);
    *out_len = n - 4;
    return 0;
}
