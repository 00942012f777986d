/* ch_evm_reader: a file or a directory of JSON-RPC responses or
 * blockchain-etl exports, yielded block by block in increasing number.
 *
 * Parts of one block come from several files (a block response, then its
 * receipts, then its traces; or blocks.csv, transactions.csv, logs.json) and
 * exports in the wild are not always sorted (GraphSense's transactions.csv
 * is not), so everything is read and joined first, then handed out. Memory
 * is that of the parsed blocks, not of the JSON text. */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chains/eth/evm_internal.h"

struct ch_evm_reader {
    evm_set set;
    size_t next;
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

typedef enum { F_SKIP, F_RPC, F_CSV, F_JSONL } file_kind;

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

static int load_file(evm_set *s, const char *path, file_kind k, ch_error *err) {
    if (k == F_RPC) return load_rpc(s, path, err);
    return load_etl(s, path, k == F_CSV ? CH_EVM_FMT_ETL_CSV : CH_EVM_FMT_ETL_JSON, err);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int load_dir(evm_set *s, const char *dir, ch_evm_format fmt, ch_error *err) {
    DIR *d = opendir(dir);
    if (!d) return ch_err(err, "%s: cannot open the directory", dir);
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            char **nn = realloc(names, cap * sizeof *names);
            if (!nn) {
                rc = ch_err(err, "out of memory");
                break;
            }
            names = nn;
        }
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
    char path[4096];
    const char *rpc_one = NULL, *etl_one = NULL, *csv_one = NULL, *json_one = NULL;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) continue;
        file_kind k = classify(path, names[i]);
        if (!wanted(k, fmt)) continue;
        kind[i] = k;
        if (k == F_RPC) rpc_one = names[i];
        if (k == F_CSV) etl_one = csv_one = names[i];
        if (k == F_JSONL) etl_one = json_one = names[i];
    }
    if (rc == 0 && rpc_one && etl_one)
        rc = ch_err(err, "%s: holds JSON-RPC responses (%s) and ETL exports (%s): say which", dir,
                    rpc_one, etl_one);
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
    size_t used = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (kind[i] == F_SKIP) continue;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        rc = load_file(s, path, kind[i], err);
        used++;
    }
    if (rc == 0 && used == 0)
        rc = ch_err(err, "%s: no JSON-RPC responses or ETL exports in it", dir);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    free(kind);
    return rc;
}

int ch_evm_reader_open(const char *path, ch_evm_format fmt, ch_evm_reader **out, ch_error *err) {
    *out = NULL;
    struct stat st;
    if (stat(path, &st) != 0) return ch_err(err, "%s: no such file or directory", path);
    ch_evm_reader *r = calloc(1, sizeof *r);
    if (!r) return ch_err(err, "out of memory");
    int rc;
    if (S_ISDIR(st.st_mode)) {
        rc = load_dir(&r->set, path, fmt, err);
    } else {
        file_kind k;
        if (fmt == CH_EVM_FMT_RPC)
            k = F_RPC;
        else if (fmt == CH_EVM_FMT_ETL_CSV)
            k = F_CSV;
        else if (fmt == CH_EVM_FMT_ETL_JSON)
            k = F_JSONL;
        else if (sniff_rpc(path))
            k = F_RPC;
        else
            k = ends_with(path, ".csv") ? F_CSV : F_JSONL;
        /* AUTO on a single non-RPC file: let the ETL reader look at it */
        rc = k == F_RPC
                 ? load_rpc(&r->set, path, err)
                 : load_etl(&r->set, path, fmt == CH_EVM_FMT_AUTO ? CH_EVM_FMT_AUTO : fmt, err);
    }
    if (rc == 0) rc = evm_set_finish(&r->set, err);
    if (rc != 0) {
        ch_evm_reader_close(r);
        return -1;
    }
    *out = r;
    return 0;
}

int ch_evm_reader_next(ch_evm_reader *r, ch_evm_block *b, ch_error *err) {
    (void)err;
    if (r->next >= r->set.n) return 0;
    ch_evm_block_free(b);
    *b = *r->set.v[r->next];
    free(r->set.v[r->next]);
    r->set.v[r->next++] = NULL;
    return 1;
}

void ch_evm_reader_close(ch_evm_reader *r) {
    if (!r) return;
    for (size_t i = r->next; i < r->set.n; i++) {
        ch_evm_block_free(r->set.v[i]);
        free(r->set.v[i]);
    }
    free(r->set.v);
    free(r);
}
