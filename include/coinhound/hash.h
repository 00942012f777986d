/* coinhound: hashes and hex.
 *
 * Hashing goes through OpenSSL (SHA-256, RIPEMD-160). Bitcoin shows txids and
 * block hashes byte-reversed; `ch_hash256` always holds the internal order (as
 * the hash function produced it) and the hex helpers say which order they use. */
#ifndef COINHOUND_HASH_H
#define COINHOUND_HASH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ch_hash256 {
    uint8_t b[32];
} ch_hash256;

typedef struct ch_hash160 {
    uint8_t b[20];
} ch_hash160;

/* Incremental SHA-256 (a thin wrapper so callers need not include OpenSSL). */
typedef struct ch_sha256_ctx {
    uint64_t opaque[16];
} ch_sha256_ctx;

void ch_sha256_init(ch_sha256_ctx *c);
void ch_sha256_update(ch_sha256_ctx *c, const void *data, size_t len);
void ch_sha256_final(ch_sha256_ctx *c, uint8_t out[32]);

void ch_sha256(const void *data, size_t len, uint8_t out[32]);
/* SHA-256 applied twice (Bitcoin's hash for txids, blocks, checksums). */
void ch_sha256d(const void *data, size_t len, ch_hash256 *out);
/* Finish an incremental SHA-256 and hash the digest once more. */
void ch_sha256d_final(ch_sha256_ctx *c, ch_hash256 *out);
/* RIPEMD-160(SHA-256(data)), Bitcoin's key and script hash. */
void ch_hash160_of(const void *data, size_t len, ch_hash160 *out);

/* Hex. Lowercase out; upper- or lowercase in. */
void ch_hex_encode(const uint8_t *in, size_t len, char *out); /* writes 2*len + NUL */
/* Decodes exactly out_len bytes from 2*out_len hex digits; -1 on a bad digit
 * or a wrong length. */
int ch_hex_decode(const char *hex, size_t hex_len, uint8_t *out, size_t out_len);

/* Hash in display order (byte-reversed), as bitcoin-cli prints txids. */
void ch_hash256_to_hex(const ch_hash256 *h, char out[65]);
/* Parse a 64-digit display-order hex string; -1 when malformed. */
int ch_hash256_from_hex(const char *hex, ch_hash256 *h);

/* Keccak-256 (the original padding, as Ethereum uses; not FIPS SHA3-256):
 * EVM addresses, EIP-55 checksums and event topics. Lives with the hashes
 * (src/util/keccak.c) so that the format layer can use it without the
 * address parsers above it. */
void ch_keccak256(const void *data, size_t len, uint8_t out[32]);

#ifdef __cplusplus
}
#endif

#endif
