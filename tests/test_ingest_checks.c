/* What ingest refuses before it changes the store, and that a refusal
 * leaves the store as it was (column files byte for byte, every index
 * query). Headers: real mainnet blocks 0..255 (each hash meets its bits, as
 * the chain itself proves) edited so that they no longer do; the retarget
 * rules against hand-worked targets (a period of exactly two weeks keeps
 * 0x1d00ffff, one week halves the target to 0x1c7fff80, a slow period is
 * held to the limit; a time equal to the median of the 11 before it is
 * refused, one second later passes). Branches: generated regtest chains, re-headered and
 * mined again to make a rival branch with the same transactions. */
#include "support/testutil.h"
#include "support/blkedit.h"
#include "support/storecmp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "coinhound/btc.h"
#include "coinhound/gen.h"
#include "coinhound/ingest.h"

#define BLK_DIR "btc/mainnet-0-255"

static int ingest(const char *blocks, const char *db, uint32_t max_blocks, ch_error *err) {
    ch_ingest_opts o = {.progress = 0, .max_blocks = max_blocks};
    ch_ingest_stats st;
    return ch_ingest_btc(blocks, db, &o, &st, err);
}

/* Flip bits of one byte of DB/btc/COL. */
static void flip_byte(const char *db, const char *col, long off) {
    char path[4096];
    snprintf(path, sizeof path, "%s/btc/%s", db, col);
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, off, SEEK_SET), 0);
    int b = fgetc(f);
    assert_int_equal(fseek(f, off, SEEK_SET), 0);
    fputc(b ^ 0x10, f);
    fclose(f);
}

static void must_ingest(const char *blocks, const char *db, uint32_t max_blocks) {
    ch_error err;
    if (ingest(blocks, db, max_blocks, &err) != 0) fail_msg("ingest %s: %s", blocks, err.msg);
}

/* Ingest of `blocks` into db must fail naming every one of what[] (NULL
 * ended), and db must stay equal to the clean build in `clean`. */
static void expect_refused(const char *blocks, const char *db, const char *clean,
                           const char *const *what) {
    ch_error err = {""};
    assert_int_equal(ingest(blocks, db, 0, &err), -1);
    for (; *what; what++)
        if (!strstr(err.msg, *what)) fail_msg("'%s' should name '%s'", err.msg, *what);
    tu_assert_same_columns(clean, db, "btc");
    tu_assert_same_indexes(clean, db, "btc");
}

static void rm_free(char *dir) {
    tu_rmrf(dir);
    free(dir);
}

/* --- headers of mainnet blocks --- */

typedef struct mainnet_case {
    tu_blkfile f;
    char *blocks, *db, *bad;
} mainnet_case;

/* The fixture ingested into db, and a directory for an edited copy. */
static bool mainnet_open(mainnet_case *m) {
    const char *src = tu_fixture(BLK_DIR);
    if (!src) return false;
    m->blocks = strdup(src);
    tu_blk_load(&m->f, m->blocks);
    assert_int_equal(m->f.n, 256);
    m->db = tu_tmpdir();
    m->bad = tu_tmpdir();
    must_ingest(m->blocks, m->db, 0);
    return true;
}

static void mainnet_close(mainnet_case *m) {
    tu_blk_free(&m->f);
    rm_free(m->db);
    rm_free(m->bad);
    free(m->blocks);
}

static size_t offset_of(const tu_blkfile *f, size_t rec) {
    return (size_t)(f->rec[rec].p - f->data) + 8;
}

/* A block claiming work it did not do: bits 0x03000001 (target 1, more
 * work than the whole real chain) on a child of block 1, its hash far above
 * that target. Refused by the header check, the store untouched. */
static void test_forged_work_block_refused_store_unchanged(void **state) {
    (void)state;
    mainnet_case m;
    if (!mainnet_open(&m)) skip();
    char *clean = tu_tmpdir();
    must_ingest(m.blocks, clean, 0);
    tu_blkrec recs[257];
    memcpy(recs, m.f.rec, 256 * sizeof *recs);
    recs[256] = tu_blk_copy(&m.f.rec[2]);
    ch_hash256 h1 = tu_blk_hash(&m.f.rec[1]);
    memcpy(recs[256].p + 8 + 4, h1.b, 32);
    const uint8_t bits[4] = {0x01, 0x00, 0x00, 0x03}; /* 0x03000001 */
    memcpy(recs[256].p + 8 + 72, bits, 4);
    tu_blk_write(m.bad, recs, 257);
    char off[64];
    snprintf(off, sizeof off, "offset %zu", m.f.len + 8);
    const char *what[] = {"blk00000.dat", off, "height 2", "no proof of work", NULL};
    expect_refused(m.bad, m.db, clean, what);
    /* the clean store stayed at its tip; a fresh store is not even created */
    ch_store_counts c;
    tu_store_counts(m.db, "btc", &c);
    assert_int_equal(c.blocks, 256);
    char *fresh = tu_tmpdir();
    ch_error err;
    assert_int_equal(ingest(m.bad, fresh, 0, &err), -1);
    assert_non_null(strstr(err.msg, "no proof of work"));
    rm_free(fresh);
    rm_free(clean);
    free(recs[256].p);
    mainnet_close(&m);
}

/* One bit flipped in a stored block's header (time, then merkle root):
 * another hash, which meets no target; the blocks after it lose their
 * parent. Not a reorg: refused naming the block, the store unchanged. */
static void flip_header_bit(size_t at, uint8_t mask, const char *height) {
    mainnet_case m;
    if (!mainnet_open(&m)) skip();
    char *clean = tu_tmpdir();
    must_ingest(m.blocks, clean, 0);
    tu_blkrec recs[256];
    memcpy(recs, m.f.rec, sizeof recs);
    recs[100] = tu_blk_copy(&m.f.rec[100]);
    recs[100].p[8 + at] ^= mask;
    tu_blk_write(m.bad, recs, 256);
    char off[64];
    snprintf(off, sizeof off, "offset %zu", offset_of(&m.f, 100));
    const char *what[] = {"blk00000.dat", off, height, "no proof of work", NULL};
    expect_refused(m.bad, m.db, clean, what);
    free(recs[100].p);
    rm_free(clean);
    mainnet_close(&m);
}

static void test_flipped_header_time_refused_store_unchanged(void **state) {
    (void)state;
    flip_header_bit(68, 0x01, "height 100");
}

static void test_flipped_merkle_root_refused_store_unchanged(void **state) {
    (void)state;
    flip_header_bit(36 + 7, 0x20, "height 100");
}

/* --- the retarget rules, on headers whose hashes are zero --- */

/* A directory whose one record has the magic of a network (the chain
 * under test is built in memory: only the network is read from here). */
static ch_blkdir *net_dir(char **dir, const uint8_t magic[4]) {
    *dir = tu_tmpdir();
    uint8_t rec[8 + 81] = {0};
    memcpy(rec, magic, 4);
    rec[4] = 81;
    tu_blkrec r = {rec, sizeof rec};
    tu_blk_write(*dir, &r, 1);
    ch_blkdir *d;
    ch_blk_chain chain;
    ch_error err;
    assert_int_equal(ch_blkdir_open(*dir, &d, &err), 0);
    if (ch_blkdir_best_chain(d, &chain, &err) != 0) fail_msg("%s", err.msg);
    ch_blk_chain_free(&chain);
    return d;
}

typedef struct synth {
    ch_blk_chain c;
} synth;

static void synth_init(synth *s, size_t n, uint32_t bits, uint32_t spacing) {
    memset(s, 0, sizeof *s);
    ch_error err;
    /* hashes zero: they meet any target */
    if (ch_blk_chain_alloc(&s->c, n, &err) != 0) fail_msg("%s", err.msg);
    for (size_t h = 0; h < n; h++) {
        s->c.rec[h].bits = bits;
        s->c.rec[h].time = 1231006505u + (uint32_t)h * spacing;
    }
}

static int synth_check(ch_blkdir *d, synth *s, ch_error *err) {
    err->msg[0] = 0;
    return ch_blk_chain_check(d, &s->c, err);
}

static void test_mainnet_retarget_rules(void **state) {
    (void)state;
    static const uint8_t MAIN[4] = {0xf9, 0xbe, 0xb4, 0xd9};
    char *dir;
    ch_blkdir *d = net_dir(&dir, MAIN);
    ch_error err;
    synth s;
    /* exactly two weeks a period: the target stays */
    synth_init(&s, 2017, 0x1d00ffff, 600);
    s.c.rec[2015].time = s.c.rec[0].time + 1209600;
    if (synth_check(d, &s, &err) != 0) fail_msg("%s", err.msg);
    ch_blk_chain_free(&s.c);
    /* one week: the target halves, 0xffff << 208 becomes 0x7fff80 << 200 */
    synth_init(&s, 4033, 0x1d00ffff, 300);
    s.c.rec[2015].time = s.c.rec[0].time + 604800;
    assert_int_equal(synth_check(d, &s, &err), -1);
    assert_non_null(strstr(err.msg, "height 2016"));
    assert_non_null(strstr(err.msg, "give 0x1c7fff80"));
    for (size_t h = 2016; h < 4033; h++)
        s.c.rec[h].bits = 0x1c7fff80;
    for (size_t h = 2016; h < 4033; h++) /* the next period takes two weeks */
        s.c.rec[h].time = s.c.rec[2015].time + (uint32_t)(h - 2015) * 600;
    s.c.rec[4031].time = s.c.rec[2016].time + 1209600;
    if (synth_check(d, &s, &err) != 0) fail_msg("%s", err.msg);
    /* a change of bits inside a period */
    s.c.rec[3000].bits = 0x1c7fff00;
    assert_int_equal(synth_check(d, &s, &err), -1);
    assert_non_null(strstr(err.msg, "height 3000"));
    s.c.rec[3000].bits = 0x1c7fff80;
    /* a slow period is clamped to 4x, and 4x the limit is held at the limit */
    ch_blk_chain_free(&s.c);
    synth_init(&s, 2017, 0x1d00ffff, 600);
    s.c.rec[2015].time = s.c.rec[0].time + 100000000;
    assert_int_equal(synth_check(d, &s, &err), 0);
    /* bits easier than mainnet's limit, even with a matching hash */
    ch_blk_chain_free(&s.c);
    synth_init(&s, 3, 0x207fffff, 600);
    assert_int_equal(synth_check(d, &s, &err), -1);
    assert_non_null(strstr(err.msg, "easier than mainnet allows"));
    /* a time not past the median of the 11 before it */
    ch_blk_chain_free(&s.c);
    synth_init(&s, 20, 0x1d00ffff, 600);
    s.c.rec[15].time = s.c.rec[9].time; /* the median of 4..14 */
    assert_int_equal(synth_check(d, &s, &err), -1);
    assert_non_null(strstr(err.msg, "height 15"));
    assert_non_null(strstr(err.msg, "median time"));
    s.c.rec[15].time = s.c.rec[9].time + 1;
    if (synth_check(d, &s, &err) != 0) fail_msg("%s", err.msg);
    /* mainnet has no 20-minute rule */
    ch_blk_chain_free(&s.c);
    synth_init(&s, 10, 0x1c7fff80, 600);
    s.c.rec[5].time = s.c.rec[4].time + 1201;
    s.c.rec[5].bits = 0x1d00ffff;
    assert_int_equal(synth_check(d, &s, &err), -1);
    assert_non_null(strstr(err.msg, "height 5"));
    ch_blk_chain_free(&s.c);
    ch_blkdir_close(d);
    rm_free(dir);
}

/* testnet3: after 20 minutes without a block the minimum difficulty is
 * allowed, and the next block goes back to the last real difficulty. */
static void test_testnet_twenty_minute_rule(void **state) {
    (void)state;
    static const uint8_t TESTNET3[4] = {0x0b, 0x11, 0x09, 0x07};
    char *dir;
    ch_blkdir *d = net_dir(&dir, TESTNET3);
    ch_error err;
    synth s;
    synth_init(&s, 10, 0x1c7fff80, 600);
    s.c.rec[5].time = s.c.rec[4].time + 1201;
    for (size_t h = 6; h < 10; h++)
        s.c.rec[h].time = s.c.rec[5].time + (uint32_t)(h - 5) * 600;
    s.c.rec[5].bits = 0x1d00ffff;
    if (synth_check(d, &s, &err) != 0) fail_msg("%s", err.msg);
    /* after 20 minutes exactly, not more: the rule does not apply */
    s.c.rec[5].time = s.c.rec[4].time + 1200;
    assert_int_equal(synth_check(d, &s, &err), -1);
    assert_non_null(strstr(err.msg, "height 5"));
    s.c.rec[5].time = s.c.rec[4].time + 1201;
    /* the block after a minimum-difficulty one carries the real bits */
    s.c.rec[6].bits = 0x1d00ffff;
    assert_int_equal(synth_check(d, &s, &err), -1);
    assert_non_null(strstr(err.msg, "give 0x1c7fff80"));
    ch_blk_chain_free(&s.c);
    ch_blkdir_close(d);
    rm_free(dir);
}

/* A period whose last block is at the minimum difficulty: testnet3 bases
 * the retarget on it (and stays at the limit), testnet4 (BIP94) on the
 * period's first block; testnet4 also refuses a period's first block more
 * than 10 minutes before its parent (the timewarp rule). */
static void test_testnet4_retargets_from_the_first_block(void **state) {
    (void)state;
    static const uint8_t TESTNET3[4] = {0x0b, 0x11, 0x09, 0x07};
    static const uint8_t TESTNET4[4] = {0x1c, 0x16, 0x3f, 0x28};
    char *dir3, *dir4;
    ch_blkdir *d3 = net_dir(&dir3, TESTNET3), *d4 = net_dir(&dir4, TESTNET4);
    ch_error err;
    synth s;
    synth_init(&s, 2018, 0x1c7fff80, 599);
    s.c.rec[2015].time = s.c.rec[0].time + 1209600; /* two weeks exactly, 53 min after 2014 */
    s.c.rec[2015].bits = 0x1d00ffff;
    s.c.rec[2016].time = s.c.rec[2015].time + 600;
    s.c.rec[2017].time = s.c.rec[2016].time + 600;
    s.c.rec[2016].bits = s.c.rec[2017].bits = 0x1c7fff80;
    if (synth_check(d4, &s, &err) != 0) fail_msg("testnet4: %s", err.msg);
    assert_int_equal(synth_check(d3, &s, &err), -1);
    assert_non_null(strstr(err.msg, "height 2016"));
    assert_non_null(strstr(err.msg, "give 0x1d00ffff"));
    /* the timewarp rule */
    s.c.rec[2016].time = s.c.rec[2015].time - 601;
    assert_int_equal(synth_check(d4, &s, &err), -1);
    assert_non_null(strstr(err.msg, "timewarp"));
    s.c.rec[2016].time = s.c.rec[2015].time - 600;
    s.c.rec[2017].time = s.c.rec[2016].time + 600;
    if (synth_check(d4, &s, &err) != 0) fail_msg("testnet4: %s", err.msg);
    ch_blk_chain_free(&s.c);
    ch_blkdir_close(d3);
    ch_blkdir_close(d4);
    rm_free(dir3);
    rm_free(dir4);
}

/* --- generated regtest chains --- */

typedef struct genc {
    char *dir;
    char blocks[1100];
    tu_blkfile f;
} genc;

static void gen_make(genc *g, uint32_t blocks) {
    g->dir = tu_tmpdir();
    snprintf(g->blocks, sizeof g->blocks, "%s/blocks", g->dir);
    ch_gen_opts o;
    ch_gen_opts_init(&o);
    o.out_dir = g->blocks;
    o.seed = 7;
    o.blocks = blocks;
    o.txs = (uint64_t)blocks * 8;
    o.txs_per_block = 8;
    o.maturity = 10;
    ch_error err;
    if (ch_gen_run(&o, NULL, &err) != 0) fail_msg("gen: %s", err.msg);
    tu_blk_load(&g->f, g->blocks);
    assert_int_equal(g->f.n, blocks);
}

static void gen_free(genc *g) {
    tu_blk_free(&g->f);
    rm_free(g->dir);
}

/* dir/name made and filled with records */
static char *dir_with(const char *parent, const char *name, const tu_blkrec *recs, size_t n) {
    char *p = malloc(strlen(parent) + strlen(name) + 2);
    sprintf(p, "%s/%s", parent, name);
    assert_int_equal(mkdir(p, 0755), 0);
    tu_blk_write(p, recs, n);
    return p;
}

static void free_rival(tu_blkrec *r, size_t n) {
    for (size_t i = 0; i < n; i++)
        free(r[i].p);
    free(r);
}

/* The generator's chains pass the header rules of the network they claim. */
static void test_generated_chain_passes_regtest_rules(void **state) {
    (void)state;
    genc g;
    gen_make(&g, 40);
    ch_blkdir *d;
    ch_blk_chain chain;
    ch_error err;
    assert_int_equal(ch_blkdir_open(g.blocks, &d, &err), 0);
    assert_int_equal(ch_blkdir_best_chain(d, &chain, &err), 0);
    if (ch_blk_chain_check(d, &chain, &err) != 0) fail_msg("%s", err.msg);
    ch_blk_chain_free(&chain);
    ch_blkdir_close(d);
    /* regtest never retargets: other bits (with their work done) are refused */
    tu_blkrec recs[40];
    memcpy(recs, g.f.rec, sizeof recs);
    recs[39] = tu_blk_copy(&g.f.rec[39]);
    recs[39].p[8 + 72] = 0xfe; /* 0x207ffffe */
    tu_blk_remine(&recs[39], NULL);
    char *bad = dir_with(g.dir, "bad", recs, 40);
    char *db = tu_tmpdir();
    assert_int_equal(ingest(bad, db, 0, &err), -1);
    assert_non_null(strstr(err.msg, "height 39"));
    assert_non_null(strstr(err.msg, "regtest's retarget rules give 0x207fffff"));
    rm_free(db);
    free(bad);
    free(recs[39].p);
    gen_free(&g);
}

/* A longer rival branch (the same transactions under other headers)
 * replaces the stored tip: the store equals a clean build of the new chain. */
static void test_branch_with_more_work_replaces_tip(void **state) {
    (void)state;
    genc g;
    gen_make(&g, 60);
    tu_blkrec *rival = tu_blk_rival(&g.f, 30, 60, 1);
    tu_blkrec recs[60];
    memcpy(recs, g.f.rec, 30 * sizeof *recs);
    memcpy(recs + 30, rival, 30 * sizeof *recs);
    char *first = dir_with(g.dir, "first", g.f.rec, 50); /* the old chain: 0..49 */
    char *next = dir_with(g.dir, "next", recs, 60);      /* 0..29, then 30'..59' */
    char *db = tu_tmpdir(), *clean = tu_tmpdir();
    must_ingest(first, db, 0);
    ch_ingest_opts o = {.progress = 0};
    ch_ingest_stats st;
    ch_error err;
    if (ch_ingest_btc(next, db, &o, &st, &err) != 0) fail_msg("%s", err.msg);
    assert_int_equal(st.reorg_height, 30);
    assert_int_equal(st.tip_height, 59);
    must_ingest(next, clean, 0);
    tu_assert_same_columns(clean, db, "btc");
    tu_assert_same_indexes(clean, db, "btc");
    /* checksums: the first commit's range was cut to 0..29 and hashed
     * again, the branch's commit added; clean, and a flipped nonce below the
     * cut is found in the shortened range */
    ch_store_counts vc;
    if (ch_store_verify(db, "btc", NULL, NULL, &vc, &err) != 0) fail_msg("%s", err.msg);
    assert_int_equal(vc.checksum_commits, 2);
    flip_byte(db, "blocks.col", 20 * 64 + 63);
    assert_int_equal(ch_store_verify(db, "btc", NULL, NULL, &vc, &err), 1);
    assert_non_null(strstr(err.msg, "blocks.col: bytes [0, 1920) (records [0, 30))"));
    flip_byte(db, "blocks.col", 20 * 64 + 63);
    /* --max-blocks does not stop a reorg short of the old tip's work */
    char *db2 = tu_tmpdir();
    must_ingest(first, db2, 0);
    o.max_blocks = 5;
    if (ch_ingest_btc(next, db2, &o, &st, &err) != 0) fail_msg("%s", err.msg);
    assert_int_equal(st.tip_height, 50); /* 21 blocks from 30: more work than 30..49 */
    rm_free(db2);
    rm_free(db);
    rm_free(clean);
    free(first);
    free(next);
    free_rival(rival, 30);
    gen_free(&g);
}

/* A branch with less work than the stored blocks, or a file that lost the
 * store's tip, is not a reorg: refused, the store unchanged. */
static void test_weaker_branch_or_lost_blocks_are_not_a_reorg(void **state) {
    (void)state;
    genc g;
    gen_make(&g, 60);
    tu_blkrec *rival = tu_blk_rival(&g.f, 30, 45, 2);
    tu_blkrec recs[45];
    memcpy(recs, g.f.rec, 30 * sizeof *recs);
    memcpy(recs + 30, rival, 15 * sizeof *recs);
    char *weaker = dir_with(g.dir, "weaker", recs, 45);
    char *shorter = dir_with(g.dir, "shorter", g.f.rec, 45);
    char *db = tu_tmpdir(), *clean = tu_tmpdir();
    must_ingest(g.blocks, db, 0);
    must_ingest(g.blocks, clean, 0);
    const char *w1[] = {"height 30", "no more work", "not a reorg", NULL};
    expect_refused(weaker, db, clean, w1);
    const char *w2[] = {"ends at height 44", "blocks up to 59", "not a reorg", NULL};
    expect_refused(shorter, db, clean, w2);
    rm_free(db);
    rm_free(clean);
    free(weaker);
    free(shorter);
    free_rival(rival, 15);
    gen_free(&g);
}

/* A branch with more work but a bad block deep inside: refused before the
 * stored blocks are cut. */
static void test_bad_branch_checked_before_the_cut(void **state) {
    (void)state;
    genc g;
    gen_make(&g, 60);
    tu_blkrec *rival = tu_blk_rival(&g.f, 30, 60, 3);
    /* a byte of the first transaction of block 55': its merkle root breaks,
     * its header (and proof of work) does not */
    tu_blkrec *r = &rival[55 - 30];
    r->p[8 + 80 + 1 + 1] ^= 0x01; /* the coinbase's version */
    tu_blkrec recs[60];
    memcpy(recs, g.f.rec, 30 * sizeof *recs);
    memcpy(recs + 30, rival, 30 * sizeof *recs);
    char *first = dir_with(g.dir, "first", g.f.rec, 50);
    char *next = dir_with(g.dir, "next", recs, 60);
    char *db = tu_tmpdir(), *clean = tu_tmpdir();
    must_ingest(first, db, 0);
    must_ingest(first, clean, 0);
    const char *what[] = {"blk00000.dat", "height 55", "merkle", NULL};
    expect_refused(next, db, clean, what);
    rm_free(db);
    rm_free(clean);
    free(first);
    free(next);
    free_rival(rival, 30);
    gen_free(&g);
}

/* A rival branch that leaves out one block of the original: later blocks
 * spend outputs of a transaction the branch never has. Their headers,
 * merkle roots and work are all fine; the spends are played against the
 * state the cut would leave, and the store is left as it was. */
static void test_branch_spending_missing_outputs_refused_before_the_cut(void **state) {
    (void)state;
    genc g;
    gen_make(&g, 60);
    /* a block from 32 on whose txs a later block spends */
    ch_btc_parser *p = ch_btc_parser_new();
    size_t drop = 0;
    for (size_t k = 32; k < 50 && !drop; k++) {
        ch_btc_block b;
        ch_error err;
        const tu_blkrec *r = &g.f.rec[k];
        assert_int_equal(ch_btc_parse_block(p, r->p + 8, r->len - 8, &b, &err), 0);
        ch_hash256 ids[64];
        uint32_t n = b.n_tx < 64 ? b.n_tx : 64;
        for (uint32_t t = 0; t < n; t++)
            ids[t] = b.tx[t].txid;
        for (size_t later = k + 1; later < 60 && !drop; later++) {
            const tu_blkrec *q = &g.f.rec[later];
            assert_int_equal(ch_btc_parse_block(p, q->p + 8, q->len - 8, &b, &err), 0);
            for (uint32_t t = 1; t < b.n_tx && !drop; t++)
                for (uint32_t i = 0; i < b.tx[t].n_in && !drop; i++)
                    for (uint32_t j = 0; j < n && !drop; j++)
                        if (!memcmp(b.tx[t].in[i].prev_txid.b, ids[j].b, 32)) drop = k;
        }
    }
    ch_btc_parser_free(p);
    assert_true(drop > 0);
    /* 0..29, then 30'..59' without drop' */
    tu_blkfile cut = g.f;
    tu_blkrec *kept = malloc(60 * sizeof *kept);
    size_t n = 0;
    for (size_t i = 0; i < 60; i++)
        if (i != drop) kept[n++] = g.f.rec[i];
    cut.rec = kept;
    cut.n = n;
    tu_blkrec *rival = tu_blk_rival(&cut, 30, n, 4);
    tu_blkrec recs[60];
    memcpy(recs, g.f.rec, 30 * sizeof *recs);
    memcpy(recs + 30, rival, (n - 30) * sizeof *recs);
    char *first = dir_with(g.dir, "first", g.f.rec, 40);
    char *next = dir_with(g.dir, "next", recs, n);
    char *db = tu_tmpdir(), *clean = tu_tmpdir();
    must_ingest(first, db, 0);
    must_ingest(first, clean, 0);
    const char *what[] = {"blk00000.dat", "offset", "not in the chain before it", NULL};
    expect_refused(next, db, clean, what);
    rm_free(db);
    rm_free(clean);
    free(first);
    free(next);
    free_rival(rival, n - 30);
    free(kept);
    gen_free(&g);
}

/* Witness data changed under a right txid (the merkle root holds, the
 * BIP141 commitment does not): ingest refuses it as decode does. */
static void test_flipped_witness_refused(void **state) {
    (void)state;
    genc g;
    gen_make(&g, 60);
    ch_btc_parser *p = ch_btc_parser_new();
    size_t at = 0, height = 0;
    for (size_t h = 11; h < g.f.n && !at; h++) {
        ch_btc_block b;
        ch_error err;
        const tu_blkrec *r = &g.f.rec[h];
        assert_int_equal(ch_btc_parse_block(p, r->p + 8, r->len - 8, &b, &err), 0);
        for (uint32_t t = 1; t < b.n_tx && !at; t++)
            if (b.tx[t].has_witness && b.tx[t].in[0].witness_len > 2) {
                const ch_btc_txin *in = &b.tx[t].in[0];
                at = (size_t)(in->witness + in->witness_len - 1 - r->p);
                height = h;
            }
    }
    ch_btc_parser_free(p);
    assert_true(at > 0);
    tu_blkrec recs[60];
    memcpy(recs, g.f.rec, sizeof recs);
    recs[height] = tu_blk_copy(&g.f.rec[height]);
    recs[height].p[at] ^= 0x01;
    char *bad = dir_with(g.dir, "bad", recs, 60);
    char *db = tu_tmpdir(), *clean = tu_tmpdir();
    must_ingest(g.blocks, db, (uint32_t)height);
    must_ingest(g.blocks, clean, (uint32_t)height);
    char h[32];
    snprintf(h, sizeof h, "height %zu", height);
    const char *what[] = {"blk00000.dat", h, "witness commitment mismatch", NULL};
    expect_refused(bad, db, clean, what);
    free(recs[height].p);
    rm_free(db);
    rm_free(clean);
    free(bad);
    gen_free(&g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forged_work_block_refused_store_unchanged),
        cmocka_unit_test(test_flipped_header_time_refused_store_unchanged),
        cmocka_unit_test(test_flipped_merkle_root_refused_store_unchanged),
        cmocka_unit_test(test_mainnet_retarget_rules),
        cmocka_unit_test(test_testnet_twenty_minute_rule),
        cmocka_unit_test(test_testnet4_retargets_from_the_first_block),
        cmocka_unit_test(test_generated_chain_passes_regtest_rules),
        cmocka_unit_test(test_branch_with_more_work_replaces_tip),
        cmocka_unit_test(test_weaker_branch_or_lost_blocks_are_not_a_reorg),
        cmocka_unit_test(test_bad_branch_checked_before_the_cut),
        cmocka_unit_test(test_branch_spending_missing_outputs_refused_before_the_cut),
        cmocka_unit_test(test_flipped_witness_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
