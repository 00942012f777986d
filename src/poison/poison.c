/* The address-poisoning detector, a pass the ingest caller runs over each
 * appended block (ch_poison_ingest_block; see poison.h). */
#include "poison/poison_internal.h"

#include <stdlib.h>
#include <string.h>

static const uint8_t ZERO20[20];

uint64_t ch_poison_signal_count(const ch_store *s) {
    return ch_store_note_count(s);
}

const ch_signal_rec *ch_poison_signal(const ch_store *s, uint64_t i) {
    return (const ch_signal_rec *)ch_store_note(s, i);
}

uint64_t ch_poison_signal_from(const ch_store *s, uint64_t x) {
    uint64_t lo = 0, hi = ch_poison_signal_count(s);
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (ch_poison_signal(s, mid)->xfer < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const char *ch_signal_kind_name(int kind) {
    switch (kind) {
    case CH_SIG_ZERO_SPOOF:
        return "zero_spoof";
    case CH_SIG_DUST:
        return "dust";
    case CH_SIG_FAKE_TOKEN:
        return "fake_token";
    case CH_SIG_LOOKALIKE:
        return "lookalike";
    }
    return "unknown";
}

void ch_poison_match(const uint8_t a[20], const uint8_t b[20], unsigned *prefix, unsigned *suffix) {
    unsigned p = 0, s = 0;
    while (p < 40 && ((a[p / 2] >> (p % 2 ? 0 : 4)) & 15) == ((b[p / 2] >> (p % 2 ? 0 : 4)) & 15))
        p++;
    /* from the end: the last character is the low nibble of byte 19 */
    while (s < 40) {
        unsigned i = 39 - s;
        if (((a[i / 2] >> (i % 2 ? 0 : 4)) & 15) != ((b[i / 2] >> (i % 2 ? 0 : 4)) & 15)) break;
        s++;
    }
    *prefix = p;
    *suffix = s;
}

int ch_poison_new(const ch_poison_opts *o, ch_poison **out, ch_error *err) {
    ch_poison *p = calloc(1, sizeof *p);
    if (!p) return ch_err(err, "poison: out of memory");
    if (o) p->o = *o;
    if (!p->o.chain_id) p->o.chain_id = 1;
    if (!p->o.native_dust_wei) p->o.native_dust_wei = 1000000000000ULL; /* 1e-6 ETH */
    if (!p->o.min_prefix) p->o.min_prefix = 4;
    if (!p->o.min_suffix) p->o.min_suffix = 4;
    if (!p->o.history) p->o.history = 512;
    if (ch_toktab_new(p->o.chain_id, &p->tokens, err) != 0 ||
        (p->o.tokens_path && ch_toktab_load(p->tokens, p->o.tokens_path, true, err) != 0) ||
        (p->o.token_meta_path &&
         ch_toktab_load(p->tokens, p->o.token_meta_path, false, err) != 0)) {
        ch_poison_free(p);
        return -1;
    }
    *out = p;
    return 0;
}

void ch_poison_free(ch_poison *p) {
    if (!p) return;
    ch_toktab_free(p->tokens);
    free(p->cache);
    free(p);
}

void pz_cache_clear(ch_poison *p) {
    p->n_cache = 0;
    if (p->cache) memset(p->cache, 0, p->cap_cache * sizeof *p->cache);
}

ch_toktab *ch_poison_tokens(ch_poison *p) {
    pz_cache_clear(p); /* tokens may change: forget what was derived from them */
    return p->tokens;
}

/* 10^k as 128 bits, k <= 38. */
static void pow10_128(unsigned k, uint64_t *lo, uint64_t *hi) {
    uint64_t l = 1, h = 0;
    for (unsigned i = 0; i < k; i++) {
        /* (h, l) * 10 = (h, l) * 8 + (h, l) * 2 */
        uint64_t l8 = l << 3, l2 = l << 1;
        uint64_t h8 = h << 3 | l >> 61, h2 = h << 1 | l >> 63;
        l = l8 + l2;
        h = h8 + h2 + (l < l8);
    }
    *lo = l;
    *hi = h;
}

static bool below(uint64_t lo, uint64_t hi, uint64_t tlo, uint64_t thi) {
    return hi < thi || (hi == thi && lo < tlo);
}

/* What the detector knows about asset id `asset` of s, derived once. The
 * entry keeps the asset's address, so a reorg that gives the id to another
 * address (or another store) is noticed and the entry redone. */
static const pz_asset *asset_info(ch_poison *p, const ch_store *s, ch_addr_id asset) {
    ch_addr a;
    ch_store_addr_of(s, asset, &a);
    if ((p->n_cache + 1) * 2 > p->cap_cache) {
        size_t cap = p->cap_cache ? p->cap_cache * 2 : 256;
        pz_asset *c = calloc(cap, sizeof *c);
        if (!c) return NULL;
        for (size_t i = 0; i < p->cap_cache; i++) {
            if (!p->cache[i].id) continue;
            size_t j = (p->cache[i].id * 2654435761u) & (cap - 1);
            while (c[j].id)
                j = (j + 1) & (cap - 1);
            c[j] = p->cache[i];
        }
        free(p->cache);
        p->cache = c;
        p->cap_cache = cap;
    }
    size_t j = (asset * 2654435761u) & (p->cap_cache - 1);
    while (p->cache[j].id && p->cache[j].id != asset)
        j = (j + 1) & (p->cap_cache - 1);
    pz_asset *e = &p->cache[j];
    if (e->id == asset && !memcmp(e->addr, a.bytes, 20)) return e;
    if (e->id != asset) p->n_cache++;
    memset(e, 0, sizeof *e);
    e->id = asset;
    memcpy(e->addr, a.bytes, 20);
    e->token = ch_toktab_find(p->tokens, a.bytes);
    e->fake = ch_toktab_is_fake(p->tokens, e->token);
    if (e->token && e->token->decimals >= 2 && e->token->decimals <= 40) {
        e->has_dust = true; /* below 0.01 unit = 10^(decimals - 2) */
        pow10_128((unsigned)e->token->decimals - 2, &e->dust_lo, &e->dust_hi);
    }
    return e;
}

/* The transfer's counterpart addresses and whether they are plain accounts
 * that can carry a signal (no mint, burn, fee or reward). */
static bool carrier(const ch_store *s, const ch_xfer_rec *r) {
    if (r->kind != CH_XFER_NATIVE && r->kind != CH_XFER_INTERNAL && r->kind != CH_XFER_TOKEN)
        return false;
    if (!r->from || !r->to || r->from == r->to || r->tx == CH_NO_TX) return false;
    if (ch_store_etx(s, r->tx)->status == 0) return false; /* failed: moved nothing */
    ch_addr a;
    ch_store_addr_of(s, r->from, &a);
    if (!memcmp(a.bytes, ZERO20, 20)) return false; /* a mint */
    ch_store_addr_of(s, r->to, &a);
    return memcmp(a.bytes, ZERO20, 20) != 0; /* not a burn */
}

unsigned ch_poison_classify(ch_poison *p, const ch_store *s, const ch_xfer_rec *r) {
    if (!carrier(s, r)) return 0;
    unsigned m = 0;
    bool zero = r->value_lo == 0 && r->value_hi == 0;
    if (r->flags & CH_XFER_ZERO_SPOOF) m |= 1u << CH_SIG_ZERO_SPOOF;
    if (r->kind == CH_XFER_TOKEN) {
        const pz_asset *e = asset_info(p, s, r->asset);
        if (e && e->fake) m |= 1u << CH_SIG_FAKE_TOKEN;
        /* a zero-value token transfer the sender made itself is dust too
         * (the spoofed ones are ZERO_SPOOF already) */
        if (zero ? !(m & (1u << CH_SIG_ZERO_SPOOF))
                 : (e && e->has_dust && below(r->value_lo, r->value_hi, e->dust_lo, e->dust_hi)))
            m |= 1u << CH_SIG_DUST;
    } else if (!zero && r->value_hi == 0 && r->value_lo < p->o.native_dust_wei) {
        m |= 1u << CH_SIG_DUST; /* zero-value native transfers are plain contract calls */
    }
    return m;
}

/* The victim's real counterparty that `suspect` imitates best: walking the
 * victim's history back from transfer x, clean value transfers only. */
static bool best_counterparty(ch_poison *p, const ch_store *s, uint64_t x, ch_addr_id victim,
                              ch_addr_id suspect, pz_match *out) {
    ch_addr sa, ca;
    ch_store_addr_of(s, suspect, &sa);
    memset(out, 0, sizeof *out);
    ch_addr_id last_c = 0;
    unsigned steps = 0;
    for (int64_t y = ch_store_xfer_prev(s, x, victim); y >= 0 && steps < p->o.history;
         y = ch_store_xfer_prev(s, (uint64_t)y, victim), steps++) {
        ch_xfer_rec r = *ch_store_xfer(s, (uint64_t)y);
        if ((r.value_lo == 0 && r.value_hi == 0) || !carrier(s, &r) ||
            ch_poison_classify(p, s, &r) != 0)
            continue;
        ch_addr_id c = r.from == victim ? r.to : r.from;
        if (c == suspect || c == last_c) continue;
        last_c = c;
        ch_store_addr_of(s, c, &ca);
        unsigned pre, suf;
        ch_poison_match(sa.bytes, ca.bytes, &pre, &suf);
        if (pre < p->o.min_prefix || suf < p->o.min_suffix) continue;
        if (out->c && pre + suf <= out->prefix + out->suffix) continue; /* keep the more recent */
        out->c = c;
        out->prefix = pre;
        out->suffix = suf;
    }
    return out->c != 0;
}

/* The address id of a genuine token in s, 0 when the store does not know it. */
static ch_addr_id genuine_id(ch_poison *p, ch_store *s, const ch_token_info *g) {
    for (size_t i = 0; i < p->cap_cache; i++) /* assets seen, pending ones included */
        if (p->cache[i].id && !memcmp(p->cache[i].addr, g->addr, 20)) return p->cache[i].id;
    ch_addr a = {.kind = CH_ADDR_EVM, .len = 20};
    memcpy(a.bytes, g->addr, 20);
    ch_addr_id id;
    uint64_t last;
    return ch_store_find_addr(s, &a, &id, &last, NULL) == 1 ? id : 0;
}

static int add(ch_store *s, uint64_t x, int kind, ch_addr_id victim, ch_addr_id look,
               ch_addr_id imit, unsigned pre, unsigned suf, ch_error *err) {
    ch_signal_rec r = {.xfer = x,
                       .victim = victim,
                       .lookalike = look,
                       .imitated = imit,
                       .kind = (uint8_t)kind,
                       .prefix = (uint8_t)pre,
                       .suffix = (uint8_t)suf};
    ch_xfer_note n;
    memcpy(&n, &r, sizeof n);
    return ch_store_add_note(s, &n, err);
}

int ch_poison_scan(ch_poison *p, ch_store *s, uint64_t first, ch_error *err) {
    uint64_t end = ch_store_xfer_count(s);
    /* cached asset ids belong to one store and its history: another store,
     * or a reorg (the store shrank since the last scan), drops them */
    if (p->cache_store != s || first < p->cache_end) pz_cache_clear(p);
    p->cache_store = s;
    p->cache_end = end;
    for (uint64_t x = first; x < end; x++) {
        ch_xfer_rec r = *ch_store_xfer(s, x);
        unsigned m = ch_poison_classify(p, s, &r);
        if (!m) continue;
        ch_addr_id victim = r.to, suspect = r.from;
        pz_match best;
        bool hit = best_counterparty(p, s, x, victim, suspect, &best);
        if (m & (1u << CH_SIG_ZERO_SPOOF)) {
            /* transferFrom(victim, lookalike, 0) shows as victim -> lookalike:
             * try that way too and keep the better match, that way by default */
            pz_match other;
            bool hit2 = best_counterparty(p, s, x, r.from, r.to, &other);
            if (!hit || (hit2 && other.prefix + other.suffix > best.prefix + best.suffix)) {
                victim = r.from;
                suspect = r.to;
                best = other;
                hit = hit2;
            }
        }
        if ((m & (1u << CH_SIG_ZERO_SPOOF)) &&
            add(s, x, CH_SIG_ZERO_SPOOF, victim, suspect, best.c, best.prefix, best.suffix, err))
            return -1;
        if ((m & (1u << CH_SIG_DUST)) &&
            add(s, x, CH_SIG_DUST, victim, suspect, best.c, best.prefix, best.suffix, err))
            return -1;
        if (m & (1u << CH_SIG_FAKE_TOKEN)) {
            const pz_asset *e = asset_info(p, s, r.asset);
            const ch_token_info *g = e ? ch_toktab_genuine(p->tokens, e->token->symbol) : NULL;
            ch_addr_id gid = g ? genuine_id(p, s, g) : 0;
            unsigned pre = 0, suf = 0;
            if (g) ch_poison_match(e->addr, g->addr, &pre, &suf);
            if (add(s, x, CH_SIG_FAKE_TOKEN, victim, r.asset, gid, pre, suf, err)) return -1;
        }
        if (hit &&
            add(s, x, CH_SIG_LOOKALIKE, victim, suspect, best.c, best.prefix, best.suffix, err))
            return -1;
    }
    return 0;
}

/* ---- the ingest pass ---- */
int ch_poison_ingest_block(void *detector, ch_store *s, ch_error *err) {
    uint32_t h = ch_store_next_height(s);
    if (h == 0) return 0;
    const ch_block_rec *b = ch_store_block(s, h - 1);
    if (b->n_tx == 0) return 0; /* withdrawals only: nothing a poisoner sends */
    return ch_poison_scan(detector, s, ch_store_tx(s, b->first_tx)->first_out, err);
}
