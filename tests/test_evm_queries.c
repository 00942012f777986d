/* `coinhound tx` and `coinhound address` on an account chain, against the
 * generator's own record of the drain it planted (theft.json). */
#include "support/testutil.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *g_dir;
static char g_ch[1024];

static json_t *run_json(const char *args, int want_status) {
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "%s %s --db %s/db --json", g_ch, args, g_dir);
    int st;
    char *out = tu_run(cmd, &st);
    assert_int_equal(st, want_status);
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    if (!j) fail_msg("not JSON (%s): %s", je.text, out);
    free(out);
    return j;
}

static int setup(void **state) {
    (void)state;
    g_dir = tu_tmpdir();
    char gen[1024], cmd[8192];
    snprintf(gen, sizeof gen, "%s", tu_bin("coinhound-evmgen"));
    snprintf(g_ch, sizeof g_ch, "%s", tu_bin("coinhound"));
    snprintf(cmd, sizeof cmd,
             "%s --out %s/evm --transfers 6000 --theft --seed 3 >/dev/null && "
             "%s ingest eth %s/evm --db %s/db --no-progress >/dev/null",
             gen, g_dir, g_ch, g_dir, g_dir);
    int st;
    free(tu_run(cmd, &st));
    return st;
}

static int teardown(void **state) {
    (void)state;
    tu_rmrf(g_dir);
    free(g_dir);
    return 0;
}

static json_t *theft(void) {
    char p[4096];
    snprintf(p, sizeof p, "%s/evm/theft.json", g_dir);
    json_error_t je;
    json_t *t = json_load_file(p, 0, &je);
    assert_non_null(t);
    return t;
}

/* The drain tx: success, and a native transfer of the drained ETH to the
 * exploiter. */
static void test_tx(void **state) {
    (void)state;
    json_t *t = theft(), *th = json_object_get(t, "theft");
    const char *exploiter = json_string_value(json_object_get(th, "exploiter"));
    json_t *drains = json_object_get(th, "drains");
    size_t checked = 0;
    for (size_t i = 0; i < json_array_size(drains); i++) {
        json_t *d = json_array_get(drains, i);
        if (strcmp(json_string_value(json_object_get(d, "asset")), "native") != 0) continue;
        char args[512];
        snprintf(args, sizeof args, "tx %s", json_string_value(json_object_get(d, "tx")));
        json_t *j = run_json(args, 0);
        assert_string_equal(json_string_value(json_object_get(j, "status")), "success");
        json_t *xs = json_object_get(j, "transfers");
        bool found = false;
        for (size_t k = 0; k < json_array_size(xs); k++) {
            json_t *x = json_array_get(xs, k);
            if (!strcmp(json_string_value(json_object_get(x, "kind")), "native") &&
                !strcmp(json_string_value(json_object_get(x, "to")), exploiter) &&
                !strcmp(json_string_value(json_object_get(x, "value")),
                        json_string_value(json_object_get(d, "amount"))))
                found = true;
        }
        assert_true(found);
        json_decref(j);
        checked++;
    }
    assert_int_equal(checked, 1);
    /* absent and malformed hashes */
    json_decref(t);
    char cmd[8192];
    int st;
    snprintf(cmd, sizeof cmd, "%s tx 0x%064d --db %s/db 2>&1", g_ch, 0, g_dir);
    free(tu_run(cmd, &st));
    assert_int_equal(st, 1);
    snprintf(cmd, sizeof cmd, "%s tx 0x1234 --db %s/db 2>&1", g_ch, g_dir);
    free(tu_run(cmd, &st));
    assert_int_equal(st, 2);
}

/* The exploiter received exactly the drained amounts, per asset, with the
 * token table's symbols. */
static void test_address(void **state) {
    (void)state;
    json_t *t = theft(), *th = json_object_get(t, "theft");
    const char *exploiter = json_string_value(json_object_get(th, "exploiter"));
    char args[8192];
    snprintf(args, sizeof args, "address %s --tokens %s/evm/tokens.csv", exploiter, g_dir);
    json_t *j = run_json(args, 0);
    json_t *bals = json_object_get(j, "balances"), *drains = json_object_get(th, "drains");
    assert_int_equal(json_array_size(bals), json_array_size(drains));
    for (size_t i = 0; i < json_array_size(drains); i++) {
        json_t *d = json_array_get(drains, i);
        const char *asset = json_string_value(json_object_get(d, "asset"));
        json_t *b = NULL;
        for (size_t k = 0; k < json_array_size(bals); k++)
            if (!strcmp(json_string_value(json_object_get(json_array_get(bals, k), "asset")),
                        asset))
                b = json_array_get(bals, k);
        assert_non_null(b);
        assert_string_equal(json_string_value(json_object_get(b, "received")),
                            json_string_value(json_object_get(d, "amount")));
        assert_string_equal(json_string_value(json_object_get(b, "symbol")),
                            json_string_value(json_object_get(d, "symbol")));
    }
    json_decref(j);
    json_decref(t);
    /* a mistyped EIP-55 address is refused, never answered */
    char cmd[8192];
    int st;
    snprintf(cmd, sizeof cmd,
             "%s address 0x098B716B8Aaf21512996dC57EB0615e2383E2f97 --db %s/db 2>&1", g_ch, g_dir);
    char *out = tu_run(cmd, &st);
    assert_int_equal(st, 2);
    assert_non_null(strstr(out, "checksum"));
    free(out);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tx),
        cmocka_unit_test(test_address),
    };
    return cmocka_run_group_tests_name("evm_queries", tests, setup, teardown);
}
