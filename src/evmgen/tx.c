/* Building transactions in the block under construction, and the ledger
 * that applies them. */
#include "evg_internal.h"

#include <stdlib.h>
#include <string.h>

#include "coinhound/hash.h"

#define SEL_TRANSFER 0xa9059cbbu /* transfer(address,uint256) */

/* Fees as wallets set them: a priority fee of 0.01-2 gwei; EIP-1559
 * transactions allow up to twice the base fee (the effective price is
 * base + priority, below that cap), legacy ones pay base + priority as
 * gasPrice. `exact` makes maxFee = base + priority, which lets a sender
 * empty an account to the wei. */
evg_price evg_price_pick(evg *g, bool exact) {
    evg_price p;
    p.max_prio = (u128)evg_range(&g->rng, 10, 2000) * (GWEI / 1000);
    if (!exact && evg_chance(&g->rng, 150)) {
        p.type = 0;
        p.max_fee = p.eff = g->base_fee + p.max_prio;
        return p;
    }
    p.type = 2;
    p.max_fee = (exact ? g->base_fee : 2 * g->base_fee) + p.max_prio;
    p.eff = g->base_fee + p.max_prio;
    return p;
}

uint32_t evg_tx_new(evg *g, uint32_t from, uint32_t to, u128 value, uint64_t gas_limit,
                    uint64_t gas_used, const evg_price *p) {
    if (g->tx_open != EVG_NONE) abort(); /* one transaction at a time */
    g->tx = evg_grow(g->tx, &g->cap_tx, g->n_tx + 1, sizeof *g->tx);
    uint32_t i = g->n_tx++;
    evg_tx *t = &g->tx[i];
    memset(t, 0, sizeof *t);
    evg_acct *s = &g->a[from];
    if (s->eth < value + (u128)gas_limit * p->max_fee) {
        fprintf(stderr, "coinhound-evmgen: internal error: sender cannot pay (block %llu)\n",
                (unsigned long long)g->number);
        abort();
    }
    t->from = from;
    t->to = to;
    t->created = EVG_NONE;
    t->nonce = s->nonce++;
    t->gas = gas_limit;
    t->gas_used = gas_used;
    t->value = value;
    t->p = *p;
    t->in_off = g->in_len;
    t->first_log = g->n_log;
    t->first_call = g->n_call;
    evg_bytes(&g->rng, t->r, 32);
    evg_bytes(&g->rng, t->s, 32);
    t->s[0] &= 0x7f; /* low-s, as EIP-2 requires */
    t->parity = (uint8_t)evg_below(&g->rng, 2);
    if (to == EVG_NONE) {
        uint8_t addr[20];
        evg_create_addr(s->addr, t->nonce, addr);
        t->created = evg_acct_at(g, RO_CONTRACT, addr);
    }
    g->tx_open = i;
    return i;
}

static void in_put(evg *g, const void *p, uint32_t n) {
    g->in = evg_grow(g->in, &g->in_cap, g->in_len + n, 1);
    memcpy(g->in + g->in_len, p, n);
    g->in_len += n;
}

static void put_selector(evg *g, uint32_t sel) {
    uint8_t b[4] = {(uint8_t)(sel >> 24), (uint8_t)(sel >> 16), (uint8_t)(sel >> 8), (uint8_t)sel};
    in_put(g, b, 4);
}

void evg_tx_input(evg *g, uint32_t tx, uint32_t selector, const uint8_t (*words)[32], unsigned n) {
    evg_tx *t = &g->tx[tx];
    put_selector(g, selector);
    for (unsigned i = 0; i < n; i++)
        in_put(g, words[i], 32);
    t->in_len = g->in_len - t->in_off;
}

void evg_word_addr(const evg *g, uint32_t acct, uint8_t out[32]) {
    memset(out, 0, 12);
    memcpy(out + 12, g->a[acct].addr, 20);
}

static evg_log *log_new(evg *g, uint32_t tx, uint32_t contract) {
    g->log = evg_grow(g->log, &g->cap_log, g->n_log + 1, sizeof *g->log);
    evg_log *l = &g->log[g->n_log++];
    memset(l, 0, sizeof *l);
    l->tx = tx;
    l->contract = contract;
    l->tk = EVG_NONE;
    g->tx[tx].n_logs++;
    return l;
}

static const uint8_t TRANSFER_TOPIC[32] = {
    0xdd, 0xf2, 0x52, 0xad, 0x1b, 0xe2, 0xc8, 0x9b, 0x69, 0xc2, 0xb0, 0x68, 0xfc, 0x37, 0x8d, 0xaa,
    0x95, 0x2b, 0xa7, 0xf1, 0x63, 0xc4, 0xa1, 0x16, 0x28, 0xf5, 0x5a, 0x4d, 0xf5, 0x23, 0xb3, 0xef};

void evg_log_erc20(evg *g, uint32_t tx, unsigned tk, uint32_t from, uint32_t to, u128 amount) {
    evg_log *l = log_new(g, tx, g->token[tk]);
    l->n_topics = 3;
    memcpy(l->topics[0], TRANSFER_TOPIC, 32);
    evg_word_addr(g, from, l->topics[1]);
    evg_word_addr(g, to, l->topics[2]);
    evg_u128_word(amount, l->data);
    l->data_len = 32;
    l->tk = tk;
    l->lfrom = from;
    l->lto = to;
    l->amount = amount;
}

void evg_log_erc721(evg *g, uint32_t tx, uint32_t contract, uint32_t from, uint32_t to,
                    uint64_t id) {
    evg_log *l = log_new(g, tx, contract);
    l->n_topics = 4;
    memcpy(l->topics[0], TRANSFER_TOPIC, 32);
    evg_word_addr(g, from, l->topics[1]);
    evg_word_addr(g, to, l->topics[2]);
    evg_u128_word(id, l->topics[3]);
    l->data_len = 0;
}

void evg_log_event(evg *g, uint32_t tx, uint32_t contract, const char *sig, u128 a, u128 b) {
    evg_log *l = log_new(g, tx, contract);
    l->n_topics = 2;
    unsigned k = 0;
    while (k < 4 && g->sig_name[k] && g->sig_name[k] != sig)
        k++;
    if (k < 4 && g->sig_name[k] == sig) {
        memcpy(l->topics[0], g->sig_topic[k], 32);
    } else {
        ch_keccak256(sig, strlen(sig), l->topics[0]);
        if (k < 4) {
            g->sig_name[k] = sig;
            memcpy(g->sig_topic[k], l->topics[0], 32);
        }
    }
    evg_word_addr(g, g->tx[tx].from, l->topics[1]);
    evg_u128_word(a, l->data);
    evg_u128_word(b, l->data + 32);
    l->data_len = 64;
}

void evg_call_add(evg *g, uint32_t tx, uint8_t depth, uint32_t from, uint32_t to, u128 value,
                  uint64_t gas, uint32_t selector, bool error) {
    g->call = evg_grow(g->call, &g->cap_call, g->n_call + 1, sizeof *g->call);
    evg_call *c = &g->call[g->n_call++];
    memset(c, 0, sizeof *c);
    c->tx = tx;
    c->depth = depth;
    c->from = from;
    c->to = to;
    c->value = value;
    c->gas = gas;
    c->gas_used = gas / 3 + evg_below(&g->rng, gas / 3 + 1);
    c->in_off = g->in_len;
    if (selector) put_selector(g, selector);
    c->in_len = g->in_len - c->in_off;
    c->error = error;
    g->tx[tx].n_calls++;
}

static void debit(u128 *bal, u128 v) {
    if (*bal < v) {
        fprintf(stderr, "coinhound-evmgen: internal error: a balance would go negative\n");
        abort();
    }
    *bal -= v;
}

/* A hash unique per transaction: (chain id, sender, nonce) never repeats;
 * the recipient, value, gas and the start of the input make it depend on
 * the content too. Kept within one Keccak block (135 bytes): hashing is
 * most of the generator's time. */
static void tx_hash(evg *g, evg_tx *t) {
    uint8_t buf[135];
    size_t n = 0;
    for (int i = 0; i < 8; i++)
        buf[n++] = (uint8_t)(g->o->chain_id >> (8 * i));
    memcpy(buf + n, g->a[t->from].addr, 20);
    n += 20;
    for (int i = 0; i < 8; i++)
        buf[n++] = (uint8_t)(t->nonce >> (8 * i));
    if (t->to != EVG_NONE)
        memcpy(buf + n, g->a[t->to].addr, 20);
    else
        memset(buf + n, 0, 20);
    n += 20;
    for (int i = 0; i < 16; i++)
        buf[n++] = (uint8_t)(t->value >> (8 * i));
    for (int i = 0; i < 8; i++)
        buf[n++] = (uint8_t)(t->gas >> (8 * i));
    size_t in = t->in_len < sizeof buf - n ? t->in_len : sizeof buf - n;
    if (in) memcpy(buf + n, g->in + t->in_off, in);
    ch_keccak256(buf, n + in, t->hash);
}

void evg_tx_finish(evg *g, uint32_t tx, bool ok) {
    evg_tx *t = &g->tx[tx];
    g->tx_open = EVG_NONE;
    t->ok = ok;
    tx_hash(g, t);
    u128 fee = (u128)t->gas_used * t->p.eff;
    debit(&g->a[t->from].eth, fee);
    g->a[g->miner_cur].eth += (u128)t->gas_used * (t->p.eff - g->base_fee);
    g->st.txs++;
    if (!ok) {
        /* a reverted transaction leaves no logs in its receipt */
        g->n_log = t->first_log;
        t->n_logs = 0;
        g->st.failed_txs++;
        return;
    }
    uint32_t dest = t->to != EVG_NONE ? t->to : t->created;
    debit(&g->a[t->from].eth, t->value);
    g->a[dest].eth += t->value;
    if (t->value) g->st.native++;
    for (uint32_t i = t->first_call; i < t->first_call + t->n_calls; i++) {
        const evg_call *c = &g->call[i];
        if (c->error || !c->value) continue;
        debit(&g->a[c->from].eth, c->value);
        g->a[c->to].eth += c->value;
        g->st.internal++;
    }
    for (uint32_t i = t->first_log; i < t->first_log + t->n_logs; i++) {
        const evg_log *l = &g->log[i];
        if (l->n_topics == 4) g->st.erc721++;
        if (l->tk == EVG_NONE) continue;
        g->st.erc20++;
        if (l->lfrom != g->zero) debit(&g->a[l->lfrom].tok[l->tk], l->amount); /* zero: a mint */
        g->a[l->lto].tok[l->tk] += l->amount;
    }
}

uint32_t evg_send(evg *g, uint32_t from, uint32_t to, unsigned asset, u128 amount) {
    evg_price p = evg_price_pick(g, false);
    if (asset == ASSET_ETH) {
        /* a contract's receive() costs a little more than a plain transfer */
        bool code = g->a[to].role == RO_CONTRACT;
        uint64_t used = code ? evg_range(&g->rng, 23000, 30000) : GAS_ETH;
        uint32_t t = evg_tx_new(g, from, to, amount, code ? 40000 : GAS_ETH, used, &p);
        evg_tx_finish(g, t, true);
        return t;
    }
    /* a token transfer: used gas depends on whether the slots were empty */
    uint64_t used =
        g->a[to].tok[asset] ? evg_range(&g->rng, 34000, 41000) : evg_range(&g->rng, 46000, 52000);
    uint32_t t = evg_tx_new(g, from, g->token[asset], 0, GAS_TOKEN, used, &p);
    uint8_t w[2][32];
    evg_word_addr(g, to, w[0]);
    evg_u128_word(amount, w[1]);
    evg_tx_input(g, t, SEL_TRANSFER, w, 2);
    evg_log_erc20(g, t, asset, from, to, amount);
    evg_tx_finish(g, t, true);
    return t;
}

uint32_t evg_send_all_eth(evg *g, uint32_t from, uint32_t to) {
    evg_price p = evg_price_pick(g, true);
    u128 fee = (u128)GAS_ETH * p.max_fee;
    if (g->a[from].eth <= fee) return EVG_NONE;
    uint32_t t = evg_tx_new(g, from, to, g->a[from].eth - fee, GAS_ETH, GAS_ETH, &p);
    evg_tx_finish(g, t, true);
    return t;
}
