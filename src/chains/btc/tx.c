/* Bitcoin transactions, parsed in place.
 *
 * Layout: version (4), [marker 00, flag 01], input count, inputs, output
 * count, outputs, [one witness stack per input], locktime (4). The txid is
 * SHA256d of everything except marker, flag and witnesses; those pieces are
 * contiguous in the buffer, so it is hashed in three updates, never copied.
 *
 * Every read is bounds-checked and a failure names the byte offset and what
 * was expected. A txin's witness points at its first witness item (each
 * item: compact-size length, bytes); witness_len covers all its items. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chains/btc/btc_internal.h"
#include "util/vec.h"

/* Smallest serialized input (txid, vout, empty script, sequence) and output
 * (value, empty script): a count larger than what the remaining bytes could
 * hold is rejected before any array is grown for it. */
#define MIN_INPUT_BYTES  41
#define MIN_OUTPUT_BYTES 9

typedef struct reader {
    const uint8_t *d;
    size_t len;
    size_t pos;
    size_t start; /* where the transaction begins, for messages */
    ch_error *err;
} reader;

__attribute__((cold, format(printf, 4, 5))) static int fail(reader *r, const char *kind, size_t at,
                                                            const char *fmt, ...) {
    if (!r->err) return -1;
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (at == r->start) return ch_err(r->err, "%s transaction at offset %zu: %s", kind, at, what);
    return ch_err(r->err, "%s transaction at offset %zu: %s (transaction starts at offset %zu)",
                  kind, at, what, r->start);
}

static inline size_t left(const reader *r) {
    return r->len - r->pos;
}

/* A compact size: 1 byte below 0xfd, else fd/fe/ff and 2/4/8 bytes. Bitcoin
 * Core rejects non-minimal encodings and values above BTC_MAX_SIZE. */
static int read_compact(reader *r, uint64_t *v, const char *what) {
    size_t at = r->pos;
    if (left(r) < 1) return fail(r, "truncated", at, "expected %s but data ends", what);
    uint8_t b = r->d[r->pos];
    if (b < 0xfd) {
        *v = b;
        r->pos++;
        return 0;
    }
    size_t n = b == 0xfd ? 2 : b == 0xfe ? 4 : 8;
    if (left(r) < 1 + n)
        return fail(r, "truncated", at, "expected %s (%zu-byte compact size) but data ends", what,
                    1 + n);
    const uint8_t *q = r->d + r->pos + 1;
    uint64_t x = n == 2 ? (uint64_t)(q[0] | q[1] << 8) : n == 4 ? btc_le32(q) : btc_le64(q);
    uint64_t min = n == 2 ? 0xfd : n == 4 ? 0x10000 : 0x100000000ULL;
    if (x < min) return fail(r, "corrupt", at, "non-canonical compact size for %s", what);
    if (x > BTC_MAX_SIZE)
        return fail(r, "corrupt", at, "%s %llu exceeds the limit of %u", what,
                    (unsigned long long)x, BTC_MAX_SIZE);
    *v = x;
    r->pos += 1 + n;
    return 0;
}

int btc_grow(void **arr, size_t *cap, size_t need, size_t elem) {
    /* every tx parsed asks: ch_grow (util/vec.h, sizes checked) only to grow */
    if (need <= *cap) return 0;
    void *q = ch_grow(*arr, cap, need, elem);
    if (!q) return -1;
    *arr = q;
    return 0;
}

static int parse_inputs(reader *r, ch_btc_parser *p, uint32_t n_in) {
    ch_btc_txin *in = p->in + p->in_used;
    for (uint32_t i = 0; i < n_in; i++, in++) {
        if (left(r) < MIN_INPUT_BYTES)
            return fail(r, "truncated", r->pos,
                        "input count says %u but data ends in input %u (%zu bytes left)", n_in, i,
                        left(r));
        const uint8_t *q = r->d + r->pos;
        memcpy(in->prev_txid.b, q, 32);
        in->prev_vout = btc_le32(q + 32);
        r->pos += 36;
        uint64_t slen;
        if (read_compact(r, &slen, "input script length") < 0) return -1;
        if (slen + 4 > left(r))
            return fail(r, "truncated", r->pos,
                        "input %u script length says %llu but only %zu bytes remain", i,
                        (unsigned long long)slen, left(r));
        in->script = r->d + r->pos;
        in->script_len = (uint32_t)slen;
        r->pos += slen;
        in->sequence = btc_le32(r->d + r->pos);
        r->pos += 4;
        in->witness = NULL;
        in->witness_len = 0;
        in->witness_items = 0;
    }
    return 0;
}

static int parse_outputs(reader *r, ch_btc_parser *p, uint32_t n_out) {
    ch_btc_txout *out = p->out + p->out_used;
    for (uint32_t i = 0; i < n_out; i++, out++) {
        if (left(r) < MIN_OUTPUT_BYTES)
            return fail(r, "truncated", r->pos,
                        "output count says %u but data ends in output %u (%zu bytes left)", n_out,
                        i, left(r));
        out->value = btc_le64(r->d + r->pos);
        if (out->value > CH_BTC_MAX_MONEY)
            return fail(r, "corrupt", r->pos, "output %u value %llu exceeds 21 million BTC", i,
                        (unsigned long long)out->value);
        r->pos += 8;
        uint64_t slen;
        if (read_compact(r, &slen, "output script length") < 0) return -1;
        if (slen > left(r))
            return fail(r, "truncated", r->pos,
                        "output %u script length says %llu but only %zu bytes remain", i,
                        (unsigned long long)slen, left(r));
        out->script = r->d + r->pos;
        out->script_len = (uint32_t)slen;
        r->pos += slen;
    }
    return 0;
}

/* One witness stack per input. Returns the total number of items seen. */
static int parse_witnesses(reader *r, ch_btc_parser *p, uint32_t n_in, uint64_t *total) {
    ch_btc_txin *in = p->in + p->in_used;
    *total = 0;
    for (uint32_t i = 0; i < n_in; i++, in++) {
        uint64_t items;
        if (read_compact(r, &items, "witness item count") < 0) return -1;
        if (items > left(r))
            return fail(r, "truncated", r->pos,
                        "witness of input %u says %llu items but only %zu bytes remain", i,
                        (unsigned long long)items, left(r));
        size_t first = r->pos;
        for (uint64_t k = 0; k < items; k++) {
            uint64_t ilen;
            if (read_compact(r, &ilen, "witness item length") < 0) return -1;
            if (ilen > left(r))
                return fail(r, "truncated", r->pos,
                            "witness item %llu of input %u says %llu bytes but only %zu remain",
                            (unsigned long long)k, i, (unsigned long long)ilen, left(r));
            r->pos += ilen;
        }
        if (items) {
            in->witness = r->d + first;
            in->witness_len = (uint32_t)(r->pos - first);
            in->witness_items = (uint32_t)items;
        }
        *total += items;
    }
    return 0;
}

int btc_parse_tx_at(ch_btc_parser *p, const uint8_t *data, size_t len, size_t start, ch_btc_tx *tx,
                    ch_error *err) {
    reader rd = {data, len, start, start, err}, *r = &rd;
    if (left(r) < 4) return fail(r, "truncated", r->pos, "expected 4-byte version but data ends");
    tx->version = (int32_t)btc_le32(data + start);
    r->pos += 4;

    /* BIP144: an input count of zero followed by flag 01 marks the segwit
     * serialization. A real transaction always has inputs, so any other
     * byte after a zero count is an error. */
    tx->has_witness = false;
    if (left(r) >= 1 && data[r->pos] == 0) {
        if (left(r) < 2)
            return fail(r, "truncated", r->pos, "expected segwit flag after marker but data ends");
        if (data[r->pos + 1] != 1)
            return fail(r, "corrupt", r->pos,
                        "input count is 0 (or a segwit marker with unknown flag 0x%02x)",
                        data[r->pos + 1]);
        tx->has_witness = true;
        r->pos += 2;
    }
    size_t body_start = r->pos;

    uint64_t n_in, n_out;
    if (read_compact(r, &n_in, "input count") < 0) return -1;
    if (n_in == 0) return fail(r, "corrupt", body_start, "segwit transaction with no inputs");
    if (n_in > left(r) / MIN_INPUT_BYTES)
        return fail(r, "truncated", body_start, "input count says %llu but only %zu bytes follow",
                    (unsigned long long)n_in, left(r));
    if (btc_grow((void **)&p->in, &p->in_cap, p->in_used + n_in, sizeof *p->in) < 0)
        return ch_err(err, "out of memory for %llu inputs", (unsigned long long)n_in);
    if (parse_inputs(r, p, (uint32_t)n_in) < 0) return -1;

    size_t out_at = r->pos;
    if (read_compact(r, &n_out, "output count") < 0) return -1;
    if (n_out > left(r) / MIN_OUTPUT_BYTES)
        return fail(r, "truncated", out_at, "output count says %llu but only %zu bytes follow",
                    (unsigned long long)n_out, left(r));
    if (btc_grow((void **)&p->out, &p->out_cap, p->out_used + n_out, sizeof *p->out) < 0)
        return ch_err(err, "out of memory for %llu outputs", (unsigned long long)n_out);
    if (parse_outputs(r, p, (uint32_t)n_out) < 0) return -1;
    size_t body_end = r->pos;

    if (tx->has_witness) {
        uint64_t items;
        if (parse_witnesses(r, p, (uint32_t)n_in, &items) < 0) return -1;
        /* Bitcoin Core refuses the extended form when it carries nothing. */
        if (items == 0)
            return fail(r, "corrupt", body_end, "segwit marker but every witness stack is empty");
    }
    if (left(r) < 4) return fail(r, "truncated", r->pos, "expected 4-byte locktime but data ends");
    tx->locktime = btc_le32(data + r->pos);
    r->pos += 4;

    tx->n_in = (uint32_t)n_in;
    tx->n_out = (uint32_t)n_out;
    tx->in = p->in + p->in_used;
    tx->out = p->out + p->out_used;
    p->in_used += n_in;
    p->out_used += n_out;
    tx->raw = data + start;
    tx->size = r->pos - start;
    if (tx->has_witness) {
        ch_sha256_ctx c;
        ch_sha256_init(&c);
        ch_sha256_update(&c, tx->raw, 4);
        ch_sha256_update(&c, data + body_start, body_end - body_start);
        ch_sha256_update(&c, data + r->pos - 4, 4);
        ch_sha256d_final(&c, &tx->txid);
        tx->base_size = 8 + (body_end - body_start);
    } else {
        ch_sha256d(tx->raw, tx->size, &tx->txid);
        tx->base_size = tx->size;
    }
    return 0;
}

int ch_btc_parse_tx(ch_btc_parser *p, const uint8_t *data, size_t len, size_t *consumed,
                    ch_btc_tx *tx, ch_error *err) {
    p->in_used = 0;
    p->out_used = 0;
    if (btc_parse_tx_at(p, data, len, 0, tx, err) < 0) return -1;
    if (consumed) *consumed = tx->size;
    return 0;
}

void ch_btc_tx_wtxid(const ch_btc_tx *tx, ch_hash256 *out) {
    if (!tx->has_witness)
        *out = tx->txid;
    else
        ch_sha256d(tx->raw, tx->size, out);
}

bool ch_btc_tx_is_coinbase(const ch_btc_tx *tx) {
    static const uint8_t zero[32];
    return tx->n_in == 1 && tx->in[0].prev_vout == 0xffffffffu &&
           !memcmp(tx->in[0].prev_txid.b, zero, 32);
}

ch_btc_parser *ch_btc_parser_new(void) {
    return calloc(1, sizeof(ch_btc_parser));
}

size_t ch_btc_parser_bytes(const ch_btc_parser *p) {
    return p->tx_cap * sizeof *p->tx + p->in_cap * sizeof *p->in + p->out_cap * sizeof *p->out;
}

void ch_btc_parser_free(ch_btc_parser *p) {
    if (!p) return;
    free(p->tx);
    free(p->in);
    free(p->out);
    free(p);
}
