/* libFuzzer: opening and reading a damaged store.
 *
 * A small Bitcoin store (a generated chain, built once) is copied to a
 * scratch folder for each input, then damaged as the input says: a list of
 * 8-byte commands [file, op, offset u16, value u32] over the column files
 * (op 0: write the value at offset mod size; 1: truncate to offset mod
 * size; 2: grow by offset bytes) and the meta table (op 3: the committed
 * length of column `file` set to value; 4: data.mdb truncated to offset
 * pages). Then the read path runs: open, counts, every tx's inputs and
 * outputs with the outputs they spend and their addresses, address
 * histories, index lookups, ch_store_verify, a forward and a backward
 * trace, and a cluster build.
 * Properties: no crash, no out-of-bounds read, no hang; a store that
 * ch_store_verify calls sound gives no damage to the readers either.
 * (LMDB's own pages are LMDB's: their bytes are not mutated, only the
 * file's length and the values coinhound stores.) */
#include <dirent.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coinhound/cluster.h"
#include "coinhound/gen.h"
#include "coinhound/ingest.h"
#include "coinhound/store.h"
#include "coinhound/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static char root[] = "/tmp/coinhound-fuzz-store-XXXXXX";
static char pristine[256], work[256];

static const char *const FILES[] = {"blocks.col",  "txs.col",     "txids.col",
                                    "ins.col",     "outs.col",    "outprev.col",
                                    "addrs20.col", "addrs32.col", "txvin.col"};
static const char *const META[] = {"n_blocks",  "n_txs",     "n_txids",   "n_ins",  "n_outs",
                                   "n_outprev", "n_addrs20", "n_addrs32", "n_txvin"};
#define N_FILES (sizeof FILES / sizeof FILES[0])

static void sh(const char *cmd) {
    if (system(cmd) != 0) abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    if (!mkdtemp(root)) abort();
    char blocks[300], cmd[700];
    snprintf(blocks, sizeof blocks, "%s/blocks", root);
    snprintf(pristine, sizeof pristine, "%s/db", root);
    snprintf(work, sizeof work, "%s/work", root);
    ch_gen_opts o;
    ch_gen_opts_init(&o);
    o.out_dir = blocks;
    o.seed = 9;
    o.txs = 300;
    o.txs_per_block = 20;
    o.maturity = 10;
    ch_error err;
    if (ch_gen_run(&o, NULL, &err) != 0) abort();
    ch_ingest_opts io = {.progress = 0};
    if (ch_ingest_btc(blocks, pristine, &io, NULL, &err) != 0) abort();
    snprintf(cmd, sizeof cmd, "rm -rf %s", blocks);
    sh(cmd);
    return 0;
}

static void meta_put(const char *key, uint64_t v) {
    char idx[400];
    snprintf(idx, sizeof idx, "%s/btc/index", work);
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    if (mdb_env_create(&env) != 0) return;
    mdb_env_set_maxdbs(env, 8);
    if (mdb_env_open(env, idx, 0, 0644) == 0 && mdb_txn_begin(env, NULL, 0, &txn) == 0) {
        MDB_val k = {strlen(key), (void *)key}, d = {8, &v};
        if (mdb_dbi_open(txn, "meta", 0, &dbi) == 0 && mdb_put(txn, dbi, &k, &d, 0) == 0)
            mdb_txn_commit(txn);
        else
            mdb_txn_abort(txn);
    }
    mdb_env_close(env);
}

/* One command; data.mdb's truncation (op 4) only in the last pass, after
 * the meta writes this harness makes through LMDB itself. */
static void damage(const uint8_t *c, bool last_pass) {
    unsigned file = c[0] % N_FILES, op = c[1] % 5;
    if ((op == 4) != last_pass) return;
    uint32_t off = (uint32_t)c[2] | (uint32_t)c[3] << 8, val;
    memcpy(&val, c + 4, 4);
    char path[400];
    snprintf(path, sizeof path, "%s/btc/%s", work, FILES[file]);
    struct stat st;
    if (op == 3) {
        meta_put(META[file], val % 4096);
        return;
    }
    if (op == 4) {
        snprintf(path, sizeof path, "%s/btc/index/data.mdb", work);
        if (truncate(path, (off_t)(off % 64) * 4096) != 0) return;
        return;
    }
    if (stat(path, &st) != 0 || st.st_size == 0) return;
    if (op == 0) {
        int fd = open(path, O_WRONLY);
        if (fd < 0) return;
        if (pwrite(fd, &val, 4, (off_t)(off % (uint64_t)st.st_size)) < 0) {
        }
        close(fd);
    } else if (op == 1) {
        if (truncate(path, (off_t)(off % (uint64_t)st.st_size)) != 0) return;
    } else {
        if (truncate(path, st.st_size + off) != 0) return;
    }
}

/* Everything a query reads, through the public accessors. */
static void read_all(ch_store *s) {
    ch_store_counts c;
    ch_store_get_counts(s, &c);
    ch_error err;
    for (uint64_t tx = 0; tx < c.txs && tx < 400; tx++) {
        uint64_t fi, ni, fo, no;
        ch_store_tx_inputs(s, tx, &fi, &ni);
        ch_store_tx_outputs(s, tx, &fo, &no);
        for (uint64_t i = 0; i < ni && i < 64; i++) {
            int64_t o = ch_store_input_spent_output(s, fi + i);
            if (o >= 0) (void)ch_out_addr(ch_store_output(s, (uint64_t)o));
        }
        for (uint64_t j = 0; j < no && j < 64; j++) {
            const ch_out_rec *r = ch_store_output(s, fo + j);
            ch_addr a;
            if (ch_out_addr(r)) {
                ch_store_addr_of(s, ch_out_addr(r), &a);
                ch_addr_id id;
                uint64_t last;
                if (ch_store_find_addr(s, &a, &id, &last, &err) == 1 && last != UINT64_MAX) {
                    int steps = 0;
                    for (int64_t o = (int64_t)last; o >= 0 && steps < 100000;
                         o = ch_store_output_prev_same_addr(s, (uint64_t)o))
                        steps++;
                    if (steps >= 100000) abort(); /* a history that does not end */
                }
            }
            (void)ch_store_output_spender(s, fo + j);
        }
        ch_hash256 h;
        ch_store_txid(s, tx, &h);
        uint64_t got;
        (void)ch_store_find_tx(s, &h, &got, &err);
        (void)ch_store_tx_height(s, tx);
        (void)ch_store_tx_size(s, tx);
    }
    for (uint32_t b = 0; b < c.blocks; b++) {
        const ch_block_rec *r = ch_store_block(s, b);
        ch_hash256 h;
        uint32_t height;
        memcpy(h.b, r->hash, 32);
        (void)ch_store_find_block(s, &h, &height, &err);
    }
}

static void trace(ch_store *s, ch_trace_direction dir) {
    ch_store_counts c;
    ch_store_get_counts(s, &c);
    if (!c.txs) return;
    ch_trace_opts o;
    ch_trace_opts_init(&o);
    o.direction = dir;
    ch_trace *t;
    ch_error err;
    if (ch_trace_new(s, &o, &t, &err) != 0) return;
    if (ch_trace_add_tx(t, dir == CH_TRACE_FORWARD ? c.txs / 3 : c.txs - 1, &err) == 0 &&
        ch_trace_run(t, &err) == 0)
        (void)ch_trace_collect(t, &err);
    ch_trace_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf %s && cp -r %s %s", work, pristine, work);
    sh(cmd);
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i + 8 <= size && i < 8 * 16; i += 8)
            damage(data + i, pass == 1);
    ch_error err;
    int sound = ch_store_verify(work, "btc", NULL, NULL, NULL, &err);
    ch_store *s;
    if (ch_store_open(work, "btc", CH_STORE_READ, &s, &err) == 0) {
        read_all(s);
        trace(s, CH_TRACE_FORWARD);
        trace(s, CH_TRACE_BACKWARD);
        uint32_t *cid = NULL;
        ch_cluster_meta m;
        ch_cluster_opts co = {.change = true, .progress = 0};
        if (ch_cluster_compute(s, &co, &cid, &m, NULL, &err) == 0) free(cid);
        if (sound == 0 && ch_store_damage(s, &err) != 0) abort(); /* verify missed it */
        ch_store_close(s);
    } else if (sound == 0) {
        abort(); /* sound, yet it does not open */
    }
    return 0;
}
