/* coinhound: EVM chains (Ethereum, BSC, Polygon, Arbitrum, ...) -> the model.
 *
 * The parsers (JSON-RPC responses, blockchain-etl exports) fill an
 * ch_evm_block: its transactions with their receipts, logs and internal
 * calls. ch_evm_block_transfers() then derives the chain-neutral view: a list
 * of transfers, each moving one asset from one account to another, ordered
 * by (tx index, position), where position orders the tx's own value first,
 * then internal calls in trace order, then token logs by log index.
 *
 * Quantities are 256-bit (wei, token units): ch_u256. Addresses are 20
 * bytes. Hashes keep the byte order they are written in (no reversal, unlike
 * Bitcoin). Strings the parser keeps (input data) point into the block's own
 * arena and live until the block is reset or freed. */
#ifndef COINHOUND_EVM_H
#define COINHOUND_EVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coinhound/error.h"
#include "coinhound/hash.h"

#ifdef __cplusplus
extern "C" {
#endif

/* --- 256-bit unsigned integers (four 64-bit limbs, least significant first) */
typedef struct ch_u256 {
    uint64_t w[4];
} ch_u256;

/* "0x1b4" (JSON-RPC quantity) or "0x" + 64 digits (log data word); -1 when
 * malformed or longer than 256 bits. */
int ch_u256_from_hex(const char *s, size_t len, ch_u256 *out);
/* Decimal digits (ETL exports write values in decimal). */
int ch_u256_from_dec(const char *s, size_t len, ch_u256 *out);
/* Big-endian 32 bytes (an ABI word). */
void ch_u256_from_be32(const uint8_t b[32], ch_u256 *out);
/* Decimal string; out needs 80 bytes. */
const char *ch_u256_to_dec(const ch_u256 *v, char out[80]);
bool ch_u256_is_zero(const ch_u256 *v);
int ch_u256_cmp(const ch_u256 *a, const ch_u256 *b);
/* a + b and a - b (wrapping; callers compare first), a * small. */
void ch_u256_add(ch_u256 *r, const ch_u256 *a, const ch_u256 *b);
void ch_u256_sub(ch_u256 *r, const ch_u256 *a, const ch_u256 *b);
void ch_u256_mul64(ch_u256 *r, const ch_u256 *a, uint64_t m);
/* Nearest double (for shares and display). */
double ch_u256_to_double(const ch_u256 *v);

typedef struct ch_evm_addr {
    uint8_t b[20];
} ch_evm_addr;

/* "0x" + 40 hex digits, any case (no checksum check here: that is screening's
 * job); -1 when malformed. */
int ch_evm_addr_from_hex(const char *s, size_t len, ch_evm_addr *out);
/* "0x" + 40 lowercase hex; out needs 43 bytes. */
const char *ch_evm_addr_to_hex(const ch_evm_addr *a, char out[43]);

/* topic0 of ERC-20 and ERC-721 Transfer(address,address,uint256) */
#define CH_EVM_TRANSFER_TOPIC "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"

typedef struct ch_evm_log {
    uint32_t tx_index;
    uint32_t log_index; /* within the block */
    ch_evm_addr address;
    uint8_t n_topics;
    uint8_t topics[4][32];
    const uint8_t *data; /* decoded bytes, in the block's arena */
    size_t data_len;
    bool removed;
} ch_evm_log;

/* An internal call with value (from debug_traceBlockByNumber's callTracer
 * or Parity trace_block). */
typedef struct ch_evm_call {
    uint32_t tx_index;
    uint32_t position; /* order within its tx (depth-first, as the trace lists them) */
    char type[16];     /* call, create, create2, selfdestruct, delegatecall, ... */
    ch_evm_addr from, to;
    ch_u256 value;
    bool error; /* the call reverted: it moved nothing */
    /* additions (parsers): */
    bool self_error; /* this frame itself reported an error (error is it or an ancestor) */
    uint16_t depth;  /* 0 for the tx's top-level frame (it repeats the tx's own value) */
    const uint32_t *trace_addr; /* Parity traceAddress, depth entries, in the block's arena */
} ch_evm_call;

typedef struct ch_evm_tx {
    ch_hash256 hash;
    uint32_t index; /* within the block */
    uint64_t nonce;
    ch_evm_addr from;
    ch_evm_addr to;
    bool has_to;          /* false: contract creation */
    ch_evm_addr created;  /* the receipt's contractAddress, when created */
    ch_u256 value;        /* wei */
    uint64_t gas;         /* limit */
    uint64_t gas_used;    /* from the receipt (0 when unknown) */
    ch_u256 gas_price;    /* the effective price when the receipt gives it */
    int status;           /* 1 success, 0 failed, -1 unknown (pre-Byzantium, no receipt) */
    uint8_t type;         /* 0 legacy, 1 access list, 2 EIP-1559, 3 blob */
    const uint8_t *input; /* call data, in the block's arena */
    size_t input_len;
    bool has_receipt;
    /* additions (parsers): */
    bool partial; /* no block body gave it (a receipt, logs or traces named it): no sender,
                   * value, nonce or input */
    uint64_t cumulative_gas_used; /* from the receipt */
    /* addition: no block body gave it, its top-level trace frame did (from,
     * to or created, value, status; no nonce, gas or input) */
    bool from_trace;
} ch_evm_tx;

typedef struct ch_evm_withdrawal {
    uint64_t index;
    uint64_t validator;
    ch_evm_addr address;
    uint64_t amount_gwei;
} ch_evm_withdrawal;

typedef struct ch_evm_block {
    uint64_t number;
    ch_hash256 hash, parent;
    uint64_t timestamp;
    ch_evm_addr miner;
    ch_u256 base_fee; /* zero before London */
    uint64_t gas_used, gas_limit;
    size_t n_tx, n_logs, n_calls, n_withdrawals;
    ch_evm_tx *tx;
    ch_evm_log *logs;   /* in log_index order */
    ch_evm_call *calls; /* grouped by tx_index, in position order */
    ch_evm_withdrawal *withdrawals;
    struct ch_evm_arena *arena; /* owns the arrays and byte strings */
    bool has_header; /* addition: false when only receipts, logs or traces named the block */
    /* addition: trace frames left out because no source placed their tx
     * (a trace naming its tx by hash only, in an export holding a subset of
     * the block's transactions) */
    size_t n_unplaced_calls;
} ch_evm_block;

void ch_evm_block_init(ch_evm_block *b);
void ch_evm_block_reset(ch_evm_block *b); /* keep capacity, drop content */
void ch_evm_block_free(ch_evm_block *b);

/* --- the chain-neutral view --- */
typedef enum ch_evm_transfer_kind {
    CH_EVM_XFER_NATIVE = 0, /* the tx's own value */
    CH_EVM_XFER_INTERNAL,   /* value moved by an internal call */
    CH_EVM_XFER_ERC20,      /* Transfer event with 3 topics */
    CH_EVM_XFER_ERC721,     /* Transfer event with 4 topics: a token id, not an amount */
    CH_EVM_XFER_WITHDRAWAL, /* beacon-chain withdrawal (no tx) */
    CH_EVM_XFER_REWARD, /* addition: block/uncle reward or genesis allocation (new coin, no tx) */
} ch_evm_transfer_kind;

typedef struct ch_evm_transfer {
    uint32_t tx_index; /* UINT32_MAX for withdrawals */
    uint32_t position; /* 0 native; 1+ internal calls; then 0x10000 + log_index for logs */
    ch_evm_transfer_kind kind;
    ch_evm_addr asset; /* token contract; all zero for the native coin */
    ch_evm_addr from, to;
    ch_u256 value;  /* wei or token units (for ERC-721, the token id) */
    bool tx_failed; /* the tx failed: a native or token transfer of it moves nothing */
} ch_evm_transfer;

typedef int (*ch_evm_transfer_fn)(const ch_evm_transfer *t, void *ctx);
/* Every transfer of the block in order. Failed transactions yield no value
 * transfers (only their fee, which callers take from gas_used * gas_price);
 * reverted internal calls are skipped; zero-value transfers are included
 * (poisoning detection needs them). */
int ch_evm_block_transfers(const ch_evm_block *b, ch_evm_transfer_fn fn, void *ctx);

/* --- readers --- */

/* JSON-RPC: one response or an array of responses ({"jsonrpc","id","result"})
 * of eth_getBlockByNumber(n, true), eth_getBlockReceipts /
 * eth_getTransactionReceipt, debug_traceBlockByNumber (callTracer) or
 * trace_block. Block responses start a block; receipt and trace responses
 * attach to the block whose transactions they name. Files may hold one JSON
 * document or JSON lines. Errors name the file, and the line or byte offset. */
typedef struct ch_evm_reader ch_evm_reader;

typedef enum ch_evm_format {
    CH_EVM_FMT_AUTO = 0,
    CH_EVM_FMT_RPC,      /* JSON-RPC responses */
    CH_EVM_FMT_ETL_CSV,  /* blockchain-etl CSV exports */
    CH_EVM_FMT_ETL_JSON, /* blockchain-etl JSON lines exports */
    CH_EVM_FMT_ETL       /* addition: blockchain-etl exports, CSV or JSON lines (by name) */
} ch_evm_format;

/* Open a file or a directory of export/response files. A directory of
 * blockchain-etl exports (blocks, transactions, receipts, logs,
 * token_transfers, traces) is joined by block number. */
int ch_evm_reader_open(const char *path, ch_evm_format fmt, ch_evm_reader **out, ch_error *err);
/* Addition: several files and directories read as one input, joined by
 * block number (a token_transfers export beside its transactions export in
 * another folder, say). With fmt AUTO, JSON-RPC responses and ETL exports
 * together are refused: they describe the same blocks twice; fmt RPC or
 * ETL picks one kind and leaves the other out. */
int ch_evm_reader_open_paths(const char *const *paths, size_t n, ch_evm_format fmt,
                             ch_evm_reader **out, ch_error *err);
/* The next block, in increasing number: 1 filled, 0 at the end, -1 error. */
int ch_evm_reader_next(ch_evm_reader *r, ch_evm_block *b, ch_error *err);
void ch_evm_reader_close(ch_evm_reader *r);

/* Parse one JSON-RPC document held in memory (for fuzzing and the node
 * client): blocks found are appended to *blocks (caller frees each). */
int ch_evm_parse_rpc(const char *json, size_t len, const char *name, ch_evm_block **blocks,
                     size_t *n_blocks, ch_error *err);

/* Addition: the same for one blockchain-etl export held in memory (CSV or
 * JSON lines; fmt AUTO looks at the content). name tells the kind when the
 * header cannot (blocks, transactions, receipts, logs, token_transfers,
 * traces). Blocks come out in increasing number. */
int ch_evm_parse_etl(const char *text, size_t len, const char *name, ch_evm_format fmt,
                     ch_evm_block **blocks, size_t *n_blocks, ch_error *err);
/* Addition: free what ch_evm_parse_rpc / ch_evm_parse_etl returned. */
void ch_evm_blocks_free(ch_evm_block *blocks, size_t n_blocks);

#ifdef __cplusplus
}
#endif

#endif
