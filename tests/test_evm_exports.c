/* Real EVM exports through `coinhound ingest eth` and the account queries,
 * as a new user feeds them: traces alone, receipts alone, folders holding
 * both JSON-RPC responses and ETL exports, token transfers apart from their
 * transactions, withdrawals and rewards.
 *
 * Oracles: ethereum-etl's recorded responses and the CSV/JSON it exported
 * from them (read in place from the fixtures, compared field by field), and
 * small JSON-RPC documents written here in the layout of those responses,
 * whose expected answers are worked out by hand in each test. */
#include "support/testutil.h"

#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RES       "eth/ethereum-etl/tests/resources/"
#define STREAM17  RES "test_stream/blocks_17173049_17173050"
#define WITHDRAWS RES "test_export_blocks_job/blocks_with_transactions_and_withdrawals"
#define TRACES    RES "test_export_traces_job/"

/* --- helpers ------------------------------------------------------------- */

/* An absolute path of a fixture (symlinks made in a temp dir must not
 * dangle), or NULL when absent. Caller frees. */
static char *fixture_abs(const char *rel) {
    const char *p = tu_fixture(rel);
    return p ? realpath(p, NULL) : NULL;
}

static void write_text(const char *dir, const char *name, const char *text) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static void link_in(const char *dir, const char *name, const char *target) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    assert_int_equal(symlink(target, path), 0);
}

static char *subdir(const char *dir, const char *name) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    assert_int_equal(mkdir(path, 0700), 0);
    return strdup(path);
}

/* Run the CLI (stderr merged); *status gets its exit code. Caller frees. */
__attribute__((format(printf, 2, 3))) static char *cli(int *status, const char *fmt, ...) {
    char args[16384], cmd[17000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "'%s' %s 2>&1", tu_bin("coinhound"), args);
    char *out = tu_run(cmd, status);
    assert_non_null(out);
    return out;
}

/* The CLI's output as JSON; the command must succeed. */
__attribute__((format(printf, 1, 2))) static json_t *cli_json(const char *fmt, ...) {
    char args[16384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    int st;
    char *out = cli(&st, "%s", args);
    if (st != 0) fail_msg("coinhound %s: exit %d: %s", args, st, out);
    json_error_t je;
    json_t *j = json_loads(out, JSON_DECODE_INT_AS_REAL, &je);
    if (!j) fail_msg("coinhound %s: not JSON (%s): %s", args, je.text, out);
    free(out);
    return j;
}

static void ingest_ok(const char *db, const char *sources) {
    int st;
    char *out = cli(&st, "ingest eth %s --db '%s' --no-progress", sources, db);
    if (st != 0) fail_msg("ingest %s: exit %d: %s", sources, st, out);
    free(out);
}

static const char *js(json_t *o, const char *key) {
    return json_string_value(json_object_get(o, key));
}

static double jn(json_t *o, const char *key) {
    return json_number_value(json_object_get(o, key));
}

/* The lines of a JSON lines file (integers as doubles: values pass 2^63). */
static json_t *load_lines(const char *path) {
    size_t len;
    char *text = (char *)tu_read_file(path, &len);
    assert_non_null(text);
    json_t *arr = json_array();
    for (char *line = text, *end; line < text + len; line = end + 1) {
        end = memchr(line, '\n', (size_t)(text + len - line));
        if (!end) end = text + len;
        if (end == line) continue;
        json_t *v = json_loadb(line, (size_t)(end - line), JSON_DECODE_INT_AS_REAL, NULL);
        assert_non_null(v);
        json_array_append_new(arr, v);
    }
    free(text);
    return arr;
}

/* --- hand-made JSON-RPC documents in the layout of the recorded ones ----- */

static const char ZERO_HASH[] =
    "0x0000000000000000000000000000000000000000000000000000000000000000";

/* "0x" + 64 hex digits made from a tag: hashes of made-up blocks and txs. */
static const char *mkhash(char out[67], unsigned tag) {
    snprintf(out, 67, "0x%064x", tag);
    return out;
}

/* A block response (eth_getBlockByNumber(n, true)) with the given
 * transactions and withdrawals (JSON arrays as text). */
static void block_doc(char *out, size_t cap, unsigned number, unsigned parent, const char *txs,
                      const char *withdrawals) {
    char h[67], p[67];
    snprintf(out, cap,
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"number\":\"0x%x\",\"hash\":\"%s\","
             "\"parentHash\":\"%s\",\"timestamp\":\"0x%x\",\"miner\":"
             "\"0x00000000000000000000000000000000000000aa\",\"gasUsed\":\"0x5208\","
             "\"gasLimit\":\"0x1c9c380\",\"baseFeePerGas\":\"0x7\",\"transactions\":%s%s%s}}\n",
             number, mkhash(h, 0xb000 + number), parent ? mkhash(p, 0xb000 + parent) : ZERO_HASH,
             1700000000 + number * 12, txs, withdrawals ? ",\"withdrawals\":" : "",
             withdrawals ? withdrawals : "");
}

/* One transaction object of a block response. */
static void tx_obj(char *out, size_t cap, unsigned block, unsigned tag, unsigned index,
                   const char *from, const char *to, const char *value_hex) {
    char h[67];
    snprintf(out, cap,
             "{\"hash\":\"%s\",\"transactionIndex\":\"0x%x\",\"blockNumber\":\"0x%x\","
             "\"nonce\":\"0x1\",\"from\":\"%s\",\"to\":\"%s\",\"value\":\"%s\",\"gas\":\"0x5208\","
             "\"gasPrice\":\"0x3b9aca00\",\"input\":\"0x\",\"type\":\"0x0\"}",
             mkhash(h, tag), index, block, from, to, value_hex);
}

/* An eth_getTransactionReceipt response. */
static void receipt_doc(char *out, size_t cap, unsigned block, unsigned tag, unsigned index,
                        int status) {
    char h[67], b[67];
    snprintf(out, cap,
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"blockHash\":\"%s\",\"blockNumber\":"
             "\"0x%x\",\"contractAddress\":null,\"cumulativeGasUsed\":\"0x5208\","
             "\"effectiveGasPrice\":\"0x3b9aca00\",\"gasUsed\":\"0x5208\",\"logs\":[],"
             "\"status\":\"0x%x\",\"transactionHash\":\"%s\",\"transactionIndex\":\"0x%x\","
             "\"type\":\"0x0\"}}\n",
             mkhash(b, 0xb000 + block), block, status, mkhash(h, tag), index);
}

#define ADDR_A "0x1111111111111111111111111111111111111111"
#define ADDR_B "0x2222222222222222222222222222222222222222"
#define ADDR_R "0x3333333333333333333333333333333333333333"
#define ADDR_W "0x4444444444444444444444444444444444444444"
#define ADDR_M "0x5555555555555555555555555555555555555555"

/* --- status ------------------------------------------------------------- */

/* The tip of an account chain is its block number and its 0x hash as the
 * chain writes it (ethereum-etl's expected_blocks.json), in JSON and text. */
static void test_status_names_tip_by_number_and_0x_hash(void **state) {
    (void)state;
    char *dir = fixture_abs(STREAM17);
    if (!dir) skip();
    char *db = tu_tmpdir();
    char src[4200];
    snprintf(src, sizeof src, "'%s'", dir);
    ingest_ok(db, src);
    snprintf(src, sizeof src, "%s/expected_blocks.json", dir);
    json_t *blocks = load_lines(src);
    json_t *last = json_array_get(blocks, json_array_size(blocks) - 1);

    json_t *j = cli_json("status --db '%s' --chain eth --json", db);
    assert_int_equal((long long)jn(j, "tip_height"), (long long)jn(last, "number"));
    assert_string_equal(js(j, "tip_hash"), js(last, "hash"));
    assert_int_equal((long long)jn(j, "blocks"), 2);
    json_decref(j);
    int st;
    char *text = cli(&st, "status --db '%s' --chain eth", db);
    assert_int_equal(st, 0);
    char want[200];
    snprintf(want, sizeof want, "tip        %.0f %s\n", jn(last, "number"), js(last, "hash"));
    if (!strstr(text, want)) fail_msg("'%s' lacks '%s'", text, want);
    free(text);
    json_decref(blocks);
    tu_rmrf(db);
    free(db);
    free(dir);
}

/* --- first and last seen ------------------------------------------------- */

/* Hand-made: block 100 A pays B; block 101 a withdrawal to W; block 102 a
 * withdrawal to A and the block reward to M (a trace_block reward). So W is
 * seen at 101 only, A from 100 to 102, M at 102 only. */
static void test_first_last_seen_count_withdrawals_and_rewards(void **state) {
    (void)state;
    char *dir = tu_tmpdir(), *db = tu_tmpdir();
    char doc[8192], tx[1024], txs[1100], all[32768] = "";
    tx_obj(tx, sizeof tx, 100, 0x7001, 0, ADDR_A, ADDR_B, "0xde0b6b3a7640000");
    snprintf(txs, sizeof txs, "[%s]", tx);
    block_doc(doc, sizeof doc, 100, 0, txs, "[]");
    strcat(all, doc);
    block_doc(doc, sizeof doc, 101, 100, "[]",
              "[{\"index\":\"0x1\",\"validatorIndex\":\"0x9\",\"address\":\"" ADDR_W
              "\",\"amount\":\"0x2b9b5b3\"}]");
    strcat(all, doc);
    block_doc(doc, sizeof doc, 102, 101, "[]",
              "[{\"index\":\"0x2\",\"validatorIndex\":\"0x9\",\"address\":\"" ADDR_A
              "\",\"amount\":\"0x1\"}]");
    strcat(all, doc);
    write_text(dir, "blocks.jsonl", all);
    char h[67];
    snprintf(doc, sizeof doc,
             "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":[{\"action\":{\"author\":\"" ADDR_M
             "\",\"rewardType\":\"block\",\"value\":\"0x1bc16d674ec80000\"},\"blockHash\":\"%s\","
             "\"blockNumber\":102,\"result\":null,\"subtraces\":0,\"traceAddress\":[],"
             "\"type\":\"reward\"}]}\n",
             mkhash(h, 0xb000 + 102));
    write_text(dir, "web3_response.trace_block_0x66.json", doc);
    char src[4200];
    snprintf(src, sizeof src, "'%s'", dir);
    ingest_ok(db, src);

    static const struct {
        const char *addr;
        double first, last;
    } WANT[] = {{ADDR_W, 101, 101}, {ADDR_A, 100, 102}, {ADDR_M, 102, 102}, {ADDR_B, 100, 100}};
    for (size_t i = 0; i < sizeof WANT / sizeof WANT[0]; i++) {
        json_t *j = cli_json("address %s --db '%s' --chain eth --json", WANT[i].addr, db);
        if (jn(j, "first_seen") != WANT[i].first || jn(j, "last_seen") != WANT[i].last)
            fail_msg("%s: first %.0f last %.0f, expected %.0f..%.0f", WANT[i].addr,
                     jn(j, "first_seen"), jn(j, "last_seen"), WANT[i].first, WANT[i].last);
        json_decref(j);
    }
    tu_rmrf(dir);
    tu_rmrf(db);
    free(dir);
    free(db);
}

/* Real withdrawals (blocks 17,173,049-17,173,050): every address a
 * withdrawal pays is first and last seen where the export says it was,
 * counting its withdrawals and its transactions (worked out here from the
 * expected files). */
static void test_first_last_seen_real_withdrawals(void **state) {
    (void)state;
    char *src = fixture_abs(WITHDRAWS);
    if (!src) skip();
    char *dir = tu_tmpdir(), *db = tu_tmpdir();
    char p[4200], q[4200];
    snprintf(p, sizeof p, "%s/expected_blocks.json", src);
    link_in(dir, "blocks.json", p);
    snprintf(q, sizeof q, "%s/expected_transactions.json", src);
    link_in(dir, "transactions.json", q);
    snprintf(q, sizeof q, "'%s'", dir);
    ingest_ok(db, q);

    json_t *blocks = load_lines(p);
    snprintf(q, sizeof q, "%s/expected_transactions.json", src);
    json_t *txs = load_lines(q);
    json_t *seen = json_object(); /* address -> [first, last] */
    size_t n_wd = 0;
    for (size_t i = 0; i < json_array_size(blocks); i++) {
        json_t *b = json_array_get(blocks, i);
        json_t *wds = json_object_get(b, "withdrawals");
        for (size_t k = 0; k < json_array_size(wds); k++, n_wd++) {
            const char *a = js(json_array_get(wds, k), "address");
            json_t *r = json_object_get(seen, a);
            if (!r) json_object_set_new(seen, a, r = json_pack("[ff]", 1e18, 0.0));
            double n = jn(b, "number");
            if (n < json_number_value(json_array_get(r, 0))) json_array_set_new(r, 0, json_real(n));
            if (n > json_number_value(json_array_get(r, 1))) json_array_set_new(r, 1, json_real(n));
        }
    }
    assert_true(n_wd > 0);
    for (size_t i = 0; i < json_array_size(txs); i++) {
        json_t *t = json_array_get(txs, i);
        const char *sides[] = {js(t, "from_address"), js(t, "to_address")};
        for (int s = 0; s < 2; s++) {
            json_t *r = sides[s] ? json_object_get(seen, sides[s]) : NULL;
            if (!r) continue;
            double n = jn(t, "block_number");
            if (n < json_number_value(json_array_get(r, 0))) json_array_set_new(r, 0, json_real(n));
            if (n > json_number_value(json_array_get(r, 1))) json_array_set_new(r, 1, json_real(n));
        }
    }
    const char *a;
    json_t *r;
    size_t checked = 0;
    json_object_foreach(seen, a, r) {
        json_t *j = cli_json("address %s --db '%s' --chain eth --json", a, db);
        if (jn(j, "first_seen") != json_number_value(json_array_get(r, 0)) ||
            jn(j, "last_seen") != json_number_value(json_array_get(r, 1)))
            fail_msg("%s: first %.0f last %.0f, the export says %.0f..%.0f", a, jn(j, "first_seen"),
                     jn(j, "last_seen"), json_number_value(json_array_get(r, 0)),
                     json_number_value(json_array_get(r, 1)));
        json_decref(j);
        checked++;
    }
    print_message("%zu withdrawals to %zu addresses: first and last seen agree\n", n_wd, checked);
    json_decref(seen);
    json_decref(blocks);
    json_decref(txs);
    tu_rmrf(dir);
    tu_rmrf(db);
    free(dir);
    free(db);
    free(src);
}

/* --- traces alone -------------------------------------------------------- */

/* The transfers of one tx as the CLI prints them. */
static json_t *tx_transfers(const char *db, const char *hash, json_t **tx) {
    *tx = cli_json("tx %s --db '%s' --chain eth --json", hash, db);
    return json_object_get(*tx, "transfers");
}

/* Parity trace_block responses alone (ethereum-etl's recorded ones): every
 * value transfer ethereum-etl exported from them is in the store, the
 * top-level calls included, and each tx is found by its hash. Rows: the
 * expected_traces.csv of each folder (status 1, value > 0; delegatecall and
 * callcode move nothing, as the EVM has it). */
static void test_trace_block_alone_gives_every_value_transfer(void **state) {
    (void)state;
    static const char *const DIRS[] = {"block_with_subtraces", "block_with_create",
                                       "block_with_error", "block_with_suicide"};
    size_t top = 0, inner = 0, rewards = 0;
    for (size_t d = 0; d < sizeof DIRS / sizeof DIRS[0]; d++) {
        char rel[512];
        snprintf(rel, sizeof rel, TRACES "%s", DIRS[d]);
        char *dir = fixture_abs(rel);
        if (!dir) skip();
        char *db = tu_tmpdir();
        char src[4300];
        snprintf(src, sizeof src, "'%s' --format rpc", dir);
        ingest_ok(db, src);

        /* expected_traces.csv, parsed with a plain split: no field of these
         * rows holds a comma */
        snprintf(src, sizeof src, "%s/expected_traces.csv", dir);
        size_t len;
        char *csv = (char *)tu_read_file(src, &len);
        assert_non_null(csv);
        char *save = NULL, *line = strtok_r(csv, "\n", &save);
        for (line = strtok_r(NULL, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            char *f[20];
            int nf = 0;
            for (char *c = line; nf < 20; nf++) {
                f[nf] = c;
                char *comma = strchr(c, ',');
                if (!comma) {
                    nf++;
                    break;
                }
                *comma = '\0';
                c = comma + 1;
            }
            assert_int_equal(nf, 18);
            /* 1 transaction_hash, 3 from, 4 to, 5 value, 8 trace_type,
             * 9 call_type, 14 trace_address, 16 status */
            if (!strcmp(f[5], "0") || !strcmp(f[16], "0")) continue;
            if (!strcmp(f[9], "delegatecall") || !strcmp(f[9], "callcode")) continue;
            if (!strcmp(f[8], "reward")) {
                json_t *j = cli_json("address %s --db '%s' --chain eth --json", f[4], db);
                json_t *bal = json_array_get(json_object_get(j, "balances"), 0);
                assert_string_equal(js(bal, "received"), f[5]);
                json_decref(j);
                rewards++;
                continue;
            }
            json_t *tx, *xs = tx_transfers(db, f[1], &tx);
            bool is_top = f[14][0] == '\0';
            bool found = false;
            for (size_t i = 0; i < json_array_size(xs) && !found; i++) {
                json_t *x = json_array_get(xs, i);
                found = !strcmp(js(x, "kind"), is_top ? "native" : "internal") &&
                        !strcmp(js(x, "from"), f[3]) && !strcmp(js(x, "to"), f[4]) &&
                        !strcmp(js(x, "value"), f[5]);
            }
            if (!found)
                fail_msg("%s: tx %s: no %s transfer %s -> %s of %s", DIRS[d], f[1],
                         is_top ? "native" : "internal", f[3], f[4], f[5]);
            if (is_top) { /* the tx itself comes from its top frame */
                assert_string_equal(js(tx, "from"), f[3]);
                top++;
            } else {
                inner++;
            }
            json_decref(tx);
        }
        free(csv);
        tu_rmrf(db);
        free(db);
        free(dir);
    }
    print_message("trace_block alone: %zu top-level, %zu internal transfers and %zu rewards as "
                  "ethereum-etl exported them\n",
                  top, inner, rewards);
    assert_true(top >= 4);
    assert_true(rewards >= 4);
}

/* Hand-made trace_block of a block with two txs: a plain call (no inner
 * frames) and a contract creation, then the same block's header later in
 * the same input: the header wins nothing away (values as the traces say). */
static void test_trace_block_top_level_call_and_create(void **state) {
    (void)state;
    char *dir = tu_tmpdir(), *db = tu_tmpdir();
    char h1[67], h2[67], bh[67], doc[4096];
    snprintf(doc, sizeof doc,
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":["
             "{\"action\":{\"callType\":\"call\",\"from\":\"" ADDR_A "\",\"gas\":\"0x0\","
             "\"input\":\"0x\",\"to\":\"" ADDR_B "\",\"value\":\"0x2a\"},\"blockHash\":\"%s\","
             "\"blockNumber\":300,\"result\":{\"gasUsed\":\"0x0\",\"output\":\"0x\"},"
             "\"subtraces\":0,\"traceAddress\":[],\"transactionHash\":\"%s\","
             "\"transactionPosition\":0,\"type\":\"call\"},"
             "{\"action\":{\"from\":\"" ADDR_A "\",\"gas\":\"0x0\",\"init\":\"0x60\","
             "\"value\":\"0x7\"},\"blockHash\":\"%s\",\"blockNumber\":300,\"result\":{"
             "\"address\":\"" ADDR_R "\",\"code\":\"0x\",\"gasUsed\":\"0x0\"},\"subtraces\":0,"
             "\"traceAddress\":[],\"transactionHash\":\"%s\",\"transactionPosition\":1,"
             "\"type\":\"create\"}]}\n",
             mkhash(bh, 0xb000 + 300), mkhash(h1, 0x9001), bh, mkhash(h2, 0x9002));
    write_text(dir, "web3_response.trace_block_0x12c.json", doc);
    char src[4200];
    snprintf(src, sizeof src, "'%s/web3_response.trace_block_0x12c.json'", dir);
    ingest_ok(db, src);
    json_t *tx, *xs = tx_transfers(db, h1, &tx);
    assert_int_equal(json_array_size(xs), 1);
    assert_string_equal(js(json_array_get(xs, 0), "value"), "42");
    assert_string_equal(js(tx, "to"), ADDR_B);
    assert_true(json_is_null(json_object_get(tx, "fee")));  /* no receipt: unknown */
    assert_true(json_is_null(json_object_get(tx, "time"))); /* no header: unknown */
    assert_string_equal(js(tx, "block_hash"), bh);          /* the traces' blockHash */
    json_decref(tx);
    xs = tx_transfers(db, h2, &tx);
    assert_int_equal(json_array_size(xs), 1);
    assert_string_equal(js(json_array_get(xs, 0), "to"), ADDR_R);
    assert_string_equal(js(json_array_get(xs, 0), "value"), "7");
    assert_string_equal(js(tx, "created"), ADDR_R);
    assert_true(json_is_null(json_object_get(tx, "to")));
    json_decref(tx);

    /* block 301, with its header, follows; the traces again are skipped
     * (the same block hash); records of block 300 that do not say its hash
     * cannot join the stored block nor replace it as a "reorg" */
    block_doc(doc, sizeof doc, 301, 300, "[]", NULL);
    write_text(dir, "next.json", doc);
    snprintf(src, sizeof src, "'%s/next.json'", dir);
    ingest_ok(db, src); /* 301 follows a headerless 300: its parent cannot be checked */
    int st;
    char *out = cli(&st, "ingest eth '%s/web3_response.trace_block_0x12c.json' --db '%s'", dir, db);
    assert_int_equal(st, 0); /* the same block hash: already stored, skipped */
    free(out);
    snprintf(doc, sizeof doc,
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":[{\"action\":{\"author\":\"" ADDR_M
             "\",\"rewardType\":\"block\",\"value\":\"0x1\"},\"blockNumber\":300,\"result\":null,"
             "\"subtraces\":0,\"traceAddress\":[],\"type\":\"reward\"}]}\n");
    write_text(dir, "reward_only.json", doc);
    out = cli(&st, "ingest eth '%s/reward_only.json' --db '%s' --format rpc", dir, db);
    assert_int_equal(st, 2);
    assert_non_null(strstr(out, "block 300 is in the store already"));
    free(out);
    json_t *j = cli_json("status --db '%s' --chain eth --json", db);
    assert_int_equal((long long)jn(j, "tip_height"), 301);
    json_decref(j);
    tu_rmrf(dir);
    tu_rmrf(db);
    free(dir);
    free(db);
}

/* --- receipts without their transactions -------------------------------- */

/* A receipt names a tx but not its sender: alone it must be refused (not
 * stored as a creation from the zero address dated 1970), and nothing is
 * written. With its block in the same ingest, it joins: the fee is gas used
 * times the effective price (21,000 x 1 gwei). */
static void test_receipt_without_its_transaction_is_refused(void **state) {
    (void)state;
    char *dir = tu_tmpdir(), *db = tu_tmpdir();
    char doc[4096], h[67];
    receipt_doc(doc, sizeof doc, 200, 0x8001, 0, 1);
    write_text(dir, "web3_response.eth_getTransactionReceipt_x.json", doc);
    int st;
    char *out = cli(&st, "ingest eth '%s' --db '%s'", dir, db);
    assert_int_equal(st, 2);
    assert_non_null(strstr(out, "without its transaction"));
    assert_non_null(strstr(out, mkhash(h, 0x8001)));
    free(out);
    out = cli(&st, "status --db '%s' --chain eth --json", db);
    assert_true(st != 0 || strstr(out, "\"blocks\":0"));
    free(out);

    char txo[1024], txs[1100];
    tx_obj(txo, sizeof txo, 200, 0x8001, 0, ADDR_A, ADDR_B, "0x5");
    snprintf(txs, sizeof txs, "[%s]", txo);
    block_doc(doc, sizeof doc, 200, 0, txs, NULL);
    write_text(dir, "web3_response.eth_getBlockByNumber_0xc8_true.json", doc);
    char src[4200];
    snprintf(src, sizeof src, "'%s'", dir);
    ingest_ok(db, src);
    json_t *tx = cli_json("tx %s --db '%s' --chain eth --json", h, db);
    assert_string_equal(js(tx, "from"), ADDR_A);
    assert_string_equal(js(tx, "fee"), "21000000000000");
    assert_string_equal(js(tx, "status"), "success");
    json_decref(tx);
    tu_rmrf(dir);
    tu_rmrf(db);
    free(dir);
    free(db);
}

/* ethereum-etl's recorded receipts (block 483,920) without their block. */
static void test_real_receipts_alone_are_refused(void **state) {
    (void)state;
    char *dir = fixture_abs(RES "test_export_receipts_job/receipts_with_logs");
    if (!dir) skip();
    char *db = tu_tmpdir();
    int st;
    char *out = cli(&st, "ingest eth '%s' --db '%s' --format rpc", dir, db);
    assert_int_equal(st, 2);
    assert_non_null(strstr(out, "without its transaction"));
    free(out);
    tu_rmrf(db);
    free(db);
    free(dir);
}

/* --- a folder holding both kinds ----------------------------------------- */

/* ethereum-etl's test folders hold the responses and the CSV made from
 * them: refused by default with the option that settles it, and read either
 * way with it; the two readings give the same transfers. */
static void test_format_option_settles_a_mixed_folder(void **state) {
    (void)state;
    char *dir = fixture_abs(TRACES "block_with_subtraces");
    if (!dir) skip();
    char *db1 = tu_tmpdir(), *db2 = tu_tmpdir(), *db3 = tu_tmpdir();
    int st;
    char *out = cli(&st, "ingest eth '%s' --db '%s'", dir, db1);
    assert_int_equal(st, 2);
    assert_non_null(strstr(out, "--format rpc"));
    assert_non_null(strstr(out, "--format etl"));
    free(out);
    out = cli(&st, "ingest eth '%s' --db '%s' --format csv", dir, db1);
    assert_int_equal(st, 2);
    free(out);
    char src[4300];
    snprintf(src, sizeof src, "'%s' --format rpc", dir);
    ingest_ok(db2, src);
    snprintf(src, sizeof src, "'%s' --format etl", dir);
    ingest_ok(db3, src);
    json_t *a = cli_json("block 1000000 --db '%s' --chain eth --json --txs", db2);
    json_t *b = cli_json("block 1000000 --db '%s' --chain eth --json --txs", db3);
    json_t *ta = json_object_get(a, "tx"), *tb = json_object_get(b, "tx");
    assert_int_equal(json_array_size(ta), 2);
    for (size_t i = 0; i < json_array_size(ta); i++)
        assert_true(json_equal(json_object_get(json_array_get(ta, i), "transfers"),
                               json_object_get(json_array_get(tb, i), "transfers")));
    json_decref(a);
    json_decref(b);
    tu_rmrf(db1);
    tu_rmrf(db2);
    tu_rmrf(db3);
    free(db1);
    free(db2);
    free(db3);
    free(dir);
}

/* --- block for account chains ------------------------------------------- */

/* `block` on an account chain, by number and by 0x hash: the block as
 * ethereum-etl exported it (hash, parent, time, tx count, txs in order). */
static void test_block_answers_for_an_account_chain(void **state) {
    (void)state;
    char *dir = fixture_abs(STREAM17);
    if (!dir) skip();
    char *db = tu_tmpdir();
    char p[4300];
    snprintf(p, sizeof p, "'%s'", dir);
    ingest_ok(db, p);
    snprintf(p, sizeof p, "%s/expected_blocks.json", dir);
    json_t *blocks = load_lines(p);
    snprintf(p, sizeof p, "%s/expected_transactions.json", dir);
    json_t *txs = load_lines(p);
    for (size_t i = 0; i < json_array_size(blocks); i++) {
        json_t *e = json_array_get(blocks, i);
        json_t *j = cli_json("block %.0f --db '%s' --chain eth --json", jn(e, "number"), db);
        json_t *k = cli_json("block %s --db '%s' --chain eth --json", js(e, "hash"), db);
        assert_true(json_equal(j, k));
        assert_string_equal(js(j, "hash"), js(e, "hash"));
        if (i > 0) assert_string_equal(js(j, "parent_hash"), js(e, "parent_hash"));
        assert_true(jn(j, "time") == jn(e, "timestamp"));
        assert_true(jn(j, "n_tx") == jn(e, "transaction_count"));
        json_t *list = json_object_get(j, "tx");
        size_t n = 0;
        for (size_t t = 0; t < json_array_size(txs); t++) {
            json_t *x = json_array_get(txs, t);
            if (jn(x, "block_number") != jn(e, "number")) continue;
            assert_string_equal(
                json_string_value(json_array_get(list, (size_t)jn(x, "transaction_index"))),
                js(x, "hash"));
            n++;
        }
        assert_int_equal(n, json_array_size(list));
        json_decref(j);
        json_decref(k);
    }
    int st;
    char *out = cli(&st, "block 17173051 --db '%s' --chain eth", db);
    assert_int_equal(st, 1);
    free(out);
    out = cli(&st, "block 0x12 --db '%s' --chain eth", db);
    assert_int_equal(st, 2);
    free(out);
    json_decref(blocks);
    json_decref(txs);
    tu_rmrf(db);
    free(db);
    free(dir);
}

/* --- failed transactions, fees -------------------------------------------- */

/* A failed tx to R (who appears nowhere else): R's history shows the
 * attempt, and R's balance is untouched; the sender pays the fee. */
static void test_failed_tx_recipient_is_indexed(void **state) {
    (void)state;
    char *dir = tu_tmpdir(), *db = tu_tmpdir();
    char doc[4096], txo[1024], txs[1100], h[67];
    tx_obj(txo, sizeof txo, 400, 0x6001, 0, ADDR_A, ADDR_R, "0x64");
    snprintf(txs, sizeof txs, "[%s]", txo);
    block_doc(doc, sizeof doc, 400, 0, txs, NULL);
    write_text(dir, "block.json", doc);
    receipt_doc(doc, sizeof doc, 400, 0x6001, 0, 0);
    write_text(dir, "receipt.json", doc);
    char src[4200];
    snprintf(src, sizeof src, "'%s'", dir);
    ingest_ok(db, src);
    json_t *j = cli_json("address %s --db '%s' --chain eth --json", ADDR_R, db);
    assert_int_equal((long long)jn(j, "tx_count"), 1);
    assert_true(jn(j, "first_seen") == 400);
    json_t *bal = json_array_get(json_object_get(j, "balances"), 0);
    assert_string_equal(js(bal, "received"), "0");
    json_decref(j);
    json_t *tx = cli_json("tx %s --db '%s' --chain eth --json", mkhash(h, 0x6001), db);
    assert_string_equal(js(tx, "status"), "failed");
    assert_string_equal(js(tx, "to"), ADDR_R);
    assert_string_equal(js(tx, "fee"), "21000000000000");
    json_decref(tx);
    tu_rmrf(dir);
    tu_rmrf(db);
    free(dir);
    free(db);
}

/* Blocks with full transactions and no receipts (ethereum-etl's
 * blocks_with_transactions): the fee is unknown, null, never "0". */
static void test_fee_is_null_without_receipt(void **state) {
    (void)state;
    char *dir = fixture_abs(RES "test_export_blocks_job/blocks_with_transactions");
    if (!dir) skip();
    char *db = tu_tmpdir();
    char p[4300];
    snprintf(p, sizeof p, "'%s' --format rpc", dir);
    ingest_ok(db, p);
    snprintf(p, sizeof p, "%s/expected_transactions.csv", dir);
    size_t len;
    char *csv = (char *)tu_read_file(p, &len);
    assert_non_null(csv);
    size_t n = 0;
    for (char *at = strstr(csv, "\n0x"); at; at = strstr(at + 1, "\n0x")) {
        char hash[67];
        memcpy(hash, at + 1, 66);
        hash[66] = '\0';
        json_t *tx = cli_json("tx %s --db '%s' --chain eth --json", hash, db);
        assert_true(json_is_null(json_object_get(tx, "fee")));
        json_decref(tx);
        n++;
    }
    assert_true(n > 0);
    free(csv);
    tu_rmrf(db);
    free(db);
    free(dir);
}

/* --- token transfers apart from their transactions ---------------------- */

/* ethereum-etl's export of blocks 17,173,049-17,173,050, token_transfers in
 * one folder and blocks + transactions in another (or named as files): read
 * together, every exported token transfer is in the store. Alone, the
 * token transfers are refused with a message saying what to add. */
static void test_token_transfers_beside_transactions_elsewhere(void **state) {
    (void)state;
    char *src = fixture_abs(STREAM17);
    if (!src) skip();
    char *top = tu_tmpdir(), *db = tu_tmpdir(), *db2 = tu_tmpdir();
    char *tx = subdir(top, "tx"), *tt = subdir(top, "tt");
    char p[4300];
    snprintf(p, sizeof p, "%s/expected_blocks.json", src);
    link_in(tx, "blocks.json", p);
    snprintf(p, sizeof p, "%s/expected_transactions.json", src);
    link_in(tx, "transactions.json", p);
    snprintf(p, sizeof p, "%s/expected_token_transfers.json", src);
    link_in(tt, "token_transfers.json", p);

    int st;
    char *out = cli(&st, "ingest eth '%s' --db '%s'", tt, db);
    assert_int_equal(st, 2);
    assert_non_null(strstr(out, "transactions export"));
    free(out);

    char args[9000];
    snprintf(args, sizeof args, "'%s' '%s'", tx, tt);
    ingest_ok(db, args);
    snprintf(args, sizeof args, "'%s/blocks.json' '%s/token_transfers.json' '%s/transactions.json'",
             tx, tt, tx);
    ingest_ok(db2, args);

    json_t *rows = load_lines(p);
    assert_true(json_array_size(rows) > 100);
    for (int k = 0; k < 2; k++) {
        const char *d = k ? db2 : db;
        for (size_t i = 0; i < json_array_size(rows); i++) {
            json_t *r = json_array_get(rows, i);
            json_t *t, *xs = tx_transfers(d, js(r, "transaction_hash"), &t);
            bool found = false;
            for (size_t x = 0; x < json_array_size(xs) && !found; x++) {
                json_t *v = json_array_get(xs, x);
                found = jn(v, "position") == 65536 + jn(r, "log_index") &&
                        !strcmp(js(v, "asset"), js(r, "token_address")) &&
                        !strcmp(js(v, "from"), js(r, "from_address")) &&
                        !strcmp(js(v, "to"), js(r, "to_address"));
            }
            if (!found)
                fail_msg("token transfer %s log %.0f not in the store", js(r, "transaction_hash"),
                         jn(r, "log_index"));
            json_decref(t);
            if (i > 40) break; /* a CLI run per row: a sample is enough twice over */
        }
    }
    json_decref(rows);
    tu_rmrf(top);
    tu_rmrf(db);
    tu_rmrf(db2);
    free(tx);
    free(tt);
    free(top);
    free(db);
    free(db2);
    free(src);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_names_tip_by_number_and_0x_hash),
        cmocka_unit_test(test_first_last_seen_count_withdrawals_and_rewards),
        cmocka_unit_test(test_first_last_seen_real_withdrawals),
        cmocka_unit_test(test_trace_block_alone_gives_every_value_transfer),
        cmocka_unit_test(test_trace_block_top_level_call_and_create),
        cmocka_unit_test(test_receipt_without_its_transaction_is_refused),
        cmocka_unit_test(test_real_receipts_alone_are_refused),
        cmocka_unit_test(test_format_option_settles_a_mixed_folder),
        cmocka_unit_test(test_block_answers_for_an_account_chain),
        cmocka_unit_test(test_failed_tx_recipient_is_indexed),
        cmocka_unit_test(test_fee_is_null_without_receipt),
        cmocka_unit_test(test_token_transfers_beside_transactions_elsewhere),
    };
    return cmocka_run_group_tests_name("evm_exports", tests, NULL, NULL);
}
