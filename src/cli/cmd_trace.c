/* coinhound trace --db DIR --from TXID|TXID:VOUT|ADDRESS [options]
 * The output formats are a contract (docs/trace.md). */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "coinhound/intel.h"
#include "coinhound/jsonw.h"
#include "coinhound/trace.h"
#include "coinhound/tokens.h"
#include "coinhound/trace_account.h"

#define MAX_LABEL_FILES 64
#define SUMMARY_TOP     10

static void usage(FILE *f) {
    fprintf(f, "usage: coinhound trace --db DIR --from TXID|TXID:VOUT|ADDRESS [options]\n\n"
               "Follow tainted coins through the chain. --from TXID taints every output of\n"
               "that transaction in full, TXID:VOUT one output, an address everything it\n"
               "received. Forward (the default) follows spenders: where did it go; backward\n"
               "follows inputs: where did it come from. Tracing stops where the coins reach\n"
               "an address labelled with a stop category (a landing: an exchange can freeze\n"
               "them); tainted coins still unspent elsewhere are holdings.\n\n"
               "options:\n"
               "  --policy P        poison (any taint taints everything), haircut (shared in\n"
               "                    proportion to value; the default), fifo (first in, first\n"
               "                    out, satoshi by satoshi) or lifo\n"
               "  --direction D     forward (default) or backward\n"
               "  --labels FILE     CSV with header address,category,entity (may repeat); on\n"
               "                    top of the attribution store in DIR/intel when present\n"
               "  --stop-at LIST    stop categories, comma-separated (default:\n"
               "                    " CH_TRACE_DEFAULT_STOP ";\n"
               "                    \"\" for none)\n"
               "  --max-hops N      follow at most N transactions from the source\n"
               "  --min-amount N    drop taint below N base units (satoshi; wei or token units on\n"
               "                    account chains), counted as below_min\n"
               "  --since T         only transactions in blocks from time T on, and\n"
               "  --until T         up to time T (unix seconds or YYYY-MM-DD, UTC)\n"
               "  --json            one JSON object: policy, direction, source, tainted_total,\n"
               "                    landings [{address, entity, category, amount, hops, path}],\n"
               "                    holdings [{address, amount}], fees, below_min, edge_visits\n"
               "                    (amounts in satoshi; haircut may give fractions)\n"
               "  --csv             the landings as CSV: address,entity,category,amount,hops\n"
               "  --dot             the flow as a Graphviz digraph (render: dot -Tsvg)\n\n"
               "Account chains (--chain eth|bsc|polygon|..., or an 0x --from): --from is an\n"
               "0x address (everything it received) or an 0x tx hash (every transfer of it);\n"
               "policies poison, haircut, fifo; traced per asset, swaps inside a tx continue\n"
               "in the asset received. Amounts in base units (wei, token units) as strings,\n"
               "with amount_display and asset per landing and holding.\n"
               "  --chain NAME      the store DIR/NAME (default btc)\n"
               "  --tokens FILE     token table CSV (address,symbol[,decimals]; may repeat)\n"
               "  --first-block N   only blocks numbered N and later, and\n"
               "  --last-block N    up to N\n\n"
               "Without a format: totals per entity, the largest landings with their\n"
               "shortest path, and the holdings.\n\n"
               "example: where did the coins of a theft go, FIFO, with our labels:\n"
               "  coinhound trace --db ./chdb --from "
               "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16:0 \\\n"
               "      --policy fifo --labels exchanges.csv --max-hops 50 --json\n\n"
               "Exit 0 ok, 1 the source is not in the store, 2 an error.\n");
}

static void jw_amount(ch_jw *w, ch_taint_sum v) {
    char buf[64];
    ch_jw_raw(w, ch_taint_str(v, buf));
}

static void jw_txid(ch_jw *w, ch_store *s, uint64_t tx) {
    ch_hash256 h;
    char hex[65];
    ch_store_txid(s, tx, &h);
    ch_hash256_to_hex(&h, hex);
    ch_jw_str(w, hex);
}

static void print_json(ch_trace *t, ch_store *s, const ch_trace_opts *o, const char *from) {
    ch_trace_totals tot;
    ch_trace_get_totals(t, &tot);
    const ch_trace_landing *land;
    const ch_trace_holding *hold;
    size_t nl = ch_trace_landings(t, &land), nh = ch_trace_holdings(t, &hold);
    char ab[128];
    ch_jw w;
    ch_jw_init(&w, stdout);
    ch_jw_obj_begin(&w);
    ch_jw_key(&w, "policy");
    ch_jw_str(&w, ch_trace_policy_name(o->policy));
    ch_jw_key(&w, "direction");
    ch_jw_str(&w, ch_trace_direction_name(o->direction));
    ch_jw_key(&w, "source");
    ch_jw_str(&w, from);
    ch_jw_key(&w, "tainted_total");
    jw_amount(&w, tot.source);
    ch_jw_key(&w, "landings");
    ch_jw_arr_begin(&w);
    for (size_t i = 0; i < nl; i++) {
        ch_jw_obj_begin(&w);
        ch_jw_key(&w, "address");
        ch_jw_str(&w, cli_addr_str(s, land[i].addr, ab));
        ch_jw_key(&w, "entity");
        ch_jw_str(&w, land[i].label.entity);
        ch_jw_key(&w, "category");
        ch_jw_str(&w, land[i].label.category);
        ch_jw_key(&w, "amount");
        jw_amount(&w, land[i].amount);
        ch_jw_key(&w, "hops");
        ch_jw_uint(&w, land[i].hops);
        ch_jw_key(&w, "outputs");
        ch_jw_uint(&w, land[i].outputs);
        ch_jw_key(&w, "path");
        ch_jw_arr_begin(&w);
        size_t n = ch_trace_path(t, land[i].out, NULL, 0);
        uint64_t *path = malloc(n * sizeof *path + 1);
        if (path) {
            ch_trace_path(t, land[i].out, path, n);
            for (size_t k = 0; k < n; k++)
                jw_txid(&w, s, path[k]);
            free(path);
        }
        ch_jw_arr_end(&w);
        ch_jw_obj_end(&w);
    }
    ch_jw_arr_end(&w);
    ch_jw_key(&w, "holdings");
    ch_jw_arr_begin(&w);
    for (size_t i = 0; i < nh; i++) {
        ch_jw_obj_begin(&w);
        ch_jw_key(&w, "address");
        ch_jw_str(&w, cli_addr_str(s, hold[i].addr, ab));
        ch_jw_key(&w, "amount");
        jw_amount(&w, hold[i].amount);
        ch_jw_key(&w, "outputs");
        ch_jw_uint(&w, hold[i].outputs);
        ch_jw_obj_end(&w);
    }
    ch_jw_arr_end(&w);
    static const char *const keys[] = {"landed_total", "held_total", "fees",
                                       "coinbase",     "below_min",  "cut_max_hops",
                                       "cut_window",   "returned",   "clean_in"};
    const ch_taint_sum vals[] = {tot.landed,     tot.held,      tot.fees,
                                 tot.coinbase,   tot.below_min, tot.cut_hops,
                                 tot.cut_window, tot.returned,  tot.clean_in};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        ch_jw_key(&w, keys[i]);
        jw_amount(&w, vals[i]);
    }
    ch_jw_key(&w, "edge_visits");
    ch_jw_uint(&w, tot.edge_visits);
    ch_jw_key(&w, "txs");
    ch_jw_uint(&w, tot.txs);
    ch_jw_key(&w, "tainted_outputs");
    ch_jw_uint(&w, tot.outputs);
    ch_jw_obj_end(&w);
    ch_jw_newline(&w);
}

/* A CSV field, quoted when it needs to be. */
static void csv_field(const char *s) {
    if (!s) s = "";
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, stdout);
        return;
    }
    putchar('"');
    for (; *s; s++) {
        if (*s == '"') putchar('"');
        putchar(*s);
    }
    putchar('"');
}

static void print_csv(ch_trace *t, ch_store *s) {
    const ch_trace_landing *land;
    size_t nl = ch_trace_landings(t, &land);
    char ab[128], amt[64];
    puts("address,entity,category,amount,hops");
    for (size_t i = 0; i < nl; i++) {
        csv_field(cli_addr_str(s, land[i].addr, ab));
        putchar(',');
        csv_field(land[i].label.entity);
        putchar(',');
        csv_field(land[i].label.category);
        printf(",%s,%u\n", ch_taint_str(land[i].amount, amt), land[i].hops);
    }
}

/* ---- DOT ---- */

typedef struct dot_ctx {
    ch_store *s;
    ch_labels *labels;
} dot_ctx;

static void dot_escape(const char *s) {
    for (; s && *s; s++) {
        if (*s == '"' || *s == '\\') putchar('\\');
        putchar(*s);
    }
}

static void dot_tx(ch_store *s, int64_t tx) {
    ch_hash256 h;
    char hex[65];
    ch_store_txid(s, (uint64_t)tx, &h);
    ch_hash256_to_hex(&h, hex);
    printf("  t%" PRId64 " [shape=ellipse, label=\"%.8s…%s\"];\n", tx, hex, hex + 56);
}

static int dot_flow(const ch_trace_flow *f, void *vctx) {
    dot_ctx *c = vctx;
    char ab[128], amt[64], node[32];
    const char *a = cli_addr_str(c->s, f->addr, ab);
    if (f->addr)
        snprintf(node, sizeof node, "a%u", f->addr);
    else
        snprintf(node, sizeof node, "o%" PRIu64, f->out);
    printf("  %s [shape=box, label=\"", node);
    ch_label l;
    if (f->landing && ch_labels_get(c->labels, f->addr, &l) == 1) {
        dot_escape(l.entity[0] ? l.entity : l.category);
        printf(" (%s)\\n", l.category);
    }
    dot_escape(a ? a : "(no address)");
    printf("\"%s];\n", f->landing ? ", style=filled, fillcolor=\"#f4cccc\", peripheries=2" : "");
    dot_tx(c->s, f->from_tx);
    printf("  t%" PRId64 " -> %s [label=\"%s\"];\n", f->from_tx, node,
           ch_taint_str(f->amount, amt));
    if (f->to_tx >= 0) {
        dot_tx(c->s, f->to_tx);
        printf("  %s -> t%" PRId64 ";\n", node, f->to_tx);
    }
    return 0;
}

static void print_dot(ch_trace *t, ch_store *s, ch_labels *labels, const ch_trace_opts *o,
                      const char *from) {
    printf("digraph trace {\n  rankdir=LR;\n  label=\"%s %s trace from ",
           ch_trace_direction_name(o->direction), ch_trace_policy_name(o->policy));
    dot_escape(from);
    printf(" (amounts in satoshi)\";\n");
    dot_ctx c = {s, labels};
    ch_trace_foreach_flow(t, dot_flow, &c);
    printf("}\n");
}

/* ---- the readable summary ---- */

static const char *btc(ch_taint_sum v, char buf[32]) {
    return cli_btc(ch_taint_sat(v), buf);
}

static void print_text(ch_trace *t, ch_store *s, const ch_trace_opts *o, const char *from) {
    ch_trace_totals tot;
    ch_trace_get_totals(t, &tot);
    const ch_trace_landing *land;
    const ch_trace_holding *hold;
    size_t nl = ch_trace_landings(t, &land), nh = ch_trace_holdings(t, &hold);
    char b1[32], ab[128];
    bool fwd = o->direction == CH_TRACE_FORWARD;
    printf("%s trace, %s policy, from %s\n", fwd ? "Forward" : "Backward",
           ch_trace_policy_name(o->policy), from);
    printf("  tainted at the source  %s BTC\n", btc(tot.source, b1));
    printf("  %-22s %s BTC at %zu addresses\n", fwd ? "landed at services" : "came from services",
           btc(tot.landed, b1), nl);
    if (fwd) {
        printf("  still held             %s BTC at %zu addresses\n", btc(tot.held, b1), nh);
        printf("  paid as fees           %s BTC\n", btc(tot.fees, b1));
    } else {
        printf("  from newly mined coins %s BTC\n", btc(tot.coinbase, b1));
    }
    if (tot.below_min) printf("  below --min-amount     %s BTC\n", btc(tot.below_min, b1));
    if (tot.cut_hops) printf("  beyond --max-hops      %s BTC\n", btc(tot.cut_hops, b1));
    if (tot.cut_window) printf("  outside the window     %s BTC\n", btc(tot.cut_window, b1));
    if (tot.returned) printf("  back at the source     %s BTC\n", btc(tot.returned, b1));
    printf("  %" PRIu64 " transactions, %" PRIu64 " edge visits\n", tot.txs, tot.edge_visits);

    if (nl) {
        /* totals per entity: landings are few, a linear scan will do */
        size_t ne = 0;
        size_t *first = calloc(nl, sizeof *first);
        ch_taint_sum *sum = calloc(nl, sizeof *sum);
        size_t *cnt = calloc(nl, sizeof *cnt);
        if (first && sum && cnt) {
            for (size_t i = 0; i < nl; i++) {
                size_t k = 0;
                while (k < ne && (strcmp(land[first[k]].label.entity, land[i].label.entity) ||
                                  strcmp(land[first[k]].label.category, land[i].label.category)))
                    k++;
                if (k == ne) first[ne++] = i;
                sum[k] += land[i].amount;
                cnt[k]++;
            }
            /* largest total first (entities are few: a selection sort) */
            for (size_t a = 0; a < ne; a++)
                for (size_t b = a + 1; b < ne; b++)
                    if (sum[b] > sum[a]) {
                        ch_taint_sum ts = sum[a];
                        size_t tf = first[a], tc = cnt[a];
                        sum[a] = sum[b], first[a] = first[b], cnt[a] = cnt[b];
                        sum[b] = ts, first[b] = tf, cnt[b] = tc;
                    }
            printf("\nBy entity:\n");
            for (size_t k = 0; k < ne; k++) {
                const ch_label *l = &land[first[k]].label;
                printf("  %18s BTC  %s (%s), %zu address%s\n", btc(sum[k], b1),
                       l->entity[0] ? l->entity : "(unnamed)", l->category, cnt[k],
                       cnt[k] == 1 ? "" : "es");
            }
        }
        free(first);
        free(sum);
        free(cnt);
        printf("\nLargest landings:\n");
        for (size_t i = 0; i < nl && i < SUMMARY_TOP; i++) {
            const char *a = cli_addr_str(s, land[i].addr, ab);
            printf("  %18s BTC  %s  %s (%s), %u hop%s\n", btc(land[i].amount, b1), a ? a : "?",
                   land[i].label.entity, land[i].label.category, land[i].hops,
                   land[i].hops == 1 ? "" : "s");
            /* the shortest path, txids shortened to 12 digits */
            uint64_t path[64];
            size_t n = ch_trace_path(t, land[i].out, path, 64);
            printf("      path:");
            for (size_t k = 0; k < n && k < 64; k++) {
                ch_hash256 h;
                char hex[65];
                ch_store_txid(s, path[k], &h);
                ch_hash256_to_hex(&h, hex);
                printf("%s%.12s%s", k ? " -> " : " ", hex,
                       k % 5 == 4 && k + 1 < n ? "\n           " : "");
            }
            if (n > 64) printf(" ... (%zu txs)", n);
            putchar('\n');
        }
        if (nl > SUMMARY_TOP)
            printf("  ... and %zu more (see --json or --csv)\n", nl - SUMMARY_TOP);
    }
    if (fwd && nh) {
        printf("\nHoldings (tainted, unspent, not at a service):\n");
        for (size_t i = 0; i < nh && i < SUMMARY_TOP; i++) {
            const char *a = cli_addr_str(s, hold[i].addr, ab);
            printf("  %18s BTC  %s\n", btc(hold[i].amount, b1), a ? a : "(no address)");
        }
        if (nh > SUMMARY_TOP) printf("  ... and %zu more\n", nh - SUMMARY_TOP);
    }
}

enum {
    OPT_DB = 1000,
    OPT_FROM,
    OPT_POLICY,
    OPT_DIRECTION,
    OPT_LABELS,
    OPT_STOP,
    OPT_HOPS,
    OPT_MIN,
    OPT_SINCE,
    OPT_UNTIL,
    OPT_JSON,
    OPT_CSV,
    OPT_DOT,
    OPT_CHAIN,
    OPT_TOKENS,
    OPT_FIRST_BLOCK,
    OPT_LAST_BLOCK,
};

/* The chain's own coin, for display. */
static const char *native_symbol(const char *chain) {
    static const char *const map[][2] = {{"bsc", "BNB"},        {"polygon", "POL"},
                                         {"avalanche", "AVAX"}, {"gnosis", "xDAI"},
                                         {"fantom", "FTM"},     {"celo", "CELO"}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(chain, map[i][0])) return map[i][1];
    return "ETH";
}

/* The account-chain trace (ch_atrace): same options, amounts per asset. */
static int trace_account(const char *db, const char *chain, const char *from,
                         const ch_trace_opts *bo, const char *const *label_files, size_t n_labels,
                         const char *const *token_files, size_t n_tokens, uint64_t first_block,
                         uint64_t last_block, int format) {
    ch_error err = {{0}};
    ch_store *s = NULL;
    ch_intel *intel = NULL;
    ch_labels *labels = NULL;
    ch_toktab *tokens = NULL;
    ch_atrace *t = NULL;
    int rc = 2;
    if (bo->policy == CH_POLICY_LIFO)
        return cli_failf("trace", "account chains: --policy is poison, haircut or fifo");
    if (ch_store_open(db, chain, CH_STORE_READ, &s, &err) != 0) return cli_fail("trace", &err);
    if (!ch_store_is_account(s)) {
        ch_store_close(s);
        return cli_failf("trace", "%s/%s is not an account-chain store", db, chain);
    }
    char ipath[4096];
    struct stat st;
    snprintf(ipath, sizeof ipath, "%s/intel", db);
    if (stat(ipath, &st) == 0 && ch_intel_open(db, false, &intel, &err) != 0) {
        fprintf(stderr, "coinhound trace: warning: attribution store not used: %s\n", err.msg);
        intel = NULL;
    }
    if (ch_labels_new(s, intel, bo->stop_at ? bo->stop_at : CH_TRACE_DEFAULT_STOP, &labels, &err))
        goto fail;
    for (size_t i = 0; i < n_labels; i++)
        if (ch_labels_load_csv(labels, label_files[i], NULL, NULL, &err) != 0) goto fail;
    if (ch_toktab_new(1, &tokens, &err) != 0) goto fail;
    for (size_t i = 0; i < n_tokens; i++)
        if (ch_toktab_load(tokens, token_files[i], false, &err) != 0) goto fail;
    ch_atrace_opts o;
    ch_atrace_opts_init(&o);
    o.policy = bo->policy;
    o.direction = bo->direction;
    o.labels = labels;
    o.stop_at = bo->stop_at;
    o.max_hops = bo->max_hops;
    o.min_amount = bo->min_amount;
    o.since = bo->since;
    o.until = bo->until;
    o.first_block = first_block;
    o.last_block = last_block;
    if (ch_atrace_new(s, &o, &t, &err) != 0) goto fail;
    int found = ch_atrace_add_from_string(t, from, &err);
    if (found < 0) goto fail;
    if (found == 0) {
        fprintf(stderr, "coinhound trace: %s\n", err.msg);
        rc = 1;
        goto done;
    }
    if (ch_atrace_run(t, &err) != 0) goto fail;
    int f = format == OPT_JSON  ? CH_ATRACE_JSON
            : format == OPT_CSV ? CH_ATRACE_CSV
            : format == OPT_DOT ? CH_ATRACE_DOT
                                : CH_ATRACE_TEXT;
    if (ch_atrace_print(t, tokens, native_symbol(chain), f, from, stdout) != 0 || fflush(stdout))
        rc = cli_failf("trace", "cannot write the output");
    else
        rc = 0;
    goto done;
fail:
    rc = cli_fail("trace", &err);
done:
    ch_atrace_free(t);
    ch_toktab_free(tokens);
    ch_labels_free(labels);
    if (intel) ch_intel_close(intel);
    return cli_store_close("trace", s, rc);
}

int cmd_trace(int argc, char **argv) {
    static const struct option opts[] = {{"db", required_argument, 0, OPT_DB},
                                         {"from", required_argument, 0, OPT_FROM},
                                         {"policy", required_argument, 0, OPT_POLICY},
                                         {"direction", required_argument, 0, OPT_DIRECTION},
                                         {"labels", required_argument, 0, OPT_LABELS},
                                         {"stop-at", required_argument, 0, OPT_STOP},
                                         {"max-hops", required_argument, 0, OPT_HOPS},
                                         {"min-amount", required_argument, 0, OPT_MIN},
                                         {"since", required_argument, 0, OPT_SINCE},
                                         {"until", required_argument, 0, OPT_UNTIL},
                                         {"json", no_argument, 0, OPT_JSON},
                                         {"csv", no_argument, 0, OPT_CSV},
                                         {"dot", no_argument, 0, OPT_DOT},
                                         {"chain", required_argument, 0, OPT_CHAIN},
                                         {"tokens", required_argument, 0, OPT_TOKENS},
                                         {"first-block", required_argument, 0, OPT_FIRST_BLOCK},
                                         {"last-block", required_argument, 0, OPT_LAST_BLOCK},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *db = NULL, *from = NULL;
    const char *label_files[MAX_LABEL_FILES], *token_files[MAX_LABEL_FILES], *chain = NULL;
    size_t n_labels = 0, n_tokens = 0;
    uint64_t first_block = 0, last_block = 0;
    int format = 0, formats = 0;
    ch_trace_opts o;
    ch_trace_opts_init(&o);
    uint64_t v;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_DB:
            db = optarg;
            break;
        case OPT_FROM:
            from = optarg;
            break;
        case OPT_POLICY:
            if (ch_trace_policy_parse(optarg, &o.policy) != 0)
                return cli_failf("trace", "--policy: '%s' is not poison, haircut, fifo or lifo",
                                 optarg);
            break;
        case OPT_DIRECTION:
            if (ch_trace_direction_parse(optarg, &o.direction) != 0)
                return cli_failf("trace", "--direction: '%s' is not forward or backward", optarg);
            break;
        case OPT_LABELS:
            if (n_labels == MAX_LABEL_FILES)
                return cli_failf("trace", "at most %d --labels files", MAX_LABEL_FILES);
            label_files[n_labels++] = optarg;
            break;
        case OPT_STOP:
            o.stop_at = optarg;
            break;
        case OPT_HOPS:
            if (cli_opt_u32("trace", "--max-hops", optarg, 1, UINT32_MAX, &o.max_hops)) return 2;
            break;
        case OPT_MIN:
            if (cli_opt_u64("trace", "--min-amount", optarg, 0, UINT64_MAX, &v)) return 2;
            o.min_amount = v;
            break;
        case OPT_SINCE:
            if (cli_opt_time("trace", "--since", optarg, false, &o.since)) return 2;
            break;
        case OPT_UNTIL:
            if (cli_opt_time("trace", "--until", optarg, true, &o.until)) return 2;
            break;
        case OPT_CHAIN:
            if (cli_opt_chain("trace", optarg)) return 2;
            chain = optarg;
            break;
        case OPT_TOKENS:
            if (n_tokens == MAX_LABEL_FILES)
                return cli_failf("trace", "at most %d --tokens files", MAX_LABEL_FILES);
            token_files[n_tokens++] = optarg;
            break;
        case OPT_FIRST_BLOCK:
        case OPT_LAST_BLOCK:
            if (cli_opt_block("trace", c == OPT_FIRST_BLOCK ? "--first-block" : "--last-block",
                              optarg, &v))
                return 2;
            *(c == OPT_FIRST_BLOCK ? &first_block : &last_block) = v;
            break;
        case OPT_JSON:
        case OPT_CSV:
        case OPT_DOT:
            format = c;
            formats++;
            break;
        default:
            usage(c == 'h' ? stdout : stderr);
            return c == 'h' ? 0 : 2;
        }
    }
    if (optind != argc) return cli_failf("trace", "unexpected argument '%s'", argv[optind]);
    if (!from) {
        usage(stderr);
        return cli_failf("trace", "--from is required");
    }
    if (formats > 1) return cli_failf("trace", "choose one of --json, --csv, --dot");
    if (cli_opt_range("trace", o.since, o.until)) return 2;
    if (last_block && first_block > last_block)
        return cli_failf("trace", "--last-block is before --first-block: an empty range");
    if (!(db = cli_db_dir("trace", db))) return 2;
    /* account chains: --chain other than btc, or an 0x source */
    if (chain ? strcmp(chain, "btc") != 0 : (from[0] == '0' && from[1] == 'x'))
        return trace_account(db, chain ? chain : "eth", from, &o, label_files, n_labels,
                             token_files, n_tokens, first_block, last_block, format);

    ch_error err = {{0}};
    ch_store *s = NULL;
    ch_intel *intel = NULL;
    ch_labels *labels = NULL;
    ch_trace *t = NULL;
    int rc = 2;
    if (ch_store_open(db, "btc", CH_STORE_READ, &s, &err) != 0) return cli_fail("trace", &err);
    char ipath[4096];
    struct stat st;
    snprintf(ipath, sizeof ipath, "%s/intel", db);
    if (stat(ipath, &st) == 0 && ch_intel_open(db, false, &intel, &err) != 0) {
        fprintf(stderr, "coinhound trace: warning: attribution store not used: %s\n", err.msg);
        intel = NULL;
    }
    if (ch_labels_new(s, intel, o.stop_at ? o.stop_at : CH_TRACE_DEFAULT_STOP, &labels, &err))
        goto fail;
    for (size_t i = 0; i < n_labels; i++)
        if (ch_labels_load_csv(labels, label_files[i], NULL, NULL, &err) != 0) goto fail;
    o.labels = labels;
    if (ch_trace_new(s, &o, &t, &err) != 0) goto fail;
    int found = ch_trace_add_from_string(t, from, &err);
    if (found < 0) goto fail;
    if (found == 0) {
        fprintf(stderr, "coinhound trace: %s\n", err.msg);
        rc = 1;
        goto done;
    }
    if (ch_trace_run(t, &err) != 0 || ch_trace_collect(t, &err) != 0) goto fail;
    if (format == OPT_JSON)
        print_json(t, s, &o, from);
    else if (format == OPT_CSV)
        print_csv(t, s);
    else if (format == OPT_DOT)
        print_dot(t, s, labels, &o, from);
    else
        print_text(t, s, &o, from);
    rc = fflush(stdout) == 0 ? 0 : cli_failf("trace", "cannot write the output");
    goto done;
fail:
    rc = cli_fail("trace", &err);
done:
    ch_trace_free(t);
    ch_labels_free(labels);
    if (intel) ch_intel_close(intel);
    return cli_store_close("trace", s, rc);
}
