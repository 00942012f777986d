/* coinhound watch eth --rpc URL --db DIR --rules FILE [...]: follow a node
 * and alert (src/watch); coinhound watch check FILE: read the rules only. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "coinhound/watch.h"

static volatile sig_atomic_t g_stop;

static void on_signal(int sig) {
    (void)sig;
    g_stop = 1;
}

/* The command's help: following a node, the rules file, alerts,
 * confirmations and the check form. */
static void usage(FILE *f) {
    fprintf(f, "usage: coinhound watch eth --rpc URL --db DIR --rules FILE [--alerts FILE]\n"
               "                           [--confirmations N] [--from-block N] [--poll-ms N]\n"
               "                           [--chain NAME] [--index-mem SIZE] [--wait]\n"
               "                           [--webhook URL [--webhook-secret-file FILE]]\n"
               "                           [--heartbeat SECONDS] [--stale-after SECONDS]\n"
               "                           [--no-traces | --traces] [--traces-wait SECONDS]\n"
               "                           [--rpc-timeout SECONDS]\n"
               "       coinhound watch btc (--blocks DIR | --rpc URL [--rpc-cookie FILE |\n"
               "                           --rpc-user U --rpc-password P]) --db DIR --rules FILE\n"
               "                           [--alerts FILE] [--confirmations N] [--poll-ms N]\n"
               "                           [--mem SIZE] [--index-mem SIZE] [--wait]\n"
               "                           [--webhook URL [--webhook-secret-file FILE]]\n"
               "                           [--heartbeat SECONDS] [--stale-after SECONDS]\n"
               "                           [--rpc-timeout SECONDS]\n"
               "       coinhound watch check FILE\n"
               "\n"
               "Follows an EVM node over JSON-RPC block by block, keeps the store DIR/eth current\n"
               "(it is the store's writer while it runs: readers may query beside it), and writes\n"
               "an alert, one JSON object a line, when a block moves funds a rule watches. It\n"
               "catches up from the store's tip first (an empty store starts at block 0, or at\n"
               "--from-block), follows reorgs back to the fork point, and retracts an alert\n"
               "whose block left the chain (the same id, \"retracted\": true). --rpc\n"
               "ws://HOST:PORT subscribes to new heads (eth_subscribe) and fetches blocks over\n"
               "http:// at the same place; --poll-ms is then only a fallback.\n"
               "Traces: each block's callTracer traces (debug_traceBlockByNumber) are fetched\n"
               "where the node has them: value a contract moves (a contract wallet, a mixer's\n"
               "withdrawal, a bridge's payout) is an internal transfer seen only there. At\n"
               "the start and after a reconnect the node is asked to trace its latest block,\n"
               "and one line says which it is ('traces: on (...)' or the warning 'traces:\n"
               "off, ... does not answer debug_traceBlockByNumber ...'); a node that says\n"
               "later that it does not trace (method not found) is warned about once,\n"
               "followed without traces (no block is half-written) and asked again every 10\n"
               "minutes. A node that fails to trace a block (an error, no answer in time) is\n"
               "asked again with backoff, the block not evaluated without its traces, for up\n"
               "to --traces-wait SECONDS (default 120); then blocks are followed without\n"
               "traces (a warning names the first; they are listed when traces come back)\n"
               "and the node is asked again each minute; a coverage alert (rule watcher,\n"
               "event traces_off, then traces_on with the blocks taken without) goes where\n"
               "the alerts go, and the open range survives a restart. --no-traces: never\n"
               "asked.\n"
               "--traces: require them: a node that does not answer the trace call at the\n"
               "start is an error (exit 2).\n"
               "watch btc follows Bitcoin Core into DIR/btc through its blocks folder (the\n"
               "blk files it appends to, xor.dat honoured; woken by inotify, it reads only\n"
               "what is new) or its JSON-RPC (getbestblockhash, getblockhash, getblock;\n"
               "the node's .cookie file or a user and password), one alert per rule and\n"
               "transaction; rules take Bitcoin addresses and 'asset: BTC' (satoshi).\n"
               "--mem SIZE bounds its store writer's memory as ingest --mem (default: half\n"
               "the RAM). --index-mem SIZE (both watchers) caps the store writer's tables of\n"
               "the newest txids and addresses (default 32M, at least 1M, taken at the start):\n"
               "the watcher's memory stays flat however long it runs; older keys are found in\n"
               "the store's sorted runs.\n"
               "\n"
               "Alerts go to --alerts FILE (appended) or stdout, and are kept in the store\n"
               "(DIR/eth/watch/alerts.jsonl; list them with 'coinhound alerts --db DIR').\n"
               "Delivery is at least once: a kill at any moment, then a restart, loses no\n"
               "alert, and a line delivered twice carries the same id. --confirmations N\n"
               "alerts on a block once N blocks stand on the chain from it (1: at once).\n"
               "--webhook URL POSTs each alert alone to URL, signed: the header\n"
               "X-Coinhound-Signature: sha256=HEX is HMAC-SHA256 of the body under the secret\n"
               "read from --webhook-secret-file FILE (or COINHOUND_WEBHOOK_SECRET); also\n"
               "X-Coinhound-Alert-Id. A 2xx answer acknowledges; anything else is retried\n"
               "with backoff, and what is not acknowledged is sent again after a restart\n"
               "(at least once: dedup on the id).\n"
               "A node that fails is retried with backoff; SIGTERM or SIGINT stops cleanly.\n"
               "--rpc-timeout SECONDS (default 30, 1 to 3600; both watchers' --rpc): a node\n"
               "that has not answered a request by then counts as failed (a warning says\n"
               "so), is backed off from and asked again; no block is half-written.\n"
               "Logs go to stderr, each line with a level (info, warn, error). Another writer\n"
               "of the store (an ingest) makes it fail at once, or with --wait wait for it.\n"
               "Every --heartbeat SECONDS (default 600; 0: never) a line says the watcher is\n"
               "alive: 'info: following SOURCE: at block N, the last new block S s ago; A new\n"
               "alerts ...'. When no new block has come for --stale-after SECONDS (default\n"
               "600 for eth, 7200 for btc; 0: never), one warning says so (a node stalled or\n"
               "cut off from its peers), and an info line when blocks come again.\n"
               "\n"
               "Rules (YAML, checked at start; docs/watch.md has them all):\n"
               "\n"
               "  rules:\n"
               "    - name: thief-moves           # unique: it is part of each alert's id\n"
               "      kind: address               # any transfer in or out of these\n"
               "      addresses: [0x70997970c51812dc3a010c7d01b50e0d17dc79c8]\n"
               "      severity: high              # low, medium (default), high, critical\n"
               "    - name: big\n"
               "      kind: large_transfer        # one transfer at or above min\n"
               "      asset: ETH                  # or a token contract 0x...\n"
               "      min: \"1000000000000000000000\" # base units (wei), as a string\n"
               "      severity: medium\n"
               "    - name: dprk\n"
               "      kind: actor                 # also entity, category: read from DIR/intel\n"
               "      actor: DPRK                 # an actor or its country; a list is fine\n"
               "      severity: critical\n"
               "    - name: heist\n"
               "      kind: incident              # the theft's taint, block by block, as trace\n"
               "      txs: [0x3870e0c08846310708ee039f25224c0101f803898b46c149187deacc461222b6]\n"
               "                                  # watch btc: a txid (64 hex), TXID:VOUT or an\n"
               "                                  # address (addresses: [...])\n"
               "      policy: haircut             # poison, haircut, fifo\n"
               "      severity: high              # 'moved' alerts; a 'landing' at an exchange,\n"
               "                                  # bridge or mixer is always critical\n"
               "    - name: deposits\n"
               "      kind: deposit_exposure      # screen deposits to customers' addresses\n"
               "      addresses: [0x90f79bf6eb2c4f870365e785982e1f101e93b906]\n"
               "                                  # watch btc: Bitcoin addresses, each paying\n"
               "                                  # output's coins screened (TXID:VOUT)\n"
               "      min_share: 0.25             # flagged share of the sender's funds\n"
               "      max_hops: 3\n"
               "    - name: protect-treasury\n"
               "      kind: poisoning             # lookalike, dust, zero-value spoof attempts\n"
               "      addresses: [0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc]\n"
               "\n"
               "'coinhound watch check FILE' reads the rules and says what it found, or the\n"
               "line of the first error (exit 2).\n");
}

/* The webhook's secret: the file's content (a trailing newline and spaces
 * cut), else COINHOUND_WEBHOOK_SECRET. Not on the command line, where ps
 * would show it. */
static int read_secret(const char *path, char *out, size_t cap) {
    if (!path) {
        const char *e = getenv("COINHOUND_WEBHOOK_SECRET");
        if (!e || !*e)
            return cli_failf("watch", "--webhook needs a secret to sign with: "
                                      "--webhook-secret-file FILE or COINHOUND_WEBHOOK_SECRET");
        if (strlen(e) >= cap) return cli_failf("watch", "COINHOUND_WEBHOOK_SECRET is too long");
        snprintf(out, cap, "%s", e);
        return 0;
    }
    FILE *f = fopen(path, "rb");
    if (!f)
        return cli_failf("watch", "%s: cannot read the webhook secret: %s", path, strerror(errno));
    size_t n = fread(out, 1, cap - 1, f);
    bool more = fgetc(f) != EOF;
    fclose(f);
    if (more) return cli_failf("watch", "%s: a webhook secret over 4096 bytes is refused", path);
    out[n] = 0;
    while (n && (out[n - 1] == '\n' || out[n - 1] == '\r' || out[n - 1] == ' '))
        out[--n] = 0;
    if (!n || strlen(out) != n)
        return cli_failf("watch", "%s: the webhook secret is empty (or holds a NUL byte)", path);
    struct stat st;
    if (stat(path, &st) == 0 && (st.st_mode & 077))
        fprintf(stderr, "coinhound watch: warn: %s is readable by others (chmod 600 it)\n", path);
    return 0;
}

static int check(const char *path) {
    ch_error err;
    ch_watch_rules *r;
    if (ch_watch_rules_load(path, &r, &err) != 0) return cli_fail("watch", &err);
    for (size_t i = 0; i < r->n; i++)
        printf("%s: line %u: rule %s, kind %s, severity %s\n", path, r->v[i].line, r->v[i].name,
               ch_watch_rule_kind_name(r->v[i].kind), r->v[i].severity);
    ch_watch_rules_free(r);
    return 0;
}

/* What watch's command line names besides ch_watch_opts. */
typedef struct watch_args {
    const char *db, *rules_path, *secret_path;
} watch_args;

/* The options after the chain word (argv[1]) into o and a: -1 when the
 * watch goes on, else the exit code (--help, or a usage error, reported). */
static int parse_args(int argc, char **argv, ch_watch_opts *o, watch_args *a) {
    static const struct option opts[] = {{"rpc", required_argument, 0, 'r'},
                                         {"db", required_argument, 0, 'd'},
                                         {"rules", required_argument, 0, 'R'},
                                         {"alerts", required_argument, 0, 'a'},
                                         {"confirmations", required_argument, 0, 'C'},
                                         {"from-block", required_argument, 0, 'f'},
                                         {"poll-ms", required_argument, 0, 'p'},
                                         {"chain", required_argument, 0, 'c'},
                                         {"wait", no_argument, 0, 'w'},
                                         {"blocks", required_argument, 0, 'B'},
                                         {"rpc-cookie", required_argument, 0, 'K'},
                                         {"rpc-user", required_argument, 0, 'U'},
                                         {"rpc-password", required_argument, 0, 'P'},
                                         {"mem", required_argument, 0, 'm'},
                                         {"index-mem", required_argument, 0, 'I'},
                                         {"webhook", required_argument, 0, 'W'},
                                         {"webhook-secret-file", required_argument, 0, 'S'},
                                         {"heartbeat", required_argument, 0, 'H'},
                                         {"stale-after", required_argument, 0, 'T'},
                                         {"traces", no_argument, 0, 'N'},
                                         {"no-traces", no_argument, 0, 'n'},
                                         {"rpc-timeout", required_argument, 0, 'O'},
                                         {"traces-wait", required_argument, 0, 'X'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    uint32_t u32;
    int c;
    optind = 1;
    while ((c = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            o->rpc_url = optarg;
            break;
        case 'd':
            a->db = optarg;
            break;
        case 'R':
            a->rules_path = optarg;
            break;
        case 'a':
            o->alerts_path = optarg;
            break;
        case 'C':
            if (cli_opt_u32("watch", "--confirmations", optarg, 1, 1000, &u32)) return 2;
            o->confirmations = u32;
            break;
        case 'f':
            if (cli_opt_block("watch", "--from-block", optarg, &o->from_block)) return 2;
            o->has_from = true;
            break;
        case 'p':
            if (cli_opt_u32("watch", "--poll-ms", optarg, 10, 3600000, &u32)) return 2;
            o->poll_ms = u32;
            break;
        case 'c':
            if (cli_opt_chain("watch", optarg)) return 2;
            if (!strcmp(optarg, "btc"))
                return cli_failf("watch", "--chain btc is a UTXO store; 'watch eth' needs an "
                                          "account chain (eth, bsc, ...)");
            o->chain = optarg;
            break;
        case 'w':
            o->wait = true;
            break;
        case 'B':
            o->blocks_dir = optarg;
            break;
        case 'K':
            o->rpc_cookie = optarg;
            break;
        case 'U':
            o->rpc_user = optarg;
            break;
        case 'P':
            o->rpc_password = optarg;
            break;
        case 'm':
            if (cli_opt_mem("watch", "--mem", optarg, &o->mem_bytes) != 0) return 2;
            break;
        case 'I':
            if (cli_opt_size("watch", "--index-mem", optarg, 1u << 20, &o->index_mem_bytes) != 0)
                return 2;
            break;
        case 'W':
            o->webhook_url = optarg;
            break;
        case 'S':
            a->secret_path = optarg;
            break;
        case 'H':
            if (cli_opt_u32("watch", "--heartbeat", optarg, 0, 86400, &u32)) return 2;
            o->heartbeat_s = u32;
            break;
        case 'T':
            if (cli_opt_u32("watch", "--stale-after", optarg, 0, 604800, &u32)) return 2;
            o->stale_s = u32;
            break;
        case 'N':
        case 'n':
            if (o->traces != CH_WATCH_TRACES_AUTO &&
                o->traces != (c == 'N' ? CH_WATCH_TRACES_REQUIRE : CH_WATCH_TRACES_OFF))
                return cli_failf("watch", "--traces and --no-traces: one or the other");
            o->traces = c == 'N' ? CH_WATCH_TRACES_REQUIRE : CH_WATCH_TRACES_OFF;
            break;
        case 'O':
            if (cli_opt_u32("watch", "--rpc-timeout", optarg, 1, 3600, &u32)) return 2;
            o->rpc_timeout_ms = u32 * 1000;
            break;
        case 'X':
            if (cli_opt_u32("watch", "--traces-wait", optarg, 1, 86400, &u32)) return 2;
            o->traces_wait_ms = u32 * 1000;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc - 1) return cli_failf("watch", "unexpected argument '%s'", argv[optind + 1]);
    return -1;
}

/* The options that go with the chain (watch btc: blk files or its RPC,
 * no --from-block or --chain; watch eth: none of btc's), the rules
 * and the database (resolved into o->db_dir). -1 when they do, else exit
 * code 2 (reported). */
static int check_args(bool btc, ch_watch_opts *o, const watch_args *a) {
    if (btc) {
        if (!o->blocks_dir == !o->rpc_url)
            return cli_failf("watch", "watch btc needs --blocks DIR (Bitcoin Core's blocks "
                                      "folder) or --rpc URL (its JSON-RPC), one of them");
        if (o->has_from || strcmp(o->chain, "eth"))
            return cli_failf("watch", "watch btc takes neither --from-block nor --chain (a "
                                      "Bitcoin store starts at the genesis block, in DIR/btc)");
        o->chain = "btc";
    } else if (o->blocks_dir || o->rpc_cookie || o->rpc_user || o->rpc_password || o->mem_bytes) {
        return cli_failf("watch", "--blocks, --mem and --rpc-cookie/--rpc-user/--rpc-password "
                                  "are for watch btc");
    }
    if (o->rpc_timeout_ms && !o->rpc_url)
        return cli_failf("watch", "--rpc-timeout is for --rpc (a blocks folder is not asked)");
    if (btc && (o->traces != CH_WATCH_TRACES_AUTO || o->traces_wait_ms))
        return cli_failf("watch", "--traces, --no-traces and --traces-wait are for watch eth "
                                  "(Bitcoin has no "
                                  "internal calls)");
    if (!o->rpc_url && !o->blocks_dir)
        return cli_failf("watch", "watch eth needs --rpc URL (the node's JSON-RPC)");
    if (!a->rules_path)
        return cli_failf("watch", "watch needs --rules FILE (see 'coinhound watch --help')");
    if (!(o->db_dir = cli_db_dir("watch", a->db))) return 2;
    if (a->secret_path && !o->webhook_url)
        return cli_failf("watch", "--webhook-secret-file without --webhook URL");
    return -1;
}

/* Load the rules and follow the chain until SIGTERM or SIGINT (or the
 * node's end, with --wait off): eth with the people's safeguard over each
 * block, as ingest runs it. 0, or 2 (reported). */
static int run(bool btc, ch_watch_opts *o, const char *rules_path) {
    ch_error err;
    ch_watch_rules *rules;
    if (ch_watch_rules_load(rules_path, &rules, &err) != 0) return cli_fail("watch", &err);
    o->rules = rules;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    int rc;
    if (btc) {
        rc = ch_watch_run_btc(o, &err);
    } else {
        ch_poison *guard = NULL; /* the safeguard over each block, as ingest runs it */
        if (cli_poison_open("watch", NULL, NULL, &guard) != 0) {
            ch_watch_rules_free(rules);
            return 2;
        }
        o->on_block = ch_poison_ingest_block;
        o->on_block_ctx = guard;
        rc = ch_watch_run(o, &err);
        ch_poison_free(guard);
    }
    ch_watch_rules_free(rules);
    if (rc != 0) return cli_fail("watch", &err);
    return 0;
}

int cmd_watch(int argc, char **argv) {
    if (argc < 2 || cli_is_help(argv[1])) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "check")) {
        if (argc != 3) return cli_failf("watch", "usage: coinhound watch check FILE");
        return check(argv[2]);
    }
    bool btc = !strcmp(argv[1], "btc");
    if (!btc && strcmp(argv[1], "eth"))
        return cli_failf("watch", "'%s' is not a chain this watcher follows (eth, btc)", argv[1]);
    /* a status line every 10 minutes; a stall warned after 10 minutes
     * without a block on an EVM chain (12 s slots), 2 hours on Bitcoin (a
     * gap that long comes about once in 160,000 blocks) */
    ch_watch_opts o = {.chain = "eth",
                       .confirmations = 1,
                       .stop = &g_stop,
                       .heartbeat_s = 600,
                       .stale_s = btc ? 7200 : 600};
    /* the progress lines' interval: an environment variable, not an
     * option, as only tests need it shorter than 5 s */
    const char *pe = getenv("COINHOUND_WATCH_PROGRESS_MS");
    if (pe && *pe) o.progress_ms = (unsigned)strtoul(pe, NULL, 10);
    watch_args a = {0};
    int rc = parse_args(argc, argv, &o, &a);
    if (rc < 0) rc = check_args(btc, &o, &a);
    if (rc >= 0) return rc;
    char secret[4097]; /* lives as long as the watch */
    if (o.webhook_url) {
        if (read_secret(a.secret_path, secret, sizeof secret) != 0) return 2;
        o.webhook_secret = (const uint8_t *)secret;
        o.webhook_secret_len = strlen(secret);
    }
    return run(btc, &o, a.rules_path);
}
