/* Internal: the Keccak-256 sponge with a chosen domain/padding byte.
 *
 * 0x01 is the original Keccak padding (Ethereum, Monero: ch_keccak256);
 * 0x06 gives FIPS 202 SHA3-256. The second exists so that tests can check
 * the whole sponge, multi-block inputs included, against OpenSSL's SHA3-256,
 * an implementation independent of this one. */
#ifndef COINHOUND_UTIL_KECCAK_H
#define COINHOUND_UTIL_KECCAK_H

#include <stddef.h>
#include <stdint.h>

#define KECCAK_DOMAIN_ORIGINAL 0x01
#define KECCAK_DOMAIN_SHA3     0x06

void ch_keccak256_domain(const void *data, size_t len, uint8_t domain, uint8_t out[32]);

/* out[i] = ch_keccak256_domain(msgs[i], len, domain) for i < n, every
 * message len bytes long. Messages of one block (len < 136) are hashed
 * several at a time, one state per element of a vector, where the CPU has
 * AVX-512 (8 at a time) or AVX2 (4): for callers with many short inputs at
 * hand (EIP-55 checksums of a batch of addresses). */
void ch_keccak256_many(const uint8_t *const *msgs, size_t len, size_t n, uint8_t domain,
                       uint8_t (*out)[32]);

#endif
