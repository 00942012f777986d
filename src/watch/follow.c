/* The follower: the store's writer for as long as it runs. Each cycle asks
 * the node for its tip, fetches what the store lacks in batches (the node
 * client of chains/eth, its retries and receipt fallback), places each block
 * through the EVM ingest path (which cuts the store back on a reorg),
 * commits, and then settles: retractions for alerts whose block is gone,
 * the rules on every block that reached the wanted depth, the log synced,
 * the cursor saved, the new lines delivered.
 *
 * Failures of the node (no answer, HTTP errors, garbage, a block that does
 * not link) cost nothing committed: the batch in hand is dropped (ch_store_
 * abort), a warning names the cause, and the next try waits longer (doubling
 * up to max_backoff_ms), reconnecting after three in a row. Only the store
 * or the alert log failing to write stops the watcher. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "chains/eth/node.h"
#include "chains/eth/ws.h"
#include "coinhound/progress.h"
#include "ingest/evm_ingest.h"
#include "watch/watch_internal.h"

void watch_log(const char *level, const char *fmt, ...) {
    char ts[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    /* under systemd (stderr is the journal) each line carries its
     * priority, so that journalctl -p warning filters by level */
    bool journal = getenv("JOURNAL_STREAM") != NULL;
    flockfile(stderr); /* one line at a time: the webhook thread logs too */
    if (journal)
        fprintf(stderr, "<%d>", !strcmp(level, "error") ? 3 : !strcmp(level, "warn") ? 4 : 6);
    fprintf(stderr, "coinhound watch: %s %s: ", ts, level);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    funlockfile(stderr);
}

typedef struct watcher {
    watch_follow f; /* first: the emit callback's context */
    evm_sink k;
    ch_ingest_stats st;
    ch_intel *intel;
    watch_incident *inc; /* the incident rules' traces */
    evm_node *n;
    /* the blocks are fetched with traces now; the node was asked whether
     * it traces (traces_known); it is to be asked (probe_due: at each
     * connection), or again at probe_at after it said no or stopped */
    bool traces, traces_known, probe_due;
    double probe_at;
    /* the node, believed to trace, has failed to trace the next blocks
     * since trace_fail_at (0: it has not), a passing fault: they wait for
     * their traces, up to --traces-wait */
    double trace_fail_at;
    /* after that wait, blocks are followed without traces: f.ob.untraced
     * and its range (watch_internal.h), kept in the state file */
    char untraced_note[160]; /* the status line's note while untraced */
    /* --rpc ws://...: blocks are fetched over http:// at the same place,
     * and new heads come through an eth_subscribe subscription */
    char http_url[1100];
    bool ws_mode;
    evm_ws *ws;
    double ws_retry_at;   /* when a lost subscription is tried again */
    unsigned ws_backoff;  /* the wait before the next try */
    unsigned ws_failures; /* tries in a row that failed */
    bool progress_shown;  /* a "catching up" line since the last at the tip */
} watcher;

static bool stopping(const watcher *w) {
    return watch_follow_stopping(&w->f);
}

/* A failure of the node (what: "node"), or of its traces: logged, backed
 * off from, the node reconnected after three in a row. */
static void failed(watcher *w, const char *what, const ch_error *e) {
    if (stopping(w)) return; /* the request was given up for the stop */
    if (watch_follow_failed(&w->f, what, e) && w->n) {
        watch_log("info", "reconnecting to %s", w->f.o->rpc_url);
        evm_node_close(w->n);
        w->n = NULL;
    }
}

static void node_failed(watcher *w, const ch_error *e) {
    failed(w, "node", e);
}

static void node_ok(watcher *w) {
    char src[4200];
    snprintf(src, sizeof src, "node %s", w->f.o->rpc_url);
    watch_follow_ok(&w->f, src);
}

/* After a commit: retractions, evaluation up to the wanted depth, the log
 * synced, the cursor saved, delivery. */
static int settle(watcher *w, ch_error *err) {
    ch_store *s = w->k.s;
    uint64_t first = ch_store_first_number(s);
    if (w->st.reorg_height != UINT32_MAX) {
        uint64_t num = w->st.reorg_height;
        watch_follow_rewind(&w->f, s, num > first ? (uint32_t)(num - first) : 0);
        w->st.reorg_height = UINT32_MAX;
        watch_incidents_reset(w->inc); /* the cut took blocks they had traced */
        int r = watch_outbox_retract_gone(&w->f.ob, s, false, NULL, err);
        if (r < 0) return -1;
        watch_log("warn", "reorg: the chain changed from block %" PRIu64 "; %d alert%s retracted",
                  num, r, r == 1 ? "" : "s");
    }
    const ch_watch_opts *o = w->f.o;
    watch_outbox *ob = &w->f.ob;
    unsigned conf = o->confirmations ? o->confirmations : 1;
    uint32_t next = ch_store_next_height(s);
    uint64_t before = w->f.alerts_new;
    while ((uint64_t)ob->eval_next + conf <= next) {
        watch_block blk = watch_follow_block(&w->f, s, w->intel, o->chain, err);
        if (watch_eval_block(&blk) != 0 || watch_incidents_eval(w->inc, s, o->chain, ob->eval_next,
                                                                watch_follow_emit, &w->f, err) != 0)
            return ch_err_prefix(err, "block %" PRIu64, first + ob->eval_next);
        ob->eval_next++;
        watch_follow_set_prev(&w->f, s);
    }
    watch_follow_prune(&w->f, s, false);
    if (watch_outbox_sync(ob, err) != 0 || watch_outbox_save(ob, err) != 0) return -1;
    watch_webhook_publish(w->f.hook, ob->size);
    if (w->f.alerts_new > before)
        watch_log("info", "%" PRIu64 " new alert%s up to block %" PRIu64, w->f.alerts_new - before,
                  w->f.alerts_new - before == 1 ? "" : "s", first + ob->eval_next - 1);
    return watch_outbox_deliver(ob, w->f.sink_fd, err) < 0 ? -1 : 0;
}

/* The subscription failed to open or broke: logged (the first failure of
 * a streak with its cause, then each retry's wait), tried again after the
 * backoff (250 ms doubling to the cap). */
static void ws_failed(watcher *w, const char *what, const ch_error *e) {
    unsigned cap = w->f.o->max_backoff_ms ? w->f.o->max_backoff_ms : 30000;
    evm_ws_close(w->ws);
    w->ws = NULL;
    w->ws_failures++;
    watch_log("warn",
              "subscription: %s: %s; retrying in %u ms (failure %u in a row; blocks are "
              "polled meanwhile)",
              what, e->msg, w->ws_backoff, w->ws_failures);
    w->ws_retry_at = ch_now() + w->ws_backoff / 1000.0;
    w->ws_backoff = w->ws_backoff * 2 > cap ? cap : w->ws_backoff * 2;
}

/* Wait for the node's next block. Polling (http://): poll_ms. With --rpc
 * ws://, until the subscription announces a new head, poll_ms being only
 * a fallback (a head lost, a subscription down): no polling while it
 * stands. A subscription that cannot be opened or breaks is opened again
 * with backoff; once it stands again the caller polls once (a block may
 * have come while it was down). */
static void wait_head(watcher *w, unsigned poll_ms) {
    if (!w->ws_mode) {
        watch_follow_nap(&w->f, poll_ms);
        return;
    }
    double end = ch_now() + poll_ms / 1000.0;
    while (!stopping(w)) {
        double now = ch_now();
        if (now >= end) return;
        if (!w->ws) {
            if (now < w->ws_retry_at) {
                double until = w->ws_retry_at < end ? w->ws_retry_at : end;
                watch_follow_nap(&w->f, (unsigned)((until - now) * 1000) + 1);
                continue;
            }
            ch_error e = {{0}};
            if (evm_ws_open(w->f.o->rpc_url, 5000, &w->ws, &e) != 0) {
                ws_failed(w, "cannot connect", &e);
                continue;
            }
            if (evm_ws_subscribe_heads(w->ws, 5000, &e) != 0) {
                ws_failed(w, "eth_subscribe", &e);
                continue;
            }
            watch_log("info", "subscribed to new heads at %s%s", w->f.o->rpc_url,
                      w->ws_failures ? " again" : "");
            w->ws_failures = 0;
            w->ws_backoff = WATCH_FIRST_BACKOFF_MS;
            return;
        }
        double left = (end - now) * 1000;
        char *m = NULL;
        size_t n = 0;
        ch_error e = {{0}};
        /* in slices, so that a stop is seen */
        int r = evm_ws_recv(w->ws, left < 200 ? (unsigned)left + 1 : 200, &m, &n, &e);
        if (r < 0) {
            ws_failed(w, "lost", &e);
            continue;
        }
        bool head = r == 1 && evm_ws_is_head(w->ws, m, n);
        free(m);
        if (head) return;
    }
}

/* How long traces stay off, once the node said it does not trace, before
 * it is asked again (a reconnect asks at once). */
#define TRACES_REPROBE_S 600
/* How long blocks wait for their traces while a node believed to trace
 * fails to (--traces-wait; 0: this), and the longest wait between askings
 * once blocks are followed without them for that. */
#define TRACES_WAIT_MS        120000
#define TRACES_RETRY_PROBE_MS 60000

static const char *node_url(const watcher *w) {
    return w->ws_mode ? w->http_url : w->f.o->rpc_url;
}

static double traces_wait_s(const watcher *w) {
    return (w->f.o->traces_wait_ms ? w->f.o->traces_wait_ms : TRACES_WAIT_MS) / 1e3;
}

/* Once blocks are followed without traces after failures: the node asked
 * again each minute, or each traces_wait when shorter. */
static double retry_probe_s(const watcher *w) {
    double wait = traces_wait_s(w);
    return wait < TRACES_RETRY_PROBE_MS / 1e3 ? wait : TRACES_RETRY_PROBE_MS / 1e3;
}

/* An error message less the node's URL at its start (the line names it). */
static const char *without_node(const watcher *w, const char *msg) {
    size_t ul = strlen(node_url(w));
    return !strncmp(msg, node_url(w), ul) && msg[ul] == ':' && msg[ul + 1] == ' ' ? msg + ul + 2
                                                                                  : msg;
}

/* The blocks evaluated without traces since the last fallback, said (at
 * info when traces came back, else as a warning at a stop or a start). */
static void untraced_said(const watcher *w, const char *level, const char *lead) {
    const watch_outbox *ob = &w->f.ob;
    if (!ob->untraced) return;
    if (ob->untraced_lo > ob->untraced_hi)
        watch_log(level, "%s; no block was evaluated without them (off from block %" PRIu64 ")",
                  lead, ob->untraced_from);
    else
        watch_log(level,
                  "%s; blocks %" PRIu64 "..%" PRIu64 " were evaluated without traces: internal "
                  "transfers in them are not seen",
                  lead, ob->untraced_lo, ob->untraced_hi);
}

/* The log synced, the cursors saved, the new lines published to the
 * webhook and delivered to the sink: as at the end of settle. */
static int flush_alerts(watcher *w, ch_error *err) {
    watch_outbox *ob = &w->f.ob;
    if (watch_outbox_sync(ob, err) != 0 || watch_outbox_save(ob, err) != 0) return -1;
    watch_webhook_publish(w->f.hook, ob->size);
    return watch_outbox_deliver(ob, w->f.sink_fd, err) < 0 ? -1 : 0;
}

/* The node's URL as an alert shows it: scheme, host and port. A
 * provider's URL often carries its API key in the path, the query or the
 * user info (https://mainnet.infura.io/v3/KEY, https://user:key@host/);
 * an alert goes to webhooks and files that others read, where the log
 * stays on the machine. True when something was left out. */
static bool alert_url(const char *url, char *out, size_t cap) {
    const char *sep = strstr(url, "://");
    const char *host = sep ? sep + 3 : url;
    size_t end = strcspn(host, "/?#");
    const char *at = memchr(host, '@', end);
    const char *h = at ? at + 1 : host;
    snprintf(out, cap, "%.*s%.*s", (int)(host - url), url, (int)(end - (size_t)(h - host)), h);
    return at || (host[end] && strcmp(host + end, "/") != 0);
}

/* The watcher's own alert of a blind spot (rule "watcher", kind
 * "coverage"), through the outbox as a rule's alert goes: event
 * "traces_off" when blocks from f.ob.untraced_from are followed without
 * traces (why: the node's failure), "traces_on" when traces came back
 * (the blocks evaluated without them in "blocks", to be looked at again).
 * Its id is of the chain, the event and the first block, the same after a
 * restart (a second one is dropped by the outbox). Synced, saved with the
 * range and delivered at once: a consumer of the alerts, not only the
 * log, learns that the watcher is partly blind. -1: the log failed. */
static int coverage_alert(watcher *w, const char *event, const char *why, ch_error *err) {
    const watch_outbox *ob = &w->f.ob;
    const char *chain = w->f.o->chain;
    bool off = !strcmp(event, "traces_off"), any = ob->untraced_lo <= ob->untraced_hi;
    char id[33], line[5000], source[120], node[600];
    /* in the commands an alert suggests, the operator's own URL */
    const char *cmd_url = alert_url(node_url(w), node, sizeof node) ? "NODE_URL" : node;
    watch_coverage_id(chain, event, ob->untraced_from, id);
    snprintf(source, sizeof source, "watcher (watch %s, --traces-wait %.0f s)", chain,
             traces_wait_s(w));
    if (off)
        snprintf(line, sizeof line,
                 "internal transfers (value moved by contracts) are not seen from block %" PRIu64
                 ": %s failed to trace it past --traces-wait (%s); blocks are followed without "
                 "traces until the node traces again (asked every %.0f s)",
                 ob->untraced_from, node, why, retry_probe_s(w));
    else if (any)
        snprintf(line, sizeof line,
                 "traces are back (%s); blocks %" PRIu64 "..%" PRIu64 " were evaluated without "
                 "them: internal transfers in them were not seen",
                 node, ob->untraced_lo, ob->untraced_hi);
    else
        snprintf(line, sizeof line,
                 "traces are back (%s); no block was evaluated without them (off from block "
                 "%" PRIu64 ")",
                 node, ob->untraced_from);
    json_t *a = json_object();
    json_object_set_new(a, "id", json_string(id));
    json_object_set_new(a, "rule", json_string("watcher"));
    json_object_set_new(a, "kind", json_string("coverage"));
    json_object_set_new(a, "event", json_string(event));
    json_object_set_new(a, "severity", json_string(off ? "high" : "medium"));
    json_object_set_new(a, "chain", json_string(chain));
    json_object_set_new(a, "height", json_integer((json_int_t)ob->untraced_from));
    json_object_set_new(a, "block_hash", json_null());
    json_object_set_new(a, "time", json_integer((json_int_t)time(NULL)));
    json_object_set_new(a, "tx", json_null());
    json_object_set_new(a, "transfer", json_null());
    json_object_set_new(a, "from", json_null());
    json_object_set_new(a, "to", json_null());
    json_object_set_new(a, "addresses", json_array());
    json_object_set_new(a, "asset", json_null());
    json_object_set_new(a, "amount", json_null());
    json_object_set_new(a, "node", json_string(node));
    json_object_set_new(a, "reason", why ? json_string(why) : json_null());
    json_object_set_new(
        a, "blocks",
        json_pack("{s:I,s:o}", "from",
                  (json_int_t)(off || !any ? ob->untraced_from : ob->untraced_lo), "to",
                  off || !any ? json_null() : json_integer((json_int_t)ob->untraced_hi)));
    json_object_set_new(a, "reasons", json_pack("[{s:s,s:s}]", "source", source, "why", line));
    if (off)
        snprintf(line, sizeof line,
                 "Check %s's debug API (debug_traceBlockByNumber: its logs, its load); once it "
                 "traces again this watcher says so (a traces_on alert with the blocks taken "
                 "without traces): then re-run 'coinhound ingest %s %s --db OTHER_DIR --traces "
                 "--from-block N --to-block M' over them and look at their internal transfers.",
                 node, chain, cmd_url);
    else if (any)
        snprintf(line, sizeof line,
                 "Re-check blocks %" PRIu64 "..%" PRIu64 " with their traces: 'coinhound ingest %s "
                 "%s --db OTHER_DIR --traces --from-block %" PRIu64 " --to-block %" PRIu64
                 "', and look at the internal transfers to and from the "
                 "addresses you watch.",
                 ob->untraced_lo, ob->untraced_hi, chain, cmd_url, ob->untraced_lo,
                 ob->untraced_hi);
    else
        snprintf(line, sizeof line, "Nothing to re-check: no block was taken without traces.");
    json_object_set_new(a, "action", json_string(line));
    json_object_set_new(a, "retracted", json_false());
    if (watch_follow_emit(a, &w->f) != 0)
        return ch_err(err, "the alert log cannot be written (a coverage alert)");
    return flush_alerts(w, err);
}

/* Traces came back while blocks were followed without them: said (lead),
 * the traces_on alert, the range closed and saved. */
static int untraced_closed(watcher *w, const char *lead, ch_error *err) {
    watch_outbox *ob = &w->f.ob;
    if (!ob->untraced) return 0;
    untraced_said(w, "info", lead);
    if (coverage_alert(w, "traces_on", NULL, err) != 0) return -1;
    ob->untraced = false;
    return flush_alerts(w, err);
}

/* Ask the node whether it answers debug_traceBlockByNumber (tracing
 * block `latest`) and follow with traces or without accordingly; a line
 * says which when that changes (the first answer always). A passing
 * failure changes nothing (a node not asked before is believed to trace:
 * its blocks wait for their traces, trace_failed). --traces makes a first
 * "no" fatal (-1), as is a coverage alert the log cannot take. 1 when the
 * node did not answer at all (a node failure, logged), else 0. */
static int probe_traces(watcher *w, uint64_t latest, ch_error *fatal) {
    char why[CH_ERROR_MAX] = "";
    ch_error e = {{0}};
    int r = evm_node_probe_traces(w->n, latest, why, sizeof why, &e);
    if (r < 0) {
        node_failed(w, &e);
        return 1;
    }
    bool was_known = w->traces_known, was = w->traces;
    w->probe_due = false;
    if (r == 2) {
        if (!was_known && !was)
            watch_log("info",
                      "traces: on, as far as known: %s failed to trace block %" PRIu64
                      " when asked (%s); blocks wait for their traces",
                      node_url(w), latest, why);
        else if (w->f.ob.untraced)
            watch_log("info",
                      "traces: still off, %s failed to trace block %" PRIu64
                      " (%s); asked again in %.0f s",
                      node_url(w), latest, why, retry_probe_s(w));
        w->traces = was_known ? was : true;
        evm_node_set_traces(w->n, w->traces);
        if (!w->traces)
            w->probe_at = ch_now() + (w->f.ob.untraced ? retry_probe_s(w) : TRACES_REPROBE_S);
        return 0;
    }
    w->traces_known = true;
    w->traces = r == 1;
    w->trace_fail_at = 0;
    evm_node_set_traces(w->n, w->traces);
    if (w->traces) {
        char lead[1400];
        snprintf(lead, sizeof lead,
                 "traces: on%s (%s answers debug_traceBlockByNumber): value moved by "
                 "contracts (internal calls) is seen",
                 w->f.ob.untraced ? " again" : "", node_url(w));
        if (w->f.ob.untraced) return untraced_closed(w, lead, fatal);
        if (!was_known || !was) watch_log("info", "%s", lead);
        return 0;
    }
    w->probe_at = ch_now() + (w->f.ob.untraced ? retry_probe_s(w) : TRACES_REPROBE_S);
    if (w->f.o->traces == CH_WATCH_TRACES_REQUIRE && !was_known)
        return ch_err(fatal,
                      "--traces: %s does not answer debug_traceBlockByNumber (%s): use a node "
                      "with the debug API (geth --http.api eth,debug; erigon, reth and anvil "
                      "offer it), or leave out --traces to follow it without traces",
                      node_url(w), why);
    if (!was_known || was)
        watch_log("warn",
                  "traces: off, %s does not answer debug_traceBlockByNumber (%s): internal "
                  "transfers are not seen (value moved by contracts: contract wallets, mixer "
                  "withdrawals, bridge payouts), only transactions and token transfers; use a "
                  "node with the debug API (geth --http.api eth,debug; erigon, reth and anvil "
                  "offer it), or --no-traces",
                  node_url(w), why);
    return 0;
}

/* The node said, at a fetch of blocks it was to trace, that it does not
 * trace (the method not found, its debug API disabled): the node client
 * fetched them again without traces. Said once; the next blocks come
 * without traces until the node is asked again (TRACES_REPROBE_S, or a
 * reconnect). */
static void traces_dropped(watcher *w) {
    const evm_node_stats *ns = evm_node_get_stats(w->n);
    watch_log("warn",
              "traces: off from block %" PRIu64 ", %s does not trace it (%s): internal "
              "transfers are not seen from there; blocks are followed without traces, the node "
              "asked again in %d minutes or at a reconnect",
              ns->traces_dropped_at, node_url(w), ns->traces_dropped_why, TRACES_REPROBE_S / 60);
    w->traces = false;
    w->trace_fail_at = 0;
    w->probe_at = ch_now() + (w->f.ob.untraced ? retry_probe_s(w) : TRACES_REPROBE_S);
    evm_node_set_traces(w->n, false);
}

/* The node, believed to trace, failed to trace blocks lo..hi, a passing
 * fault (stats.traces_failed: an error answered, a trace that cannot be
 * read, no answer in time, an HTTP error, a truncated body): nothing of
 * them is evaluated or committed without their traces. They are asked
 * again with the watcher's backoff (a reconnect after three failures in a
 * row), each round logged, for traces_wait_s from the first failure. Past
 * that the blocks are followed without traces: a warning names the first,
 * the blocks so taken are counted (untraced_lo..hi, said when traces come
 * back or at a stop), and the node is asked again each retry_probe_s.
 * A new range also gives a traces_off alert (coverage_alert); one still
 * open (from before a restart) keeps its first block and its alert. -1
 * when the alert cannot be logged. */
static int trace_failed(watcher *w, uint64_t lo, uint64_t hi, const ch_error *e, ch_error *fatal) {
    double now = ch_now();
    if (w->trace_fail_at == 0) w->trace_fail_at = now;
    double waited = now - w->trace_fail_at;
    const char *why = without_node(w, e->msg);
    char blocks[64];
    if (lo == hi)
        snprintf(blocks, sizeof blocks, "block %" PRIu64, lo);
    else
        snprintf(blocks, sizeof blocks, "blocks %" PRIu64 "..%" PRIu64, lo, hi);
    if (waited < traces_wait_s(w)) {
        ch_error m;
        ch_err(&m,
               "%s failed to trace %s (%s): not evaluated without traces, waiting for them "
               "(%.0f of %.0f s, then followed without)",
               node_url(w), blocks, why, waited, traces_wait_s(w));
        failed(w, "traces", &m);
        return 0;
    }
    w->traces = false;
    w->trace_fail_at = 0;
    w->probe_at = now + retry_probe_s(w);
    evm_node_set_traces(w->n, false);
    bool fresh = !w->f.ob.untraced;
    if (fresh) {
        w->f.ob.untraced = true;
        w->f.ob.untraced_from = lo;
        w->f.ob.untraced_lo = UINT64_MAX;
        w->f.ob.untraced_hi = 0;
    }
    watch_log("warn",
              "traces: off from block %" PRIu64 ", %s failed to trace it for %.0f s (%s): "
              "internal transfers are not seen from there; blocks are followed without traces "
              "(listed when traces come back), the node asked again every %.0f s%s",
              lo, node_url(w), waited, why, retry_probe_s(w),
              fresh ? "" : " (still the blind spot alerted before the last stop)");
    return fresh ? coverage_alert(w, "traces_off", why, fatal) : 0;
}

/* One cycle: the node's tip, the blocks the store lacks, batch by batch.
 * 0 done (or a node failure, already logged and waited for), -1 fatal. */
static int cycle(watcher *w, double *last_progress, ch_error *fatal) {
    ch_error e = {0};
    const ch_watch_opts *o = w->f.o;
    if (!w->n) {
        /* traces_optional: a block the node fails to trace comes without */
        evm_node_cfg cfg = {.url = node_url(w),
                            .retries = 1,
                            .backoff_ms = 200,
                            .timeout_ms = o->rpc_timeout_ms ? o->rpc_timeout_ms : 30000,
                            .traces = w->traces,
                            .traces_optional = true,
                            .stop = o->stop};
        if (evm_node_open(&cfg, &w->n, &e) != 0) return ch_err(fatal, "%s", e.msg);
        w->probe_due = o->traces != CH_WATCH_TRACES_OFF; /* each connection asks */
    }
    uint64_t latest = 0, from = 0;
    if (evm_node_latest(w->n, &latest, &e) != 0) {
        node_failed(w, &e);
        return 0;
    }
    if (o->traces != CH_WATCH_TRACES_OFF && !w->traces && ch_now() >= w->probe_at)
        w->probe_due = true;
    if (w->probe_due) {
        int r = probe_traces(w, latest, fatal);
        if (r != 0) return r < 0 ? -1 : 0;
    }
    ch_store *s = w->k.s;
    if (ch_store_next_height(s) == 0) {
        from = o->has_from ? o->from_block : 0;
    } else if (evm_node_resume_point(w->n, s, latest, &from, &e) != 0) {
        node_failed(w, &e);
        return 0;
    }
    if (from > latest) {
        node_ok(w);
        wait_head(w, o->poll_ms ? o->poll_ms : 1000);
        return 0;
    }
    unsigned batch = o->batch ? o->batch : 10;
    for (uint64_t lo = from; lo <= latest && !stopping(w);) {
        uint64_t hi = latest - lo < batch - 1 ? latest : lo + batch - 1;
        ch_evm_block *v = NULL;
        size_t count = 0;
        int got = evm_node_fetch(w->n, lo, hi, &v, &count, &e);
        if (w->traces && evm_node_get_stats(w->n)->traces_dropped) traces_dropped(w);
        if (got != 0 && w->traces && evm_node_get_stats(w->n)->traces_failed)
            return trace_failed(w, lo, hi, &e, fatal);
        if (got != 0) {
            node_failed(w, &e);
            return 0;
        }
        if (w->trace_fail_at != 0 && w->traces)
            watch_log("info", "traces: %s traced blocks %" PRIu64 "..%" PRIu64 " after %.0f s",
                      node_url(w), lo, hi, ch_now() - w->trace_fail_at);
        w->trace_fail_at = 0;
        if (w->f.ob.untraced && w->traces) { /* open since before a restart */
            char lead[1400];
            snprintf(lead, sizeof lead,
                     "traces: on again (%s traced blocks %" PRIu64 "..%" PRIu64
                     "): value moved by contracts (internal calls) is seen",
                     node_url(w), lo, hi);
            if (untraced_closed(w, lead, fatal) != 0) {
                ch_evm_blocks_free(v, count);
                return -1;
            }
        }
        if (w->f.ob.untraced && !w->traces) {
            w->f.ob.untraced_lo = lo < w->f.ob.untraced_lo ? lo : w->f.ob.untraced_lo;
            w->f.ob.untraced_hi = hi > w->f.ob.untraced_hi ? hi : w->f.ob.untraced_hi;
        }
        int bad = 0;
        for (size_t i = 0; i < count && !bad; i++)
            bad = evm_sink_put(&w->k, &v[i], 0, &e) < 0;
        ch_evm_blocks_free(v, count);
        if (bad) {
            ch_store_abort(s);
            node_failed(w, &e);
            return 0;
        }
        if (ch_store_commit(s, fatal) != 0 || settle(w, fatal) != 0) return -1;
        node_ok(w);
        double now = ch_now(), every = o->progress_ms ? o->progress_ms / 1e3 : 5;
        if (latest - hi > 0 && now - *last_progress >= every) {
            watch_log("info", "catching up: block %" PRIu64 " of %" PRIu64 " (%.1f%%)", hi, latest,
                      100.0 * (double)(hi - from + 1) / (double)(latest - from + 1));
            *last_progress = now;
            w->progress_shown = true;
        } else if (hi == latest && w->progress_shown) {
            /* the last line: whoever watched the count go up sees it end */
            watch_log("info", "catching up: block %" PRIu64 " of %" PRIu64 " (100.0%%): at the tip",
                      hi, latest);
            w->progress_shown = false;
        }
        lo = hi + 1;
        /* traces off and the node due to be asked again: asked before the
         * next batch (the next cycle), not after the whole catch-up */
        if (o->traces != CH_WATCH_TRACES_OFF && !w->traces && ch_now() >= w->probe_at) break;
    }
    return 0;
}

static bool has_incident(const ch_watch_rules *r) {
    for (size_t i = 0; i < r->n; i++)
        if (r->v[i].kind == CH_WATCH_INCIDENT) return true;
    return false;
}

int ch_watch_run(const ch_watch_opts *o, ch_error *err) {
    watch_steady_malloc();
    watcher w = {.f = {.o = o, .sink_fd = -1, .backoff_ms = WATCH_FIRST_BACKOFF_MS}};
    w.f.ob.fd = -1;
    int rc = -1;
    ch_ingest_opts io = {
        .progress = 0, .wait = o->wait, .on_block = o->on_block, .on_block_ctx = o->on_block_ctx};
    evm_sink_init(&w.k, &io, &w.st);
    if (!strncasecmp(o->rpc_url, "ws://", 5) || !strncasecmp(o->rpc_url, "wss://", 6)) {
        if (!strncasecmp(o->rpc_url, "wss://", 6)) {
            ch_err(err,
                   "%s: wss:// (TLS) is not supported by this version: use ws:// to a node "
                   "on a trusted network, or https:// (polled)",
                   o->rpc_url);
            goto out;
        }
        w.ws_mode = true;
        w.ws_backoff = WATCH_FIRST_BACKOFF_MS;
        snprintf(w.http_url, sizeof w.http_url, "http://%s", o->rpc_url + 5);
    }
    if (watch_follow_open_sink(&w.f, err) != 0) goto out;
    if (evm_sink_open(&w.k, o->db_dir, o->chain, err) != 0) goto out;
    /* a long-running writer of small increments: its index tables taken at
     * a fixed size at once, not doubling as they fill up to the store's
     * default of 2^26 slots each (6 GiB in all) */
    if (ch_store_set_hot_cap(w.k.s, o->index_mem_bytes ? o->index_mem_bytes : CH_WATCH_INDEX_MEM,
                             err) != 0)
        goto out;
    ch_store_merge_in_background(w.k.s); /* its commits never wait for a merge of runs */
    if (ch_watch_rules_need_intel(o->rules) &&
        ch_intel_open(o->db_dir, false, &w.intel, err) != 0) {
        ch_err_prefix(err, "entity, actor and category rules read the attribution store");
        goto out;
    }
    if (!w.intel && has_incident(o->rules) && watch_intel_present(o->db_dir)) {
        /* incidents land where the attribution store says a service is */
        ch_error e2 = {{0}};
        if (ch_intel_open(o->db_dir, false, &w.intel, &e2) != 0)
            watch_log("warn", "incident rules run without the attribution store: %s", e2.msg);
    }
    if (watch_incidents_new(o->rules, w.intel, &w.inc, err) != 0) goto out;
    if (watch_outbox_open(&w.f.ob, o->db_dir, o->chain, err) != 0) goto out;
    if (watch_follow_start(&w.f, w.k.s, err) != 0) goto out;
    if (watch_follow_start_webhook(&w.f, err) != 0) goto out;
    int left = watch_outbox_deliver(&w.f.ob, w.f.sink_fd, err);
    if (left < 0) goto out;
    if (left)
        watch_log("info", "delivered %d alert line%s left by the last run", left,
                  left == 1 ? "" : "s");
    uint32_t next = ch_store_next_height(w.k.s);
    if (next)
        watch_log("info", "watching %s from block %" PRIu64 " (%u rule%s, %u confirmation%s)",
                  o->rpc_url, ch_store_first_number(w.k.s) + next - 1, (unsigned)o->rules->n,
                  o->rules->n == 1 ? "" : "s", o->confirmations ? o->confirmations : 1,
                  o->confirmations > 1 ? "s" : "");
    else
        watch_log("info", "watching %s into an empty store (%u rule%s)", o->rpc_url,
                  (unsigned)o->rules->n, o->rules->n == 1 ? "" : "s");
    if (o->traces == CH_WATCH_TRACES_OFF)
        watch_log("info", "traces: off (--no-traces): internal transfers (value moved by "
                          "contracts) are not seen");
    if (w.f.ob.untraced) {
        /* blocks the last run committed after its last save came without
         * traces too (the range was open) */
        uint64_t tip = next ? ch_store_first_number(w.k.s) + next - 1 : 0;
        watch_outbox *ob = &w.f.ob;
        if (next && tip >= ob->untraced_from) {
            if (ob->untraced_lo > ob->untraced_hi) ob->untraced_lo = ob->untraced_from;
            if (tip > ob->untraced_hi) ob->untraced_hi = tip;
        }
        untraced_said(&w, "warn",
                      "traces: off since before the last stop, no traces_on alert yet (the "
                      "node is asked now)");
    }
    /* blocks the store gained past the cursor while no watcher evaluated
     * them (a kill between a commit and its evaluation, or ingest eth) are
     * evaluated now, not when the node's next block comes */
    if (settle(&w, err) != 0) goto out;
    double last_progress = ch_now();
    while (!stopping(&w)) {
        if (cycle(&w, &last_progress, err) != 0) goto out;
        uint32_t n = ch_store_next_height(w.k.s);
        w.f.beat_note = NULL;
        if (w.f.ob.untraced && w.f.ob.untraced_lo <= w.f.ob.untraced_hi) {
            snprintf(w.untraced_note, sizeof w.untraced_note,
                     "traces off: blocks %" PRIu64 "..%" PRIu64 " evaluated without them",
                     w.f.ob.untraced_lo, w.f.ob.untraced_hi);
            w.f.beat_note = w.untraced_note;
        }
        watch_follow_heartbeat(&w.f, n != 0, n ? ch_store_first_number(w.k.s) + n - 1 : 0,
                               o->rpc_url);
    }
    rc = 0;
out:
    if (w.k.s) {
        uint32_t n = ch_store_next_height(w.k.s);
        if (rc == 0)
            watch_log("info", "stopping: store committed at block %" PRIu64 ", alerts flushed",
                      n ? ch_store_first_number(w.k.s) + n - 1 : 0);
    }
    untraced_said(&w, "warn", "traces: at the stop, still off");
    rc = evm_sink_close(&w.k, rc, err);
    evm_node_close(w.n);
    evm_ws_close(w.ws);
    watch_incidents_free(w.inc);
    ch_intel_close(w.intel);
    watch_follow_close(&w.f);
    return rc;
}
