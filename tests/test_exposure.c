/* Indirect exposure (exposure.h) and its use by `coinhound screen --db`:
 * expectations computed by hand on hand-made chains, and from the
 * generator's own record of a planted theft. */
#include "support/testutil.h"
#include "support/handchain.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/exposure.h"
#include "coinhound/hash.h"
#include "coinhound/trace.h"

#define BTC 100000000ULL

/* A (3 BTC, stolen) and B (7 BTC, exchange) pay C 10 BTC; C pays D 9.9
 * BTC (0.1 fee). */
typedef struct mix {
    hand h;
    ch_labels *labels;
} mix;

static void build_mix(mix *m) {
    hand_open(&m->h);
    hout a = {3 * BTC, 1}, b = {7 * BTC, 2};
    hand_block(&m->h, 1000);
    ch_hash256 ca = hand_coinbase(&m->h, &a, 1);
    hand_end_block(&m->h);
    hand_block(&m->h, 2000);
    ch_hash256 cb = hand_coinbase(&m->h, &b, 1);
    hand_end_block(&m->h);
    hand_block(&m->h, 3000);
    hin in1[] = {{ca, 0}, {cb, 0}};
    hout c = {10 * BTC, 3};
    ch_hash256 t1 = hand_tx(&m->h, in1, 2, &c, 1);
    hand_end_block(&m->h);
    hand_block(&m->h, 4000);
    hin in2 = {t1, 0};
    hout d = {10 * BTC - BTC / 10, 4};
    hand_tx(&m->h, &in2, 1, &d, 1);
    hand_end_block(&m->h);
    hand_finish(&m->h);
    ch_error err;
    char buf[CH_ADDR_STR_MAX];
    assert_int_equal(ch_labels_new(m->h.s, NULL, NULL, &m->labels, &err), 0);
    assert_int_equal(ch_labels_add(m->labels, addr_str(1, buf), "stolen_funds", "Thief", &err), 1);
    assert_int_equal(ch_labels_add(m->labels, addr_str(2, buf), "exchange", "Some Exchange", &err),
                     1);
}

static void free_mix(mix *m) {
    ch_labels_free(m->labels);
    hand_close(&m->h);
}

static const ch_exposure_source *find_source(const ch_exposure *x, const char *address) {
    for (size_t i = 0; i < x->n_sources; i++)
        if (!strcmp(x->sources[i].address, address)) return &x->sources[i];
    return NULL;
}

static void test_one_hop_share(void **state) {
    (void)state;
    mix m;
    build_mix(&m);
    ch_exposure_opts o;
    ch_exposure_opts_init(&o);
    o.labels = m.labels;
    ch_exposure x;
    ch_error err;
    ch_addr c = mkaddr(3);
    assert_int_equal(ch_exposure_of(m.h.s, NULL, &c, &o, &x, &err), 1);
    assert_true(x.received == 10 * BTC);
    /* haircut: 3 of the 10 BTC came from the thief, one hop back */
    assert_true(fabs(x.flagged_share - 0.3) < 1e-9);
    assert_true(fabs(x.flagged_amount - 3.0 * BTC) < 1e-3);
    assert_int_equal(x.level, CH_RISK_SEVERE);
    assert_true(fabs(x.score - 15 * 0.3) < 1e-9);
    char buf[CH_ADDR_STR_MAX];
    const ch_exposure_source *thief = find_source(&x, addr_str(1, buf));
    assert_non_null(thief);
    assert_int_equal(thief->hops, 1);
    assert_string_equal(thief->entity, "Thief");
    /* the exchange is a source too, but of level none: it flags nothing */
    const ch_exposure_source *ex = find_source(&x, addr_str(2, buf));
    assert_non_null(ex);
    assert_int_equal(ex->level, CH_RISK_NONE);
    assert_true(fabs(ex->share - 0.7) < 1e-9);
    assert_true(x.sources[0].level == CH_RISK_SEVERE); /* flagged first */
    free_mix(&m);
}

static void test_two_hops_lowered_and_hop_limit(void **state) {
    (void)state;
    mix m;
    build_mix(&m);
    ch_exposure_opts o;
    ch_exposure_opts_init(&o);
    o.labels = m.labels;
    ch_exposure x;
    ch_error err;
    ch_addr d = mkaddr(4);
    assert_int_equal(ch_exposure_of(m.h.s, NULL, &d, &o, &x, &err), 1);
    /* D received 9.9 BTC, all from C, which was 30% stolen: 2.97 BTC */
    assert_true(x.received == 10 * BTC - BTC / 10);
    assert_true(fabs(x.flagged_share - 0.3) < 1e-9);
    assert_true(fabs(x.flagged_amount - 2.97 * BTC) < 1e-3);
    /* two hops away: severe counts as high */
    assert_int_equal(x.level, CH_RISK_HIGH);
    assert_true(fabs(x.score - 10 * 0.3) < 1e-9);
    char buf[CH_ADDR_STR_MAX];
    const ch_exposure_source *thief = find_source(&x, addr_str(1, buf));
    assert_non_null(thief);
    assert_int_equal(thief->hops, 2);
    assert_int_equal(thief->path_len, 3);
    /* one hop only: the thief is out of reach */
    o.max_hops = 1;
    assert_int_equal(ch_exposure_of(m.h.s, NULL, &d, &o, &x, &err), 1);
    assert_true(x.flagged_share == 0);
    assert_int_equal(x.level, CH_RISK_NONE);
    /* an address the store never saw */
    ch_addr nobody = mkaddr(99);
    assert_int_equal(ch_exposure_of(m.h.s, NULL, &nobody, &o, &x, &err), 0);
    free_mix(&m);
}

/* The generated theft: every deposit the generator says came straight from
 * the peel chain is 100% exposed to the thief; the victim's own funding is
 * clean. */
static void test_planted_theft(void **state) {
    (void)state;
    char *dir = tu_tmpdir();
    char cmd[16384], gen[1024], ch[1024];
    int st;
    snprintf(gen, sizeof gen, "%s", tu_bin("coinhound-gen")); /* tu_bin's buffer is shared */
    snprintf(ch, sizeof ch, "%s", tu_bin("coinhound"));
    snprintf(cmd, sizeof cmd,
             "%s --out %s/chain --txs 20000 --theft --seed 11 >/dev/null && %s ingest btc "
             "%s/chain --db %s/db --no-progress >/dev/null",
             gen, dir, ch, dir, dir);
    free(tu_run(cmd, &st));
    assert_int_equal(st, 0);
    char path[4096];
    snprintf(path, sizeof path, "%s/chain/theft.json", dir);
    json_error_t je;
    json_t *t = json_load_file(path, 0, &je);
    assert_non_null(t);
    const char *thief = json_string_value(json_object_get(t, "thief_address"));
    const char *victim = json_string_value(json_object_get(t, "victim_address"));
    ch_store *s;
    ch_error err;
    snprintf(path, sizeof path, "%s/db", dir);
    assert_int_equal(ch_store_open(path, "btc", CH_STORE_READ, &s, &err), 0);
    ch_labels *labels;
    assert_int_equal(ch_labels_new(s, NULL, NULL, &labels, &err), 0);
    snprintf(path, sizeof path, "%s/chain/labels.csv", dir);
    assert_int_equal(ch_labels_load_csv(labels, path, NULL, NULL, &err), 0);
    assert_int_equal(ch_labels_add(labels, thief, "stolen_funds", "Thief", &err), 1);
    ch_exposure_opts o;
    ch_exposure_opts_init(&o);
    o.labels = labels;
    o.max_hops = 2;
    ch_exposure x;
    /* the peel chain's deposits: the landings the generator made first */
    json_t *steps = json_object_get(t, "steps"), *landings = json_object_get(t, "landings");
    size_t peels = 0;
    for (size_t i = 0; i < json_array_size(steps); i++)
        if (!strcmp(json_string_value(json_object_get(json_array_get(steps, i), "role")), "peel"))
            peels++;
    assert_true(peels > 0);
    size_t checked = 0;
    for (size_t i = 0; i < json_array_size(landings) && checked < 1; i++) {
        const char *addr =
            json_string_value(json_object_get(json_array_get(landings, i), "address"));
        ch_addr a;
        assert_int_equal(ch_addr_from_string(addr, &a, NULL, &err), 0);
        assert_int_equal(ch_exposure_of(s, NULL, &a, &o, &x, &err), 1);
        assert_true(fabs(x.flagged_share - 1.0) < 1e-9);
        assert_int_equal(x.level, CH_RISK_SEVERE);
        assert_string_equal(x.sources[0].address, thief);
        checked++;
    }
    assert_int_equal(checked, 1);
    ch_addr v;
    assert_int_equal(ch_addr_from_string(victim, &v, NULL, &err), 0);
    assert_int_equal(ch_exposure_of(s, NULL, &v, &o, &x, &err), 1);
    assert_true(x.flagged_share == 0);
    ch_labels_free(labels);
    ch_store_close(s);

    /* the command: an attribution store with the same labels */
    snprintf(cmd, sizeof cmd,
             "printf 'address,category,entity\\n%s,stolen_funds,Thief\\n' > %s/thief.csv && "
             "%s intel import --format csv %s/chain/labels.csv %s/thief.csv --db %s/db >/dev/null",
             thief, dir, ch, dir, dir, dir);
    free(tu_run(cmd, &st));
    assert_int_equal(st, 0);
    const char *dep = json_string_value(json_object_get(json_array_get(landings, 0), "address"));
    snprintf(cmd, sizeof cmd, "%s screen %s --db %s/db --json --hops 2", ch, dep, dir);
    char *out = tu_run(cmd, &st);
    assert_int_equal(st, 1); /* flagged */
    json_t *j = json_loads(out, 0, &je);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "risk")), "severe");
    json_t *xo = json_object_get(j, "exposure");
    assert_non_null(xo);
    assert_true(fabs(json_real_value(json_object_get(xo, "flagged_share")) - 1.0) < 1e-9 ||
                json_integer_value(json_object_get(xo, "flagged_share")) == 1);
    json_t *reasons = json_object_get(j, "reasons");
    bool via_exposure = false, direct_exchange = false;
    for (size_t i = 0; i < json_array_size(reasons); i++) {
        json_t *r = json_array_get(reasons, i);
        const char *via = json_string_value(json_object_get(r, "via"));
        if (!strcmp(via, "exposure") &&
            !strcmp(json_string_value(json_object_get(r, "from")), thief))
            via_exposure = true;
        if (!strcmp(via, "direct") &&
            !strcmp(json_string_value(json_object_get(r, "category")), "exchange"))
            direct_exchange = true;
        assert_non_null(json_object_get(r, "source"));
    }
    assert_true(via_exposure);
    assert_true(direct_exchange);
    json_decref(j);
    free(out);
    json_decref(t);
    tu_rmrf(dir);
    free(dir);
}

/* Account chains through the same door: the EVM generator's drain. A deposit
 * address fed by an address the exploiter controls (theft.json's
 * "addresses": the exploiter, its splits and hops, labelled stolen_funds)
 * is severe, one transfer back, with the path of the transfer that fed it;
 * the library call and `screen --db DIR --chain eth` agree. */
static void test_evm_drain_deposit_is_severe(void **state) {
    (void)state;
    char *dir = tu_tmpdir();
    char cmd[16384], gen[1024], ch[1024];
    int st;
    snprintf(gen, sizeof gen, "%s", tu_bin("coinhound-evmgen"));
    snprintf(ch, sizeof ch, "%s", tu_bin("coinhound"));
    snprintf(cmd, sizeof cmd,
             "%s --out %s/gen --seed 11 --transfers 8000 --theft >/dev/null && %s ingest eth "
             "%s/gen --db %s/db --no-progress >/dev/null",
             gen, dir, ch, dir, dir);
    free(tu_run(cmd, &st));
    assert_int_equal(st, 0);
    char path[4096];
    snprintf(path, sizeof path, "%s/gen/theft.json", dir);
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    assert_non_null(root);
    json_t *t = json_object_get(root, "theft");
    json_t *thieves = json_object_get(t, "addresses");
    assert_true(json_array_size(thieves) > 1);
    /* a landing of the drain in ETH at an exchange's deposit address */
    json_t *dep = NULL, *w;
    size_t i;
    json_array_foreach(json_object_get(t, "landings"), i, w) {
        if (!dep && !strcmp(json_string_value(json_object_get(w, "category")), "exchange") &&
            !strcmp(json_string_value(json_object_get(w, "asset")), "native"))
            dep = w;
    }
    assert_non_null(dep);
    const char *dep_addr = json_string_value(json_object_get(dep, "address"));
    ch_store *s;
    ch_error err;
    snprintf(path, sizeof path, "%s/db", dir);
    assert_int_equal(ch_store_open(path, "eth", CH_STORE_READ, &s, &err), 0);
    assert_true(ch_store_is_account(s));
    ch_labels *labels;
    assert_int_equal(ch_labels_new(s, NULL, NULL, &labels, &err), 0);
    snprintf(path, sizeof path, "%s/gen/labels.csv", dir);
    assert_int_equal(ch_labels_load_csv(labels, path, NULL, NULL, &err), 0);
    json_array_foreach(thieves, i, w) {
        assert_int_equal(
            ch_labels_add(labels, json_string_value(w), "stolen_funds", "Exploiter", &err), 1);
    }
    ch_exposure_opts o;
    ch_exposure_opts_init(&o);
    o.labels = labels;
    ch_exposure x;
    ch_addr a = {.kind = CH_ADDR_EVM, .len = 20};
    assert_int_equal(ch_hex_decode(dep_addr + 2, 40, a.bytes, 20), 0);
    assert_int_equal(ch_exposure_of(s, NULL, &a, &o, &x, &err), 1);
    assert_true(x.account);
    assert_int_equal(x.level, CH_RISK_SEVERE);
    assert_true(x.flagged_share > 0 && x.flagged_share <= 1.0 + 1e-9);
    const ch_exposure_source *src = &x.sources[0];
    assert_string_equal(src->category, "stolen_funds");
    assert_int_equal(src->level, CH_RISK_SEVERE);
    assert_int_equal(src->hops, 1);
    bool thief = false;
    json_array_foreach(thieves, i, w) thief |= !strcmp(json_string_value(w), src->address);
    assert_true(thief);
    /* its path: the tx that fed the deposit, one theft.json names for it */
    assert_int_equal(src->path_len, 1);
    ch_hash256 id;
    ch_store_txid(s, src->path[0], &id);
    char hx[67] = "0x";
    ch_hex_encode(id.b, 32, hx + 2);
    bool named = false;
    json_array_foreach(json_object_get(dep, "txs"), i, w) named |=
        !strcmp(json_string_value(w), hx);
    assert_true(named);
    ch_labels_free(labels);
    ch_store_close(s);

    /* the command: an attribution store with the same labels, --chain eth */
    char *rows = malloc(16384);
    size_t k = (size_t)snprintf(rows, 16384, "address,category,entity\\n");
    json_array_foreach(thieves, i, w) {
        k += (size_t)snprintf(rows + k, 16384 - k, "%s,stolen_funds,Exploiter\\n",
                              json_string_value(w));
    }
    snprintf(cmd, sizeof cmd,
             "printf '%s' > %s/thief.csv && %s intel import --format csv %s/gen/labels.csv "
             "%s/thief.csv --db %s/db >/dev/null",
             rows, dir, ch, dir, dir, dir);
    free(rows);
    free(tu_run(cmd, &st));
    assert_int_equal(st, 0);
    snprintf(cmd, sizeof cmd, "%s screen %s --db %s/db --chain eth --json", ch, dep_addr, dir);
    char *out = tu_run(cmd, &st);
    assert_int_equal(st, 1); /* flagged */
    json_t *j = json_loads(out, 0, &je);
    if (!j) fail_msg("not JSON: %s", out);
    assert_string_equal(json_string_value(json_object_get(j, "risk")), "severe");
    json_t *xo = json_object_get(j, "exposure");
    assert_non_null(xo);
    assert_string_equal(json_string_value(json_object_get(xo, "level")), "severe");
    json_t *s0 = json_array_get(json_object_get(xo, "sources"), 0);
    assert_string_equal(json_string_value(json_object_get(s0, "category")), "stolen_funds");
    assert_int_equal(json_integer_value(json_object_get(s0, "hops")), 1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(s0, "path"), 0)), hx);
    assert_string_equal(json_string_value(json_object_get(s0, "asset")), "ETH");
    json_decref(j);
    free(out);
    /* no store of that name: an error, not a quiet answer without exposure */
    snprintf(cmd, sizeof cmd, "%s screen %s --db %s/db --chain bsc 2>&1", ch, dep_addr, dir);
    free(tu_run(cmd, &st));
    assert_int_equal(st, 2);
    json_decref(root);
    tu_rmrf(dir);
    free(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_hop_share),
        cmocka_unit_test(test_two_hops_lowered_and_hop_limit),
        cmocka_unit_test(test_planted_theft),
        cmocka_unit_test(test_evm_drain_deposit_is_severe),
    };
    return cmocka_run_group_tests_name("exposure", tests, NULL, NULL);
}
