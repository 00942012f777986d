#include "coinhound/jsonw.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/utf8.h"

/* Every write goes through stdio's unlocked calls: a writer owns its stream
 * (no two threads write one FILE), and the lock taken per fputc was most of
 * the cost of a large answer (an 868 MB trace took 14 s as JSON against 1.2 s
 * as text). Numbers are formatted here rather than by fprintf. */
#define PUTC(c, f)     putc_unlocked((c), (f))
#define PUTS(s, f)     fputs_unlocked((s), (f))
#define WRITE(p, n, f) fwrite_unlocked((p), 1, (n), (f))

/* v in decimal into the end of buf[0..24); returns where it starts. */
static char *u64_dec(uint64_t v, char buf[24]) {
    char *p = buf + 24;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return p;
}

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
    if (!w->first[w->depth]) PUTC(',', w->f);
    w->first[w->depth] = false;
}

static void open(ch_jw *w, char c) {
    sep(w);
    PUTC(c, w->f);
    if (w->depth < CH_JW_MAX_DEPTH - 1) w->depth++;
    w->first[w->depth] = true;
}

static void close_(ch_jw *w, char c) {
    PUTC(c, w->f);
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
    PUTC('"', f);
    for (size_t i = 0; i < n; i++) {
        size_t run = i;
        while (run < n && plain((unsigned char)s[run]))
            run++;
        if (run > i) {
            WRITE(s + i, run - i, f);
            i = run;
            if (i == n) break;
        }
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"':
            PUTS("\\\"", f);
            break;
        case '\\':
            PUTS("\\\\", f);
            break;
        case '\n':
            PUTS("\\n", f);
            break;
        case '\r':
            PUTS("\\r", f);
            break;
        case '\t':
            PUTS("\\t", f);
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
                    WRITE(s + i, k, f);
                    i += k - 1;
                } else {
                    PUTS("\\ufffd", f);
                }
            }
        }
    }
    PUTC('"', f);
}

void ch_jw_key(ch_jw *w, const char *key) {
    sep(w);
    put_escaped(w->f, key, strlen(key));
    PUTC(':', w->f);
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
    char buf[24];
    /* the magnitude as unsigned: INT64_MIN has no positive int64 */
    uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    char *p = u64_dec(m, buf);
    if (v < 0) *--p = '-';
    WRITE(p, (size_t)(buf + 24 - p), w->f);
}

void ch_jw_uint(ch_jw *w, uint64_t v) {
    sep(w);
    char buf[24];
    char *p = u64_dec(v, buf);
    WRITE(p, (size_t)(buf + 24 - p), w->f);
}

void ch_jw_double(ch_jw *w, double v) {
    sep(w);
    if (!isfinite(v)) {
        PUTS("null", w->f);
        return;
    }
    char buf[40];
    /* the shortest of %.15g..%.17g that reads back to the same double */
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) break;
    }
    PUTS(buf, w->f);
}

void ch_jw_bool(ch_jw *w, bool v) {
    sep(w);
    PUTS(v ? "true" : "false", w->f);
}

void ch_jw_null(ch_jw *w) {
    sep(w);
    PUTS("null", w->f);
}

void ch_jw_raw(ch_jw *w, const char *json) {
    sep(w);
    PUTS(json, w->f);
}

void ch_jw_newline(ch_jw *w) {
    PUTC('\n', w->f);
    w->first[0] = true;
    w->depth = 0;
    w->after_key = false;
}
