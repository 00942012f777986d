/* Reading ahead of the store: the pure per-block work of a Bitcoin ingest
 * (read from the blk file, parse, hash the txids, check the merkle root and
 * witness commitment, classify every output) done by a reader thread into
 * a bounded queue of parsed blocks, while the caller's thread, the store's
 * only writer, resolves inputs and appends. The store never sees the
 * reader: its calls, their order and their arguments are those of a
 * one-thread ingest, so the store it builds is the same byte for byte. */
#ifndef COINHOUND_INGEST_BTC_PIPE_H
#define COINHOUND_INGEST_BTC_PIPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coinhound/btc.h"
#include "coinhound/error.h"

/* A block ready for the store: parsed and checked, with every output's
 * script type, address and the address's store key in block order
 * (type[k], addr[k], key[k] = ch_store_addr_key(&addr[k]) for the k-th
 * output of the block: hashed here, off the store's thread). Owned by the
 * pipe. */
typedef struct btc_prep {
    uint32_t height;
    ch_blk_pos pos;
    ch_btc_block b;
    ch_addr *addr;
    size_t addr_cap;
    uint64_t *key;
    size_t key_cap;
    ch_script_type *type;
    size_t type_cap;
    uint8_t *buf; /* the block's bytes (b points into them) */
    size_t cap;
    ch_btc_parser *p;
} btc_prep;

/* Classify every output of p->b into p->type, p->addr and p->key (grown
 * to fit): 0, or -1 out of memory. */
int btc_prep_classify(btc_prep *p);
void btc_prep_free(btc_prep *p);

typedef struct btc_pipe btc_pipe;

/* Blocks of heights [from, to) of chain, read from d in order. threaded:
 * by a reader thread (d is then the reader's until btc_pipe_free), else
 * each in btc_pipe_next. budget: bytes the blocks queued ahead may hold
 * (the reader waits beyond it; one block however large is always let
 * through, so it may be passed by one block's worth). NULL with err set
 * when out of memory or the thread cannot start. */
btc_pipe *btc_pipe_start(ch_blkdir *d, const ch_blk_chain *chain, uint32_t from, uint32_t to,
                         bool threaded, uint64_t budget, ch_error *err);

/* The next block in height order: 1 with *out set (valid until the next
 * call or btc_pipe_free), 0 after the last, -1 when it could not be read,
 * parsed or checked (err names the file, offset and height, as a
 * one-thread ingest would). */
int btc_pipe_next(btc_pipe *pp, const btc_prep **out, ch_error *err);

/* Stop the reader (at once: blocks it read ahead are dropped) and free
 * everything. NULL is ignored. */
void btc_pipe_free(btc_pipe *pp);

/* What a long-lived caller (the watcher, a block at a time) keeps from
 * one ingest to the next: one block's buffers, so that a pipe of a single
 * block allocates nothing once they have grown, and a task for that
 * block's witness commitment check. */
typedef struct btc_keep btc_keep;
btc_keep *btc_keep_new(void); /* NULL when out of memory */
void btc_keep_free(btc_keep *k);

/* btc_pipe_start, and when keep is given and [from, to) is one block: no
 * reader thread (it would only be waited for), the block read and parsed
 * in btc_pipe_next into keep's buffers, and its witness commitment
 * checked beside the caller's adds, on a spare thread: the caller
 * must then ask btc_pipe_checked before it takes the block as added. The
 * block the caller gets, its checks and their errors are those of
 * btc_pipe_start's. */
btc_pipe *btc_pipe_start_kept(ch_blkdir *d, const ch_blk_chain *chain, uint32_t from, uint32_t to,
                              bool threaded, uint64_t budget, btc_keep *keep, ch_error *err);

/* The last block handed over passed every check: 0, or -1 with err as
 * btc_pipe_next would have said it (file, offset, height). Waits for a
 * check still running; 0 at once when the pipe checked before handing
 * over (every pipe but a kept one). */
int btc_pipe_checked(btc_pipe *pp, ch_error *err);

/* Bytes the pipe's buffers hold now (for tests and the memory account). */
uint64_t btc_pipe_bytes(btc_pipe *pp);

#endif
