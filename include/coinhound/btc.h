/* coinhound: Bitcoin formats -> the model.
 *
 * Parsing is zero-copy: a parsed transaction points into the caller's buffer,
 * and its input/output arrays live in the parser, valid until the next parse
 * call on the same parser. A parser is not thread-safe; use one per thread. */
#ifndef COINHOUND_BTC_H
#define COINHOUND_BTC_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coinhound/error.h"
#include "coinhound/hash.h"
#include "coinhound/model.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CH_BTC_COIN      100000000ULL
#define CH_BTC_MAX_MONEY (21000000ULL * CH_BTC_COIN)

typedef struct ch_btc_txin {
    ch_hash256 prev_txid; /* internal byte order; all zero for a coinbase */
    uint32_t prev_vout;   /* 0xffffffff for a coinbase */
    uint32_t sequence;
    const uint8_t *script;
    uint32_t script_len;
    const uint8_t *witness; /* serialized witness stack of this input, or NULL */
    uint32_t witness_len;
    uint32_t witness_items;
} ch_btc_txin;

typedef struct ch_btc_txout {
    uint64_t value; /* satoshi */
    const uint8_t *script;
    uint32_t script_len;
} ch_btc_txout;

typedef struct ch_btc_tx {
    int32_t version;
    uint32_t locktime;
    bool has_witness;
    uint32_t n_in, n_out;
    ch_btc_txin *in;
    ch_btc_txout *out;
    ch_hash256 txid;    /* SHA256d of the serialization without witness */
    const uint8_t *raw; /* the whole serialization, witness included */
    size_t size;        /* bytes of raw */
    size_t base_size;   /* bytes without marker, flag and witnesses */
} ch_btc_tx;

typedef struct ch_btc_header {
    int32_t version;
    ch_hash256 prev;
    ch_hash256 merkle_root;
    uint32_t time, bits, nonce;
    ch_hash256 hash; /* SHA256d of the 80 header bytes */
} ch_btc_header;

typedef struct ch_btc_block {
    ch_btc_header header;
    uint32_t n_tx;
    ch_btc_tx *tx; /* owned by the parser */
    size_t size;
} ch_btc_block;

typedef struct ch_btc_parser ch_btc_parser;

ch_btc_parser *ch_btc_parser_new(void);
void ch_btc_parser_free(ch_btc_parser *p);
/* Bytes the parser's reused arrays hold (for a caller's memory account). */
size_t ch_btc_parser_bytes(const ch_btc_parser *p);

/* Parse the 80-byte header and compute its hash. */
int ch_btc_parse_header(const uint8_t *data, size_t len, ch_btc_header *h, ch_error *err);

/* Parse one transaction at data[0..len); *consumed gets its size. Computes
 * the txid. Errors name the byte offset (relative to data). */
int ch_btc_parse_tx(ch_btc_parser *p, const uint8_t *data, size_t len, size_t *consumed,
                    ch_btc_tx *tx, ch_error *err);

/* Parse a whole block (header + transactions), compute every txid and check
 * the merkle root: a mismatch fails naming the block hash. Trailing bytes
 * after the last transaction are an error. */
int ch_btc_parse_block(ch_btc_parser *p, const uint8_t *data, size_t len, ch_btc_block *b,
                       ch_error *err);

/* wtxid: SHA256d of the full serialization (equals txid without witness). */
void ch_btc_tx_wtxid(const ch_btc_tx *tx, ch_hash256 *out);

/* Check a segwit block's witness commitment (BIP141) in the coinbase. A block
 * without witness data passes whether or not its coinbase holds a commitment
 * output (blocks of the lock-in period do; the rule applies only to witness
 * data, so it needs no height). */
int ch_btc_check_witness_commitment(const ch_btc_block *b, ch_error *err);

/* Merkle root of n hashes (Bitcoin's rule: duplicate the last of an odd row).
 * scratch must hold n hashes; hashes is not modified. */
void ch_btc_merkle_root(const ch_hash256 *hashes, size_t n, ch_hash256 *scratch, ch_hash256 *root);

/* Classify an output script and derive its address. For P2PK the address is
 * the P2PKH of HASH160(pubkey) and the type says P2PK. Types without an
 * address give addr->kind == CH_ADDR_NONE. */
ch_script_type ch_btc_classify(const uint8_t *script, size_t len, ch_addr *addr);

bool ch_btc_tx_is_coinbase(const ch_btc_tx *tx);

/* --- Bitcoin Core's block files (blocks/blkNNNNN.dat) ------------------- */

#define CH_BTC_MAINNET_MAGIC 0xd9b4bef9u /* bytes f9 be b4 d9, read little-endian */
#define CH_BTC_REGTEST_MAGIC 0xdab5bffau /* bytes fa bf b5 da */

/* The networks whose blk files are read, told apart by the records' magic;
 * each has its own proof-of-work limit and retarget rules. */
typedef enum ch_btc_net {
    CH_BTC_NET_MAIN,
    CH_BTC_NET_TESTNET3,
    CH_BTC_NET_TESTNET4,
    CH_BTC_NET_SIGNET,
    CH_BTC_NET_REGTEST,
    CH_BTC_NET_COUNT
} ch_btc_net;

/* "mainnet", "testnet3", "testnet4", "signet", "regtest" ("unknown"). */
const char *ch_btc_net_name(ch_btc_net n);
/* How a network writes its addresses: testnet3, testnet4 and signet as
 * testnet (tb1..., m/n/2...), regtest its own way (bcrt1..., m/n/2...). */
ch_network ch_btc_net_encoding(ch_btc_net n);

/* One block record found in a blk file. */
typedef struct ch_blk_pos {
    uint32_t file_no; /* NNNNN of blkNNNNN.dat */
    uint64_t offset;  /* offset of the block bytes (after magic and size) */
    uint32_t size;    /* block bytes */
} ch_blk_pos;

/* A directory of blk files, with its xor.dat key (all zero when absent). */
typedef struct ch_blkdir ch_blkdir;

int ch_blkdir_open(const char *dir, ch_blkdir **out, ch_error *err);
void ch_blkdir_close(ch_blkdir *d);
/* The network of a directory's blk files, from the magic of the first
 * record read (ch_blkdir_best_chain reads them all); CH_BTC_NET_COUNT before
 * any record was read. */
ch_btc_net ch_blkdir_net(const ch_blkdir *d);
/* Number of blk files and the path of one (for messages). */
uint32_t ch_blkdir_file_count(const ch_blkdir *d);
const char *ch_blkdir_path(const ch_blkdir *d, uint32_t file_no);

/* Read a block's bytes (de-obfuscated) into buf (grown with realloc). */
int ch_blkdir_read(ch_blkdir *d, const ch_blk_pos *pos, uint8_t **buf, size_t *cap, ch_error *err);

/* One block record of a blk folder: the header fields the best chain needs
 * and where the block is. The block index (below) keeps these on disk, 88
 * bytes each in the machine's byte order. */
typedef struct ch_blk_rec {
    ch_hash256 hash, prev;
    uint32_t file_no, size; /* as ch_blk_pos */
    uint64_t offset;
    uint32_t bits, time; /* the header's compact target and timestamp */
} ch_blk_rec;

/* The best chain, genesis first: blocks are stored in arrival order, so this
 * scans every record's header, links them by prev-hash from the genesis
 * block (the one whose prev is all zero), follows the branch with the most
 * work and drops stale branches. Zero padding after the last record of a
 * file is skipped; a truncated or misframed record fails naming file and
 * offset.
 *
 * Height h's record is read with ch_blk_chain_rec (or ch_blk_chain_pos):
 * a chain either owns its records (rec[h], at NULL: ch_blkdir_best_chain,
 * ch_blkidx_best_chain, ch_blk_chain_alloc) or, the block index's own
 * (ch_blkidx_chain), holds a 4-byte record number a height (at[h]) into
 * the index's records, most of them read through a mapping of its file:
 * a chain of mainnet's 900,000 blocks is 3.6 MB of the process's memory,
 * not 80. The members other than n and n_stale are for those functions. */
typedef struct ch_blk_chain {
    size_t n;        /* blocks on the best chain, heights 0..n-1 */
    size_t n_stale;  /* records seen off the best chain */
    ch_blk_rec *rec; /* owned: rec[height] (at == NULL) */
    /* the index's: record at[height] of span0[0..n_span0) then span1 */
    const uint32_t *at;
    const ch_blk_rec *span0, *span1;
    size_t n_span0;
} ch_blk_chain;

/* The record at height h (h < c->n). For the index's chain it points into
 * the index and is valid until its next update, save or free. */
static inline const ch_blk_rec *ch_blk_chain_rec(const ch_blk_chain *c, size_t h) {
    if (!c->at) return &c->rec[h];
    uint32_t i = c->at[h];
    return i < c->n_span0 ? &c->span0[i] : &c->span1[i - c->n_span0];
}

/* Where the block at height h is (h < c->n), for ch_blkdir_read. */
static inline ch_blk_pos ch_blk_chain_pos(const ch_blk_chain *c, size_t h) {
    const ch_blk_rec *r = ch_blk_chain_rec(c, h);
    return (ch_blk_pos){r->file_no, r->offset, r->size};
}

/* ch_blkdir_read of the block at height h of c (h < c->n). */
int ch_blk_chain_read(ch_blkdir *d, const ch_blk_chain *c, size_t h, uint8_t **buf, size_t *cap,
                      ch_error *err);

/* A chain of n heights owning zeroed records, for a caller that builds one
 * (headers from elsewhere, to check with ch_btc_chain_check_net): fill
 * c->rec[h]. Freed with ch_blk_chain_free. 0, or -1 out of memory. */
int ch_blk_chain_alloc(ch_blk_chain *c, size_t n, ch_error *err);

/* The tip is chosen by the work the headers claim; ch_blk_chain_check
 * says whether they did it. */
int ch_blkdir_best_chain(ch_blkdir *d, ch_blk_chain *chain, ch_error *err);
/* Frees an owned chain's records (the index's own chain is the index's). */
void ch_blk_chain_free(ch_blk_chain *chain);

/* Header rules of the directory's network (by its magic) over heights
 * [0, chain->n): each header's hash meets its own target, the target is
 * within the network's limit, its time is past the median of the 11
 * before it, and bits is what the retarget rules give
 * (mainnet and signet: every 2016 blocks from the timespan, clamped to 4x;
 * testnet3 and testnet4 also allow the minimum difficulty after 20 minutes
 * without a block, testnet4 with BIP94's rules; regtest never retargets).
 * The first header that breaks one fails naming its height, hash, file
 * and offset. 0 when every header passes. */
int ch_blk_chain_check(const ch_blkdir *d, const ch_blk_chain *chain, ch_error *err);

/* Re-read the folder's list of blk files (Core starts a new one when the
 * current one is full). */
int ch_blkdir_relist(ch_blkdir *d, ch_error *err);

/* --- a persisted index of a blk folder's records ------------------------
 * Finding the best chain needs every record's header; reading them is one
 * pread per block (5 s cold on an 11M-tx store, 14x that on mainnet). The
 * index keeps each record's position, hash, prev hash, bits and time, and
 * for each blk file how far it was read and its size and modification
 * time then: an update reads only files that changed, from where the last
 * read ended, so a run or a watcher reads only what is new.
 *
 * On disk, two files: PATH holds the records (88 bytes each, appended) and
 * PATH.state (text) the folder, its xor key and magic, the record count
 * and each file's state, replaced by rename after the records are synced:
 * a crash leaves the previous state, whose records are all on disk. It is
 * a cache of the blk files: an index of another folder or key, or one a
 * file has since shrunk below (a folder written anew), is dropped and the
 * folder read again from the start. */
typedef struct ch_blkidx ch_blkidx;

/* Load the index at path (NULL: an empty one kept in memory only) for the
 * folder d; a missing, unreadable or mismatched index gives an empty one
 * (never an error: it is a cache). */
int ch_blkidx_load(const char *path, ch_blkdir *d, ch_blkidx **out, ch_error *err);
/* Read what the folder holds beyond the index (the listing is read again):
 * the number of new records, or -1. strict: as ch_blkdir_best_chain, a
 * record cut short at a file's end is an error and only zeros may follow
 * the last record; not strict (a folder Core is writing): reading such a
 * file stops before the cut record, and the next update reads it. */
int ch_blkidx_update(ch_blkidx *x, ch_blkdir *d, bool strict, ch_error *err);
/* Write what is new to path (records synced before the state moves). */
int ch_blkidx_save(ch_blkidx *x, const char *path, ch_error *err);
/* The best chain of every record indexed (see ch_blkdir_best_chain), kept
 * as records arrive: an update costs what it reads, not the chain's
 * length, and the index's memory grows by 8 bytes a block (its chain's
 * record number a height; the tree that places new records keeps the
 * last few hundred heights and is built again from every record, exactly,
 * when a record reaches below them: a reorg that deep or a duplicate of
 * an old record). ch_blkidx_chain gives the index's own (its records read
 * through ch_blk_chain_rec, valid until the next update, save or free),
 * ch_blkidx_best_chain a copy that owns its records (freed by the
 * caller). */
int ch_blkidx_chain(const ch_blkidx *x, const ch_blk_chain **chain, ch_error *err);
int ch_blkidx_best_chain(const ch_blkidx *x, ch_blk_chain *chain, ch_error *err);
/* ch_blk_chain_check over the best chain's heights not checked before (the
 * index remembers, across runs, up to where its chain passed). */
int ch_blkidx_check(ch_blkidx *x, const ch_blkdir *d, ch_error *err);
/* Records indexed; records read from the files by updates since the load
 * (a measure of the work saved). */
size_t ch_blkidx_count(const ch_blkidx *x);
size_t ch_blkidx_read_count(const ch_blkidx *x);
void ch_blkidx_free(ch_blkidx *x);

/* --- Bitcoin Core's JSON-RPC (a follower's three calls) -----------------
 * HTTP POST with basic authentication: the node's cookie file (read again
 * at every reconnect: Core writes a new one at each start) or a user and
 * password. Every answer is checked for shape; errors name the URL and the
 * call. */
typedef struct ch_btc_rpc ch_btc_rpc;
typedef struct ch_btc_rpc_cfg {
    const char *url;         /* http://127.0.0.1:8332/ */
    const char *cookie_path; /* DATADIR/.cookie, or NULL */
    const char *user, *password;
    unsigned timeout_ms; /* per call (0: 30 s) */
    /* set (by a signal handler) to give up the call in hand within about a
     * second: a stop is not kept waiting on a node that never answers
     * (NULL: calls run to timeout_ms) */
    volatile sig_atomic_t *stop;
} ch_btc_rpc_cfg;

int ch_btc_rpc_open(const ch_btc_rpc_cfg *cfg, ch_btc_rpc **out, ch_error *err);
void ch_btc_rpc_close(ch_btc_rpc *r);
/* A new connection (and the cookie read again) for the next call. */
int ch_btc_rpc_reconnect(ch_btc_rpc *r, ch_error *err);
/* getbestblockhash. 0 or -1. */
int ch_btc_rpc_best_hash(ch_btc_rpc *r, ch_hash256 *out, ch_error *err);
/* getblockhash HEIGHT: 1 found, 0 past the node's tip, -1 error. */
int ch_btc_rpc_block_hash(ch_btc_rpc *r, uint64_t height, ch_hash256 *out, ch_error *err);
/* getblock HASH 0: the block's bytes (malloc'ed), checked to hash to the
 * hash asked for. 0 or -1. */
int ch_btc_rpc_block(ch_btc_rpc *r, const ch_hash256 *hash, uint8_t **raw, size_t *len,
                     ch_error *err);

/* ch_blk_chain_check for headers of a known network that came from
 * elsewhere than a blk folder (a node's RPC): messages name the height and
 * hash (the positions are not read). */
int ch_btc_chain_check_net(ch_btc_net net, const ch_blk_chain *c, ch_error *err);
/* The same over heights [from, c->n) only, those below (checked before)
 * giving the rules their look-back: a retarget needs the period before, the
 * median time the 11 blocks before, and c's heights must be the chain's
 * modulo 2016. */
int ch_btc_chain_check_from_net(ch_btc_net net, const ch_blk_chain *c, size_t from, ch_error *err);

/* Total work of headers with these bits, compared: <0, 0, >0 as the
 * headers of a claim less, as much or more than those of b. */
int ch_btc_work_cmp(const uint32_t *bits_a, size_t n_a, const uint32_t *bits_b, size_t n_b);

#ifdef __cplusplus
}
#endif

#endif
