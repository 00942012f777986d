/* coinhound alerts --db DIR [--chain NAME] [--since ID] [--json]: the alert
 * log the watcher keeps in the store. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "coinhound/watch.h"

static int print_json(const char *line, size_t len, void *ctx) {
    (void)ctx;
    fwrite(line, 1, len, stdout);
    fputc('\n', stdout);
    return 0;
}

/* One line a record (the library's text form): what moved, where, how
 * much, why. */
static int print_text(const char *line, size_t len, void *ctx) {
    (void)ctx;
    return ch_watch_alert_print(stdout, line, len);
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
