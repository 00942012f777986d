/* ch_evm_reader: a file or a directory of JSON-RPC responses or
 * blockchain-etl exports, yielded block by block in increasing number.
 *
 * Parts of one block come from several files (a block response, then its
 * receipts, then its traces; or blocks.json, transactions.json, logs.json),
 * so a block can be handed out only once every file has said all it has
 * about it. Two modes:
 *
 * Loading (small inputs, anything that is not JSON lines): every file is
 * read and joined first, then the blocks are handed out. Exports in the wild
 * are not always sorted (GraphSense's transactions.csv is not), and this
 * takes them in any order; memory is that of all the parsed blocks (a
 * generated chain of 1M transfers is 2.2 GB of JSON lines: too much).
 *
 * Streaming (JSON lines, together 64 MiB or more): one cursor per file, each
 * reading one line (one record: a response, an ETL row) at a time into a
 * set of pending blocks. A cursor's position is the highest block number its
 * records named so far; its next record is expected to name that block
 * again or a later one (each file in non-decreasing block order). So block N
 * is complete once every open cursor has moved past N (or hit its end): a
 * k-way merge by block number. The cursor that is furthest behind is
 * advanced, the lowest pending block is finished and handed out as soon as
 * every cursor is past it; memory holds about one block per file, whatever
 * the length of the input. A record may still step back to a block not yet
 * handed out (it joins it); one naming a block handed out already fails,
 * naming the file and line. Files whose records step back by a bounded
 * amount (ethereum-etl's stream exporter writes a batch of blocks, then
 * their transactions, ...) stream with COINHOUND_EVM_STREAM_WINDOW=W: block
 * N then waits until every cursor is past N + W (W blocks more per file).
 * An error found this late comes after earlier blocks went out: blocks the
 * stepping-back file jumped over may have gone out without its records.
 *
 * One wrinkle: a callTracer response does not say its block; it is placed
 * by its first transaction's hash, in a block read before it. A traces line
 * whose block is not read yet is held (parsed, not applied) while the other
 * files advance, and applied as soon as that block arrives. Meanwhile a
 * pending block whose body is in (and lacks that transaction) can still go
 * out: the held response belongs to a later one. (Traces only for some
 * blocks, as the generator writes them, would otherwise keep every block
 * between two traced ones.) At most HOLD_MAX blocks wait on a held line,
 * else the traces are not beside their blocks: an error.
 *
 * COINHOUND_EVM_STREAM=1 streams any JSON lines input (tests use it on small
 * files), =0 always loads (sorting aside, for a large unsorted export). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chains/eth/evm_internal.h"
#include "util/vec.h"

#define STREAM_MIN_BYTES ((uint64_t)64 << 20)
#define HOLD_MAX         4096

typedef enum { F_SKIP, F_RPC, F_CSV, F_JSONL } file_kind;

/* A file to read: its kind and the format its reader is told. */
typedef struct entry {
    char *path;
    file_kind kind;
    ch_evm_format fmt; /* for ETL: CSV, JSON, or AUTO (a single file: look inside) */
    uint64_t size;
} entry;

/* Streaming: one file read line by line. */
typedef struct cursor {
    const char *path;
    bool rpc; /* JSON-RPC responses, else ETL rows */
    FILE *f;
    char *line;
    size_t cap;
    long line_no;
    bool eof, started;
    uint64_t pos; /* the highest block its records named (when started) */
    long pos_line;
    evm_held *held; /* a callTracer response waiting for its block */
    long held_line;
} cursor;

struct ch_evm_reader {
    evm_set set;
    uint64_t window; /* streaming: block N goes out once every cursor is past N + window */
    size_t next;     /* loading: the next block to hand out */
    bool streaming, failed;
    entry *files;
    size_t n_files, cap_files;
    cursor *cur; /* streaming: one per file */
    bool yielded;
    uint64_t last; /* the last block handed out */
    size_t peak_blocks, peak_bytes;
};

/* Responses that carry block data; other recorded calls (eth_call,
 * eth_chainId, eth_newFilter, eth_getCode) are skipped in a directory. */
static const char *const rpc_methods[] = {
    "eth_getBlockByNumber",      "eth_getBlockByHash", "eth_getBlockReceipts",
    "eth_getTransactionReceipt", "eth_getLogs",        "eth_getFilterLogs",
    "debug_traceBlockByNumber",  "trace_block",        NULL};

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

static bool is_json_name(const char *s) {
    return ends_with(s, ".json") || ends_with(s, ".jsonl") || ends_with(s, ".ndjson");
}

/* Does the start of the file look like a JSON-RPC response? */
static bool sniff_rpc(const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return false;
    char buf[4097];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return false;
    buf[n] = '\0';
    size_t i = strspn(buf, " \t\r\n");
    return (buf[i] == '{' || buf[i] == '[') && strstr(buf, "\"jsonrpc\"");
}

/* What a file in a directory is, by its name (and a look inside for JSON). */
static file_kind classify(const char *path, const char *base) {
    if (strstr(base, "web3_response.")) {
        /* "..._latest_..." asks for the chain head, not a block we want */
        if (strstr(base, "_latest")) return F_SKIP;
        for (int i = 0; rpc_methods[i]; i++)
            if (strstr(base, rpc_methods[i])) return F_RPC;
        return F_SKIP;
    }
    if (is_json_name(base) && sniff_rpc(path)) return F_RPC;
    static const char *const kinds[] = {"block",          "transaction", "receipt", "log",
                                        "token_transfer", "trace",       NULL};
    bool known = false;
    for (int i = 0; kinds[i]; i++)
        if (strstr(base, kinds[i])) known = true;
    if (!known) return F_SKIP;
    if (ends_with(base, ".csv")) return F_CSV;
    if (is_json_name(base)) return F_JSONL;
    return F_SKIP;
}

static bool wanted(file_kind k, ch_evm_format fmt) {
    switch (fmt) {
    case CH_EVM_FMT_RPC:
        return k == F_RPC;
    case CH_EVM_FMT_ETL_CSV:
        return k == F_CSV;
    case CH_EVM_FMT_ETL_JSON:
        return k == F_JSONL;
    case CH_EVM_FMT_ETL:
        return k == F_CSV || k == F_JSONL;
    default:
        return k != F_SKIP;
    }
}

static int load_rpc(evm_set *s, const char *path, ch_error *err) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return ch_err(err, "%s: cannot open", path);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return ch_err(err, "%s: cannot stat", path);
    }
    if (st.st_size == 0) {
        close(fd);
        return ch_err(err, "%s: empty file", path);
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED) return ch_err(err, "%s: cannot map", path);
    int rc = evm_rpc_parse(s, p, (size_t)st.st_size, path, err);
    munmap(p, (size_t)st.st_size);
    return rc;
}

static int load_etl(evm_set *s, const char *path, ch_evm_format fmt, ch_error *err) {
    FILE *f = fopen(path, "r");
    if (!f) return ch_err(err, "%s: cannot open", path);
    int rc = evm_etl_parse_file(s, f, path, fmt, err);
    fclose(f);
    return rc;
}

static int load_entry(evm_set *s, const entry *e, ch_error *err) {
    if (e->kind == F_RPC) return load_rpc(s, e->path, err);
    return load_etl(s, e->path, e->fmt, err);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_entry(ch_evm_reader *r, const char *path, file_kind k, ch_evm_format fmt,
                     ch_error *err) {
    entry *v = ch_grow(r->files, &r->cap_files, r->n_files + 1, sizeof *v);
    if (!v) return ch_err(err, "out of memory");
    r->files = v;
    entry *e = &v[r->n_files];
    if (!(e->path = strdup(path))) return ch_err(err, "out of memory");
    e->kind = k;
    e->fmt = fmt;
    struct stat st;
    e->size = stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
    r->n_files++;
    return 0;
}

/* The files of a directory to read, in name order. */
static int list_dir(ch_evm_reader *r, const char *dir, ch_evm_format fmt, ch_error *err) {
    size_t n_before = r->n_files;
    DIR *d = opendir(dir);
    if (!d) return ch_err(err, "%s: cannot open the directory", dir);
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char **nn = ch_grow(names, &cap, n + 1, sizeof *names);
        if (!nn) {
            rc = ch_err(err, "out of memory");
            break;
        }
        names = nn;
        if (!(names[n] = strdup(e->d_name))) {
            rc = ch_err(err, "out of memory");
            break;
        }
        n++;
    }
    closedir(d);
    if (rc == 0 && n) qsort(names, n, sizeof *names, cmp_str);

    /* classify first, so a directory that mixes kinds fails before reading */
    file_kind *kind = calloc(n ? n : 1, sizeof *kind);
    if (!kind && rc == 0) rc = ch_err(err, "out of memory");
    char path[4096];
    const char *csv_one = NULL, *json_one = NULL;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) continue;
        file_kind k = classify(path, names[i]);
        if (!wanted(k, fmt)) continue;
        kind[i] = k;
        if (k == F_CSV) csv_one = names[i];
        if (k == F_JSONL) json_one = names[i];
    }
    /* the same kind as CSV and as JSON would read every row twice */
    for (size_t i = 0; rc == 0 && csv_one && json_one && i < n; i++) {
        if (kind[i] != F_CSV) continue;
        for (size_t j = 0; j < n; j++) {
            if (kind[j] != F_JSONL) continue;
            size_t a = strcspn(names[i], "."), b = strcspn(names[j], ".");
            if (a == b && !memcmp(names[i], names[j], a))
                rc = ch_err(err, "%s: %s and %s hold the same export: say CSV or JSON", dir,
                            names[i], names[j]);
        }
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (kind[i] == F_SKIP) continue;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        rc = add_entry(r, path, kind[i],
                       kind[i] == F_CSV ? CH_EVM_FMT_ETL_CSV : CH_EVM_FMT_ETL_JSON, err);
    }
    if (rc == 0 && r->n_files == n_before)
        rc = ch_err(err, "%s: no %s in it", dir,
                    fmt == CH_EVM_FMT_RPC    ? "JSON-RPC responses"
                    : fmt == CH_EVM_FMT_AUTO ? "JSON-RPC responses or ETL exports"
                                             : "ETL exports");
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    free(kind);
    return rc;
}

/* Is the file JSON lines: one document a line? A glance at its start: a
 * first line that opens and closes a value (a pretty-printed document's
 * first line is "{" or "[" or a bare key), or one too long to see whole. */
static bool looks_like_lines(const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return false;
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);
    close(fd);
    if (n <= 0) return false;
    size_t i = 0, len = (size_t)n;
    while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
        i++;
    if (i == len || (buf[i] != '{' && buf[i] != '[')) return false;
    const char *nl = memchr(buf + i, '\n', len - i);
    if (!nl) return true;
    size_t end = (size_t)(nl - buf);
    while (end > i && (buf[end - 1] == '\r' || buf[end - 1] == ' ' || buf[end - 1] == '\t'))
        end--;
    return end - i >= 2 && (buf[end - 1] == '}' || buf[end - 1] == ']');
}

/* Stream when every file is JSON lines and, unless told, they are large. */
static bool want_stream(const ch_evm_reader *r) {
    const char *env = getenv("COINHOUND_EVM_STREAM");
    if (env && !strcmp(env, "0")) return false;
    uint64_t total = 0;
    for (size_t i = 0; i < r->n_files; i++) {
        const entry *e = &r->files[i];
        if (e->kind != F_RPC && e->kind != F_JSONL) return false;
        if (e->kind == F_JSONL && e->fmt == CH_EVM_FMT_ETL_CSV) return false;
        total += e->size;
    }
    if (!(env && !strcmp(env, "1")) && total < STREAM_MIN_BYTES) return false;
    for (size_t i = 0; i < r->n_files; i++)
        if (!looks_like_lines(r->files[i].path)) return false;
    return true;
}

static int open_cursors(ch_evm_reader *r, ch_error *err) {
    r->cur = calloc(r->n_files, sizeof *r->cur);
    if (!r->cur) return ch_err(err, "out of memory");
    for (size_t i = 0; i < r->n_files; i++) {
        cursor *c = &r->cur[i];
        c->path = r->files[i].path;
        c->rpc = r->files[i].kind == F_RPC;
        if (!(c->f = fopen(c->path, "r"))) return ch_err(err, "%s: cannot open", c->path);
    }
    const char *w = getenv("COINHOUND_EVM_STREAM_WINDOW");
    if (w && *w) {
        char *end;
        unsigned long long v = strtoull(w, &end, 10);
        if (*end || v > HOLD_MAX / 4)
            return ch_err(err, "COINHOUND_EVM_STREAM_WINDOW=%s: a number of blocks up to %d", w,
                          HOLD_MAX / 4);
        r->window = v;
    }
    r->streaming = true;
    return 0;
}

static void note_peak(ch_evm_reader *r) {
    if (r->set.n > r->peak_blocks) r->peak_blocks = r->set.n;
    size_t bytes = 0;
    for (size_t i = 0; i < r->set.n; i++)
        bytes += evm_block_bytes(r->set.v[i]);
    for (size_t i = 0; i < r->set.n_spare; i++)
        bytes += evm_block_bytes(r->set.spare[i]);
    if (r->cur)
        for (size_t i = 0; i < r->n_files; i++)
            bytes += r->cur[i].cap;
    if (bytes > r->peak_bytes) r->peak_bytes = bytes;
}

void evm_reader_peak(const ch_evm_reader *r, bool *streaming, size_t *blocks, size_t *bytes) {
    *streaming = r->streaming;
    *blocks = r->peak_blocks;
    *bytes = r->peak_bytes;
}

/* A file named on its own: its kind from the format asked for, else from
 * a look inside (AUTO on a non-RPC file: the ETL reader looks at it). */
static int add_file(ch_evm_reader *r, const char *path, ch_evm_format fmt, ch_error *err) {
    file_kind k;
    if (fmt == CH_EVM_FMT_RPC)
        k = F_RPC;
    else if (fmt == CH_EVM_FMT_ETL_CSV)
        k = F_CSV;
    else if (fmt == CH_EVM_FMT_ETL_JSON)
        k = F_JSONL;
    else if (fmt == CH_EVM_FMT_ETL)
        k = ends_with(path, ".csv") ? F_CSV : F_JSONL;
    else if (sniff_rpc(path))
        k = F_RPC;
    else
        k = ends_with(path, ".csv") ? F_CSV : F_JSONL;
    ch_evm_format f =
        fmt == CH_EVM_FMT_ETL ? (k == F_CSV ? CH_EVM_FMT_ETL_CSV : CH_EVM_FMT_ETL_JSON) : fmt;
    return add_entry(r, path, k, f, err);
}

/* JSON-RPC responses and ETL exports in one input describe the same blocks
 * twice (ethereum-etl's test folders hold both): unless a format was asked
 * for, refuse, naming one of each and the option that settles it. */
static int check_one_kind(const ch_evm_reader *r, ch_error *err) {
    const char *rpc = NULL, *etl = NULL;
    for (size_t i = 0; i < r->n_files; i++) {
        if (r->files[i].kind == F_RPC && !rpc) rpc = r->files[i].path;
        if (r->files[i].kind != F_RPC && !etl) etl = r->files[i].path;
    }
    if (rpc && etl)
        return ch_err(err,
                      "the input holds JSON-RPC responses (%s) and ETL exports (%s): say which "
                      "to read with --format rpc or --format etl",
                      rpc, etl);
    return 0;
}

int ch_evm_reader_open(const char *path, ch_evm_format fmt, ch_evm_reader **out, ch_error *err) {
    return ch_evm_reader_open_paths(&path, 1, fmt, out, err);
}

int ch_evm_reader_open_paths(const char *const *paths, size_t n, ch_evm_format fmt,
                             ch_evm_reader **out, ch_error *err) {
    *out = NULL;
    if (n == 0) return ch_err(err, "no input named");
    ch_evm_reader *r = calloc(1, sizeof *r);
    if (!r) return ch_err(err, "out of memory");
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        struct stat st;
        if (stat(paths[i], &st) != 0)
            rc = ch_err(err, "%s: no such file or directory", paths[i]);
        else if (S_ISDIR(st.st_mode))
            rc = list_dir(r, paths[i], fmt, err);
        else
            rc = add_file(r, paths[i], fmt, err);
    }
    if (rc == 0 && fmt == CH_EVM_FMT_AUTO) rc = check_one_kind(r, err);
    if (rc == 0 && want_stream(r)) {
        rc = open_cursors(r, err);
    } else if (rc == 0) {
        for (size_t i = 0; rc == 0 && i < r->n_files; i++)
            rc = load_entry(&r->set, &r->files[i], err);
        evm_set_drop_parser(&r->set); /* all read: only the blocks stay */
        if (rc == 0) rc = evm_set_finish(&r->set, err);
        if (rc == 0) note_peak(r);
    }
    if (rc != 0) {
        ch_evm_reader_close(r);
        return -1;
    }
    *out = r;
    return 0;
}

/* --- streaming ------------------------------------------------------------ */

/* After a record of c (read at line) was applied: where has c moved? */
static int moved(ch_evm_reader *r, cursor *c, long line, ch_error *err) {
    evm_set *s = &r->set;
    if (!s->touched) return 0; /* it named no block (an empty result) */
    if (r->yielded && s->lo <= r->last) {
        if (c->started && s->lo < c->pos)
            return ch_err(err,
                          "%s: line %ld: block %llu after block %llu (line %ld), and block %llu "
                          "went out already: streaming needs each file in non-decreasing block "
                          "order (COINHOUND_EVM_STREAM_WINDOW=N lets it step back N blocks, "
                          "COINHOUND_EVM_STREAM=0 reads it whole)",
                          c->path, line, (unsigned long long)s->lo, (unsigned long long)c->pos,
                          c->pos_line, (unsigned long long)r->last);
        return ch_err(err, "%s: line %ld: block %llu went out already (up to block %llu)", c->path,
                      line, (unsigned long long)s->lo, (unsigned long long)r->last);
    }
    if (!c->started || s->hi > c->pos) {
        c->pos = s->hi;
        c->pos_line = line;
    }
    c->started = true;
    return 0;
}

/* Read and apply c's next line. */
static int advance(ch_evm_reader *r, cursor *c, ch_error *err) {
    errno = 0;
    ssize_t n = getline(&c->line, &c->cap, c->f);
    if (n < 0) {
        if (ferror(c->f)) return ch_err(err, "%s: cannot read: %s", c->path, strerror(errno));
        c->eof = true;
        fclose(c->f);
        c->f = NULL;
        return 0;
    }
    c->line_no++;
    r->set.touched = false;
    int rc;
    if (c->rpc) {
        evm_held *held = NULL;
        rc = evm_rpc_line(&r->set, c->line, (size_t)n, c->path, c->line_no, &held, err);
        if (rc == 1) {
            c->held = held;
            c->held_line = c->line_no;
            return 0;
        }
    } else {
        rc = evm_etl_jsonl_line(&r->set, c->line, (size_t)n, c->path, c->line_no, err);
    }
    if (rc != 0) return -1;
    return moved(r, c, c->line_no, err);
}

/* Apply held responses whose block has come (force: the last chance). */
static int retry_held(ch_evm_reader *r, bool force, ch_error *err) {
    for (size_t i = 0; i < r->n_files; i++) {
        cursor *c = &r->cur[i];
        if (!c->held) continue;
        r->set.touched = false;
        evm_held *h = c->held;
        int rc = evm_rpc_apply_held(&r->set, h, c->path, c->held_line, force, err);
        if (rc == 1) continue;
        c->held = NULL;
        if (rc != 0) return -1;
        if (moved(r, c, c->held_line, err) != 0) return -1;
    }
    return 0;
}

/* Has c said all it has about block m? It has when it moved past m, or
 * when it holds a callTracer response whose transaction m lacks (m's body
 * is in, and was looked through): that response's block is not read yet,
 * and will come after m from a cursor already past m. */
static bool done_with(const ch_evm_reader *r, const cursor *c, const ch_evm_block *m) {
    if (c->eof && !c->held) return true;
    bool past = c->started && c->pos > m->number && c->pos - m->number > r->window;
    if (past) return true;
    return c->held && m->has_header && r->window == 0;
}

/* The next whole block of several files read side by side: blocks complete
 * once every file has moved past their number, the cursor furthest behind
 * reads next, and traces whose block has not come yet are held (a bounded
 * number) and retried. */
static int stream_next(ch_evm_reader *r, ch_evm_block *out, ch_error *err) {
    for (;;) {
        if (retry_held(r, false, err) != 0) return -1;
        note_peak(r);
        bool any_open = false, any_held = false, ready = r->set.n > 0;
        cursor *pick = NULL;
        for (size_t i = 0; i < r->n_files; i++) {
            cursor *c = &r->cur[i];
            if (c->eof && !c->held) continue;
            any_open = true;
            if (ready && !done_with(r, c, r->set.v[0])) ready = false;
            if (c->held) {
                any_held = true;
                continue;
            }
            /* the cursor furthest behind moves next; unstarted ones first */
            if (!pick || (pick->started && (!c->started || c->pos < pick->pos))) pick = c;
        }
        if (ready) {
            ch_evm_block *b = evm_set_pop(&r->set);
            if (evm_block_finish(b, err) != 0) {
                ch_evm_block_free(b);
                free(b);
                return -1;
            }
            /* hand b out; keep the caller's old block for reuse */
            ch_evm_block old = *out;
            *out = *b;
            *b = old;
            evm_set_recycle(&r->set, b);
            r->yielded = true;
            r->last = out->number;
            return 1;
        }
        if (!any_open) return 0;
        if (any_held && r->set.n > HOLD_MAX) {
            for (size_t i = 0; i < r->n_files; i++)
                if (r->cur[i].held)
                    return ch_err(err,
                                  "%s: line %ld: a callTracer trace whose block is not among the "
                                  "next %d blocks: are its blocks beside it, in the same order?",
                                  r->cur[i].path, r->cur[i].held_line, HOLD_MAX);
        }
        if (!pick) {
            /* only held traces remain: their blocks never came */
            if (retry_held(r, true, err) != 0) return -1;
            continue;
        }
        if (advance(r, pick, err) != 0) return -1;
    }
}

int ch_evm_reader_next(ch_evm_reader *r, ch_evm_block *b, ch_error *err) {
    if (r->failed) return ch_err(err, "the EVM reader stopped at an earlier error");
    if (r->streaming) {
        int rc = stream_next(r, b, err);
        if (rc < 0) r->failed = true;
        return rc;
    }
    if (r->next >= r->set.n) return 0;
    ch_evm_block_free(b);
    *b = *r->set.v[r->next];
    free(r->set.v[r->next]);
    r->set.v[r->next++] = NULL;
    return 1;
}

void ch_evm_reader_close(ch_evm_reader *r) {
    if (!r) return;
    if (r->streaming) {
        evm_set_free(&r->set);
    } else {
        for (size_t i = r->next; i < r->set.n; i++) {
            ch_evm_block_free(r->set.v[i]);
            free(r->set.v[i]);
        }
        free(r->set.v);
        evm_set_drop_parser(&r->set);
    }
    for (size_t i = 0; r->cur && i < r->n_files; i++) {
        if (r->cur[i].f) fclose(r->cur[i].f);
        free(r->cur[i].line);
        evm_held_free(r->cur[i].held);
    }
    free(r->cur);
    for (size_t i = 0; i < r->n_files; i++)
        free(r->files[i].path);
    free(r->files);
    free(r);
}
