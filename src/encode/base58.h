/* Bitcoin's Base58 alphabet inverted, for the library's other Base58 readers
 * (chainaddr's Monero and Solana forms): one table, one inline look-up, since
 * every address screened has its digits looked up. */
#ifndef COINHOUND_ENCODE_BASE58_H
#define COINHOUND_ENCODE_BASE58_H

/* The digit of each ASCII byte, -1 when not in the alphabet (base58.c). */
extern const signed char enc_b58_digits[128];

/* Digit value of c, or -1 when c is not in the alphabet (0, O, I, l are not). */
static inline int enc_b58_digit(unsigned char c) {
    return c < 128 ? enc_b58_digits[c] : -1;
}

#include <stddef.h>
#include <stdint.h>

/* s[0..n), every byte a digit of Bitcoin's alphabet (the caller checked),
 * as Base58 decodes it: each leading '1' a zero byte, then the number
 * big-endian without leading zeros, into out[0..cap). 0 with *out_len set,
 * or -1 when it takes more than cap bytes. */
int enc_b58_decode_digits(const char *s, size_t n, uint8_t *out, size_t cap, size_t *out_len);

#endif
