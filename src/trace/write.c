/* The one writer of a trace result (ch_trace_write): text, JSON, the
 * landings CSV, the edge-list CSV and DOT, for both kinds of chain. The JSON
 * contract is docs/trace.md: amounts are decimal strings of whole base
 * units (no reader rounds a 128-bit wei amount, none sees a fractional
 * satoshi), beside amount_display with the asset's decimals; the same
 * fields, of the same types, for a Bitcoin and an account-chain trace. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/address.h"
#include "coinhound/jsonw.h"
#include "trace/trace_internal.h"

#define PATH_MAX_HOPS 4096 /* longest path written out */
#define SUMMARY_TOP   10

typedef struct wctx {
    ch_trace_result *r;
    ch_store *s;
    const ch_trace_spec *sp;
    bool account;
    FILE *f;
    ch_trace_hop *path; /* PATH_MAX_HOPS */
} wctx;

/* An address id as text; NULL for 0 (outputs without an address). */
static const char *addr_str(const wctx *c, ch_addr_id id, char buf[CH_ADDR_STR_MAX]) {
    if (!id) return NULL;
    ch_addr a;
    ch_store_addr_of(c->s, id, &a);
    return ch_addr_to_string(&a, ch_store_addr_net(c->s), buf) == 0 ? buf : NULL;
}

static const char *tx_str(const wctx *c, uint64_t tx, char out[80]) {
    ch_trace_hop h = {.tx = tx, .ref = tx};
    return ch_trace_hop_str(c->r, &h, out);
}

/* "1.5 ETH", "0.00012 BTC", or "12345 base units of 0xabc..." when the
 * token's decimals are unknown. */
static const char *amount_txt(const wctx *c, ch_addr_id asset, ch_taint_sum v, char out[200]) {
    char b[48], an[128];
    int dec;
    const char *name = ch_trace_asset_name(c->r, asset, &dec, an);
    if (dec >= 0)
        snprintf(out, 200, "%s %s", ch_u128_decimals_str(v, dec, b), name);
    else
        snprintf(out, 200, "%s base units of %s", ch_u128_str(v, b), name);
    return out;
}

/* ---- JSON ---- */

static void jw_u128(ch_jw *w, const char *key, ch_taint_sum v) {
    char b[48];
    ch_jw_key(w, key);
    ch_jw_str(w, ch_u128_str(v, b));
}

/* asset, decimals, amount, amount_display */
static void jw_amount(ch_jw *w, const wctx *c, ch_addr_id asset, ch_taint_sum v) {
    char b[48], an[128];
    int dec;
    ch_jw_key(w, "asset");
    ch_jw_str(w, ch_trace_asset_name(c->r, asset, &dec, an));
    ch_jw_key(w, "decimals");
    if (dec >= 0)
        ch_jw_int(w, dec);
    else
        ch_jw_null(w);
    jw_u128(w, "amount", v);
    ch_jw_key(w, "amount_display");
    if (dec >= 0)
        ch_jw_str(w, ch_u128_decimals_str(v, dec, b));
    else
        ch_jw_null(w);
}

static void jw_path(ch_jw *w, wctx *c, const ch_trace_place *p) {
    size_t n = ch_trace_result_path(c->r, p, c->path, PATH_MAX_HOPS);
    if (n > PATH_MAX_HOPS) n = PATH_MAX_HOPS;
    char hx[80];
    ch_jw_key(w, "path");
    ch_jw_arr_begin(w);
    for (size_t i = 0; i < n; i++)
        ch_jw_str(w, ch_trace_hop_str(c->r, &c->path[i], hx));
    ch_jw_arr_end(w);
    ch_jw_key(w, "swap_hops"); /* positions in path where the asset changed */
    ch_jw_arr_begin(w);
    for (size_t i = 0; i < n; i++)
        if (c->path[i].swap) ch_jw_uint(w, i);
    ch_jw_arr_end(w);
}

/* One landing or holding as JSON: address, label when it landed, amount as a
 * decimal string, and the tx, block and time it reached. */
static void jw_place(ch_jw *w, wctx *c, const ch_trace_place *p) {
    char ab[CH_ADDR_STR_MAX], hx[80];
    ch_jw_obj_begin(w);
    ch_jw_key(w, "address");
    ch_jw_str(w, addr_str(c, p->addr, ab));
    if (p->landing) {
        ch_jw_key(w, "entity");
        ch_jw_str(w, p->label.entity);
        ch_jw_key(w, "category");
        ch_jw_str(w, p->label.category);
    }
    jw_amount(w, c, p->asset, p->amount);
    ch_jw_key(w, "hops");
    ch_jw_uint(w, p->hops);
    /* the chain's records it arrived in: outputs or transfers (the same number) */
    ch_jw_key(w, "outputs");
    ch_jw_uint(w, p->count);
    ch_jw_key(w, "transfers");
    ch_jw_uint(w, p->count);
    if (p->landing) {
        jw_path(w, c, p);
        ch_jw_key(w, "tx");
        ch_jw_str(w, tx_str(c, p->tx, hx));
        ch_jw_key(w, "block");
        ch_jw_uint(w, p->block);
        ch_jw_key(w, "time");
        ch_jw_uint(w, p->time);
    }
    ch_jw_obj_end(w);
}

static void jw_sums(ch_jw *w, const ch_trace_sums *x) {
    jw_u128(w, "source", x->source);
    jw_u128(w, "landed", x->landed);
    jw_u128(w, "held", x->held);
    jw_u128(w, "fees", x->fees);
    jw_u128(w, "below_min", x->below_min);
    jw_u128(w, "cut_max_hops", x->cut_hops);
    jw_u128(w, "cut_window", x->cut_window);
    jw_u128(w, "returned", x->returned);
    jw_u128(w, "coinbase", x->coinbase);
    jw_u128(w, "clean_in", x->clean_in);
    jw_u128(w, "swapped_in", x->swapped_in);
    jw_u128(w, "swapped_out", x->swapped_out);
    jw_u128(w, "burned", x->burned);
    jw_u128(w, "minted", x->minted);
    jw_u128(w, "unknown", x->unknown);
}

/* The one JSON contract of a trace for both chains (docs/trace.md): spec,
 * sums per asset, landings, holdings and steps. */
static void write_json(wctx *c) {
    ch_jw w;
    char an[128];
    int dec;
    ch_jw_init(&w, c->f);
    ch_jw_obj_begin(&w);
    ch_jw_key(&w, "chain");
    ch_jw_str(&w, c->sp->chain);
    ch_jw_key(&w, "policy");
    ch_jw_str(&w, ch_trace_policy_name(c->sp->policy));
    ch_jw_key(&w, "direction");
    ch_jw_str(&w, ch_trace_direction_name(c->sp->direction));
    ch_jw_key(&w, "source");
    ch_jw_str(&w, c->sp->source);
    const ch_trace_sums *m = ch_trace_result_main(c->r);
    jw_u128(&w, "tainted_total", m->source);
    ch_jw_key(&w, "tainted_asset");
    ch_jw_str(&w, ch_trace_asset_name(c->r, m->asset, &dec, an));
    const ch_trace_place *p;
    size_t n = ch_trace_result_landings(c->r, &p);
    ch_jw_key(&w, "landings");
    ch_jw_arr_begin(&w);
    for (size_t i = 0; i < n; i++)
        jw_place(&w, c, &p[i]);
    ch_jw_arr_end(&w);
    n = ch_trace_result_n_holdings(c->r); /* one at a time: no copy of a million */
    ch_jw_key(&w, "holdings");
    ch_jw_arr_begin(&w);
    for (size_t i = 0; i < n; i++) {
        ch_trace_place h;
        ch_trace_result_holding(c->r, i, &h);
        jw_place(&w, c, &h);
    }
    ch_jw_arr_end(&w);
    /* the totals of the main asset, then every asset's */
    jw_u128(&w, "landed_total", m->landed);
    jw_u128(&w, "held_total", m->held);
    jw_u128(&w, "fees", m->fees);
    jw_u128(&w, "coinbase", m->coinbase);
    jw_u128(&w, "below_min", m->below_min);
    jw_u128(&w, "cut_max_hops", m->cut_hops);
    jw_u128(&w, "cut_window", m->cut_window);
    jw_u128(&w, "returned", m->returned);
    jw_u128(&w, "clean_in", m->clean_in);
    const ch_trace_sums *as;
    n = ch_trace_result_sums(c->r, &as);
    ch_jw_key(&w, "assets");
    ch_jw_arr_begin(&w);
    for (size_t i = 0; i < n; i++) {
        ch_jw_obj_begin(&w);
        ch_jw_key(&w, "asset");
        ch_jw_str(&w, ch_trace_asset_name(c->r, as[i].asset, &dec, an));
        ch_jw_key(&w, "decimals");
        if (dec >= 0)
            ch_jw_int(&w, dec);
        else
            ch_jw_null(&w);
        jw_sums(&w, &as[i]);
        ch_jw_obj_end(&w);
    }
    ch_jw_arr_end(&w);
    ch_trace_counts k;
    ch_trace_result_counts(c->r, &k);
    ch_jw_key(&w, "edge_visits");
    ch_jw_uint(&w, k.edge_visits);
    ch_jw_key(&w, "txs");
    ch_jw_uint(&w, k.txs);
    ch_jw_key(&w, "tainted_outputs");
    ch_jw_uint(&w, k.outputs);
    ch_jw_key(&w, "transfers");
    ch_jw_uint(&w, k.transfers);
    ch_jw_key(&w, "pools");
    ch_jw_uint(&w, k.pools);
    ch_jw_key(&w, "swaps");
    ch_jw_uint(&w, k.swaps);
    ch_jw_obj_end(&w);
    ch_jw_newline(&w);
}

/* ---- CSV ---- */

static void csv_field(FILE *f, const char *s) {
    if (!s) s = "";
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* The landings, in the columns each chain always had (a contract): Bitcoin
 * address,entity,category,amount,hops; account chains put the asset before
 * the amount. Where each landed (tx, block, time) is in the JSON and in the
 * edge list (its rows with landing = 1). */
static void write_csv(wctx *c) {
    const ch_trace_place *p;
    size_t n = ch_trace_result_landings(c->r, &p);
    char ab[CH_ADDR_STR_MAX], an[128], b[48];
    int dec;
    fputs(c->account ? "address,entity,category,asset,amount,hops\n"
                     : "address,entity,category,amount,hops\n",
          c->f);
    for (size_t i = 0; i < n; i++) {
        csv_field(c->f, addr_str(c, p[i].addr, ab));
        fputc(',', c->f);
        csv_field(c->f, p[i].label.entity);
        fputc(',', c->f);
        csv_field(c->f, p[i].label.category);
        fputc(',', c->f);
        if (c->account) {
            csv_field(c->f, ch_trace_asset_name(c->r, p[i].asset, &dec, an));
            fputc(',', c->f);
        }
        fprintf(c->f, "%s,%u\n", ch_u128_str(p[i].amount, b), p[i].hops);
    }
}

static int edge_row(const ch_trace_step *st, void *v) {
    wctx *c = v;
    char ab[CH_ADDR_STR_MAX], an[128], b[48], hx[80];
    int dec;
    ch_trace_hop h = {.tx = st->tx, .ref = st->ref};
    fprintf(c->f, "%s,", ch_trace_hop_str(c->r, &h, hx));
    if (st->tx != CH_TRACE_NO_TX) {
        uint32_t ht = ch_store_tx_height(c->s, st->tx);
        fprintf(c->f, "%" PRIu64 ",%u,", ch_store_first_number(c->s) + ht,
                ch_store_block(c->s, ht)->time);
    } else {
        fputs(",,", c->f);
    }
    csv_field(c->f, addr_str(c, st->from, ab));
    fputc(',', c->f);
    csv_field(c->f, addr_str(c, st->to, ab));
    fputc(',', c->f);
    csv_field(c->f, ch_trace_asset_name(c->r, st->asset, &dec, an));
    fprintf(c->f, ",%s,", ch_u128_str(st->value, b));
    if (st->tainted_known) fputs(ch_u128_str(st->amount, b), c->f);
    fprintf(c->f, ",%u,", st->hops);
    if (st->next_tx != CH_TRACE_NO_TX) fputs(tx_str(c, st->next_tx, hx), c->f);
    fprintf(c->f, ",%d,%d\n", st->landing, st->swap);
    return ferror(c->f) ? -1 : 0;
}

/* The steps of the flow, one row each (see ch_trace_step). */
static void write_edges(wctx *c) {
    fputs("tx,block,time,from,to,asset,value,amount,hops,next_tx,landing,swap\n", c->f);
    ch_trace_result_foreach_step(c->r, edge_row, c);
}

/* ---- DOT ---- */

static void dot_escape(FILE *f, const char *s) {
    for (; s && *s; s++) {
        if (*s == '"' || *s == '\\') fputc('\\', f);
        fputc(*s, f);
    }
}

/* An address node: filled, named by entity, when it is a landing. */
static void dot_addr(wctx *c, ch_addr_id addr, uint64_t out, bool landing) {
    char ab[CH_ADDR_STR_MAX];
    const char *a = addr_str(c, addr, ab);
    if (addr)
        fprintf(c->f, "  a%" PRIu64 " [shape=box, label=\"", addr);
    else
        fprintf(c->f, "  o%" PRIu64 " [shape=box, label=\"", out);
    ch_label l;
    if (landing && ch_labels_get(c->sp->labels, addr, &l) == 1) {
        dot_escape(c->f, l.entity[0] ? l.entity : l.category);
        fprintf(c->f, " (%s)\\n", l.category);
    }
    dot_escape(c->f, a ? a : "(no address)");
    fprintf(c->f, "\"%s];\n",
            landing ? ", style=filled, fillcolor=\"#f4cccc\", peripheries=2" : "");
}

static void dot_tx(wctx *c, uint64_t tx) {
    char hx[80];
    tx_str(c, tx, hx);
    fprintf(c->f, "  t%" PRIu64 " [shape=ellipse, label=\"%.10s…%s\"];\n", tx, hx,
            hx + strlen(hx) - 8);
}

static int dot_step(const ch_trace_step *st, void *v) {
    wctx *c = v;
    char amt[200], node[32];
    if (st->to)
        snprintf(node, sizeof node, "a%llu", (unsigned long long)st->to);
    else
        snprintf(node, sizeof node, "o%" PRIu64, st->ref);
    dot_addr(c, st->to, st->ref, st->landing);
    if (!c->account) { /* tx -> output's address -> the tx that moved it on */
        dot_tx(c, st->tx);
        fprintf(c->f, "  t%" PRIu64 " -> %s [label=\"%s\"];\n", st->tx, node,
                amount_txt(c, st->asset, st->amount, amt));
        if (st->next_tx != CH_TRACE_NO_TX) {
            dot_tx(c, st->next_tx);
            fprintf(c->f, "  %s -> t%" PRIu64 ";\n", node, st->next_tx);
        }
        return 0;
    }
    /* account chains: sender -> receiver, labelled with the tx and value */
    char hx[80];
    ch_trace_hop h = {.tx = st->tx, .ref = st->ref};
    ch_trace_hop_str(c->r, &h, hx);
    if (st->from) dot_addr(c, st->from, 0, false);
    fprintf(c->f, "  a%llu -> %s [label=\"%.10s…%s\\n%s\"];\n", (unsigned long long)st->from, node,
            hx, st->swap ? " (swap)" : "", amount_txt(c, st->asset, st->value, amt));
    return 0;
}

static void write_dot(wctx *c) {
    fprintf(c->f, "digraph trace {\n  rankdir=LR;\n  label=\"%s %s trace from ",
            ch_trace_direction_name(c->sp->direction), ch_trace_policy_name(c->sp->policy));
    dot_escape(c->f, c->sp->source);
    fprintf(c->f, "%s\";\n",
            c->account ? " (edges: the transfers on the shortest paths, their value)"
                       : " (edges: the taint each output received)");
    ch_trace_result_foreach_step(c->r, dot_step, c);
    fprintf(c->f, "}\n");
}

/* ---- the readable summary ---- */

/* Totals per (entity, category, asset): landings are few, a linear scan. */
static void text_by_entity(wctx *c, const ch_trace_place *land, size_t nl) {
    size_t ne = 0, *first = calloc(nl, sizeof *first), *cnt = calloc(nl, sizeof *cnt);
    ch_taint_sum *sum = calloc(nl, sizeof *sum);
    char b1[200];
    if (first && sum && cnt) {
        for (size_t i = 0; i < nl; i++) {
            size_t k = 0;
            while (k < ne && (strcmp(land[first[k]].label.entity, land[i].label.entity) ||
                              strcmp(land[first[k]].label.category, land[i].label.category) ||
                              land[first[k]].asset != land[i].asset))
                k++;
            if (k == ne) first[ne++] = i;
            sum[k] += land[i].amount;
            cnt[k]++;
        }
        for (size_t a = 0; a < ne; a++) /* largest first: a selection sort */
            for (size_t b = a + 1; b < ne; b++)
                if (sum[b] > sum[a]) {
                    ch_taint_sum ts = sum[a];
                    size_t tf = first[a], tc = cnt[a];
                    sum[a] = sum[b], first[a] = first[b], cnt[a] = cnt[b];
                    sum[b] = ts, first[b] = tf, cnt[b] = tc;
                }
        fprintf(c->f, "\nBy entity:\n");
        for (size_t k = 0; k < ne; k++) {
            const ch_trace_place *p = &land[first[k]];
            fprintf(c->f, "  %24s  %s (%s), %zu address%s\n", amount_txt(c, p->asset, sum[k], b1),
                    p->label.entity[0] ? p->label.entity : "(unnamed)", p->label.category, cnt[k],
                    cnt[k] == 1 ? "" : "es");
        }
    }
    free(first);
    free(sum);
    free(cnt);
}

static void text_sums(wctx *c, const ch_trace_sums *a, bool fwd) {
    char b1[200];
#define ROW(name, v) fprintf(c->f, "    %-24s %s\n", name, amount_txt(c, a->asset, v, b1))
    ROW(fwd ? "tainted at the source" : "traced back", a->source);
    ROW(fwd ? "landed at services" : "came from services", a->landed);
    if (fwd) {
        ROW("still held", a->held);
        ROW(c->account ? "paid as gas" : "paid as fees", a->fees);
    } else {
        ROW(c->account ? "newly minted" : "from newly mined coins",
            c->account ? a->minted : a->coinbase);
    }
    if (a->below_min) ROW("below --min-amount", a->below_min);
    if (a->cut_hops) ROW("beyond --max-hops", a->cut_hops);
    if (a->cut_window) ROW("outside the window", a->cut_window);
    if (a->returned) ROW("back at the source", a->returned);
    if (a->swapped_in || a->swapped_out) {
        ROW("swapped in", a->swapped_in);
        ROW("swapped out", a->swapped_out);
    }
    if (a->burned) ROW("burned", a->burned);
    if (a->unknown) ROW("before known history", a->unknown);
#undef ROW
}

/* A trace as text for a person: totals per asset with their unit and
 * decimals, then landings and holdings. */
static void write_text(wctx *c) {
    bool fwd = c->sp->direction == CH_TRACE_FORWARD;
    char b1[200], ab[CH_ADDR_STR_MAX], an[128], hx[80];
    int dec;
    fprintf(c->f, "%s trace, %s policy, from %s\n", fwd ? "Forward" : "Backward",
            ch_trace_policy_name(c->sp->policy), c->sp->source);
    const ch_trace_sums *as;
    size_t na = ch_trace_result_sums(c->r, &as);
    for (size_t i = 0; i < na; i++) {
        fprintf(c->f, "  %s\n", ch_trace_asset_name(c->r, as[i].asset, &dec, an));
        text_sums(c, &as[i], fwd);
    }
    ch_trace_counts k;
    ch_trace_result_counts(c->r, &k);
    fprintf(c->f, "  %" PRIu64 " transactions, %" PRIu64 " edge visits", k.txs, k.edge_visits);
    if (c->account)
        fprintf(c->f, ", %" PRIu64 " transfers, %" PRIu64 " swaps", k.transfers, k.swaps);
    fputc('\n', c->f);
    const ch_trace_place *land;
    size_t nl = ch_trace_result_landings(c->r, &land), nh = ch_trace_result_n_holdings(c->r);
    if (nl) {
        text_by_entity(c, land, nl);
        fprintf(c->f, "\nLargest landings:\n");
    }
    for (size_t i = 0; i < nl && i < SUMMARY_TOP; i++) {
        const char *a = addr_str(c, land[i].addr, ab);
        fprintf(c->f, "  %24s  %s  %s (%s), %u hop%s\n",
                amount_txt(c, land[i].asset, land[i].amount, b1), a ? a : "?", land[i].label.entity,
                land[i].label.category, land[i].hops, land[i].hops == 1 ? "" : "s");
        size_t n = ch_trace_result_path(c->r, &land[i], c->path, PATH_MAX_HOPS);
        fprintf(c->f, "      path:");
        for (size_t j = 0; j < n && j < 64; j++) /* txs shortened to 14 characters */
            fprintf(c->f, "%s%.14s%s%s", j ? " -> " : " ", ch_trace_hop_str(c->r, &c->path[j], hx),
                    c->path[j].swap ? " (swap)" : "",
                    j % 5 == 4 && j + 1 < n ? "\n           " : "");
        if (n > 64) fprintf(c->f, " ... (%zu txs)", n);
        fputc('\n', c->f);
    }
    if (nl > SUMMARY_TOP)
        fprintf(c->f, "  ... and %zu more (see --json or --csv)\n", nl - SUMMARY_TOP);
    if (fwd && nh) {
        fprintf(c->f, "\nHoldings (tainted, not at a service):\n");
        for (size_t i = 0; i < nh && i < SUMMARY_TOP; i++) {
            ch_trace_place h;
            ch_trace_result_holding(c->r, i, &h);
            const char *a = addr_str(c, h.addr, ab);
            fprintf(c->f, "  %24s  %s\n", amount_txt(c, h.asset, h.amount, b1),
                    a ? a : "(no address)");
        }
        if (nh > SUMMARY_TOP) fprintf(c->f, "  ... and %zu more\n", nh - SUMMARY_TOP);
    }
}

int ch_trace_write(ch_trace_result *r, ch_trace_format f, FILE *out) {
    wctx c = {.r = r,
              .s = ch_trace_result_store(r),
              .sp = ch_trace_result_spec(r),
              .account = ch_trace_result_is_account(r),
              .f = out,
              .path = malloc(PATH_MAX_HOPS * sizeof *c.path)};
    if (!c.path) return -1;
    switch (f) {
    case CH_TRACE_JSON:
        write_json(&c);
        break;
    case CH_TRACE_CSV:
        write_csv(&c);
        break;
    case CH_TRACE_EDGES:
        write_edges(&c);
        break;
    case CH_TRACE_DOT:
        write_dot(&c);
        break;
    default:
        write_text(&c);
        break;
    }
    free(c.path);
    return ferror(out) ? -1 : 0;
}
