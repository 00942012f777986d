/* The one trace front door (trace.h, "One front door"): ch_trace_exec runs
 * the UTXO engine or the account walk, picked by the store's kind, and
 * presents what they found in one result shape (places per address and
 * asset in whole base units, sums per asset, paths and steps as hops and
 * steps). The engines' inner loops are untouched: this file only sets
 * them up and reads their answers. A UTXO trace's holdings (a million on a
 * wide trace) are a view over the engine's own array, each place made when
 * read (ch_trace_result_holding); the array of places is built only when a
 * caller asks for it whole. */
#include <stdlib.h>
#include <string.h>

#include "coinhound/address.h"
#include "coinhound/hash.h"
#include "coinhound/tokens.h"
#include "trace/account_internal.h"

struct ch_trace_result {
    ch_store *s;
    ch_trace_spec spec; /* source and chain point at the copies below */
    char *source, *chain;
    bool account;
    ch_trace *u;  /* UTXO engine */
    ch_atrace *a; /* account engine */
    ch_trace_sums *sums;
    size_t n_sums, main;
    ch_trace_place *land, *hold;
    size_t n_land, n_hold;
    /* UTXO: the engine's holdings, sorted (owned by u); hold is built from
     * them only when ch_trace_result_holdings is called */
    const ch_trace_holding *uhold;
    ch_trace_counts counts;
};

void ch_trace_spec_init(ch_trace_spec *o) {
    memset(o, 0, sizeof *o);
    o->policy = CH_POLICY_HAIRCUT;
    o->direction = CH_TRACE_FORWARD;
}

int ch_trace_spec_set_min_amount(ch_trace_spec *o, const char *base_units, ch_error *err) {
    ch_taint_sum v;
    if (ch_u128_parse(base_units, &v) != 0)
        return ch_err(err, "minimum amount '%s': not a whole number of base units below 2^128",
                      base_units ? base_units : "(null)");
    o->min_amount = v;
    return 0;
}

const char *ch_chain_native_symbol(const char *chain, bool account) {
    static const char *const map[][2] = {
        {"btc", "BTC"},     {"bsc", "BNB"},    {"polygon", "POL"}, {"avalanche", "AVAX"},
        {"gnosis", "xDAI"}, {"fantom", "FTM"}, {"celo", "CELO"}};
    for (size_t i = 0; chain && i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(chain, map[i][0])) return map[i][1];
    return account ? "ETH" : "BTC";
}

void ch_trace_result_free(ch_trace_result *r) {
    if (!r) return;
    ch_trace_free(r->u);
    ch_atrace_free(r->a);
    free(r->sums);
    free(r->land);
    free(r->hold);
    free(r->source);
    free(r->chain);
    free(r);
}

/* Block number and time of the block holding tx. */
static void tx_block(const ch_trace_result *r, uint64_t tx, ch_trace_place *p) {
    p->tx = tx;
    if (tx == CH_TRACE_NO_TX) return;
    uint32_t h = ch_store_tx_height(r->s, tx);
    p->block = ch_store_first_number(r->s) + h;
    p->time = ch_store_block(r->s, h)->time;
}

static ch_taint_sum whole(ch_taint_sum units) {
    return units >> CH_TAINT_FRAC_BITS;
}

/* ---- UTXO ---- */

/* The one trace API on a UTXO store: the spec into the dense sweep's options
 * (windows by time, amounts in satoshi), the source resolved, and the
 * sweep's result into the one result shape. */
static int run_utxo(ch_trace_result *r, ch_error *err) {
    const ch_trace_spec *sp = &r->spec;
    if (sp->first_block || sp->last_block)
        return ch_err(err, "a Bitcoin trace's window is by block time (since, until), not by "
                           "block number");
    if (sp->min_amount > UINT64_MAX) return ch_err(err, "--min-amount too large");
    ch_trace_opts o;
    ch_trace_opts_init(&o);
    o.policy = sp->policy;
    o.direction = sp->direction;
    o.labels = sp->labels;
    o.stop_at = sp->stop_at;
    o.max_hops = sp->max_hops;
    o.min_amount = (uint64_t)sp->min_amount;
    o.since = sp->since;
    o.until = sp->until;
    if (ch_trace_new(r->s, &o, &r->u, err) != 0) return -1;
    int found = ch_trace_add_from_string(r->u, sp->source, err);
    if (found <= 0) return found;
    if (ch_trace_run(r->u, err) != 0 || ch_trace_collect(r->u, err) != 0) return -1;
    ch_trace_totals t;
    ch_trace_get_totals(r->u, &t);
    if (!(r->sums = calloc(1, sizeof *r->sums))) return ch_err(err, "out of memory");
    r->n_sums = 1;
    *r->sums = (ch_trace_sums){.source = whole(t.source),
                               .landed = whole(t.landed),
                               .held = whole(t.held),
                               .fees = whole(t.fees),
                               .below_min = whole(t.below_min),
                               .cut_hops = whole(t.cut_hops),
                               .cut_window = whole(t.cut_window),
                               .returned = whole(t.returned),
                               .coinbase = whole(t.coinbase),
                               .clean_in = whole(t.clean_in)};
    r->counts = (ch_trace_counts){.edge_visits = t.edge_visits, .txs = t.txs, .outputs = t.outputs};
    const ch_trace_landing *l;
    const ch_trace_holding *h;
    size_t nl = ch_trace_landings(r->u, &l), nh = ch_trace_holdings(r->u, &h);
    if (nl && !(r->land = calloc(nl, sizeof *r->land))) return ch_err(err, "out of memory");
    for (size_t i = 0; i < nl; i++) {
        ch_trace_place *p = &r->land[i];
        *p = (ch_trace_place){.amount = whole(l[i].amount),
                              .frac = (uint32_t)(l[i].amount & (CH_TAINT_ONE - 1)),
                              .addr = l[i].addr,
                              .label = l[i].label,
                              .count = l[i].outputs,
                              .hops = l[i].hops,
                              .landing = true,
                              .ref = l[i].out};
        tx_block(r, tr_out_tx(r->u, l[i].out), p);
    }
    r->n_land = nl;
    r->uhold = h; /* a view: places are made from it when read */
    r->n_hold = nh;
    return 1;
}

/* A UTXO holding as a place: what run_utxo once copied for every holding,
 * now made for the one asked about. */
static void utxo_hold_place(const ch_trace_holding *h, ch_trace_place *p) {
    *p = (ch_trace_place){.amount = whole(h->amount),
                          .frac = (uint32_t)(h->amount & (CH_TAINT_ONE - 1)),
                          .addr = h->addr,
                          .label = {"", ""},
                          .count = h->outputs,
                          .tx = CH_TRACE_NO_TX};
}

/* ---- account chains ---- */

/* The one trace API on an account store: the spec into the account walk's
 * options (windows by block number, u128 amounts, assets), and its result
 * into the one result shape. */
static int run_account(ch_trace_result *r, ch_error *err) {
    const ch_trace_spec *sp = &r->spec;
    ch_atrace_opts o;
    ch_atrace_opts_init(&o);
    o.policy = sp->policy;
    o.direction = sp->direction;
    o.labels = sp->labels;
    o.stop_at = sp->stop_at;
    o.max_hops = sp->max_hops;
    o.min_amount = sp->min_amount;
    o.first_block = sp->first_block;
    o.last_block = sp->last_block;
    o.since = sp->since;
    o.until = sp->until;
    if (ch_atrace_new(r->s, &o, &r->a, err) != 0) return -1;
    int found = ch_atrace_add_from_string(r->a, sp->source, err);
    if (found <= 0) return found;
    if (ch_atrace_run(r->a, err) != 0) return -1;
    const ch_atrace_asset *as;
    size_t na = ch_atrace_assets(r->a, &as);
    if (na && !(r->sums = calloc(na, sizeof *r->sums))) return ch_err(err, "out of memory");
    for (size_t i = 0; i < na; i++)
        r->sums[i] = (ch_trace_sums){.asset = as[i].asset,
                                     .source = as[i].source,
                                     .landed = as[i].landed,
                                     .held = as[i].held,
                                     .fees = as[i].fees,
                                     .below_min = as[i].below_min,
                                     .cut_hops = as[i].cut_hops,
                                     .clean_in = as[i].clean_in,
                                     .swapped_in = as[i].swapped_in,
                                     .swapped_out = as[i].swapped_out,
                                     .burned = as[i].burned,
                                     .minted = as[i].minted,
                                     .unknown = as[i].unknown};
    r->n_sums = na;
    ch_atrace_stats st;
    ch_atrace_get_stats(r->a, &st);
    r->counts = (ch_trace_counts){.edge_visits = st.edge_visits,
                                  .txs = st.txs,
                                  .transfers = st.xfers,
                                  .pools = st.pools,
                                  .swaps = st.swaps};
    const ch_atrace_landing *l;
    const ch_atrace_holding *h;
    size_t nl = ch_atrace_landings(r->a, &l), nh = ch_atrace_holdings(r->a, &h);
    if ((nl && !(r->land = calloc(nl, sizeof *r->land))) ||
        (nh && !(r->hold = calloc(nh, sizeof *r->hold))))
        return ch_err(err, "out of memory");
    for (size_t i = 0; i < nl; i++) {
        ch_trace_place *p = &r->land[i];
        *p = (ch_trace_place){.amount = l[i].amount,
                              .addr = l[i].addr,
                              .asset = l[i].asset,
                              .label = l[i].label,
                              .count = l[i].xfers,
                              .hops = l[i].hops,
                              .landing = true,
                              .ref = l[i].xfer};
        uint64_t tx = ch_store_xfer(r->s, l[i].xfer)->tx;
        tx_block(r, tx == CH_NO_TX ? CH_TRACE_NO_TX : tx, p);
    }
    r->n_land = nl;
    for (size_t i = 0; i < nh; i++)
        r->hold[i] = (ch_trace_place){.amount = h[i].amount,
                                      .addr = h[i].addr,
                                      .asset = h[i].asset,
                                      .label = {"", ""},
                                      .hops = h[i].hops,
                                      .tx = CH_TRACE_NO_TX,
                                      .ref = AT_NONE};
    r->n_hold = nh;
    return 1;
}

int ch_trace_exec(ch_store *s, const ch_trace_spec *spec, ch_trace_result **out, ch_error *err) {
    *out = NULL;
    if (!spec->source || !*spec->source) return ch_err(err, "no trace source given");
    ch_trace_result *r = calloc(1, sizeof *r);
    if (!r) return ch_err(err, "out of memory");
    r->s = s;
    r->spec = *spec;
    r->account = ch_store_is_account(s);
    r->source = strdup(spec->source);
    r->chain = strdup(spec->chain ? spec->chain : r->account ? "eth" : "btc");
    if (!r->source || !r->chain) {
        ch_trace_result_free(r);
        return ch_err(err, "out of memory");
    }
    r->spec.source = r->source;
    r->spec.chain = r->chain;
    int rc = r->account ? run_account(r, err) : run_utxo(r, err);
    r->spec.stop_at = NULL; /* the engines copied it; the caller's string need not outlive r */
    if (rc != 1) {
        ch_trace_result_free(r);
        return rc;
    }
    for (size_t i = 1; i < r->n_sums; i++)
        if (r->sums[i].source > r->sums[r->main].source) r->main = i;
    *out = r;
    return 1;
}

bool ch_trace_result_is_account(const ch_trace_result *r) {
    return r->account;
}

const ch_trace_spec *ch_trace_result_spec(const ch_trace_result *r) {
    return &r->spec;
}

ch_store *ch_trace_result_store(const ch_trace_result *r) {
    return r->s;
}

size_t ch_trace_result_sums(const ch_trace_result *r, const ch_trace_sums **out) {
    *out = r->sums;
    return r->n_sums;
}

const ch_trace_sums *ch_trace_result_main(const ch_trace_result *r) {
    static const ch_trace_sums none;
    return r->n_sums ? &r->sums[r->main] : &none;
}

size_t ch_trace_result_landings(const ch_trace_result *r, const ch_trace_place **out) {
    *out = r->land;
    return r->n_land;
}

size_t ch_trace_result_holdings(const ch_trace_result *r, const ch_trace_place **out) {
    if (r->uhold && !r->hold && r->n_hold) {
        /* the whole list asked for: built once. r came from ch_trace_exec's
         * calloc, never a const object, so it may be filled in here. */
        ch_trace_result *w = (ch_trace_result *)r;
        if (!(w->hold = malloc(r->n_hold * sizeof *w->hold))) {
            *out = NULL;
            return 0;
        }
        for (size_t i = 0; i < r->n_hold; i++)
            utxo_hold_place(&r->uhold[i], &w->hold[i]);
    }
    *out = r->hold;
    return r->n_hold;
}

size_t ch_trace_result_n_holdings(const ch_trace_result *r) {
    return r->n_hold;
}

void ch_trace_result_holding(const ch_trace_result *r, size_t i, ch_trace_place *out) {
    if (r->uhold)
        utxo_hold_place(&r->uhold[i], out);
    else
        *out = r->hold[i];
}

void ch_trace_result_counts(const ch_trace_result *r, ch_trace_counts *out) {
    *out = r->counts;
}

/* ---- paths and steps ---- */

#define ACCT_PATH_MAX 4096 /* steps of one account path we look at */

size_t ch_trace_result_path(ch_trace_result *r, const ch_trace_place *p, ch_trace_hop *path,
                            size_t max) {
    if (!r->account) {
        if (!p->landing) return 0; /* a holding is summed over outputs: no one path */
        size_t n = ch_trace_path(r->u, p->ref, NULL, 0);
        uint64_t *tx = malloc((n ? n : 1) * sizeof *tx);
        if (!tx) return 0;
        ch_trace_path(r->u, p->ref, tx, n);
        for (size_t i = 0; i < n && i < max; i++)
            path[i] = (ch_trace_hop){.tx = tx[i], .ref = tx[i]};
        free(tx);
        return n;
    }
    const ch_atrace_landing *l;
    const ch_atrace_holding *h;
    size_t nl = ch_atrace_landings(r->a, &l), nh = ch_atrace_holdings(r->a, &h);
    ch_atrace_step *st = malloc(ACCT_PATH_MAX * sizeof *st);
    if (!st) return 0;
    size_t n = 0;
    if (p->landing && p >= r->land && p < r->land + nl)
        n = ch_atrace_landing_path(r->a, &l[p - r->land], st, ACCT_PATH_MAX);
    else if (!p->landing && p >= r->hold && p < r->hold + nh)
        n = ch_atrace_holding_path(r->a, &h[p - r->hold], st, ACCT_PATH_MAX);
    else if (!p->landing) /* a copy (ch_trace_result_holding): found by address and asset */
        for (size_t i = 0; i < nh; i++)
            if (h[i].addr == p->addr && h[i].asset == p->asset) {
                n = ch_atrace_holding_path(r->a, &h[i], st, ACCT_PATH_MAX);
                break;
            }
    for (size_t i = 0; i < n && i < max && i < ACCT_PATH_MAX; i++) {
        uint64_t tx = ch_store_xfer(r->s, st[i].xfer)->tx;
        path[i] = (ch_trace_hop){
            .tx = tx == CH_NO_TX ? CH_TRACE_NO_TX : tx, .ref = st[i].xfer, .swap = st[i].swap};
    }
    free(st);
    return n < ACCT_PATH_MAX ? n : ACCT_PATH_MAX;
}

typedef struct flow_ctx {
    const ch_trace_result *r;
    ch_trace_step_fn fn;
    void *ctx;
} flow_ctx;

static int utxo_step(const ch_trace_flow *f, void *vc) {
    flow_ctx *c = vc;
    ch_trace_step st = {.value = CH_OUT_VALUE(ch_store_output(c->r->s, f->out)),
                        .amount = whole(f->amount),
                        .tx = (uint64_t)f->from_tx,
                        .next_tx = f->to_tx < 0 ? CH_TRACE_NO_TX : (uint64_t)f->to_tx,
                        .ref = f->out,
                        .to = f->addr,
                        .hops = f->hops,
                        .tainted_known = true,
                        .landing = f->landing};
    return c->fn(&st, c->ctx);
}

/* Account chains: the transfers on the shortest paths, each once. */
static int account_steps(ch_trace_result *r, ch_trace_step_fn fn, void *ctx) {
    tr_map seen;
    if (tr_map_init(&seen, 64) != 0) return -1;
    ch_trace_hop *path = malloc(ACCT_PATH_MAX * sizeof *path);
    int rc = path ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < r->n_land + r->n_hold; i++) {
        const ch_trace_place *p = i < r->n_land ? &r->land[i] : &r->hold[i - r->n_land];
        size_t n = ch_trace_result_path(r, p, path, ACCT_PATH_MAX);
        for (size_t k = 0; rc == 0 && k < n; k++) {
            if (tr_map_get(&seen, path[k].ref) != TR_NONE) continue;
            if (tr_map_put(&seen, path[k].ref, 1) != 0) {
                rc = -1;
                break;
            }
            const ch_xfer_rec *x = ch_store_xfer(r->s, path[k].ref);
            ch_trace_step st = {.value = xval(x),
                                .tx = path[k].tx,
                                .next_tx = k + 1 < n ? path[k + 1].tx : CH_TRACE_NO_TX,
                                .ref = path[k].ref,
                                .from = x->from,
                                .to = x->to,
                                .asset = x->asset,
                                .hops = (uint32_t)k + 1,
                                .swap = path[k].swap,
                                .landing = p->landing && k + 1 == n};
            rc = fn(&st, ctx);
        }
    }
    free(path);
    tr_map_free(&seen);
    return rc;
}

int ch_trace_result_foreach_step(ch_trace_result *r, ch_trace_step_fn fn, void *ctx) {
    if (r->account) return account_steps(r, fn, ctx);
    flow_ctx c = {r, fn, ctx};
    return ch_trace_foreach_flow(r->u, utxo_step, &c);
}

/* ---- names ---- */

const char *ch_trace_hop_str(const ch_trace_result *r, const ch_trace_hop *h, char out[80]) {
    if (h->tx == CH_TRACE_NO_TX) {
        snprintf(out, 80, "withdrawal:%llu", (unsigned long long)h->ref);
        return out;
    }
    ch_hash256 id;
    ch_store_txid(r->s, h->tx, &id);
    if (!r->account) {
        ch_hash256_to_hex(&id, out); /* Bitcoin's txid is shown byte-reversed */
        return out;
    }
    out[0] = '0';
    out[1] = 'x';
    ch_hex_encode(id.b, 32, out + 2); /* EVM hashes in their written order */
    return out;
}

const char *ch_trace_asset_name(const ch_trace_result *r, ch_addr_id asset, int *decimals,
                                char out[128]) {
    if (!asset) {
        *decimals = r->account ? 18 : 8;
        return ch_chain_native_symbol(r->chain, r->account);
    }
    ch_addr a;
    ch_store_addr_of(r->s, asset, &a);
    const ch_token_info *ti =
        a.len == 20 && r->spec.tokens ? ch_toktab_find(r->spec.tokens, a.bytes) : NULL;
    if (ti && ti->symbol[0]) {
        *decimals = ti->decimals;
        snprintf(out, 128, "%s", ti->symbol);
        return out;
    }
    *decimals = -1;
    char b[CH_ADDR_STR_MAX];
    snprintf(out, 128, "%s", ch_addr_to_string(&a, CH_NET_MAINNET, b) == 0 ? b : "?");
    return out;
}
