/* Watch rules (YAML): the issue's minimal form is taken exactly as written,
 * every kind's fields are read, and each mistake is refused with the line it
 * is on. */
#include "support/testutil.h"

#include <stdio.h>
#include <string.h>

#include "coinhound/watch.h"

static ch_watch_rules *parse_ok(const char *y) {
    ch_watch_rules *r = NULL;
    ch_error err = {{0}};
    int rc = ch_watch_rules_parse(y, strlen(y), "r.yaml", &r, &err);
    if (rc != 0) fprintf(stderr, "unexpected error: %s\n", err.msg);
    assert_int_equal(rc, 0);
    assert_non_null(r);
    return r;
}

/* The error message of a refused file; it must name the line. */
static void refused_at(const char *y, unsigned line, const char *words) {
    ch_watch_rules *r = NULL;
    ch_error err = {{0}};
    assert_int_equal(ch_watch_rules_parse(y, strlen(y), "r.yaml", &r, &err), -1);
    assert_null(r);
    char want[32];
    snprintf(want, sizeof want, "r.yaml: line %u", line);
    if (!strstr(err.msg, want) || !strstr(err.msg, words))
        fail_msg("wanted '%s' and '%s' in: %s", want, words, err.msg);
}

static void test_the_issue_minimal_form_is_accepted_as_written(void **state) {
    (void)state;
    const char *y = "rules:\n"
                    "  - name: thief-moves\n"
                    "    kind: address\n"
                    "    addresses: [0x70997970c51812dc3a010c7d01b50e0d17dc79c8]\n"
                    "    severity: high\n"
                    "  - name: big\n"
                    "    kind: large_transfer\n"
                    "    asset: ETH\n"
                    "    min: \"1000000000000000000000\"   # base units\n"
                    "    severity: medium\n";
    ch_watch_rules *r = parse_ok(y);
    assert_int_equal(r->n, 2);
    assert_string_equal(r->v[0].name, "thief-moves");
    assert_int_equal(r->v[0].kind, CH_WATCH_ADDRESS);
    assert_string_equal(r->v[0].severity, "high");
    assert_int_equal(r->v[0].line, 2);
    assert_int_equal(r->v[0].n_addrs, 1);
    assert_int_equal(r->v[0].addrs[0][0], 0x70);
    assert_int_equal(r->v[0].addrs[0][19], 0xc8);
    assert_int_equal(r->v[1].kind, CH_WATCH_LARGE);
    assert_true(r->v[1].native);
    assert_int_equal(r->v[1].line, 6);
    char dec[80];
    assert_string_equal(ch_u256_to_dec(&r->v[1].min, dec), "1000000000000000000000");
    assert_false(ch_watch_rules_need_intel(r));
    ch_watch_rules_free(r);
}

static void test_attribution_kinds_token_thresholds_and_lists_are_read(void **state) {
    (void)state;
    const char *y = "rules:\n"
                    "  - name: dprk\n"
                    "    kind: actor\n"
                    "    actor: DPRK\n"
                    "    severity: critical\n"
                    "  - name: cex\n"
                    "    kind: category\n"
                    "    categories: [exchange, bridge]\n"
                    "  - name: who\n"
                    "    kind: entity\n"
                    "    entity: Test Thief Crew\n"
                    "    include_delisted: true\n"
                    "  - name: usdt\n"
                    "    kind: large_transfer\n"
                    "    asset: 0xdAC17F958D2ee523a2206206994597C13D831ec7\n"
                    "    min: \"340282366920938463463374607431768211456\"\n"
                    "  - name: two\n"
                    "    kind: address\n"
                    "    addresses:\n"
                    "      - 0xffffffffffffffffffffffffffffffffffffffff\n"
                    "      - 0x0000000000000000000000000000000000000001\n";
    ch_watch_rules *r = parse_ok(y);
    assert_int_equal(r->n, 5);
    assert_true(ch_watch_rules_need_intel(r));
    assert_int_equal(r->v[0].kind, CH_WATCH_ACTOR);
    assert_string_equal(r->v[0].values[0], "DPRK");
    assert_int_equal(r->v[1].n_values, 2);
    assert_string_equal(r->v[1].values[1], "bridge");
    assert_string_equal(r->v[1].severity, "medium"); /* the default */
    assert_true(r->v[2].include_delisted);
    assert_string_equal(r->v[2].values[0], "Test Thief Crew");
    assert_false(r->v[3].native);
    assert_string_equal(r->v[3].asset_text, "0xdac17f958d2ee523a2206206994597c13d831ec7");
    /* 2^128: above what 128 bits hold, kept whole in 256 */
    assert_int_equal(r->v[3].min.w[2], 1);
    assert_int_equal(r->v[3].min.w[0], 0);
    /* sorted, so lookups can bisect */
    assert_int_equal(r->v[4].addrs[0][19], 0x01);
    assert_int_equal(r->v[4].addrs[1][0], 0xff);
    ch_watch_rules_free(r);
}

/* Bitcoin addresses (BIP173's and Base58Check's published examples) sit
 * in their own list beside EVM ones; asset BTC is a Bitcoin threshold. */
static void test_bitcoin_addresses_and_asset_btc_are_taken(void **state) {
    (void)state;
    const char *y = "rules:\n"
                    "  - name: mixed\n    kind: address\n"
                    "    addresses: [bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4,\n"
                    "                1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2,\n"
                    "                0x70997970c51812dc3a010c7d01b50e0d17dc79c8]\n"
                    "  - name: big-btc\n    kind: large_transfer\n    asset: BTC\n"
                    "    min: \"50000000000\"\n";
    ch_watch_rules *r;
    ch_error err;
    if (ch_watch_rules_parse(y, strlen(y), "r.yaml", &r, &err) != 0) fail_msg("%s", err.msg);
    assert_int_equal(r->v[0].n_addrs, 1);
    assert_int_equal(r->v[0].n_btc_addrs, 2);
    assert_true(ch_watch_addr_cmp(&r->v[0].btc_addrs[0], &r->v[0].btc_addrs[1]) < 0);
    /* BIP173's example: witness v0, program 751e76e8199196d454941c45d1b3a323f1433bd6 */
    bool found = false;
    for (int i = 0; i < 2; i++)
        if (r->v[0].btc_addrs[i].len == 20 && r->v[0].btc_addrs[i].bytes[0] == 0x75 &&
            r->v[0].btc_addrs[i].bytes[19] == 0xd6)
            found = true;
    assert_true(found);
    assert_true(r->v[1].btc);
    assert_false(r->v[1].native);
    assert_int_equal(r->v[1].min.w[0], 50000000000ULL);
    ch_watch_rules_free(r);
    /* one changed character: the checksum says so, with the line */
    refused_at("rules:\n  - name: a\n    kind: address\n"
               "    addresses: [bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5]\n",
               4, "nor a Bitcoin address");
}

static void test_each_mistake_names_its_line(void **state) {
    (void)state;
    refused_at("rules:\n  - name: a\n    kind: addres\n    addresses: [0x00]\n", 3,
               "unknown rule kind 'addres'");
    refused_at("rules:\n  - name: a\n    kind: address\n    addresses: [0x1234]\n", 4,
               "not an EVM address");
    refused_at("rules:\n  - name: a\n    kind: large_transfer\n    asset: ETH\n    min: 1e21\n", 5,
               "not a whole number");
    refused_at("rules:\n  - name: a\n    kind: large_transfer\n    asset: ETH\n    min: \"-5\"\n",
               5, "not a whole number");
    refused_at("rules:\n  - name: a\n    kind: large_transfer\n    asset: ETH\n", 2, "needs 'min'");
    refused_at("rules:\n  - name: a\n    kind: large_transfer\n    asset: DOGE\n    min: \"1\"\n",
               4, "neither ETH nor a token");
    refused_at("rules:\n  - name: a\n    kind: address\n    adresses: [0x00]\n", 4,
               "unknown field 'adresses'");
    refused_at("rules:\n"
               "  - name: a\n    kind: actor\n    actor: DPRK\n"
               "  - name: a\n    kind: actor\n    actor: DPRK\n",
               5, "used twice");
    refused_at("rules:\n  - name: a\n    kind: address\n    addresses: [0x00\n", 5, "");
    refused_at("rules:\n  - name: a\n    kind: incident\n", 2, "needs the theft");
    refused_at("rules:\n  - name: a\n    kind: poisoning\n", 2, "needs 'addresses'");
    refused_at("rules:\n  - name: a\n    kind: address\n    severity: urgent\n", 4,
               "severity 'urgent'");
    refused_at("rules:\n  - name: a\n    kind: actor\n    entity: X\n", 4,
               "lists its values under 'actor'");
    refused_at("rules:\n  - kind: actor\n    actor: X\n", 2, "no 'name'");
    refused_at("rule:\n  - name: a\n", 1, "unknown top-level field 'rule'");
    refused_at("rules: []\n", 1, "empty");
    refused_at("rules:\n  - name: a\n    kind: address\n    addresses: []\n", 4, "no address");
    refused_at("rules:\n  - name: a\n    kind: actor\n    actor: DPRK\n    min: \"5\"\n", 5,
               "only large_transfer");
}

#define TXH "0x3870e0c08846310708ee039f25224c0101f803898b46c149187deacc461222b6"

static void test_incident_rules_are_read_and_their_mistakes_named(void **state) {
    (void)state;
    ch_watch_rules *r = parse_ok("rules:\n"
                                 "  - name: heist\n"
                                 "    kind: incident\n"
                                 "    txs: [" TXH "]\n"
                                 "    addresses: 0x70997970C51812dc3A010C7d01b50e0d17dc79C8\n"
                                 "    policy: fifo\n"
                                 "    start_block: 21895000\n"
                                 "    max_hops: 12\n"
                                 "    min: \"1000\"\n"
                                 "    stop_at: [exchange, bridge]\n"
                                 "    severity: critical\n"
                                 "  - name: plain\n"
                                 "    kind: incident\n"
                                 "    txs: " TXH "\n");
    assert_int_equal(r->n, 2);
    const ch_watch_rule *h = &r->v[0];
    assert_int_equal(h->kind, CH_WATCH_INCIDENT);
    assert_string_equal(ch_watch_rule_kind_name(h->kind), "incident");
    assert_int_equal(h->n_sources, 2);
    assert_string_equal(h->sources[0], TXH);
    assert_string_equal(h->sources[1], "0x70997970c51812dc3a010c7d01b50e0d17dc79c8");
    assert_int_equal(h->policy, CH_POLICY_FIFO);
    assert_int_equal(h->start_block, 21895000);
    assert_int_equal(h->max_hops, 12);
    assert_int_equal(h->min.w[0], 1000);
    assert_true(h->has_stop_at);
    assert_string_equal(h->stop_at, "exchange,bridge");
    assert_string_equal(h->severity, "critical");
    assert_int_equal(r->v[1].policy, CH_POLICY_HAIRCUT); /* the default, as in trace */
    assert_false(r->v[1].has_stop_at);
    ch_watch_rules_free(r);
    refused_at("rules:\n  - name: a\n    kind: incident\n    txs: [0x1234]\n", 4,
               "neither a tx hash");
    refused_at("rules:\n  - name: a\n    kind: incident\n    txs: "
               "[0x70997970c51812dc3a010c7d01b50e0d17dc79c8]\n",
               4, "not a tx hash");
    refused_at("rules:\n  - name: a\n    kind: incident\n    txs: [" TXH "]\n    policy: lifo\n", 5,
               "policy 'lifo'");
    refused_at("rules:\n  - name: a\n    kind: incident\n    txs: [" TXH "]\n    asset: ETH\n", 5,
               "no 'asset'");
    refused_at("rules:\n  - name: a\n    kind: incident\n    txs: [" TXH "]\n    max_hops: -1\n", 5,
               "whole number");
    refused_at("rules:\n  - name: a\n    kind: address\n    addresses: "
               "[0x70997970c51812dc3a010c7d01b50e0d17dc79c8]\n    policy: fifo\n",
               5, "only incident rules take 'policy'");
    refused_at("rules:\n  - name: a\n    kind: incident\n    actor: DPRK\n", 4,
               "'txs' and 'addresses'");
}

/* watch btc's incident sources: a txid as Core shows it, TXID:VOUT and a
 * Bitcoin address, kept as written (a txid in lowercase, an address's case
 * untouched: Base58 is case-sensitive); malformed ones named. */
static void test_bitcoin_incident_sources_are_read(void **state) {
    (void)state;
    ch_watch_rules *r =
        parse_ok("rules:\n"
                 "  - name: heist-btc\n"
                 "    kind: incident\n"
                 "    txs: [F4184FC596403B9D638783CF57ADFE4C75C605F6356FBC91338530E9831E9E16,\n"
                 "          cd3ab58c01a61761de13548ccf3ce1743750e768bd8543217aa29a83744e4759:1]\n"
                 "    addresses: [1Q2TWHE3GMdB6BZKafqwxXtWAWgFt5Jvm3]\n"
                 "    policy: fifo\n");
    const ch_watch_rule *h = &r->v[0];
    assert_int_equal(h->n_sources, 3);
    assert_string_equal(h->sources[0],
                        "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16");
    assert_true(ch_watch_source_is_tx(h->sources[1]) && !ch_watch_source_is_evm(h->sources[1]));
    assert_string_equal(h->sources[2], "1Q2TWHE3GMdB6BZKafqwxXtWAWgFt5Jvm3");
    assert_false(ch_watch_source_is_tx(h->sources[2]));
    ch_watch_rules_free(r);
    refused_at("rules:\n  - name: a\n    kind: incident\n    txs: "
               "[cd3ab58c01a61761de13548ccf3ce1743750e768bd8543217aa29a83744e4759:x]\n",
               4, "neither a tx hash");
    refused_at("rules:\n  - name: a\n    kind: incident\n    addresses: "
               "[1Q2TWHE3GMdB6BZKafqwxXtWAWgFt5Jvm4]\n",
               4, "neither a tx hash");
    refused_at("rules:\n  - name: a\n    kind: incident\n    addresses: "
               "[cd3ab58c01a61761de13548ccf3ce1743750e768bd8543217aa29a83744e4759]\n",
               4, "not an address");
}

static void test_deposit_exposure_and_poisoning_rules_are_read(void **state) {
    (void)state;
    ch_watch_rules *r = parse_ok("rules:\n"
                                 "  - name: deposits\n"
                                 "    kind: deposit_exposure\n"
                                 "    addresses: [0x90f79bf6eb2c4f870365e785982e1f101e93b906]\n"
                                 "    min_share: 0.25\n"
                                 "    max_hops: 2\n"
                                 "  - name: defaults\n"
                                 "    kind: deposit_exposure\n"
                                 "    addresses: 0x90f79bf6eb2c4f870365e785982e1f101e93b906\n"
                                 "  - name: guard\n"
                                 "    kind: poisoning\n"
                                 "    addresses: [0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc]\n");
    assert_int_equal(r->v[0].kind, CH_WATCH_DEPOSIT);
    assert_string_equal(ch_watch_rule_kind_name(r->v[0].kind), "deposit_exposure");
    assert_true(r->v[0].min_share == 0.25);
    assert_int_equal(r->v[0].max_hops, 2);
    assert_true(r->v[1].min_share == 0.05); /* the defaults */
    assert_int_equal(r->v[1].max_hops, 3);
    assert_int_equal(r->v[2].kind, CH_WATCH_POISONING);
    assert_string_equal(ch_watch_rule_kind_name(r->v[2].kind), "poisoning");
    assert_int_equal(r->v[2].n_addrs, 1);
    assert_true(ch_watch_rules_need_intel(r)); /* deposit_exposure reads the attributions */
    ch_watch_rules_free(r);
    refused_at("rules:\n  - name: a\n    kind: deposit_exposure\n    addresses: "
               "[0x90f79bf6eb2c4f870365e785982e1f101e93b906]\n    min_share: 1.5\n",
               5, "min_share '1.5'");
    refused_at("rules:\n  - name: a\n    kind: address\n    addresses: "
               "[0x90f79bf6eb2c4f870365e785982e1f101e93b906]\n    min_share: 0.5\n",
               5, "only deposit_exposure");
    refused_at("rules:\n  - name: a\n    kind: poisoning\n    addresses: "
               "[0x90f79bf6eb2c4f870365e785982e1f101e93b906]\n    asset: ETH\n",
               5, "a poisoning rule takes 'addresses'");
    refused_at("rules:\n  - name: a\n    kind: deposit_exposure\n    actor: DPRK\n", 4,
               "needs 'addresses'");
}

/* watch btc screens payments to Bitcoin customer addresses: the rule takes
 * them beside EVM ones (each watcher matching its own); poisoning, an EVM
 * detector's, refuses them at their line. */
static void test_deposit_exposure_takes_bitcoin_customer_addresses(void **state) {
    (void)state;
    ch_watch_rules *r = parse_ok("rules:\n"
                                 "  - name: deposits\n"
                                 "    kind: deposit_exposure\n"
                                 "    addresses: [bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh,\n"
                                 "                1Q2TWHE3GMdB6BZKafqwxXtWAWgFt5Jvm3]\n"
                                 "    min_share: 0.5\n"
                                 "    max_hops: 4\n");
    assert_int_equal(r->v[0].kind, CH_WATCH_DEPOSIT);
    assert_int_equal(r->v[0].n_addrs, 0);
    assert_int_equal(r->v[0].n_btc_addrs, 2);
    assert_true(ch_watch_addr_cmp(&r->v[0].btc_addrs[0], &r->v[0].btc_addrs[1]) < 0);
    assert_true(r->v[0].min_share == 0.5);
    assert_int_equal(r->v[0].max_hops, 4);
    ch_watch_rules_free(r);
    refused_at("rules:\n  - name: a\n    kind: poisoning\n    addresses: "
               "[bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh]\n",
               4, "EVM addresses");
    refused_at("rules:\n  - name: a\n    kind: deposit_exposure\n    addresses: "
               "[bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlX]\n",
               4, "nor a Bitcoin address");
}

static void test_a_missing_file_is_an_error_naming_it(void **state) {
    (void)state;
    ch_watch_rules *r = NULL;
    ch_error err = {{0}};
    assert_int_equal(ch_watch_rules_load("/nonexistent/rules.yaml", &r, &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent/rules.yaml"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_issue_minimal_form_is_accepted_as_written),
        cmocka_unit_test(test_attribution_kinds_token_thresholds_and_lists_are_read),
        cmocka_unit_test(test_bitcoin_addresses_and_asset_btc_are_taken),
        cmocka_unit_test(test_each_mistake_names_its_line),
        cmocka_unit_test(test_incident_rules_are_read_and_their_mistakes_named),
        cmocka_unit_test(test_bitcoin_incident_sources_are_read),
        cmocka_unit_test(test_deposit_exposure_and_poisoning_rules_are_read),
        cmocka_unit_test(test_deposit_exposure_takes_bitcoin_customer_addresses),
        cmocka_unit_test(test_a_missing_file_is_an_error_naming_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
