/* Token tables: contract -> symbol, decimals and whether a reference list
 * names it (tokens.h). Reference data, not a chain format: the query and
 * trace writers show amounts with it and the poisoning detector finds fake
 * tokens with it, so it sits beside the store, below the analyses. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/hash.h"
#include "coinhound/tokens.h"
#include "util/vec.h"

struct ch_toktab {
    uint64_t chain_id;
    ch_token_info *v;
    size_t n, cap;
    uint32_t *slot; /* open addressing: index + 1, 0 = empty */
    size_t n_slot;  /* a power of two, at least twice n */
};

/* Symbols poisoners imitate: the stablecoins and wrapped coins people pay
 * with (Tsuchiya et al. find USDT and USDC in nearly all fake-token
 * attempts). Symbols only, no addresses: which contract is genuine comes
 * from the reference table at run time. */
static const char *const MAJOR[] = {
    "USDT", "USDC", "DAI", "WETH", "WBTC", "ETH",   "BUSD", "TUSD",  "USDP",   "PYUSD", "FDUSD",
    "USDE", "LINK", "UNI", "SHIB", "PEPE", "MATIC", "BNB",  "STETH", "WSTETH", "EURC",  "GUSD"};

static void norm_symbol(const char *in, char out[24]) {
    size_t k = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p && k < 23; p++)
        if (!isspace(*p)) out[k++] = (char)(*p < 128 ? toupper(*p) : *p);
    out[k] = 0;
}

bool ch_toktab_is_major(const char *symbol) {
    char s[24];
    norm_symbol(symbol, s);
    for (size_t i = 0; i < sizeof MAJOR / sizeof MAJOR[0]; i++)
        if (!strcmp(s, MAJOR[i])) return true;
    return false;
}

int ch_toktab_new(uint64_t chain_id, ch_toktab **out, ch_error *err) {
    ch_toktab *t = calloc(1, sizeof *t);
    if (!t) return ch_err(err, "tokens: out of memory");
    t->chain_id = chain_id;
    *out = t;
    return 0;
}

void ch_toktab_free(ch_toktab *t) {
    if (!t) return;
    free(t->v);
    free(t->slot);
    free(t);
}

static size_t hash_addr(const uint8_t a[20]) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (int i = 0; i < 20; i++)
        h = (h ^ a[i]) * 0x100000001b3ULL;
    return (size_t)(h ^ (h >> 29));
}

static ch_token_info *find(const ch_toktab *t, const uint8_t a[20]) {
    if (!t->n_slot) return NULL;
    for (size_t i = hash_addr(a) & (t->n_slot - 1);; i = (i + 1) & (t->n_slot - 1)) {
        uint32_t k = t->slot[i];
        if (k == 0) return NULL;
        if (!memcmp(t->v[k - 1].addr, a, 20)) return &t->v[k - 1];
    }
}

const ch_token_info *ch_toktab_find(const ch_toktab *t, const uint8_t addr[20]) {
    return t ? find(t, addr) : NULL;
}

static int rehash(ch_toktab *t, size_t n_slot) {
    uint32_t *slot = calloc(n_slot, sizeof *slot);
    if (!slot) return -1;
    for (size_t k = 0; k < t->n; k++) {
        size_t i = hash_addr(t->v[k].addr) & (n_slot - 1);
        while (slot[i])
            i = (i + 1) & (n_slot - 1);
        slot[i] = (uint32_t)k + 1;
    }
    free(t->slot);
    t->slot = slot;
    t->n_slot = n_slot;
    return 0;
}

int ch_toktab_add(ch_toktab *t, const uint8_t addr[20], const char *symbol, int decimals,
                  bool trusted, ch_error *err) {
    char sym[24] = "";
    if (symbol) norm_symbol(symbol, sym);
    ch_token_info *e = find(t, addr);
    if (!e) {
        ch_token_info *v = ch_grow(t->v, &t->cap, t->n + 1, sizeof *v);
        if (!v) return ch_err(err, "tokens: out of memory");
        t->v = v;
        if ((t->n + 1) * 2 > t->n_slot && rehash(t, t->n_slot ? t->n_slot * 2 : 1024) != 0)
            return ch_err(err, "tokens: out of memory");
        e = &t->v[t->n];
        memset(e, 0, sizeof *e);
        memcpy(e->addr, addr, 20);
        e->decimals = -1;
        size_t i = hash_addr(addr) & (t->n_slot - 1);
        while (t->slot[i])
            i = (i + 1) & (t->n_slot - 1);
        t->slot[i] = (uint32_t)++t->n;
    }
    /* a reference listing sets the symbol; metadata only fills gaps (a
     * token's own claim never overrides what the reference says it is) */
    if (sym[0] && (trusted ? !e->trusted : !e->symbol[0])) memcpy(e->symbol, sym, sizeof sym);
    if (trusted && sym[0] && !strcmp(e->symbol, sym)) {
        e->trusted = true;
        e->rows++;
    }
    if (decimals >= 0 && e->decimals < 0) e->decimals = decimals;
    return 0;
}

const ch_token_info *ch_toktab_genuine(const ch_toktab *t, const char *symbol) {
    if (!t) return NULL;
    char s[24];
    norm_symbol(symbol, s);
    const ch_token_info *best = NULL;
    for (size_t i = 0; i < t->n; i++)
        if (t->v[i].trusted && !strcmp(t->v[i].symbol, s) && (!best || t->v[i].rows > best->rows))
            best = &t->v[i];
    return best;
}

bool ch_toktab_is_fake(const ch_toktab *t, const ch_token_info *ti) {
    /* only when a reference names the symbol's genuine contract: without
     * one there is nothing to be fake against */
    return ti && !ti->trusted && ti->symbol[0] && ch_toktab_is_major(ti->symbol) &&
           ch_toktab_genuine(t, ti->symbol) != NULL;
}

/* Token lists in the wild are CSV with either quoting convention: RFC 4180
 * ("" inside quotes) or backslash escapes (\" as Etherscan's export writes
 * them, ../shared/fixtures/eth/erc20-tokens.csv line 845), one record a
 * line. Splits line in place into at most max fields; returns the count. */
static int split_line(char *line, char **field, int max) {
    int n = 0;
    char *r = line, *w = line;
    while (n < max) {
        field[n++] = w;
        if (*r == '"') {
            r++;
            for (; *r; r++) {
                if (*r == '\\' && r[1]) {
                    *w++ = *++r;
                } else if (*r == '"' && r[1] == '"') {
                    *w++ = '"';
                    r++;
                } else if (*r == '"') {
                    r++;
                    break;
                } else {
                    *w++ = *r;
                }
            }
            while (*r && *r != ',') /* stray text after the closing quote */
                r++;
        } else {
            while (*r && *r != ',' && *r != '\r' && *r != '\n')
                *w++ = *r++;
        }
        bool more = *r == ',';
        *w++ = 0;
        if (!more) break;
        r++;
    }
    return n;
}

static int col_of(char **f, int n, const char *a, const char *b) {
    for (int i = 0; i < n; i++)
        if (!strcmp(f[i], a) || (b && !strcmp(f[i], b))) return i;
    return -1;
}

int ch_toktab_load(ch_toktab *t, const char *path, bool trusted, ch_error *err) {
    FILE *f = fopen(path, "r");
    if (!f) return ch_err(err, "cannot open token table %s", path);
    char *line = NULL, *field[64];
    size_t cap = 0;
    int rc = 0, c_addr = -1, c_sym = -1, c_dec = -1, c_chain = -1;
    if (getline(&line, &cap, f) < 0) {
        rc = ch_err(err, "%s: empty token table", path);
    } else {
        int n = split_line(line, field, 64);
        c_addr = col_of(field, n, "address", "contract_address");
        if (c_addr < 0) c_addr = col_of(field, n, "contract", NULL);
        c_sym = col_of(field, n, "symbol", NULL);
        c_dec = col_of(field, n, "decimals", NULL);
        c_chain = col_of(field, n, "chainId", "chain_id");
        if (c_addr < 0 || c_sym < 0)
            rc = ch_err(err, "%s: the header must name address and symbol", path);
    }
    while (rc == 0 && getline(&line, &cap, f) >= 0) {
        int n = split_line(line, field, 64);
        if (n <= c_addr || n <= c_sym) continue;
        if (c_chain >= 0 && c_chain < n && field[c_chain][0] &&
            strtoull(field[c_chain], NULL, 10) != t->chain_id)
            continue;
        const char *a = field[c_addr];
        uint8_t addr[20];
        if (strlen(a) != 42 || a[0] != '0' || (a[1] != 'x' && a[1] != 'X') ||
            ch_hex_decode(a + 2, 40, addr, 20) != 0)
            continue; /* not an EVM address: not this table's business */
        const char *sym = field[c_sym];
        if (!strcmp(sym, "null") || strstr(sym, "...")) sym = ""; /* Etherscan's cut names */
        int dec = -1;
        if (c_dec >= 0 && c_dec < n && field[c_dec][0]) {
            char *end;
            long d = strtol(field[c_dec], &end, 10);
            if (*end == 0 && d >= 0 && d <= 77) dec = (int)d;
        }
        if (ch_toktab_add(t, addr, sym, dec, trusted, err) != 0) rc = -1;
    }
    free(line);
    fclose(f);
    return rc;
}
