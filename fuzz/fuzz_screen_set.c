/* libFuzzer: opening a screening set made of arbitrary bytes.
 *
 * The bytes are written to a temporary file and opened. When the input is
 * long enough and bit 0 of its last header byte (reserved, outside the
 * checksum) is set, the harness first writes the true file size and SHA-256
 * into the header, so that the fuzzer gets past the checksum and exercises
 * the structural checks; otherwise the checksum path is exercised. A set
 * that opens is then read: lookups (single and batched), every attribution
 * of a hit, and a walk over every entry with its attributions. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coinhound/hash.h"
#include "coinhound/screen.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char g_path[64];

static void put64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!g_path[0]) snprintf(g_path, sizeof g_path, "/tmp/fuzz_screen_set.%ld", (long)getpid());
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) return 0;
    if (size) memcpy(buf, data, size);
    if (size >= CH_SCREEN_HEADER_SIZE && (buf[CH_SCREEN_HEADER_SIZE - 1] & 1)) {
        put64(buf + 16, size);
        ch_sha256(buf + CH_SCREEN_HEADER_SIZE, size - CH_SCREEN_HEADER_SIZE, buf + 128);
    }
    FILE *f = fopen(g_path, "wb");
    if (!f) {
        free(buf);
        return 0;
    }
    fwrite(buf, 1, size, f);
    fclose(f);
    free(buf);

    ch_screen_set *set;
    ch_error err;
    if (ch_screen_set_open(g_path, &set, &err) == 0) {
        static const char *const PROBES[] = {"0x098B716B8Aaf21512996dC57EB0615e2383E2f96",
                                             "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
                                             "1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggu",
                                             "TBHTJqAy4DhHhmT3dNceJYNRz4SdLofLre", "x"};
        for (size_t i = 0; i < sizeof PROBES / sizeof PROBES[0]; i++) {
            ch_screen_result r;
            ch_screen_lookup(set, PROBES[i], &r);
            for (uint32_t k = 0; k < r.n_attr; k++) {
                ch_attribution a;
                if (ch_screen_attr_to_attribution(set, &r, k, &a) != 0) abort();
            }
        }
        const char *keys[sizeof PROBES / sizeof PROBES[0]];
        size_t lens[sizeof PROBES / sizeof PROBES[0]];
        uint8_t found[sizeof PROBES / sizeof PROBES[0]];
        for (size_t i = 0; i < sizeof PROBES / sizeof PROBES[0]; i++) {
            keys[i] = PROBES[i];
            lens[i] = strlen(PROBES[i]);
        }
        ch_screen_lookup_canonical_batch(set, keys, lens, sizeof PROBES / sizeof PROBES[0], found);
        uint64_t cursor = 0, walked = 0;
        const char *key;
        size_t len;
        uint32_t n_attr;
        const uint32_t *idx;
        while (ch_screen_set_next(set, &cursor, &key, &len, &n_attr, &idx)) {
            if (strlen(key) != len) abort();
            ch_screen_result r;
            memset(&r, 0, sizeof r);
            r.status = CH_SCREEN_LISTED;
            r.n_attr = n_attr;
            r.attr_index = idx;
            for (uint32_t k = 0; k < n_attr; k++) {
                ch_attribution a;
                if (ch_screen_attr_to_attribution(set, &r, k, &a) != 0) abort();
            }
            /* Every entry is found by a lookup of its own key. */
            if (ch_screen_lookup_canonical(set, key, len, NULL, NULL) != 1) abort();
            walked++;
        }
        ch_screen_info info;
        ch_screen_set_info(set, &info);
        if (walked != info.addresses) abort();
        ch_screen_set_close(set);
    } else if (err.msg[0] == '\0') {
        abort();
    }
    unlink(g_path);
    return 0;
}
