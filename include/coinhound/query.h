/* coinhound queries: what a front door asks of a store, as library calls.
 *
 * The CLI (`coinhound address|tx|block`), and every later door (the HTTP
 * service's GET /v1/address/{a}, /v1/address/{a}/txs?cursor=&limit=,
 * /v1/tx/{txid}, /v1/block/{h|hash}), call these and print through the
 * writers below; none of them reads the store's records itself.
 *
 * Both kinds of store answer the same calls: a UTXO store (btc) and an
 * account store (eth and other EVM chains). Amounts are unsigned 128-bit
 * base units (satoshi, wei, a token's smallest unit); asset 0 is the chain's
 * native coin, any other asset is the store's address id of the token
 * contract.
 *
 * Conventions (as error.h): calls return 0 on success and -1 on error with
 * err filled; lookups return 1 found, 0 absent, -1 error. Result structs are
 * filled by the call and released by their _free function, which accepts a
 * zeroed struct. The store must stay open while a result is used. Pointers
 * are never NULL unless said. Not thread-safe on one ch_store (its readers
 * are not); separate stores may be queried from separate threads.
 */
#ifndef COINHOUND_QUERY_H
#define COINHOUND_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "coinhound/error.h"
#include "coinhound/store.h"
#include "coinhound/tokens.h"

#ifdef __cplusplus
extern "C" {
#endif

__extension__ typedef unsigned __int128 ch_q_amount;

/* ---- an output's tx --------------------------------------------------- */

/* The tx that created output o: the last tx whose first output is <= o,
 * searched over a tx column as the store maps it (n_txs >= 1). The one
 * binary search that the address history and the trace both use. */
uint64_t ch_txs_output_tx(const ch_tx_rec *txs, uint64_t n_txs, uint64_t o);
/* The same over an open UTXO store; -1 when o is not an output of it. */
int64_t ch_query_output_tx(const ch_store *s, uint64_t o);

/* ---- a txid, or a unique prefix of one ---------------------------------- */

#define CH_QUERY_MAX_CANDIDATES 8
/* The tx whose id is text: 64 hex digits (UTXO) or 0x + 64 (account), or,
 * like git, a unique prefix of at least 4 hex digits of the id as the text
 * output prints it (with its 0x on an account store). Returns 1 and *tx when
 * found, 0 when no tx has that whole id, -1 on error: malformed text, a
 * prefix no tx id begins with (git's rule: an error, not an answer), or an
 * ambiguous prefix (err names up to CH_QUERY_MAX_CANDIDATES candidates
 * and *n_candidates says how many matched, saturating at that count). A
 * prefix is found by a scan of the txid column (linear in the store). */
int ch_query_find_tx(ch_store *s, const char *text, uint64_t *tx, size_t *n_candidates,
                     ch_error *err);

/* ---- an address -------------------------------------------------------- */

typedef struct ch_q_balance {
    ch_addr_id asset;     /* 0 native, else the token contract's address id */
    ch_q_amount received; /* to the address */
    ch_q_amount sent;     /* from the address */
    /* received - sent; negative (not representable) when the store starts
     * after the account was funded: then balance_known is false */
    ch_q_amount balance;
    bool balance_known;
} ch_q_balance;

typedef struct ch_q_peer {
    ch_addr_id addr; /* address id */
    uint64_t count;  /* transfers (account) or txs (UTXO) shared with it */
} ch_q_peer;

typedef struct ch_q_address {
    bool account;        /* an account store's address */
    char canonical[128]; /* the address as the store's chain writes it */
    ch_addr_id id;       /* its address id */
    uint64_t last;       /* newest output (UTXO) or transfer (account) */
    ch_q_balance *balances;
    size_t n_balances; /* UTXO: one, the native coin */
    uint64_t tx_count;
    uint64_t items; /* UTXO: outputs it received; account: transfers it took part in */
    /* first and last seen: the block height in the store and its time; on an
     * account store number = first_number + height, else number = height */
    uint32_t first_height, last_height, first_time, last_time;
    uint64_t first_number, last_number;
    ch_q_peer *peers; /* counterparties, most transfers first (account stores) */
    size_t n_peers;
} ch_q_address;

/* Parse text as an address of the store's kind (Base58/Bech32 for UTXO, 0x
 * + 40 hex for account). Returns 1 and fills *out when it appears in the
 * store, 0 when it never does (out->canonical still filled), -1 on error
 * (err says 'not a valid address' for malformed text). */
int ch_query_address(ch_store *s, const char *text, ch_q_address *out, ch_error *err);
void ch_q_address_free(ch_q_address *a);

/* ---- an address's history, page by page ------------------------------------
 *
 * Newest first. A UTXO entry is one tx with the net amount it moved to (+)
 * or from (-) the address; an account entry is one transfer the address
 * took part in. A page holds up to limit entries (0: all) and a cursor for
 * the next page: an opaque string of letters and digits a URL carries as it
 * is, "" when the history is done. Pages concatenated equal the whole
 * history, with no duplicates, and a cursor stays valid across appends to
 * the store (entries added later are newer than every cursor; they show on a
 * new first page). A page costs the entries it returns on an account store;
 * on a UTXO store it reads each output of the address once (no sort of the
 * whole history: a bounded heap of limit entries). */

#define CH_Q_CURSOR_MAX 40

typedef struct ch_q_entry {
    uint64_t tx; /* tx index in the store */
    uint32_t height, time;
    uint64_t number;     /* block number (height on a UTXO store) */
    ch_addr_id asset;    /* 0 native */
    ch_q_amount amount;  /* magnitude */
    int sign;            /* +1 in, -1 out, 0 both (a transfer to itself) */
    uint64_t xfer;       /* account: the transfer's index */
    uint8_t kind;        /* account: ch_xfer_kind */
    ch_addr_id from, to; /* account: address ids */
} ch_q_entry;

typedef struct ch_q_page {
    ch_q_entry *v;
    size_t n;
    char next[CH_Q_CURSOR_MAX]; /* "" when no more */
} ch_q_page;

/* One page of a's history from cursor (NULL or "" for the first page).
 * Returns 0, or -1 when the cursor is malformed or not of this store's
 * kind ('bad cursor'), or on memory. */
int ch_query_history(ch_store *s, const ch_q_address *a, const char *cursor, uint64_t limit,
                     ch_q_page *out, ch_error *err);
void ch_q_page_free(ch_q_page *p);

/* ---- writers ------------------------------------------------------------
 *
 * Text and JSON as `coinhound address|tx|block` print them (a contract: fields
 * are added, never renamed). tokens may be NULL (symbols and decimals for
 * account assets when given). */

/* The summary and, when page is not NULL, its first entries. more: how many
 * further entries the history holds beyond the page (for "... N more"). */
void ch_q_address_json(FILE *f, const ch_store *s, const ch_q_address *a, const ch_q_page *page,
                       size_t max_peers, const ch_toktab *tokens);
void ch_q_address_text(FILE *f, const ch_store *s, const ch_q_address *a, const ch_q_page *page,
                       size_t max_peers, const ch_toktab *tokens);
/* A page alone: {"address","entries":[...],"next_cursor"} / one line each. */
void ch_q_page_json(FILE *f, const ch_store *s, const ch_q_address *a, const ch_q_page *page,
                    const ch_toktab *tokens);
void ch_q_page_text(FILE *f, const ch_store *s, const ch_q_page *page, const ch_toktab *tokens);

/* ---- a tx and a block ---------------------------------------------------- */

/* One tx written whole (UTXO: block, inputs with the outputs they spend,
 * outputs with their spenders, fee; account: block, from, to, status, fee
 * and transfers), as `coinhound tx` prints it. */
void ch_q_tx_json(FILE *f, const ch_store *s, uint64_t tx, const ch_toktab *tokens);
void ch_q_tx_text(FILE *f, const ch_store *s, uint64_t tx, const ch_toktab *tokens);

typedef struct ch_q_block {
    uint32_t height; /* in the store */
    uint64_t number; /* first_number + height on an account store, else height */
    ch_hash256 hash; /* as stored */
    uint32_t time;   /* 0: no source gave the header (account stores) */
    uint64_t first_tx, n_tx;
} ch_q_block;

/* The block text names: a height (UTXO; decimal), a block number (account;
 * decimal), or a hash (64 hex digits as printed, 0x first on an account
 * store). 1 found, 0 absent, -1 malformed (err names what it wants). */
int ch_query_block(const ch_store *s, const char *text, ch_q_block *out, ch_error *err);
/* The block as `coinhound block` prints it: header, totals, and its txs
 * (txs: each written whole; else txids in JSON, nothing in text on a UTXO
 * store, txids on an account store). */
void ch_q_block_json(FILE *f, const ch_store *s, const ch_q_block *b, bool txs,
                     const ch_toktab *tokens);
void ch_q_block_text(FILE *f, const ch_store *s, const ch_q_block *b, bool txs,
                     const ch_toktab *tokens);

#ifdef __cplusplus
}
#endif

#endif
