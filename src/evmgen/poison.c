/* Address poisoning (Tsuchiya et al., USENIX Security 2025): after a user
 * pays a counterparty C, an attacker makes a transfer appear in the
 * victim's history involving a vanity address that shares C's first and
 * last 4 hex characters, hoping the victim copies it next time. Three
 * forms, as seen on mainnet:
 *   zero_value  the attacker's bot calls the real token's transferFrom with
 *               amount 0 between victim and lookalike (no allowance needed):
 *               a Transfer whose from is not the transaction's sender;
 *   fake_token  a token copying USDT's symbol emits a Transfer of the same
 *               amount the victim paid, from the lookalike to the victim;
 *   dust        the lookalike sends the victim a tiny amount of ETH. */
#include "evg_internal.h"

#include <string.h>

#include "coinhound/jsonw.h"

#define SEL_TRANSFER_FROM 0x23b872ddu
#define SEL_AIRDROP       0x729ad39eu

static const char *const KIND[] = {"zero_value", "fake_token", "dust"};

void evg_after_payment(evg *g, uint32_t payer, uint32_t payee, unsigned asset, u128 amount) {
    if (g->a[payer].role != RO_USER || g->a[payee].role != RO_USER) return;
    if (!evg_chance(&g->rng, 15)) return;
    g->pz = evg_grow(g->pz, &g->cap_pz, g->n_pz + 1, sizeof *g->pz);
    evg_poison *p = &g->pz[g->n_pz++];
    memset(p, 0, sizeof *p);
    p->due = g->number + 1 + evg_below(&g->rng, 3); /* bots react within blocks */
    unsigned r = (unsigned)evg_below(&g->rng, 100);
    p->kind = r < 50 ? PK_ZERO_VALUE : r < 75 ? PK_FAKE_TOKEN : PK_DUST;
    p->asset = (uint8_t)asset;
    p->victim = payer;
    p->counterparty = payee;
    p->amount = amount;
    /* the vanity address: 2 bytes (4 hex characters) at each end copied */
    uint8_t addr[20];
    const uint8_t *c = g->a[payee].addr;
    evg_bytes(&g->rng, addr, 20);
    memcpy(addr, c, 2);
    memcpy(addr + 18, c + 18, 2);
    if (!memcmp(addr, c, 20)) addr[10] ^= 0xff;
    p->lookalike = evg_acct_at(g, RO_LOOKALIKE, addr);
}

/* Carry out one planned poisoning attempt in the current block: a spoofed
 * zero-value transferFrom, dust from the lookalike, or a fake token's
 * transfer, each recorded for the truth file. */
static void run(evg *g, evg_poison *p) {
    evg_ensure_gas(g, g->bot, 200000);
    evg_price pr = evg_price_pick(g, false);
    uint32_t t;
    if (p->kind == PK_ZERO_VALUE) {
        unsigned tk = p->asset == TK_USDC ? TK_USDC : TK_USDT;
        bool out = evg_chance(&g->rng, 500); /* shown as the victim paying the lookalike */
        uint32_t from = out ? p->victim : p->lookalike, to = out ? p->lookalike : p->victim;
        t = evg_tx_new(g, g->bot, g->token[tk], 0, 80000, evg_range(&g->rng, 38000, 45000), &pr);
        uint8_t w[3][32];
        evg_word_addr(g, from, w[0]);
        evg_word_addr(g, to, w[1]);
        evg_u128_word(0, w[2]);
        evg_tx_input(g, t, SEL_TRANSFER_FROM, w, 3);
        evg_log_erc20(g, t, tk, from, to, 0);
        evg_tx_finish(g, t, true);
        p->asset = (uint8_t)tk;
    } else if (p->kind == PK_FAKE_TOKEN) {
        /* the same number of units the victim paid (USDT and USDC have the
         * fake's 6 decimals); the fake mints to the lookalike first so its
         * books balance like any token's */
        u128 amt = (p->asset == TK_USDT || p->asset == TK_USDC)
                       ? p->amount
                       : evg_logrand(&g->rng, 1000000, 100000000000ULL);
        t = evg_tx_new(g, g->bot, g->token[TK_FAKE], 0, 150000, evg_range(&g->rng, 60000, 80000),
                       &pr);
        uint8_t w[2][32];
        evg_word_addr(g, p->victim, w[0]);
        evg_u128_word(amt, w[1]);
        evg_tx_input(g, t, SEL_AIRDROP, w, 2);
        evg_log_erc20(g, t, TK_FAKE, g->zero, p->lookalike, amt);
        evg_log_erc20(g, t, TK_FAKE, p->lookalike, p->victim, amt);
        evg_tx_finish(g, t, true);
        p->asset = TK_FAKE;
        p->amount = amt;
    } else {
        /* poisoning dust is far below any payment: 1e-7 to 9e-7 ETH, under the
         * safeguard's default 1e-6 ETH threshold */
        u128 dust = (u128)evg_range(&g->rng, 1, 9) * 100000000000ULL;
        evg_price lp = evg_price_pick(g, false);
        evg_send(g, g->bot, p->lookalike, ASSET_ETH, evg_worst_cost(g, dust, GAS_ETH));
        t = evg_tx_new(g, p->lookalike, p->victim, dust, GAS_ETH, GAS_ETH, &lp);
        evg_tx_finish(g, t, true);
        p->asset = ASSET_ETH;
        p->amount = dust;
    }
    memcpy(p->tx, g->tx[t].hash, 32);
    p->block = g->number;
    p->done = true;
    g->st.poisonings++;
}

void evg_poison_run_due(evg *g) {
    for (uint32_t i = 0; i < g->n_pz; i++)
        if (!g->pz[i].done && g->pz[i].due <= g->number) run(g, &g->pz[i]);
}

static void jw_addr(ch_jw *j, const evg *g, uint32_t acct) {
    char hex[43];
    hex[0] = '0';
    hex[1] = 'x';
    static const char H[] = "0123456789abcdef";
    for (int i = 0; i < 20; i++) {
        hex[2 + 2 * i] = H[g->a[acct].addr[i] >> 4];
        hex[3 + 2 * i] = H[g->a[acct].addr[i] & 15];
    }
    hex[42] = 0;
    ch_jw_str(j, hex);
}

void evg_jw_addr(ch_jw *j, const evg *g, uint32_t acct) {
    jw_addr(j, g, acct);
}

void evg_jw_hash(ch_jw *j, const uint8_t h[32]) {
    char hex[67] = "0x";
    static const char H[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        hex[2 + 2 * i] = H[h[i] >> 4];
        hex[3 + 2 * i] = H[h[i] & 15];
    }
    hex[66] = 0;
    ch_jw_str(j, hex);
}

void evg_jw_asset(ch_jw *j, const evg *g, unsigned asset) {
    ch_jw_key(j, "asset");
    if (asset == ASSET_ETH)
        ch_jw_str(j, "native");
    else
        jw_addr(j, g, g->token[asset]);
    ch_jw_key(j, "symbol");
    ch_jw_str(j, asset == ASSET_ETH ? "ETH" : EVG_TOKENS[asset].symbol);
}

void evg_poison_json(evg *g, ch_jw *j) {
    ch_jw_key(j, "poisoning");
    ch_jw_arr_begin(j);
    char dec[40];
    for (uint32_t i = 0; i < g->n_pz; i++) {
        const evg_poison *p = &g->pz[i];
        if (!p->done) continue;
        ch_jw_obj_begin(j);
        ch_jw_key(j, "kind");
        ch_jw_str(j, KIND[p->kind]);
        ch_jw_key(j, "tx");
        evg_jw_hash(j, p->tx);
        ch_jw_key(j, "block");
        ch_jw_uint(j, p->block);
        ch_jw_key(j, "victim");
        jw_addr(j, g, p->victim);
        ch_jw_key(j, "counterparty");
        jw_addr(j, g, p->counterparty);
        ch_jw_key(j, "lookalike");
        jw_addr(j, g, p->lookalike);
        ch_jw_key(j, "attacker");
        jw_addr(j, g, p->kind == PK_DUST ? p->lookalike : g->bot);
        evg_jw_asset(j, g, p->asset);
        ch_jw_key(j, "amount");
        ch_jw_str(j, p->kind == PK_ZERO_VALUE ? "0" : evg_u128_dec(p->amount, dec));
        ch_jw_obj_end(j);
    }
    ch_jw_arr_end(j);
}
