/* Raw Bitcoin blocks for tests (see btcblock.h). */
#include "btcblock.h"

#include <stdlib.h>
#include <string.h>

#include "coinhound/btc.h"
#include "coinhound/hash.h"

/* The coinbase without witness: height 481,823 = 0x075a1f as BIP34 puts it
 * (push 3, little-endian), a tag, 12.5 BTC to a P2PKH, then the commitment
 * output (value 0, 38-byte script) whose last 32 bytes are filled in. */
static const char CB_HEX[] =
    "01000000"                                                         /* version */
    "01"                                                               /* 1 input */
    "0000000000000000000000000000000000000000000000000000000000000000" /* null */
    "ffffffff"                                                         /* prevout */
    "0c"
    "031f5a07"
    "2f6c6f636b2d696e" /* height, "/lock-in" */
    "ffffffff"         /* sequence */
    "02"               /* 2 outputs */
    "807c814a00000000" /* 12.5 BTC */
    "19"
    "76a914"
    "62e907b15cbf27d5425399ebf6f0fb50ebb88f18"
    "88ac"             /* P2PKH */
    "0000000000000000" /* 0 */
    "26"
    "6a24aa21a9ed" /* commitment */
    "0000000000000000000000000000000000000000000000000000000000000000"
    "00000000"; /* locktime */

/* The legacy spend of test_handmade_tx: 1 BTC to a P2WPKH and an OP_RETURN. */
static const char SPEND_HEX[] = "01000000"
                                "01"
                                "1111111111111111111111111111111111111111111111111111111111111111"
                                "02000000"
                                "00"
                                "feffffff"
                                "02"
                                "00e1f50500000000"
                                "16"
                                "0014751e76e8199196d454941c45d1b3a323f1433bd6"
                                "0000000000000000"
                                "04"
                                "6a02beef"
                                "10000000";

#define CB_LEN    ((sizeof CB_HEX - 1) / 2)
#define SPEND_LEN ((sizeof SPEND_HEX - 1) / 2)

static uint8_t cb_raw[CB_LEN], spend_raw[SPEND_LEN];

static void decode_once(void) {
    static int done;
    if (done) return;
    ch_hex_decode(CB_HEX, sizeof CB_HEX - 1, cb_raw, CB_LEN);
    ch_hex_decode(SPEND_HEX, sizeof SPEND_HEX - 1, spend_raw, SPEND_LEN);
    done = 1;
}

const uint8_t *bb_lockin_tx(int i, size_t *len) {
    decode_once();
    *len = i == 0 ? CB_LEN : SPEND_LEN;
    return i == 0 ? cb_raw : spend_raw;
}

static void put32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

uint8_t *bb_lockin_block(bool coinbase_witness, const uint8_t commitment[32], size_t *len) {
    decode_once();
    uint8_t cb[CB_LEN];
    memcpy(cb, cb_raw, CB_LEN);
    memcpy(cb + CB_LEN - 4 - 32, commitment, 32);
    /* txids hash the transactions without witness: the merkle root is the
     * same for both variants */
    ch_hash256 ids[2], root;
    ch_sha256d(cb, CB_LEN, &ids[0]);
    ch_sha256d(spend_raw, SPEND_LEN, &ids[1]);
    uint8_t pair[64];
    memcpy(pair, ids[0].b, 32);
    memcpy(pair + 32, ids[1].b, 32);
    ch_sha256d(pair, sizeof pair, &root);

    size_t wit = coinbase_witness ? 2 + 1 + 1 + 32 : 0; /* marker, flag, 1 item of 32 */
    size_t n = 80 + 1 + CB_LEN + wit + SPEND_LEN;
    uint8_t *b = calloc(1, n), *p = b;
    if (!b) return NULL;
    put32(p, 0x20000012); /* BIP9 bits: segwit (bit 1) and others signalled */
    memset(p + 4, 0x5a, 32);
    memcpy(p + 36, root.b, 32);
    put32(p + 68, 1503530000); /* 2017-08-23 */
    put32(p + 72, 0x18013ce9);
    put32(p + 76, 7);
    p += 80;
    *p++ = 2;
    if (!coinbase_witness) {
        memcpy(p, cb, CB_LEN);
        p += CB_LEN;
    } else {
        memcpy(p, cb, 4);
        p[4] = 0x00; /* marker */
        p[5] = 0x01; /* flag */
        memcpy(p + 6, cb + 4, CB_LEN - 8);
        p += 6 + CB_LEN - 8;
        *p++ = 1;  /* one witness item */
        *p++ = 32; /* of 32 bytes: the reserved value, all zero (calloc) */
        p += 32;
        memcpy(p, cb + CB_LEN - 4, 4);
        p += 4;
    }
    memcpy(p, spend_raw, SPEND_LEN);
    *len = n;
    return b;
}

uint8_t *bb_strip_coinbase_witness(const uint8_t *block, size_t len, size_t *out_len) {
    ch_btc_parser *p = ch_btc_parser_new();
    ch_btc_block b;
    ch_error err;
    uint8_t *out = NULL;
    if (!p || ch_btc_parse_block(p, block, len, &b, &err) < 0 || !b.tx[0].has_witness ||
        b.tx[0].n_in != 1)
        goto done;
    const ch_btc_tx *cb = &b.tx[0];
    size_t start = (size_t)(cb->raw - block);
    /* the witness section: the input's item count (one byte for a few
     * items) then its items, right before the locktime */
    size_t wit_at = (size_t)(cb->in[0].witness - block) - 1;
    size_t lock_at = start + cb->size - 4;
    out = malloc(len);
    if (!out) goto done;
    size_t n = 0;
    memcpy(out, block, start + 4); /* header, count, coinbase version */
    n = start + 4;
    memcpy(out + n, block + start + 6, wit_at - (start + 6)); /* inputs and outputs */
    n += wit_at - (start + 6);
    memcpy(out + n, block + lock_at, len - lock_at); /* locktime, other txs */
    n += len - lock_at;
    *out_len = n;
done:
    ch_btc_parser_free(p);
    return out;
}
