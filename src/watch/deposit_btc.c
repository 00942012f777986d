/* deposit_exposure on Bitcoin: each output of a block that pays one of a
 * rule's customer addresses is screened before it is credited. What is
 * judged is the payment's coins: the screening's indirect exposure
 * (exposure.h, ch_exposure_of_source) of that one output, TXID:VOUT, a
 * backward haircut trace through the paying tx's inputs and their history
 * up to max_hops txs back, stopping at labelled addresses, each source's
 * level from the default risk table. An input address that is itself
 * flagged is a source at hop 1 (it paid the customer). The trace options are
 * the screening's (`coinhound screen --db DIR --hops N`: min_share 0.1%),
 * so a customer address paid once gets the exposure `screen` gives it; the
 * rule's min_share is the alert's threshold on the flagged share.
 *
 * The trace reads the committed store only: the follower commits a block
 * paying a customer address before evaluating it (watch_deposit_btc_due,
 * follow_btc.c), and a payment of a block not committed is an error here,
 * never "no exposure". */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "coinhound/address.h"
#include "coinhound/exposure.h"
#include "coinhound/intel.h"
#include "util/vec.h"
#include "watch/watch_internal.h"

#define KIND_BTC_OUTPUT 0x41 /* the id's transfer kind: one output (as incident_btc.c) */
#define MAX_SHOWN       16   /* input addresses listed in an alert */

static int id_cmp(const void *pa, const void *pb) {
    ch_addr_id a = *(const ch_addr_id *)pa, b = *(const ch_addr_id *)pb;
    return a < b ? -1 : a > b;
}

/* Rule r's customer addresses as the writer's store ids (pending blocks'
 * addresses included), sorted, in *ids (malloc'd; *n of them: an address
 * the store does not hold is paid by no output). -1 on an index error,
 * with nothing left to free. */
static int customer_ids(ch_store *s, const ch_watch_rule *r, ch_addr_id **ids, size_t *n,
                        ch_error *err) {
    *n = 0;
    *ids = malloc((r->n_btc_addrs ? r->n_btc_addrs : 1) * sizeof **ids);
    if (!*ids) return ch_err(err, "out of memory");
    for (size_t k = 0; k < r->n_btc_addrs; k++) {
        ch_addr_id id;
        int rc = ch_store_writer_find_addr(s, &r->btc_addrs[k], &id, err);
        if (rc < 0) {
            free(*ids);
            *ids = NULL;
            return -1;
        }
        if (rc == 1) (*ids)[(*n)++] = id;
    }
    qsort(*ids, *n, sizeof **ids, id_cmp);
    return 0;
}

/* What to do with output o (vout of tx) of a block, which pays a customer:
 * 0 to go on, else the value each_payment stops with. */
typedef int (*payment_fn)(uint64_t tx, uint32_t vout, uint64_t o, void *ctx);

/* visit each output of block h that pays one of ids (sorted, n), in block
 * order: 0, or the first non-zero value visit returned. */
static int each_payment(ch_store *s, uint32_t h, const ch_addr_id *ids, size_t n, payment_fn visit,
                        void *ctx) {
    const ch_block_rec *b = ch_store_block(s, h);
    for (uint32_t k = 0; n && k < b->n_tx; k++) {
        uint64_t tx = b->first_tx + k, fo, no;
        ch_store_tx_outputs(s, tx, &fo, &no);
        for (uint64_t o = fo; o < fo + no; o++) {
            ch_addr_id a = ch_out_addr(ch_store_output(s, o));
            if (!a || !bsearch(&a, ids, n, sizeof a, id_cmp)) continue;
            int rc = visit(tx, (uint32_t)(o - fo), o, ctx);
            if (rc) return rc;
        }
    }
    return 0;
}

static int found_payment(uint64_t tx, uint32_t vout, uint64_t o, void *ctx) {
    (void)tx, (void)vout, (void)o, (void)ctx;
    return 1;
}

int watch_deposit_btc_due(ch_store *s, const ch_watch_rules *rules, uint32_t from, uint32_t to,
                          ch_error *err) {
    int due = 0;
    for (size_t i = 0; i < rules->n && !due; i++) {
        const ch_watch_rule *r = &rules->v[i];
        if (r->kind != CH_WATCH_DEPOSIT || !r->n_btc_addrs) continue;
        ch_addr_id *ids;
        size_t n;
        if (customer_ids(s, r, &ids, &n, err) != 0) return -1;
        for (uint32_t h = from; h < to && !due; h++)
            due = each_payment(s, h, ids, n, found_payment, NULL);
        free(ids);
    }
    return due;
}

static void addr_text(ch_store *s, ch_addr_id id, char out[CH_ADDR_STR_MAX]) {
    ch_addr a;
    out[0] = 0;
    if (!id) return;
    ch_store_addr_of(s, id, &a);
    if (ch_addr_to_string(&a, ch_store_addr_net(s), out) != 0) snprintf(out, CH_ADDR_STR_MAX, "?");
}

/* The distinct addresses of tx's inputs (the outputs they spend), at most
 * MAX_SHOWN; *count all of them. */
static json_t *senders(ch_store *s, uint64_t tx, size_t *count) {
    json_t *a = json_array();
    uint64_t first, n;
    ch_store_tx_inputs(s, tx, &first, &n);
    ch_addr_id seen[MAX_SHOWN + 1];
    size_t ns = 0;
    *count = 0;
    for (uint64_t i = first; i < first + n; i++) {
        int64_t o = ch_store_input_spent_output(s, i);
        if (o < 0) continue;
        ch_addr_id id = ch_out_addr(ch_store_output(s, (uint64_t)o));
        if (!id) continue;
        bool dup = false;
        for (size_t k = 0; k < ns && !dup; k++)
            dup = seen[k] == id;
        if (dup) continue;
        /* beyond MAX_SHOWN a repeat may be counted twice: from_count is a
         * bound then, the list exact */
        (*count)++;
        if (ns < MAX_SHOWN) {
            seen[ns++] = id;
            char t[CH_ADDR_STR_MAX];
            addr_text(s, id, t);
            json_array_append_new(a, json_string(t));
        }
    }
    return a;
}

/* Who lists a flagged source: the attribution store's attributions of the
 * address in the source's category (its source, url, date), for the reason. */
typedef struct lister {
    const char *category;
    const ch_attribution *found;
    ch_attribution a;
} lister;

static int on_attr(const ch_attribution *a, void *ctx) {
    lister *l = ctx;
    if (l->found || a->delisted || strcasecmp(a->category, l->category)) return 0;
    l->a = *a;
    l->found = &l->a;
    return 0;
}

/* One reason and one exposure entry per flagged source (as `screen` gives
 * them: its "via exposure" reasons), each reason naming who lists it. */
static int flagged(ch_store *s, ch_intel *intel, const ch_exposure *e, json_t *reasons,
                   json_t *sources, ch_error *err) {
    for (size_t i = 0; i < e->n_sources; i++) {
        const ch_exposure_source *src = &e->sources[i];
        if (src->level == CH_RISK_NONE) continue;
        char amt[48], why[800], canon[128];
        ch_u128_str(src->amount_base, amt);
        lister l = {.category = src->category};
        if (intel && ch_intel_canonical(src->address, "BTC", canon, NULL) == 0 &&
            ch_intel_lookup(intel, canon, on_attr, &l, err) < 0)
            return -1;
        snprintf(why, sizeof why,
                 "%.2f%% of the payment (%s satoshi) came from %s (%s%s%s, risk %s), %u hop%s "
                 "back",
                 src->share * 100, amt, src->address, src->category, src->entity[0] ? ": " : "",
                 src->entity, ch_risk_level_name(src->level), src->hops, src->hops == 1 ? "" : "s");
        char via[96];
        snprintf(via, sizeof via, "indirect exposure (backward haircut, %u hops)", e->max_hops);
        json_t *reason = json_pack("{s:s,s:s,s:s}", "source",
                                   l.found && l.found->source_name[0] ? l.found->source_name : via,
                                   "via", via, "why", why);
        if (l.found && l.found->source_url[0])
            json_object_set_new(reason, "url", json_string(l.found->source_url));
        if (l.found && l.found->source_date[0])
            json_object_set_new(reason, "date", json_string(l.found->source_date));
        json_array_append_new(reasons, reason);
        json_t *p = json_array();
        for (size_t k = 0; k < src->path_len; k++) {
            ch_hash256 h;
            char hex[65];
            ch_store_txid(s, src->path[k], &h);
            ch_hash256_to_hex(&h, hex);
            json_array_append_new(p, json_string(hex));
        }
        json_array_append_new(
            sources,
            json_pack("{s:s,s:s,s:s,s:s,s:f,s:s,s:i,s:o}", "address", src->address, "category",
                      src->category, "entity", src->entity, "level", ch_risk_level_name(src->level),
                      "share", src->share, "amount_units", amt, "hops", (int)src->hops, "path", p));
    }
    return 0;
}

/* Output o (vout of tx, at position pos of block height) pays a customer
 * address of rule r: screen the payment and alert at or above min_share. */
static int screen_payment(const watch_block *w, const ch_watch_rule *r, uint64_t tx, uint32_t vout,
                          uint64_t o) {
    ch_store *s = w->s;
    ch_intel *intel = w->intel;
    ch_error *err = w->err;
    uint32_t height = w->height;
    const ch_block_rec *b = ch_store_block(s, height);
    ch_hash256 txid, bh;
    ch_store_txid(s, tx, &txid);
    memcpy(bh.b, b->hash, 32);
    char txh[65], bhex[65], source[80], customer[CH_ADDR_STR_MAX];
    ch_hash256_to_hex(&txid, txh);
    ch_hash256_to_hex(&bh, bhex);
    snprintf(source, sizeof source, "%s:%" PRIu32, txh, vout);
    const ch_out_rec *out = ch_store_output(s, o);
    addr_text(s, ch_out_addr(out), customer);
    ch_exposure_opts eo;
    ch_exposure_opts_init(&eo); /* the screening's: `screen --db DIR --hops N` */
    eo.max_hops = r->max_hops;
    ch_exposure *e = calloc(1, sizeof *e);
    if (!e) return ch_err(err, "out of memory");
    int rc = ch_exposure_of_source(s, intel, source, &eo, e, err);
    if (rc <= 0) { /* not in the committed store: never "no exposure" */
        free(e);
        if (rc == 0) ch_err_prefix(err, "the payment %s is not committed", source);
        return ch_err_prefix(err, "rule %s: the exposure of the payment to %s", r->name, customer);
    }
    double share = e->flagged_share;
    if (share < r->min_share) {
        free(e);
        return 0;
    }
    json_t *reasons = json_array(), *sources = json_array();
    char why[600];
    snprintf(why, sizeof why,
             "a payment to the customer address %s whose coins are %.2f%% from flagged sources "
             "within %u hops (at or above the rule's %.2f%%)",
             customer, share * 100, r->max_hops, r->min_share * 100);
    watch_rule_reason(reasons, w->rules, r, why);
    if (flagged(s, intel, e, reasons, sources, err) != 0) {
        json_decref(reasons), json_decref(sources), free(e);
        return -1;
    }
    char id[33], amount[32], flagged_amt[48];
    watch_alert_id(r->name, "btc", b->hash, txid.b, KIND_BTC_OUTPUT, vout, id);
    snprintf(amount, sizeof amount, "%llu", (unsigned long long)CH_OUT_VALUE(out));
    snprintf(flagged_amt, sizeof flagged_amt, "%.0f", e->flagged_amount);
    size_t n_from;
    json_t *from = senders(s, tx, &n_from);
    json_t *addrs = json_array();
    json_array_append_new(addrs, json_string(customer));
    json_array_extend(addrs, from);
    json_t *a = json_object();
    json_object_set_new(a, "id", json_string(id));
    json_object_set_new(a, "rule", json_string(r->name));
    json_object_set_new(a, "kind", json_string("deposit_exposure"));
    json_object_set_new(a, "severity", json_string(r->severity));
    json_object_set_new(a, "chain", json_string("btc"));
    json_object_set_new(a, "height", json_integer((json_int_t)height));
    json_object_set_new(a, "block_hash", json_string(bhex));
    json_object_set_new(a, "time", json_integer((json_int_t)b->time));
    json_object_set_new(a, "tx", json_string(txh));
    json_object_set_new(a, "transfer",
                        json_pack("{s:s,s:I}", "kind", "output", "position", (json_int_t)vout));
    json_object_set_new(a, "from", from);
    if (n_from > MAX_SHOWN) json_object_set_new(a, "from_count", json_integer((json_int_t)n_from));
    json_object_set_new(a, "to", json_string(customer));
    json_object_set_new(a, "customer_address", json_string(customer));
    json_object_set_new(a, "addresses", addrs);
    json_object_set_new(a, "asset", json_string("BTC"));
    json_object_set_new(a, "amount", json_string(amount));
    json_object_set_new(a, "exposure",
                        json_pack("{s:f,s:s,s:f,s:s,s:I,s:i,s:o}", "share", share, "level",
                                  ch_risk_level_name(e->level), "score", e->score, "flagged_amount",
                                  flagged_amt, "received", (json_int_t)e->received, "max_hops",
                                  (int)e->max_hops, "sources", sources));
    json_object_set_new(a, "reasons", reasons);
    char action[700];
    snprintf(action, sizeof action,
             "Hold this deposit of %s satoshi to %s before crediting it: %.1f%% of its coins come "
             "from flagged sources within %u hops (tx %s); review the customer and the senders, "
             "freeze and report if the review confirms.",
             amount, customer, share * 100, r->max_hops, txh);
    json_object_set_new(a, "action", json_string(action));
    json_object_set_new(a, "retracted", json_false());
    free(e);
    return w->fn(a, w->ctx);
}

/* A block's payments screened for one rule (each_payment's visit). */
typedef struct screening {
    const watch_block *w;
    const ch_watch_rule *r;
    bool committed;
} screening;

static int screen_visit(uint64_t tx, uint32_t vout, uint64_t o, void *ctx) {
    screening *v = ctx;
    if (!v->committed) /* the follower commits such a block first */
        return ch_err(v->w->err,
                      "rule %s: block %u pays a customer address and is not committed: its "
                      "payment cannot be screened",
                      v->r->name, v->w->height);
    return screen_payment(v->w, v->r, tx, vout, o);
}

int watch_deposit_btc_eval(const watch_block *w) {
    ch_store *s = w->s;
    const ch_watch_rules *rules = w->rules;
    ch_error *err = w->err;
    ch_store_counts c;
    ch_store_get_counts(s, &c);
    for (size_t i = 0; i < rules->n; i++) {
        const ch_watch_rule *r = &rules->v[i];
        if (r->kind != CH_WATCH_DEPOSIT || !r->n_btc_addrs) continue;
        ch_addr_id *ids;
        size_t n;
        if (customer_ids(s, r, &ids, &n, err) != 0) return -1;
        screening v = {w, r, w->height < c.blocks};
        int rc = each_payment(s, w->height, ids, n, screen_visit, &v);
        free(ids);
        if (rc != 0) return -1;
    }
    return 0;
}
