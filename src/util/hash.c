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

/* The digest a context holds after whole blocks: its state words,
 * big-endian. */
static void state_digest(const SHA256_CTX *c, uint8_t out[32]) {
    for (int i = 0; i < 8; i++) {
        uint32_t h = c->h[i];
        out[4 * i] = (uint8_t)(h >> 24);
        out[4 * i + 1] = (uint8_t)(h >> 16);
        out[4 * i + 2] = (uint8_t)(h >> 8);
        out[4 * i + 3] = (uint8_t)h;
    }
}

/* SHA-256 of 32 bytes (SHA256d's second round: once per txid, wtxid and
 * merkle node) as one compression of the bytes and their padding (0x80,
 * zeros, the length: 256 bits), with OpenSSL's own compression function;
 * Update and Final around it (buffering, counting, cleansing the context)
 * cost about as much again on so short an input. test_hash holds it equal
 * to EVP's SHA-256. */
static void sha256_of_32(const uint8_t in[32], uint8_t out[32]) {
    uint8_t block[64] = {0};
    memcpy(block, in, 32);
    block[32] = 0x80;
    block[62] = 0x01; /* 256 bits, big-endian in the last 8 bytes */
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Transform(&c, block);
    state_digest(&c, out);
}

void ch_sha256d(const void *data, size_t len, ch_hash256 *out) {
    uint8_t first[32];
    if (len == 64) { /* a merkle node's pair: the two halves, then a padding block */
        static const uint8_t pad64[64] = {0x80, [62] = 0x02}; /* 512 bits */
        SHA256_CTX c;
        SHA256_Init(&c);
        SHA256_Transform(&c, data);
        SHA256_Transform(&c, pad64);
        state_digest(&c, first);
    } else {
        ch_sha256(data, len, first);
    }
    sha256_of_32(first, out->b);
}

void ch_sha256d_final(ch_sha256_ctx *c, ch_hash256 *out) {
    uint8_t first[32];
    SHA256_Final(first, (SHA256_CTX *)c);
    sha256_of_32(first, out->b);
}

void ch_hash160_of(const void *data, size_t len, ch_hash160 *out) {
    uint8_t sha[32];
    ch_sha256(data, len, sha);
    RIPEMD160(sha, 32, out->b);
}
