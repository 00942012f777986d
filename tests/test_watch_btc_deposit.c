/* deposit_exposure on `coinhound watch btc`: payments to listed customer
 * addresses screened as they arrive, on a chain from coinhound-gen with its
 * planted theft (theft.json: the theft, its peel chain, a split and a
 * CoinJoin). The thief's address and the address the split pays the thief
 * are listed stolen_funds (a list this test writes, imported beside the
 * generator's exchange and mixer labels); the customers are
 *   hop1   the first peel's change: the thief paid it (1 hop, all stolen);
 *   hop2   the second peel's change: 2 hops back to the thief;
 *   hop3   the third peel's change: 3 hops, beyond the rule's max_hops 2;
 *   cj     a CoinJoin output: one of its inputs is the thief's (a share
 *          well below 1: haircut over the pooled inputs);
 *   clean  the victim's address, funded by clean coins.
 * The oracle is `coinhound screen --db DIR --hops 2 --json` of each
 * customer address (each paid once: the screening of the address is the
 * screening of the payment): an alert where, and only where, its flagged
 * share reaches the rule's min_share, with its share, sources, hops and
 * paths. The blocks arrive one by one after the watcher started (the group
 * commit holds blocks pending: the payments' inputs are in pending blocks).
 * A second store followed through kill -9s gives the same ids, each logged
 * once. */
#include "support/testutil.h"
#include "support/watchbtc.h"

#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/address.h"
#include "coinhound/btc.h"
#include "coinhound/hash.h"
#include "coinhound/store.h"

enum { HOP1, HOP2, HOP3, CJ, CLEAN, N_CUST };
static const char *const cust_name[N_CUST] = {"hop1", "hop2", "hop3", "cj", "clean"};

typedef struct fx {
    wb_fx w;                            /* the watcher, its folder, store and files */
    char full[512], intel[512];         /* the whole chain; the stolen_funds list */
    char cust[N_CUST][CH_ADDR_STR_MAX]; /* the customer addresses */
    char pay_tx[N_CUST][65];            /* the tx paying each */
} fx;

static char *run_ok(const char *cmd) {
    int st;
    char *out = tu_run(cmd, &st);
    if (st != 0) fail_msg("%s: exit %d: %s", cmd, st, out ? out : "");
    return out;
}

/* Output vout of tx (hex) in store s, its address as text. */
static void out_addr(ch_store *s, const char *txhex, uint32_t vout, char out[CH_ADDR_STR_MAX]) {
    ch_hash256 h;
    uint64_t tx, fo, no;
    ch_error err;
    assert_int_equal(ch_hash256_from_hex(txhex, &h), 0);
    assert_int_equal(ch_store_find_tx(s, &h, &tx, &err), 1);
    ch_store_tx_outputs(s, tx, &fo, &no);
    assert_true(vout < no);
    ch_addr a;
    ch_store_addr_of(s, ch_out_addr(ch_store_output(s, fo + vout)), &a);
    assert_int_equal(ch_addr_to_string(&a, ch_store_addr_net(s), out), 0);
}

/* The output of tx that does not pay `not` (a peel's change: its other
 * output is the exchange deposit theft.json names). */
static uint32_t other_vout(json_t *theft, const char *txid) {
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(theft, "landings"), i, l) {
        if (!strcmp(json_string_value(json_object_get(l, "txid")), txid))
            return json_integer_value(json_object_get(l, "vout")) == 0 ? 1 : 0;
    }
    fail_msg("no landing of peel %s in theft.json", txid);
    return 0;
}

static const char *step_tx(json_t *theft, const char *role, int nth) {
    size_t i;
    json_t *st;
    json_array_foreach(json_object_get(theft, "steps"), i, st) {
        if (!strcmp(json_string_value(json_object_get(st, "role")), role) && nth-- == 0)
            return json_string_value(json_object_get(st, "txid"));
    }
    fail_msg("no step %s in theft.json", role);
    return NULL;
}

/* The chain, the customers (read from a store of it), the stolen_funds
 * list and the rules. */
static void fixture(fx *f) {
    memset(f, 0, sizeof *f);
    wb_init(&f->w);
    snprintf(f->full, sizeof f->full, "%s/full", f->w.dir);
    snprintf(f->intel, sizeof f->intel, "%s/stolen.csv", f->w.dir);
    wb_gen(f->full, 16, true);
    json_t *theft = wb_theft(f->full, NULL);
    char cmd[2400], odb[600];
    ch_error err;
    snprintf(odb, sizeof odb, "%s/odb", f->w.dir);
    snprintf(cmd, sizeof cmd, "%s ingest btc %s --db %s 2>&1", tu_bin("coinhound"), f->full, odb);
    free(run_ok(cmd));
    ch_store *s;
    if (ch_store_open(odb, "btc", CH_STORE_READ, &s, &err) != 0) fail_msg("%s", err.msg);
    for (int k = 0; k < 3; k++) {
        const char *peel = step_tx(theft, "peel", k);
        out_addr(s, peel, other_vout(theft, peel), f->cust[HOP1 + k]);
        snprintf(f->pay_tx[HOP1 + k], 65, "%s", peel);
    }
    /* the CoinJoin's first output with an address that is not the
     * thief's change (theft.json's dormant output) */
    const char *cj = step_tx(theft, "coinjoin", 0);
    const char *dormant = NULL;
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(theft, "dormant"), i, d) {
        if (!strcmp(json_string_value(json_object_get(d, "txid")), cj))
            dormant = json_string_value(json_object_get(d, "address"));
    }
    assert_non_null(dormant);
    for (uint32_t v = 0; !f->cust[CJ][0]; v++) {
        ch_hash256 h;
        uint64_t tx, fo, no;
        assert_int_equal(ch_hash256_from_hex(cj, &h), 0);
        assert_int_equal(ch_store_find_tx(s, &h, &tx, &err), 1);
        ch_store_tx_outputs(s, tx, &fo, &no);
        assert_true(v < no);
        if (!ch_out_addr(ch_store_output(s, fo + v))) continue;
        out_addr(s, cj, v, f->cust[CJ]);
        if (!strcmp(f->cust[CJ], dormant)) f->cust[CJ][0] = 0;
    }
    snprintf(f->pay_tx[CJ], 65, "%s", cj);
    snprintf(f->cust[CLEAN], CH_ADDR_STR_MAX, "%s",
             json_string_value(json_object_get(theft, "victim_address")));
    snprintf(f->pay_tx[CLEAN], 65, "%s", step_tx(theft, "fund_victim", 0));
    /* the thief's two addresses, as an analyst lists them */
    char split_thief[CH_ADDR_STR_MAX];
    out_addr(s, step_tx(theft, "split", 0), 0, split_thief);
    ch_store_close(s);
    FILE *w = fopen(f->intel, "w");
    assert_non_null(w);
    fprintf(w,
            "address,category,entity,source\n%s,stolen_funds,Test heist thief,deposit test "
            "list\n%s,stolen_funds,Test heist thief,deposit test list\n",
            json_string_value(json_object_get(theft, "thief_address")), split_thief);
    fclose(w);
    json_decref(theft);
    w = fopen(f->w.rules, "w");
    assert_non_null(w);
    fprintf(w,
            "rules:\n"
            "  - name: deposits\n"
            "    kind: deposit_exposure\n"
            "    addresses: [%s, %s, %s, %s, %s]\n"
            "    min_share: 0.1\n"
            "    max_hops: 2\n"
            "    severity: high\n"
            "  - name: strict\n"
            "    kind: deposit_exposure\n"
            "    addresses: [%s, %s]\n"
            "    min_share: 0.25\n"
            "    max_hops: 2\n",
            f->cust[HOP1], f->cust[HOP2], f->cust[HOP3], f->cust[CJ], f->cust[CLEAN], f->cust[CJ],
            f->cust[HOP1]);
    fclose(w);
}

/* DIR/intel with the generator's labels and the stolen_funds list. */
static void import_intel(const fx *f, const char *db) {
    char labels[600];
    snprintf(labels, sizeof labels, "%s/labels.csv", f->full);
    wb_intel_import(labels, db);
    wb_intel_import(f->intel, db);
}

/* The standing alerts of a JSON-lines file: "rule customer" -> alert (the
 * last record of each id, retractions dropped). */
static json_t *standing(const char *path) {
    json_t *by = wb_last_by_id(path), *out = json_object();
    const char *id;
    json_t *a;
    json_object_foreach(by, id, a) {
        if (json_is_true(json_object_get(a, "retracted"))) continue;
        char key[200];
        snprintf(key, sizeof key, "%s %s", json_string_value(json_object_get(a, "rule")),
                 json_string_value(json_object_get(a, "customer_address")));
        assert_null(json_object_get(out, key)); /* one payment each */
        json_object_set(out, key, a);
    }
    json_decref(by);
    return out;
}

static json_t *wait_alerts(const fx *f, const char *alerts, size_t want, unsigned timeout_ms) {
    json_t *got = NULL;
    for (unsigned t = 0; t <= timeout_ms; t += 100) {
        json_decref(got);
        got = standing(alerts);
        if (json_object_size(got) >= want) return got;
        tu_msleep(100);
    }
    char *log = tu_read_text(f->w.log);
    fail_msg("%zu standing alerts, %zu wanted; log: %.3000s", json_object_size(got), want,
             log ? log : "");
    return NULL;
}

/* `coinhound screen --db db --hops N --json ADDR`'s exposure. */
static json_t *screen_exposure(const char *db, const char *addr, unsigned hops) {
    char cmd[2400];
    snprintf(cmd, sizeof cmd, "%s screen --db %s --hops %u --json %s", tu_bin("coinhound"), db,
             hops, addr);
    int st;
    char *out = tu_run(cmd, &st);
    if (st != 0 && st != 1) fail_msg("%s: exit %d: %s", cmd, st, out ? out : "");
    json_t *v = json_loads(out, 0, NULL);
    if (!v) fail_msg("screen said: %s", out);
    free(out);
    json_t *x = json_incref(json_object_get(v, "exposure"));
    json_decref(v);
    assert_non_null(x);
    return x;
}

static double num(json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    assert_true(json_is_number(v));
    return json_number_value(v);
}

/* The alert's verdict equals the screening's: share, level, each flagged
 * source (address, category, level, share, hops, amount and path) and a
 * reason per source naming who lists it. */
static void assert_alert_is_screen(const fx *f, json_t *a, json_t *x, int c) {
    assert_string_equal(json_string_value(json_object_get(a, "tx")), f->pay_tx[c]);
    assert_string_equal(json_string_value(json_object_get(a, "kind")), "deposit_exposure");
    assert_string_equal(json_string_value(json_object_get(a, "chain")), "btc");
    assert_string_equal(json_string_value(json_object_get(a, "to")), f->cust[c]);
    assert_non_null(json_object_get(a, "summary"));
    assert_non_null(json_object_get(a, "amount_display"));
    json_t *e = json_object_get(a, "exposure");
    assert_true(fabs(num(e, "share") - num(x, "flagged_share")) < 1e-12);
    assert_string_equal(json_string_value(json_object_get(e, "level")),
                        json_string_value(json_object_get(x, "level")));
    assert_int_equal((long long)num(e, "received"), (long long)num(x, "received"));
    /* the payment is all the customer received: the amount is its value */
    assert_string_equal(json_string_value(json_object_get(a, "amount")),
                        json_string_value(json_object_get(x, "received_units")));
    json_t *want = json_array(), *s;
    size_t i;
    json_array_foreach(json_object_get(x, "sources"), i, s) {
        if (strcmp(json_string_value(json_object_get(s, "level")), "none"))
            json_array_append(want, s);
    }
    json_t *got = json_object_get(e, "sources");
    assert_true(json_array_size(want) > 0);
    assert_int_equal(json_array_size(got), json_array_size(want));
    json_t *reasons = json_object_get(a, "reasons");
    assert_int_equal(json_array_size(reasons), 1 + json_array_size(want));
    assert_non_null(strstr(json_string_value(json_object_get(json_array_get(reasons, 0), "source")),
                           "rule deposits"));
    json_array_foreach(want, i, s) {
        json_t *g = json_array_get(got, i);
        static const char *const same[] = {"address", "category", "entity", "level",
                                           "amount_units"};
        for (size_t k = 0; k < sizeof same / sizeof *same; k++)
            assert_string_equal(json_string_value(json_object_get(g, same[k])),
                                json_string_value(json_object_get(s, same[k])));
        assert_true(fabs(num(g, "share") - num(s, "share")) < 1e-12);
        assert_int_equal((long long)num(g, "hops"), (long long)num(s, "hops"));
        assert_true(json_equal(json_object_get(g, "path"), json_object_get(s, "path")));
        json_t *r = json_array_get(reasons, 1 + i);
        assert_string_equal(json_string_value(json_object_get(r, "source")), "deposit test list");
        assert_non_null(strstr(json_string_value(json_object_get(r, "why")),
                               json_string_value(json_object_get(s, "address"))));
    }
    json_decref(want);
}

static void test_deposits_alert_as_screen_judges_the_payment_within_max_hops(void **state) {
    (void)state;
    static fx f;
    fixture(&f);
    import_intel(&f, f.w.db);
    /* the watcher starts before the theft; the blocks then come one by one */
    ch_blk_chain c = {0};
    wb_cut_blocks(f.full, f.w.blocks, 36, &c);
    wb_start(&f.w, false);
    wb_wait_log(&f.w, " info: watching ", 1, 30000);
    for (uint32_t h = 36; h < c.n; h++) {
        wb_append_block(f.full, f.w.blocks, &c, h);
        tu_msleep(15);
    }
    /* deposits: hop1, hop2, cj; strict: hop1 */
    json_t *got = wait_alerts(&f, f.w.alerts, 4, 90000);
    tu_msleep(500); /* nothing more comes */
    json_decref(got);
    got = standing(f.w.alerts);
    if (json_object_size(got) != 4) {
        char *all = json_dumps(got, JSON_COMPACT);
        fail_msg("%zu alerts: %s", json_object_size(got), all);
    }
    for (int k = 0; k < N_CUST; k++) {
        json_t *x = screen_exposure(f.w.db, f.cust[k], 2);
        double share = num(x, "flagged_share");
        char key[200];
        snprintf(key, sizeof key, "deposits %s", f.cust[k]);
        json_t *a = json_object_get(got, key);
        fprintf(stderr, "%-5s %s: screen --hops 2 flagged share %.4f, alert %s\n", cust_name[k],
                f.cust[k], share, a ? "yes" : "no");
        /* the alerts are those the screening calls for, and no other */
        assert_int_equal(a != NULL, share >= 0.1);
        if (a) assert_alert_is_screen(&f, a, x, k);
        snprintf(key, sizeof key, "strict %s", f.cust[k]);
        a = json_object_get(got, key);
        assert_int_equal(a != NULL, (k == HOP1 || k == CJ) && share >= 0.25);
        json_decref(x);
    }
    /* what the chain was built to give: the shares and hops by hand */
    char key[200];
    snprintf(key, sizeof key, "deposits %s", f.cust[HOP1]);
    json_t *x = json_object_get(json_object_get(got, key), "exposure");
    assert_true(num(x, "share") == 1.0);
    assert_int_equal((long long)num(json_array_get(json_object_get(x, "sources"), 0), "hops"), 1);
    assert_string_equal(json_string_value(json_object_get(x, "level")), "severe");
    snprintf(key, sizeof key, "deposits %s", f.cust[HOP2]);
    x = json_object_get(json_object_get(got, key), "exposure");
    assert_int_equal((long long)num(json_array_get(json_object_get(x, "sources"), 0), "hops"), 2);
    assert_string_equal(json_string_value(json_object_get(x, "level")), "high"); /* one step */
    snprintf(key, sizeof key, "deposits %s", f.cust[CJ]);
    x = json_object_get(json_object_get(got, key), "exposure");
    assert_true(num(x, "share") > 0.1 && num(x, "share") < 0.25); /* the thief's input's */
    /* hop3 is exposed, 3 hops back: beyond max_hops 2, no alert */
    json_t *far = screen_exposure(f.w.db, f.cust[HOP3], 3);
    assert_true(num(far, "flagged_share") >= 0.1);
    json_decref(far);
    assert_int_equal(wb_stop(&f.w), 0);
    /* a restart on the same store finds the same ids: nothing new logged */
    char log[700];
    snprintf(log, sizeof log, "%s/btc/watch/alerts.jsonl", f.w.db);
    char *before = tu_read_text(log);
    wb_start(&f.w, false);
    wb_wait_log(&f.w, " info: watching ", 2, 30000);
    tu_msleep(300);
    assert_int_equal(wb_stop(&f.w), 0);
    char *after = tu_read_text(log);
    assert_string_equal(before, after);
    free(before), free(after);

    /* a second store, the whole chain followed through kill -9s at
     * moments spread over its catch-up: the same ids, each logged once */
    wb_fx *w = &f.w; /* now on the whole folder, into db2 and alerts2 */
    snprintf(w->blocks, sizeof w->blocks, "%s", f.full);
    snprintf(w->db, sizeof w->db, "%s/db2", w->dir);
    snprintf(w->alerts, sizeof w->alerts, "%s/alerts2.jsonl", w->dir);
    char log2[700];
    snprintf(log2, sizeof log2, "%s/btc/watch/alerts.jsonl", w->db);
    import_intel(&f, w->db);
    for (unsigned k = 0; k < 6; k++) {
        wb_start(w, false);
        tu_msleep(40 + 60 * k);
        wb_kill9(w);
    }
    wb_start(w, false);
    json_t *got2 = wait_alerts(&f, w->alerts, 4, 90000);
    tu_msleep(300);
    assert_int_equal(wb_stop(w), 0);
    json_decref(got2);
    got2 = standing(w->alerts);
    assert_int_equal(json_object_size(got2), 4);
    const char *k2;
    json_t *a2;
    json_object_foreach(got2, k2, a2) {
        json_t *a1 = json_object_get(got, k2);
        assert_non_null(a1);
        assert_string_equal(json_string_value(json_object_get(a2, "id")),
                            json_string_value(json_object_get(a1, "id")));
    }
    char *text = tu_read_text(log2);
    size_t lines = 0;
    for (const char *p = text; p && *p; p++)
        lines += *p == '\n';
    free(text);
    assert_int_equal(lines, 4); /* each id once in the store's log */
    json_decref(got2);
    json_decref(got);
    ch_blk_chain_free(&c);
    wb_free(&f.w);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_deposits_alert_as_screen_judges_the_payment_within_max_hops,
                                  wb_end_processes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
