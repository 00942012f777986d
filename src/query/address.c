/* An address's summary: balance per asset, received, sent, tx count, first
 * and last seen, counterparties; for a UTXO store and an account store. */
#include <stdlib.h>
#include <string.h>

#include "coinhound/address.h"
#include "coinhound/chainaddr.h"
#include "coinhound/query.h"
#include "query/query_internal.h"

void ch_q_address_free(ch_q_address *a) {
    if (!a) return;
    free(a->balances);
    free(a->peers);
    a->balances = NULL;
    a->peers = NULL;
    a->n_balances = a->n_peers = 0;
}

static int by_u64_desc(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

static void seen(ch_store *s, ch_q_address *a, uint32_t first_h, uint32_t last_h) {
    uint64_t base = ch_store_is_account(s) ? ch_store_first_number(s) : 0;
    a->first_height = first_h;
    a->last_height = last_h;
    a->first_number = base + first_h;
    a->last_number = base + last_h;
    a->first_time = ch_store_block(s, first_h)->time;
    a->last_time = ch_store_block(s, last_h)->time;
}

/* UTXO: every output of the address, received and spent sides. The tx count
 * is of the distinct txs that paid it or spent from it (sorted once). */
static int utxo_summary(ch_store *s, ch_q_address *a, ch_error *err) {
    ch_vec txs = {0};
    ch_q_amount received = 0, sent = 0;
    for (int64_t o = a->last == UINT64_MAX ? -1 : (int64_t)a->last; o >= 0;
         o = ch_store_output_prev_same_addr(s, (uint64_t)o)) {
        uint64_t v = CH_OUT_VALUE(ch_store_output(s, (uint64_t)o));
        int64_t r = ch_query_output_tx(s, (uint64_t)o),
                sp = ch_store_output_spender(s, (uint64_t)o);
        received += v;
        a->items++;
        if (r < 0 || ch_vec_push(&txs, sizeof(uint64_t), &(uint64_t){(uint64_t)r}) != 0) goto fail;
        if (sp >= 0) {
            sent += v;
            if (ch_vec_push(&txs, sizeof(uint64_t), &(uint64_t){(uint64_t)sp}) != 0) goto fail;
        }
    }
    uint64_t *t = txs.v;
    if (txs.n > 1) qsort(t, txs.n, sizeof *t, by_u64_desc); /* t is NULL when empty */
    size_t m = 0;
    for (size_t i = 0; i < txs.n; i++)
        if (m == 0 || t[m - 1] != t[i]) t[m++] = t[i];
    a->tx_count = m;
    if (!(a->balances = calloc(1, sizeof *a->balances))) goto fail;
    a->n_balances = 1;
    a->balances[0] = (ch_q_balance){0, received, sent, received - sent, received >= sent};
    seen(s, a, m ? ch_store_tx_height(s, t[m - 1]) : 0, m ? ch_store_tx_height(s, t[0]) : 0);
    free(txs.v);
    return 0;
fail:
    free(txs.v);
    return ch_err(err, "address summary: out of memory or a damaged store");
}

/* The index of asset in a's balances, added when new; -1 on memory. */
static long balance_slot(ch_q_address *a, ch_vec *bal, ch_addr_id asset) {
    ch_q_balance *b = bal->v;
    for (size_t i = 0; i < bal->n; i++)
        if (b[i].asset == asset) return (long)i;
    ch_q_balance nb = {asset, 0, 0, 0, false};
    if (ch_vec_push(bal, sizeof nb, &nb) != 0) return -1;
    (void)a;
    return (long)bal->n - 1;
}

static int by_count(const void *x, const void *y) {
    const ch_q_peer *p = x, *q = y;
    return p->count < q->count   ? 1
           : p->count > q->count ? -1
                                 : (p->addr > q->addr) - (p->addr < q->addr);
}

/* Count one transfer with a counterparty (linear: a summary's peers are
 * few next to its transfers; the CLI did the same). */
static int count_peer(ch_vec *peers, ch_addr_id other) {
    ch_q_peer *p = peers->v;
    for (size_t j = 0; j < peers->n; j++)
        if (p[j].addr == other) return p[j].count++, 0;
    return ch_vec_push(peers, sizeof(ch_q_peer), &(ch_q_peer){other, 1});
}

/* Account: every transfer the address took part in, newest first. */
static int account_summary(ch_store *s, ch_q_address *a, ch_error *err) {
    ch_vec bal = {0}, peers = {0};
    uint64_t first_x = a->last;
    uint64_t last_tx = CH_NO_TX;
    for (int64_t x = (int64_t)a->last; x >= 0; x = ch_store_xfer_prev(s, (uint64_t)x, a->id)) {
        const ch_xfer_rec *r = ch_store_xfer(s, (uint64_t)x);
        a->items++;
        first_x = (uint64_t)x;
        if (r->tx != last_tx) a->tx_count++, last_tx = r->tx;
        if (r->kind == CH_XFER_NFT) continue; /* a token id, not an amount */
        long i = balance_slot(a, &bal, r->asset);
        if (i < 0) goto fail;
        ch_q_balance *b = (ch_q_balance *)bal.v + i;
        ch_q_amount v = (ch_q_amount)r->value_hi << 64 | r->value_lo;
        if (r->to == a->id) b->received += v;
        if (r->from == a->id) b->sent += v;
        ch_addr_id other = r->from == a->id ? r->to : r->from;
        if (other != 0 && other != a->id && count_peer(&peers, other) != 0) goto fail;
    }
    a->balances = bal.v;
    a->n_balances = bal.n;
    for (size_t i = 0; i < a->n_balances; i++) {
        ch_q_balance *b = &a->balances[i];
        b->balance_known = b->received >= b->sent; /* else the store began after its funding */
        b->balance = b->balance_known ? b->received - b->sent : 0;
    }
    a->peers = peers.v;
    a->n_peers = peers.n;
    if (a->n_peers) qsort(a->peers, a->n_peers, sizeof *a->peers, by_count);
    seen(s, a, ch_store_xfer_height(s, first_x), ch_store_xfer_height(s, a->last));
    return 0;
fail:
    free(bal.v);
    free(peers.v);
    return ch_err(err, "address summary: out of memory");
}

/* The store's form of text: its address record and canonical string. */
static int parse_addr(ch_store *s, const char *text, ch_q_address *out, ch_addr *a, ch_error *err) {
    memset(a, 0, sizeof *a);
    if (out->account) {
        ch_chainaddr c;
        if (ch_chainaddr_parse(text, CH_FAM_EVM, &c, err) != 0 || c.family != CH_FAM_EVM)
            return ch_err_prefix(err, "'%s' is not a valid EVM address", text), -1;
        a->kind = CH_ADDR_EVM;
        a->len = 20;
        if (ch_hex_decode(c.canonical + 2, 40, a->bytes, 20) != 0)
            return ch_err(err, "'%s' is not a valid EVM address", text);
        snprintf(out->canonical, sizeof out->canonical, "%s", c.canonical);
        return 0;
    }
    if (ch_addr_from_string(text, a, NULL, err) != 0)
        return ch_err_prefix(err, "'%s' is not a valid address", text), -1;
    char canon[CH_ADDR_STR_MAX];
    ch_addr_to_string(a, ch_store_addr_net(s), canon); /* the store network's form */
    snprintf(out->canonical, sizeof out->canonical, "%s", canon);
    return 0;
}

int ch_query_address(ch_store *s, const char *text, ch_q_address *out, ch_error *err) {
    memset(out, 0, sizeof *out);
    out->account = ch_store_is_account(s);
    ch_addr a;
    if (parse_addr(s, text, out, &a, err) != 0) return -1;
    int rc = ch_store_find_addr(s, &a, &out->id, &out->last, err);
    if (rc <= 0) return rc;
    if (out->last == UINT64_MAX) return 0; /* an asset id only, never in a transfer */
    if ((out->account ? account_summary(s, out, err) : utxo_summary(s, out, err)) != 0) {
        ch_q_address_free(out);
        return -1;
    }
    return 1;
}
