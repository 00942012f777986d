/* Small helpers of the query files (query_internal.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "coinhound/address.h"
#include "query/query_internal.h"

const char *ch_q_btc(uint64_t sat, char out[32]) {
    snprintf(out, 32, "%" PRIu64 ".%08" PRIu64, sat / 100000000, sat % 100000000);
    return out;
}

const char *ch_q_time(uint32_t t, char out[32]) {
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 32, "%Y-%m-%d %H:%M:%S", &tm);
    return out;
}

const char *ch_q_addr_str(const ch_store *s, ch_addr_id id, char out[128]) {
    if (id == 0) return NULL;
    ch_addr a;
    ch_store_addr_of(s, id, &a);
    return ch_addr_to_string(&a, ch_store_addr_net(s), out) == 0 ? out : NULL;
}

void ch_q_hash_hex(const uint8_t b[32], bool account, char out[67]) {
    if (account) {
        out[0] = '0';
        out[1] = 'x';
        ch_hex_encode(b, 32, out + 2);
        return;
    }
    ch_hash256 h;
    memcpy(h.b, b, 32);
    ch_hash256_to_hex(&h, out);
}
