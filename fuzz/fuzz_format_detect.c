/* libFuzzer: import format detection from a file's name and content.
 *
 * Input: the first byte picks the file's name (OFAC's names, the per-asset
 * lists, CSV, YAML, JSON, none); the rest is its content. The file is
 * detected alone, then inside a folder beside a second copy under another
 * name.
 * Properties: never crashes or reads out of bounds; a refusal says why; a
 * format found has a name and parses back to itself. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coinhound/intel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/tmp/coinhound-fuzz-detect-XXXXXX";
static int ready;

static const char *const NAMES[] = {
    "sdn.xml",
    "sdn_advanced.xml",
    "sdn.csv",
    "sdn_comments.csv",
    "sanctioned_addresses_ETH.txt",
    "sanctioned_addresses_XBT.json",
    "labels.csv",
    "pack.yaml",
    "bundle.json",
    "event.json",
    "galaxy.json",
    "combined.json",
    "accounts.csv",
    "data",
};
#define N_NAMES (sizeof NAMES / sizeof NAMES[0])

static void check(const char *path) {
    ch_intel_format f;
    ch_error err;
    err.msg[0] = 0;
    if (ch_intel_detect_format(path, &f, &err) == 0) {
        const char *name = ch_intel_format_name(f);
        ch_intel_format back;
        if (!name || ch_intel_format_parse(name, &back) != 0 || back != f) abort();
    } else if (!err.msg[0]) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!ready && !mkdtemp(dir)) abort();
    ready = 1;
    if (size < 1) return 0;
    const char *name = NAMES[data[0] % N_NAMES];
    const char *other = NAMES[(data[0] / N_NAMES) % N_NAMES];
    char sub[128], a[256], b[256];
    snprintf(sub, sizeof sub, "%s/in", dir);
    snprintf(a, sizeof a, "%s/%s", sub, name);
    snprintf(b, sizeof b, "%s/x-%s", sub, other);
    mkdir(sub, 0755);
    FILE *f = fopen(a, "wb");
    if (!f) abort();
    if (size > 1 && fwrite(data + 1, 1, size - 1, f) != size - 1) abort();
    fclose(f);
    check(a);
    f = fopen(b, "wb");
    if (!f) abort();
    if (size > 1 && fwrite(data + 1, 1, size - 1, f) != size - 1) abort();
    fclose(f);
    check(sub);
    unlink(a);
    unlink(b);
    return 0;
}
