/* Bitcoin Core blk files: the best chain from records in any order, with or
 * without xor.dat, against mainnet heights 0..255 and their expected file
 * (written by an independent decoder; "h" is the height). */
#include "support/testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coinhound/address.h"
#include "coinhound/btc.h"

#define N_BLOCKS 256

/* One record of a blk file: magic, size, block. */
typedef struct record {
    const uint8_t *p;
    size_t len; /* 8 + block size */
} record;

typedef struct source {
    uint8_t *file;
    size_t file_len;
    record rec[N_BLOCKS];
} source;

/* The fixture's blk00000.dat split into records; false when absent. */
static bool load_source(source *s) {
    const char *path = tu_fixture("btc/mainnet-0-255/blk00000.dat");
    if (!path) return false;
    s->file = tu_read_file(path, &s->file_len);
    assert_non_null(s->file);
    size_t off = 0;
    for (int i = 0; i < N_BLOCKS; i++) {
        assert_true(off + 8 <= s->file_len);
        assert_memory_equal(s->file + off, "\xf9\xbe\xb4\xd9", 4);
        const uint8_t *q = s->file + off + 4;
        size_t size = (size_t)q[0] | (size_t)q[1] << 8 | (size_t)q[2] << 16 | (size_t)q[3] << 24;
        s->rec[i] = (record){s->file + off, 8 + size};
        off += 8 + size;
    }
    assert_int_equal(off, s->file_len);
    return true;
}

/* Writes records (and zero padding) to dir/name, XORed with key when given. */
static void write_blk(const char *dir, const char *name, const record *recs, size_t n,
                      size_t padding, const uint8_t *key) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    uint64_t off = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < recs[i].len; k++, off++)
            fputc(recs[i].p[k] ^ (key ? key[off % 8] : 0), f);
    }
    for (size_t k = 0; k < padding; k++)
        fputc(0, f);
    fclose(f);
}

static void write_raw(const char *dir, const char *name, const void *p, size_t n) {
    record r = {p, n};
    write_blk(dir, name, &r, 1, 0, NULL);
}

static json_t *load_jsonl(const char *path) {
    size_t len;
    char *text = (char *)tu_read_file(path, &len);
    assert_non_null(text);
    json_t *arr = json_array();
    for (char *line = text, *end; line < text + len; line = end + 1) {
        end = memchr(line, '\n', (size_t)(text + len - line));
        if (!end) end = text + len;
        if (end == line) continue;
        json_t *v = json_loadb(line, (size_t)(end - line), 0, NULL);
        assert_non_null(v);
        json_array_append_new(arr, v);
    }
    free(text);
    return arr;
}

/* txid, values and addresses of tx against one expected line; expected null
 * addresses are P2PK (shown by us as P2PKH of the key) or have none. */
static void check_tx(const ch_btc_tx *tx, json_t *exp, size_t height) {
    char txid[65];
    ch_hash256_to_hex(&tx->txid, txid);
    assert_int_equal(json_integer_value(json_object_get(exp, "h")), height);
    assert_string_equal(txid, json_string_value(json_object_get(exp, "txid")));
    json_t *outs = json_object_get(exp, "outs");
    assert_int_equal(json_array_size(outs), tx->n_out);
    for (uint32_t i = 0; i < tx->n_out; i++) {
        json_t *o = json_array_get(outs, i);
        assert_int_equal(tx->out[i].value, json_integer_value(json_array_get(o, 0)));
        ch_addr a;
        ch_script_type t = ch_btc_classify(tx->out[i].script, tx->out[i].script_len, &a);
        const char *want = json_string_value(json_array_get(o, 1));
        if (want) {
            char s[CH_ADDR_STR_MAX];
            assert_int_equal(ch_addr_to_string(&a, CH_NET_MAINNET, s), 0);
            assert_string_equal(s, want);
        } else if (t != CH_SCRIPT_P2PK) {
            assert_int_equal(a.kind, CH_ADDR_NONE);
        }
    }
}

/* Open dir, build the best chain, hold every block against the expected
 * file, and hand back the chain. */
static void check_dir(const char *dir, ch_blk_chain *chain) {
    const char *ep = tu_fixture("btc/mainnet-0-255.expected.jsonl");
    assert_non_null(ep);
    json_t *exp = load_jsonl(ep);
    ch_blkdir *d;
    ch_error err = {""};
    if (ch_blkdir_open(dir, &d, &err) < 0) fail_msg("%s", err.msg);
    if (ch_blkdir_best_chain(d, chain, &err) < 0) fail_msg("%s", err.msg);
    assert_int_equal(chain->n, N_BLOCKS);

    ch_btc_parser *p = ch_btc_parser_new();
    uint8_t *buf = NULL;
    size_t cap = 0, line = 0;
    for (size_t h = 0; h < chain->n; h++) {
        if (ch_blk_chain_read(d, chain, h, &buf, &cap, &err) < 0) fail_msg("%s", err.msg);
        ch_btc_block b;
        if (ch_btc_parse_block(p, buf, ch_blk_chain_rec(chain, h)->size, &b, &err) < 0)
            fail_msg("%s", err.msg);
        assert_memory_equal(b.header.hash.b, ch_blk_chain_rec(chain, h)->hash.b, 32);
        if (h > 0) assert_memory_equal(b.header.prev.b, ch_blk_chain_rec(chain, h - 1)->hash.b, 32);
        for (uint32_t i = 0; i < b.n_tx; i++)
            check_tx(&b.tx[i], json_array_get(exp, line++), h);
    }
    assert_int_equal(line, json_array_size(exp));
    free(buf);
    ch_btc_parser_free(p);
    ch_blkdir_close(d);
    json_decref(exp);
}

/* --- the fixtures --------------------------------------------------------- */

static void test_plain_dir(void **state) {
    (void)state;
    const char *dir = tu_fixture("btc/mainnet-0-255");
    if (!dir) skip();
    char path[4096];
    snprintf(path, sizeof path, "%s", dir);
    ch_blk_chain chain;
    check_dir(path, &chain);
    assert_int_equal(chain.n_stale, 0);
    char hex[65];
    ch_hash256_to_hex(&ch_blk_chain_rec(&chain, 0)->hash, hex);
    assert_string_equal(hex, "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f");
    assert_int_equal(ch_blk_chain_rec(&chain, 0)->file_no, 0);
    assert_int_equal(ch_blk_chain_rec(&chain, 0)->offset, 8);
    assert_int_equal(ch_blk_chain_rec(&chain, 0)->size, 285);
    ch_blk_chain_free(&chain);

    /* Satoshi's coinbase pays a bare key; shown as its P2PKH address. */
    ch_blkdir *d;
    ch_error err;
    assert_int_equal(ch_blkdir_open(path, &d, &err), 0);
    assert_int_equal(ch_blkdir_file_count(d), 1);
    assert_non_null(strstr(ch_blkdir_path(d, 0), "blk00000.dat"));
    assert_null(ch_blkdir_path(d, 1));
    ch_blkdir_close(d);
}

static void test_xor_dir(void **state) {
    (void)state;
    const char *dir = tu_fixture("btc/mainnet-0-255-xor");
    if (!dir) skip();
    char path[4096];
    snprintf(path, sizeof path, "%s", dir);
    ch_blk_chain chain;
    check_dir(path, &chain);
    assert_int_equal(chain.n_stale, 0);
    ch_blk_chain_free(&chain);
}

/* Block 170 holds the first payment between people (Satoshi to Hal Finney). */
static void test_block_170(void **state) {
    (void)state;
    const char *dir = tu_fixture("btc/mainnet-0-255");
    if (!dir) skip();
    char path[4096];
    snprintf(path, sizeof path, "%s", dir);
    ch_blkdir *d;
    ch_blk_chain chain;
    ch_error err;
    assert_int_equal(ch_blkdir_open(path, &d, &err), 0);
    assert_int_equal(ch_blkdir_best_chain(d, &chain, &err), 0);
    uint8_t *buf = NULL;
    size_t cap = 0;
    assert_int_equal(ch_blk_chain_read(d, &chain, 170, &buf, &cap, &err), 0);
    ch_btc_parser *p = ch_btc_parser_new();
    ch_btc_block b;
    assert_int_equal(ch_btc_parse_block(p, buf, ch_blk_chain_rec(&chain, 170)->size, &b, &err), 0);
    assert_int_equal(b.n_tx, 2);
    char hex[65];
    ch_hash256_to_hex(&b.tx[1].txid, hex);
    assert_string_equal(hex, "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16");
    assert_int_equal(b.tx[1].out[0].value, 10 * CH_BTC_COIN);

    assert_int_equal(ch_blk_chain_read(d, &chain, 0, &buf, &cap, &err), 0);
    assert_int_equal(ch_btc_parse_block(p, buf, ch_blk_chain_rec(&chain, 0)->size, &b, &err), 0);
    ch_addr a;
    assert_int_equal(ch_btc_classify(b.tx[0].out[0].script, b.tx[0].out[0].script_len, &a),
                     CH_SCRIPT_P2PK);
    char s[CH_ADDR_STR_MAX];
    assert_int_equal(ch_addr_to_string(&a, CH_NET_MAINNET, s), 0);
    assert_string_equal(s, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa");
    free(buf);
    ch_btc_parser_free(p);
    ch_blk_chain_free(&chain);
    ch_blkdir_close(d);
}

/* --- arrival order, padding, obfuscation ------------------------------------- */

static void shuffle(record *r, size_t n, uint32_t seed) {
    for (size_t i = n - 1; i > 0; i--) {
        seed = seed * 1664525u + 1013904223u;
        size_t j = (seed >> 8) % (i + 1);
        record t = r[i];
        r[i] = r[j];
        r[j] = t;
    }
}

static void assert_same_chain(const char *dir, const source *s, size_t stale) {
    ch_blkdir *d;
    ch_blk_chain chain;
    ch_error err = {""};
    if (ch_blkdir_open(dir, &d, &err) < 0) fail_msg("%s", err.msg);
    if (ch_blkdir_best_chain(d, &chain, &err) < 0) fail_msg("%s", err.msg);
    assert_int_equal(chain.n, N_BLOCKS);
    assert_int_equal(chain.n_stale, stale);
    uint8_t *buf = NULL;
    size_t cap = 0;
    for (size_t h = 0; h < N_BLOCKS; h++) {
        /* the record at the chain's position is the original block h */
        if (ch_blk_chain_read(d, &chain, h, &buf, &cap, &err) < 0) fail_msg("%s", err.msg);
        assert_int_equal(ch_blk_chain_rec(&chain, h)->size + 8, s->rec[h].len);
        assert_memory_equal(buf, s->rec[h].p + 8, ch_blk_chain_rec(&chain, h)->size);
    }
    free(buf);
    ch_blk_chain_free(&chain);
    ch_blkdir_close(d);
}

static void test_shuffled_two_files_padded(void **state) {
    (void)state;
    source s;
    if (!load_source(&s)) skip();
    record r[N_BLOCKS];
    memcpy(r, s.rec, sizeof r);
    shuffle(r, N_BLOCKS, 7);
    char *dir = tu_tmpdir();
    write_blk(dir, "blk00000.dat", r, 100, 4096, NULL);
    write_blk(dir, "blk00001.dat", r + 100, N_BLOCKS - 100, 1 << 17, NULL);
    write_raw(dir, "rev00000.dat", "not a block file", 16);
    assert_same_chain(dir, &s, 0);
    tu_rmrf(dir);
    free(dir);
    free(s.file);
}

/* Obfuscated files; Core preallocates raw zeros, which de-obfuscate to the
 * key, and a zero key means no obfuscation at all. */
static void test_shuffled_xor(void **state) {
    (void)state;
    source s;
    if (!load_source(&s)) skip();
    static const uint8_t KEY[8] = {0xa5, 0x00, 0x5a, 0xff, 0x01, 0x80, 0x7e, 0x33};
    record r[N_BLOCKS];
    memcpy(r, s.rec, sizeof r);
    shuffle(r, N_BLOCKS, 99);
    char *dir = tu_tmpdir();
    write_raw(dir, "xor.dat", KEY, 8);
    write_blk(dir, "blk00000.dat", r, 128, 5000, KEY);
    write_blk(dir, "blk00001.dat", r + 128, N_BLOCKS - 128, 0, KEY);
    assert_same_chain(dir, &s, 0);
    tu_rmrf(dir);

    static const uint8_t ZERO[8];
    char *dir2 = tu_tmpdir();
    write_raw(dir2, "xor.dat", ZERO, 8);
    write_blk(dir2, "blk00000.dat", r, N_BLOCKS, 100, NULL);
    assert_same_chain(dir2, &s, 0);
    tu_rmrf(dir2);
    free(dir2);
    free(dir);
    free(s.file);
}

/* --- stale branches ---------------------------------------------------------- */

/* A copy of record `from` with another prev hash (if given) and nonce. */
static uint8_t *variant(const record *from, const ch_hash256 *prev, uint32_t nonce_xor,
                        record *out) {
    uint8_t *p = malloc(from->len);
    memcpy(p, from->p, from->len);
    if (prev) memcpy(p + 8 + 4, prev->b, 32);
    p[8 + 76] ^= (uint8_t)nonce_xor;
    p[8 + 77] ^= (uint8_t)(nonce_xor >> 8);
    *out = (record){p, from->len};
    return p;
}

static ch_hash256 record_hash(const record *r) {
    ch_hash256 h;
    ch_sha256d(r->p + 8, 80, &h);
    return h;
}

static void test_stale_branch_dropped(void **state) {
    (void)state;
    source s;
    if (!load_source(&s)) skip();
    record r[N_BLOCKS + 2];
    memcpy(r, s.rec, sizeof s.rec);
    /* block 10 again with another nonce: same parent, another hash, no
     * children; and a rival of the tip seen after it (equal work: the first
     * seen wins, as in Core) */
    uint8_t *a = variant(&s.rec[10], NULL, 0x0101, &r[N_BLOCKS]);
    uint8_t *b = variant(&s.rec[255], NULL, 0x0202, &r[N_BLOCKS + 1]);
    ch_hash256 h10 = record_hash(&s.rec[10]), h10b = record_hash(&r[N_BLOCKS]);
    assert_memory_not_equal(h10.b, h10b.b, 32);
    /* put the stale 10 in the middle of the file */
    record t = r[N_BLOCKS];
    memmove(&r[201], &r[200], (N_BLOCKS - 200) * sizeof *r);
    r[200] = t;
    char *dir = tu_tmpdir();
    write_blk(dir, "blk00000.dat", r, N_BLOCKS + 2, 0, NULL);
    assert_same_chain(dir, &s, 2);
    tu_rmrf(dir);
    free(dir);
    free(a);
    free(b);
    free(s.file);
}

/* A rival branch from 254 that grows longer takes over: most work wins,
 * and the old tip becomes the stale one. */
static void test_longer_branch_wins(void **state) {
    (void)state;
    source s;
    if (!load_source(&s)) skip();
    record r[N_BLOCKS + 3];
    memcpy(r, s.rec, sizeof s.rec);
    uint8_t *x = variant(&s.rec[255], NULL, 0x0303, &r[N_BLOCKS]);
    ch_hash256 hx = record_hash(&r[N_BLOCKS]);
    uint8_t *y = variant(&s.rec[255], &hx, 0x0404, &r[N_BLOCKS + 1]);
    ch_hash256 hy = record_hash(&r[N_BLOCKS + 1]);
    uint8_t *z = variant(&s.rec[255], &hy, 0x0505, &r[N_BLOCKS + 2]);
    ch_hash256 hz = record_hash(&r[N_BLOCKS + 2]);
    /* children before their parents */
    record t = r[N_BLOCKS];
    r[N_BLOCKS] = r[N_BLOCKS + 2];
    r[N_BLOCKS + 2] = t;
    char *dir = tu_tmpdir();
    write_blk(dir, "blk00000.dat", r, N_BLOCKS + 3, 0, NULL);
    ch_blkdir *d;
    ch_blk_chain chain;
    ch_error err = {""};
    assert_int_equal(ch_blkdir_open(dir, &d, &err), 0);
    if (ch_blkdir_best_chain(d, &chain, &err) < 0) fail_msg("%s", err.msg);
    assert_int_equal(chain.n, N_BLOCKS + 2);
    assert_int_equal(chain.n_stale, 1);
    ch_hash256 h254 = record_hash(&s.rec[254]);
    assert_memory_equal(ch_blk_chain_rec(&chain, 254)->hash.b, h254.b, 32);
    assert_memory_equal(ch_blk_chain_rec(&chain, 255)->hash.b, hx.b, 32);
    assert_memory_equal(ch_blk_chain_rec(&chain, 256)->hash.b, hy.b, 32);
    assert_memory_equal(ch_blk_chain_rec(&chain, 257)->hash.b, hz.b, 32);
    ch_blk_chain_free(&chain);
    ch_blkdir_close(d);
    tu_rmrf(dir);
    free(dir);
    free(x);
    free(y);
    free(z);
    free(s.file);
}

/* --- broken files ------------------------------------------------------------ */

/* best_chain on dir must fail naming path and "offset N". */
static void expect_failure(const char *dir, const char *file, uint64_t offset, const char *what) {
    ch_blkdir *d;
    ch_blk_chain chain;
    ch_error err = {""};
    assert_int_equal(ch_blkdir_open(dir, &d, &err), 0);
    assert_int_equal(ch_blkdir_best_chain(d, &chain, &err), -1);
    char path[4096], off[64];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    snprintf(off, sizeof off, "offset %llu", (unsigned long long)offset);
    if (!strstr(err.msg, path) || !strstr(err.msg, off) || !strstr(err.msg, what))
        fail_msg("'%s' should name %s, %s and '%s'", err.msg, path, off, what);
    ch_blkdir_close(d);
}

static void test_truncated_record(void **state) {
    (void)state;
    source s;
    if (!load_source(&s)) skip();
    char *dir = tu_tmpdir();
    /* the last record loses its final 50 bytes */
    size_t last = s.file_len - s.rec[N_BLOCKS - 1].len;
    write_raw(dir, "blk00000.dat", s.file, s.file_len - 50);
    expect_failure(dir, "blk00000.dat", last, "truncated record");
    /* a file ending inside a record's 8-byte head */
    write_raw(dir, "blk00000.dat", s.file, s.rec[0].len + 6);
    expect_failure(dir, "blk00000.dat", s.rec[0].len, "truncated record");
    tu_rmrf(dir);
    free(dir);
    free(s.file);
}

static void test_bad_magic(void **state) {
    (void)state;
    source s;
    if (!load_source(&s)) skip();
    char *dir = tu_tmpdir();
    uint8_t *copy = malloc(s.file_len);
    memcpy(copy, s.file, s.file_len);
    size_t at = (size_t)(s.rec[3].p - s.file);
    copy[at + 1] = 0x00;
    write_raw(dir, "blk00000.dat", s.file, s.rec[0].len);
    write_raw(dir, "blk00001.dat", copy, s.file_len);
    expect_failure(dir, "blk00001.dat", at, "bad magic");

    /* zeros, then a record: not padding */
    write_blk(dir, "blk00001.dat", s.rec, 2, 0, NULL);
    record r[2] = {{(const uint8_t *)"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16}, s.rec[2]};
    char path[4096];
    snprintf(path, sizeof path, "%s/blk00001.dat", dir);
    FILE *f = fopen(path, "ab");
    assert_non_null(f);
    fwrite(r[0].p, 1, r[0].len, f);
    fwrite(r[1].p, 1, r[1].len, f);
    fclose(f);
    expect_failure(dir, "blk00001.dat", s.rec[0].len + s.rec[1].len, "bad magic");
    free(copy);
    tu_rmrf(dir);
    free(dir);
    free(s.file);
}

static void test_empty_and_missing_dirs(void **state) {
    (void)state;
    char *dir = tu_tmpdir();
    ch_blkdir *d;
    ch_error err = {""};
    assert_int_equal(ch_blkdir_open(dir, &d, &err), -1);
    assert_non_null(strstr(err.msg, "no blk"));
    assert_null(d);
    char missing[4096];
    snprintf(missing, sizeof missing, "%s/nope", dir);
    assert_int_equal(ch_blkdir_open(missing, &d, &err), -1);
    assert_non_null(strstr(err.msg, missing));
    /* a bad xor.dat is an error, not silently ignored */
    write_raw(dir, "xor.dat", "abc", 3);
    write_raw(dir, "blk00000.dat", "", 0);
    assert_int_equal(ch_blkdir_open(dir, &d, &err), -1);
    assert_non_null(strstr(err.msg, "xor.dat"));
    /* records without a genesis block */
    source s;
    if (load_source(&s)) {
        unlink(strcat(strcpy(missing, dir), "/xor.dat"));
        write_blk(dir, "blk00000.dat", s.rec + 1, 5, 0, NULL);
        ch_blk_chain chain;
        assert_int_equal(ch_blkdir_open(dir, &d, &err), 0);
        assert_int_equal(ch_blkdir_best_chain(d, &chain, &err), -1);
        assert_non_null(strstr(err.msg, "no genesis"));
        ch_blkdir_close(d);
        free(s.file);
    }
    tu_rmrf(dir);
    free(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_dir),          cmocka_unit_test(test_xor_dir),
        cmocka_unit_test(test_block_170),          cmocka_unit_test(test_shuffled_two_files_padded),
        cmocka_unit_test(test_shuffled_xor),       cmocka_unit_test(test_stale_branch_dropped),
        cmocka_unit_test(test_longer_branch_wins), cmocka_unit_test(test_truncated_record),
        cmocka_unit_test(test_bad_magic),          cmocka_unit_test(test_empty_and_missing_dirs),
    };
    return cmocka_run_group_tests_name("blkfile", tests, NULL, NULL);
}
