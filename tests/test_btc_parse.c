/* Bitcoin transaction and block parsing against real mainnet blocks.
 *
 * Truth: the fixtures' *.expected.jsonl, written by an independent decoder
 * (bitcoinjs-lib), one line per transaction: txid and [value, address]. It
 * gives null for P2PK outputs, where coinhound shows the P2PKH address of the
 * key and says "pubkey"; those are compared on their type instead. */
#include "support/btcblock.h"
#include "support/testutil.h"

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/address.h"
#include "coinhound/btc.h"

/* --- helpers --------------------------------------------------------------- */

/* The lines of a JSON-lines file as one array. */
static json_t *load_jsonl(const char *path) {
    size_t len;
    char *text = (char *)tu_read_file(path, &len);
    assert_non_null(text);
    json_t *arr = json_array();
    for (char *line = text, *end; line < text + len; line = end + 1) {
        end = memchr(line, '\n', (size_t)(text + len - line));
        if (!end) end = text + len;
        if (end == line) continue;
        json_error_t jerr;
        json_t *v = json_loadb(line, (size_t)(end - line), 0, &jerr);
        if (!v) fail_msg("%s: %s", path, jerr.text);
        json_array_append_new(arr, v);
    }
    free(text);
    return arr;
}

/* Compare one parsed transaction with one expected line. Returns the number
 * of P2PK outputs (expected null, shown by us as a P2PKH address). */
static int check_tx(const ch_btc_tx *tx, json_t *exp, const char *where) {
    char txid[65];
    ch_hash256_to_hex(&tx->txid, txid);
    const char *want = json_string_value(json_object_get(exp, "txid"));
    if (!want || strcmp(txid, want)) fail_msg("%s: txid %s, expected %s", where, txid, want);
    json_t *outs = json_object_get(exp, "outs");
    if (json_array_size(outs) != tx->n_out)
        fail_msg("%s %s: %u outputs, expected %zu", where, txid, tx->n_out, json_array_size(outs));
    int p2pk = 0;
    for (uint32_t i = 0; i < tx->n_out; i++) {
        json_t *o = json_array_get(outs, i);
        uint64_t value = (uint64_t)json_integer_value(json_array_get(o, 0));
        if (tx->out[i].value != value)
            fail_msg("%s %s out %u: value %llu, expected %llu", where, txid, i,
                     (unsigned long long)tx->out[i].value, (unsigned long long)value);
        ch_addr a;
        ch_script_type t = ch_btc_classify(tx->out[i].script, tx->out[i].script_len, &a);
        char addr[CH_ADDR_STR_MAX] = "";
        if (a.kind != CH_ADDR_NONE)
            assert_int_equal(ch_addr_to_string(&a, CH_NET_MAINNET, addr), 0);
        const char *want_addr = json_string_value(json_array_get(o, 1));
        if (want_addr) {
            if (strcmp(addr, want_addr))
                fail_msg("%s %s out %u: address '%s' (%s), expected %s", where, txid, i, addr,
                         ch_script_type_name(t), want_addr);
        } else if (t == CH_SCRIPT_P2PK) {
            assert_int_equal(a.kind, CH_ADDR_P2PKH);
            p2pk++;
        } else if (a.kind != CH_ADDR_NONE) {
            fail_msg("%s %s out %u: address %s (%s), expected none", where, txid, i, addr,
                     ch_script_type_name(t));
        }
    }
    return p2pk;
}

/* A fixture's block bytes (framed .dat files lose their 8-byte record head). */
static uint8_t *load_block(const char *path, size_t *len, const uint8_t **block) {
    uint8_t *buf = tu_read_file(path, len);
    assert_non_null(buf);
    *block = buf;
    if (*len >= 8 && !memcmp(buf, "\xf9\xbe\xb4\xd9", 4)) {
        uint32_t size = (uint32_t)buf[4] | (uint32_t)buf[5] << 8 | (uint32_t)buf[6] << 16 |
                        (uint32_t)buf[7] << 24;
        assert_int_equal(size, *len - 8);
        *block += 8;
        *len -= 8;
    }
    return buf;
}

typedef struct block_stats {
    uint32_t n_tx, segwit_txs;
    int p2pk;
} block_stats;

/* Parse one fixture block and hold every tx against its expected file. */
static void check_fixture(const char *rel_block, const char *rel_expected, block_stats *st) {
    const char *bp = tu_fixture(rel_block);
    if (!bp) skip();
    size_t len;
    const uint8_t *data;
    uint8_t *buf = load_block(bp, &len, &data);
    const char *ep = tu_fixture(rel_expected);
    assert_non_null(ep);
    json_t *exp = load_jsonl(ep);

    ch_btc_parser *p = ch_btc_parser_new();
    ch_btc_block b;
    ch_error err = {""};
    if (ch_btc_parse_block(p, data, len, &b, &err) < 0) fail_msg("%s: %s", rel_block, err.msg);
    if (ch_btc_check_witness_commitment(&b, &err) < 0) fail_msg("%s: %s", rel_block, err.msg);
    assert_int_equal(b.n_tx, json_array_size(exp));
    assert_int_equal(b.size, len);
    memset(st, 0, sizeof *st);
    st->n_tx = b.n_tx;
    for (uint32_t i = 0; i < b.n_tx; i++) {
        char where[128];
        snprintf(where, sizeof where, "%s tx %u", rel_block, i);
        st->p2pk += check_tx(&b.tx[i], json_array_get(exp, i), where);
        st->segwit_txs += b.tx[i].has_witness;
    }
    assert_true(ch_btc_tx_is_coinbase(&b.tx[0]));
    for (uint32_t i = 1; i < b.n_tx; i++)
        assert_false(ch_btc_tx_is_coinbase(&b.tx[i]));
    ch_btc_parser_free(p);
    json_decref(exp);
    free(buf);
}

/* --- fixtures against expected outputs -------------------------------------- */

static void test_block_277647_framed(void **state) {
    (void)state;
    block_stats st;
    check_fixture("btc/block-277647.framed.dat", "btc/block-277647.expected.jsonl", &st);
    assert_int_equal(st.n_tx, 213);
    assert_int_equal(st.segwit_txs, 0);
}

static void test_block_59d2_segwit(void **state) {
    (void)state;
    block_stats st;
    check_fixture("btc/block-59d2.raw", "btc/block-59d2.expected.jsonl", &st);
    assert_int_equal(st.n_tx, 3315);
    assert_int_equal(st.segwit_txs, 1341); /* as the fixtures README says */
}

/* Every blocks/block-*.raw beside its .expected.jsonl, whatever is there. */
static void test_blocks_dir(void **state) {
    (void)state;
    const char *dir = tu_fixture("btc/blocks");
    if (!dir) skip();
    char dirpath[4096];
    snprintf(dirpath, sizeof dirpath, "%s", dir);
    DIR *d = opendir(dirpath);
    assert_non_null(d);
    struct dirent *e;
    int seen = 0;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (strncmp(e->d_name, "block-", 6) || n < 5 || strcmp(e->d_name + n - 4, ".raw")) continue;
        char rel[512], rel_exp[512];
        snprintf(rel, sizeof rel, "btc/blocks/%s", e->d_name);
        snprintf(rel_exp, sizeof rel_exp, "btc/blocks/%.*s.expected.jsonl", (int)(n - 4),
                 e->d_name);
        block_stats st;
        check_fixture(rel, rel_exp, &st);
        seen++;
    }
    closedir(d);
    assert_true(seen >= 5);
}

/* --- segwit: wtxid and the witness commitment -------------------------------- */

static uint8_t *parse_fixture(const char *rel, ch_btc_parser *p, ch_btc_block *b, size_t *len,
                              const uint8_t **data) {
    const char *path = tu_fixture(rel);
    if (!path) return NULL;
    uint8_t *buf = load_block(path, len, data);
    ch_error err = {""};
    if (ch_btc_parse_block(p, *data, *len, b, &err) < 0) fail_msg("%s: %s", rel, err.msg);
    return buf;
}

static void test_wtxid_and_commitment(void **state) {
    (void)state;
    static const char *const SEGWIT[] = {"btc/block-59d2.raw", "btc/blocks/block-481829.raw",
                                         "btc/blocks/block-482683.raw"};
    for (size_t k = 0; k < sizeof SEGWIT / sizeof SEGWIT[0]; k++) {
        ch_btc_parser *p = ch_btc_parser_new();
        ch_btc_block b;
        size_t len;
        const uint8_t *data;
        uint8_t *buf = parse_fixture(SEGWIT[k], p, &b, &len, &data);
        if (!buf) skip();
        ch_error err = {""};
        if (ch_btc_check_witness_commitment(&b, &err) < 0) fail_msg("%s: %s", SEGWIT[k], err.msg);

        /* wtxid differs from txid exactly for transactions with witness data */
        const ch_btc_tx *sw = NULL;
        for (uint32_t i = 0; i < b.n_tx; i++) {
            ch_hash256 w;
            ch_btc_tx_wtxid(&b.tx[i], &w);
            assert_int_equal(!memcmp(w.b, b.tx[i].txid.b, 32), !b.tx[i].has_witness);
            if (b.tx[i].has_witness) {
                assert_true(b.tx[i].base_size < b.tx[i].size);
                if (i > 0 && !sw) sw = &b.tx[i];
            } else {
                assert_int_equal(b.tx[i].base_size, b.tx[i].size);
            }
        }
        /* 481829 carries witness data in its coinbase only */
        if (k != 1) assert_non_null(sw);
        if (!sw) sw = &b.tx[0];

        /* Change one witness byte (of a segwit spend, or the coinbase's
         * reserved value): txids and the merkle root stand, the commitment
         * must fail and name the block. */
        uint8_t *copy = malloc(len);
        memcpy(copy, data, len);
        size_t at = (size_t)(sw->in[0].witness - data) + sw->in[0].witness_len - 1;
        copy[at] ^= 0x01;
        ch_btc_block b2;
        if (ch_btc_parse_block(p, copy, len, &b2, &err) < 0) fail_msg("%s", err.msg);
        assert_int_equal(ch_btc_check_witness_commitment(&b2, &err), -1);
        char hash[65];
        ch_hash256_to_hex(&b2.header.hash, hash);
        assert_non_null(strstr(err.msg, hash));
        assert_non_null(strstr(err.msg, "witness commitment"));
        free(copy);
        ch_btc_parser_free(p);
        free(buf);
    }
}

/* --- segwit's lock-in period: a commitment output and no witness ------------- */

/* Blocks mined while segwit was locked in but not yet active (just below
 * height 481,824) hold a commitment output in the coinbase and no witness
 * anywhere. They are valid: they parse, every txid is SHA256d of the
 * transaction's bytes, and the commitment is not held against them. */
static void test_lockin_block_commitment_without_witness_decodes(void **state) {
    (void)state;
    uint8_t commitment[32];
    memset(commitment, 0xc7, sizeof commitment); /* commits to nothing we hold */
    size_t len;
    uint8_t *raw = bb_lockin_block(false, commitment, &len);
    ch_btc_parser *p = ch_btc_parser_new();
    ch_btc_block b;
    ch_error err = {""};
    if (ch_btc_parse_block(p, raw, len, &b, &err) < 0) fail_msg("%s", err.msg);
    if (ch_btc_check_witness_commitment(&b, &err) < 0) fail_msg("%s", err.msg);
    assert_int_equal(b.n_tx, 2);
    for (int i = 0; i < 2; i++) {
        size_t n;
        const uint8_t *tx = bb_lockin_tx(i, &n);
        ch_hash256 want;
        ch_sha256d(tx, n, &want);
        if (i == 0) { /* the commitment bytes are part of the coinbase */
            uint8_t cb[512];
            memcpy(cb, tx, n);
            memcpy(cb + n - 36, commitment, 32);
            ch_sha256d(cb, n, &want);
        }
        assert_memory_equal(b.tx[i].txid.b, want.b, 32);
        assert_false(b.tx[i].has_witness);
    }
    assert_int_equal(b.tx[0].n_out, 2);
    assert_int_equal(b.tx[0].out[0].value, 1250000000);
    assert_int_equal(b.tx[0].out[1].script_len, 38);
    ch_btc_parser_free(p);
    free(raw);
}

/* The same block once segwit is active (the coinbase carries the reserved
 * value): the commitment is checked, against a root worked out here from
 * BIP141's definition (coinbase wtxid zero, then SHA256d(root || reserved)). */
static void test_commitment_checked_when_block_has_witness(void **state) {
    (void)state;
    size_t n;
    const uint8_t *spend = bb_lockin_tx(1, &n);
    ch_hash256 zero, wtxid1, wroot, commit;
    memset(&zero, 0, sizeof zero);
    ch_sha256d(spend, n, &wtxid1); /* a legacy tx: wtxid = txid */
    uint8_t pair[64];
    memcpy(pair, zero.b, 32);
    memcpy(pair + 32, wtxid1.b, 32);
    ch_sha256d(pair, 64, &wroot);
    memcpy(pair, wroot.b, 32);
    memset(pair + 32, 0, 32); /* the reserved value */
    ch_sha256d(pair, 64, &commit);

    ch_btc_parser *p = ch_btc_parser_new();
    ch_btc_block b;
    ch_error err = {""};
    size_t len;
    uint8_t *good = bb_lockin_block(true, commit.b, &len);
    if (ch_btc_parse_block(p, good, len, &b, &err) < 0) fail_msg("%s", err.msg);
    assert_true(b.tx[0].has_witness);
    if (ch_btc_check_witness_commitment(&b, &err) < 0) fail_msg("%s", err.msg);

    commit.b[5] ^= 1;
    uint8_t *bad = bb_lockin_block(true, commit.b, &len);
    if (ch_btc_parse_block(p, bad, len, &b, &err) < 0) fail_msg("%s", err.msg);
    assert_int_equal(ch_btc_check_witness_commitment(&b, &err), -1);
    assert_non_null(strstr(err.msg, "witness commitment mismatch"));
    ch_btc_parser_free(p);
    free(good);
    free(bad);
}

/* Real block 481,829 carries witness data in its coinbase only. Without it
 * (marker, flag and reserved value cut out) it has the exact layout of a
 * lock-in block: it must still parse with every txid as the independent
 * decoder gives it. */
static void test_real_block_without_coinbase_witness_decodes(void **state) {
    (void)state;
    const char *path = tu_fixture("btc/blocks/block-481829.raw");
    if (!path) skip();
    size_t len, slen;
    const uint8_t *data;
    uint8_t *buf = load_block(path, &len, &data);
    uint8_t *stripped = bb_strip_coinbase_witness(data, len, &slen);
    assert_non_null(stripped);
    assert_int_equal(slen, len - 2 - 34); /* marker, flag, 1 item of 32 bytes */
    json_t *exp = load_jsonl(tu_fixture("btc/blocks/block-481829.expected.jsonl"));
    ch_btc_parser *p = ch_btc_parser_new();
    ch_btc_block b;
    ch_error err = {""};
    if (ch_btc_parse_block(p, stripped, slen, &b, &err) < 0) fail_msg("%s", err.msg);
    if (ch_btc_check_witness_commitment(&b, &err) < 0) fail_msg("%s", err.msg);
    assert_int_equal(b.n_tx, json_array_size(exp));
    for (uint32_t i = 0; i < b.n_tx; i++) {
        assert_false(b.tx[i].has_witness);
        check_tx(&b.tx[i], json_array_get(exp, i), "481829 without witness");
    }
    ch_btc_parser_free(p);
    json_decref(exp);
    free(stripped);
    free(buf);
}

/* --- corrupt input ----------------------------------------------------------- */

static void test_merkle_mismatch_names_block(void **state) {
    (void)state;
    ch_btc_parser *p = ch_btc_parser_new();
    ch_btc_block b;
    size_t len;
    const uint8_t *data;
    uint8_t *buf = parse_fixture("btc/block-277647.framed.dat", p, &b, &len, &data);
    if (!buf) skip();
    char hash[65];
    ch_hash256_to_hex(&b.header.hash, hash);
    /* one byte inside the pubkey hash of tx 5's first output */
    size_t at = (size_t)(b.tx[5].out[0].script - data) + 5;
    uint8_t *copy = malloc(len);
    memcpy(copy, data, len);
    copy[at] ^= 0x40;
    ch_error err = {""};
    assert_int_equal(ch_btc_parse_block(p, copy, len, &b, &err), -1);
    assert_non_null(strstr(err.msg, "merkle root mismatch"));
    assert_non_null(strstr(err.msg, hash));
    free(copy);
    ch_btc_parser_free(p);
    free(buf);
}

static void test_trailing_garbage(void **state) {
    (void)state;
    ch_btc_parser *p = ch_btc_parser_new();
    ch_btc_block b;
    size_t len;
    const uint8_t *data;
    uint8_t *buf = parse_fixture("btc/blocks/block-482683.raw", p, &b, &len, &data);
    if (!buf) skip();
    uint8_t *copy = malloc(len + 3);
    memcpy(copy, data, len);
    memcpy(copy + len, "\x01\x02\x03", 3);
    ch_error err = {""};
    assert_int_equal(ch_btc_parse_block(p, copy, len + 3, &b, &err), -1);
    char want[64];
    snprintf(want, sizeof want, "3 bytes of trailing data at offset %zu", len);
    assert_non_null(strstr(err.msg, want));
    free(copy);
    ch_btc_parser_free(p);
    free(buf);
}

/* Parse a prefix from its own exact-size allocation, so that reading one
 * byte too far is caught by ASan. */
static int parse_prefix(ch_btc_parser *p, const uint8_t *data, size_t cut, ch_error *err) {
    uint8_t *copy = malloc(cut ? cut : 1);
    memcpy(copy, data, cut);
    ch_btc_block b;
    int rc = ch_btc_parse_block(p, copy, cut, &b, err);
    free(copy);
    return rc;
}

static void test_truncated_blocks_fail_cleanly(void **state) {
    (void)state;
    static const char *const FILES[] = {"btc/blocks/block-482683.raw",
                                        "btc/blocks/block-227836.raw"};
    for (size_t k = 0; k < 2; k++) {
        const char *path = tu_fixture(FILES[k]);
        if (!path) skip();
        size_t len;
        const uint8_t *data;
        uint8_t *buf = load_block(path, &len, &data);
        ch_btc_parser *p = ch_btc_parser_new();
        int cuts = 0;
        /* every cut in the first 600 bytes, then a spread through the block */
        for (size_t cut = 0; cut < len; cut += cut < 600 ? 1 : 1 + len / 1500) {
            ch_error err = {""};
            assert_int_equal(parse_prefix(p, data, cut, &err), -1);
            if (!strstr(err.msg, "offset")) fail_msg("cut %zu: '%s' names no offset", cut, err.msg);
            cuts++;
        }
        assert_true(cuts > 1000);
        ch_error err = {""};
        assert_int_equal(parse_prefix(p, data, len, &err), 0);
        ch_btc_parser_free(p);
        free(buf);
    }
}

/* The message says what ran out and where. */
static void test_truncation_message(void **state) {
    (void)state;
    const char *path = tu_fixture("btc/blocks/block-482683.raw");
    if (!path) skip();
    size_t len;
    const uint8_t *data;
    uint8_t *buf = load_block(path, &len, &data);
    ch_btc_parser *p = ch_btc_parser_new();
    ch_btc_block b;
    ch_error err = {""};
    assert_int_equal(ch_btc_parse_block(p, data, len, &b, &err), 0);
    /* cut tx 1 right after its input count */
    const ch_btc_tx *tx = &b.tx[1];
    size_t start = (size_t)(tx->raw - data);
    size_t count_at = start + 4 + (tx->has_witness ? 2 : 0);
    uint32_t n_in = tx->n_in;
    assert_int_equal(parse_prefix(p, data, count_at + 1, &err), -1);
    char want[128];
    snprintf(want, sizeof want, "truncated transaction at offset %zu: input count says %u",
             count_at, n_in);
    if (!strstr(err.msg, want)) fail_msg("'%s' lacks '%s'", err.msg, want);
    assert_non_null(strstr(err.msg, "transaction 1 of"));
    ch_btc_parser_free(p);
    free(buf);
}

/* Flipped bytes anywhere must give a clean success or a clean error. */
static void test_corrupted_bytes_never_crash(void **state) {
    (void)state;
    const char *path = tu_fixture("btc/blocks/block-482683.raw");
    if (!path) skip();
    size_t len;
    const uint8_t *data;
    uint8_t *buf = load_block(path, &len, &data);
    uint8_t *copy = malloc(len);
    ch_btc_parser *p = ch_btc_parser_new();
    uint32_t x = 12345;
    for (int round = 0; round < 3000; round++) {
        memcpy(copy, data, len);
        x = x * 1103515245u + 12345u;
        size_t at = (x >> 8) % (round < 1500 ? 400 : len);
        copy[at] = (uint8_t)(x >> 3 ^ (round & 1 ? 0xff : 0x80));
        ch_error err = {""};
        ch_btc_block b;
        if (ch_btc_parse_block(p, copy, len, &b, &err) == 0) {
            ch_btc_check_witness_commitment(&b, &err);
        } else {
            assert_true(err.msg[0] != '\0');
        }
    }
    free(copy);
    ch_btc_parser_free(p);
    free(buf);
}

/* --- single transactions ----------------------------------------------------- */

static void test_decode_single_tx(void **state) {
    (void)state;
    const char *ep = tu_fixture("btc/block-59d2.expected.jsonl");
    if (!ep) skip();
    json_t *exp = load_jsonl(ep);
    ch_btc_parser *p = ch_btc_parser_new(), *q = ch_btc_parser_new();
    ch_btc_block b;
    size_t len;
    const uint8_t *data;
    uint8_t *buf = parse_fixture("btc/block-59d2.raw", p, &b, &len, &data);
    assert_non_null(buf);
    int legacy = 0, segwit = 0;
    for (uint32_t i = 0; i < b.n_tx && (legacy < 20 || segwit < 20); i++) {
        const ch_btc_tx *bt = &b.tx[i];
        int *count = bt->has_witness ? &segwit : &legacy;
        if (*count >= 20) continue;
        (*count)++;
        uint8_t *one = malloc(bt->size);
        memcpy(one, bt->raw, bt->size);
        ch_btc_tx tx;
        size_t used = 0;
        ch_error err = {""};
        if (ch_btc_parse_tx(q, one, bt->size, &used, &tx, &err) < 0)
            fail_msg("tx %u: %s", i, err.msg);
        assert_int_equal(used, bt->size);
        assert_int_equal(tx.has_witness, bt->has_witness);
        assert_int_equal(tx.base_size, bt->base_size);
        check_tx(&tx, json_array_get(exp, i), "single tx");
        /* every shorter prefix fails with an offset, never reads past it */
        for (size_t cut = 0; cut < bt->size; cut += 1 + bt->size / 97) {
            uint8_t *pre = malloc(cut ? cut : 1);
            memcpy(pre, one, cut);
            assert_int_equal(ch_btc_parse_tx(q, pre, cut, &used, &tx, &err), -1);
            assert_non_null(strstr(err.msg, "offset"));
            free(pre);
        }
        free(one);
    }
    assert_int_equal(segwit, 20);
    ch_btc_parser_free(p);
    ch_btc_parser_free(q);
    json_decref(exp);
    free(buf);
}

/* A small hand-written legacy transaction (one input, two outputs). */
static void test_handmade_tx(void **state) {
    (void)state;
    static const char HEX[] =
        "01000000"                                                         /* version */
        "01"                                                               /* 1 input */
        "1111111111111111111111111111111111111111111111111111111111111111" /* prev */
        "02000000"                                                         /* vout 2 */
        "00"                                                               /* script */
        "feffffff"                                                         /* sequence */
        "02"                                                               /* 2 outputs */
        "00e1f50500000000" /* 1 BTC */ "16"
        "0014"
        "751e76e8199196d454941c45d1b3a323f1433bd6"
        "0000000000000000"
        "04"
        "6a02beef"  /* OP_RETURN */
        "10000000"; /* locktime 16 */
    uint8_t raw[sizeof HEX / 2];
    size_t n = (sizeof HEX - 1) / 2;
    assert_int_equal(ch_hex_decode(HEX, sizeof HEX - 1, raw, n), 0);
    ch_btc_parser *p = ch_btc_parser_new();
    ch_btc_tx tx;
    size_t used;
    ch_error err = {""};
    if (ch_btc_parse_tx(p, raw, n, &used, &tx, &err) < 0) fail_msg("%s", err.msg);
    assert_int_equal(used, n);
    assert_int_equal(tx.version, 1);
    assert_int_equal(tx.locktime, 16);
    assert_int_equal(tx.n_in, 1);
    assert_int_equal(tx.in[0].prev_vout, 2);
    assert_int_equal(tx.in[0].sequence, 0xfffffffe);
    assert_int_equal(tx.n_out, 2);
    assert_int_equal(tx.out[0].value, 100000000);
    ch_hash256 h;
    ch_sha256d(raw, n, &h);
    assert_memory_equal(h.b, tx.txid.b, 32);
    assert_false(ch_btc_tx_is_coinbase(&tx));
    ch_addr a;
    char s[CH_ADDR_STR_MAX];
    assert_int_equal(ch_btc_classify(tx.out[0].script, tx.out[0].script_len, &a), CH_SCRIPT_P2WPKH);
    assert_int_equal(ch_addr_to_string(&a, CH_NET_MAINNET, s), 0);
    assert_string_equal(s, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4");
    assert_int_equal(ch_btc_classify(tx.out[1].script, tx.out[1].script_len, &a),
                     CH_SCRIPT_NULLDATA);
    assert_int_equal(a.kind, CH_ADDR_NONE);

    /* non-canonical compact size (fd 0100 for 1) is refused */
    uint8_t bad[sizeof raw + 2];
    memcpy(bad, raw, 4);
    memcpy(bad + 4, "\xfd\x01\x00", 3);
    memcpy(bad + 7, raw + 5, n - 5);
    assert_int_equal(ch_btc_parse_tx(p, bad, n + 2, &used, &tx, &err), -1);
    assert_non_null(strstr(err.msg, "non-canonical"));
    assert_non_null(strstr(err.msg, "offset 4"));
    ch_btc_parser_free(p);
}

/* --- script classification --------------------------------------------------- */

typedef struct script_case {
    const char *hex;
    ch_script_type type;
    const char *addr; /* NULL: none */
} script_case;

static void test_classify(void **state) {
    (void)state;
    static const script_case CASES[] = {
        /* Satoshi's genesis key: P2PK, shown as the P2PKH address of the key */
        {"4104678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f3"
         "5504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5fac",
         CH_SCRIPT_P2PK, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"},
        {"76a91462e907b15cbf27d5425399ebf6f0fb50ebb88f1888ac", CH_SCRIPT_P2PKH,
         "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"},
        /* BIP173 / BIP350 test vectors */
        {"0014751e76e8199196d454941c45d1b3a323f1433bd6", CH_SCRIPT_P2WPKH,
         "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"},
        {"00201863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262", CH_SCRIPT_P2WSH,
         "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3"},
        {"512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798", CH_SCRIPT_P2TR,
         "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0"},
        {"5128751e76e8199196d454941c45d1b3a323f1433bd6751e76e8199196d454941c45d1b3a323f1433bd6",
         CH_SCRIPT_WITNESS_UNKNOWN,
         "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y"},
        {"6002751e", CH_SCRIPT_WITNESS_UNKNOWN, "bc1sw50qgdz25j"},
        {"5210751e76e8199196d454941c45d1b3a323", CH_SCRIPT_WITNESS_UNKNOWN,
         "bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs"},
        /* v0 with a length other than 20 or 32 */
        {"0010751e76e8199196d454941c45d1b3a323", CH_SCRIPT_NONSTANDARD, NULL},
        {"a914b472a266d0bd89c13706a4132ccfb16f7c3b9fcb87", CH_SCRIPT_P2SH, NULL},
        /* 1-of-2 bare multisig */
        {"51"
         "21020202020202020202020202020202020202020202020202020202020202020202"
         "21030303030303030303030303030303030303030303030303030303030303030303"
         "52ae",
         CH_SCRIPT_MULTISIG, NULL},
        /* 3-of-2 is not multisig */
        {"53"
         "21020202020202020202020202020202020202020202020202020202020202020202"
         "21030303030303030303030303030303030303030303030303030303030303030303"
         "52ae",
         CH_SCRIPT_NONSTANDARD, NULL},
        {"6a", CH_SCRIPT_NULLDATA, NULL},
        {"6a04deadbeef", CH_SCRIPT_NULLDATA, NULL},
        {"6a4c03aabbcc", CH_SCRIPT_NULLDATA, NULL},
        {"6aac", CH_SCRIPT_NONSTANDARD, NULL},     /* OP_RETURN then a non-push */
        {"6a05aabb", CH_SCRIPT_NONSTANDARD, NULL}, /* push runs past the end */
        {"51", CH_SCRIPT_NONSTANDARD, NULL},
        {"", CH_SCRIPT_NONSTANDARD, NULL},
        /* a 33-byte key with a bad first byte is not P2PK */
        {"21050202020202020202020202020202020202020202020202020202020202020202ac",
         CH_SCRIPT_NONSTANDARD, NULL},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        const script_case *c = &CASES[i];
        uint8_t s[100];
        size_t n = strlen(c->hex) / 2;
        assert_int_equal(ch_hex_decode(c->hex, strlen(c->hex), s, n), 0);
        ch_addr a;
        ch_script_type t = ch_btc_classify(s, n, &a);
        if (t != c->type)
            fail_msg("case %zu: type %s, expected %s", i, ch_script_type_name(t),
                     ch_script_type_name(c->type));
        if (c->addr) {
            char str[CH_ADDR_STR_MAX];
            assert_int_equal(ch_addr_to_string(&a, CH_NET_MAINNET, str), 0);
            if (strcmp(str, c->addr)) fail_msg("case %zu: %s, expected %s", i, str, c->addr);
        }
        bool has = t == CH_SCRIPT_P2PK || t == CH_SCRIPT_P2PKH || t == CH_SCRIPT_P2SH ||
                   t == CH_SCRIPT_P2WPKH || t == CH_SCRIPT_P2WSH || t == CH_SCRIPT_P2TR ||
                   t == CH_SCRIPT_WITNESS_UNKNOWN;
        assert_int_equal(a.kind != CH_ADDR_NONE, has);
    }
    assert_string_equal(ch_script_type_name(CH_SCRIPT_P2PK), "pubkey");
}

/* --- merkle ------------------------------------------------------------------ */

static void test_merkle_root_odd_rows(void **state) {
    (void)state;
    ch_hash256 h[5], scratch[5], root, want;
    for (int i = 0; i < 5; i++)
        memset(h[i].b, i + 1, 32);
    /* by hand: rows [ab, cd, ee], [abcd, eeee], root */
    uint8_t buf[64];
    ch_hash256 ab, cd, ee, abcd, eeee;
#define PAIR(l, r, out)                                                                            \
    memcpy(buf, (l).b, 32), memcpy(buf + 32, (r).b, 32), ch_sha256d(buf, 64, &(out))
    PAIR(h[0], h[1], ab);
    PAIR(h[2], h[3], cd);
    PAIR(h[4], h[4], ee);
    PAIR(ab, cd, abcd);
    PAIR(ee, ee, eeee);
    PAIR(abcd, eeee, want);
#undef PAIR
    ch_btc_merkle_root(h, 5, scratch, &root);
    assert_memory_equal(root.b, want.b, 32);
    ch_btc_merkle_root(h, 1, scratch, &root);
    assert_memory_equal(root.b, h[0].b, 32);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_block_277647_framed),
        cmocka_unit_test(test_block_59d2_segwit),
        cmocka_unit_test(test_blocks_dir),
        cmocka_unit_test(test_wtxid_and_commitment),
        cmocka_unit_test(test_lockin_block_commitment_without_witness_decodes),
        cmocka_unit_test(test_commitment_checked_when_block_has_witness),
        cmocka_unit_test(test_real_block_without_coinbase_witness_decodes),
        cmocka_unit_test(test_merkle_mismatch_names_block),
        cmocka_unit_test(test_trailing_garbage),
        cmocka_unit_test(test_truncated_blocks_fail_cleanly),
        cmocka_unit_test(test_truncation_message),
        cmocka_unit_test(test_corrupted_bytes_never_crash),
        cmocka_unit_test(test_decode_single_tx),
        cmocka_unit_test(test_handmade_tx),
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_merkle_root_odd_rows),
    };
    return cmocka_run_group_tests_name("btc_parse", tests, NULL, NULL);
}
