/* The rules that guard a platform's own addresses, against a real node
 * (anvil): deposit_exposure (a customer deposit whose sender's funds came
 * from a sanctioned address, directly or one hop back; a clean deposit
 * raising nothing) and poisoning (a dust payment from a vanity lookalike of
 * the protected address's real counterparty, sent by anvil impersonating
 * that lookalike). Expected values: the node's tx hashes and the
 * addresses the test chose; the share by hand (all the sender ever received
 * came from the sanctioned address). Skipped, saying why, when anvil is
 * absent. */
#include "support/testutil.h"
#include "support/anvil.h"

#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CUST ACCT3 /* a customer's deposit address */
/* a lookalike of ACCT3 (0x90f7...b906): its first and last 4 hex characters */
#define LOOK "0x90f700000000000000000000000000000000b906"

static json_t *of_rule(json_t *alerts, const char *rule) {
    json_t *out = json_array(), *a;
    size_t i;
    json_array_foreach(alerts, i, a) if (!strcmp(json_string_value(json_object_get(a, "rule")),
                                                 rule)) json_array_append(out, a);
    return out;
}

static json_t *with_tx(json_t *alerts, const char *tx) {
    json_t *a;
    size_t i;
    json_array_foreach(alerts, i, a) if (!strcmp(an_s_of(a, "tx"), tx)) return a;
    fail_msg("no alert for tx %s", tx);
    return NULL;
}

static void test_a_deposit_from_sanctioned_funds_is_held_with_its_reasons(void **state) {
    (void)state;
    static fx f;
    if (!an_setup(&f)) skip();
    char csv[600], cmd[2048];
    snprintf(csv, sizeof csv, "%s/intel.csv", f.dir);
    an_write_file(csv, "address,asset,category,entity,source\n" LAZ
                       ",ETH,sanctions,Test Sanctioned Group,watch test list\n");
    snprintf(cmd, sizeof cmd, "%s intel import --db %s %s 2>&1", tu_bin("coinhound"), f.db, csv);
    int st;
    free(tu_run(cmd, &st));
    assert_int_equal(st, 0);
    an_write_file(f.rules, "rules:\n"
                           "  - name: deposits\n"
                           "    kind: deposit_exposure\n"
                           "    addresses: [" CUST "]\n"
                           "    min_share: 0.25\n"
                           "    max_hops: 3\n"
                           "    severity: high\n");
    an_start_watcher(&f, NULL);
    char *a = an_send_eth(&f, LAZ, ACCT5, "0x8ac7230489e80000");  /* 10 ETH, sanctioned */
    char *b = an_send_eth(&f, ACCT5, CUST, "0x4563918244f40000"); /* 5 ETH deposit: 1 hop */
    char *c = an_send_eth(&f, ACCT2, CUST, "0xde0b6b3a7640000");  /* clean deposit */
    char *d = an_send_eth(&f, LAZ, CUST, "0xde0b6b3a7640000");    /* direct */
    json_t *all = an_wait_alerts(&f, 2, 20000);
    an_msleep(800);
    json_decref(all);
    all = an_read_alerts(f.alerts);
    json_t *dep = of_rule(all, "deposits");
    assert_int_equal(json_array_size(dep), 2);
    json_t *x = with_tx(dep, b);
    assert_string_equal(an_s_of(x, "customer_address"), CUST);
    assert_string_equal(an_s_of(x, "from"), ACCT5);
    assert_string_equal(an_s_of(x, "amount"), "5000000000000000000");
    json_t *e = json_object_get(x, "exposure");
    assert_true(json_real_value(json_object_get(e, "share")) > 0.999);
    json_t *src = json_array_get(json_object_get(e, "sources"), 0);
    assert_string_equal(an_s_of(src, "address"), LAZ);
    assert_string_equal(an_s_of(src, "category"), "sanctions");
    assert_int_equal(json_integer_value(json_object_get(src, "hops")), 1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(src, "path"), 0)), a);
    assert_true(json_array_size(json_object_get(x, "reasons")) >= 2);
    assert_non_null(strstr(an_s_of(x, "action"), "Hold this deposit"));
    json_t *y = with_tx(dep, d);
    assert_true(json_real_value(json_object_get(json_object_get(y, "exposure"), "share")) == 1.0);
    char *why = json_dumps(json_object_get(y, "reasons"), 0);
    assert_non_null(strstr(why, "Test Sanctioned Group")); /* the attribution, as a reason */
    free(why);
    (void)c; /* the clean deposit: no alert (the count above) */
    assert_int_equal(an_stop_watcher(&f), 0);
    json_decref(dep), json_decref(all);
    free(a), free(b), free(c), free(d);
    an_teardown(&f);
}

static void test_a_lookalike_dust_payment_is_a_poisoning_alert(void **state) {
    (void)state;
    static fx f;
    if (!an_setup(&f)) skip();
    an_write_file(f.rules, "rules:\n"
                           "  - name: protect-treasury\n"
                           "    kind: poisoning\n"
                           "    addresses: [" ACCT2 "]\n"
                           "    severity: high\n");
    an_start_watcher(&f, NULL);
    /* the victim's real counterparty: a payment to ACCT3 */
    char *pay = an_send_eth(&f, ACCT2, ACCT3, "0xde0b6b3a7640000");
    /* the attacker's vanity address pays the victim 1 wei */
    json_decref(an_rpc(&f, "anvil_impersonateAccount", json_pack("[s]", LOOK)));
    json_decref(an_rpc(&f, "anvil_setBalance", json_pack("[s,s]", LOOK, "0xde0b6b3a7640000")));
    char *dust = an_send_eth(&f, LOOK, ACCT2, "0x1");
    json_t *all = an_wait_alerts(&f, 1, 20000);
    an_msleep(800);
    json_decref(all);
    all = an_read_alerts(f.alerts);
    assert_int_equal(json_array_size(all), 1); /* the real payment is no attempt */
    json_t *p = json_array_get(all, 0);
    assert_string_equal(an_s_of(p, "rule"), "protect-treasury");
    assert_string_equal(an_s_of(p, "kind"), "poisoning");
    assert_string_equal(an_s_of(p, "tx"), dust);
    assert_string_equal(an_s_of(p, "victim"), ACCT2);
    assert_string_equal(an_s_of(p, "lookalike"), LOOK);
    assert_string_equal(an_s_of(p, "imitated"), ACCT3);
    char *sig = json_dumps(json_object_get(p, "signals"), 0);
    assert_non_null(strstr(sig, "dust"));
    assert_non_null(strstr(sig, "lookalike"));
    free(sig);
    assert_non_null(strstr(an_s_of(p, "action"), "never copy " LOOK));
    assert_int_equal(an_stop_watcher(&f), 0);
    json_decref(all);
    free(pay), free(dust);
    an_teardown(&f);
}

int main(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_a_deposit_from_sanctioned_funds_is_held_with_its_reasons,
                                  an_end_processes),
        cmocka_unit_test_teardown(test_a_lookalike_dust_payment_is_a_poisoning_alert,
                                  an_end_processes),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
