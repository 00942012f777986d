/* Address-poisoning signals (src/poison): hand-made account chains with
 * planted attempts, the token tables, the pre-send check, a naive reference
 * on random chains, and the generator's planted attempts when it is built. */
#include "support/acctchain.h"
#include "support/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coinhound/chainaddr.h"
#include "coinhound/evmgen.h"
#include "coinhound/hash.h"
#include "coinhound/ingest.h"
#include "coinhound/poison.h"

/* The cast of the hand-made chain. C is the victim's real counterparty;
 * L1..L4 share 4 (L2: 5) characters at both ends with it, NEAR only 3
 * leading ones. */
#define HEX_V    "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a"
#define HEX_X    "7777777777777777777777777777777777777777"
#define HEX_C    "abcd11111111111111111111111111111111ef01"
#define HEX_L1   "abcd22222222222222222222222222222222ef01"
#define HEX_L2   "abcd13333333333333333333333333333331ef01"
#define HEX_L3   "abcd44444444444444444444444444444444ef01"
#define HEX_L4   "abcd66666666666666666666666666666666ef01"
#define HEX_L5   "abcd99999999999999999999999999999999ef01"
#define HEX_NEAR "abc555555555555555555555555555555555ef01"
#define HEX_BOT  "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0"
#define HEX_USDT "dac17f958d2ee523a2206206994597c13d831ec7"
#define HEX_FAKE "fafafafafafafafafafafafafafafafafafafafa"

static uint8_t flag_spoof = CH_XFER_ZERO_SPOOF;

static void test_match(void **state) {
    (void)state;
    ch_addr c = ac_addr(HEX_C), l2 = ac_addr(HEX_L2), n = ac_addr(HEX_NEAR);
    unsigned p, s;
    ch_poison_match(c.bytes, l2.bytes, &p, &s);
    assert_int_equal(p, 5);
    assert_int_equal(s, 5);
    ch_poison_match(c.bytes, n.bytes, &p, &s);
    assert_int_equal(p, 3);
    assert_int_equal(s, 4);
    ch_poison_match(c.bytes, c.bytes, &p, &s);
    assert_int_equal(p, 40);
    assert_int_equal(s, 40);
    /* odd lengths: differing in the low nibble of the first byte */
    ch_addr o = ac_addr("a0cd11111111111111111111111111111111ef0f");
    ch_poison_match(c.bytes, o.bytes, &p, &s);
    assert_int_equal(p, 1);
    assert_int_equal(s, 0);
}

typedef struct want {
    uint64_t xfer;
    int kind;
    const char *victim, *look, *imit; /* hex, NULL for id 0 */
    unsigned prefix, suffix;
} want;

/* Every signal of the store equals the expected list, in order. */
static void check_signals(achain *c, const want *w, size_t n) {
    assert_int_equal(ch_poison_signal_count(c->s), n);
    for (size_t i = 0; i < n; i++) {
        const ch_signal_rec *r = ch_poison_signal(c->s, i);
        ch_addr v = ac_addr(w[i].victim), l = ac_addr(w[i].look);
        assert_int_equal(r->xfer, w[i].xfer);
        assert_int_equal(r->kind, w[i].kind);
        assert_int_equal(r->victim, ac_id(c, &v));
        assert_int_equal(r->lookalike, ac_id(c, &l));
        if (w[i].imit) {
            ch_addr m = ac_addr(w[i].imit);
            assert_int_equal(r->imitated, ac_id(c, &m));
        } else {
            assert_int_equal(r->imitated, 0);
        }
        assert_int_equal(r->prefix, w[i].prefix);
        assert_int_equal(r->suffix, w[i].suffix);
    }
}

/* The hand-made chain: V is funded by X, pays C in ETH and USDT, then meets
 * one attempt of each kind, a near miss, and clean traffic. */
typedef struct scene {
    achain c;
    ch_poison *p;
    uint64_t x_spoof, x_dust, x_fake, x_near, x_spoof_in, x_spoof_near;
} scene;

static void block_done(scene *sc) {
    ac_end_block(&sc->c);
    assert_int_equal(ch_poison_ingest_block(sc->p, sc->c.s, &sc->c.err), 0); /* the ingest pass */
}

static void build_scene(scene *sc) {
    ch_addr V = ac_addr(HEX_V), X = ac_addr(HEX_X), C = ac_addr(HEX_C), L1 = ac_addr(HEX_L1),
            L2 = ac_addr(HEX_L2), L3 = ac_addr(HEX_L3), L4 = ac_addr(HEX_L4), N = ac_addr(HEX_NEAR),
            B = ac_addr(HEX_BOT), U = ac_addr(HEX_USDT), F = ac_addr(HEX_FAKE),
            Z = ac_addr("0000000000000000000000000000000000000000");
    assert_int_equal(ch_poison_new(NULL, &sc->p, NULL), 0);
    ch_toktab *t = ch_poison_tokens(sc->p);
    assert_int_equal(ch_toktab_add(t, U.bytes, "USDT", 6, true, NULL), 0);
    assert_int_equal(ch_toktab_add(t, F.bytes, "USDT ", 6, false, NULL), 0); /* its own claim */
    achain *c = &sc->c;
    ac_open(c);

    ac_block(c); /* history: funding and two real payments to C */
    ac_pay(c, &X, &V, 2000000000000000000ULL);
    ac_pay(c, &V, &C, 500000000000000000ULL);
    ac_tx(c, &V, &U, 1);
    ac_xfer(c, CH_XFER_TOKEN, &U, &V, &C, 100000000, 0); /* 100 USDT */
    ac_tx(c, &X, &U, 1); /* a mint's event (from 0x0) is never a signal */
    ac_xfer(c, CH_XFER_TOKEN, &U, &Z, &X, 1, 0);
    block_done(sc);

    ac_block(c); /* transferFrom(V, L1, 0) sent by the bot */
    ac_tx(c, &B, &U, 1);
    sc->x_spoof = ac_xfer(c, CH_XFER_TOKEN, &U, &V, &L1, 0, flag_spoof);
    ac_pay(c, &X, &V, 3000000000000000ULL); /* clean traffic: nothing */
    block_done(sc);

    ac_block(c); /* dust from L2 */
    sc->x_dust = ac_pay(c, &L2, &V, 1000000000ULL);
    block_done(sc);

    ac_block(c); /* a fake USDT "payment" from L3, and a genuine USDT dust-sized one */
    ac_tx(c, &B, &F, 1);
    sc->x_fake = ac_xfer(c, CH_XFER_TOKEN, &F, &L3, &V, 100000000, 0);
    ac_tx(c, &X, &U, 1);
    ac_xfer(c, CH_XFER_TOKEN, &U, &X, &V, 20000, 0); /* 0.02 USDT: not dust */
    block_done(sc);

    ac_block(c); /* a near miss: 3 leading characters */
    sc->x_near = ac_pay(c, &N, &V, 1000000ULL);
    ac_tx(c, &B, &U, 1); /* the spoof shown the other way: L4 -> V */
    sc->x_spoof_in = ac_xfer(c, CH_XFER_TOKEN, &U, &L4, &V, 0, flag_spoof);
    ac_tx(c, &B, &U, 1); /* a spoof from the near miss: no lookalike either way */
    sc->x_spoof_near = ac_xfer(c, CH_XFER_TOKEN, &U, &N, &V, 0, flag_spoof);
    ac_tx(c, &V, &X, 0); /* a failed tx's transfer carries nothing */
    ac_xfer(c, CH_XFER_NATIVE, NULL, &V, &X, 5, 0);
    block_done(sc);
    ac_commit(c);
}

static void free_scene(scene *sc) {
    ch_poison_free(sc->p);
    ac_close(&sc->c);
}

static void test_signals_hand(void **state) {
    (void)state;
    scene sc;
    build_scene(&sc);
    const want w[] = {
        {sc.x_spoof, CH_SIG_ZERO_SPOOF, HEX_V, HEX_L1, HEX_C, 4, 4},
        {sc.x_spoof, CH_SIG_LOOKALIKE, HEX_V, HEX_L1, HEX_C, 4, 4},
        {sc.x_dust, CH_SIG_DUST, HEX_V, HEX_L2, HEX_C, 5, 5},
        {sc.x_dust, CH_SIG_LOOKALIKE, HEX_V, HEX_L2, HEX_C, 5, 5},
        {sc.x_fake, CH_SIG_FAKE_TOKEN, HEX_V, HEX_FAKE, HEX_USDT, 0, 0},
        {sc.x_fake, CH_SIG_LOOKALIKE, HEX_V, HEX_L3, HEX_C, 4, 4},
        {sc.x_near, CH_SIG_DUST, HEX_V, HEX_NEAR, NULL, 0, 0},
        {sc.x_spoof_in, CH_SIG_ZERO_SPOOF, HEX_V, HEX_L4, HEX_C, 4, 4},
        {sc.x_spoof_in, CH_SIG_LOOKALIKE, HEX_V, HEX_L4, HEX_C, 4, 4},
        /* no match either way: the transferFrom reading, victim = sender */
        {sc.x_spoof_near, CH_SIG_ZERO_SPOOF, HEX_NEAR, HEX_V, NULL, 0, 0},
    };
    check_signals(&sc.c, w, sizeof w / sizeof w[0]);
    free_scene(&sc);
}

static void test_signals_survive_commit(void **state) {
    (void)state;
    scene sc;
    build_scene(&sc);
    uint64_t n = ch_poison_signal_count(sc.c.s);
    ac_reopen_read(&sc.c);
    assert_int_equal(ch_poison_signal_count(sc.c.s), n);
    assert_int_equal(ch_poison_signal(sc.c.s, 0)->xfer, sc.x_spoof);
    free_scene(&sc);
}

static ch_send_check check(achain *c, const char *from, const char *to) {
    ch_addr f = ac_addr(from), d = ac_addr(to);
    ch_send_check r;
    assert_int_equal(ch_poison_check_send(NULL, c->s, &f, &d, &r, NULL), 0);
    return r;
}

static void test_presend_check(void **state) {
    (void)state;
    scene sc;
    build_scene(&sc);
    ac_reopen_read(&sc.c);
    ch_send_check r = check(&sc.c, HEX_V, HEX_L1);
    assert_int_equal(r.verdict, CH_SEND_FIRST_VIA_SIGNAL);
    assert_int_equal(r.first_kind, CH_SIG_ZERO_SPOOF);
    assert_true(r.lookalike); /* and it resembles C */
    ch_addr C = ac_addr(HEX_C);
    assert_int_equal(r.imitated, ac_id(&sc.c, &C));

    r = check(&sc.c, HEX_V, HEX_C); /* the real one */
    assert_int_equal(r.verdict, CH_SEND_OK);
    assert_true(r.dest_paid);

    r = check(&sc.c, HEX_V, HEX_L3); /* reached V through the fake token */
    assert_int_equal(r.verdict, CH_SEND_FIRST_VIA_SIGNAL);
    assert_int_equal(r.first_kind, CH_SIG_FAKE_TOKEN);

    r = check(&sc.c, HEX_V, HEX_X); /* the funder: clean */
    assert_int_equal(r.verdict, CH_SEND_OK);
    free_scene(&sc);
}

static void test_presend_lookalike_unseen(void **state) {
    (void)state;
    scene sc;
    build_scene(&sc);
    /* L5 was never in the chain: warned because it shares both ends with C */
    ac_reopen_read(&sc.c);
    ch_send_check r = check(&sc.c, HEX_V, HEX_L5);
    assert_int_equal(r.verdict, CH_SEND_LOOKALIKE);
    ac_close(&sc.c);
    ch_poison_free(sc.p);
    /* nor when it is in the chain, but not in V's history */
    build_scene(&sc);
    ch_addr V = ac_addr(HEX_V), L5 = ac_addr(HEX_L5), X = ac_addr(HEX_X);
    ac_block(&sc.c);
    ac_pay(&sc.c, &X, &L5, 1000000000000000000ULL);
    block_done(&sc);
    ac_reopen_read(&sc.c);
    r = check(&sc.c, HEX_V, HEX_L5);
    assert_int_equal(r.verdict, CH_SEND_LOOKALIKE);
    assert_false(r.dest_known);
    assert_true(r.sender_known);
    assert_int_equal(r.prefix, 4);
    assert_int_equal(r.suffix, 4);
    /* the near miss is no lookalike, but it first came as dust */
    r = check(&sc.c, HEX_V, HEX_NEAR);
    assert_false(r.lookalike);
    assert_int_equal(r.verdict, CH_SEND_FIRST_VIA_SIGNAL);
    (void)V;
    free_scene(&sc);
}

static void test_tokens_fixture(void **state) {
    (void)state;
    const char *path = tu_fixture("eth/erc20-tokens.csv");
    if (!path) skip();
    ch_toktab *t;
    assert_int_equal(ch_toktab_new(1, &t, NULL), 0);
    assert_int_equal(ch_toktab_load(t, path, true, NULL), 0);
    ch_addr u = ac_addr(HEX_USDT), w = ac_addr("1cdd2eab61112697626f7b4bb0e23da4febf7b7c");
    const ch_token_info *g = ch_toktab_genuine(t, "usdt");
    assert_non_null(g);
    assert_memory_equal(g->addr, u.bytes, 20);            /* Tether's, the most listed USDT */
    const ch_token_info *wi = ch_toktab_find(t, w.bytes); /* USDT (Wormhole): listed, genuine */
    assert_non_null(wi);
    assert_string_equal(wi->symbol, "USDT");
    assert_false(ch_toktab_is_fake(t, wi));
    /* an unlisted contract calling itself USDT is a fake; DAI's is real */
    ch_addr f = ac_addr(HEX_FAKE), dai = ac_addr("6b175474e89094c44da98b954eedeac495271d0f");
    assert_int_equal(ch_toktab_add(t, f.bytes, "USDT", 6, false, NULL), 0);
    assert_true(ch_toktab_is_fake(t, ch_toktab_find(t, f.bytes)));
    assert_false(ch_toktab_is_fake(t, ch_toktab_find(t, dai.bytes)));
    /* a metadata claim does not change a listed contract's symbol */
    assert_int_equal(ch_toktab_add(t, dai.bytes, "USDC", 18, false, NULL), 0);
    assert_string_equal(ch_toktab_find(t, dai.bytes)->symbol, "DAI");
    assert_int_equal(ch_toktab_find(t, dai.bytes)->decimals, 18);
    /* rows of other chains are not Ethereum's */
    ch_addr arb = ac_addr("68f180fcce6836688e9084f035309e29bf0a2095"); /* WBTC, chain 10 */
    assert_null(ch_toktab_find(t, arb.bytes));
    ch_toktab_free(t);
}

/* ---- random chains against a naive reference ---- */
static uint64_t rng_state;
static uint32_t rnd(uint32_t n) {
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)((rng_state >> 33) % n);
}

typedef struct rx {
    int from, to; /* indexes into the address pool */
    uint64_t value;
} rx;

/* The reference: for each suspicious transfer, the victim's counterparties
 * are every earlier clean transfer touching it (no history links), taken
 * newest first, exactly `hist` of the victim's transfers back. */
static bool ref_best(const rx *t, size_t n, size_t x, int victim, int suspect,
                     const uint8_t (*pool)[20], unsigned hist, int *c_out, unsigned *pp,
                     unsigned *ps) {
    unsigned seen = 0, best = 0;
    *c_out = -1;
    for (size_t y = x; y-- > 0 && seen < hist;) {
        if (t[y].from != victim && t[y].to != victim) continue;
        seen++;
        bool clean = t[y].value >= 1000000000000ULL && t[y].from != t[y].to;
        if (!clean) continue;
        int c = t[y].from == victim ? t[y].to : t[y].from;
        if (c == suspect) continue;
        unsigned p, s;
        ch_poison_match(pool[suspect], pool[c], &p, &s);
        if (p >= 4 && s >= 4 && p + s > best) {
            best = p + s;
            *c_out = c;
            *pp = p;
            *ps = s;
        }
    }
    return *c_out >= 0;
}

static void test_random_vs_reference(void **state) {
    (void)state;
    for (uint64_t seed = 1; seed <= 12; seed++) {
        rng_state = seed * 0x9e3779b97f4a7c15ULL;
        /* 24 addresses: 6 "counterparties" with random middles, and
         * relatives sharing 2..6 characters at each end */
        enum { NP = 24, NX = 600 };
        uint8_t pool[NP][20];
        for (int i = 0; i < NP; i++)
            for (int k = 0; k < 20; k++)
                pool[i][k] = (uint8_t)rnd(256);
        for (int i = 6; i < NP; i++) {
            const uint8_t *base = pool[rnd(6)];
            unsigned keep = 1 + rnd(3); /* bytes kept at each end: 2..6 characters */
            memcpy(pool[i], base, keep);
            memcpy(pool[i] + 20 - keep, base + 20 - keep, keep);
            if (rnd(2)) pool[i][keep] = base[keep] ^ 0x10; /* sometimes one more nibble */
        }
        rx t[NX];
        achain c;
        ch_poison *p;
        ch_poison_opts o = {.history = 8};
        assert_int_equal(ch_poison_new(&o, &p, NULL), 0);
        ac_open(&c);
        ch_addr A[NP];
        for (int i = 0; i < NP; i++)
            A[i] = ac_addr_bytes(pool[i]);
        uint64_t first = 0;
        for (size_t i = 0; i < NX; i++) {
            if (i % 50 == 0) {
                if (i) {
                    ac_end_block(&c);
                    assert_int_equal(ch_poison_scan(p, c.s, first, NULL), 0);
                }
                ac_block(&c);
                first = ch_store_xfer_count(c.s);
            }
            t[i].from = (int)rnd(NP);
            t[i].to = (int)rnd(NP - 1);
            if (t[i].to >= t[i].from) t[i].to++; /* no self-transfers */
            unsigned k = rnd(10);
            t[i].value = k < 2 ? 1 + rnd(1000000) : 1000000000000ULL + rnd(1000000);
            ac_pay(&c, &A[t[i].from], &A[t[i].to], t[i].value);
        }
        ac_end_block(&c);
        assert_int_equal(ch_poison_scan(p, c.s, first, NULL), 0);
        ac_commit(&c);
        /* the reference's signals, in order */
        uint64_t k = 0, n_sig = ch_poison_signal_count(c.s);
        for (size_t x = 0; x < NX; x++) {
            if (t[x].value >= 1000000000000ULL || t[x].from == t[x].to) continue;
            int cc;
            unsigned pp = 0, ps = 0;
            bool hit = ref_best(t, NX, x, t[x].to, t[x].from, (const uint8_t(*)[20])pool, 8, &cc,
                                &pp, &ps);
            assert_true(k < n_sig);
            const ch_signal_rec *r = ch_poison_signal(c.s, k++);
            assert_int_equal(r->xfer, x);
            assert_int_equal(r->kind, CH_SIG_DUST);
            assert_int_equal(r->victim, ac_id(&c, &A[t[x].to]));
            assert_int_equal(r->lookalike, ac_id(&c, &A[t[x].from]));
            assert_int_equal(r->imitated, hit ? ac_id(&c, &A[cc]) : 0);
            if (hit) {
                assert_int_equal(r->prefix, pp);
                assert_int_equal(r->suffix, ps);
                assert_true(k < n_sig);
                r = ch_poison_signal(c.s, k++);
                assert_int_equal(r->kind, CH_SIG_LOOKALIKE);
                assert_int_equal(r->xfer, x);
                assert_int_equal(r->prefix, pp);
                assert_int_equal(r->suffix, ps);
                assert_int_equal(r->imitated, ac_id(&c, &A[cc]));
            }
        }
        assert_int_equal(k, n_sig);
        ch_poison_free(p);
        ac_close(&c);
    }
}

/* ---- the generator's planted attempts ---- */
static ch_addr_id id_of_hex(ch_store *s, const char *hex0x) {
    ch_addr a = ac_addr(hex0x + 2);
    ch_addr_id id = 0;
    uint64_t last;
    assert_true(ch_store_find_addr(s, &a, &id, &last, NULL) >= 0);
    return id;
}

static int base_kind(const char *k) {
    return !strcmp(k, "zero_value") ? CH_SIG_ZERO_SPOOF
           : !strcmp(k, "dust")     ? CH_SIG_DUST
                                    : CH_SIG_FAKE_TOKEN;
}

/* The generator's chain of a seed and size written into folder out (a test
 * fails when the generator does); its counts of what it planted. */
static ch_evmgen_stats generate(const char *out, uint64_t seed, uint64_t transfers) {
    ch_evmgen_opts go;
    ch_evmgen_opts_init(&go);
    go.out_dir = out;
    go.seed = seed;
    go.transfers = transfers;
    ch_evmgen_stats gs;
    ch_error err;
    assert_int_equal(ch_evmgen_run(&go, &gs, &err), 0);
    return gs;
}

static void test_generator_attempts(void **state) {
    (void)state;
    char *dir = tu_tmpdir(), gen[4200], src[4200], db[4200], path[4300], link[4300];
    snprintf(gen, sizeof gen, "%s/gen", dir);
    snprintf(src, sizeof src, "%s/src", dir);
    snprintf(db, sizeof db, "%s/db", dir);
    ch_evmgen_stats gs = generate(gen, 7, 15000);
    ch_error err;
    assert_true(gs.poisonings > 10);
    /* The attempts live in txs and logs: ingest blocks and receipts (the
     * traces add internal calls, which no attempt uses). */
    assert_int_equal(mkdir(src, 0755), 0);
    const char *files[] = {"blocks.jsonl", "receipts.jsonl"};
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", gen, files[i]);
        snprintf(link, sizeof link, "%s/%s", src, files[i]);
        assert_int_equal(symlink(path, link), 0);
    }
    /* the reference list (when the fixtures are there) and the generator's
     * own token metadata; its dust goes up to 1e-5 ETH (src/evmgen/poison.c) */
    snprintf(path, sizeof path, "%s/tokens.csv", gen);
    ch_poison_opts po = {.tokens_path = tu_fixture("eth/erc20-tokens.csv"),
                         .token_meta_path = path,
                         .native_dust_wei = 10000000000001ULL};
    if (!po.tokens_path) { /* nothing would tell the fake USDT from Tether's */
        tu_rmrf(dir);
        free(dir);
        skip();
    }
    ch_poison *p;
    assert_int_equal(ch_poison_new(&po, &p, &err), 0);
    ch_ingest_opts io = {.progress = 0, .on_block = ch_poison_ingest_block, .on_block_ctx = p};
    ch_ingest_stats st;
    int rc = ch_ingest_evm(src, db, "eth", &io, &st, &err);
    if (rc != 0) print_error("%s\n", err.msg);
    assert_int_equal(rc, 0);

    ch_store *s;
    assert_int_equal(ch_store_open(db, "eth", CH_STORE_READ, &s, &err), 0);
    snprintf(path, sizeof path, "%s/theft.json", gen);
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je), *att = json_object_get(root, "poisoning");
    assert_non_null(att);
    assert_int_equal(json_array_size(att), gs.poisonings);
    size_t i;
    json_t *a;
    json_array_foreach(att, i, a) {
        const char *kind = json_string_value(json_object_get(a, "kind"));
        const char *txh = json_string_value(json_object_get(a, "tx"));
        ch_addr_id victim = id_of_hex(s, json_string_value(json_object_get(a, "victim")));
        ch_addr_id look = id_of_hex(s, json_string_value(json_object_get(a, "lookalike")));
        ch_addr_id cp = id_of_hex(s, json_string_value(json_object_get(a, "counterparty")));
        assert_true(victim && look && cp);
        ch_hash256 h;
        assert_int_equal(ch_hex_decode(txh + 2, 64, h.b, 32), 0);
        uint64_t tx, first, n;
        assert_int_equal(ch_store_find_tx(s, &h, &tx, &err), 1);
        ch_store_tx_xfers(s, tx, &first, &n);
        bool base = false, lookalike = false;
        for (uint64_t k = 0; k < ch_poison_signal_count(s); k++) {
            const ch_signal_rec *r = ch_poison_signal(s, k);
            if (r->xfer < first || r->xfer >= first + n || r->victim != victim) continue;
            if (r->kind == base_kind(kind)) base = true;
            if (r->kind == CH_SIG_LOOKALIKE && r->lookalike == look && r->imitated == cp &&
                r->prefix >= 4 && r->suffix >= 4)
                lookalike = true;
        }
        if (!base || !lookalike) print_error("attempt %zu (%s, tx %s) not found\n", i, kind, txh);
        assert_true(base && lookalike);
    }
    json_decref(root);
    ch_store_close(s);
    ch_poison_free(p);
    tu_rmrf(dir);
    free(dir);
}

/* The commands' exit codes: 0 no warning, 1 warning (or signals found), 2 error. */
static int run_cli(const char *args, const char *dir, char **out) {
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "%s poison %s --db %s 2>/dev/null", tu_bin("coinhound"), args, dir);
    int status;
    *out = tu_run(cmd, &status);
    assert_non_null(*out);
    return status;
}

static void test_cli(void **state) {
    (void)state;
    scene sc;
    build_scene(&sc);
    ac_reopen_read(&sc.c);
    char *out;
    assert_int_equal(run_cli("--check 0x" HEX_L1 " --from 0x" HEX_V, sc.c.dir, &out), 1);
    assert_non_null(strstr(out, "WARNING"));
    assert_non_null(strstr(out, "0x" HEX_C)); /* names whom it imitates */
    free(out);
    assert_int_equal(run_cli("--check 0x" HEX_C " --from 0x" HEX_V, sc.c.dir, &out), 0);
    free(out);
    assert_int_equal(run_cli("--check 0x" HEX_L5 " --from 0x" HEX_V " --json", sc.c.dir, &out), 1);
    assert_non_null(strstr(out, "\"lookalike_of_counterparty\""));
    free(out);
    assert_int_equal(run_cli("--check 0x12 --from 0x" HEX_V, sc.c.dir, &out), 2);
    free(out);
    assert_int_equal(run_cli("0x" HEX_V " --json", sc.c.dir, &out), 1);
    assert_non_null(strstr(out, "\"count\":9,")); /* all but the spoof read as NEAR's */
    assert_non_null(strstr(out, "\"kind\":\"zero_spoof\""));
    free(out);
    assert_int_equal(run_cli("0x" HEX_X, sc.c.dir, &out), 0); /* nothing aimed at X */
    free(out);
    free_scene(&sc);
}

/* EIP-55's own test cases (https://eips.ethereum.org/EIPS/eip-55, "Test
 * Cases"): mixed case with a valid checksum. */
static const char *const EIP55_MIXED[] = {
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
};

/* Flip the case of the k-th letter (a-f/A-F) of an address; false when it
 * has fewer letters. Changing one letter's case always breaks an EIP-55
 * checksum: the case is a function of the (unchanged) lowercase hex. */
static bool flip_letter(const char *in, size_t k, char out[43]) {
    memcpy(out, in, 43);
    for (size_t i = 2; i < 42; i++) {
        char ch = out[i];
        if (!((ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F'))) continue;
        if (k-- == 0) {
            out[i] = (char)(ch ^ 0x20);
            return true;
        }
    }
    return false;
}

/* The pre-send check refuses an altered address before anything else,
 * exactly where screen calls it invalid: a sender who really paid the
 * address before gets OK for its right spelling and REFUSED (exit 2) for
 * the same address with one letter's case changed. */
static void test_presend_refuses_bad_eip55_checksum(void **state) {
    (void)state;
    scene sc;
    build_scene(&sc);
    ch_addr V = ac_addr(HEX_V);
    ac_block(&sc.c);
    for (size_t i = 0; i < 4; i++) {
        uint8_t b[20];
        assert_int_equal(ch_evm_addr_parse(EIP55_MIXED[i], b, NULL), 0);
        ch_addr d = ac_addr_bytes(b);
        ac_pay(&sc.c, &V, &d, 1000000000000000ULL);
    }
    block_done(&sc);
    ac_reopen_read(&sc.c);
    char *out, args[256], bad[43];
    for (size_t i = 0; i < 4; i++) {
        snprintf(args, sizeof args, "--check %s --from 0x" HEX_V, EIP55_MIXED[i]);
        assert_int_equal(run_cli(args, sc.c.dir, &out), 0);
        assert_non_null(strstr(out, "OK"));
        assert_non_null(strstr(out, "paid this address before"));
        free(out);
        size_t letters = 0;
        for (size_t k = 0; flip_letter(EIP55_MIXED[i], k, bad); k++, letters++) {
            uint8_t b[20];
            assert_int_equal(ch_evm_addr_parse(bad, b, NULL), -1);
            if (k % 5 != 0) continue; /* the CLI on every fifth alteration */
            snprintf(args, sizeof args, "--check %s --from 0x" HEX_V, bad);
            assert_int_equal(run_cli(args, sc.c.dir, &out), 2);
            if (!strstr(out, "REFUSED") || !strstr(out, "checksum"))
                fail_msg("%s: not refused: %s", bad, out);
            assert_null(strstr(out, "OK"));
            free(out);
            snprintf(args, sizeof args, "--check %s --from 0x" HEX_V " --json", bad);
            assert_int_equal(run_cli(args, sc.c.dir, &out), 2);
            json_t *j = json_loads(out, 0, NULL);
            assert_non_null(j);
            assert_true(json_is_false(json_object_get(j, "valid")));
            assert_true(json_is_true(json_object_get(j, "warning")));
            assert_string_equal(json_string_value(json_array_get(json_object_get(j, "reasons"), 0)),
                                "bad_checksum");
            json_decref(j);
            free(out);
        }
        assert_true(letters >= 10);
    }
    /* no checksum claimed: all lowercase, all uppercase (EIP-55's "all
     * caps" cases) are accepted */
    char low[43];
    for (size_t i = 0; i < 43; i++)
        low[i] =
            (char)((EIP55_MIXED[0][i] >= 'A' && EIP55_MIXED[0][i] <= 'F') ? EIP55_MIXED[0][i] + 32
                                                                          : EIP55_MIXED[0][i]);
    snprintf(args, sizeof args, "--check %s --from 0x" HEX_V, low);
    assert_int_equal(run_cli(args, sc.c.dir, &out), 0);
    free(out);
    uint8_t b[20];
    assert_int_equal(ch_evm_addr_parse("0x52908400098527886E0F7030069857D2E4169EE7", b, NULL), 0);
    assert_int_equal(ch_evm_addr_parse("0x8617E340B3D01FA5F11F306F4090FD50E238070D", b, NULL), 0);
    /* an altered sender is an error too */
    flip_letter(EIP55_MIXED[1], 0, bad);
    snprintf(args, sizeof args, "--check 0x" HEX_C " --from %s", bad);
    assert_int_equal(run_cli(args, sc.c.dir, &out), 2);
    free(out);
    free_scene(&sc);
}

/* Ingest runs no analysis of its own and reads no environment: with the
 * token variables pointing at a file that does not exist (the detector
 * would refuse to start), the library's ingest of a generated chain with
 * poisoning attempts succeeds and the store holds no signal; the same
 * source ingested with the safeguard passed as the block hook holds them,
 * and each signal's transfer is one of the store's. */
static void test_ingest_runs_no_analysis_and_reads_no_environment(void **state) {
    (void)state;
    char *dir = tu_tmpdir(), gen[4200], db[4200], db2[4200];
    snprintf(gen, sizeof gen, "%s/gen", dir);
    snprintf(db, sizeof db, "%s/db", dir);
    snprintf(db2, sizeof db2, "%s/db2", dir);
    ch_evmgen_stats gs = generate(gen, 11, 4000);
    ch_error err;
    assert_true(gs.poisonings > 0);
    setenv("COINHOUND_TOKENS", "/nonexistent/tokens.csv", 1);
    setenv("COINHOUND_TOKEN_META", "/nonexistent/meta.csv", 1);
    ch_ingest_opts io = {.progress = 0};
    int rc = ch_ingest_evm(gen, db, "eth", &io, NULL, &err);
    if (rc != 0) print_error("%s\n", err.msg);
    assert_int_equal(rc, 0);
    ch_poison *p;
    assert_int_equal(ch_poison_new(NULL, &p, &err), 0);
    io.on_block = ch_poison_ingest_block;
    io.on_block_ctx = p;
    assert_int_equal(ch_ingest_evm(gen, db2, "eth", &io, NULL, &err), 0);
    ch_poison_free(p);
    unsetenv("COINHOUND_TOKENS");
    unsetenv("COINHOUND_TOKEN_META");
    ch_store *s, *s2;
    assert_int_equal(ch_store_open(db, "eth", CH_STORE_READ, &s, &err), 0);
    assert_int_equal(ch_store_open(db2, "eth", CH_STORE_READ, &s2, &err), 0);
    assert_int_equal(ch_poison_signal_count(s), 0);
    assert_int_equal(ch_store_xfer_count(s), ch_store_xfer_count(s2));
    uint64_t n = ch_poison_signal_count(s2);
    assert_true(n > 0);
    for (uint64_t i = 0; i < n; i++) {
        assert_true(ch_poison_signal(s2, i)->xfer < ch_store_xfer_count(s2));
        if (i) assert_true(ch_poison_signal(s2, i)->xfer >= ch_poison_signal(s2, i - 1)->xfer);
    }
    ch_store_close(s);
    ch_store_close(s2);
    tu_rmrf(dir);
    free(dir);
}

/* Signals of one kind in a store. */
static uint64_t count_kind(const char *db, int kind) {
    ch_store *s;
    ch_error err;
    if (ch_store_open(db, "eth", CH_STORE_READ, &s, &err) != 0) fail_msg("%s", err.msg);
    uint64_t n = 0;
    for (uint64_t i = 0; i < ch_poison_signal_count(s); i++)
        n += ch_poison_signal(s, i)->kind == kind;
    ch_store_close(s);
    return n;
}

/* `ingest eth` runs the safeguard with the token tables it is given:
 * --tokens (a reference list naming the genuine USDT, Tether's mainnet
 * contract, where the generator deploys it) and --token-meta (the
 * generator's own table, in which the fake token calls itself USDT) find
 * fake-token attempts, at least as many as the generator planted (its
 * theft.json); the flags win over the environment (variables naming files
 * that do not exist change nothing); without any table no fake token is
 * found (nothing says which USDT is genuine). */
static void test_cli_ingest_takes_the_safeguards_token_tables(void **state) {
    (void)state;
    char *dir = tu_tmpdir(), gen[4200], ref[4200], meta[4300], cmd[32768], path[4300];
    snprintf(gen, sizeof gen, "%s/gen", dir);
    snprintf(ref, sizeof ref, "%s/ref.csv", dir);
    snprintf(meta, sizeof meta, "%s/tokens.csv", gen);
    generate(gen, 7, 15000);
    FILE *f = fopen(ref, "w");
    assert_non_null(f);
    fprintf(f, "address,symbol,decimals\n0xdac17f958d2ee523a2206206994597c13d831ec7,USDT,6\n");
    fclose(f);
    snprintf(path, sizeof path, "%s/theft.json", gen);
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je), *att = json_object_get(root, "poisoning");
    size_t i, planted = 0;
    json_t *a;
    json_array_foreach(att, i, a) {
        planted += !strcmp(json_string_value(json_object_get(a, "kind")), "fake_token");
    }
    json_decref(root);
    assert_true(planted > 0);
    const char *runs[][2] = {
        {"with", "COINHOUND_TOKENS=/nonexistent/a.csv COINHOUND_TOKEN_META=/nonexistent/b.csv"},
        {"without", "COINHOUND_TOKENS= COINHOUND_TOKEN_META="},
    };
    uint64_t fake[2];
    for (int k = 0; k < 2; k++) {
        char tables[8800] = "";
        if (k == 0) snprintf(tables, sizeof tables, "--tokens %s --token-meta %s", ref, meta);
        snprintf(cmd, sizeof cmd,
                 "%s %s ingest eth %s/blocks.jsonl %s/receipts.jsonl --db %s/%s "
                 "--no-progress %s 2>&1",
                 runs[k][1], tu_bin("coinhound"), gen, gen, dir, runs[k][0], tables);
        int st;
        char *out = tu_run(cmd, &st);
        if (st != 0) fail_msg("%s: exit %d: %s", cmd, st, out);
        free(out);
        snprintf(path, sizeof path, "%s/%s", dir, runs[k][0]);
        fake[k] = count_kind(path, CH_SIG_FAKE_TOKEN);
    }
    if (fake[0] < planted)
        fail_msg("%llu fake-token signals, %zu planted", (unsigned long long)fake[0], planted);
    assert_int_equal(fake[1], 0);
    tu_rmrf(dir);
    free(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_signals_hand),
        cmocka_unit_test(test_signals_survive_commit),
        cmocka_unit_test(test_presend_check),
        cmocka_unit_test(test_presend_lookalike_unseen),
        cmocka_unit_test(test_tokens_fixture),
        cmocka_unit_test(test_random_vs_reference),
        cmocka_unit_test(test_generator_attempts),
        cmocka_unit_test(test_ingest_runs_no_analysis_and_reads_no_environment),
        cmocka_unit_test(test_cli_ingest_takes_the_safeguards_token_tables),
        cmocka_unit_test(test_cli),
        cmocka_unit_test(test_presend_refuses_bad_eip55_checksum),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
