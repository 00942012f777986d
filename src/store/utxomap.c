#include "store/utxomap.h"

#include "util/bigmem.h"

#include <string.h>
#include <sys/random.h>

/* --- SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input
 * PRF", 2012): 64-bit output, and the 128-bit one of the same paper's
 * reference code --- */

#define ROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))

typedef struct sip_state {
    uint64_t v0, v1, v2, v3;
} sip_state;

static void sip_round(sip_state *s) {
    s->v0 += s->v1;
    s->v1 = ROTL(s->v1, 13);
    s->v1 ^= s->v0;
    s->v0 = ROTL(s->v0, 32);
    s->v2 += s->v3;
    s->v3 = ROTL(s->v3, 16);
    s->v3 ^= s->v2;
    s->v0 += s->v3;
    s->v3 = ROTL(s->v3, 21);
    s->v3 ^= s->v0;
    s->v2 += s->v1;
    s->v1 = ROTL(s->v1, 17);
    s->v1 ^= s->v2;
    s->v2 = ROTL(s->v2, 32);
}

static void sip_word(sip_state *s, uint64_t m) {
    s->v3 ^= m;
    sip_round(s);
    sip_round(s);
    s->v0 ^= m;
}

static uint64_t sip_out(sip_state *s) {
    for (int i = 0; i < 4; i++)
        sip_round(s);
    return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

/* The compression of data (little-endian words, the length in the top
 * byte of the last), then the first output word. */
static uint64_t sip_run(sip_state *s, const uint64_t key[2], const uint8_t *p, size_t len,
                        bool wide) {
    s->v0 = key[0] ^ 0x736f6d6570736575ULL;
    s->v1 = key[1] ^ 0x646f72616e646f6dULL;
    s->v2 = key[0] ^ 0x6c7967656e657261ULL;
    s->v3 = key[1] ^ 0x7465646279746573ULL;
    if (wide) s->v1 ^= 0xee;
    size_t full = len & ~(size_t)7;
    for (size_t i = 0; i < full; i += 8) {
        uint64_t m = 0;
        for (int j = 7; j >= 0; j--)
            m = m << 8 | p[i + (size_t)j];
        sip_word(s, m);
    }
    uint64_t b = (uint64_t)len << 56;
    for (size_t j = 0; j < (len & 7); j++)
        b |= (uint64_t)p[full + j] << (8 * j);
    sip_word(s, b);
    s->v2 ^= wide ? 0xee : 0xff;
    return sip_out(s);
}

uint64_t st_siphash24(const uint64_t key[2], const void *data, size_t len) {
    sip_state s;
    return sip_run(&s, key, data, len, false);
}

st_utxo_key st_utxo_key_of(const st_utxo *m, const ch_hash256 *txid, uint32_t vout) {
    uint8_t in[36];
    memcpy(in, txid->b, 32);
    for (int j = 0; j < 4; j++)
        in[32 + j] = (uint8_t)(vout >> (8 * j));
    sip_state s;
    st_utxo_key k;
    k.h0 = sip_run(&s, m->sip, in, sizeof in, true);
    s.v1 ^= 0xdd;
    k.h1 = sip_out(&s);
    if (k.h0 == 0) k.h0 = 1; /* 0 marks an empty slot */
    return k;
}

/* --- the table: open addressing, linear probing, deletion by backward
 * shift (no tombstones: spends delete as often as outputs insert) --- */

static uint64_t ld64(const uint8_t *p) {
    uint64_t x;
    memcpy(&x, p, 8);
    return x;
}

static void st64(uint8_t *p, uint64_t x) {
    memcpy(p, &x, 8);
}

static uint8_t *slot(const st_utxo *m, uint64_t i) {
    return m->slots + i * ST_UTXO_REC;
}

static uint64_t home(const st_utxo *m, uint64_t h0) {
    return (uint64_t)(((unsigned __int128)h0 * m->cap) >> 64);
}

static uint64_t next(const st_utxo *m, uint64_t i) {
    return i + 1 == m->cap ? 0 : i + 1;
}

#define LOW40 ((1ULL << 40) - 1)

static bool matches(const uint8_t *p, st_utxo_key k) {
    return ld64(p) == k.h0 && ld64(p + 8) >> 40 == k.h1 >> 40;
}

static uint64_t entry_out(const uint8_t *p) {
    return ld64(p + 8) & LOW40;
}

static void entry_write(uint8_t *p, st_utxo_key k, const st_utxo_val *v) {
    st64(p, k.h0);
    st64(p + 8, (v->out & LOW40) | (k.h1 >> 40) << 40);
    st64(p + 16, (v->tx & LOW40) | (v->value & 0xffffff) << 40);
    uint32_t hi = (uint32_t)(v->value >> 24);
    memcpy(p + 24, &hi, 4);
}

static void entry_read(const uint8_t *p, st_utxo_val *v) {
    v->out = entry_out(p);
    uint64_t w2 = ld64(p + 16);
    uint32_t hi;
    memcpy(&hi, p + 24, 4);
    v->tx = w2 & LOW40;
    v->value = w2 >> 40 | (uint64_t)hi << 24;
}

int st_utxo_init(st_utxo *m, uint64_t bytes) {
    st_utxo_free(m);
    if (bytes == 0) return 0;
    uint64_t cap = bytes / ST_UTXO_REC;
    if (cap < 64) cap = 64; /* tests let a map of a few entries go all the time */
    m->slots = ch_big_alloc(cap * ST_UTXO_REC);
    if (!m->slots) return -1;
    m->cap = cap;
    m->max = cap / 4 * 3;
    m->lo = UINT64_MAX;
    m->hi = 0; /* linear probing: about 8.5 slots a miss at 3/4 */
    /* a key nobody outside the process knows (see the header); without
     * randomness, one from the address space's layout and the clock */
    if (getrandom(m->sip, sizeof m->sip, 0) != (ssize_t)sizeof m->sip) {
        m->sip[0] = (uint64_t)(uintptr_t)m->slots ^ 0x243f6a8885a308d3ULL;
        m->sip[1] = (uint64_t)(uintptr_t)&m ^ 0x13198a2e03707344ULL;
    }
    return 0;
}

void st_utxo_free(st_utxo *m) {
    ch_big_free(m->slots, m->cap * ST_UTXO_REC);
    memset(m, 0, sizeof *m);
}

/* Remove the entry at i, moving later entries of its cluster back into
 * the hole when their home allows it. */
static void del_at(st_utxo *m, uint64_t i) {
    for (uint64_t j = next(m, i);; j = next(m, j)) {
        uint8_t *q = slot(m, j);
        uint64_t h = ld64(q);
        if (!h) break;
        uint64_t hm = home(m, h);
        /* it stays when its home lies in the cyclic range (i, j] */
        bool stays = i <= j ? (hm > i && hm <= j) : (hm > i || hm <= j);
        if (stays) continue;
        memcpy(slot(m, i), q, ST_UTXO_REC);
        i = j;
    }
    memset(slot(m, i), 0, ST_UTXO_REC);
    m->count--;
}

/* Drop every entry whose output is outside [lo, hi) and put each entry
 * left where a lookup finds it, in one pass: in slot order from a slot
 * that was empty before (so each cluster from its start), an entry kept
 * moves back to the first empty slot from its home when one opened before
 * it (a lookup's probe stops at an empty slot), which lies in the part
 * already visited: the entries after it do not change where it belongs.
 * The bounds shrink to [lo, hi). */
static void sweep(st_utxo *m, uint64_t lo, uint64_t hi) {
    uint64_t empty = 0;
    while (empty < m->cap && ld64(slot(m, empty)))
        empty++;
    if (empty == m->cap) return; /* cannot be: count < cap */
    for (uint64_t n = 1, i = next(m, empty); n < m->cap; n++, i = next(m, i)) {
        uint8_t *p = slot(m, i);
        uint64_t h = ld64(p);
        if (!h) continue;
        if (entry_out(p) < lo || entry_out(p) >= hi) {
            memset(p, 0, ST_UTXO_REC);
            m->count--;
            continue;
        }
        uint64_t j = home(m, h);
        while (j != i && ld64(slot(m, j)))
            j = next(m, j);
        if (j == i) continue;
        memcpy(slot(m, j), p, ST_UTXO_REC);
        memset(p, 0, ST_UTXO_REC);
    }
    if (m->lo < lo) m->lo = lo;
    if (hi && m->hi > hi - 1) m->hi = hi - 1;
    if (m->count == 0) m->lo = UINT64_MAX, m->hi = 0;
}

/* Let go of the oldest quarter of the entries (by output index): a
 * histogram of the outputs between the bounds (buckets of a power of two
 * outputs: a shift, not a division, for each entry), then one sweep. */
static void evict(st_utxo *m) {
    uint64_t lo = m->lo, hi = m->hi;
    if (lo > hi) return;
    enum { BUCKETS = 4096 };
    static uint64_t hist[BUCKETS];
    memset(hist, 0, sizeof hist);
    int shift = 0;
    while (((hi - lo) >> shift) >= BUCKETS)
        shift++;
    for (uint64_t i = 0; i < m->cap; i++) {
        const uint8_t *p = slot(m, i);
        if (ld64(p)) hist[(entry_out(p) - lo) >> shift]++;
    }
    uint64_t sum = 0, cut = hi + 1;
    for (uint64_t b = 0; b < BUCKETS; b++) {
        sum += hist[b];
        if (sum >= m->count / 4) {
            cut = lo + ((b + 1) << shift);
            break;
        }
    }
    sweep(m, cut, UINT64_MAX);
    m->evictions++;
}

void st_utxo_put(st_utxo *m, st_utxo_key k, const st_utxo_val *v) {
    if (!m->slots) return;
    if (m->count >= m->max) evict(m);
    if (m->count >= m->max) return; /* one output held them all: add none */
    uint64_t i = home(m, k.h0);
    for (uint8_t *p; ld64(p = slot(m, i)); i = next(m, i))
        if (matches(p, k)) {
            del_at(m, i);
            return;
        }
    entry_write(slot(m, i), k, v);
    m->count++;
    uint64_t out = v->out & LOW40; /* as the entry holds it */
    if (out < m->lo) m->lo = out;
    if (out > m->hi) m->hi = out;
}

/* The slot holding k, or cap. */
static uint64_t find(const st_utxo *m, st_utxo_key k) {
    if (!m->slots) return UINT64_MAX;
    uint64_t i = home(m, k.h0);
    for (const uint8_t *p; ld64(p = slot(m, i)); i = next(m, i))
        if (matches(p, k)) return i;
    return UINT64_MAX;
}

bool st_utxo_get(const st_utxo *m, st_utxo_key k, st_utxo_val *v) {
    uint64_t i = find(m, k);
    if (i == UINT64_MAX) return false;
    entry_read(slot(m, i), v);
    return true;
}

void st_utxo_del(st_utxo *m, st_utxo_key k) {
    uint64_t i = find(m, k);
    if (i != UINT64_MAX) del_at(m, i);
}

void st_utxo_cut(st_utxo *m, uint64_t out) {
    if (m->slots && m->count) sweep(m, 0, out);
}

void st_utxo_prefetch(const st_utxo *m, st_utxo_key k) {
    if (!m->slots) return;
    const uint8_t *p = slot(m, home(m, k.h0));
    __builtin_prefetch(p);
    __builtin_prefetch(p + ST_UTXO_REC - 1);
}
