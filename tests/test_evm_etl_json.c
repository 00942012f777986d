/* ETL JSON lines read by simdjson (with yajl for the lines simdjson cannot
 * keep exact) give exactly the rows yajl alone gave: the same blocks,
 * transactions, logs, calls and withdrawals, field by field, and the same
 * message, line and field named, for a malformed line.
 *
 * Inputs: ethereum-etl's recorded stream exports (blocks, transactions,
 * logs, token transfers of two block ranges; values above 2^64 among
 * them), when the fixtures are present, and lines written here for what
 * the fixtures lack: integers at and around 2^64 and far above (2^200),
 * negative and fractional numbers in fields read and unread, escaped
 * strings, nulls, duplicate keys, withdrawals, trace addresses, and lines
 * that are no JSON, no object, too deep, or wrong in one field. */
#include "support/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chains/eth/evm_internal.h"
#include "coinhound/evm.h"

static void hex(FILE *f, const void *p, size_t n) {
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%02x", b[i]);
    fputc(' ', f);
}

/* Every field of the blocks as text, or the error. */
static char *parse_dump(const char *text, const char *name, bool yajl_only) {
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    assert_non_null(f);
    ch_evm_block *bl = NULL;
    size_t nb = 0;
    ch_error err = {{0}};
    evm_etl_yajl_only = yajl_only;
    int rc = ch_evm_parse_etl(text, strlen(text), name, CH_EVM_FMT_ETL_JSON, &bl, &nb, &err);
    evm_etl_yajl_only = false;
    if (rc != 0) {
        fprintf(f, "error: %s\n", err.msg);
        fclose(f);
        return out;
    }
    for (size_t i = 0; i < nb; i++) {
        const ch_evm_block *b = &bl[i];
        fprintf(f, "block %llu ts %llu gas %llu/%llu hdr %d unplaced %zu ",
                (unsigned long long)b->number, (unsigned long long)b->timestamp,
                (unsigned long long)b->gas_used, (unsigned long long)b->gas_limit, b->has_header,
                b->n_unplaced_calls);
        hex(f, &b->hash, sizeof b->hash);
        hex(f, &b->parent, sizeof b->parent);
        hex(f, &b->miner, sizeof b->miner);
        hex(f, &b->base_fee, sizeof b->base_fee);
        fputc('\n', f);
        for (size_t k = 0; k < b->n_tx; k++) {
            const ch_evm_tx *t = &b->tx[k];
            fprintf(f,
                    " tx %u nonce %llu gas %llu used %llu cum %llu st %d type %u to %d rc %d "
                    "partial %d trace %d ",
                    t->index, (unsigned long long)t->nonce, (unsigned long long)t->gas,
                    (unsigned long long)t->gas_used, (unsigned long long)t->cumulative_gas_used,
                    t->status, t->type, t->has_to, t->has_receipt, t->partial, t->from_trace);
            hex(f, &t->hash, sizeof t->hash);
            hex(f, &t->from, sizeof t->from);
            hex(f, &t->to, sizeof t->to);
            hex(f, &t->created, sizeof t->created);
            hex(f, &t->value, sizeof t->value);
            hex(f, &t->gas_price, sizeof t->gas_price);
            hex(f, t->input, t->input_len);
            fputc('\n', f);
        }
        for (size_t k = 0; k < b->n_logs; k++) {
            const ch_evm_log *l = &b->logs[k];
            fprintf(f, " log %u tx %u removed %d topics %u ", l->log_index, l->tx_index, l->removed,
                    l->n_topics);
            hex(f, &l->address, sizeof l->address);
            hex(f, l->topics, sizeof l->topics[0] * l->n_topics);
            hex(f, l->data, l->data_len);
            fputc('\n', f);
        }
        for (size_t k = 0; k < b->n_calls; k++) {
            const ch_evm_call *c = &b->calls[k];
            fprintf(f, " call %u.%u %s err %d self %d depth %u at", c->tx_index, c->position,
                    c->type, c->error, c->self_error, c->depth);
            for (unsigned d = 0; c->trace_addr && d < c->depth; d++)
                fprintf(f, " %u", c->trace_addr[d]);
            fputc(' ', f);
            hex(f, &c->from, sizeof c->from);
            hex(f, &c->to, sizeof c->to);
            hex(f, &c->value, sizeof c->value);
            fputc('\n', f);
        }
        for (size_t k = 0; k < b->n_withdrawals; k++) {
            const ch_evm_withdrawal *w = &b->withdrawals[k];
            fprintf(f, " wd %llu %llu %llu ", (unsigned long long)w->index,
                    (unsigned long long)w->validator, (unsigned long long)w->amount_gwei);
            hex(f, &w->address, sizeof w->address);
            fputc('\n', f);
        }
    }
    ch_evm_blocks_free(bl, nb);
    fclose(f);
    return out;
}

/* text read both ways: the same dump. Returns the dump (caller frees). */
static char *same_both_ways(const char *text, const char *name) {
    char *a = parse_dump(text, name, false), *b = parse_dump(text, name, true);
    if (strcmp(a, b) != 0) fail_msg("%s: simdjson first gives\n%s\nyajl alone\n%s", name, a, b);
    free(b);
    return a;
}

static void test_recorded_exports_same_rows(void **state) {
    (void)state;
    static const char *const RANGES[] = {"blocks_17173049_17173050", "blocks_1755634_1755635"};
    static const char *const FILES[] = {"blocks", "transactions", "logs", "token_transfers"};
    size_t read = 0;
    for (size_t r = 0; r < sizeof RANGES / sizeof RANGES[0]; r++) {
        /* the four exports of a range as one input (token transfers need
         * their transactions) */
        char *all = NULL;
        size_t all_len = 0;
        FILE *f = open_memstream(&all, &all_len);
        assert_non_null(f);
        for (size_t k = 0; k < sizeof FILES / sizeof FILES[0]; k++) {
            char rel[256];
            snprintf(rel, sizeof rel,
                     "eth/ethereum-etl/tests/resources/test_stream/%s/expected_%s.json", RANGES[r],
                     FILES[k]);
            const char *path = tu_fixture(rel);
            size_t len = 0;
            char *text = path ? (char *)tu_read_file(path, &len) : NULL;
            if (!text) continue;
            fwrite(text, 1, len, f);
            free(text);
            read++;
        }
        fclose(f);
        char *d = same_both_ways(all, RANGES[r]);
        if (strstr(d, "error: ")) fail_msg("%s: %s", RANGES[r], d);
        free(d);
        free(all);
    }
    if (read == 0) {
        fprintf(stderr, "skipped: the ethereum-etl fixtures are absent\n");
        skip();
    }
}

/* Lines of every kind with numbers at the edges, strings escaped, and
 * fields simdjson and yajl might read differently. */
static void test_written_lines_same_rows(void **state) {
    (void)state;
    const char *text =
        "{\"type\": \"block\", \"number\": 100, \"hash\": "
        "\"0x11000000000000000000000000000000000000000000000000000000000000aa\", "
        "\"parent_hash\": \"0x2200000000000000000000000000000000000000000000000000000000000000\", "
        "\"timestamp\": 1683029999, \"miner\": \"0x95222290dd7278aa3ddd389cc1e1d165cc4bafe5\", "
        "\"total_difficulty\": 58750003716598352816469, \"difficulty\": 0, \"gas_used\": "
        "18446744073709551615, "
        "\"gas_limit\": 30000000, \"base_fee_per_gas\": 340282366920938463463374607431768211456, "
        "\"withdrawals\": [{\"index\": 1, \"validator_index\": 2, \"address\": "
        "\"0x95222290dd7278aa3ddd389cc1e1d165cc4bafe5\", \"amount\": 18446744073709551615}]}\n"
        "{\"type\": \"transaction\", \"hash\": "
        "\"0x\\u0033300000000000000000000000000000000000000000000000000000000000000\", "
        "\"nonce\": 0, \"transaction_index\": 0, \"from_address\": "
        "\"0x95222290dd7278aa3ddd389cc1e1d165cc4bafe5\", "
        "\"to_address\": null, \"value\": "
        "1606938044258990275541962092341162602522202993782792835301376, "
        "\"gas\": 21000, \"gas_price\": 18446744073709551616, \"input\": \"0x\", \"block_number\": "
        "100, "
        "\"receipt_status\": 1, \"receipt_gas_used\": 21000, \"receipt_contract_address\": "
        "\"0x1f9840a85d5af5bf1d1762f925bdaddc4201f984\", \"extra\": -1.5e-3}\n"
        "{\"type\": \"transaction\", \"hash\": "
        "\"0x4400000000000000000000000000000000000000000000000000000000000000\", "
        "\"hash\": \"0x5500000000000000000000000000000000000000000000000000000000000000\", "
        "\"nonce\": 9223372036854775808, \"transaction_index\": 1, \"from_address\": "
        "\"0x95222290dd7278aa3ddd389cc1e1d165cc4bafe5\", \"to_address\": "
        "\"0x1f9840a85d5af5bf1d1762f925bdaddc4201f984\", \"value\": 18446744073709551615, \"gas\": "
        "1, "
        "\"gas_price\": 7, \"input\": \"0xa9059cbb\", \"block_number\": 100, \"unread\": [1.5, -2, "
        "{\"x\": 1e300}]}\n"
        "{\"type\": \"log\", \"log_index\": 0, \"transaction_index\": 1, \"address\": "
        "\"0x1f9840a85d5af5bf1d1762f925bdaddc4201f984\", \"data\": \"0x00ff\", \"topics\": "
        "[\"0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef\", "
        "\"0x00000000000000000000000095222290dd7278aa3ddd389cc1e1d165cc4bafe5\", "
        "\"0x0000000000000000000000001f9840a85d5af5bf1d1762f925bdaddc4201f984\"], "
        "\"block_number\": 100, "
        "\"note\": \"caf\\u00e9 \\\"quoted\\\" \\\\ \\/\"}\n"
        "{\"type\": \"token_transfer\", \"token_address\": "
        "\"0x1f9840a85d5af5bf1d1762f925bdaddc4201f984\", "
        "\"from_address\": \"0x95222290dd7278aa3ddd389cc1e1d165cc4bafe5\", \"to_address\": "
        "\"0x1f9840a85d5af5bf1d1762f925bdaddc4201f984\", \"value\": "
        "115792089237316195423570985008687907853269984665640564039457584007913129639935, "
        "\"transaction_hash\": "
        "\"0x5500000000000000000000000000000000000000000000000000000000000000\", "
        "\"log_index\": 1, \"block_number\": 100}\n"
        "{\"type\": \"token_transfer\", \"token_address\": "
        "\"0x1f9840a85d5af5bf1d1762f925bdaddc4201f984\", "
        "\"from_address\": \"0x95222290dd7278aa3ddd389cc1e1d165cc4bafe5\", \"to_address\": "
        "\"0x1f9840a85d5af5bf1d1762f925bdaddc4201f984\", \"value\": 18446744073709551616, "
        "\"transaction_hash\": "
        "\"0x5500000000000000000000000000000000000000000000000000000000000000\", "
        "\"log_index\": 2, \"block_number\": 100}\n"
        "{\"type\": \"trace\", \"block_number\": 100, \"transaction_index\": 1, "
        "\"transaction_hash\": "
        "\"0x5500000000000000000000000000000000000000000000000000000000000000\", \"from_address\": "
        "\"0x1f9840a85d5af5bf1d1762f925bdaddc4201f984\", \"to_address\": "
        "\"0x95222290dd7278aa3ddd389cc1e1d165cc4bafe5\", \"value\": 5, \"trace_type\": \"call\", "
        "\"call_type\": \"call\", \"trace_address\": [], \"status\": 1}\n"
        "{\"type\": \"trace\", \"block_number\": 100, \"transaction_index\": 1, "
        "\"transaction_hash\": "
        "\"0x5500000000000000000000000000000000000000000000000000000000000000\", \"from_address\": "
        "\"0x95222290dd7278aa3ddd389cc1e1d165cc4bafe5\", \"to_address\": "
        "\"0x1f9840a85d5af5bf1d1762f925bdaddc4201f984\", \"value\": 36893488147419103232, "
        "\"trace_type\": \"call\", \"call_type\": \"call\", \"trace_address\": [0], \"status\": "
        "1}\n";
    char *d = same_both_ways(text, "written.json");
    if (strstr(d, "error: ")) fail_msg("%s", d);
    /* the values above 2^64 kept exact (2^200 is limb 3's bit 8) */
    assert_non_null(strstr(d, "0000000000000000000000000000000000000000000000000001000000000000 "));
    free(d);
}

/* Each malformed line alone: the same message (file, line, what and
 * where), whichever parser met it first. */
static void test_malformed_lines_same_message(void **state) {
    (void)state;
    static const char *const BAD[] = {
        "{\"type\": \"transaction\", \"hash\": 12",
        "[1, 2, 3]",
        "\"a string\"",
        "{\"type\": \"log\", \"log_index\": 0,, \"transaction_index\": 1}",
        "{\"type\": \"log\", \"log_index\": tru, \"transaction_index\": 1}",
        "{\"type\": \"transaction\", \"hash\": \"0x12\", \"nonce\": 1, \"transaction_index\": 0, "
        "\"from_address\": \"0x95222290dd7278aa3ddd389cc1e1d165cc4bafe5\", \"block_number\": 1}",
        "{\"type\": \"transaction\", \"hash\": [1], \"block_number\": 1}",
        "{\"type\": \"log\", \"log_index\": 0, \"transaction_index\": 1, \"address\": "
        "\"0x1f9840a85d5af5bf1d1762f925bdaddc4201f984\", \"topics\": [[1]], \"block_number\": 1}",
        "{\"type\": \"log\", \"log_index\": 0, \"transaction_index\": 1, \"address\": "
        "\"0x1f9840a85d5af5bf1d1762f925bdaddc4201f984\", \"topics\": \"x\", \"block_number\": 1}",
        "{\"type\": \"transaction\", \"block_number\": 1.5}",
        "{\"type\": \"transaction\", \"block_number\": -1}",
        "{\"type\": \"transaction\", \"block_number\": 18446744073709551616}",
        "{\"type\": \"block\", \"number\": 1, \"withdrawals\": [{\"index\": \"1\"}]}",
        "{\"type\": \"block\", \"number\": 1, \"withdrawals\": {}}",
        "{\"type\": \"mystery\", \"a\": 1}",
        "{\"a\": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
        "{\"type\": \"transaction\", \"hash\": \"\\ud800\"}",
        "{\"type\": \"block\", \"number\": 1} trailing",
    };
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        char text[1024];
        snprintf(text, sizeof text, "%s\n", BAD[i]);
        char *d = same_both_ways(text, "bad.json");
        if (!strstr(d, "error: bad.json: line 1: ")) fail_msg("'%s': %s", BAD[i], d);
        free(d);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recorded_exports_same_rows),
        cmocka_unit_test(test_written_lines_same_rows),
        cmocka_unit_test(test_malformed_lines_same_message),
    };
    return cmocka_run_group_tests_name("ETL JSON lines: simdjson and yajl give the same rows",
                                       tests, NULL, NULL);
}
