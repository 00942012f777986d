/* Raw Bitcoin blocks for tests, in the real serialization: a hand-made block
 * of segwit's lock-in period, and a real segwit block turned into one. */
#ifndef COINHOUND_TEST_BTCBLOCK_H
#define COINHOUND_TEST_BTCBLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A two-transaction block as mined while segwit was locked in but not yet
 * active (height 481,823): a coinbase with a BIP34 height, a P2PKH payout
 * and a witness commitment output (OP_RETURN aa21a9ed + commitment), then
 * a legacy spend. With coinbase_witness the coinbase also carries the
 * 32-byte all-zero witness reserved value, as a block of the active period
 * does. The header's merkle root is right. Caller frees; *len its size. */
uint8_t *bb_lockin_block(bool coinbase_witness, const uint8_t commitment[32], size_t *len);

/* The serialized transactions of bb_lockin_block (to check txids against
 * SHA256d of these bytes): tx 0 without witness, tx 1. */
const uint8_t *bb_lockin_tx(int i, size_t *len);

/* A copy of a block whose coinbase loses its segwit marker, flag and
 * witness: what a block of the lock-in period looks like. Txids and the
 * merkle root are unchanged. NULL when the coinbase has no witness or the
 * block does not parse. Caller frees. */
uint8_t *bb_strip_coinbase_witness(const uint8_t *block, size_t len, size_t *out_len);

#endif
