/* Internals shared by the EVM parsers: the block arena, the parts a parser
 * adds to a block before it is complete (receipts, traces not yet tied to a
 * transaction), a set of blocks keyed by number, and small text helpers. */
#ifndef COINHOUND_EVM_INTERNAL_H
#define COINHOUND_EVM_INTERNAL_H

#include <stdio.h>

#include "coinhound/evm.h"

/* A receipt waiting for its transaction (files come in any order). */
typedef struct evm_receipt {
    ch_hash256 tx_hash;
    uint32_t tx_index;
    bool has_hash, has_index;
    int status; /* 1, 0, -1 unknown */
    uint64_t gas_used, cumulative_gas_used;
    ch_u256 price;
    bool has_price;
    ch_evm_addr contract;
    bool has_contract;
} evm_receipt;

/* A trace frame waiting to be ordered and tied to its transaction. */
typedef struct evm_pcall {
    ch_evm_call c; /* c.trace_addr/c.depth already set */
    ch_hash256 tx_hash;
    bool has_hash, has_index;
    uint32_t seq; /* arrival order: keeps rewards and equal keys stable */
} evm_pcall;

/* A log made from an ETL token_transfers row (its tx may be named by hash only). */
typedef struct evm_ttlog {
    ch_evm_log l;
    ch_hash256 tx_hash;
    bool has_index;
} evm_ttlog;

/* A tx hash and index a log told us (a trace may name its tx by hash only). */
typedef struct evm_txref {
    ch_hash256 hash;
    uint32_t index;
} evm_txref;

struct ch_evm_arena {
    struct evm_chunk *head, *cur; /* bump-allocated byte strings */
    size_t tx_cap, logs_cap, calls_cap, wd_cap;
    evm_receipt *rc;
    size_t n_rc, rc_cap;
    evm_pcall *pc;
    size_t n_pc, pc_cap;
    evm_txref *refs;
    size_t n_refs, refs_cap;
    evm_txref *claims; /* ETL transactions' block_hash, by tx index: checked against the header */
    size_t n_claims, claims_cap;
    struct evm_ttlog *tt; /* logs made from ETL token_transfers rows: used when no logs came */
    size_t n_tt, tt_cap;
};

/* --- building a block (block.c) --- */
void *evm_alloc(ch_evm_block *b, size_t n); /* NULL when out of memory */
ch_evm_tx *evm_add_tx(ch_evm_block *b);     /* zeroed, status -1 */
ch_evm_log *evm_add_log(ch_evm_block *b);
evm_ttlog *evm_add_tt(ch_evm_block *b);
ch_evm_withdrawal *evm_add_withdrawal(ch_evm_block *b);
evm_receipt *evm_add_receipt(ch_evm_block *b);
evm_pcall *evm_add_pcall(ch_evm_block *b);
int evm_add_txref(ch_evm_block *b, const ch_hash256 *hash, uint32_t index); /* -1 out of memory */
int evm_add_claim(ch_evm_block *b, const ch_hash256 *block_hash, uint32_t index);
/* Sort, join receipts and traces to transactions, check consistency. */
int evm_block_finish(ch_evm_block *b, ch_error *err);

/* Blocks keyed by number, kept sorted. The streaming reader watches which
 * numbers a record named (lo..hi since it last cleared touched) and keeps
 * blocks it handed out for reuse (spare). */
typedef struct evm_set {
    ch_evm_block **v;
    size_t n, cap;
    bool touched;
    uint64_t lo, hi;
    ch_evm_block **spare; /* reset blocks with their capacity, for evm_set_get */
    size_t n_spare, spare_cap;
    struct sj_parser *json;       /* the JSON parser of the RPC reader (rpc.c), made on first use */
    struct sj_parser *json_spare; /* a parser a held response gave back, for the next hold */
} evm_set;
ch_evm_block *evm_set_get(evm_set *s, uint64_t number); /* NULL when out of memory */
/* Take the first (lowest) block out of the set: the caller owns it. */
ch_evm_block *evm_set_pop(evm_set *s);
/* Keep b (reset) for a later evm_set_get; frees it when the pool is full. */
void evm_set_recycle(evm_set *s, ch_evm_block *b);
/* Bytes a block holds (arena chunks, arrays), for the reader's peak. */
size_t evm_block_bytes(const ch_evm_block *b);
/* Finish every block; on success move them into a fresh array. */
int evm_set_finish(evm_set *s, ch_error *err);
int evm_set_export(evm_set *s, ch_evm_block **blocks, size_t *n_blocks, ch_error *err);
void evm_set_free(evm_set *s);
/* Free the set's JSON parsers (their buffers are as large as the largest
 * document), keeping the blocks: for a reader done parsing. */
void evm_set_drop_parser(evm_set *s);

/* --- parsers into a set --- */
int evm_rpc_parse(evm_set *s, const char *json, size_t len, const char *name, ch_error *err);
/* A parsed document waiting for its block: it keeps the parser that read
 * it (the set goes on with another), so a retry parses nothing again. */
typedef struct evm_held evm_held;
/* One line of a JSON lines file of responses (the streaming reader): the
 * document (a response or a batch) is parsed, and applied when it can be.
 * Returns 0 applied, 1 held: *held gets the parsed document of a
 * callTracer response whose block is not known yet (no block read so far
 * holds its first transaction), to retry with evm_rpc_apply_held; -1 error
 * (errors name the file and the line). */
int evm_rpc_line(evm_set *s, const char *line, size_t len, const char *name, long line_no,
                 evm_held **held, ch_error *err);
/* 0 applied (and freed), 1 still held, -1 error (freed). force: apply even
 * when the block is still unknown (it then fails, saying why). */
int evm_rpc_apply_held(evm_set *s, evm_held *held, const char *name, long line_no, bool force,
                       ch_error *err);
/* Free a held document never applied (NULL: nothing). */
void evm_held_free(evm_held *held);
/* One line of a blockchain-etl JSON lines export (a row object); blank lines
 * are skipped. line is modified (trailing blanks cut). */
int evm_etl_jsonl_line(evm_set *s, char *line, size_t len, const char *name, long line_no,
                       ch_error *err);
int evm_etl_parse(evm_set *s, const char *text, size_t len, const char *name, ch_evm_format fmt,
                  ch_error *err);
/* fmt AUTO, ETL_CSV or ETL_JSON; the stream is read to its end. */
int evm_etl_parse_file(evm_set *s, FILE *f, const char *name, ch_evm_format fmt, ch_error *err);
/* Tests only: true makes every ETL JSON line go to yajl, as before
 * simdjson read them, to hold the two to the same rows (etl.c). */
extern bool evm_etl_yajl_only;

/* The reader's high-water marks (reader.c): whether it streams, the most
 * blocks it held at once and the bytes they (and its line buffers) took. */
void evm_reader_peak(const ch_evm_reader *r, bool *streaming, size_t *blocks, size_t *bytes);

/* --- text helpers (u256.c) --- */
/* Hex bytes "0x..." (even number of digits) into the arena. */
int evm_hex_bytes(ch_evm_block *b, const char *s, size_t len, const uint8_t **out, size_t *out_len);
int evm_hex_fixed(const char *s, size_t len, uint8_t *out, size_t n); /* "0x" + 2n digits */
int evm_hex_u64(const char *s, size_t len, uint64_t *out);            /* quantity */
int evm_dec_u64(const char *s, size_t len, uint64_t *out);
/* Decimal, or hex with 0x (ETL exports write decimal; some tools write hex). */
int evm_num_u256(const char *s, size_t len, ch_u256 *out);
int evm_num_u64(const char *s, size_t len, uint64_t *out);

#endif
