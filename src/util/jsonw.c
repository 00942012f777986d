#include "coinhound/jsonw.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/decimal.h"
#include "util/utf8.h"
#include "util/vec.h"

/* Every write goes to the stream through stdio's unlocked calls, or, in
 * memory mode, straight into the buffer. A writer owns its stream (no two
 * threads write one FILE), and the lock taken per fputc was most of the
 * cost of a large answer (an 868 MB trace took 14 s as JSON against 1.2 s
 * as text); in memory mode the stdio call per string was a tenth of a
 * screening batch's time. Numbers are formatted here rather than by
 * fprintf. */

/* Room for n more bytes and a NUL in memory mode; false (oom set, the text
 * dropped) when memory ran out. */
static bool mem_room(ch_jw *w, size_t n) {
    if (w->oom) return false;
    if (w->len + n + 1 <= w->cap) return true;
    if (n > SIZE_MAX - 1 - w->len) goto fail;
    char *b = ch_grow(w->buf, &w->cap, w->len + n + 1, 1); /* util/vec.h */
    if (!b) goto fail;
    w->buf = b;
    return true;
fail:
    free(w->buf);
    w->buf = NULL;
    w->len = w->cap = 0;
    w->oom = true;
    return false;
}

/* Room for n more bytes (and a NUL) in memory mode: the common case inline. */
static inline bool room(ch_jw *w, size_t n) {
    return w->len + n + 1 <= w->cap || mem_room(w, n);
}

static inline void out_n(ch_jw *w, const char *p, size_t n) {
    if (w->f) {
        fwrite_unlocked(p, 1, n, w->f);
    } else if (room(w, n)) {
        memcpy(w->buf + w->len, p, n);
        w->len += n;
    }
}

static inline void out_c(ch_jw *w, char c) {
    if (w->f) {
        putc_unlocked(c, w->f);
    } else if (room(w, 1)) {
        w->buf[w->len++] = c;
    }
}

#define OUT_LIT(w, lit) out_n((w), (lit), sizeof(lit) - 1)

void ch_jw_init(ch_jw *w, FILE *f) {
    memset(w, 0, sizeof *w);
    w->f = f;
    w->first[0] = true;
}

void ch_jw_init_mem(ch_jw *w, size_t reserve) {
    ch_jw_init(w, NULL);
    if (reserve) {
        w->buf = malloc(reserve);
        if (w->buf) w->cap = reserve; /* else: the first write tries again */
    }
}

char *ch_jw_mem_take(ch_jw *w, size_t *len) {
    char *b = NULL;
    *len = 0;
    if (!w->oom && mem_room(w, 0)) {
        w->buf[w->len] = '\0';
        b = w->buf;
        *len = w->len;
    } else {
        free(w->buf);
    }
    w->buf = NULL;
    w->len = w->cap = 0;
    w->oom = false;
    return b;
}

void ch_jw_mem_free(ch_jw *w) {
    free(w->buf);
    w->buf = NULL;
    w->len = w->cap = 0;
}

/* Write the separator a new value needs at the current depth. */
static void sep(ch_jw *w) {
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (!w->first[w->depth]) out_c(w, ',');
    w->first[w->depth] = false;
}

static void open(ch_jw *w, char c) {
    sep(w);
    out_c(w, c);
    if (w->depth < CH_JW_MAX_DEPTH - 1) w->depth++;
    w->first[w->depth] = true;
}

static void close_(ch_jw *w, char c) {
    out_c(w, c);
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

/* Does byte c go out as it is (printable ASCII but '"' and '\\')? A table:
 * the test runs on every byte of every string written. */
static const bool PLAIN[256] = {
#define R4(b)  [b] = true, [b + 1] = true, [b + 2] = true, [b + 3] = true
#define R16(b) R4(b), R4(b + 4), R4(b + 8), R4(b + 12)
    R16(0x20), R16(0x30), R16(0x40), R16(0x50), R16(0x60), R16(0x70),
#undef R16
#undef R4
};

static inline bool plain(unsigned char c) {
    return PLAIN[c] && c != '"' && c != '\\';
}

/* The length of s[0..n)'s first run of plain bytes, 8 at a time while
 * they are (a verdict's strings are such runs: the byte at a time test was
 * the writer's largest cost). */
static size_t plain_run(const char *s, size_t n) {
    const uint64_t ONES = 0x0101010101010101ull, HIGH = 0x8080808080808080ull;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x;
        memcpy(&x, s + i, 8);
        uint64_t q = x ^ (ONES * '"'), b = x ^ (ONES * '\\');
        /* a byte >= 0x80, < 0x20, equal to '"' or to '\\' (the usual
         * has-less and has-zero tests, exact for the word as a whole) */
        uint64_t bad =
            (x | ((x - ONES * 0x20) & ~x) | ((q - ONES) & ~q) | ((b - ONES) & ~b)) & HIGH;
        if (bad) break;
    }
    while (i < n && plain((unsigned char)s[i]))
        i++;
    return i;
}

/* A string, quoted and escaped. Runs of plain bytes go out in one write:
 * a verdict is mostly such runs, and a call per byte was most of its cost. */
static void put_escaped(ch_jw *w, const char *s, size_t n) {
    size_t first = plain_run(s, n);
    if (first == n && !w->f) { /* the whole string plain: one copy */
        if (!room(w, n + 2)) return;
        char *d = w->buf + w->len;
        d[0] = '"';
        memcpy(d + 1, s, n);
        d[n + 1] = '"';
        w->len += n + 2;
        return;
    }
    out_c(w, '"');
    for (size_t i = 0; i < n; i++) {
        size_t run = i == 0 ? first : i + plain_run(s + i, n - i);
        if (run > i) {
            out_n(w, s + i, run - i);
            i = run;
            if (i == n) break;
        }
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"':
            OUT_LIT(w, "\\\"");
            break;
        case '\\':
            OUT_LIT(w, "\\\\");
            break;
        case '\n':
            OUT_LIT(w, "\\n");
            break;
        case '\r':
            OUT_LIT(w, "\\r");
            break;
        case '\t':
            OUT_LIT(w, "\\t");
            break;
        default:
            if (c < 0x20) {
                static const char HEX[] = "0123456789abcdef";
                char u[6] = {'\\', 'u', '0', '0', HEX[c >> 4], HEX[c & 15]};
                out_n(w, u, sizeof u);
            } else {
                /* JSON is UTF-8: a byte that starts no well-formed sequence
                 * (text of another encoding that reached here) is written
                 * as U+FFFD, never copied through */
                size_t k = ch_utf8_seq((const unsigned char *)s + i, n - i);
                if (k) {
                    out_n(w, s + i, k);
                    i += k - 1;
                } else {
                    OUT_LIT(w, "\\ufffd");
                }
            }
        }
    }
    out_c(w, '"');
}

void ch_jw_key(ch_jw *w, const char *key) {
    sep(w);
    put_escaped(w, key, strlen(key));
    out_c(w, ':');
    w->after_key = true;
}

void ch_jw_key_quoted(ch_jw *w, const char *quoted, size_t n) {
    sep(w);
    out_n(w, quoted, n);
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
    put_escaped(w, s, n);
}

void ch_jw_int(ch_jw *w, int64_t v) {
    sep(w);
    char buf[24];
    /* the magnitude as unsigned: INT64_MIN has no positive int64 */
    uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    char *p = ch_dec_u64_back(m, buf + sizeof buf);
    if (v < 0) *--p = '-';
    out_n(w, p, (size_t)(buf + 24 - p));
}

void ch_jw_uint(ch_jw *w, uint64_t v) {
    sep(w);
    char buf[24];
    char *p = ch_dec_u64_back(v, buf + sizeof buf);
    out_n(w, p, (size_t)(buf + 24 - p));
}

/* The shortest of %.15g..%.17g that reads back to v (the form every double
 * is written in) into buf; its length. */
static size_t shortest(double v, char buf[40]) {
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, 40, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) break;
    }
    return strlen(buf);
}

/* The forms last written, by the double's bits (a thread's own: a verdict
 * writes the same few scores and shares again and again, and snprintf with
 * strtod was a tenth of a screening batch). */
#define DCACHE 64
static _Thread_local struct {
    uint64_t bits;
    uint8_t len; /* 0: empty */
    char s[31];
} dcache[DCACHE];

void ch_jw_double(ch_jw *w, double v) {
    sep(w);
    if (!isfinite(v)) {
        OUT_LIT(w, "null");
        return;
    }
    /* a whole number below 10^15 is its digits in %.15g (and reads back) */
    if (v > -1e15 && v < 1e15 && v == (double)(int64_t)v && !(v == 0 && signbit(v))) {
        char buf[24];
        int64_t iv = (int64_t)v;
        uint64_t m = iv < 0 ? (uint64_t)0 - (uint64_t)iv : (uint64_t)iv;
        char *p = ch_dec_u64_back(m, buf + sizeof buf);
        if (iv < 0) *--p = '-';
        out_n(w, p, (size_t)(buf + 24 - p));
        return;
    }
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    unsigned slot = (unsigned)((bits * 0x9E3779B97F4A7C15ull) >> 58);
    if (dcache[slot].len && dcache[slot].bits == bits) {
        out_n(w, dcache[slot].s, dcache[slot].len);
        return;
    }
    char buf[40];
    size_t n = shortest(v, buf);
    if (n < sizeof dcache[slot].s) {
        dcache[slot].bits = bits;
        dcache[slot].len = (uint8_t)n;
        memcpy(dcache[slot].s, buf, n);
    }
    out_n(w, buf, n);
}

void ch_jw_bool(ch_jw *w, bool v) {
    sep(w);
    if (v)
        OUT_LIT(w, "true");
    else
        OUT_LIT(w, "false");
}

void ch_jw_null(ch_jw *w) {
    sep(w);
    OUT_LIT(w, "null");
}

void ch_jw_raw(ch_jw *w, const char *json) {
    sep(w);
    out_n(w, json, strlen(json));
}

void ch_jw_newline(ch_jw *w) {
    out_c(w, '\n');
    w->first[0] = true;
    w->depth = 0;
    w->after_key = false;
}
