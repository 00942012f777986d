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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "chains/eth/node.h"
#include "coinhound/progress.h"
#include "ingest/evm_ingest.h"
#include "watch/watch_internal.h"

#define FALLBACK_DEPTH 1024

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
    const ch_watch_opts *o;
    evm_sink k;
    ch_ingest_stats st;
    ch_intel *intel;
    watch_incident *inc; /* the incident rules' traces */
    watch_outbox ob;
    watch_webhook *hook;
    int sink_fd;
    evm_node *n;
    unsigned backoff_ms, failures;
    uint64_t alerts_new;
} watcher;

static bool stopping(const watcher *w) {
    return w->o->stop && *w->o->stop;
}

static void nap(const watcher *w, unsigned ms) {
    while (ms > 0 && !stopping(w)) {
        unsigned step = ms < 50 ? ms : 50;
        struct timespec ts = {0, (long)step * 1000000L};
        nanosleep(&ts, NULL);
        ms -= step;
    }
}

static void node_failed(watcher *w, const ch_error *e) {
    unsigned cap = w->o->max_backoff_ms ? w->o->max_backoff_ms : 30000;
    w->failures++;
    watch_log("warn", "node: %s; retrying in %u ms (failure %u in a row)", e->msg, w->backoff_ms,
              w->failures);
    nap(w, w->backoff_ms);
    w->backoff_ms = w->backoff_ms * 2 > cap ? cap : w->backoff_ms * 2;
    if (w->failures % 3 == 0 && w->n) {
        watch_log("info", "reconnecting to %s", w->o->rpc_url);
        evm_node_close(w->n);
        w->n = NULL;
    }
}

static void node_ok(watcher *w) {
    if (w->failures) watch_log("info", "node %s answers again", w->o->rpc_url);
    w->failures = 0;
    w->backoff_ms = 250;
}

static int emit(json_t *alert, void *ctx) {
    watcher *w = ctx;
    ch_error e = {0};
    watch_alert_summarize(alert);
    int r = watch_outbox_add(&w->ob, alert, &e);
    if (r < 0) {
        watch_log("error", "%s", e.msg);
        return -1;
    }
    w->alerts_new += (uint64_t)r;
    return 0;
}

static void set_prev(watcher *w) {
    uint32_t h = w->ob.eval_next;
    if (h == 0)
        memset(w->ob.eval_prev, 0, 32);
    else
        memcpy(w->ob.eval_prev, ch_store_block(w->k.s, h - 1)->hash, 32);
}

/* After a commit: retractions, evaluation up to the wanted depth, the log
 * synced, the cursor saved, delivery. */
static int settle(watcher *w, ch_error *err) {
    ch_store *s = w->k.s;
    uint64_t first = ch_store_first_number(s);
    if (w->st.reorg_height != UINT32_MAX) {
        uint64_t num = w->st.reorg_height;
        uint32_t h = num > first ? (uint32_t)(num - first) : 0;
        if (w->ob.eval_next > h) {
            w->ob.eval_next = h;
            set_prev(w);
        }
        w->st.reorg_height = UINT32_MAX;
        watch_incidents_reset(w->inc); /* the cut took blocks they had traced */
        int r = watch_outbox_retract_gone(&w->ob, s, err);
        if (r < 0) return -1;
        watch_log("warn", "reorg: the chain changed from block %" PRIu64 "; %d alert%s retracted",
                  num, r, r == 1 ? "" : "s");
    }
    unsigned conf = w->o->confirmations ? w->o->confirmations : 1;
    uint32_t next = ch_store_next_height(s);
    uint64_t before = w->alerts_new;
    while ((uint64_t)w->ob.eval_next + conf <= next) {
        if (watch_eval_block(s, w->intel, w->o->rules, w->o->chain, w->ob.eval_next, emit, w,
                             err) != 0 ||
            watch_incidents_eval(w->inc, s, w->o->chain, w->ob.eval_next, emit, w, err) != 0)
            return ch_err_prefix(err, "block %" PRIu64, first + w->ob.eval_next);
        w->ob.eval_next++;
        set_prev(w);
    }
    if (watch_outbox_sync(&w->ob, err) != 0 || watch_outbox_save(&w->ob, err) != 0) return -1;
    watch_webhook_publish(w->hook, w->ob.size);
    if (w->alerts_new > before)
        watch_log("info", "%" PRIu64 " new alert%s up to block %" PRIu64, w->alerts_new - before,
                  w->alerts_new - before == 1 ? "" : "s", first + w->ob.eval_next - 1);
    return watch_outbox_deliver(&w->ob, w->sink_fd, err) < 0 ? -1 : 0;
}

/* Where evaluation resumes: the saved cursor when the store still holds the
 * block it ended on; after a reorg this watcher did not see (another writer,
 * or a kill between the cut and the cursor), FALLBACK_DEPTH blocks further
 * back: the alerts found again carry ids the log holds and are dropped. */
static int start_cursor(watcher *w, ch_error *err) {
    ch_store *s = w->k.s;
    uint32_t next = ch_store_next_height(s);
    watch_outbox *ob = &w->ob;
    if (!ob->has_eval) {
        ob->eval_next = next;
        set_prev(w);
        ob->has_eval = true;
        if (next)
            watch_log("info", "first run on this store: alerts start after block %" PRIu64,
                      ch_store_first_number(s) + next - 1);
        return watch_outbox_save(ob, err);
    }
    bool same = ob->eval_next <= next &&
                (ob->eval_next == 0 ||
                 memcmp(ch_store_block(s, ob->eval_next - 1)->hash, ob->eval_prev, 32) == 0);
    if (!same) {
        uint32_t h = ob->eval_next < next ? ob->eval_next : next;
        ob->eval_next = h > FALLBACK_DEPTH ? h - FALLBACK_DEPTH : 0;
        set_prev(w);
        watch_log("warn",
                  "the store changed below the last evaluated block: evaluating again from block "
                  "%" PRIu64,
                  ch_store_first_number(s) + ob->eval_next);
    }
    int r = watch_outbox_retract_gone(ob, s, err);
    if (r < 0) return -1;
    if (r)
        watch_log("warn", "%d alert%s retracted: their blocks left the chain", r,
                  r == 1 ? "" : "s");
    if (watch_outbox_sync(ob, err) != 0 || watch_outbox_save(ob, err) != 0) return -1;
    return 0;
}

/* One cycle: the node's tip, the blocks the store lacks, batch by batch.
 * 0 done (or a node failure, already logged and waited for), -1 fatal. */
static int cycle(watcher *w, double *last_progress, ch_error *fatal) {
    ch_error e = {0};
    const ch_watch_opts *o = w->o;
    if (!w->n) {
        evm_node_cfg cfg = {
            .url = o->rpc_url, .retries = 1, .backoff_ms = 200, .timeout_ms = 30000};
        if (evm_node_open(&cfg, &w->n, &e) != 0) return ch_err(fatal, "%s", e.msg);
    }
    uint64_t latest = 0, from = 0;
    if (evm_node_latest(w->n, &latest, &e) != 0) {
        node_failed(w, &e);
        return 0;
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
        nap(w, o->poll_ms ? o->poll_ms : 1000);
        return 0;
    }
    unsigned batch = o->batch ? o->batch : 10;
    for (uint64_t lo = from; lo <= latest && !stopping(w);) {
        uint64_t hi = latest - lo < batch - 1 ? latest : lo + batch - 1;
        ch_evm_block *v = NULL;
        size_t count = 0;
        if (evm_node_fetch(w->n, lo, hi, &v, &count, &e) != 0) {
            node_failed(w, &e);
            return 0;
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
        double now = ch_now();
        if (latest - hi > 0 && now - *last_progress >= 5) {
            watch_log("info", "catching up: block %" PRIu64 " of %" PRIu64 " (%.1f%%)", hi, latest,
                      100.0 * (double)(hi - from + 1) / (double)(latest - from + 1));
            *last_progress = now;
        }
        lo = hi + 1;
    }
    return 0;
}

static bool has_incident(const ch_watch_rules *r) {
    for (size_t i = 0; i < r->n; i++)
        if (r->v[i].kind == CH_WATCH_INCIDENT) return true;
    return false;
}

static bool intel_present(const char *db) {
    char p[4200];
    struct stat st;
    snprintf(p, sizeof p, "%s/intel", db);
    return stat(p, &st) == 0;
}

int ch_watch_run(const ch_watch_opts *o, ch_error *err) {
    watcher w = {.o = o, .sink_fd = STDOUT_FILENO, .backoff_ms = 250};
    w.ob.fd = -1;
    int rc = -1;
    ch_ingest_opts io = {
        .progress = 0, .wait = o->wait, .on_block = o->on_block, .on_block_ctx = o->on_block_ctx};
    evm_sink_init(&w.k, &io, &w.st);
    if (o->alerts_path) {
        w.sink_fd = open(o->alerts_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (w.sink_fd < 0) {
            ch_err(err, "%s: cannot open the alerts file: %s", o->alerts_path, strerror(errno));
            goto out;
        }
    }
    if (evm_sink_open(&w.k, o->db_dir, o->chain, err) != 0) goto out;
    if (ch_watch_rules_need_intel(o->rules) &&
        ch_intel_open(o->db_dir, false, &w.intel, err) != 0) {
        ch_err_prefix(err, "entity, actor and category rules read the attribution store");
        goto out;
    }
    if (!w.intel && has_incident(o->rules) && intel_present(o->db_dir)) {
        /* incidents land where the attribution store says a service is */
        ch_error e2 = {{0}};
        if (ch_intel_open(o->db_dir, false, &w.intel, &e2) != 0)
            watch_log("warn", "incident rules run without the attribution store: %s", e2.msg);
    }
    if (watch_incidents_new(o->rules, w.intel, &w.inc, err) != 0) goto out;
    if (watch_outbox_open(&w.ob, o->db_dir, o->chain, err) != 0) goto out;
    if (start_cursor(&w, err) != 0) goto out;
    if (o->webhook_url &&
        watch_webhook_start(o->webhook_url, o->webhook_secret, o->webhook_secret_len, &w.ob,
                            o->max_backoff_ms, &w.hook, err) != 0)
        goto out;
    int left = watch_outbox_deliver(&w.ob, w.sink_fd, err);
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
    double last_progress = ch_now();
    while (!stopping(&w))
        if (cycle(&w, &last_progress, err) != 0) goto out;
    rc = 0;
out:
    if (w.k.s) {
        uint32_t n = ch_store_next_height(w.k.s);
        if (rc == 0)
            watch_log("info", "stopping: store committed at block %" PRIu64 ", alerts flushed",
                      n ? ch_store_first_number(w.k.s) + n - 1 : 0);
    }
    watch_webhook_stop(w.hook, o->webhook_grace_ms ? o->webhook_grace_ms : 5000);
    rc = evm_sink_close(&w.k, rc, err);
    evm_node_close(w.n);
    watch_incidents_free(w.inc);
    ch_intel_close(w.intel);
    if (w.ob.fd >= 0) watch_outbox_close(&w.ob);
    if (o->alerts_path && w.sink_fd >= 0) close(w.sink_fd);
    return rc;
}
