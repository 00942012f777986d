/* libFuzzer harness for the JSON-RPC parser (ch_evm_parse_rpc, simdjson
 * through util/sjson.h, jansson naming the column of what is not JSON), and
 * for the streaming reader's line by line form (evm_rpc_line, with held
 * callTracer lines applied later, as reader.c does).
 *
 * The first byte picks the name the document is parsed under (the name is
 * where a callTracer trace learns its block), the rest is the document.
 * Beyond "no crash" (ASan/UBSan), it checks what callers rely on: a failure
 * says why and returns no blocks; parsed blocks come out in increasing
 * number with their logs in log_index order and their calls grouped by tx,
 * and the transfer view walks them in (tx, position) order. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chains/eth/evm_internal.h"
#include "coinhound/evm.h"

static void check(int ok) {
    if (!ok) abort();
}

typedef struct walk {
    uint32_t tx, pos;
    int n;
} walk;

static int on_transfer(const ch_evm_transfer *t, void *ctx) {
    walk *w = ctx;
    check((unsigned)t->kind <= CH_EVM_XFER_REWARD);
    if (w->n++ && t->tx_index != UINT32_MAX)
        check(t->tx_index > w->tx || (t->tx_index == w->tx && t->position > w->pos));
    w->tx = t->tx_index;
    w->pos = t->position;
    return 0;
}

/* The text line by line into a set: each line applied, held or refused
 * (a refusal must say why); held lines retried, then forced. */
static void by_lines(const char *text, size_t len, const char *name) {
    evm_set s;
    memset(&s, 0, sizeof s);
    evm_held *held[8];
    long held_line[8];
    int n_held = 0;
    long line = 0;
    for (size_t off = 0; off < len;) {
        const char *nl = memchr(text + off, '\n', len - off);
        size_t end = nl ? (size_t)(nl - text) + 1 : len;
        ch_error err = {""};
        evm_held *h = NULL;
        int rc = evm_rpc_line(&s, text + off, end - off, name, ++line, &h, &err);
        check(rc >= -1 && rc <= 1);
        if (rc < 0) {
            check(err.msg[0] != '\0' && h == NULL);
            break;
        }
        check((rc == 1) == (h != NULL));
        if (h && n_held < 8) {
            held_line[n_held] = line;
            held[n_held++] = h;
        } else {
            evm_held_free(h);
        }
        off = end;
    }
    for (int i = 0; i < n_held; i++) {
        ch_error err = {""};
        int rc = evm_rpc_apply_held(&s, held[i], name, held_line[i], false, &err);
        if (rc == 1) rc = evm_rpc_apply_held(&s, held[i], name, held_line[i], true, &err);
        check(rc != 1);
        if (rc < 0) check(err.msg[0] != '\0');
    }
    ch_error err = {""};
    ch_evm_block *blocks = NULL;
    size_t n = 0;
    if (evm_set_export(&s, &blocks, &n, &err) == 0)
        ch_evm_blocks_free(blocks, n);
    else
        evm_set_free(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char *names[] = {"fuzz.json",
                                  "web3_response.debug_traceBlockByNumber_0x10_tracer_calltracer",
                                  "web3_response.trace_block_0x10.json", NULL};
    const char *name = size ? names[data[0] % 3] : names[0];
    const char *json = size ? (const char *)data + 1 : "";
    size_t len = size ? size - 1 : 0;
    by_lines(json, len, name);
    ch_evm_block *blocks = NULL;
    size_t n = 0;
    ch_error err = {""};
    if (ch_evm_parse_rpc(json, len, name, &blocks, &n, &err) != 0) {
        check(err.msg[0] != '\0' && blocks == NULL && n == 0);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        const ch_evm_block *b = &blocks[i];
        if (i) check(b->number > blocks[i - 1].number);
        for (size_t k = 1; k < b->n_logs; k++)
            check(b->logs[k].log_index > b->logs[k - 1].log_index);
        for (size_t k = 1; k < b->n_tx; k++)
            check(b->tx[k].index > b->tx[k - 1].index);
        /* a tx given by its top trace frame is no longer a bodiless one */
        for (size_t k = 0; k < b->n_tx; k++)
            check(!(b->tx[k].from_trace && b->tx[k].partial));
        for (size_t k = 1; k < b->n_calls; k++)
            check(b->calls[k].tx_index >= b->calls[k - 1].tx_index);
        for (size_t k = 0; k < b->n_logs; k++)
            check(b->logs[k].n_topics <= 4);
        walk w = {0, 0, 0};
        check(ch_evm_block_transfers(b, on_transfer, &w) == 0);
    }
    ch_evm_blocks_free(blocks, n);
    return 0;
}
