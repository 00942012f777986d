/* Hand-made chains for tests: blocks and transactions written straight
 * into a store through its write API, with made-up txids and P2PKH
 * addresses numbered 1, 2, ... */
#ifndef COINHOUND_TEST_HANDCHAIN_H
#define COINHOUND_TEST_HANDCHAIN_H

#include "testutil.h"

#include "coinhound/address.h"
#include "coinhound/store.h"

typedef struct hand {
    char *dir;
    ch_store *s;
    uint32_t n_blocks, n_txs;
    ch_error err;
} hand;

/* A made-up hash: tag, then n, then 0x5a (distinct for distinct pairs). */
ch_hash256 mkhash(uint8_t tag, uint32_t n);

/* Address number n of a kind with 20 bytes (P2PKH, P2SH, v0 witness). */
ch_addr mkaddr_kind(ch_addr_kind kind, uint32_t n);
ch_addr mkaddr(uint32_t n);

const char *addr_str(uint32_t n, char buf[CH_ADDR_STR_MAX]);

void hand_open(hand *h);

void hand_block(hand *h, uint32_t time);

void hand_end_block(hand *h);

typedef struct hout {
    uint64_t value;
    uint32_t addr; /* address number, 0 = none */
} hout;

/* A coinbase paying the given outputs; returns its txid. */
ch_hash256 hand_coinbase(hand *h, const hout *o, size_t n);

typedef struct hin {
    ch_hash256 txid;
    uint32_t vout;
} hin;

/* A transaction spending the given outpoints; returns its txid. */
ch_hash256 hand_tx(hand *h, const hin *in, size_t ni, const hout *o, size_t no);

/* Commit, and reopen read-only as the commands do. */
void hand_finish(hand *h);

void hand_close(hand *h);

#endif
