/* coinhound serve --db DIR | --set FILE [--listen ADDR:PORT] [--keys FILE]
 *                 [--threads N] [--chain NAME] [--hops N]
 *
 * The HTTP screening service (coinhound/server.h): parses options, opens
 * the screener the way `screen` does, serves until SIGINT or SIGTERM. */
#include <getopt.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "coinhound/exposure.h"
#include "coinhound/screener.h"
#include "coinhound/server.h"

/* --help: the endpoints, keys and limits in one screen, since an operator
 * reads it before the OpenAPI document. */
static void usage(FILE *f) {
    fprintf(f,
            "usage: coinhound serve --db DIR | --set FILE [--listen ADDR:PORT] [--keys FILE]\n"
            "                       [--threads N] [--chain NAME] [--hops N] [--max-batch N]\n"
            "                       [--max-trace-hops N]\n"
            "       coinhound serve --hash-key     (reads a key on stdin, prints its SHA-256)\n\n"
            "Serves screening over HTTP, JSON in and out (docs/serve.md, docs/openapi.json):\n"
            "  GET  /api/v1/address/{address}  sanctions identifications\n"
            "  POST /v1/screen                 [{\"address\",\"chain\",\"external_id\"},...]: "
            "verdicts\n"
            "                                  as 'screen --json' writes them\n"
            "  GET  /v1/address/{a}[/txs], /v1/tx/{txid}, /v1/block/{height|hash},\n"
            "       /v1/cluster/{a}            the store's queries (?chain=NAME)\n"
            "  POST /v1/trace                  {\"source\",\"policy\",...}: trace --json\n"
            "  GET  /v1/intel/actors, /v1/intel/address/{a}, /v1/alerts?since=ID\n"
            "  GET  /v1/alerts/stream          Server-Sent Events of the watcher's alerts\n"
            "  POST /v1/intel/import?format=F  a file into the attribution store (write scope)\n"
            "  GET  /v1/status, /healthz, /metrics, /v1/openapi.json\n\n"
            "  --db DIR         the database whose attribution store (and chain store) to serve;\n"
            "                   new commits are picked up without a restart\n"
            "  --set FILE       an offline screening set instead\n"
            "  --listen A:P     address and port (default %s; port 0: any free port)\n"
            "  --keys FILE      API keys, one a line: NAME SHA256-HEX SCOPES LIMIT\n"
            "                   (SCOPES read, write or read,write; LIMIT N/s, N/min, N/h or\n"
            "                   unlimited). Without --keys only loopback addresses are served\n"
            "  --threads N      worker threads, each its own epoll loop (default 2)\n"
            "  --chain NAME     the chain store under --db (default btc)\n"
            "  --hops N         indirect exposure's reach (default 3; 0 off)\n"
            "  --max-batch N    addresses in one POST /v1/screen (default 10000)\n"
            "  --web DIR        the web UI's built files, served at / (default: web/dist of\n"
            "                   the source tree, or share/coinhound/web installed)\n"
            "  --max-trace-hops N  the hops a POST /v1/trace may ask for, and its default\n"
            "                   (default 20): a trace holds its chain store while it runs\n"
            "Exit status: 0 after SIGINT or SIGTERM, 2 when it cannot start.\n",
            CH_SERVER_DEFAULT_LISTEN);
}

static int hash_key(void) {
    char line[4096];
    if (!fgets(line, sizeof line, stdin))
        return cli_failf("serve", "--hash-key: no key on standard input");
    line[strcspn(line, "\r\n")] = '\0';
    if (!line[0]) return cli_failf("serve", "--hash-key: an empty key");
    char hex[65];
    ch_server_key_hash(line, strlen(line), hex);
    printf("%s\n", hex);
    return 0;
}

/* The options into so (the screener: --db or --set, --chain, --hops) and o
 * (the service). -1 when the service is to start, else the exit code
 * (--help, --hash-key's answer, or a usage error, reported). */
static int parse_args(int argc, char **argv, ch_screener_opts *so, ch_server_opts *o) {
    static const struct option OPTS[] = {
        {"db", required_argument, NULL, 'd'},
        {"set", required_argument, NULL, 's'},
        {"listen", required_argument, NULL, 'l'},
        {"keys", required_argument, NULL, 'k'},
        {"threads", required_argument, NULL, 't'},
        {"chain", required_argument, NULL, 'C'},
        {"hops", required_argument, NULL, 'H'},
        {"max-batch", required_argument, NULL, 'B'},
        {"hash-key", no_argument, NULL, 'K'},
        {"web", required_argument, NULL, 'W'},
        {"max-trace-hops", required_argument, NULL, 'T'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    uint32_t u;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "d:s:l:k:t:h", OPTS, NULL)) != -1) {
        switch (c) {
        case 'd':
            so->db = optarg;
            break;
        case 's':
            so->set_path = optarg;
            break;
        case 'l':
            o->listen = optarg;
            break;
        case 'k':
            o->keys_path = optarg;
            break;
        case 't':
            if (cli_opt_u32("serve", "--threads", optarg, 1, 256, &u)) return 2;
            o->threads = u;
            break;
        case 'C':
            if (cli_opt_chain("serve", optarg)) return 2;
            so->chain = optarg;
            break;
        case 'H':
            if (cli_opt_u32("serve", "--hops", optarg, 0, 1000000, &so->max_hops)) return 2;
            break;
        case 'B':
            if (cli_opt_u32("serve", "--max-batch", optarg, 1, 1000000, &u)) return 2;
            o->max_batch = u;
            break;
        case 'T':
            if (cli_opt_u32("serve", "--max-trace-hops", optarg, 1, 100000, &o->max_trace_hops))
                return 2;
            break;
        case 'K':
            return hash_key();
        case 'W':
            o->web_dir = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) return cli_failf("serve", "unexpected argument '%s'", argv[optind]);
    if (so->db && so->set_path) return cli_failf("serve", "give --db or --set, not both");
    if (!so->db && !so->set_path) return cli_failf("serve", "give --db DIR or --set FILE");
    return -1;
}

/* Open the screener, start the service and serve until SIGINT or SIGTERM,
 * then stop it: 0, or 2 when it could not start or the screener's answers
 * are not to be trusted (reported). */
static int serve(ch_screener_opts *so, ch_server_opts *o) {
    /* signals are taken by sigwait below, in this thread only: blocked
     * before the server's threads start, so they inherit the mask */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
#ifdef __GLIBC__
    /* A batch's body and answer are megabytes malloc'd per request: past
     * glibc's mmap threshold each is a new mapping, every page of it
     * faulted in and zeroed by the kernel (a tenth of a batch's CPU), and
     * the threshold's own adjustment never takes a block of the size just
     * freed. Up to 64 MiB they come from the heap, reused across requests;
     * 128 MiB free before it is given back. */
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 128 << 20);
#endif

    ch_error err, warn;
    ch_screener *sc;
    if (ch_screener_open(so, &sc, &warn, &err) != 0) return cli_fail("serve", &err);
    if (warn.msg[0]) fprintf(stderr, "coinhound serve: warning: %s\n", warn.msg);
    o->db = so->db;
    ch_server *srv;
    if (ch_server_start(sc, o, &srv, &err) != 0) {
        ch_screener_close(sc, NULL);
        return cli_fail("serve", &err);
    }
    /* the port actually bound (the one picked for port 0) */
    char host[256];
    const char *colon = strrchr(o->listen, ':');
    snprintf(host, sizeof host, "%.*s", (int)(colon - o->listen), o->listen);
    fprintf(stderr, "coinhound serve: listening on http://%s:%u/ (%u threads, %s)\n", host,
            (unsigned)ch_server_port(srv), o->threads,
            o->keys_path ? "API keys required" : "no --keys: loopback only, no keys asked");
    if (o->web_dir) fprintf(stderr, "coinhound serve: the web UI from %s at /\n", o->web_dir);
    int sig = 0;
    sigwait(&sigs, &sig);
    fprintf(stderr, "coinhound serve: %s: stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    ch_server_stop(srv);
    if (ch_screener_close(sc, &err) != 0) return cli_fail("serve", &err);
    return 0;
}

int cmd_serve(int argc, char **argv) {
    ch_screener_opts so;
    ch_screener_opts_init(&so);
    so.intel_shared = true; /* POST /v1/intel/import writes through the service's handle */
    ch_exposure_opts xo;
    ch_exposure_opts_init(&xo);
    so.max_hops = xo.max_hops;
    ch_server_opts o;
    ch_server_opts_init(&o);
    int rc = parse_args(argc, argv, &so, &o);
    if (rc >= 0) return rc;
    char web[4096]; /* the web UI's default folder: lives as long as the service */
    if (o.web_dir) {
        struct stat st;
        if (stat(o.web_dir, &st) != 0 || !S_ISDIR(st.st_mode))
            return cli_failf("serve", "--web %s: no such folder", o.web_dir);
    } else if (ch_server_web_default(web, sizeof web) == 0) {
        o.web_dir = web;
    }
    return serve(&so, &o);
}
