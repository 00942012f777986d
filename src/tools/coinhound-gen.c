/* coinhound-gen: write a synthetic Bitcoin chain as Bitcoin Core blk files.
 * The work is in src/gen; this file is option parsing and the summary. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "coinhound/gen.h"
#include "coinhound/hash.h"

static const char USAGE[] =
    "usage: coinhound-gen --out DIR [options]\n"
    "\n"
    "Writes a synthetic but structurally valid Bitcoin chain into DIR as Bitcoin\n"
    "Core stores it (blk00000.dat, blk00001.dat, ...: regtest magic fabfb5da +\n"
    "size + block), for tests and benchmarks of anything that reads blk files.\n"
    "The chain has a genesis block, prev-hash links, merkle roots, segwit\n"
    "witnesses with BIP141 commitments and regtest proof of work (bits\n"
    "0x207fffff); every input spends an existing unspent output and no\n"
    "transaction creates value. Signatures are random bytes of the right shape.\n"
    "It begins with MATURITY coinbase-only blocks (like regtest's first 101),\n"
    "then carries payments with change, consolidations, exchange deposit\n"
    "addresses swept into reused hot wallets, batch withdrawals, mining pool\n"
    "payouts and CoinJoins, over P2PKH, P2SH, P2WPKH, P2WSH, P2TR, P2PK, bare\n"
    "multisig and OP_RETURN outputs. The same seed gives the same bytes.\n"
    "\n"
    "size of the chain:\n"
    "  --txs N             non-coinbase transactions (default 10000)\n"
    "  --blocks N          blocks on the best chain, genesis and warm-up included;\n"
    "                      with --txs, the transactions are spread over them\n"
    "  --txs-per-block N   transactions per block (default 250)\n"
    "  --maturity N        coinbase maturity and warm-up blocks (default 100)\n"
    "  --seed S            PRNG seed (default 1)\n"
    "\n"
    "how it is stored (never changes the best chain):\n"
    "  --max-file-size B   start a new blk file before passing B bytes; K, M, G\n"
    "                      suffixes are powers of 1024 (default 128M, as Core)\n"
    "  --xor[=HEX16]       obfuscate like Core 28+: write xor.dat with this\n"
    "                      8-byte key (random from the seed if omitted)\n"
    "  --shuffle[=N]       store blocks out of height order, as initial sync\n"
    "                      does, within a window of N blocks (default 16)\n"
    "  --stale N           add N stale one-block branches a reader must ignore\n"
    "\n"
    "test scenario:\n"
    "  --theft             plant a theft and its laundering (peel chain, split,\n"
    "                      CoinJoin, mixer, exchange deposits and sweeps) and\n"
    "                      write DIR/theft.json with the theft txid and vout,\n"
    "                      amount, thief address, every step and landing\n"
    "\n"
    "extending a chain (a node receiving blocks):\n"
    "  --extend DIR        append blocks to the chain coinhound-gen wrote in DIR,\n"
    "                      after the last record of its last blk file (xor.dat\n"
    "                      honoured), as Core appends each block it receives;\n"
    "                      --blocks N says how many (the rest of the options are\n"
    "                      those DIR/gen.params recorded)\n"
    "  --reorg D           with --extend: replace the last D blocks with a branch\n"
    "                      of D + N blocks from the same parent (the old blocks\n"
    "                      stay in the files, off the best chain)\n"
    "\n"
    "Always written: DIR/labels.csv (address,category,entity) naming the hot\n"
    "wallets and deposit addresses of the exchanges and the mixer, and\n"
    "DIR/gen.params (what --extend needs to build the same chain again).\n"
    "Old blk files, xor.dat, labels.csv, theft.json and gen.params in DIR are\n"
    "replaced (not with --extend).\n"
    "\n"
    "examples:\n"
    "  coinhound-gen --out /tmp/chain --txs 200000 --seed 7\n"
    "  coinhound-gen --out /tmp/chain --blocks 300 --theft --xor --shuffle --stale 4\n"
    "  coinhound-gen --extend /tmp/chain --blocks 2 --reorg 1\n"
    "\n"
    "Exit status: 0 on success, 2 on any error (with a message on stderr).\n";

static int usage_error(const char *fmt, const char *arg) {
    fprintf(stderr, "coinhound-gen: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'coinhound-gen --help'.\n");
    return 2;
}

/* A whole decimal number, optionally with a K/M/G (1024-based) suffix. */
static int parse_u64(const char *s, bool suffix, uint64_t *out) {
    if (!s || !*s || *s == '-' || *s == '+') return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s) return -1;
    uint64_t mul = 1;
    if (suffix && *end) {
        switch (*end++) {
        case 'k':
        case 'K':
            mul = 1ULL << 10;
            break;
        case 'm':
        case 'M':
            mul = 1ULL << 20;
            break;
        case 'g':
        case 'G':
            mul = 1ULL << 30;
            break;
        default:
            return -1;
        }
    }
    if (*end || (v && UINT64_MAX / v < mul)) return -1;
    *out = (uint64_t)v * mul;
    return 0;
}

static int parse_u32(const char *s, uint32_t *out) {
    uint64_t v;
    if (parse_u64(s, false, &v) != 0 || v > UINT32_MAX) return -1;
    *out = (uint32_t)v;
    return 0;
}

enum {
    OPT_TXS = 1000,
    OPT_BLOCKS,
    OPT_TPB,
    OPT_MATURITY,
    OPT_SEED,
    OPT_MAXSIZE,
    OPT_XOR,
    OPT_SHUFFLE,
    OPT_STALE,
    OPT_THEFT,
    OPT_EXTEND,
    OPT_REORG,
};

static const struct option LONG_OPTS[] = {
    {"out", required_argument, NULL, 'o'},
    {"txs", required_argument, NULL, OPT_TXS},
    {"blocks", required_argument, NULL, OPT_BLOCKS},
    {"txs-per-block", required_argument, NULL, OPT_TPB},
    {"maturity", required_argument, NULL, OPT_MATURITY},
    {"seed", required_argument, NULL, OPT_SEED},
    {"max-file-size", required_argument, NULL, OPT_MAXSIZE},
    {"xor", optional_argument, NULL, OPT_XOR},
    {"shuffle", optional_argument, NULL, OPT_SHUFFLE},
    {"stale", required_argument, NULL, OPT_STALE},
    {"theft", no_argument, NULL, OPT_THEFT},
    {"extend", required_argument, NULL, OPT_EXTEND},
    {"reorg", required_argument, NULL, OPT_REORG},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* Returns 0, or the exit status of a usage error. */
static int parse_option(int c, const char *arg, ch_gen_opts *o) {
    uint64_t v;
    switch (c) {
    case 'o':
        o->out_dir = arg;
        return 0;
    case OPT_TXS:
        if (parse_u64(arg, false, &o->txs) != 0 || o->txs == 0)
            return usage_error("--txs wants a positive number, not '%s'", arg);
        return 0;
    case OPT_BLOCKS:
        if (parse_u32(arg, &o->blocks) != 0 || o->blocks == 0)
            return usage_error("--blocks wants a positive number, not '%s'", arg);
        return 0;
    case OPT_TPB:
        if (parse_u32(arg, &o->txs_per_block) != 0 || o->txs_per_block == 0)
            return usage_error("--txs-per-block wants a positive number, not '%s'", arg);
        return 0;
    case OPT_MATURITY:
        if (parse_u32(arg, &o->maturity) != 0)
            return usage_error("--maturity wants a number, not '%s'", arg);
        return 0;
    case OPT_SEED:
        if (parse_u64(arg, false, &o->seed) != 0)
            return usage_error("--seed wants a number, not '%s'", arg);
        return 0;
    case OPT_MAXSIZE:
        if (parse_u64(arg, true, &v) != 0 || v < CH_GEN_MIN_FILE_SIZE || v > UINT32_MAX)
            return usage_error("--max-file-size wants 1K..4G bytes, not '%s'", arg);
        o->max_file_size = v;
        return 0;
    case OPT_XOR:
        o->xor_enabled = true;
        if (arg) {
            if (strlen(arg) != 16 || ch_hex_decode(arg, 16, o->xor_key, 8) != 0)
                return usage_error("--xor wants 16 hex digits (8 bytes), not '%s'", arg);
            o->xor_key_set = true;
        }
        return 0;
    case OPT_SHUFFLE:
        o->shuffle = true;
        if (arg && (parse_u32(arg, &o->shuffle_window) != 0 || o->shuffle_window < 2))
            return usage_error("--shuffle wants a window of 2 or more blocks, not '%s'", arg);
        return 0;
    case OPT_STALE:
        if (parse_u32(arg, &o->stale) != 0 || o->stale > 100000)
            return usage_error("--stale wants a number up to 100000, not '%s'", arg);
        return 0;
    case OPT_THEFT:
        o->theft = true;
        return 0;
    case OPT_EXTEND:
        o->out_dir = arg;
        o->extend = true;
        return 0;
    case OPT_REORG:
        if (parse_u32(arg, &o->reorg_depth) != 0 || o->reorg_depth == 0)
            return usage_error("--reorg wants a positive number of blocks, not '%s'", arg);
        return 0;
    default:
        return usage_error("%s", "unknown option");
    }
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    ch_gen_opts o;
    ch_gen_opts_init(&o);
    opterr = 0; /* our own messages */
    int c;
    while ((c = getopt_long(argc, argv, "o:h", LONG_OPTS, NULL)) != -1) {
        if (c == 'h') {
            fputs(USAGE, stdout);
            return 0;
        }
        if (c == '?' || c == ':') {
            const char *bad = argv[optind - 1];
            if (optopt) return usage_error("option '%s' is missing its value", bad);
            return usage_error("unknown option '%s'", bad);
        }
        int rc = parse_option(c, optarg, &o);
        if (rc) return rc;
    }
    if (optind < argc) return usage_error("unexpected argument '%s'", argv[optind]);
    if (!o.out_dir) return usage_error("%s", "--out DIR is required");
    if (o.reorg_depth && !o.extend) return usage_error("%s", "--reorg goes with --extend DIR");
    if (o.extend) {
        if (!o.blocks) return usage_error("%s", "--extend DIR needs --blocks N (how many to add)");
        o.extend_blocks = o.blocks;
    }

    double t0 = now();
    ch_gen_stats st;
    ch_error err;
    if (ch_gen_run(&o, &st, &err) != 0) {
        fprintf(stderr, "coinhound-gen: %s\n", err.msg);
        return 2;
    }
    double secs = now() - t0;
    char tip[65];
    ch_hash256_to_hex(&st.tip, tip);
    printf("coinhound-gen: %u blocks (+%u stale), %" PRIu64 " txs (%" PRIu64
           " + %u coinbase), %.1f MB in %u file%s, %u labels -> %s (seed %" PRIu64
           ", %.2f s, tip %s)\n",
           st.blocks, st.stale_blocks, st.txs, st.txs - st.blocks, st.blocks,
           (double)st.bytes / 1e6, st.files, st.files == 1 ? "" : "s", st.labels, o.out_dir, o.seed,
           secs, tip);
    return 0;
}
