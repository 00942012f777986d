/* Internal state of the chain generator, shared by the files of src/gen.
 *
 * Model: a *wallet* owns unspent outputs (UTXOs) and has one script type.
 * An address is a (script type, key id) pair; the key id derives the public
 * key(s) deterministically, so the input that later spends an output carries
 * a public key or redeem script that really hashes to the output's script.
 * Users' UTXOs also sit in a flat "user pool" so a random spender can be
 * drawn in O(1); services (exchanges, the mixer), miners and the actors of
 * the planted theft keep theirs apart so random traffic never touches them. */
#ifndef COINHOUND_GEN_INTERNAL_H
#define COINHOUND_GEN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "coinhound/gen.h"
#include "coinhound/hash.h"

#define GEN_NONE UINT32_MAX

/* The generator writes regtest blk files (regtest magic: its proof of work
 * is regtest's), so the addresses of its truth files are written as
 * regtest writes them (bcrt1..., m/n/2...), as the store will print them. */
#define GEN_ADDR_NET CH_NET_REGTEST

/* --- PRNG (rng.c): xoshiro256**, seeded through splitmix64 -------------- */

typedef struct gen_rng {
    uint64_t s[4];
} gen_rng;

uint64_t gen_splitmix64(uint64_t *state);
void gen_rng_seed(gen_rng *r, uint64_t seed);
uint64_t gen_rng_next(gen_rng *r);
/* Uniform in [0, n); n > 0. */
uint64_t gen_rng_below(gen_rng *r, uint64_t n);
/* Uniform in [lo, hi]. */
uint64_t gen_rng_range(gen_rng *r, uint64_t lo, uint64_t hi);
/* True with probability per_mille / 1000. */
bool gen_rng_chance(gen_rng *r, unsigned per_mille);
void gen_rng_bytes(gen_rng *r, uint8_t *out, size_t n);

/* --- growable byte buffer ----------------------------------------------- */

typedef struct gen_buf {
    uint8_t *p;
    size_t len, cap;
} gen_buf;

void gen_buf_reserve(gen_buf *b, size_t extra);
/* Grow array p of elem-sized items to hold need; aborts when memory runs out. */
void *gen_grow(void *p, uint32_t *cap, uint32_t need, size_t elem);
void gen_buf_free(gen_buf *b);

static inline void gen_put(gen_buf *b, const void *data, size_t n) {
    gen_buf_reserve(b, n);
    if (n) memcpy(b->p + b->len, data, n);
    b->len += n;
}

static inline void gen_put_u8(gen_buf *b, uint8_t v) {
    gen_buf_reserve(b, 1);
    b->p[b->len++] = v;
}

static inline void gen_put_u32(gen_buf *b, uint32_t v) {
    gen_buf_reserve(b, 4);
    for (int i = 0; i < 4; i++)
        b->p[b->len++] = (uint8_t)(v >> (8 * i));
}

static inline void gen_put_u64(gen_buf *b, uint64_t v) {
    gen_buf_reserve(b, 8);
    for (int i = 0; i < 8; i++)
        b->p[b->len++] = (uint8_t)(v >> (8 * i));
}

/* Bitcoin's CompactSize. */
void gen_put_varint(gen_buf *b, uint64_t v);

/* --- script types and keys (script.c) ----------------------------------- */

/* How a generated output is locked. P2SH and P2WSH come in the flavours real
 * wallets use (nested segwit, 2-of-3 multisig); ST_NULLDATA has no owner. */
typedef enum gen_stype {
    ST_P2PKH = 0,
    ST_P2PK,
    ST_P2SH_P2WPKH,
    ST_P2SH_MULTI,
    ST_P2WPKH,
    ST_P2WSH_MULTI,
    ST_P2TR,
    ST_BARE_MULTI,
    ST_NULLDATA,
    ST_COUNT
} gen_stype;

/* The model's script type of a generated one. */
ch_script_type gen_stype_model(gen_stype t);
bool gen_stype_segwit(gen_stype t);
/* Estimated virtual size of an input spending this type (for fees). */
uint32_t gen_stype_in_vsize(gen_stype t);

/* Append the output script (with its CompactSize length) of key under t. */
void gen_put_out_script(gen_buf *b, uint64_t key_seed, gen_stype t, uint64_t key);
/* Append the scriptSig (with length) that spends such an output; sigs come
 * from r. */
void gen_put_script_sig(gen_buf *b, gen_rng *r, uint64_t key_seed, gen_stype t, uint64_t key);
/* Append the witness stack (item count + items) for the same input; an
 * empty stack (one 0x00) for non-segwit types. */
void gen_put_witness(gen_buf *b, gen_rng *r, uint64_t key_seed, gen_stype t, uint64_t key);
/* The address of (t, key) in the model's bytes; kind NONE for bare
 * multisig and nulldata. */
void gen_key_addr(uint64_t key_seed, gen_stype t, uint64_t key, ch_addr *a);

/* --- UTXOs and wallets (wallet.c) --------------------------------------- */

enum { UF_COINBASE = 1, UF_LANDING = 2 /* a theft deposit into a service */ };

typedef struct gen_utxo {
    ch_hash256 txid;
    uint64_t value;
    uint64_t key;
    uint32_t vout;
    uint32_t wallet;
    uint32_t wpos;   /* index in the wallet's list, GEN_NONE when parked */
    uint32_t ppos;   /* index in the user pool, GEN_NONE when not there */
    uint32_t height; /* block that created it */
    uint8_t type;    /* gen_stype */
    uint8_t flags;
} gen_utxo;

typedef enum gen_role {
    R_USER = 0,
    R_MINER,
    R_DEPOSIT, /* a service's deposit addresses */
    R_HOT,     /* a service's hot wallet */
    R_TREASURY,
    R_VICTIM,
    R_THIEF
} gen_role;

typedef struct gen_wallet {
    uint32_t *u; /* utxo indices */
    uint32_t n, cap;
    uint64_t last_key; /* an address already handed out (for reuse), 0 none */
    uint8_t type;      /* gen_stype of its addresses */
    uint8_t role;
    uint8_t service; /* for R_DEPOSIT and R_HOT */
} gen_wallet;

#define GEN_SERVICES 4 /* three exchanges and a custodial mixer */

typedef struct gen_service {
    const char *entity;
    const char *category;
    uint32_t deposit_w, hot_w;
    uint64_t hot_key[2];
} gen_service;

typedef struct gen_label {
    uint64_t key;
    uint8_t type;
    uint8_t service;
} gen_label;

/* --- a transaction being built, the block being built -------------------- */

typedef struct gen_out {
    uint64_t value;
    uint64_t key;
    uint32_t wallet; /* GEN_NONE for nulldata */
    uint8_t type;
    uint8_t park; /* register the UTXO without putting it in a list */
    uint8_t flags;
} gen_out;

typedef struct gen_txb {
    uint32_t *in; /* utxo indices */
    uint32_t n_in, cap_in;
    gen_out *out;
    uint32_t n_out, cap_out;
} gen_txb;

typedef struct gen_btx {
    size_t off, len; /* in the block's tx buffer */
    ch_hash256 txid, wtxid;
    uint64_t fee;
    bool witness;
} gen_btx;

/* --- output (writer.c) -------------------------------------------------- */

typedef struct gen_writer {
    char *dir;
    uint64_t max_size;
    bool xor_on;
    uint8_t key[8];
    FILE *f;
    char *fbuf; /* stdio buffer of f */
    uint32_t file_no;
    uint64_t off; /* bytes in the current file */
    uint64_t bytes;
    uint32_t files;
    /* shuffle window: records waiting to be written */
    gen_buf *pend;
    uint32_t n_pend, window;
    gen_rng *rng;
    bool skip; /* blocks rebuilt to extend a folder, already in it: not written */
} gen_writer;

int gen_writer_open(gen_writer *w, const ch_gen_opts *o, gen_rng *layout_rng, ch_error *err);
/* Append to the folder's last blk file instead (extending a chain). */
int gen_writer_open_append(gen_writer *w, const ch_gen_opts *o, ch_error *err);
/* Queue one block (raw bytes, no framing); with shuffling it may be written
 * later. The writer copies it. */
int gen_writer_block(gen_writer *w, const uint8_t *block, size_t len, bool shuffle, ch_error *err);
/* Write whatever waits and close the last file. */
int gen_writer_finish(gen_writer *w, ch_error *err);
void gen_writer_free(gen_writer *w);

/* --- the planted theft (theft.c) ---------------------------------------- */

#define THEFT_PEELS     8
#define THEFT_STAGES    15
#define THEFT_MAX_STEPS 64
#define THEFT_MAX_LAND  32

typedef struct theft_step {
    const char *role;
    ch_hash256 txid;
    uint32_t height;
} theft_step;

typedef struct theft_landing {
    uint8_t service;
    uint8_t type;
    uint64_t key;
    ch_hash256 txid;
    uint32_t vout;
    uint64_t value;
    const char *via;
} theft_landing;

typedef struct gen_theft {
    bool on;
    uint32_t start, spacing; /* stage i runs at height start + i*spacing */
    uint32_t stage;          /* next stage to run */
    uint32_t treasury_w, victim_w, thief_w;
    uint32_t cur;      /* utxo carried along the peel chain */
    uint32_t split[4]; /* the four outputs of the split */
    uint32_t clean[4]; /* parked clean coins for the CoinJoin */
    uint32_t cj_equal, cj_change;
    /* facts for theft.json */
    ch_hash256 theft_txid;
    uint32_t theft_vout;
    uint64_t amount, victim_amount;
    uint64_t thief_key, victim_key;
    uint32_t height;
    theft_step steps[THEFT_MAX_STEPS];
    uint32_t n_steps;
    theft_landing land[THEFT_MAX_LAND];
    uint32_t n_land;
    ch_hash256 sweeps[THEFT_MAX_STEPS];
    uint32_t n_sweeps;
    uint64_t denomination;
} gen_theft;

/* --- the generator ------------------------------------------------------ */

typedef struct gen {
    const ch_gen_opts *o;
    gen_rng rng;    /* chain content */
    gen_rng layout; /* xor key, shuffle order, stale blocks */
    uint64_t key_seed;
    uint64_t next_key;

    gen_utxo *ut;
    uint32_t n_ut, cap_ut;
    uint32_t *free_ut;
    uint32_t n_free, cap_free;

    gen_wallet *w;
    uint32_t n_w, cap_w;
    uint32_t first_user, n_users;
    uint64_t *dep_key; /* [user index * GEN_SERVICES + service] */

    uint32_t *pool; /* utxos of users */
    uint32_t n_pool, cap_pool;

    gen_service svc[GEN_SERVICES];
    uint32_t miner_w[3];
    uint64_t miner_key[3];

    gen_label *labels;
    uint32_t n_labels, cap_labels;

    /* the block under construction */
    uint32_t height;
    gen_buf txs; /* serialized non-coinbase transactions */
    gen_btx *btx;
    uint32_t n_btx, cap_btx;
    gen_txb tb;
    gen_buf scratch;
    uint32_t *cb_utxo; /* coinbase utxo of each height, GEN_NONE if none */
    uint32_t cap_cb;
    ch_hash256 *hashes; /* merkle rows */
    size_t cap_hashes;

    gen_theft theft;
    ch_gen_stats st;
} gen;

/* wallet.c */
uint32_t gen_wallet_new(gen *g, gen_role role, gen_stype type);
uint64_t gen_new_key(gen *g);
void gen_wallet_add(gen *g, uint32_t u);  /* put a parked utxo into its wallet (and pool) */
void gen_utxo_unlist(gen *g, uint32_t u); /* take it out of its wallet and pool */
uint32_t gen_utxo_alloc(gen *g);
void gen_utxo_free(gen *g, uint32_t u);
uint32_t gen_random_user(gen *g);
/* A receive key of a user wallet: fresh, or sometimes one handed out before. */
uint64_t gen_user_receive_key(gen *g, uint32_t wallet);
uint64_t gen_change_key(gen *g, uint32_t wallet);
/* The deposit key a user has at a service (created and labelled on first use). */
uint64_t gen_deposit_key(gen *g, uint32_t user_wallet, unsigned service);
void gen_label_add(gen *g, unsigned service, gen_stype type, uint64_t key);

/* tx.c */
void gen_tx_begin(gen *g);
void gen_tx_in(gen *g, uint32_t utxo);
/* Returns the output's vout. */
uint32_t gen_tx_out(gen *g, uint32_t wallet, gen_stype type, uint64_t key, uint64_t value);
uint32_t gen_tx_out_nulldata(gen *g);
uint64_t gen_tx_in_total(const gen *g);
/* Fee for the inputs and outputs so far plus extra_outs more, at rate sat/vB. */
uint64_t gen_tx_fee(const gen *g, uint32_t extra_outs, uint64_t rate);
/* Random order of the outputs (so change is not always last). */
void gen_tx_shuffle_outs(gen *g);
/* Serialize into the block, spend the inputs, register the outputs. The
 * fee is what the inputs hold beyond the outputs. Returns the tx's index in
 * the block; *out_utxo[i] (when given) receives the utxo index of output i. */
uint32_t gen_tx_finish(gen *g, uint32_t *out_utxo);
uint64_t gen_fee_rate(gen *g);

/* block.c: the block of a coinbase and the first n transactions built so
 * far (n < n_btx for a stale sibling that only shares a prefix), with
 * proof of work; sets the coinbase's txid and the block hash. */
void gen_block_assemble(gen *g, gen_buf *out, const ch_hash256 *prev, uint32_t time, uint32_t n,
                        uint64_t cb_value, gen_stype cb_type, uint64_t cb_key, uint64_t extranonce,
                        ch_hash256 *cb_txid, ch_hash256 *hash);

/* traffic.c: one ordinary transaction; false when none could be made. */
bool gen_traffic_tx(gen *g);
bool gen_sweep(gen *g, unsigned service, uint32_t max_in);
bool gen_miner_payout(gen *g);

/* theft.c */
int gen_theft_plan(gen *g, uint32_t first_traffic, uint32_t last_height, ch_error *err);
/* Run every stage due at the current height. */
void gen_theft_run_due(gen *g);
bool gen_theft_due(const gen *g);
int gen_theft_write(gen *g, ch_error *err);
/* A coin that landed at a service is spent (swept) by txid. */
void gen_theft_note_spend(gen *g, const ch_hash256 *txid);

#endif
