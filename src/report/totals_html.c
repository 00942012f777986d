/* The oversight totals as HTML: summary, how shares are counted, the chart
 * of stolen value per year by actor, the table by the chosen grouping, the
 * years with both denominators, the published figures beside ours with the
 * difference explained (and a chart of the shares), every incident with its
 * citation and, given a store, its amount recomputed from the chain, and
 * the figures' JSON (id "coinhound-totals"). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "report/html.h"
#include "report/totals_internal.h"

#define MAX_SEGMENTS 6 /* actors drawn in the chart; the rest are "other actors" */

static void usd(FILE *f, double v) {
    char b[32];
    rh_esc(f, rh_usd_short(v, b));
}

static void share(FILE *f, double v) {
    char b[16];
    if (v < 0)
        fputs("n/a", f);
    else
        rh_esc(f, rh_pct(v, 1, b));
}

/* The y axis: a round step (1, 2 or 5 times a power of ten) so about five
 * lines cover max. */
static double nice_step(double max) {
    double raw = max / 5, mag = pow(10, floor(log10(raw))), r = raw / mag;
    return (r <= 1 ? 1 : r <= 2 ? 2 : r <= 5 ? 5 : 10) * mag;
}

/* Stacked bars: each year's thefts, by actor (the largest MAX_SEGMENTS). */
static void chart_years(const rt_totals *t, FILE *f) {
    if (!t->n_years) return;
    size_t na = t->n_actors < MAX_SEGMENTS ? t->n_actors : MAX_SEGMENTS;
    bool other = t->n_actors > MAX_SEGMENTS;
    double max = 0;
    for (size_t i = 0; i < t->n_years; i++)
        if (t->years[i].usd > max) max = t->years[i].usd;
    if (max <= 0) max = 1;
    double step = nice_step(max), top = step;
    while (top < max)
        top += step;
    const double W = 1000, H = 320, L = 80, R = 20, T = 20, B = 60;
    double bw = (W - L - R) / (double)t->n_years;
    fprintf(f,
            "<figure>\n<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart-years\" viewBox=\"0 "
            "0 %.0f %.0f\" width=\"100%%\" role=\"img\" aria-label=\"Stolen value per year by "
            "actor\">\n",
            W, H);
    for (double v = 0; v <= top + step / 2; v += step) {
        double y = T + (H - T - B) * (1 - v / top);
        char b[32];
        fprintf(f, "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#d9dee7\"/>\n",
                L, W - R, y, y);
        fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\">", L - 6,
                y + 4);
        rh_esc(f, rh_usd_short(v, b));
        fputs("</text>\n", f);
    }
    for (size_t i = 0; i < t->n_years; i++) {
        const rt_year *yr = &t->years[i];
        double x = L + bw * (double)i + bw * 0.15, w = bw * 0.7, base = H - B;
        double seg_total = 0;
        size_t ni = ch_incidents_count(t->set);
        for (size_t a = 0; a < na + (other ? 1 : 0); a++) {
            double v = 0;
            for (size_t k = 0; k < ni; k++) {
                const ch_incident *x2 = ch_incidents_get(t->set, k);
                if (x2->year != yr->year) continue;
                bool match = false;
                if (a < na) {
                    match = !strcasecmp(x2->actor, t->actors[a]);
                } else {
                    match = true;
                    for (size_t j = 0; j < na; j++)
                        if (!strcasecmp(x2->actor, t->actors[j])) match = false;
                }
                if (match) v += x2->usd;
            }
            if (v <= 0) continue;
            double h = (H - T - B) * v / top;
            base -= h;
            seg_total += v;
            fprintf(
                f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>",
                x, base, w, h, a < na ? rh_color(a) : "#8a93a3");
            rh_esc(f, a < na ? t->actors[a] : "other actors");
            fputs(": ", f);
            usd(f, v);
            fputs("</title></rect>\n", f);
        }
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"11\">",
                x + w / 2, base - 4);
        usd(f, seg_total);
        fprintf(f,
                "</text>\n<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\" font-size=\"12\">%d"
                "</text>\n",
                x + w / 2, H - B + 16, yr->year);
    }
    /* legend */
    double lx = L;
    for (size_t a = 0; a < na + (other ? 1 : 0); a++) {
        const char *name = a < na ? t->actors[a] : "other actors";
        fprintf(f, "<rect x=\"%.0f\" y=\"%.0f\" width=\"12\" height=\"12\" fill=\"%s\"/>", lx,
                H - 24, a < na ? rh_color(a) : "#8a93a3");
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" font-size=\"12\">", lx + 16, H - 14);
        rh_esc(f, name);
        fputs("</text>\n", f);
        lx += 30 + 7.0 * (double)(strlen(name) < 40 ? strlen(name) : 40);
    }
    fputs("</svg>\n<figcaption>Stolen value per year in US dollars at the time of each theft, as "
          "the incidents state it, stacked by the actor each is attributed to.</figcaption>\n"
          "</figure>\n",
          f);
}

/* Pairs of bars per published figure: the publisher's share, and this set's
 * share over the same kind of denominator. */
static void chart_shares(const rt_totals *t, FILE *f) {
    size_t n = 0;
    for (size_t i = 0; i < t->n_cmp; i++)
        if (t->cmp[i].their_share >= 0 || t->cmp[i].our_share >= 0) n++;
    if (!n) return;
    const double W = 1000, H = 300, L = 60, R = 20, T = 20, B = 78;
    double gw = (W - L - R) / (double)n;
    fprintf(f,
            "<figure>\n<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart-shares\" "
            "viewBox=\"0 0 %.0f %.0f\" width=\"100%%\" role=\"img\" aria-label=\"Shares per year, "
            "published and this file's\">\n",
            W, H);
    for (int p = 0; p <= 100; p += 25) {
        double y = T + (H - T - B) * (1 - p / 100.0);
        fprintf(f,
                "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#d9dee7\"/>"
                "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\">%d%%</text>\n",
                L, W - R, y, y, L - 6, y + 4, p);
    }
    size_t k = 0;
    for (size_t i = 0; i < t->n_cmp; i++) {
        const rt_compare *c = &t->cmp[i];
        if (!(c->their_share >= 0 || c->our_share >= 0)) continue;
        double x = L + gw * (double)k++;
        double bw = gw * 0.32;
        double vals[2] = {c->their_share, c->our_share};
        const char *cols[2] = {"#1d2430", "#2f6db5"};
        for (int b = 0; b < 2; b++) {
            double bx = x + gw * 0.15 + (double)b * (bw + 4);
            if (vals[b] < 0) continue;
            double v = vals[b] > 1 ? 1 : vals[b];
            double h = (H - T - B) * v, y = H - B - h;
            fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>",
                    bx, y, bw, h, cols[b]);
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"10\">",
                    bx + bw / 2, y - 3);
            share(f, vals[b]);
            fputs("</text>\n", f);
        }
        fprintf(f, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\" font-size=\"11\">",
                x + gw / 2, H - B + 14);
        rh_escf(f, "%d %s", c->p->year, c->p->actor);
        fprintf(f,
                "</text><text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\" font-size=\"10\" "
                "fill=\"#5b6577\">",
                x + gw / 2, H - B + 28);
        rh_esc(f, c->p->publisher);
        fprintf(f,
                "</text><text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\" font-size=\"10\" "
                "fill=\"#5b6577\">",
                x + gw / 2, H - B + 40);
        rh_escf(f, "of %s", c->service ? "service compromises" : "all thefts");
        fputs("</text>\n", f);
    }
    fprintf(f,
            "<rect x=\"%.0f\" y=\"%.0f\" width=\"12\" height=\"12\" fill=\"#1d2430\"/><text "
            "x=\"%.0f\" y=\"%.0f\" font-size=\"12\">as published</text><rect x=\"%.0f\" "
            "y=\"%.0f\" width=\"12\" height=\"12\" fill=\"#2f6db5\"/><text x=\"%.0f\" y=\"%.0f\" "
            "font-size=\"12\">this file, same kind of denominator</text>\n",
            L, H - 22, L + 16, H - 12, L + 140, H - 22, L + 156, H - 12);
    fputs("</svg>\n<figcaption>Each pair: the publisher's share of the year's thefts and this "
          "file's share over the same kind of denominator. The denominators differ in size: see "
          "the table.</figcaption>\n</figure>\n",
          f);
}

/* Why a published figure and ours differ, in words. */
static void explain(const rt_compare *c, FILE *f) {
    const ch_published *p = c->p;
    double d = p->usd - c->ours;
    rh_esc(f, p->publisher);
    fputs(" counts ", f);
    usd(f, p->usd);
    rh_escf(f, " stolen by %s in %d; this file lists %zu incident%s attributed to %s that year, ",
            p->actor, p->year, c->ours_n, c->ours_n == 1 ? "" : "s", p->actor);
    usd(f, c->ours);
    fputs(". ", f);
    if (d > 0) {
        rh_esc(f, "The publisher's figure is larger by ");
        usd(f, d);
        rh_esc(f, ": it counts every theft it attributed from its own investigations, most of "
                  "which have no public citation this file could list, and may include later "
                  "attributions. ");
    } else if (d < 0) {
        rh_esc(f, "This file's figure is larger by ");
        usd(f, -d);
        rh_esc(f, ": it lists incidents attributed after the publication or valued at other "
                  "prices (the amounts here are as each incident's source reports them). ");
    }
    if (c->their_share >= 0 && c->our_share >= 0) {
        rh_escf(f, "The shares differ because the denominators do: %s's share is of %s",
                p->publisher, p->denominator);
        if (p->denominator_usd > 0) {
            fputs(" (", f);
            usd(f, p->denominator_usd);
            fputs(")", f);
        }
        rh_esc(f, c->service ? ", this file's of the service compromises it lists ("
                             : ", this file's of all the thefts it lists (");
        usd(f, c->ours_denom);
        rh_esc(f, c->our_share >= c->their_share
                      ? "); a file that lists only the large, cited thefts has a smaller "
                        "denominator, which raises the share."
                      : "); here this file's share is the lower one: the unattributed thefts it "
                        "lists weigh more in its smaller denominator.");
    }
}

/* The published figures beside this file's, over the same kind of
 * denominator: the table, the chart of shares, and each difference in words. */
static void section_compare(const rt_totals *t, FILE *f) {
    fputs("<h2 id=\"published\">Published figures beside this file's</h2>\n", f);
    if (!t->n_cmp) {
        fputs("<p>No published figures were given (--published).</p>\n", f);
        return;
    }
    fputs("<table class=\"published\"><thead><tr><th>Year</th><th>Publisher</th><th>Actor</th>"
          "<th class=\"num\">Published</th><th>Of (denominator)</th><th class=\"num\">Share</th>"
          "<th class=\"num\">This file</th><th>Of</th><th class=\"num\">Share</th>"
          "<th class=\"num\">Difference</th></tr></thead><tbody>\n",
          f);
    for (size_t i = 0; i < t->n_cmp; i++) {
        const rt_compare *c = &t->cmp[i];
        const ch_published *p = c->p;
        fprintf(f, "<tr class=\"pub\" data-year=\"%d\" data-ours-usd=\"%.0f\"><td>%d</td><td>",
                p->year, c->ours, p->year);
        rh_link(f, p->source_url, p->publisher);
        fputs("</td><td>", f);
        rh_esc(f, p->actor);
        fputs("</td><td class=\"num\">", f);
        usd(f, p->usd);
        fputs("</td><td>", f);
        rh_esc(f, p->denominator);
        if (p->denominator_usd > 0) {
            fputs(" (", f);
            usd(f, p->denominator_usd);
            fputs(")", f);
        }
        fputs("</td><td class=\"num\">", f);
        share(f, c->their_share);
        fputs("</td><td class=\"num\">", f);
        usd(f, c->ours);
        fputs("</td><td>", f);
        rh_esc(f, c->service ? "service compromises" : "all thefts");
        fputs(" (", f);
        usd(f, c->ours_denom);
        fputs(")</td><td class=\"num\">", f);
        share(f, c->our_share);
        fputs("</td><td class=\"num\">", f);
        double d = p->usd - c->ours;
        if (d < 0) fputs("−", f);
        usd(f, d < 0 ? -d : d);
        fputs("</td></tr>\n", f);
    }
    fputs("</tbody></table>\n", f);
    chart_shares(t, f);
    fputs("<h3>The differences explained</h3>\n<ul>\n", f);
    for (size_t i = 0; i < t->n_cmp; i++) {
        fputs("<li>", f);
        explain(&t->cmp[i], f);
        if (t->cmp[i].p->note[0]) {
            fputs(" <span class=\"note\">(", f);
            rh_esc(f, t->cmp[i].p->note);
            fputs(")</span>", f);
        }
        fputs("</li>\n", f);
    }
    fputs("</ul>\n", f);
}

static void chain_cell(const rt_totals *t, size_t i, FILE *f) {
    const ch_incident_chain *c = &t->chain[i];
    char b[80];
    if (!c->done) return;
    if (!c->found) {
        rh_escf(f, "none of %zu ref%s in the store", c->refs, c->refs == 1 ? "" : "s");
        return;
    }
    rh_esc(f, rh_amount(c->amount, c->decimals, b));
    fputc(' ', f);
    rh_esc(f, c->asset);
    rh_escf(f, " (%zu of %zu refs)", c->found, c->refs);
    if (c->comparable) {
        bool neg = c->amount < c->listed;
        ch_taint_sum d = neg ? c->listed - c->amount : c->amount - c->listed;
        fputs("<br><span class=\"note\">", f);
        if (!d)
            fputs("equal to the listed amount", f);
        else
            rh_escf(f, "%s%s %s against the listed amount", neg ? "−" : "+",
                    rh_amount(d, c->decimals, b), c->asset);
        fputs("</span>", f);
    }
}

/* Every incident as its file states it, with its citation and attribution
 * and, given a store, the amount its refs received on chain. */
static void section_incidents(const rt_totals *t, FILE *f) {
    size_t n = ch_incidents_count(t->set);
    bool chain = t->o->store != NULL;
    fputs("<h2 id=\"incidents\">The incidents</h2>\n", f);
    rh_escf(f, "Every incident counted, as its file states it, with its citation%s.",
            chain ? " and, where it names theft txs or addresses in the store, the amount they "
                    "received on chain"
                  : "");
    fprintf(f,
            "\n<table class=\"incidents\"><thead><tr><th>Date</th><th>Victim</th><th>Kind</th>"
            "<th>Actor (attribution)</th><th class=\"num\">USD</th><th class=\"num\">Coin</th>"
            "%s<th>Source</th></tr></thead><tbody>\n",
            chain ? "<th>On chain</th>" : "");
    for (size_t i = 0; i < n; i++) {
        const ch_incident *x = ch_incidents_get(t->set, i);
        fprintf(f, "<tr class=\"incident\" data-year=\"%d\" data-usd=\"%.0f\" data-actor=\"",
                x->year, x->usd);
        rh_esc(f, x->actor);
        fputs("\"><td class=\"date\">", f);
        rh_esc(f, x->date);
        fputs("</td><td>", f);
        rh_esc(f, x->victim);
        fputs("</td><td>", f);
        rh_esc(f, x->kind);
        fputs("</td><td>", f);
        rh_esc(f, x->actor);
        if (x->group[0]) {
            fputs(" (", f);
            rh_esc(f, x->group);
            fputs(")", f);
        }
        if (x->attribution[0]) {
            fputs("<br><span class=\"note\">", f);
            rh_link(f, x->attribution_url, x->attribution);
            fputs("</span>", f);
        }
        fputs("</td><td class=\"num\">", f);
        usd(f, x->usd);
        fputs("</td><td class=\"num\">", f);
        if (x->coin_amount[0]) {
            rh_esc(f, x->coin_amount);
            fputc(' ', f);
            rh_esc(f, x->coin);
        }
        fputs("</td>", f);
        if (chain) {
            fputs("<td>", f);
            chain_cell(t, i, f);
            fputs("</td>", f);
        }
        fputs("<td>", f);
        rh_link(f, x->source_url, "source");
        if (x->note[0]) {
            fputs("<br><span class=\"note\">", f);
            rh_esc(f, x->note);
            fputs("</span>", f);
        }
        fputs("</td></tr>\n", f);
    }
    fputs("</tbody></table>\n", f);
}

/* The table of the chosen grouping, then the denominators per year. */
static void section_groups(const rt_totals *t, FILE *f) {
    ch_totals_by by = t->o->by;
    fputs("<h2 id=\"totals\">Stolen value by ", f);
    rh_esc(f, by == CH_TOTALS_YEAR ? "year" : by == CH_TOTALS_ACTOR ? "actor" : "actor and year");
    fputs("</h2>\n<table class=\"groups\"><thead><tr>", f);
    if (by != CH_TOTALS_ACTOR) fputs("<th>Year</th>", f);
    if (by != CH_TOTALS_YEAR) fputs("<th>Actor</th>", f);
    fputs("<th class=\"num\">Incidents</th><th class=\"num\">Stolen (USD)</th>"
          "<th class=\"num\">Share of all thefts</th><th class=\"num\">Of which service "
          "compromises</th><th class=\"num\">Share of service compromises</th></tr></thead>"
          "<tbody>\n",
          f);
    for (size_t i = 0; i < t->n_groups; i++) {
        const rt_group *g = &t->groups[i];
        fprintf(f, "<tr class=\"group\" data-year=\"%d\" data-actor=\"", g->year);
        rh_esc(f, g->actor ? g->actor : "");
        fprintf(f, "\" data-usd=\"%.0f\" data-incidents=\"%zu\">", g->usd, g->n);
        if (by != CH_TOTALS_ACTOR) fprintf(f, "<td>%d</td>", g->year);
        if (by != CH_TOTALS_YEAR) {
            fputs("<td>", f);
            rh_esc(f, g->actor);
            fputs("</td>", f);
        }
        fprintf(f, "<td class=\"num\">%zu</td><td class=\"num\">", g->n);
        usd(f, g->usd);
        fputs("</td><td class=\"num\">", f);
        share(f, g->share_all);
        fputs("</td><td class=\"num\">", f);
        usd(f, g->usd_service);
        fputs("</td><td class=\"num\">", f);
        share(f, g->share_service);
        fputs("</td></tr>\n", f);
    }
    fputs("</tbody></table>\n", f);
    /* the denominators, per year */
    fputs("<h3>The denominators: every theft in this file, per year</h3>\n<table class=\"years\">"
          "<thead><tr><th>Year</th><th class=\"num\">Incidents</th><th class=\"num\">All thefts "
          "(USD)</th><th class=\"num\">Service compromises</th><th class=\"num\">Service "
          "compromises (USD)</th></tr></thead><tbody>\n",
          f);
    for (size_t i = 0; i < t->n_years; i++) {
        const rt_year *y = &t->years[i];
        fprintf(f,
                "<tr class=\"year\" data-year=\"%d\" data-usd=\"%.0f\" data-service-usd=\"%.0f\">"
                "<td>%d</td><td class=\"num\">%zu</td><td class=\"num\">",
                y->year, y->usd, y->usd_service, y->year, y->n);
        usd(f, y->usd);
        fprintf(f, "</td><td class=\"num\">%zu</td><td class=\"num\">", y->n_service);
        usd(f, y->usd_service);
        fputs("</td></tr>\n", f);
    }
    fputs("</tbody></table>\n", f);
}

int rt_write_html(const rt_totals *t, FILE *f) {
    const ch_totals_opts *o = t->o;
    char gen[32];
    const char *title = o->title ? o->title : "Stolen cryptocurrency by actor and year";
    const char *generated = o->generated ? o->generated : rh_now(gen);
    size_t n = ch_incidents_count(t->set);
    rh_page_begin(f, title);
    fputs("<h1>", f);
    rh_esc(f, title);
    fputs("</h1>\n<p class=\"sub\">", f);
    rh_escf(f, "%zu incidents", n);
    if (t->n_years) rh_escf(f, ", %d to %d", t->years[0].year, t->years[t->n_years - 1].year);
    rh_escf(f, " · generated %s", generated);
    fputs("</p>\n<div class=\"cards\">\n<div class=\"card\"><div class=\"k\">Stolen, all "
          "incidents</div><div class=\"v\">",
          f);
    usd(f, t->usd);
    fputs("</div></div>\n<div class=\"card\"><div class=\"k\">Attributed to an actor</div><div "
          "class=\"v\">",
          f);
    usd(f, t->usd_attributed);
    fputs("</div><div class=\"n\">", f);
    share(f, t->usd > 0 ? t->usd_attributed / t->usd : -1);
    fputs(" of the value in this file</div></div>\n", f);
    if (t->n_actors) {
        fputs("<div class=\"card\"><div class=\"k\">Largest actor</div><div class=\"v\">", f);
        rh_esc(f, t->actors[0]);
        fputs("</div><div class=\"n\">", f);
        usd(f, t->actor_usd[0]);
        fputs("</div></div>\n", f);
    }
    fputs("</div>\n<h2 id=\"denominators\">How the shares are counted</h2>\n<p>A share means "
          "nothing without its denominator, so this report states it every time. <strong>All "
          "thefts</strong>: the value of every incident of the year in this file. <strong>Service "
          "compromises</strong>: only thefts from services (exchanges, bridges, custodians, wallet "
          "providers, payment processors), not DeFi contract exploits nor thefts from "
          "individuals. This file lists incidents with a public citation; the publishers' totals "
          "count every theft they tracked, so their denominators are larger and the shares here "
          "are not theirs (the comparison below says by how much and why).</p>\n",
          f);
    fputs("<h2 id=\"chart\">Per year</h2>\n", f);
    chart_years(t, f);
    section_groups(t, f);
    section_compare(t, f);
    section_incidents(t, f);
    fputs("<h2 id=\"method\">Method</h2>\n<p>", f);
    rh_esc(f, "Amounts are US dollars at the time of each theft as the cited source reports them "
              "(not re-priced), summed per year of the theft's date. An actor is counted as the "
              "incident's record names it, with the attribution and its source beside it; "
              "unattributed thefts count in the denominators only.");
    if (o->store) {
        rh_escf(f,
                " Amounts on chain were recomputed from the %s store: each theft tx or address "
                "is resolved as `coinhound trace --from` resolves it, and what it received is "
                "summed.",
                o->chain ? o->chain : "btc");
    }
    fputs("</p>\n<p class=\"note\">The figures of this page are embedded as JSON (the element "
          "with id coinhound-totals), the same as `coinhound report totals --json`.</p>\n",
          f);
    FILE *js = rh_json_block_open(f, "coinhound-totals");
    int rc = js ? rt_write_json(t, js) : -1;
    if (js && rh_json_block_close(js) != 0) rc = -1;
    rh_page_end(f, generated);
    return rc != 0 || ferror(f) ? -1 : 0;
}
