/* The chain generator, checked by reading its output back with the Bitcoin
 * parser: structure (links, merkle roots, witness commitments), money (every
 * input spends an existing unspent output once, nothing is created, the
 * coinbase claims exactly subsidy + fees), keys (inputs carry the key or
 * script their output committed to), determinism, layout variants and the
 * planted theft. */
#include "support/testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "coinhound/address.h"
#include "coinhound/btc.h"
#include "coinhound/gen.h"

/* --- a set of outpoints (open addressing, never shrinks) ------------------ */

typedef struct op_entry {
    uint8_t key[36]; /* txid + vout */
    uint8_t state;   /* 0 empty, 1 unspent, 2 spent */
    uint64_t value;
    ch_script_type type;
    ch_addr addr;
} op_entry;

typedef struct op_set {
    op_entry *e;
    size_t cap, used;
} op_set;

static uint64_t op_hash(const uint8_t *k) {
    uint64_t h;
    memcpy(&h, k, 8); /* txids are uniformly distributed */
    return h ^ ((uint64_t)k[32] * 0x9e3779b97f4a7c15ULL) ^ ((uint64_t)k[33] << 17);
}

static op_entry *op_find(op_set *s, const uint8_t *k, bool insert) {
    if (insert && (s->used + 1) * 2 > s->cap) {
        op_set bigger = {calloc(s->cap ? s->cap * 2 : 1024, sizeof(op_entry)),
                         s->cap ? s->cap * 2 : 1024, 0};
        assert_non_null(bigger.e);
        for (size_t i = 0; i < s->cap; i++)
            if (s->e[i].state) *op_find(&bigger, s->e[i].key, true) = s->e[i];
        free(s->e);
        *s = bigger;
    }
    if (!s->cap) return NULL;
    for (size_t i = op_hash(k) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
        if (!s->e[i].state) {
            if (!insert) return NULL;
            memcpy(s->e[i].key, k, 36);
            s->e[i].state = 1;
            s->used++;
            return &s->e[i];
        }
        if (!memcmp(s->e[i].key, k, 36)) return &s->e[i];
    }
}

static void op_key(uint8_t k[36], const ch_hash256 *txid, uint32_t vout) {
    memcpy(k, txid->b, 32);
    for (int i = 0; i < 4; i++)
        k[32 + i] = (uint8_t)(vout >> (8 * i));
}

/* --- reading a chain back ------------------------------------------------- */

#define MAX_WANT 4

typedef struct wanted_tx {
    ch_hash256 txid;
    bool found;
    uint32_t n_in, n_out;
    uint64_t out_value[16];
    char out_addr[16][CH_ADDR_STR_MAX];
} wanted_tx;

typedef struct chain_sum {
    size_t blocks, stale, txs, inputs, outputs;
    ch_hash256 *hashes;
    uint64_t by_type[CH_SCRIPT_TYPE_COUNT];
    uint64_t key_checks; /* inputs whose key/script matched the output */
    wanted_tx want[MAX_WANT];
    size_t n_want;
} chain_sum;

static uint64_t subsidy(size_t h) {
    return (50ULL * CH_BTC_COIN) >> (h / 210000);
}

/* Data pushes of a script, the last one returned (NULL when none). */
static const uint8_t *last_push(const uint8_t *s, size_t n, size_t *len) {
    const uint8_t *last = NULL;
    size_t i = 0;
    while (i < n) {
        uint8_t op = s[i++];
        size_t l = 0;
        if (op >= 1 && op <= 75) {
            l = op;
        } else if (op == 0x4c && i < n) {
            l = s[i++];
        } else {
            continue;
        }
        if (i + l > n) return NULL;
        last = s + i;
        *len = l;
        i += l;
    }
    return last;
}

/* The last item of a serialized witness stack (items after the count). */
static const uint8_t *last_item(const ch_btc_txin *in, size_t *len) {
    const uint8_t *p = in->witness, *last = NULL;
    for (uint32_t k = 0; k < in->witness_items; k++) {
        size_t l = *p++; /* every generated item is shorter than 0xfd */
        last = p;
        *len = l;
        p += l;
    }
    return last;
}

/* Does the input carry what its output committed to? */
static void check_keys(const op_entry *prev, const ch_btc_txin *in, chain_sum *sum) {
    size_t len = 0;
    const uint8_t *item;
    uint8_t h[32];
    switch (prev->type) {
    case CH_SCRIPT_P2PKH:
    case CH_SCRIPT_P2SH:
        item = last_push(in->script, in->script_len, &len);
        assert_non_null(item);
        ch_hash160_of(item, len, (ch_hash160 *)h);
        assert_memory_equal(h, prev->addr.bytes, 20);
        sum->key_checks++;
        break;
    case CH_SCRIPT_P2WPKH:
        assert_int_equal(in->witness_items, 2);
        item = last_item(in, &len);
        assert_int_equal(len, 33);
        ch_hash160_of(item, len, (ch_hash160 *)h);
        assert_memory_equal(h, prev->addr.bytes, 20);
        sum->key_checks++;
        break;
    case CH_SCRIPT_P2WSH:
        item = last_item(in, &len);
        assert_non_null(item);
        ch_sha256(item, len, h);
        assert_memory_equal(h, prev->addr.bytes, 32);
        sum->key_checks++;
        break;
    case CH_SCRIPT_P2TR:
        assert_int_equal(in->witness_items, 1);
        assert_int_equal(in->witness_len, 65);
        break;
    default:
        break;
    }
}

static void check_tx(const ch_btc_tx *tx, size_t h, op_set *set, uint64_t *fees, chain_sum *sum) {
    uint64_t in_sum = 0, out_sum = 0;
    uint8_t k[36];
    for (uint32_t i = 0; i < tx->n_in; i++) {
        op_key(k, &tx->in[i].prev_txid, tx->in[i].prev_vout);
        op_entry *e = op_find(set, k, false);
        if (!e || e->state != 1) {
            char hex[65];
            ch_hash256_to_hex(&tx->txid, hex);
            fail_msg("block %zu tx %s input %u spends %s output", h, hex, i,
                     e ? "an already spent" : "a missing");
        }
        e->state = 2;
        in_sum += e->value;
        check_keys(e, &tx->in[i], sum);
    }
    for (uint32_t o = 0; o < tx->n_out; o++)
        out_sum += tx->out[o].value;
    assert_true(in_sum >= out_sum);
    *fees += in_sum - out_sum;
}

static void add_outputs(const ch_btc_tx *tx, op_set *set, chain_sum *sum) {
    uint8_t k[36];
    for (uint32_t o = 0; o < tx->n_out; o++) {
        op_key(k, &tx->txid, o);
        op_entry *e = op_find(set, k, true);
        assert_int_equal(e->state, 1); /* a txid + vout is never created twice */
        e->value = tx->out[o].value;
        e->type = ch_btc_classify(tx->out[o].script, tx->out[o].script_len, &e->addr);
        sum->by_type[e->type]++;
    }
}

static void note_wanted(const ch_btc_tx *tx, chain_sum *sum) {
    for (size_t w = 0; w < sum->n_want; w++) {
        wanted_tx *x = &sum->want[w];
        if (memcmp(x->txid.b, tx->txid.b, 32)) continue;
        x->found = true;
        x->n_in = tx->n_in;
        x->n_out = tx->n_out;
        for (uint32_t o = 0; o < tx->n_out && o < 16; o++) {
            ch_addr a;
            x->out_value[o] = tx->out[o].value;
            x->out_addr[o][0] = 0;
            ch_btc_classify(tx->out[o].script, tx->out[o].script_len, &a);
            /* the generator writes regtest blk files and regtest addresses */
            ch_addr_to_string(&a, CH_NET_REGTEST, x->out_addr[o]);
        }
    }
}

static void check_block(const ch_btc_block *b, size_t h, op_set *set, chain_sum *sum) {
    assert_true(b->n_tx >= 1);
    assert_true(ch_btc_tx_is_coinbase(&b->tx[0]));
    uint64_t fees = 0;
    for (uint32_t i = 1; i < b->n_tx; i++) {
        assert_false(ch_btc_tx_is_coinbase(&b->tx[i]));
        check_tx(&b->tx[i], h, set, &fees, sum);
        add_outputs(&b->tx[i], set, sum);
        note_wanted(&b->tx[i], sum);
        sum->inputs += b->tx[i].n_in;
        sum->outputs += b->tx[i].n_out;
    }
    uint64_t claimed = 0;
    for (uint32_t o = 0; o < b->tx[0].n_out; o++)
        claimed += b->tx[0].out[o].value;
    assert_int_equal(claimed, subsidy(h) + fees); /* exactly: nothing lost, nothing made */
    add_outputs(&b->tx[0], set, sum);
    sum->inputs += 1;
    sum->outputs += b->tx[0].n_out;
    sum->txs += b->n_tx;
}

/* Read and check the whole best chain of dir. */
static void read_chain(const char *dir, chain_sum *sum) {
    ch_error err;
    ch_blkdir *d = NULL;
    if (ch_blkdir_open(dir, &d, &err) != 0) fail_msg("open: %s", err.msg);
    ch_blk_chain chain;
    if (ch_blkdir_best_chain(d, &chain, &err) != 0) fail_msg("best chain: %s", err.msg);
    ch_btc_parser *p = ch_btc_parser_new();
    op_set set = {0};
    uint8_t *buf = NULL;
    size_t cap = 0;
    ch_hash256 prev;
    memset(&prev, 0, sizeof prev);
    sum->blocks = chain.n;
    sum->stale = chain.n_stale;
    sum->hashes = calloc(chain.n, sizeof *sum->hashes);
    for (size_t h = 0; h < chain.n; h++) {
        ch_btc_block b;
        if (ch_blk_chain_read(d, &chain, h, &buf, &cap, &err) != 0 ||
            ch_btc_parse_block(p, buf, ch_blk_chain_rec(&chain, h)->size, &b, &err) != 0 ||
            ch_btc_check_witness_commitment(&b, &err) != 0)
            fail_msg("block %zu: %s", h, err.msg);
        assert_memory_equal(b.header.prev.b, prev.b, 32);
        assert_memory_equal(b.header.hash.b, ch_blk_chain_rec(&chain, h)->hash.b, 32);
        assert_int_equal(b.header.bits, 0x207fffff);
        assert_true(b.header.hash.b[31] < 0x80); /* regtest proof of work holds */
        check_block(&b, h, &set, sum);
        prev = b.header.hash;
        sum->hashes[h] = b.header.hash;
    }
    free(buf);
    free(set.e);
    ch_btc_parser_free(p);
    ch_blk_chain_free(&chain);
    ch_blkdir_close(d);
}

static void gen_ok(const ch_gen_opts *o, ch_gen_stats *st) {
    ch_error err;
    if (ch_gen_run(o, st, &err) != 0) fail_msg("generate: %s", err.msg);
}

static void small_opts(ch_gen_opts *o, const char *dir, uint64_t seed) {
    ch_gen_opts_init(o);
    o->out_dir = dir;
    o->seed = seed;
    o->txs = 2500;
    o->txs_per_block = 80;
    o->maturity = 20;
}

/* Two rotating buffers, so one call may compare two paths. */
static char *path_in(const char *dir, const char *name) {
    static char p[2][4096];
    static int which;
    which ^= 1;
    snprintf(p[which], sizeof p[which], "%s/%s", dir, name);
    return p[which];
}

/* --- tests ---------------------------------------------------------------- */

static void test_chain_is_valid(void **state) {
    (void)state;
    char *dir = tu_tmpdir();
    ch_gen_opts o;
    small_opts(&o, dir, 5);
    ch_gen_stats st;
    gen_ok(&o, &st);
    chain_sum sum = {0};
    read_chain(dir, &sum);
    assert_int_equal(sum.blocks, st.blocks);
    assert_int_equal(sum.stale, 0);
    assert_int_equal(sum.txs, st.txs);
    assert_int_equal(sum.txs - sum.blocks, 2500);
    assert_int_equal(sum.inputs, st.inputs);
    assert_int_equal(sum.outputs, st.outputs);
    assert_memory_equal(sum.hashes[sum.blocks - 1].b, st.tip.b, 32);
    static const ch_script_type MIX[] = {CH_SCRIPT_P2PK,     CH_SCRIPT_P2PKH,   CH_SCRIPT_P2SH,
                                         CH_SCRIPT_P2WPKH,   CH_SCRIPT_P2WSH,   CH_SCRIPT_P2TR,
                                         CH_SCRIPT_MULTISIG, CH_SCRIPT_NULLDATA};
    for (size_t i = 0; i < sizeof MIX / sizeof *MIX; i++) {
        if (sum.by_type[MIX[i]] == 0) fail_msg("no %s output", ch_script_type_short(MIX[i]));
        assert_int_equal(sum.by_type[MIX[i]], st.outputs_by_type[MIX[i]]);
    }
    assert_int_equal(sum.by_type[CH_SCRIPT_NONSTANDARD], 0);
    assert_true(sum.key_checks > sum.inputs / 2);
    free(sum.hashes);
    tu_rmrf(dir);
    free(dir);
}

static bool same_file(const char *a, const char *b) {
    size_t la, lb;
    uint8_t *x = tu_read_file(a, &la), *y = tu_read_file(b, &lb);
    bool same = x && y && la == lb && !memcmp(x, y, la);
    free(x);
    free(y);
    return same;
}

static void test_seed_decides_bytes(void **state) {
    (void)state;
    char *a = tu_tmpdir(), *b = tu_tmpdir(), *c = tu_tmpdir();
    ch_gen_opts o;
    ch_gen_stats st;
    small_opts(&o, a, 11);
    o.theft = true;
    gen_ok(&o, &st);
    o.out_dir = b;
    gen_ok(&o, &st);
    o.out_dir = c;
    o.seed = 12;
    gen_ok(&o, &st);
    char pa[4096], pb[4096], pc[4096];
    static const char *const FILES[] = {"blk00000.dat", "labels.csv", "theft.json"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(pa, sizeof pa, "%s/%s", a, FILES[i]);
        snprintf(pb, sizeof pb, "%s/%s", b, FILES[i]);
        snprintf(pc, sizeof pc, "%s/%s", c, FILES[i]);
        assert_true(same_file(pa, pb));
        assert_false(same_file(pa, pc));
    }
    tu_rmrf(a);
    tu_rmrf(b);
    tu_rmrf(c);
    free(a);
    free(b);
    free(c);
}

static void assert_same_chain(const chain_sum *x, const chain_sum *y) {
    assert_int_equal(x->blocks, y->blocks);
    assert_memory_equal(x->hashes, y->hashes, x->blocks * sizeof *x->hashes);
    assert_int_equal(x->txs, y->txs);
}

/* xor, shuffle, stale blocks and small files change the files, never the
 * best chain. */
static void test_layout_keeps_best_chain(void **state) {
    (void)state;
    char *base_dir = tu_tmpdir();
    ch_gen_opts o;
    ch_gen_stats st;
    small_opts(&o, base_dir, 21);
    gen_ok(&o, &st);
    chain_sum base = {0};
    read_chain(base_dir, &base);

    struct {
        bool xor_on, key_set, shuffle;
        uint32_t stale;
        uint64_t max_file;
    } variants[] = {
        {true, true, false, 0, 0},   {true, false, false, 0, 0},      {false, false, true, 0, 0},
        {false, false, false, 4, 0}, {false, false, false, 0, 60000}, {true, false, true, 6, 90000},
    };
    for (size_t v = 0; v < sizeof variants / sizeof *variants; v++) {
        char *dir = tu_tmpdir();
        small_opts(&o, dir, 21);
        o.xor_enabled = variants[v].xor_on;
        o.xor_key_set = variants[v].key_set;
        memcpy(o.xor_key, "\x01\x23\x45\x67\x89\xab\xcd\xef", 8);
        o.shuffle = variants[v].shuffle;
        o.stale = variants[v].stale;
        if (variants[v].max_file) o.max_file_size = variants[v].max_file;
        gen_ok(&o, &st);
        assert_int_equal(st.stale_blocks, variants[v].stale);
        chain_sum sum = {0};
        read_chain(dir, &sum);
        assert_same_chain(&base, &sum);
        assert_int_equal(sum.stale, variants[v].stale);
        struct stat sb;
        assert_int_equal(stat(path_in(dir, "xor.dat"), &sb) == 0, variants[v].xor_on);
        if (variants[v].xor_on) {
            size_t n;
            uint8_t *key = tu_read_file(path_in(dir, "xor.dat"), &n);
            assert_int_equal(n, 8);
            if (variants[v].key_set) assert_memory_equal(key, o.xor_key, 8);
            free(key);
        }
        if (variants[v].max_file) {
            assert_true(st.files > 1);
            for (uint32_t f = 0; f < st.files; f++) {
                char name[32];
                snprintf(name, sizeof name, "blk%05u.dat", f);
                assert_int_equal(stat(path_in(dir, name), &sb), 0);
                assert_true((uint64_t)sb.st_size <= variants[v].max_file);
            }
        }
        if (variants[v].xor_on || variants[v].shuffle || variants[v].stale)
            assert_false(
                same_file(path_in(dir, "blk00000.dat"), path_in(base_dir, "blk00000.dat")));
        free(sum.hashes);
        tu_rmrf(dir);
        free(dir);
    }
    free(base.hashes);
    tu_rmrf(base_dir);
    free(base_dir);
}

/* labels.csv: header, then address,category,entity with a valid address. */
static size_t check_labels(const char *dir, const char *must_have[], size_t n_must) {
    FILE *f = fopen(path_in(dir, "labels.csv"), "r");
    assert_non_null(f);
    char line[512];
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "address,category,entity\n");
    size_t rows = 0, found = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        char *c1 = strchr(line, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
        assert_non_null(c2);
        *c1 = *c2 = 0;
        ch_addr a;
        ch_error err;
        if (ch_addr_from_string(line, &a, NULL, &err) != 0) fail_msg("%s: %s", line, err.msg);
        assert_true(!strcmp(c1 + 1, "exchange") || !strcmp(c1 + 1, "mixer"));
        assert_true(strlen(c2 + 1) > 0);
        for (size_t i = 0; i < n_must; i++)
            found += !strcmp(line, must_have[i]);
        rows++;
    }
    fclose(f);
    assert_int_equal(found, n_must);
    return rows;
}

static void test_theft_is_traceable(void **state) {
    (void)state;
    char *dir = tu_tmpdir();
    ch_gen_opts o;
    ch_gen_stats st;
    small_opts(&o, dir, 31);
    o.theft = true;
    gen_ok(&o, &st);

    json_error_t jerr;
    json_t *t = json_load_file(path_in(dir, "theft.json"), 0, &jerr);
    if (!t) fail_msg("theft.json: %s", jerr.text);
    const char *txid = json_string_value(json_object_get(t, "theft_txid"));
    const char *thief = json_string_value(json_object_get(t, "thief_address"));
    json_int_t vout = json_integer_value(json_object_get(t, "theft_vout"));
    json_int_t amount = json_integer_value(json_object_get(t, "amount"));
    assert_non_null(txid);
    assert_non_null(thief);
    assert_true(amount > 0);

    /* The theft, the first peel and the CoinJoin, as the chain has them. */
    chain_sum sum = {.n_want = 3};
    assert_int_equal(ch_hash256_from_hex(txid, &sum.want[0].txid), 0);
    size_t i, peels = 0, coinjoins = 0;
    json_t *s;
    json_array_foreach(json_object_get(t, "steps"), i, s) {
        const char *role = json_string_value(json_object_get(s, "role"));
        const char *id = json_string_value(json_object_get(s, "txid"));
        if (!strcmp(role, "peel") && peels++ == 0)
            assert_int_equal(ch_hash256_from_hex(id, &sum.want[1].txid), 0);
        if (!strcmp(role, "coinjoin") && coinjoins++ == 0)
            assert_int_equal(ch_hash256_from_hex(id, &sum.want[2].txid), 0);
    }
    assert_int_equal(peels, 8);
    assert_int_equal(coinjoins, 1);
    read_chain(dir, &sum);
    for (size_t w = 0; w < sum.n_want; w++)
        assert_true(sum.want[w].found);
    assert_true(vout < sum.want[0].n_out);
    assert_string_equal(sum.want[0].out_addr[vout], thief);
    assert_int_equal(sum.want[0].out_value[vout], amount);
    assert_int_equal(sum.want[1].n_in, 1); /* a peel: 1 in, 2 out */
    assert_int_equal(sum.want[1].n_out, 2);
    const wanted_tx *cj = &sum.want[2];
    assert_int_equal(cj->n_in, 5);
    uint64_t denom = (uint64_t)json_integer_value(json_object_get(t, "coinjoin_denomination"));
    size_t equal = 0;
    for (uint32_t k = 0; k < cj->n_out; k++)
        equal += cj->out_value[k] == denom;
    assert_int_equal(equal, 5);

    /* Every landing is a labelled address; sweeps exist. */
    json_t *land = json_object_get(t, "landings"), *l;
    const char *addrs[16];
    size_t n_land = 0;
    json_array_foreach(land, i, l) {
        if (n_land < 16) addrs[n_land++] = json_string_value(json_object_get(l, "address"));
    }
    assert_true(n_land >= 10);
    assert_true(check_labels(dir, addrs, n_land) > n_land);
    assert_true(json_array_size(json_object_get(t, "sweeps")) >= 1);
    json_decref(t);
    free(sum.hashes);
    tu_rmrf(dir);
    free(dir);
}

static void test_rejects_bad_plans(void **state) {
    (void)state;
    ch_gen_opts o;
    ch_error err;
    small_opts(&o, "/nonexistent/never", 1);
    o.blocks = 10; /* maturity 20: no room for the wanted txs */
    assert_int_equal(ch_gen_run(&o, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "no room"));
    small_opts(&o, "/nonexistent/never", 1);
    o.max_file_size = 10;
    assert_int_equal(ch_gen_run(&o, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "file size"));
    small_opts(&o, "/nonexistent/never/deeper", 1);
    assert_int_equal(ch_gen_run(&o, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "cannot create"));
}

static void test_cli(void **state) {
    (void)state;
    const char *bin = tu_bin("coinhound-gen");
    struct stat sb;
    if (stat(bin, &sb) != 0) skip();
    char cmd[8192];
    int status;
    snprintf(cmd, sizeof cmd, "%s --help", bin);
    char *out = tu_run(cmd, &status);
    assert_int_equal(status, 0);
    assert_non_null(strstr(out, "usage: coinhound-gen --out DIR"));
    free(out);
    const char *bad[] = {"", "--out x --txs 0", "--out x --xor=12", "--out x --bogus",
                         "--out x --max-file-size 12Q"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(cmd, sizeof cmd, "%s %s 2>&1", bin, bad[i]);
        out = tu_run(cmd, &status);
        assert_int_equal(status, 2);
        assert_non_null(strstr(out, "coinhound-gen: "));
        free(out);
    }
    char *dir = tu_tmpdir();
    snprintf(cmd, sizeof cmd,
             "%s --out %s --txs 300 --txs-per-block 50 --maturity 5 --seed 3 "
             "--xor --shuffle --stale 2 --theft --max-file-size 16K",
             bin, dir);
    out = tu_run(cmd, &status);
    assert_int_equal(status, 0);
    assert_non_null(strstr(out, "(+2 stale)"));
    assert_non_null(strstr(out, " txs ("));
    free(out);
    chain_sum sum = {0};
    read_chain(dir, &sum);
    assert_int_equal(sum.stale, 2);
    free(sum.hashes);
    tu_rmrf(dir);
    free(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chain_is_valid),          cmocka_unit_test(test_seed_decides_bytes),
        cmocka_unit_test(test_layout_keeps_best_chain), cmocka_unit_test(test_theft_is_traceable),
        cmocka_unit_test(test_rejects_bad_plans),       cmocka_unit_test(test_cli),
    };
    return cmocka_run_group_tests_name("gen", tests, NULL, NULL);
}
