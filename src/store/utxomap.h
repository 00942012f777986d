/* The writer's UTXO map: an output it added and no input has spent yet,
 * found by (txid, vout) with what an input needs from it (the tx number,
 * the output's index and value), so that ingest resolves an input without
 * reading a record: no txid lookup in the hot maps or runs, no tx record,
 * no output record (docs/store.md, Memory). Derived state of one writer's
 * run: empty when a store is opened, filled by the outputs it adds.
 *
 * Exact or silent: a lookup either finds the entry of that very output or
 * nothing (the caller then takes the path that reads records). The key is
 * SipHash-2-4-128 of the txid and vout under a key drawn at random for each
 * map, of which an entry keeps 88 bits: two outputs share them with
 * probability 2^-88, and nobody can make them share them, since nobody
 * outside the process knows the key (a txid can be ground; a keyed PRF's
 * output cannot be aimed at). A lookup meets a false match only if some
 * held entry shares all 88 bits with its key: at most n / 2^88 per lookup
 * for n entries: about 1e-9 false hits expected over all 2.7 billion
 * inputs of Bitcoin's history against a map of 2^27 entries. Internal to
 * the store. */
#ifndef COINHOUND_STORE_UTXOMAP_H
#define COINHOUND_STORE_UTXOMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coinhound/hash.h"

/* Bytes an entry takes: 64 + 24 key bits, the tx (40 bits), the output
 * (40 bits), the value (56 bits). */
#define ST_UTXO_REC 28

/* An output's key: h0 places it and is checked whole, 24 bits of h1 are
 * checked too. */
typedef struct st_utxo_key {
    uint64_t h0, h1;
} st_utxo_key;

/* What a hit gives: the output (global index), its tx and its value. */
typedef struct st_utxo_val {
    uint64_t out, tx, value;
} st_utxo_val;

typedef struct st_utxo {
    uint8_t *slots; /* cap entries of ST_UTXO_REC bytes; NULL: no map */
    uint64_t cap, count, max;
    /* bounds of the held entries' outputs (lo <= out <= hi; lo > hi when
     * none was put since the map was empty): kept by the puts and the
     * sweeps, so that letting go of the oldest needs no pass to find them */
    uint64_t lo, hi;
    uint64_t sip[2]; /* the SipHash key */
    /* counters for the docs' measurements (never read by the store) */
    uint64_t hits, misses, evictions;
} st_utxo;

/* A map of about bytes (at least 64 slots; 0 frees it: no map). -1 when the memory cannot be had
 * (the map is then none). */
int st_utxo_init(st_utxo *m, uint64_t bytes);
void st_utxo_free(st_utxo *m);

st_utxo_key st_utxo_key_of(const st_utxo *m, const ch_hash256 *txid, uint32_t vout);

/* Add an unspent output. A full map first lets go of its oldest quarter
 * of entries (the lowest output indexes: a real chain spends its recent
 * outputs most). A key already held (a txid stored twice, BIP30's
 * coinbases) drops the held entry and adds none: neither is then found. */
void st_utxo_put(st_utxo *m, st_utxo_key k, const st_utxo_val *v);
/* The entry for k into *v, still held: true when found. */
bool st_utxo_get(const st_utxo *m, st_utxo_key k, st_utxo_val *v);
/* Forget k's entry (after st_utxo_get found it: it is spent). */
void st_utxo_del(st_utxo *m, st_utxo_key k);
/* Forget every entry whose output is at or past out (a cut or an abort
 * removed those outputs). */
void st_utxo_cut(st_utxo *m, uint64_t out);
/* Start loading where a lookup of k begins. */
void st_utxo_prefetch(const st_utxo *m, st_utxo_key k);

/* SipHash-2-4 with its 64-bit output (for the test vectors of its paper). */
uint64_t st_siphash24(const uint64_t key[2], const void *data, size_t len);

#endif
