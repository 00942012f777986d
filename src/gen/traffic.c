/* Ordinary traffic: the transactions that make up the bulk of the chain.
 *
 * Each shape is one function that either builds a transaction or declines
 * (false) when the wallets it drew cannot afford it; the caller then tries
 * another shape. Shapes and their rough share of transactions:
 *   payment        1-3 inputs of one user -> payee + change (about 85%),
 *                  the payee being another user (fresh or reused address),
 *                  an exchange deposit address, or rarely the mixer;
 *   consolidation  8-60 inputs of one user -> 1 output of the same user;
 *   sweep          an exchange's deposit addresses -> its reused hot wallet;
 *   withdrawal     hot wallet, 1-2 inputs -> a batch of users + change back;
 *   coinjoin       5-8 users, equal outputs + change (JoinMarket-like);
 *   miner payout   a pool spends its coinbases -> dozens of users.
 * Every non-coinbase output is at least MIN_OUT satoshi, so nothing becomes
 * unspendable dust. */
#include "gen_internal.h"

#define MIN_OUT    1000ULL
#define MIN_CHANGE 5000ULL

/* Two significant digits: people pay 0.25 BTC, not 0.24871533. */
static uint64_t round2(uint64_t v) {
    uint64_t p = 1;
    while (v / p >= 100)
        p *= 10;
    return v - v % p;
}

static bool already_in(const gen *g, uint32_t u) {
    for (uint32_t i = 0; i < g->tb.n_in; i++)
        if (g->tb.in[i] == u) return true;
    return false;
}

/* Add up to n more distinct inputs from a wallet. */
static void add_wallet_inputs(gen *g, uint32_t wallet, uint32_t n) {
    const gen_wallet *w = &g->w[wallet];
    for (uint32_t tries = 0; n > 0 && tries < 4 * n + 4 && g->tb.n_in < w->n; tries++) {
        uint32_t u = w->u[gen_rng_below(&g->rng, w->n)];
        if (already_in(g, u)) continue;
        gen_tx_in(g, u);
        n--;
    }
}

static uint32_t pick_payee(gen *g, uint32_t payer) {
    uint32_t p = gen_random_user(g);
    if (p == payer) p = gen_random_user(g);
    return p;
}

/* The payment output: to a user, an exchange deposit address or the mixer. */
static void pay_to(gen *g, uint32_t payer, uint64_t amount) {
    uint64_t r = gen_rng_below(&g->rng, 1000);
    if (r < 105) {
        unsigned s = r < 100 ? (unsigned)gen_rng_below(&g->rng, 3) : 3;
        const gen_wallet *dep = &g->w[g->svc[s].deposit_w];
        gen_tx_out(g, g->svc[s].deposit_w, dep->type, gen_deposit_key(g, payer, s), amount);
        return;
    }
    uint32_t payee = pick_payee(g, payer);
    gen_tx_out(g, payee, g->w[payee].type, gen_user_receive_key(g, payee), amount);
}

/* An ordinary payment between users: one to three inputs of the payer, a
 * payee output and change, at the current fee rate; false when no coin is
 * spendable yet. */
static bool payment(gen *g) {
    if (g->n_pool == 0) return false;
    gen_tx_begin(g);
    uint32_t first = g->pool[gen_rng_below(&g->rng, g->n_pool)];
    uint32_t payer = g->ut[first].wallet;
    gen_tx_in(g, first);
    uint64_t r = gen_rng_below(&g->rng, 100);
    add_wallet_inputs(g, payer, r < 60 ? 0 : r < 85 ? 1 : 2);

    uint64_t rate = gen_fee_rate(g);
    bool opret = gen_rng_chance(&g->rng, 20);
    uint32_t outs = 2 + opret;
    /* Not enough for a payment and change: bring in more coins, as a wallet's
     * coin selection would. */
    while (gen_tx_in_total(g) < gen_tx_fee(g, outs, rate) + MIN_OUT + MIN_CHANGE &&
           g->tb.n_in < g->w[payer].n && g->tb.n_in < 12)
        add_wallet_inputs(g, payer, 1);
    uint64_t total = gen_tx_in_total(g), fee = gen_tx_fee(g, outs, rate);
    if (total < fee + MIN_OUT + MIN_CHANGE) return false;

    uint64_t avail = total - fee, amount, change;
    if (gen_rng_chance(&g->rng, 60)) {
        amount = avail; /* "send all": no change */
    } else {
        amount = avail * gen_rng_range(&g->rng, 3, 95) / 100;
        if (gen_rng_chance(&g->rng, 400)) amount = round2(amount);
        if (amount < MIN_OUT) amount = MIN_OUT;
    }
    change = avail - amount;
    if (change < MIN_CHANGE) change = 0; /* too small to keep: the miner gets it */

    pay_to(g, payer, amount);
    if (change) gen_tx_out(g, payer, g->w[payer].type, gen_change_key(g, payer), change);
    if (opret) gen_tx_out_nulldata(g);
    gen_tx_shuffle_outs(g);
    gen_tx_finish(g, NULL);
    return true;
}

static bool consolidation(gen *g) {
    if (g->n_pool == 0) return false;
    uint32_t owner = g->ut[g->pool[gen_rng_below(&g->rng, g->n_pool)]].wallet;
    const gen_wallet *w = &g->w[owner];
    if (w->n < 8) return false;
    uint32_t m = (uint32_t)gen_rng_range(&g->rng, 8, 60);
    if (m > w->n) m = w->n;
    gen_tx_begin(g);
    uint32_t start = (uint32_t)gen_rng_below(&g->rng, w->n);
    for (uint32_t i = 0; i < m; i++)
        gen_tx_in(g, w->u[(start + i) % w->n]);
    /* Consolidations wait for a quiet mempool. */
    uint64_t total = gen_tx_in_total(g), fee = gen_tx_fee(g, 1, gen_rng_range(&g->rng, 1, 4));
    if (total < fee + MIN_OUT) return false;
    gen_tx_out(g, owner, w->type, gen_new_key(g), total - fee);
    gen_tx_finish(g, NULL);
    return true;
}

bool gen_sweep(gen *g, unsigned s, uint32_t max_in) {
    uint32_t dw = g->svc[s].deposit_w;
    const gen_wallet *dep = &g->w[dw];
    if (dep->n == 0) return false;
    uint32_t m = dep->n < max_in ? dep->n : max_in;
    gen_tx_begin(g);
    for (uint32_t i = 0; i < m; i++)
        gen_tx_in(g, dep->u[i]);
    uint64_t total = gen_tx_in_total(g), fee = gen_tx_fee(g, 1, gen_rng_range(&g->rng, 2, 8));
    if (total < fee + MIN_OUT) return false;
    uint32_t hw = g->svc[s].hot_w;
    uint64_t key = g->svc[s].hot_key[gen_rng_below(&g->rng, 2)];
    gen_tx_out(g, hw, g->w[hw].type, key, total - fee);
    gen_tx_finish(g, NULL);
    return true;
}

/* A batch of payouts from wallet `from` (a hot wallet or a mining pool) to
 * n users; what is left returns to change_key, an address the payer reuses.
 * share_pct of the inputs is paid out. */
static bool batch(gen *g, uint32_t from, uint64_t change_key, uint32_t n, uint64_t share_pct,
                  bool round) {
    uint64_t rate = gen_fee_rate(g);
    uint64_t total = gen_tx_in_total(g), fee = gen_tx_fee(g, n + 1, rate);
    if (total < fee + n * MIN_OUT * 20) return false;
    uint64_t budget = (total - fee) / 100 * share_pct;
    uint64_t weights[128], wsum = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t x = gen_rng_range(&g->rng, 1, 1000);
        weights[i] = x * x / 100 + 1; /* skewed: a few large, many small */
        wsum += weights[i];
    }
    uint64_t paid = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t amount = budget / wsum * weights[i];
        if (round) amount = round2(amount);
        if (amount < MIN_OUT) amount = MIN_OUT;
        paid += amount;
        uint32_t payee = gen_random_user(g);
        /* Now and then a withdrawal goes straight to another exchange. */
        if (round && gen_rng_chance(&g->rng, 50)) {
            unsigned s = (unsigned)gen_rng_below(&g->rng, 3);
            gen_tx_out(g, g->svc[s].deposit_w, g->w[g->svc[s].deposit_w].type,
                       gen_deposit_key(g, payee, s), amount);
        } else {
            gen_tx_out(g, payee, g->w[payee].type, gen_user_receive_key(g, payee), amount);
        }
    }
    if (paid + fee > total) return false;
    uint64_t change = total - fee - paid;
    if (change >= MIN_CHANGE) gen_tx_out(g, from, g->w[from].type, change_key, change);
    gen_tx_shuffle_outs(g);
    gen_tx_finish(g, NULL);
    return true;
}

/* The larger of two random coins of a wallet: hot wallets spend big ones. */
static uint32_t big_coin(gen *g, const gen_wallet *w) {
    uint32_t a = w->u[gen_rng_below(&g->rng, w->n)];
    uint32_t b = w->u[gen_rng_below(&g->rng, w->n)];
    return g->ut[a].value >= g->ut[b].value ? a : b;
}

static bool withdrawal(gen *g, unsigned s) {
    uint32_t hw = g->svc[s].hot_w;
    const gen_wallet *hot = &g->w[hw];
    if (hot->n == 0) return false;
    gen_tx_begin(g);
    gen_tx_in(g, big_coin(g, hot));
    if (hot->n > 1 && gen_rng_chance(&g->rng, 300)) add_wallet_inputs(g, hw, 1);
    uint32_t n = (uint32_t)gen_rng_range(&g->rng, 2, 30);
    return batch(g, hw, g->svc[s].hot_key[0], n, gen_rng_range(&g->rng, 5, 40), true);
}

bool gen_miner_payout(gen *g) {
    uint32_t best = 0;
    for (uint32_t i = 1; i < 3; i++)
        if (g->w[g->miner_w[i]].n > g->w[g->miner_w[best]].n) best = i;
    uint32_t mw = g->miner_w[best];
    if (g->w[mw].n == 0) return false;
    gen_tx_begin(g);
    add_wallet_inputs(g, mw, g->w[mw].n < 3 ? g->w[mw].n : 3);
    uint32_t n = (uint32_t)gen_rng_range(&g->rng, 10, 60);
    return batch(g, mw, g->miner_key[best], n, gen_rng_range(&g->rng, 90, 98), false);
}

/* JoinMarket-style CoinJoin among k users who do not know each other: k
 * equal outputs of a pool denomination, plus each one's change. */
static bool coinjoin(gen *g) {
    static const uint64_t DENOMS[] = {50000000, 5000000, 1000000, 100000};
    uint32_t k = (uint32_t)gen_rng_range(&g->rng, 5, 8), got = 0;
    uint64_t rate = gen_rng_range(&g->rng, 2, 10), min_room = UINT64_MAX;
    if (g->n_pool < 4 * k) return false;
    gen_tx_begin(g);
    for (uint32_t tries = 0; tries < 40 && got < k; tries++) {
        uint32_t u = g->pool[gen_rng_below(&g->rng, g->n_pool)];
        const gen_utxo *x = &g->ut[u];
        bool dup = false;
        for (uint32_t i = 0; i < got; i++)
            dup |= g->ut[g->tb.in[i]].wallet == x->wallet;
        uint64_t share = rate * (gen_stype_in_vsize(x->type) + 68);
        if (dup || x->value < 200000 + share) continue;
        gen_tx_in(g, u);
        if (x->value - share < min_room) min_room = x->value - share;
        got++;
    }
    if (got < k) return false;
    uint64_t d = 0;
    for (size_t i = 0; i < sizeof DENOMS / sizeof *DENOMS && !d; i++)
        if (DENOMS[i] <= min_room) d = DENOMS[i];
    for (uint32_t i = 0; i < k; i++) {
        const gen_utxo *x = &g->ut[g->tb.in[i]];
        uint32_t w = x->wallet;
        uint64_t change = x->value - rate * (gen_stype_in_vsize(x->type) + 68) - d;
        gen_tx_out(g, w, g->w[w].type, gen_new_key(g), d);
        if (change >= MIN_CHANGE) gen_tx_out(g, w, g->w[w].type, gen_new_key(g), change);
    }
    gen_tx_shuffle_outs(g);
    gen_tx_finish(g, NULL);
    return true;
}

bool gen_traffic_tx(gen *g) {
    uint64_t r = gen_rng_below(&g->rng, 1000);
    unsigned s = (unsigned)gen_rng_below(&g->rng, GEN_SERVICES);
    if (r < 25 && g->w[g->svc[s].deposit_w].n >= 12 &&
        gen_sweep(g, s, (uint32_t)gen_rng_range(&g->rng, 12, 200)))
        return true;
    if (r < 60 && withdrawal(g, s)) return true;
    if (r >= 60 && r < 100 && consolidation(g)) return true;
    if (r >= 100 && r < 110 && coinjoin(g)) return true;
    for (int tries = 0; tries < 4; tries++)
        if (payment(g)) return true;
    return gen_miner_payout(g);
}
