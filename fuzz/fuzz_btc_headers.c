/* libFuzzer harness for the header rules (proof of work, retargeting, the
 * median time past) and the compact-target arithmetic under them.
 *
 * Input: one byte picks the network, then 12 bytes a header: bits, time
 * and 4 bytes that spread into the hash (a hash of zeros would pass every
 * target; these make it land on either side). Headers past 4100 are
 * ignored, enough for two retargets. The check must answer without a
 * sanitizer report; as an oracle, a chain it accepts must stay accepted
 * when cut shorter (the rules look only backwards), and the target of
 * every accepted header must round-trip through its compact form. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chains/btc/btc_internal.h"

#define MAX_HEADERS 4100

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    ch_btc_net net = (ch_btc_net)(data[0] % CH_BTC_NET_COUNT);
    size_t n = (size - 1) / 12;
    if (n > MAX_HEADERS) n = MAX_HEADERS;
    if (n == 0) return 0;
    ch_blk_chain c;
    ch_error err;
    if (ch_blk_chain_alloc(&c, n, &err) != 0) abort();
    for (size_t h = 0; h < n; h++) {
        const uint8_t *p = data + 1 + 12 * h;
        c.rec[h].bits = le32(p);
        c.rec[h].time = le32(p + 4);
        /* the 4 bytes as the hash's most significant ones, at a depth the
         * low bits choose: hashes near any target, above and below */
        unsigned at = 28 - (p[8] & 7) * 4;
        memcpy(c.rec[h].hash.b + at, p + 8, 4);
    }
    int rc = btc_chain_check(net, &c, NULL, &err);
    if (rc == 0) {
        for (size_t h = 0; h < n; h++) {
            btc_u256 t;
            if (btc_target_from_bits(c.rec[h].bits, &t) != 0) abort();
            btc_u256 back;
            if (btc_target_from_bits(btc_bits_from_target(&t), &back) != 0) abort();
            if (btc_u256_cmp(&t, &back) != 0) abort();
        }
        c.n = n / 2;
        if (c.n && btc_chain_check(net, &c, NULL, &err) != 0) abort();
    }
    ch_blk_chain_free(&c);
    return 0;
}
