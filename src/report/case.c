/* The case report of one trace (ch_report_case_write): a self-contained
 * HTML page for an investigator, a court or the exchange asked to freeze.
 * Figures come from the trace result alone, through the trace API; the
 * trace's own JSON (docs/trace.md) is embedded so a program reads the same
 * numbers back. Sections, in order: summary, amounts by service, flow
 * diagram, landings, paths, evidence per hop, holdings, method. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/address.h"
#include "coinhound/report.h"
#include "report/case_internal.h"
#include "report/html.h"
#include "util/vec.h"

void ch_report_case_opts_init(ch_report_case_opts *o) {
    memset(o, 0, sizeof *o);
}

/* ---- small helpers ---- */

const char *rc_addr(const rc_ctx *c, ch_addr_id id, char buf[CH_ADDR_STR_MAX]) {
    if (!id) return NULL;
    ch_addr a;
    ch_store_addr_of(c->s, id, &a);
    return ch_addr_to_string(&a, ch_store_addr_net(c->s), buf) == 0 ? buf : NULL;
}

const char *rc_tx(const rc_ctx *c, uint64_t tx, uint64_t ref, char out[80]) {
    ch_trace_hop h = {.tx = tx, .ref = ref};
    return ch_trace_hop_str(c->r, &h, out);
}

/* v of asset for people, then the asset's name: exact ("63.04206238 BTC",
 * rh_amount) or, glance, cut for a card or diagram (rh_amount_short). */
static void amount_of(rc_ctx *c, ch_addr_id asset, ch_taint_sum v, bool glance) {
    char an[128], b[84];
    int dec;
    const char *name = ch_trace_asset_name(c->r, asset, &dec, an);
    rh_esc(c->f, glance ? rh_amount_short(v, dec, b) : rh_amount(v, dec, b));
    fputc(' ', c->f);
    rh_esc(c->f, dec >= 0 ? name : "base units");
}

void rc_amount(rc_ctx *c, ch_addr_id asset, ch_taint_sum v) {
    amount_of(c, asset, v, false);
}

void rc_amount_short(rc_ctx *c, ch_addr_id asset, ch_taint_sum v) {
    amount_of(c, asset, v, true);
}

/* The block number and time of a tx ("" when none). */
static void tx_block(const rc_ctx *c, uint64_t tx, uint64_t *block, uint32_t *time) {
    uint32_t ht = ch_store_tx_height(c->s, tx);
    *block = ch_store_first_number(c->s) + ht;
    *time = ch_store_block(c->s, ht)->time;
}

/* What a service of this category can do with funds that reached it. */
const char *rc_freeze(const char *category, int *can) {
    static const struct {
        const char *cat;
        int can; /* 2 yes, 1 maybe, 0 no */
        const char *what;
    } rules[] = {
        {"exchange", 2,
         "Yes: send the exchange a freeze request naming the deposit "
         "addresses and txs below."},
        {"payment_processor", 2, "Yes: a freeze request to the processor."},
        {"gambling", 1, "Likely: a freeze request to the operator (policies differ)."},
        {"bridge", 1,
         "Ask the bridge operator; the funds continue on another chain: "
         "follow them there."},
        {"mixer", 0, "No: a mixer does not freeze. Trace its outputs."},
    };
    for (size_t i = 0; i < sizeof rules / sizeof *rules; i++)
        if (!strcmp(rules[i].cat, category)) {
            *can = rules[i].can;
            return rules[i].what;
        }
    *can = 1;
    return "Unknown: ask the service named by the label.";
}

/* ---- services: landings grouped by (entity, category, asset) ---- */

/* The landings summed per service (entity, category, asset), largest first:
 * the rows of the summary table, the cards and the diagram's last column. */
static int group_services(rc_ctx *c) {
    size_t n = ch_trace_result_landings(c->r, &c->land);
    c->n_land = n;
    c->svc = calloc(n ? n : 1, sizeof *c->svc);
    if (!c->svc) return -1;
    for (size_t i = 0; i < n; i++) {
        const ch_trace_place *p = &c->land[i];
        size_t k = 0;
        while (k < c->n_svc &&
               (strcmp(c->svc[k].entity, p->label.entity) ||
                strcmp(c->svc[k].category, p->label.category) || c->svc[k].asset != p->asset))
            k++;
        if (k == c->n_svc) {
            c->svc[k].entity = p->label.entity;
            c->svc[k].category = p->label.category;
            c->svc[k].asset = p->asset;
            c->n_svc++;
        }
        c->svc[k].amount += p->amount;
        c->svc[k].addresses++;
        if (p->asset == c->m->asset) c->landed_main += p->amount;
    }
    /* largest first (few services: an insertion sort) */
    for (size_t a = 1; a < c->n_svc; a++) {
        rc_svc t = c->svc[a];
        size_t b = a;
        for (; b > 0 && c->svc[b - 1].amount < t.amount; b--)
            c->svc[b] = c->svc[b - 1];
        c->svc[b] = t;
    }
    return 0;
}

/* ---- sections ---- */

static void card(FILE *f, const char *k, void (*val)(rc_ctx *, const void *), rc_ctx *c,
                 const void *arg, const char *note) {
    fputs("<div class=\"card\"><div class=\"k\">", f);
    rh_esc(f, k);
    fputs("</div><div class=\"v\">", f);
    val(c, arg);
    fputs("</div><div class=\"n\">", f);
    rh_esc(f, note);
    fputs("</div></div>\n", f);
}

static void val_main(rc_ctx *c, const void *arg) {
    rc_amount_short(c, c->m->asset, *(const ch_taint_sum *)arg);
}

/* What was stolen, where it went and where it is now: the cards, then the
 * same in a sentence each (forward); backward traces say where it came from. */
static void section_summary(rc_ctx *c) {
    FILE *f = c->f;
    const ch_trace_sums *m = c->m;
    bool fwd = c->sp->direction == CH_TRACE_FORWARD;
    char pct[16], b1[32];
    ch_taint_sum freezable = 0, not_followed = m->below_min + m->cut_hops + m->cut_window;
    for (size_t i = 0; i < c->n_svc; i++) {
        int can;
        rc_freeze(c->svc[i].category, &can);
        if (can == 2 && c->svc[i].asset == m->asset) freezable += c->svc[i].amount;
    }
    fputs("<h2 id=\"summary\">Summary</h2>\n<div class=\"cards\">\n", f);
    card(f, fwd ? "Stolen (traced from the source)" : "Traced back from the source", val_main, c,
         &m->source, "the taint put in at the source");
    rh_pct((double)c->landed_main, (double)m->source, pct);
    char note[96];
    snprintf(note, sizeof note, "%s of the source, at %zu service%s", pct, c->n_svc,
             c->n_svc == 1 ? "" : "s");
    card(f, fwd ? "Reached services" : "Came from services", val_main, c, &c->landed_main, note);
    if (fwd) {
        rh_pct((double)freezable, (double)m->source, pct);
        snprintf(note, sizeof note, "%s: exchanges and payment processors", pct);
        card(f, "Can be frozen", val_main, c, &freezable, note);
        size_t nh = ch_trace_result_n_holdings(c->r);
        snprintf(note, sizeof note, "unspent at %s unlabelled address%s",
                 rh_group(nh, (char[64]){0}), nh == 1 ? "" : "es");
        card(f, "Still held", val_main, c, &m->held, note);
    }
    fputs("</div>\n<p>", f);
    /* the narrative: what was stolen, where it went, where it is now */
    char src_tx[80] = "";
    if (fwd) {
        fputs("<strong>What was stolen.</strong> ", f);
        rc_amount_short(c, m->asset, m->source);
        fputs(" left the source <span class=\"mono\">", f);
        rh_esc(f, c->sp->source);
        fputs("</span>. ", f);
        fputs("<strong>Where it went.</strong> ", f);
        rc_amount_short(c, m->asset, c->landed_main);
        rh_escf(f, " (%s) reached %zu service%s",
                rh_pct((double)c->landed_main, (double)m->source, pct), c->n_svc,
                c->n_svc == 1 ? "" : "s");
        if (c->n_svc) {
            fputs(", the largest ", f);
            rh_esc(f, c->svc[0].entity[0] ? c->svc[0].entity : "(unnamed)");
            fputs(" (", f);
            rh_esc(f, c->svc[0].category);
            fputs(", ", f);
            rc_amount_short(c, c->svc[0].asset, c->svc[0].amount);
            fputs(")", f);
        }
        fputs(". <strong>Where it is now.</strong> ", f);
        rc_amount_short(c, m->asset, m->held);
        fputs(" is still unspent at addresses no label names (the holdings below: watch them); ",
              f);
        rc_amount_short(c, m->asset, m->fees);
        fputs(" went to miners as fees", f);
        if (not_followed) {
            fputs("; ", f);
            rc_amount_short(c, m->asset, not_followed);
            fputs(" was not followed (the limits under Method)", f);
        }
        fputs(".", f);
    } else {
        fputs("Traced backward: ", f);
        rc_amount_short(c, m->asset, m->source);
        fputs(" at the source <span class=\"mono\">", f);
        rh_esc(f, c->sp->source);
        fputs("</span> came from the services below and from ", f);
        rc_amount_short(c, m->asset, c->account ? m->minted : m->coinbase);
        fputs(" of newly mined coins.", f);
    }
    (void)src_tx;
    (void)b1;
    fputs("</p>\n", f);
}

/* The summary table per service, with what a freeze request can do there
 * and the data-* attributes programs read; then the totals per category. */
static void section_services(rc_ctx *c) {
    FILE *f = c->f;
    char pct[16], an[128], b[48];
    int dec;
    fputs("<h2 id=\"services\">Amounts by service and category</h2>\n", f);
    if (!c->n_svc) {
        fputs("<p>No funds reached an address labelled with a stop category.</p>\n", f);
        return;
    }
    fputs(
        "<table class=\"services\">\n<thead><tr><th>Service</th><th>Category</th><th>Asset</th>"
        "<th class=\"num\">Addresses</th><th class=\"num\">Amount</th>"
        "<th class=\"num\">Share of source</th><th>Can it be frozen?</th></tr></thead>\n<tbody>\n",
        f);
    for (size_t i = 0; i < c->n_svc; i++) {
        const rc_svc *v = &c->svc[i];
        int can;
        const char *what = rc_freeze(v->category, &can);
        fputs("<tr class=\"svc\" data-entity=\"", f);
        rh_esc(f, v->entity);
        fputs("\" data-category=\"", f);
        rh_esc(f, v->category);
        const char *asset = ch_trace_asset_name(c->r, v->asset, &dec, an);
        fputs("\" data-asset=\"", f);
        rh_esc(f, asset);
        fprintf(f, "\" data-amount=\"%s\"><td>", ch_u128_str(v->amount, b));
        rh_esc(f, v->entity[0] ? v->entity : "(unnamed)");
        fputs("</td><td><span class=\"tag\">", f);
        rh_esc(f, v->category);
        fputs("</span></td><td>", f);
        rh_esc(f, asset);
        fprintf(f, "</td><td class=\"num\">%zu</td><td class=\"num\">", v->addresses);
        rc_amount(c, v->asset, v->amount);
        fputs("</td><td class=\"num\">", f);
        rh_esc(f, v->asset == c->m->asset ? rh_pct((double)v->amount, (double)c->m->source, pct)
                                          : "(other asset)");
        fprintf(f, "</td><td class=\"%s\">", can == 2 ? "yes" : can == 0 ? "no" : "");
        rh_esc(f, what);
        fputs("</td></tr>\n", f);
    }
    fputs("<tr class=\"total\"><td colspan=\"4\">All services</td><td class=\"num\">", f);
    rc_amount(c, c->m->asset, c->landed_main);
    fputs("</td><td class=\"num\">", f);
    rh_esc(f, rh_pct((double)c->landed_main, (double)c->m->source, pct));
    fputs("</td><td></td></tr>\n</tbody></table>\n", f);
    if (c->account)
        fputs("<p class=\"note\">The total is of the theft's main asset; a row of another asset "
              "(after a swap) is not in it.</p>\n",
              f);

    /* by category */
    fputs("<h3>By category</h3>\n<table class=\"categories\"><thead><tr><th>Category</th>"
          "<th>Asset</th><th class=\"num\">Services</th><th class=\"num\">Amount</th>"
          "<th class=\"num\">Share of source</th></tr></thead><tbody>\n",
          f);
    for (size_t i = 0; i < c->n_svc; i++) {
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = !strcmp(c->svc[j].category, c->svc[i].category) &&
                   c->svc[j].asset == c->svc[i].asset;
        if (seen) continue;
        ch_taint_sum sum = 0;
        size_t k = 0;
        for (size_t j = i; j < c->n_svc; j++)
            if (!strcmp(c->svc[j].category, c->svc[i].category) &&
                c->svc[j].asset == c->svc[i].asset) {
                sum += c->svc[j].amount;
                k++;
            }
        fputs("<tr class=\"cat\" data-category=\"", f);
        rh_esc(f, c->svc[i].category);
        fprintf(f, "\" data-amount=\"%s\"><td>", ch_u128_str(sum, b));
        rh_esc(f, c->svc[i].category);
        fputs("</td><td>", f);
        rh_esc(f, ch_trace_asset_name(c->r, c->svc[i].asset, &dec, an));
        fprintf(f, "</td><td class=\"num\">%zu</td><td class=\"num\">", k);
        rc_amount(c, c->svc[i].asset, sum);
        fputs("</td><td class=\"num\">", f);
        rh_esc(f, c->svc[i].asset == c->m->asset ? rh_pct((double)sum, (double)c->m->source, pct)
                                                 : "(other asset)");
        fputs("</td></tr>\n", f);
    }
    fputs("</tbody></table>\n", f);
}

/* The label's provenance cell. */
static void label_source(rc_ctx *c, ch_addr_id addr) {
    ch_label_source ls;
    if (!c->sp->labels || ch_labels_source(c->sp->labels, addr, &ls) != 1) {
        fputs("(no source recorded)", c->f);
        return;
    }
    rh_link(c->f, ls.url, ls.source[0] ? ls.source : ls.url);
    if (ls.url[0] && ls.source[0]) {
        fputs(" <span class=\"note mono\">", c->f);
        rh_esc(c->f, ls.url);
        fputs("</span>", c->f);
    }
    if (ls.date[0]) {
        fputs("<br><span class=\"note\">", c->f);
        rh_esc(c->f, ls.date_what[0] ? ls.date_what : "dated");
        fputs(" ", c->f);
        rh_esc(c->f, ls.date);
        fputs("</span>", c->f);
    }
}

/* One row per landing address: the amount, hops, the tx, block and time the
 * shortest path arrived in, and the label's source and date (the evidence a
 * freeze request cites). */
static void section_landings(rc_ctx *c) {
    FILE *f = c->f;
    char ab[CH_ADDR_STR_MAX], hx[80], tb[32], b[48], an[128];
    int dec;
    fputs("<h2 id=\"landings\">Landings: where the funds reached a service</h2>\n", f);
    if (!c->n_land) {
        fputs("<p>None.</p>\n", f);
        return;
    }
    fputs("<p>Each address below is labelled with a stop category; the tx is the one the "
          "shortest path arrived in (what a freeze request names). Amounts are summed over every "
          "output and path that reached the address.</p>\n",
          f);
    fputs("<table class=\"landings\"><thead><tr><th>Address</th><th>Service</th>"
          "<th class=\"num\">Amount</th><th class=\"num\">Hops</th><th>Arrived in</th>"
          "<th>Label source and date</th></tr></thead><tbody>\n",
          f);
    for (size_t i = 0; i < c->n_land; i++) {
        const ch_trace_place *p = &c->land[i];
        const char *a = rc_addr(c, p->addr, ab);
        fputs("<tr class=\"landing\" data-address=\"", f);
        rh_esc(f, a);
        fputs("\" data-entity=\"", f);
        rh_esc(f, p->label.entity);
        fputs("\" data-asset=\"", f);
        rh_esc(f, ch_trace_asset_name(c->r, p->asset, &dec, an));
        fprintf(f, "\" data-amount=\"%s\"><td class=\"mono\">", ch_u128_str(p->amount, b));
        rh_esc(f, a ? a : "(no address)");
        fputs("</td><td>", f);
        rh_esc(f, p->label.entity[0] ? p->label.entity : "(unnamed)");
        fputs("<br><span class=\"tag\">", f);
        rh_esc(f, p->label.category);
        fputs("</span></td><td class=\"num\">", f);
        rc_amount(c, p->asset, p->amount);
        fprintf(f, "</td><td class=\"num\">%u</td><td><span class=\"mono\">", p->hops);
        rh_esc(f, rc_tx(c, p->tx, p->ref, hx));
        fputs("</span>", f);
        if (p->tx != CH_TRACE_NO_TX)
            rh_escf(f, "\nblock %" PRIu64 ", %s", p->block, rh_time(p->time, tb));
        fputs("</td><td>", f);
        label_source(c, p->addr);
        fputs("</td></tr>\n", f);
    }
    fputs("</tbody></table>\n", f);
}

/* The shortest path to each of the largest landings, tx by tx with block and
 * time: how the funds got there, for the reader who checks each hop. */
static void section_paths(rc_ctx *c) {
    FILE *f = c->f;
    size_t max = c->o.max_paths, n = c->n_land < max ? c->n_land : max;
    char ab[CH_ADDR_STR_MAX], hx[80], tb[32];
    if (!n) return;
    fputs("<h2 id=\"paths\">Paths: how the funds got there</h2>\n", f);
    rh_escf(f,
            "The shortest path to each of the %zu largest landings, transaction by transaction "
            "from the source.",
            n);
    ch_trace_hop *path = malloc(RC_PATH_MAX * sizeof *path);
    if (!path) return;
    for (size_t i = 0; i < n; i++) {
        const ch_trace_place *p = &c->land[i];
        size_t k = ch_trace_result_path(c->r, p, path, RC_PATH_MAX);
        if (k > RC_PATH_MAX) k = RC_PATH_MAX;
        fputs("<h3>", f);
        rh_esc(f, p->label.entity[0] ? p->label.entity : p->label.category);
        fputs(" <span class=\"mono\">", f);
        rh_esc(f, rc_addr(c, p->addr, ab));
        fputs("</span>: ", f);
        rc_amount(c, p->asset, p->amount);
        rh_escf(f, ", %u hop%s", p->hops, p->hops == 1 ? "" : "s");
        fputs("</h3>\n<table class=\"path\"><thead><tr><th class=\"num\">#</th><th>Tx</th>"
              "<th class=\"num\">Block</th><th>Time</th><th></th></tr></thead><tbody>\n",
              f);
        for (size_t j = 0; j < k; j++) {
            fprintf(f, "<tr><td class=\"num\">%zu</td><td class=\"mono\">", j);
            rh_esc(f, rc_tx(c, path[j].tx, path[j].ref, hx));
            fputs("</td>", f);
            if (path[j].tx != CH_TRACE_NO_TX) {
                uint64_t blk;
                uint32_t t;
                tx_block(c, path[j].tx, &blk, &t);
                fprintf(f, "<td class=\"num\">%" PRIu64 "</td><td>%s</td>", blk, rh_time(t, tb));
            } else {
                fputs("<td></td><td></td>", f);
            }
            fprintf(f, "<td>%s%s</td></tr>\n",
                    j == 0       ? "source"
                    : j + 1 == k ? "arrived at the service"
                                 : "",
                    path[j].swap ? " (swap: the asset changed)" : "");
        }
        fputs("</tbody></table>\n", f);
    }
    free(path);
}

/* Steps, collected to be shown by hop. */
typedef struct steps {
    ch_trace_step *v;
    size_t n, cap, total;
} steps;

static int collect_step(const ch_trace_step *st, void *ctx) {
    steps *s = ctx;
    s->total++;
    if (s->n == RC_STEPS_KEPT) return 0;
    ch_trace_step *nv = ch_grow(s->v, &s->cap, s->n + 1, sizeof *nv);
    if (!nv) return -1;
    s->v = nv;
    s->v[s->n++] = *st;
    return 0;
}

static int by_hop(const void *a, const void *b) {
    const ch_trace_step *x = a, *y = b;
    if (x->hops != y->hops) return x->hops < y->hops ? -1 : 1;
    if (x->tx != y->tx) return x->tx < y->tx ? -1 : 1;
    return x->ref < y->ref ? -1 : x->ref > y->ref;
}

/* Every step of the flow, sorted by hop and capped (the full list is `trace
 * --edges`): tx, block, time, receiver, value, taint and its share. -1 when
 * memory runs out. */
static int section_evidence(rc_ctx *c) {
    FILE *f = c->f;
    steps st = {0};
    if (ch_trace_result_foreach_step(c->r, collect_step, &st) < 0) {
        free(st.v);
        return -1;
    }
    qsort(st.v, st.n, sizeof *st.v, by_hop);
    size_t show = st.n < c->o.max_evidence ? st.n : c->o.max_evidence;
    char ab[CH_ADDR_STR_MAX], hx[80], tb[32], pct[16];
    fputs("<h2 id=\"evidence\">Evidence per hop</h2>\n", f);
    if (c->account)
        fputs("<p>Every transfer on the shortest paths to the landings and holdings: who sent "
              "it, who received it, its value. The account walk keeps the taint per pool, not per "
              "transfer, so the tainted part of each transfer is not listed.</p>\n",
              f);
    else
        rh_escf(f,
                "Every output that received taint under the %s policy: the tx that created it, "
                "its value, the part of it that is tainted, and that part as a share of the "
                "output.",
                ch_trace_policy_name(c->sp->policy));
    if (show < st.total)
        rh_escf(f,
                " Shown: the first %zu of %zu, by hop; the full list is `coinhound trace "
                "--edges` with the options under Method.",
                show, st.total);
    fprintf(f,
            "\n<table class=\"evidence\"><thead><tr><th class=\"num\">Hop</th><th>Tx</th>"
            "<th class=\"num\">Block</th><th>Time</th>%s<th>To</th>",
            c->account ? "<th>From</th>" : "");
    fputs("<th class=\"num\">Value</th><th class=\"num\">Tainted</th>"
          "<th class=\"num\">Share</th></tr></thead><tbody>\n",
          f);
    for (size_t i = 0; i < show; i++) {
        const ch_trace_step *s = &st.v[i];
        fprintf(f, "<tr%s><td class=\"num\">%u</td><td class=\"mono\">",
                s->landing ? " class=\"landed\"" : "", s->hops);
        rh_esc(f, rc_tx(c, s->tx, s->ref, hx));
        fputs("</td>", f);
        if (s->tx != CH_TRACE_NO_TX) {
            uint64_t blk;
            uint32_t t;
            tx_block(c, s->tx, &blk, &t);
            fprintf(f, "<td class=\"num\">%" PRIu64 "</td><td>%s</td>", blk, rh_time(t, tb));
        } else {
            fputs("<td></td><td></td>", f);
        }
        if (c->account) { /* a UTXO tx pools its inputs: no one sender */
            fputs("<td class=\"mono\">", f);
            rh_esc(f, rc_addr(c, s->from, ab));
            fputs("</td>", f);
        }
        fputs("<td class=\"mono\">", f);
        const char *to = rc_addr(c, s->to, ab);
        rh_esc(f, to ? to : "(no address)");
        ch_label lb;
        if (c->sp->labels && s->to && ch_labels_get(c->sp->labels, s->to, &lb) == 1) {
            fputs("<br><span class=\"tag\">", f);
            rh_esc(f, lb.entity[0] ? lb.entity : lb.category);
            fputs("</span>", f);
        }
        fputs("</td><td class=\"num\">", f);
        rc_amount(c, s->asset, s->value);
        fputs("</td><td class=\"num\">", f);
        if (s->tainted_known) {
            rc_amount(c, s->asset, s->amount);
            fputs("</td><td class=\"num\">", f);
            rh_esc(f, rh_pct((double)s->amount, (double)s->value, pct));
        } else {
            fputs("</td><td class=\"num\">", f);
        }
        fputs("</td></tr>\n", f);
    }
    fputs("</tbody></table>\n", f);
    free(st.v);
    return 0;
}

/* The section on funds still held (forward traces): the largest holdings,
 * read one at a time from the result (a wide trace holds a million, which
 * the report does not copy), with their amounts and outputs. */
static void section_holdings(rc_ctx *c) {
    FILE *f = c->f;
    size_t n = ch_trace_result_n_holdings(c->r); /* read one at a time: no copy */
    char ab[CH_ADDR_STR_MAX];
    if (c->sp->direction != CH_TRACE_FORWARD) return;
    fputs("<h2 id=\"holdings\">Where it is now: tainted funds still held</h2>\n", f);
    if (!n) {
        fputs("<p>None: every tainted coin left the addresses it reached.</p>\n", f);
        return;
    }
    size_t show = n < RC_HOLDINGS_SHOWN ? n : RC_HOLDINGS_SHOWN;
    rh_escf(f, "Unspent tainted funds at addresses no label names: %zu address%s", n,
            n == 1 ? "" : "es");
    if (show < n) rh_escf(f, " (the %zu largest shown)", show);
    fputs(". Watch them: the next move names the next hop.\n<table class=\"holdings\"><thead>"
          "<tr><th>Address</th><th class=\"num\">Amount</th><th class=\"num\">Outputs</th></tr>"
          "</thead><tbody>\n",
          f);
    for (size_t i = 0; i < show; i++) {
        ch_trace_place h;
        ch_trace_result_holding(c->r, i, &h);
        const char *a = rc_addr(c, h.addr, ab);
        fputs("<tr><td class=\"mono\">", f);
        rh_esc(f, a ? a : "(outputs without an address)");
        fputs("</td><td class=\"num\">", f);
        rc_amount(c, h.asset, h.amount);
        fprintf(f, "</td><td class=\"num\">%u</td></tr>\n", h.count);
    }
    fputs("</tbody></table>\n", f);
}

int ch_report_case_write(FILE *out, ch_trace_result *r, const ch_report_case_opts *o,
                         ch_error *err) {
    rc_ctx c = {.f = out, .r = r};
    if (o) c.o = *o;
    if (!c.o.max_evidence) c.o.max_evidence = 400;
    if (!c.o.max_paths) c.o.max_paths = 25;
    if (!c.o.max_services) c.o.max_services = 10;
    c.s = ch_trace_result_store(r);
    c.sp = ch_trace_result_spec(r);
    c.account = ch_trace_result_is_account(r);
    c.m = ch_trace_result_main(r);
    if (group_services(&c) != 0) return ch_err(err, "out of memory");
    char title[600], gen[32];
    if (c.o.title && c.o.title[0])
        snprintf(title, sizeof title, "%s", c.o.title);
    else
        snprintf(title, sizeof title, "Case report: funds traced from %s", c.sp->source);
    const char *generated = c.o.generated ? c.o.generated : rh_now(gen);
    rh_page_begin(out, title);
    fputs("<h1>", out);
    rh_esc(out, title);
    fputs("</h1>\n<p class=\"sub\">", out);
    rc_subtitle(&c, generated);
    fputs("</p>\n", out);
    rc_section_notes(&c);
    section_summary(&c);
    section_services(&c);
    rc_section_flow(&c);
    section_landings(&c);
    section_paths(&c);
    int rc = section_evidence(&c);
    section_holdings(&c);
    if (rc == 0) rc = rc_section_method(&c);
    rh_page_end(out, generated);
    free(c.svc);
    if (rc != 0) return ch_err(err, "out of memory");
    if (ferror(out)) return ch_err(err, "cannot write the report");
    return 0;
}
