/* libFuzzer harness for the blockchain-etl reader (ch_evm_parse_etl), CSV
 * and JSON lines. The first byte picks the file name (which tells the kind
 * when the columns do not), the rest is the file. A failure must say why
 * and return nothing; parsed blocks must be ordered and walkable. */
#include <stdint.h>
#include <stdlib.h>

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
    if (ch_evm_parse_etl(text, len, name, CH_EVM_FMT_AUTO, &blocks, &n, &err) != 0) {
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
