/* What the two followers (follow.c, EVM; follow_btc.c, Bitcoin) share: the
 * stop flag and naps that see it, the backoff after a failure of the node
 * or folder, the alert sink, and where evaluation resumes on a start. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "coinhound/progress.h"
#include "watch/watch_internal.h"

#define FALLBACK_DEPTH 1024 /* the deepest reorg followed */

bool watch_follow_stopping(const watch_follow *f) {
    return f->o->stop && *f->o->stop;
}

void watch_follow_nap(const watch_follow *f, unsigned ms) {
    while (ms > 0 && !watch_follow_stopping(f)) {
        unsigned step = ms < 50 ? ms : 50;
        struct timespec ts = {0, (long)step * 1000000L};
        nanosleep(&ts, NULL);
        ms -= step;
    }
}

bool watch_follow_failed(watch_follow *f, const char *what, const ch_error *e) {
    unsigned cap = f->o->max_backoff_ms ? f->o->max_backoff_ms : 30000;
    f->failures++;
    watch_log("warn", "%s: %s; retrying in %u ms (failure %u in a row)", what, e->msg,
              f->backoff_ms, f->failures);
    watch_follow_nap(f, f->backoff_ms);
    f->backoff_ms = f->backoff_ms * 2 > cap ? cap : f->backoff_ms * 2;
    return f->failures % 3 == 0;
}

void watch_follow_ok(watch_follow *f, const char *source) {
    if (f->failures) watch_log("info", "%s answers again", source);
    f->failures = 0;
    f->backoff_ms = WATCH_FIRST_BACKOFF_MS;
}

int watch_follow_emit(json_t *alert, void *ctx) {
    watch_follow *f = ctx;
    ch_error e = {0};
    watch_alert_summarize(alert);
    int r = watch_outbox_add(&f->ob, alert, &e);
    if (r < 0) {
        watch_log("error", "%s", e.msg);
        return -1;
    }
    f->alerts_new += (uint64_t)r;
    return 0;
}

watch_block watch_follow_block(watch_follow *f, ch_store *s, ch_intel *intel, const char *chain,
                               ch_error *err) {
    return (watch_block){.s = s,
                         .intel = intel,
                         .rules = f->o->rules,
                         .chain = chain,
                         .height = f->ob.eval_next,
                         .fn = watch_follow_emit,
                         .ctx = f,
                         .err = err};
}

void watch_follow_set_prev(watch_follow *f, ch_store *s) {
    uint32_t h = f->ob.eval_next;
    if (h == 0)
        memset(f->ob.eval_prev, 0, 32);
    else
        memcpy(f->ob.eval_prev, ch_store_block(s, h - 1)->hash, 32);
}

void watch_follow_rewind(watch_follow *f, ch_store *s, uint32_t height) {
    if (f->ob.eval_next > height) {
        f->ob.eval_next = height;
        watch_follow_set_prev(f, s);
    }
}

int watch_follow_start(watch_follow *f, ch_store *s, ch_error *err) {
    uint32_t next = ch_store_next_height(s);
    uint64_t first = ch_store_first_number(s);
    watch_outbox *ob = &f->ob;
    if (!ob->has_eval) {
        ob->eval_next = next;
        watch_follow_set_prev(f, s);
        ob->has_eval = true;
        if (next)
            watch_log("info", "first run on this store: alerts start after block %" PRIu64,
                      first + next - 1);
        return watch_outbox_save(ob, err);
    }
    bool same = ob->eval_next <= next &&
                (ob->eval_next == 0 ||
                 memcmp(ch_store_block(s, ob->eval_next - 1)->hash, ob->eval_prev, 32) == 0);
    /* blocks evaluated before a group commit that a kill lost (or that
     * another writer replaced since): the store still holds the block
     * last committed at the save, and every block below it was evaluated */
    bool lost = !same && ob->has_committed && ob->committed_next <= next &&
                ob->committed_next <= ob->eval_next &&
                (ob->committed_next == 0 || memcmp(ch_store_block(s, ob->committed_next - 1)->hash,
                                                   ob->committed_prev, 32) == 0);
    if (lost) {
        watch_log("info",
                  "blocks from %" PRIu64 " were evaluated but not committed before the last "
                  "stop: they are taken again (alerts already logged are not repeated)",
                  first + ob->committed_next);
        ob->eval_next = ob->committed_next;
        watch_follow_set_prev(f, s);
    } else if (!same) {
        uint32_t h = ob->eval_next < next ? ob->eval_next : next;
        ob->eval_next = h > FALLBACK_DEPTH ? h - FALLBACK_DEPTH : 0;
        watch_follow_set_prev(f, s);
        watch_log("warn",
                  "the store changed below the last evaluated block: evaluating again from block "
                  "%" PRIu64,
                  first + ob->eval_next);
    }
    size_t above = 0;
    int r = watch_outbox_retract_gone(ob, s, lost || f->defers_commit, &above, err);
    if (r < 0) return -1;
    f->recheck = above > 0;
    if (r)
        watch_log("warn", "%d alert%s retracted: their blocks left the chain", r,
                  r == 1 ? "" : "s");
    if (watch_outbox_sync(ob, err) != 0 || watch_outbox_save(ob, err) != 0) return -1;
    watch_follow_prune(f, s, true);
    return 0;
}

void watch_follow_prune(watch_follow *f, ch_store *s, bool now) {
    uint32_t e = f->ob.eval_next;
    if (!now && e - f->pruned_at < WATCH_PRUNE_EVERY && e >= f->pruned_at) return;
    f->pruned_at = e;
    if (e <= WATCH_KEEP_BLOCKS) return;
    watch_outbox_prune(&f->ob, ch_store_first_number(s) + e - WATCH_KEEP_BLOCKS);
}

bool watch_intel_present(const char *db) {
    char p[4200];
    struct stat st;
    snprintf(p, sizeof p, "%s/intel", db);
    return stat(p, &st) == 0;
}

int watch_follow_start_webhook(watch_follow *f, ch_error *err) {
    const ch_watch_opts *o = f->o;
    if (!o->webhook_url) return 0;
    return watch_webhook_start(o->webhook_url, o->webhook_secret, o->webhook_secret_len, &f->ob,
                               o->max_backoff_ms, &f->hook, err);
}

/* The longest torn line cut from the alerts file: an alert line is a few
 * kB; a tail without a newline in this much is not one of ours. */
#define TORN_MAX (1u << 20)

/* A kill during a delivery can leave the alerts file ending in part of a
 * line (a write is cut at a page when the process dies); its cursor did
 * not move, so the whole line is delivered again after it, and the part
 * would glue onto it as one line that is not JSON. Cut it off. */
static int cut_torn_tail(int fd, const char *path, ch_error *err) {
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) return 0;
    size_t want = st.st_size < TORN_MAX ? (size_t)st.st_size : TORN_MAX;
    char *buf = malloc(want);
    if (!buf) return ch_err(err, "out of memory");
    off_t from = st.st_size - (off_t)want;
    ssize_t got = pread(fd, buf, want, from);
    if (got != (ssize_t)want) {
        free(buf);
        return ch_err(err, "%s: cannot read the alerts file's end", path);
    }
    size_t keep = want;
    while (keep > 0 && buf[keep - 1] != '\n')
        keep--;
    free(buf);
    if (keep == want || (keep == 0 && from > 0)) return 0; /* whole, or not a line of ours */
    if (ftruncate(fd, from + (off_t)keep) != 0)
        return ch_err(err, "%s: cannot cut a torn last line: %s", path, strerror(errno));
    watch_log("warn",
              "%s ended in part of a line (%zu bytes, a delivery cut by a kill): cut; the line "
              "is delivered again whole",
              path, want - keep);
    return 0;
}

int watch_follow_open_sink(watch_follow *f, ch_error *err) {
    f->sink_fd = STDOUT_FILENO;
    if (!f->o->alerts_path) return 0;
    f->sink_fd = open(f->o->alerts_path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (f->sink_fd >= 0) return cut_torn_tail(f->sink_fd, f->o->alerts_path, err);
    /* a file this user may write and not read: appended, as it is */
    if (errno == EACCES)
        f->sink_fd = open(f->o->alerts_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (f->sink_fd < 0)
        return ch_err(err, "%s: cannot open the alerts file: %s", f->o->alerts_path,
                      strerror(errno));
    return 0;
}

void watch_follow_close(watch_follow *f) {
    watch_webhook_stop(f->hook, f->o->webhook_grace_ms ? f->o->webhook_grace_ms : 5000);
    f->hook = NULL;
    if (f->ob.fd >= 0) watch_outbox_close(&f->ob);
    if (f->o->alerts_path && f->sink_fd >= 0) close(f->sink_fd);
}

void watch_follow_heartbeat(watch_follow *f, bool any, uint64_t tip, const char *source) {
    const ch_watch_opts *o = f->o;
    if (!o->heartbeat_s && !o->stale_s) return;
    double now = ch_now();
    if (f->beat_at == 0) { /* the first call: the clocks start */
        f->beat_at = f->tip_at = now;
        f->beat_tip = tip;
        f->beat_any = any;
        f->beat_alerts = f->alerts_new;
        return;
    }
    if (any != f->beat_any || tip != f->beat_tip) {
        if (f->stale)
            watch_log("info", "%s: block %" PRIu64 " came after %.0f s without a new block", source,
                      tip, now - f->tip_at);
        f->beat_tip = tip;
        f->beat_any = any;
        f->tip_at = now;
        f->stale = false;
    }
    double quiet = now - f->tip_at;
    if (o->stale_s && !f->stale && quiet >= o->stale_s) {
        f->stale = true;
        watch_log("warn",
                  "%s: no new block for %.0f s (the store at %s%" PRIu64
                  "): is the node synced and connected to its peers? Alerts wait for blocks",
                  source, quiet, any ? "block " : "no block", any ? tip : 0);
    }
    if (o->heartbeat_s && now - f->beat_at >= o->heartbeat_s) {
        uint64_t a = f->alerts_new - f->beat_alerts;
        char failing[64] = "";
        if (f->failures)
            snprintf(failing, sizeof failing, "; failing, %u tries in a row", f->failures);
        watch_log("info",
                  "following %s: at block %" PRIu64 "%s, the last new block %.0f s ago; %" PRIu64
                  " new alert%s in the last %.0f s, %" PRIu64 " since the start%s%s%s",
                  source, any ? tip : 0, any ? "" : " (the store is empty)", quiet, a,
                  a == 1 ? "" : "s", now - f->beat_at, f->alerts_new, failing,
                  f->beat_note ? "; " : "", f->beat_note ? f->beat_note : "");
        f->beat_at = now;
        f->beat_alerts = f->alerts_new;
    }
}
