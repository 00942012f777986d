/* Account tracer: the trace command's outputs (JSON, CSV, DOT, a summary).
 * Amounts are 128-bit base units, written as decimal strings ("amount") so
 * no JSON reader rounds them, beside "amount_display" with the asset's
 * decimals when known. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/address.h"
#include "coinhound/jsonw.h"
#include "coinhound/tokens.h"
#include "trace/account_internal.h"

#define PATH_MAX_STEPS 256
#define SUMMARY_TOP    10

typedef struct pctx {
    ch_atrace *t;
    const ch_toktab *k;
    const char *native; /* "ETH" */
    FILE *f;
} pctx;

static const char *addr_str(const ch_atrace *t, uint32_t id, char buf[CH_ADDR_STR_MAX]) {
    if (!id) return "";
    ch_addr a;
    ch_store_addr_of(t->s, id, &a);
    return ch_addr_to_string(&a, CH_NET_MAINNET, buf) == 0 ? buf : "";
}

/* The asset's name (symbol, else contract address) and decimals (-1 unknown). */
static const char *asset_name(const pctx *c, uint32_t asset, int *dec, char buf[CH_ADDR_STR_MAX]) {
    if (!asset) {
        *dec = 18;
        return c->native;
    }
    ch_addr a;
    ch_store_addr_of(c->t->s, asset, &a);
    const ch_token_info *ti = a.len == 20 && c->k ? ch_toktab_find(c->k, a.bytes) : NULL;
    if (ti && ti->symbol[0]) {
        *dec = ti->decimals;
        return ti->symbol;
    }
    *dec = -1;
    return addr_str(c->t, asset, buf);
}

static void tx_hex(const ch_atrace *t, uint64_t x, char out[67]) {
    const ch_xfer_rec *r = ch_store_xfer(t->s, x);
    if (r->tx == CH_NO_TX) {
        snprintf(out, 67, "withdrawal:%" PRIu64, x);
        return;
    }
    ch_hash256 h;
    ch_store_txid(t->s, r->tx, &h);
    out[0] = '0';
    out[1] = 'x';
    ch_hex_encode(h.b, 32, out + 2); /* EVM hashes in their written order */
}

static void jw_amount(ch_jw *w, const pctx *c, uint32_t asset, ch_taint_sum v) {
    char b[48], an[CH_ADDR_STR_MAX];
    int dec;
    const char *name = asset_name(c, asset, &dec, an);
    ch_jw_key(w, "asset");
    ch_jw_str(w, name);
    ch_jw_key(w, "amount");
    ch_jw_str(w, ch_u128_str(v, b));
    ch_jw_key(w, "amount_display");
    if (dec >= 0)
        ch_jw_str(w, ch_u128_decimals_str(v, dec, b));
    else
        ch_jw_null(w);
}

static void jw_path(ch_jw *w, const pctx *c, const ch_atrace_step *st, size_t n) {
    char hx[67];
    ch_jw_key(w, "path");
    ch_jw_arr_begin(w);
    for (size_t i = 0; i < n; i++) {
        tx_hex(c->t, st[i].xfer, hx);
        ch_jw_str(w, hx);
    }
    ch_jw_arr_end(w);
    ch_jw_key(w, "swap_hops"); /* positions in path where the asset changed */
    ch_jw_arr_begin(w);
    for (size_t i = 0; i < n; i++)
        if (st[i].swap) ch_jw_uint(w, i);
    ch_jw_arr_end(w);
}

static void print_json(pctx *c, const char *from) {
    ch_atrace *t = c->t;
    const ch_atrace_asset *as;
    size_t na = ch_atrace_assets(t, &as);
    const ch_atrace_landing *land;
    const ch_atrace_holding *hold;
    size_t nl = ch_atrace_landings(t, &land), nh = ch_atrace_holdings(t, &hold);
    ch_atrace_step *st = malloc(PATH_MAX_STEPS * sizeof *st);
    char ab[CH_ADDR_STR_MAX], b[48];
    ch_jw w;
    ch_jw_init(&w, c->f);
    ch_jw_obj_begin(&w);
    ch_jw_key(&w, "policy");
    ch_jw_str(&w, ch_trace_policy_name(t->o.policy));
    ch_jw_key(&w, "direction");
    ch_jw_str(&w, ch_trace_direction_name(t->o.direction));
    ch_jw_key(&w, "source");
    ch_jw_str(&w, from);
    /* tainted_total: the asset with the largest source (the theft's asset) */
    size_t main_i = SIZE_MAX;
    for (size_t i = 0; i < na; i++)
        if (as[i].source && (main_i == SIZE_MAX || as[i].source > as[main_i].source)) main_i = i;
    ch_jw_key(&w, "tainted_total");
    ch_jw_str(&w, ch_u128_str(main_i == SIZE_MAX ? 0 : as[main_i].source, b));
    ch_jw_key(&w, "tainted_asset");
    {
        int dec;
        ch_jw_str(&w, main_i == SIZE_MAX ? c->native : asset_name(c, as[main_i].asset, &dec, ab));
    }
    ch_jw_key(&w, "landings");
    ch_jw_arr_begin(&w);
    for (size_t i = 0; i < nl; i++) {
        ch_jw_obj_begin(&w);
        ch_jw_key(&w, "address");
        ch_jw_str(&w, addr_str(t, land[i].addr, ab));
        ch_jw_key(&w, "entity");
        ch_jw_str(&w, land[i].label.entity);
        ch_jw_key(&w, "category");
        ch_jw_str(&w, land[i].label.category);
        jw_amount(&w, c, land[i].asset, land[i].amount);
        ch_jw_key(&w, "hops");
        ch_jw_uint(&w, land[i].hops);
        ch_jw_key(&w, "transfers");
        ch_jw_uint(&w, land[i].xfers);
        size_t n = st ? ch_atrace_landing_path(t, &land[i], st, PATH_MAX_STEPS) : 0;
        jw_path(&w, c, st, n < PATH_MAX_STEPS ? n : PATH_MAX_STEPS);
        ch_jw_obj_end(&w);
    }
    ch_jw_arr_end(&w);
    ch_jw_key(&w, "holdings");
    ch_jw_arr_begin(&w);
    for (size_t i = 0; i < nh; i++) {
        ch_jw_obj_begin(&w);
        ch_jw_key(&w, "address");
        ch_jw_str(&w, addr_str(t, hold[i].addr, ab));
        jw_amount(&w, c, hold[i].asset, hold[i].amount);
        ch_jw_key(&w, "hops");
        ch_jw_uint(&w, hold[i].hops);
        ch_jw_obj_end(&w);
    }
    ch_jw_arr_end(&w);
    ch_jw_key(&w, "assets");
    ch_jw_arr_begin(&w);
    for (size_t i = 0; i < na; i++) {
        static const char *const keys[] = {"source",    "swapped_in",   "clean_in", "landed",
                                           "held",      "fees",         "burned",   "swapped_out",
                                           "below_min", "cut_max_hops", "minted",   "unknown"};
        const ch_taint_sum v[] = {as[i].source,   as[i].swapped_in,  as[i].clean_in,
                                  as[i].landed,   as[i].held,        as[i].fees,
                                  as[i].burned,   as[i].swapped_out, as[i].below_min,
                                  as[i].cut_hops, as[i].minted,      as[i].unknown};
        int dec;
        ch_jw_obj_begin(&w);
        ch_jw_key(&w, "asset");
        ch_jw_str(&w, asset_name(c, as[i].asset, &dec, ab));
        ch_jw_key(&w, "decimals");
        if (dec >= 0)
            ch_jw_int(&w, dec);
        else
            ch_jw_null(&w);
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
            ch_jw_key(&w, keys[k]);
            ch_jw_str(&w, ch_u128_str(v[k], b));
        }
        ch_jw_obj_end(&w);
    }
    ch_jw_arr_end(&w);
    ch_atrace_stats s;
    ch_atrace_get_stats(t, &s);
    ch_jw_key(&w, "edge_visits");
    ch_jw_uint(&w, s.edge_visits);
    ch_jw_key(&w, "transfers");
    ch_jw_uint(&w, s.xfers);
    ch_jw_key(&w, "txs");
    ch_jw_uint(&w, s.txs);
    ch_jw_key(&w, "pools");
    ch_jw_uint(&w, s.pools);
    ch_jw_key(&w, "swaps");
    ch_jw_uint(&w, s.swaps);
    ch_jw_obj_end(&w);
    ch_jw_newline(&w);
    free(st);
}

static void csv_field(FILE *f, const char *s) {
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

static void print_csv(pctx *c) {
    const ch_atrace_landing *land;
    size_t nl = ch_atrace_landings(c->t, &land);
    char ab[CH_ADDR_STR_MAX], an[CH_ADDR_STR_MAX], b[48];
    fputs("address,entity,category,asset,amount,hops\n", c->f);
    for (size_t i = 0; i < nl; i++) {
        int dec;
        csv_field(c->f, addr_str(c->t, land[i].addr, ab));
        fputc(',', c->f);
        csv_field(c->f, land[i].label.entity);
        fputc(',', c->f);
        csv_field(c->f, land[i].label.category);
        fputc(',', c->f);
        csv_field(c->f, asset_name(c, land[i].asset, &dec, an));
        fprintf(c->f, ",%s,%u\n", ch_u128_str(land[i].amount, b), land[i].hops);
    }
}

/* The shortest paths to the landings and holdings: tx nodes, address nodes. */
static void print_dot(pctx *c, const char *from) {
    const ch_atrace_landing *land;
    const ch_atrace_holding *hold;
    size_t nl = ch_atrace_landings(c->t, &land), nh = ch_atrace_holdings(c->t, &hold);
    ch_atrace_step st[PATH_MAX_STEPS];
    char ab[CH_ADDR_STR_MAX], an[CH_ADDR_STR_MAX], hx[67], b[48];
    fprintf(c->f, "digraph trace {\n  rankdir=LR;\n  label=\"%s %s trace from %s\";\n",
            ch_trace_direction_name(c->t->o.direction), ch_trace_policy_name(c->t->o.policy), from);
    for (size_t i = 0; i < nl + nh; i++) {
        bool is_land = i < nl;
        uint32_t addr = is_land ? land[i].addr : hold[i - nl].addr;
        uint32_t asset = is_land ? land[i].asset : hold[i - nl].asset;
        ch_taint_sum amt = is_land ? land[i].amount : hold[i - nl].amount;
        size_t n = is_land ? ch_atrace_landing_path(c->t, &land[i], st, PATH_MAX_STEPS)
                           : ch_atrace_holding_path(c->t, &hold[i - nl], st, PATH_MAX_STEPS);
        if (n > PATH_MAX_STEPS) n = PATH_MAX_STEPS;
        int dec;
        fprintf(c->f, "  a%u [shape=box, label=\"%s%s%s\\n%s\"%s];\n", addr,
                is_land ? land[i].label.entity : "", is_land ? " " : "",
                is_land ? land[i].label.category : "", addr_str(c->t, addr, ab),
                is_land ? ", style=filled, fillcolor=\"#f4cccc\"" : "");
        for (size_t k = 0; k < n; k++) {
            tx_hex(c->t, st[k].xfer, hx);
            fprintf(c->f, "  x%" PRIu64 " [shape=ellipse, label=\"%.10s…%s\"];\n", st[k].xfer, hx,
                    st[k].swap ? " (swap)" : "");
            if (k) fprintf(c->f, "  x%" PRIu64 " -> x%" PRIu64 ";\n", st[k - 1].xfer, st[k].xfer);
        }
        if (n)
            fprintf(c->f, "  x%" PRIu64 " -> a%u [label=\"%s %s\"];\n", st[n - 1].xfer, addr,
                    ch_u128_str(amt, b), asset_name(c, asset, &dec, an));
    }
    fprintf(c->f, "}\n");
}

/* "1.5 ETH" or "12345 0xabc..." */
static const char *amount_txt(const pctx *c, uint32_t asset, ch_taint_sum v, char out[160]) {
    char b[48], an[CH_ADDR_STR_MAX];
    int dec;
    const char *name = asset_name(c, asset, &dec, an);
    snprintf(out, 160, "%s %s", dec >= 0 ? ch_u128_decimals_str(v, dec, b) : ch_u128_str(v, b),
             name);
    return out;
}

static void print_text(pctx *c, const char *from) {
    ch_atrace *t = c->t;
    bool fwd = t->o.direction == CH_TRACE_FORWARD;
    const ch_atrace_asset *as;
    size_t na = ch_atrace_assets(t, &as);
    const ch_atrace_landing *land;
    const ch_atrace_holding *hold;
    size_t nl = ch_atrace_landings(t, &land), nh = ch_atrace_holdings(t, &hold);
    char b1[160], ab[CH_ADDR_STR_MAX], hx[67];
    fprintf(c->f, "%s trace, %s policy, from %s\n", fwd ? "Forward" : "Backward",
            ch_trace_policy_name(t->o.policy), from);
    for (size_t i = 0; i < na; i++) {
        const ch_atrace_asset *a = &as[i];
        char an[CH_ADDR_STR_MAX];
        int dec;
        fprintf(c->f, "  %s\n    %-20s %s\n", asset_name(c, a->asset, &dec, an),
                fwd ? "tainted at source" : "traced back", amount_txt(c, a->asset, a->source, b1));
        fprintf(c->f, "    %-20s %s\n", fwd ? "landed at services" : "came from services",
                amount_txt(c, a->asset, a->landed, b1));
        if (fwd) {
            fprintf(c->f, "    %-20s %s\n", "still held", amount_txt(c, a->asset, a->held, b1));
            fprintf(c->f, "    %-20s %s\n", "paid as gas", amount_txt(c, a->asset, a->fees, b1));
        } else {
            fprintf(c->f, "    %-20s %s\n", "newly minted", amount_txt(c, a->asset, a->minted, b1));
        }
        if (a->swapped_in || a->swapped_out) {
            fprintf(c->f, "    %-20s %s\n", "swapped in",
                    amount_txt(c, a->asset, a->swapped_in, b1));
            fprintf(c->f, "    %-20s %s\n", "swapped out",
                    amount_txt(c, a->asset, a->swapped_out, b1));
        }
    }
    ch_atrace_stats s;
    ch_atrace_get_stats(t, &s);
    fprintf(c->f, "  %" PRIu64 " transfers, %" PRIu64 " edge visits, %" PRIu64 " swaps\n", s.xfers,
            s.edge_visits, s.swaps);
    if (nl) fprintf(c->f, "\nLargest landings:\n");
    ch_atrace_step st[PATH_MAX_STEPS];
    for (size_t i = 0; i < nl && i < SUMMARY_TOP; i++) {
        fprintf(c->f, "  %s  %s  %s (%s), %u hop%s\n",
                amount_txt(c, land[i].asset, land[i].amount, b1), addr_str(t, land[i].addr, ab),
                land[i].label.entity, land[i].label.category, land[i].hops,
                land[i].hops == 1 ? "" : "s");
        size_t n = ch_atrace_landing_path(t, &land[i], st, PATH_MAX_STEPS);
        fprintf(c->f, "      path:");
        for (size_t k = 0; k < n && k < PATH_MAX_STEPS; k++) {
            tx_hex(t, st[k].xfer, hx);
            fprintf(c->f, "%s%.14s%s", k ? " -> " : " ", hx, st[k].swap ? " (swap)" : "");
        }
        fputc('\n', c->f);
    }
    if (nl > SUMMARY_TOP)
        fprintf(c->f, "  ... and %zu more (see --json or --csv)\n", nl - SUMMARY_TOP);
    if (fwd && nh) {
        fprintf(c->f, "\nHoldings (tainted, not at a service):\n");
        for (size_t i = 0; i < nh && i < SUMMARY_TOP; i++)
            fprintf(c->f, "  %s  %s\n", amount_txt(c, hold[i].asset, hold[i].amount, b1),
                    addr_str(t, hold[i].addr, ab));
        if (nh > SUMMARY_TOP) fprintf(c->f, "  ... and %zu more\n", nh - SUMMARY_TOP);
    }
}

int ch_atrace_print(ch_atrace *t, const ch_toktab *k, const char *native, int format,
                    const char *from, FILE *out) {
    pctx c = {t, k, native ? native : "ETH", out};
    switch (format) {
    case CH_ATRACE_JSON:
        print_json(&c, from);
        break;
    case CH_ATRACE_CSV:
        print_csv(&c);
        break;
    case CH_ATRACE_DOT:
        print_dot(&c, from);
        break;
    default:
        print_text(&c, from);
        break;
    }
    return ferror(out) ? -1 : 0;
}
