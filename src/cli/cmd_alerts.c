/* coinhound alerts --db DIR [--chain NAME] [--since ID] [--json]: the alert
 * log the watcher keeps in the store. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "coinhound/watch.h"

static const char *str(json_t *o, const char *k) {
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "-";
}

/* A side of the transfer: an EVM alert's one address, or a Bitcoin
 * alert's list (its first address and how many more; "<k>_count" when the
 * list was cut); "-" for none. */
static const char *side(json_t *o, const char *k, char out[200]) {
    json_t *v = json_object_get(o, k);
    if (json_is_string(v)) return json_string_value(v);
    const char *first = json_string_value(json_array_get(v, 0));
    if (!first) return "-";
    char ck[32];
    snprintf(ck, sizeof ck, "%s_count", k);
    json_t *c = json_object_get(o, ck);
    long long n = c ? (long long)json_integer_value(c) : (long long)json_array_size(v);
    if (n > 1)
        snprintf(out, 200, "%s and %lld more", first, n - 1);
    else
        snprintf(out, 200, "%s", first);
    return out;
}

static int print_json(const char *line, size_t len, void *ctx) {
    (void)ctx;
    fwrite(line, 1, len, stdout);
    fputc('\n', stdout);
    return 0;
}

/* One line a record: what moved, where, how much, why. */
static int print_text(const char *line, size_t len, void *ctx) {
    (void)ctx;
    json_t *a = json_loadb(line, len, 0, NULL);
    if (!a) {
        printf("(unreadable record)\n");
        return 0;
    }
    printf("%s %-8s %-20s %s block %lld tx %s: %s %s", str(a, "id"), str(a, "severity"),
           str(a, "rule"), str(a, "chain"),
           (long long)json_integer_value(json_object_get(a, "height")), str(a, "tx"),
           str(a, "amount"), str(a, "asset"));
    char from[200], to[200];
    printf(" from %s to %s", side(a, "from", from), side(a, "to", to));
    if (json_is_true(json_object_get(a, "retracted"))) printf(" RETRACTED (reorg)");
    json_t *reasons = json_object_get(a, "reasons");
    size_t i;
    json_t *r;
    json_array_foreach(reasons, i, r) printf("\n    why: %s [%s]", str(r, "why"), str(r, "source"));
    printf("\n");
    json_decref(a);
    return 0;
}

int cmd_alerts(int argc, char **argv) {
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'},    {"chain", required_argument, 0, 'c'},
        {"since", required_argument, 0, 's'}, {"json", no_argument, 0, 'j'},
        {"help", no_argument, 0, 'h'},        {0, 0, 0, 0}};
    const char *db = NULL, *chain = "eth", *since = NULL;
    bool json = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'd')
            db = optarg;
        else if (c == 'c') {
            if (cli_opt_chain("alerts", optarg)) return 2;
            chain = optarg;
        } else if (c == 's')
            since = optarg;
        else if (c == 'j')
            json = true;
        else {
            FILE *f = c == 'h' ? stdout : stderr;
            fprintf(f,
                    "usage: coinhound alerts --db DIR [--chain NAME] [--since ID] [--json]\n\n"
                    "The alerts 'coinhound watch' raised on the store DIR/<chain> (default eth),\n"
                    "oldest first, retractions included (the same id, \"retracted\": true).\n"
                    "--since ID lists what came after the last record with that id; --json\n"
                    "prints the records as the watcher wrote them, one JSON object a line.\n");
            return c == 'h' ? 0 : 2;
        }
    }
    if (optind != argc) return cli_failf("alerts", "unexpected argument '%s'", argv[optind]);
    if (!(db = cli_db_dir("alerts", db))) return 2;
    ch_error err;
    int n = ch_watch_alerts_foreach(db, chain, since, json ? print_json : print_text, NULL, &err);
    if (n < 0) return cli_fail("alerts", &err);
    if (!json && n == 0)
        fprintf(stderr, "coinhound alerts: no alerts%s\n", since ? " since then" : "");
    return 0;
}
