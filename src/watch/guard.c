/* The two rules that guard a platform's own addresses:
 *   deposit_exposure  a payment to one of the customers' deposit addresses
 *                     whose sender's funds came, within max_hops, from
 *                     flagged sources (sanctions, stolen funds, mixers, ...)
 *                     at or above min_share: the screening verdict of the
 *                     sender (exposure.h, risk.h) with its reasons, before
 *                     the deposit is credited;
 *   poisoning         an address-poisoning attempt against a protected
 *                     address: the signals the ingest's detector recorded
 *                     for the block (poison.h: zero-value spoofs, dust,
 *                     fake tokens, lookalikes of real counterparties). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/exposure.h"
#include "coinhound/hash.h"
#include "coinhound/poison.h"
#include "coinhound/risk.h"
#include "watch/watch_internal.h"

static int cmp20(const void *a, const void *b) {
    return memcmp(a, b, 20);
}

static bool addr_evm(ch_store *s, ch_addr_id id, uint8_t out[20], char hex[43]) {
    hex[0] = 0;
    if (!id) return false;
    ch_addr a;
    ch_store_addr_of(s, id, &a);
    if (a.kind != CH_ADDR_EVM || a.len != 20) return false;
    memcpy(out, a.bytes, 20);
    ch_evm_addr e;
    memcpy(e.b, a.bytes, 20);
    ch_evm_addr_to_hex(&e, hex);
    return true;
}

static json_t *hex_or_null(const char *h) {
    return h[0] ? json_string(h) : json_null();
}

/* The fields every alert has, for transfer x of block `height`. */
static json_t *common(ch_store *s, const ch_watch_rule *r, const char *chain, uint32_t height,
                      uint64_t xi, char from[43], char to[43], char asset[43], char amount[80]) {
    const ch_xfer_rec *x = ch_store_xfer(s, xi);
    const ch_block_rec *b = ch_store_block(s, height);
    ch_hash256 txid = {{0}};
    if (x->tx != CH_NO_TX) ch_store_txid(s, x->tx, &txid);
    char id[33], bh[67] = "0x", th[67] = "0x";
    watch_alert_id(r->name, chain, b->hash, txid.b, x->kind, x->position, id);
    ch_hex_encode(b->hash, 32, bh + 2);
    ch_hex_encode(txid.b, 32, th + 2);
    uint8_t raw[20];
    addr_evm(s, x->from, raw, from);
    addr_evm(s, x->to, raw, to);
    if (!x->asset || !addr_evm(s, x->asset, raw, asset))
        snprintf(asset, 43, "%s", ch_chain_native_symbol(chain, true));
    ch_u256 v = {{x->value_lo, x->value_hi, 0, 0}};
    ch_u256_to_dec(&v, amount);
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(id));
    json_object_set_new(o, "rule", json_string(r->name));
    json_object_set_new(o, "kind", json_string(ch_watch_rule_kind_name(r->kind)));
    json_object_set_new(o, "severity", json_string(r->severity));
    json_object_set_new(o, "chain", json_string(chain));
    json_object_set_new(o, "height", json_integer((json_int_t)(ch_store_first_number(s) + height)));
    json_object_set_new(o, "block_hash", json_string(bh));
    json_object_set_new(o, "time", json_integer((json_int_t)b->time));
    json_object_set_new(o, "tx", json_string(th));
    json_object_set_new(o, "transfer",
                        json_pack("{s:s,s:I}", "kind", watch_xfer_kind_name(x->kind), "position",
                                  (json_int_t)x->position));
    json_object_set_new(o, "from", hex_or_null(from));
    json_object_set_new(o, "to", hex_or_null(to));
    return o;
}

static void finish(json_t *o, json_t *addresses, const char *asset, const char *amount,
                   json_t *reasons, const char *action) {
    json_object_set_new(o, "addresses", addresses);
    json_object_set_new(o, "asset", json_string(asset));
    json_object_set_new(o, "amount", json_string(amount));
    json_object_set_new(o, "reasons", reasons);
    json_object_set_new(o, "action", json_string(action));
    json_object_set_new(o, "retracted", json_false());
}

/* ---- deposit_exposure ---- */

typedef struct direct {
    const ch_risk_table *t;
    json_t *reasons;
    const char *hex;
    ch_risk_level level;
} direct;

/* The sender's own attributions in a flagged category: direct exposure. */
static int on_direct(const ch_attribution *a, void *ctx) {
    direct *d = ctx;
    if (a->delisted) return 0;
    ch_risk_level l = ch_risk_category_level(d->t, a->category);
    if (l == CH_RISK_NONE) return 0;
    if (l > d->level) d->level = l;
    char why[512];
    snprintf(why, sizeof why, "the sender %s itself is attributed to %s (%s, risk %s)", d->hex,
             a->entity[0] ? a->entity : "an unnamed holder", a->category, ch_risk_level_name(l));
    json_t *reason =
        json_pack("{s:s,s:s}", "source", a->source_name[0] ? a->source_name : "?", "why", why);
    if (a->source_url[0]) json_object_set_new(reason, "url", json_string(a->source_url));
    if (a->source_date[0]) json_object_set_new(reason, "date", json_string(a->source_date));
    json_array_append_new(d->reasons, reason);
    return 0;
}

/* The first n sources of the sender's exposure e that are flagged at or
 * above the rule's min_share (exposure.h orders them flagged first): each a
 * reason appended to reasons, and an entry of the array returned (address,
 * category, entity, level, share, hops, and the path's txids). */
static json_t *flagged_sources(ch_store *s, const ch_exposure *e, size_t n, const ch_watch_rule *r,
                               json_t *reasons) {
    json_t *sources = json_array();
    for (size_t i = 0; i < n; i++) {
        const ch_exposure_source *src = &e->sources[i];
        if (src->level == CH_RISK_NONE || src->share < r->min_share) continue;
        char amt[48], why[700];
        ch_u128_str(src->amount_base, amt);
        snprintf(why, sizeof why,
                 "%.2f%% of what the sender received (%s base units) came from %s (%s%s%s, risk "
                 "%s), %u hop%s back",
                 src->share * 100, amt, src->address, src->category, src->entity[0] ? ": " : "",
                 src->entity, ch_risk_level_name(src->level), src->hops, src->hops == 1 ? "" : "s");
        json_array_append_new(reasons, json_pack("{s:s,s:s}", "source",
                                                 "exposure (DIR/intel, the trace back from the "
                                                 "sender)",
                                                 "why", why));
        json_t *p = json_array();
        for (size_t k = 0; k < src->path_len && k < CH_EXPOSURE_MAX_PATH; k++) {
            char th[67] = "0x";
            ch_hash256 h;
            if (src->path[k] == CH_TRACE_NO_TX) continue;
            ch_store_txid(s, src->path[k], &h);
            ch_hex_encode(h.b, 32, th + 2);
            json_array_append_new(p, json_string(th));
        }
        json_array_append_new(sources,
                              json_pack("{s:s,s:s,s:s,s:s,s:f,s:i,s:o}", "address", src->address,
                                        "category", src->category, "entity", src->entity, "level",
                                        ch_risk_level_name(src->level), "share", src->share, "hops",
                                        (int)src->hops, "path", p));
    }
    return sources;
}

int watch_deposit_eval(const watch_block *w, const ch_watch_rule *r, uint64_t xi) {
    ch_store *s = w->s;
    ch_intel *intel = w->intel;
    ch_error *err = w->err;
    const ch_xfer_rec *x = ch_store_xfer(s, xi);
    uint8_t to_raw[20], from_raw[20];
    char to_hex[43], from_hex[43];
    if (!addr_evm(s, x->to, to_raw, to_hex) || !bsearch(to_raw, r->addrs, r->n_addrs, 20, cmp20))
        return 0;
    if (!addr_evm(s, x->from, from_raw, from_hex)) return 0; /* a mint: no sender to judge */
    ch_risk_table table;
    ch_risk_table_default(&table);
    json_t *reasons = json_array();
    direct d = {.t = &table, .reasons = reasons, .hex = from_hex};
    char canon[128];
    if (intel && ch_intel_canonical(from_hex, "ETH", canon, NULL) == 0 &&
        ch_intel_lookup(intel, canon, on_direct, &d, err) < 0) {
        json_decref(reasons);
        return -1;
    }
    ch_exposure_opts eo;
    ch_exposure_opts_init(&eo);
    eo.max_hops = r->max_hops;
    eo.min_share = r->min_share;
    eo.table = &table;
    ch_exposure *e = calloc(1, sizeof *e);
    if (!e) {
        json_decref(reasons);
        return ch_err(err, "out of memory");
    }
    ch_addr sender;
    ch_store_addr_of(s, x->from, &sender);
    int rc = ch_exposure_of(s, intel, &sender, &eo, e, err);
    if (rc < 0) {
        free(e);
        json_decref(reasons);
        return ch_err_prefix(err, "rule %s: the sender's exposure", r->name);
    }
    double share = d.level != CH_RISK_NONE ? 1.0 : rc == 1 ? e->flagged_share : 0;
    if (share < r->min_share) {
        free(e);
        json_decref(reasons);
        return 0;
    }
    json_t *sources = flagged_sources(s, e, rc == 1 ? e->n_sources : 0, r, reasons);
    char why[400];
    snprintf(why, sizeof why,
             "a deposit to the customer address %s from %s, whose funds are %.2f%% from flagged "
             "sources within %u hops (at or above the rule's %.2f%%)",
             to_hex, from_hex, share * 100, r->max_hops, r->min_share * 100);
    json_array_insert_new(reasons, 0, json_pack("{s:s,s:s}", "source", "", "why", why));
    char src[400];
    snprintf(src, sizeof src, "rule %s (%s line %u)", r->name, w->rules->source, r->line);
    json_object_set_new(json_array_get(reasons, 0), "source", json_string(src));
    char from_c[43], to_c[43], asset[43], amount[80];
    json_t *o = common(s, r, w->chain, w->height, xi, from_c, to_c, asset, amount);
    json_object_set_new(o, "customer_address", json_string(to_hex));
    json_object_set_new(o, "exposure",
                        json_pack("{s:f,s:s,s:i,s:o}", "share", share, "level",
                                  ch_risk_level_name(d.level > e->level ? d.level : e->level),
                                  "max_hops", (int)r->max_hops, "sources", sources));
    char action[600];
    snprintf(action, sizeof action,
             "Hold this deposit to %s before crediting it: review the sender %s (its funds are "
             "%.1f%% from flagged sources); freeze and report if the review confirms.",
             to_hex, from_hex, share * 100);
    json_t *addresses = json_pack("[s,s]", to_hex, from_hex);
    finish(o, addresses, asset, amount, reasons, action);
    free(e);
    return w->fn(o, w->ctx);
}

/* ---- poisoning ---- */

static const char *signal_why(int kind) {
    switch (kind) {
    case CH_SIG_ZERO_SPOOF:
        return "a zero-value token transfer whose event sender is not the tx's sender (a "
               "transferFrom the attacker triggered)";
    case CH_SIG_DUST:
        return "a transfer too small to be a payment (dust)";
    case CH_SIG_FAKE_TOKEN:
        return "a token whose symbol copies a well-known token's, from a contract that is not it";
    case CH_SIG_LOOKALIKE:
        return "the sender imitates a real counterparty of the victim (same leading and trailing "
               "hex characters)";
    default:
        return "a poisoning signal";
    }
}

int watch_poisoning_eval(ch_store *s, const ch_watch_rules *rs, const ch_watch_rule *r,
                         const char *chain, uint32_t height, uint64_t x_lo, uint64_t x_hi,
                         watch_emit_fn fn, void *ctx, ch_error *err) {
    (void)err;
    uint64_t n = ch_poison_signal_count(s);
    for (uint64_t i = ch_poison_signal_from(s, x_lo);
         i < n && ch_poison_signal(s, i)->xfer < x_hi;) {
        const ch_signal_rec *g = ch_poison_signal(s, i);
        uint64_t j = i;
        while (j < n && ch_poison_signal(s, j)->xfer == g->xfer &&
               ch_poison_signal(s, j)->victim == g->victim)
            j++;
        uint8_t v_raw[20];
        char v_hex[43];
        if (!addr_evm(s, g->victim, v_raw, v_hex) ||
            !bsearch(v_raw, r->addrs, r->n_addrs, 20, cmp20)) {
            i = j;
            continue;
        }
        json_t *reasons = json_array(), *kinds = json_array();
        char look[43] = "", imit[43] = "", why[600];
        unsigned prefix = 0, suffix = 0;
        uint8_t raw[20];
        for (uint64_t k = i; k < j; k++) {
            const ch_signal_rec *sg = ch_poison_signal(s, k);
            json_array_append_new(kinds, json_string(ch_signal_kind_name(sg->kind)));
            if (!look[0] || sg->kind == CH_SIG_LOOKALIKE) addr_evm(s, sg->lookalike, raw, look);
            if (sg->imitated && (!imit[0] || sg->kind == CH_SIG_LOOKALIKE)) {
                addr_evm(s, sg->imitated, raw, imit);
                prefix = sg->prefix, suffix = sg->suffix;
            }
            snprintf(why, sizeof why, "%s: %s", ch_signal_kind_name(sg->kind),
                     signal_why(sg->kind));
            json_array_append_new(
                reasons,
                json_pack("{s:s,s:s}", "source", "poisoning detector (src/safeguard)", "why", why));
        }
        if (imit[0])
            snprintf(why, sizeof why,
                     "a poisoning attempt against the protected address %s: %s imitates %s (the "
                     "first %u and last %u hex characters match)",
                     v_hex, look[0] ? look : "?", imit, prefix, suffix);
        else
            snprintf(why, sizeof why,
                     "a poisoning attempt against the protected address %s from %s", v_hex,
                     look[0] ? look : "?");
        char src[400];
        snprintf(src, sizeof src, "rule %s (%s line %u)", r->name, rs->source, r->line);
        json_array_insert_new(reasons, 0, json_pack("{s:s,s:s}", "source", src, "why", why));
        char from[43], to[43], asset[43], amount[80];
        json_t *o = common(s, r, chain, height, g->xfer, from, to, asset, amount);
        json_object_set_new(o, "victim", json_string(v_hex));
        json_object_set_new(o, "lookalike", hex_or_null(look));
        json_object_set_new(o, "imitated", hex_or_null(imit));
        json_object_set_new(o, "signals", kinds);
        char action[600];
        if (imit[0])
            snprintf(action, sizeof action,
                     "Warn the holder of %s: never copy %s from the history, the real "
                     "counterparty is %s; block %s in the wallet's address book.",
                     v_hex, look, imit, look);
        else
            snprintf(action, sizeof action,
                     "Warn the holder of %s: never copy an address from its history; check every "
                     "destination against the address book%s%s.",
                     v_hex, look[0] ? "; block " : "", look);
        json_t *addresses = json_array();
        json_array_append_new(addresses, json_string(v_hex));
        if (look[0]) json_array_append_new(addresses, json_string(look));
        finish(o, addresses, asset, amount, reasons, action);
        if (fn(o, ctx) != 0) return -1;
        i = j;
    }
    return 0;
}
