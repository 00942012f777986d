/* One way of doing each thing on the command line (issue 12, item 4): every
 * command that reads a database takes --db=DIR as well as --db DIR and falls
 * back to $COINHOUND_DB, intel included; one chain rule (--chain, else the
 * argument's form, then the store's kind); every --limit limits, the
 * cluster's labels included. Run on a generated chain (coinhound-gen) and
 * label files written here; expected exit codes are the documented ones. */
#include "support/testutil.h"
#include "support/genchain.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/address.h"

static tu_genchain g_chain;
static char g_addr[CH_ADDR_STR_MAX], g_txid[65];

static int setup(void **state) {
    (void)state;
    tu_genchain_make(&g_chain, 99, 600);
    /* an address and a tx of the chain */
    ch_store_counts c;
    ch_store_get_counts(g_chain.s, &c);
    for (uint64_t o = c.outputs; o-- > 0;) {
        ch_addr_id id = ch_out_addr(ch_store_output(g_chain.s, o));
        ch_addr a;
        if (!id) continue;
        ch_store_addr_of(g_chain.s, id, &a);
        if (ch_addr_to_string(&a, CH_NET_MAINNET, g_addr) == 0) break;
    }
    ch_hash256 h;
    ch_store_txid(g_chain.s, c.txs / 2, &h);
    ch_hash256_to_hex(&h, g_txid);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    tu_genchain_close(&g_chain);
    return 0;
}

/* Run `[ENV] coinhound ARGS`; its exit status, and what it said in *out. */
static int run(const char *env, const char *args, char **out) {
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "%s %s %s 2>&1", env ? env : "", tu_bin("coinhound"), args);
    int st;
    char *o = tu_run(cmd, &st);
    if (out)
        *out = o;
    else
        free(o);
    return st;
}

static void expect(const char *env, const char *args, int want) {
    char *out;
    int st = run(env, args, &out);
    if (st != want) fail_msg("'%s': exit %d, wanted %d; said: %s", args, st, want, out);
    free(out);
}

static void test_every_command_takes_db_equals_dir(void **state) {
    (void)state;
    const char *db = g_chain.db;
    char a[4096], csv[2048];
    snprintf(csv, sizeof csv, "%s/intel.csv", db);
    FILE *f = fopen(csv, "w");
    assert_non_null(f);
    fprintf(f, "address,category,entity\n%s,exchange,Test Exchange\n", g_addr);
    fclose(f);
    struct {
        const char *fmt;
        int want;
    } cases[] = {
        {"status --db=%s", 0},
        {"block 1 --db=%s", 0},
        {"tx %.12s --db=%s", 0}, /* a unique prefix, as the text prints ids */
        {"address %s --db=%s", 0},
        {"cluster build --db=%s", 0},
        {"check --db=%s", 0},
        {"intel import --category exchange --entity X --source test %s --db=%s", 0},
        {"intel stats --db=%s", 0},
        {"intel lookup %s --db=%s", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *fmt = cases[i].fmt;
        if (strstr(fmt, "tx %"))
            snprintf(a, sizeof a, fmt, g_txid, db);
        else if (strstr(fmt, "import"))
            snprintf(a, sizeof a, fmt, csv, db);
        else if (strstr(fmt, "address %") || strstr(fmt, "lookup %"))
            snprintf(a, sizeof a, fmt, g_addr, db);
        else
            snprintf(a, sizeof a, fmt, db);
        expect(NULL, a, cases[i].want);
    }
    /* the cluster of the address: the store's cluster file was built above */
    snprintf(a, sizeof a, "cluster %s --db=%s", g_addr, db);
    expect(NULL, a, 0);
}

static void test_coinhound_db_serves_every_command_intel_included(void **state) {
    (void)state;
    char env[2048], a[1024];
    snprintf(env, sizeof env, "COINHOUND_DB='%s'", g_chain.db);
    expect(env, "status", 0);
    expect(env, "intel stats", 0);
    snprintf(a, sizeof a, "address %s", g_addr);
    expect(env, a, 0);
    /* neither: the same message from every command */
    char *out;
    assert_int_equal(run("COINHOUND_DB=", "intel stats", &out), 2);
    assert_non_null(strstr(out, "no database: give --db DIR or set COINHOUND_DB"));
    free(out);
    assert_int_equal(run("COINHOUND_DB=", "status", &out), 2);
    assert_non_null(strstr(out, "no database: give --db DIR or set COINHOUND_DB"));
    free(out);
}

static void test_one_chain_rule(void **state) {
    (void)state;
    char a[2048], *out;
    /* a 0x argument names an account chain: this directory holds only btc */
    snprintf(a, sizeof a, "block 0x%064d --db %s", 0, g_chain.db);
    assert_int_equal(run(NULL, a, &out), 2);
    assert_non_null(strstr(out, "eth"));
    free(out);
    snprintf(a, sizeof a, "address 0x%040d --db %s", 1, g_chain.db);
    assert_int_equal(run(NULL, a, &out), 2);
    assert_non_null(strstr(out, "eth"));
    free(out);
    /* --chain decides over the form */
    snprintf(a, sizeof a, "block 1 --db %s --chain btc", g_chain.db);
    expect(NULL, a, 0);
    snprintf(a, sizeof a, "tx %s --db %s --chain eth", g_txid, g_chain.db);
    assert_int_equal(run(NULL, a, &out), 2);
    assert_non_null(strstr(out, "eth"));
    free(out);
}

/* trace, cluster, poison, status and screen open their store through the
 * one opener: an 0x argument (either case of the x) reads DIR/eth, which
 * this directory does not hold, and the refusal names it; --chain decides
 * over the form; $COINHOUND_DB serves them all, screen included. */
static void test_every_store_reader_follows_the_one_chain_rule(void **state) {
    (void)state;
    char a[2048], env[2048], *out;
    const char *eth_args[] = {"trace --from 0X%064d --db %s", "cluster 0x%040d --db %s",
                              "poison 0x%040d --db %s"};
    for (size_t i = 0; i < sizeof eth_args / sizeof eth_args[0]; i++) {
        snprintf(a, sizeof a, eth_args[i], 1, g_chain.db);
        int st = run(NULL, a, &out);
        if (st != 2 || !strstr(out, "(chain eth)")) fail_msg("'%s': exit %d, said: %s", a, st, out);
        free(out);
    }
    snprintf(a, sizeof a, "status --db %s --chain eth", g_chain.db);
    assert_int_equal(run(NULL, a, &out), 2);
    assert_non_null(strstr(out, "(chain eth)"));
    free(out);
    snprintf(a, sizeof a, "trace --from %s --db %s --chain btc --json", g_txid, g_chain.db);
    expect(NULL, a, 0);
    /* the environment's database, read in one place */
    snprintf(env, sizeof env, "COINHOUND_DB='%s'", g_chain.db);
    snprintf(a, sizeof a, "trace --from %s", g_txid);
    expect(env, a, 0);
    snprintf(a, sizeof a, "cluster %s", g_addr);
    expect(env, a, 0);
    snprintf(a, sizeof a, "screen %s", g_addr);
    expect(env, a, 0);
    assert_int_equal(run("COINHOUND_DB=", a, &out), 2);
    assert_non_null(strstr(out, "nothing to screen against"));
    free(out);
}

static json_t *run_json(const char *args) {
    char *out;
    int st = run(NULL, args, &out);
    if (st != 0) fail_msg("'%s': exit %d: %s", args, st, out);
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    if (!j) fail_msg("'%s': not JSON: %s", args, out);
    free(out);
    return j;
}

static void test_cluster_limit_limits_labels(void **state) {
    (void)state;
    char a[4096], csv[2048];
    snprintf(csv, sizeof csv, "%s/three.csv", g_chain.db);
    FILE *f = fopen(csv, "w");
    assert_non_null(f);
    fprintf(f, "address,category,entity\n%s,exchange,One\n%s,mixer,Two\n%s,scam,Three\n", g_addr,
            g_addr, g_addr);
    fclose(f);
    snprintf(a, sizeof a, "cluster build --db %s", g_chain.db);
    expect(NULL, a, 0);
    snprintf(a, sizeof a, "cluster %s --db %s --labels %s --json --limit 0", g_addr, g_chain.db,
             csv);
    json_t *all = run_json(a);
    size_t n = json_array_size(json_object_get(all, "labels"));
    assert_true(n >= 3);
    assert_int_equal(json_integer_value(json_object_get(all, "labels_count")), n);
    assert_false(json_is_true(json_object_get(all, "labels_truncated")));
    snprintf(a, sizeof a, "cluster %s --db %s --labels %s --json --limit 2", g_addr, g_chain.db,
             csv);
    json_t *two = run_json(a);
    assert_int_equal(json_array_size(json_object_get(two, "labels")), 2);
    assert_int_equal(json_integer_value(json_object_get(two, "labels_count")), n);
    assert_true(json_is_true(json_object_get(two, "labels_truncated")));
    /* the address's own labels come first */
    assert_true(
        json_is_true(json_object_get(json_array_get(json_object_get(two, "labels"), 0), "direct")));
    json_decref(all);
    json_decref(two);
    snprintf(a, sizeof a, "cluster %s --db %s --labels %s --limit 1", g_addr, g_chain.db, csv);
    char *out;
    assert_int_equal(run(NULL, a, &out), 0);
    assert_non_null(strstr(out, "more labels (--limit 0 shows all)"));
    free(out);
}

static void test_decode_and_intel_parse_like_every_command(void **state) {
    (void)state;
    char *out;
    /* unknown options are refused by name; --opt=VALUE is an option */
    assert_int_equal(run(NULL, "decode --bogus x", &out), 2);
    assert_non_null(strstr(out, "--bogus"));
    free(out);
    assert_int_equal(run(NULL, "intel stats --bogus", &out), 2);
    assert_non_null(strstr(out, "--bogus"));
    free(out);
    assert_int_equal(run(NULL, "intel import --as-of=2024-02-30 x --db /nonexistent", &out), 2);
    assert_non_null(strstr(out, "--as-of wants a date"));
    free(out);
    assert_int_equal(run(NULL, "intel stats --db", &out), 2);
    assert_non_null(strstr(out, "needs a value"));
    free(out);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_command_takes_db_equals_dir),
        cmocka_unit_test(test_coinhound_db_serves_every_command_intel_included),
        cmocka_unit_test(test_one_chain_rule),
        cmocka_unit_test(test_every_store_reader_follows_the_one_chain_rule),
        cmocka_unit_test(test_cluster_limit_limits_labels),
        cmocka_unit_test(test_decode_and_intel_parse_like_every_command),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
