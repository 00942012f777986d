/* Private helpers of the Bitcoin format layer (src/chains/btc/). */
#ifndef COINHOUND_BTC_INTERNAL_H
#define COINHOUND_BTC_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coinhound/btc.h"

/* Bitcoin Core's MAX_SIZE (32 MiB): no serialized message, so no block
 * record of a blk file, and no count or length inside a transaction
 * exceeds it. */
#define BTC_MAX_SIZE 0x02000000u

static inline uint32_t btc_le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t btc_le64(const uint8_t *p) {
    return (uint64_t)btc_le32(p) | (uint64_t)btc_le32(p + 4) << 32;
}

/* A merkle root computed as leaves arrive, in O(log n) memory: pending
 * subtrees sit on a stack with strictly decreasing heights, like the carry
 * chain of a binary counter. Lets a block's root be checked without an
 * array of all its txids. */
typedef struct btc_merkle_acc {
    ch_hash256 node[64];
    uint8_t level[64];
    int top;       /* entries on the stack */
    size_t leaves; /* leaves pushed so far */
    bool mutated;  /* two equal siblings were combined (CVE-2012-2459) */
} btc_merkle_acc;

void btc_merkle_init(btc_merkle_acc *m);
void btc_merkle_push(btc_merkle_acc *m, const ch_hash256 *leaf);
/* The root; all zero for no leaves. */
void btc_merkle_finish(btc_merkle_acc *m, ch_hash256 *root);

/* The parser's reusable arrays. During a block parse each transaction's
 * inputs and outputs are appended; the tx pointers into them are set once
 * the block is done, because growing an array may move it. */
struct ch_btc_parser {
    ch_btc_tx *tx;
    size_t tx_cap;
    ch_btc_txin *in;
    size_t in_cap, in_used;
    ch_btc_txout *out;
    size_t out_cap, out_used;
};

/* Parse the transaction at data[start..len), appending its inputs and
 * outputs to the parser's arrays (tx->in/out point at them until the next
 * append). Error offsets are relative to data. */
int btc_parse_tx_at(ch_btc_parser *p, const uint8_t *data, size_t len, size_t start, ch_btc_tx *tx,
                    ch_error *err);

/* Grow *arr (elements of elem bytes) to hold at least need: ch_grow
 * (util/vec.h) for an array kept as a pointer of any type. -1 when out of
 * memory or the size would overflow (*arr and *cap unchanged). */
int btc_grow(void **arr, size_t *cap, size_t need, size_t elem);

/* Header fields from 80 bytes that the caller has bounds-checked. */
void btc_header_decode(const uint8_t *raw, ch_btc_header *h);

/* 256-bit unsigned integers, four 64-bit limbs, least significant first
 * (u256.c): targets, hashes read as numbers, and chain work. */
typedef struct btc_u256 {
    uint64_t w[4];
} btc_u256;

int btc_u256_cmp(const btc_u256 *a, const btc_u256 *b);
bool btc_u256_is_zero(const btc_u256 *a);
void btc_u256_add(btc_u256 *a, const btc_u256 *b);
void btc_u256_mul32(btc_u256 *a, uint32_t m);
void btc_u256_div32(btc_u256 *a, uint32_t d);
/* A hash (internal byte order: little-endian) as a number. */
void btc_u256_from_hash(btc_u256 *a, const ch_hash256 *h);
/* The target of compact bits; -1 (target 0) when it is negative, zero or
 * does not fit 256 bits: such bits are invalid in a header. */
int btc_target_from_bits(uint32_t bits, btc_u256 *target);
/* The compact form of a target, as Core's GetCompact writes it. */
uint32_t btc_bits_from_target(const btc_u256 *target);
/* Work of a header: 2^256 / (target + 1); 0 for invalid bits. */
void btc_header_work(uint32_t bits, btc_u256 *work);

/* Which network a blk directory's records are from (by their magic);
 * CH_BTC_NET_COUNT before the first record was read. */
ch_btc_net btc_blkdir_net(const ch_blkdir *d);

/* ch_blk_chain_check for a given network; d (for the file names in
 * messages) may be NULL. */
int btc_chain_check(ch_btc_net net, const ch_blk_chain *c, const ch_blkdir *d, ch_error *err);
/* The same over heights [from, c->n) only (those below were checked). */
int btc_chain_check_from(ch_btc_net net, const ch_blk_chain *c, const ch_blkdir *d, size_t from,
                         ch_error *err);

/* Visit every block record of a blk directory, file by file in number
 * order: fn gets the record's position and its 80 header bytes (already
 * de-obfuscated). Stops at the first error (fn's or the scan's). */
typedef int (*btc_blk_visit)(void *ctx, const ch_blk_pos *pos, const uint8_t header[80],
                             ch_error *err);
/* The directory a ch_blkdir was opened on (for messages). */
const char *btc_blkdir_dir(const ch_blkdir *d);
int btc_blkdir_scan(ch_blkdir *d, btc_blk_visit fn, void *ctx, ch_error *err);
/* The same for file number i of the listing (0 .. ch_blkdir_file_count - 1)
 * from byte `from` on. Tolerant (a folder Core is writing): zero bytes
 * (space Core preallocated and has not filled) and a record the file does
 * not hold whole yet end the scan without error; strict: as
 * btc_blkdir_scan (the rest must be zero padding, a cut record is an
 * error). *end gets the offset where the next scan of this file starts
 * (past the last whole record). */
int btc_blkdir_scan_file(ch_blkdir *d, uint32_t i, uint64_t from, bool tolerant, btc_blk_visit fn,
                         void *ctx, uint64_t *end, ch_error *err);
/* NNNNN of listing entry i; the xor key (8 bytes, zero when none); the
 * records' magic (NULL before one was read); set the magic a persisted
 * index remembers (-1 when it is not a Bitcoin network's or differs). */
uint32_t btc_blkdir_file_no(const ch_blkdir *d, uint32_t i);
const uint8_t *btc_blkdir_key(const ch_blkdir *d);
const uint8_t *btc_blkdir_magic(const ch_blkdir *d);
int btc_blkdir_set_magic(ch_blkdir *d, const uint8_t magic[4], ch_error *err);

/* A header as the best-chain builder takes it and the block index keeps it
 * on disk (88 bytes, the machine's byte order): btc.h's ch_blk_rec. */
typedef ch_blk_rec btc_hdr;
/* The record of the header at pos (its 80 bytes: hash, prev, bits, time). */
btc_hdr btc_hdr_of(const ch_blk_pos *pos, const uint8_t header[80]);

/* For the tests: the heights below the tip the block index's tree keeps
 * (288 by default; 0: all, never letting go), how many records it holds,
 * and how many times it was built again since the load (blkindex.c). */
void btc_blkidx_set_keep(ch_blkidx *x, size_t keep);
size_t btc_blkidx_tree_records(const ch_blkidx *x);
size_t btc_blkidx_rebuilds(const ch_blkidx *x);

#endif
