/* coinhound status --db DIR */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "coinhound/btc.h"
#include "coinhound/jsonw.h"
#include "coinhound/store.h"

/* The tip as the chain names it, into hash (67 bytes): Bitcoin by height
 * and its hash shown byte-reversed; an account chain by block number (the
 * store may start mid-chain) and its hash as written, with 0x. Returns the
 * tip's height or number; hash is "" (and 0 returned) for an empty store. */
static uint64_t tip_of(ch_store *s, const ch_store_counts *n, char hash[67]) {
    hash[0] = '\0';
    if (!n->blocks) return 0;
    const uint8_t *raw = ch_store_block(s, (uint32_t)n->blocks - 1)->hash;
    if (ch_store_is_account(s)) {
        hash[0] = '0';
        hash[1] = 'x';
        ch_hex_encode(raw, 32, hash + 2);
    } else {
        ch_hash256 h;
        memcpy(h.b, raw, 32);
        ch_hash256_to_hex(&h, hash);
    }
    return ch_store_first_number(s) + n->blocks - 1;
}

/* status --json: one object, null tip fields for an empty store. */
static void print_json(ch_store *s, const char *chain, const ch_store_counts *n, uint64_t tip,
                       const char *hash, uint64_t disk) {
    ch_jw w;
    ch_jw_init(&w, stdout);
    ch_jw_obj_begin(&w);
    ch_jw_key(&w, "chain");
    ch_jw_str(&w, chain);
    ch_jw_key(&w, "network"); /* a Bitcoin store's, from its blk files' magic */
    ch_jw_str(&w, ch_store_is_account(s) ? NULL : ch_btc_net_name(ch_store_network(s)));
    ch_jw_key(&w, "tip_height");
    if (n->blocks)
        ch_jw_uint(&w, tip);
    else
        ch_jw_null(&w);
    ch_jw_key(&w, "tip_hash");
    ch_jw_str(&w, n->blocks ? hash : NULL);
    ch_jw_key(&w, "blocks");
    ch_jw_uint(&w, n->blocks);
    ch_jw_key(&w, "txs");
    ch_jw_uint(&w, n->txs);
    ch_jw_key(&w, "inputs");
    ch_jw_uint(&w, n->inputs);
    ch_jw_key(&w, "outputs");
    ch_jw_uint(&w, n->outputs);
    ch_jw_key(&w, "addresses");
    ch_jw_uint(&w, n->addresses);
    ch_jw_key(&w, "transfers");
    ch_jw_uint(&w, n->transfers);
    ch_jw_key(&w, "disk_bytes");
    ch_jw_uint(&w, disk);
    ch_jw_obj_end(&w);
    ch_jw_newline(&w);
}

/* status as text: a line a figure, the ones the store's kind has. */
static void print_text(ch_store *s, const ch_store_counts *n, uint64_t tip, const char *hash,
                       uint64_t disk) {
    if (n->blocks == 0) {
        printf("empty store\n");
        return;
    }
    printf("tip        %" PRIu64 " %s\n", tip, hash);
    if (!ch_store_is_account(s)) printf("network    %s\n", ch_btc_net_name(ch_store_network(s)));
    printf("blocks     %" PRIu64 "\ntxs        %" PRIu64 "\n", n->blocks, n->txs);
    if (ch_store_is_account(s))
        printf("transfers  %" PRIu64 "\n", n->transfers);
    else
        printf("inputs     %" PRIu64 "\noutputs    %" PRIu64 "\n", n->inputs, n->outputs);
    printf("addresses  %" PRIu64 "\n", n->addresses);
    printf("disk       %.1f MB (%.1f bytes per tx)\n", (double)disk / 1e6,
           n->txs ? (double)disk / (double)n->txs : 0.0);
}

int cmd_status(int argc, char **argv) {
    static const struct option opts[] = {{"db", required_argument, 0, 'd'},
                                         {"chain", required_argument, 0, 'c'},
                                         {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *db = NULL, *chain = NULL;
    bool json = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'd')
            db = optarg;
        else if (c == 'c') {
            if (cli_opt_chain("status", optarg)) return 2;
            chain = optarg;
        } else if (c == 'j')
            json = true;
        else {
            FILE *f = c == 'h' ? stdout : stderr;
            fprintf(f, "usage: coinhound status --db DIR [--chain NAME] [--json]\n\n"
                       "The store's tip (height and hash), its counts of blocks, transactions,\n"
                       "inputs, outputs and addresses (transfers for EVM chains), and its size on\n"
                       "disk. --chain names the store under DIR (default btc; eth, bsc, ...).\n"
                       "A Bitcoin store also says its network (mainnet, testnet3, testnet4,\n"
                       "signet, regtest: from the blk files' magic); its addresses are\n"
                       "written in that network's form (tb1..., m/n/2... on the testnets).\n");
            return c == 'h' ? 0 : 2;
        }
    }
    cli_query q; /* the one opener; status takes no argument: --chain, else btc */
    int rc = cli_query_open("status", db, chain, NULL, NULL, 0, &q);
    if (rc != 0) return rc;
    ch_store *s = q.s;
    chain = cli_chain_of(chain, NULL);
    ch_store_counts n;
    ch_store_get_counts(s, &n);
    uint64_t disk = ch_store_disk_bytes(s);
    char hash[67];
    uint64_t tip = tip_of(s, &n, hash);
    if (json)
        print_json(s, chain, &n, tip, hash, disk);
    else
        print_text(s, &n, tip, hash, disk);
    return cli_query_close("status", &q, 0);
}
