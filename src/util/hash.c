/* Hashing through OpenSSL. The low-level SHA256_* and RIPEMD160 calls are
 * deprecated in OpenSSL 3 in favour of EVP, but EVP (and OpenSSL 3's one-shot
 * SHA256(), which goes through it) fetches the digest from a provider on
 * every call: on the ingest hot path (two SHA-256 per transaction) that
 * lookup cost more than the hashing. So the still-supported context API is
 * used, with the deprecation warning silenced here, and only here. */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include "coinhound/hash.h"

#include <openssl/ripemd.h>
#include <openssl/sha.h>
#include <string.h>

_Static_assert(sizeof(ch_sha256_ctx) >= sizeof(SHA256_CTX), "ch_sha256_ctx too small");

void ch_sha256_init(ch_sha256_ctx *c) {
    SHA256_Init((SHA256_CTX *)c);
}

void ch_sha256_update(ch_sha256_ctx *c, const void *data, size_t len) {
    SHA256_Update((SHA256_CTX *)c, data, len);
}

void ch_sha256_final(ch_sha256_ctx *c, uint8_t out[32]) {
    SHA256_Final(out, (SHA256_CTX *)c);
}

void ch_sha256(const void *data, size_t len, uint8_t out[32]) {
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, data, len);
    SHA256_Final(out, &c);
}

void ch_sha256d(const void *data, size_t len, ch_hash256 *out) {
    uint8_t first[32];
    ch_sha256(data, len, first);
    ch_sha256(first, 32, out->b);
}

void ch_sha256d_final(ch_sha256_ctx *c, ch_hash256 *out) {
    uint8_t first[32];
    SHA256_Final(first, (SHA256_CTX *)c);
    ch_sha256(first, 32, out->b);
}

void ch_hash160_of(const void *data, size_t len, ch_hash160 *out) {
    uint8_t sha[32];
    ch_sha256(data, len, sha);
    RIPEMD160(sha, 32, out->b);
}
