/* UTXOs and wallets: who owns which unspent output.
 *
 * UTXO slots are recycled through a free list, so the table stays as large
 * as the live set rather than the whole history. Removal from a wallet's
 * list and from the user pool is swap-with-last, O(1); each UTXO remembers
 * its positions for that. */
#include "gen_internal.h"

uint64_t gen_new_key(gen *g) {
    return ++g->next_key; /* 0 means "no key" in wallet fields */
}

uint32_t gen_wallet_new(gen *g, gen_role role, gen_stype type) {
    g->w = gen_grow(g->w, &g->cap_w, g->n_w + 1, sizeof *g->w);
    gen_wallet *w = &g->w[g->n_w];
    *w = (gen_wallet){.type = (uint8_t)type, .role = (uint8_t)role};
    return g->n_w++;
}

uint32_t gen_utxo_alloc(gen *g) {
    if (g->n_free > 0) return g->free_ut[--g->n_free];
    g->ut = gen_grow(g->ut, &g->cap_ut, g->n_ut + 1, sizeof *g->ut);
    return g->n_ut++;
}

void gen_utxo_free(gen *g, uint32_t u) {
    g->free_ut = gen_grow(g->free_ut, &g->cap_free, g->n_free + 1, sizeof *g->free_ut);
    g->free_ut[g->n_free++] = u;
}

void gen_wallet_add(gen *g, uint32_t u) {
    gen_utxo *x = &g->ut[u];
    gen_wallet *w = &g->w[x->wallet];
    w->u = gen_grow(w->u, &w->cap, w->n + 1, sizeof *w->u);
    x->wpos = w->n;
    w->u[w->n++] = u;
    x->ppos = GEN_NONE;
    if (w->role == R_USER) {
        g->pool = gen_grow(g->pool, &g->cap_pool, g->n_pool + 1, sizeof *g->pool);
        x->ppos = g->n_pool;
        g->pool[g->n_pool++] = u;
    }
}

void gen_utxo_unlist(gen *g, uint32_t u) {
    gen_utxo *x = &g->ut[u];
    if (x->wpos != GEN_NONE) {
        gen_wallet *w = &g->w[x->wallet];
        uint32_t last = w->u[--w->n];
        w->u[x->wpos] = last;
        g->ut[last].wpos = x->wpos;
        x->wpos = GEN_NONE;
    }
    if (x->ppos != GEN_NONE) {
        uint32_t last = g->pool[--g->n_pool];
        g->pool[x->ppos] = last;
        g->ut[last].ppos = x->ppos;
        x->ppos = GEN_NONE;
    }
}

uint32_t gen_random_user(gen *g) {
    return g->first_user + (uint32_t)gen_rng_below(&g->rng, g->n_users);
}

/* Address reuse is common on the real chain (donation and merchant
 * addresses, wallets that show one receive address, services): distinct
 * addresses there are of the order of one per transaction, not one per
 * output. So about half of the payments reuse the last address the payee
 * handed out. */
uint64_t gen_user_receive_key(gen *g, uint32_t wallet) {
    gen_wallet *w = &g->w[wallet];
    if (w->last_key && gen_rng_chance(&g->rng, 450)) return w->last_key;
    w->last_key = gen_new_key(g);
    return w->last_key;
}

/* Change: modern wallets take a fresh address, older ones (and many
 * services) send it back to an address they already use. */
uint64_t gen_change_key(gen *g, uint32_t wallet) {
    gen_wallet *w = &g->w[wallet];
    if (w->last_key && gen_rng_chance(&g->rng, 300)) return w->last_key;
    return gen_new_key(g);
}

void gen_label_add(gen *g, unsigned service, gen_stype type, uint64_t key) {
    g->labels = gen_grow(g->labels, &g->cap_labels, g->n_labels + 1, sizeof *g->labels);
    g->labels[g->n_labels++] =
        (gen_label){.key = key, .type = (uint8_t)type, .service = (uint8_t)service};
}

/* Exchanges give each customer one deposit address and keep it: every later
 * deposit by the same customer reuses it (what the deposit-address heuristic
 * relies on). */
uint64_t gen_deposit_key(gen *g, uint32_t user_wallet, unsigned service) {
    uint64_t *slot = &g->dep_key[(size_t)(user_wallet - g->first_user) * GEN_SERVICES + service];
    if (*slot == 0) {
        *slot = gen_new_key(g);
        gen_label_add(g, service, g->w[g->svc[service].deposit_w].type, *slot);
    }
    return *slot;
}
