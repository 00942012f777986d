/* Internal state of the EVM chain generator, shared by the files of
 * src/evmgen.
 *
 * Model: every address is an *account* (an index into one array) holding a
 * native balance and one balance per generated token. A transaction is built
 * in the block under construction (its logs and call frames appended after
 * it), then finished: its fee is charged and, when it succeeded, its value,
 * call frames and Transfer logs are applied to the balances. Callers check
 * that a sender can pay before they build; the ledger aborts on an
 * underflow, which would be a generator bug. */
#ifndef COINHOUND_EVG_INTERNAL_H
#define COINHOUND_EVG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "coinhound/evmgen.h"

__extension__ typedef unsigned __int128 u128;

#define EVG_NONE UINT32_MAX
#define GWEI     1000000000ULL
#define ETHER    ((u128)1000000000000000000ULL)

/* --- PRNG (core.c): splitmix64 as a stream; fast and the same everywhere */
typedef struct evg_rng {
    uint64_t s;
} evg_rng;

uint64_t evg_next(evg_rng *r);
uint64_t evg_below(evg_rng *r, uint64_t n); /* [0, n), n > 0 */
uint64_t evg_range(evg_rng *r, uint64_t lo, uint64_t hi);
bool evg_chance(evg_rng *r, unsigned per_mille);
void evg_bytes(evg_rng *r, uint8_t *out, size_t n);

/* --- u128 helpers (core.c) ---------------------------------------------- */
/* Decimal digits; out needs 40 bytes. */
const char *evg_u128_dec(u128 v, char out[40]);
/* Big-endian 32-byte ABI word. */
void evg_u128_word(u128 v, uint8_t out[32]);
/* A quantity in [lo, hi] drawn log-uniformly (many small, few large). */
u128 evg_logrand(evg_rng *r, u128 lo, u128 hi);

/* --- tokens --------------------------------------------------------------- */
enum { TK_USDT = 0, TK_USDC, TK_WETH, TK_UNK, TK_FAKE, TK_COUNT };
#define ASSET_ETH TK_COUNT /* the native coin, where an asset index is needed */

typedef struct evg_token_info {
    const char *symbol, *name;
    unsigned decimals;
    const char *mainnet; /* fixed address, or NULL: deployed in the first block */
    bool listed;         /* written to tokens.csv (the unknown token is not) */
    uint64_t eth_price;  /* units of the token per 1 ETH at the DEX, 0: not traded */
} evg_token_info;

extern const evg_token_info EVG_TOKENS[TK_COUNT];

/* --- accounts ------------------------------------------------------------- */
typedef enum evg_role {
    RO_ZERO = 0, /* 0x000...: source of mints */
    RO_USER,
    RO_FAUCET,   /* big early holder that funds hot wallets and services */
    RO_TREASURY, /* mints and distributes tokens */
    RO_DEPLOYER,
    RO_MINER, /* fee recipient */
    RO_HOT,
    RO_DEPOSIT,
    RO_CONTRACT,
    RO_RELAYER, /* the bridge's operator */
    RO_BOT,     /* the poisoner's sending address */
    RO_LOOKALIKE,
    RO_VICTIM,
    RO_THIEF,
} evg_role;

typedef struct evg_acct {
    uint8_t addr[20];
    uint8_t role;
    uint8_t ex; /* exchange index of RO_HOT and RO_DEPOSIT */
    uint64_t nonce;
    u128 eth;
    u128 tok[TK_COUNT];
} evg_acct;

#define N_EX 3

/* --- the block under construction ---------------------------------------- */
typedef struct evg_price {
    uint8_t type; /* 0 legacy, 2 EIP-1559 */
    u128 max_fee, max_prio, eff;
} evg_price;

typedef struct evg_tx {
    uint8_t hash[32];
    uint32_t from, to; /* to EVG_NONE: contract creation */
    uint32_t created;  /* account made by a creation, EVG_NONE otherwise */
    uint64_t nonce, gas, gas_used;
    u128 value;
    evg_price p;
    bool ok;
    uint32_t in_off, in_len; /* input, in the block's byte buffer */
    uint32_t first_log, n_logs;
    uint32_t first_call, n_calls;
    uint8_t r[32], s[32];
    uint8_t parity;
} evg_tx;

/* A log. Transfer logs of generated tokens also carry what they move so
 * the ledger can apply them (tk EVG_NONE for other logs and ERC-721). */
typedef struct evg_log {
    uint32_t tx, contract;
    uint8_t n_topics;
    uint8_t topics[4][32];
    uint8_t data[64];
    uint8_t data_len;
    uint32_t tk, lfrom, lto;
    u128 amount;
} evg_log;

/* A call frame below the transaction's own (callTracer "calls"), listed
 * depth first; depth 1 is a direct child of the top frame. */
typedef struct evg_call {
    uint32_t tx;
    uint8_t depth;
    uint32_t from, to;
    u128 value;
    uint64_t gas, gas_used;
    uint32_t in_off, in_len;
    bool error;
} evg_call;

typedef struct evg_wd {
    uint64_t index, validator;
    uint32_t acct;
    uint64_t gwei;
} evg_wd;

#define MAX_WD 16

/* --- exchange deposits waiting for their sweep --------------------------- */
typedef struct evg_sweep {
    uint64_t due; /* block number */
    uint32_t dep;
    uint8_t asset; /* token index or ASSET_ETH */
} evg_sweep;

/* --- poisoning ------------------------------------------------------------ */
typedef enum evg_pkind { PK_ZERO_VALUE = 0, PK_FAKE_TOKEN, PK_DUST } evg_pkind;

typedef struct evg_poison {
    uint64_t due;
    uint8_t kind;
    uint8_t asset; /* what the victim paid with */
    uint32_t victim, counterparty, lookalike;
    u128 amount; /* the victim's payment (the fake token imitates it) */
    uint8_t tx[32];
    uint64_t block;
    bool done;
} evg_poison;

/* --- the planted theft (theft.c) ----------------------------------------- */
#define THEFT_SPLITS 48
#define THEFT_MAX    256

typedef struct theft_landing {
    uint32_t acct;
    uint8_t asset;
    u128 amount;
    uint8_t tx[32];
} theft_landing;

typedef struct theft_swap {
    uint8_t tx[32];
    uint32_t acct;
    uint8_t asset_in;
    u128 amount_in, amount_out;
} theft_swap;

typedef struct evg_theft {
    bool on, done;
    uint64_t start, spacing;
    unsigned stage;
    uint32_t victim, thief;
    uint32_t split[THEFT_SPLITS];
    uint32_t hop[THEFT_SPLITS]; /* EVG_NONE when the split was not hopped */
    u128 drained[TK_COUNT + 1]; /* per asset index, ASSET_ETH included */
    uint8_t drain_tx[TK_COUNT + 1][32];
    bool drained_any[TK_COUNT + 1];
    uint64_t block, timestamp;
    theft_landing land[THEFT_MAX];
    unsigned n_land;
    theft_swap swap[THEFT_SPLITS];
    unsigned n_swap;
    u128 fees;
} evg_theft;

typedef struct evg_label {
    uint32_t acct;
    const char *category, *entity;
} evg_lbl;

/* --- the generator -------------------------------------------------------- */
typedef struct evg {
    const ch_evmgen_opts *o;
    evg_rng rng;
    uint64_t plan_blocks; /* expected length (sweep delays and the theft scale with it) */
    uint64_t addr_ctr;

    evg_acct *a;
    uint32_t n_a, cap_a;
    uint32_t zero, faucet, treasury, deployer, relayer, bot;
    uint32_t miner[4];
    uint32_t token[TK_COUNT];
    uint32_t router, pool, bridge, nft;
    uint32_t hot[N_EX];
    uint32_t first_user, n_users;
    uint32_t *owner; /* per user: the customer it belongs to (some own several addresses) */

    /* deposit address of (owner account, exchange): open addressing */
    uint64_t *dep_key;
    uint32_t *dep_val;
    uint32_t dep_cap, dep_n;

    evg_lbl *labels;
    uint32_t n_labels, cap_labels;

    evg_sweep *sw;
    uint32_t n_sw, cap_sw;

    evg_poison *pz;
    uint32_t n_pz, cap_pz;
    uint32_t *nft_owner;
    uint32_t n_nft, cap_nft;

    /* block under construction */
    uint64_t number, timestamp;
    u128 base_fee;
    uint8_t parent[32];
    uint32_t miner_cur;
    evg_tx *tx;
    uint32_t n_tx, cap_tx;
    evg_log *log;
    uint32_t n_log, cap_log;
    evg_call *call;
    uint32_t n_call, cap_call;
    uint8_t *in;
    uint32_t in_len, in_cap;
    evg_wd wd[MAX_WD];
    uint32_t n_wd;
    uint64_t wd_index;
    uint32_t tx_open; /* index of the tx being built, EVG_NONE */

    /* Keccak dominates the run time: the bloom bits of an address or topic
     * are remembered (direct mapped), as are event signatures' topics */
    struct evg_bloom_slot *bloom_cache;
    const char *sig_name[4];
    uint8_t sig_topic[4][32];

    /* output */
    FILE *fb, *fr, *ft;
    char *out;
    size_t out_len, out_cap;

    evg_theft theft;
    ch_evmgen_stats st;
} evg;

/* core.c */
void *evg_grow(void *p, uint32_t *cap, uint32_t need, size_t elem);
uint32_t evg_acct_new(evg *g, evg_role role);
/* An account at a given address (tokens at their mainnet addresses). */
uint32_t evg_acct_at(evg *g, evg_role role, const uint8_t addr[20]);
/* The address CREATE gives for (sender, nonce). */
void evg_create_addr(const uint8_t sender[20], uint64_t nonce, uint8_t out[20]);
void evg_label(evg *g, uint32_t acct, const char *category, const char *entity);
const char *evg_ex_entity(unsigned ex);
/* The deposit address owner has at exchange ex (made and labelled on first use). */
uint32_t evg_deposit_addr(evg *g, uint32_t owner, unsigned ex);
uint32_t evg_random_user(evg *g);
u128 evg_bal(const evg *g, uint32_t acct, unsigned asset);
/* 10^decimals of an asset */
u128 evg_unit(unsigned asset);
/* The sender's worst-case cost of a tx: value + gas_limit * highest max fee. */
u128 evg_worst_cost(const evg *g, u128 value, uint64_t gas_limit);

/* tx.c */
evg_price evg_price_pick(evg *g, bool exact);
uint32_t evg_tx_new(evg *g, uint32_t from, uint32_t to, u128 value, uint64_t gas_limit,
                    uint64_t gas_used, const evg_price *p);
/* Input: a 4-byte selector and ABI words. */
void evg_tx_input(evg *g, uint32_t tx, uint32_t selector, const uint8_t (*words)[32], unsigned n);
void evg_word_addr(const evg *g, uint32_t acct, uint8_t out[32]);
/* An ERC-20 Transfer log of token tk (applied at finish). */
void evg_log_erc20(evg *g, uint32_t tx, unsigned tk, uint32_t from, uint32_t to, u128 amount);
/* An ERC-721 Transfer (token id in topic 3, no data): not value. */
void evg_log_erc721(evg *g, uint32_t tx, uint32_t contract, uint32_t from, uint32_t to,
                    uint64_t id);
/* A non-Transfer event (Swap, Deposit, ...) with topic0 = keccak(sig). */
void evg_log_event(evg *g, uint32_t tx, uint32_t contract, const char *sig, u128 a, u128 b);
void evg_call_add(evg *g, uint32_t tx, uint8_t depth, uint32_t from, uint32_t to, u128 value,
                  uint64_t gas, uint32_t selector, bool error);
/* Hash, charge the fee, apply the effects when ok. */
void evg_tx_finish(evg *g, uint32_t tx, bool ok);
/* Send a value of an asset in one plain transaction (ETH transfer or token
 * transfer call). */
uint32_t evg_send(evg *g, uint32_t from, uint32_t to, unsigned asset, u128 amount);
/* Empty `from`'s native balance into `to` (value = balance - exact fee). */
uint32_t evg_send_all_eth(evg *g, uint32_t from, uint32_t to);
#define GAS_ETH   21000u
#define GAS_TOKEN 65000u /* limit of a token transfer; used is a bit less */

/* write.c */
int evg_write_block(evg *g, ch_error *err);

/* traffic.c */
void evg_setup(evg *g);
void evg_traffic_tx(evg *g);
void evg_run_sweeps(evg *g);
/* Faucet money for a service account's gas when it runs low. */
void evg_ensure_gas(evg *g, uint32_t acct, uint64_t gas);
/* A swap of amount_in of token tk to ETH through the DEX; *out gets the wei. */
uint32_t evg_swap_to_eth(evg *g, uint32_t u, unsigned tk, u128 amount_in, u128 *out);
/* depositETH() at the bridge with gas limit = gas used = gas. */
uint32_t evg_bridge_deposit(evg *g, uint32_t u, u128 amount, const evg_price *p, uint64_t gas);
void evg_sweep_schedule(evg *g, uint32_t dep, unsigned asset);
/* A user pays something that may bring a poisoner: called after payments. */
void evg_after_payment(evg *g, uint32_t payer, uint32_t payee, unsigned asset, u128 amount);

/* poison.c (with the JSON helpers theft.json shares) */
struct ch_jw;
void evg_poison_run_due(evg *g);
void evg_poison_json(evg *g, struct ch_jw *j);
void evg_jw_addr(struct ch_jw *j, const evg *g, uint32_t acct);
void evg_jw_hash(struct ch_jw *j, const uint8_t h[32]);
/* "asset" (contract or "native") and "symbol" keys */
void evg_jw_asset(struct ch_jw *j, const evg *g, unsigned asset);

/* theft.c */
void evg_theft_plan(evg *g, uint64_t last_block);
void evg_theft_run_due(evg *g);
int evg_theft_write(evg *g, const char *path, ch_error *err);

#endif
