/* The case report's framing: the line under the title (chain, policy,
 * direction, data up to which block), the investigator's notes, and the
 * method: how the trace was run, its limits, the conservation of the
 * amounts, the label sources, how to reproduce it, and the trace's JSON. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "report/case_internal.h"
#include "report/html.h"

/* The store's last block: its number and time. */
static void data_tip(const rc_ctx *c, uint64_t *number, uint32_t *time, uint64_t *blocks) {
    ch_store_counts k;
    ch_store_get_counts(c->s, &k);
    *blocks = k.blocks;
    *number = 0;
    *time = 0;
    if (!k.blocks) return;
    *number = ch_store_first_number(c->s) + k.blocks - 1;
    *time = ch_store_block(c->s, (uint32_t)(k.blocks - 1))->time;
}

void rc_subtitle(rc_ctx *c, const char *generated) {
    uint64_t tip, blocks;
    uint32_t t;
    char tb[32];
    data_tip(c, &tip, &t, &blocks);
    rh_escf(c->f,
            "Chain %s · %s trace, %s policy · data up to block %" PRIu64 " (%s) · generated %s",
            c->sp->chain ? c->sp->chain : (c->account ? "eth" : "btc"),
            ch_trace_direction_name(c->sp->direction), ch_trace_policy_name(c->sp->policy), tip,
            rh_time(t, tb), generated);
}

void rc_section_notes(rc_ctx *c) {
    FILE *f = c->f;
    if (!(c->o.notes && c->o.notes[0]) && !c->o.n_tags) return;
    fputs("<h2 id=\"notes\">Case notes</h2>\n", f);
    if (c->o.n_tags) {
        fputs("<p>", f);
        for (size_t i = 0; i < c->o.n_tags; i++) {
            fputs("<span class=\"tag\">", f);
            rh_esc(f, c->o.tags[i]);
            fputs("</span> ", f);
        }
        fputs("</p>\n", f);
    }
    if (c->o.notes && c->o.notes[0]) {
        fputs("<p style=\"white-space:pre-wrap\">", f);
        rh_esc(f, c->o.notes);
        fputs("</p>\n", f);
    }
}

static const char *policy_text(ch_trace_policy p) {
    switch (p) {
    case CH_POLICY_POISON:
        return "Poison: any taint entering a transaction taints all of its outputs (and fee) in "
               "full. It over-approximates: it never misses where the funds went, and it counts "
               "clean funds it meets as tainted (clean_in below).";
    case CH_POLICY_HAIRCUT:
        return "Haircut: the taint entering a transaction is shared over its outputs and fee in "
               "proportion to their value. Amounts shrink as clean funds mix in but never "
               "vanish; the arithmetic is exact and conserves the total.";
    case CH_POLICY_FIFO:
        return "FIFO (first in, first out): inputs are laid end to end in order, outputs then the "
               "fee along the same line; each output takes exactly the tainted part of the "
               "line it overlaps. Lossless.";
    case CH_POLICY_LIFO:
        return "LIFO: FIFO with the input line reversed.";
    }
    return "";
}

/* The command that reproduces the trace, from the spec. */
static void command_line(rc_ctx *c) {
    const ch_trace_spec *sp = c->sp;
    FILE *f = c->f;
    if (c->o.command) {
        rh_esc(f, c->o.command);
        return;
    }
    rh_escf(f, "coinhound trace --db DIR --chain %s --from %s --policy %s --direction %s",
            sp->chain ? sp->chain : "btc", sp->source, ch_trace_policy_name(sp->policy),
            ch_trace_direction_name(sp->direction));
    if (sp->stop_at) rh_escf(f, " --stop-at '%s'", sp->stop_at);
    if (sp->max_hops) rh_escf(f, " --max-hops %u", sp->max_hops);
    char b[48];
    if (sp->min_amount) rh_escf(f, " --min-amount %s", ch_u128_str(sp->min_amount, b));
    if (sp->since) rh_escf(f, " --since %u", sp->since);
    if (sp->until) rh_escf(f, " --until %u", sp->until);
    if (sp->first_block) rh_escf(f, " --first-block %" PRIu64, sp->first_block);
    if (sp->last_block) rh_escf(f, " --last-block %" PRIu64, sp->last_block);
    fputs(" --labels FILE ...", f);
}

static void row(rc_ctx *c, const char *k, const char *v) {
    fputs("<tr><th>", c->f);
    rh_esc(c->f, k);
    fputs("</th><td>", c->f);
    rh_esc(c->f, v);
    fputs("</td></tr>\n", c->f);
}

static void sums_row(rc_ctx *c, const char *name, const char *what, ch_addr_id asset,
                     ch_taint_sum v) {
    fputs("<tr><td>", c->f);
    rh_esc(c->f, name);
    fputs("</td><td class=\"num\">", c->f);
    rc_amount(c, asset, v);
    fputs("</td><td class=\"note\">", c->f);
    rh_esc(c->f, what);
    fputs("</td></tr>\n", c->f);
}

/* Every distinct label source among the landings. */
static void label_sources(rc_ctx *c) {
    FILE *f = c->f;
    if (!c->sp->labels || !c->n_land) return;
    const char **seen = calloc(c->n_land, sizeof *seen);
    size_t ns = 0;
    if (!seen) return;
    fputs("<h3>Label sources</h3>\n<ul>\n", f);
    for (size_t i = 0; i < c->n_land; i++) {
        ch_label_source ls;
        if (ch_labels_source(c->sp->labels, c->land[i].addr, &ls) != 1) continue;
        /* one line per source name and url (CSV rows name their line: cut it) */
        const char *s = ls.source;
        size_t cut = strlen(s);
        const char *ln = strstr(s, ", line ");
        if (ln) cut = (size_t)(ln - s);
        bool dup = false;
        for (size_t k = 0; k < ns && !dup; k++)
            dup = !strncmp(seen[k], s, cut) && (seen[k][cut] == '\0' || seen[k][cut] == ',');
        if (dup) continue;
        seen[ns++] = s;
        fputs("<li>", f);
        char nm[512];
        snprintf(nm, sizeof nm, "%.*s", (int)(cut < 511 ? cut : 511), s);
        rh_link(f, ls.url, nm);
        if (ls.url[0]) {
            fputs(" <span class=\"note mono\">", f);
            rh_esc(f, ls.url);
            fputs("</span>", f);
        }
        if (ls.date[0]) {
            fputs(" <span class=\"note\">(", f);
            rh_esc(f, ls.date_what);
            fputc(' ', f);
            rh_esc(f, ls.date);
            fputs(")</span>", f);
        }
        fputs("</li>\n", f);
    }
    fputs("</ul>\n", f);
    free(seen);
}

int rc_section_method(rc_ctx *c) {
    FILE *f = c->f;
    const ch_trace_spec *sp = c->sp;
    char b[160], tb[32], t2[32];
    uint64_t tip, blocks;
    uint32_t t;
    data_tip(c, &tip, &t, &blocks);
    fputs("<h2 id=\"method\">Method</h2>\n<p>", f);
    rh_esc(f, policy_text(sp->policy));
    fputs("</p>\n<p>", f);
    rh_esc(f, sp->direction == CH_TRACE_FORWARD
                  ? "Forward: from the source, each tainted output is followed into the "
                    "transaction that spent it, until the funds reach an address labelled with a "
                    "stop category (a landing), stay unspent (a holding), go to fees, or a limit "
                    "stops the trace."
                  : "Backward: from the source, taint is pushed back onto the inputs of the "
                    "transaction that created it, to where the funds came from.");
    fputs("</p>\n<table class=\"method\"><tbody>\n", f);
    row(c, "Source", sp->source);
    row(c, "Chain", sp->chain ? sp->chain : (c->account ? "eth" : "btc"));
    row(c, "Policy", ch_trace_policy_name(sp->policy));
    row(c, "Direction", ch_trace_direction_name(sp->direction));
    row(c, "Stop categories",
        sp->stop_at ? (sp->stop_at[0] ? sp->stop_at : "(none)") : CH_TRACE_DEFAULT_STOP);
    snprintf(b, sizeof b, "%u", sp->max_hops);
    row(c, "Maximum hops", sp->max_hops ? b : "no limit");
    char mb[48];
    row(c, "Minimum amount (base units)",
        sp->min_amount ? ch_u128_str(sp->min_amount, mb) : "none");
    if (sp->since || sp->until) {
        snprintf(b, sizeof b, "%s to %s", sp->since ? rh_time(sp->since, tb) : "open",
                 sp->until ? rh_time(sp->until, t2) : "open");
        row(c, "Time window", b);
    }
    if (sp->first_block || sp->last_block) {
        snprintf(b, sizeof b, "%" PRIu64 " to %s", sp->first_block, sp->last_block ? "" : "open");
        if (sp->last_block)
            snprintf(b, sizeof b, "%" PRIu64 " to %" PRIu64, sp->first_block, sp->last_block);
        row(c, "Block window", b);
    }
    snprintf(b, sizeof b, "block %" PRIu64 " (%s), %" PRIu64 " blocks in the store", tip,
             rh_time(t, tb), blocks);
    row(c, "Data up to", b);
    ch_trace_counts k;
    ch_trace_result_counts(c->r, &k);
    snprintf(b, sizeof b, "%" PRIu64 " transactions processed, %" PRIu64 " edges examined", k.txs,
             k.edge_visits);
    row(c, "Work", b);
    fputs("</tbody></table>\n", f);

    /* conservation: every unit of the source is accounted for */
    const ch_trace_sums *m = c->m;
    fputs("<h3>Where every unit went (the main asset)</h3>\n<table class=\"conservation\">"
          "<tbody>\n",
          f);
    sums_row(c, "source", "tainted at the source", m->asset, m->source);
    sums_row(c, "landed", "reached a stop address (a landing)", m->asset, m->landed);
    sums_row(c, "held", "unspent at an unlabelled address", m->asset, m->held);
    sums_row(c, "fees", "paid to miners", m->asset, m->fees);
    if (m->coinbase || m->minted)
        sums_row(c, "newly mined", "backward: came from new coins", m->asset,
                 m->coinbase + m->minted);
    sums_row(c, "below minimum", "dropped by the minimum amount", m->asset, m->below_min);
    sums_row(c, "beyond max hops", "not followed: the hop limit", m->asset, m->cut_hops);
    sums_row(c, "outside the window", "not followed: the time or block window", m->asset,
             m->cut_window);
    sums_row(c, "returned", "flowed back into a source output", m->asset, m->returned);
    if (sp->policy == CH_POLICY_POISON)
        sums_row(c, "clean in", "poison: clean value met and counted as tainted", m->asset,
                 m->clean_in);
    fputs("</tbody></table>\n<p class=\"note\">For haircut, FIFO and LIFO the terms add up to the "
          "source (each is rounded down to a whole base unit); for poison the source plus clean "
          "in does.</p>\n",
          f);
    label_sources(c);
    fputs("<h3>Reproduce</h3>\n<p class=\"mono\">", f);
    command_line(c);
    fputs("</p>\n<p class=\"note\">The trace's own JSON (docs/trace.md) is embedded in this file "
          "(the element with id coinhound-trace) for programs that check the figures.</p>\n",
          f);
    /* the trace's JSON, the same as `trace --json` */
    FILE *js = rh_json_block_open(f, "coinhound-trace");
    if (!js) return -1;
    int rc = ch_trace_write(c->r, CH_TRACE_JSON, js);
    return rh_json_block_close(js) != 0 ? -1 : rc;
}
