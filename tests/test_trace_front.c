/* The one trace front door (ch_trace_exec, ch_trace_write): a Bitcoin trace
 * and an account-chain trace give JSON of the same contract (the same
 * fields, of the same types; amounts as decimal strings of whole base
 * units), landings name the tx, block and time they arrived in (checked
 * against the store), the edge list holds every landing, and text and DOT
 * show coins with their decimals and unit. Runs on the generators' thefts. */
#include "support/testutil.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "coinhound/address.h"
#include "coinhound/evmgen.h"
#include "coinhound/hash.h"
#include "coinhound/ingest.h"
#include "coinhound/store.h"
#include "coinhound/tokens.h"
#include "coinhound/trace.h"
#include "support/genchain.h"

/* The writer's output in format f, as a string. */
static char *write_str(ch_trace_result *r, ch_trace_format f) {
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    assert_non_null(m);
    assert_int_equal(ch_trace_write(r, f, m), 0);
    fclose(m);
    return buf;
}

static json_t *write_json(ch_trace_result *r) {
    char *s = write_str(r, CH_TRACE_JSON);
    json_error_t je;
    json_t *j = json_loads(s, 0, &je);
    if (!j) fail_msg("not JSON: %s\n%.400s", je.text, s);
    free(s);
    return j;
}

static bool digits(const char *s) {
    if (!s || !*s) return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s)) return false;
    return true;
}

/* a and b have the same keys, each of the same JSON type (null counts as
 * any type: "null when unknown"); amounts are digit strings. */
static void same_shape(json_t *a, json_t *b, const char *where) {
    const char *k;
    json_t *va;
    if (json_object_size(a) != json_object_size(b))
        fail_msg("%s: %zu fields against %zu", where, json_object_size(a), json_object_size(b));
    json_object_foreach(a, k, va) {
        json_t *vb = json_object_get(b, k);
        if (!vb) fail_msg("%s: field %s only in the Bitcoin trace", where, k);
        if (!json_is_null(va) && !json_is_null(vb) && json_typeof(va) != json_typeof(vb))
            fail_msg("%s: field %s of type %d against %d", where, k, json_typeof(va),
                     json_typeof(vb));
        /* the top level's source is the trace's --from, not an amount */
        bool is_from = !strcmp(where, "top level") && !strcmp(k, "source");
        static const char *const amounts[] = {"tainted_total", "amount", "landed_total",
                                              "held_total",    "fees",   "source"};
        for (size_t i = 0; i < sizeof amounts / sizeof *amounts; i++)
            if (!is_from && !strcmp(k, amounts[i]) &&
                !(digits(json_string_value(va)) && digits(json_string_value(vb))))
                fail_msg("%s: %s is not a decimal string of base units in both", where, k);
    }
}

/* The landing's tx, block and time agree with the store. */
static void check_landing_place(ch_store *s, json_t *l, bool account) {
    const char *tx = json_string_value(json_object_get(l, "tx"));
    assert_non_null(tx);
    ch_hash256 id;
    if (account) {
        assert_true(tx[0] == '0' && tx[1] == 'x');
        assert_int_equal(ch_hex_decode(tx + 2, 64, id.b, 32), 0);
    } else {
        assert_int_equal(ch_hash256_from_hex(tx, &id), 0);
    }
    uint64_t n;
    ch_error err;
    assert_int_equal(ch_store_find_tx(s, &id, &n, &err), 1);
    uint32_t h = ch_store_tx_height(s, n);
    assert_true((uint64_t)json_integer_value(json_object_get(l, "block")) ==
                ch_store_first_number(s) + h);
    assert_true((uint32_t)json_integer_value(json_object_get(l, "time")) ==
                ch_store_block(s, h)->time);
    /* the path ends in the tx it landed in */
    json_t *path = json_object_get(l, "path");
    assert_true(json_array_size(path) > 0);
    assert_string_equal(json_string_value(json_array_get(path, json_array_size(path) - 1)), tx);
}

typedef struct evm {
    char *dir;
    char gen[2048], db[2048];
    ch_store *s;
    json_t *theft;
} evm;

static void evm_make(evm *e) {
    e->dir = tu_tmpdir();
    snprintf(e->gen, sizeof e->gen, "%s/gen", e->dir);
    snprintf(e->db, sizeof e->db, "%s/db", e->dir);
    ch_error err = {{0}};
    ch_evmgen_opts go;
    ch_evmgen_opts_init(&go);
    go.out_dir = e->gen;
    go.seed = 11;
    go.transfers = 8000;
    go.theft = true;
    if (ch_evmgen_run(&go, NULL, &err) != 0) fail_msg("evmgen: %s", err.msg);
    ch_ingest_opts io = {0};
    ch_ingest_stats ist;
    if (ch_ingest_evm(e->gen, e->db, "eth", &io, &ist, &err) != 0) fail_msg("ingest: %s", err.msg);
    assert_int_equal(ch_store_open(e->db, "eth", CH_STORE_READ, &e->s, &err), 0);
    char p[4200];
    snprintf(p, sizeof p, "%s/theft.json", e->gen);
    json_error_t je;
    e->theft = json_load_file(p, 0, &je);
    assert_non_null(e->theft);
}

static void evm_close(evm *e) {
    json_decref(e->theft);
    ch_store_close(e->s);
    tu_rmrf(e->dir);
    free(e->dir);
}

static ch_trace_result *run(ch_store *s, const char *dir, const char *from, ch_toktab *k,
                            ch_labels **labels) {
    char p[4200];
    snprintf(p, sizeof p, "%s/labels.csv", dir);
    const char *files[] = {p};
    ch_error err = {{0}};
    assert_int_equal(ch_labels_open(s, NULL, NULL, files, 1, labels, NULL, &err), 0);
    ch_trace_spec o;
    ch_trace_spec_init(&o);
    o.source = from;
    o.labels = *labels;
    o.tokens = k;
    ch_trace_result *r;
    if (ch_trace_exec(s, &o, &r, &err) != 1) fail_msg("trace %s: %s", from, err.msg);
    return r;
}

static void test_json_contract_same_for_btc_and_evm(void **state) {
    (void)state;
    tu_genchain g;
    tu_genchain_make(&g, 5, 2000);
    char p[4200];
    snprintf(p, sizeof p, "%s/theft.json", g.blocks);
    json_error_t je;
    json_t *bt = json_load_file(p, 0, &je);
    assert_non_null(bt);
    char from[128];
    snprintf(from, sizeof from, "%s:0", json_string_value(json_object_get(bt, "theft_txid")));
    ch_labels *bl;
    ch_trace_result *br = run(g.s, g.blocks, from, NULL, &bl);
    json_t *bj = write_json(br);

    evm e;
    evm_make(&e);
    json_t *theft = json_object_get(e.theft, "theft");
    ch_labels *el;
    ch_trace_result *er =
        run(e.s, e.gen, json_string_value(json_object_get(theft, "exploiter")), NULL, &el);
    json_t *ej = write_json(er);

    same_shape(bj, ej, "top level");
    assert_string_equal(json_string_value(json_object_get(bj, "chain")), "btc");
    assert_string_equal(json_string_value(json_object_get(ej, "chain")), "eth");
    /* tainted_total: what the generators say went in, in base units */
    char want[48];
    snprintf(want, sizeof want, "%lld",
             (long long)json_integer_value(json_object_get(bt, "amount")));
    assert_string_equal(json_string_value(json_object_get(bj, "tainted_total")), want);
    assert_string_equal(json_string_value(json_object_get(bj, "tainted_asset")), "BTC");
    assert_string_equal(json_string_value(json_object_get(ej, "tainted_asset")), "ETH");
    json_t *bl0 = json_array_get(json_object_get(bj, "landings"), 0);
    json_t *el0 = json_array_get(json_object_get(ej, "landings"), 0);
    assert_non_null(bl0);
    assert_non_null(el0);
    same_shape(bl0, el0, "landings[]");
    json_t *bh0 = json_array_get(json_object_get(bj, "holdings"), 0);
    json_t *eh0 = json_array_get(json_object_get(ej, "holdings"), 0);
    assert_non_null(bh0);
    assert_non_null(eh0);
    same_shape(bh0, eh0, "holdings[]");
    same_shape(json_array_get(json_object_get(bj, "assets"), 0),
               json_array_get(json_object_get(ej, "assets"), 0), "assets[]");
    /* every landing: the tx, block and time it landed in, as the store has them */
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(bj, "landings"), i, x) check_landing_place(g.s, x, false);
    json_array_foreach(json_object_get(ej, "landings"), i, x) check_landing_place(e.s, x, true);
    /* an EVM landing's tx is one theft.json lists for that address */
    bool found = false;
    json_t *w;
    json_array_foreach(json_object_get(theft, "landings"), i, w) {
        if (strcmp(json_string_value(json_object_get(w, "address")),
                   json_string_value(json_object_get(el0, "address"))))
            continue;
        size_t k;
        json_t *t;
        json_array_foreach(json_object_get(w, "txs"), k, t) found |=
            !strcmp(json_string_value(t), json_string_value(json_object_get(el0, "tx")));
    }
    assert_true(found);

    json_decref(bj);
    json_decref(ej);
    ch_trace_result_free(br);
    ch_trace_result_free(er);
    ch_labels_free(bl);
    ch_labels_free(el);
    evm_close(&e);
    json_decref(bt);
    tu_genchain_close(&g);
}

/* Every landing is an edge of the edge list, marked as one, to its address. */
static void check_edges(ch_trace_result *r, const char *csv) {
    assert_true(
        !strncmp(csv, "tx,block,time,from,to,asset,value,amount,hops,next_tx,landing,swap\n", 67));
    json_t *j = write_json(r);
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(j, "landings"), i, l) {
        char row[256];
        snprintf(row, sizeof row, ",%s,", json_string_value(json_object_get(l, "address")));
        bool hit = false;
        for (const char *p = strstr(csv, row); p && !hit; p = strstr(p + 1, row)) {
            const char *eol = strchr(p, '\n');
            hit = eol && eol - p > 4 && !strncmp(eol - 4, ",1,", 3);
        }
        if (!hit) fail_msg("landing %s is not an edge marked landing", row);
    }
    json_decref(j);
}

static void test_edges_and_units(void **state) {
    (void)state;
    evm e;
    evm_make(&e);
    json_t *theft = json_object_get(e.theft, "theft");
    ch_toktab *k;
    ch_error err;
    assert_int_equal(ch_toktab_new(1, &k, &err), 0);
    char p[4200];
    snprintf(p, sizeof p, "%s/tokens.csv", e.gen);
    assert_int_equal(ch_toktab_load(k, p, false, &err), 0);
    ch_labels *el;
    ch_trace_result *r =
        run(e.s, e.gen, json_string_value(json_object_get(theft, "exploiter")), k, &el);
    char *edges = write_str(r, CH_TRACE_EDGES);
    check_edges(r, edges);
    free(edges);
    /* text and DOT: ether with 18 decimals as "ETH", never wei called ETH */
    const ch_trace_place *land;
    size_t nl = ch_trace_result_landings(r, &land);
    char *text = write_str(r, CH_TRACE_TEXT), *dot = write_str(r, CH_TRACE_DOT);
    bool eth = false, usdt = false;
    for (size_t i = 0; i < nl; i++) {
        char b[48], want[96];
        int dec;
        char an[128];
        const char *name = ch_trace_asset_name(r, land[i].asset, &dec, an);
        snprintf(want, sizeof want, "%s %s", ch_u128_decimals_str(land[i].amount, dec, b), name);
        if (i < 10 && !strstr(text, want)) fail_msg("text lacks '%s'", want);
        eth |= !strcmp(name, "ETH");
        usdt |= !strcmp(name, "USDT") && dec == 6;
    }
    assert_true(eth);
    assert_true(usdt); /* a token, with the decimals of the token table */
    /* no run of 19 or more digits (wei) is followed by a unit */
    for (const char *doc[] = {text, dot}, **d = doc; d < doc + 2; d++)
        for (const char *c = *d; *c; c++) {
            size_t n = 0;
            while (isdigit((unsigned char)c[n]))
                n++;
            if (n >= 19 && c[n] == ' ' && isupper((unsigned char)c[n + 1]))
                fail_msg("base units printed as coins: %.40s", c);
            c += n ? n - 1 : 0;
        }
    free(text);
    free(dot);
    ch_trace_result_free(r);
    ch_labels_free(el);
    ch_toktab_free(k);

    /* Bitcoin: the same edge list holds every landing; text in BTC with decimals */
    tu_genchain g;
    tu_genchain_make(&g, 5, 2000);
    snprintf(p, sizeof p, "%s/theft.json", g.blocks);
    json_error_t je;
    json_t *bt = json_load_file(p, 0, &je);
    assert_non_null(bt);
    ch_labels *bl;
    r = run(g.s, g.blocks, json_string_value(json_object_get(bt, "theft_txid")), NULL, &bl);
    edges = write_str(r, CH_TRACE_EDGES);
    check_edges(r, edges);
    free(edges);
    text = write_str(r, CH_TRACE_TEXT);
    nl = ch_trace_result_landings(r, &land);
    assert_true(nl > 0);
    char b[48], want[96];
    snprintf(want, sizeof want, "%s BTC", ch_u128_decimals_str(land[0].amount, 8, b));
    assert_non_null(strstr(text, want));
    free(text);
    ch_trace_result_free(r);
    ch_labels_free(bl);
    json_decref(bt);
    tu_genchain_close(&g);
    evm_close(&e);
}

/* Two places are the same in every field the writers and callers read. */
static void same_place(const ch_trace_place *a, const ch_trace_place *b, size_t i) {
    if (a->amount != b->amount || a->addr != b->addr || a->asset != b->asset ||
        a->count != b->count || a->hops != b->hops || a->frac != b->frac ||
        a->landing != b->landing || a->tx != b->tx || a->block != b->block || a->time != b->time ||
        a->ref != b->ref || strcmp(a->label.entity, b->label.entity) ||
        strcmp(a->label.category, b->label.category))
        fail_msg("holding %zu differs between the view and the array", i);
}

/* Holdings read one at a time (the view the writers use: no copy of a wide
 * trace's million) are the array ch_trace_result_holdings builds, in its
 * order, and the JSON written before the array existed lists exactly them;
 * on an account chain a holding's path found through a copy is the path
 * found through the array. */
static void check_holdings_view(ch_store *s, ch_trace_result *r, bool account) {
    json_t *j = write_json(r); /* before the array is built: through the view */
    json_t *jh = json_object_get(j, "holdings");
    size_t n = ch_trace_result_n_holdings(r);
    const ch_trace_place *arr;
    assert_int_equal(ch_trace_result_holdings(r, &arr), n);
    assert_int_equal(json_array_size(jh), n);
    assert_true(n > (account ? 1 : 100));
    ch_trace_hop pa[64], pb[64];
    size_t with_path = 0;
    for (size_t i = 0; i < n; i++) {
        ch_trace_place h;
        ch_trace_result_holding(r, i, &h);
        same_place(&h, &arr[i], i);
        json_t *x = json_array_get(jh, i);
        char b[48];
        assert_string_equal(json_string_value(json_object_get(x, "amount")),
                            ch_u128_str(arr[i].amount, b));
        assert_int_equal(json_integer_value(json_object_get(x, "outputs")), arr[i].count);
        const char *a = json_string_value(json_object_get(x, "address"));
        if (arr[i].addr) {
            ch_addr ad;
            char as[CH_ADDR_STR_MAX];
            ch_store_addr_of(s, arr[i].addr, &ad);
            assert_int_equal(ch_addr_to_string(&ad, ch_store_addr_net(s), as), 0);
            assert_string_equal(a, as);
        } else {
            assert_null(a);
        }
        if (account) {
            size_t na = ch_trace_result_path(r, &h, pa, 64),
                   nb = ch_trace_result_path(r, &arr[i], pb, 64);
            assert_int_equal(na, nb);
            with_path += na > 0;
            for (size_t k = 0; k < na && k < 64; k++)
                assert_true(pa[k].tx == pb[k].tx && pa[k].ref == pb[k].ref);
        }
    }
    if (account) assert_true(with_path > 0);
    json_decref(j);
}

static void test_holdings_read_one_at_a_time_equal_the_array(void **state) {
    (void)state;
    /* Bitcoin, no stop: the taint spreads, thousands of holdings */
    tu_genchain g;
    tu_genchain_make(&g, 5, 2000);
    char p[4200];
    snprintf(p, sizeof p, "%s/theft.json", g.blocks);
    json_error_t je;
    json_t *bt = json_load_file(p, 0, &je);
    assert_non_null(bt);
    ch_trace_spec o;
    ch_trace_spec_init(&o);
    o.source = json_string_value(json_object_get(bt, "theft_txid"));
    o.stop_at = "";
    o.policy = CH_POLICY_HAIRCUT;
    ch_trace_result *r;
    ch_error err = {{0}};
    if (ch_trace_exec(g.s, &o, &r, &err) != 1) fail_msg("trace: %s", err.msg);
    check_holdings_view(g.s, r, false);
    ch_trace_result_free(r);
    json_decref(bt);
    tu_genchain_close(&g);

    evm e;
    evm_make(&e);
    ch_labels *el;
    r = run(e.s, e.gen,
            json_string_value(json_object_get(json_object_get(e.theft, "theft"), "exploiter")),
            NULL, &el);
    check_holdings_view(e.s, r, true);
    ch_trace_result_free(r);
    ch_labels_free(el);
    evm_close(&e);
}

/* A source not in the store is 0 (not an error), a malformed one -1. */
static void test_exec_not_found_and_malformed(void **state) {
    (void)state;
    evm e;
    evm_make(&e);
    ch_trace_spec o;
    ch_trace_spec_init(&o);
    ch_trace_result *r = NULL;
    ch_error err;
    o.source = "0x00000000000000000000000000000000000000aa";
    assert_int_equal(ch_trace_exec(e.s, &o, &r, &err), 0);
    assert_null(r);
    o.source = "0xnothex";
    assert_int_equal(ch_trace_exec(e.s, &o, &r, &err), -1);
    o.source = json_string_value(json_object_get(json_object_get(e.theft, "theft"), "exploiter"));
    o.policy = CH_POLICY_LIFO; /* the account walk has no lifo */
    assert_int_equal(ch_trace_exec(e.s, &o, &r, &err), -1);
    evm_close(&e);
}

/* The command is a thin door: the same JSON through `coinhound trace` on an
 * account chain, the edge list with --edges, and a block-number window on
 * a Bitcoin store refused (exit 2) rather than ignored. */
/* Decimal amounts in, as JSON and Python doors receive them: every value
 * round-trips through ch_u128_str, the top of the range is reachable and one
 * more is refused, and anything but plain digits is refused. */
static void test_u128_parse_round_trips_and_refuses(void **state) {
    (void)state;
    const ch_taint_sum max = ~(ch_taint_sum)0;
    ch_taint_sum v = 1, got;
    char buf[48];
    for (int i = 0; i < 128; i++, v = v * 3 + 7) { /* spread over the range, wrapping */
        assert_int_equal(ch_u128_parse(ch_u128_str(v, buf), &got), 0);
        assert_true(got == v);
    }
    assert_int_equal(ch_u128_parse("340282366920938463463374607431768211455", &got), 0);
    assert_true(got == max);
    const char *bad[] = {"340282366920938463463374607431768211456",
                         "",
                         "-1",
                         "+1",
                         " 1",
                         "1 ",
                         "1.5",
                         "0x10",
                         "1e3",
                         "99999999999999999999999999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(ch_u128_parse(bad[i], &got), -1);
    assert_int_equal(ch_u128_parse(NULL, &got), -1);
    ch_trace_spec spec;
    ch_error err = {0};
    ch_trace_spec_init(&spec);
    assert_int_equal(ch_trace_spec_set_min_amount(&spec, "18446744073709551616", &err), 0);
    assert_true(spec.min_amount == (ch_taint_sum)1 << 64);
    assert_int_equal(ch_trace_spec_set_min_amount(&spec, "12abc", &err), -1);
    assert_non_null(strstr(err.msg, "12abc"));
    assert_true(spec.min_amount == (ch_taint_sum)1 << 64); /* unchanged by the refusal */
}

static void test_cli_through_the_front_door(void **state) {
    (void)state;
    evm e;
    evm_make(&e);
    const char *ex =
        json_string_value(json_object_get(json_object_get(e.theft, "theft"), "exploiter"));
    char cmd[8192], bin[2048];
    int st;
    snprintf(bin, sizeof bin, "%s", tu_bin("coinhound"));
    snprintf(cmd, sizeof cmd,
             "%s trace --db %s --chain eth --from %s --labels %s/labels.csv --json", bin, e.db, ex,
             e.gen);
    char *out = tu_run(cmd, &st);
    assert_int_equal(st, 0);
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    if (!j) fail_msg("not JSON: %s", out);
    assert_string_equal(json_string_value(json_object_get(j, "chain")), "eth");
    assert_true(digits(json_string_value(json_object_get(j, "tainted_total"))));
    assert_true(json_array_size(json_object_get(j, "landings")) > 0);
    json_decref(j);
    free(out);
    snprintf(cmd, sizeof cmd,
             "%s trace --db %s --chain eth --from %s --labels %s/labels.csv --edges", bin, e.db, ex,
             e.gen);
    out = tu_run(cmd, &st);
    assert_int_equal(st, 0);
    assert_true(!strncmp(out, "tx,block,time,from,to,", 22));
    assert_non_null(strstr(out, ",1,0\n")); /* a landing step */
    free(out);
    evm_close(&e);

    tu_genchain g;
    tu_genchain_make(&g, 5, 2000);
    char p[4200];
    snprintf(p, sizeof p, "%s/theft.json", g.blocks);
    json_t *bt = json_load_file(p, 0, &je);
    assert_non_null(bt);
    snprintf(cmd, sizeof cmd, "%s trace --db %s --from %s --first-block 10 2>&1", bin, g.db,
             json_string_value(json_object_get(bt, "theft_txid")));
    out = tu_run(cmd, &st);
    assert_int_equal(st, 2);
    assert_non_null(strstr(out, "block time"));
    free(out);
    json_decref(bt);
    tu_genchain_close(&g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_contract_same_for_btc_and_evm),
        cmocka_unit_test(test_edges_and_units),
        cmocka_unit_test(test_holdings_read_one_at_a_time_equal_the_array),
        cmocka_unit_test(test_exec_not_found_and_malformed),
        cmocka_unit_test(test_cli_through_the_front_door),
        cmocka_unit_test(test_u128_parse_round_trips_and_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
