/* Building one transaction: pick inputs and outputs with gen_tx_in/out,
 * then gen_tx_finish serializes it into the block, hashes it and updates the
 * UTXO set. */
#include "gen_internal.h"

#include <stdio.h>
#include <stdlib.h>

void gen_tx_begin(gen *g) {
    g->tb.n_in = 0;
    g->tb.n_out = 0;
}

void gen_tx_in(gen *g, uint32_t utxo) {
    gen_txb *t = &g->tb;
    t->in = gen_grow(t->in, &t->cap_in, t->n_in + 1, sizeof *t->in);
    t->in[t->n_in++] = utxo;
}

uint32_t gen_tx_out(gen *g, uint32_t wallet, gen_stype type, uint64_t key, uint64_t value) {
    gen_txb *t = &g->tb;
    t->out = gen_grow(t->out, &t->cap_out, t->n_out + 1, sizeof *t->out);
    t->out[t->n_out] =
        (gen_out){.value = value, .key = key, .wallet = wallet, .type = (uint8_t)type};
    return t->n_out++;
}

uint32_t gen_tx_out_nulldata(gen *g) {
    return gen_tx_out(g, GEN_NONE, ST_NULLDATA, gen_new_key(g), 0);
}

uint64_t gen_tx_in_total(const gen *g) {
    uint64_t sum = 0;
    for (uint32_t i = 0; i < g->tb.n_in; i++)
        sum += g->ut[g->tb.in[i]].value;
    return sum;
}

uint64_t gen_tx_fee(const gen *g, uint32_t extra_outs, uint64_t rate) {
    uint64_t vsize = 11 + 34 * (uint64_t)(g->tb.n_out + extra_outs);
    for (uint32_t i = 0; i < g->tb.n_in; i++)
        vsize += gen_stype_in_vsize(g->ut[g->tb.in[i]].type);
    return vsize * rate;
}

/* Fee rates in sat/vB: mostly quiet mempool, sometimes busy, rarely a rush. */
uint64_t gen_fee_rate(gen *g) {
    uint64_t r = gen_rng_below(&g->rng, 100);
    if (r < 70) return gen_rng_range(&g->rng, 1, 12);
    if (r < 95) return gen_rng_range(&g->rng, 12, 60);
    return gen_rng_range(&g->rng, 60, 200);
}

void gen_tx_shuffle_outs(gen *g) {
    gen_txb *t = &g->tb;
    for (uint32_t i = t->n_out; i > 1; i--) {
        uint32_t j = (uint32_t)gen_rng_below(&g->rng, i);
        gen_out tmp = t->out[i - 1];
        t->out[i - 1] = t->out[j];
        t->out[j] = tmp;
    }
}

static void put_inputs(gen *g, gen_buf *b, int32_t version) {
    const gen_txb *t = &g->tb;
    gen_put_varint(b, t->n_in);
    for (uint32_t i = 0; i < t->n_in; i++) {
        const gen_utxo *x = &g->ut[t->in[i]];
        gen_put(b, x->txid.b, 32);
        gen_put_u32(b, x->vout);
        gen_put_script_sig(b, &g->rng, g->key_seed, x->type, x->key);
        /* Version-2 wallets signal replace-by-fee, as Core does by default. */
        gen_put_u32(b, version >= 2 ? 0xfffffffdu : 0xffffffffu);
    }
}

static void put_outputs(gen *g, gen_buf *b) {
    const gen_txb *t = &g->tb;
    gen_put_varint(b, t->n_out);
    for (uint32_t i = 0; i < t->n_out; i++) {
        gen_put_u64(b, t->out[i].value);
        gen_put_out_script(b, g->key_seed, t->out[i].type, t->out[i].key);
    }
}

/* Spend the inputs; returns their total. */
static uint64_t spend_inputs(gen *g, const ch_hash256 *txid) {
    uint64_t sum = 0;
    for (uint32_t i = 0; i < g->tb.n_in; i++) {
        uint32_t u = g->tb.in[i];
        sum += g->ut[u].value;
        if (g->ut[u].flags & UF_LANDING) gen_theft_note_spend(g, txid);
        gen_utxo_unlist(g, u);
        gen_utxo_free(g, u);
    }
    return sum;
}

static uint64_t register_outputs(gen *g, const ch_hash256 *txid, uint32_t *out_utxo) {
    uint64_t sum = 0;
    for (uint32_t i = 0; i < g->tb.n_out; i++) {
        const gen_out *o = &g->tb.out[i];
        sum += o->value;
        g->st.outputs_by_type[gen_stype_model(o->type)]++;
        if (out_utxo) out_utxo[i] = GEN_NONE;
        if (o->type == ST_NULLDATA) continue; /* provably unspendable */
        uint32_t u = gen_utxo_alloc(g);
        g->ut[u] = (gen_utxo){.txid = *txid,
                              .value = o->value,
                              .key = o->key,
                              .vout = i,
                              .wallet = o->wallet,
                              .wpos = GEN_NONE,
                              .ppos = GEN_NONE,
                              .height = g->height,
                              .type = o->type,
                              .flags = o->flags};
        if (!o->park) gen_wallet_add(g, u);
        if (out_utxo) out_utxo[i] = u;
    }
    return sum;
}

uint32_t gen_tx_finish(gen *g, uint32_t *out_utxo) {
    gen_buf *b = &g->txs;
    const gen_txb *t = &g->tb;
    bool wit = false;
    for (uint32_t i = 0; i < t->n_in; i++)
        wit |= gen_stype_segwit(g->ut[t->in[i]].type);

    int32_t version = gen_rng_chance(&g->rng, 100) ? 1 : 2;
    /* Anti-fee-sniping: most wallets lock to the previous height. */
    uint32_t locktime = (g->height > 0 && gen_rng_chance(&g->rng, 600)) ? g->height - 1 : 0;

    size_t off = b->len;
    gen_put_u32(b, (uint32_t)version);
    if (wit) {
        gen_put_u8(b, 0x00); /* segwit marker and flag */
        gen_put_u8(b, 0x01);
    }
    size_t body = b->len;
    put_inputs(g, b, version);
    put_outputs(g, b);
    size_t body_end = b->len;
    if (wit)
        for (uint32_t i = 0; i < t->n_in; i++) {
            const gen_utxo *x = &g->ut[t->in[i]];
            gen_put_witness(b, &g->rng, g->key_seed, x->type, x->key);
        }
    gen_put_u32(b, locktime);

    /* txid: the serialization without marker, flag and witnesses, hashed in
     * three pieces so it never has to be written twice. */
    gen_btx rec = {.off = off, .len = b->len - off, .witness = wit};
    ch_sha256_ctx c;
    ch_sha256_init(&c);
    ch_sha256_update(&c, b->p + off, 4);
    ch_sha256_update(&c, b->p + body, body_end - body);
    ch_sha256_update(&c, b->p + b->len - 4, 4);
    ch_sha256d_final(&c, &rec.txid);
    if (wit)
        ch_sha256d(b->p + off, rec.len, &rec.wtxid);
    else
        rec.wtxid = rec.txid;

    g->st.inputs += t->n_in;
    g->st.outputs += t->n_out;
    uint64_t in = spend_inputs(g, &rec.txid);
    uint64_t out = register_outputs(g, &rec.txid, out_utxo);
    if (out > in) {
        /* A generator bug, never an input problem: stop loudly. */
        fprintf(stderr, "coinhound-gen: internal error: tx spends %llu but pays %llu\n",
                (unsigned long long)in, (unsigned long long)out);
        abort();
    }
    rec.fee = in - out;
    g->btx = gen_grow(g->btx, &g->cap_btx, g->n_btx + 1, sizeof *g->btx);
    g->btx[g->n_btx] = rec;
    return g->n_btx++;
}
