/* The poisoning detector's insides, shared by src/poison only. */
#ifndef COINHOUND_POISON_POISON_INTERNAL_H
#define COINHOUND_POISON_POISON_INTERNAL_H

#include "coinhound/poison.h"

/* What the detector derived about one asset id (a cache slot). */
typedef struct pz_asset {
    ch_addr_id id; /* 0 = empty slot */
    uint8_t addr[20];
    const ch_token_info *token; /* NULL: not in any table */
    bool fake;
    bool has_dust; /* decimals known: dust below dust_hi:dust_lo units */
    uint64_t dust_lo, dust_hi;
} pz_asset;

typedef struct pz_match {
    ch_addr_id c; /* the real counterparty imitated, 0 = none */
    unsigned prefix, suffix;
} pz_match;

struct ch_poison {
    ch_poison_opts o;
    ch_toktab *tokens;
    pz_asset *cache; /* open addressing on the asset id */
    size_t n_cache, cap_cache;
    const ch_store *cache_store; /* the store the cache's ids belong to */
    uint64_t cache_end;          /* its transfer count after the last scan */
};

/* Forget the derived asset facts (tokens changed, another store, a reorg). */
void pz_cache_clear(ch_poison *p);

#endif
