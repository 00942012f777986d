/* Hand-made account (EVM) chains for tests: blocks, transactions and
 * transfers written straight into an "eth" store through its write API. */
#ifndef COINHOUND_TEST_ACCTCHAIN_H
#define COINHOUND_TEST_ACCTCHAIN_H

#include "testutil.h"

#include "coinhound/store.h"

typedef struct achain {
    char *dir;
    ch_store *s;
    uint32_t n_blocks, n_txs, pos;
    ch_error err;
} achain;

/* An EVM address from 40 hex digits (no 0x). */
ch_addr ac_addr(const char *hex40);
/* An EVM address from 20 bytes. */
ch_addr ac_addr_bytes(const uint8_t b[20]);
/* A fresh "eth" store in a temporary directory, open for writing. */
void ac_open(achain *c);
void ac_block(achain *c);
void ac_end_block(achain *c);
/* A transaction from -> to (status 1 success, 0 failed); its txid is
 * ac_txid(number) for the n-th tx added (0, 1, ...). */
void ac_tx(achain *c, const ch_addr *from, const ch_addr *to, int status);
ch_hash256 ac_txid(uint32_t n);
/* A transfer of the current tx; asset NULL for the native coin. Returns its
 * transfer number. */
uint64_t ac_xfer(achain *c, ch_xfer_kind kind, const ch_addr *asset, const ch_addr *from,
                 const ch_addr *to, uint64_t value, uint8_t flags);
/* A tx from -> to with one native transfer of value (the common case). */
uint64_t ac_pay(achain *c, const ch_addr *from, const ch_addr *to, uint64_t value);
void ac_commit(achain *c);
/* Commit, close and reopen read-only. */
void ac_reopen_read(achain *c);
/* Address id of a, 0 when absent (committed data). */
ch_addr_id ac_id(achain *c, const ch_addr *a);
void ac_close(achain *c);

#endif
