/* coinhound: address encodings (Base58Check, Bech32, Bech32m).
 *
 * Hand-written because they are small, exact and central to the product:
 * every address we print or read goes through here, and decoding must tell
 * a mistyped address (bad checksum) from a valid one. */
#ifndef COINHOUND_ENCODE_H
#define COINHOUND_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "coinhound/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Base58 (Bitcoin alphabet). Returns the string length, or 0 when out_cap is
 * too small. out is NUL-terminated. */
size_t ch_base58_encode(const uint8_t *in, size_t len, char *out, size_t out_cap);
/* Decodes into out (at most out_cap bytes); sets *out_len. -1 on a character
 * outside the alphabet or overflow. */
int ch_base58_decode(const char *s, uint8_t *out, size_t out_cap, size_t *out_len);

/* Base58Check: payload = version bytes + data, then 4 bytes of SHA256d. */
size_t ch_base58check_encode(const uint8_t *payload, size_t len, char *out, size_t out_cap);
/* -1 with a message ("bad checksum", "invalid character 'x' at 5") on failure. */
int ch_base58check_decode(const char *s, uint8_t *out, size_t out_cap, size_t *out_len,
                          ch_error *err);

typedef enum ch_bech32_variant {
    CH_BECH32_INVALID = 0,
    CH_BECH32 = 1,  /* BIP173 constant 1 */
    CH_BECH32M = 2, /* BIP350 constant 0x2bc830a3 */
} ch_bech32_variant;

/* Encode hrp + 5-bit data words. Returns string length or 0 on error. */
size_t ch_bech32_encode(const char *hrp, const uint8_t *data5, size_t len, ch_bech32_variant v,
                        char *out, size_t out_cap);
/* Decode a Bech32/Bech32m string (either case, not mixed; at most 90 chars).
 * Returns the variant, or CH_BECH32_INVALID with a message in err.
 * *data_len is set once the string is well formed, before the checksum is
 * tested: a caller that set it to SIZE_MAX and finds it changed after
 * CH_BECH32_INVALID knows that only the checksum failed. */
ch_bech32_variant ch_bech32_decode(const char *s, char *hrp, size_t hrp_cap, uint8_t *data5,
                                   size_t data_cap, size_t *data_len, ch_error *err);

/* Segwit address (BIP173 for v0, BIP350 for v1..16). */
size_t ch_segwit_encode(const char *hrp, int witver, const uint8_t *prog, size_t prog_len,
                        char *out, size_t out_cap);
/* Checks hrp, version, program length and the right checksum variant. */
int ch_segwit_decode(const char *addr, const char *hrp, int *witver, uint8_t *prog,
                     size_t *prog_len, ch_error *err);

#ifdef __cplusplus
}
#endif

#endif
