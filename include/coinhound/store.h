/* coinhound: the chain store.
 *
 * One store per chain under DIR/<chain>/ (DIR/btc for Bitcoin), all chains
 * in the same layout: append-only column files of fixed-size records,
 * memory-mapped for reading, and LMDB for the indexes (txid -> tx,
 * address -> id, block hash -> height) and for the committed lengths.
 *
 *   blocks.col   ch_block_rec   one per block, index = height
 *   txs.col      ch_tx_rec      one per transaction, index = tx number
 *   txids.col    32 bytes       txid of each tx (internal byte order)
 *   ins.col      ch_in_rec      one per input, in tx order
 *   outs.col     ch_out_rec     one per output, in tx order
 *   outprev.col  uint32        distance back to the previous output paying
 *                              the same address (0: none); the address
 *                              history is this backward chain
 *   addrs20.col  21 bytes       addresses whose payload is 20 bytes (P2PKH,
 *                              P2SH, P2WPKH, EVM): a kind/version tag + bytes
 *   addrs32.col  34 bytes       the others (P2WSH, P2TR, other witness
 *                              programs): tag, length, up to 32 bytes
 *   txvin.col    uint64        the value a tx's inputs spend (0 for a
 *                              coinbase): its fee is this less its outputs,
 *                              and a forward trace needs no input to share
 *                              a tx out
 *   index/       LMDB: "txid", "addr", "block", "farprev", "meta"
 *
 * Address ids are dense per class: 1, 2, ... for 20-byte addresses and
 * CH_ADDR_ID_WIDE | 1, 2, ... for the others, so the common record is 21
 * bytes instead of 36. The txid and address indexes map a 40-bit prefix of
 * the item to its number in LMDB sorted duplicates (256 buckets of packed
 * 8- or 16-byte entries), a few bytes per item; the full item is compared
 * against the column to confirm a match.
 *
 * A commit appends and fsyncs the column files, then records their new
 * lengths in one LMDB transaction. On open, bytes past the recorded lengths
 * (a crash between the two steps) are cut off: the store is always at its
 * last committed block, with no write-ahead log of our own.
 *
 * Account chains (EVM) use the same engine and files with three more
 * columns, filled instead of ins/outs:
 *   etxs.col     ch_etx_rec     sender, recipient, created contract, status
 *   xfers.col    ch_xfer_rec    transfers: asset, from, to, 128-bit value,
 *                               kind, position; gas is a FEE transfer to 0
 *   xprev.col    2 x uint32     per side (from, to): distance back to the
 *                               previous transfer of the same account
 *   bxfer.col    3 x uint64     a block's first transfer and address counts
 *   signals.col  ch_xfer_note   notes on transfers by a pass run at ingest
 *                               (the safeguard's poisoning signals)
 * An account's history is the backward chain from its head (the "addr"
 * index keeps the last transfer beside its id), so a pool's credits and
 * debits come out in time order. A token is an asset numbered by the
 * address id of its contract; 0 is the chain's own coin. The txs.col
 * record's first_out field holds a tx's first transfer.
 *
 * Numbers, not strings: transactions, inputs, outputs and addresses are dense
 * integers, so analyses work on flat arrays. */
#ifndef COINHOUND_STORE_H
#define COINHOUND_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "coinhound/error.h"
#include "coinhound/hash.h"
#include "coinhound/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 2: txvin.col; 3: sorted-run indexes, heads*.col; 4: 40-bit tx numbers and
 * address ids in the records (ins, outs, xfers, etxs, signals) */
#define CH_STORE_FORMAT_VERSION 4
#define CH_NO_TX                UINT64_MAX /* "no transaction": a coinbase input's source */
/* Tx numbers and address ids are 40 bits in the records: 1.1e12 of each
 * (Bitcoin has about 1.2e9 transactions and a few e9 addresses). */
#define CH_ID_BITS 40
#define CH_ID_MASK ((1ULL << CH_ID_BITS) - 1)

/* An address id: dense per class, 1, 2, ... for the 20-byte addresses of
 * addrs20.col and CH_ADDR_ID_WIDE | 1, 2, ... for those of addrs32.col; 0 is
 * "no address". 64 bits wide in the API; the records keep 40 of them. */
typedef uint64_t ch_addr_id;

/* On-disk records (little-endian, as the machine writes them). */
typedef struct ch_block_rec {
    uint8_t hash[32]; /* internal byte order */
    uint64_t first_tx;
    uint32_t n_tx;
    uint32_t time;
    uint32_t bits;
    uint32_t size;
    int32_t version;
    uint32_t nonce;
} ch_block_rec;

typedef struct ch_tx_rec {
    /* first_in in the low 40 bits, the tx's serialized size (bytes, witness
     * included; < 16 MiB) in the high 24: a tx record stays 16 bytes. */
    uint64_t first_in_size;
    uint64_t first_out;
} ch_tx_rec;

/* An input: the tx whose output it spends in the low 40 bits (all ones
 * for a coinbase input) and the output's index in the high 24 (a tx has
 * fewer than 2^24 outputs: a 4 MB block holds at most about 444,000).
 * Read it with ch_in_spent_tx and ch_in_vout. */
typedef struct ch_in_rec {
    uint64_t tx_vout;
} ch_in_rec;

/* The spent tx (CH_NO_TX for a coinbase input) and the output index. */
static inline uint64_t ch_in_spent_tx(const ch_in_rec *r) {
    uint64_t t = r->tx_vout & CH_ID_MASK;
    return t == CH_ID_MASK ? CH_NO_TX : t;
}
static inline uint32_t ch_in_vout(const ch_in_rec *r) {
    return (uint32_t)(r->tx_vout >> CH_ID_BITS);
}

/* An output, 18 bytes, little-endian, read with the ch_out_* functions
 * (records are packed: a pointer into outs.col is not 8-byte aligned):
 *   [0, 8)   value in the low 56 bits (21e14 satoshi < 2^51),
 *            ch_script_type in the high 8
 *   [8, 13)  address id (40 bits), 0 = none
 *   [13, 18) spending tx + 1 (40 bits), 0 = unspent (a value past the
 *            committed tx count is read as unspent); written in place */
typedef struct ch_out_rec {
    uint8_t b[18];
} ch_out_rec;

#define CH_OUT_ADDR_OFF  8
#define CH_OUT_SPENT_OFF 13
#define CH_OUT_ID_BYTES  5

static inline uint64_t ch_out_value_type(const ch_out_rec *o) {
    uint64_t v;
    memcpy(&v, o->b, 8);
    return v;
}
/* Each id is read with one 8-byte load and a mask or a shift: bytes [8, 16)
 * for the address, [10, 18) for the spender, both inside the record. A
 * 5-byte copy into a zeroed word compiles to two narrow stores and a wide
 * load of the same stack slot, a failed store forward per read, which made
 * the dense sweep 2.5x slower (docs/benchmarks.md). */
static inline uint64_t ch_out_addr(const ch_out_rec *o) {
    uint64_t v;
    memcpy(&v, o->b + CH_OUT_ADDR_OFF, 8);
    return v & CH_ID_MASK;
}
static inline uint64_t ch_out_spent(const ch_out_rec *o) {
    uint64_t v;
    memcpy(&v, o->b + CH_OUT_SPENT_OFF + CH_OUT_ID_BYTES - 8, 8);
    return v >> (64 - 8 * CH_OUT_ID_BYTES);
}

/* The id bit of the addresses of addrs32.col (see ch_addr_id): the top
 * bit of the records' 40, so 2^39 - 1 addresses per class. */
#define CH_ADDR_ID_WIDE ((ch_addr_id)1 << (CH_ID_BITS - 1))

CH_STATIC_ASSERT(sizeof(ch_block_rec) == 64, "block record is 64 bytes");
CH_STATIC_ASSERT(sizeof(ch_tx_rec) == 16, "tx record is 16 bytes");
CH_STATIC_ASSERT(sizeof(ch_in_rec) == 8, "input record is 8 bytes");
CH_STATIC_ASSERT(sizeof(ch_out_rec) == 18, "output record is 18 bytes");
CH_STATIC_ASSERT(CH_OUT_ADDR_OFF + 8 <= sizeof(ch_out_rec) &&
                     CH_OUT_SPENT_OFF + CH_OUT_ID_BYTES >= 8,
                 "ch_out_addr and ch_out_spent load 8 bytes inside the record");

/* --- account chains --- */
typedef enum ch_xfer_kind {
    CH_XFER_NATIVE = 0, /* a transaction's own value */
    CH_XFER_INTERNAL,   /* value moved by an internal call */
    CH_XFER_TOKEN,      /* an ERC-20 Transfer event */
    CH_XFER_NFT,        /* an ERC-721 Transfer (value = token id, not an amount) */
    CH_XFER_WITHDRAWAL, /* a beacon-chain withdrawal (no sender) */
    CH_XFER_FEE,        /* gas paid by the sender (to = 0) */
    CH_XFER_REWARD,     /* new coin: block or uncle reward, genesis allocation (no sender) */
} ch_xfer_kind;

#define CH_XFER_SATURATED  1 /* the amount did not fit 128 bits: stored as 2^128-1 */
#define CH_XFER_ZERO_SPOOF 2 /* zero value, and the event's sender is not the tx's */
/* A failed tx's call to its recipient: value 0 (it moved nothing), recorded
 * so that the recipient's history shows the attempt. */
#define CH_XFER_FAILED_CALL 4

typedef struct ch_xfer_rec {
    uint64_t tx;      /* CH_NO_TX for a withdrawal or a reward */
    ch_addr_id from;  /* address id, 0 = none (minted, withdrawal) */
    ch_addr_id to;    /* address id, 0 = none (burned, fee) */
    ch_addr_id asset; /* address id of the token contract, 0 = native coin */
    uint64_t value_lo, value_hi;
    uint32_t position; /* order within the tx */
    uint8_t kind;      /* ch_xfer_kind */
    uint8_t flags;
    uint16_t pad;
} ch_xfer_rec;

typedef struct ch_etx_rec {
    ch_addr_id from, to; /* to = 0 for a contract creation */
    ch_addr_id created;  /* the contract created, or 0 */
    uint8_t status;      /* 1 success, 0 failed, 2 unknown */
    uint8_t type;
    uint16_t pad;
    uint32_t pad2;
} ch_etx_rec;

/* A note on a transfer (account chains): 40 bytes that a pass run at ingest
 * (ch_ingest_opts.on_block, ingest.h) keeps beside the chain. The store reads
 * nothing past xfer: it keeps notes in the order added (transfer order),
 * commits them with their block and drops the notes of transfers a reorg
 * cuts. What the body means is the pass's own: the people's safeguard keeps
 * its poisoning signals here (ch_signal_rec, poison.h). */
typedef struct ch_xfer_note {
    uint64_t xfer;    /* the transfer noted */
    uint8_t body[32]; /* the pass's record */
} ch_xfer_note;

CH_STATIC_ASSERT(sizeof(ch_xfer_note) == 40, "a note is 40 bytes");
CH_STATIC_ASSERT(sizeof(ch_xfer_rec) == 56, "transfer record is 56 bytes");
CH_STATIC_ASSERT(sizeof(ch_etx_rec) == 32, "account tx record is 32 bytes");

#define CH_OUT_VALUE(o) (ch_out_value_type(o) & 0x00ffffffffffffffULL)
#define CH_OUT_TYPE(o)  ((ch_script_type)(ch_out_value_type(o) >> 56))

typedef struct ch_store ch_store;

/* CH_STORE_WAIT, or'ed with CH_STORE_WRITE: wait for another writer to end
 * instead of failing at once. */
enum { CH_STORE_READ = 0, CH_STORE_WRITE = 1, CH_STORE_WAIT = 2 };

/* Open DIR/<chain>. With CH_STORE_WRITE it is created if missing and a
 * crash's uncommitted tail is cut; one writer at a time: the writer holds
 * DIR/<chain>/writer.lock until ch_store_close (see coinhound/lock.h), and a
 * second one fails naming the holder's pid (or waits, with CH_STORE_WAIT).
 * Any failure is an error message: a store that cannot be opened, written
 * or read (permissions, a read-only file system, files that are not a
 * store's) is never a crash.
 *
 * A store opened for reading holds one committed state, from its open to
 * its close, whatever the writer does meanwhile (appends, commits, a
 * reorg's cut): the writer never shortens or writes over what a reader
 * maps, and waits before a cut until the readers of the state before it
 * have closed or refreshed. A reader that keeps an old state therefore
 * holds up a reorg: long-lived readers refresh between requests.
 *
 * Handles of one store in one process (and the library calls that open
 * one inside, such as ch_cluster_build or ch_store_verify) share one LMDB
 * environment, opened once per process (LMDB's rule; src/util/lmdbenv.h),
 * read-write whenever the process may write the store: a writer opened
 * beside readers shares theirs, and fails with an error only where the
 * process could open the store for reading only (no write permission). A
 * handle belongs to the process that opened it: a child after fork opens
 * its own and does not use its parent's (ch_store_close of one in the child
 * touches nothing: the parent's reader and writer lock stay as they are). */
int ch_store_open(const char *dir, const char *chain, int mode, ch_store **out, ch_error *err);
void ch_store_close(ch_store *s);
/* A reader moves to the latest committed state (the HTTP service between
 * requests): every pointer and count obtained before is invalid after it.
 * 1 when the store was written since (a commit, a cut, a writer's open),
 * 0 when not (and for a writer, which always sees its own last commit), -1
 * on error (then close the store). */
int ch_store_refresh(ch_store *s, ch_error *err);
/* An account chain's store (set when created: any chain but "btc")? */
bool ch_store_is_account(const ch_store *s);
/* The block number of height 0 (account chains may start mid-chain). */
uint64_t ch_store_first_number(const ch_store *s);
/* A Bitcoin store's network, as ingest recorded it from the blk files'
 * magic: a ch_btc_net (btc.h: 0 mainnet, 1 testnet3, 2 testnet4, 3 signet,
 * 4 regtest); mainnet for a store written before networks were recorded;
 * -1 for an account chain. */
int ch_store_network(const ch_store *s);
/* How the store's addresses are written: CH_NET_TESTNET for testnet3,
 * testnet4 and signet (tb1..., m/n/2...), CH_NET_REGTEST for regtest
 * (bcrt1...), else mainnet. Every door prints addresses with this. */
ch_network ch_store_addr_net(const ch_store *s);
/* Record the network (a writer; it is committed with the next commit).
 * Refused when the store already holds blocks of another network. */
int ch_store_set_network(ch_store *s, int net, ch_error *err);

/* Reading never crashes on a damaged store: the lengths are checked on
 * open, and an index read from one file that points past another file's
 * end (or a link that does not go back) gives an empty record or the end
 * of a chain instead, and marks the store damaged. A caller that read
 * anything asks here before trusting its answer: 0 when no damage was
 * seen, else -1 with the first damage (file and record) in err. */
int ch_store_damage(const ch_store *s, ch_error *err);

typedef struct ch_store_counts {
    uint64_t blocks, txs, inputs, outputs, addresses;
    uint64_t transfers; /* account chains */
    /* ch_store_verify only: commits whose checksums were checked (0: a
     * store written before they were kept, or empty) */
    uint64_t checksum_commits;
} ch_store_counts;

/* Check the store DIR/<chain> end to end (coinhound check): the committed
 * lengths against the files; blocks, txs, inputs, outputs, transfers and
 * their links each against the files they point into; the block, txid and
 * address indexes against the columns (every record found under its own
 * number); every committed range whose checksum the store recorded. Each problem found (the first
 * 20) goes to fn (may be NULL). 0 sound; 1 damaged, err naming the first problem; -1 not checked
 * (no store there). counts (may be NULL) gets the store's counts when it opens. Reads every record:
 * minutes on a mainnet store. */
typedef void (*ch_verify_fn)(const char *problem, void *ctx);
int ch_store_verify(const char *dir, const char *chain, ch_verify_fn fn, void *ctx,
                    ch_store_counts *counts, ch_error *err);

void ch_store_get_counts(const ch_store *s, ch_store_counts *c);
/* The writer's own view: the committed counts and the records added since
 * (blocks, txs, inputs, outputs, addresses not committed yet; a store opened
 * to read has none), and how many of those addresses are 20-byte ones (a
 * wide id's dense index comes after them, as ch_store_addr_index numbers
 * them once committed). What a pass over pending blocks (the watcher's
 * incident trace) reads: every record it counts is there to read, until
 * the next add, commit or cut. */
void ch_store_get_counts_pending(const ch_store *s, ch_store_counts *c, uint64_t *narrow);
/* Total bytes of the store's files (columns and LMDB), for reports. */
uint64_t ch_store_disk_bytes(const ch_store *s);

/* --- reading (valid for committed data) --- */
const ch_block_rec *ch_store_block(const ch_store *s, uint32_t height);
const ch_tx_rec *ch_store_tx(const ch_store *s, uint64_t tx);
const ch_in_rec *ch_store_input(const ch_store *s, uint64_t in);
const ch_out_rec *ch_store_output(const ch_store *s, uint64_t out);
void ch_store_txid(const ch_store *s, uint64_t tx, ch_hash256 *txid);

/* The value tx's inputs spend, in satoshi (0 for a coinbase; UTXO stores). */
const uint64_t *ch_store_tx_in_value(const ch_store *s, uint64_t tx);

/* Inputs/outputs of tx: [first, first + n). */
void ch_store_tx_inputs(const ch_store *s, uint64_t tx, uint64_t *first, uint64_t *n);
void ch_store_tx_outputs(const ch_store *s, uint64_t tx, uint64_t *first, uint64_t *n);
uint32_t ch_store_tx_size(const ch_store *s, uint64_t tx);
/* Height of the block holding tx (binary search over blocks). */
uint32_t ch_store_tx_height(const ch_store *s, uint64_t tx);
/* The tx that spends output out, or -1 when unspent. */
int64_t ch_store_output_spender(const ch_store *s, uint64_t out);
/* Are some spent marks of the store's committed txs not in outs.col's
 * records yet? A bulk ingest holds them over several commits and writes
 * them in one pass (docs/store.md, "Spent marks held"); meanwhile
 * ch_out_spent of a record may read 0 for an output that is spent, and
 * ch_store_output_spender (which knows them) is the answer. */
bool ch_store_marks_held(const ch_store *s);
/* The output an input spends (global index); -1 for a coinbase input. */
int64_t ch_store_input_spent_output(const ch_store *s, uint64_t in);
/* The previous output paying the same address, or -1. */
int64_t ch_store_output_prev_same_addr(const ch_store *s, uint64_t out);
void ch_store_addr_of(const ch_store *s, ch_addr_id id, ch_addr *a);
/* Dense numbering of all addresses, 0..counts.addresses-1, for analyses
 * that keep one array slot per address (valid for committed data). */
uint64_t ch_store_addr_index(const ch_store *s, ch_addr_id id);
ch_addr_id ch_store_addr_id_at(const ch_store *s, uint64_t index);

/* Account chains: a tx's transfers [first, first + n), one transfer, a tx's
 * account record, and the previous transfer of account `addr` before
 * transfer x (x must involve addr), or -1. */
void ch_store_tx_xfers(const ch_store *s, uint64_t tx, uint64_t *first, uint64_t *n);
const ch_xfer_rec *ch_store_xfer(const ch_store *s, uint64_t x);
const ch_etx_rec *ch_store_etx(const ch_store *s, uint64_t tx);
int64_t ch_store_xfer_prev(const ch_store *s, uint64_t x, ch_addr_id addr);
uint64_t ch_store_xfer_count(const ch_store *s); /* committed and pending */
/* Height of the block holding transfer x (binary search over blocks): also
 * for transfers of no tx (withdrawals, rewards). */
uint32_t ch_store_xfer_height(const ch_store *s, uint64_t x);
/* Notes on transfers: count (committed and pending), one (i < count), and
 * (writers, during ingest, in transfer order) append one. */
uint64_t ch_store_note_count(const ch_store *s);
const ch_xfer_note *ch_store_note(const ch_store *s, uint64_t i);
int ch_store_add_note(ch_store *s, const ch_xfer_note *r, ch_error *err);
/* 128-bit amounts as a double (for shares and display). */
static inline double ch_xfer_value_double(const ch_xfer_rec *x) {
    return (double)x->value_hi * 18446744073709551616.0 + (double)x->value_lo;
}

/* Index lookups: 1 found, 0 not found, -1 error. */
int ch_store_find_tx(ch_store *s, const ch_hash256 *txid, uint64_t *tx, ch_error *err);
int ch_store_find_block(ch_store *s, const ch_hash256 *hash, uint32_t *height, ch_error *err);
/* An address's id and its last output (the head of its history). */
int ch_store_find_addr(ch_store *s, const ch_addr *a, ch_addr_id *id, uint64_t *last_out,
                       ch_error *err);
/* The same id as the writer sees it: the addresses it added and has not
 * committed yet included (found first in its in-memory index, as its own
 * adds find them); on a store opened to read, ch_store_find_addr. 1 found,
 * 0 not found, -1 error. */
int ch_store_writer_find_addr(ch_store *s, const ch_addr *a, ch_addr_id *id, ch_error *err);
/* A tx as the writer sees it, its pending txs included (as
 * ch_store_writer_find_addr); on a store opened to read, ch_store_find_tx.
 * 1 found, 0 not found, -1 error. */
int ch_store_writer_find_tx(ch_store *s, const ch_hash256 *txid, uint64_t *tx, ch_error *err);

/* --- writing: the chain modules translate their formats into these calls.
 * A block is begin_block, then per tx add_tx followed by its inputs and
 * outputs, then end_block. Nothing is visible to readers until commit. */
typedef struct ch_block_meta {
    ch_hash256 hash;
    uint32_t time, bits, size, nonce;
    int32_t version;
} ch_block_meta;

int ch_store_begin_block(ch_store *s, const ch_block_meta *b, ch_error *err);
int ch_store_add_tx(ch_store *s, const ch_hash256 *txid, uint32_t size, ch_error *err);
/* An input spending (prev txid, vout); fails if that output does not exist
 * or is already spent. */
int ch_store_add_input(ch_store *s, const ch_hash256 *prev_txid, uint32_t vout, ch_error *err);
int ch_store_add_coinbase_input(ch_store *s, ch_error *err);
/* addr may be NULL or of kind CH_ADDR_NONE for outputs without an address. */
int ch_store_add_output(ch_store *s, uint64_t value, ch_script_type type, const ch_addr *addr,
                        ch_error *err);
int ch_store_end_block(ch_store *s, ch_error *err);

/* Optional, for speed only: the lookups the next add_* calls will make (the
 * txids about to be added, the outputs their inputs spend, the addresses
 * their outputs pay). Each lookup is a cache miss in a large table; told
 * ahead, the store starts them all at once so that the calls find what they
 * need in cache instead of waiting for each miss in turn. Changes nothing
 * in the store; any subset may be given, NULL with a count of 0 for none. */
typedef struct ch_store_spend {
    const ch_hash256 *txid;
    uint32_t vout;
} ch_store_spend;

void ch_store_prefetch(ch_store *s, const ch_hash256 *const *txids, size_t n_txids,
                       const ch_store_spend *spends, size_t n_spends, const ch_addr *addrs,
                       size_t n_addrs);
/* The store's 64-bit key of an address (a hash of its kind, version and
 * bytes): pure, the same in any thread, so that a chain module's reader
 * thread can compute it ahead of the store's thread for the *_keyed calls
 * below, which then skip hashing (twice an output: the lookahead and the
 * add). */
uint64_t ch_store_addr_key(const ch_addr *a);
/* ch_store_add_output with the address's key: key must be
 * ch_store_addr_key(addr) (any value when addr is NULL or has none). The
 * store is the same as ch_store_add_output's. */
int ch_store_add_output_keyed(ch_store *s, uint64_t value, ch_script_type type, const ch_addr *addr,
                              uint64_t key, ch_error *err);
/* ch_store_prefetch with the addresses' keys: addr_keys[i] must be
 * ch_store_addr_key(&addrs[i]) for each address the store keeps. */
void ch_store_prefetch_keyed(ch_store *s, const ch_hash256 *const *txids, size_t n_txids,
                             const ch_store_spend *spends, size_t n_spends, const ch_addr *addrs,
                             const uint64_t *addr_keys, size_t n_addrs);
/* Optional, for speed only: about how many transactions and new addresses
 * are coming, so that the writer sizes its in-memory indexes once instead
 * of doubling them as they fill (large hints are capped). */
int ch_store_expect(ch_store *s, uint64_t txs, uint64_t addresses, ch_error *err);

/* Account chains. A block starts with begin_block (its number, for the first
 * block of an empty store, becomes the store's first number); then per tx
 * add_account_tx followed by its transfers; withdrawals (no tx) come with
 * add_transfer right after begin_block or after the last tx. */
int ch_store_set_first_number(ch_store *s, uint64_t number, ch_error *err);
int ch_store_add_account_tx(ch_store *s, const ch_hash256 *txid, const ch_addr *from,
                            const ch_addr *to, const ch_addr *created, int status, uint8_t type,
                            ch_error *err);
/* asset NULL (or kind NONE) = the native coin; from/to NULL = none. */
int ch_store_add_transfer(ch_store *s, ch_xfer_kind kind, uint32_t position, const ch_addr *asset,
                          const ch_addr *from, const ch_addr *to, uint64_t value_lo,
                          uint64_t value_hi, uint8_t flags, ch_error *err);
/* Make everything added so far durable and visible. */
int ch_store_commit(ch_store *s, ch_error *err);
/* Forget everything added since the last commit. */
void ch_store_abort(ch_store *s);
/* Bound the writer's memory to about bytes (0: no bound): the in-memory
 * indexes kept across commits are sized to at most 2/5 of it, the runs'
 * filters kept to a 16th (the largest runs' let go past it: those runs are
 * then searched on every lookup), and ch_store_trim lets go of mapped
 * pages when the process nears it. A UTXO map (ch_store_set_utxo_mem) is
 * the caller's to fit in the rest. */
void ch_store_set_mem(ch_store *s, uint64_t bytes);
/* Cap the in-memory indexes kept across commits (the newest txids and
 * addresses, four tables: two generations of each index) at about bytes in
 * all, however large ch_store_set_mem's bound (0: its bound alone). The
 * tables are allocated at their full size at once, so the writer's memory
 * for them is flat from the start; past the cap the older generation
 * leaves memory and its keys are found in the sorted runs, as under a small
 * --mem. For a long-running writer that takes small increments (the
 * watcher). -1 when the memory cannot be had (err says so). */
int ch_store_set_hot_cap(ch_store *s, uint64_t bytes, ch_error *err);
/* For a writer that lives long and commits small increments (the watcher):
 * hold the files its commits write in place (outs.col's spent marks,
 * heads20.col and heads32.col's address heads) in 4 KiB page-cache pages
 * from now on, so that a commit's in-place writes and their sync cost a
 * page each, not a large folio each (docs/store.md, "Commit and crash
 * safety"). What the page cache holds of those files is dropped and read
 * back (about a second a GB; what is not cached is not read: a store
 * larger than the memory is not read whole). Changes nothing on disk. -1
 * when a file cannot be read (err says so). */
int ch_store_keep_small_pages(ch_store *s, ch_error *err);
/* For a writer that lives long and commits small increments (the
 * watcher): its commits never merge the index's runs themselves (a carry
 * of the merge policy can rewrite much of an index: a second or more at
 * 10M txs, inside one block's commit); a thread of the store's merges them
 * beside it, one merge at a time, at a lower priority, its writes paced,
 * and a later commit takes the merged run in. Changes nothing on disk
 * until then; ch_store_close stops a merge under way. -1 for a reader. */
int ch_store_merge_in_background(ch_store *s);
/* For a stretch where the writer's latency matters (the watcher: a block
 * from its arrival to its alerts, whose syncs wait for whatever the disk
 * has queued before them): while hold is true, a background merge writes
 * nothing (for at most 250 ms at a time, then it goes on). Release it
 * (false) before anything that waits for a merge (a commit). */
void ch_store_hold_background(ch_store *s, bool hold);
/* For a writer that adds one block of many transactions at a time with a
 * core to spare (the watcher: a block must be alerted on within tens of
 * milliseconds, and the machine's other core is idle while it is added):
 * from now on ch_store_resolve_block looks up the block's spends and
 * payments in the committed index on two threads (or more, one a core up
 * to four), before its adds. Changes nothing on disk. -1 for a reader. */
int ch_store_resolve_in_parallel(ch_store *s);
/* Was ch_store_resolve_in_parallel called (else ch_store_resolve_block
 * does nothing, and its lists need not be made)? */
bool ch_store_resolves_ahead(const ch_store *s);
/* Between ch_store_begin_block and the block's first add, for speed only:
 * the outputs every input of the block spends and the address every
 * output pays (as ch_store_prefetch_keyed's lists, for the whole block).
 * What the hot maps do not hold is looked up in the committed index at
 * once, on several threads, and the block's adds take those answers
 * instead of asking the index one at a time; they are the index's own
 * (nothing committed changes inside a block) and are forgotten at
 * ch_store_end_block. Does nothing unless ch_store_resolve_in_parallel was
 * called (or when memory is short). */
void ch_store_resolve_block(ch_store *s, const ch_store_spend *spends, size_t n_spends,
                            const ch_addr *addrs, const uint64_t *addr_keys, size_t n_addrs);
/* A long-lived writer's start (watch): the page tables of its mapped
 * runs and columns filled for what the page cache holds of them, up to
 * max_bytes (the runs first, then the columns a block's look-ups read),
 * so that its first blocks do not fault on each page they touch. Reads
 * nothing from the disk and changes nothing on it; returns the bytes
 * mapped (0 for a reader). */
uint64_t ch_store_warm_maps(ch_store *s, uint64_t max_bytes);
/* Where the wall time of this writer's last commit went, in milliseconds,
 * in the commit's order (docs/store.md, "Commit and crash safety"): the
 * new addresses' heads and their run; the columns' new records written;
 * the spent marks; the txid run; the LMDB transaction's entries; the
 * syncs of step 1 (all at once); the transaction's commit (from here
 * readers see it); the older addresses' heads moved and synced; the rest
 * (the index tables aged, the UTXO map fed). A commit of 4 MiB or more
 * writes its columns and marks in a thread beside the two runs: their
 * times then overlap the addresses' and the txid run's, which counts the
 * wait for that thread, if any. For timing a long-lived writer (watch's
 * COINHOUND_WATCH_TIMING); all zero before a commit. A commit under 4
 * MiB writes its marks after the syncs (its marks time is then that
 * write, just before the transaction's commit) and moves its heads
 * without a sync: both are made durable by the next commit's syncs
 * (docs/store.md, "A small commit's in-place writes"). */
typedef struct ch_store_commit_times {
    double addresses, columns, marks, txids, index, syncs, lmdb, heads, rest;
} ch_store_commit_times;
void ch_store_last_commit_times(const ch_store *s, ch_store_commit_times *out);
/* Give the writer a UTXO map of about bytes (0: none, the default): the
 * outputs it adds, until spent, keyed by (txid, vout), so that an input it
 * finds there is added without reading the records of the tx and output it
 * spends. Full, it lets go of its oldest entries; an input not in it (an
 * output of an earlier run, or let go) takes the path through the records,
 * so the store written is the same with any size, byte for byte. Derived
 * state: empty after an open, swept by an abort or a cut (docs/store.md,
 * Memory). A UTXO chain's writer only (an account store: no effect). -1
 * when the memory cannot be had. */
int ch_store_set_utxo_mem(ch_store *s, uint64_t bytes, ch_error *err);
/* The UTXO map's counters since it was made (for measurements). */
typedef struct ch_store_utxo_counts {
    uint64_t entries, capacity; /* held now; held at most before it lets go */
    uint64_t hits, misses;      /* inputs it resolved; inputs it did not */
    uint64_t evictions;         /* times it let go of its oldest quarter */
} ch_store_utxo_counts;
void ch_store_utxo_stats(const ch_store *s, ch_store_utxo_counts *c);
/* Bytes the writer's in-memory index tables take now (0 for a reader). */
uint64_t ch_store_hot_bytes(const ch_store *s);
/* When the process's resident memory passes 7/8 of the bound, drop the
 * column and index pages it has mapped and read (they stay in the page
 * cache); true when it did. Cheap enough to call after every block. */
bool ch_store_trim(ch_store *s);
/* Bytes waiting for the next commit (callers commit every so many). */
uint64_t ch_store_pending_bytes(const ch_store *s);
/* Committed + pending block count (the next block's height). */
uint32_t ch_store_next_height(const ch_store *s);

/* Remove blocks [height, tip] (a reorg), committed at once: spent marks of
 * the outputs they spent are cleared, their txids and new addresses leave
 * the indexes and address histories are cut back. */
int ch_store_truncate(ch_store *s, uint32_t height, ch_error *err);

#ifdef __cplusplus
}
#endif

#endif
