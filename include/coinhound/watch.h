/* coinhound: watch a chain live and alert when watched funds move.
 *
 * Three parts, each usable alone:
 *   - rules: a YAML file (docs/watch.md) read with libyaml and checked whole
 *     before anything runs; an error names the file and the line;
 *   - the alert log: DIR/<chain>/watch/alerts.jsonl, one JSON object a line,
 *     appended and fdatasync'ed before the watcher's cursor moves past the
 *     block it came from, so that a kill -9 at any moment loses no alert (a
 *     restart evaluates the uncursored blocks again and drops the ids the log
 *     already holds). Delivery to the --alerts file (or stdout) follows the
 *     log with its own cursor: at least once, duplicates carrying the same id;
 *   - the follower: the store's writer (its writer lock) for as long as it
 *     runs, taking each new block from a node through the EVM ingest path,
 *     then evaluating the rules on the committed block.
 *
 * An alert's id is derived from the rule, the chain, the block hash, the tx
 * hash and the transfer's kind and position: the same event gives the same id
 * after any restart. When its block is reorganised away the log gets a
 * retraction: the same object with "retracted": true. The watcher's own
 * coverage alerts (rule "watcher", kind "coverage": watch eth following
 * blocks without traces, and traces back) go through the same log, their
 * id derived from the chain, the event and the first block without traces;
 * they name blocks, not one block's hash, and are never retracted. */
#ifndef COINHOUND_WATCH_H
#define COINHOUND_WATCH_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "coinhound/error.h"
#include "coinhound/evm.h"
#include "coinhound/ingest.h"
#include "coinhound/trace.h"
#include "coinhound/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ch_watch_rule_kind {
    CH_WATCH_ADDRESS = 0, /* a transfer in or out of a listed address */
    CH_WATCH_LARGE,       /* a transfer of one asset at or above a minimum */
    CH_WATCH_ENTITY,      /* in or out of an address the attribution store gives this entity */
    CH_WATCH_ACTOR,       /* ... this actor (or actor country: "DPRK") */
    CH_WATCH_CATEGORY,    /* ... this category (exchange, mixer, stolen_funds, ...) */
    CH_WATCH_INCIDENT,    /* a theft's taint, carried forward block by block */
    CH_WATCH_DEPOSIT,     /* deposit_exposure: a payment to a listed customer address whose
                             sender's funds came from flagged sources (exposure.h) */
    CH_WATCH_POISONING,   /* an address-poisoning attempt against a protected address */
} ch_watch_rule_kind;

typedef struct ch_watch_rule {
    char name[64];
    ch_watch_rule_kind kind;
    char severity[16]; /* low, medium, high, critical */
    unsigned line;     /* where the rule starts in its file (1-based) */
    /* address: sorted, 20 bytes each */
    uint8_t (*addrs)[20];
    size_t n_addrs;
    /* large_transfer */
    bool native;       /* the chain's own coin */
    uint8_t asset[20]; /* the token contract when not native */
    char asset_text[48];
    ch_u256 min; /* base units */
    /* entity / actor / category: the values, any of which matches (case-insensitive) */
    char **values;
    size_t n_values;
    bool include_delisted; /* attributions their source withdrew count too */
    /* deposit_exposure: addrs are the customer addresses; an alert when the
     * flagged share of the sender's funds within max_hops (0: 3) reaches
     * min_share (0..1) */
    double min_share;
    /* incident: the theft's sources as written ("0x" + 64 hex: a tx, every
     * value transfer of it; "0x" + 40 hex: an address, everything it
     * receives from start_block on; for watch btc, a txid of 64 hex, every
     * output of it, TXID:VOUT, or a Bitcoin address), how taint is shared (the policies of
     * `trace`), where it stops (stop categories: a landing), and the limits;
     * min (above) is the smallest taint followed, 0 = all */
    char **sources;
    size_t n_sources;
    ch_trace_policy policy;
    uint64_t start_block; /* 0: from the store's first block */
    uint32_t max_hops;    /* 0: no limit */
    char stop_at[256];    /* "": the default stop list */
    bool has_stop_at;
    /* address: the Bitcoin addresses listed (any network's form), sorted by
     * ch_watch_addr_cmp; a Bitcoin watcher matches these, an EVM one the
     * 20-byte ones above */
    ch_addr *btc_addrs;
    size_t n_btc_addrs;
    bool btc; /* large_transfer: asset BTC (satoshi), for a Bitcoin watcher */
} ch_watch_rule;

/* An incident source names a tx (or a Bitcoin output), not an address. */
bool ch_watch_source_is_tx(const char *source);
/* ... and is an EVM one ("0x..."), not a Bitcoin one. */
static inline bool ch_watch_source_is_evm(const char *source) {
    return source[0] == '0' && (source[1] == 'x' || source[1] == 'X');
}

/* The order of btc_addrs: kind, version, length, then the bytes used. */
int ch_watch_addr_cmp(const void *a, const void *b);

typedef struct ch_watch_rules {
    ch_watch_rule *v;
    size_t n;
    char source[256]; /* the file name, for reasons */
} ch_watch_rules;

/* Read rules from YAML text; name is used in messages ("rules.yaml: line 7:
 * ..."). Every rule is checked: names unique, kind known, the fields its kind
 * needs present and well-formed, no unknown field. */
int ch_watch_rules_parse(const char *text, size_t len, const char *name, ch_watch_rules **out,
                         ch_error *err);
int ch_watch_rules_load(const char *path, ch_watch_rules **out, ch_error *err);
void ch_watch_rules_free(ch_watch_rules *r);
/* Does any rule need the attribution store (entity, actor, category)? */
bool ch_watch_rules_need_intel(const ch_watch_rules *r);
/* "address", "large_transfer", ... */
const char *ch_watch_rule_kind_name(ch_watch_rule_kind k);

/* watch eth's traces (ch_watch_opts.traces) */
typedef enum ch_watch_traces {
    CH_WATCH_TRACES_AUTO = 0, /* where the node answers the trace call */
    CH_WATCH_TRACES_OFF,      /* never (--no-traces) */
    CH_WATCH_TRACES_REQUIRE   /* the node must answer it at the start (--traces) */
} ch_watch_traces;

/* The follower's settings. */
typedef struct ch_watch_opts {
    const char *rpc_url;
    const char *db_dir;
    const char *chain; /* "eth" (any account chain name) */
    const ch_watch_rules *rules;
    const char *alerts_path; /* JSON lines appended here; NULL: stdout */
    unsigned confirmations;  /* alert when a block has this many (1 = the tip itself; 0 = 1) */
    bool has_from;           /* an empty store starts at from_block instead of 0 */
    uint64_t from_block;
    unsigned poll_ms;        /* between eth_blockNumber polls at the tip (0: 1000) */
    unsigned batch;          /* blocks per request while catching up (0: 10) */
    unsigned max_backoff_ms; /* cap of the wait after a failure (0: 30000) */
    /* set (by a signal handler) to stop: the block in hand is finished, the
     * alerts flushed, the store committed and closed */
    volatile sig_atomic_t *stop;
    bool wait; /* another writer holds the store: wait for it (else fail at once) */
    /* a pass over each block the watcher appends, before its commit (the
     * people's safeguard: ch_poison_ingest_block; ingest.h); NULL: none */
    ch_ingest_block_hook on_block;
    void *on_block_ctx;
    /* Bitcoin (ch_watch_run_btc): Core's blocks folder, followed through
     * inotify, or its JSON-RPC at rpc_url with a cookie file or a user and
     * password */
    const char *blocks_dir;
    const char *rpc_cookie, *rpc_user, *rpc_password;
    /* Bitcoin: bound on the store writer's memory (its in-memory indexes
     * and the mapped pages it keeps), as ingest --mem; 0: ingest's default
     * (half the machine's RAM) */
    uint64_t mem_bytes;
    /* both watchers: cap on the store writer's in-memory indexes, whatever
     * mem_bytes allows (ch_store_set_hot_cap); 0: CH_WATCH_INDEX_MEM */
    uint64_t index_mem_bytes;
    /* webhook: each alert POSTed alone, signed (X-Coinhound-Signature:
     * sha256=HEX of HMAC-SHA256(secret, body)), at least once from the log
     * with its own cursor (DIR/<chain>/watch/webhook.cursor); NULL: none */
    const char *webhook_url;
    const uint8_t *webhook_secret;
    size_t webhook_secret_len;
    unsigned webhook_grace_ms; /* on stop, delivery goes on this long (0: 5000) */
    /* both watchers, for whoever reads the log at night: a status line
     * ("info: following SOURCE: at block N, the last new block S s ago, A
     * new alerts ...") every heartbeat_s seconds, so that a watcher keeping
     * up in silence is seen to be alive; and one warning when no new block
     * has come for stale_s seconds (a node stalled or cut off from its
     * peers, a folder no longer written), then an info line when one comes.
     * 0: none (the CLI's defaults: 600 s; stale 600 s eth, 7200 s btc) */
    unsigned heartbeat_s, stale_s;
    /* watch eth: each block's callTracer traces (debug_traceBlockByNumber),
     * where value a contract moves (a contract wallet, a mixer's withdrawal,
     * a bridge's payout) is seen. CH_WATCH_TRACES_AUTO (0, the default):
     * the node is asked at the start and after each reconnect whether it
     * answers the trace call, one line says so, and blocks are fetched with
     * traces where it does. A node that says later that it does not trace
     * (method not found) is warned about once and followed without them,
     * asked again every 10 minutes; one that fails to trace a block (an
     * error, no answer in time) is asked again with backoff, the block not
     * evaluated without its traces, for up to traces_wait_ms, then
     * followed without them (a warning naming the first block; the blocks
     * so taken listed when traces come back), asked again each minute;
     * both ends are alerts too (kind "coverage", events traces_off and
     * traces_on), and the open range is kept in the state file.
     * _OFF: never asked. _REQUIRE: as AUTO, but a node that does not
     * answer the trace call at the start is an error (ch_watch_run
     * returns -1). */
    ch_watch_traces traces;
    /* both watchers: a "catching up: block N of M" line at most every
     * progress_ms while catching up, and a last one at the tip (0: 5000;
     * the CLI takes it from COINHOUND_WATCH_PROGRESS_MS, for tests) */
    unsigned progress_ms;
    /* both watchers' --rpc: the longest wait for one answer of the node
     * before it counts as failed (logged, backed off, retried); 0: 30000 */
    unsigned rpc_timeout_ms;
    /* watch eth: how long blocks wait for their traces while the node,
     * believed to trace, fails to (see traces); 0: 120000 */
    unsigned traces_wait_ms;
} ch_watch_opts;

/* The watcher's default index_mem_bytes: tables of 2^18 slots, 24 MiB in
 * all (docs/watch.md, Memory). */
#define CH_WATCH_INDEX_MEM (32ULL << 20)

/* Both entry points below fix glibc's malloc thresholds (mallopt
 * M_MMAP_THRESHOLD and M_TRIM_THRESHOLD at its defaults, 128 KiB) for the
 * whole process: without them a watcher's heap keeps the high-water mark
 * of its growing transient buffers (docs/watch.md, Memory).
 *
 * Follow the node until *stop: 0 after a clean stop, -1 when the watcher
 * cannot run at all (store locked or unreadable, alert log unwritable). A node
 * that fails or answers garbage is retried with backoff, never an error. */
int ch_watch_run(const ch_watch_opts *o, ch_error *err);

/* Follow Bitcoin Core into DIR/btc, through its blocks folder (o->blocks_dir:
 * blocks appended to blk files, seen through inotify, read through the
 * store's block index) or its JSON-RPC (o->rpc_url): the same rules,
 * alert log, cursors, confirmations and retractions as ch_watch_run, one
 * alert per rule and transaction. 0 after a clean stop, -1 when it cannot
 * run at all; a node or folder that fails is retried with backoff. */
int ch_watch_run_btc(const ch_watch_opts *o, ch_error *err);

/* The alert log of DIR/<chain>: each complete line after the last line
 * whose id is since_id (NULL: from the start; an id not in the log: error)
 * to fn. Returns the count passed, -1 on error (or when fn returns non-zero:
 * then the count so far is not reported). */
typedef int (*ch_watch_alert_fn)(const char *json_line, size_t len, void *ctx);
int ch_watch_alerts_foreach(const char *db_dir, const char *chain, const char *since_id,
                            ch_watch_alert_fn fn, void *ctx, ch_error *err);
/* The same for a follower (serve's alert stream), from a byte offset of the
 * log: each complete line at or after *offset (after the last line whose id
 * is since_id, when given: an id not in the log is an error) to fn, and
 * *offset moved past the last complete line, so the next call gives only
 * what was appended since. A log that does not exist yet gives nothing (0,
 * *offset unchanged). Returns the count, -1 on error. */
int ch_watch_alerts_follow(const char *db_dir, const char *chain, const char *since_id,
                           uint64_t *offset, ch_watch_alert_fn fn, void *ctx, ch_error *err);
/* An alert of the log (one JSON line) as text, one line and a "why" line a
 * reason: id, severity, rule, chain, block, tx, amount in base units, asset,
 * both sides (a Bitcoin side as its first address "and N more"), RETRACTED
 * for a retraction. A line that is not JSON is written as
 * "(unreadable record)". 0, or -1 when out cannot be written. */
int ch_watch_alert_print(FILE *out, const char *json_line, size_t len);

#ifdef __cplusplus
}
#endif

#endif
