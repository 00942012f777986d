/* Finding records: an output's tx (the one binary search over first_out),
 * and a tx by its id or a unique prefix of it, as git accepts commits. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "coinhound/query.h"

uint64_t ch_txs_output_tx(const ch_tx_rec *txs, uint64_t n_txs, uint64_t o) {
    uint64_t lo = 0, hi = n_txs;
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (txs[mid].first_out <= o)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

int64_t ch_query_output_tx(const ch_store *s, uint64_t o) {
    ch_store_counts c;
    ch_store_get_counts(s, &c);
    if (ch_store_is_account(s) || c.txs == 0 || o >= c.outputs) return -1;
    /* the accessor checks each record against its file; the same search */
    uint64_t lo = 0, hi = c.txs;
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (ch_store_tx(s, mid)->first_out <= o)
            lo = mid;
        else
            hi = mid;
    }
    return (int64_t)lo;
}

static int nibble(char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Nibble k of a txid as the text output prints it: a UTXO id is printed
 * byte-reversed (Bitcoin's display order), an account hash as stored. */
static int id_nibble(const ch_hash256 *h, size_t k, bool account) {
    uint8_t b = account ? h->b[k / 2] : h->b[31 - k / 2];
    return k % 2 ? b & 15 : b >> 4;
}

/* Scan every tx for the prefix p (n nibbles, already validated). */
static int find_prefix(ch_store *s, const int *p, size_t n, bool account, const char *text,
                       uint64_t *tx, size_t *n_cand, ch_error *err) {
    ch_store_counts c;
    ch_store_get_counts(s, &c);
    uint64_t cand[CH_QUERY_MAX_CANDIDATES];
    size_t nc = 0;
    for (uint64_t i = 0; i < c.txs; i++) {
        ch_hash256 h;
        ch_store_txid(s, i, &h);
        size_t k = 0;
        while (k < n && id_nibble(&h, k, account) == p[k])
            k++;
        if (k < n) continue;
        if (nc < CH_QUERY_MAX_CANDIDATES) cand[nc] = i;
        nc++;
    }
    if (n_cand) *n_cand = nc > CH_QUERY_MAX_CANDIDATES ? CH_QUERY_MAX_CANDIDATES : nc;
    /* as git: a prefix that names nothing is an error (a short id is more
     * likely mistyped than absent); a whole id absent is a negative answer */
    if (nc == 0) return ch_err(err, "no tx id begins with '%s'", text);
    if (nc == 1) {
        *tx = cand[0];
        return 1;
    }
    char list[CH_QUERY_MAX_CANDIDATES * 70] = "";
    size_t shown = nc > CH_QUERY_MAX_CANDIDATES ? CH_QUERY_MAX_CANDIDATES : nc;
    for (size_t j = 0; j < shown; j++) {
        ch_hash256 h;
        char hex[65];
        ch_store_txid(s, cand[j], &h);
        if (account)
            ch_hex_encode(h.b, 32, hex);
        else
            ch_hash256_to_hex(&h, hex);
        size_t l = strlen(list);
        snprintf(list + l, sizeof list - l, "%s%s%s", j ? ", " : "", account ? "0x" : "", hex);
    }
    return ch_err(err, "txid prefix '%s' is ambiguous: %zu%s txs match: %s", text, nc,
                  nc > shown ? " or more" : "", list);
}

int ch_query_find_tx(ch_store *s, const char *text, uint64_t *tx, size_t *n_candidates,
                     ch_error *err) {
    bool account = ch_store_is_account(s);
    const char *hex = text;
    if (account && (!strncmp(text, "0x", 2) || !strncmp(text, "0X", 2))) hex += 2;
    size_t n = strlen(hex);
    int p[64];
    bool ok = n >= 4 && n <= 64;
    for (size_t k = 0; ok && k < n; k++)
        ok = (p[k] = nibble((char)tolower((unsigned char)hex[k]))) >= 0;
    if (n_candidates) *n_candidates = 0;
    if (!ok)
        return ch_err(err, "'%s' is not a txid or a prefix of one (%s4 to 64 hex digits)", text,
                      account ? "0x and " : "");
    if (n < 64) return find_prefix(s, p, n, account, text, tx, n_candidates, err);
    ch_hash256 id;
    if (account) {
        if (ch_hex_decode(hex, 64, id.b, 32) != 0) return ch_err(err, "'%s' is not a txid", text);
    } else if (ch_hash256_from_hex(hex, &id) != 0) {
        return ch_err(err, "'%s' is not a txid", text);
    }
    int rc = ch_store_find_tx(s, &id, tx, err);
    if (rc == 1 && n_candidates) *n_candidates = 1;
    return rc;
}
