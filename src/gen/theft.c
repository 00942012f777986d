/* The planted theft, for tracing tests.
 *
 * Story: a treasury (fed by a few early coinbases) funds a victim's cold
 * wallet; a thief takes the whole output, then launders it the way large
 * thefts are laundered:
 *   stage 0      treasury -> victim (the coin that will be stolen); the
 *                treasury also pays four users the clean coins that will sit
 *                in the CoinJoin beside the thief;
 *   stage 1      the theft: victim -> thief address;
 *   stages 2-9   a peel chain: 1 input, 2 outputs, a small peel to a fresh
 *                exchange deposit address, the large change going on;
 *   stage 10     a split into four addresses, and a CoinJoin of the first
 *                with the four clean coins (five equal outputs + change);
 *   stages 11-13 the CoinJoin output to an exchange, one split to the mixer,
 *                one to another exchange;
 *   stage 14     every exchange sweeps its deposit addresses (with the
 *                landed coins) into its hot wallet.
 * The fourth split and the CoinJoin change stay unspent (funds still held).
 * Stages run one every `spacing` blocks, among ordinary traffic; every fact
 * a test needs goes to theft.json. */
#include "gen_internal.h"

#include <stdlib.h>
#include <string.h>

#include "coinhound/address.h"
#include "coinhound/jsonw.h"

#define BTC          100000000ULL
#define TREASURY_CBS 5 /* coinbases of heights 2..6 */
#define CJ_DENOM     (1 * BTC)

int gen_theft_plan(gen *g, uint32_t first_traffic, uint32_t last_height, ch_error *err) {
    gen_theft *t = &g->theft;
    /* The treasury's last coinbase (height 6) matures at 6 + maturity. */
    uint32_t earliest = g->o->maturity + 1 + TREASURY_CBS;
    if (earliest < first_traffic) earliest = first_traffic;
    if (last_height < earliest)
        return ch_err(err, "--theft needs at least %u blocks with this maturity (have %u)",
                      earliest + 1, last_height + 1);
    uint32_t avail = last_height - earliest + 1;
    t->spacing = (avail - 1) / (THEFT_STAGES - 1);
    if (t->spacing > 3) t->spacing = 3;
    uint32_t span = t->spacing * (THEFT_STAGES - 1);
    t->start = earliest + (avail - 1 - span) * 3 / 10;
    t->on = true;
    t->treasury_w = gen_wallet_new(g, R_TREASURY, ST_P2SH_MULTI);
    t->victim_w = gen_wallet_new(g, R_VICTIM, ST_P2WSH_MULTI);
    t->thief_w = gen_wallet_new(g, R_THIEF, ST_P2WPKH);
    return 0;
}

bool gen_theft_due(const gen *g) {
    const gen_theft *t = &g->theft;
    return t->on && t->stage < THEFT_STAGES && g->height >= t->start + t->stage * t->spacing;
}

static void step(gen *g, const char *role, uint32_t btx) {
    gen_theft *t = &g->theft;
    if (t->n_steps == THEFT_MAX_STEPS) return;
    t->steps[t->n_steps++] =
        (theft_step){.role = role, .txid = g->btx[btx].txid, .height = g->height};
}

void gen_theft_note_spend(gen *g, const ch_hash256 *txid) {
    gen_theft *t = &g->theft;
    for (uint32_t i = 0; i < t->n_sweeps; i++)
        if (!memcmp(t->sweeps[i].b, txid->b, 32)) return;
    if (t->n_sweeps < THEFT_MAX_STEPS) t->sweeps[t->n_sweeps++] = *txid;
}

static uint64_t thief_key(gen *g) {
    return gen_new_key(g);
}

/* The output of the last transaction that pays `key`: its vout. */
static uint32_t vout_of(const gen *g, uint64_t key) {
    for (uint32_t i = 0; i < g->tb.n_out; i++)
        if (g->tb.out[i].key == key) return i;
    return GEN_NONE;
}

/* A fresh deposit address of service s receives `value` from the last
 * input(s) added; flagged so the sweep that collects it is recorded. */
static uint64_t landing_out(gen *g, unsigned s, uint64_t value) {
    uint32_t dw = g->svc[s].deposit_w;
    uint64_t key = gen_new_key(g);
    gen_label_add(g, s, g->w[dw].type, key);
    uint32_t o = gen_tx_out(g, dw, g->w[dw].type, key, value);
    g->tb.out[o].flags = UF_LANDING;
    return key;
}

static void note_landing(gen *g, unsigned s, uint64_t key, uint32_t btx, const char *via) {
    gen_theft *t = &g->theft;
    uint32_t v = vout_of(g, key);
    if (t->n_land == THEFT_MAX_LAND || v == GEN_NONE) return;
    t->land[t->n_land++] = (theft_landing){.service = (uint8_t)s,
                                           .type = g->w[g->svc[s].deposit_w].type,
                                           .key = key,
                                           .txid = g->btx[btx].txid,
                                           .vout = v,
                                           .value = g->tb.out[v].value,
                                           .via = via};
}

/* The theft's first stage: the treasury's coinbases pay the victim's
 * multisig wallet the amount that will be stolen. */
static void stage_fund(gen *g) {
    gen_theft *t = &g->theft;
    const gen_wallet *tw = &g->w[t->treasury_w];
    if (tw->n < TREASURY_CBS) abort(); /* the plan guarantees maturity */
    gen_tx_begin(g);
    for (uint32_t i = 0; i < TREASURY_CBS - 1; i++)
        gen_tx_in(g, tw->u[i]);
    t->victim_key = gen_new_key(g);
    uint64_t total = gen_tx_in_total(g), fee = gen_tx_fee(g, 1, 10);
    gen_tx_out(g, t->victim_w, ST_P2WSH_MULTI, t->victim_key, total - fee);
    uint32_t outs[1];
    step(g, "fund_victim", gen_tx_finish(g, outs));
    t->cur = outs[0];
    t->victim_amount = g->ut[t->cur].value;

    /* Clean coins for the CoinJoin, parked so ordinary traffic leaves them
     * alone until then. */
    gen_tx_begin(g);
    gen_tx_in(g, g->w[t->treasury_w].u[0]);
    uint32_t users[4];
    for (uint32_t i = 0; i < 4; i++) {
        uint32_t u;
        bool dup;
        do {
            u = gen_random_user(g);
            dup = false;
            for (uint32_t j = 0; j < i; j++)
                dup |= users[j] == u;
        } while (dup && g->n_users > 4);
        users[i] = u;
        uint64_t v = CJ_DENOM + gen_rng_range(&g->rng, BTC / 5, 2 * BTC);
        uint32_t o = gen_tx_out(g, u, g->w[u].type, gen_new_key(g), v);
        g->tb.out[o].park = 1;
    }
    total = gen_tx_in_total(g);
    uint64_t paid = 0;
    for (uint32_t i = 0; i < 4; i++)
        paid += g->tb.out[i].value;
    fee = gen_tx_fee(g, 1, 10);
    gen_tx_out(g, t->treasury_w, ST_P2SH_MULTI, gen_new_key(g), total - paid - fee);
    uint32_t cj[5];
    gen_tx_finish(g, cj);
    for (uint32_t i = 0; i < 4; i++)
        t->clean[i] = cj[i];
}

static void stage_theft(gen *g) {
    gen_theft *t = &g->theft;
    gen_tx_begin(g);
    gen_tx_in(g, t->cur);
    t->thief_key = thief_key(g);
    uint64_t total = gen_tx_in_total(g), fee = gen_tx_fee(g, 1, 40); /* in a hurry */
    gen_tx_out(g, t->thief_w, ST_P2WPKH, t->thief_key, total - fee);
    uint32_t outs[1];
    uint32_t b = gen_tx_finish(g, outs);
    step(g, "theft", b);
    t->theft_txid = g->btx[b].txid;
    t->theft_vout = 0;
    t->amount = total - fee;
    t->height = g->height;
    t->cur = outs[0];
}

/* 1 input, 2 outputs: a peel of 1-6% to a fresh deposit address of an
 * exchange, the rest to a fresh thief address. */
static void stage_peel(gen *g, uint32_t i) {
    gen_theft *t = &g->theft;
    gen_tx_begin(g);
    gen_tx_in(g, t->cur);
    uint64_t total = gen_tx_in_total(g), fee = gen_tx_fee(g, 2, gen_fee_rate(g));
    uint64_t peel = (total / 100) * gen_rng_range(&g->rng, 1, 6);
    peel -= peel % 100000; /* peels look like round withdrawals: 0.001 BTC steps */
    unsigned s = i % 3;
    uint64_t dkey = landing_out(g, s, peel);
    uint64_t ckey = thief_key(g);
    gen_tx_out(g, t->thief_w, ST_P2WPKH, ckey, total - fee - peel);
    gen_tx_shuffle_outs(g);
    uint32_t outs[2];
    uint32_t b = gen_tx_finish(g, outs);
    step(g, "peel", b);
    note_landing(g, s, dkey, b, "peel");
    t->cur = outs[vout_of(g, ckey)];
}

/* After the theft: the thief splits the coins over fresh addresses, one part
 * sized for a CoinJoin denomination, and joins a CoinJoin with other users:
 * the case the cluster heuristics must not merge. */
static void stage_split_and_coinjoin(gen *g) {
    gen_theft *t = &g->theft;
    /* Split: the first part just covers one CoinJoin denomination plus a
     * change; the rest is spread over three more addresses. */
    gen_tx_begin(g);
    gen_tx_in(g, t->cur);
    uint64_t total = gen_tx_in_total(g), fee = gen_tx_fee(g, 4, gen_fee_rate(g));
    uint64_t first = CJ_DENOM + gen_rng_range(&g->rng, BTC / 20, BTC / 3);
    uint64_t rest = total - fee - first;
    uint64_t parts[4] = {first, rest / 100 * 30, rest / 100 * 45, 0};
    parts[3] = rest - parts[1] - parts[2];
    uint64_t keys[4];
    for (uint32_t i = 0; i < 4; i++) {
        keys[i] = thief_key(g);
        gen_tx_out(g, t->thief_w, ST_P2WPKH, keys[i], parts[i]);
    }
    gen_tx_shuffle_outs(g);
    uint32_t outs[4];
    step(g, "split", gen_tx_finish(g, outs));
    for (uint32_t i = 0; i < 4; i++)
        t->split[i] = outs[vout_of(g, keys[i])];

    /* CoinJoin: the thief's coin and four clean ones, in random order; five
     * equal outputs, each participant's change beside them. */
    uint32_t ins[5] = {t->split[0], t->clean[0], t->clean[1], t->clean[2], t->clean[3]};
    for (uint32_t i = 5; i > 1; i--) {
        uint32_t j = (uint32_t)gen_rng_below(&g->rng, i);
        uint32_t x = ins[i - 1];
        ins[i - 1] = ins[j];
        ins[j] = x;
    }
    gen_tx_begin(g);
    uint64_t rate = 5, eq_key = 0, ch_key = 0;
    for (uint32_t i = 0; i < 5; i++)
        gen_tx_in(g, ins[i]);
    for (uint32_t i = 0; i < 5; i++) {
        const gen_utxo *x = &g->ut[ins[i]];
        uint32_t w = x->wallet;
        uint64_t share = rate * (gen_stype_in_vsize(x->type) + 68);
        uint64_t k1 = gen_new_key(g), k2 = gen_new_key(g);
        gen_tx_out(g, w, g->w[w].type, k1, CJ_DENOM);
        gen_tx_out(g, w, g->w[w].type, k2, x->value - share - CJ_DENOM);
        if (ins[i] == t->split[0]) {
            eq_key = k1;
            ch_key = k2;
        }
    }
    gen_tx_shuffle_outs(g);
    uint32_t cj[10];
    uint32_t b = gen_tx_finish(g, cj);
    step(g, "coinjoin", b);
    t->cj_equal = cj[vout_of(g, eq_key)];
    t->cj_change = cj[vout_of(g, ch_key)];
    t->denomination = CJ_DENOM;
}

/* One thief coin, whole, to a fresh deposit address of service s. */
static void stage_deposit(gen *g, uint32_t coin, unsigned s, const char *via) {
    gen_tx_begin(g);
    gen_tx_in(g, coin);
    uint64_t total = gen_tx_in_total(g), fee = gen_tx_fee(g, 1, gen_fee_rate(g));
    uint64_t key = landing_out(g, s, total - fee);
    uint32_t b = gen_tx_finish(g, NULL);
    step(g, "deposit", b);
    note_landing(g, s, key, b, via);
}

static bool holds_landing(const gen *g, unsigned s) {
    const gen_wallet *w = &g->w[g->svc[s].deposit_w];
    for (uint32_t i = 0; i < w->n; i++)
        if (g->ut[w->u[i]].flags & UF_LANDING) return true;
    return false;
}

static void stage_sweeps(gen *g) {
    for (unsigned s = 0; s < GEN_SERVICES; s++)
        while (holds_landing(g, s))
            if (!gen_sweep(g, s, 500)) break;
}

static void run_stage(gen *g, uint32_t stage) {
    gen_theft *t = &g->theft;
    if (stage == 0)
        stage_fund(g);
    else if (stage == 1)
        stage_theft(g);
    else if (stage < 2 + THEFT_PEELS)
        stage_peel(g, stage - 2);
    else if (stage == 10)
        stage_split_and_coinjoin(g);
    else if (stage == 11)
        stage_deposit(g, t->cj_equal, 2, "coinjoin");
    else if (stage == 12)
        stage_deposit(g, t->split[1], 3, "split");
    else if (stage == 13)
        stage_deposit(g, t->split[2], 1, "split");
    else
        stage_sweeps(g);
}

void gen_theft_run_due(gen *g) {
    while (gen_theft_due(g))
        run_stage(g, g->theft.stage++);
}

/* --- theft.json --------------------------------------------------------- */

static void jw_hash(ch_jw *j, const char *key, const ch_hash256 *h) {
    char hex[65];
    ch_hash256_to_hex(h, hex);
    ch_jw_key(j, key);
    ch_jw_str(j, hex);
}

static void jw_addr(gen *g, ch_jw *j, const char *key, gen_stype type, uint64_t k) {
    ch_addr a;
    char s[CH_ADDR_STR_MAX];
    gen_key_addr(g->key_seed, type, k, &a);
    ch_jw_key(j, key);
    ch_jw_str(j, ch_addr_to_string(&a, GEN_ADDR_NET, s) == 0 ? s : NULL);
}

static void jw_coin(gen *g, ch_jw *j, uint32_t u) {
    const gen_utxo *x = &g->ut[u];
    ch_jw_obj_begin(j);
    jw_hash(j, "txid", &x->txid);
    ch_jw_key(j, "vout");
    ch_jw_uint(j, x->vout);
    ch_jw_key(j, "amount");
    ch_jw_uint(j, x->value);
    jw_addr(g, j, "address", x->type, x->key);
    ch_jw_obj_end(j);
}

/* The theft's truth file (theft.json): every tx of the story, the outputs at
 * each step and where the coins landed, for the tests to compare a trace
 * with. */
static void write_json(gen *g, ch_jw *j) {
    const gen_theft *t = &g->theft;
    ch_jw_obj_begin(j);
    ch_jw_key(j, "chain");
    ch_jw_str(j, "bitcoin");
    jw_hash(j, "theft_txid", &t->theft_txid);
    ch_jw_key(j, "theft_vout");
    ch_jw_uint(j, t->theft_vout);
    ch_jw_key(j, "amount");
    ch_jw_uint(j, t->amount);
    ch_jw_key(j, "height");
    ch_jw_uint(j, t->height);
    jw_addr(g, j, "thief_address", ST_P2WPKH, t->thief_key);
    jw_addr(g, j, "victim_address", ST_P2WSH_MULTI, t->victim_key);
    ch_jw_key(j, "victim_amount");
    ch_jw_uint(j, t->victim_amount);

    ch_jw_key(j, "steps");
    ch_jw_arr_begin(j);
    for (uint32_t i = 0; i < t->n_steps; i++) {
        ch_jw_obj_begin(j);
        ch_jw_key(j, "role");
        ch_jw_str(j, t->steps[i].role);
        jw_hash(j, "txid", &t->steps[i].txid);
        ch_jw_key(j, "height");
        ch_jw_uint(j, t->steps[i].height);
        ch_jw_obj_end(j);
    }
    ch_jw_arr_end(j);

    ch_jw_key(j, "landings");
    ch_jw_arr_begin(j);
    for (uint32_t i = 0; i < t->n_land; i++) {
        const theft_landing *l = &t->land[i];
        ch_jw_obj_begin(j);
        jw_addr(g, j, "address", l->type, l->key);
        ch_jw_key(j, "category");
        ch_jw_str(j, g->svc[l->service].category);
        ch_jw_key(j, "entity");
        ch_jw_str(j, g->svc[l->service].entity);
        jw_hash(j, "txid", &l->txid);
        ch_jw_key(j, "vout");
        ch_jw_uint(j, l->vout);
        ch_jw_key(j, "amount");
        ch_jw_uint(j, l->value);
        ch_jw_key(j, "via");
        ch_jw_str(j, l->via);
        ch_jw_obj_end(j);
    }
    ch_jw_arr_end(j);

    ch_jw_key(j, "sweeps");
    ch_jw_arr_begin(j);
    for (uint32_t i = 0; i < t->n_sweeps; i++) {
        char hex[65];
        ch_hash256_to_hex(&t->sweeps[i], hex);
        ch_jw_str(j, hex);
    }
    ch_jw_arr_end(j);

    ch_jw_key(j, "coinjoin_denomination");
    ch_jw_uint(j, t->denomination);
    ch_jw_key(j, "dormant");
    ch_jw_arr_begin(j);
    jw_coin(g, j, t->split[3]);
    jw_coin(g, j, t->cj_change);
    ch_jw_arr_end(j);
    ch_jw_obj_end(j);
    ch_jw_newline(j);
}

int gen_theft_write(gen *g, ch_error *err) {
    if (!g->theft.on) return 0;
    if (g->theft.stage < THEFT_STAGES)
        return ch_err(err, "internal error: theft stopped at stage %u", g->theft.stage);
    size_t n = strlen(g->o->out_dir) + 16;
    char *path = malloc(n);
    if (!path) return ch_err(err, "out of memory");
    snprintf(path, n, "%s/theft.json", g->o->out_dir);
    FILE *f = fopen(path, "w");
    if (!f) {
        ch_err(err, "cannot create %s", path);
        free(path);
        return -1;
    }
    ch_jw j;
    ch_jw_init(&j, f);
    write_json(g, &j);
    int rc = fclose(f) == 0 ? 0 : ch_err(err, "cannot write %s", path);
    free(path);
    return rc;
}
