/* The --from syntax: TXID, TXID:VOUT or an address. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/address.h"
#include "trace/trace_internal.h"

int ch_trace_add_from_string(ch_trace *t, const char *from, ch_error *err) {
    size_t len = strlen(from);
    const char *colon = strchr(from, ':');
    /* 64 characters are a txid only when they are hex: a regtest P2WSH
     * address (bcrt1q + 58) is 64 characters long too */
    bool hex64 = len >= 64 && strspn(from, "0123456789abcdefABCDEF") >= 64;
    if ((len == 64 && hex64) || (colon && colon - from == 64)) {
        char hex[65];
        memcpy(hex, from, 64);
        hex[64] = '\0';
        ch_hash256 txid;
        if (ch_hash256_from_hex(hex, &txid) != 0)
            return ch_err(err, "'%s' is not a txid (64 hex digits)", hex);
        long vout = -1;
        if (colon) {
            char *end;
            if (!colon[1] || colon[1] == '-' || colon[1] == '+')
                return ch_err(err, "'%s': the output index after ':' is missing", from);
            vout = strtol(colon + 1, &end, 10);
            if (*end || vout < 0 || vout > UINT32_MAX)
                return ch_err(err, "'%s': '%s' is not an output index", from, colon + 1);
        }
        uint64_t tx;
        /* a trace of pending blocks finds their txs too */
        int rc = t->o.pending ? ch_store_writer_find_tx(t->s, &txid, &tx, err)
                              : ch_store_find_tx(t->s, &txid, &tx, err);
        if (rc < 0) return -1;
        if (rc == 0) {
            ch_err(err, "transaction %s is not in the store", hex);
            return 0;
        }
        if (vout < 0) return ch_trace_add_tx(t, tx, err) == 0 ? 1 : -1;
        uint64_t fo, no;
        ch_store_tx_outputs(t->s, tx, &fo, &no);
        if ((uint64_t)vout >= no) {
            ch_err(err, "transaction %s has %llu outputs, no output %ld", hex,
                   (unsigned long long)no, vout);
            return 0;
        }
        return ch_trace_add_output(t, fo + (uint64_t)vout, err) == 0 ? 1 : -1;
    }
    ch_addr a;
    if (ch_addr_from_string(from, &a, NULL, err) != 0)
        return ch_err_prefix(err, "'%s' is neither a txid, TXID:VOUT nor an address", from);
    ch_addr_id id;
    uint64_t last;
    int rc = t->o.pending ? ch_store_writer_find_addr(t->s, &a, &id, err)
                          : ch_store_find_addr(t->s, &a, &id, &last, err);
    if (rc < 0) return -1;
    if (rc == 0) {
        ch_err(err, "address %s is not in the store", from);
        return 0;
    }
    return ch_trace_add_address(t, id, err) == 0 ? 1 : -1;
}
