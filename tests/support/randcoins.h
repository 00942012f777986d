/* A random stream of txids and a set of live coins for tests that build
 * stores from random chains through the store's API (test_store_utxo,
 * test_store_addrcheck, test_store_txcheck): the same seed gives the same
 * txids, and a coin is taken from the set at random; and the writers they
 * build side by side. */
#ifndef COINHOUND_TEST_RANDCOINS_H
#define COINHOUND_TEST_RANDCOINS_H

#include <stddef.h>
#include <stdint.h>

#include "coinhound/hash.h"
#include "coinhound/store.h"

/* xorshift64: the stream's state is tu_rng (seed it, save it, restore it
 * to replay the same txids). */
extern uint64_t tu_rng;
uint64_t tu_next_rand(void);
/* 32 bytes from the stream. */
ch_hash256 tu_rand_txid(void);

typedef struct tu_coin {
    ch_hash256 txid;
    uint32_t vout;
} tu_coin;

typedef struct tu_coins {
    tu_coin *v;
    size_t n, cap;
} tu_coins;

void tu_coins_push(tu_coins *c, const ch_hash256 *txid, uint32_t vout);
/* A live coin at random, taken out of the set (c->n > 0). */
tu_coin tu_coins_take(tu_coins *c);
void tu_coins_free(tu_coins *c);

/* n writers side by side, each on a new temporary folder (dir[i], the
 * caller's to free), all given the memory bound mem (ch_store_set_mem)
 * unless it is 0: the stores these tests build with the same calls and
 * compare. Fails the test when one does not open. */
void tu_open_writers(char **dir, ch_store **s, size_t n, uint64_t mem);

#endif
