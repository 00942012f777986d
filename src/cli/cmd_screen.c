/* coinhound screen ADDR... [--file F | -] [--db DIR | --set FILE] [--json]
 *
 * A risk verdict per address from the attribution store (--db) or an
 * offline screening set (--set). Bulk input streams: one line read, one
 * verdict written. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "coinhound/address.h"
#include "coinhound/chainaddr.h"
#include "coinhound/cluster.h"
#include "coinhound/exposure.h"
#include "coinhound/intel.h"
#include "coinhound/jsonw.h"
#include "coinhound/risk.h"
#include "coinhound/screen.h"
#include "coinhound/hash.h"
#include "coinhound/trace.h"

static void usage(FILE *f) {
    fprintf(
        f, "usage: coinhound screen ADDR... [--file F | -] [--db DIR | --set FILE] [--json]\n"
           "                        [--risk RULES]\n\n"
           "Screen addresses of any chain on OFAC's list (BTC, EVM chains, LTC, BCH, BSV, BTG,\n"
           "DASH, ZEC, XMR, TRX, XRP, XVG): each gets a risk level (severe, high, medium, low,\n"
           "none), a score (TRM severities: severe 15, high 10, medium 5, low 1, times the\n"
           "confidence) and every reason with its source. A mistyped address (bad checksum)\n"
           "is reported as invalid, never as clean. EVM addresses match in any letter case.\n\n"
           "  ADDR          addresses to screen; '-' reads them from standard input\n"
           "  --file F      read addresses from F, one per line ('-' = standard input);\n"
           "                blank lines and lines starting with '#' are skipped, and only\n"
           "                the first field of a line (up to a space, tab or comma) is read\n"
           "  --set FILE    an offline screening set ('coinhound intel export-set')\n"
           "  --db DIR      the database whose attribution store to ask\n"
           "                (default: $COINHOUND_DB when neither --set nor --db is given)\n"
           "  --json        one JSON object per address per line:\n"
           "                {\"address\",\"canonical\",\"family\",\"risk\",\"score\",\n"
           "                 "
           "\"reasons\":[{\"category\",\"entity\",\"actor\",\"source\",\"source_url\",\n"
           "                 \"source_date\",\"confidence\",\"level\",\"score\",...,\n"
           "                 \"case_insensitive\",\"sources\":[...every source...]}],\n"
           "                 \"history\":[...delisted labels...]}; an invalid address has\n"
           "                \"risk\":\"invalid\" and \"error\"; the address of a chain\n"
           "                coinhound does not support (THORChain thor1..., Cosmos\n"
           "                cosmos1..., ...) has \"risk\":\"unsupported\" and \"error\":\n"
           "                \"unsupported chain: ...\" (never guessed as another chain)\n"
           "  --risk RULES  change the category table: 'mixer=severe,bridge=none,*=none'\n"
           "                ('*' = categories not in the table; 'country:XX=level')\n"
           "  --risk-table FILE  change it from a file, one rule a line:\n"
           "                  category = level     (none, low, medium, high, severe)\n"
           "                  * = level            (categories the table does not name)\n"
           "                  country:XX = level   (an actor of country XX raises a reason)\n"
           "                  confidence_below = N (under N%%, a reason counts one level lower)\n"
           "                '#' starts a comment; what the file does not name keeps its level.\n"
           "                --risk and --risk-table apply in the order given. Illicit\n"
           "                categories (sanctions, stolen_funds, mixer, ...) can be lowered\n"
           "                to low, never to none: a listed illicit address is never clean\n"
           "  --explain-risk  print the category-to-risk table in effect (after --risk and\n"
           "                --risk-table) in --risk-table's format, and exit; with --json\n"
           "                as one object. Save it, edit it, give it back with --risk-table\n"
           "  --hops N      with --db and a chain store: how far back indirect exposure\n"
           "                looks (default 3; 0 turns it off)\n"
           "  --chain NAME  with --db: the chain store DIR/NAME to look in (default btc;\n"
           "                eth, bsc, ... for an account chain, whose addresses then get\n"
           "                indirect exposure, per asset: amounts in base units, wei)\n\n"
           "With --db, an address of the store's chain also gets what the store knows:\n"
           "  - labels of other members of its cluster ('coinhound cluster build'), as\n"
           "    reasons with \"via\":\"cluster\" and the member that carries the label;\n"
           "  - indirect exposure: the share of the value it received that came from\n"
           "    flagged sources within N hops (backward haircut), as reasons with\n"
           "    \"via\":\"exposure\", the amount, share, hops and path, and an \"exposure\"\n"
           "    object. A flagged source more than one hop away counts one level lower;\n"
           "    its score is the level's points times the share.\n\n"
           "One reason per fact: the same listing from several sources (OFAC's, read from\n"
           "sdn.xml, a per-asset list and a TagPack) is one reason with all its sources, and\n"
           "the newest statement of the authority decides: an address its latest list\n"
           "delisted is history, whatever an older list says. A Base58 address a source\n"
           "listed lower-cased (letter case lost) matches case-insensitively, and the reason\n"
           "says so.\n"
           "Delisted labels are shown as history and add no risk. An address listed only\n"
           "under no-risk categories (a victim's own wallet, an exchange) is \"risk none\":\n"
           "its labels are shown, and it is not flagged.\n"
           "Exit status: 0 every address clean (risk none), 1 at least one flagged\n"
           "(risk low or above), 2 otherwise when any address was invalid, of an\n"
           "unsupported chain, or a lookup\n"
           "failed (a flagged address wins over an invalid one, so 1 is never missed).\n\n"
           "examples:\n"
           "  coinhound screen 0x098B716B8Aaf21512996dC57EB0615e2383E2f96 --db ./chdb\n"
           "  coinhound screen --set ofac.chset --json bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4\n"
           "  cut -d, -f1 withdrawals.csv | coinhound screen - --set ofac.chset --json\n"
           "  coinhound screen --file addresses.txt --risk gambling=high\n"
           "  coinhound screen --explain-risk > desk.table   # edit, then:\n"
           "  coinhound screen --risk-table desk.table --db ./chdb 0x...\n");
}

/* Where attributions come from. */
typedef struct source {
    ch_screen_set *set;
    ch_intel *db;
} source;

typedef struct attr_vec {
    ch_attribution *v;
    ch_risk_reason *reasons;
    size_t n, cap;
} attr_vec;

static int vec_push(attr_vec *av, const ch_attribution *a) {
    if (av->n == av->cap) {
        size_t cap = av->cap ? av->cap * 2 : 8;
        ch_attribution *v = realloc(av->v, cap * sizeof *v);
        if (!v) return -1;
        av->v = v;
        ch_risk_reason *r = realloc(av->reasons, cap * sizeof *r);
        if (!r) return -1;
        av->reasons = r;
        av->cap = cap;
    }
    av->v[av->n++] = *a;
    return 0;
}

static int collect(const ch_attribution *a, void *ctx) {
    return vec_push(ctx, a) != 0 ? -1 : 0;
}

/* V_UNSUPPORTED: the address of a chain coinhound does not hold (THORChain,
 * Cosmos, ...): no verdict, and said so rather than "invalid". */
typedef enum verdict_kind { V_OK, V_INVALID, V_UNSUPPORTED, V_ERROR } verdict_kind;

static verdict_kind invalid_or_unsupported(const char *addr) {
    return ch_chainaddr_unsupported(addr, NULL, 0) ? V_UNSUPPORTED : V_INVALID;
}

/* Look one address up; fills av and canonical/family. */
static verdict_kind lookup(const source *src, const char *addr, attr_vec *av, char *canonical,
                           ch_family *family, ch_error *err) {
    av->n = 0;
    *family = CH_FAM_UNKNOWN;
    canonical[0] = '\0';
    if (src->set) {
        ch_screen_result r;
        ch_screen_lookup(src->set, addr, &r);
        if (r.status == CH_SCREEN_INVALID) {
            ch_err(err, "%s", r.reason);
            return invalid_or_unsupported(addr);
        }
        *family = r.family;
        snprintf(canonical, CH_ADDR_STR_MAX, "%s", r.canonical);
        for (uint32_t i = 0; i < r.n_attr; i++) {
            ch_attribution a;
            if (ch_screen_attr_to_attribution(src->set, &r, i, &a) != 0 || vec_push(av, &a) != 0) {
                ch_err(err, "out of memory");
                return V_ERROR;
            }
        }
        return V_OK;
    }
    ch_chainaddr c;
    ch_error perr;
    perr.msg[0] = '\0';
    if (ch_chainaddr_parse(addr, CH_FAM_UNKNOWN, &c, &perr) == 0) {
        *family = c.family;
        snprintf(canonical, CH_ADDR_STR_MAX, "%s", c.canonical);
    } else {
        /* A value of no known form may be stored verbatim (a source listed
         * it as it was); only if it is not is the address invalid. */
        size_t n = strnlen(addr, CH_ADDR_STR_MAX);
        if (n == 0 || n >= CH_ADDR_STR_MAX) {
            *err = perr;
            return invalid_or_unsupported(addr);
        }
        snprintf(canonical, CH_ADDR_STR_MAX, "%s", addr);
    }
    if (ch_intel_lookup(src->db, canonical, collect, av, err) < 0) return V_ERROR;
    if (*family == CH_FAM_UNKNOWN && av->n == 0) {
        *err = perr;
        canonical[0] = '\0';
        return invalid_or_unsupported(addr);
    }
    return V_OK;
}

/* A label that reached the address through its cluster: one per distinct
 * (category, entity, source), with how many members carry it. */
typedef struct cluster_via {
    char member[CH_ADDR_STR_MAX]; /* the first member seen with it */
    uint64_t count;
} cluster_via;

typedef struct run_state {
    source src;
    ch_risk_table table;
    bool json;
    attr_vec av;
    bool any_flagged, any_error;
    uint64_t screened; /* addresses answered: none is not "all clean" */
    /* the chain side of --db (NULL when there is no store of the chain) */
    ch_store *store;
    const char *chain; /* its name */
    bool account;      /* an account chain's store: EVM addresses get the chain side */
    ch_clusters *clusters;
    ch_exposure_opts xo;
    size_t n_direct;      /* av.v[0..n_direct) are the address's own */
    cluster_via *members; /* av.v[n_direct + i] came through members[i] */
    size_t members_cap;
    ch_cluster_hit hit;
    ch_exposure exposure;
    bool have_exposure;
} run_state;

static bool same_label(const ch_attribution *x, const ch_attribution *y) {
    return !strcmp(x->category, y->category) && !strcmp(x->entity, y->entity) &&
           !strcmp(x->source_name, y->source_name) && x->delisted == y->delisted;
}

/* A cluster-mate's attribution. An exchange's cluster has thousands of
 * deposit addresses with the same label: it is one reason, with a count and
 * one member to show; a label the address carries itself adds nothing. */
static int cluster_label(const char *member, const ch_attribution *a, void *ctx) {
    run_state *st = ctx;
    for (size_t i = 0; i < st->av.n; i++) {
        if (!same_label(&st->av.v[i], a)) continue;
        if (i >= st->n_direct) st->members[i - st->n_direct].count++;
        return 0;
    }
    size_t i = st->av.n - st->n_direct;
    if (i >= st->members_cap) {
        size_t cap = st->members_cap ? st->members_cap * 2 : 16;
        cluster_via *m = realloc(st->members, cap * sizeof *m);
        if (!m) return -1;
        st->members = m;
        st->members_cap = cap;
    }
    snprintf(st->members[i].member, CH_ADDR_STR_MAX, "%s", member);
    st->members[i].count = 1;
    return vec_push(&st->av, a) != 0 ? -1 : 0;
}

/* The store's form of a screened address: Bitcoin's parser, or 0x + 40 hex
 * digits (any letter case) on an account chain. */
static int store_addr(const run_state *st, const char *canonical, ch_addr *a) {
    if (!st->account) return ch_addr_from_string(canonical, a, NULL, NULL);
    if (strlen(canonical) != 42 || canonical[0] != '0' || (canonical[1] | 0x20) != 'x') return -1;
    *a = (ch_addr){.kind = CH_ADDR_EVM, .len = 20};
    return ch_hex_decode(canonical + 2, 40, a->bytes, 20);
}

/* An asset of the exposure by name: the chain's coin, else its contract. */
static const char *asset_name(const run_state *st, uint32_t asset, char buf[CH_ADDR_STR_MAX]) {
    if (!asset) return ch_chain_native_symbol(st->chain, st->account);
    ch_addr a;
    ch_store_addr_of(st->store, asset, &a);
    return ch_addr_to_string(&a, CH_NET_MAINNET, buf) == 0 ? buf : "?";
}

/* Cluster labels and indirect exposure of an address of the store's chain. */
static void chain_side(run_state *st, const char *canonical) {
    st->n_direct = st->av.n;
    st->have_exposure = false;
    memset(&st->hit, 0, sizeof st->hit);
    if (!st->store) return;
    ch_error err;
    if (st->clusters && ch_cluster_labels(st->store, st->clusters, st->src.db, canonical,
                                          cluster_label, st, &st->hit, &err) != 0)
        fprintf(stderr, "coinhound screen: %s: cluster labels: %s\n", canonical, err.msg);
    ch_addr a;
    if (st->xo.max_hops == 0 || store_addr(st, canonical, &a) != 0) return;
    int rc = ch_exposure_of(st->store, st->src.db, &a, &st->xo, &st->exposure, &err);
    if (rc < 0) fprintf(stderr, "coinhound screen: %s: exposure: %s\n", canonical, err.msg);
    st->have_exposure = rc == 1;
}

/* Every source of one fact (one reason), newest statement first. */
static void json_sources(ch_jw *w, const ch_risk_reason *r) {
    ch_jw_key(w, "sources");
    ch_jw_arr_begin(w);
    uint32_t n = r->n_sources < CH_RISK_MAX_SOURCES ? r->n_sources : CH_RISK_MAX_SOURCES;
    for (uint32_t i = 0; i < n; i++) {
        const ch_attribution *a = r->sources[i];
        ch_jw_obj_begin(w);
        ch_jw_key(w, "source");
        ch_jw_str(w, a->source_name);
        ch_jw_key(w, "source_url");
        ch_jw_str(w, a->source_url);
        ch_jw_key(w, "source_date");
        ch_jw_str(w, a->source_date);
        ch_jw_key(w, "entity");
        ch_jw_str(w, a->entity);
        ch_jw_key(w, "asset");
        ch_jw_str(w, a->asset);
        ch_jw_key(w, "listed_as");
        ch_jw_str(w, a->address);
        ch_jw_key(w, "first_listed");
        ch_jw_str(w, a->first_listed);
        ch_jw_key(w, "last_listed");
        ch_jw_str(w, a->last_listed);
        ch_jw_key(w, "delisted");
        ch_jw_bool(w, a->delisted);
        if (a->delisted) {
            ch_jw_key(w, "delisted_date");
            ch_jw_str(w, a->delisted_date);
        }
        ch_jw_obj_end(w);
    }
    ch_jw_arr_end(w);
}

static void json_reason(ch_jw *w, const run_state *st, const ch_risk_reason *r) {
    const ch_attribution *a = r->attr;
    ch_jw_obj_begin(w);
    size_t idx = (size_t)(a - st->av.v);
    ch_jw_key(w, "via");
    ch_jw_str(w, idx < st->n_direct ? "direct" : "cluster");
    if (idx >= st->n_direct) {
        ch_jw_key(w, "member");
        ch_jw_str(w, st->members[idx - st->n_direct].member);
        ch_jw_key(w, "members_with_label");
        ch_jw_uint(w, st->members[idx - st->n_direct].count);
    }
    ch_jw_key(w, "category");
    ch_jw_str(w, a->category);
    ch_jw_key(w, "entity");
    ch_jw_str(w, a->entity);
    ch_jw_key(w, "actor");
    ch_jw_str(w, r->actor_label);
    ch_jw_key(w, "actor_country");
    ch_jw_str(w, a->actor_country);
    ch_jw_key(w, "asset");
    ch_jw_str(w, a->asset);
    ch_jw_key(w, "level");
    ch_jw_str(w, ch_risk_level_name(r->level));
    ch_jw_key(w, "score");
    ch_jw_double(w, r->score);
    ch_jw_key(w, "source");
    ch_jw_str(w, a->source_name);
    ch_jw_key(w, "source_url");
    ch_jw_str(w, a->source_url);
    ch_jw_key(w, "source_date");
    ch_jw_str(w, a->source_date);
    ch_jw_key(w, "confidence");
    ch_jw_uint(w, a->confidence);
    ch_jw_key(w, "first_listed");
    ch_jw_str(w, a->first_listed);
    ch_jw_key(w, "last_listed");
    ch_jw_str(w, a->last_listed);
    if (a->delisted) {
        ch_jw_key(w, "delisted_date");
        ch_jw_str(w, a->delisted_date);
    }
    if (a->note[0]) {
        ch_jw_key(w, "note");
        ch_jw_str(w, a->note);
    }
    /* the letter case: said in the reason, never silently */
    ch_jw_key(w, "case_insensitive");
    ch_jw_bool(w, r->case_folded);
    if (r->case_folded) {
        ch_jw_key(w, "match");
        ch_jw_str(w, "matched case-insensitively: the source lists this address lower-cased "
                     "(its letter case lost)");
    }
    json_sources(w, r);
    ch_jw_obj_end(w);
}

/* txids from the screened address back to the source (backward order) */
static void json_path(ch_jw *w, const run_state *st, const ch_exposure_source *x) {
    ch_jw_key(w, "path");
    ch_jw_arr_begin(w);
    for (size_t i = 0; i < x->path_len; i++) {
        ch_hash256 id;
        char hex[80];
        if (x->path[i] == CH_TRACE_NO_TX) {
            ch_jw_str(w, "withdrawal");
            continue;
        }
        ch_store_txid(st->store, x->path[i], &id);
        if (st->account) { /* EVM hashes in their written order */
            hex[0] = '0';
            hex[1] = 'x';
            ch_hex_encode(id.b, 32, hex + 2);
        } else {
            ch_hash256_to_hex(&id, hex);
        }
        ch_jw_str(w, hex);
    }
    ch_jw_arr_end(w);
}

static void json_exposure_source(ch_jw *w, const run_state *st, const ch_exposure_source *x,
                                 bool as_reason) {
    ch_jw_obj_begin(w);
    if (as_reason) {
        ch_jw_key(w, "via");
        ch_jw_str(w, "exposure");
    }
    ch_jw_key(w, as_reason ? "from" : "address");
    ch_jw_str(w, x->address);
    ch_jw_key(w, "category");
    ch_jw_str(w, x->category);
    ch_jw_key(w, "entity");
    ch_jw_str(w, x->entity);
    if (as_reason) {
        ch_jw_key(w, "actor");
        ch_jw_str(w, "");
        ch_jw_key(w, "source");
        char src[96];
        snprintf(src, sizeof src, "indirect exposure (backward haircut, %u hops)",
                 st->exposure.max_hops);
        ch_jw_str(w, src);
    }
    ch_jw_key(w, "level");
    ch_jw_str(w, ch_risk_level_name(x->level));
    ch_jw_key(w, "score");
    ch_jw_double(w, x->score);
    ch_jw_key(w, "amount");
    ch_jw_double(w, x->amount);
    char ab[CH_ADDR_STR_MAX], b[48];
    ch_jw_key(w, "asset");
    ch_jw_str(w, asset_name(st, x->asset, ab));
    ch_jw_key(w, "amount_units"); /* whole base units, exact */
    ch_jw_str(w, ch_u128_str(x->amount_base, b));
    ch_jw_key(w, "share");
    ch_jw_double(w, x->share);
    ch_jw_key(w, "hops");
    ch_jw_uint(w, x->hops);
    json_path(w, st, x);
    ch_jw_obj_end(w);
}

static void json_chain_side(ch_jw *w, const run_state *st) {
    if (st->hit.cluster) {
        ch_jw_key(w, "cluster");
        ch_jw_obj_begin(w);
        ch_jw_key(w, "id");
        ch_jw_uint(w, st->hit.cluster);
        ch_jw_key(w, "size");
        ch_jw_uint(w, st->hit.size);
        ch_jw_key(w, "labelled");
        ch_jw_uint(w, st->hit.labelled);
        ch_jw_obj_end(w);
    }
    if (!st->have_exposure) return;
    const ch_exposure *x = &st->exposure;
    ch_jw_key(w, "exposure");
    ch_jw_obj_begin(w);
    ch_jw_key(w, "max_hops");
    ch_jw_uint(w, x->max_hops);
    char ab[CH_ADDR_STR_MAX], b[48];
    ch_jw_key(w, "received");
    if (x->received_base > UINT64_MAX) /* wei can pass 2^64: a JSON number still */
        ch_jw_double(w, (double)x->received_base);
    else
        ch_jw_uint(w, x->received);
    ch_jw_key(w, "received_units"); /* exact, whole base units of asset */
    ch_jw_str(w, ch_u128_str(x->received_base, b));
    ch_jw_key(w, "asset");
    ch_jw_str(w, asset_name(st, x->asset, ab));
    ch_jw_key(w, "flagged_amount");
    ch_jw_double(w, x->flagged_amount);
    ch_jw_key(w, "flagged_share");
    ch_jw_double(w, x->flagged_share);
    ch_jw_key(w, "level");
    ch_jw_str(w, ch_risk_level_name(x->level));
    ch_jw_key(w, "score");
    ch_jw_double(w, x->score);
    ch_jw_key(w, "sources");
    ch_jw_arr_begin(w);
    for (size_t i = 0; i < x->n_sources; i++)
        json_exposure_source(w, st, &x->sources[i], false);
    ch_jw_arr_end(w);
    ch_jw_obj_end(w);
}

static void print_json(const run_state *st, const char *addr, const char *canonical, ch_family fam,
                       verdict_kind k, const char *error, const ch_risk_verdict *v) {
    ch_jw w;
    ch_jw_init(&w, stdout);
    ch_jw_obj_begin(&w);
    ch_jw_key(&w, "address");
    ch_jw_str(&w, addr);
    if (k != V_OK) {
        ch_jw_key(&w, "risk");
        ch_jw_str(&w, k == V_INVALID ? "invalid" : k == V_UNSUPPORTED ? "unsupported" : "error");
        ch_jw_key(&w, "score");
        ch_jw_uint(&w, 0);
        ch_jw_key(&w, "error");
        ch_jw_str(&w, error);
        ch_jw_key(&w, "reasons");
        ch_jw_arr_begin(&w);
        ch_jw_arr_end(&w);
    } else {
        ch_jw_key(&w, "canonical");
        ch_jw_str(&w, canonical);
        ch_jw_key(&w, "family");
        ch_jw_str(&w, ch_family_name(fam));
        ch_jw_key(&w, "risk");
        ch_jw_str(&w, ch_risk_level_name(v->level));
        ch_jw_key(&w, "score");
        ch_jw_double(&w, v->score);
        ch_jw_key(&w, "listed");
        ch_jw_bool(&w, v->n_reasons > 0);
        ch_jw_key(&w, "reasons");
        ch_jw_arr_begin(&w);
        for (size_t i = 0; i < v->n_current; i++)
            json_reason(&w, st, &v->reasons[i]);
        for (size_t i = 0; st->have_exposure && i < st->exposure.n_sources; i++)
            if (st->exposure.sources[i].level > CH_RISK_NONE)
                json_exposure_source(&w, st, &st->exposure.sources[i], true);
        ch_jw_arr_end(&w);
        ch_jw_key(&w, "history");
        ch_jw_arr_begin(&w);
        for (size_t i = v->n_current; i < v->n_reasons; i++)
            json_reason(&w, st, &v->reasons[i]);
        ch_jw_arr_end(&w);
        json_chain_side(&w, st);
    }
    ch_jw_obj_end(&w);
    ch_jw_newline(&w);
}

static void print_text_reason(const run_state *st, const ch_risk_reason *r, bool history) {
    const ch_attribution *a = r->attr;
    printf("  %s%-8s %s", history ? "history: " : "", ch_risk_level_name(r->level),
           a->category[0] ? a->category : "(no category)");
    if (a->entity[0]) printf(": %s", a->entity);
    if (r->actor_label[0]) printf(" [%s]", r->actor_label);
    if (a->asset[0]) printf(" (%s)", a->asset);
    printf("\n      source: %s", a->source_name[0] ? a->source_name : "(unnamed)");
    if (a->source_date[0]) printf(", %s", a->source_date);
    if (a->source_url[0]) printf(", %s", a->source_url);
    printf("; confidence %u", a->confidence);
    if (a->delisted) printf("; delisted %s", a->delisted_date[0] ? a->delisted_date : "");
    /* the other sources of the same fact */
    uint32_t ns = r->n_sources < CH_RISK_MAX_SOURCES ? r->n_sources : CH_RISK_MAX_SOURCES;
    for (uint32_t i = 0; i < ns; i++) {
        const ch_attribution *b = r->sources[i];
        if (b == a) continue;
        printf("\n      also: %s", b->source_name[0] ? b->source_name : "(unnamed)");
        if (b->source_date[0]) printf(", %s", b->source_date);
        if (b->asset[0]) printf(" (%s)", b->asset);
        if (b->delisted) printf("; delisted %s", b->delisted_date);
    }
    if (r->n_sources > ns) printf("\n      and %u other sources", (unsigned)(r->n_sources - ns));
    if (r->case_folded)
        printf("\n      matched case-insensitively: the source lists this address lower-cased "
               "(its letter case lost)");
    size_t idx = (size_t)(a - st->av.v);
    if (idx >= st->n_direct) {
        const cluster_via *m = &st->members[idx - st->n_direct];
        printf("\n      via its cluster: %s", m->member);
        if (m->count > 1) printf(" and %llu other members", (unsigned long long)m->count - 1);
    }
    printf("\n");
}

static void print_text_exposure(const run_state *st) {
    const ch_exposure *x = &st->exposure;
    if (!st->have_exposure) return;
    char ab[CH_ADDR_STR_MAX], b[48];
    /* the chain's coin with its decimals; a token in base units of its contract */
    int dec = x->asset ? 0 : st->account ? 18 : 8;
    printf("  exposure within %u hops: %.2f%% of %s %s%s received came from flagged sources\n",
           x->max_hops, 100.0 * x->flagged_share, ch_u128_decimals_str(x->received_base, dec, b),
           x->asset ? "base units of " : "", asset_name(st, x->asset, ab));
    for (size_t i = 0; i < x->n_sources && i < 5; i++) {
        const ch_exposure_source *e = &x->sources[i];
        int d = e->asset ? 0 : st->account ? 18 : 8;
        printf("    %-8s %s%s%s %s: %s %s%s (%.2f%%), %u hops\n", ch_risk_level_name(e->level),
               e->category, e->entity[0] ? ": " : "", e->entity, e->address,
               ch_u128_decimals_str(e->amount_base, d, b), e->asset ? "base units of " : "",
               asset_name(st, e->asset, ab), 100.0 * e->share, e->hops);
    }
}

static void print_text(const run_state *st, const char *addr, const char *canonical, ch_family fam,
                       verdict_kind k, const char *error, const ch_risk_verdict *v) {
    if (k != V_OK) {
        printf("%s  %s: %s\n", addr,
               k == V_INVALID       ? "INVALID"
               : k == V_UNSUPPORTED ? "UNSUPPORTED"
                                    : "ERROR",
               error);
        return;
    }
    printf("%s", addr);
    if (strcmp(addr, canonical) != 0) printf(" (%s)", canonical);
    printf("  %s", ch_family_name(fam));
    if (v->n_reasons == 0 && v->level == CH_RISK_NONE) {
        printf("  risk none: not listed\n");
        print_text_exposure(st);
        return;
    }
    printf("  risk %s, score %g%s\n", ch_risk_level_name(v->level), v->score,
           v->level == CH_RISK_NONE && v->n_current
               ? " (listed under categories that carry no risk: not flagged)"
               : "");
    for (size_t i = 0; i < v->n_reasons; i++)
        print_text_reason(st, &v->reasons[i], i >= v->n_current);
    print_text_exposure(st);
}

static void screen_one(run_state *st, const char *addr) {
    char canonical[CH_ADDR_STR_MAX];
    ch_family fam;
    ch_error err;
    err.msg[0] = '\0';
    ch_risk_verdict v;
    memset(&v, 0, sizeof v);
    st->screened++;
    verdict_kind k = lookup(&st->src, addr, &st->av, canonical, &fam, &err);
    st->n_direct = st->av.n;
    st->have_exposure = false;
    memset(&st->hit, 0, sizeof st->hit);
    if (k == V_OK && (st->account ? fam == CH_FAM_EVM : fam == CH_FAM_BTC))
        chain_side(st, canonical);
    if (k == V_OK) {
        ch_risk_assess(&st->table, st->av.v, st->av.n, st->av.reasons, &v);
        if (st->have_exposure && st->exposure.level > v.level) v.level = st->exposure.level;
        if (st->have_exposure && st->exposure.score > v.score) v.score = st->exposure.score;
        if (v.level > CH_RISK_NONE) st->any_flagged = true;
    } else {
        st->any_error = true;
        if (!err.msg[0]) snprintf(err.msg, sizeof err.msg, "not a valid address");
    }
    if (st->json)
        print_json(st, addr, canonical, fam, k, err.msg, &v);
    else
        print_text(st, addr, canonical, fam, k, err.msg, &v);
}

/* Stream a file of addresses: the first field of each line. */
static int screen_stream(run_state *st, FILE *in, const char *name) {
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, in)) >= 0) {
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        p[strcspn(p, " \t,\r\n")] = '\0';
        if (!*p || *p == '#') continue;
        screen_one(st, p);
    }
    bool bad = ferror(in);
    free(line);
    if (bad) {
        fprintf(stderr, "coinhound screen: error reading %s\n", name);
        return -1;
    }
    return 0;
}

/* --explain-risk: the table in effect, as text (--risk-table's format) or
 * one JSON object. */
static int explain_risk(const ch_risk_table *t, bool json) {
    if (!json) {
        ch_risk_table_write(t, stdout);
        return fflush(stdout) == 0 ? 0 : 2;
    }
    ch_jw w;
    ch_jw_init(&w, stdout);
    ch_jw_obj_begin(&w);
    ch_jw_key(&w, "points");
    ch_jw_obj_begin(&w);
    for (int l = CH_RISK_NONE; l <= CH_RISK_SEVERE; l++) {
        ch_jw_key(&w, ch_risk_level_name((ch_risk_level)l));
        ch_jw_int(&w, ch_risk_level_points((ch_risk_level)l));
    }
    ch_jw_obj_end(&w);
    ch_jw_key(&w, "categories");
    ch_jw_arr_begin(&w);
    for (size_t i = 0; i < t->n; i++) {
        ch_jw_obj_begin(&w);
        ch_jw_key(&w, "category");
        ch_jw_str(&w, t->rules[i].key);
        ch_jw_key(&w, "level");
        ch_jw_str(&w, ch_risk_level_name(t->rules[i].level));
        ch_jw_key(&w, "illicit");
        ch_jw_bool(&w, ch_risk_category_illicit(t->rules[i].key));
        ch_jw_obj_end(&w);
    }
    ch_jw_arr_end(&w);
    ch_jw_key(&w, "unknown_category");
    ch_jw_str(&w, ch_risk_level_name(t->unknown_level));
    ch_jw_key(&w, "confidence_below");
    ch_jw_uint(&w, t->low_confidence);
    ch_jw_obj_end(&w);
    ch_jw_newline(&w);
    return fflush(stdout) == 0 ? 0 : 2;
}

/* The cluster file, when there is one that fits the store: a stale or
 * damaged one is ignored with a warning (labels through clusters are left
 * out, direct labels still count). */
static void open_clusters(run_state *st, const char *db) {
    char path[4200];
    struct stat sb;
    snprintf(path, sizeof path, "%s/btc/%s", db, CH_CLUSTER_FILE);
    if (stat(path, &sb) != 0) return; /* never clustered */
    ch_error err;
    if (ch_clusters_open_for(st->store, db, "btc", &st->clusters, &err) != 0) {
        fprintf(stderr,
                "coinhound screen: warning: not using the cluster file, so no labels through "
                "clusters: %s\n",
                err.msg);
        st->clusters = NULL;
    }
}

int cmd_screen(int argc, char **argv) {
    static const struct option OPTS[] = {
        {"file", required_argument, NULL, 'f'},
        {"db", required_argument, NULL, 'd'},
        {"set", required_argument, NULL, 's'},
        {"json", no_argument, NULL, 'j'},
        {"risk", required_argument, NULL, 'r'},
        {"hops", required_argument, NULL, 'H'},
        {"chain", required_argument, NULL, 'C'},
        {"risk-table", required_argument, NULL, 'T'},
        {"explain-risk", no_argument, NULL, 'E'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *file = NULL, *db = NULL, *setpath = NULL;
    bool explain = false;
    run_state st;
    memset(&st, 0, sizeof st);
    ch_risk_table_default(&st.table);
    ch_exposure_opts_init(&st.xo);
    st.chain = "btc";
    st.xo.table = &st.table;
    ch_error err;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:d:s:jr:h", OPTS, NULL)) != -1) {
        switch (c) {
        case 'f':
            file = optarg;
            break;
        case 'd':
            db = optarg;
            break;
        case 's':
            setpath = optarg;
            break;
        case 'j':
            st.json = true;
            break;
        case 'r':
            if (ch_risk_table_parse(&st.table, optarg, &err) != 0) return cli_fail("screen", &err);
            break;
        case 'T':
            if (ch_risk_table_load(&st.table, optarg, &err) != 0) return cli_fail("screen", &err);
            break;
        case 'E':
            explain = true;
            break;
        case 'C':
            if (cli_opt_chain("screen", optarg)) return 2;
            st.chain = optarg;
            break;
        case 'H':
            if (cli_opt_u32("screen", "--hops", optarg, 0, 1000000, &st.xo.max_hops)) return 2;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (explain) return explain_risk(&st.table, st.json);
    if (db && setpath) return cli_failf("screen", "give --db or --set, not both");
    if (optind >= argc && !file) {
        usage(stderr);
        return 2;
    }
    if (setpath) {
        if (ch_screen_set_open(setpath, &st.src.set, &err) != 0) return cli_fail("screen", &err);
    } else {
        if (!db) db = getenv("COINHOUND_DB");
        if (!db || !*db)
            return cli_failf("screen", "nothing to screen against: give --set FILE (a screening "
                                       "set) or --db DIR, or set COINHOUND_DB");
        if (ch_intel_open(db, false, &st.src.db, &err) != 0) return cli_fail("screen", &err);
        /* the chain side is optional: an attribution store alone screens */
        if (ch_store_open(db, st.chain, CH_STORE_READ, &st.store, &err) == 0) {
            st.account = ch_store_is_account(st.store);
            if (!st.account) open_clusters(&st, db);
        } else if (strcmp(st.chain, "btc") != 0) {
            /* asked for by name: its absence is an error, not a quiet "no exposure" */
            ch_intel_close(st.src.db);
            return cli_fail("screen", &err);
        }
    }

    int rc = 0;
    for (int i = optind; i < argc && rc == 0; i++) {
        if (!strcmp(argv[i], "-"))
            rc = screen_stream(&st, stdin, "standard input");
        else
            screen_one(&st, argv[i]);
    }
    if (file && rc == 0) {
        FILE *in = strcmp(file, "-") ? fopen(file, "r") : stdin;
        if (!in) {
            rc = cli_failf("screen", "cannot open %s", file);
        } else {
            rc = screen_stream(&st, in, file);
            if (in != stdin) fclose(in);
        }
    }
    if (fflush(stdout) != 0) rc = -1;
    if (st.src.set) ch_screen_set_close(st.src.set);
    if (st.src.db) ch_intel_close(st.src.db);
    if (st.clusters) ch_clusters_close(st.clusters);
    if (cli_store_close("screen", st.store, 0) != 0) rc = -1; /* an answer not to trust */
    free(st.members);
    free(st.av.v);
    free(st.av.reasons);
    if (rc != 0) return 2; /* input unreadable: the answer is incomplete */
    if (st.screened == 0) {
        /* an empty list is not a clean one */
        fprintf(stderr, "coinhound screen: no addresses to screen%s%s\n", file ? " in " : "",
                file ? file : "");
        return 2;
    }
    if (st.any_flagged) return 1;
    return st.any_error ? 2 : 0;
}
