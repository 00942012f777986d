/* UTF-8 checks and repair (utf8.h). */
#include "util/utf8.h"

#include <stdint.h>
#include <string.h>

size_t ch_utf8_seq(const unsigned char *s, size_t n) {
    unsigned c = s[0];
    size_t len;
    uint32_t cp, min;
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
        min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
        min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
        min = 0x10000;
    } else {
        return 0; /* a continuation byte, C0/C1 (overlong), F5..FF */
    }
    if (n < len) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return len;
}

bool ch_utf8_valid(const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t k = ch_utf8_seq(p + i, n - i);
        if (!k) return false;
        i += k;
    }
    return true;
}

/* CP1252's 0x80..0x9F; 0 where it defines no character. */
static const uint16_t CP1252_HIGH[32] = {
    0x20ac, 0,      0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017d, 0,      0,      0x2018, 0x2019, 0x201c, 0x201d, 0x2022,
    0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0,      0x017e, 0x0178,
};

static size_t encode(uint32_t cp, unsigned char out[4]) {
    if (cp < 0x80) {
        out[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (unsigned char)(0xc0 | (cp >> 6));
        out[1] = (unsigned char)(0x80 | (cp & 0x3f));
        return 2;
    }
    out[0] = (unsigned char)(0xe0 | (cp >> 12));
    out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
    out[2] = (unsigned char)(0x80 | (cp & 0x3f));
    return 3; /* CP1252 reaches no further than U+FFFD */
}

/* Is s[0..n) the start of a well-formed sequence that n cut short? */
static bool cut_short(const unsigned char *s, size_t n) {
    unsigned c = s[0];
    size_t len = c >= 0xc2 && c <= 0xdf   ? 2
                 : c >= 0xe0 && c <= 0xef ? 3
                 : c >= 0xf0 && c <= 0xf4 ? 4
                                          : 0;
    if (!len || n >= len) return false;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80) return false;
    return true;
}

size_t ch_utf8_repair(const char *in, size_t n, bool input_cut, char *out, size_t cap) {
    const unsigned char *p = (const unsigned char *)in;
    size_t o = 0, fixed = 0;
    if (cap == 0) return 0;
    for (size_t i = 0; i < n;) {
        unsigned char buf[4];
        const unsigned char *src = p + i;
        size_t k = ch_utf8_seq(p + i, n - i), used = k;
        if (!k) {
            if (input_cut && cut_short(p + i, n - i)) break; /* drop a cut character */
            uint32_t cp = p[i] >= 0xa0 ? p[i] : CP1252_HIGH[p[i] - 0x80];
            k = encode(cp ? cp : 0xfffd, buf);
            src = buf;
            used = 1;
            fixed++;
        }
        if (o + k >= cap) break; /* whole characters only */
        memcpy(out + o, src, k);
        o += k;
        i += used;
    }
    out[o] = '\0';
    return fixed;
}
