/* The incident rule on Bitcoin: a theft's taint carried forward block by
 * block with the arithmetic of `trace` (the UTXO walk of src/trace, made
 * extendable and carried on by ch_trace_extend after each batch of blocks
 * the follower adds: the taint after block N equals a full trace over the
 * same store, tests/test_trace_extend.c), and an alert for each output of
 * the evaluated block that received tainted coins:
 *   landing  the output pays an address labelled with a stop category
 *            (exchange, bridge, mixer, ...): the freeze request's facts
 *            (service, deposit address, amount, share, hops, path, tx),
 *            severity critical whatever the rule says;
 *   moved    it pays another address (the rule's severity).
 * The trace covers every block the store holds, those the writer added
 * and has not committed yet included (opts.pending: the follower's group
 * commit comes after the alerts), which may be ahead of the block
 * evaluated (--confirmations, or blocks stored while no watcher
 * ran): the tainted outputs of later blocks wait in a queue for their
 * block's turn. It is built when first needed (at start, after a reorg,
 * or when a source the rule names reaches the store); outputs of blocks
 * before the one evaluated then are not alerted (an earlier run did, or
 * they are before the watcher's start). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/address.h"
#include "coinhound/hash.h"
#include "coinhound/progress.h"
#include "util/vec.h"
#include "watch/watch_internal.h"

#define KIND_BTC_OUTPUT 0x41 /* the id's transfer kind: one output */
#define MAX_PATH        256

typedef struct queued {
    ch_trace_flow f;
    uint32_t height; /* of the tx that made the output */
} queued;

struct watch_btc_incident {
    const ch_watch_rule *r;
    const ch_watch_rules *rules;
    ch_intel *intel;
    ch_labels *labels;
    ch_trace *t;
    size_t pending; /* sources not in the store when the trace was built */
    bool warned;
    ch_store *s;
    queued *q; /* tainted outputs of blocks not evaluated yet */
    size_t n_q, cap_q;
    uint32_t from; /* queue what the trace reports from this height on */
    bool oom;
};

static bool btc_sources(const ch_watch_rule *r) {
    for (size_t i = 0; i < r->n_sources; i++)
        if (!ch_watch_source_is_evm(r->sources[i])) return true;
    return false;
}

int watch_btc_incidents_new(const ch_watch_rules *rules, ch_intel *intel, watch_btc_incident **out,
                            ch_error *err) {
    *out = NULL;
    size_t n = 0;
    for (size_t i = 0; i < rules->n; i++) {
        const ch_watch_rule *r = &rules->v[i];
        if (r->kind != CH_WATCH_INCIDENT) continue;
        if (btc_sources(r)) {
            n++;
        } else {
            watch_log("warn",
                      "%s line %u: incident %s names no Bitcoin source: it follows "
                      "nothing here",
                      rules->source, r->line, r->name);
        }
        if (r->min.w[1] || r->min.w[2] || r->min.w[3])
            return ch_err(err, "%s: line %u: incident %s: min is over 2^64 satoshi", rules->source,
                          r->line, r->name);
    }
    if (!n) return 0;
    watch_btc_incident *v = calloc(n + 1, sizeof *v);
    if (!v) return ch_err(err, "out of memory");
    for (size_t i = 0, k = 0; i < rules->n; i++)
        if (rules->v[i].kind == CH_WATCH_INCIDENT && btc_sources(&rules->v[i]))
            v[k++] = (watch_btc_incident){.r = &rules->v[i], .rules = rules, .intel = intel};
    *out = v;
    return 0;
}

void watch_btc_incidents_set_intel(watch_btc_incident *v, ch_intel *intel) {
    for (; v && v->r; v++)
        v->intel = intel;
}

static void drop(watch_btc_incident *in) {
    ch_trace_free(in->t);
    in->t = NULL;
    ch_labels_free(in->labels);
    in->labels = NULL;
    in->n_q = 0;
}

void watch_btc_incidents_reset(watch_btc_incident *v) {
    for (; v && v->r; v++)
        drop(v);
}

void watch_btc_incidents_free(watch_btc_incident *v) {
    for (watch_btc_incident *p = v; p && p->r; p++) {
        drop(p);
        free(p->q);
    }
    free(v);
}

/* A tainted output the trace made: queued for its block's turn. */
static int enqueue(const ch_trace_flow *f, void *ctx) {
    watch_btc_incident *in = ctx;
    uint32_t h = ch_store_tx_height(in->s, (uint64_t)f->from_tx);
    if (h < in->from) return 0;
    queued *q = ch_grow(in->q, &in->cap_q, in->n_q + 1, sizeof *q);
    if (!q) {
        in->oom = true;
        return -1;
    }
    in->q = q;
    q[in->n_q++] = (queued){*f, h};
    return 0;
}

/* Build in's trace over the store as it is (extendable, the rule's policy,
 * stops, limits and Bitcoin sources; a source not in the store yet is
 * counted pending and warned about once), run it, and queue the tainted
 * outputs of blocks at or above height (the one being evaluated): earlier
 * ones are not alerted. */
static int build(watch_btc_incident *in, ch_store *s, uint32_t height, ch_error *err) {
    const ch_watch_rule *r = in->r;
    if (ch_labels_new(s, in->intel, r->has_stop_at ? r->stop_at : CH_TRACE_DEFAULT_STOP,
                      &in->labels, err) != 0)
        return ch_err_prefix(err, "incident %s: labels", r->name);
    ch_trace_opts o;
    ch_trace_opts_init(&o);
    o.policy = r->policy;
    o.labels = in->labels;
    o.stop_at = r->has_stop_at ? r->stop_at : NULL;
    o.max_hops = r->max_hops;
    o.min_amount = r->min.w[0];
    o.address_from_height = r->start_block > UINT32_MAX ? UINT32_MAX : (uint32_t)r->start_block;
    o.extendable = true;
    o.pending = true;
    if (ch_trace_new(s, &o, &in->t, err) != 0) return ch_err_prefix(err, "incident %s", r->name);
    in->pending = 0;
    for (size_t i = 0; i < r->n_sources; i++) {
        if (ch_watch_source_is_evm(r->sources[i])) continue;
        ch_error e2 = {{0}};
        int rc = ch_trace_add_from_string(in->t, r->sources[i], &e2);
        if (rc < 0) return ch_err(err, "incident %s: %s", r->name, e2.msg);
        if (rc == 0) {
            in->pending++;
            if (!in->warned)
                watch_log("warn",
                          "incident %s: %s is not in the store yet: it becomes a source "
                          "when it arrives",
                          r->name, r->sources[i]);
        }
    }
    in->warned = true;
    double t0 = ch_now();
    if (ch_trace_run(in->t, err) != 0) return ch_err_prefix(err, "incident %s", r->name);
    ch_trace_totals tot;
    ch_trace_get_totals(in->t, &tot);
    watch_log("info", "incident %s: traced over the store's %u blocks in %.2f s (%" PRIu64 " txs)",
              r->name, ch_store_next_height(s), ch_now() - t0, tot.txs);
    /* the outputs of the evaluated block and later ones wait for their turn */
    in->from = height;
    if (ch_trace_foreach_flow(in->t, enqueue, in) != 0) return ch_err(err, "out of memory");
    return 0;
}

/* How many of the rule's Bitcoin sources the store holds (the writer's
 * pending blocks included, as the trace sees them). */
static size_t sources_present(watch_btc_incident *in, ch_store *s) {
    size_t n = 0;
    for (size_t i = 0; i < in->r->n_sources; i++) {
        const char *src = in->r->sources[i];
        if (ch_watch_source_is_evm(src)) continue;
        ch_error e = {{0}};
        if (ch_watch_source_is_tx(src)) {
            char hex[65];
            ch_hash256 h;
            uint64_t tx;
            snprintf(hex, sizeof hex, "%.64s", src);
            n += ch_hash256_from_hex(hex, &h) == 0 && ch_store_writer_find_tx(s, &h, &tx, &e) == 1;
        } else {
            ch_addr a;
            ch_addr_id id;
            n += ch_addr_from_string(src, &a, NULL, &e) == 0 &&
                 ch_store_writer_find_addr(s, &a, &id, &e) == 1;
        }
    }
    return n;
}

static size_t n_btc_sources(const ch_watch_rule *r) {
    size_t n = 0;
    for (size_t i = 0; i < r->n_sources; i++)
        n += !ch_watch_source_is_evm(r->sources[i]);
    return n;
}

static void addr_text(ch_store *s, ch_addr_id id, char out[CH_ADDR_STR_MAX]) {
    out[0] = 0;
    if (!id) return;
    ch_addr a;
    ch_store_addr_of(s, id, &a);
    if (ch_addr_to_string(&a, ch_store_addr_net(s), out) != 0) out[0] = 0;
}

static void txid_text(ch_store *s, uint64_t tx, char out[65]) {
    ch_hash256 h;
    ch_store_txid(s, tx, &h);
    ch_hash256_to_hex(&h, out);
}

/* The alert of one tainted output: what moved (the taint in satoshi, its
 * share of the output), where (the address, the service), why (the rule,
 * the path back to the theft, the label) and what to do. */
static json_t *output_alert(watch_btc_incident *in, const queued *q) {
    ch_store *s = in->s;
    const ch_watch_rule *r = in->r;
    const ch_trace_flow *f = &q->f;
    const ch_block_rec *b = ch_store_block(s, q->height);
    uint64_t fo, no;
    ch_store_tx_outputs(s, (uint64_t)f->from_tx, &fo, &no);
    uint32_t vout = (uint32_t)(f->out - fo);
    ch_hash256 txid, bh;
    ch_store_txid(s, (uint64_t)f->from_tx, &txid);
    memcpy(bh.b, b->hash, 32);
    char id[33], bhex[65], txh[65], to[CH_ADDR_STR_MAX], amount[48], value[48], disp[48];
    watch_alert_id(r->name, "btc", b->hash, txid.b, KIND_BTC_OUTPUT, vout, id);
    ch_hash256_to_hex(&bh, bhex);
    ch_hash256_to_hex(&txid, txh);
    addr_text(s, f->addr, to);
    uint64_t val = CH_OUT_VALUE(ch_store_output(s, f->out));
    uint64_t sat = ch_taint_sat(f->amount);
    ch_u128_str(sat, amount);
    ch_u128_str(val, value);
    double share = val ? (double)f->amount / ((double)val * (double)CH_TAINT_ONE) : 0;
    ch_label lab = {"", ""};
    bool landing = f->landing && ch_labels_get(in->labels, f->addr, &lab) == 1;
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(id));
    json_object_set_new(o, "rule", json_string(r->name));
    json_object_set_new(o, "kind", json_string("incident"));
    json_object_set_new(o, "event", json_string(landing ? "landing" : "moved"));
    json_object_set_new(o, "severity", json_string(landing ? "critical" : r->severity));
    json_object_set_new(o, "chain", json_string("btc"));
    json_object_set_new(o, "height", json_integer((json_int_t)q->height));
    json_object_set_new(o, "block_hash", json_string(bhex));
    json_object_set_new(o, "time", json_integer((json_int_t)b->time));
    json_object_set_new(o, "tx", json_string(txh));
    json_object_set_new(o, "transfer",
                        json_pack("{s:s,s:I}", "kind", "output", "position", (json_int_t)vout));
    json_object_set_new(o, "to", to[0] ? json_string(to) : json_null());
    json_t *addrs = json_array();
    if (to[0]) json_array_append_new(addrs, json_string(to));
    json_object_set_new(o, "addresses", addrs);
    json_object_set_new(o, "asset", json_string("BTC"));
    json_object_set_new(o, "amount", json_string(amount));
    json_object_set_new(o, "amount_display", json_string(ch_u128_decimals_str(sat, 8, disp)));
    char units[64];
    json_object_set_new(o, "taint_satoshi", json_string(ch_taint_str(f->amount, units)));
    json_object_set_new(o, "value", json_string(value));
    json_object_set_new(o, "share", json_real((double)(long long)(share * 1e6 + 0.5) / 1e6));
    json_object_set_new(o, "hops", json_integer((json_int_t)f->hops));
    json_object_set_new(o, "policy", json_string(ch_trace_policy_name(r->policy)));
    uint64_t path[MAX_PATH];
    size_t n = ch_trace_path(in->t, f->out, path, MAX_PATH);
    json_t *pj = json_array();
    for (size_t i = 0; i < n && i < MAX_PATH; i++) {
        char h[65];
        txid_text(s, path[i], h);
        json_array_append_new(pj, json_string(h));
    }
    if (n > MAX_PATH) json_object_set_new(o, "path_cut", json_integer((json_int_t)n));
    json_object_set_new(o, "path", pj);
    char src[400], why[700], action[900];
    snprintf(src, sizeof src, "rule %s (%s line %u)", r->name, in->rules->source, r->line);
    snprintf(why, sizeof why,
             "%s satoshi tainted by incident %s (%.2f%% of this %s-satoshi output, %s policy) "
             "went %s %s, %u hop%s from the theft",
             amount, r->name, share * 100, value, ch_trace_policy_name(r->policy),
             landing ? "to the service address" : "to", to[0] ? to : "a script with no address",
             f->hops, f->hops == 1 ? "" : "s");
    json_t *reasons = json_array();
    json_array_append_new(reasons, json_pack("{s:s,s:s}", "source", src, "why", why));
    if (landing) {
        const char *ent = lab.entity && lab.entity[0] ? lab.entity : "";
        json_object_set_new(o, "service",
                            json_pack("{s:s,s:s}", "category", lab.category, "entity", ent));
        json_object_set_new(o, "deposit_address", json_string(to));
        char lw[400];
        snprintf(lw, sizeof lw,
                 "%s is labelled %s%s%s, a stop of the trace: funds there can be "
                 "frozen",
                 to, lab.category, ent[0] ? ": " : "", ent);
        json_array_append_new(reasons,
                              json_pack("{s:s,s:s}", "source",
                                        "labels (DIR/intel and the trace's stop list)", "why", lw));
        snprintf(action, sizeof action,
                 "Ask %s (%s) now to freeze deposit address %s: it received %s satoshi from "
                 "incident %s in output %s:%u (block %u), %u hop%s from the theft; the path is "
                 "in 'path'.",
                 ent[0] ? ent : "the service", lab.category, to, amount, r->name, txh, vout,
                 q->height, f->hops, f->hops == 1 ? "" : "s");
    } else {
        snprintf(action, sizeof action,
                 "The funds moved on to %s (output %s:%u): label it if it is a service (a "
                 "landing alert will follow); the taint there is carried on.",
                 to[0] ? to : "a script with no address", txh, vout);
    }
    json_object_set_new(o, "reasons", reasons);
    json_object_set_new(o, "action", json_string(action));
    json_object_set_new(o, "retracted", json_false());
    return o;
}

/* The queued outputs of block height alerted (the theft's own outputs,
 * hop 0, only when they land), those of earlier blocks dropped. */
static int emit(watch_btc_incident *in, uint32_t height, watch_emit_fn fn, void *ctx) {
    size_t keep = 0;
    int rc = 0;
    for (size_t i = 0; i < in->n_q; i++) {
        const queued *q = &in->q[i];
        if (q->height > height) {
            in->q[keep++] = *q;
            continue;
        }
        if (rc || q->height < height || (q->f.hops == 0 && !q->f.landing)) continue;
        json_t *a = output_alert(in, q);
        if (!a || fn(a, ctx) != 0) rc = -1;
    }
    in->n_q = keep;
    return rc;
}

int watch_btc_incidents_ready(watch_btc_incident *v, ch_store *s, uint32_t height, ch_error *err) {
    for (; v && v->r; v++) {
        if (v->t) continue;
        v->s = s;
        v->oom = false;
        if (build(v, s, height, err) != 0) {
            if (v->oom) ch_err(err, "out of memory");
            drop(v);
            return ch_err_prefix(err, "incident %s", v->r->name);
        }
    }
    return 0;
}

int watch_btc_incidents_eval(watch_btc_incident *v, ch_store *s, uint32_t height, watch_emit_fn fn,
                             void *ctx, ch_error *err) {
    for (; v && v->r; v++) {
        v->s = s;
        v->oom = false;
        if (v->t && v->pending && sources_present(v, s) > n_btc_sources(v->r) - v->pending) {
            watch_log("info", "incident %s: a source arrived by block %u: tracing again with it",
                      v->r->name, height);
            drop(v);
        }
        v->from = 0;
        int rc = v->t ? ch_trace_extend(v->t, enqueue, v, err) : build(v, s, height, err);
        if (rc != 0) {
            if (v->oom) ch_err(err, "out of memory");
            drop(v); /* built again on the next block */
            return ch_err_prefix(err, "incident %s", v->r->name);
        }
        if (emit(v, height, fn, ctx) != 0)
            return ch_err(err, "incident %s: the alert log failed", v->r->name);
    }
    return 0;
}
