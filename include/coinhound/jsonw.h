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
    FILE *f; /* NULL: the text goes to buf (ch_jw_init_mem) */
    int depth;
    bool first[CH_JW_MAX_DEPTH]; /* no value written yet at this depth */
    bool after_key;
    /* memory mode: the text so far, buf[0..len) of cap bytes (malloc'd) */
    char *buf;
    size_t len, cap;
    bool oom; /* a write did not fit and memory ran out: the text is lost */
} ch_jw;

void ch_jw_init(ch_jw *w, FILE *f);
/* A writer into memory rather than a stream (no stdio between a value and
 * its bytes: coinhound serve's answers, megabytes of verdicts). reserve is
 * the first allocation's size (0: 4 KiB); the buffer doubles as it fills.
 * The same calls write the same bytes as to a stream. */
void ch_jw_init_mem(ch_jw *w, size_t reserve);
/* The text written in memory mode, NUL-terminated, and its length into
 * *len; the caller frees it and the writer is left empty. NULL (and *len
 * 0) when memory ran out on the way. */
char *ch_jw_mem_take(ch_jw *w, size_t *len);
/* Drop what was written in memory mode. */
void ch_jw_mem_free(ch_jw *w);
void ch_jw_obj_begin(ch_jw *w);
void ch_jw_obj_end(ch_jw *w);
void ch_jw_arr_begin(ch_jw *w);
void ch_jw_arr_end(ch_jw *w);
void ch_jw_key(ch_jw *w, const char *key);
/* A key given already quoted with its colon ("\"name\":", n bytes), for
 * keys known at compile time to need no escaping: what ch_jw_key writes
 * for the bare name, without scanning it (see CH_JW_KEY). */
void ch_jw_key_quoted(ch_jw *w, const char *quoted, size_t n);
/* ch_jw_key for a string literal holding no character JSON escapes. */
#define CH_JW_KEY(w, lit) ch_jw_key_quoted((w), "\"" lit "\":", sizeof(lit) + 2)
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
