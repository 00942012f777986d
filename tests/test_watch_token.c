/* An ERC-20 on a real node (anvil), alerted by the watcher. The token is
 * this file's own: a minimal ERC-20 (balanceOf, transfer, the Transfer
 * event, a mint to the deployer) written here in EVM assembly and put
 * together by the small two-pass assembler below; no compiler, no copied
 * contract. The node itself is the oracle that the bytecode is a token:
 * balanceOf through eth_call after each transfer, and the receipts' logs.
 * The claims: a large_transfer rule with the token as its asset and an
 * address rule see the token's transfers (kind "token", the contract as the
 * asset, the amount in the token's base units), a transfer below the
 * minimum raises nothing, and a transfer that reverts (more than the
 * sender holds) moves nothing and raises nothing. Skipped, saying why, when
 * anvil is absent. */
#include "support/testutil.h"
#include "support/anvil.h"

#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a two-pass EVM assembler ----
 * Items: an opcode name ("CALLER"), "PUSHn:hex" (n bytes), "@label" (PUSH2
 * of the label's offset within the runtime section), "label:" (a JUMPDEST
 * there), "=runtime_len" and "=runtime_start" (PUSH2 placeholders the
 * caller patches), "#runtime" (the runtime section starts here). */

typedef struct op {
    const char *name;
    uint8_t code;
} op;

static const op OPS[] = {
    {"STOP", 0x00},      {"ADD", 0x01},          {"SUB", 0x03},      {"LT", 0x10},
    {"EQ", 0x14},        {"ISZERO", 0x15},       {"SHR", 0x1c},      {"CALLER", 0x33},
    {"CALLVALUE", 0x34}, {"CALLDATALOAD", 0x35}, {"CODECOPY", 0x39}, {"POP", 0x50},
    {"MSTORE", 0x52},    {"SLOAD", 0x54},        {"SSTORE", 0x55},   {"JUMPI", 0x57},
    {"JUMPDEST", 0x5b},  {"DUP1", 0x80},         {"DUP2", 0x81},     {"DUP3", 0x82},
    {"SWAP1", 0x90},     {"LOG3", 0xa3},         {"RETURN", 0xf3},   {"REVERT", 0xfd},
};

typedef struct asm_out {
    uint8_t code[1024];
    size_t n;
    size_t runtime; /* offset of "#runtime" */
    char labels[32][32];
    size_t at[32];
    size_t n_labels;
} asm_out;

static size_t label_at(const asm_out *a, const char *name, int pass) {
    for (size_t i = 0; i < a->n_labels; i++)
        if (!strcmp(a->labels[i], name)) return a->at[i];
    if (pass == 2) fail_msg("assembler: no label %s", name);
    return 0;
}

static void emit_hex(asm_out *a, const char *hex, size_t bytes) {
    size_t len = strlen(hex);
    assert_true(len <= bytes * 2);
    for (size_t i = 0; i < bytes; i++) { /* right-aligned, zero-filled */
        size_t from = bytes * 2 - len;
        unsigned v = 0;
        for (int k = 0; k < 2; k++) {
            size_t pos = i * 2 + (size_t)k;
            char c = pos < from ? '0' : hex[pos - from];
            v = v * 16 + (unsigned)(c <= '9' ? c - '0' : (c | 32) - 'a' + 10);
        }
        a->code[a->n++] = (uint8_t)v;
    }
}

/* Labels in the runtime section are offsets within it (the runtime code is
 * copied to address 0 of the new contract). */
static void assemble(const char *const *items, asm_out *a) {
    for (int pass = 1; pass <= 2; pass++) {
        a->n = 0;
        a->runtime = 0;
        for (const char *const *it = items; *it; it++) {
            const char *s = *it;
            size_t len = strlen(s);
            if (!strcmp(s, "#runtime")) {
                a->runtime = a->n;
            } else if (s[len - 1] == ':') {
                if (pass == 1) {
                    assert_true(a->n_labels < 32);
                    snprintf(a->labels[a->n_labels], 32, "%.*s", (int)len - 1, s);
                    a->at[a->n_labels++] = a->n - a->runtime;
                }
                a->code[a->n++] = 0x5b;
            } else if (s[0] == '@' || s[0] == '=') {
                /* "=..." is patched by the caller once the sizes are known */
                size_t v = s[0] == '@' ? label_at(a, s + 1, pass) : 0;
                a->code[a->n++] = 0x61; /* PUSH2 */
                a->code[a->n++] = (uint8_t)(v >> 8);
                a->code[a->n++] = (uint8_t)v;
            } else if (!strncmp(s, "PUSH", 4) && strchr(s, ':')) {
                size_t bytes = (size_t)atoi(s + 4);
                assert_true(bytes >= 1 && bytes <= 32);
                a->code[a->n++] = (uint8_t)(0x5f + bytes);
                emit_hex(a, strchr(s, ':') + 1, bytes);
            } else {
                size_t k = 0;
                while (k < sizeof OPS / sizeof *OPS && strcmp(OPS[k].name, s))
                    k++;
                if (k == sizeof OPS / sizeof *OPS) fail_msg("assembler: unknown opcode %s", s);
                a->code[a->n++] = OPS[k].code;
            }
            assert_true(a->n < sizeof a->code - 40);
        }
    }
}

#define TRANSFER_TOPIC "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
#define SUPPLY         "d3c21bcecceda1000000" /* 10^24 base units */

/* The token: storage slot = the holder's address, value = its balance. */
static const char *const TOKEN[] = {
    /* constructor: the whole supply to the deployer, with its mint event */
    "PUSH32:" SUPPLY, "CALLER", "SSTORE", "PUSH32:" SUPPLY, "PUSH1:00", "MSTORE", "CALLER",
    "PUSH1:00", "PUSH32:" TRANSFER_TOPIC, "PUSH1:20", "PUSH1:00", "LOG3",
    /* copy the runtime (from its start to its end) to memory and return it */
    "=runtime_len", "DUP1", "=runtime_start", "PUSH1:00", "CODECOPY", "PUSH1:00", "RETURN",
    "#runtime",
    /* dispatch on the selector */
    "PUSH1:00", "CALLDATALOAD", "PUSH1:e0", "SHR", "DUP1", "PUSH4:a9059cbb", "EQ", "@transfer",
    "JUMPI", "DUP1", "PUSH4:70a08231", "EQ", "@balance", "JUMPI", "PUSH1:00", "DUP1", "REVERT",
    /* transfer(to, amount): the sender's balance at least amount, else revert */
    "transfer:", "POP", "PUSH1:24", "CALLDATALOAD", "CALLER", "SLOAD", "DUP2", "DUP2", "LT",
    "@fail", "JUMPI", "DUP2", "SWAP1", "SUB", "CALLER", "SSTORE", "PUSH1:04", "CALLDATALOAD",
    "DUP1", "SLOAD", "DUP3", "ADD", "SWAP1", "SSTORE", "PUSH1:00", "MSTORE", "PUSH1:04",
    "CALLDATALOAD", "CALLER", "PUSH32:" TRANSFER_TOPIC, "PUSH1:20", "PUSH1:00", "LOG3", "PUSH1:01",
    "PUSH1:00", "MSTORE", "PUSH1:20", "PUSH1:00", "RETURN", "fail:", "PUSH1:00", "DUP1", "REVERT",
    /* balanceOf(holder) */
    "balance:", "POP", "PUSH1:04", "CALLDATALOAD", "SLOAD", "PUSH1:00", "MSTORE", "PUSH1:20",
    "PUSH1:00", "RETURN", NULL};

/* The deployable code as hex ("0x..."), caller frees. The runtime's length
 * and offset are patched in after assembly. */
static char *token_code(void) {
    asm_out a;
    memset(&a, 0, sizeof a);
    /* pass 1 and 2 with start/end unknown (0), then patch them */
    assemble(TOKEN, &a);
    size_t start = a.runtime, len = a.n - a.runtime;
    /* the two PUSH2 of the constructor: "=runtime_len" then "=runtime_start" */
    int patched = 0;
    for (size_t i = 0; i + 2 < start && patched < 2; i++) {
        if (a.code[i] == 0x61 && a.code[i + 1] == 0 && a.code[i + 2] == 0) {
            size_t v = patched == 0 ? len : start;
            a.code[i + 1] = (uint8_t)(v >> 8);
            a.code[i + 2] = (uint8_t)v;
            patched++;
            i += 2;
        } else if (a.code[i] >= 0x60 && a.code[i] <= 0x7f) {
            i += (size_t)(a.code[i] - 0x5f); /* skip push data */
        }
    }
    assert_int_equal(patched, 2);
    char *hex = malloc(2 * a.n + 3);
    strcpy(hex, "0x");
    for (size_t i = 0; i < a.n; i++)
        snprintf(hex + 2 + 2 * i, 3, "%02x", a.code[i]);
    return hex;
}

static char *call_data(const char *selector, const char *addr, const char *amount_hex) {
    char *d = malloc(2 + 8 + 64 + 64 + 1);
    snprintf(d, 2 + 8 + 64 + 1, "0x%s%064d", selector, 0);
    if (addr) memcpy(d + 2 + 8 + 24, addr + 2, 40);
    if (amount_hex) {
        size_t n = strlen(amount_hex);
        char word[65];
        memset(word, '0', 64);
        memcpy(word + 64 - n, amount_hex, n);
        word[64] = 0;
        strcat(d, word);
    }
    return d;
}

/* eth_sendTransaction with data; the receipt (caller decrefs). */
static json_t *send_data(const fx *f, const char *from, const char *to, const char *data) {
    json_t *tx = json_pack("{s:s,s:s,s:s}", "from", from, "data", data, "gas", "0x100000");
    if (to) json_object_set_new(tx, "to", json_string(to));
    json_t *h = an_rpc(f, "eth_sendTransaction", json_pack("[o]", tx));
    assert_non_null(h);
    json_t *r = NULL;
    for (int i = 0; i < 100 && !r; i++) {
        r = an_rpc(f, "eth_getTransactionReceipt", json_pack("[O]", h));
        if (!r || json_is_null(r)) {
            json_decref(r);
            r = NULL;
            an_msleep(50);
        }
    }
    json_decref(h);
    assert_non_null(r);
    return r;
}

/* balanceOf(holder) through eth_call: the answer's last 16 hex digits,
 * and whether the digits above them are all zero. */
static unsigned long long balance_of(const fx *f, const char *token, const char *holder,
                                     bool *fits) {
    char *d = call_data("70a08231", holder, NULL);
    json_t *r = an_rpc(f, "eth_call", json_pack("[{s:s,s:s},s]", "to", token, "data", d, "latest"));
    free(d);
    assert_non_null(r);
    const char *w = json_string_value(r);
    assert_int_equal(strlen(w), 66);
    *fits = strspn(w + 2, "0") >= 48;
    unsigned long long v = strtoull(w + 2 + 48, NULL, 16);
    json_decref(r);
    return v;
}

static unsigned long long small_balance(const fx *f, const char *token, const char *holder) {
    bool fits;
    unsigned long long v = balance_of(f, token, holder, &fits);
    assert_true(fits);
    return v;
}

static json_t *alerts_of(json_t *alerts, const char *rule) {
    json_t *out = json_array(), *a;
    size_t i;
    json_array_foreach(alerts, i, a) if (!strcmp(json_string_value(json_object_get(a, "rule")),
                                                 rule)) json_array_append(out, a);
    return out;
}

static void test_a_hand_assembled_erc20_is_alerted_by_token_rules(void **state) {
    (void)state;
    static fx f;
    if (!an_setup(&f)) skip();
    /* deploy before the watcher knows the token's address */
    char *code = token_code();
    json_t *rc = send_data(&f, ACCT0, NULL, code);
    free(code);
    assert_string_equal(json_string_value(json_object_get(rc, "status")), "0x1");
    char token[43];
    snprintf(token, sizeof token, "%s", json_string_value(json_object_get(rc, "contractAddress")));
    for (char *p = token; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'F' ? *p | 32 : *p);
    assert_int_equal(json_array_size(json_object_get(rc, "logs")), 1); /* the mint */
    json_decref(rc);
    /* the node says it is a token: the supply (10^24) is the deployer's */
    bool fits;
    assert_true(balance_of(&f, token, ACCT0, &fits) == 0x1bcecceda1000000ULL && !fits);
    char rules[1024];
    snprintf(rules, sizeof rules,
             "rules:\n"
             "  - name: thief-moves\n"
             "    kind: address\n"
             "    addresses: [" THIEF "]\n"
             "    severity: high\n"
             "  - name: big-token\n"
             "    kind: large_transfer\n"
             "    asset: %s\n"
             "    min: \"5000\"\n",
             token);
    an_write_file(f.rules, rules);
    an_start_watcher(&f, NULL);
    /* 5000 units to the thief (both rules), 10 units elsewhere (none), the
     * thief sending 6000 it does not have (reverts: nothing moves) */
    char *d1 = call_data("a9059cbb", THIEF, "1388");
    json_t *r1 = send_data(&f, ACCT0, token, d1);
    char *d2 = call_data("a9059cbb", ACCT2, "a");
    json_t *r2 = send_data(&f, ACCT0, token, d2);
    char *d3 = call_data("a9059cbb", ACCT3, "1770");
    json_t *r3 = send_data(&f, THIEF, token, d3);
    assert_string_equal(json_string_value(json_object_get(r1, "status")), "0x1");
    assert_string_equal(json_string_value(json_object_get(r2, "status")), "0x1");
    assert_string_equal(json_string_value(json_object_get(r3, "status")), "0x0");
    assert_true(small_balance(&f, token, THIEF) == 5000);
    assert_true(small_balance(&f, token, ACCT2) == 10);
    assert_true(small_balance(&f, token, ACCT3) == 0);
    json_t *all = an_wait_alerts(&f, 3, 20000);
    an_msleep(800);
    json_decref(all);
    all = an_read_alerts(f.alerts);
    json_t *thief = alerts_of(all, "thief-moves"), *big = alerts_of(all, "big-token");
    /* the thief's alert: the transfer to it, and not its failed send (the
     * gas it paid is no movement of funds) */
    assert_int_equal(json_array_size(thief), 1);
    /* big-token: the mint at deployment (the watcher started on an empty
     * store, so it evaluated every block), then the 5000 */
    assert_int_equal(json_array_size(big), 2);
    json_t *mint = json_array_get(big, 0);
    assert_string_equal(an_s_of(mint, "amount"), "1000000000000000000000000");
    assert_true(json_is_null(json_object_get(mint, "from")) ||
                !strcmp(an_s_of(mint, "from"), "0x0000000000000000000000000000000000000000"));
    assert_string_equal(an_s_of(mint, "to"), ACCT0);
    const char *tx1 = json_string_value(json_object_get(r1, "transactionHash"));
    for (int k = 0; k < 2; k++) {
        json_t *a = json_array_get(thief, 0);
        if (k) a = json_array_get(big, 1);
        assert_string_equal(an_s_of(a, "tx"), tx1);
        assert_string_equal(an_s_of(a, "asset"), token);
        assert_string_equal(an_s_of(a, "amount"), "5000");
        assert_string_equal(an_s_of(json_object_get(a, "transfer"), "kind"), "token");
        assert_string_equal(an_s_of(a, "from"), ACCT0);
        assert_string_equal(an_s_of(a, "to"), THIEF);
        /* every alert says what to do, and sums itself up in one line */
        assert_true(strlen(an_s_of(a, "action")) > 20);
        assert_non_null(strstr(an_s_of(a, "summary"), "5000 base units of 0x"));
        assert_int_equal(json_integer_value(json_object_get(a, "height")),
                         strtoll(json_string_value(json_object_get(r1, "blockNumber")), NULL, 16));
    }
    assert_int_equal(json_array_size(all), 3);
    assert_int_equal(an_stop_watcher(&f), 0);
    json_decref(thief), json_decref(big), json_decref(all);
    json_decref(r1), json_decref(r2), json_decref(r3);
    free(d1), free(d2), free(d3);
    an_teardown(&f);
}

int main(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_a_hand_assembled_erc20_is_alerted_by_token_rules,
                                  an_end_processes),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
