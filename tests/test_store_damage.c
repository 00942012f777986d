/* A damaged store is a clear error, never a signal or a hang. A small
 * Bitcoin store and a small EVM store (generated chains) are damaged in each
 * way a disk, a copy or a person damages files: data.mdb truncated, cut to
 * half its length or overwritten with garbage; meta lengths too long, too
 * short or of the wrong size; column files overwritten with garbage in the
 * middle or truncated. On each, every command that reads the store (status,
 * tx, address, trace, screen, cluster build, cluster ADDR, check) ends with
 * an exit code (0, 1 or 2; 2 with a message on stderr), and `check` finds
 * the damage (exit 1) on every one. The undamaged stores check sound (the
 * oracle that check is not always "damaged"). Opening for writing a store
 * that cannot be opened (index not a folder, garbage data.mdb) is an error
 * message, not a crash; so is opening for writing a read-only one, and a
 * full disk is named. */
#include "support/storemeta.h"
#include "support/testutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "coinhound/address.h"
#include "coinhound/evmgen.h"
#include "coinhound/gen.h"
#include "coinhound/ingest.h"
#include "coinhound/store.h"

typedef struct fixture {
    char *dir;
    char btc_db[1024], eth_db[1024];
    char txid[65], addr[128];         /* a btc tx with outputs, and the address it pays */
    char eth_txid[70], eth_addr[128]; /* an eth tx and its sender */
} fixture;

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...) {
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    if (system(cmd) != 0) fail_msg("failed: %s", cmd);
}

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    f->dir = tu_tmpdir();
    char blocks[1100], rpc[1100];
    snprintf(blocks, sizeof blocks, "%s/blocks", f->dir);
    snprintf(rpc, sizeof rpc, "%s/rpc", f->dir);
    snprintf(f->btc_db, sizeof f->btc_db, "%s/btc-db", f->dir);
    snprintf(f->eth_db, sizeof f->eth_db, "%s/eth-db", f->dir);
    ch_error err;
    ch_gen_opts o;
    ch_gen_opts_init(&o);
    o.out_dir = blocks;
    o.seed = 5;
    o.txs = 3000;
    o.txs_per_block = 40;
    o.maturity = 20;
    if (ch_gen_run(&o, NULL, &err) != 0) fail_msg("gen: %s", err.msg);
    ch_evmgen_opts e;
    ch_evmgen_opts_init(&e);
    e.out_dir = rpc;
    e.seed = 5;
    e.transfers = 2000;
    if (ch_evmgen_run(&e, NULL, &err) != 0) fail_msg("evmgen: %s", err.msg);
    ch_ingest_opts io = {.progress = 0};
    if (ch_ingest_btc(blocks, f->btc_db, &io, NULL, &err) != 0) fail_msg("%s", err.msg);
    if (ch_ingest_evm(rpc, f->eth_db, "eth", &io, NULL, &err) != 0) fail_msg("%s", err.msg);
    /* query arguments from the sound stores */
    ch_store *s;
    assert_int_equal(ch_store_open(f->btc_db, "btc", CH_STORE_READ, &s, &err), 0);
    ch_store_counts c;
    ch_store_get_counts(s, &c);
    uint64_t tx = c.txs / 2, first, n;
    ch_store_tx_outputs(s, tx, &first, &n);
    assert_true(n > 0);
    ch_hash256 h;
    ch_store_txid(s, tx, &h);
    ch_hash256_to_hex(&h, f->txid);
    ch_addr a;
    ch_store_addr_of(s, ch_out_addr(ch_store_output(s, first)), &a);
    assert_int_equal(ch_addr_to_string(&a, CH_NET_MAINNET, f->addr), 0);
    ch_store_close(s);
    assert_int_equal(ch_store_open(f->eth_db, "eth", CH_STORE_READ, &s, &err), 0);
    ch_store_get_counts(s, &c);
    tx = c.txs / 2;
    ch_store_txid(s, tx, &h);
    f->eth_txid[0] = '0';
    f->eth_txid[1] = 'x';
    ch_hash256_to_hex(&h, f->eth_txid + 2);
    ch_store_addr_of(s, ch_store_etx(s, tx)->from, &a);
    snprintf(f->eth_addr, sizeof f->eth_addr, "0x");
    for (int i = 0; i < 20; i++)
        snprintf(f->eth_addr + 2 + 2 * i, 3, "%02x", a.bytes[i]);
    ch_store_close(s);
    /* an attribution store, so that screen --db reads the chain side too */
    sh("printf 'address,category,entity\\n%s,scam,x\\n' > %s/l.csv && "
       "%s intel import %s/l.csv --db %s >/dev/null 2>&1 && "
       "%s intel import %s/l.csv --db %s >/dev/null 2>&1",
       f->addr, f->dir, tu_bin("coinhound"), f->dir, f->btc_db, tu_bin("coinhound"), f->dir,
       f->eth_db);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    tu_rmrf(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* Run `coinhound ARGS` under a 60 s timeout: its exit code (a signal or a
 * hang fails the test, naming the command). */
static int run(const char *what, const char *args) {
    char cmd[8192], errf[64];
    snprintf(errf, sizeof errf, "/tmp/coinhound-damage-%ld.err", (long)getpid());
    snprintf(cmd, sizeof cmd, "timeout -s KILL 60 %s %s >/dev/null 2>%s", tu_bin("coinhound"), args,
             errf);
    int st = system(cmd);
    if (!WIFEXITED(st)) fail_msg("%s: coinhound %s: did not exit", what, args);
    int rc = WEXITSTATUS(st);
    size_t n = 0;
    char *msg = (char *)tu_read_file(errf, &n);
    unlink(errf);
    if (rc > 2)
        fail_msg("%s: coinhound %s: exit %d (a signal or a hang): %s", what, args, rc,
                 msg ? msg : "");
    if (rc == 2 && n == 0) fail_msg("%s: coinhound %s: exit 2 without a word", what, args);
    free(msg);
    return rc;
}

/* Every reading command on the store at db (chain btc or eth). */
static void run_all(const fixture *f, const char *what, const char *db, const char *chain,
                    int check_want) {
    char a[4096];
    bool btc = !strcmp(chain, "btc");
    snprintf(a, sizeof a, "status --db %s --chain %s", db, chain);
    run(what, a);
    snprintf(a, sizeof a, "tx %s --db %s --chain %s", btc ? f->txid : f->eth_txid, db, chain);
    run(what, a);
    snprintf(a, sizeof a, "address %s --db %s --chain %s --limit 0", btc ? f->addr : f->eth_addr,
             db, chain);
    run(what, a);
    if (btc)
        snprintf(a, sizeof a, "trace --from %s:0 --db %s", f->txid, db);
    else
        snprintf(a, sizeof a, "trace --from %s --db %s --chain eth", f->eth_addr, db);
    run(what, a);
    if (btc) {
        snprintf(a, sizeof a, "screen %s --db %s", f->addr, db);
        run(what, a);
    }
    snprintf(a, sizeof a, "cluster build --db %s --chain %s", db, chain);
    run(what, a);
    snprintf(a, sizeof a, "cluster %s --db %s --chain %s", btc ? f->addr : f->eth_addr, db, chain);
    run(what, a);
    snprintf(a, sizeof a, "check --db %s --chain %s", db, chain);
    int rc = run(what, a);
    if (rc != check_want) fail_msg("%s: check said %d, not %d", what, rc, check_want);
}

/* A fresh copy of the sound store src as dst. */
static void copy_store(const char *src, const char *dst) {
    tu_rmrf(dst);
    sh("cp -r %s %s && rm -f %s/*/clusters.col", src, dst, dst);
}

static void garbage(const char *path, double from, double to) {
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    off_t a = (off_t)((double)st.st_size * from), b = (off_t)((double)st.st_size * to);
    uint32_t x = 2463534242u;
    for (off_t o = a; o < b; o += 4) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        if (pwrite(fd, &x, b - o < 4 ? (size_t)(b - o) : 4, o) < 0) fail_msg("write %s", path);
    }
    close(fd);
}

static void cut(const char *path, double keep) {
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(truncate(path, (off_t)((double)st.st_size * keep)), 0);
}

typedef enum {
    D_DATA_CUT,
    D_DATA_HALF,
    D_DATA_GARBAGE,
    D_META_LONG,
    D_META_SHORT,
    D_META_SIZE,
    D_COL_GARBAGE,
    D_COL_CUT
} damage_kind;

typedef struct damage {
    const char *name;
    damage_kind kind;
    const char *file; /* column, or meta key */
} damage;

static void apply(const char *store_dir, const damage *d) {
    char index[4200];
    snprintf(index, sizeof index, "%s/index", store_dir);
    char path[1300];
    snprintf(path, sizeof path, "%s/%s", store_dir,
             d->kind <= D_DATA_GARBAGE ? "index/data.mdb"
             : d->file                 ? d->file
                                       : "");
    switch (d->kind) {
    case D_DATA_CUT:
        assert_int_equal(truncate(path, 3 * 4096), 0);
        break;
    case D_DATA_HALF:
        cut(path, 0.5);
        break;
    case D_DATA_GARBAGE:
        garbage(path, 0, 1);
        break;
    case D_META_LONG:
    case D_META_SHORT: {
        uint64_t v = tu_meta_get_u64(index, d->file);
        tu_meta_put_u64(index, d->file, d->kind == D_META_LONG ? v + 1000 : v / 2);
        break;
    }
    case D_META_SIZE:
        tu_meta_put(index, d->file, "abc", 3);
        break;
    case D_COL_GARBAGE:
        garbage(path, 0.4, 0.6);
        break;
    case D_COL_CUT:
        cut(path, 0.5);
        break;
    }
}

static void damage_each(const fixture *f, const char *src_db, const char *chain, const damage *list,
                        size_t n) {
    char db[1100], store_dir[1200];
    snprintf(db, sizeof db, "%s/damaged-%s", f->dir, chain);
    snprintf(store_dir, sizeof store_dir, "%s/%s", db, chain);
    run_all(f, "sound", src_db, chain, 0);
    for (size_t i = 0; i < n; i++) {
        copy_store(src_db, db);
        apply(store_dir, &list[i]);
        char what[128];
        snprintf(what, sizeof what, "%s %s", chain, list[i].name);
        run_all(f, what, db, chain, 1);
        print_message("%s: every command ended with a word; check found it\n", what);
    }
    tu_rmrf(db);
}

static void test_damaged_btc_store_gives_errors_not_signals(void **state) {
    fixture *f = *state;
    static const damage list[] = {
        {"data.mdb truncated", D_DATA_CUT, NULL},
        {"data.mdb half length", D_DATA_HALF, NULL},
        {"data.mdb garbage", D_DATA_GARBAGE, NULL},
        {"meta n_outs too long", D_META_LONG, "n_outs"},
        {"meta n_txs too short", D_META_SHORT, "n_txs"},
        {"meta n_ins too short", D_META_SHORT, "n_ins"},
        {"meta n_blocks too long", D_META_LONG, "n_blocks"},
        {"meta n_ins wrong size", D_META_SIZE, "n_ins"},
        {"blocks.col garbage", D_COL_GARBAGE, "blocks.col"},
        {"txs.col garbage", D_COL_GARBAGE, "txs.col"},
        {"ins.col garbage", D_COL_GARBAGE, "ins.col"},
        {"outs.col garbage", D_COL_GARBAGE, "outs.col"},
        {"outprev.col garbage", D_COL_GARBAGE, "outprev.col"},
        {"addrs20.col garbage", D_COL_GARBAGE, "addrs20.col"},
        {"txids.col garbage", D_COL_GARBAGE, "txids.col"},
        {"txvin.col garbage", D_COL_GARBAGE, "txvin.col"},
        {"outs.col truncated", D_COL_CUT, "outs.col"},
        {"txs.col truncated", D_COL_CUT, "txs.col"},
    };
    damage_each(f, f->btc_db, "btc", list, sizeof list / sizeof list[0]);
}

static void test_damaged_eth_store_gives_errors_not_signals(void **state) {
    fixture *f = *state;
    static const damage list[] = {
        {"data.mdb half length", D_DATA_HALF, NULL},
        {"meta n_xfers too long", D_META_LONG, "n_xfers"},
        {"meta n_txs too short", D_META_SHORT, "n_txs"},
        {"xfers.col garbage", D_COL_GARBAGE, "xfers.col"},
        {"xprev.col garbage", D_COL_GARBAGE, "xprev.col"},
        {"txs.col garbage", D_COL_GARBAGE, "txs.col"},
        {"etxs.col garbage", D_COL_GARBAGE, "etxs.col"},
        {"xfers.col truncated", D_COL_CUT, "xfers.col"},
    };
    damage_each(f, f->eth_db, "eth", list, sizeof list / sizeof list[0]);
}

static void test_failed_open_for_writing_is_an_error(void **state) {
    fixture *f = *state;
    char db[1100], idx[1200];
    ch_error err;
    ch_store *s;
    /* the index is a file, not a folder */
    snprintf(db, sizeof db, "%s/notdir", f->dir);
    snprintf(idx, sizeof idx, "%s/btc/index", db);
    sh("mkdir -p %s/btc && echo x > %s", db, idx);
    assert_int_equal(ch_store_open(db, "btc", CH_STORE_WRITE, &s, &err), -1);
    assert_null(s);
    assert_non_null(strstr(err.msg, "index"));
    /* data.mdb is not an LMDB file */
    snprintf(db, sizeof db, "%s/garbage", f->dir);
    copy_store(f->btc_db, db);
    snprintf(idx, sizeof idx, "%s/btc/index/data.mdb", db);
    garbage(idx, 0, 1);
    assert_int_equal(ch_store_open(db, "btc", CH_STORE_WRITE, &s, &err), -1);
    assert_null(s);
    char a[4096];
    snprintf(a, sizeof a, "ingest btc %s/blocks --db %s", f->dir, db);
    assert_int_equal(run("ingest on garbage", a), 2);
}

/* A full disk (a 512 KiB tmpfs; skipped where one cannot be mounted): an
 * import and an ingest fail with exit 2 naming the file and "no space left
 * on device", print no success line, and leave the store as it was. */
static void test_full_disk_is_named(void **state) {
    fixture *f = *state;
    char mnt[1100], cmd[8192];
    snprintf(mnt, sizeof mnt, "%s/full", f->dir);
    sh("mkdir -p %s", mnt);
    snprintf(cmd, sizeof cmd, "mount -t tmpfs -o size=512k tmpfs %s 2>/dev/null", mnt);
    if (system(cmd) != 0) {
        print_message("skipped: cannot mount a small tmpfs here (not root?)\n");
        skip();
    }
    /* an import too big for the disk */
    char csv[1200];
    snprintf(csv, sizeof csv, "%s/big.csv", f->dir);
    FILE *out = fopen(csv, "w");
    assert_non_null(out);
    fputs("address,category,entity\n", out);
    for (int i = 0; i < 30000; i++)
        fprintf(out, "0x%08x%08x%08x%08x%08x,scam,e%d\n", i, i * 7, i * 13, i * 31, i * 61, i);
    fclose(out);
    snprintf(cmd, sizeof cmd, "%s intel import %s --db %s/db 2>&1", tu_bin("coinhound"), csv, mnt);
    int status;
    char *said = tu_run(cmd, &status);
    assert_int_equal(status, 2);
    if (!strstr(said, "no space left on device") || !strstr(said, "intel/data.mdb"))
        fail_msg("import on a full disk said: %s", said);
    assert_null(strstr(said, "addresses,")); /* no success line */
    free(said);
    /* an ingest too big for the disk */
    snprintf(cmd, sizeof cmd, "%s ingest btc %s/blocks --db %s/db2 --no-progress 2>&1",
             tu_bin("coinhound"), f->dir, mnt);
    said = tu_run(cmd, &status);
    assert_int_equal(status, 2);
    if (!strstr(said, "no space left on device") || !strstr(said, "/db2/btc/"))
        fail_msg("ingest on a full disk said: %s", said);
    assert_null(strstr(said, "ingested"));
    free(said);
    snprintf(cmd, sizeof cmd, "umount %s", mnt);
    assert_int_equal(system(cmd), 0);
}

/* A store on a read-only file system (a tmpfs remounted read-only; skipped
 * where none can be mounted): writers fail with a message naming the file
 * system, readers still read. */
static void test_read_only_store_refuses_writers_with_a_message(void **state) {
    fixture *f = *state;
    char mnt[1100], cmd[8192];
    snprintf(mnt, sizeof mnt, "%s/ro", f->dir);
    sh("mkdir -p %s", mnt);
    snprintf(cmd, sizeof cmd, "mount -t tmpfs -o size=32m tmpfs %s 2>/dev/null", mnt);
    if (system(cmd) != 0) {
        print_message("skipped: cannot mount a tmpfs here (not root?)\n");
        skip();
    }
    sh("cp -r %s %s/db && mount -o remount,ro %s", f->btc_db, mnt, mnt);
    char a[4096];
    snprintf(a, sizeof a, "ingest btc %s/blocks --db %s/db --no-progress", f->dir, mnt);
    assert_int_equal(run("read-only ingest", a), 2);
    snprintf(cmd, sizeof cmd, "%s %s 2>&1", tu_bin("coinhound"), a);
    int status;
    char *said = tu_run(cmd, &status);
    if (!strstr(said, "Read-only file system")) fail_msg("ingest said: %s", said);
    free(said);
    snprintf(a, sizeof a, "cluster build --db %s/db", mnt);
    assert_int_equal(run("read-only cluster build", a), 2);
    snprintf(a, sizeof a, "status --db %s/db", mnt);
    assert_int_equal(run("read-only status", a), 0);
    snprintf(cmd, sizeof cmd, "umount %s", mnt);
    assert_int_equal(system(cmd), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_damaged_btc_store_gives_errors_not_signals),
        cmocka_unit_test(test_damaged_eth_store_gives_errors_not_signals),
        cmocka_unit_test(test_failed_open_for_writing_is_an_error),
        cmocka_unit_test(test_full_disk_is_named),
        cmocka_unit_test(test_read_only_store_refuses_writers_with_a_message),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
