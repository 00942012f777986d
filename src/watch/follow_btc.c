/* The Bitcoin follower: the store DIR/btc's writer for as long as it runs,
 * fed by Bitcoin Core either through its blocks folder or its JSON-RPC.
 *
 * Blocks folder: inotify on the folder says when a blk file changed (Core
 * appends each block it accepts to its current file, xor.dat obfuscation
 * included); the store's block index (ch_blkidx) then reads only what the
 * files gained, a record Core has not finished writing is left for the
 * next event, and the best chain's new blocks go through ingest's own path
 * (btc_ingest_chain: the fork, a reorg's checks and cut, the appends).
 * Nothing is read between events: no polling of the files.
 *
 * JSON-RPC: getbestblockhash every poll_ms; when it is not the store's tip,
 * getblockhash walks back from the store's tip to the last block both
 * hold, and getblock HASH 0 fetches the blocks from there (a reorg's whole
 * branch, or a batch while catching up), checked whole before the store
 * changes (btc_ingest_raw).
 *
 * After each batch of blocks is added, as the EVM follower does after each
 * commit: retractions for alerts whose block left the chain, the rules on
 * every block that reached the wanted depth, the alert log synced, the
 * cursor saved, the new lines delivered to --alerts and handed to the
 * webhook's thread (webhook.c; outbox.c has the crash-safety argument).
 *
 * Group commit: the rules read the writer's own view of the blocks just
 * added (pending, not yet committed), so a block's alerts are durable
 * before the store commits it, and the commit (a sync of every column)
 * comes after, for several blocks at once: when no new block came for
 * COMMIT_IDLE_MS, when COMMIT_BLOCKS are pending or the oldest has been
 * for COMMIT_MS, before a reorg's cut, and at the stop. Readers (serve,
 * the CLI) see committed states only, so they lag the alerts by at most
 * that. A kill loses the pending blocks, not their alerts: the cursor
 * records the last committed block, a restart resumes after it, the
 * blocks come again from the node or the files, and their alerts, with
 * the same ids, are dropped by the log (follower.c, watch_follow_start).
 * Incident rules too: their traces see the pending blocks (the trace's
 * opts.pending, incident_btc.c), so a block's landing alerts wait for no
 * commit either; a cut or a commit that failed (pending blocks dropped)
 * makes them trace again. A failing node or a folder that cannot be read
 * costs nothing committed: a warning names the cause and the next try
 * waits longer (250 ms doubling to max_backoff_ms). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "coinhound/progress.h"
#include "ingest/btc_branch.h"
#include "ingest/btc_pipe.h"
#include "watch/watch_internal.h"

#define FALLBACK_DEPTH   1024 /* the deepest reorg followed */
#define CATCHUP_BLOCKS   256  /* blocks per commit while catching up from a folder */
#define IDX_SAVE_RECORDS 1024 /* new block index records that make a save due */
#define RPC_BATCH        32   /* blocks fetched per round while catching up */
/* the group commit: the most the store lags the alerts by */
#define COMMIT_BLOCKS  16   /* blocks pending */
#define COMMIT_MS      1000 /* since the oldest pending block was added */
#define COMMIT_IDLE_MS 20   /* no new block for this long: commit now */
/* ... but only within a burst: a block that came this long or more after
 * the one before (a chain's pace) is committed at once, as no other is
 * likely to follow within COMMIT_IDLE_MS, and the wait would only delay
 * the moment readers see it (docs/watch.md, "Queryable") */
#define BURST_MS 500
/* The environment's COINHOUND_WATCH_COMMIT_MS replaces both COMMIT_MS and
 * COMMIT_IDLE_MS: a longer lag for a machine whose syncs are slow, and
 * for the tests, which kill a watcher whose store has not committed the
 * blocks it alerted on. */
#define COMMIT_MS_ENV "COINHOUND_WATCH_COMMIT_MS"
/* The environment's COINHOUND_WATCH_TIMING (any value) logs, for each
 * batch of blocks evaluated, its steps (the timeline, timeline.c), and
 * for each commit the wall and CPU milliseconds of its parts: what
 * bench_watch_btc breaks a block's latency into. */
#define TIMING_ENV "COINHOUND_WATCH_TIMING"

/* The CPU ms of every thread of the process (the store's commit syncs
 * its files from helper threads: their CPU is the commit's too). */
static double process_cpu_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

typedef struct bwatch {
    watch_follow f; /* first: the emit callback's context */
    ch_store *s;
    ch_intel *intel;
    watch_btc_incident *inc; /* the incident rules' traces */
    double last_progress;
    bool progress_shown; /* a progress line since the last at the tip */
    /* the blocks folder */
    ch_blkdir *d;
    ch_blkidx *x;
    btc_keep *keep; /* a block's buffers between cycles (NULL: none kept) */
    int ino;
    char idx_path[4200];
    double idx_saved;
    size_t idx_saved_n; /* records in the index at its last save */
    /* JSON-RPC */
    ch_btc_rpc *r;
    uint64_t mem; /* the store writer's memory bound */
    /* the group commit (above): evaluate before committing; when the
     * oldest pending block was added (0: none pending) */
    bool defer;
    double pending_since;
    unsigned commit_ms, idle_ms; /* COMMIT_MS, COMMIT_IDLE_MS or the environment's */
    bool idle_env;               /* idle_ms is the environment's: always waited */
    double arrived;              /* when the folder last gave new blocks (0: never) */
    bool burst;                  /* and that came within BURST_MS of the one before */
    bool timing;                 /* TIMING_ENV: log each part's time */
    bool deposit;                /* a deposit_exposure rule lists Bitcoin addresses */
    watch_timeline tl;           /* TIMING_ENV: each step of a cycle, and the commit's clocks */
} bwatch;

static const char *source_of(const bwatch *w) {
    return w->f.o->blocks_dir ? w->f.o->blocks_dir : w->f.o->rpc_url;
}

static bool stopping(const bwatch *w) {
    return watch_follow_stopping(&w->f);
}

/* A failure of the node or the folder: logged; the next try waits longer. */
static void failed(bwatch *w, const ch_error *e) {
    bool reconnect = watch_follow_failed(&w->f, w->f.o->blocks_dir ? "blocks folder" : "node", e);
    if (w->r && reconnect) {
        ch_error re;
        watch_log("info", "reconnecting to %s", w->f.o->rpc_url);
        if (ch_btc_rpc_reconnect(w->r, &re) != 0) watch_log("warn", "%s", re.msg);
    }
}

/* A failure of the node's call: a call given up for the stop is none (not
 * logged, no reconnect). */
static void node_failed(bwatch *w, const ch_error *e) {
    if (!stopping(w)) failed(w, e);
}

static void ok(bwatch *w) {
    watch_follow_ok(&w->f, source_of(w));
}

/* Blocks added to the store and not committed yet. */
static uint32_t pending_blocks(const bwatch *w) {
    ch_store_counts c;
    ch_store_get_counts(w->s, &c);
    return ch_store_next_height(w->s) - (uint32_t)c.blocks;
}

/* Commit the pending blocks when force, or when the group commit's bounds
 * say so. A failed commit drops them (logged, waited for like a failure of
 * the node): they are added again, and settle evaluates them again. */
static void commit_due(bwatch *w, bool force) {
    uint32_t n = pending_blocks(w);
    if (!n) {
        w->pending_since = 0;
        return;
    }
    double now = ch_now();
    if (!w->pending_since) w->pending_since = now;
    if (!force && n < COMMIT_BLOCKS && (now - w->pending_since) * 1000 < w->commit_ms) return;
    ch_error e;
    w->pending_since = 0;
    watch_mark t0 = {0};
    double p0 = 0;
    if (w->timing) t0 = watch_timeline_now(&w->tl), p0 = process_cpu_ms();
    if (btc_commit_pending(w->s, &e) != 0) {
        ch_err_prefix(&e, "store commit");
        /* the incidents' traces saw the blocks the failure dropped */
        watch_btc_incidents_reset(w->inc);
        failed(w, &e);
    } else if (w->timing) {
        watch_mark t = watch_timeline_now(&w->tl);
        ch_store_commit_times ct;
        ch_store_last_commit_times(w->s, &ct);
        watch_log("info",
                  "timing: commit of %u block%s %.1f ms (cpu %.1f, all threads %.1f): addresses "
                  "%.1f, columns %.1f, marks %.1f, txids %.1f, index %.1f, syncs %.1f, lmdb %.1f, "
                  "heads %.1f, rest %.1f",
                  n, n == 1 ? "" : "s", t.wall - t0.wall, t.cpu - t0.cpu, process_cpu_ms() - p0,
                  ct.addresses, ct.columns, ct.marks, ct.txids, ct.index, ct.syncs, ct.lmdb,
                  ct.heads, ct.rest);
    }
}

/* After a commit (or a cut): retractions, evaluation up to the wanted
 * depth, the log synced, the cursor saved, delivery. */
static int settle(bwatch *w, uint32_t reorg_height, ch_error *err) {
    watch_outbox *ob = &w->f.ob;
    /* deposit_exposure screens a payment through the committed store (the
     * screening's backward trace reads no pending block): blocks paying a
     * customer address are committed before they are evaluated (a failed
     * commit drops them: evaluated again as they come back, below) */
    if (w->deposit && pending_blocks(w)) {
        int due = watch_deposit_btc_due(w->s, w->f.o->rules, ob->eval_next,
                                        ch_store_next_height(w->s), err);
        if (due < 0) return -1;
        if (due) commit_due(w, true);
    }
    uint32_t next = ch_store_next_height(w->s);
    if (reorg_height != UINT32_MAX) {
        watch_follow_rewind(&w->f, w->s, reorg_height);
        watch_btc_incidents_reset(w->inc); /* the cut took blocks they had traced */
        int r = watch_outbox_retract_gone(ob, w->s, false, NULL, err);
        if (r < 0) return -1;
        w->f.recheck = false;
        watch_log("warn", "reorg: the chain changed from block %u; %d alert%s retracted",
                  reorg_height, r, r == 1 ? "" : "s");
    } else if (ob->eval_next > next) {
        /* evaluated blocks a failed commit or ingest dropped: evaluated
         * again as they come back (their alerts' ids are logged); the
         * incidents' traces had seen them */
        watch_follow_rewind(&w->f, w->s, next);
        watch_btc_incidents_reset(w->inc);
        w->f.recheck = true;
    }
    if (w->f.recheck) { /* alerts above the tip: judged as the store gets their heights */
        size_t above = 0;
        int r = watch_outbox_retract_gone(ob, w->s, true, &above, err);
        if (r < 0) return -1;
        if (r)
            watch_log("warn", "%d alert%s retracted: their blocks left the chain", r,
                      r == 1 ? "" : "s");
        w->f.recheck = above > 0;
    }
    /* the last committed block, with the cursor: where a restart resumes
     * when a kill loses what is pending */
    ch_store_counts c;
    ch_store_get_counts(w->s, &c);
    ob->has_committed = true;
    ob->committed_next = (uint32_t)c.blocks;
    if (c.blocks)
        memcpy(ob->committed_prev, ch_store_block(w->s, (uint32_t)c.blocks - 1)->hash, 32);
    else
        memset(ob->committed_prev, 0, 32);
    unsigned conf = w->f.o->confirmations ? w->f.o->confirmations : 1;
    uint64_t before = w->f.alerts_new;
    uint32_t evaluated = ob->eval_next;
    while ((uint64_t)ob->eval_next + conf <= next) {
        watch_block blk = watch_follow_block(&w->f, w->s, w->intel, "btc", err);
        if (watch_eval_btc_block(&blk) != 0 ||
            watch_btc_incidents_eval(w->inc, w->s, ob->eval_next, watch_follow_emit, &w->f, err) !=
                0 ||
            (w->deposit && watch_deposit_btc_eval(&blk) != 0))
            return ch_err_prefix(err, "block %u", ob->eval_next);
        ob->eval_next++;
        watch_follow_set_prev(&w->f, w->s);
    }
    watch_follow_prune(&w->f, w->s, false);
    if (w->timing) watch_timeline_mark(&w->tl, WATCH_STEP_RULES);
    /* One save of the cursors, not two: delivery copies the new lines to
     * the sink and syncs the log and the sink side by side (one journal
     * commit, not two in turn) before either cursor moves, and saves both
     * when it delivers anything. A kill before the save evaluates the
     * block again (ids the log holds, dropped) and delivers its lines
     * again (at least once). The webhook takes lines once they are
     * durable. (The timeline's "log sync" step is now both syncs, its
     * "delivery" the webhook's hand-over.) */
    uint64_t delivered = ob->delivered;
    if (watch_outbox_deliver(ob, w->f.sink_fd, err) < 0) return -1;
    if (w->timing) watch_timeline_mark(&w->tl, WATCH_STEP_LOG);
    watch_webhook_publish(w->f.hook, ob->size);
    if (w->timing) watch_timeline_mark(&w->tl, WATCH_STEP_DELIVERY);
    if (ob->delivered == delivered && watch_outbox_save(ob, err) != 0) return -1;
    if (w->timing) watch_timeline_mark(&w->tl, WATCH_STEP_CURSOR);
    ch_store_hold_background(w->s, false); /* the alerts are out (folder_cycle holds it) */
    if (w->timing && ob->eval_next > evaluated) {
        /* the steps, once a batch: a catch-up's later batches start at
         * their own start, not at a wake */
        watch_timeline_log(&w->tl, evaluated, ob->eval_next - 1);
        watch_timeline_reset(&w->tl);
    }
    ch_store_trim(w->s); /* past 7/8 of the bound, mapped pages are let go */
    if (w->f.alerts_new > before)
        watch_log("info", "%" PRIu64 " new alert%s up to block %u", w->f.alerts_new - before,
                  w->f.alerts_new - before == 1 ? "" : "s", ob->eval_next - 1);
    return 0;
}

/* A progress line every progress_ms (5 s) while catching up; tip 0:
 * unknown (the three RPC calls do not tell the node's height). done: the
 * store reached the tip; a last line says so if any was logged since the
 * last, so that whoever watched the count go up sees it end. */
static void progress(bwatch *w, uint64_t tip, bool done) {
    double now = ch_now();
    uint32_t next = ch_store_next_height(w->s);
    if (done) {
        if (next && w->progress_shown && tip)
            watch_log("info", "catching up: block %u of %" PRIu64 " (100.0%%): at the tip",
                      next - 1, tip);
        else if (next && w->progress_shown)
            watch_log("info", "catching up: block %u: at the tip", next - 1);
        w->progress_shown = false;
        return;
    }
    double every = w->f.o->progress_ms ? w->f.o->progress_ms / 1e3 : 5;
    if (!next || now - w->last_progress < every) return;
    if (tip && next - 1 < tip)
        watch_log("info", "catching up: block %u of %" PRIu64 " (%.1f%%)", next - 1, tip,
                  100.0 * (double)next / (double)(tip + 1));
    else if (!tip)
        watch_log("info", "catching up: block %u", next - 1);
    else
        return;
    w->progress_shown = true;
    w->last_progress = now;
}

/* --- the blocks folder --- */

static bool store_at(const bwatch *w, const ch_blk_chain *c) {
    uint32_t next = ch_store_next_height(w->s);
    return next == c->n && (next == 0 || !memcmp(ch_store_block(w->s, next - 1)->hash,
                                                 ch_blk_chain_rec(c, next - 1)->hash.b, 32));
}

static void save_index(bwatch *w) {
    ch_error e;
    if (ch_blkidx_save(w->x, w->idx_path, &e) != 0) watch_log("warn", "block index: %s", e.msg);
    w->idx_saved = ch_now();
    w->idx_saved_n = ch_blkidx_count(w->x);
}

/* Read what the folder gained and bring the store to its best chain. 0
 * (failures logged and waited for), -1 fatal (the alert log). */
static int folder_cycle(bwatch *w, ch_error *fatal) {
    ch_error e;
    if (ch_blkidx_update(w->x, w->d, false, &e) < 0) {
        failed(w, &e);
        return 0;
    }
    if (w->timing) watch_timeline_mark(&w->tl, WATCH_STEP_INDEX);
    /* the index keeps its best chain and what of it passed the header
     * rules: a new block costs its own header, not the chain's length */
    const ch_blk_chain *chain;
    if (ch_blkidx_chain(w->x, &chain, &e) != 0 || ch_blkidx_check(w->x, w->d, &e) != 0) {
        failed(w, &e);
        return 0;
    }
    if (w->timing) watch_timeline_mark(&w->tl, WATCH_STEP_CHECKS);
    int rc = 0;
    while (!stopping(w) && !store_at(w, chain)) {
        /* a batch after the wake's first: its steps from here */
        if (w->timing && !w->tl.taken[WATCH_STEP_WAKE])
            watch_timeline_mark(&w->tl, WATCH_STEP_CHECKS);
        ch_ingest_stats st = {.reorg_height = UINT32_MAX};
        ch_ingest_opts io = {.progress = 0,
                             .max_blocks = CATCHUP_BLOCKS,
                             .mem_bytes = w->mem,
                             .defer_commit = w->defer};
        uint32_t before = ch_store_next_height(w->s);
        int irc = btc_ingest_chain_kept(w->s, w->d, chain, &io, w->keep, &st, &e);
        if (w->timing) {
            watch_timeline_mark(&w->tl, WATCH_STEP_ADD);
            w->tl.read_ms = st.read_seconds * 1e3;
        }
        bool moved = st.reorg_height != UINT32_MAX || ch_store_next_height(w->s) != before;
        if (moved && settle(w, st.reorg_height, fatal) != 0) {
            rc = -1;
            goto out;
        }
        if (irc != 0) {
            failed(w, &e);
            goto out;
        }
        ok(w);
        commit_due(w, false);
        progress(w, chain->n - 1, false);
    }
    if (!stopping(w) && store_at(w, chain)) progress(w, chain->n - 1, true);
    /* the index is a cache: kept every 30 s and at the stop, off the path
     * from a block to its alerts, and after IDX_SAVE_RECORDS new records
     * (those since a save are held in memory, the saved ones are read from
     * the file: a catch-up of thousands of blocks in 30 s would otherwise
     * hold all of them) */
    if (ch_now() - w->idx_saved >= 30 || ch_blkidx_count(w->x) - w->idx_saved_n >= IDX_SAVE_RECORDS)
        save_index(w);
out:
    return rc;
}

/* Sleep until the folder changes (or a signal, or timeout_ms, which only
 * lets the stop flag be seen), then drain the events: one cycle reads
 * whatever they announced. true when there were events. */
static bool folder_wait(bwatch *w, int timeout_ms) {
    struct pollfd p = {.fd = w->ino, .events = POLLIN};
    if (w->timing) watch_timeline_reset(&w->tl), watch_timeline_mark(&w->tl, WATCH_STEP_IDLE);
    if (poll(&p, 1, timeout_ms) <= 0) return false;
    if (w->timing) watch_timeline_mark(&w->tl, WATCH_STEP_WAKE);
    char buf[4096];
    while (read(w->ino, buf, sizeof buf) > 0) {
    }
    return true;
}

static int folder_open(bwatch *w, ch_error *err) {
    const ch_watch_opts *o = w->f.o;
    if (btc_index_path(o->db_dir, w->idx_path, sizeof w->idx_path, err) != 0) return -1;
    if (ch_blkdir_open(o->blocks_dir, &w->d, err) != 0) return -1;
    w->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (w->ino < 0) return ch_err(err, "inotify: %s", strerror(errno));
    if (inotify_add_watch(w->ino, o->blocks_dir,
                          IN_MODIFY | IN_CLOSE_WRITE | IN_CREATE | IN_MOVED_TO) < 0)
        return ch_err(err, "%s: inotify: %s", o->blocks_dir, strerror(errno));
    if (ch_blkidx_load(w->idx_path, w->d, &w->x, err) != 0) return -1;
    w->keep = btc_keep_new(); /* without it, each block is read as ingest reads it */
    w->idx_saved_n = ch_blkidx_count(w->x);
    return 0;
}

/* --- JSON-RPC --- */

/* The network of a chain whose genesis block this is: a known genesis, or
 * regtest's easiest bits (a private regtest chain, coinhound-gen's). */
static int network_of(const uint8_t *raw, size_t len, int *net, ch_error *err) {
    static const char *const GENESIS[CH_BTC_NET_COUNT] = {
        "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f",
        "000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943",
        "00000000da84f2bafbbc53dee25a72ae507ff4914b867c565be350b0da8bf043",
        "00000008819873e925422c1ff0f99f7cc9bbb232af63a077a480a3633bee1ef6",
        "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206",
    };
    ch_btc_header h;
    if (ch_btc_parse_header(raw, len, &h, err) != 0) return -1;
    char hex[65];
    ch_hash256_to_hex(&h.hash, hex);
    for (int i = 0; i < CH_BTC_NET_COUNT; i++)
        if (!strcmp(hex, GENESIS[i])) return *net = i, 0;
    if (h.bits == 0x207fffff) return *net = CH_BTC_NET_REGTEST, 0;
    return ch_err(err, "the node's genesis block %s is of no Bitcoin network coinhound knows", hex);
}

/* The first height where the node's best chain and the store differ. 1
 * found, 0 the node failed (logged), -1 no common block within reach. */
static int rpc_fork(bwatch *w, uint32_t *fork, ch_error *e) {
    uint32_t next = ch_store_next_height(w->s);
    for (uint32_t k = next; k > 0; k--) {
        if (next - k >= FALLBACK_DEPTH) {
            ch_err(e, "no block in common with the node within %u blocks of the store's tip",
                   FALLBACK_DEPTH);
            return 0;
        }
        ch_hash256 h;
        int rc = ch_btc_rpc_block_hash(w->r, k - 1, &h, e);
        if (rc < 0) return 0;
        if (rc == 1 && !memcmp(h.b, ch_store_block(w->s, k - 1)->hash, 32)) {
            *fork = k;
            return 1;
        }
    }
    *fork = 0;
    return 1;
}

static void free_blocks(btc_raw_block *v, size_t n) {
    for (size_t i = 0; i < n; i++)
        free(v[i].p);
}

/* One round against the node: its best block; if not the store's tip,
 * the fork point, the blocks from there (a reorg's whole branch), checked
 * and appended, then settled. 0 (node failures logged and waited for), -1
 * fatal. */
static int rpc_cycle(bwatch *w, ch_error *fatal) {
    ch_error e;
    const ch_watch_opts *o = w->f.o;
    if (!w->r) {
        ch_btc_rpc_cfg cfg = {.url = o->rpc_url,
                              .cookie_path = o->rpc_cookie,
                              .user = o->rpc_user,
                              .password = o->rpc_password,
                              .timeout_ms = o->rpc_timeout_ms,
                              .stop = o->stop};
        if (ch_btc_rpc_open(&cfg, &w->r, &e) != 0) {
            failed(w, &e);
            return 0;
        }
    }
    ch_hash256 best;
    if (ch_btc_rpc_best_hash(w->r, &best, &e) != 0) {
        node_failed(w, &e);
        return 0;
    }
    uint32_t next = ch_store_next_height(w->s), fork = 0;
    if (next && !memcmp(ch_store_block(w->s, next - 1)->hash, best.b, 32)) {
        ok(w);
        commit_due(w, true); /* at the node's tip: no block is coming now */
        watch_follow_nap(&w->f, o->poll_ms ? o->poll_ms : 1000);
        return 0;
    }
    if (rpc_fork(w, &fork, &e) != 1) {
        node_failed(w, &e);
        return 0;
    }
    /* a reorg's branch is fetched whole (it must pass the old tip's work) */
    size_t want = (size_t)(next - fork) + RPC_BATCH, n = 0;
    btc_raw_block *v = calloc(want, sizeof *v);
    if (!v) return ch_err(fatal, "out of memory");
    bool at_tip = false;
    for (uint32_t h = fork; n < want && !stopping(w); h++) {
        ch_hash256 hash;
        int rc = ch_btc_rpc_block_hash(w->r, h, &hash, &e);
        if (rc == 0) {
            at_tip = true;
            break;
        }
        if (rc < 0 || ch_btc_rpc_block(w->r, &hash, &v[n].p, &v[n].len, &e) != 0) {
            if (stopping(w)) break; /* given up for the stop: the blocks in hand go in */
            free_blocks(v, n);
            free(v);
            failed(w, &e);
            return 0;
        }
        n++;
        if (!memcmp(hash.b, best.b, 32)) {
            at_tip = true;
            break;
        }
    }
    int net = ch_store_network(w->s), rc = 0;
    ch_ingest_stats st = {.reorg_height = UINT32_MAX};
    if (n && next == 0 && network_of(v[0].p, v[0].len, &net, &e) != 0) {
        failed(w, &e);
    } else if (n) {
        /* the node's blocks: their steps from the ingest's start */
        if (w->timing) watch_timeline_reset(&w->tl), watch_timeline_mark(&w->tl, WATCH_STEP_CHECKS);
        int irc = w->defer ? btc_ingest_raw_deferred(w->s, net, fork, v, n, &st, &e)
                           : btc_ingest_raw(w->s, net, fork, v, n, &st, &e);
        if (w->timing) {
            watch_timeline_mark(&w->tl, WATCH_STEP_ADD);
            w->tl.read_ms = st.read_seconds * 1e3;
        }
        if (settle(w, st.reorg_height, fatal) != 0)
            rc = -1;
        else if (irc != 0)
            failed(w, &e);
        else
            ok(w), commit_due(w, false);
    }
    free_blocks(v, n);
    free(v);
    if (rc == 0 && at_tip && n == 0) watch_follow_nap(&w->f, o->poll_ms ? o->poll_ms : 1000);
    if (rc == 0 && n && !at_tip) progress(w, 0, false);
    if (rc == 0 && at_tip) progress(w, 0, true);
    return rc;
}

/* Rules a Bitcoin watcher cannot follow are refused (never a rule that
 * silently watches nothing); rules for the other chain only (an EVM
 * address list, asset ETH or a token) are named in a warning. */
static int check_rules(const ch_watch_rules *r, ch_error *err) {
    for (size_t i = 0; i < r->n; i++) {
        const ch_watch_rule *w = &r->v[i];
        switch (w->kind) {
        case CH_WATCH_ADDRESS:
        case CH_WATCH_DEPOSIT: /* its Bitcoin customer addresses (deposit_btc.c) */
            if (!w->n_btc_addrs)
                watch_log("warn",
                          "%s line %u: rule %s lists no Bitcoin address: it matches nothing "
                          "here",
                          r->source, w->line, w->name);
            break;
        case CH_WATCH_LARGE:
            if (!w->btc)
                watch_log("warn", "%s line %u: rule %s is for asset %s: it matches nothing here",
                          r->source, w->line, w->name, w->asset_text);
            break;
        case CH_WATCH_ENTITY:
        case CH_WATCH_ACTOR:
        case CH_WATCH_CATEGORY:
        case CH_WATCH_INCIDENT: /* its Bitcoin sources (watch_btc_incidents_new) */
            break;
        default:
            return ch_err(err,
                          "%s: line %u: rule %s is of kind %s, which watch btc does not follow yet "
                          "(watch eth does)",
                          r->source, w->line, w->name, ch_watch_rule_kind_name(w->kind));
        }
    }
    return 0;
}

int ch_watch_run_btc(const ch_watch_opts *o, ch_error *err) {
    watch_steady_malloc();
    bwatch w = {.f = {.o = o, .sink_fd = -1, .backoff_ms = WATCH_FIRST_BACKOFF_MS}, .ino = -1};
    w.f.ob.fd = -1;
    int rc = -1;
    if (!o->blocks_dir == !o->rpc_url) {
        ch_err(err, "watch btc follows either a blocks folder or a node's JSON-RPC (one of them)");
        goto out;
    }
    if (check_rules(o->rules, err) != 0) goto out;
    if (watch_follow_open_sink(&w.f, err) != 0) goto out;
    if (ch_store_open(o->db_dir, "btc", CH_STORE_WRITE | (o->wait ? CH_STORE_WAIT : 0), &w.s,
                      err) != 0)
        goto out;
    w.mem = o->mem_bytes ? o->mem_bytes : ch_ingest_default_mem();
    ch_store_set_mem(w.s, w.mem);
    /* a long-running writer of small increments: its index tables stay at
     * a fixed size, not at 2/5 of a --mem of gigabytes */
    if (ch_store_set_hot_cap(w.s, o->index_mem_bytes ? o->index_mem_bytes : CH_WATCH_INDEX_MEM,
                             err) != 0)
        goto out;
    /* its commits never wait for a merge of the index's runs */
    ch_store_merge_in_background(w.s);
    /* a block's index lookups on both cores, before its adds (resolve.c) */
    ch_store_resolve_in_parallel(w.s);
    /* its commits' in-place writes a page each (docs/store.md) */
    double t_small = ch_now();
    if (ch_store_keep_small_pages(w.s, err) != 0) goto out;
    watch_log("info", "the store's in-place files held in 4 KiB pages (%.1f s)",
              ch_now() - t_small);
    /* its first blocks' look-ups then find the store's cached pages
     * mapped, not a fault each (a quarter of the memory bound at most: the
     * trim's threshold, 7/8 of it, counts mapped pages with the rest) */
    double t_warm = ch_now();
    uint64_t warm = ch_store_warm_maps(w.s, w.mem / 4);
    watch_log("info", "the store's cached pages mapped: %.0f MB (%.1f s)", (double)warm / 1e6,
              ch_now() - t_warm);
    if (o->blocks_dir && folder_open(&w, err) != 0) goto out;
    if (ch_watch_rules_need_intel(o->rules) &&
        ch_intel_open(o->db_dir, false, &w.intel, err) != 0) {
        ch_err_prefix(err, "entity, actor and category rules read the attribution store");
        goto out;
    }
    if (watch_btc_incidents_new(o->rules, NULL, &w.inc, err) != 0) goto out;
    if (!w.intel && w.inc && watch_intel_present(o->db_dir)) {
        /* incidents land where the attribution store says a service is */
        ch_error e2 = {{0}};
        if (ch_intel_open(o->db_dir, false, &w.intel, &e2) != 0)
            watch_log("warn", "incident rules run without the attribution store: %s", e2.msg);
    }
    watch_btc_incidents_set_intel(w.inc, w.intel);
    w.defer = true; /* incidents trace the pending blocks too (opts.pending) */
    w.f.defers_commit = true;
    w.commit_ms = COMMIT_MS;
    const char *cm = getenv(COMMIT_MS_ENV);
    if (cm && *cm) {
        char *end;
        unsigned long v = strtoul(cm, &end, 10);
        if (*end || v == 0 || v > 86400000) {
            ch_err(err, "%s=%s: a number of milliseconds (1 to 86400000) is wanted", COMMIT_MS_ENV,
                   cm);
            goto out;
        }
        w.commit_ms = (unsigned)v;
    }
    w.idle_ms = cm && *cm ? w.commit_ms : COMMIT_IDLE_MS;
    w.idle_env = cm && *cm;
    w.timing = getenv(TIMING_ENV) != NULL;
    for (size_t i = 0; i < o->rules->n; i++)
        w.deposit |= o->rules->v[i].kind == CH_WATCH_DEPOSIT && o->rules->v[i].n_btc_addrs;
    if (w.timing) watch_timeline_init(&w.tl);
    if (watch_outbox_open(&w.f.ob, o->db_dir, "btc", err) != 0) goto out;
    if (watch_follow_start(&w.f, w.s, err) != 0) goto out;
    if (watch_follow_start_webhook(&w.f, err) != 0) goto out;
    int left = watch_outbox_deliver(&w.f.ob, w.f.sink_fd, err);
    if (left < 0) goto out;
    if (left)
        watch_log("info", "delivered %d alert line%s left by the last run", left,
                  left == 1 ? "" : "s");
    uint32_t next = ch_store_next_height(w.s);
    char at[32] = "the store empty";
    if (next) snprintf(at, sizeof at, "store at block %u", next - 1);
    watch_log("info", "watching %s %s (%s, %u rule%s, %u confirmation%s)",
              o->blocks_dir ? "the blocks folder" : "the node", source_of(&w), at,
              (unsigned)o->rules->n, o->rules->n == 1 ? "" : "s",
              o->confirmations ? o->confirmations : 1, o->confirmations > 1 ? "s" : "");
    /* blocks the store gained past the cursor while no watcher evaluated
     * them (a kill between a commit and its evaluation, or ingest btc) are
     * evaluated now, not when the next block comes */
    if (settle(&w, UINT32_MAX, err) != 0) goto out;
    /* the incidents' traces of the store, before the next block comes */
    if (watch_btc_incidents_ready(w.inc, w.s, w.f.ob.eval_next, err) != 0) goto out;
    w.last_progress = ch_now();
    bool changed = true;
    while (!stopping(&w)) {
        if (o->blocks_dir) {
            /* the files are read only when inotify says they changed (or
             * to retry a failure) */
            uint32_t before = ch_store_next_height(w.s);
            /* from the wake to the alerts, a background merge's writes
             * wait (the alerts' syncs would queue behind them) */
            ch_store_hold_background(w.s, true);
            int cycle = changed || w.f.failures ? folder_cycle(&w, err) : 0;
            ch_store_hold_background(w.s, false);
            if (cycle != 0) goto out;
            if (ch_store_next_height(w.s) != before) {
                double t = ch_now();
                w.burst = w.arrived && (t - w.arrived) * 1000 < BURST_MS;
                w.arrived = t;
            }
            commit_due(&w, false);
            /* pending blocks: within a burst a short wait, then their commit
             * if nothing came; at a chain's pace only what already came */
            bool pending = w.pending_since != 0;
            int wait = !pending ? 1000 : w.burst || w.idle_env ? (int)w.idle_ms : 0;
            changed = !stopping(&w) && folder_wait(&w, wait);
            if (!changed && pending) commit_due(&w, true);
        } else if (rpc_cycle(&w, err) != 0) {
            goto out;
        }
        uint32_t n = ch_store_next_height(w.s);
        watch_follow_heartbeat(&w.f, n != 0, n ? n - 1 : 0, source_of(&w));
    }
    rc = 0;
out:
    if (w.s) { /* the pending blocks (their alerts are logged) */
        ch_error ce;
        if (btc_commit_pending(w.s, &ce) != 0) {
            watch_log("error", "store commit at the stop: %s", ce.msg);
            if (rc == 0) *err = ce, rc = -1;
        }
    }
    if (w.s && rc == 0)
        watch_log("info", "stopping: store committed at block %u, alerts flushed",
                  ch_store_next_height(w.s) ? ch_store_next_height(w.s) - 1 : 0);
    if (w.x) save_index(&w);
    ch_store_close(w.s);
    ch_btc_rpc_close(w.r);
    ch_blkidx_free(w.x);
    btc_keep_free(w.keep);
    ch_blkdir_close(w.d);
    if (w.ino >= 0) close(w.ino);
    if (w.timing) watch_timeline_close(&w.tl);
    watch_btc_incidents_free(w.inc);
    ch_intel_close(w.intel);
    watch_follow_close(&w.f);
    return rc;
}
