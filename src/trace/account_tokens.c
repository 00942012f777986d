/* Token table (symbol, decimals) for showing account-trace amounts, and
 * 128-bit amounts as decimal strings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "coinhound/hash.h"
#include "intel/csvread.h"
#include "trace/account_internal.h"

typedef struct tok {
    uint8_t addr[20];
    char symbol[24];
    int decimals;
} tok;

struct ch_tokens {
    tok *v;
    size_t n, cap;
    tr_map by; /* first 8 bytes of the address -> entry */
};

static uint64_t tok_key(const uint8_t a[20]) {
    uint64_t k;
    memcpy(&k, a, 8);
    return k == UINT64_MAX ? 0 : k;
}

static int tok_add(ch_tokens *k, const uint8_t a[20], const char *sym, int dec) {
    uint64_t key = tok_key(a);
    if (tr_map_get(&k->by, key) != TR_NONE) return 0; /* the first row wins */
    if (tr_grow((void **)&k->v, &k->cap, k->n + 1, sizeof *k->v) != 0) return -1;
    tok *t = &k->v[k->n];
    memcpy(t->addr, a, 20);
    snprintf(t->symbol, sizeof t->symbol, "%s", sym);
    t->decimals = dec;
    if (tr_map_put(&k->by, key, (uint32_t)k->n) != 0) return -1;
    k->n++;
    return 0;
}

int ch_tokens_new(ch_tokens **out, ch_error *err) {
    /* mainnet contracts of the most common tokens (their decimals are part
     * of the contracts and never change) */
    static const struct {
        const char *hex, *sym;
        int dec;
    } known[] = {
        {"dac17f958d2ee523a2206206994597c13d831ec7", "USDT", 6},
        {"a0b86991c6218b36c1d19d4a2e9eb0ce3606eb48", "USDC", 6},
        {"c02aaa39b223fe8d0a0e5c4f27ead9083c756cc2", "WETH", 18},
    };
    ch_tokens *k = calloc(1, sizeof *k);
    if (!k || tr_map_init(&k->by, 64) != 0) {
        free(k);
        return ch_err(err, "out of memory");
    }
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        uint8_t a[20];
        ch_hex_decode(known[i].hex, 40, a, 20);
        if (tok_add(k, a, known[i].sym, known[i].dec) != 0) {
            ch_tokens_free(k);
            return ch_err(err, "out of memory");
        }
    }
    *out = k;
    return 0;
}

void ch_tokens_free(ch_tokens *k) {
    if (!k) return;
    free(k->v);
    tr_map_free(&k->by);
    free(k);
}

static int column(const csv_reader *r, const char *name) {
    for (int i = 0; i < r->nfields; i++) {
        const char *f = r->field[i];
        if (i == 0 && !strncmp(f, "\xEF\xBB\xBF", 3)) f += 3;
        if (!strcasecmp(f, name)) return i;
    }
    return -1;
}

int ch_tokens_load_csv(ch_tokens *k, const char *path, ch_error *err) {
    FILE *f = fopen(path, "r");
    if (!f) return ch_err(err, "cannot open %s", path);
    csv_reader r;
    csv_init(&r, f, path);
    int rc = csv_next(&r, err), ca = -1, cs = -1, cd = -1;
    if (rc == 1) {
        ca = column(&r, "address");
        if (ca < 0) ca = column(&r, "contract");
        cs = column(&r, "symbol");
        cd = column(&r, "decimals");
    }
    if (rc >= 0 && (ca < 0 || cs < 0))
        rc = ch_err(err,
                    "%s: the first line must be a header naming address (or contract) and symbol",
                    path);
    while (rc >= 0 && (rc = csv_next(&r, err)) == 1) {
        if (ca >= r.nfields || cs >= r.nfields) continue;
        const char *a = r.field[ca];
        uint8_t b[20];
        if (strlen(a) != 42 || a[0] != '0' || (a[1] != 'x' && a[1] != 'X') ||
            ch_hex_decode(a + 2, 40, b, 20) != 0)
            continue; /* not an EVM address */
        int dec = -1;
        if (cd >= 0 && cd < r.nfields && r.field[cd][0]) {
            char *e;
            long d = strtol(r.field[cd], &e, 10);
            if (!*e && d >= 0 && d <= 77) dec = (int)d;
        }
        if (tok_add(k, b, r.field[cs], dec) != 0) {
            rc = ch_err(err, "out of memory");
            break;
        }
    }
    csv_free(&r);
    fclose(f);
    return rc < 0 ? -1 : 0;
}

int ch_tokens_get(const ch_tokens *k, const uint8_t addr[20], const char **symbol, int *decimals) {
    if (!k) return 0;
    uint32_t i = tr_map_get(&k->by, tok_key(addr));
    if (i == TR_NONE || memcmp(k->v[i].addr, addr, 20) != 0) return 0;
    *symbol = k->v[i].symbol;
    *decimals = k->v[i].decimals;
    return 1;
}

const char *ch_u128_str(ch_taint_sum v, char out[48]) {
    char tmp[48];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = 0;
    return out;
}

const char *ch_u128_decimals_str(ch_taint_sum v, int decimals, char out[48]) {
    char d[48];
    ch_u128_str(v, d);
    if (decimals <= 0) return strcpy(out, d);
    if (decimals > 40) decimals = 40; /* no token has more; keeps out within 48 */
    size_t n = strlen(d), dec = (size_t)decimals;
    char buf[96];
    size_t k = 0;
    if (n <= dec) { /* 0.000ddd */
        buf[k++] = '0';
        buf[k++] = '.';
        for (size_t i = n; i < dec; i++)
            buf[k++] = '0';
        memcpy(buf + k, d, n);
        k += n;
    } else {
        memcpy(buf, d, n - dec);
        k = n - dec;
        buf[k++] = '.';
        memcpy(buf + k, d + n - dec, dec);
        k += dec;
    }
    while (buf[k - 1] == '0') /* trailing zeros of the fraction */
        k--;
    if (buf[k - 1] == '.') k--;
    buf[k] = 0;
    memcpy(out, buf, k + 1); /* at most 39 digits, a point and one leading zero */
    return out;
}
