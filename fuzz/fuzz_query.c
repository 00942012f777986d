/* The query calls' parsers on hostile text: a txid or txid prefix
 * (ch_query_find_tx), a history cursor (ch_query_history), a block name
 * (ch_query_block) and an address (ch_query_address), over a small
 * generated store built once. Each must answer 1/0/-1 with a message, never
 * crash or read outside the store; a found tx or block is a real one. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/address.h"
#include "coinhound/gen.h"
#include "coinhound/ingest.h"
#include "coinhound/query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static char root[] = "/tmp/coinhound-fuzz-query-XXXXXX";
static ch_store *g_s;
static ch_q_address g_a; /* an address of the store with a history */

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    if (!mkdtemp(root)) abort();
    char blocks[300], db[300];
    snprintf(blocks, sizeof blocks, "%s/blocks", root);
    snprintf(db, sizeof db, "%s/db", root);
    ch_gen_opts o;
    ch_gen_opts_init(&o);
    o.out_dir = blocks;
    o.seed = 5;
    o.txs = 300;
    o.txs_per_block = 20;
    o.maturity = 10;
    ch_error err;
    if (ch_gen_run(&o, NULL, &err) != 0) abort();
    ch_ingest_opts io = {.progress = 0};
    if (ch_ingest_btc(blocks, db, &io, NULL, &err) != 0) abort();
    if (ch_store_open(db, "btc", CH_STORE_READ, &g_s, &err) != 0) abort();
    /* the address of the last output that has one */
    ch_store_counts c;
    ch_store_get_counts(g_s, &c);
    for (uint64_t out = c.outputs; out-- > 0;) {
        ch_addr_id id = ch_out_addr(ch_store_output(g_s, out));
        if (!id) continue;
        ch_addr a;
        char text[CH_ADDR_STR_MAX];
        ch_store_addr_of(g_s, id, &a);
        if (ch_addr_to_string(&a, CH_NET_MAINNET, text) == 0 &&
            ch_query_address(g_s, text, &g_a, &err) == 1)
            break;
    }
    if (!g_a.id) abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0 || size > 200) return 0;
    char *text = malloc(size + 1);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = 0;
    ch_error err;
    ch_store_counts c;
    ch_store_get_counts(g_s, &c);
    switch (data[0] % 4) {
    case 0: {
        uint64_t tx = UINT64_MAX;
        size_t n;
        int rc = ch_query_find_tx(g_s, text, &tx, &n, &err);
        if (rc < -1 || rc > 1 || (rc == 1 && tx >= c.txs)) abort();
        break;
    }
    case 1: {
        ch_q_page p;
        int rc = ch_query_history(g_s, &g_a, text, 3, &p, &err);
        if (rc == 0) {
            if (p.n > 3) abort();
            for (size_t i = 0; i < p.n; i++)
                if (p.v[i].tx >= c.txs) abort();
            ch_q_page_free(&p);
        }
        break;
    }
    case 2: {
        ch_q_block b;
        int rc = ch_query_block(g_s, text, &b, &err);
        if (rc == 1 && b.height >= c.blocks) abort();
        break;
    }
    default: {
        ch_q_address a;
        if (ch_query_address(g_s, text, &a, &err) == 1) ch_q_address_free(&a);
        break;
    }
    }
    free(text);
    return 0;
}
