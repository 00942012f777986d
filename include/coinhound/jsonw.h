/* coinhound: a small streaming JSON writer for command output.
 *
 * Parsing JSON uses a real library (jansson); writing is done here because
 * output is a stream of millions of small objects (one per transaction) and a
 * DOM per object would only add allocation. Commas and escaping are handled;
 * the caller only says begin/end, key and value. Output is always valid
 * UTF-8: a string's bytes that form no well-formed UTF-8 sequence are
 * written as \ufffd (util/utf8.h). */
#ifndef COINHOUND_JSONW_H
#define COINHOUND_JSONW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CH_JW_MAX_DEPTH 64

typedef struct ch_jw {
    FILE *f;
    int depth;
    bool first[CH_JW_MAX_DEPTH]; /* no value written yet at this depth */
    bool after_key;
} ch_jw;

void ch_jw_init(ch_jw *w, FILE *f);
void ch_jw_obj_begin(ch_jw *w);
void ch_jw_obj_end(ch_jw *w);
void ch_jw_arr_begin(ch_jw *w);
void ch_jw_arr_end(ch_jw *w);
void ch_jw_key(ch_jw *w, const char *key);
void ch_jw_str(ch_jw *w, const char *s); /* NULL writes null */
void ch_jw_strn(ch_jw *w, const char *s, size_t n);
void ch_jw_int(ch_jw *w, int64_t v);
void ch_jw_uint(ch_jw *w, uint64_t v);
void ch_jw_double(ch_jw *w, double v); /* shortest round-trip form */
void ch_jw_bool(ch_jw *w, bool v);
void ch_jw_null(ch_jw *w);
/* A value already formatted as JSON (a number string, say). */
void ch_jw_raw(ch_jw *w, const char *json);
/* End a top-level value with a newline (JSON lines). */
void ch_jw_newline(ch_jw *w);

#ifdef __cplusplus
}
#endif

#endif
