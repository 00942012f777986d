/* The one-look line of an alert: what moved, where, how much, why it
 * matters ("summary"), and what to do ("action", for kinds whose evaluator
 * did not write one). Both are read from the alert's own fields, so every
 * kind gets them the same way. */
#include <stdio.h>
#include <string.h>

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

void watch_alert_summarize(json_t *a) {
    const char *kind = str(a, "kind", "?"), *event = str(a, "event", NULL);
    char f[16], t[16], line[600];
    const char *from = str(a, "from", NULL), *to = str(a, "to", NULL);
    const char *amount = str(a, "amount_display", NULL);
    const char *why = "";
    json_t *r0 = json_array_get(json_object_get(a, "reasons"), 0);
    if (r0) why = str(r0, "why", "");
    snprintf(line, sizeof line, "%s %s%s%s: %s %s%s from %s to %s in block %lld: %s",
             str(a, "severity", "?"), kind, event ? "/" : "", event ? event : "",
             amount ? amount : str(a, "amount", "?"), amount ? "" : "base units of ",
             str(a, "asset", "?"), from ? short_hex(from, f) : "no one",
             to ? short_hex(to, t) : "no one",
             (long long)json_integer_value(json_object_get(a, "height")), why);
    json_object_set_new(a, "summary", json_string(line));
    if (!json_object_get(a, "action"))
        json_object_set_new(a, "action", json_string(default_action(kind)));
}
