/* libFuzzer harness for the blockchain-etl reader (ch_evm_parse_etl), CSV
 * and JSON lines. The first byte picks the file name (which tells the kind
 * when the columns do not), the rest is the file. A failure must say why
 * and return nothing; parsed blocks must be ordered and walkable; JSON lines
 * read by simdjson first give what yajl alone gives (the same message, or
 * the same blocks, transactions, logs, calls, withdrawals and values). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chains/eth/evm_internal.h"
#include "coinhound/evm.h"

static void check(int ok) {
    if (!ok) abort();
}

static int on_transfer(const ch_evm_transfer *t, void *ctx) {
    (void)ctx;
    check((unsigned)t->kind <= CH_EVM_XFER_REWARD);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char *names[] = {
        "blocks.csv",           "transactions.json", "logs.csv",     "traces.csv",
        "token_transfers.json", "receipts.csv",      "export.jsonl", "x"};
    const char *name = size ? names[data[0] % 8] : names[0];
    const char *text = size ? (const char *)data + 1 : "";
    size_t len = size ? size - 1 : 0;
    ch_evm_block *blocks = NULL;
    size_t n = 0;
    ch_error err = {""};
    int rc = ch_evm_parse_etl(text, len, name, CH_EVM_FMT_AUTO, &blocks, &n, &err);
    /* yajl alone: the same answer */
    ch_evm_block *yb = NULL;
    size_t yn = 0;
    ch_error yerr = {""};
    evm_etl_yajl_only = true;
    int yrc = ch_evm_parse_etl(text, len, name, CH_EVM_FMT_AUTO, &yb, &yn, &yerr);
    evm_etl_yajl_only = false;
    check(rc == yrc && yn == n);
    if (rc != 0) check(strcmp(err.msg, yerr.msg) == 0);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const ch_evm_block *a = &blocks[i], *b = &yb[i];
        check(a->number == b->number && a->n_tx == b->n_tx && a->n_logs == b->n_logs &&
              a->n_calls == b->n_calls && a->n_withdrawals == b->n_withdrawals &&
              !memcmp(&a->hash, &b->hash, sizeof a->hash) && a->gas_used == b->gas_used);
        for (size_t k = 0; k < a->n_tx; k++)
            check(!memcmp(&a->tx[k].value, &b->tx[k].value, sizeof a->tx[k].value) &&
                  !memcmp(&a->tx[k].hash, &b->tx[k].hash, sizeof a->tx[k].hash) &&
                  a->tx[k].nonce == b->tx[k].nonce && a->tx[k].input_len == b->tx[k].input_len);
        for (size_t k = 0; k < a->n_logs; k++)
            check(a->logs[k].data_len == b->logs[k].data_len &&
                  !memcmp(a->logs[k].topics, b->logs[k].topics, sizeof a->logs[k].topics));
        for (size_t k = 0; k < a->n_calls; k++)
            check(!memcmp(&a->calls[k].value, &b->calls[k].value, sizeof a->calls[k].value) &&
                  a->calls[k].depth == b->calls[k].depth);
    }
    ch_evm_blocks_free(yb, yn);
    if (rc != 0) {
        check(err.msg[0] != '\0' && blocks == NULL && n == 0);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (i) check(blocks[i].number > blocks[i - 1].number);
        check(ch_evm_block_transfers(&blocks[i], on_transfer, NULL) == 0);
    }
    ch_evm_blocks_free(blocks, n);
    return 0;
}
