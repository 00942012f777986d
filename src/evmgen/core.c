/* The EVM generator's basics: randomness, 128-bit quantities, the token
 * table, accounts and their addresses, labels and exchange deposit
 * addresses. */
#include "evg_internal.h"

#include <stdlib.h>
#include <string.h>

#include "coinhound/chainaddr.h"
#include "coinhound/hash.h"
#include "util/decimal.h"
#include "util/vec.h"

/* USDT, USDC and WETH sit at their mainnet addresses so that a real token
 * table (and real labels of those contracts) resolve them; the unknown and
 * the fake token are deployed in the first block. The fake one copies
 * USDT's symbol and name exactly, as poisoners' tokens do. */
const evg_token_info EVG_TOKENS[TK_COUNT] = {
    [TK_USDT] = {"USDT", "Tether USD", 6, "dac17f958d2ee523a2206206994597c13d831ec7", true,
                 3000000000ULL},
    [TK_USDC] = {"USDC", "USD Coin", 6, "a0b86991c6218b36c1d19d4a2e9eb0ce3606eb48", true,
                 3000000000ULL},
    [TK_WETH] = {"WETH", "Wrapped Ether", 18, "c02aaa39b223fe8d0a0e5c4f27ead9083c756cc2", true,
                 1000000000000000000ULL},
    [TK_UNK] = {"GLIMR", "Glimmer Protocol", 18, NULL, false, 0},
    [TK_FAKE] = {"USDT", "Tether USD", 6, NULL, true, 0},
};

/* --- PRNG ----------------------------------------------------------------- */

/* splitmix64 (Steele, Lea, Flood) used as the generator itself: one add and
 * a mix per number, full period 2^64, and equal output on every platform. */
uint64_t evg_next(evg_rng *r) {
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Multiply-shift: a fixed number of draws per call keeps the stream, and so
 * the output, identical whatever the values. The bias is negligible here. */
uint64_t evg_below(evg_rng *r, uint64_t n) {
    return (uint64_t)(((u128)evg_next(r) * n) >> 64);
}

uint64_t evg_range(evg_rng *r, uint64_t lo, uint64_t hi) {
    return lo + evg_below(r, hi - lo + 1);
}

bool evg_chance(evg_rng *r, unsigned per_mille) {
    return evg_below(r, 1000) < per_mille;
}

void evg_bytes(evg_rng *r, uint8_t *out, size_t n) {
    for (size_t i = 0; i < n; i += 8) {
        uint64_t v = evg_next(r);
        for (size_t k = 0; k < 8 && i + k < n; k++)
            out[i + k] = (uint8_t)(v >> (8 * k));
    }
}

/* --- u128 ----------------------------------------------------------------- */

const char *evg_u128_dec(u128 v, char out[40]) {
    ch_dec_u128(v, out);
    return out;
}

void evg_u128_word(u128 v, uint8_t out[32]) {
    memset(out, 0, 16);
    for (int i = 31; i >= 16; i--) {
        out[i] = (uint8_t)v;
        v >>= 8;
    }
}

u128 evg_logrand(evg_rng *r, u128 lo, u128 hi) {
    if (hi <= lo) return lo;
    /* a random number of binary orders of magnitude above lo, then uniform
     * within that order */
    unsigned bits = 0;
    for (u128 q = hi / lo; q > 1; q >>= 1)
        bits++;
    unsigned b = (unsigned)evg_below(r, bits + 1);
    u128 base = lo << b;
    u128 v = base + (u128)evg_below(r, UINT64_MAX) * base / UINT64_MAX;
    return v > hi ? hi : v;
}

/* --- accounts ------------------------------------------------------------- */

void *evg_grow(void *p, uint32_t *cap, uint32_t need, size_t elem) {
    if (need <= *cap) return p;
    size_t c = *cap;
    void *q = ch_grow(p, &c, need, elem); /* util/vec.h */
    if (!q) {
        fprintf(stderr, "coinhound-evmgen: out of memory\n");
        abort();
    }
    *cap = c > UINT32_MAX ? UINT32_MAX : (uint32_t)c; /* the block holds at least that */
    return q;
}

uint32_t evg_acct_at(evg *g, evg_role role, const uint8_t addr[20]) {
    g->a = evg_grow(g->a, &g->cap_a, g->n_a + 1, sizeof *g->a);
    evg_acct *a = &g->a[g->n_a];
    memset(a, 0, sizeof *a);
    memcpy(a->addr, addr, 20);
    a->role = (uint8_t)role;
    g->st.accounts++;
    return g->n_a++;
}

/* Fresh addresses: the last 20 bytes of Keccak-256 over the seed and a
 * counter, so they look like real ones (which are hashes of public keys). */
uint32_t evg_acct_new(evg *g, evg_role role) {
    uint8_t in[24], h[32];
    memcpy(in, "evg:", 4);
    for (int i = 0; i < 8; i++) {
        in[4 + i] = (uint8_t)(g->o->seed >> (8 * i));
        in[12 + i] = (uint8_t)(g->addr_ctr >> (8 * i));
    }
    memset(in + 20, 0, 4);
    g->addr_ctr++;
    ch_keccak256(in, sizeof in, h);
    return evg_acct_at(g, role, h + 12);
}

/* keccak256(rlp([sender, nonce]))[12:], as the EVM computes it. */
void evg_create_addr(const uint8_t sender[20], uint64_t nonce, uint8_t out[20]) {
    uint8_t enc[9], rlp[32], h[32];
    size_t elen = 0;
    if (nonce == 0) {
        enc[elen++] = 0x80; /* the empty string */
    } else if (nonce < 0x80) {
        enc[elen++] = (uint8_t)nonce; /* a single byte is its own encoding */
    } else {
        int top = 7;
        while (!(nonce >> (8 * top)))
            top--;
        enc[elen++] = (uint8_t)(0x80 + top + 1);
        for (int i = top; i >= 0; i--)
            enc[elen++] = (uint8_t)(nonce >> (8 * i));
    }
    size_t n = 0;
    rlp[n++] = (uint8_t)(0xc0 + 21 + elen);
    rlp[n++] = 0x80 + 20;
    memcpy(rlp + n, sender, 20);
    n += 20;
    memcpy(rlp + n, enc, elen);
    n += elen;
    ch_keccak256(rlp, n, h);
    memcpy(out, h + 12, 20);
}

void evg_label(evg *g, uint32_t acct, const char *category, const char *entity) {
    g->labels = evg_grow(g->labels, &g->cap_labels, g->n_labels + 1, sizeof *g->labels);
    g->labels[g->n_labels++] = (evg_lbl){acct, category, entity};
    g->st.labels++;
}

/* The same names as the Bitcoin generator's exchanges: one entity across
 * chains. */
const char *evg_ex_entity(unsigned ex) {
    static const char *const NAMES[N_EX] = {"Northwind Exchange", "Harborview Exchange",
                                            "Quarry Exchange"};
    return NAMES[ex % N_EX];
}

static uint32_t dep_find(const evg *g, uint64_t key) {
    uint32_t mask = g->dep_cap - 1;
    uint32_t i = (uint32_t)((key * 0x9e3779b97f4a7c15ULL) >> 32) & mask;
    while (g->dep_key[i] && g->dep_key[i] != key)
        i = (i + 1) & mask;
    return i;
}

uint32_t evg_deposit_addr(evg *g, uint32_t owner, unsigned ex) {
    if ((g->dep_n + 1) * 2 > g->dep_cap) { /* keep the table at most half full */
        uint32_t old_cap = g->dep_cap;
        uint64_t *ok = g->dep_key;
        uint32_t *ov = g->dep_val;
        g->dep_cap = old_cap ? old_cap * 2 : 1024;
        g->dep_key = calloc(g->dep_cap, sizeof *g->dep_key);
        g->dep_val = calloc(g->dep_cap, sizeof *g->dep_val);
        if (!g->dep_key || !g->dep_val) abort();
        for (uint32_t i = 0; i < old_cap; i++) {
            if (!ok[i]) continue;
            uint32_t j = dep_find(g, ok[i]);
            g->dep_key[j] = ok[i];
            g->dep_val[j] = ov[i];
        }
        free(ok);
        free(ov);
    }
    uint64_t key = (uint64_t)owner * N_EX + ex + 1;
    uint32_t i = dep_find(g, key);
    if (g->dep_key[i]) return g->dep_val[i];
    uint32_t d = evg_acct_new(g, RO_DEPOSIT);
    g->a[d].ex = (uint8_t)ex;
    evg_label(g, d, "exchange", evg_ex_entity(ex));
    g->dep_key[i] = key;
    g->dep_val[i] = d;
    g->dep_n++;
    return d;
}

uint32_t evg_random_user(evg *g) {
    /* a quarter of the picks go to the first tenth of users: some accounts
     * are much busier than others */
    uint32_t n = g->n_users;
    if (n >= 10 && evg_chance(&g->rng, 250)) n /= 10;
    return g->first_user + (uint32_t)evg_below(&g->rng, n);
}

u128 evg_bal(const evg *g, uint32_t acct, unsigned asset) {
    return asset == ASSET_ETH ? g->a[acct].eth : g->a[acct].tok[asset];
}

u128 evg_worst_cost(const evg *g, u128 value, uint64_t gas_limit) {
    return value + (u128)gas_limit * (2 * g->base_fee + 3 * (u128)GWEI);
}

u128 evg_unit(unsigned asset) {
    unsigned d = asset == ASSET_ETH ? 18 : EVG_TOKENS[asset].decimals;
    u128 u = 1;
    while (d--)
        u *= 10;
    return u;
}
