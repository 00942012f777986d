/* The incident rule: a theft's taint carried forward block by block with
 * the arithmetic of `trace` (the account walk of src/trace, extended one
 * block at a time by ch_atrace_extend: the state after block N equals a
 * full trace over the same blocks), and an alert for each move of tainted
 * value in the block being evaluated:
 *   landing  tainted value reached an address labelled with a stop
 *            category (exchange, bridge, mixer, ...): the freeze request's
 *            facts (service, deposit address, amount, share, hops, path, tx),
 *            severity critical whatever the rule says;
 *   moved    tainted value went on to another address (the rule's severity);
 *   burned   tainted value went to no one (a bridge's burn, say).
 * The trace is built when first needed (at start, after a reorg, or when a
 * source tx the rule names reaches the store) over the blocks up to the one
 * evaluated; moves of earlier blocks were alerted by an earlier run, or are
 * before the watcher's start, and are not alerted again. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/hash.h"
#include "coinhound/trace_account.h"
#include "watch/watch_internal.h"

#define MAX_PATH 256

struct watch_incident {
    const ch_watch_rule *r;
    const ch_watch_rules *rules;
    struct ch_intel *intel;
    ch_labels *labels;
    ch_atrace *t;
    size_t pending; /* sources not in the store when the trace was built */
    bool warned;
    /* the block being evaluated, for the hook */
    ch_store *s;
    const char *chain;
    uint32_t height;
    uint64_t first_new; /* moves of transfers before this are not alerted */
    watch_emit_fn fn;
    void *fnctx;
    int failed;
};

/* How many of r's sources are an EVM chain's (0x...): the others are for
 * watch btc. */
static size_t evm_sources(const ch_watch_rule *r) {
    size_t n = 0;
    for (size_t i = 0; i < r->n_sources; i++)
        n += ch_watch_source_is_evm(r->sources[i]);
    return n;
}

/* The array ends with an entry whose r is NULL. */
int watch_incidents_new(const ch_watch_rules *rules, struct ch_intel *intel, watch_incident **out,
                        ch_error *err) {
    *out = NULL;
    size_t n = 0;
    for (size_t i = 0; i < rules->n; i++)
        n += rules->v[i].kind == CH_WATCH_INCIDENT && evm_sources(&rules->v[i]);
    for (size_t i = 0; i < rules->n; i++)
        if (rules->v[i].kind == CH_WATCH_INCIDENT && !evm_sources(&rules->v[i]))
            watch_log("warn",
                      "%s line %u: incident %s names only Bitcoin sources: it follows "
                      "nothing here",
                      rules->source, rules->v[i].line, rules->v[i].name);
    if (!n) return 0;
    watch_incident *v = calloc(n + 1, sizeof *v);
    if (!v) return ch_err(err, "out of memory");
    for (size_t i = 0, k = 0; i < rules->n; i++)
        if (rules->v[i].kind == CH_WATCH_INCIDENT && evm_sources(&rules->v[i]))
            v[k++] = (watch_incident){.r = &rules->v[i], .rules = rules, .intel = intel};
    *out = v;
    return 0;
}

static void drop(watch_incident *in) {
    ch_atrace_free(in->t);
    in->t = NULL;
    ch_labels_free(in->labels);
    in->labels = NULL;
}

void watch_incidents_reset(watch_incident *v) {
    for (; v && v->r; v++)
        drop(v);
}

void watch_incidents_free(watch_incident *v) {
    watch_incidents_reset(v);
    free(v);
}

static void addr_hex(ch_store *s, ch_addr_id id, char out[43]) {
    ch_addr a;
    out[0] = 0;
    if (!id) return;
    ch_store_addr_of(s, id, &a);
    if (a.kind == CH_ADDR_EVM && a.len == 20) {
        ch_evm_addr e;
        memcpy(e.b, a.bytes, 20);
        ch_evm_addr_to_hex(&e, out);
    }
}

static json_t *addr_json(ch_store *s, ch_addr_id id) {
    char h[43];
    addr_hex(s, id, h);
    return h[0] ? json_string(h) : json_null();
}

static void tx_hex(ch_store *s, uint64_t tx, char out[80]) {
    if (tx == CH_NO_TX) {
        snprintf(out, 80, "none");
        return;
    }
    ch_hash256 h;
    ch_store_txid(s, tx, &h);
    out[0] = '0', out[1] = 'x';
    ch_hex_encode(h.b, 32, out + 2);
}

/* The first transfer of block h (the first of a later block when h has no
 * tx, the store's count past the end). */
static uint64_t first_xfer_of(ch_store *s, uint32_t h) {
    uint32_t next = ch_store_next_height(s);
    for (; h < next; h++) {
        const ch_block_rec *b = ch_store_block(s, h);
        if (b->n_tx) return ch_store_tx(s, b->first_tx)->first_out;
    }
    return ch_store_xfer_count(s);
}

/* The texts of one move an alert quotes in several places. */
typedef struct move_text {
    char txh[80], from[43], to[43], asset[43], amount[48], value[48];
    double share;    /* of the transfer's value that is tainted */
    uint64_t number; /* the block's number */
} move_text;

/* The shortest path back to the theft, source first, into o: "path" (txs),
 * "path_addresses", "swap_hops" (and "path_cut" past MAX_PATH steps). */
static void add_path(json_t *o, ch_store *s, ch_atrace *t, const ch_atrace_move *m) {
    ch_atrace_step steps[MAX_PATH];
    size_t n = ch_atrace_move_path(t, m, steps, MAX_PATH);
    json_t *path = json_array(), *via = json_array(), *swaps = json_array();
    for (size_t i = 0; i < n && i < MAX_PATH; i++) {
        char h[80];
        const ch_xfer_rec *px = ch_store_xfer(s, steps[i].xfer);
        tx_hex(s, px->tx, h);
        json_array_append_new(path, json_string(h));
        if (i == 0) json_array_append_new(via, addr_json(s, px->from));
        json_array_append_new(via, addr_json(s, px->to));
        if (steps[i].swap) json_array_append_new(swaps, json_integer((json_int_t)i));
    }
    if (n > MAX_PATH) json_object_set_new(o, "path_cut", json_integer((json_int_t)n));
    json_object_set_new(o, "path", path);
    json_object_set_new(o, "path_addresses", via);
    json_object_set_new(o, "swap_hops", swaps);
}

/* Why the alert fires and what to do, into o: a landing's "service" and
 * "deposit_address", then "reasons" (the rule; for a landing, its label too)
 * and "action" (freeze, follow the burn's mint, or label where it went). */
static void add_reasons(json_t *o, const watch_incident *in, const ch_atrace_move *m,
                        const move_text *mt) {
    const ch_watch_rule *r = in->r;
    char src[400], why[700], action[900];
    snprintf(src, sizeof src, "rule %s (%s line %u)", r->name, in->rules->source, r->line);
    snprintf(why, sizeof why,
             "%s base units of %s tainted by incident %s (%.2f%% of this %s-unit transfer, %s "
             "policy) went %s %s, %u hop%s from the theft",
             mt->amount, mt->asset, r->name, mt->share * 100, mt->value,
             ch_trace_policy_name(r->policy),
             m->landing  ? "to the service address"
             : m->burned ? "to no one (burned) from"
                         : "to",
             m->burned ? (mt->from[0] ? mt->from : "?") : (mt->to[0] ? mt->to : "?"), m->hops,
             m->hops == 1 ? "" : "s");
    json_t *reasons = json_array();
    json_array_append_new(reasons, json_pack("{s:s,s:s}", "source", src, "why", why));
    if (m->landing) {
        const char *ent = m->label.entity && m->label.entity[0] ? m->label.entity : "";
        json_object_set_new(o, "service",
                            json_pack("{s:s,s:s}", "category", m->label.category, "entity", ent));
        json_object_set_new(o, "deposit_address", json_string(mt->to));
        char lw[300];
        snprintf(lw, sizeof lw,
                 "%s is labelled %s%s%s, a stop of the trace: funds there can be "
                 "frozen",
                 mt->to, m->label.category, ent[0] ? ": " : "", ent);
        json_array_append_new(reasons, json_pack("{s:s,s:s}", "source",
                                                 "labels (DIR/intel and "
                                                 "the trace's stop list)",
                                                 "why", lw));
        snprintf(action, sizeof action,
                 "Ask %s (%s) now to freeze deposit address %s: it received %s base units of "
                 "%s from incident %s in tx %s (block %" PRIu64 "), %u hop%s from the theft; "
                 "the path is in 'path'.",
                 ent[0] ? ent : "the service", m->label.category, mt->to, mt->amount, mt->asset,
                 r->name, mt->txh, mt->number, m->hops, m->hops == 1 ? "" : "s");
    } else if (m->burned) {
        snprintf(action, sizeof action,
                 "Tainted funds left this chain by a burn in tx %s: look for the mint on the "
                 "bridge's other side and alert that chain's services.",
                 mt->txh);
    } else {
        snprintf(action, sizeof action,
                 "The funds moved on to %s: label it if it is a service (a landing alert will "
                 "follow); the taint there is carried on.",
                 mt->to);
    }
    json_object_set_new(o, "reasons", reasons);
    json_object_set_new(o, "action", json_string(action));
}

/* The alert of one move: what moved (asset, amount of taint, the share of
 * the transfer), where (from, to, the service), why (the rule, the path back
 * to the theft, the label) and what to do. */
static json_t *move_alert(watch_incident *in, ch_atrace *t, const ch_atrace_move *m) {
    ch_store *s = in->s;
    const ch_watch_rule *r = in->r;
    const ch_xfer_rec *x = ch_store_xfer(s, m->xfer);
    const ch_block_rec *b = ch_store_block(s, in->height);
    move_text mt;
    mt.number = ch_store_first_number(s) + in->height;
    ch_hash256 txid = {{0}};
    if (x->tx != CH_NO_TX) ch_store_txid(s, x->tx, &txid);
    char id[33], bh[67] = "0x";
    watch_alert_id(r->name, in->chain, b->hash, txid.b, x->kind, x->position, id);
    ch_hex_encode(b->hash, 32, bh + 2);
    tx_hex(s, x->tx, mt.txh);
    addr_hex(s, m->from, mt.from);
    addr_hex(s, m->to, mt.to);
    if (m->asset)
        addr_hex(s, m->asset, mt.asset);
    else
        snprintf(mt.asset, sizeof mt.asset, "%s", ch_chain_native_symbol(in->chain, true));
    ch_u128_str(m->amount, mt.amount);
    ch_u128_str(m->value, mt.value);
    mt.share = m->value ? (double)m->amount / (double)m->value : 0;
    const char *event = m->landing ? "landing" : m->burned ? "burned" : "moved";
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(id));
    json_object_set_new(o, "rule", json_string(r->name));
    json_object_set_new(o, "kind", json_string("incident"));
    json_object_set_new(o, "event", json_string(event));
    json_object_set_new(o, "severity", json_string(m->landing ? "critical" : r->severity));
    json_object_set_new(o, "chain", json_string(in->chain));
    json_object_set_new(o, "height", json_integer((json_int_t)mt.number));
    json_object_set_new(o, "block_hash", json_string(bh));
    json_object_set_new(o, "time", json_integer((json_int_t)b->time));
    json_object_set_new(o, "tx", json_string(mt.txh));
    json_object_set_new(o, "transfer",
                        json_pack("{s:s,s:I}", "kind", watch_xfer_kind_name(x->kind), "position",
                                  (json_int_t)x->position));
    json_object_set_new(o, "from", addr_json(s, m->from));
    json_object_set_new(o, "to", addr_json(s, m->to));
    json_t *addrs = json_array();
    if (mt.from[0]) json_array_append_new(addrs, json_string(mt.from));
    if (mt.to[0]) json_array_append_new(addrs, json_string(mt.to));
    json_object_set_new(o, "addresses", addrs);
    json_object_set_new(o, "asset", json_string(mt.asset));
    json_object_set_new(o, "amount", json_string(mt.amount));
    if (!m->asset) { /* the chain's coin: 18 decimals on every EVM chain */
        char disp[48];
        json_object_set_new(o, "amount_display",
                            json_string(ch_u128_decimals_str(m->amount, 18, disp)));
    }
    json_object_set_new(o, "value", json_string(mt.value));
    json_object_set_new(o, "share", json_real((double)(long long)(mt.share * 1e6 + 0.5) / 1e6));
    json_object_set_new(o, "hops", json_integer((json_int_t)m->hops));
    json_object_set_new(o, "policy", json_string(ch_trace_policy_name(r->policy)));
    add_path(o, s, t, m);
    add_reasons(o, in, m, &mt);
    json_object_set_new(o, "retracted", json_false());
    return o;
}

static int on_move(ch_atrace *t, const ch_atrace_move *m, void *ctx) {
    watch_incident *in = ctx;
    if (m->xfer < in->first_new) return 0; /* before the evaluated block */
    if (m->source && m->hops == 0 && !m->landing) {
        /* the theft itself (a source tx's transfer, or value the thief's
         * address receives): only its landing at a service is news */
        return 0;
    }
    json_t *a = move_alert(in, t, m);
    if (!a || in->fn(a, in->fnctx) != 0) {
        in->failed = 1;
        return -1;
    }
    return 0;
}

/* Build the trace of in over the store up to block number `last`. */
static int build(watch_incident *in, ch_store *s, uint64_t last, ch_error *err) {
    if (ch_labels_new(s, in->intel, in->r->has_stop_at ? in->r->stop_at : CH_TRACE_DEFAULT_STOP,
                      &in->labels, err) != 0)
        return ch_err_prefix(err, "incident %s: labels", in->r->name);
    ch_atrace_opts o;
    ch_atrace_opts_init(&o);
    o.policy = in->r->policy;
    o.labels = in->labels;
    o.stop_at = in->r->has_stop_at ? in->r->stop_at : NULL;
    o.max_hops = in->r->max_hops;
    o.min_amount = ((ch_taint_sum)in->r->min.w[1] << 64) | in->r->min.w[0];
    o.first_block = in->r->start_block;
    o.last_block = last;
    o.on_move = on_move;
    o.move_ctx = in;
    if (ch_atrace_new(s, &o, &in->t, err) != 0)
        return ch_err_prefix(err, "incident %s", in->r->name);
    in->pending = 0;
    for (size_t i = 0; i < in->r->n_sources; i++) {
        if (!ch_watch_source_is_evm(in->r->sources[i])) continue;
        ch_error e2 = {{0}};
        int rc = ch_atrace_add_from_string(in->t, in->r->sources[i], &e2);
        if (rc < 0) return ch_err(err, "incident %s: %s", in->r->name, e2.msg);
        if (rc == 0) {
            in->pending++;
            if (!in->warned)
                watch_log("warn",
                          "incident %s: %s is not in the store yet: it becomes a source "
                          "when it arrives",
                          in->r->name, in->r->sources[i]);
        }
    }
    in->warned = true;
    if (ch_atrace_run(in->t, err) != 0) return ch_err_prefix(err, "incident %s", in->r->name);
    return 0;
}

/* How many of the rule's sources the store holds. */
static size_t sources_present(watch_incident *in, ch_store *s) {
    size_t n = 0;
    for (size_t i = 0; i < in->r->n_sources; i++) {
        const char *src = in->r->sources[i];
        ch_error e = {{0}};
        int rc;
        if (!ch_watch_source_is_evm(src)) continue;
        if (strlen(src) == 66) {
            ch_hash256 h;
            uint64_t tx;
            ch_hex_decode(src + 2, 64, h.b, 32);
            rc = ch_store_find_tx(s, &h, &tx, &e);
        } else {
            ch_addr a = {.kind = CH_ADDR_EVM, .len = 20};
            ch_addr_id id;
            uint64_t last;
            ch_hex_decode(src + 2, 40, a.bytes, 20);
            rc = ch_store_find_addr(s, &a, &id, &last, &e);
        }
        n += rc == 1;
    }
    return n;
}

int watch_incidents_eval(watch_incident *v, ch_store *s, const char *chain, uint32_t height,
                         watch_emit_fn fn, void *ctx, ch_error *err) {
    uint64_t number = ch_store_first_number(s) + height;
    for (; v && v->r; v++) {
        v->s = s;
        v->chain = chain;
        v->height = height;
        v->fn = fn;
        v->fnctx = ctx;
        v->failed = 0;
        v->first_new = first_xfer_of(s, height);
        /* a source that was missing has arrived: trace again with it */
        if (v->t && v->pending && sources_present(v, s) > evm_sources(v->r) - v->pending) {
            watch_log("info",
                      "incident %s: a source arrived in block %" PRIu64 ": tracing again with it",
                      v->r->name, number);
            drop(v);
        }
        /* a window that ends at block 0 reads as an open one (trace_account.h):
         * built there, the trace would sweep blocks the store holds past the
         * evaluated one and alert their moves under this block's height and
         * hash. Block 0 (genesis) moves nothing a theft names: the trace
         * starts at block 1. */
        if (!v->t && number == 0) continue;
        int rc = v->t ? ch_atrace_extend(v->t, number, err) : build(v, s, number, err);
        if (rc != 0) {
            if (!v->failed) drop(v); /* built again on the next block */
            return ch_err_prefix(err, "incident %s", v->r->name);
        }
    }
    return 0;
}
