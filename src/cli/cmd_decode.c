/* coinhound decode: show what a raw Bitcoin block or transaction holds.
 *
 * Input is binary or hex text (a file of only hex digits and whitespace),
 * a bare block, a block inside one blk-file record (magic + size), or a
 * single transaction. No store is needed: this is the parser's front door
 * and the quickest way to check what coinhound makes of some bytes. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/commands.h"
#include "coinhound/address.h"
#include "coinhound/btc.h"
#include "coinhound/jsonw.h"
#include "util/vec.h"

#define EXIT_BAD 2

typedef struct decode_opts {
    const char *path;
    bool json;
    bool hex;
} decode_opts;

/* What the input turned out to be, for messages and the network. */
typedef struct input_info {
    bool was_hex;
    bool framed;
    ch_network net;
} input_info;

static void usage(FILE *f) {
    fprintf(f, "usage: coinhound decode FILE [--json] [--hex]\n"
               "\n"
               "Decode a raw Bitcoin block or transaction and list its transactions and outputs.\n"
               "FILE holds a serialized block, a block in one blk-file record (magic + size),\n"
               "or a single transaction, as binary or as hex text (detected: a file of only\n"
               "hex digits and whitespace is hex). FILE '-' reads standard input.\n"
               "\n"
               "options:\n"
               "  --json   one JSON object per transaction, one per line, in block order:\n"
               "           txid, wtxid, size, vsize, weight, version, locktime, inputs, outputs\n"
               "           (value in satoshi, address or null, type as bitcoin-cli names it;\n"
               "           a P2PK output shows the P2PKH address of its key, type \"pubkey\")\n"
               "  --hex    the input is hex text (fail instead of guessing)\n"
               "\n"
               "examples:\n"
               "  coinhound decode blocks/block-481829.raw\n"
               "  coinhound decode tx.hex --json | jq -r .txid\n"
               "\n"
               "Checks the merkle root and the segwit witness commitment. Exit 0 when the input\n"
               "decodes, 2 on an error (the message names the file and the byte offset).\n");
}

/* The command line of decode into o: --json, --hex and the one input (a file
 * or -); 0, or the exit code after usage. */
static int parse_args(int argc, char **argv, decode_opts *o) {
    static const struct option opts[] = {{"json", no_argument, 0, 'j'},
                                         {"hex", no_argument, 0, 'x'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    memset(o, 0, sizeof *o);
    int c;
    optind = 1;
    opterr = 0; /* our own message */
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'h') {
            opterr = 1;
            usage(stdout);
            return 1;
        } else if (c == 'j') {
            o->json = true;
        } else if (c == 'x') {
            o->hex = true;
        } else {
            opterr = 1;
            fprintf(stderr,
                    "coinhound decode: unknown option '%s'; see 'coinhound decode "
                    "--help'\n",
                    argv[optind - 1]);
            return -1;
        }
    }
    opterr = 1;
    for (int i = optind; i < argc; i++) {
        if (o->path) {
            fprintf(stderr, "coinhound decode: one FILE only ('%s' and '%s')\n", o->path, argv[i]);
            return -1;
        }
        o->path = argv[i];
    }
    if (!o->path) {
        fprintf(stderr, "coinhound decode: missing FILE; see 'coinhound decode --help'\n");
        return -1;
    }
    return 0;
}

static uint8_t *read_all(FILE *f, size_t *len) {
    size_t cap = 1 << 16, n = 0, got;
    uint8_t *buf = malloc(cap);
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            uint8_t *q = ch_grow(buf, &cap, n + 1, 1);
            if (!q) free(buf);
            buf = q;
        }
    }
    if (buf && ferror(f)) {
        free(buf);
        buf = NULL;
    }
    *len = n;
    return buf;
}

static uint8_t *read_input(const char *path, size_t *len) {
    bool std_in = !strcmp(path, "-");
    FILE *f = std_in ? stdin : fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "coinhound decode: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    uint8_t *buf = read_all(f, len);
    if (!buf) fprintf(stderr, "coinhound decode: %s: cannot read: %s\n", path, strerror(errno));
    if (!std_in) fclose(f);
    return buf;
}

static int hex_digit(uint8_t c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static bool is_space(uint8_t c) {
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static bool looks_hex(const uint8_t *d, size_t n) {
    size_t digits = 0;
    for (size_t i = 0; i < n; i++) {
        if (hex_digit(d[i]) >= 0)
            digits++;
        else if (!is_space(d[i]))
            return false;
    }
    return digits > 0;
}

/* Decode hex text in place (the output never overtakes the input). */
static int unhex(const char *path, uint8_t *d, size_t *len) {
    size_t w = 0, digits = 0;
    int hi = -1;
    for (size_t i = 0; i < *len; i++) {
        int v = hex_digit(d[i]);
        if (v < 0) {
            if (is_space(d[i])) continue;
            fprintf(stderr, "coinhound decode: %s: not hex text: byte 0x%02x at offset %zu\n", path,
                    d[i], i);
            return -1;
        }
        digits++;
        if (hi < 0) {
            hi = v;
        } else {
            d[w++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    if (hi >= 0) {
        fprintf(stderr, "coinhound decode: %s: hex text has an odd number of digits (%zu)\n", path,
                digits);
        return -1;
    }
    *len = w;
    return 0;
}

/* A blk-file record around a block: known magic and a size that matches. */
static int strip_frame(const char *path, const uint8_t **d, size_t *len, input_info *in) {
    static const struct {
        uint8_t magic[4];
        ch_network net;
    } NETS[] = {
        {{0xf9, 0xbe, 0xb4, 0xd9}, CH_NET_MAINNET}, {{0x0b, 0x11, 0x09, 0x07}, CH_NET_TESTNET},
        {{0x1c, 0x16, 0x3f, 0x28}, CH_NET_TESTNET}, {{0x0a, 0x03, 0xcf, 0x40}, CH_NET_TESTNET},
        {{0xfa, 0xbf, 0xb5, 0xda}, CH_NET_REGTEST},
    };
    if (*len < 8) return 0;
    for (size_t i = 0; i < sizeof NETS / sizeof NETS[0]; i++) {
        if (memcmp(*d, NETS[i].magic, 4)) continue;
        const uint8_t *s = *d + 4;
        uint32_t size =
            (uint32_t)s[0] | (uint32_t)s[1] << 8 | (uint32_t)s[2] << 16 | (uint32_t)s[3] << 24;
        if (size != *len - 8) {
            fprintf(stderr,
                    "coinhound decode: %s: block record at offset 0 says %u bytes but "
                    "%zu follow the 8-byte record header\n",
                    path, size, *len - 8);
            return -1;
        }
        *d += 8;
        *len -= 8;
        in->framed = true;
        in->net = NETS[i].net;
        return 0;
    }
    return 0;
}

/* Where offsets in a parser message count from, when that is not obvious. */
static const char *offset_note(const input_info *in) {
    if (in->framed && in->was_hex)
        return " (offsets count decoded bytes after the 8-byte record header)";
    if (in->framed) return " (offsets count from the block, after the 8-byte record header)";
    if (in->was_hex) return " (offsets count decoded bytes, not hex digits)";
    return "";
}

static void print_btc(uint64_t sat, FILE *f) {
    fprintf(f, "%5llu.%08llu", (unsigned long long)(sat / CH_BTC_COIN),
            (unsigned long long)(sat % CH_BTC_COIN));
}

static uint64_t tx_weight(const ch_btc_tx *tx) {
    return (uint64_t)tx->base_size * 3 + tx->size;
}

/* An output's type and address string ("" when it has none). */
static ch_script_type out_address(const ch_btc_txout *o, ch_network net,
                                  char addr[CH_ADDR_STR_MAX]) {
    ch_addr a;
    ch_script_type t = ch_btc_classify(o->script, o->script_len, &a);
    if (a.kind == CH_ADDR_NONE || ch_addr_to_string(&a, net, addr) < 0) addr[0] = '\0';
    return t;
}

static void json_hash(ch_jw *w, const char *key, const ch_hash256 *h) {
    char hex[65];
    ch_hash256_to_hex(h, hex);
    ch_jw_key(w, key);
    ch_jw_str(w, hex);
}

static void json_inputs(ch_jw *w, const ch_btc_tx *tx) {
    bool coinbase = ch_btc_tx_is_coinbase(tx);
    ch_jw_key(w, "inputs");
    ch_jw_arr_begin(w);
    for (uint32_t i = 0; i < tx->n_in; i++) {
        const ch_btc_txin *in = &tx->in[i];
        ch_jw_obj_begin(w);
        if (coinbase) {
            char *hex = malloc(2 * (size_t)in->script_len + 1);
            if (hex) ch_hex_encode(in->script, in->script_len, hex);
            ch_jw_key(w, "coinbase");
            ch_jw_str(w, hex);
            free(hex);
        } else {
            json_hash(w, "txid", &in->prev_txid);
            ch_jw_key(w, "vout");
            ch_jw_uint(w, in->prev_vout);
        }
        ch_jw_key(w, "sequence");
        ch_jw_uint(w, in->sequence);
        if (in->witness_items) {
            ch_jw_key(w, "witness_items");
            ch_jw_uint(w, in->witness_items);
        }
        ch_jw_obj_end(w);
    }
    ch_jw_arr_end(w);
}

static void json_outputs(ch_jw *w, const ch_btc_tx *tx, ch_network net) {
    ch_jw_key(w, "outputs");
    ch_jw_arr_begin(w);
    for (uint32_t i = 0; i < tx->n_out; i++) {
        char addr[CH_ADDR_STR_MAX];
        ch_script_type t = out_address(&tx->out[i], net, addr);
        ch_jw_obj_begin(w);
        ch_jw_key(w, "n");
        ch_jw_uint(w, i);
        ch_jw_key(w, "value");
        ch_jw_uint(w, tx->out[i].value);
        ch_jw_key(w, "address");
        ch_jw_str(w, addr[0] ? addr : NULL);
        ch_jw_key(w, "type");
        ch_jw_str(w, ch_script_type_name(t));
        ch_jw_obj_end(w);
    }
    ch_jw_arr_end(w);
}

static void json_tx(ch_jw *w, const ch_btc_tx *tx, ch_network net) {
    ch_hash256 wtxid;
    ch_btc_tx_wtxid(tx, &wtxid);
    uint64_t weight = tx_weight(tx);
    ch_jw_obj_begin(w);
    json_hash(w, "txid", &tx->txid);
    json_hash(w, "wtxid", &wtxid);
    ch_jw_key(w, "size");
    ch_jw_uint(w, tx->size);
    ch_jw_key(w, "vsize");
    ch_jw_uint(w, (weight + 3) / 4);
    ch_jw_key(w, "weight");
    ch_jw_uint(w, weight);
    ch_jw_key(w, "version");
    ch_jw_int(w, tx->version);
    ch_jw_key(w, "locktime");
    ch_jw_uint(w, tx->locktime);
    json_inputs(w, tx);
    json_outputs(w, tx, net);
    ch_jw_obj_end(w);
    ch_jw_newline(w);
}

static void text_tx(const ch_btc_tx *tx, uint32_t index, bool in_block, ch_network net) {
    char txid[65];
    ch_hash256_to_hex(&tx->txid, txid);
    uint64_t weight = tx_weight(tx);
    if (in_block) printf("tx %u ", index);
    printf("%s%s\n  %u input%s, %u output%s, %zu bytes, vsize %llu%s\n", txid,
           ch_btc_tx_is_coinbase(tx) ? " (coinbase)" : "", tx->n_in, tx->n_in == 1 ? "" : "s",
           tx->n_out, tx->n_out == 1 ? "" : "s", tx->size, (unsigned long long)(weight + 3) / 4,
           tx->has_witness ? ", segwit" : "");
    for (uint32_t i = 0; i < tx->n_out; i++) {
        char addr[CH_ADDR_STR_MAX];
        ch_script_type t = out_address(&tx->out[i], net, addr);
        printf("  out %-3u ", i);
        print_btc(tx->out[i].value, stdout);
        printf(" BTC  %s  %s\n", addr[0] ? addr : "(no address)", ch_script_type_short(t));
    }
}

/* BIP34 puts the height as the first push of the coinbase script of
 * version 2+ blocks; older blocks do not say their height. */
static bool coinbase_height(const ch_btc_block *b, uint32_t *height) {
    if (b->header.version < 2 || b->n_tx == 0 || !ch_btc_tx_is_coinbase(&b->tx[0])) return false;
    const ch_btc_txin *in = &b->tx[0].in[0];
    if (in->script_len < 2) return false;
    uint8_t n = in->script[0];
    if (n < 1 || n > 4 || in->script_len < 1u + n) return false;
    uint32_t h = 0;
    for (uint8_t i = 0; i < n; i++)
        h |= (uint32_t)in->script[1 + i] << (8 * i);
    if (in->script[n] & 0x80) return false; /* a negative number is no height */
    *height = h;
    return true;
}

static void text_block(const ch_btc_block *b, ch_network net) {
    char hash[65], when[32];
    ch_hash256_to_hex(&b->header.hash, hash);
    time_t t = (time_t)b->header.time;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
    uint32_t height;
    printf("block %s\n", hash);
    if (coinbase_height(b, &height))
        printf("  height %u (from the coinbase, BIP34)\n", height);
    else
        printf("  height unknown (the block does not say; no BIP34 height in its coinbase)\n");
    printf("  version 0x%08x, time %s, %zu bytes, %u transactions\n", (unsigned)b->header.version,
           when, b->size, b->n_tx);
    bool segwit = false;
    for (uint32_t i = 0; i < b->n_tx; i++)
        segwit |= b->tx[i].has_witness;
    printf("  merkle root ok%s\n\n", segwit ? ", witness commitment ok" : "");
    for (uint32_t i = 0; i < b->n_tx; i++)
        text_tx(&b->tx[i], i, true, net);
}

static void emit_block(const ch_btc_block *b, const decode_opts *o, ch_network net) {
    if (!o->json) {
        text_block(b, net);
        return;
    }
    ch_jw w;
    ch_jw_init(&w, stdout);
    for (uint32_t i = 0; i < b->n_tx; i++)
        json_tx(&w, &b->tx[i], net);
}

static void emit_tx(const ch_btc_tx *tx, const decode_opts *o, ch_network net) {
    if (!o->json) {
        text_tx(tx, 0, false, net);
        return;
    }
    ch_jw w;
    ch_jw_init(&w, stdout);
    json_tx(&w, tx, net);
}

/* Whether the bytes open like a block: after 80 header bytes, a non-zero
 * transaction count and then a whole coinbase transaction. A single
 * transaction essentially never reads that way, so a block refused for
 * another reason (a bad merkle root, a cut) is reported as a block alone. */
static bool opens_like_block(ch_btc_parser *p, const uint8_t *d, size_t len) {
    if (len < 82) return false;
    uint8_t b = d[80];
    size_t w = b < 0xfd ? 0 : b == 0xfd ? 2 : b == 0xfe ? 4 : 8;
    size_t first = 81 + w;
    if (b == 0 || first >= len) return false;
    ch_btc_tx tx;
    size_t used = 0;
    ch_error err = {""};
    return ch_btc_parse_tx(p, d + first, len - first, &used, &tx, &err) == 0 &&
           ch_btc_tx_is_coinbase(&tx);
}

/* Try a block, then a single transaction. A framed record, or bytes that
 * open like a block, can only be a block: its reason is reported alone.
 * Otherwise both failures are, as neither reading fits. */
static int decode_bytes(ch_btc_parser *p, const uint8_t *d, size_t len, const decode_opts *o,
                        const input_info *in) {
    ch_error eb = {""}, et = {""};
    ch_btc_block b;
    int rc = ch_btc_parse_block(p, d, len, &b, &eb);
    if (rc == 0) rc = ch_btc_check_witness_commitment(&b, &eb);
    if (rc == 0) {
        emit_block(&b, o, in->net);
        return 0;
    }
    if (in->framed || opens_like_block(p, d, len)) {
        fprintf(stderr, "coinhound decode: %s: %s%s\n", o->path, eb.msg, offset_note(in));
        return EXIT_BAD;
    }
    ch_btc_tx tx;
    size_t used = 0;
    rc = ch_btc_parse_tx(p, d, len, &used, &tx, &et);
    if (rc == 0 && used == len) {
        emit_tx(&tx, o, in->net);
        return 0;
    }
    if (rc == 0)
        snprintf(et.msg, sizeof et.msg,
                 "%zu bytes of trailing data at offset %zu after the "
                 "transaction",
                 len - used, used);
    if (len < 80) {
        fprintf(stderr, "coinhound decode: %s: not a transaction: %s%s\n", o->path, et.msg,
                offset_note(in));
    } else {
        fprintf(stderr, "coinhound decode: %s: not a block: %s%s\n", o->path, eb.msg,
                offset_note(in));
        fprintf(stderr, "coinhound decode: %s: not a transaction either: %s\n", o->path, et.msg);
    }
    return EXIT_BAD;
}

int cmd_decode(int argc, char **argv) {
    decode_opts o;
    int a = parse_args(argc, argv, &o);
    if (a != 0) return a > 0 ? 0 : EXIT_BAD;

    size_t len = 0;
    uint8_t *buf = read_input(o.path, &len);
    if (!buf) return EXIT_BAD;
    input_info in = {false, false, CH_NET_MAINNET};
    int rc = EXIT_BAD;
    ch_btc_parser *p = NULL;
    const uint8_t *d = buf;
    if (len == 0) {
        fprintf(stderr, "coinhound decode: %s: empty input\n", o.path);
        goto done;
    }
    if (o.hex || looks_hex(buf, len)) {
        if (unhex(o.path, buf, &len) < 0) goto done;
        in.was_hex = true;
    }
    if (strip_frame(o.path, &d, &len, &in) < 0) goto done;
    p = ch_btc_parser_new();
    if (!p) {
        fprintf(stderr, "coinhound decode: out of memory\n");
        goto done;
    }
    rc = decode_bytes(p, d, len, &o, &in);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "coinhound decode: writing output: %s\n", strerror(errno));
        rc = EXIT_BAD;
    }
done:
    ch_btc_parser_free(p);
    free(buf);
    return rc;
}
