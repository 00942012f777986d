/* coinhound address ADDR --db DIR [--json] [--limit N] */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/account_query.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "coinhound/address.h"
#include "coinhound/jsonw.h"

static void usage(FILE *f) {
    fprintf(f, "usage: coinhound address ADDR --db DIR [--json] [--limit N] [--chain NAME]\n\n"
               "What the store knows of one address: received, sent, balance (satoshi in\n"
               "JSON, BTC in text), its transaction count, first and last seen, and its\n"
               "transactions, newest first (--limit N, default 100; 0 for all), each with\n"
               "the amount it moved to (+) or from (-) the address. Outputs locked to a\n"
               "bare public key (P2PK) count under the P2PKH address of that key.\n"
               "Exit 1 when the address never appears, 2 when it is not a valid address.\n\n"
               "An EVM address (0x...) is looked up in the account store DIR/NAME (--chain,\n"
               "default eth): received, sent and balance per asset (native and each token\n"
               "contract, in base units), counterparties by number of transfers (--limit),\n"
               "and the first and last block it appears in; token symbols and decimals from\n"
               "--tokens FILE (CSV: address,symbol[,decimals]) or $COINHOUND_TOKENS.\n\n"
               "example:\n  coinhound address 12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S --db ./chdb\n");
}

typedef struct hist_entry {
    uint64_t tx;
    int64_t delta;
} hist_entry;

typedef struct history {
    hist_entry *v;
    size_t n, cap;
} history;

/* One (tx, amount) event; events of the same tx are merged after sorting. */
static int hist_add(history *h, uint64_t tx, int64_t delta) {
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        hist_entry *v = realloc(h->v, cap * sizeof *v);
        if (!v) return -1;
        h->v = v;
        h->cap = cap;
    }
    h->v[h->n++] = (hist_entry){tx, delta};
    return 0;
}

static int by_tx_desc(const void *a, const void *b) {
    uint64_t x = ((const hist_entry *)a)->tx, y = ((const hist_entry *)b)->tx;
    return x < y ? 1 : x > y ? -1 : 0;
}

int cmd_address(int argc, char **argv) {
    static const struct option opts[] = {{"db", required_argument, 0, 'd'},
                                         {"chain", required_argument, 0, 'c'},
                                         {"tokens", required_argument, 0, 'k'},
                                         {"json", no_argument, 0, 'j'},
                                         {"limit", required_argument, 0, 'l'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *db = NULL, *chain = NULL, *tokens[8];
    size_t n_tokens = 0;
    bool json = false;
    uint64_t limit = 100;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'd')
            db = optarg;
        else if (c == 'c') {
            if (cli_opt_chain("address", optarg)) return 2;
            chain = optarg;
        } else if (c == 'k' && n_tokens < 8)
            tokens[n_tokens++] = optarg;
        else if (c == 'j')
            json = true;
        else if (c == 'l') {
            if (cli_opt_u64("address", "--limit", optarg, 0, UINT64_MAX, &limit)) return 2;
        } else {
            usage(c == 'h' ? stdout : stderr);
            return c == 'h' ? 0 : 2;
        }
    }
    if (argc - optind != 1) {
        usage(stderr);
        return 2;
    }
    const char *arg = argv[optind];
    ch_error err;
    if (!strncmp(arg, "0x", 2) || !strncmp(arg, "0X", 2) || (chain && strcmp(chain, "btc"))) {
        if (!(db = cli_db_dir("address", db))) return 2;
        ch_store *es;
        if (ch_store_open(db, chain ? chain : "eth", CH_STORE_READ, &es, &err) != 0)
            return cli_fail("address", &err);
        int erc = cli_account_tokens(tokens, n_tokens, &err) != 0
                      ? cli_fail("address", &err)
                      : cli_account_address(es, arg, json, limit);
        cli_account_tokens_free();
        return cli_store_close("address", es, erc);
    }
    ch_addr a;
    if (ch_addr_from_string(arg, &a, NULL, &err) != 0)
        return cli_failf("address", "'%s' is not a valid address: %s", arg, err.msg);
    if (!(db = cli_db_dir("address", db))) return 2;
    ch_store *s;
    if (ch_store_open(db, "btc", CH_STORE_READ, &s, &err) != 0) return cli_fail("address", &err);
    uint32_t id;
    uint64_t last;
    int rc = ch_store_find_addr(s, &a, &id, &last, &err);
    if (rc <= 0) {
        if (rc < 0)
            cli_fail("address", &err);
        else
            fprintf(stderr, "coinhound address: %s never appears in the store\n", arg);
        ch_store_close(s);
        return rc < 0 ? 2 : 1;
    }
    /* walk the address's outputs newest first; received and spent sides */
    uint64_t received = 0, sent = 0, n_out = 0;
    history h = {0};
    for (int64_t o = last == UINT64_MAX ? -1 : (int64_t)last; o >= 0;
         o = ch_store_output_prev_same_addr(s, (uint64_t)o)) {
        const ch_out_rec *r = ch_store_output(s, (uint64_t)o);
        uint64_t v = CH_OUT_VALUE(r);
        received += v;
        n_out++;
        int64_t spender = ch_store_output_spender(s, (uint64_t)o);
        /* the output's own tx: binary search over the tx column's first_out */
        ch_store_counts cnt;
        ch_store_get_counts(s, &cnt);
        uint64_t lo = 0, hi = cnt.txs;
        while (hi - lo > 1) {
            uint64_t mid = lo + (hi - lo) / 2;
            if (ch_store_tx(s, mid)->first_out <= (uint64_t)o)
                lo = mid;
            else
                hi = mid;
        }
        if (hist_add(&h, lo, (int64_t)v) != 0) break;
        if (spender >= 0) {
            sent += v;
            if (hist_add(&h, (uint64_t)spender, -(int64_t)v) != 0) break;
        }
    }
    if (h.n > 1) qsort(h.v, h.n, sizeof *h.v, by_tx_desc);
    size_t m = 0; /* merge entries of the same tx */
    for (size_t i = 0; i < h.n; i++) {
        if (m > 0 && h.v[m - 1].tx == h.v[i].tx)
            h.v[m - 1].delta += h.v[i].delta;
        else
            h.v[m++] = h.v[i];
    }
    h.n = m;
    uint32_t first_h = h.n ? ch_store_tx_height(s, h.v[h.n - 1].tx) : 0;
    uint32_t last_h = h.n ? ch_store_tx_height(s, h.v[0].tx) : 0;
    size_t shown = limit == 0 || limit > h.n ? h.n : (size_t)limit;
    char canon[128], hex[65], t[32], v[32];
    ch_addr_to_string(&a, CH_NET_MAINNET, canon);
    if (json) {
        ch_jw w;
        ch_jw_init(&w, stdout);
        ch_jw_obj_begin(&w);
        ch_jw_key(&w, "address");
        ch_jw_str(&w, canon);
        ch_jw_key(&w, "received");
        ch_jw_uint(&w, received);
        ch_jw_key(&w, "sent");
        ch_jw_uint(&w, sent);
        ch_jw_key(&w, "balance");
        ch_jw_uint(&w, received - sent);
        ch_jw_key(&w, "outputs");
        ch_jw_uint(&w, n_out);
        ch_jw_key(&w, "tx_count");
        ch_jw_uint(&w, h.n);
        ch_jw_key(&w, "first_seen");
        ch_jw_obj_begin(&w);
        ch_jw_key(&w, "height");
        ch_jw_uint(&w, first_h);
        ch_jw_key(&w, "time");
        ch_jw_uint(&w, ch_store_block(s, first_h)->time);
        ch_jw_obj_end(&w);
        ch_jw_key(&w, "last_seen");
        ch_jw_obj_begin(&w);
        ch_jw_key(&w, "height");
        ch_jw_uint(&w, last_h);
        ch_jw_key(&w, "time");
        ch_jw_uint(&w, ch_store_block(s, last_h)->time);
        ch_jw_obj_end(&w);
        ch_jw_key(&w, "txs");
        ch_jw_arr_begin(&w);
        for (size_t i = 0; i < shown; i++) {
            ch_hash256 id_;
            ch_store_txid(s, h.v[i].tx, &id_);
            ch_hash256_to_hex(&id_, hex);
            ch_jw_obj_begin(&w);
            ch_jw_key(&w, "txid");
            ch_jw_str(&w, hex);
            ch_jw_key(&w, "height");
            ch_jw_uint(&w, ch_store_tx_height(s, h.v[i].tx));
            ch_jw_key(&w, "delta");
            ch_jw_int(&w, h.v[i].delta);
            ch_jw_obj_end(&w);
        }
        ch_jw_arr_end(&w);
        ch_jw_obj_end(&w);
        ch_jw_newline(&w);
    } else {
        printf("address   %s\n", canon);
        printf("received  %s BTC\n", cli_btc(received, v));
        printf("sent      %s BTC\n", cli_btc(sent, v));
        printf("balance   %s BTC\n", cli_btc(received - sent, v));
        printf("txs       %zu (%" PRIu64 " outputs)\n", h.n, n_out);
        printf("first     height %u  %s UTC\n", first_h,
               cli_time(ch_store_block(s, first_h)->time, t));
        printf("last      height %u  %s UTC\n", last_h,
               cli_time(ch_store_block(s, last_h)->time, t));
        for (size_t i = 0; i < shown; i++) {
            ch_hash256 id_;
            ch_store_txid(s, h.v[i].tx, &id_);
            ch_hash256_to_hex(&id_, hex);
            int64_t d = h.v[i].delta;
            printf("  %8u  %s  %c%s\n", ch_store_tx_height(s, h.v[i].tx), hex, d < 0 ? '-' : '+',
                   cli_btc((uint64_t)(d < 0 ? -d : d), v));
        }
        if (shown < h.n) printf("  ... %zu more (--limit 0 shows all)\n", h.n - shown);
    }
    free(h.v);
    return cli_store_close("address", s, 0);
}
