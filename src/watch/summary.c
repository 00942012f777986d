/* The one-look line of an alert: what moved, where, how much, why it
 * matters ("summary"), and what to do ("action", for kinds whose evaluator
 * did not write one). Both are read from the alert's own fields, so every
 * kind gets them the same way. */
#include <stdio.h>
#include <string.h>

#include "coinhound/trace.h"
#include "watch/watch_internal.h"

static const char *str(json_t *a, const char *k, const char *dflt) {
    const char *s = json_string_value(json_object_get(a, k));
    return s ? s : dflt;
}

/* "0x1234...abcd": enough to recognise an address in a line. */
static const char *short_hex(const char *s, char out[16]) {
    if (strlen(s) < 14) return s;
    snprintf(out, 16, "%.6s...%.4s", s, s + strlen(s) - 4);
    return out;
}

static const char *default_action(const char *kind) {
    if (!strcmp(kind, "address"))
        return "A watched address moved funds: follow them (an incident rule from this tx carries "
               "the taint on) and alert the receiving service if there is one.";
    if (!strcmp(kind, "large_transfer"))
        return "Check both parties of this transfer against your customers and the attribution "
               "store; hold it if one is yours and unexplained.";
    if (!strcmp(kind, "entity") || !strcmp(kind, "actor") || !strcmp(kind, "category"))
        return "An attributed address moved funds: if the other side is your customer, hold and "
               "review it; else follow the funds (an incident rule from this tx).";
    return "Review the transfer in 'tx' with the reasons given.";
}

/* One side of a transfer: an EVM side is one address (or null); a Bitcoin
 * side is the list of a tx's distinct addresses ("<first> and N more", N
 * from "<key>_count" when the list was cut). The summary shortens the
 * addresses (short), the alert log's text form writes them whole; none is
 * what a side without an address reads as. */
static const char *side(json_t *a, const char *key, bool shorten, const char *none, char *out,
                        size_t cap) {
    json_t *v = json_object_get(a, key);
    char sh[16];
    const char *first =
        json_is_string(v) ? json_string_value(v) : json_string_value(json_array_get(v, 0));
    if (!first) return none;
    if (shorten) first = short_hex(first, sh);
    long long n = 1;
    if (!json_is_string(v)) {
        char count_key[32];
        snprintf(count_key, sizeof count_key, "%s_count", key);
        json_t *c = json_object_get(a, count_key);
        n = c ? (long long)json_integer_value(c) : (long long)json_array_size(v);
    }
    if (n > 1)
        snprintf(out, cap, "%s and %lld more", first, n - 1);
    else
        snprintf(out, cap, "%s", first);
    return out;
}

/* amount_display, the amount with the coin's decimals ("49.99969202" of
 * BTC, "5" of ETH), for an alert of the chain's own coin that has none yet
 * (the incident evaluators write theirs): a Bitcoin alert in BTC (8
 * decimals), an EVM transfer of kind native or internal (18 decimals on
 * every EVM chain). Tokens (decimals not known here), NFTs (the amount is
 * a token id) and amounts cut at 2^128 are left in base units alone. */
static void add_display(json_t *a) {
    if (json_object_get(a, "amount_display") ||
        json_is_true(json_object_get(a, "amount_saturated")))
        return;
    int decimals = -1;
    const char *xk = str(json_object_get(a, "transfer"), "kind", "");
    if (!strcmp(str(a, "chain", ""), "btc") && !strcmp(str(a, "asset", ""), "BTC"))
        decimals = 8;
    else if (!strcmp(xk, "native") || !strcmp(xk, "internal"))
        decimals = 18;
    ch_taint_sum v;
    if (decimals < 0 || ch_u128_parse(str(a, "amount", ""), &v) != 0) return;
    char disp[48];
    json_object_set_new(a, "amount_display", json_string(ch_u128_decimals_str(v, decimals, disp)));
}

/* The blocks a coverage alert names: "blocks N..M", "from block N" (still
 * open), into out. */
static const char *coverage_blocks(json_t *a, char *out, size_t cap) {
    json_t *b = json_object_get(a, "blocks"), *to = json_object_get(b, "to");
    long long from = (long long)json_integer_value(json_object_get(b, "from"));
    if (json_is_integer(to))
        snprintf(out, cap, "blocks %lld..%lld", from, (long long)json_integer_value(to));
    else
        snprintf(out, cap, "from block %lld", from);
    return out;
}

void watch_alert_summarize(json_t *a) {
    add_display(a);
    const char *kind = str(a, "kind", "?"), *event = str(a, "event", NULL);
    char f[48], t[48], line[600];
    const char *amount = str(a, "amount_display", NULL);
    const char *why = "";
    json_t *r0 = json_array_get(json_object_get(a, "reasons"), 0);
    if (r0) why = str(r0, "why", "");
    if (!strcmp(kind, "coverage")) { /* the watcher's own: of blocks, not a transfer */
        char blocks[80];
        snprintf(line, sizeof line, "%s coverage/%s: %s %s: %s", str(a, "severity", "?"),
                 event ? event : "?", str(a, "chain", "?"),
                 coverage_blocks(a, blocks, sizeof blocks), why);
        json_object_set_new(a, "summary", json_string(line));
        return;
    }
    snprintf(line, sizeof line, "%s %s%s%s: %s %s%s from %s to %s in block %lld: %s",
             str(a, "severity", "?"), kind, event ? "/" : "", event ? event : "",
             amount ? amount : str(a, "amount", "?"), amount ? "" : "base units of ",
             str(a, "asset", "?"), side(a, "from", true, "no one", f, sizeof f),
             side(a, "to", true, "no one", t, sizeof t),
             (long long)json_integer_value(json_object_get(a, "height")), why);
    json_object_set_new(a, "summary", json_string(line));
    if (!json_object_get(a, "action"))
        json_object_set_new(a, "action", json_string(default_action(kind)));
}

int ch_watch_alert_print(FILE *out, const char *json_line, size_t len) {
    json_t *a = json_loadb(json_line, len, 0, NULL);
    if (!a) return fprintf(out, "(unreadable record)\n") < 0 ? -1 : 0;
    if (!strcmp(str(a, "kind", ""), "coverage")) {
        char blocks[80];
        fprintf(out, "%s %-8s %-20s %s coverage %s %s", str(a, "id", "-"), str(a, "severity", "-"),
                str(a, "rule", "-"), str(a, "chain", "-"), str(a, "event", "-"),
                coverage_blocks(a, blocks, sizeof blocks));
        json_t *r0 = json_array_get(json_object_get(a, "reasons"), 0);
        fprintf(out, "\n    why: %s [%s]\n    action: %s", str(r0, "why", "-"),
                str(r0, "source", "-"), str(a, "action", "-"));
        json_decref(a);
        return fprintf(out, "\n") < 0 ? -1 : 0;
    }
    fprintf(out, "%s %-8s %-20s %s block %lld tx %s: ", str(a, "id", "-"), str(a, "severity", "-"),
            str(a, "rule", "-"), str(a, "chain", "-"),
            (long long)json_integer_value(json_object_get(a, "height")), str(a, "tx", "-"));
    /* "49.99969202 BTC (4999969202 base units)", or "5000 base units of
     * 0x..." for a token: never base units that read as whole coins */
    const char *disp = str(a, "amount_display", NULL);
    if (disp)
        fprintf(out, "%s %s (%s base units)", disp, str(a, "asset", "-"), str(a, "amount", "-"));
    else
        fprintf(out, "%s base units of %s", str(a, "amount", "-"), str(a, "asset", "-"));
    char from[200], to[200];
    fprintf(out, " from %s to %s", side(a, "from", false, "-", from, sizeof from),
            side(a, "to", false, "-", to, sizeof to));
    if (json_is_true(json_object_get(a, "retracted"))) fprintf(out, " RETRACTED (reorg)");
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(a, "reasons"), i, r)
        fprintf(out, "\n    why: %s [%s]", str(r, "why", "-"), str(r, "source", "-"));
    json_decref(a);
    return fprintf(out, "\n") < 0 ? -1 : 0;
}
