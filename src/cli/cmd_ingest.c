/* coinhound ingest btc BLOCKS_DIR --db DIR */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "coinhound/evm.h"
#include "coinhound/ingest.h"
#include "coinhound/jsonw.h"

/* The command's help: both families (btc blk files, eth files or a node
 * URL), resumption and reorgs, and every option. */
static void usage(FILE *f) {
    fprintf(f,
            "usage: coinhound ingest btc BLOCKS_DIR --db DIR [options]\n"
            "       coinhound ingest eth SOURCE... --db DIR [options]\n\n"
            "Reads Bitcoin Core's block files (BLOCKS_DIR/blk*.dat, de-obfuscated with\n"
            "xor.dat when present), orders them by prev-hash from genesis, and appends the\n"
            "blocks the store lacks to DIR/btc. Re-running ingests only new blocks; a\n"
            "stale tip in the store is replaced by the best chain's blocks when they carry\n"
            "more work. Every header must meet its own target and its network's retarget\n"
            "rules (mainnet, testnet3/4, signet, regtest by the files' magic), every block\n"
            "its merkle root and witness commitment: a file that breaks one is refused\n"
            "naming the block, file and offset, and the store is left as it was. Killing\n"
            "it at any moment leaves the store at its last commit and the next run resumes.\n\n"
            "eth reads EVM chains into DIR/NAME (--chain eth, bsc, polygon, arbitrum, ...;\n"
            "default eth): JSON-RPC responses saved as files (eth_getBlockByNumber with\n"
            "full transactions, receipts, callTracer or trace_block traces; one file per\n"
            "response or JSON lines), blockchain-etl exports (CSV or JSON lines: blocks,\n"
            "transactions, receipts, logs, token_transfers, traces) in a file or a\n"
            "directory, or a live node's HTTP JSON-RPC URL (--from-block, --to-block).\n"
            "Several files and directories are read as one input, joined by block number\n"
            "(a token_transfers export with its transactions export in another folder).\n"
            "Blocks already stored are skipped; a different block at a stored height is a\n"
            "reorg and replaces the store's blocks from there. Each appended block goes\n"
            "through the people's safeguard (address-poisoning signals, see poison),\n"
            "whose token tables are --tokens and --token-meta, else $COINHOUND_TOKENS\n"
            "and $COINHOUND_TOKEN_META.\n\n"
            "options:\n"
            "  --db DIR           the database directory (or $COINHOUND_DB)\n"
            "  --max-blocks N     stop after N new blocks\n"
            "  --commit-mb N      commit every N MiB of new records (default 64, at most\n"
            "                     a 32nd of --mem)\n"
            "  --mem SIZE         (btc) bound the process's memory: K, M, G suffixes (powers\n"
            "                     of 1024), at least 256M; default half the machine's RAM\n"
            "  --utxo-mem SIZE    (btc) memory of the map of unspent outputs that resolves\n"
            "                     inputs without reading the store, within --mem (default\n"
            "                     a fifth of it; 0: none; the store is the same either way)\n"
            "  --threads 1|2      (btc) 2 (default): a reader thread reads, parses and hashes\n"
            "                     blocks ahead of the store's; 1: all in one thread (the\n"
            "                     store is the same either way)\n"
            "  --progress         show progress even when stderr is not a terminal\n"
            "  --no-progress      never show progress\n"
            "  --json             print the summary as JSON\n"
            "  --wait             when another process writes the store, wait for it\n"
            "                     (default: fail at once, naming it)\n"
            "  --chain NAME       (eth) the store's name under DIR (default eth)\n"
            "  --from-block N     (eth URL) first block to fetch\n"
            "  --to-block N       (eth URL) last block to fetch (default: the node's latest)\n"
            "  --batch N          (eth URL) blocks per JSON-RPC batch (default 10)\n"
            "  --traces           (eth URL) also fetch internal calls (debug_traceBlockByNumber)\n"
            "  --format rpc|etl   (eth files) read only JSON-RPC responses, or only ETL\n"
            "                     exports (CSV or JSON lines), where a folder holds both\n"
            "  --tokens FILE      (eth) the safeguard's reference token list (CSV: address,\n"
            "                     symbol[,decimals]): which contracts are the genuine ones\n"
            "  --token-meta FILE  (eth) the safeguard's token metadata (symbols, decimals)\n\n"
            "example:\n"
            "  coinhound ingest btc ~/.bitcoin/blocks --db ./chdb\n"
            "  coinhound ingest eth ./etl-export/ --db ./chdb --chain eth\n"
            "  coinhound ingest eth http://localhost:8545 --db ./chdb --from-block 21895000\n"
            "  coinhound status --db ./chdb\n");
}

/* What the command line asked for, gathered by parse_option. */
typedef struct ingest_args {
    const char *db, *chain;
    const char *tokens, *token_meta; /* the safeguard's (cli_poison_open) */
    int fmt;
    ch_ingest_opts o;
    ch_node_opts node;
    bool json;
} ingest_args;

/* One option c (optarg its value) into a: -1 to go on, else the exit code
 * the command ends with (0 for --help, 2 after saying what is wrong). */
static int parse_option(ingest_args *a, int c) {
    switch (c) {
    case 'd':
        a->db = optarg;
        break;
    case 'K':
        a->tokens = optarg;
        break;
    case 'E':
        a->token_meta = optarg;
        break;
    case 'm':
        if (cli_opt_u32("ingest", "--max-blocks", optarg, 1, UINT32_MAX, &a->o.max_blocks))
            return 2;
        break;
    case 'c':
        if (cli_opt_u64("ingest", "--commit-mb", optarg, 1, 1u << 20, &a->o.commit_bytes)) return 2;
        a->o.commit_bytes <<= 20;
        break;
    case 'b': /* for crash tests */
        if (cli_opt_u64("ingest", "--commit-bytes", optarg, 1, UINT64_MAX >> 1, &a->o.commit_bytes))
            return 2;
        break;
    case 'W':
        a->o.wait = true;
        break;
    case 'M':
        if (cli_opt_mem("ingest", "--mem", optarg, &a->o.mem_bytes) != 0) return 2;
        break;
    case 'U':
        if (cli_opt_size("ingest", "--utxo-mem", optarg, 0, &a->o.utxo_mem_bytes) != 0) return 2;
        break;
    case 'p':
        a->o.progress = 1;
        break;
    case 'q':
        a->o.progress = 0;
        break;
    case 'j':
        a->json = true;
        break;
    case 'C':
        if (cli_opt_chain("ingest", optarg)) return 2;
        a->chain = optarg;
        break;
    case 'F':
        if (cli_opt_block("ingest", "--from-block", optarg, &a->node.from_block)) return 2;
        a->node.has_from = true;
        break;
    case 'T':
        if (cli_opt_block("ingest", "--to-block", optarg, &a->node.to_block)) return 2;
        a->node.has_to = true;
        break;
    case 'B':
        if (cli_opt_u32("ingest", "--batch", optarg, 1, 10000, &a->node.batch)) return 2;
        break;
    case 'R':
        a->node.traces = true;
        break;
    case 'f':
        if (!strcmp(optarg, "rpc"))
            a->fmt = CH_EVM_FMT_RPC;
        else if (!strcmp(optarg, "etl"))
            a->fmt = CH_EVM_FMT_ETL;
        else
            return cli_failf("ingest",
                             "--format %s: give rpc (JSON-RPC responses) or etl "
                             "(blockchain-etl exports)",
                             optarg);
        break;
    case 't':
        if (cli_opt_u32("ingest", "--threads", optarg, 1, 2, &a->o.threads)) return 2;
        break;
    case 'h':
        usage(stdout);
        return 0;
    default:
        usage(stderr);
        return 2;
    }
    return -1;
}

/* The family and sources together with the options: a family this command
 * reads, one source where only one is read, --format only for EVM files, a
 * range that is not empty. 0, or 2 after saying what is wrong. */
static int check_sources(const ingest_args *a, const char *family, const char *const *srcs,
                         size_t n_src, bool url) {
    if (a->node.has_from && a->node.has_to && a->node.to_block < a->node.from_block)
        return cli_failf("ingest", "--to-block is before --from-block: an empty range");
    if (strcmp(family, "btc") != 0 && strcmp(family, "eth") != 0)
        return cli_failf("ingest", "'%s' is not a chain family this command reads (btc or eth)",
                         family);
    if (n_src > 1 && (!strcmp(family, "btc") || url))
        return cli_failf("ingest", "%s takes one source ('%s' and '%s')",
                         url ? "a node URL" : "btc", srcs[0], srcs[1]);
    if (a->fmt != CH_EVM_FMT_AUTO && (!strcmp(family, "btc") || url))
        return cli_failf("ingest", "--format is for EVM files and folders");
    if (!strcmp(family, "eth") && !strcmp(a->chain, "btc"))
        return cli_failf("ingest", "--chain btc is the Bitcoin store; name the EVM chain");
    return 0;
}

/* The summary as JSON: counts, time, tip and reorg heights (null: none). */
static void print_json(const ch_ingest_stats *st) {
    ch_jw w;
    ch_jw_init(&w, stdout);
    ch_jw_obj_begin(&w);
    ch_jw_key(&w, "blocks");
    ch_jw_uint(&w, st->blocks);
    ch_jw_key(&w, "txs");
    ch_jw_uint(&w, st->txs);
    ch_jw_key(&w, "bytes");
    ch_jw_uint(&w, st->bytes);
    ch_jw_key(&w, "seconds");
    ch_jw_double(&w, st->seconds);
    ch_jw_key(&w, "tip_height");
    if (st->tip_height == UINT32_MAX)
        ch_jw_null(&w);
    else
        ch_jw_uint(&w, st->tip_height);
    ch_jw_key(&w, "reorg_height");
    if (st->reorg_height == UINT32_MAX)
        ch_jw_null(&w);
    else
        ch_jw_uint(&w, st->reorg_height);
    ch_jw_key(&w, "stale_blocks");
    ch_jw_uint(&w, st->stale);
    ch_jw_key(&w, "utxo_map_hits");
    ch_jw_uint(&w, st->utxo_hits);
    ch_jw_key(&w, "utxo_map_misses");
    ch_jw_uint(&w, st->utxo_misses);
    ch_jw_obj_end(&w);
    ch_jw_newline(&w);
}

/* The summary for a person: a reorg, then what was ingested at what rate
 * (or that the store was up to date). */
static void print_text(const ch_ingest_stats *st, const char *family) {
    double rate = st->seconds > 0 ? (double)st->txs / st->seconds : 0;
    if (st->reorg_height != UINT32_MAX)
        printf("reorg: replaced the store's blocks from height %u\n", st->reorg_height);
    if (st->blocks == 0)
        printf("up to date: tip height %u\n", st->tip_height);
    else
        printf("ingested %" PRIu64 " blocks (heights %u..%u), %" PRIu64 " txs in %.2f s"
               " (%.0f tx/s)",
               st->blocks, st->start_height, st->tip_height, st->txs, st->seconds, rate);
    if (st->blocks != 0 && st->bytes)
        printf(", %.1f MB (%.1f MB/s)", (double)st->bytes / 1e6,
               st->seconds > 0 ? (double)st->bytes / 1e6 / st->seconds : 0.0);
    if (st->blocks != 0 && !strcmp(family, "btc"))
        printf("; %" PRIu64 " stale blocks ignored", st->stale);
    if (st->blocks != 0) printf("\n");
}

int cmd_ingest(int argc, char **argv) {
    static const struct option opts[] = {{"db", required_argument, 0, 'd'},
                                         {"max-blocks", required_argument, 0, 'm'},
                                         {"commit-mb", required_argument, 0, 'c'},
                                         {"progress", no_argument, 0, 'p'},
                                         {"commit-bytes", required_argument, 0, 'b'},
                                         {"chain", required_argument, 0, 'C'},
                                         {"from-block", required_argument, 0, 'F'},
                                         {"to-block", required_argument, 0, 'T'},
                                         {"batch", required_argument, 0, 'B'},
                                         {"traces", no_argument, 0, 'R'},
                                         {"no-progress", no_argument, 0, 'q'},
                                         {"json", no_argument, 0, 'j'},
                                         {"wait", no_argument, 0, 'W'},
                                         {"format", required_argument, 0, 'f'},
                                         {"mem", required_argument, 0, 'M'},
                                         {"tokens", required_argument, 0, 'K'},
                                         {"token-meta", required_argument, 0, 'E'},
                                         {"threads", required_argument, 0, 't'},
                                         {"utxo-mem", required_argument, 0, 'U'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    ingest_args a = {.chain = "eth",
                     .fmt = CH_EVM_FMT_AUTO,
                     .o = {.progress = -1, .utxo_mem_bytes = CH_INGEST_UTXO_AUTO},
                     .node = {.batch = 10, .retries = 5}};
    int c, rc;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1)
        if ((rc = parse_option(&a, c)) >= 0) return rc;
    if (argc - optind < 2) {
        usage(stderr);
        return 2;
    }
    const char *family = argv[optind], *src = argv[optind + 1];
    const char *const *srcs = (const char *const *)&argv[optind + 1];
    size_t n_src = (size_t)(argc - optind - 1);
    bool url = !strncmp(src, "http://", 7) || !strncmp(src, "https://", 8);
    if ((rc = check_sources(&a, family, srcs, n_src, url)) != 0) return rc;
    const char *db = cli_db_dir("ingest", a.db);
    if (!db) return 2;
    ch_error err;
    ch_ingest_stats st;
    /* an account chain's blocks go through the people's safeguard as they
     * are appended (its signals are committed with them): the command's
     * choice, configured by the token policy, not ingest's */
    ch_poison *guard = NULL;
    if (strcmp(family, "btc") != 0) {
        if ((rc = cli_poison_open("ingest", a.tokens, a.token_meta, &guard)) != 0) return rc;
        a.o.on_block = ch_poison_ingest_block;
        a.o.on_block_ctx = guard;
    }
    if (!strcmp(family, "btc"))
        rc = ch_ingest_btc(src, db, &a.o, &st, &err);
    else if (url)
        rc = ch_ingest_evm_node(src, db, a.chain, &a.node, &a.o, &st, &err);
    else
        rc = ch_ingest_evm_paths(srcs, n_src, a.fmt, db, a.chain, &a.o, &st, &err);
    ch_poison_free(guard);
    if (rc != 0) return cli_fail("ingest", &err);
    if (a.json)
        print_json(&st);
    else
        print_text(&st, family);
    return 0;
}
