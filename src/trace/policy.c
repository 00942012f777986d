/* How one transaction shares out the taint that entered it: haircut in
 * exact fixed point, fifo by cutting the tainted intervals of a line at the
 * boundaries of the parts laid along it. Poison needs no arithmetic. */
#include "trace/trace_internal.h"

__extension__ typedef unsigned __int128 u128;

/* floor(c * taint / total), c <= total. The product needs 128 bits only
 * when it passes 2^64: a 64-bit division does the common case. */
static inline uint64_t scaled(uint64_t c, uint64_t taint, uint64_t total) {
    if (c == total) return taint;
    uint64_t p;
    if (!__builtin_mul_overflow(c, taint, &p)) return p / total;
    return (uint64_t)((u128)c * taint / total);
}

/* Cumulative rounding: part i gets floor(C_i T / V) - floor(C_{i-1} T / V),
 * so the parts add up to exactly T, each is within one unit of its share,
 * and none exceeds its value (T <= V units per satoshi). */
void tr_haircut_split(uint64_t taint, const uint64_t *vals, size_t n, uint64_t total,
                      uint64_t *share) {
    uint64_t c = 0, prev = 0;
    for (size_t i = 0; i < n; i++) {
        c += vals[i];
        uint64_t cur = total ? scaled(c, taint, total) : 0;
        share[i] = cur - prev;
        prev = cur;
    }
}

uint64_t tr_forward_shares(const ch_trace *t, uint64_t tx, uint64_t taint, uint64_t fo, uint64_t no,
                           uint64_t *val, uint64_t *share) {
    /* the store keeps what the inputs spend: no input is read */
    uint64_t vin = tr_vin(t, tx), vout = 0;
    for (uint64_t j = 0; j < no; j++)
        vout += val[j] = tr_out_value(t, fo + j);
    uint64_t fee = vin > vout ? vin - vout : 0;
    val[no] = fee;
    if (t->o.policy == CH_POLICY_POISON)
        for (uint64_t j = 0; j <= no; j++)
            share[j] = val[j] * CH_TAINT_ONE;
    else
        tr_haircut_split(taint, val, no + 1, vout + fee, share);
    return vin;
}

int tr_fifo_slice(const tr_iv *line, size_t n_line, const uint64_t *vals, size_t n_parts,
                  tr_iv **scratch, size_t *cap, tr_slice_fn fn, void *ctx) {
    size_t k = 0;
    uint64_t start = 0;
    for (size_t p = 0; p < n_parts; p++) {
        uint64_t end = start + vals[p];
        size_t m = 0;
        /* intervals that begin before this part ends overlap it (the ones
         * that ended before it began were consumed by earlier parts) */
        while (k < n_line && line[k].a < end) {
            uint64_t a = line[k].a > start ? line[k].a : start;
            uint64_t b = line[k].b < end ? line[k].b : end;
            if (a < b) {
                if (tr_grow((void **)scratch, cap, m + 1, sizeof **scratch) != 0) return -1;
                (*scratch)[m].a = a - start;
                (*scratch)[m].b = b - start;
                m++;
            }
            if (line[k].b > end) break; /* the rest belongs to the next part */
            k++;
        }
        if (m && fn(ctx, p, *scratch, m) != 0) return -1;
        start = end;
    }
    return 0;
}
