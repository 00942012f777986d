/* The character classes of a short string as bit masks, one bit per byte:
 * what address parsing asks of every character (printable? which case?
 * Base58? hex? where is the last '1'?) answered for 16 bytes at a time with
 * SSE2 where the machine has it (every x86-64 does), byte by byte
 * elsewhere. The answers are the same either way; the scalar loop is their
 * definition. */
#ifndef COINHOUND_INTEL_ADDR_SCAN_H
#define COINHOUND_INTEL_ADDR_SCAN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* Bit i of each mask is about byte i of the string (i < 64). */
typedef struct addr_scan {
    uint64_t print;  /* 0x21..0x7e */
    uint64_t upper;  /* A-Z */
    uint64_t lower;  /* a-z */
    uint64_t b58;    /* Bitcoin's Base58 alphabet (no 0, O, I, l) */
    uint64_t uphex;  /* A-F */
    uint64_t lowhex; /* a-f */
    uint64_t digit;  /* 0-9 */
    uint64_t one;    /* '1' */
} addr_scan;

/* The classes of byte c, as bits of one byte each. */
static inline void addr_scan_byte(unsigned c, size_t i, addr_scan *m) {
    uint64_t bit = (uint64_t)1 << i;
    unsigned up = c - 'A' < 26u, lo = c - 'a' < 26u, dg = c - '0' < 10u;
    if (c > 0x20 && c < 0x7f) m->print |= bit;
    if (up) m->upper |= bit;
    if (lo) m->lower |= bit;
    if (dg) m->digit |= bit;
    if (c - 'A' < 6u) m->uphex |= bit;
    if (c - 'a' < 6u) m->lowhex |= bit;
    if (c == '1') m->one |= bit;
    if ((dg && c != '0') || (up && c != 'I' && c != 'O') || (lo && c != 'l')) m->b58 |= bit;
}

#if defined(__SSE2__)
/* The masks of 16 bytes at p, shifted to bit at. */
__attribute__((always_inline)) static inline void addr_scan16(const unsigned char *p, unsigned at,
                                                              addr_scan *m) {
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
#define RANGE(lo, hi) /* lo <= byte <= hi, bytes read as signed (all under 0x80 here) */           \
    _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8((char)((lo)-1))),                                \
                  _mm_cmplt_epi8(v, _mm_set1_epi8((char)((hi) + 1))))
#define EQ(c)   _mm_cmpeq_epi8(v, _mm_set1_epi8((char)(c)))
#define BITS(x) ((uint64_t)(unsigned)_mm_movemask_epi8(x) << at)
    __m128i print = RANGE(0x21, 0x7e), up = RANGE('A', 'Z'), lo = RANGE('a', 'z'),
            dg = RANGE('0', '9');
    __m128i not58 = _mm_or_si128(_mm_or_si128(EQ('0'), EQ('O')), _mm_or_si128(EQ('I'), EQ('l')));
    __m128i alnum = _mm_or_si128(_mm_or_si128(up, lo), dg);
    m->print |= BITS(print);
    m->upper |= BITS(up);
    m->lower |= BITS(lo);
    m->digit |= BITS(dg);
    m->uphex |= BITS(RANGE('A', 'F'));
    m->lowhex |= BITS(RANGE('a', 'f'));
    m->one |= BITS(EQ('1'));
    m->b58 |= BITS(_mm_andnot_si128(not58, alnum));
#undef RANGE
#undef EQ
#undef BITS
}
#endif

/* The masks of s[0..n), n <= 64; s must be readable to s[64] (a buffer of
 * at least 64 bytes: what lies past n is read and masked off). */
static inline void addr_scan_str(const char *s, size_t n, addr_scan *m) {
    memset(m, 0, sizeof *m);
#if defined(__SSE2__)
    const unsigned char *u = (const unsigned char *)s;
    for (unsigned at = 0; at < n; at += 16)
        addr_scan16(u + at, at, m);
    uint64_t keep = n >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << n) - 1;
    m->print &= keep;
    m->upper &= keep;
    m->lower &= keep;
    m->digit &= keep;
    m->uphex &= keep;
    m->lowhex &= keep;
    m->one &= keep;
    m->b58 &= keep;
#else
    for (size_t i = 0; i < n; i++)
        addr_scan_byte((unsigned char)s[i], i, m);
#endif
}

#endif
