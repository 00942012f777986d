/* The persisted block index (ch_blkidx) and coinhound-gen's --extend.
 *
 * Claims: a second update of an unchanged folder reads no record; blocks
 * appended to the last blk file (by ch_gen_run's extend, as Core appends)
 * are the only records read, and the best chain equals the one a full scan
 * of the folder gives (ch_blkdir_best_chain, the independent oracle); a
 * record cut short at the end of a file is left for later when tolerant
 * and an error when strict; a folder written anew is read again whole; and
 * an index held across updates and saves (the watcher's: its saved
 * records mapped, the newer in memory) keeps equal to a full scan; and
 * a store fed by ingests after each extension and reorg equals a clean
 * build of the final folder, column by column and index by index. */
#include "support/testutil.h"

#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chains/btc/btc_internal.h"
#include "coinhound/btc.h"
#include "coinhound/gen.h"
#include "coinhound/ingest.h"
#include "support/genchain.h"
#include "support/storecmp.h"

static void gen(const char *dir, uint64_t seed, bool xor_on) {
    ch_gen_opts o;
    ch_gen_opts_init(&o);
    o.out_dir = dir;
    o.seed = seed;
    o.txs = 600;
    o.txs_per_block = 30;
    o.maturity = 10;
    o.xor_enabled = xor_on;
    ch_error err;
    if (ch_gen_run(&o, NULL, &err) != 0) fail_msg("gen: %s", err.msg);
}

/* The index's best chain equals a full scan's. */
static void assert_same_chain(ch_blkidx *x, const char *dir) {
    ch_error err;
    ch_blkdir *d;
    if (ch_blkdir_open(dir, &d, &err) != 0) fail_msg("%s", err.msg);
    ch_blk_chain a, b;
    if (ch_blkdir_best_chain(d, &a, &err) != 0) fail_msg("%s", err.msg);
    if (ch_blkidx_best_chain(x, &b, &err) != 0) fail_msg("%s", err.msg);
    assert_int_equal(a.n, b.n);
    assert_int_equal(a.n_stale, b.n_stale);
    for (size_t h = 0; h < a.n; h++) {
        assert_memory_equal(ch_blk_chain_rec(&a, h)->hash.b, ch_blk_chain_rec(&b, h)->hash.b, 32);
        assert_int_equal(ch_blk_chain_rec(&a, h)->offset, ch_blk_chain_rec(&b, h)->offset);
        assert_int_equal(ch_blk_chain_rec(&a, h)->file_no, ch_blk_chain_rec(&b, h)->file_no);
    }
    ch_blk_chain_free(&a);
    ch_blk_chain_free(&b);
    ch_blkdir_close(d);
}

/* Load the index at path for dir, update it, save it: the new records. */
static int refresh(const char *path, const char *dir, bool strict, size_t *read, ch_blkidx **keep) {
    ch_error err;
    ch_blkdir *d;
    ch_blkidx *x;
    if (ch_blkdir_open(dir, &d, &err) != 0) fail_msg("%s", err.msg);
    if (ch_blkidx_load(path, d, &x, &err) != 0) fail_msg("%s", err.msg);
    int n = ch_blkidx_update(x, d, strict, &err);
    if (n >= 0 && ch_blkidx_save(x, path, &err) != 0) fail_msg("%s", err.msg);
    if (read) *read = ch_blkidx_read_count(x);
    ch_blkdir_close(d);
    if (keep)
        *keep = x;
    else
        ch_blkidx_free(x);
    return n;
}

static void test_update_reads_only_the_blocks_appended(void **state) {
    (void)state;
    char *t = tu_tmpdir();
    char dir[512], idx[512];
    snprintf(dir, sizeof dir, "%s/blocks", t);
    snprintf(idx, sizeof idx, "%s/blkindex", t);
    gen(dir, 5, true);
    size_t read;
    int first = refresh(idx, dir, true, &read, NULL);
    assert_true(first > 20);
    assert_int_equal(read, (size_t)first);
    assert_int_equal(refresh(idx, dir, true, &read, NULL), 0);
    assert_int_equal(read, 0);
    tu_gen_extend(dir, 3, 0);
    ch_blkidx *x;
    assert_int_equal(refresh(idx, dir, true, &read, &x), 3);
    assert_int_equal(read, 3);
    assert_int_equal(ch_blkidx_count(x), (size_t)first + 3);
    assert_same_chain(x, dir);
    ch_blkidx_free(x);
    /* a reorg: two blocks replaced by a branch of three, all appended */
    tu_gen_extend(dir, 1, 2);
    assert_int_equal(refresh(idx, dir, true, &read, &x), 3);
    assert_same_chain(x, dir);
    ch_blkidx_free(x);
    tu_rmrf(t);
    free(t);
}

/* The watcher's way: one index held for the folder's life, updated and
 * saved again and again, so that its records are read partly from the
 * saved file (mapped after each save) and partly from those read since.
 * After each update its chain equals a full scan's, through extensions,
 * reorgs, a save with nothing new and a load of what it saved. */
static void test_an_index_held_across_saves_equals_a_full_scan(void **state) {
    (void)state;
    char *t = tu_tmpdir();
    char dir[512], idx[512];
    snprintf(dir, sizeof dir, "%s/blocks", t);
    snprintf(idx, sizeof idx, "%s/blkindex", t);
    gen(dir, 11, true);
    ch_error err;
    ch_blkdir *d;
    ch_blkidx *x;
    assert_int_equal(ch_blkdir_open(dir, &d, &err), 0);
    assert_int_equal(ch_blkidx_load(idx, d, &x, &err), 0);
    size_t total = (size_t)ch_blkidx_update(x, d, true, &err);
    assert_true(total > 20);
    assert_same_chain(x, dir);
    static const struct {
        uint32_t blocks, reorg;
        bool save;
    } steps[] = {{0, 0, true},  {2, 0, false}, {1, 0, true},  {0, 0, true},
                 {2, 1, false}, {3, 2, true},  {1, 0, false}, {4, 3, true}};
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
        if (steps[i].blocks) tu_gen_extend(dir, steps[i].blocks, steps[i].reorg);
        int n = ch_blkidx_update(x, d, true, &err);
        assert_int_equal(
            n, (int)(steps[i].blocks + steps[i].reorg)); /* a reorg: a branch of blocks + reorg */
        total += (size_t)n;
        assert_int_equal(ch_blkidx_count(x), total);
        assert_same_chain(x, dir);
        if (steps[i].save) assert_int_equal(ch_blkidx_save(x, idx, &err), 0);
    }
    assert_int_equal(ch_blkidx_save(x, idx, &err), 0);
    ch_blkidx_free(x);
    ch_blkdir_close(d);
    /* what it saved loads whole: nothing read again */
    size_t read;
    assert_int_equal(refresh(idx, dir, true, &read, &x), 0);
    assert_int_equal(read, 0);
    assert_int_equal(ch_blkidx_count(x), total);
    assert_same_chain(x, dir);
    ch_blkidx_free(x);
    tu_rmrf(t);
    free(t);
}

/* Core writes a record in more than one write: a reader may see its start. */
static void test_a_record_cut_short_waits_when_tolerant(void **state) {
    (void)state;
    char *t = tu_tmpdir();
    char dir[512], idx[512], more[512], blk[600], blk2[600];
    snprintf(dir, sizeof dir, "%s/blocks", t);
    snprintf(more, sizeof more, "%s/more", t);
    snprintf(idx, sizeof idx, "%s/blkindex", t);
    gen(dir, 6, false);
    gen(more, 6, false);
    tu_gen_extend(more, 1, 0);
    snprintf(blk, sizeof blk, "%s/blk00000.dat", dir);
    snprintf(blk2, sizeof blk2, "%s/blk00000.dat", more);
    size_t la, lb;
    uint8_t *a = tu_read_file(blk, &la), *b = tu_read_file(blk2, &lb);
    assert_true(a && b && lb > la + 200);
    int base = refresh(idx, dir, false, NULL, NULL);
    assert_true(base > 0);
    /* the new record's first 100 bytes */
    int fd = open(blk, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, b + la, 100), 100);
    assert_int_equal(refresh(idx, dir, false, NULL, NULL), 0);
    ch_error err;
    ch_blkdir *d;
    ch_blkidx *x;
    assert_int_equal(ch_blkdir_open(dir, &d, &err), 0);
    assert_int_equal(ch_blkidx_load(idx, d, &x, &err), 0);
    assert_int_equal(ch_blkidx_update(x, d, true, &err), -1);
    assert_non_null(strstr(err.msg, "truncated record"));
    ch_blkidx_free(x);
    ch_blkdir_close(d);
    /* the rest arrives */
    assert_int_equal(write(fd, b + la + 100, lb - la - 100), (ssize_t)(lb - la - 100));
    close(fd);
    assert_int_equal(refresh(idx, dir, false, NULL, &x), 1);
    assert_same_chain(x, dir);
    ch_blkidx_free(x);
    free(a);
    free(b);
    tu_rmrf(t);
    free(t);
}

static void test_a_folder_written_anew_is_read_again(void **state) {
    (void)state;
    char *t = tu_tmpdir();
    char dir[512], idx[512];
    snprintf(dir, sizeof dir, "%s/blocks", t);
    snprintf(idx, sizeof idx, "%s/blkindex", t);
    gen(dir, 7, false);
    assert_true(refresh(idx, dir, true, NULL, NULL) > 0);
    gen(dir, 8, true); /* another chain, another key */
    ch_blkidx *x;
    size_t read;
    int n = refresh(idx, dir, true, &read, &x);
    assert_true(n > 0);
    assert_int_equal(read, (size_t)n);
    assert_int_equal(ch_blkidx_count(x), (size_t)n);
    assert_same_chain(x, dir);
    ch_blkidx_free(x);
    tu_rmrf(t);
    free(t);
}

/* Records arriving a few at a time in the order a shuffled sync stored
 * them (children before parents), with stale branches: after each
 * arrival the index's best chain equals a full scan of the same bytes. */
static void test_growing_index_equals_a_full_scan_at_every_step(void **state) {
    (void)state;
    char *t = tu_tmpdir();
    char src[512], dir[512], idx[512], blk[600], path[600];
    snprintf(src, sizeof src, "%s/src", t);
    snprintf(dir, sizeof dir, "%s/blocks", t);
    snprintf(idx, sizeof idx, "%s/blkindex", t);
    ch_gen_opts o;
    ch_gen_opts_init(&o);
    o.out_dir = src;
    o.seed = 21;
    o.txs = 400;
    o.txs_per_block = 10;
    o.maturity = 5;
    o.shuffle = true;
    o.shuffle_window = 8;
    o.stale = 6;
    ch_error err;
    if (ch_gen_run(&o, NULL, &err) != 0) fail_msg("%s", err.msg);
    snprintf(path, sizeof path, "%s/blk00000.dat", src);
    size_t len;
    uint8_t *all = tu_read_file(path, &len);
    assert_non_null(all);
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(blk, sizeof blk, "%s/blk00000.dat", dir);
    size_t off = 0, step = 0, orphans_seen = 0;
    while (off < len) {
        /* 1 to 4 records at a time */
        size_t end = off;
        for (size_t k = 0; k < 1 + step % 4 && end < len; k++) {
            uint32_t size;
            memcpy(&size, all + end + 4, 4);
            end += 8 + size;
        }
        FILE *f = fopen(blk, "ab");
        assert_non_null(f);
        assert_int_equal(fwrite(all + off, 1, end - off, f), end - off);
        fclose(f);
        off = end;
        step++;
        ch_blkdir *d;
        if (ch_blkdir_open(dir, &d, &err) != 0) fail_msg("%s", err.msg);
        ch_blk_chain full;
        int frc = ch_blkdir_best_chain(d, &full, &err);
        ch_blkdir_close(d);
        ch_blkidx *x;
        refresh(idx, dir, false, NULL, &x);
        ch_blk_chain inc;
        int irc = ch_blkidx_best_chain(x, &inc, &err);
        assert_int_equal(irc, frc);
        if (frc == 0) {
            assert_int_equal(inc.n, full.n);
            assert_int_equal(inc.n_stale, full.n_stale);
            for (size_t h = 0; h < full.n; h++)
                assert_memory_equal(ch_blk_chain_rec(&inc, h)->hash.b,
                                    ch_blk_chain_rec(&full, h)->hash.b, 32);
            if (ch_blkidx_count(x) > inc.n) orphans_seen++;
            ch_blk_chain_free(&inc);
            ch_blk_chain_free(&full);
        }
        ch_blkidx_free(x);
    }
    assert_true(step > 20);
    assert_true(orphans_seen > 0);
    free(all);
    tu_rmrf(t);
    free(t);
}

/* Append records [from, to) of all (a blk file's bytes, len) to blk. */
static size_t append_records(const char *blk, const uint8_t *all, size_t len, size_t off,
                             size_t count) {
    size_t end = off;
    for (size_t k = 0; k < count && end < len; k++) {
        uint32_t size;
        memcpy(&size, all + end + 4, 4);
        end += 8 + size;
    }
    FILE *f = fopen(blk, "ab");
    assert_non_null(f);
    assert_int_equal(fwrite(all + off, 1, end - off, f), end - off);
    fclose(f);
    return end;
}

/* The watcher's index lets go of the tree below `keep` heights under the
 * tip (here 3, so that a small folder shows it): records arriving a few at
 * a time in a shuffled sync's order with stale branches, held in one index
 * saved now and then, equal a full scan after every arrival while its tree
 * holds a window of them; then a branch from deeper than the window (a
 * reorg of 8), a duplicate of an old record and a child of an old block
 * each make it build the tree again, and it still equals a full scan. */
static void test_an_index_that_lets_go_of_old_records_equals_a_full_scan(void **state) {
    (void)state;
    char *t = tu_tmpdir();
    char src[512], dir[512], idx[512], blk[600], path[600];
    snprintf(src, sizeof src, "%s/src", t);
    snprintf(dir, sizeof dir, "%s/blocks", t);
    snprintf(idx, sizeof idx, "%s/blkindex", t);
    ch_gen_opts o;
    ch_gen_opts_init(&o);
    o.out_dir = src;
    o.seed = 23;
    o.txs = 900;
    o.txs_per_block = 10;
    o.maturity = 5;
    o.shuffle = true;
    o.shuffle_window = 6;
    o.stale = 8;
    ch_error err;
    if (ch_gen_run(&o, NULL, &err) != 0) fail_msg("%s", err.msg);
    snprintf(path, sizeof path, "%s/blk00000.dat", src);
    size_t len;
    uint8_t *all = tu_read_file(path, &len);
    assert_non_null(all);
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(blk, sizeof blk, "%s/blk00000.dat", dir);
    size_t off = append_records(blk, all, len, 0, 1);
    ch_blkdir *d;
    ch_blkidx *x;
    assert_int_equal(ch_blkdir_open(dir, &d, &err), 0);
    assert_int_equal(ch_blkidx_load(idx, d, &x, &err), 0);
    btc_blkidx_set_keep(x, 3);
    size_t step = 0, smallest = SIZE_MAX;
    for (; off < len; step++) {
        off = append_records(blk, all, len, off, 1 + step % 3);
        if (ch_blkidx_update(x, d, false, &err) < 0) fail_msg("%s", err.msg);
        assert_same_chain(x, dir);
        if (step % 5 == 4) assert_int_equal(ch_blkidx_save(x, idx, &err), 0);
        size_t held = btc_blkidx_tree_records(x);
        if (held < smallest) smallest = held;
    }
    size_t records = ch_blkidx_count(x);
    assert_true(records > 80);
    /* coinhound-gen's parameters, for its extend below */
    char pa[600], pb[600];
    snprintf(pa, sizeof pa, "%s/gen.params", src);
    snprintf(pb, sizeof pb, "%s/gen.params", dir);
    size_t plen;
    uint8_t *params = tu_read_file(pa, &plen);
    assert_non_null(params);
    FILE *pf = fopen(pb, "wb");
    assert_non_null(pf);
    assert_int_equal(fwrite(params, 1, plen, pf), plen);
    fclose(pf);
    free(params);
    /* the window, not every record (at most twice keep's worth plus what
     * arrived since, and the stale ones within it) */
    assert_true(btc_blkidx_tree_records(x) < records / 3);
    size_t rebuilds = btc_blkidx_rebuilds(x);
    /* a reorg from 8 blocks down, below the window */
    tu_gen_extend(dir, 2, 8);
    assert_int_equal(ch_blkidx_update(x, d, true, &err), 10);
    assert_same_chain(x, dir);
    assert_true(btc_blkidx_rebuilds(x) > rebuilds);
    rebuilds = btc_blkidx_rebuilds(x);
    assert_int_equal(ch_blkidx_save(x, idx, &err), 0);
    /* a duplicate of the fifth record, far below the tip: off the chain */
    size_t dup = 0;
    for (int k = 0; k < 4; k++) {
        uint32_t size;
        memcpy(&size, all + dup + 4, 4);
        dup += 8 + size;
    }
    append_records(blk, all, len, dup, 1);
    assert_int_equal(ch_blkidx_update(x, d, true, &err), 1);
    assert_same_chain(x, dir);
    assert_true(btc_blkidx_rebuilds(x) > rebuilds);
    /* the tree lets go again as blocks come */
    tu_gen_extend(dir, 12, 0);
    assert_int_equal(ch_blkidx_update(x, d, true, &err), 12);
    assert_same_chain(x, dir);
    assert_true(btc_blkidx_tree_records(x) < records / 3);
    ch_blkidx_free(x);
    ch_blkdir_close(d);
    free(all);
    tu_rmrf(t);
    free(t);
}

#if defined(__GLIBC__) && !TU_UNDER_ASAN /* its one user is skipped otherwise */
/* A header-only record on prev (regtest framing, no transactions), its
 * hash out; t makes it a header of its own. */
static void header_record(FILE *f, const ch_hash256 *prev, uint32_t t, ch_hash256 *hash) {
    uint8_t r[8 + 81] = {0xfa, 0xbf, 0xb5, 0xda, 81, 0, 0, 0};
    uint8_t *h = r + 8;
    memset(h, 0, 81);
    h[0] = 1;
    memcpy(h + 4, prev->b, 32);
    memcpy(h + 36, &t, 4);
    memcpy(h + 68, &t, 4);
    const uint32_t bits = 0x207fffff;
    memcpy(h + 72, &bits, 4);
    ch_btc_header hd;
    ch_error err;
    if (ch_btc_parse_header(h, 80, &hd, &err) != 0) fail_msg("%s", err.msg);
    *hash = hd.hash;
    assert_int_equal(fwrite(r, 1, sizeof r, f), sizeof r);
}
#endif

/* The watcher's index, held while blocks come one at a time for 9,000
 * blocks (updated after each, saved every 1,024 records as the watcher
 * saves it): its live heap (glibc's mallinfo2, both samples taken just
 * after a save) grows by at most 16 bytes a block: the best chain's record
 * number and the 4 bytes of hash each block leaves when the tree lets go
 * of it (8), and the slack of those arrays as they double. Before the
 * tree kept a window, it grew by about 115 bytes a block (the tree and
 * chain of every block) and more with their arrays' slack. */
static void test_an_index_held_for_thousands_of_blocks_grows_8_bytes_a_block(void **state) {
    (void)state;
#if !defined(__GLIBC__) || TU_UNDER_ASAN
    skip(); /* no mallinfo2, or ASan's allocator */
#else
    char *t = tu_tmpdir();
    char dir[512], idx[512], blk[600];
    snprintf(dir, sizeof dir, "%s/blocks", t);
    snprintf(idx, sizeof idx, "%s/blkindex", t);
    snprintf(blk, sizeof blk, "%s/blk00000.dat", dir);
    assert_int_equal(mkdir(dir, 0755), 0);
    ch_hash256 prev;
    memset(&prev, 0, sizeof prev);
    FILE *f = fopen(blk, "wb");
    assert_non_null(f);
    uint32_t n = 0;
    for (; n < 1000; n++)
        header_record(f, &prev, n, &prev);
    fclose(f);
    ch_error err;
    ch_blkdir *d;
    ch_blkidx *x;
    assert_int_equal(ch_blkdir_open(dir, &d, &err), 0);
    assert_int_equal(ch_blkidx_load(idx, d, &x, &err), 0);
    assert_int_equal(ch_blkidx_update(x, d, false, &err), 1000);
    assert_int_equal(ch_blkidx_save(x, idx, &err), 0);
    size_t before = mallinfo2().uordblks, blocks = 9000, since_save = 0;
    for (size_t i = 0; i < blocks; i++, n++) {
        f = fopen(blk, "ab");
        assert_non_null(f);
        header_record(f, &prev, n, &prev);
        fclose(f);
        assert_int_equal(ch_blkidx_update(x, d, false, &err), 1);
        if (++since_save == 1024) {
            assert_int_equal(ch_blkidx_save(x, idx, &err), 0);
            since_save = 0;
        }
    }
    assert_int_equal(ch_blkidx_save(x, idx, &err), 0);
    size_t after = mallinfo2().uordblks;
    const ch_blk_chain *c;
    assert_int_equal(ch_blkidx_chain(x, &c, &err), 0);
    assert_int_equal(c->n, (size_t)n);
    double per = ((double)after - (double)before) / (double)blocks;
    fprintf(stderr, "block index: live heap %zu -> %zu bytes over %zu blocks: %.1f a block\n",
            before, after, blocks, per);
    assert_true(per <= 16);
    assert_true(btc_blkidx_tree_records(x) < 1000);
    ch_blkidx_free(x);
    ch_blkdir_close(d);
    tu_rmrf(t);
    free(t);
#endif
}

static void ingest(const char *dir, const char *db) {
    ch_ingest_opts o = {.progress = 0};
    ch_error err;
    if (ch_ingest_btc(dir, db, &o, NULL, &err) != 0) fail_msg("ingest: %s", err.msg);
}

static void test_ingests_after_extensions_and_a_reorg_equal_a_clean_build(void **state) {
    (void)state;
    char *t = tu_tmpdir();
    char dir[512], db[512], clean[512];
    snprintf(dir, sizeof dir, "%s/blocks", t);
    snprintf(db, sizeof db, "%s/db", t);
    snprintf(clean, sizeof clean, "%s/clean", t);
    gen(dir, 9, true);
    ingest(dir, db);
    tu_gen_extend(dir, 4, 0);
    ingest(dir, db);
    tu_gen_extend(dir, 2, 3);
    ingest(dir, db);
    tu_gen_extend(dir, 1, 0);
    ingest(dir, db);
    ingest(dir, clean);
    tu_assert_same_store(db, clean, "btc");
    tu_rmrf(t);
    free(t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_update_reads_only_the_blocks_appended),
        cmocka_unit_test(test_an_index_held_across_saves_equals_a_full_scan),
        cmocka_unit_test(test_a_record_cut_short_waits_when_tolerant),
        cmocka_unit_test(test_a_folder_written_anew_is_read_again),
        cmocka_unit_test(test_growing_index_equals_a_full_scan_at_every_step),
        cmocka_unit_test(test_an_index_that_lets_go_of_old_records_equals_a_full_scan),
        cmocka_unit_test(test_an_index_held_for_thousands_of_blocks_grows_8_bytes_a_block),
        cmocka_unit_test(test_ingests_after_extensions_and_a_reorg_equal_a_clean_build),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
