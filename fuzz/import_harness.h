/* Shared body of the importer harnesses (fuzz_import_*.c): arbitrary bytes
 * are imported into a scratch attribution store inside a transaction that
 * is always aborted; the importer may reject the input but must never
 * crash, leak or read out of bounds. A harness defines FUZZ_FORMAT and
 * FUZZ_NAME (the file name the importer is told) and includes this;
 * FUZZ_SPLIT_COMMENTS reads what comes before the input's first NUL byte as
 * OFAC's sdn_comments.csv first. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coinhound/intel.h"

static char dir[] = "/tmp/coinhound-fuzz-XXXXXX";
static ch_intel *db;

static void cleanup(void) {
    char p[64];
    ch_intel_close(db);
    snprintf(p, sizeof p, "%s/intel/data.mdb", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/intel/lock.mdb", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/intel", dir);
    rmdir(p);
    rmdir(dir);
}

static ch_intel *store(void) {
    if (!db) {
        ch_error err;
        if (!mkdtemp(dir) || ch_intel_open(dir, true, &db, &err) < 0) abort();
        atexit(cleanup);
    }
    return db;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ch_import_opts opts = {0};
    opts.as_of = "2024-01-01";
    ch_import *im;
    ch_error err;
    if (ch_intel_import_begin(store(), &opts, &im, &err) < 0) abort();
    ch_import_stats st;
#ifdef FUZZ_SPLIT_COMMENTS
    /* before the first NUL: sdn_comments.csv; after it: the file itself */
    const uint8_t *nul = memchr(data, 0, size);
    if (nul) {
        size_t n = (size_t)(nul - data);
        if (ch_intel_import_mem(im, CH_FMT_OFAC_COMMENTS, "sdn_comments.csv", data, n, &st, &err) <
            0) {
            ch_intel_import_abort(im);
            return 0;
        }
        data = nul + 1;
        size -= n + 1;
    }
#endif
    ch_intel_import_mem(im, FUZZ_FORMAT, FUZZ_NAME, data, size, &st, &err);
    ch_intel_import_abort(im);
    return 0;
}
