/* The watcher's parts, shared inside src/watch. */
#ifndef COINHOUND_WATCH_INTERNAL_H
#define COINHOUND_WATCH_INTERNAL_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "coinhound/intel.h"
#include "coinhound/store.h"
#include "coinhound/watch.h"

/* --- evaluation (eval.c) --- */

/* Each alert the rules raise on the committed block at store height `height`
 * goes to fn (which takes the reference). Transfers are read from the store:
 * value transfers of the block's transactions (gas fees and zero-value
 * transfers move nothing a rule asks about). intel may be NULL when no rule
 * needs it. */
typedef int (*watch_emit_fn)(json_t *alert, void *ctx);

/* A committed block to evaluate and where its alerts go: what each
 * evaluator (eval.c, eval_btc.c, deposit_btc.c, guard.c) works from. */
typedef struct watch_block {
    ch_store *s;
    ch_intel *intel; /* NULL when no rule needs it */
    const ch_watch_rules *rules;
    const char *chain;
    uint32_t height;  /* the store's */
    watch_emit_fn fn; /* takes each alert's reference */
    void *ctx;        /* fn's */
    ch_error *err;
} watch_block;
/* glibc's malloc thresholds fixed at its defaults, process-wide, so that
 * a watcher's heap gives back what its growing transient buffers took
 * (steady_malloc.c says why here and not in the CLI). Called by both
 * entry points, ch_watch_run and ch_watch_run_btc; a no-op without glibc. */
void watch_steady_malloc(void);

int watch_eval_block(const watch_block *w);

/* An alert's id: the first 16 bytes of SHA-256 over what names the event
 * (rule, chain, block hash, tx hash, the transfer's kind and position), as
 * 32 hex digits. */
void watch_alert_id(const char *rule, const char *chain, const uint8_t block[32],
                    const uint8_t tx[32], uint8_t kind, uint32_t position, char out[33]);
/* A watcher's coverage alert's id (kind "coverage": traces off, on again):
 * the first 16 bytes of SHA-256 over the chain, the event and the first
 * block without traces, as 32 hex digits; the same after any restart. */
void watch_coverage_id(const char *chain, const char *event, uint64_t first, char out[33]);
/* "native", "internal", "token", "nft", ... */
const char *watch_xfer_kind_name(uint8_t kind);

/* Add "summary" (one line: severity, kind, amount, asset, from, to, block,
 * the first reason) and, when absent, "action" to an alert (summary.c). */
void watch_alert_summarize(json_t *alert);

/* --- the attribution rules (attr.c) --- */

/* An entity, actor or category rule: one the attribution store answers. */
bool watch_rule_is_attr(const ch_watch_rule *r);
/* Every attribution rule of rules against one address (text as an alert
 * shows it, asset the hint for its canonical form: "ETH", "BTC"), with one
 * lookup in intel: reasons[i] (of rules->n, NULL on entry) becomes an array
 * of rule i's reasons when the address matches it, one per matching
 * attribution with its source, and stays NULL else. An address intel has
 * no canonical form for matches nothing. 0, or -1 when the lookup failed. */
int watch_attr_match(ch_intel *intel, const ch_watch_rules *rules, const char *text,
                     const char *asset, json_t **reasons, ch_error *err);
/* json_decref the n arrays and set them to NULL. */
void watch_attr_clear(json_t **reasons, size_t n);

/* Append the reason that names the rule itself ("rule NAME (FILE line N)")
 * with why. 0, -1 out of memory. */
int watch_rule_reason(json_t *reasons, const ch_watch_rules *rs, const ch_watch_rule *r,
                      const char *why);

/* --- incidents (incident.c): a theft's taint carried forward --- */

typedef struct watch_incident watch_incident;
/* One state per incident rule of rules (none: *out = NULL). The attribution
 * store (may be NULL; it stays the caller's) gives the labels that make a
 * landing. */
int watch_incidents_new(const ch_watch_rules *rules, ch_intel *intel, watch_incident **out,
                        ch_error *err);
void watch_incidents_free(watch_incident *v);
/* Evaluate block `height` of s (committed): each incident's trace is
 * carried on to it (built up to it, without alerting earlier blocks, when
 * it has none yet), and each move of tainted value in the block gives an
 * alert to fn. */
int watch_incidents_eval(watch_incident *v, ch_store *s, const char *chain, uint32_t height,
                         watch_emit_fn fn, void *ctx, ch_error *err);
/* The store was cut (a reorg): every trace is dropped, to be built again. */
void watch_incidents_reset(watch_incident *v);

/* The incident rules for a Bitcoin store (incident_btc.c): one extendable
 * UTXO trace per rule naming Bitcoin sources (none: *out = NULL). */
typedef struct watch_btc_incident watch_btc_incident;
int watch_btc_incidents_new(const ch_watch_rules *rules, ch_intel *intel, watch_btc_incident **out,
                            ch_error *err);
void watch_btc_incidents_free(watch_btc_incident *v);
/* The attribution store the landings' labels come from (may be NULL; it
 * stays the caller's), before the first evaluation. */
void watch_btc_incidents_set_intel(watch_btc_incident *v, ch_intel *intel);
/* Block `height` of s (added, committed or pending, and every block below
 * it evaluated): each trace carried on to the store's tip, the writer's
 * pending blocks included (built, without alerting earlier blocks, when
 * it has none yet), and each output of block height that received taint
 * an alert to fn. */
int watch_btc_incidents_eval(watch_btc_incident *v, ch_store *s, uint32_t height, watch_emit_fn fn,
                             void *ctx, ch_error *err);
/* Build the traces that have none yet over s as it is, the next block to
 * evaluate being `height` (nothing is alerted): at the start, so that the
 * first block's alerts do not wait for a full trace of the store. */
int watch_btc_incidents_ready(watch_btc_incident *v, ch_store *s, uint32_t height, ch_error *err);
/* The store was cut (a reorg) or lost its pending blocks (a failed
 * commit): every trace is dropped, to be built again. */
void watch_btc_incidents_reset(watch_btc_incident *v);

/* The same for a Bitcoin store's committed block (eval_btc.c): one alert
 * per rule and transaction. */
int watch_eval_btc_block(const watch_block *w);

/* --- the alert log and the cursors (outbox.c) --- */

typedef struct watch_entry {
    char id[33];
    uint64_t number;  /* block number */
    uint8_t hash[32]; /* block hash */
    bool retracted;   /* the log's last record for this id is a retraction */
    bool coverage;    /* a watcher's own alert (kind "coverage"): of no block, never
                       * retracted */
    /* where the alert as first logged lies in the log (no newline): read
     * back for a retraction, not kept in memory (a watcher's memory grows
     * by this entry per alert, not by the alert's text) */
    uint64_t off;
    uint32_t len;
} watch_entry;

typedef struct watch_outbox {
    char dir[4096];
    int fd; /* alerts.jsonl, appended */
    uint64_t size;
    watch_entry *v;
    size_t n, cap;
    size_t *slots; /* open addressing over v, by id */
    size_t n_slots;
    /* cursors (the state file) */
    uint64_t delivered;    /* bytes of the log delivered */
    bool has_eval;         /* a cursor exists */
    uint32_t eval_next;    /* the next store height to evaluate */
    uint8_t eval_prev[32]; /* the hash of height eval_next - 1 when evaluated */
    /* a watcher that evaluates blocks before the store commits them (the
     * Bitcoin follower's group commit): the store's committed block count
     * and the hash of its last committed block when the cursors were saved
     * (has_committed: the state file holds them). A restart that finds the
     * store short of eval_next resumes there when that block still stands. */
    bool has_committed;
    uint32_t committed_next;
    uint8_t committed_prev[32];
    /* watch eth follows blocks without traces (they failed past
     * --traces-wait) from block untraced_from (the one its traces_off
     * alert names), and traces have not come back: untraced_lo..
     * untraced_hi were taken so (none yet while untraced_lo >
     * untraced_hi). The state file keeps them, so that a restart still
     * knows the range is open. */
    bool untraced;
    uint64_t untraced_from, untraced_lo, untraced_hi;
    bool dirty;   /* appended since the last sync */
    int state_fd; /* the state file, once this run wrote it (saves in place) */
} watch_outbox;

/* Open DIR/<chain>/watch (created): the log is read whole (a torn last line,
 * left by a kill during a write, is cut), the cursors loaded. */
int watch_outbox_open(watch_outbox *o, const char *db_dir, const char *chain, ch_error *err);
void watch_outbox_close(watch_outbox *o);
/* Log an alert unless its id is already live: 1 logged, 0 a duplicate. Takes
 * the reference. */
int watch_outbox_add(watch_outbox *o, json_t *alert, ch_error *err);
/* Log a retraction of every live alert whose block the store no longer holds
 * (a reorg cut it, or replaced it): the count. below_tip: only alerts of
 * heights the store holds are judged (those above its tip may be of blocks
 * evaluated before a commit that a kill lost, which the store gets again);
 * *above (may be NULL) gets how many live alerts were left above it. */
int watch_outbox_retract_gone(watch_outbox *o, ch_store *s, bool below_tip, size_t *above,
                              ch_error *err);
/* Forget the entries of blocks numbered below `below` (the log keeps their
 * lines): no retraction or evaluation again reaches that deep, so the
 * memory kept is that of the recent blocks' alerts, not of every alert
 * ever raised. The count dropped (0 also when the memory to make the
 * smaller arrays was not there). */
size_t watch_outbox_prune(watch_outbox *o, uint64_t below);
/* fdatasync the log when anything was appended. */
int watch_outbox_sync(watch_outbox *o, ch_error *err);
/* Write the cursors: the first time a temporary file, fsync, rename;
 * then in place, unsynced (outbox.c says why that is safe). */
int watch_outbox_save(watch_outbox *o, ch_error *err);
/* Copy the log past the delivery cursor to fd, then make both durable
 * (the log's fdatasync and fd's, unless fd is a pipe or a terminal, side
 * by side) and move the cursor: the count of lines. The log is synced
 * even when there is nothing to deliver. */
int watch_outbox_deliver(watch_outbox *o, int fd, ch_error *err);

/* --- deposit_exposure on Bitcoin (deposit_btc.c) --- */

/* 1 when a block of [from, to) of the writer's view (pending blocks
 * included) has an output paying a customer address of a deposit_exposure
 * rule: the follower commits before evaluating it (the screening's trace
 * reads committed blocks only). 0 none, -1 on an index error. */
int watch_deposit_btc_due(ch_store *s, const ch_watch_rules *rules, uint32_t from, uint32_t to,
                          ch_error *err);
/* The deposit_exposure rules on committed block `height`: each output
 * paying a customer address screened (ch_exposure_of_source of TXID:VOUT,
 * max_hops back) and an alert to fn when its flagged share reaches the
 * rule's min_share. A paying block not committed is an error (err). */
int watch_deposit_btc_eval(const watch_block *w);

/* --- deposit_exposure and poisoning (guard.c) --- */

/* deposit_exposure rule r on transfer xi of block w->height: an alert when
 * it pays a listed customer address and the sender's funds are flagged at
 * or above the rule's share (the sender itself attributed to a flagged
 * category counts as all of it). */
int watch_deposit_eval(const watch_block *w, const ch_watch_rule *r, uint64_t xi);
/* poisoning rule r on the signals of transfers [x_lo, x_hi) of block
 * `height`: one alert per transfer aimed at a protected address. */
int watch_poisoning_eval(ch_store *s, const ch_watch_rules *rs, const ch_watch_rule *r,
                         const char *chain, uint32_t height, uint64_t x_lo, uint64_t x_hi,
                         watch_emit_fn fn, void *ctx, ch_error *err);

/* --- webhook delivery (webhook.c) --- */

typedef struct watch_webhook watch_webhook;
/* Start delivering the log of ob (opened) to url on a thread of its own,
 * from the cursor saved for this URL (the log's start for a new URL). The
 * secret is copied. */
int watch_webhook_start(const char *url, const uint8_t *secret, size_t secret_len,
                        const watch_outbox *ob, unsigned max_backoff_ms, watch_webhook **out,
                        ch_error *err);
/* The log is synced to disk up to `synced` bytes: deliver up to there. */
void watch_webhook_publish(watch_webhook *h, uint64_t synced);
/* Deliver what is synced for up to grace_ms (a failure ends it), then stop
 * the thread and free h (NULL: nothing). */
void watch_webhook_stop(watch_webhook *h, unsigned grace_ms);
/* The signature header's value without "sha256=": hex HMAC-SHA256. */
void watch_webhook_sign(const uint8_t *key, size_t key_len, const char *body, size_t len,
                        char out[65]);

/* --- what both followers share (follower.c) --- */

#define WATCH_FIRST_BACKOFF_MS 250 /* the wait after a first failure */

typedef struct watch_follow {
    const ch_watch_opts *o;
    watch_outbox ob;
    int sink_fd; /* --alerts, or stdout */
    unsigned backoff_ms, failures;
    uint64_t alerts_new;
    watch_webhook *hook; /* --webhook: the log's delivery thread, or NULL */
    /* live alerts lie above the store's tip, of blocks evaluated before a
     * commit that was lost (a kill, a failed commit): each settle judges
     * those the store holds again, until none is left above it */
    bool recheck;
    /* set by a follower that evaluates before it commits: on a start, live
     * alerts above the store's tip are left to recheck, never retracted
     * for being above it (their blocks may only have lost their commit) */
    bool defers_commit;
    uint32_t pruned_at; /* eval_next when the outbox was last pruned */
    /* the heartbeat (watch_follow_heartbeat): when the last status line
     * went out and the tip last moved, the tip then, the alert count at
     * the last line, and whether the stall warning is out */
    double beat_at, tip_at;
    uint64_t beat_tip, beat_alerts;
    bool beat_any, stale;
    /* said at the end of each status line while set (watch eth: blocks
     * followed without traces); NULL: nothing */
    const char *beat_note;
} watch_follow;

/* The stop flag of the options is set. */
bool watch_follow_stopping(const watch_follow *f);
/* Sleep ms, in steps that see the stop flag. */
void watch_follow_nap(const watch_follow *f, unsigned ms);
/* A failure of what (the node, the blocks folder): a warning naming e, a
 * nap of the current backoff, which then doubles up to max_backoff_ms.
 * true when a reconnect is due (every third failure in a row). */
bool watch_follow_failed(watch_follow *f, const char *what, const ch_error *e);
/* source answered: the backoff starts again from WATCH_FIRST_BACKOFF_MS. */
void watch_follow_ok(watch_follow *f, const char *source);
/* A watch_emit_fn (ctx: the watch_follow): the alert summarized and logged
 * unless its id is live; a failure to log is fatal (-1). */
int watch_follow_emit(json_t *alert, void *ctx);
/* The block at the cursor's eval_next, its alerts to watch_follow_emit. */
watch_block watch_follow_block(watch_follow *f, ch_store *s, ch_intel *intel, const char *chain,
                               ch_error *err);
/* eval_prev from the store's block below eval_next. */
void watch_follow_set_prev(watch_follow *f, ch_store *s);
/* A reorg cut s back to height: evaluation resumes there (when past it). */
void watch_follow_rewind(watch_follow *f, ch_store *s, uint32_t height);
/* Where evaluation resumes, on a start with the outbox open: the saved
 * cursor when s still holds the block it ended on; when s is short of it
 * (blocks evaluated before a group commit a kill lost) and still holds the
 * last block committed at the save, that block's successor (the blocks
 * past it are ingested and evaluated again: same ids, dropped; the alerts
 * above the tip wait for their heights: recheck); after a reorg this
 * watcher did not see (another writer, or a kill between the cut and the
 * cursor), 1024 blocks further back (the alerts found again carry ids the
 * log holds and are dropped); on a first run, the store's tip. Alerts
 * whose blocks left the chain are retracted, the cursors saved. */
int watch_follow_start(watch_follow *f, ch_store *s, ch_error *err);
/* Called by a follower after each cycle with its store's tip (any: the
 * store holds a block; tip: its number) and what it follows: a status line
 * every o->heartbeat_s seconds, a warning once the tip has not moved for
 * o->stale_s seconds, an info line when it moves again (0 s: no such line).
 * Costs one clock read when nothing is due. */
void watch_follow_heartbeat(watch_follow *f, bool any, uint64_t tip, const char *source);
/* The alert entries kept in memory: those of the last WATCH_KEEP_BLOCKS
 * blocks evaluated (twice the deepest reorg followed and the deepest
 * evaluation again after a start, 1024 each). Pruned every
 * WATCH_PRUNE_EVERY blocks and at the start. */
#define WATCH_KEEP_BLOCKS 2048
#define WATCH_PRUNE_EVERY 256
void watch_follow_prune(watch_follow *f, ch_store *s, bool now);
/* DIR/intel (the attribution store) exists. */
bool watch_intel_present(const char *db);
/* --webhook given: start delivering the log (open) to it on its thread
 * (f->hook), from the cursor saved for that URL; else nothing. */
int watch_follow_start_webhook(watch_follow *f, ch_error *err);
/* Open the sink: --alerts (appended; a torn last line, left by a kill during
 * a delivery, cut first) or stdout. */
int watch_follow_open_sink(watch_follow *f, ch_error *err);
/* Stop the webhook (delivering what is synced for up to the grace period),
 * close the outbox (if open) and the sink (if a file). */
void watch_follow_close(watch_follow *f);

/* --- a block's steps timed (timeline.c, COINHOUND_WATCH_TIMING) --- */

/* What a thread has used up to a moment: wall and its CPU, the time it
 * waited on a run queue for a core (Linux's schedstat, 0 when absent:
 * the share of the wall other processes took), its page faults and
 * context switches. */
typedef struct watch_mark {
    double wall, cpu, runq; /* ms: CLOCK_MONOTONIC, the thread's CPU, run queue */
    double steal;           /* ms the machine's hypervisor took from its cores (all) */
    long minflt, majflt, nvcsw, nivcsw;
} watch_mark;

/* The steps from a block's file write (or the node's answer) to its
 * alerts' cursor: the marks taken at each step's end, WATCH_STEP_IDLE the
 * moment the follower went to sleep and WATCH_STEP_WAKE the moment it
 * woke. */
enum {
    WATCH_STEP_IDLE,
    WATCH_STEP_WAKE,
    WATCH_STEP_INDEX,    /* the block index read what the files gained */
    WATCH_STEP_CHECKS,   /* its best chain and header rules (a batch without a
                          * wake: the batch's start) */
    WATCH_STEP_ADD,      /* the ingest: read, parse, hash, classify, add */
    WATCH_STEP_RULES,    /* the rules, incidents included */
    WATCH_STEP_LOG,      /* the alert log synced */
    WATCH_STEP_DELIVERY, /* --alerts written and synced */
    WATCH_STEP_CURSOR,   /* the cursor saved */
    WATCH_STEPS
};

typedef struct watch_timeline {
    int schedstat_fd; /* /proc/thread-self/schedstat of the follower's thread, or -1 */
    int stat_fd;      /* /proc/stat (its steal time), or -1 */
    watch_mark m[WATCH_STEPS];
    bool taken[WATCH_STEPS];
    double read_ms; /* of WATCH_STEP_ADD: waiting for the block read and parsed */
} watch_timeline;

/* Open the calling thread's counters; a timeline whose counters cannot
 * be read still times the wall and the CPU. */
void watch_timeline_init(watch_timeline *t);
void watch_timeline_close(watch_timeline *t);
/* The calling thread's mark now (what a commit's timing subtracts). */
watch_mark watch_timeline_now(const watch_timeline *t);
/* Take the thread's mark as step's end. */
void watch_timeline_mark(watch_timeline *t, int step);
/* Forget every mark but the idle one (a new cycle). */
void watch_timeline_reset(watch_timeline *t);
/* Log the steps of the blocks [from, to] evaluated this cycle, one line
 * ("timing: blocks A-B steps: woke at T, asleep from S; index W/C/Q/F,
 * ..."): when the follower went to sleep before this wake and each
 * step's wall, CPU, run queue ms and minor faults since the step before
 * (the sleep's and the wake's as absolute CLOCK_MONOTONIC seconds: a
 * benchmark that knows when it wrote the block subtracts), and the
 * totals since the wake. A batch without a wake (a catch-up's later
 * batch, the node's blocks) logs "steps: no wake, from the batch's
 * start; read ...; add ...", its steps from its WATCH_STEP_CHECKS mark. */
void watch_timeline_log(const watch_timeline *t, uint32_t from, uint32_t to);

/* --- logging (follow.c) --- */
void watch_log(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
