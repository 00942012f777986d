/* Etherscan's public account labels (a 2023 scrape): three shapes.
 *   combined/combinedAccountLabels.json  {"0x..": {"name": "..", "labels": [..]}}
 *   accounts/<label>.json                {"0x..": "name"}         (label = file name)
 *   accounts/<label>.csv                 ,Address,Name Tag,Balance,Txn Count
 * The category comes from the labels (CATEGORY below, first match in
 * priority order); the labels themselves go into the note. All are Ethereum
 * accounts (asset ETH). */
#include "intel/intel_internal.h"

#include <jansson.h>
#include <string.h>
#include <strings.h>

#include "util/csvread.h"

#define ETHERSCAN_SOURCE "Etherscan labels"
#define ETHERSCAN_URL    "https://etherscan.io/labelcloud"

/* Label -> category, strongest first: a Tornado Cash contract that is also
 * on OFAC's list is "sanctions". */
static const struct {
    const char *label, *category;
} CATEGORY[] = {
    {"ofac-sanctions-lists", "sanctions"},
    {"blocked", "blocked"},
    {"tornado-cash", "mixer"},
    {"ethereum-mixer", "mixer"},
    {"typhoon-cash", "mixer"},
    {"flagged-by-sec", "high_risk"},
    {"high-risk", "high_risk"},
    {"something-fishy", "high_risk"},
    {"bridge", "bridge"},
    {"multichain", "bridge"},
    {"wormhole", "bridge"},
    {"hop-protocol", "bridge"},
    {"across-protocol", "bridge"},
    {"celer-network", "bridge"},
    {"connext", "bridge"},
    {"synapse", "bridge"},
    {"optics", "bridge"},
    {"layer-2", "bridge"},
    /* centralised exchanges */
    {"binance", "exchange"},
    {"binance-deposit", "exchange"},
    {"coinbase", "exchange"},
    {"kraken", "exchange"},
    {"bitfinex", "exchange"},
    {"huobi", "exchange"},
    {"okx", "exchange"},
    {"kucoin", "exchange"},
    {"gate-io", "exchange"},
    {"gemini", "exchange"},
    {"bitstamp", "exchange"},
    {"bittrex", "exchange"},
    {"bithumb", "exchange"},
    {"bitmart", "exchange"},
    {"bitmex", "exchange"},
    {"crypto-com", "exchange"},
    {"ftx", "exchange"},
    {"hitbtc", "exchange"},
    {"hotbit", "exchange"},
    {"poloniex", "exchange"},
    {"upbit", "exchange"},
    {"ascendex", "exchange"},
    {"coinone", "exchange"},
    {"korbit", "exchange"},
    {"latoken", "exchange"},
    {"digifinex", "exchange"},
    {"deribit", "exchange"},
    {"paribu", "exchange"},
    {"remitano", "exchange"},
    {"tidex", "exchange"},
    {"zb-com", "exchange"},
    {"hoo-com", "exchange"},
    {"crex24", "exchange"},
    {"coinsquare", "exchange"},
    {"coinhako", "exchange"},
    {"coinmetro", "exchange"},
    {"bitcoin-suisse", "exchange"},
    {"changenow", "exchange"},
    {"shapeshift", "exchange"},
    {"yunbi", "exchange"},
    {"quadrigacx", "exchange"},
    {"cobinhood", "exchange"},
    {"exchange", "exchange"},
    /* decentralised exchanges */
    {"dex", "dex"},
    {"uniswap", "dex"},
    {"sushiswap", "dex"},
    {"1inch", "dex"},
    {"0x-protocol", "dex"},
    {"kyberswap", "dex"},
    {"paraswap", "dex"},
    {"pancakeswap", "dex"},
    {"dydx", "dex"},
    {"idex", "dex"},
    {"loopring", "dex"},
    {"gambling", "gambling"},
    {"mining", "mining"},
    {"f2pool", "mining"},
};

static const char *category_of(const char *const *labels, size_t n) {
    for (size_t c = 0; c < sizeof CATEGORY / sizeof CATEGORY[0]; c++)
        for (size_t i = 0; i < n; i++)
            if (!strcasecmp(labels[i], CATEGORY[c].label)) return CATEGORY[c].category;
    return "service";
}

static int add(ch_imp *im, const char *address, const char *name, const char *const *labels,
               size_t nlabels, const char *where, ch_error *err) {
    ch_attribution a;
    memset(&a, 0, sizeof a);
    intel_copy(a.asset, sizeof a.asset, "ETH");
    intel_copy(a.entity, sizeof a.entity, name && *name ? name : nlabels ? labels[0] : "");
    intel_copy(a.category, sizeof a.category, category_of(labels, nlabels));
    intel_copy(a.source_name, sizeof a.source_name, ETHERSCAN_SOURCE);
    intel_copy(a.source_url, sizeof a.source_url, ETHERSCAN_URL);
    a.confidence = 80;
    size_t n = 0;
    n += (size_t)snprintf(a.note, sizeof a.note, "labels:");
    for (size_t i = 0; i < nlabels && n < sizeof a.note; i++)
        n += (size_t)snprintf(a.note + n, sizeof a.note - n, " %s", labels[i]);
    return imp_add(im, address, &a, NULL, IMP_VALIDATE, where, err);
}

/* Etherscan's label export as JSON (an object keyed by address, each with
 * its name tag and labels) into attributions. */
static int from_json(ch_imp *im, FILE *f, const char *name, ch_error *err) {
    json_error_t je;
    json_t *root = json_loadf(f, 0, &je);
    if (!root) return ch_err(err, "%s: line %d, column %d: %s", name, je.line, je.column, je.text);
    if (!json_is_object(root)) {
        json_decref(root);
        return ch_err(err, "%s: expected an object keyed by address", name);
    }
    char stem[64];
    imp_stem(name, stem, sizeof stem);
    const char *key;
    json_t *v;
    int r = 0;
    json_object_foreach(root, key, v) {
        char where[160];
        snprintf(where, sizeof where, "key \"%.100s\"", key);
        if (json_is_string(v)) { /* accounts/<label>.json */
            const char *labels[1] = {stem};
            r = add(im, key, json_string_value(v), labels, 1, where, err);
        } else if (json_is_object(v)) { /* combined */
            json_t *jl = json_object_get(v, "labels");
            const char *labels[32];
            size_t n = 0, i;
            json_t *l;
            if (jl && !json_is_array(jl)) {
                r = ch_err(err, "%s: %s: \"labels\" is not an array", name, where);
                break;
            }
            json_array_foreach(jl, i, l) {
                if (json_is_string(l) && n < 32) labels[n++] = json_string_value(l);
            }
            r = add(im, key, json_string_value(json_object_get(v, "name")), labels, n, where, err);
        } else {
            r = ch_err(err, "%s: %s: neither a name nor a label object", name, where);
        }
        if (r < 0) break;
    }
    json_decref(root);
    return r;
}

static int from_csv(ch_imp *im, FILE *f, const char *name, ch_error *err) {
    csv_reader r;
    csv_init(&r, f, name);
    int rc = csv_next(&r, err);
    int ca = -1, cn = -1;
    for (int i = 0; rc == 1 && i < r.nfields; i++) {
        if (!strcasecmp(r.field[i], "Address")) ca = i;
        if (!strcasecmp(r.field[i], "Name Tag")) cn = i;
    }
    if (rc == 1 && ca < 0) rc = ch_err(err, "%s: line 1: no Address column", name);
    char stem[64];
    imp_stem(name, stem, sizeof stem);
    const char *labels[1] = {stem};
    while (rc == 1 && (rc = csv_next(&r, err)) == 1) {
        if (r.nfields == 1 && !r.field[0][0]) continue;
        if (ca >= r.nfields) {
            rc = ch_err(err, "%s: line %ld: no address field", name, r.rec_line);
            break;
        }
        char where[32];
        snprintf(where, sizeof where, "line %ld", r.rec_line);
        if (add(im, r.field[ca], cn >= 0 && cn < r.nfields ? r.field[cn] : "", labels, 1, where,
                err) < 0)
            rc = -1;
    }
    csv_free(&r);
    return rc < 0 ? -1 : 0;
}

int import_etherscan(ch_imp *im, FILE *f, const char *name, ch_error *err) {
    int c = getc(f);
    while (c == ' ' || c == '\n' || c == '\r' || c == '\t')
        c = getc(f);
    if (c != EOF) ungetc(c, f);
    return c == '{' ? from_json(im, f, name, err) : from_csv(im, f, name, err);
}
