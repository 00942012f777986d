/* The case report's flow diagram: a Sankey of the theft's main asset, drawn
 * as inline SVG. Three columns: the source; what became of it (each landing
 * category, still held, fees, not followed); and the services inside each
 * category (the largest c->o.max_services, the rest grouped). Band widths
 * are proportional to amounts (display only: the tables hold the exact
 * figures). */
#include <stdlib.h>
#include <string.h>

#include "report/case_internal.h"
#include "report/html.h"

#define W        1040.0
#define NODE_W   14.0
#define GAP      10.0
#define MIN_H    2.0
#define MAX_NODE 48

typedef struct node {
    const char *label;
    const char *sub; /* category of a service node */
    double v;        /* amount (base units, as a double) */
    double y, h;
    double in_y, out_y; /* where the next band starts on each side */
    size_t color;
    int parent; /* column 2: its category node */
} node;

static void place(node *n, size_t k, double top, double scale) {
    double y = top;
    for (size_t i = 0; i < k; i++) {
        n[i].h = n[i].v * scale < MIN_H ? MIN_H : n[i].v * scale;
        n[i].y = y;
        n[i].in_y = n[i].out_y = y;
        y += n[i].h + GAP;
    }
}

static double col_height(const node *n, size_t k, double scale) {
    double h = 0;
    for (size_t i = 0; i < k; i++)
        h += (n[i].v * scale < MIN_H ? MIN_H : n[i].v * scale) + (i ? GAP : 0);
    return h;
}

static void band(FILE *f, double x0, double y0, double x1, double y1, double h, const char *color) {
    double xm = (x0 + x1) / 2;
    if (h < 0.6) h = 0.6;
    fprintf(f,
            "<path d=\"M%.1f,%.1f C%.1f,%.1f %.1f,%.1f %.1f,%.1f L%.1f,%.1f C%.1f,%.1f %.1f,%.1f "
            "%.1f,%.1f Z\" fill=\"%s\" fill-opacity=\"0.35\"/>\n",
            x0, y0, xm, y0, xm, y1, x1, y1, x1, y1 + h, xm, y1 + h, xm, y0 + h, x0, y0 + h, color);
}

static void label(FILE *f, rc_ctx *c, double x, double y, const char *anchor, const char *name,
                  double v) {
    char b[84], an[128];
    int dec;
    const char *unit = ch_trace_asset_name(c->r, c->m->asset, &dec, an);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" font-size=\"12\">", x, y, anchor);
    rh_esc(f, name);
    fprintf(f, "<tspan font-size=\"11\" fill=\"#5b6577\"> ");
    /* the amount, rounded for the picture: whole base units from the double */
    ch_taint_sum q = (ch_taint_sum)(v + 0.5);
    rh_esc(f, rh_amount_short(q, dec, b));
    fputc(' ', f);
    rh_esc(f, dec >= 0 ? unit : "units");
    fputs("</tspan></text>\n", f);
}

/* Column 1: each landing category of the main asset (in order of first
 * appearance), then what else became of the source: held or newly mined,
 * fees, not followed, returned. Returns how many nodes; *n_landcat gets the
 * landing categories' count (they come first). */
static size_t category_nodes(const rc_ctx *c, node cat[MAX_NODE], size_t *n_landcat) {
    const ch_trace_sums *m = c->m;
    size_t nc = 0;
    for (size_t i = 0; i < c->n_svc && nc < MAX_NODE - 4; i++) {
        if (c->svc[i].asset != m->asset) continue;
        size_t k = 0;
        while (k < nc && strcmp(cat[k].label, c->svc[i].category))
            k++;
        if (k == nc) {
            cat[nc].label = c->svc[i].category;
            cat[nc].color = nc;
            nc++;
        }
        cat[k].v += (double)c->svc[i].amount;
    }
    *n_landcat = nc;
    bool fwd = c->sp->direction == CH_TRACE_FORWARD;
    struct {
        const char *name;
        ch_taint_sum v;
    } rest[] = {
        {fwd ? "still held (unlabelled)" : "newly mined", fwd ? m->held : m->coinbase + m->minted},
        {"fees", fwd ? m->fees : 0},
        {"not followed (limits)", m->below_min + m->cut_hops + m->cut_window},
        {"returned to the source", m->returned},
    };
    for (size_t i = 0; i < sizeof rest / sizeof *rest; i++)
        if (rest[i].v) {
            cat[nc].label = rest[i].name;
            cat[nc].v = (double)rest[i].v;
            cat[nc].color = 100 + i; /* greys */
            nc++;
        }
    return nc;
}

/* Column 2: the services of the landing categories, the first
 * c->o.max_services of c->svc (the largest first) each a node, the rest
 * grouped per category as "other services"; then ordered by category, so
 * that bands do not cross. Returns how many nodes. */
static size_t service_nodes(const rc_ctx *c, const node *cat, size_t n_landcat,
                            node svc[MAX_NODE]) {
    double other[MAX_NODE] = {0};
    size_t ns = 0, shown = 0;
    for (size_t i = 0; i < c->n_svc; i++) {
        if (c->svc[i].asset != c->m->asset) continue;
        size_t k = 0;
        while (k < n_landcat && strcmp(cat[k].label, c->svc[i].category))
            k++;
        if (k == n_landcat) continue;
        if (shown < c->o.max_services && ns < MAX_NODE - n_landcat) {
            svc[ns].label = c->svc[i].entity[0] ? c->svc[i].entity : "(unnamed)";
            svc[ns].sub = c->svc[i].category;
            svc[ns].v = (double)c->svc[i].amount;
            svc[ns].parent = (int)k;
            svc[ns].color = cat[k].color;
            ns++;
            shown++;
        } else {
            other[k] += (double)c->svc[i].amount;
        }
    }
    for (size_t k = 0; k < n_landcat; k++)
        if (other[k] > 0) {
            svc[ns].label = "other services";
            svc[ns].sub = cat[k].label;
            svc[ns].v = other[k];
            svc[ns].parent = (int)k;
            svc[ns].color = cat[k].color;
            ns++;
        }
    for (size_t a = 1; a < ns; a++) {
        node t = svc[a];
        size_t b = a;
        for (; b > 0 && svc[b - 1].parent > t.parent; b--)
            svc[b] = svc[b - 1];
        svc[b] = t;
    }
    return ns;
}

/* The column headings: the source with its amount, what became of it, and
 * the services when there are any. */
static void headings(FILE *f, rc_ctx *c, size_t ns) {
    char b[84], an[128];
    int dec;
    const char *unit = ch_trace_asset_name(c->r, c->m->asset, &dec, an);
    fputs("<text x=\"190\" y=\"16\" font-size=\"12\" font-weight=\"600\">Source<tspan "
          "font-weight=\"400\" fill=\"#5b6577\">: ",
          f);
    rh_esc(f, rh_amount_short(c->m->source, dec, b));
    fputc(' ', f);
    rh_esc(f, dec >= 0 ? unit : "units");
    fputs("</tspan></text>\n", f);
    fputs(
        "<text x=\"450\" y=\"16\" font-size=\"12\" font-weight=\"600\">What became of it</text>\n",
        f);
    if (ns)
        fputs("<text x=\"710\" y=\"16\" font-size=\"12\" font-weight=\"600\">Service</text>\n", f);
}

/* The three columns placed, at x0, x1 and x2: the bands (source ->
 * categories, categories -> services), then the nodes with their labels. */
static void draw_columns(FILE *f, rc_ctx *c, node *src, node *cat, size_t nc, const node *svc,
                         size_t ns, double scale) {
    const double x0 = 190, x1 = 450, x2 = 710;
    for (size_t i = 0; i < nc; i++) {
        const char *col = cat[i].color >= 100 ? "#8a93a3" : rh_color(cat[i].color);
        double hh = cat[i].v * scale;
        band(f, x0 + NODE_W, src->out_y, x1, cat[i].in_y, hh, col);
        src->out_y += hh;
        cat[i].in_y += hh;
    }
    for (size_t i = 0; i < ns; i++) {
        node *p = &cat[svc[i].parent];
        double hh = svc[i].v * scale;
        band(f, x1 + NODE_W, p->out_y, x2, svc[i].in_y, hh, rh_color(p->color));
        p->out_y += hh;
    }
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.0f\" height=\"%.1f\" fill=\"#1d2430\"/>\n",
            x0, src->y, NODE_W, src->h);
    for (size_t i = 0; i < nc; i++) {
        const char *col = cat[i].color >= 100 ? "#8a93a3" : rh_color(cat[i].color);
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.0f\" height=\"%.1f\" fill=\"%s\"/>\n", x1,
                cat[i].y, NODE_W, cat[i].h, col);
        label(f, c, x1 + NODE_W + 6, cat[i].y + cat[i].h / 2 + 4, "start", cat[i].label, cat[i].v);
    }
    for (size_t i = 0; i < ns; i++) {
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.0f\" height=\"%.1f\" fill=\"%s\"/>\n", x2,
                svc[i].y, NODE_W, svc[i].h, rh_color(svc[i].color));
        label(f, c, x2 + NODE_W + 6, svc[i].y + svc[i].h / 2 + 4, "start", svc[i].label, svc[i].v);
    }
}

void rc_section_flow(rc_ctx *c) {
    FILE *f = c->f;
    const ch_trace_sums *m = c->m;
    if (!m->source) return;
    node cat[MAX_NODE], svc[MAX_NODE];
    memset(cat, 0, sizeof cat);
    memset(svc, 0, sizeof svc);
    size_t n_landcat;
    size_t nc = category_nodes(c, cat, &n_landcat);
    size_t ns = service_nodes(c, cat, n_landcat, svc);
    /* scale: the tallest column fits 360 px (poison can create taint, so a
     * column may hold more than the source) */
    double total1 = 0;
    for (size_t i = 0; i < nc; i++)
        total1 += cat[i].v;
    double big = (double)m->source;
    if (total1 > big) big = total1;
    double scale = 360.0 / big;
    node src = {.label = "source", .v = (double)m->source};
    place(&src, 1, 30, scale);
    place(cat, nc, 30, scale);
    place(svc, ns, 30, scale);
    double h = col_height(cat, nc, scale);
    double h2 = col_height(svc, ns, scale);
    if (h2 > h) h = h2;
    if (src.h > h) h = src.h;
    double H = h + 60;
    fputs("<h2 id=\"flow\">Flow of the funds</h2>\n<figure>\n", f);
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"sankey\" viewBox=\"0 0 %.0f %.0f\" "
            "width=\"100%%\" role=\"img\" aria-label=\"Flow of the traced funds\">\n",
            W, H);
    headings(f, c, ns);
    draw_columns(f, c, &src, cat, nc, svc, ns, scale);
    fputs("</svg>\n<figcaption>", f);
    rh_escf(f,
            "Widths are proportional to the amounts of the main asset under the %s policy; the "
            "tables hold the exact figures.",
            ch_trace_policy_name(c->sp->policy));
    if (c->n_svc > c->o.max_services)
        rh_escf(f, " The %zu largest services are drawn; the others are grouped per category.",
                c->o.max_services);
    fputs("</figcaption>\n</figure>\n", f);
}
