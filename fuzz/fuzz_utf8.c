/* libFuzzer: UTF-8 repair and the JSON writer on arbitrary bytes.
 *
 * Properties: ch_utf8_repair's output is always valid UTF-8 and equals its
 * input when the input was valid (and fits); a string written by the JSON
 * writer always parses back with jansson (which accepts only valid UTF-8),
 * and to the same text when the input was valid UTF-8 without NUL. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/jsonw.h"
#include "util/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *in = (const char *)data;
    size_t cap = 3 * size + 1;
    char *out = malloc(cap);
    if (!out) return 0;
    bool valid = ch_utf8_valid(in, size);
    bool nul = memchr(in, 0, size) != NULL;
    size_t fixed = ch_utf8_repair(in, size, size % 2 == 1, out, cap);
    if (!ch_utf8_valid(out, strlen(out))) abort();
    if (valid && fixed) abort();
    if (valid && !nul && (strlen(out) != size || memcmp(out, in, size) != 0)) abort();
    free(out);

    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return 0;
    ch_jw w;
    ch_jw_init(&w, f);
    ch_jw_arr_begin(&w);
    ch_jw_strn(&w, in, size);
    ch_jw_arr_end(&w);
    fclose(f);
    json_error_t jerr;
    json_t *v = json_loadb(buf, len, JSON_ALLOW_NUL, &jerr);
    if (!v) abort();
    if (valid) {
        json_t *s = json_array_get(v, 0);
        if (json_string_length(s) != size || memcmp(json_string_value(s), in, size) != 0) abort();
    }
    json_decref(v);
    free(buf);
    return 0;
}
