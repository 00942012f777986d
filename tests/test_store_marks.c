/* Spent marks and address heads written at the commit, sorted, in one pass
 * (src/store/marks.c, st_col_patch_many): the batched write equals the
 * same stores made one by one (a plain oracle), in large folios (pwrite of
 * spans) and in small pages (st_col_small_pages: stores into the mapping,
 * appends a page at a time); a batch's marks are seen by its own
 * double-spend check before they reach the file, reach it at the commit,
 * and never reach it when the batch is aborted; a store whose writer holds
 * its in-place files in small pages (ch_store_keep_small_pages, the
 * watcher) is byte for byte the store written without. */
#include "support/testutil.h"
#include "support/handchain.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coinhound/store.h"
#include "gen/gen_internal.h"
#include "store/column.h"

static uint64_t rng = 0x2545f4914f6cdd1dULL;
static uint64_t next_rand(void) {
    return gen_splitmix64(&rng);
}

enum { REC_MAX = 20, N_REC = 70000 };
/* The record size of the column patch_many_case writes: 16 (a page holds
 * whole records) or 20 (some records, and some 8-byte fields, cross a
 * page's edge). */
static size_t rec_bytes = 16;

/* The column's committed bytes, read from the file. */
static void read_file(const st_col *c, uint8_t *out, size_t len) {
    assert_int_equal(pread(c->fd, out, len, 0), (ssize_t)len);
}

/* Append N_REC random records to c (committed), into want from at. */
static void append_random(st_col *c, uint8_t *want, uint64_t at, uint64_t n) {
    ch_error err;
    for (uint64_t i = at; i < at + n; i++) {
        uint8_t r[REC_MAX];
        for (size_t b = 0; b < rec_bytes; b++)
            r[b] = (uint8_t)next_rand();
        memcpy(want + i * rec_bytes, r, rec_bytes);
        assert_int_equal(st_col_append(c, r), i);
    }
    assert_int_equal(st_col_write(c, &err), 0);
    assert_int_equal(st_col_publish(c, &err), 0);
}

/* How many of the pages of c's mapping [0, len) the kernel holds in large
 * folios (a compound page: /proc/self/pagemap's frame, then
 * /proc/kpageflags' COMPOUND_HEAD or COMPOUND_TAIL); -1 when those files
 * cannot be read (not root). Each page is read first, so it is mapped. */
static long pages_in_large_folios(const st_col *c, size_t len) {
    int pm = open("/proc/self/pagemap", O_RDONLY), kf = open("/proc/kpageflags", O_RDONLY);
    long large = 0, seen = 0;
    volatile uint8_t sink = 0;
    for (size_t off = 0; pm >= 0 && kf >= 0 && off < len; off += 4096) {
        sink ^= c->map[off];
        uint64_t e = 0, f = 0;
        uintptr_t page = ((uintptr_t)c->map + off) / 4096;
        if (pread(pm, &e, 8, (off_t)(page * 8)) != 8 || !(e >> 63)) continue;
        uint64_t pfn = e & ((1ULL << 55) - 1);
        if (!pfn || pread(kf, &f, 8, (off_t)(pfn * 8)) != 8) continue; /* frames hidden */
        seen++;
        large += ((f >> 15) & 1) || ((f >> 16) & 1);
    }
    if (pm >= 0) close(pm);
    if (kf >= 0) close(kf);
    (void)sink;
    return seen ? large : -1;
}

/* Batches of edits against one by one; small: the column is held in
 * small pages after its first records (the rest appended a page at a
 * time); records of rec bytes. */
static void patch_many_case(bool small, size_t rec) {
    rec_bytes = rec;
    char *dir = tu_tmpdir();
    char path[4200];
    snprintf(path, sizeof path, "%s/c.col", dir);
    st_col c;
    ch_error err;
    assert_int_equal(st_col_open(&c, path, rec_bytes, 0, true, &err), 0);
    uint8_t *want = malloc((size_t)N_REC * rec_bytes), *got = malloc((size_t)N_REC * rec_bytes);
    uint64_t first = small ? N_REC / 3 + 5 : N_REC; /* not at a page's edge */
    append_random(&c, want, 0, first);
    if (small) {
        long before = pages_in_large_folios(&c, (size_t)first * rec_bytes);
        assert_int_equal(st_col_small_pages(&c, &err), 0);
        assert_true(c.small_pages);
        read_file(&c, got, (size_t)first * rec_bytes); /* read back as it was */
        assert_memory_equal(got, want, (size_t)first * rec_bytes);
        append_random(&c, want, first, N_REC - first);
        /* what it is for: every page in a 4 KiB folio, those read back and
         * those appended since (where the kernel shows frames: as root) */
        long after = pages_in_large_folios(&c, (size_t)N_REC * rec_bytes);
        if (after < 0)
            printf("# folio sizes not checked: /proc/kpageflags unreadable\n");
        else
            printf("# pages in large folios: %ld before, %ld after\n", before, after);
        if (after >= 0) assert_int_equal(after, 0);
    }
    read_file(&c, got, (size_t)N_REC * rec_bytes);
    assert_memory_equal(got, want, (size_t)N_REC * rec_bytes);
    /* 4-byte fields at the record's end (spent marks) and 8-byte ones
     * before (heads; across a page's edge now and then in 20-byte
     * records): spread out, clustered, repeated (the later wins), and the
     * first and last records */
    for (int round = 0; round < 6; round++) {
        size_t off = round % 2 ? rec_bytes - 8 : rec_bytes - 4, len = round % 2 ? 8 : 4;
        size_t n = round < 2 ? 40 : round < 4 ? 5000 : 60000;
        st_col_edit *e = malloc(n * sizeof *e);
        for (size_t k = 0; k < n; k++) {
            uint64_t i = k == 0 ? 0 : k == 1 ? N_REC - 1 : next_rand() % N_REC;
            if (k > 2 && next_rand() % 8 == 0) i = e[next_rand() % k].i;     /* repeated */
            if (k > 2 && next_rand() % 4 == 0) i = (e[k - 1].i + 1) % N_REC; /* clustered */
            e[k] = (st_col_edit){i, next_rand()};
            uint32_t v32 = (uint32_t)e[k].v;
            if (len == 4)
                memcpy(want + i * rec_bytes + off, &v32, 4);
            else
                memcpy(want + i * rec_bytes + off, &e[k].v, 8);
        }
        assert_int_equal(st_col_patch_many(&c, e, n, off, len, &err), 0);
        read_file(&c, got, (size_t)N_REC * rec_bytes);
        assert_memory_equal(got, want, (size_t)N_REC * rec_bytes);
        /* the mapping sees the same bytes */
        assert_memory_equal(c.map, want, (size_t)N_REC * rec_bytes);
        free(e);
    }
    /* a record past the committed ones is refused, nothing written */
    st_col_edit bad[2] = {{5, 1}, {N_REC, 2}};
    assert_int_not_equal(st_col_patch_many(&c, bad, 2, rec_bytes - 4, 4, &err), 0);
    assert_non_null(strstr(err.msg, "past the"));
    read_file(&c, got, (size_t)N_REC * rec_bytes);
    assert_memory_equal(got, want, (size_t)N_REC * rec_bytes);
    st_col_close(&c);
    free(want);
    free(got);
    tu_rmrf(dir);
    free(dir);
}

static void test_patch_many_equals_stores_one_by_one(void **state) {
    (void)state;
    patch_many_case(false, 16);
    patch_many_case(false, 20);
}

static void test_patch_many_in_small_pages_equals_stores_one_by_one(void **state) {
    (void)state;
    patch_many_case(true, 16);
    patch_many_case(true, 20);
}

/* Made-up txids (block hashes from 0x100000 on) and v0 witness addresses
 * (tests/support/handchain.c). */
static ch_hash256 txid_of(uint32_t n) {
    return mkhash(0x7a, n);
}

static ch_addr addr_of(uint32_t k) {
    return mkaddr_kind(CH_ADDR_WITNESS, k);
}

enum { OUTS = 3000 };

typedef struct chain {
    ch_store *s;
    uint32_t ntx, height;
} chain;

static void begin(chain *c) {
    ch_block_meta m;
    memset(&m, 0, sizeof m);
    m.hash = txid_of(0x100000 + c->height++);
    ch_error err;
    assert_int_equal(ch_store_begin_block(c->s, &m, &err), 0);
}

/* A tx spending outputs ins[] of tx 0 (none: a coinbase) with one output;
 * 0, or -1 with err (the add that failed). */
static int tx(chain *c, const uint32_t *ins, size_t n, ch_error *err) {
    ch_hash256 id = txid_of(c->ntx++), prev = txid_of(0);
    if (ch_store_add_tx(c->s, &id, 100, err) != 0) return -1;
    if (n == 0 && ch_store_add_coinbase_input(c->s, err) != 0) return -1;
    for (size_t i = 0; i < n; i++)
        if (ch_store_add_input(c->s, &prev, ins[i], err) != 0) return -1;
    ch_addr a = addr_of(c->ntx);
    return ch_store_add_output(c->s, 1000, CH_SCRIPT_P2WPKH, &a, err);
}

static void open_writer(chain *c, const char *dir) {
    ch_error err;
    assert_int_equal(ch_store_open(dir, "btc", CH_STORE_WRITE, &c->s, &err), 0);
}

/* Output o of tx 0's spender as a reader sees it (-1: unspent). */
static int64_t spender(const char *dir, uint32_t o) {
    ch_store *r;
    ch_error err;
    assert_int_equal(ch_store_open(dir, "btc", CH_STORE_READ, &r, &err), 0);
    int64_t sp = ch_store_output_spender(r, o);
    ch_store_close(r);
    return sp;
}

static void test_marks_reach_the_file_at_the_commit_only(void **state) {
    (void)state;
    char *dir = tu_tmpdir();
    chain c = {NULL, 0, 0};
    ch_error err;
    open_writer(&c, dir);
    /* tx 0: a coinbase of OUTS outputs, committed */
    begin(&c);
    ch_hash256 id = txid_of(c.ntx++);
    assert_int_equal(ch_store_add_tx(c.s, &id, 100, &err), 0);
    assert_int_equal(ch_store_add_coinbase_input(c.s, &err), 0);
    for (uint32_t o = 0; o < OUTS; o++) {
        ch_addr a = addr_of(o % 500);
        assert_int_equal(ch_store_add_output(c.s, 5000 + o, CH_SCRIPT_P2WPKH, &a, &err), 0);
    }
    assert_int_equal(ch_store_end_block(c.s, &err), 0);
    assert_int_equal(ch_store_commit(c.s, &err), 0);

    /* a batch that spends 5 and 17, then 5 again: refused in the batch,
     * before any mark is in the file; aborted, nothing stays */
    begin(&c);
    uint32_t two[2] = {5, 17}, again = 5;
    assert_int_equal(tx(&c, two, 2, &err), 0);
    assert_int_not_equal(tx(&c, &again, 1, &err), 0);
    assert_non_null(strstr(err.msg, "already spent"));
    ch_store_abort(c.s);
    ch_store_close(c.s);
    assert_int_equal(spender(dir, 5), -1);
    assert_int_equal(spender(dir, 17), -1);

    /* a batch spending most outputs in a shuffled order, several a tx:
     * after the commit each one names its spender */
    open_writer(&c, dir);
    c.ntx = 1;
    uint32_t order[OUTS];
    for (uint32_t o = 0; o < OUTS; o++)
        order[o] = o;
    for (uint32_t o = OUTS - 1; o > 0; o--) {
        uint32_t j = (uint32_t)(next_rand() % (o + 1)), t = order[o];
        order[o] = order[j];
        order[j] = t;
    }
    int64_t want[OUTS];
    for (uint32_t o = 0; o < OUTS; o++)
        want[o] = -1;
    begin(&c);
    for (uint32_t k = 0; k + 3 <= OUTS * 3 / 4; k += 3) {
        uint32_t t = c.ntx;
        assert_int_equal(tx(&c, order + k, 3, &err), 0);
        for (int j = 0; j < 3; j++)
            want[order[k + j]] = t;
    }
    assert_int_equal(ch_store_end_block(c.s, &err), 0);
    /* before the commit the file holds none of them (the writer's own
     * handle reads it) */
    assert_int_equal(ch_store_output_spender(c.s, order[0]), -1);
    assert_int_equal(ch_store_commit(c.s, &err), 0);
    assert_int_equal(ch_store_output_spender(c.s, order[0]), want[order[0]]);
    ch_store_close(c.s);
    for (uint32_t o = 0; o < OUTS; o++)
        assert_int_equal(spender(dir, o), want[o]);
    /* a later batch spending one of them again is refused, naming the
     * committed spender */
    uint32_t ntx = c.ntx;
    open_writer(&c, dir);
    c.ntx = ntx;
    begin(&c);
    assert_int_not_equal(tx(&c, &order[0], 1, &err), 0);
    char need[64];
    snprintf(need, sizeof need, "already spent by tx #%lld", (long long)want[order[0]]);
    assert_non_null(strstr(err.msg, need));
    ch_store_abort(c.s);
    ch_store_close(c.s);
    tu_rmrf(dir);
    free(dir);
}

/* The same chain into two stores, one writer holding its in-place files in
 * small pages: blocks of txs that spend outputs of earlier commits (marks
 * all over outs.col) and pay addresses seen before (heads moved in place),
 * a commit a block. */
static void build(const char *dir, bool small) {
    chain c = {NULL, 0, 0};
    ch_error err;
    open_writer(&c, dir);
    if (small) assert_int_equal(ch_store_keep_small_pages(c.s, &err), 0);
    rng = 0x9e3779b97f4a7c15ULL;
    /* tx 0: a coinbase of OUTS outputs to 500 addresses */
    begin(&c);
    ch_hash256 id = txid_of(c.ntx++);
    assert_int_equal(ch_store_add_tx(c.s, &id, 100, &err), 0);
    assert_int_equal(ch_store_add_coinbase_input(c.s, &err), 0);
    for (uint32_t o = 0; o < OUTS; o++) {
        ch_addr a = addr_of(o % 500);
        assert_int_equal(ch_store_add_output(c.s, 5000 + o, CH_SCRIPT_P2WPKH, &a, &err), 0);
    }
    assert_int_equal(ch_store_end_block(c.s, &err), 0);
    assert_int_equal(ch_store_commit(c.s, &err), 0);
    uint32_t left[OUTS];
    for (uint32_t o = 0; o < OUTS; o++)
        left[o] = o;
    uint32_t n_left = OUTS;
    for (int b = 0; b < 8; b++) {
        begin(&c);
        for (int t = 0; t < 100 && n_left >= 2; t++) {
            uint32_t ins[2];
            for (int j = 0; j < 2; j++) {
                uint32_t k = (uint32_t)(next_rand() % n_left);
                ins[j] = left[k];
                left[k] = left[--n_left];
            }
            ch_hash256 tid = txid_of(c.ntx++), prev = txid_of(0);
            assert_int_equal(ch_store_add_tx(c.s, &tid, 100, &err), 0);
            for (int j = 0; j < 2; j++)
                assert_int_equal(ch_store_add_input(c.s, &prev, ins[j], &err), 0);
            ch_addr a = addr_of((uint32_t)(next_rand() % 700)); /* old and new */
            assert_int_equal(ch_store_add_output(c.s, 100, CH_SCRIPT_P2WPKH, &a, &err), 0);
        }
        assert_int_equal(ch_store_end_block(c.s, &err), 0);
        assert_int_equal(ch_store_commit(c.s, &err), 0);
    }
    ch_store_close(c.s);
}

static void test_small_pages_store_equals_one_written_without(void **state) {
    (void)state;
    char *a = tu_tmpdir(), *b = tu_tmpdir();
    build(a, false);
    build(b, true);
    static const char *const cols[] = {"blocks.col",  "txs.col",     "txids.col",   "ins.col",
                                       "outs.col",    "outprev.col", "addrs20.col", "txvin.col",
                                       "heads20.col", "heads32.col"};
    for (size_t i = 0; i < sizeof cols / sizeof *cols; i++) {
        char pa[4200], pb[4200];
        snprintf(pa, sizeof pa, "%s/btc/%s", a, cols[i]);
        snprintf(pb, sizeof pb, "%s/btc/%s", b, cols[i]);
        size_t la = 0, lb = 0;
        uint8_t *da = tu_read_file(pa, &la), *db = tu_read_file(pb, &lb);
        assert_non_null(da);
        assert_non_null(db);
        assert_int_equal(la, lb);
        if (la) assert_memory_equal(da, db, la);
        free(da);
        free(db);
    }
    /* and the spends are there: a reader names each spender */
    ch_store *r;
    ch_error err;
    assert_int_equal(ch_store_open(b, "btc", CH_STORE_READ, &r, &err), 0);
    uint32_t spent = 0;
    for (uint32_t o = 0; o < OUTS; o++)
        spent += ch_store_output_spender(r, o) >= 0;
    assert_int_equal(spent, 8 * 100 * 2);
    ch_store_close(r);
    tu_rmrf(a);
    tu_rmrf(b);
    free(a);
    free(b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_patch_many_equals_stores_one_by_one),
        cmocka_unit_test(test_patch_many_in_small_pages_equals_stores_one_by_one),
        cmocka_unit_test(test_small_pages_store_equals_one_written_without),
        cmocka_unit_test(test_marks_reach_the_file_at_the_commit_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
