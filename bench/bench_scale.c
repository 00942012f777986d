/* Scale benchmark (not a test): how does ingest keep its pace, memory and
 * disk as the store grows? For each size it generates a chain with the
 * generator (seed 42, 250 txs a block), ingests it with `coinhound ingest
 * btc --mem BUDGET` in a child process, and samples the child every 0.25 s:
 * its RSS (VmRSS, and VmHWM at the end), the committed txs (txs.col's
 * length) and the store's bytes on disk. Per 4M-tx segment (or per quarter
 * of a smaller chain) it prints tx/s, peak RSS and bytes on disk per tx,
 * then a projection to Bitcoin's 1.1 billion txs with the model it uses.
 *
 * Each segment also gets the CPU seconds the child used in it (utime +
 * stime) and the load average at its end: on a shared machine the wall
 * pace says as much about the neighbours as about the store, the pace per
 * CPU second does not.
 *
 * With bitcoin-iterate (Rusty Russell's blk file iterator, built from its
 * source outside this repository: --iterate PATH, else `bitcoin-iterate`
 * on PATH), the same 2M-tx chain goes through `coinhound ingest` and
 * through `bitcoin-iterate --regtest --tx=%tF` (which resolves every input
 * against its own UTXO map), ingest both with its reader thread and with
 * --threads 1: --compare-runs N (default 3) runs of each, in turn, each
 * run's wall and CPU seconds with the load average, then the medians and
 * the ratios of the medians' wall and CPU times. --no-compare skips it.
 *
 *   bench_scale [--sizes 1M,16M,64M] [--mem 4G] [--dir DIR] [--keep]
 *               [--chain SIZE=BLOCKS_DIR]... [--iterate PATH]
 *               [--compare-runs N] [--no-compare] [--utxo-mem SIZE]
 *               [--commit-mb N]
 *
 * --utxo-mem passes its size to `ingest --utxo-mem` (the UTXO map's
 * memory; 0: none), so that builds with and without it compare.
 * --commit-mb passes N to `ingest --commit-mb` (default: ingest's, 64 MiB
 * or a 32nd of --mem): a smaller store can then be run at the ratio of
 * outs.col's size to a commit's that a larger one has (the spent marks'
 * in-place writes cost per commit what the pages they touch do). The
 * coinhound binary is $BUILD/coinhound (default build/).
 *
 * Default: --sizes 1M (short enough for `make bench`), --mem 4G, a
 * temporary directory under /tmp. --chain reuses a chain generated before
 * (same seed and size) instead of generating it. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "coinhound/gen.h"
#include "coinhound/progress.h"

#define SEGMENT   4000000ULL
#define TARGET_TX 1.1e9
#define MAX_SEG   64

static uint64_t parse_size(const char *s) {
    char *end;
    double v = strtod(s, &end);
    switch (toupper((unsigned char)*end)) {
    case 'K':
        v *= 1e3;
        break;
    case 'M':
        v *= 1e6;
        break;
    case 'G':
        v *= 1e9;
        break;
    default:
        break;
    }
    return (uint64_t)v;
}

/* bytes with binary suffixes, as --mem takes them */
static uint64_t parse_bytes(const char *s) {
    char *end;
    double v = strtod(s, &end);
    switch (toupper((unsigned char)*end)) {
    case 'K':
        v *= 1024.0;
        break;
    case 'M':
        v *= 1024.0 * 1024;
        break;
    case 'G':
        v *= 1024.0 * 1024 * 1024;
        break;
    default:
        break;
    }
    return (uint64_t)v;
}

static void rmrf(const char *p) {
    char cmd[8400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", p);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", p);
}

/* bytes allocated on disk under path (recursive) */
static uint64_t disk_bytes(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return 0;
    if (!S_ISDIR(st.st_mode)) return (uint64_t)st.st_blocks * 512;
    uint64_t total = 0;
    DIR *d = opendir(path);
    if (!d) return 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char sub[8400];
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        total += disk_bytes(sub);
    }
    closedir(d);
    return total;
}

/* VmRSS or VmHWM of pid, in bytes */
static uint64_t proc_kb(pid_t pid, const char *field) {
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    uint64_t kb = 0;
    size_t n = strlen(field);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, field, n)) kb = strtoull(line + n + 1, NULL, 10);
    fclose(f);
    return kb * 1024;
}

/* CPU seconds (user + system) pid has used so far, from /proc/PID/stat */
static double cpu_seconds(pid_t pid) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    if (!p) return 0;
    unsigned long long ut = 0, st = 0;
    /* after ")": state (field 3) ... utime is field 14, stime 15 */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return 0;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double load1(void) {
    double l = 0;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &l) != 1) l = 0;
        fclose(f);
    }
    return l;
}

static uint64_t committed_txs(const char *db) {
    char path[4200];
    snprintf(path, sizeof path, "%s/btc/txs.col", db);
    struct stat st;
    return stat(path, &st) == 0 ? (uint64_t)st.st_size / 16 : 0;
}

typedef struct segment {
    uint64_t txs_end;
    double seconds; /* time spent in this segment */
    double cpu;     /* CPU seconds the ingest used in it */
    double load;    /* 1-minute load average at its end */
    uint64_t rss_max;
    uint64_t disk;
} segment;

typedef struct result {
    uint64_t txs;
    double seconds, cpu;
    uint64_t hwm, disk;
    segment seg[MAX_SEG];
    int n_seg;
} result;

/* One segment's line, printed as soon as it ends (a long run that is cut
 * short still leaves its figures). */
static void print_segment(const result *r, int i) {
    const segment *s = &r->seg[i];
    uint64_t start = i ? r->seg[i - 1].txs_end : 0;
    char range[64];
    snprintf(range, sizeof range, "%.1fM-%.1fM", start / 1e6, s->txs_end / 1e6);
    double len = (double)(s->txs_end - start);
    printf("  %-16s %9.0f %12.0f %12.2f %10.1f %6.1f %8.1f\n", range,
           s->seconds > 0 ? len / s->seconds : 0, s->cpu > 0 ? len / s->cpu : 0,
           (double)s->rss_max / (1 << 30), s->txs_end ? (double)s->disk / (double)s->txs_end : 0,
           s->load, s->cpu);
    fflush(stdout);
}

/* Ingest blocks into db in a child; sample it as it goes. */
static const char *utxo_mem;  /* --utxo-mem, or NULL: ingest's default */
static const char *commit_mb; /* --commit-mb, or NULL: ingest's default */

static int run_ingest(const char *bin, const char *blocks, const char *db, const char *mem,
                      uint64_t total_txs, result *r) {
    memset(r, 0, sizeof *r);
    uint64_t seg_len = total_txs >= 2 * SEGMENT ? SEGMENT : (total_txs + 3) / 4;
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", 1);
        if (null >= 0) dup2(null, 1);
        const char *av[16] = {bin, "ingest", "btc", blocks,         "--db",
                              db,  "--mem",  mem,   "--no-progress"};
        int ac = 9;
        if (utxo_mem) av[ac++] = "--utxo-mem", av[ac++] = utxo_mem;
        if (commit_mb) av[ac++] = "--commit-mb", av[ac++] = commit_mb;
        execv(bin, (char *const *)av);
        _exit(127);
    }
    double t0 = ch_now(), seg_t0 = t0, seg_cpu0 = 0, cpu = 0;
    uint64_t hwm = 0, seg_rss = 0, next = seg_len;
    int status = 0;
    for (;;) {
        struct rusage ru;
        pid_t w = wait4(pid, &status, WNOHANG, &ru);
        uint64_t rss = w == 0 ? proc_kb(pid, "VmRSS:") : 0;
        if (w == 0)
            cpu = cpu_seconds(pid);
        else
            cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
                  (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
        if (w == 0) hwm = proc_kb(pid, "VmHWM:") > hwm ? proc_kb(pid, "VmHWM:") : hwm;
        if (rss > seg_rss) seg_rss = rss;
        uint64_t n = committed_txs(db);
        /* a segment ends at the first committed count past its boundary
         * (a commit may carry it past several: they make one segment, so
         * no segment is timed at nothing), or at the end */
        uint64_t last_end = r->n_seg ? r->seg[r->n_seg - 1].txs_end : 0;
        if ((n >= next || (w != 0 && n > last_end)) && r->n_seg < MAX_SEG) {
            double now = ch_now();
            segment *s = &r->seg[r->n_seg++];
            s->txs_end = n;
            s->seconds = now - seg_t0;
            s->cpu = cpu - seg_cpu0;
            s->load = load1();
            s->rss_max = seg_rss;
            s->disk = disk_bytes(db);
            seg_t0 = now;
            seg_cpu0 = cpu;
            seg_rss = 0;
            print_segment(r, r->n_seg - 1);
            next = (n / seg_len + 1) * seg_len;
        }
        if (w != 0) break;
        usleep(250000);
    }
    r->seconds = ch_now() - t0;
    r->cpu = cpu;
    r->txs = committed_txs(db);
    r->hwm = hwm;
    r->disk = disk_bytes(db);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "ingest of %s failed (status %d)\n", blocks, status);
        return -1;
    }
    return 0;
}

/* Least squares fit of seconds per tx against log2(txs stored): the runs'
 * merges add a rewrite per doubling, the rest is linear. */
static void fit(const result *r, int use_cpu, double *a, double *b) {
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    int n = 0;
    uint64_t start = 0;
    for (int i = 0; i < r->n_seg; i++) {
        const segment *s = &r->seg[i];
        uint64_t len = s->txs_end - start;
        double t = use_cpu ? s->cpu : s->seconds;
        if (len > 0 && t > 0) {
            double x = log2((double)(start + len / 2) + 1), y = t / (double)len;
            sx += x;
            sy += y;
            sxx += x * x;
            sxy += x * y;
            n++;
        }
        start = s->txs_end;
    }
    *b = n > 1 && n * sxx - sx * sx > 0 ? (n * sxy - sx * sy) / (n * sxx - sx * sx) : 0;
    if (*b < 0) *b = 0; /* never project a pace that improves with size */
    *a = n ? (sy - *b * sx) / n : 0;
}

/* Run argv with stdout to /dev/null; its wall and CPU seconds. Returns
 * its exit status (-1 when it did not exit normally). */
static int run_timed(char *const argv[], double *wall, double *cpu) {
    double t0 = ch_now();
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) dup2(null, 1);
        execvp(argv[0], argv);
        _exit(127);
    }
    int status = 0;
    struct rusage ru;
    if (pid < 0 || wait4(pid, &status, 0, &ru) != pid) return -1;
    *wall = ch_now() - t0;
    *cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* bitcoin-iterate on PATH, or NULL */
static const char *find_on_path(const char *name, char *out, size_t cap) {
    const char *path = getenv("PATH");
    while (path && *path) {
        const char *colon = strchr(path, ':');
        size_t len = colon ? (size_t)(colon - path) : strlen(path);
        snprintf(out, cap, "%.*s/%s", (int)len, path, name);
        if (len && access(out, X_OK) == 0) return out;
        path = colon ? colon + 1 : NULL;
    }
    return NULL;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The median of v[0..n) (sorts v). */
static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

enum { RUN_INGEST2, RUN_INGEST1, RUN_ITERATE, RUN_KINDS, MAX_RUNS = 16 };

/* The same 2M-tx chain through coinhound ingest (with its reader thread,
 * then with --threads 1) and bitcoin-iterate, `runs` times each, one after
 * the other in turn (so that a change of load hits all three alike); each
 * run's wall and CPU seconds and the load average, then the medians and
 * the ratios of the medians. */
static int compare_iterate(const char *bin, const char *iterate, const char *dir, const char *given,
                           const char *mem, int keep, int runs) {
    char blocks[4200], db[4200];
    snprintf(blocks, sizeof blocks, "%s", given ? given : "");
    if (!given) {
        snprintf(blocks, sizeof blocks, "%s/chain-2M", dir);
        ch_gen_opts go;
        ch_gen_opts_init(&go);
        go.out_dir = blocks;
        go.txs = 2000000;
        go.seed = 42;
        ch_gen_stats gs;
        ch_error err;
        if (ch_gen_run(&go, &gs, &err) != 0) {
            fprintf(stderr, "generate: %s\n", err.msg);
            return -1;
        }
    }
    snprintf(db, sizeof db, "%s/db-2M-compare", dir);
    char *ingest[RUN_KINDS - 1][12] = {{(char *)bin, "ingest", "btc", blocks, "--db", db, "--mem",
                                        (char *)mem, "--no-progress", NULL},
                                       {(char *)bin, "ingest", "btc", blocks, "--db", db, "--mem",
                                        (char *)mem, "--no-progress", "--threads", "1", NULL}};
    char blockdir[4300];
    snprintf(blockdir, sizeof blockdir, "--blockdir=%s", blocks);
    char *iter[] = {(char *)iterate, "--regtest", "-q", blockdir, "--tx=%tF", NULL};
    static const char *name[RUN_KINDS] = {"coinhound ingest (reader thread)",
                                          "coinhound ingest --threads 1", "bitcoin-iterate"};
    double wall[RUN_KINDS][MAX_RUNS], cpu[RUN_KINDS][MAX_RUNS];
    printf("\n2M chain (seed 42), ingest --mem %s against %s --tx=%%tF, %d runs each in turn:\n",
           mem, iterate, runs);
    for (int r = 0; r < runs; r++)
        for (int k = 0; k < RUN_KINDS; k++) {
            rmrf(db);
            double l0 = load1();
            int rc = run_timed(k == RUN_ITERATE ? iter : ingest[k], &wall[k][r], &cpu[k][r]);
            if (rc != 0) {
                fprintf(stderr, "compare: %s exit %d\n", name[k], rc);
                return -1;
            }
            printf("  %-34s %5.2f s wall %5.2f CPU s  (load average %.1f -> %.1f)\n", name[k],
                   wall[k][r], cpu[k][r], l0, load1());
        }
    if (!keep) {
        rmrf(db);
        if (!given) rmrf(blocks);
    }
    double mw[RUN_KINDS], mc[RUN_KINDS];
    for (int k = 0; k < RUN_KINDS; k++) {
        mw[k] = median(wall[k], runs);
        mc[k] = median(cpu[k], runs);
        printf("  median %-27s %5.2f s wall %5.2f CPU s\n", name[k], mw[k], mc[k]);
    }
    printf("  ingest / bitcoin-iterate (medians): %.2fx the wall time, %.2fx the CPU time; "
           "--threads 1: %.2fx, %.2fx (target <= 1 wall)\n",
           mw[RUN_INGEST2] / mw[RUN_ITERATE], mc[RUN_INGEST2] / mc[RUN_ITERATE],
           mw[RUN_INGEST1] / mw[RUN_ITERATE], mc[RUN_INGEST1] / mc[RUN_ITERATE]);
    return 0;
}

int main(int argc, char **argv) {
    const char *sizes = "1M", *mem = "4G", *dir = NULL;
    const char *reuse[8][2];
    int n_reuse = 0;
    int keep = 0, compare = 1, runs = 3;
    const char *iterate = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--sizes") && i + 1 < argc)
            sizes = argv[++i];
        else if (!strcmp(argv[i], "--mem") && i + 1 < argc)
            mem = argv[++i];
        else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(argv[i], "--utxo-mem") && i + 1 < argc)
            utxo_mem = argv[++i];
        else if (!strcmp(argv[i], "--commit-mb") && i + 1 < argc)
            commit_mb = argv[++i];
        else if (!strcmp(argv[i], "--keep"))
            keep = 1;
        else if (!strcmp(argv[i], "--no-compare"))
            compare = 0;
        else if (!strcmp(argv[i], "--iterate") && i + 1 < argc)
            iterate = argv[++i];
        else if (!strcmp(argv[i], "--compare-runs") && i + 1 < argc && atoi(argv[i + 1]) >= 1 &&
                 atoi(argv[i + 1]) <= MAX_RUNS)
            runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--chain") && i + 1 < argc && n_reuse < 8 &&
                 strchr(argv[i + 1], '=')) {
            char *eq = strchr(argv[++i], '=');
            *eq = 0;
            reuse[n_reuse][0] = argv[i];
            reuse[n_reuse++][1] = eq + 1;
        } else {
            fprintf(stderr, "usage: bench_scale [--sizes 1M,16M,64M] [--mem 4G] [--dir DIR] "
                            "[--keep] [--chain SIZE=BLOCKS_DIR]... [--iterate PATH] "
                            "[--compare-runs N] [--no-compare] [--utxo-mem SIZE] "
                            "[--commit-mb N]\n");
            return 2;
        }
    }
    char tmpl[] = "/tmp/coinhound-scale-XXXXXX";
    if (!dir) dir = mkdtemp(tmpl);
    mkdir(dir, 0755);
    char bin[4200];
    const char *build = getenv("BUILD");
    snprintf(bin, sizeof bin, "%s/coinhound", build ? build : "build");
    if (access(bin, X_OK) != 0) {
        fprintf(stderr, "%s is not built\n", bin);
        return 2;
    }
    uint64_t budget = parse_bytes(mem);
    printf("scale: --mem %s (%.2f GiB), %ld cores online, segments of %llu txs\n", mem,
           (double)budget / (1 << 30), sysconf(_SC_NPROCESSORS_ONLN), (unsigned long long)SEGMENT);
    char list[256];
    snprintf(list, sizeof list, "%s", sizes);
    int rc = 0;
    for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
        uint64_t n = parse_size(tok);
        char blocks[4200], db[4200];
        const char *given = NULL;
        for (int i = 0; i < n_reuse; i++)
            if (parse_size(reuse[i][0]) == n) given = reuse[i][1];
        snprintf(blocks, sizeof blocks, "%s/chain-%s", dir, tok);
        snprintf(db, sizeof db, "%s/db-%s", dir, tok);
        rmrf(db);
        if (given) {
            snprintf(blocks, sizeof blocks, "%s", given);
        } else {
            ch_gen_opts go;
            ch_gen_opts_init(&go);
            go.out_dir = blocks;
            go.txs = n;
            go.seed = 42;
            ch_gen_stats gs;
            ch_error err;
            double t = ch_now();
            if (ch_gen_run(&go, &gs, &err) != 0) {
                fprintf(stderr, "generate: %s\n", err.msg);
                return 2;
            }
            printf("\n%s: generated %llu txs, %.1f GB in %.0f s\n", tok, (unsigned long long)gs.txs,
                   (double)gs.bytes / 1e9, ch_now() - t);
        }
        result r;
        printf("%s: ingest btc --mem %s%s%s%s%s, per segment as it ends:\n", tok, mem,
               utxo_mem ? " --utxo-mem " : "", utxo_mem ? utxo_mem : "",
               commit_mb ? " --commit-mb " : "", commit_mb ? commit_mb : "");
        printf("  %-16s %9s %12s %12s %10s %6s %8s\n", "segment (txs)", "tx/s", "tx/CPU-s",
               "RSS max GiB", "B/tx disk", "load", "CPU s");
        fflush(stdout);
        if (run_ingest(bin, blocks, db, mem, n, &r) != 0) {
            rc = 1;
            continue;
        }
        printf("%s: %llu txs in %.1f s (%.0f tx/s; %.1f CPU s, %.0f tx per CPU s), peak RSS "
               "%.2f GiB, %.1f B/tx on disk\n",
               tok, (unsigned long long)r.txs, r.seconds, (double)r.txs / r.seconds, r.cpu,
               r.cpu > 0 ? (double)r.txs / r.cpu : 0, (double)r.hwm / (1 << 30),
               (double)r.disk / (double)r.txs);
        /* the last full segment (a short tail would flatter the ratio) */
        int last_i = r.n_seg - 1;
        while (last_i > 0 &&
               r.seg[last_i].txs_end - r.seg[last_i - 1].txs_end < r.seg[0].txs_end / 2)
            last_i--;
        if (last_i >= 1) {
            const segment *f = &r.seg[0], *l = &r.seg[last_i];
            double l_len = (double)(l->txs_end - r.seg[last_i - 1].txs_end),
                   f_len = (double)f->txs_end;
            printf("  last full/first segment pace: %.2f wall, %.2f per CPU s (target >= 0.70 at "
                   "64M)\n",
                   (l_len / l->seconds) / (f_len / f->seconds),
                   l->cpu > 0 && f->cpu > 0 ? (l_len / l->cpu) / (f_len / f->cpu) : 0);
        }
        printf("  peak RSS %.2f GiB against the --mem budget %.2f GiB: %s\n",
               (double)r.hwm / (1 << 30), (double)budget / (1 << 30),
               r.hwm <= budget ? "under" : "OVER");
        for (int use_cpu = 0; use_cpu < 2; use_cpu++) {
            double a, b;
            fit(&r, use_cpu, &a, &b);
            /* time: the integral of a + b log2(n) over [0, 1.1e9] */
            double T = 0, step = 1e6;
            for (double x = 0; x < TARGET_TX; x += step)
                T += (a + b * log2(x + step / 2)) * step;
            printf("  projection to 1.1e9 txs, %s: %.1f h (model: s/tx = %.3g + %.3g*log2(txs), "
                   "least squares over the segments)\n",
                   use_cpu ? "CPU time (a core to itself)" : "wall time as measured", T / 3600, a,
                   b);
        }
        double disk = (double)r.disk / (double)r.txs * TARGET_TX;
        printf("  projection to 1.1e9 txs: RAM <= %.2f GiB (the --mem bound; measured peak %.2f), "
               "disk %.0f GB (model: linear, %.1f B/tx as measured at the end)\n",
               (double)budget / (1 << 30), (double)r.hwm / (1 << 30), disk / 1e9,
               (double)r.disk / (double)r.txs);
        if (!keep) {
            rmrf(db);
            if (!given) rmrf(blocks);
        }
    }
    char found[4200];
    if (compare && !iterate) iterate = find_on_path("bitcoin-iterate", found, sizeof found);
    if (compare && iterate) {
        const char *given = NULL;
        for (int i = 0; i < n_reuse; i++)
            if (parse_size(reuse[i][0]) == 2000000) given = reuse[i][1];
        if (compare_iterate(bin, iterate, dir, given, mem, keep, runs) != 0) rc = 1;
    } else if (compare) {
        printf("\nbitcoin-iterate not found (--iterate PATH or PATH): no comparison\n");
    }
    if (!keep && !strncmp(dir, "/tmp/coinhound-scale-", 21)) rmrf(dir);
    return rc;
}
