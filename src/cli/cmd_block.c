/* coinhound block HEIGHT|HASH --db DIR [--json] [--txs] */
#include <ctype.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/account_query.h"
#include "cli/cli_util.h"
#include "util/numparse.h"
#include "cli/commands.h"
#include "cli/store_json.h"

static void usage(FILE *f) {
    fprintf(f, "usage: coinhound block HEIGHT|HASH --db DIR [--chain NAME] [--json] [--txs]\n\n"
               "One block of the store: hash, height, time, size, transaction count, total\n"
               "output and fees. --txs lists its transactions (in JSON: full objects as\n"
               "'coinhound tx' prints them). --chain names the store under DIR (default\n"
               "btc); on an account chain (eth, bsc, ...) a block is named by its number\n"
               "or its 0x hash. Exit 1 when absent, 2 when malformed.\n\n"
               "examples:\n  coinhound block 170 --db ./chdb\n"
               "  coinhound block 00000000d1145790a8694403d4063f323d499e655c83426834d4ce2f8dd4a2ee "
               "--db ./chdb --json\n"
               "  coinhound block 17173050 --db ./chdb --chain eth --json\n");
}

static void hash_hex(const uint8_t b[32], char out[65]) {
    ch_hash256 h;
    memcpy(h.b, b, 32);
    ch_hash256_to_hex(&h, out);
}

static void print_block(ch_store *s, uint32_t height, bool json, bool txs) {
    const ch_block_rec *b = ch_store_block(s, height);
    char hex[65], prev[65] = "", t[32], v[32];
    hash_hex(b->hash, hex);
    if (height > 0) hash_hex(ch_store_block(s, height - 1)->hash, prev);
    uint64_t total_out = 0, fees = 0;
    for (uint64_t tx = b->first_tx; tx < b->first_tx + b->n_tx; tx++) {
        uint64_t in, out;
        int cb;
        cli_tx_values(s, tx, &in, &out, &cb);
        total_out += out;
        if (!cb) fees += in - out;
    }
    if (json) {
        ch_jw w;
        ch_jw_init(&w, stdout);
        ch_jw_obj_begin(&w);
        ch_jw_key(&w, "hash");
        ch_jw_str(&w, hex);
        ch_jw_key(&w, "height");
        ch_jw_uint(&w, height);
        ch_jw_key(&w, "previousblockhash");
        ch_jw_str(&w, height ? prev : NULL);
        ch_jw_key(&w, "time");
        ch_jw_uint(&w, b->time);
        ch_jw_key(&w, "version");
        ch_jw_int(&w, b->version);
        ch_jw_key(&w, "bits");
        char bits[9];
        snprintf(bits, sizeof bits, "%08x", b->bits);
        ch_jw_str(&w, bits);
        ch_jw_key(&w, "nonce");
        ch_jw_uint(&w, b->nonce);
        ch_jw_key(&w, "size");
        ch_jw_uint(&w, b->size);
        ch_jw_key(&w, "n_tx");
        ch_jw_uint(&w, b->n_tx);
        ch_jw_key(&w, "total_out");
        ch_jw_uint(&w, total_out);
        ch_jw_key(&w, "fees");
        ch_jw_uint(&w, fees);
        ch_jw_key(&w, "tx");
        ch_jw_arr_begin(&w);
        for (uint64_t tx = b->first_tx; tx < b->first_tx + b->n_tx; tx++) {
            if (txs) {
                cli_tx_json(&w, s, tx);
            } else {
                ch_hash256 id;
                ch_store_txid(s, tx, &id);
                ch_hash256_to_hex(&id, hex);
                ch_jw_str(&w, hex);
            }
        }
        ch_jw_arr_end(&w);
        ch_jw_obj_end(&w);
        ch_jw_newline(&w);
        return;
    }
    printf("block %u %s\n  time %s UTC  size %u  txs %u\n", height, hex, cli_time(b->time, t),
           b->size, b->n_tx);
    printf("  total out %s BTC", cli_btc(total_out, v));
    printf("  fees %s BTC\n", cli_btc(fees, v));
    if (height) printf("  previous %s\n", prev);
    for (uint64_t tx = b->first_tx; txs && tx < b->first_tx + b->n_tx; tx++)
        cli_tx_text(stdout, s, tx);
}

int cmd_block(int argc, char **argv) {
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'}, {"chain", required_argument, 0, 'c'},
        {"json", no_argument, 0, 'j'},     {"txs", no_argument, 0, 't'},
        {"help", no_argument, 0, 'h'},     {0, 0, 0, 0}};
    const char *db = NULL, *chain = "btc";
    bool json = false, txs = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'd')
            db = optarg;
        else if (c == 'c')
            chain = optarg;
        else if (c == 'j')
            json = true;
        else if (c == 't')
            txs = true;
        else {
            usage(c == 'h' ? stdout : stderr);
            return c == 'h' ? 0 : 2;
        }
    }
    if (argc - optind != 1) {
        usage(stderr);
        return 2;
    }
    const char *arg = argv[optind];
    size_t len = strlen(arg);
    bool account = strcmp(chain, "btc") != 0;
    /* account chains count blocks by number from mainnet genesis */
    bool is_height = len > 0 && len < (account ? 20 : 11) && strspn(arg, "0123456789") == len;
    ch_hash256 hash;
    if (!is_height && (account ? cli_evm_hash(arg, &hash) : ch_hash256_from_hex(arg, &hash)) != 0)
        return cli_failf("block", "'%s' is neither a %s nor a block hash (%s)", arg,
                         account ? "block number" : "height",
                         account ? "0x and 64 hex digits" : "64 hex digits");
    if (!(db = cli_db_dir("block", db))) return 2;
    ch_error err;
    ch_store *s;
    if (ch_store_open(db, chain, CH_STORE_READ, &s, &err) != 0) return cli_fail("block", &err);
    account = ch_store_is_account(s);
    uint32_t height = 0;
    int rc;
    if (is_height) {
        /* one checked parser; too large is simply not in the store */
        uint64_t h = UINT64_MAX, base = account ? ch_store_first_number(s) : 0;
        (void)ch_parse_uint(arg, 0, UINT64_MAX - 1, false, &h);
        rc = h >= base && h - base < ch_store_next_height(s) ? 1 : 0;
        height = (uint32_t)(h - base);
    } else {
        rc = ch_store_find_block(s, &hash, &height, &err);
    }
    if (rc == 1 && account)
        cli_account_block(s, height, json, txs);
    else if (rc == 1)
        print_block(s, height, json, txs);
    else if (rc == 0)
        fprintf(stderr, "coinhound block: %s is not in the store\n", arg);
    else
        cli_fail("block", &err);
    return cli_store_close("block", s, rc == 1 ? 0 : rc == 0 ? 1 : 2);
}
