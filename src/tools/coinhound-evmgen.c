/* coinhound-evmgen: write a synthetic EVM chain as JSON-RPC responses.
 * The work is in src/evmgen; this file is option parsing and the summary. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "coinhound/evmgen.h"

static const char USAGE[] =
    "usage: coinhound-evmgen --out DIR [options]\n"
    "\n"
    "Writes a synthetic EVM chain into DIR as the JSON-RPC responses a node\n"
    "gives, one JSON line per block ({\"jsonrpc\":\"2.0\",\"id\":N,\"result\":...}):\n"
    "  blocks.jsonl    eth_getBlockByNumber(N, true): full transactions with\n"
    "                  EIP-1559 fees, withdrawals\n"
    "  receipts.jsonl  eth_getBlockReceipts(N): status, gasUsed,\n"
    "                  effectiveGasPrice, logs\n"
    "  traces.jsonl    debug_traceBlockByNumber(N, callTracer), only for\n"
    "                  blocks where a call frame moves value\n"
    "The chain holds payments in ETH and ERC-20 tokens (USDT, USDC and WETH at\n"
    "their mainnet addresses, an unlisted token, a fake \"USDT\"), exchange\n"
    "deposit addresses swept into hot wallets, DEX swaps (token in by log, ETH\n"
    "out by internal call), a bridge, ERC-721 transfers, failed transactions\n"
    "and address-poisoning attempts. No balance ever goes negative. The same\n"
    "seed gives the same bytes.\n"
    "\n"
    "size of the chain:\n"
    "  --transfers N       add blocks until N value transfers were written\n"
    "                      (native, internal, ERC-20, withdrawals; default 10000)\n"
    "  --blocks N          exactly N blocks instead\n"
    "  --txs-per-block N   transactions per block (default 150)\n"
    "  --seed S            PRNG seed (default 1)\n"
    "  --chain-id N        chainId of the transactions (default 1)\n"
    "  --first-block N     number of the first block (default 20000000)\n"
    "\n"
    "test scenario:\n"
    "  --theft             plant a theft (about 401,347 ETH, 20M USDT, 25.5M USDC\n"
    "                      drained, split over 48 addresses, swapped, deposited\n"
    "                      at exchanges and a bridge)\n"
    "\n"
    "Side files: labels.csv (address,category,entity: exchange hot wallets and\n"
    "deposit addresses, the bridge, the DEX), tokens.csv (contract,symbol,\n"
    "decimals,name), theft.json (contracts, the theft with its drain txs,\n"
    "exploiter addresses, swaps, landings, held funds and fees, or null; the\n"
    "poisoning attempts with victim, counterparty and lookalike).\n"
    "\n"
    "examples:\n"
    "  coinhound-evmgen --out /tmp/eth --transfers 1000000 --theft\n"
    "  coinhound-evmgen --out /tmp/eth --blocks 60 --txs-per-block 40 --seed 7\n"
    "\n"
    "Exit status: 0 on success, 2 on any error (with a message on stderr).\n";

static int usage_error(const char *fmt, const char *arg) {
    fprintf(stderr, "coinhound-evmgen: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'coinhound-evmgen --help'.\n");
    return 2;
}

static int parse_u64(const char *s, uint64_t *out) {
    if (!s || !*s || *s == '-' || *s == '+') return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end) return -1;
    *out = (uint64_t)v;
    return 0;
}

enum { OPT_TRANSFERS = 1000, OPT_BLOCKS, OPT_TPB, OPT_SEED, OPT_CHAIN, OPT_FIRST, OPT_THEFT };

/* The options into o: -1 when the run goes on, else the exit code (--help,
 * or a usage error, reported). */
static int parse_args(int argc, char **argv, ch_evmgen_opts *o) {
    static const struct option LONG[] = {
        {"out", required_argument, NULL, 'o'},
        {"transfers", required_argument, NULL, OPT_TRANSFERS},
        {"blocks", required_argument, NULL, OPT_BLOCKS},
        {"txs-per-block", required_argument, NULL, OPT_TPB},
        {"seed", required_argument, NULL, OPT_SEED},
        {"chain-id", required_argument, NULL, OPT_CHAIN},
        {"first-block", required_argument, NULL, OPT_FIRST},
        {"theft", no_argument, NULL, OPT_THEFT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    uint64_t v;
    while ((c = getopt_long(argc, argv, "o:h", LONG, NULL)) != -1) {
        const char *name = NULL;
        switch (c) {
        case 'o':
            o->out_dir = optarg;
            continue;
        case 'h':
            fputs(USAGE, stdout);
            return 0;
        case OPT_THEFT:
            o->theft = true;
            continue;
        case OPT_TRANSFERS:
            name = "--transfers";
            break;
        case OPT_BLOCKS:
            name = "--blocks";
            break;
        case OPT_TPB:
            name = "--txs-per-block";
            break;
        case OPT_SEED:
            name = "--seed";
            break;
        case OPT_CHAIN:
            name = "--chain-id";
            break;
        case OPT_FIRST:
            name = "--first-block";
            break;
        default:
            fprintf(stderr, "Try 'coinhound-evmgen --help'.\n");
            return 2;
        }
        if (parse_u64(optarg, &v) != 0) return usage_error("%s needs a whole number", name);
        if ((c == OPT_BLOCKS || c == OPT_TPB) && v > UINT32_MAX)
            return usage_error("%s is too large", name);
        switch (c) {
        case OPT_TRANSFERS:
            o->transfers = v;
            break;
        case OPT_BLOCKS:
            o->blocks = (uint32_t)v;
            break;
        case OPT_TPB:
            o->txs_per_block = (uint32_t)v;
            break;
        case OPT_SEED:
            o->seed = v;
            break;
        case OPT_CHAIN:
            o->chain_id = v;
            break;
        case OPT_FIRST:
            o->first_block = v;
            break;
        }
    }
    if (optind < argc) return usage_error("unexpected argument '%s'", argv[optind]);
    if (!o->out_dir) return usage_error("%s", "--out DIR is required");
    return -1;
}

/* What was written and how fast (secs > 0). */
static void print_summary(const ch_evmgen_stats *st, bool theft, double secs) {
    printf("%" PRIu64 " blocks, %" PRIu64 " txs (%" PRIu64 " failed), %" PRIu64 " logs, %" PRIu64
           " traced blocks\n",
           st->blocks, st->txs, st->failed_txs, st->logs, st->trace_blocks);
    printf("%" PRIu64 " transfers: %" PRIu64 " native, %" PRIu64 " internal, %" PRIu64
           " ERC-20, %" PRIu64 " withdrawals (+%" PRIu64 " ERC-721)\n",
           st->transfers, st->native, st->internal, st->erc20, st->withdrawals, st->erc721);
    printf("%" PRIu64 " accounts, %" PRIu64 " labels, %" PRIu64 " poisoning attempts%s\n",
           st->accounts, st->labels, st->poisonings, theft ? ", theft planted" : "");
    printf("%.1f MB in %.2f s: %.0f transfers/s, %.1f MB/s\n", (double)st->bytes / 1e6, secs,
           (double)st->transfers / secs, (double)st->bytes / 1e6 / secs);
}

int main(int argc, char **argv) {
    ch_evmgen_opts o;
    ch_evmgen_opts_init(&o);
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0) return rc;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ch_evmgen_stats st;
    ch_error err;
    if (ch_evmgen_run(&o, &st, &err) != 0) {
        fprintf(stderr, "coinhound-evmgen: %s\n", err.msg);
        return 2;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (secs <= 0) secs = 1e-9;
    print_summary(&st, o.theft, secs);
    return 0;
}
