/* See randcoins.h. */
#include "randcoins.h"
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

uint64_t tu_rng;

uint64_t tu_next_rand(void) {
    tu_rng ^= tu_rng << 13;
    tu_rng ^= tu_rng >> 7;
    tu_rng ^= tu_rng << 17;
    return tu_rng;
}

ch_hash256 tu_rand_txid(void) {
    ch_hash256 h;
    for (int i = 0; i < 32; i += 8) {
        uint64_t x = tu_next_rand();
        memcpy(h.b + i, &x, 8);
    }
    return h;
}

void tu_coins_push(tu_coins *c, const ch_hash256 *txid, uint32_t vout) {
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 1024;
        c->v = realloc(c->v, c->cap * sizeof *c->v);
        if (!c->v) abort();
    }
    c->v[c->n++] = (tu_coin){*txid, vout};
}

tu_coin tu_coins_take(tu_coins *c) {
    size_t j = tu_next_rand() % c->n;
    tu_coin coin = c->v[j];
    c->v[j] = c->v[--c->n];
    return coin;
}

void tu_coins_free(tu_coins *c) {
    free(c->v);
    memset(c, 0, sizeof *c);
}

void tu_open_writers(char **dir, ch_store **s, size_t n, uint64_t mem) {
    for (size_t w = 0; w < n; w++) {
        ch_error err;
        dir[w] = tu_tmpdir();
        if (ch_store_open(dir[w], "btc", CH_STORE_WRITE, &s[w], &err) != 0)
            fail_msg("open %s: %s", dir[w], err.msg);
        if (mem) ch_store_set_mem(s[w], mem);
    }
}
