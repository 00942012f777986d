/* The EVM generator, checked by reading its JSON-RPC output back with
 * jansson and replaying it independently: determinism, the documented
 * fields, block links, a recount of every native and token balance (none
 * may go negative; failed transactions move nothing), the planted theft's
 * amounts and landings against that replay, and the poisoning attempts'
 * lookalike addresses. */
#include "support/testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coinhound/evm.h"
#include "coinhound/evmgen.h"

__extension__ typedef unsigned __int128 u128;

/* --- reading the output --------------------------------------------------- */

typedef struct chain {
    char *dir;
    json_t **blocks, **receipts, **traces; /* traces[i] NULL: block i has none */
    size_t n;
    json_t *theft;
    char (*labels)[43];
    size_t n_labels;
} chain;

static chain C; /* generated once for the group */

static json_t **read_lines(const char *dir, const char *name, size_t *n) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    json_t **v = NULL;
    size_t cap = 0;
    *n = 0;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    while ((len = getline(&line, &lcap, f)) > 0) {
        json_error_t e;
        json_t *j = json_loadb(line, (size_t)len, 0, &e);
        if (!j) fail_msg("%s line %zu: %s", name, *n + 1, e.text);
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            v = realloc(v, cap * sizeof *v);
            assert_non_null(v);
        }
        v[(*n)++] = j;
    }
    free(line);
    fclose(f);
    return v;
}

static const char *str(const json_t *o, const char *key) {
    const json_t *v = json_object_get(o, key);
    if (!json_is_string(v)) fail_msg("missing string field \"%s\"", key);
    return json_string_value(v);
}

static u128 hexq(const json_t *o, const char *key) {
    const char *s = str(o, key);
    assert_true(s[0] == '0' && s[1] == 'x' && s[2]);
    if (s[2] == '0') assert_int_equal(s[3], 0); /* quantities have no leading zeros */
    u128 v = 0;
    for (const char *p = s + 2; *p; p++) {
        assert_true(v >> 124 == 0);
        int d = *p >= '0' && *p <= '9' ? *p - '0' : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 : -1;
        assert_true(d >= 0);
        v = v * 16 + (unsigned)d;
    }
    return v;
}

static u128 word(const char *s) { /* "0x" + 64 hex digits, big-endian */
    assert_int_equal(strlen(s), 66);
    u128 v = 0;
    for (int i = 2; i < 66; i++) {
        int c = s[i];
        unsigned d = c <= '9' ? (unsigned)(c - '0') : (unsigned)(c - 'a' + 10);
        if (i < 34) assert_int_equal(d, 0); /* our amounts fit 128 bits */
        v = v * 16 + d;
    }
    return v;
}

static u128 dec(const char *s) {
    u128 v = 0;
    for (; *s; s++)
        v = v * 10 + (unsigned)(*s - '0');
    return v;
}

static bool is_addr(const char *s) {
    if (strlen(s) != 42 || s[0] != '0' || s[1] != 'x') return false;
    for (int i = 2; i < 42; i++)
        if (!strchr("0123456789abcdef", s[i])) return false;
    return true;
}

static void topic_addr(const char *topic, char out[43]) {
    assert_int_equal(strlen(topic), 66);
    out[0] = '0';
    out[1] = 'x';
    memcpy(out + 2, topic + 26, 40);
    out[42] = 0;
}

static void load(chain *c, const char *dir) {
    size_t nr, nt;
    c->blocks = read_lines(dir, "blocks.jsonl", &c->n);
    c->receipts = read_lines(dir, "receipts.jsonl", &nr);
    assert_int_equal(nr, c->n);
    json_t **tr = read_lines(dir, "traces.jsonl", &nt);
    c->traces = calloc(c->n, sizeof *c->traces);
    uint64_t first = (uint64_t)json_integer_value(json_object_get(c->blocks[0], "id"));
    for (size_t i = 0; i < nt; i++) {
        uint64_t id = (uint64_t)json_integer_value(json_object_get(tr[i], "id"));
        assert_true(id >= first && id - first < c->n);
        assert_null(c->traces[id - first]);
        c->traces[id - first] = tr[i];
    }
    free(tr);
    char path[4096];
    snprintf(path, sizeof path, "%s/theft.json", dir);
    json_error_t e;
    c->theft = json_load_file(path, 0, &e);
    assert_non_null(c->theft);
    snprintf(path, sizeof path, "%s/labels.csv", dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[256];
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "address,category,entity\n");
    while (fgets(line, sizeof line, f)) {
        c->labels = realloc(c->labels, (c->n_labels + 1) * sizeof *c->labels);
        memcpy(c->labels[c->n_labels], line, 42);
        c->labels[c->n_labels][42] = 0;
        assert_true(is_addr(c->labels[c->n_labels]));
        c->n_labels++;
    }
    fclose(f);
}

static bool labelled(const chain *c, const char *a) {
    for (size_t i = 0; i < c->n_labels; i++)
        if (!strcmp(c->labels[i], a)) return true;
    return false;
}

static void gen_into(const char *dir, uint64_t seed, bool theft, uint32_t blocks, uint32_t tpb) {
    ch_evmgen_opts o;
    ch_evmgen_opts_init(&o);
    o.out_dir = dir;
    o.seed = seed;
    o.theft = theft;
    o.blocks = blocks;
    o.txs_per_block = tpb;
    ch_error err;
    if (ch_evmgen_run(&o, NULL, &err) != 0) fail_msg("%s", err.msg);
}

static int group_setup(void **state) {
    (void)state;
    C.dir = tu_tmpdir();
    gen_into(C.dir, 7, true, 80, 40);
    load(&C, C.dir);
    return 0;
}

static int group_teardown(void **state) {
    (void)state;
    for (size_t i = 0; i < C.n; i++) {
        json_decref(C.blocks[i]);
        json_decref(C.receipts[i]);
        json_decref(C.traces[i]);
    }
    free(C.blocks);
    free(C.receipts);
    free(C.traces);
    free(C.labels);
    json_decref(C.theft);
    tu_rmrf(C.dir);
    free(C.dir);
    return 0;
}

/* --- determinism ---------------------------------------------------------- */

static bool same_file(const char *a, const char *b, const char *name) {
    char pa[4096], pb[4096];
    snprintf(pa, sizeof pa, "%s/%s", a, name);
    snprintf(pb, sizeof pb, "%s/%s", b, name);
    size_t la, lb;
    uint8_t *x = tu_read_file(pa, &la), *y = tu_read_file(pb, &lb);
    assert_non_null(x);
    assert_non_null(y);
    bool same = la == lb && !memcmp(x, y, la);
    free(x);
    free(y);
    return same;
}

static void test_deterministic(void **state) {
    (void)state;
    static const char *const FILES[] = {"blocks.jsonl", "receipts.jsonl", "traces.jsonl",
                                        "labels.csv",   "tokens.csv",     "theft.json"};
    char *a = tu_tmpdir(), *b = tu_tmpdir(), *c = tu_tmpdir();
    gen_into(a, 99, true, 50, 25);
    gen_into(b, 99, true, 50, 25);
    gen_into(c, 100, true, 50, 25);
    for (size_t i = 0; i < sizeof FILES / sizeof *FILES; i++)
        assert_true(same_file(a, b, FILES[i]));
    assert_false(same_file(a, c, "blocks.jsonl"));
    tu_rmrf(a);
    tu_rmrf(b);
    tu_rmrf(c);
    free(a);
    free(b);
    free(c);
}

/* --- shapes and links ----------------------------------------------------- */

static void check_response(const json_t *r, uint64_t number) {
    assert_string_equal(str(r, "jsonrpc"), "2.0");
    assert_int_equal(json_integer_value(json_object_get(r, "id")), number);
    assert_non_null(json_object_get(r, "result"));
}

static void test_shapes_and_links(void **state) {
    (void)state;
    static const char *const TX_FIELDS[] = {
        "blockHash", "blockNumber",      "from", "gas", "gasPrice", "hash",   "input", "nonce", "r",
        "s",         "transactionIndex", "type", "v",   "value",    "chainId"};
    char prev_hash[67] = "";
    uint64_t prev_time = 0, first = 0;
    size_t n_tx_hashes = 0, cap = 0;
    char(*tx_hashes)[67] = NULL;
    for (size_t i = 0; i < C.n; i++) {
        const json_t *b = json_object_get(C.blocks[i], "result");
        uint64_t number = (uint64_t)hexq(b, "number");
        if (i == 0) first = number;
        assert_int_equal(number, first + i);
        check_response(C.blocks[i], number);
        check_response(C.receipts[i], number);
        if (i) assert_string_equal(str(b, "parentHash"), prev_hash);
        const char *hash = str(b, "hash");
        assert_int_equal(strlen(hash), 66);
        assert_string_not_equal(hash, prev_hash);
        strcpy(prev_hash, hash);
        uint64_t ts = (uint64_t)hexq(b, "timestamp");
        assert_true(ts > prev_time);
        prev_time = ts;
        assert_true(hexq(b, "baseFeePerGas") > 0);
        assert_true(hexq(b, "gasUsed") <= hexq(b, "gasLimit"));
        assert_int_equal(strlen(str(b, "logsBloom")), 2 + 512);
        assert_true(json_is_array(json_object_get(b, "withdrawals")));

        const json_t *txs = json_object_get(b, "transactions");
        const json_t *rcs = json_object_get(C.receipts[i], "result");
        assert_int_equal(json_array_size(txs), json_array_size(rcs));
        uint64_t cum = 0, log_index = 0, gas_sum = 0;
        for (size_t k = 0; k < json_array_size(txs); k++) {
            const json_t *t = json_array_get(txs, k), *r = json_array_get(rcs, k);
            for (size_t f = 0; f < sizeof TX_FIELDS / sizeof *TX_FIELDS; f++)
                assert_non_null(json_object_get(t, TX_FIELDS[f]));
            assert_string_equal(str(t, "blockHash"), hash);
            assert_int_equal(hexq(t, "blockNumber"), number);
            assert_int_equal(hexq(t, "transactionIndex"), k);
            assert_true(is_addr(str(t, "from")));
            const json_t *to = json_object_get(t, "to");
            assert_true(json_is_null(to) || is_addr(json_string_value(to)));
            if (hexq(t, "type") == 2) {
                assert_true(hexq(t, "maxFeePerGas") >= hexq(t, "gasPrice"));
                assert_true(hexq(t, "gasPrice") ==
                            hexq(b, "baseFeePerGas") + hexq(t, "maxPriorityFeePerGas"));
            } else {
                assert_true(hexq(t, "gasPrice") >= hexq(b, "baseFeePerGas"));
            }
            /* the receipt belongs to this tx */
            assert_string_equal(str(r, "transactionHash"), str(t, "hash"));
            assert_int_equal(hexq(r, "transactionIndex"), k);
            assert_string_equal(str(r, "blockHash"), hash);
            assert_true(hexq(r, "effectiveGasPrice") == hexq(t, "gasPrice"));
            u128 used = hexq(r, "gasUsed");
            assert_true(used >= 21000 && used <= hexq(t, "gas"));
            cum += (uint64_t)used;
            gas_sum += (uint64_t)used;
            assert_int_equal(hexq(r, "cumulativeGasUsed"), cum);
            u128 status = hexq(r, "status");
            assert_true(status <= 1);
            const json_t *logs = json_object_get(r, "logs");
            if (!status) assert_int_equal(json_array_size(logs), 0);
            if (json_is_null(to)) assert_true(is_addr(str(r, "contractAddress")));
            for (size_t l = 0; l < json_array_size(logs); l++) {
                const json_t *lg = json_array_get(logs, l);
                assert_int_equal(hexq(lg, "logIndex"), log_index++);
                assert_string_equal(str(lg, "transactionHash"), str(t, "hash"));
                assert_true(is_addr(str(lg, "address")));
                size_t nt = json_array_size(json_object_get(lg, "topics"));
                assert_true(nt >= 1 && nt <= 4);
            }
            if (n_tx_hashes == cap) {
                cap = cap ? cap * 2 : 1024;
                tx_hashes = realloc(tx_hashes, cap * sizeof *tx_hashes);
            }
            strcpy(tx_hashes[n_tx_hashes++], str(t, "hash"));
        }
        assert_int_equal(hexq(b, "gasUsed"), gas_sum);
        /* a trace lists every transaction of its block, in order */
        if (C.traces[i]) {
            check_response(C.traces[i], number);
            const json_t *tr = json_object_get(C.traces[i], "result");
            assert_int_equal(json_array_size(tr), json_array_size(txs));
            for (size_t k = 0; k < json_array_size(tr); k++) {
                const json_t *e = json_array_get(tr, k);
                assert_string_equal(str(e, "txHash"), str(json_array_get(txs, k), "hash"));
                const json_t *top = json_object_get(e, "result");
                assert_string_equal(str(top, "from"), str(json_array_get(txs, k), "from"));
            }
        }
    }
    /* transaction hashes are unique */
    for (size_t i = 0; i < n_tx_hashes; i++)
        for (size_t k = i + 1; k < n_tx_hashes; k++)
            assert_string_not_equal(tx_hashes[i], tx_hashes[k]);
    free(tx_hashes);
    assert_true(n_tx_hashes > 1000);
}

/* --- an independent ledger ------------------------------------------------ */

typedef struct bal_entry {
    char key[86]; /* asset ("native" or a contract) + '/' + address */
    u128 v;
    bool used;
} bal_entry;

typedef struct ledger {
    bal_entry *e;
    size_t cap;
    /* theft replay */
    u128 from_victim[3], swap_out, swap_in[3], fees, leak;
    struct ledger *landed; /* per (asset, address): what theft addresses paid it */
} ledger;

static uint64_t key_hash(const char *k) {
    uint64_t h = 1469598103934665603ULL;
    for (; *k; k++)
        h = (h ^ (uint8_t)*k) * 1099511628211ULL;
    return h;
}

static u128 *bal(ledger *l, const char *asset, const char *addr) {
    char key[86];
    snprintf(key, sizeof key, "%s/%s", asset, addr);
    for (size_t i = key_hash(key) & (l->cap - 1);; i = (i + 1) & (l->cap - 1)) {
        if (!l->e[i].used) {
            l->e[i].used = true;
            strcpy(l->e[i].key, key);
            return &l->e[i].v;
        }
        if (!strcmp(l->e[i].key, key)) return &l->e[i].v;
    }
}

static bool in_list(const json_t *arr, const char *a) {
    for (size_t i = 0; i < json_array_size(arr); i++)
        if (!strcmp(json_string_value(json_array_get(arr, i)), a)) return true;
    return false;
}

static const char ZERO_ADDR[] = "0x0000000000000000000000000000000000000000";

/* asset index for the theft sums: 0 ETH, 1 USDT, 2 USDC, -1 other */
static int theft_asset(const char *asset) {
    if (!strcmp(asset, "native")) return 0;
    if (!strcmp(asset, "0xdac17f958d2ee523a2206206994597c13d831ec7")) return 1;
    if (!strcmp(asset, "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48")) return 2;
    return -1;
}

/* One movement of value; also follows it for the theft's sums. */
static void move(ledger *l, const char *asset, const char *from, const char *to, u128 v) {
    const json_t *t = json_object_get(C.theft, "theft");
    if (strcmp(from, ZERO_ADDR) != 0) { /* the zero address mints */
        u128 *fb = bal(l, asset, from);
        if (*fb < v) fail_msg("%s balance of %s goes negative", asset, from);
        *fb -= v;
    }
    *bal(l, asset, to) += v;
    if (json_is_null(t) || !v) return;
    const json_t *s = json_object_get(t, "addresses");
    const char *pool = str(json_object_get(C.theft, "contracts"), "pool");
    bool fs = in_list(s, from), ts = in_list(s, to);
    int k = theft_asset(asset);
    if (fs == ts) return;
    assert_true(k >= 0);
    if (ts) {
        if (!strcmp(from, str(t, "victim")))
            l->from_victim[k] += v;
        else if (!strcmp(from, pool) && k == 0)
            l->swap_out += v;
        else
            fail_msg("theft address %s receives from %s", to, from);
    } else if (!strcmp(to, pool)) {
        l->swap_in[k] += v;
    } else if (!labelled(&C, to)) {
        l->leak += v;
    } else if (l->landed) {
        *bal(l->landed, asset, to) += v;
    }
}

/* Value moved by callTracer frames below `f`, depth first; a reverted frame
 * moves nothing, and neither do its children. */
static void frames(ledger *l, const json_t *f) {
    const json_t *calls = json_object_get(f, "calls");
    for (size_t i = 0; i < json_array_size(calls); i++) {
        const json_t *c = json_array_get(calls, i);
        if (json_object_get(c, "error")) continue;
        u128 v = hexq(c, "value");
        if (v) move(l, "native", str(c, "from"), str(c, "to"), v);
        frames(l, c);
    }
}

static size_t replay(ledger *l, size_t *failed) {
    l->cap = 1 << 16;
    l->e = calloc(l->cap, sizeof *l->e);
    assert_non_null(l->e);
    const json_t *theft = json_object_get(C.theft, "theft");
    const json_t *taddr = json_is_null(theft) ? NULL : json_object_get(theft, "addresses");
    size_t moves = 0;
    *failed = 0;
    for (size_t i = 0; i < C.n; i++) {
        const json_t *b = json_object_get(C.blocks[i], "result");
        const json_t *txs = json_object_get(b, "transactions");
        const json_t *rcs = json_object_get(C.receipts[i], "result");
        const json_t *tr = C.traces[i] ? json_object_get(C.traces[i], "result") : NULL;
        u128 base = hexq(b, "baseFeePerGas");
        const char *miner = str(b, "miner");
        for (size_t k = 0; k < json_array_size(txs); k++) {
            const json_t *t = json_array_get(txs, k), *r = json_array_get(rcs, k);
            const char *from = str(t, "from");
            u128 value = hexq(t, "value"), used = hexq(r, "gasUsed");
            u128 price = hexq(r, "effectiveGasPrice");
            u128 cap = hexq(t, hexq(t, "type") == 2 ? "maxFeePerGas" : "gasPrice");
            /* the protocol's own check before execution */
            assert_true(*bal(l, "native", from) >= value + hexq(t, "gas") * cap);
            u128 fee = used * price;
            *bal(l, "native", from) -= fee;
            *bal(l, "native", miner) += used * (price - base);
            if (taddr && in_list(taddr, from)) l->fees += fee;
            if (hexq(r, "status") == 0) { /* failed: the fee, nothing else */
                (*failed)++;
                continue;
            }
            const json_t *to = json_object_get(t, "to");
            const char *dest = json_is_null(to) ? str(r, "contractAddress") : json_string_value(to);
            if (value) {
                move(l, "native", from, dest, value);
                moves++;
            }
            if (tr) frames(l, json_object_get(json_array_get(tr, k), "result"));
            const json_t *logs = json_object_get(r, "logs");
            for (size_t g = 0; g < json_array_size(logs); g++) {
                const json_t *lg = json_array_get(logs, g), *tp = json_object_get(lg, "topics");
                if (json_array_size(tp) != 3 ||
                    strcmp(json_string_value(json_array_get(tp, 0)),
                           "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"))
                    continue; /* ERC-721 (4 topics) and other events are not value */
                char fa[43], ta[43];
                topic_addr(json_string_value(json_array_get(tp, 1)), fa);
                topic_addr(json_string_value(json_array_get(tp, 2)), ta);
                move(l, str(lg, "address"), fa, ta, word(str(lg, "data")));
                moves++;
            }
        }
        const json_t *wds = json_object_get(b, "withdrawals");
        for (size_t k = 0; k < json_array_size(wds); k++) {
            const json_t *w = json_array_get(wds, k);
            *bal(l, "native", str(w, "address")) += hexq(w, "amount") * 1000000000u;
        }
    }
    return moves;
}

static void test_balances(void **state) {
    (void)state;
    ledger l = {0};
    size_t failed;
    size_t moves = replay(&l, &failed);
    assert_true(moves > 1000);
    assert_true(failed > 10);
    /* failed transactions' receipts have no logs and their trace is marked */
    for (size_t i = 0; i < C.n; i++) {
        const json_t *rcs = json_object_get(C.receipts[i], "result");
        for (size_t k = 0; k < json_array_size(rcs); k++) {
            const json_t *r = json_array_get(rcs, k);
            if (hexq(r, "status")) continue;
            if (C.traces[i]) {
                const json_t *top = json_object_get(
                    json_array_get(json_object_get(C.traces[i], "result"), k), "result");
                assert_non_null(json_object_get(top, "error"));
            }
        }
    }
    free(l.e);
}

/* --- the theft ------------------------------------------------------------ */

static u128 sum_entries(const json_t *arr, const char *asset, const char *key) {
    u128 s = 0;
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *e = json_array_get(arr, i);
        if (!strcmp(str(e, "asset"), asset)) s += dec(str(e, key));
    }
    return s;
}

static void test_theft(void **state) {
    (void)state;
    const json_t *t = json_object_get(C.theft, "theft");
    assert_true(json_is_object(t));
    ledger landed = {.cap = 1 << 12};
    landed.e = calloc(landed.cap, sizeof *landed.e);
    ledger l = {.landed = &landed};
    size_t failed;
    replay(&l, &failed);
    assert_true(l.leak == 0); /* nothing reaches an unlabelled outsider */

    /* the exploiter received each drain from the victim */
    const json_t *drains = json_object_get(t, "drains");
    assert_int_equal(json_array_size(drains), 3);
    assert_string_equal(str(t, "drain_tx"), str(json_array_get(drains, 0), "tx"));
    static const char *const ASSETS[3] = {"native", "0xdac17f958d2ee523a2206206994597c13d831ec7",
                                          "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"};
    u128 drained[3];
    for (int k = 0; k < 3; k++) {
        drained[k] = sum_entries(drains, ASSETS[k], "amount");
        assert_true(drained[k] > 0);
        assert_true(l.from_victim[k] == drained[k]);
    }
    assert_true(drained[0] == dec("401347000000000000000000"));
    bool found = false;
    for (size_t i = 0; i < C.n && !found; i++) {
        const json_t *txs = json_object_get(json_object_get(C.blocks[i], "result"), "transactions");
        for (size_t k = 0; k < json_array_size(txs); k++) {
            const json_t *x = json_array_get(txs, k);
            if (strcmp(str(x, "hash"), str(t, "drain_tx"))) continue;
            assert_string_equal(str(x, "from"), str(t, "victim"));
            assert_string_equal(str(x, "to"), str(t, "exploiter"));
            assert_true(hexq(x, "value") == drained[0]);
            found = true;
        }
    }
    assert_true(found);

    /* landings as theft.json gives them: at labelled addresses, and each
     * equal to what the replay saw arrive there from theft addresses */
    const json_t *land = json_object_get(t, "landings");
    const json_t *held = json_object_get(t, "held");
    const json_t *swaps = json_object_get(t, "swaps");
    assert_true(json_array_size(land) >= 20);
    assert_true(json_array_size(swaps) >= 9);
    bool bridge = false;
    for (size_t i = 0; i < json_array_size(land); i++) {
        const json_t *e = json_array_get(land, i);
        assert_true(labelled(&C, str(e, "address")));
        /* what the replay saw theft addresses pay there */
        assert_true(*bal(&landed, str(e, "asset"), str(e, "address")) == dec(str(e, "amount")));
        if (!strcmp(str(e, "category"), "bridge")) bridge = true;
    }
    assert_true(bridge);

    /* per asset: landed + held + fees (ETH) or swapped (tokens) = drained
     * (+ what the swaps paid out, for ETH), by theft.json and by replay */
    u128 swap_out = 0;
    for (size_t i = 0; i < json_array_size(swaps); i++)
        swap_out += dec(str(json_array_get(swaps, i), "amount_out"));
    assert_true(swap_out == l.swap_out);
    assert_true(dec(str(t, "fees")) == l.fees);
    for (int k = 0; k < 3; k++) {
        u128 arrived = sum_entries(land, ASSETS[k], "amount");
        u128 kept = sum_entries(held, ASSETS[k], "amount");
        u128 swapped_in = sum_entries(swaps, ASSETS[k], "amount_in");
        assert_true(swapped_in == l.swap_in[k]);
        /* held, recounted from the replayed balances */
        u128 rkept = 0;
        const json_t *addrs = json_object_get(t, "addresses");
        for (size_t i = 0; i < json_array_size(addrs); i++)
            rkept += *bal(&l, ASSETS[k], json_string_value(json_array_get(addrs, i)));
        assert_true(rkept == kept);
        if (k == 0)
            assert_true(arrived + kept + l.fees == drained[0] + l.swap_out);
        else
            assert_true(arrived + kept + l.swap_in[k] == drained[k]);
    }
    free(l.e);
    free(landed.e);
}

/* --- poisoning ------------------------------------------------------------ */

static void test_poisoning(void **state) {
    (void)state;
    const json_t *p = json_object_get(C.theft, "poisoning");
    assert_true(json_array_size(p) >= 3);
    unsigned kinds = 0;
    for (size_t i = 0; i < json_array_size(p); i++) {
        const json_t *e = json_array_get(p, i);
        const char *c = str(e, "counterparty"), *la = str(e, "lookalike"), *v = str(e, "victim");
        assert_true(is_addr(c) && is_addr(la) && is_addr(v));
        assert_memory_equal(c, la, 6);           /* 0x + 4 leading hex characters */
        assert_memory_equal(c + 38, la + 38, 4); /* 4 trailing */
        assert_string_not_equal(c, la);
        const char *kind = str(e, "kind");
        kinds |= !strcmp(kind, "zero_value") ? 1 : !strcmp(kind, "fake_token") ? 2 : 4;

        /* the attempt is in the chain at its block, shaped as its kind says */
        uint64_t first = (uint64_t)hexq(json_object_get(C.blocks[0], "result"), "number");
        uint64_t bn = (uint64_t)json_integer_value(json_object_get(e, "block"));
        assert_true(bn >= first && bn - first < C.n);
        const json_t *txs =
            json_object_get(json_object_get(C.blocks[bn - first], "result"), "transactions");
        const json_t *rcs = json_object_get(C.receipts[bn - first], "result");
        bool seen = false;
        for (size_t k = 0; k < json_array_size(txs); k++) {
            const json_t *x = json_array_get(txs, k);
            if (strcmp(str(x, "hash"), str(e, "tx"))) continue;
            seen = true;
            const json_t *logs = json_object_get(json_array_get(rcs, k), "logs");
            if (!strcmp(kind, "dust")) {
                assert_string_equal(str(x, "from"), la);
                assert_string_equal(str(x, "to"), v);
                assert_true(hexq(x, "value") > 0 && hexq(x, "value") < dec("100000000000000"));
                continue;
            }
            /* a Transfer involving the victim and the lookalike whose sender
             * is not the transaction's sender */
            bool ok = false;
            for (size_t g = 0; g < json_array_size(logs); g++) {
                const json_t *tp = json_object_get(json_array_get(logs, g), "topics");
                char fa[43], ta[43];
                topic_addr(json_string_value(json_array_get(tp, 1)), fa);
                topic_addr(json_string_value(json_array_get(tp, 2)), ta);
                bool pair =
                    (!strcmp(fa, la) && !strcmp(ta, v)) || (!strcmp(fa, v) && !strcmp(ta, la));
                if (pair && strcmp(fa, str(x, "from")) != 0) ok = true;
                if (pair && !strcmp(kind, "zero_value"))
                    assert_true(word(str(json_array_get(logs, g), "data")) == 0);
            }
            assert_true(ok);
        }
        assert_true(seen);
    }
    assert_int_equal(kinds, 7);

    /* the fake token copies USDT's symbol at another contract */
    char path[4096];
    snprintf(path, sizeof path, "%s/tokens.csv", C.dir);
    size_t len;
    char *csv = (char *)tu_read_file(path, &len);
    assert_non_null(csv);
    const char *fake = str(json_object_get(C.theft, "contracts"), "fake_token");
    assert_non_null(strstr(csv, "0xdac17f958d2ee523a2206206994597c13d831ec7,USDT,6,"));
    char row[64];
    snprintf(row, sizeof row, "%s,USDT,6,", fake);
    assert_non_null(strstr(csv, row));
    free(csv);
}

/* --- the deposit-address pattern ------------------------------------------ */

/* Victor's heuristic must find what the generator built: a labelled address
 * that takes deposits from outsiders and never pays an outsider (a deposit
 * address) forwards nearly all it got (within 0.01 ETH) to another labelled
 * address (its exchange's hot wallet), a few blocks later. */
static void test_deposit_sweeps(void **state) {
    (void)state;
    ledger l = {.cap = 1 << 14};
    l.e = calloc(l.cap, sizeof *l.e);
    assert_non_null(l.e);
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < C.n; i++) {
            const json_t *txs =
                json_object_get(json_object_get(C.blocks[i], "result"), "transactions");
            const json_t *rcs = json_object_get(C.receipts[i], "result");
            for (size_t k = 0; k < json_array_size(txs); k++) {
                const json_t *x = json_array_get(txs, k);
                const json_t *to = json_object_get(x, "to");
                u128 v = hexq(x, "value");
                if (!v || json_is_null(to) || !hexq(json_array_get(rcs, k), "status")) continue;
                const char *f = str(x, "from"), *t = json_string_value(to);
                bool lf = labelled(&C, f), lt = labelled(&C, t);
                if (pass == 0) {
                    if (lf && !lt) *bal(&l, "pays-outsiders", f) = 1;
                    continue;
                }
                if (lt) *bal(&l, "pending", t) += v;
                if (lf && lt && !*bal(&l, "pays-outsiders", f)) {
                    u128 *pending = bal(&l, "pending", f);
                    assert_true(*pending >= v && *pending - v <= dec("10000000000000000"));
                    *pending = 0;
                    *bal(&l, "sweeps", "all") += 1;
                }
            }
        }
    }
    assert_true(*bal(&l, "sweeps", "all") >= 10);
    free(l.e);
}

/* --- read back through coinhound's own EVM reader ------------------------- */

typedef struct xfer_count {
    uint64_t nonzero[5], failed;
} xfer_count;

static int count_xfer(const ch_evm_transfer *t, void *ctx) {
    xfer_count *c = ctx;
    if (t->tx_failed) c->failed++;
    /* the reader lists zero-value native transfers (every contract call);
     * the generator's counts are of value */
    else if (t->kind == CH_EVM_XFER_ERC20 || t->kind == CH_EVM_XFER_ERC721 ||
             !ch_u256_is_zero(&t->value))
        c->nonzero[t->kind]++;
    return 0;
}

/* The reader places a callTracer response by its file name, so the traces
 * are given one file per block here (debug_traceBlockByNumber_0x<n>.json). */
static void test_reader_roundtrip(void **state) {
    (void)state;
    char *d = tu_tmpdir();
    ch_evmgen_opts o;
    ch_evmgen_opts_init(&o);
    o.out_dir = d;
    o.seed = 5;
    o.blocks = 50;
    o.txs_per_block = 30;
    o.theft = true;
    ch_evmgen_stats st;
    ch_error err;
    if (ch_evmgen_run(&o, &st, &err) != 0) fail_msg("%s", err.msg);
    char rd[2048], path[4096], src[4096];
    snprintf(rd, sizeof rd, "%s/rpc", d);
    assert_int_equal(mkdir(rd, 0777), 0);
    static const char *const FILES[] = {"blocks.jsonl", "receipts.jsonl"};
    for (int i = 0; i < 2; i++) {
        snprintf(src, sizeof src, "%s/%s", d, FILES[i]);
        snprintf(path, sizeof path, "%s/%s", rd, FILES[i]);
        assert_int_equal(symlink(src, path), 0);
    }
    size_t nt;
    json_t **tr = read_lines(d, "traces.jsonl", &nt);
    assert_int_equal(nt, st.trace_blocks);
    for (size_t i = 0; i < nt; i++) {
        snprintf(path, sizeof path, "%s/debug_traceBlockByNumber_0x%llx.json", rd,
                 (unsigned long long)json_integer_value(json_object_get(tr[i], "id")));
        assert_int_equal(json_dump_file(tr[i], path, JSON_COMPACT), 0);
        json_decref(tr[i]);
    }
    free(tr);

    ch_evm_reader *r;
    if (ch_evm_reader_open(rd, CH_EVM_FMT_AUTO, &r, &err) != 0) fail_msg("%s", err.msg);
    ch_evm_block b;
    ch_evm_block_init(&b);
    xfer_count c = {0};
    uint64_t blocks = 0, txs = 0, failed = 0, logs = 0;
    int rc;
    while ((rc = ch_evm_reader_next(r, &b, &err)) == 1) {
        assert_int_equal(b.number, o.first_block + blocks);
        blocks++;
        txs += b.n_tx;
        logs += b.n_logs;
        for (size_t i = 0; i < b.n_tx; i++)
            failed += b.tx[i].status == 0;
        assert_int_equal(ch_evm_block_transfers(&b, count_xfer, &c), 0);
    }
    if (rc < 0) fail_msg("%s", err.msg);
    ch_evm_block_free(&b);
    ch_evm_reader_close(r);
    assert_int_equal(blocks, st.blocks);
    assert_int_equal(txs, st.txs);
    assert_int_equal(failed, st.failed_txs);
    assert_int_equal(logs, st.logs);
    assert_int_equal(c.failed, 0); /* failed transactions yield no transfers */
    assert_int_equal(c.nonzero[CH_EVM_XFER_NATIVE], st.native);
    assert_int_equal(c.nonzero[CH_EVM_XFER_INTERNAL], st.internal);
    assert_int_equal(c.nonzero[CH_EVM_XFER_ERC20], st.erc20);
    assert_int_equal(c.nonzero[CH_EVM_XFER_ERC721], st.erc721);
    assert_int_equal(c.nonzero[CH_EVM_XFER_WITHDRAWAL], st.withdrawals);
    tu_rmrf(d);
    free(d);
}

/* --- option errors -------------------------------------------------------- */

static void test_bad_options(void **state) {
    (void)state;
    ch_evmgen_opts o;
    ch_evmgen_opts_init(&o);
    ch_error err;
    assert_int_equal(ch_evmgen_run(&o, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "output directory"));
    o.out_dir = "/tmp/never-written";
    o.txs_per_block = 0;
    assert_int_equal(ch_evmgen_run(&o, NULL, &err), -1);
    o.txs_per_block = 10;
    o.theft = true;
    o.blocks = 10;
    assert_int_equal(ch_evmgen_run(&o, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "--theft"));
}

/* --- the size target ------------------------------------------------------ */

static void test_transfer_target(void **state) {
    (void)state;
    char *d = tu_tmpdir();
    ch_evmgen_opts o;
    ch_evmgen_opts_init(&o);
    o.out_dir = d;
    o.transfers = 5000;
    o.txs_per_block = 60;
    ch_evmgen_stats st;
    ch_error err;
    if (ch_evmgen_run(&o, &st, &err) != 0) fail_msg("%s", err.msg);
    assert_true(st.transfers >= 5000);
    assert_true(st.transfers < 5000 + 400); /* one block more at most */
    assert_int_equal(st.transfers, st.native + st.internal + st.erc20 + st.withdrawals);
    chain c = {0};
    load(&c, d);
    assert_int_equal(c.n, st.blocks);
    assert_true(json_is_null(json_object_get(c.theft, "theft")));
    for (size_t i = 0; i < c.n; i++) {
        json_decref(c.blocks[i]);
        json_decref(c.receipts[i]);
        json_decref(c.traces[i]);
    }
    free(c.blocks);
    free(c.receipts);
    free(c.traces);
    free(c.labels);
    json_decref(c.theft);
    tu_rmrf(d);
    free(d);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deterministic),    cmocka_unit_test(test_shapes_and_links),
        cmocka_unit_test(test_balances),         cmocka_unit_test(test_theft),
        cmocka_unit_test(test_poisoning),        cmocka_unit_test(test_deposit_sweeps),
        cmocka_unit_test(test_bad_options),      cmocka_unit_test(test_transfer_target),
        cmocka_unit_test(test_reader_roundtrip),
    };
    return cmocka_run_group_tests_name("evmgen", tests, group_setup, group_teardown);
}
