/* The planted theft, modelled on the Bybit hack (February 2025) at its
 * real size, for tracing tests and benchmarks.
 *
 * Stages (stage 0 in the setup block, the others `spacing` blocks apart):
 *   0  the victim exchange's wallet is funded (ETH, USDT, USDC);
 *   1  the drain: one big ETH transfer and one transfer per token, all to
 *      the exploiter's address;
 *   2  the exploiter splits the ETH over 48 fresh addresses;
 *   3  and the tokens over twelve of them (USDC to 0-5, USDT to 6-11);
 *   4  0-8 swap their tokens to ETH at the DEX; every fifth address hops
 *      its ETH on to another fresh address;
 *   5  each holder deposits by the last digit of its number: 0-3 at an
 *      exchange deposit address (swept later like any deposit), 4-6 at the
 *      bridge, 7-8 half at an exchange, 9 keeps everything; 9-11 also
 *      deposit their USDT at an exchange.
 * Everything a test needs goes to theft.json. */
#include "evg_internal.h"

#include <stdlib.h>
#include <string.h>

#include "coinhound/jsonw.h"

#define DRAIN_ETH_WHOLE 401347ULL
#define DRAIN_USDT      20000000ULL
#define DRAIN_USDC      25500000ULL
#define STAGES          6
#define BRIDGE_GAS      70000u

static const char VICTIM_ENTITY[] = "Bywater Exchange";

void evg_theft_plan(evg *g, uint64_t last_block) {
    evg_theft *t = &g->theft;
    uint64_t n = last_block - g->o->first_block + 1;
    t->on = true;
    t->start = g->o->first_block + (n * 3 / 10 > 3 ? n * 3 / 10 : 3);
    t->spacing = n * 6 / 10 / STAGES;
    if (t->spacing > 25) t->spacing = 25;
    if (t->spacing < 1) t->spacing = 1;
    t->victim = evg_acct_new(g, RO_VICTIM);
    evg_label(g, t->victim, "exchange", VICTIM_ENTITY);
    t->thief = evg_acct_new(g, RO_THIEF);
    for (unsigned i = 0; i < THEFT_SPLITS; i++) {
        t->split[i] = evg_acct_new(g, RO_THIEF);
        t->hop[i] = EVG_NONE;
    }
}

static bool due(const evg *g) {
    const evg_theft *t = &g->theft;
    if (!t->on || t->done) return false;
    if (t->stage == 0) return true; /* with the setup */
    return g->number >= t->start + (t->stage - 1) * t->spacing;
}

/* The fee of a transaction sent by a theft address. */
static void fee(evg *g, uint32_t tx) {
    g->theft.fees += (u128)g->tx[tx].gas_used * g->tx[tx].p.eff;
}

static void land(evg *g, uint32_t acct, unsigned asset, u128 amount, uint32_t tx) {
    evg_theft *t = &g->theft;
    if (t->n_land == THEFT_MAX) abort();
    theft_landing *l = &t->land[t->n_land++];
    l->acct = acct;
    l->asset = (uint8_t)asset;
    l->amount = amount;
    memcpy(l->tx, g->tx[tx].hash, 32);
}

static void drain(evg *g, unsigned asset, u128 amount) {
    evg_theft *t = &g->theft;
    uint32_t tx = evg_send(g, t->victim, t->thief, asset, amount);
    memcpy(t->drain_tx[asset], g->tx[tx].hash, 32);
    t->drained[asset] = amount;
    t->drained_any[asset] = true;
}

/* Split `total` of asset from the exploiter over split[lo..hi). */
static void split(evg *g, unsigned asset, u128 total, unsigned lo, unsigned hi) {
    evg_theft *t = &g->theft;
    uint64_t w[THEFT_SPLITS], sum = 0;
    for (unsigned i = lo; i < hi; i++)
        sum += w[i] = evg_range(&g->rng, 50, 150);
    u128 left = total;
    for (unsigned i = lo; i < hi; i++) {
        u128 share = i + 1 == hi ? left : total * w[i] / sum;
        left -= share;
        fee(g, evg_send(g, t->thief, t->split[i], asset, share));
    }
}

static uint32_t holder(const evg_theft *t, unsigned i) {
    return t->hop[i] != EVG_NONE ? t->hop[i] : t->split[i];
}

static void deposit(evg *g, uint32_t h, unsigned i, unsigned asset, u128 amount) {
    uint32_t d = evg_deposit_addr(g, h, (i + i / 10) % N_EX);
    uint32_t tx;
    if (asset == ASSET_ETH && amount == 0) { /* everything */
        tx = evg_send_all_eth(g, h, d);
        if (tx == EVG_NONE) return;
        amount = g->tx[tx].value;
    } else {
        tx = evg_send(g, h, d, asset, amount);
    }
    fee(g, tx);
    land(g, d, asset, amount, tx);
    evg_sweep_schedule(g, d, asset);
}

/* One stage of the scripted drain per call: funding the victim, the drain
 * of ETH, USDT and USDC, splits over fresh accounts, swaps of the tokens to
 * ETH and hops, then deposits to exchanges and the bridge: the story the
 * truth file tells, played out among ordinary traffic. */
static void stage(evg *g) {
    evg_theft *t = &g->theft;
    switch (t->stage) {
    case 0:
        evg_send(g, g->faucet, t->victim, ASSET_ETH, (DRAIN_ETH_WHOLE + 10) * ETHER);
        evg_ensure_gas(g, g->treasury, GAS_TOKEN);
        evg_send(g, g->treasury, t->victim, TK_USDT, DRAIN_USDT * evg_unit(TK_USDT));
        evg_send(g, g->treasury, t->victim, TK_USDC, DRAIN_USDC * evg_unit(TK_USDC));
        break;
    case 1:
        drain(g, ASSET_ETH, DRAIN_ETH_WHOLE * ETHER);
        drain(g, TK_USDT, DRAIN_USDT * evg_unit(TK_USDT));
        drain(g, TK_USDC, DRAIN_USDC * evg_unit(TK_USDC));
        t->block = g->number;
        t->timestamp = g->timestamp;
        break;
    case 2: /* keep 2 ETH for the exploiter's own gas */
        split(g, ASSET_ETH, t->drained[ASSET_ETH] - 2 * ETHER, 0, THEFT_SPLITS);
        break;
    case 3:
        split(g, TK_USDC, t->drained[TK_USDC], 0, 6);
        split(g, TK_USDT, t->drained[TK_USDT], 6, 12);
        break;
    case 4:
        for (unsigned i = 0; i < 9; i++) {
            uint32_t a = t->split[i];
            unsigned tk = i < 6 ? TK_USDC : TK_USDT;
            theft_swap *s = &t->swap[t->n_swap++];
            s->acct = a;
            s->asset_in = (uint8_t)tk;
            s->amount_in = g->a[a].tok[tk];
            uint32_t tx = evg_swap_to_eth(g, a, tk, s->amount_in, &s->amount_out);
            memcpy(s->tx, g->tx[tx].hash, 32);
            fee(g, tx);
        }
        for (unsigned i = 1; i < THEFT_SPLITS; i += 5) {
            if (i >= 9 && i < 12) continue; /* they still need gas for their USDT */
            t->hop[i] = evg_acct_new(g, RO_THIEF);
            uint32_t tx = evg_send_all_eth(g, t->split[i], t->hop[i]);
            if (tx != EVG_NONE) fee(g, tx);
        }
        break;
    case 5:
        for (unsigned i = 0; i < THEFT_SPLITS; i++) {
            uint32_t h = holder(t, i);
            if (i >= 9 && i < 12) deposit(g, h, i, TK_USDT, g->a[h].tok[TK_USDT]);
            unsigned route = i % 10;
            if (route <= 3) {
                deposit(g, h, i, ASSET_ETH, 0);
            } else if (route <= 6) {
                evg_price p = evg_price_pick(g, true);
                u128 cost = (u128)BRIDGE_GAS * p.max_fee;
                if (g->a[h].eth <= cost) continue;
                u128 v = g->a[h].eth - cost;
                uint32_t tx = evg_bridge_deposit(g, h, v, &p, BRIDGE_GAS);
                fee(g, tx);
                land(g, g->bridge, ASSET_ETH, v, tx);
            } else if (route <= 8) {
                deposit(g, h, i, ASSET_ETH, g->a[h].eth / 2);
            }
        }
        t->done = true;
        break;
    }
    t->stage++;
}

void evg_theft_run_due(evg *g) {
    while (due(g))
        stage(g);
}

/* --- theft.json ----------------------------------------------------------- */

static void amount_obj(ch_jw *j, const evg *g, unsigned asset, u128 v) {
    char dec[40];
    evg_jw_asset(j, g, asset);
    ch_jw_key(j, "decimals");
    ch_jw_uint(j, asset == ASSET_ETH ? 18 : EVG_TOKENS[asset].decimals);
    ch_jw_key(j, "amount");
    ch_jw_str(j, evg_u128_dec(v, dec));
}

/* The assets of a drain in the order theft.json lists them. */
static const unsigned THEFT_ORDER[] = {ASSET_ETH, TK_USDT, TK_USDC};

/* "drains": one object per asset, its tx and amount. */
static void drains_arr(ch_jw *j, const evg *g) {
    const evg_theft *t = &g->theft;
    ch_jw_key(j, "drains");
    ch_jw_arr_begin(j);
    for (unsigned k = 0; k < 3; k++) {
        ch_jw_obj_begin(j);
        ch_jw_key(j, "tx");
        evg_jw_hash(j, t->drain_tx[THEFT_ORDER[k]]);
        amount_obj(j, g, THEFT_ORDER[k], t->drained[THEFT_ORDER[k]]);
        ch_jw_obj_end(j);
    }
    ch_jw_arr_end(j);
}

/* "addresses": every address the exploiter controls (exploiter, splits,
 * hops). */
static void addresses_arr(ch_jw *j, const evg *g) {
    const evg_theft *t = &g->theft;
    ch_jw_key(j, "addresses");
    ch_jw_arr_begin(j);
    evg_jw_addr(j, g, t->thief);
    for (unsigned i = 0; i < THEFT_SPLITS; i++)
        evg_jw_addr(j, g, t->split[i]);
    for (unsigned i = 0; i < THEFT_SPLITS; i++)
        if (t->hop[i] != EVG_NONE) evg_jw_addr(j, g, t->hop[i]);
    ch_jw_arr_end(j);
}

/* "swaps": each token swapped for the native coin on the way. */
static void swaps_arr(ch_jw *j, const evg *g) {
    const evg_theft *t = &g->theft;
    char dec[40];
    ch_jw_key(j, "swaps");
    ch_jw_arr_begin(j);
    for (unsigned i = 0; i < t->n_swap; i++) {
        const theft_swap *s = &t->swap[i];
        ch_jw_obj_begin(j);
        ch_jw_key(j, "tx");
        evg_jw_hash(j, s->tx);
        ch_jw_key(j, "address");
        evg_jw_addr(j, g, s->acct);
        evg_jw_asset(j, g, s->asset_in);
        ch_jw_key(j, "amount_in");
        ch_jw_str(j, evg_u128_dec(s->amount_in, dec));
        ch_jw_key(j, "asset_out");
        ch_jw_str(j, "native");
        ch_jw_key(j, "amount_out");
        ch_jw_str(j, evg_u128_dec(s->amount_out, dec));
        ch_jw_obj_end(j);
    }
    ch_jw_arr_end(j);
}

/* One landing summed over every arrival of its (address, asset), from its
 * first one, i: where, what it is, the sum and the txs. */
static void landing_obj(ch_jw *j, const evg *g, unsigned i) {
    const evg_theft *t = &g->theft;
    const theft_landing *l = &t->land[i];
    u128 sum = 0;
    for (unsigned k = i; k < t->n_land; k++)
        if (t->land[k].acct == l->acct && t->land[k].asset == l->asset) sum += t->land[k].amount;
    bool bridge = l->acct == g->bridge;
    ch_jw_obj_begin(j);
    ch_jw_key(j, "address");
    evg_jw_addr(j, g, l->acct);
    ch_jw_key(j, "category");
    ch_jw_str(j, bridge ? "bridge" : "exchange");
    ch_jw_key(j, "entity");
    ch_jw_str(j, bridge ? "Skyway Bridge" : evg_ex_entity(g->a[l->acct].ex));
    amount_obj(j, g, l->asset, sum);
    ch_jw_key(j, "txs");
    ch_jw_arr_begin(j);
    for (unsigned k = i; k < t->n_land; k++)
        if (t->land[k].acct == l->acct && t->land[k].asset == l->asset)
            evg_jw_hash(j, t->land[k].tx);
    ch_jw_arr_end(j);
    ch_jw_obj_end(j);
}

/* "landings": summed per (address, asset), in order of first arrival. */
static void landings_arr(ch_jw *j, const evg *g) {
    const evg_theft *t = &g->theft;
    ch_jw_key(j, "landings");
    ch_jw_arr_begin(j);
    for (unsigned i = 0; i < t->n_land; i++) {
        bool seen = false;
        for (unsigned k = 0; k < i && !seen; k++)
            seen = t->land[k].acct == t->land[i].acct && t->land[k].asset == t->land[i].asset;
        if (!seen) landing_obj(j, g, i);
    }
    ch_jw_arr_end(j);
}

/* "held": what the exploiter's addresses still hold at the end of the
 * chain, per address and asset. */
static void held_arr(ch_jw *j, const evg *g) {
    const evg_theft *t = &g->theft;
    ch_jw_key(j, "held");
    ch_jw_arr_begin(j);
    for (unsigned i = 0; i <= 2 * THEFT_SPLITS; i++) {
        uint32_t a = i == 0              ? t->thief
                     : i <= THEFT_SPLITS ? t->split[i - 1]
                                         : t->hop[i - 1 - THEFT_SPLITS];
        if (a == EVG_NONE) continue;
        for (unsigned k = 0; k < 3; k++) {
            u128 v = evg_bal(g, a, THEFT_ORDER[k]);
            if (!v) continue;
            ch_jw_obj_begin(j);
            ch_jw_key(j, "address");
            evg_jw_addr(j, g, a);
            amount_obj(j, g, THEFT_ORDER[k], v);
            ch_jw_obj_end(j);
        }
    }
    ch_jw_arr_end(j);
}

/* The theft's truth for tests: victim, exploiter, every drained amount per
 * asset, the path hop by hop and the deposits where it landed, as the trace
 * must find them. */
static void theft_obj(ch_jw *j, evg *g) {
    evg_theft *t = &g->theft;
    ch_jw_obj_begin(j);
    ch_jw_key(j, "victim");
    evg_jw_addr(j, g, t->victim);
    ch_jw_key(j, "exploiter");
    evg_jw_addr(j, g, t->thief);
    ch_jw_key(j, "block");
    ch_jw_uint(j, t->block);
    ch_jw_key(j, "timestamp");
    ch_jw_uint(j, t->timestamp);
    ch_jw_key(j, "drain_tx");
    evg_jw_hash(j, t->drain_tx[ASSET_ETH]);
    drains_arr(j, g);
    addresses_arr(j, g);
    swaps_arr(j, g);
    landings_arr(j, g);
    held_arr(j, g);
    char dec[40];
    ch_jw_key(j, "fees");
    ch_jw_str(j, evg_u128_dec(t->fees, dec));
    ch_jw_obj_end(j);
}

int evg_theft_write(evg *g, const char *path, ch_error *err) {
    FILE *f = fopen(path, "w");
    if (!f) return ch_err(err, "cannot create %s", path);
    ch_jw j;
    ch_jw_init(&j, f);
    ch_jw_obj_begin(&j);
    ch_jw_key(&j, "chain_id");
    ch_jw_uint(&j, g->o->chain_id);
    ch_jw_key(&j, "seed");
    ch_jw_uint(&j, g->o->seed);
    ch_jw_key(&j, "first_block");
    ch_jw_uint(&j, g->o->first_block);
    ch_jw_key(&j, "contracts");
    ch_jw_obj_begin(&j);
    ch_jw_key(&j, "router");
    evg_jw_addr(&j, g, g->router);
    ch_jw_key(&j, "pool");
    evg_jw_addr(&j, g, g->pool);
    ch_jw_key(&j, "bridge");
    evg_jw_addr(&j, g, g->bridge);
    ch_jw_key(&j, "nft");
    evg_jw_addr(&j, g, g->nft);
    ch_jw_key(&j, "unknown_token");
    evg_jw_addr(&j, g, g->token[TK_UNK]);
    ch_jw_key(&j, "fake_token");
    evg_jw_addr(&j, g, g->token[TK_FAKE]);
    ch_jw_key(&j, "poisoner");
    evg_jw_addr(&j, g, g->bot);
    ch_jw_obj_end(&j);
    ch_jw_key(&j, "theft");
    if (g->theft.on && g->theft.done)
        theft_obj(&j, g);
    else
        ch_jw_null(&j);
    evg_poison_json(g, &j);
    ch_jw_obj_end(&j);
    ch_jw_newline(&j);
    if (fclose(f) != 0) return ch_err(err, "cannot write %s", path);
    return 0;
}
