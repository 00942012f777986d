#include "coinhound/jsonw.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/utf8.h"

void ch_jw_init(ch_jw *w, FILE *f) {
    memset(w, 0, sizeof *w);
    w->f = f;
    w->first[0] = true;
}

/* Write the separator a new value needs at the current depth. */
static void sep(ch_jw *w) {
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (!w->first[w->depth]) fputc(',', w->f);
    w->first[w->depth] = false;
}

static void open(ch_jw *w, char c) {
    sep(w);
    fputc(c, w->f);
    if (w->depth < CH_JW_MAX_DEPTH - 1) w->depth++;
    w->first[w->depth] = true;
}

static void close_(ch_jw *w, char c) {
    fputc(c, w->f);
    if (w->depth > 0) w->depth--;
}

void ch_jw_obj_begin(ch_jw *w) {
    open(w, '{');
}
void ch_jw_obj_end(ch_jw *w) {
    close_(w, '}');
}
void ch_jw_arr_begin(ch_jw *w) {
    open(w, '[');
}
void ch_jw_arr_end(ch_jw *w) {
    close_(w, ']');
}

/* Does byte c go out as it is (printable ASCII but '"' and '\\')? */
static inline bool plain(unsigned char c) {
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

/* A string, quoted and escaped. Runs of plain bytes go out in one write:
 * a verdict is mostly such runs, and a call per byte was most of its cost. */
static void put_escaped(FILE *f, const char *s, size_t n) {
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        size_t run = i;
        while (run < n && plain((unsigned char)s[run]))
            run++;
        if (run > i) {
            fwrite(s + i, 1, run - i, f);
            i = run;
            if (i == n) break;
        }
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"':
            fputs("\\\"", f);
            break;
        case '\\':
            fputs("\\\\", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\r':
            fputs("\\r", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        default:
            if (c < 0x20) {
                fprintf(f, "\\u%04x", c);
            } else {
                /* JSON is UTF-8: a byte that starts no well-formed sequence
                 * (text of another encoding that reached here) is written
                 * as U+FFFD, never copied through */
                size_t k = ch_utf8_seq((const unsigned char *)s + i, n - i);
                if (k) {
                    fwrite(s + i, 1, k, f);
                    i += k - 1;
                } else {
                    fputs("\\ufffd", f);
                }
            }
        }
    }
    fputc('"', f);
}

void ch_jw_key(ch_jw *w, const char *key) {
    sep(w);
    put_escaped(w->f, key, strlen(key));
    fputc(':', w->f);
    w->after_key = true;
}

void ch_jw_str(ch_jw *w, const char *s) {
    if (!s) {
        ch_jw_null(w);
        return;
    }
    ch_jw_strn(w, s, strlen(s));
}

void ch_jw_strn(ch_jw *w, const char *s, size_t n) {
    sep(w);
    put_escaped(w->f, s, n);
}

void ch_jw_int(ch_jw *w, int64_t v) {
    sep(w);
    fprintf(w->f, "%" PRId64, v);
}

void ch_jw_uint(ch_jw *w, uint64_t v) {
    sep(w);
    fprintf(w->f, "%" PRIu64, v);
}

void ch_jw_double(ch_jw *w, double v) {
    sep(w);
    if (!isfinite(v)) {
        fputs("null", w->f);
        return;
    }
    char buf[40];
    /* the shortest of %.15g..%.17g that reads back to the same double */
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) break;
    }
    fputs(buf, w->f);
}

void ch_jw_bool(ch_jw *w, bool v) {
    sep(w);
    fputs(v ? "true" : "false", w->f);
}

void ch_jw_null(ch_jw *w) {
    sep(w);
    fputs("null", w->f);
}

void ch_jw_raw(ch_jw *w, const char *json) {
    sep(w);
    fputs(json, w->f);
}

void ch_jw_newline(ch_jw *w) {
    fputc('\n', w->f);
    w->first[0] = true;
    w->depth = 0;
    w->after_key = false;
}
