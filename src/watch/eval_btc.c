/* The rules against one committed block of a Bitcoin store. A transaction
 * is a pool filled by its inputs (the outputs they spend, with their
 * addresses and values) and emptied into its outputs, so an alert is per
 * rule and transaction: which of its addresses matched, what they sent
 * (the inputs they funded) and received (the outputs paying them), and
 * where the rest went.
 *
 *   address               a listed address funds an input or is paid
 *   large_transfer BTC    the outputs of a non-coinbase tx add up to min
 *   entity/actor/category an input's or output's address carries such an
 *                         attribution in the attribution store */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/address.h"
#include "util/vec.h"
#include "watch/watch_internal.h"

#define KIND_BTC_TX 0x40 /* the id's transfer kind: a whole transaction */
#define MAX_SHOWN   16   /* addresses listed per side in an alert */
/* An address rule of at most this many addresses is matched by store id:
 * its addresses looked up in the store once a block (an index look-up
 * each, about a microsecond), instead of every leg's address read from
 * its column and searched in the rule's list (a 3,000-tx block has some
 * 15,000 legs). A longer list keeps the search: its look-ups would cost
 * more than the legs. */
#define ID_MATCH_MAX 256

/* One side of a tx: an input (sent) or an output (received). */
typedef struct leg {
    ch_addr_id addr; /* store id, 0 none */
    uint64_t value;
    bool in;
} leg;

typedef struct tx_view {
    uint64_t tx;
    uint32_t pos;
    bool coinbase;
    ch_hash256 txid;
    leg *v;
    size_t n, cap;
    uint64_t out_total;
    /* the attribution rules' reasons, leg by leg: attr[leg * rules->n +
     * rule] (watch_attr_match), NULL when no such rule runs */
    json_t **attr;
    size_t n_attr, attr_cap; /* entries set (t->n * rules->n), allocated */
} tx_view;

/* An address rule's addresses as the store's ids (sorted), for one block:
 * an address the store does not hold is paid by no leg of it. */
typedef struct rule_ids {
    bool on; /* matched by id (else by the addresses themselves) */
    ch_addr_id *v;
    size_t n;
} rule_ids;

typedef struct btc_ctx {
    const watch_block *w;
    rule_ids *ids; /* per rule, NULL when none is matched by id */
    const ch_block_rec *b;
    ch_network net;
} btc_ctx;

static int add_leg(tx_view *t, ch_addr_id addr, uint64_t value, bool in) {
    leg *v = ch_grow(t->v, &t->cap, t->n + 1, sizeof *v);
    if (!v) return -1;
    t->v = v;
    t->v[t->n++] = (leg){addr, value, in};
    return 0;
}

static void addr_text(const btc_ctx *c, ch_addr_id id, char out[CH_ADDR_STR_MAX]);

/* The tx's legs (inputs, then outputs) and, when attribution rules run,
 * each leg's address looked up once for all of them. */
static int load_tx(const btc_ctx *c, tx_view *t, bool attr, ch_error *err) {
    ch_store *s = c->w->s;
    t->n = 0;
    t->n_attr = 0;
    t->out_total = 0;
    t->coinbase = false;
    ch_store_txid(s, t->tx, &t->txid);
    uint64_t first, n;
    ch_store_tx_inputs(s, t->tx, &first, &n);
    for (uint64_t i = first; i < first + n; i++) {
        int64_t o = ch_store_input_spent_output(s, i);
        if (o < 0) {
            t->coinbase = true;
            continue;
        }
        const ch_out_rec *r = ch_store_output(s, (uint64_t)o);
        if (add_leg(t, ch_out_addr(r), CH_OUT_VALUE(r), true) != 0)
            return ch_err(err, "out of memory");
    }
    ch_store_tx_outputs(s, t->tx, &first, &n);
    for (uint64_t i = first; i < first + n; i++) {
        const ch_out_rec *r = ch_store_output(s, i);
        t->out_total += CH_OUT_VALUE(r);
        if (add_leg(t, ch_out_addr(r), CH_OUT_VALUE(r), false) != 0)
            return ch_err(err, "out of memory");
    }
    size_t nr = c->w->rules->n;
    if (!attr || !t->n) return 0;
    json_t **v = ch_grow(t->attr, &t->attr_cap, t->n * nr, sizeof *v);
    if (!v) return ch_err(err, "out of memory");
    t->attr = v;
    t->n_attr = t->n * nr;
    memset(v, 0, t->n_attr * sizeof *v);
    for (size_t i = 0; i < t->n; i++) {
        if (!t->v[i].addr) continue;
        char text[CH_ADDR_STR_MAX];
        addr_text(c, t->v[i].addr, text);
        if (watch_attr_match(c->w->intel, c->w->rules, text, "BTC", v + i * nr, err) != 0)
            return -1;
    }
    return 0;
}

static void addr_text(const btc_ctx *c, ch_addr_id id, char out[CH_ADDR_STR_MAX]) {
    ch_addr a;
    ch_store_addr_of(c->w->s, id, &a);
    if (ch_addr_to_string(&a, c->net, out) != 0) snprintf(out, CH_ADDR_STR_MAX, "?");
}

/* The distinct addresses of one side, at most MAX_SHOWN. */
static json_t *side_list(const btc_ctx *c, const tx_view *t, bool in, size_t *count) {
    json_t *a = json_array();
    *count = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (t->v[i].in != in || !t->v[i].addr) continue;
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = t->v[j].in == in && t->v[j].addr == t->v[i].addr;
        if (seen) continue;
        if ((*count)++ < MAX_SHOWN) {
            char s[CH_ADDR_STR_MAX];
            addr_text(c, t->v[i].addr, s);
            json_array_append_new(a, json_string(s));
        }
    }
    return a;
}

static void sat_text(uint64_t v, char out[32]) {
    snprintf(out, 32, "%" PRIu64, v);
}

/* What a rule found in a tx: the addresses (store ids) it matched, and
 * the reasons. */
typedef struct hit {
    ch_addr_id *ids;
    size_t n, cap;
    json_t *reasons;
} hit;

static bool hit_has(const hit *h, ch_addr_id id) {
    for (size_t i = 0; i < h->n; i++)
        if (h->ids[i] == id) return true;
    return false;
}

static int hit_add(hit *h, ch_addr_id id) {
    if (hit_has(h, id)) return 0;
    ch_addr_id *v = ch_grow(h->ids, &h->cap, h->n + 1, sizeof *v);
    if (!v) return -1;
    h->ids = v;
    h->ids[h->n++] = id;
    return 0;
}

static int id_cmp(const void *pa, const void *pb) {
    ch_addr_id a = *(const ch_addr_id *)pa, b = *(const ch_addr_id *)pb;
    return a < b ? -1 : a > b;
}

/* The short address rules' ids in the store as it stands (the writer's
 * view: the block's own new addresses included). -1 on an error of the
 * store's index (err set). */
static int resolve_ids(btc_ctx *c, ch_error *err) {
    const ch_watch_rules *rules = c->w->rules;
    for (size_t i = 0; i < rules->n; i++) {
        const ch_watch_rule *r = &rules->v[i];
        rule_ids *ids = &c->ids[i];
        if (r->kind != CH_WATCH_ADDRESS || !r->n_btc_addrs || r->n_btc_addrs > ID_MATCH_MAX)
            continue;
        ids->v = malloc(r->n_btc_addrs * sizeof *ids->v);
        if (!ids->v) return ch_err(err, "out of memory");
        for (size_t k = 0; k < r->n_btc_addrs; k++) {
            ch_addr_id id;
            int rc = ch_store_writer_find_addr(c->w->s, &r->btc_addrs[k], &id, err);
            if (rc < 0) return -1;
            if (rc == 1) ids->v[ids->n++] = id;
        }
        qsort(ids->v, ids->n, sizeof *ids->v, id_cmp);
        ids->on = true;
    }
    return 0;
}

/* Does leg li's address match rule r (address or attribution kinds)?
 * Reasons are added when it does. 1 or 0. */
static int addr_matches(const btc_ctx *c, const ch_watch_rule *r, const tx_view *t, size_t li,
                        json_t *reasons) {
    const leg *l = &t->v[li];
    if (r->kind == CH_WATCH_ADDRESS) {
        if (!r->n_btc_addrs) return 0;
        const rule_ids *ids = c->ids ? &c->ids[r - c->w->rules->v] : NULL;
        if (ids && ids->on) {
            if (!bsearch(&l->addr, ids->v, ids->n, sizeof l->addr, id_cmp)) return 0;
        } else {
            ch_addr a;
            ch_store_addr_of(c->w->s, l->addr, &a);
            if (!bsearch(&a, r->btc_addrs, r->n_btc_addrs, sizeof a, ch_watch_addr_cmp)) return 0;
        }
        char text[CH_ADDR_STR_MAX], why[200];
        addr_text(c, l->addr, text);
        snprintf(why, sizeof why, "%s %s, a watched address", l->in ? "sent from" : "received by",
                 text);
        watch_rule_reason(reasons, c->w->rules, r, why);
        return 1;
    }
    json_t *mine = t->n_attr ? t->attr[li * c->w->rules->n + (size_t)(r - c->w->rules->v)] : NULL;
    if (!mine) return 0;
    json_array_extend(reasons, mine);
    return 1;
}

/* The alert of rule r on tx t: its stable id, the block, the tx, both
 * sides' addresses, what matched and the amounts, handed to the sink. */
static int emit(const btc_ctx *c, const ch_watch_rule *r, const tx_view *t, const hit *h,
                uint64_t amount, uint64_t sent, uint64_t received) {
    char id[33], hex[65], num[32];
    watch_alert_id(r->name, c->w->chain, c->b->hash, t->txid.b, KIND_BTC_TX, t->pos, id);
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(id));
    json_object_set_new(o, "rule", json_string(r->name));
    json_object_set_new(o, "kind", json_string(ch_watch_rule_kind_name(r->kind)));
    json_object_set_new(o, "severity", json_string(r->severity));
    json_object_set_new(o, "chain", json_string(c->w->chain));
    json_object_set_new(o, "height", json_integer((json_int_t)c->w->height));
    ch_hash256 bh;
    memcpy(bh.b, c->b->hash, 32);
    ch_hash256_to_hex(&bh, hex);
    json_object_set_new(o, "block_hash", json_string(hex));
    json_object_set_new(o, "time", json_integer((json_int_t)c->b->time));
    ch_hash256_to_hex(&t->txid, hex);
    json_object_set_new(o, "tx", json_string(hex));
    json_object_set_new(o, "transfer",
                        json_pack("{s:s,s:I}", "kind", "tx", "position", (json_int_t)t->pos));
    size_t n_from, n_to;
    json_object_set_new(o, "from", side_list(c, t, true, &n_from));
    json_object_set_new(o, "to", side_list(c, t, false, &n_to));
    if (n_from > MAX_SHOWN) json_object_set_new(o, "from_count", json_integer((json_int_t)n_from));
    if (n_to > MAX_SHOWN) json_object_set_new(o, "to_count", json_integer((json_int_t)n_to));
    /* large_transfer matches no address: its senders stand for it */
    json_t *addrs = h->n ? json_array() : json_deep_copy(json_object_get(o, "from"));
    for (size_t i = 0; i < h->n; i++) {
        char s[CH_ADDR_STR_MAX];
        addr_text(c, h->ids[i], s);
        json_array_append_new(addrs, json_string(s));
    }
    json_object_set_new(o, "addresses", addrs);
    json_object_set_new(o, "asset", json_string("BTC"));
    sat_text(amount, num);
    json_object_set_new(o, "amount", json_string(num));
    sat_text(sent, num);
    json_object_set_new(o, "sent", json_string(num));
    sat_text(received, num);
    json_object_set_new(o, "received", json_string(num));
    json_object_set_new(o, "reasons", json_incref(h->reasons));
    json_object_set_new(o, "retracted", json_false());
    return c->w->fn(o, c->w->ctx);
}

/* Rule r against one tx: large_transfer on its outputs' sum, the others
 * on each input's and output's address; one alert when anything matched. */
static int eval_rule(const btc_ctx *c, const ch_watch_rule *r, const tx_view *t) {
    if (r->kind == CH_WATCH_DEPOSIT) return 0; /* per output (deposit_btc.c) */
    if (r->kind == CH_WATCH_LARGE) {
        if (!r->btc || t->coinbase) return 0;
        ch_u256 v = {{t->out_total, 0, 0, 0}};
        if (ch_u256_cmp(&v, &r->min) < 0) return 0;
        hit h = {.reasons = json_array()};
        char min[80], why[300];
        ch_u256_to_dec(&r->min, min);
        snprintf(why, sizeof why,
                 "its outputs move %" PRIu64 " satoshi, at or above the rule's minimum %s",
                 t->out_total, min);
        watch_rule_reason(h.reasons, c->w->rules, r, why);
        int rc = emit(c, r, t, &h, t->out_total, 0, 0);
        json_decref(h.reasons);
        return rc;
    }
    hit h = {.reasons = json_array()};
    uint64_t sent = 0, received = 0;
    int rc = 0;
    for (size_t i = 0; i < t->n && rc == 0; i++) {
        const leg *l = &t->v[i];
        if (!l->addr) continue;
        bool known = hit_has(&h, l->addr);
        if (!known && !addr_matches(c, r, t, i, h.reasons)) continue;
        if (l->in)
            sent += l->value;
        else
            received += l->value;
        if (!known && hit_add(&h, l->addr) != 0) rc = ch_err(c->w->err, "out of memory");
    }
    if (rc == 0 && h.n) rc = emit(c, r, t, &h, sent ? sent : received, sent, received);
    json_decref(h.reasons);
    free(h.ids);
    return rc;
}

int watch_eval_btc_block(const watch_block *w) {
    ch_store *s = w->s;
    const ch_watch_rules *rules = w->rules;
    ch_error *err = w->err;
    btc_ctx c = {.w = w, .b = ch_store_block(s, w->height), .net = ch_store_addr_net(s)};
    bool any_attr = false;
    for (size_t r = 0; r < rules->n; r++)
        any_attr |= watch_rule_is_attr(&rules->v[r]);
    bool attr = w->intel && any_attr;
    tx_view t = {0};
    int rc = 0;
    bool by_id = false;
    for (size_t r = 0; r < rules->n; r++)
        by_id |= rules->v[r].kind == CH_WATCH_ADDRESS && rules->v[r].n_btc_addrs &&
                 rules->v[r].n_btc_addrs <= ID_MATCH_MAX;
    if (by_id) {
        c.ids = calloc(rules->n, sizeof *c.ids);
        rc = !c.ids ? ch_err(err, "out of memory") : resolve_ids(&c, err);
    }
    for (uint32_t i = 0; rc == 0 && i < c.b->n_tx; i++) {
        t.tx = c.b->first_tx + i;
        t.pos = i;
        rc = load_tx(&c, &t, attr, err);
        for (size_t r = 0; rc == 0 && r < rules->n; r++)
            rc = eval_rule(&c, &rules->v[r], &t);
        watch_attr_clear(t.attr, t.n_attr);
    }
    for (size_t r = 0; c.ids && r < rules->n; r++)
        free(c.ids[r].v);
    free(c.ids);
    free(t.v);
    free(t.attr);
    return rc ? -1 : ch_store_damage(s, err);
}
