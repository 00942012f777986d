/* Ordinary traffic: the first block's deployments and funding, then
 * payments in ETH and tokens, exchange deposits (swept later into the hot
 * wallet), exchange withdrawals, DEX swaps, bridge deposits and releases,
 * NFT mints and transfers, and failed transactions. */
#include "evg_internal.h"

#include <string.h>

#define SEL_MINT       0x40c10f19u /* mint(address,uint256) */
#define SEL_TOK_TO_ETH 0x18cbafe5u /* swapExactTokensForETH */
#define SEL_ETH_TO_TOK 0x7ff36ab5u /* swapExactETHForTokens */
#define SEL_PAIR_SWAP  0x022c0d9fu /* swap(uint256,uint256,address,bytes) */
#define SEL_BR_DEPOSIT 0x439370b1u /* depositETH() */
#define SEL_BR_RELEASE 0x11a8f413u /* finalizeWithdrawal(address,uint256) */
#define SEL_NFT_MINT   0x1249c58bu /* mint() */
#define SEL_NFT_XFER   0x23b872ddu /* transferFrom(address,address,uint256) */
#define NFT_SUPPLY     20000u

static bool can_pay(const evg *g, uint32_t acct, unsigned asset, u128 amount, uint64_t gas) {
    if (asset == ASSET_ETH) return g->a[acct].eth >= evg_worst_cost(g, amount, gas);
    return g->a[acct].eth >= evg_worst_cost(g, 0, gas) && g->a[acct].tok[asset] >= amount;
}

/* Give a service account gas money from the faucet when it runs low. */
void evg_ensure_gas(evg *g, uint32_t acct, uint64_t gas) {
    if (g->a[acct].eth >= evg_worst_cost(g, 0, gas * 4)) return;
    evg_send(g, g->faucet, acct, ASSET_ETH, 50 * ETHER);
}

/* Make sure `from` (a hot wallet, the pool, the bridge) holds amount. */
static void ensure_funds(evg *g, uint32_t acct, unsigned asset, u128 amount) {
    if (asset == ASSET_ETH) {
        if (g->a[acct].eth < evg_worst_cost(g, amount, GAS_TOKEN))
            evg_send(g, g->faucet, acct, ASSET_ETH, amount * 2 + 1000 * ETHER);
        return;
    }
    if (g->a[acct].tok[asset] >= amount) return;
    evg_ensure_gas(g, g->treasury, GAS_TOKEN);
    evg_send(g, g->treasury, acct, asset, amount * 2 + 1000000 * evg_unit(asset));
}

/* An exchange pays a user out (also how users get their first coins). */
static void fund(evg *g, uint32_t user, unsigned asset, u128 at_least) {
    if (asset == TK_UNK) { /* not listed at the exchanges: an airdrop */
        evg_ensure_gas(g, g->treasury, GAS_TOKEN);
        evg_send(g, g->treasury, user, asset, at_least + 1000 * evg_unit(asset));
        return;
    }
    unsigned ex = (unsigned)evg_below(&g->rng, N_EX);
    uint32_t hot = g->hot[ex];
    u128 amount = asset == ASSET_ETH ? evg_logrand(&g->rng, ETHER / 20, 30 * ETHER)
                  : asset == TK_WETH
                      ? evg_logrand(&g->rng, ETHER / 10, 50 * ETHER)
                      : evg_logrand(&g->rng, 50 * evg_unit(asset), 100000 * evg_unit(asset));
    if (amount < at_least) amount = at_least;
    ensure_funds(g, hot, asset, amount);
    evg_ensure_gas(g, hot, GAS_TOKEN);
    evg_send(g, hot, user, asset, amount);
}

/* A user able to send `amount` of asset with a tx of `gas`; funds them first
 * (in this block) when they cannot. */
static void make_able(evg *g, uint32_t u, unsigned asset, u128 amount, uint64_t gas) {
    if (asset != ASSET_ETH && g->a[u].tok[asset] < amount) fund(g, u, asset, amount);
    u128 need = evg_worst_cost(g, asset == ASSET_ETH ? amount : 0, gas);
    if (g->a[u].eth < need) fund(g, u, ASSET_ETH, need + ETHER / 100);
}

static u128 pay_amount(evg *g, unsigned asset) {
    switch (asset) {
    case ASSET_ETH:
        return evg_logrand(&g->rng, ETHER / 1000, 10 * ETHER);
    case TK_WETH:
        return evg_logrand(&g->rng, ETHER / 100, 20 * ETHER);
    case TK_UNK:
        return evg_logrand(&g->rng, 100 * evg_unit(asset), 1000000 * evg_unit(asset));
    default:
        return evg_logrand(&g->rng, 5 * evg_unit(asset), 50000 * evg_unit(asset));
    }
}

static unsigned pick_token(evg *g) {
    unsigned r = (unsigned)evg_below(&g->rng, 100);
    return r < 45 ? TK_USDT : r < 80 ? TK_USDC : r < 90 ? TK_WETH : TK_UNK;
}

static uint32_t other_user(evg *g, uint32_t u) {
    uint32_t v = evg_random_user(g);
    return v == u ? (u + 1 - g->first_user) % g->n_users + g->first_user : v;
}

/* --- the first block: deployments, mints, funding ------------------------ */

static uint32_t deploy(evg *g, uint64_t gas_used) {
    evg_price p = evg_price_pick(g, false);
    uint32_t t = evg_tx_new(g, g->deployer, EVG_NONE, 0, gas_used + 200000, gas_used, &p);
    uint8_t code[4][32];
    for (int i = 0; i < 4; i++)
        evg_bytes(&g->rng, code[i], 32);
    evg_tx_input(g, t, 0x60806040u, code, 4); /* the usual solc prologue */
    evg_tx_finish(g, t, true);
    return g->tx[t].created;
}

static void mint(evg *g, unsigned tk, uint32_t to, u128 amount) {
    evg_price p = evg_price_pick(g, false);
    uint32_t t = evg_tx_new(g, g->treasury, g->token[tk], 0, 80000, 51000, &p);
    uint8_t w[2][32];
    evg_word_addr(g, to, w[0]);
    evg_u128_word(amount, w[1]);
    evg_tx_input(g, t, SEL_MINT, w, 2);
    evg_log_erc20(g, t, tk, g->zero, to, amount);
    evg_tx_finish(g, t, true);
}

void evg_setup(evg *g) {
    evg_send(g, g->faucet, g->deployer, ASSET_ETH, 100 * ETHER);
    g->token[TK_UNK] = deploy(g, 1200000);
    g->token[TK_FAKE] = deploy(g, 900000);
    g->router = deploy(g, 3100000);
    g->pool = deploy(g, 2400000);
    g->bridge = deploy(g, 1800000);
    g->nft = deploy(g, 2600000);
    evg_label(g, g->router, "defi", "Millrace Swap");
    evg_label(g, g->pool, "defi", "Millrace Swap");
    evg_label(g, g->bridge, "bridge", "Skyway Bridge");

    evg_send(g, g->faucet, g->treasury, ASSET_ETH, 100 * ETHER);
    evg_send(g, g->faucet, g->relayer, ASSET_ETH, 100 * ETHER);
    evg_send(g, g->faucet, g->bot, ASSET_ETH, 50 * ETHER);
    evg_send(g, g->faucet, g->pool, ASSET_ETH, 200000 * ETHER);
    evg_send(g, g->faucet, g->bridge, ASSET_ETH, 50000 * ETHER);
    for (unsigned ex = 0; ex < N_EX; ex++)
        evg_send(g, g->faucet, g->hot[ex], ASSET_ETH, 20000 * ETHER);

    static const u128 SUPPLY_WHOLE[TK_COUNT] = {20000000000ULL, 20000000000ULL, 5000000ULL,
                                                1000000000000ULL, 0};
    for (unsigned tk = 0; tk < TK_FAKE; tk++)
        mint(g, tk, g->treasury, SUPPLY_WHOLE[tk] * evg_unit(tk));
    for (unsigned tk = 0; tk < TK_UNK; tk++) {
        evg_send(g, g->treasury, g->pool, tk, SUPPLY_WHOLE[tk] / 20 * evg_unit(tk));
        for (unsigned ex = 0; ex < N_EX; ex++)
            evg_send(g, g->treasury, g->hot[ex], tk, SUPPLY_WHOLE[tk] / 100 * evg_unit(tk));
    }
}

/* --- exchange deposits and their sweeps ---------------------------------- */

void evg_sweep_schedule(evg *g, uint32_t dep, unsigned asset) {
    /* Victor's heuristic looks for the forward within a few thousand blocks:
     * sweeps come 1..2000 blocks later, sooner on short chains */
    uint64_t span = g->plan_blocks / 8;
    if (span > 2000) span = 2000;
    if (span < 1) span = 1;
    g->sw = evg_grow(g->sw, &g->cap_sw, g->n_sw + 1, sizeof *g->sw);
    g->sw[g->n_sw++] = (evg_sweep){g->number + 1 + evg_below(&g->rng, span), dep, (uint8_t)asset};
}

void evg_run_sweeps(evg *g) {
    uint32_t i = 0;
    while (i < g->n_sw) {
        evg_sweep w = g->sw[i];
        if (w.due > g->number) {
            i++;
            continue;
        }
        g->sw[i] = g->sw[--g->n_sw];
        uint32_t hot = g->hot[g->a[w.dep].ex];
        if (w.asset == ASSET_ETH) {
            evg_send_all_eth(g, w.dep, hot); /* none when a sweep already took it */
            continue;
        }
        u128 bal = g->a[w.dep].tok[w.asset];
        if (!bal) continue;
        /* the deposit address has no gas: the hot wallet sends it some */
        u128 gas = evg_worst_cost(g, 0, GAS_TOKEN);
        if (g->a[w.dep].eth < gas) {
            ensure_funds(g, hot, ASSET_ETH, gas);
            evg_send(g, hot, w.dep, ASSET_ETH, gas - g->a[w.dep].eth);
        }
        evg_send(g, w.dep, hot, w.asset, bal);
    }
}

static void t_deposit(evg *g) {
    uint32_t u = evg_random_user(g);
    unsigned ex = (unsigned)evg_below(&g->rng, N_EX);
    unsigned asset = evg_chance(&g->rng, 600)   ? ASSET_ETH
                     : evg_chance(&g->rng, 500) ? TK_USDT
                                                : TK_USDC;
    u128 amount = pay_amount(g, asset);
    make_able(g, u, asset, amount, GAS_TOKEN);
    uint32_t d = evg_deposit_addr(g, g->owner[u - g->first_user], ex);
    evg_send(g, u, d, asset, amount);
    evg_sweep_schedule(g, d, asset);
}

/* --- payments ------------------------------------------------------------- */

static void t_pay(evg *g, unsigned asset) {
    uint32_t u = evg_random_user(g), v = other_user(g, u);
    u128 amount = pay_amount(g, asset);
    if (!can_pay(g, u, asset, amount, GAS_TOKEN)) {
        make_able(g, u, asset, amount, GAS_TOKEN);
        return;
    }
    evg_send(g, u, v, asset, amount);
    evg_after_payment(g, u, v, asset, amount);
}

/* --- the DEX: a constant price with a 0.3% fee; deep enough pool -------- */

static u128 eth_for(unsigned tk, u128 amount_in) {
    return amount_in * ETHER / EVG_TOKENS[tk].eth_price * 997 / 1000;
}

static u128 tokens_for(unsigned tk, u128 wei_in) {
    return wei_in * EVG_TOKENS[tk].eth_price / ETHER * 997 / 1000;
}

uint32_t evg_swap_to_eth(evg *g, uint32_t u, unsigned tk, u128 amount_in, u128 *out) {
    u128 eth = eth_for(tk, amount_in);
    ensure_funds(g, g->pool, ASSET_ETH, eth);
    evg_price p = evg_price_pick(g, false);
    uint64_t used = evg_range(&g->rng, 110000, 160000);
    uint32_t t = evg_tx_new(g, u, g->router, 0, 250000, used, &p);
    uint8_t w[4][32];
    evg_u128_word(amount_in, w[0]);
    evg_u128_word(eth * 99 / 100, w[1]); /* amountOutMin: 1% slippage */
    evg_word_addr(g, u, w[2]);
    evg_u128_word(g->timestamp + 1200, w[3]);
    evg_tx_input(g, t, SEL_TOK_TO_ETH, w, 4);
    evg_log_erc20(g, t, tk, u, g->pool, amount_in);
    evg_log_event(g, t, g->pool, "Swap(address,uint256,uint256,uint256,uint256,address)", amount_in,
                  eth);
    evg_call_add(g, t, 1, g->router, g->pool, 0, 180000, SEL_PAIR_SWAP, false);
    evg_call_add(g, t, 2, g->pool, u, eth, 2300, 0, false); /* the ETH the user gets */
    evg_tx_finish(g, t, true);
    if (out) *out = eth;
    return t;
}

/* A user swaps through the DEX pool: a token in and ETH or another token out
 * (or the reverse), with the pool's events, as real blocks are full of. */
static void t_swap(evg *g) {
    uint32_t u = evg_random_user(g);
    unsigned tk = evg_chance(&g->rng, 450) ? TK_USDT : evg_chance(&g->rng, 700) ? TK_USDC : TK_WETH;
    if (evg_chance(&g->rng, 500)) {
        u128 in = pay_amount(g, tk);
        if (!can_pay(g, u, tk, in, 250000)) {
            make_able(g, u, tk, in, 250000);
            return;
        }
        evg_swap_to_eth(g, u, tk, in, NULL);
        return;
    }
    u128 in = pay_amount(g, ASSET_ETH);
    if (!can_pay(g, u, ASSET_ETH, in, 250000)) {
        make_able(g, u, ASSET_ETH, in, 250000);
        return;
    }
    u128 out = tokens_for(tk, in);
    ensure_funds(g, g->pool, tk, out);
    evg_price p = evg_price_pick(g, false);
    uint32_t t = evg_tx_new(g, u, g->router, in, 250000, evg_range(&g->rng, 100000, 150000), &p);
    uint8_t w[3][32];
    evg_u128_word(out * 99 / 100, w[0]);
    evg_word_addr(g, u, w[1]);
    evg_u128_word(g->timestamp + 1200, w[2]);
    evg_tx_input(g, t, SEL_ETH_TO_TOK, w, 3);
    evg_call_add(g, t, 1, g->router, g->pool, in, 180000, SEL_PAIR_SWAP, false);
    evg_log_erc20(g, t, tk, g->pool, u, out);
    evg_tx_finish(g, t, true);
}

/* --- the bridge ----------------------------------------------------------- */

uint32_t evg_bridge_deposit(evg *g, uint32_t u, u128 amount, const evg_price *p, uint64_t gas) {
    uint32_t t = evg_tx_new(g, u, g->bridge, amount, gas, gas, p);
    evg_tx_input(g, t, SEL_BR_DEPOSIT, NULL, 0);
    evg_log_event(g, t, g->bridge, "ETHDepositInitiated(address,uint256,uint256)", amount,
                  g->number);
    evg_tx_finish(g, t, true);
    return t;
}

/* Funds to or from the bridge contract: a deposit, or the relayer paying out
 * what came back from the other chain. */
static void t_bridge(evg *g) {
    uint32_t u = evg_random_user(g);
    if (evg_chance(&g->rng, 400)) { /* funds coming back from the other chain */
        u128 amount = pay_amount(g, ASSET_ETH);
        if (g->a[g->bridge].eth < amount) return;
        evg_ensure_gas(g, g->relayer, 150000);
        evg_price p = evg_price_pick(g, false);
        uint32_t t =
            evg_tx_new(g, g->relayer, g->bridge, 0, 150000, evg_range(&g->rng, 70000, 95000), &p);
        uint8_t w[2][32];
        evg_word_addr(g, u, w[0]);
        evg_u128_word(amount, w[1]);
        evg_tx_input(g, t, SEL_BR_RELEASE, w, 2);
        evg_call_add(g, t, 1, g->bridge, u, amount, 30000, 0, false);
        evg_tx_finish(g, t, true);
        return;
    }
    if (evg_chance(&g->rng, 300)) { /* a token bridged: a plain transfer to the contract */
        unsigned tk = evg_chance(&g->rng, 500) ? TK_USDT : TK_USDC;
        u128 amount = pay_amount(g, tk);
        if (!can_pay(g, u, tk, amount, GAS_TOKEN)) {
            make_able(g, u, tk, amount, GAS_TOKEN);
            return;
        }
        evg_send(g, u, g->bridge, tk, amount);
        return;
    }
    u128 amount = pay_amount(g, ASSET_ETH);
    if (!can_pay(g, u, ASSET_ETH, amount, 90000)) {
        make_able(g, u, ASSET_ETH, amount, 90000);
        return;
    }
    evg_price p = evg_price_pick(g, false);
    evg_bridge_deposit(g, u, amount, &p, evg_range(&g->rng, 60000, 90000));
}

/* --- ERC-721 -------------------------------------------------------------- */

/* An ERC-721 mint or transfer: transfers the ledger must recognise as NFTs
 * (no fungible amount) and leave out of taint. */
static void t_nft(evg *g) {
    uint32_t u = evg_random_user(g);
    if (!can_pay(g, u, ASSET_ETH, 0, 120000)) {
        make_able(g, u, ASSET_ETH, 0, 120000);
        return;
    }
    evg_price p = evg_price_pick(g, false);
    if (g->n_nft < NFT_SUPPLY && (g->n_nft < 10 || evg_chance(&g->rng, 400))) {
        uint32_t t = evg_tx_new(g, u, g->nft, 0, 120000, evg_range(&g->rng, 70000, 95000), &p);
        evg_tx_input(g, t, SEL_NFT_MINT, NULL, 0);
        evg_log_erc721(g, t, g->nft, g->zero, u, g->n_nft);
        evg_tx_finish(g, t, true);
        g->nft_owner = evg_grow(g->nft_owner, &g->cap_nft, g->n_nft + 1, sizeof *g->nft_owner);
        g->nft_owner[g->n_nft++] = u;
        return;
    }
    uint32_t id = (uint32_t)evg_below(&g->rng, g->n_nft);
    uint32_t owner = g->nft_owner[id];
    if (!can_pay(g, owner, ASSET_ETH, 0, 120000)) return;
    uint32_t to = other_user(g, owner);
    uint32_t t = evg_tx_new(g, owner, g->nft, 0, 120000, evg_range(&g->rng, 50000, 65000), &p);
    uint8_t w[3][32];
    evg_word_addr(g, owner, w[0]);
    evg_word_addr(g, to, w[1]);
    evg_u128_word(id, w[2]);
    evg_tx_input(g, t, SEL_NFT_XFER, w, 3);
    evg_log_erc721(g, t, g->nft, owner, to, id);
    evg_tx_finish(g, t, true);
    g->nft_owner[id] = to;
}

/* --- failures: they pay for the gas used and move nothing ---------------- */

/* A tx that fails (a token transfer over the balance, a call that reverts):
 * it pays gas and moves nothing, which ingest must record as such. */
static void t_failed(evg *g) {
    uint32_t u = evg_random_user(g);
    if (evg_chance(&g->rng, 600)) {
        /* a token transfer of more than the balance */
        if (!can_pay(g, u, ASSET_ETH, 0, GAS_TOKEN)) {
            make_able(g, u, ASSET_ETH, 0, GAS_TOKEN);
            return;
        }
        unsigned tk = pick_token(g);
        evg_price p = evg_price_pick(g, false);
        uint32_t t =
            evg_tx_new(g, u, g->token[tk], 0, GAS_TOKEN, evg_range(&g->rng, 23500, 29000), &p);
        uint8_t w[2][32];
        evg_word_addr(g, other_user(g, u), w[0]);
        evg_u128_word(g->a[u].tok[tk] + pay_amount(g, tk), w[1]);
        evg_tx_input(g, t, 0xa9059cbbu, w, 2);
        evg_tx_finish(g, t, false);
        return;
    }
    /* a swap that hit its slippage limit: the router's call to the pool
     * succeeded but the whole transaction reverted, so its value stays */
    u128 in = pay_amount(g, ASSET_ETH);
    if (!can_pay(g, u, ASSET_ETH, in, 250000)) {
        make_able(g, u, ASSET_ETH, in, 250000);
        return;
    }
    evg_price p = evg_price_pick(g, false);
    uint32_t t = evg_tx_new(g, u, g->router, in, 250000, evg_range(&g->rng, 90000, 130000), &p);
    uint8_t w[3][32];
    evg_u128_word(tokens_for(TK_USDC, in) * 2, w[0]); /* impossible minimum */
    evg_word_addr(g, u, w[1]);
    evg_u128_word(g->timestamp + 1200, w[2]);
    evg_tx_input(g, t, SEL_ETH_TO_TOK, w, 3);
    evg_call_add(g, t, 1, g->router, g->pool, in, 180000, SEL_PAIR_SWAP, false);
    evg_tx_finish(g, t, false);
}

/* One step of traffic: at least one transaction. */
void evg_traffic_tx(evg *g) {
    unsigned r = (unsigned)evg_below(&g->rng, 1000);
    if (r < 330)
        t_pay(g, ASSET_ETH);
    else if (r < 560)
        t_pay(g, pick_token(g));
    else if (r < 680)
        t_deposit(g);
    else if (r < 750)
        fund(g, evg_random_user(g), evg_chance(&g->rng, 600) ? ASSET_ETH : pick_token(g), 0);
    else if (r < 840)
        t_swap(g);
    else if (r < 895)
        t_bridge(g);
    else if (r < 955)
        t_nft(g);
    else
        t_failed(g);
}
