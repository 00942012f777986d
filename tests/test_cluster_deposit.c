/* Deposit-address clustering (src/cluster/deposit.c): hand-made deposit
 * patterns, the cluster file written beside an account store, and random
 * chains against a naive all-pairs reference. */
#include "support/acctchain.h"
#include "support/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/cluster.h"

#define ETH   1000000000000000000ULL
#define MILLI 1000000000000000ULL /* 0.001 ETH */

static ch_addr A(uint8_t tag, uint8_t n) {
    uint8_t b[20];
    memset(b, tag, 20);
    b[19] = n;
    return ac_addr_bytes(b);
}

static void empty_blocks(achain *c, unsigned n) {
    for (unsigned i = 0; i < n; i++) {
        ac_block(c);
        ac_end_block(c);
    }
}

static uint32_t cl_of(achain *c, const uint32_t *cid, const ch_addr *a) {
    ch_addr_id id = ac_id(c, a);
    assert_true(id != 0);
    return cid[ch_store_addr_index(c->s, id) + 1];
}

static void test_hand_patterns(void **state) {
    (void)state;
    achain c;
    ac_open(&c);
    ch_addr E = A(0xee, 1), U1 = A(0x01, 1), U2 = A(0x01, 2), D = A(0xdd, 1), U3 = A(0x01, 3),
            D2 = A(0xdd, 2), U4 = A(0x01, 4), U5 = A(0x01, 5), D3 = A(0xdd, 3), U6 = A(0x01, 6),
            U7 = A(0x01, 7), D4 = A(0xdd, 4), T = A(0x70, 1), U8 = A(0x01, 8), U9 = A(0x01, 9),
            D5 = A(0xdd, 5), F = A(0xf0, 1);
    /* block 0: U1 and U2 pay D; D forwards each less at most 0.01 ETH */
    ac_block(&c);
    ac_pay(&c, &F, &U1, 100 * ETH); /* funding */
    ac_pay(&c, &U1, &D, ETH + 5 * MILLI);
    ac_end_block(&c);
    empty_blocks(&c, 10);
    ac_block(&c);
    ac_pay(&c, &D, &E, ETH); /* 0.005 ETH of gas kept: U1 is a customer */
    ac_pay(&c, &U2, &D, 2 * ETH);
    ac_pay(&c, &D, &E, 2 * ETH - 10 * MILLI); /* exactly 0.01 ETH less: still one */
    /* D3: a difference over 0.01 ETH, and a forward larger than the deposit */
    ac_pay(&c, &U4, &D3, ETH + 20 * MILLI);
    ac_pay(&c, &U5, &D3, ETH / 2);
    ac_pay(&c, &D3, &E, ETH);
    /* D4: a token deposit forwarded in full, and an ETH payment that does not match it */
    ac_tx(&c, &U6, &T, 1);
    ac_xfer(&c, CH_XFER_TOKEN, &T, &U6, &D4, 500000000, 0);
    ac_pay(&c, &U7, &D4, 500000000);
    ac_tx(&c, &D4, &T, 1);
    ac_xfer(&c, CH_XFER_TOKEN, &T, &D4, &E, 500000000, 0);
    ac_end_block(&c);
    /* D2: paid by U3 now, forwarded after the window */
    ac_block(&c);
    ac_pay(&c, &U3, &D2, ETH);
    /* D5: U8 pays, forwarded in time; U9 pays after the forward (a later one never comes) */
    ac_pay(&c, &U8, &D5, 3 * ETH);
    ac_pay(&c, &D5, &E, 3 * ETH);
    ac_pay(&c, &U9, &D5, 3 * ETH);
    ac_end_block(&c);
    empty_blocks(&c, 100);
    ac_block(&c); /* 101 blocks after U3 -> D2 */
    ac_pay(&c, &D2, &E, ETH);
    ac_end_block(&c);
    ac_reopen_read(&c);

    ch_addr_id e = ac_id(&c, &E);
    uint32_t *cid;
    ch_cluster_meta m;
    ch_deposit_opts o = {.window = 100};
    assert_int_equal(ch_deposit_compute(c.s, &o, &e, NULL, 1, &cid, &m, NULL, NULL), 0);
    assert_int_equal(cl_of(&c, cid, &U1), cl_of(&c, cid, &U2));    /* one entity */
    assert_int_not_equal(cl_of(&c, cid, &U1), cl_of(&c, cid, &D)); /* D is the exchange's */
    assert_int_not_equal(cl_of(&c, cid, &U1), cl_of(&c, cid, &E));
    assert_int_not_equal(cl_of(&c, cid, &U4), cl_of(&c, cid, &U5)); /* 0.02 ETH kept; more out */
    assert_int_not_equal(cl_of(&c, cid, &U6), cl_of(&c, cid, &U7)); /* another asset */
    assert_int_not_equal(cl_of(&c, cid, &U8), cl_of(&c, cid, &U9)); /* U9 came after */
    /* D1 (U1, U2), D4 (U6), D5 (U8); D2 is outside the window of 100 */
    assert_int_equal(m.deposit_addrs, 3);
    assert_int_equal(m.customers, 4);
    assert_int_equal(m.merged_inputs, 4);
    assert_int_equal(m.flags, CH_CLUSTER_DEPOSIT);
    uint32_t u3 = cl_of(&c, cid, &U3);
    free(cid);
    assert_int_equal(u3, ch_store_addr_index(c.s, ac_id(&c, &U3)) + 1); /* alone */

    /* a window of 101 blocks reaches it (the default, 3,200, too) */
    o.window = 101;
    assert_int_equal(ch_deposit_compute(c.s, &o, &e, NULL, 1, &cid, &m, NULL, NULL), 0);
    assert_int_equal(m.deposit_addrs, 4);
    free(cid);
    assert_int_equal(ch_deposit_compute(c.s, NULL, &e, NULL, 1, &cid, &m, NULL, NULL), 0);
    assert_int_equal(m.deposit_addrs, 4);
    free(cid);
    /* without exchanges, nothing */
    assert_int_equal(ch_deposit_compute(c.s, NULL, NULL, NULL, 0, &cid, &m, NULL, NULL), 0);
    assert_int_equal(m.deposit_addrs, 0);
    assert_int_equal(m.clusters, m.addresses);
    free(cid);

    /* the file beside the store, exchanges from a labels CSV */
    char csv[4200];
    snprintf(csv, sizeof csv, "%s/labels.csv", c.dir);
    FILE *f = fopen(csv, "w");
    assert_non_null(f);
    char hex[41];
    ch_hex_encode(E.bytes, 20, hex);
    fprintf(f, "address,category,entity\n0x%s,Exchange,Some Exchange\n0x%s,mixer,x\n", hex, hex);
    fclose(f);
    const char *paths[] = {csv};
    size_t n_ex;
    ch_error err;
    assert_int_equal(ch_deposit_build(c.dir, "eth", &o, paths, 1, &m, &n_ex, NULL, &err), 0);
    assert_int_equal(n_ex, 1);
    ch_clusters *cl;
    assert_int_equal(ch_clusters_open_chain(c.dir, "eth", &cl, &err), 0);
    ch_addr_id u1 = ac_id(&c, &U1), u2 = ac_id(&c, &U2);
    assert_int_equal(ch_cluster_of(cl, u1), ch_cluster_of(cl, u2));
    assert_int_equal(ch_cluster_of(cl, u1), u1 < u2 ? u1 : u2); /* named by the smallest id */
    assert_int_equal(ch_cluster_size(cl, u2), 2);
    assert_int_equal(ch_clusters_meta(cl)->deposit_addrs, 4);
    assert_int_equal(ch_clusters_meta(cl)->customers, 5);
    ch_clusters_close(cl);
    /* D labelled with E's own exchange is still its deposit address; with
     * another exchange's label, D -> E is one exchange paying another */
    char dhex[41];
    ch_hex_encode(D.bytes, 20, dhex);
    const char *ents[] = {"some exchange", "Other Exchange"};
    for (int k = 0; k < 2; k++) {
        f = fopen(csv, "w");
        assert_non_null(f);
        fprintf(f, "address,category,entity\n0x%s,exchange,Some Exchange\n0x%s,exchange,%s\n", hex,
                dhex, ents[k]);
        fclose(f);
        uint32_t *ent, *cid2;
        ch_addr_id *ids;
        assert_int_equal(ch_deposit_exchanges(c.s, NULL, paths, 1, &ids, &ent, &n_ex, &err), 0);
        assert_int_equal(n_ex, 2);
        assert_int_equal(ch_deposit_compute(c.s, &o, ids, ent, n_ex, &cid2, &m, NULL, NULL), 0);
        assert_int_equal(cl_of(&c, cid2, &U1) == cl_of(&c, cid2, &U2), k == 0);
        free(ids);
        free(ent);
        free(cid2);
    }
    /* Bitcoin's file is another one */
    assert_int_not_equal(ch_clusters_open(c.dir, &cl, &err), 0);
    ac_close(&c);
}

/* ---- random chains against the naive reference ---- */
static uint64_t rng_state;
static uint32_t rnd(uint32_t n) {
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)((rng_state >> 33) % n);
}

typedef struct rt {
    int from, to, token; /* pool indexes; token: 0 native, 1 the token */
    uint64_t value;
    uint32_t block;
} rt;

static int find_root(int *p, int x) {
    while (p[x] != x)
        x = p[x];
    return x;
}

static void test_random_vs_reference(void **state) {
    (void)state;
    enum { NP = 40, NEX = 3, NX = 700 };
    for (uint64_t seed = 1; seed <= 10; seed++) {
        rng_state = seed * 0x2545f4914f6cdd1dULL;
        ch_addr pool[NP];
        for (int i = 0; i < NP; i++)
            pool[i] = A((uint8_t)(0x10 + i), (uint8_t)seed);
        ch_addr T = A(0x99, 0x99);
        rt t[NX];
        achain c;
        ac_open(&c);
        uint32_t block = 0;
        ac_block(&c);
        for (int i = 0; i < NX; i++) {
            if (rnd(8) == 0) { /* a new block, sometimes many later */
                ac_end_block(&c);
                unsigned skip = rnd(4) == 0 ? rnd(30) : 0;
                empty_blocks(&c, skip);
                block += skip + 1;
                ac_block(&c);
            }
            /* exchanges are 0..NEX-1; deposits often go to them */
            t[i].from = NEX + (int)rnd(NP - NEX);
            unsigned k = rnd(3); /* to an exchange, to one of 6 busy accounts, anywhere */
            t[i].to = k == 0 ? (int)rnd(NEX) : k == 1 ? NEX + (int)rnd(6) : (int)rnd(NP);
            if (t[i].to == t[i].from) t[i].to = (t[i].to + 1) % NP;
            if (rnd(20) == 0) t[i].from = (int)rnd(NEX); /* an exchange paying out */
            t[i].token = rnd(4) == 0;
            /* values on a coarse grid so forwards often match */
            t[i].value = ETH / 100 * (100 + rnd(4)) + (rnd(2) ? 0 : rnd(3) * 5 * MILLI);
            t[i].block = block;
            if (t[i].token) {
                ac_tx(&c, &pool[t[i].from], &T, 1);
                ac_xfer(&c, CH_XFER_TOKEN, &T, &pool[t[i].from], &pool[t[i].to], t[i].value, 0);
            } else {
                ac_pay(&c, &pool[t[i].from], &pool[t[i].to], t[i].value);
            }
        }
        ac_end_block(&c);
        ac_reopen_read(&c);

        const uint32_t window = 12;
        const uint64_t tok_diff = 5 * MILLI;
        /* naive: every pair (y, x) */
        int parent[NP], first_u[NP];
        for (int i = 0; i < NP; i++) {
            parent[i] = i;
            first_u[i] = -1;
        }
        for (int x = 0; x < NX; x++) {
            if (t[x].to >= NEX || t[x].from < NEX) continue;
            int d = t[x].from;
            for (int y = 0; y < x; y++) {
                if (t[y].to != d || t[y].from < NEX || t[y].from == d) continue;
                if (t[y].token != t[x].token || t[x].block - t[y].block > window) continue;
                uint64_t lim = t[x].token ? tok_diff : 10 * MILLI;
                if (t[y].value < t[x].value || t[y].value - t[x].value > lim) continue;
                int u = t[y].from;
                if (first_u[d] < 0)
                    first_u[d] = u;
                else
                    parent[find_root(parent, u)] = find_root(parent, first_u[d]);
            }
        }
        ch_addr_id ex[NEX];
        for (int i = 0; i < NEX; i++)
            ex[i] = ac_id(&c, &pool[i]);
        uint32_t *cid;
        ch_cluster_meta m;
        ch_deposit_opts o = {.window = window, .token_max_diff = tok_diff};
        assert_int_equal(ch_deposit_compute(c.s, &o, ex, NULL, NEX, &cid, &m, NULL, NULL), 0);
        unsigned joined = 0;
        for (int i = 0; i < NP; i++)
            for (int j = i + 1; j < NP; j++) {
                bool ref = find_root(parent, i) == find_root(parent, j);
                bool got = cl_of(&c, cid, &pool[i]) == cl_of(&c, cid, &pool[j]);
                assert_int_equal(ref, got);
                joined += ref;
            }
        assert_true(joined > 0); /* the chains do exercise merging */
        free(cid);
        ac_close(&c);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_patterns),
        cmocka_unit_test(test_random_vs_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
