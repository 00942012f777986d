/* bench_watch_btc: how long a new Bitcoin block takes to become alerts, and
 * whether the watcher's memory stays flat (not a test: it prints figures).
 *
 *   bench_watch_btc --work DIR [--txs N] [--tpb N] [--blocks K] [--ingest-blocks M]
 *                   [--small-blocks S] [--gap-ms G] [--warm 1] [--chain FULL --db STORE]
 *                   [--incident H [--incident-policy P] [--incident-min SAT]]
 *
 * 1. Latency. coinhound-gen writes a chain of N transactions in blocks of
 *    --tpb (default 10,000,000 and 3,000) plus 3 (K + M) spare blocks into
 *    DIR/full. DIR/blocks gets the same files cut after the first part,
 *    which `coinhound ingest btc` puts into DIR/db (both kept: a later run
 *    on the same DIR goes on from the store's tip with the next spare
 *    blocks). `coinhound watch btc
 *    --blocks DIR/blocks` then runs with an address rule (an exchange's hot
 *    wallet) and a large_transfer rule (10 BTC), and the K blocks are
 *    appended one at a time, each record in one write as Core writes it:
 *    the time from the write to the watcher's cursor file saying the block
 *    was evaluated and its alerts delivered (its alerts file synced) is the
 *    latency, p50 and p99. Then the watcher is stopped and M more blocks
 *    (default 20) are each appended and taken by `coinhound ingest btc`
 *    alone (a whole run: process, block index, header rules, store), timed
 *    from the write to the run's end: a new block queryable by a run.
 * 2. Memory. With --small-blocks S (default 0: skipped), a chain of S + 200
 *    blocks of 5 transactions: the watcher follows the first 200, then S
 *    blocks are appended one at a time, each waited for, and the watcher's
 *    VmRSS is printed every S/10 blocks; then its anonymous RSS (its own
 *    memory, not the store's mapped file pages) at blocks 1,000, 2,000,
 *    5,000, 10,000, 20,000, ... and the growth from block 1,000 to the
 *    last in bytes a block.
 *
 * --incident H adds an incident rule (the alerts that matter most: a
 * landing is tainted funds reaching an exchange): a theft whose source is
 * the coinbase of block H of the generated chain (its reward: 50 BTC in an
 * early block), traced with --incident-policy P (default haircut, or
 * poison, fifo, lifo) and the rule's min --incident-min SAT (default
 * 10000: taint below 0.0001 BTC an output is dropped, as an analyst would
 * set it; 0 follows every satoshi), landing where the chain's labels.csv
 * (imported once into DIR/db's attribution store) says an exchange is. Its
 * taint spreads through the chain's traffic from H on (from block 110 of
 * the 10.5M-tx chain, haircut at 10000 satoshi: some 7,500 txs by the
 * store's tip, 485 exchange addresses landed on), so blocks of the timed run carry tainted
 * value (the bench prints how many alerts of each event and how many
 * blocks had one); the watcher builds the trace at its start (a full
 * trace over the store, logged), then carries it block by block on the
 * pending view. 0 (default): no incident rule.
 *
 * --chain FULL --db STORE: the same latency run on a store built
 *    elsewhere (say, a 64M-tx one) and the blocks folder FULL it was built
 *    from and goes past it: nothing is generated or ingested. STORE's tip
 *    must be a block of FULL's best chain; DIR/blocks gets FULL's blk files
 *    up to that block by symbolic link (the file holding the tip copied and
 *    cut after it), and the K + M blocks past the tip are appended from
 *    FULL one at a time as above. The watcher and the ingest runs append to
 *    STORE: each run goes on from its new tip with the next blocks.
 *
 * --gap-ms G (default 0) waits G ms after each block's alerts before the
 * next block is appended: blocks at a chain's pace (Bitcoin's are ten
 * minutes apart), where the watcher's group commit of the store falls
 * between blocks; with 0 they come back to back, as while catching up,
 * and every block that reaches the commit's bound pays for it.
 *
 * --warm 1 reads every file of the store (as cat does) once the watcher
 * has started, before the first timed block: a warm run, whatever the
 * watcher's start read (it prints how long that took).
 *
 * BENCH_WATCH_MEM=SIZE passes --mem SIZE to the watcher (at least 256M),
 * BENCH_WATCH_INDEX_MEM=SIZE --index-mem SIZE (at least 1M).
 *
 * The watcher runs with COINHOUND_WATCH_TIMING=1: the parts of each
 * block's time (read and add, rules, log + delivery + cursor, summed from
 * its steps line, and each commit; wall and its thread's CPU) are printed
 * as p50/p99, with its major faults a block. Its "steps" lines give every
 * step of a block from the write to the cursor, which the bench lines up with its own
 * clock (both CLOCK_MONOTONIC): notice (the write to the watcher's wake;
 * "busy": how long after the write it was still at something else, a
 * commit or the block index's save, before it slept), index (the block
 * index reads what the files gained), checks (its best chain, the header
 * rules), read (the block read and parsed; its witness check runs beside
 * the adds; add includes the block's look-ups resolved ahead on both
 * cores), add, rules, log sync (since session 12 the alert log's and the
 * alerts file's syncs side by side, after the copy), delivery (the
 * webhook's hand-over), cursor, and the tail (the cursor's write to the
 * bench seeing it). Each as wall p50/p99, the
 * watcher thread's CPU p50/p99 and its run-queue wait p99 (schedstat:
 * the time it waited for a core other processes held); then the five
 * slowest blocks step by step, with their place in the run (the first
 * blocks after a start were the slow ones before the store's pages were
 * mapped at the start: docs/watch.md, "Latency").
 *
 * With --gap-ms G above 0, a reader beside the watcher (ch_store_open
 * read-only, ch_store_refresh on each change in the index folder, as a
 * long-lived reader refreshes between requests) also times each block from
 * its write to the refresh that first sees it committed: "queryable".
 *
 * Both cores are shared with whatever else runs: the figures say so. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "coinhound/btc.h"
#include "coinhound/store.h"

static const char *bin_dir = "build";
static unsigned gap_ms;                         /* --gap-ms */
static unsigned warm;                           /* --warm */
static unsigned incident_h;                     /* --incident: the source's block, 0 none */
static const char *incident_policy = "haircut"; /* --incident-policy */
static const char *incident_min = "10000";      /* --incident-min */

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what) {
    fprintf(stderr, "bench_watch_btc: %s\n", what);
    exit(2);
}

static int sh(const char *cmd) {
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

typedef struct rec {
    uint32_t file_no;
    uint64_t start; /* of the record (magic) */
    uint32_t len;   /* magic + size + block */
    ch_hash256 hash;
} rec;

/* The best chain of dir as record positions. */
static rec *records(const char *dir, size_t *n) {
    ch_error err;
    ch_blkdir *d;
    ch_blk_chain c;
    if (ch_blkdir_open(dir, &d, &err) != 0 || ch_blkdir_best_chain(d, &c, &err) != 0) die(err.msg);
    rec *v = malloc(c.n * sizeof *v);
    for (size_t h = 0; h < c.n; h++) {
        const ch_blk_rec *r = ch_blk_chain_rec(&c, h);
        v[h] = (rec){r->file_no, r->offset - 8, r->size + 8, r->hash};
    }
    *n = c.n;
    ch_blk_chain_free(&c);
    ch_blkdir_close(d);
    return v;
}

/* dst gets src's blk files cut after record `upto - 1` (records in
 * height order, no shuffle); with symbolic, the files before the last by
 * symbolic link (src on another file system, a folder not the bench's own;
 * src must then be an absolute path) and src's xor.dat too. */
static void cut_folder(const char *src, const char *dst, const rec *v, size_t upto, bool symbolic) {
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", dst, dst);
    if (sh(cmd)) die("cannot make the blocks folder");
    const rec *last = &v[upto - 1];
    /* files before the last are never written again: linked, not copied */
    const char *link = symbolic ? "ln -s" : "ln";
    for (uint32_t f = 0; f <= last->file_no; f++) {
        snprintf(cmd, sizeof cmd, "%s '%s/blk%05u.dat' '%s/'", f < last->file_no ? link : "cp", src,
                 f, dst);
        if (sh(cmd)) die("cannot copy a blk file");
    }
    snprintf(cmd, sizeof cmd, "if [ -e '%s/xor.dat' ]; then cp '%s/xor.dat' '%s/'; fi", src, src,
             dst);
    if (sh(cmd)) die("cannot copy xor.dat");
    char p[4096];
    snprintf(p, sizeof p, "%s/blk%05u.dat", dst, last->file_no);
    if (truncate(p, (off_t)(last->start + last->len)) != 0) die("cannot cut the last blk file");
}

/* Transactions appended (the count in each appended block's record),
 * for the figures' "blocks of N txs" (--chain's blocks are not --tpb's). */
static uint64_t appended_txs;

/* Append record v (read from src) to dst's file, in one write. */
static void append(const char *src, const char *dst, const rec *v, uint8_t **buf, size_t *cap) {
    char p[4096];
    if (*cap < v->len) {
        *buf = realloc(*buf, v->len);
        *cap = v->len;
    }
    snprintf(p, sizeof p, "%s/blk%05u.dat", src, v->file_no);
    int fd = open(p, O_RDONLY);
    if (fd < 0 || pread(fd, *buf, v->len, (off_t)v->start) != (ssize_t)v->len) die("read");
    close(fd);
    /* magic, size, header, then the tx count (a compact size) */
    const uint8_t *c = *buf + 88;
    if (v->len > 97)
        appended_txs += c[0] < 253    ? c[0]
                        : c[0] == 253 ? (uint64_t)c[1] | (uint64_t)c[2] << 8
                                      : (uint64_t)c[1] | (uint64_t)c[2] << 8 |
                                            (uint64_t)c[3] << 16 | (uint64_t)c[4] << 24;
    snprintf(p, sizeof p, "%s/blk%05u.dat", dst, v->file_no);
    fd = open(p, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0 || write(fd, *buf, v->len) != (ssize_t)v->len) die("write");
    close(fd);
}

static pid_t start_watcher(const char *work, const char *blocks, const char *db) {
    char rules[4096], alerts[4096], log[4096];
    snprintf(rules, sizeof rules, "%s/rules.yaml", work);
    snprintf(alerts, sizeof alerts, "%s/alerts.jsonl", work);
    snprintf(log, sizeof log, "%s/watch.log", work);
    pid_t pid = fork();
    if (pid == 0) {
        int e = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        dup2(e, 2);
        /* the watcher logs each part's time (parts(), below) */
        setenv("COINHOUND_WATCH_TIMING", "1", 1);
        char bin[4096];
        snprintf(bin, sizeof bin, "%s/coinhound", bin_dir);
        /* BENCH_WATCH_MEM: the watcher's --mem (default: its own, half the
         * RAM), to tell growth the budget bounds from growth it does not */
        const char *argv[16] = {bin, "watch",   "btc", "--blocks", blocks, "--db",
                                db,  "--rules", rules, "--alerts", alerts};
        int n = 11;
        const char *mem = getenv("BENCH_WATCH_MEM");
        if (mem) argv[n++] = "--mem", argv[n++] = mem;
        /* BENCH_WATCH_INDEX_MEM: its --index-mem (an older build has none) */
        const char *imem = getenv("BENCH_WATCH_INDEX_MEM");
        if (imem) argv[n++] = "--index-mem", argv[n++] = imem;
        argv[n] = NULL;
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    return pid;
}

/* The watcher's cursor: evaluated through height >= h and every logged
 * line delivered. */
static bool done_through(const char *db, uint32_t h) {
    char p[4096];
    snprintf(p, sizeof p, "%s/btc/watch/state", db);
    FILE *f = fopen(p, "r");
    if (!f) return false;
    unsigned long long delivered = 0;
    unsigned next = 0;
    char hex[80];
    int n = fscanf(f, "coinhound-watch-state 1 delivered %llu eval_next %u eval_prev %70s",
                   &delivered, &next, hex);
    fclose(f);
    if (n != 3 || next <= h) return false;
    snprintf(p, sizeof p, "%s/btc/watch/alerts.jsonl", db);
    struct stat st;
    return stat(p, &st) == 0 && (unsigned long long)st.st_size == delivered;
}

/* Wait (inotify on the cursor, ino_on) until done_through(h); seconds. */
static double wait_done(int ino, const char *db, uint32_t h, double t0, double limit) {
    char buf[4096], state[4096];
    snprintf(state, sizeof state, "%s/btc/watch/state", db);
    while (!done_through(db, h)) {
        /* the cursor file itself (again after a rename made it anew) */
        (void)inotify_add_watch(ino, state, IN_MODIFY | IN_CLOSE_WRITE);
        if (now() - t0 > limit) die("the watcher did not take a block in time (see watch.log)");
        fd_set fs;
        FD_ZERO(&fs);
        FD_SET(ino, &fs);
        struct timeval tv = {0, 20000};
        if (select(ino + 1, &fs, NULL, NULL, &tv) > 0)
            while (read(ino, buf, sizeof buf) > 0) {
            }
    }
    return now() - t0;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p) {
    qsort(v, n, sizeof *v, cmp_d);
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i];
}

/* A field of /proc/PID/status in KiB ("VmRSS:", "RssAnon:", "RssFile:"). */
static long status_kb(pid_t pid, const char *field) {
    char p[64], line[256];
    snprintf(p, sizeof p, "/proc/%d/status", (int)pid);
    FILE *f = fopen(p, "r");
    long kb = -1;
    size_t n = strlen(field);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, field, n)) kb = atol(line + n);
    if (f) fclose(f);
    return kb;
}

static long rss_kb(pid_t pid) {
    return status_kb(pid, "VmRSS:");
}

/* Major page faults (pages read from the disk) of the process so far. */
static unsigned long majflt(pid_t pid) {
    char p[64], buf[2048];
    snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(p, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *q = strrchr(buf, ')');
    unsigned long mj = 0;
    if (q && sscanf(q + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %lu", &mj) == 1) return mj;
    return 0;
}

/* CPU seconds (user + system) the process has used. */
static double cpu_s(pid_t pid) {
    char p[64], buf[2048];
    snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(p, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *q = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    if (q && sscanf(q + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) == 2)
        return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
    return 0;
}

/* The txid (hex) of the coinbase of block h of the store at db
 * (--incident's source). */
static void incident_source(const char *db, uint32_t h, char out[65]) {
    ch_store *s;
    ch_error err;
    if (ch_store_open(db, "btc", CH_STORE_READ, &s, &err) != 0) die(err.msg);
    const ch_block_rec *b = ch_store_block(s, h);
    if (!b || b->n_tx < 1) die("--incident: the store has no such block");
    ch_hash256 id;
    ch_store_txid(s, b->first_tx, &id);
    ch_hash256_to_hex(&id, out);
    ch_store_close(s);
}

/* The attribution store the incident's landings are labelled from: the
 * chain's labels.csv, imported into db once. */
static void incident_labels(const char *full, const char *db) {
    char p[4200], cmd[16384];
    snprintf(p, sizeof p, "%s/intel", db);
    if (access(p, F_OK) == 0) return;
    snprintf(cmd, sizeof cmd,
             "%s/coinhound intel import --format csv '%s/labels.csv' --db '%s' >/dev/null", bin_dir,
             full, db);
    if (sh(cmd)) die("coinhound intel import of the chain's labels failed");
}

static void write_rules(const char *work, const char *full, const char *db) {
    char p[4096], line[512], hot[256] = "";
    snprintf(p, sizeof p, "%s/labels.csv", full);
    FILE *in = fopen(p, "r");
    if (in && fgets(line, sizeof line, in) && fgets(line, sizeof line, in)) {
        line[strcspn(line, ",")] = 0;
        snprintf(hot, sizeof hot, "%.255s", line);
    }
    if (in) fclose(in);
    if (!hot[0]) die("no labels.csv to take a hot wallet from");
    /* BENCH_QUIET_RULES: a rule that never fires (what the watcher costs
     * without alerts) */
    if (getenv("BENCH_QUIET_RULES")) snprintf(hot, sizeof hot, "%s", getenv("BENCH_QUIET_RULES"));
    snprintf(p, sizeof p, "%s/rules.yaml", work);
    FILE *o = fopen(p, "w");
    fprintf(o,
            "rules:\n  - name: hot\n    kind: address\n    addresses: [%s]\n"
            "  - name: big\n    kind: large_transfer\n    asset: BTC\n    min: \"%s\"\n",
            hot, getenv("BENCH_QUIET_RULES") ? "2100000000000000" : "1000000000");
    if (incident_h && db) {
        char txid[65];
        incident_source(db, incident_h, txid);
        incident_labels(full, db);
        fprintf(o,
                "  - name: heist\n    kind: incident\n    txs: [%s]\n    policy: %s\n"
                "    min: \"%s\"\n",
                txid, incident_policy, incident_min);
        printf("incident rule: every output of %s (the coinbase of block %u), policy %s, min %s "
               "satoshi\n",
               txid, incident_h, incident_policy, incident_min);
    }
    fclose(o);
}

/* The alerts of the timed blocks [from, to) in the alerts file, by kind:
 * how many incident alerts (moved, landing) and blocks with one. */
static void incident_counts(const char *work, uint32_t from, uint32_t to) {
    char p[4200], line[65536];
    snprintf(p, sizeof p, "%s/alerts.jsonl", work);
    FILE *f = fopen(p, "r");
    if (!f) return;
    size_t moved = 0, landing = 0, other = 0, blocks = 0;
    uint32_t last = UINT32_MAX;
    while (fgets(line, sizeof line, f)) {
        const char *hp = strstr(line, "\"height\":");
        unsigned h = hp ? (unsigned)strtoul(hp + 9, NULL, 10) : 0;
        if (!hp || h < from || h >= to) continue;
        if (!strstr(line, "\"kind\":\"incident\"")) {
            other++;
            continue;
        }
        if (strstr(line, "\"event\":\"landing\""))
            landing++;
        else
            moved++;
        if (h != last) blocks++, last = h; /* the log is in block order */
    }
    fclose(f);
    printf("alerts of the timed blocks: %zu of the address and large_transfer rules; incident: %zu "
           "moved, %zu landing, in %zu of the %u blocks\n",
           other, moved, landing, blocks, to - from);
}

/* The watcher rewrites its cursor in place (IN_MODIFY) after a run's first
 * save, which is a rename (IN_MOVED_TO): without IN_MODIFY each wait fell
 * back to select's 20 ms timeout and the latencies carried up to 20 ms of
 * the bench's own polling. The folder is watched for the rename only and
 * the cursor file for its writes (wait_done): a folder-wide IN_MODIFY
 * also woke the bench for every append to the alert log beside it, tens a
 * block, and a scheduler trace showed those wakes preempting the watcher
 * (54 ms in 30 s of blocks). */
static int ino_on(const char *db) {
    char p[4096];
    snprintf(p, sizeof p, "%s/btc/watch", db);
    int ino = inotify_init1(IN_NONBLOCK);
    if (ino < 0 || inotify_add_watch(ino, p, IN_MOVED_TO) < 0)
        die("inotify on the watcher's folder");
    return ino;
}

/* Start the watcher and wait until it has caught up to height tip. */
static pid_t watcher_at(const char *work, const char *blocks, const char *db, uint32_t tip) {
    pid_t pid = start_watcher(work, blocks, db);
    double t0 = now();
    while (!done_through(db, tip)) {
        if (now() - t0 > 3600) die("the watcher did not catch up (see watch.log)");
        /* a watcher that refused its arguments or died never catches up */
        if (waitpid(pid, NULL, WNOHANG) == pid) die("the watcher exited (see watch.log)");
        usleep(20000);
    }
    return pid;
}

/* The steps of a block from its write to its cursor (the watcher's
 * "steps" lines, watch_timeline_log), beside the bench's own clock. */
enum { STEPS = 9 };
static const char *const step_names[STEPS] = {"notice", "index",    "checks",   "read",  "add",
                                              "rules",  "log sync", "delivery", "cursor"};
typedef struct block_steps {
    bool have;
    double lat;                               /* ms, the bench's */
    double wall[STEPS], cpu[STEPS], q[STEPS]; /* ms; notice: write -> wake */
    long flt[STEPS];                          /* minor faults */
    double tail;                              /* cursor -> the bench sees it */
    double cpu_all, q_all;                    /* from the wake */
    double busy; /* ms from the write to the watcher's sleep: it was busy when the block came */
    long majflt, ivcsw;
    double steal; /* the machine's (both cores), from the wake */
} block_steps;

/* One "NAME W/C/Q/F" of a steps line into b's step i. */
static void step_of(const char *line, const char *name, int i, block_steps *b) {
    char key[64];
    snprintf(key, sizeof key, "; %s ", name);
    const char *p = strstr(line, key);
    if (p)
        sscanf(p + strlen(key), "%lf/%lf/%lf/%ld", &b->wall[i], &b->cpu[i], &b->q[i], &b->flt[i]);
}

/* The steps a steps line gives past the wake (index to cursor; read: its
 * wall only), with or without a wake. */
static void steps_of(const char *line, block_steps *b) {
    for (int i = 1; i < STEPS; i++)
        if (i != 3) step_of(line, step_names[i], i, b);
    const char *r = strstr(line, "; read ");
    if (r) sscanf(r + 7, "%lf", &b->wall[3]);
}

/* The watcher's log (WORK/watch.log) opened at offset from, or NULL. */
static FILE *log_from(const char *work, long from) {
    char p[4096];
    snprintf(p, sizeof p, "%s/watch.log", work);
    FILE *f = fopen(p, "r");
    if (f && fseek(f, from, SEEK_SET) != 0) {
        fclose(f);
        return NULL;
    }
    return f;
}

/* The parts of the blocks' latency the watcher logged (COINHOUND_WATCH_
 * TIMING) in its log past offset from: read and add, rules, log +
 * delivery + cursor for each block evaluated alone (its steps line, with
 * a wake or without), and each commit. */
static void parts(const char *work, long from) {
    char line[1024];
    FILE *f = log_from(work, from);
    if (!f) return;
    enum { PARTS = 4 };
    static const char *const names[PARTS] = {"read and add", "rules", "log, delivery and cursor",
                                             "commit"};
    size_t n[PARTS] = {0}, cap = 4096, blocks = 0, n_all = 0, n_cp = 0;
    double *wall[PARTS], *cpu[PARTS], *all = malloc(cap * sizeof(double));
    /* the commit's own parts (ch_store_commit_times), wall ms */
    enum { CPARTS = 9 };
    static const char *const cnames[CPARTS] = {"addresses", "columns", "marks", "txids", "index",
                                               "syncs",     "lmdb",    "heads", "rest"};
    double *cp[CPARTS];
    for (int i = 0; i < CPARTS; i++)
        cp[i] = malloc(cap * sizeof(double));
    for (int i = 0; i < PARTS; i++)
        wall[i] = malloc(cap * sizeof(double)), cpu[i] = malloc(cap * sizeof(double));
    while (fgets(line, sizeof line, f)) {
        unsigned a, b, k;
        double w[3], c[3];
        const char *t = strstr(line, "timing: ");
        if (!t) continue;
        if (sscanf(t, "timing: blocks %u-%u steps", &a, &b) == 2 && a == b && n[0] < cap) {
            block_steps s = {0};
            steps_of(t, &s);
            /* read and add: the ingest's (its CPU the add's: the read is a wait) */
            w[0] = s.wall[3] + s.wall[4], c[0] = s.cpu[4];
            w[1] = s.wall[5], c[1] = s.cpu[5];
            w[2] = s.wall[6] + s.wall[7] + s.wall[8], c[2] = s.cpu[6] + s.cpu[7] + s.cpu[8];
            for (int i = 0; i < 3; i++)
                wall[i][n[i]] = w[i], cpu[i][n[i]] = c[i], n[i]++;
        } else if (sscanf(t, "timing: commit of %u block", &k) == 1 && strchr(t + 17, 'k') &&
                   sscanf(strchr(strchr(t + 17, 'k'), ' '), " %lf ms (cpu %lf)", &w[0], &c[0]) ==
                       2 &&
                   n[3] < cap) {
            wall[3][n[3]] = w[0], cpu[3][n[3]] = c[0], n[3]++;
            blocks += k;
            /* the CPU of the commit's sync threads too (a newer watcher) */
            const char *at = strstr(t, "all threads ");
            if (at && sscanf(at, "all threads %lf", &w[1]) == 1) all[n_all++] = w[1];
            const char *pa = strstr(t, "): addresses ");
            double v[CPARTS];
            if (pa &&
                sscanf(pa,
                       "): addresses %lf, columns %lf, marks %lf, txids %lf, index %lf, "
                       "syncs %lf, lmdb %lf, heads %lf, rest %lf",
                       &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8]) == CPARTS) {
                for (int i = 0; i < CPARTS; i++)
                    cp[i][n_cp] = v[i];
                n_cp++;
            }
        }
    }
    fclose(f);
    printf("the watcher's parts (its log, COINHOUND_WATCH_TIMING; wall p50/p99, its thread's CPU "
           "p50):");
    for (int i = 0; i < PARTS; i++) {
        if (!n[i]) continue;
        double c50 = pct(cpu[i], n[i], 0.5);
        printf("%s%s %.1f/%.1f ms (cpu %.1f)", i ? "; " : " ", names[i], pct(wall[i], n[i], 0.5),
               pct(wall[i], n[i], 0.99), c50);
    }
    if (n_all) printf(", all threads' CPU p50 %.1f ms", pct(all, n_all, 0.5));
    if (n[3]) printf(" (%zu commits of %.1f blocks on average)", n[3], (double)blocks / n[3]);
    printf("\n");
    if (n_cp) {
        printf("the commit's parts (wall p50/p99 ms; readers see the block after lmdb):");
        for (int i = 0; i < CPARTS; i++)
            printf("%s %s %.1f/%.1f", i ? "," : "", cnames[i], pct(cp[i], n_cp, 0.5),
                   pct(cp[i], n_cp, 0.99));
        printf("\n");
    }
    for (int i = 0; i < CPARTS; i++)
        free(cp[i]);
    free(all);
    for (int i = 0; i < PARTS; i++)
        free(wall[i]), free(cpu[i]);
}

/* Each timed block's steps (the watcher's log past offset from; t0: the
 * CLOCK_MONOTONIC second each block was written, lat its latency in s)
 * as p50/p99 a step, and the slowest blocks step by step: where their
 * time went. */
static void steps(const char *work, long from, uint32_t base, uint32_t k, const double *t0,
                  const double *lat) {
    char line[2048];
    FILE *f = log_from(work, from);
    if (!f) return;
    block_steps *v = calloc(k, sizeof *v);
    while (fgets(line, sizeof line, f)) {
        unsigned a, b;
        double woke, asleep;
        const char *t = strstr(line, "timing: blocks ");
        if (!t ||
            sscanf(t, "timing: blocks %u-%u steps: woke at %lf, asleep from %lf", &a, &b, &woke,
                   &asleep) != 4 ||
            a != b || a < base || a >= base + k)
            continue;
        block_steps *s = &v[a - base];
        s->busy = asleep > t0[a - base] ? (asleep - t0[a - base]) * 1e3 : 0;
        s->have = true;
        s->lat = lat[a - base] * 1e3;
        s->wall[0] = (woke - t0[a - base]) * 1e3;
        step_of(t, "wake", 0, s); /* its run queue: the wait for a core once woken */
        s->wall[0] = (woke - t0[a - base]) * 1e3, s->cpu[0] = 0;
        steps_of(t, s);
        double from_wake = 0;
        const char *fw = strstr(t, "from the wake: ");
        if (fw)
            sscanf(fw,
                   "from the wake: %lf ms, cpu %lf, run queue %lf, major faults %ld, switches "
                   "%*d voluntary %ld involuntary, the machine's steal %lf ms",
                   &from_wake, &s->cpu_all, &s->q_all, &s->majflt, &s->ivcsw, &s->steal);
        s->tail = s->lat - s->wall[0] - from_wake;
    }
    fclose(f);
    size_t n = 0;
    double *w = malloc(k * sizeof *w), *c = malloc(k * sizeof *c);
    for (uint32_t i = 0; i < k; i++)
        n += v[i].have;
    if (n) {
        printf("each block's steps from its write to its cursor (%zu blocks; wall p50/p99 ms, "
               "its thread's CPU p50/p99, run queue p99; read: waiting for the reader thread, "
               "add: the rest of the ingest):",
               n);
        for (int j = 0; j <= STEPS; j++) {
            double q[4096];
            size_t m = 0;
            for (uint32_t i = 0; i < k; i++)
                if (v[i].have && m < 4096)
                    w[m] = j < STEPS ? v[i].wall[j] : v[i].tail, c[m] = j < STEPS ? v[i].cpu[j] : 0,
                    q[m] = j < STEPS ? v[i].q[j] : 0, m++;
            printf("%s %s %.1f/%.1f", j ? ";" : "", j < STEPS ? step_names[j] : "tail (the bench)",
                   pct(w, m, 0.5), pct(w, m, 0.99));
            if (!j) { /* of the notice: the watcher still busy when the block came */
                size_t nb = 0;
                for (uint32_t i = 0; i < k; i++)
                    if (v[i].have && nb < 4096) c[nb++] = v[i].busy;
                printf(" (busy %.1f/%.1f)", pct(c, nb, 0.5), pct(c, nb, 0.99));
            }
            if (j && j != 3 && j < STEPS)
                printf(" (cpu %.1f/%.1f, q %.1f)", pct(c, m, 0.5), pct(c, m, 0.99),
                       pct(q, m, 0.99));
            else if (!j)
                printf(" (q %.1f)", pct(q, m, 0.99));
        }
        printf("\n");
        /* the whole path's: the watcher thread's CPU and its wait for a core
         * (the figures a shared machine leaves steady, and the other's) */
        size_t m = 0;
        for (uint32_t i = 0; i < k; i++)
            if (v[i].have) w[m] = v[i].cpu_all, c[m] = v[i].q_all, m++;
        printf("from the wake to the cursor: the watcher thread's CPU p50 %.1f ms, p99 %.1f ms; "
               "its run queue p50 %.1f ms, p99 %.1f ms\n",
               pct(w, m, 0.5), pct(w, m, 0.99), pct(c, m, 0.5), pct(c, m, 0.99));
        /* the slowest five, step by step */
        uint32_t order[5];
        int no = 0;
        for (int r = 0; r < 5; r++) {
            int best = -1;
            for (uint32_t i = 0; i < k; i++) {
                bool used = false;
                for (int u = 0; u < no; u++)
                    used |= order[u] == i;
                if (v[i].have && !used && (best < 0 || v[i].lat > v[best].lat)) best = (int)i;
            }
            if (best < 0) break;
            order[no++] = (uint32_t)best;
        }
        for (int r = 0; r < no; r++) {
            const block_steps *b = &v[order[r]];
            printf(
                "  slow block %u (#%u of the run; the watcher busy %.1f ms after the write): %.1f "
                "ms =",
                base + order[r], order[r] + 1, b->busy, b->lat);
            for (int j = 0; j < STEPS; j++)
                if (b->wall[j] >= 0.05 || j == 0)
                    printf(" %s %.1f (cpu %.1f, q %.1f, %ld flt)", step_names[j], b->wall[j],
                           b->cpu[j], b->q[j], b->flt[j]);
            printf(" + tail %.1f; from the wake cpu %.1f, run queue %.1f, %ld major faults, %ld "
                   "involuntary switches, the machine's steal %.0f ms\n",
                   b->tail, b->cpu_all, b->q_all, b->majflt, b->ivcsw, b->steal);
        }
    }
    free(w);
    free(c);
    free(v);
}

static void stop(pid_t pid) {
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

/* A reader's view (issue 10: a new block queryable within 50 ms): wait
 * for a change in the index folder (inotify: an LMDB commit writes
 * data.mdb) and refresh rd, as a long-lived reader (serve) does between
 * requests, until it holds height h; the seconds since t0, when that
 * refresh returned. */
static double wait_queryable(ch_store *rd, int ino, uint32_t h, double t0, double limit,
                             double *refresh) {
    char buf[4096];
    ch_error err;
    for (;;) {
        double r0 = now();
        if (ch_store_refresh(rd, &err) < 0) die(err.msg);
        /* the refresh's own share of queryable (the reader's side) */
        *refresh = now() - r0;
        if (ch_store_next_height(rd) > h) return now() - t0;
        if (now() - t0 > limit) die("the block was not committed in time (see watch.log)");
        fd_set fs;
        FD_ZERO(&fs);
        FD_SET(ino, &fs);
        struct timeval tv = {0, 50000}; /* a missed event costs at most this */
        if (select(ino + 1, &fs, NULL, NULL, &tv) > 0)
            while (read(ino, buf, sizeof buf) > 0) {
            }
    }
}

/* A store built elsewhere (--chain FULL --db STORE): its next height,
 * after checking that its tip is FULL's block at that height. */
static size_t given_store_base(const char *db, const rec *v, size_t n) {
    ch_store *s;
    ch_error err;
    if (ch_store_open(db, "btc", CH_STORE_READ, &s, &err) != 0) die(err.msg);
    size_t base = ch_store_next_height(s);
    bool same = base > 0 && base <= n &&
                !memcmp(ch_store_block(s, (uint32_t)base - 1)->hash, v[base - 1].hash.b, 32);
    ch_store_close(s);
    if (!same) die("--db: the store's tip is not a block of --chain's best chain");
    return base;
}

/* The latency run. chain and store NULL: the bench's own chain (DIR/full,
 * generated) and store (DIR/db, ingested); else --chain and --db. */
static void latency(const char *work, const char *chain, const char *store, uint64_t txs,
                    uint32_t tpb, uint32_t k, uint32_t m) {
    char full[4096], blocks[4096], db[4096], cmd[16384];
    snprintf(full, sizeof full, "%s", chain ? chain : "");
    snprintf(db, sizeof db, "%s", store ? store : "");
    if (!chain) snprintf(full, sizeof full, "%s/full", work);
    snprintf(blocks, sizeof blocks, "%s/blocks", work);
    if (!store) snprintf(db, sizeof db, "%s/db", work);
    char marker[4200];
    snprintf(marker, sizeof marker, "%s/full/gen.params", work);
    /* spare blocks past the store: each run takes the next k + m of them */
    uint32_t spare = 3 * (k + m);
    uint64_t total = txs + (uint64_t)spare * tpb;
    size_t n, base;
    rec *v;
    if (chain) {
        /* the symbolic links name the files by absolute path */
        if (!realpath(chain, full)) die("--chain: no such folder");
        v = records(full, &n);
        base = given_store_base(db, v, n);
        if (base + k + m > n) die("--chain holds too few blocks past the store's tip");
        printf("--chain %s: %zu blocks, the store at %zu\n", full, n, base);
        cut_folder(full, blocks, v, base, true);
        snprintf(cmd, sizeof cmd, "rm -rf '%s/btc/watch' '%s/alerts.jsonl'", db, work);
        sh(cmd);
        goto ready;
    }
    if (access(marker, R_OK) != 0) {
        double t0 = now();
        snprintf(cmd, sizeof cmd,
                 "%s/coinhound-gen --out '%s' --txs %" PRIu64 " --txs-per-block %u --seed 42 "
                 "--max-file-size 1G >/dev/null",
                 bin_dir, full, total, tpb);
        if (sh(cmd)) die("coinhound-gen failed");
        printf("generated %" PRIu64 " txs in %.0f s\n", total, now() - t0);
    }
    v = records(full, &n);
    if (n < (size_t)spare + 2) die("chain too short");
    base = n - spare;
    snprintf(cmd, sizeof cmd, "%s/btc/blkindex.state", db);
    if (access(cmd, R_OK) != 0) {
        cut_folder(full, blocks, v, base, false);
        double t0 = now();
        snprintf(cmd, sizeof cmd,
                 "rm -rf '%s' && %s/coinhound ingest btc '%s' --db '%s' --no-progress >/dev/null",
                 db, bin_dir, blocks, db);
        if (sh(cmd)) die("ingest failed");
        printf("ingested %zu blocks in %.0f s\n", base, now() - t0);
    } else {
        /* a store kept from an earlier run: go on from its tip */
        ch_store *s;
        ch_error err;
        if (ch_store_open(db, "btc", CH_STORE_READ, &s, &err) != 0) die(err.msg);
        base = ch_store_next_height(s);
        ch_store_close(s);
        if (base + k + m > n) die("no spare blocks left: remove --work DIR/db and run again");
        cut_folder(full, blocks, v, base, false);
        snprintf(cmd, sizeof cmd, "rm -rf '%s/btc/watch' '%s/alerts.jsonl'", db, work);
        sh(cmd);
    }
ready:
    snprintf(cmd, sizeof cmd, "%s/coinhound status --db '%s' 2>&1 | head -5", bin_dir, db);
    sh(cmd);
    write_rules(work, full, db);
    pid_t pid = watcher_at(work, blocks, db, (uint32_t)base - 1);
    int ino = ino_on(db);
    double *lat = malloc(k * sizeof *lat), *qlat = malloc(k * sizeof *qlat),
           *qref = malloc(k * sizeof *qref), *t0s = malloc(k * sizeof *t0s);
    uint8_t *buf = NULL;
    size_t cap = 0;
    /* with a gap, a reader beside the watcher times each block's commit */
    ch_store *rd = NULL;
    int qino = -1;
    if (gap_ms) {
        ch_error err;
        char idx[4200];
        snprintf(idx, sizeof idx, "%s/btc/index", db);
        qino = inotify_init1(IN_NONBLOCK);
        if (qino < 0 || inotify_add_watch(qino, idx, IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO) < 0)
            die("inotify on the store's index folder");
        if (ch_store_open(db, "btc", CH_STORE_READ, &rd, &err) != 0) die(err.msg);
    }
    if (warm) {
        /* the store's files into the page cache once the watcher has
         * started (its start reads the chain's blocks, which can push the
         * store's pages out) */
        double tw = now();
        snprintf(cmd, sizeof cmd, "find '%s' -type f -exec cat {} + >/dev/null", db);
        if (sh(cmd)) die("--warm: reading the store's files failed");
        printf("--warm: the store's files read in %.1f s before the first block\n", now() - tw);
    }
    long rss0 = rss_kb(pid);
    double cpu0 = cpu_s(pid);
    unsigned long mj0 = majflt(pid);
    char logp[4200];
    snprintf(logp, sizeof logp, "%s/watch.log", work);
    struct stat lst;
    long log_from = stat(logp, &lst) == 0 ? (long)lst.st_size : 0;
    appended_txs = 0;
    for (uint32_t i = 0; i < k; i++) {
        size_t h = base + i;
        double t0 = now();
        t0s[i] = t0;
        append(full, blocks, &v[h], &buf, &cap);
        lat[i] = wait_done(ino, db, (uint32_t)h, t0, 120);
        if (!gap_ms) continue;
        /* the gap counts from the alerts; a commit that outlasts it holds
         * up the next block */
        qlat[i] = wait_queryable(rd, qino, (uint32_t)h, t0, 120, &qref[i]);
        double left = lat[i] + gap_ms / 1e3 - (now() - t0);
        if (left > 0) usleep((useconds_t)(left * 1e6));
    }
    long rss1 = rss_kb(pid), anon = status_kb(pid, "RssAnon:"), file = status_kb(pid, "RssFile:");
    double cpu = cpu_s(pid) - cpu0;
    unsigned long mj = majflt(pid) - mj0;
    stop(pid);
    double sum = 0;
    for (uint32_t i = 0; i < k; i++)
        sum += lat[i];
    double *lat_in_order = malloc(k * sizeof *lat_in_order);
    memcpy(lat_in_order, lat, k * sizeof *lat);
    double mean = sum / k, p50 = pct(lat, k, 0.5), p99 = pct(lat, k, 0.99), mx = lat[k - 1];
    double load[3] = {0, 0, 0};
    FILE *la = fopen("/proc/loadavg", "r");
    if (la && fscanf(la, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3) load[0] = -1;
    if (la) fclose(la);
    printf("watch btc --blocks: %u blocks of %.0f txs appended to a %zu-block store (%u ms "
           "apart): block written -> alerts delivered: p50 %.1f ms, p99 %.1f ms, max %.1f ms, "
           "mean %.1f ms; the watcher's CPU (user+sys) %.1f ms a block, %.1f major faults (pages "
           "read from the disk) a block; RSS %ld -> %ld KiB (anon %ld, file %ld); load average "
           "%.2f %.2f %.2f\n",
           k, (double)appended_txs / k, base, gap_ms, p50 * 1e3, p99 * 1e3, mx * 1e3, mean * 1e3,
           cpu * 1e3 / k, (double)mj / k, rss0, rss1, anon, file, load[0], load[1], load[2]);
    parts(work, log_from);
    steps(work, log_from, (uint32_t)base, k, t0s, lat_in_order);
    free(lat_in_order);
    free(t0s);
    incident_counts(work, (uint32_t)base, (uint32_t)(base + k));
    if (rd) {
        double q50 = pct(qlat, k, 0.5), q99 = pct(qlat, k, 0.99), qmax = qlat[k - 1];
        printf("block written -> a reader's ch_store_refresh sees it committed (queryable): "
               "p50 %.1f ms, p99 %.1f ms, max %.1f ms (of which that refresh itself p50 %.2f ms, "
               "p99 %.2f ms)\n",
               q50 * 1e3, q99 * 1e3, qmax * 1e3, pct(qref, k, 0.5) * 1e3, pct(qref, k, 0.99) * 1e3);
        ch_store_close(rd);
        close(qino);
    }
    /* a run of ingest alone for each of the next m blocks */
    double *ing = malloc(m * sizeof *ing);
    for (uint32_t i = 0; i < m; i++) {
        size_t h = base + k + i;
        double t0 = now();
        append(full, blocks, &v[h], &buf, &cap);
        snprintf(cmd, sizeof cmd, "%s/coinhound ingest btc '%s' --db '%s' --no-progress >/dev/null",
                 bin_dir, blocks, db);
        if (sh(cmd)) die("ingest of one block failed");
        ing[i] = now() - t0;
    }
    printf("ingest btc alone: %u runs of one new block each: block written -> run done "
           "(queryable): p50 %.1f ms, p99 %.1f ms\n",
           m, pct(ing, m, 0.5) * 1e3, pct(ing, m, 0.99) * 1e3);
    free(ing);
    free(qlat);
    free(qref);
    free(lat);
    free(buf);
    free(v);
    close(ino);
}

static void memory(const char *work, uint32_t s) {
    char full[4096], blocks[4096], db[4096], cmd[16384];
    snprintf(full, sizeof full, "%s/small", work);
    snprintf(blocks, sizeof blocks, "%s/small-blocks", work);
    snprintf(db, sizeof db, "%s/small-db", work);
    snprintf(cmd, sizeof cmd,
             "rm -rf '%s' && %s/coinhound-gen --out '%s' --blocks %u --txs-per-block 5 --seed 7 "
             ">/dev/null",
             db, bin_dir, full, s + 200);
    if (sh(cmd)) die("coinhound-gen failed");
    size_t n;
    rec *v = records(full, &n);
    size_t base = n - s;
    cut_folder(full, blocks, v, base, false);
    write_rules(work, full, NULL);
    pid_t pid = watcher_at(work, blocks, db, (uint32_t)base - 1);
    int ino = ino_on(db);
    uint8_t *buf = NULL;
    size_t cap = 0;
    uint32_t step = s >= 10 ? s / 10 : 1;
    /* anonymous RSS (KiB) at blocks 1,000, 2,000, 5,000, 10,000, ... */
    static const uint32_t mark_at[] = {1000, 2000, 5000, 10000, 20000, 50000, 100000, 200000};
    long marks[10];
    uint32_t at[10], n_marks = 0;
    printf("watch btc memory over %u appended blocks of 5 txs: VmRSS KiB at block", s);
    double t0 = now();
    for (uint32_t i = 0; i < s; i++) {
        append(full, blocks, &v[base + i], &buf, &cap);
        wait_done(ino, db, (uint32_t)(base + i), now(), 120);
        if (i % step == 0 || i == s - 1)
            printf(" %u:%ld(anon %ld)", i, rss_kb(pid), status_kb(pid, "RssAnon:"));
        bool mark = i == s - 1;
        for (size_t j = 0; j < sizeof mark_at / sizeof *mark_at; j++)
            mark |= i + 1 == mark_at[j];
        if (mark) {
            at[n_marks] = i + 1;
            marks[n_marks++] = status_kb(pid, "RssAnon:");
        }
        fflush(stdout);
    }
    double secs = now() - t0, load[3] = {0, 0, 0};
    printf(" (%.0f s)\n", secs);
    getloadavg(load, 3);
    printf("anonymous RSS (MB) at block");
    for (uint32_t j = 0; j < n_marks; j++)
        printf(" %u: %.1f;", at[j], (double)marks[j] * 1024 / 1e6);
    if (n_marks > 1 && at[n_marks - 1] > at[0])
        printf(" from block %u to %u: %.0f bytes a block", at[0], at[n_marks - 1],
               (double)(marks[n_marks - 1] - marks[0]) * 1024 / (at[n_marks - 1] - at[0]));
    printf(" (load average %.1f %.1f %.1f)\n", load[0], load[1], load[2]);
    stop(pid);
    free(buf);
    free(v);
    close(ino);
}

int main(int argc, char **argv) {
    const char *work = NULL, *chain = NULL, *store = NULL;
    uint64_t txs = 10000000;
    uint32_t tpb = 3000, k = 200, m = 20, small = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--work"))
            work = argv[i + 1];
        else if (!strcmp(argv[i], "--txs"))
            txs = strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--tpb"))
            tpb = (uint32_t)atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--blocks"))
            k = (uint32_t)atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--ingest-blocks"))
            m = (uint32_t)atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--small-blocks"))
            small = (uint32_t)atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--bin"))
            bin_dir = argv[i + 1];
        else if (!strcmp(argv[i], "--gap-ms"))
            gap_ms = (unsigned)atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--warm"))
            warm = (unsigned)atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--incident"))
            incident_h = (unsigned)atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--incident-policy"))
            incident_policy = argv[i + 1];
        else if (!strcmp(argv[i], "--incident-min"))
            incident_min = argv[i + 1];
        else if (!strcmp(argv[i], "--chain"))
            chain = argv[i + 1];
        else if (!strcmp(argv[i], "--db"))
            store = argv[i + 1];
        else
            die("usage: bench_watch_btc --work DIR [--txs N] [--tpb N] [--blocks K] "
                "[--ingest-blocks M] [--small-blocks S] [--gap-ms G] [--warm 1] [--incident H "
                "[--incident-policy P] [--incident-min SAT]] [--bin BUILD_DIR] "
                "[--chain FULL_BLOCKS_DIR --db STORE]");
    }
    if (!work) die("--work DIR is required (it needs several GB for 10M txs)");
    if (!chain != !store) die("--chain and --db go together");
    mkdir(work, 0755);
    if (txs && k && m) latency(work, chain, store, txs, tpb, k, m);
    if (small) memory(work, small);
    return 0;
}
