/* The common Bitcoin segwit forms checked in one pass, for screening's fast
 * path (chainaddr.c): what ch_segwit_decode would accept for them, without
 * its general machinery. */
#ifndef COINHOUND_ENCODE_BECH32_H
#define COINHOUND_ENCODE_BECH32_H

#include <stdbool.h>
#include <stddef.h>

/* 1 when s[0..n) is a Bitcoin segwit address of a common form - "bc1"
 * (mainnet), "tb1" (testnet) or "bcrt1" (regtest), in one letter case
 * throughout; witness v0 with a 20- or 32-byte program under Bech32, or v1
 * with a 32-byte program under Bech32m - whose checksum holds, with zero
 * padding of at most 4 bits: exactly the strings of these forms
 * ch_segwit_decode(s, hrp, ...) accepts; *testnet says which network. 0
 * for anything else, valid or not: the caller then asks the general
 * decoder, which says what is wrong. */
int enc_segwit_btc_common(const char *s, size_t n, bool *testnet);

#endif
