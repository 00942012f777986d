/* CoinJoin detection: the generic rule (BlockSci) and the wallet-specific
 * ones (GraphSense), as summarised in cluster.h. Every rule works on the
 * output values sorted, read as runs of equal values. */
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster_internal.h"
#include "util/vec.h"

#define SAT_PER_BTC 100000000ULL

static const char *const RULE_NAMES[CH_CJ_COUNT] = {"none",    "generic",   "wasabi1",
                                                    "wasabi2", "whirlpool", "joinmarket"};

const char *ch_coinjoin_rule_name(ch_coinjoin_rule r) {
    return (unsigned)r < CH_CJ_COUNT ? RULE_NAMES[r] : "?";
}

void cl_scratch_free(cl_scratch *sc) {
    free(sc->vals);
    free(sc->addrs);
    memset(sc, 0, sizeof *sc);
}

static int grow(void **p, size_t *cap, size_t need, size_t elem) {
    void *q = ch_grow(*p, cap, need, elem); /* util/vec.h */
    if (!q) return -1;
    *p = q;
    return 0;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Sorts for the rules' small arrays: insertion sort up to a few dozen
 * elements (CoinJoins are mostly that size), the library's qsort above.
 * Any correct sort gives the same array, so the rules see the same runs. */
#define SMALL_SORT 32

static void sort_u64(uint64_t *v, size_t n) {
    if (n > SMALL_SORT) {
        if (n > 1) qsort(v, n, sizeof *v, cmp_u64);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        uint64_t x = v[i];
        size_t j = i;
        for (; j > 0 && v[j - 1] > x; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
}

/* The output values as runs over a sorted copy. */
typedef struct runs {
    const uint64_t *v;
    size_t n;
} runs;

/* Length of the run of equal values starting at i. */
static size_t run_len(const runs *r, size_t i) {
    size_t j = i + 1;
    while (j < r->n && r->v[j] == r->v[i])
        j++;
    return j - i;
}

/* The most frequent value of at least `min` (ties: the larger value, so the
 * choice does not depend on any hash order); count 0 when there is none. */
static size_t most_common(const runs *r, uint64_t min, uint64_t *value) {
    size_t best = 0;
    for (size_t i = 0; i < r->n;) {
        size_t k = run_len(r, i);
        /* ascending order: ">=" lets a later (larger) value win a tie */
        if (r->v[i] >= min && k >= best) {
            best = k;
            *value = r->v[i];
        }
        i += k;
    }
    return best;
}

/* Distinct input addresses; inputs without an address (0) each count. */
static size_t distinct_inputs(const ch_tx_shape *t, ch_addr_id *sorted) {
    memcpy(sorted, t->in_addr, t->n_in * sizeof *sorted);
    sort_u64(sorted, t->n_in);
    size_t d = 0;
    for (size_t i = 0; i < t->n_in; i++)
        if (sorted[i] == 0 || i == 0 || sorted[i] != sorted[i - 1]) d++;
    return d;
}

static bool rule_generic(const ch_tx_shape *t, const runs *r, size_t distinct) {
    if (t->n_in < 2 || t->n_out < 3) return false;
    size_t n = (t->n_out + 1) / 2; /* each participant: one mixed output and one change */
    if (n > t->n_in || n > distinct) return false;
    uint64_t v = 0;
    size_t k = most_common(r, 0, &v);
    return k == n && v != 546 && v != 2730;
}

static bool rule_wasabi1(const ch_tx_shape *t, const runs *r) {
    if (t->n_in < 10) return false;
    const uint64_t lo = SAT_PER_BTC / 10 - SAT_PER_BTC / 200,
                   hi = SAT_PER_BTC / 10 + SAT_PER_BTC / 200;
    for (size_t i = 0; i < r->n;) {
        size_t k = run_len(r, i);
        if (r->v[i] >= lo && r->v[i] <= hi && k >= 3) return true;
        i += k;
    }
    return false;
}

static bool rule_wasabi2(const ch_tx_shape *t, const runs *r) {
    if (t->n_in < 20 || r->n == 0 || r->v[0] < 5000) return false; /* v[0] is the smallest */
    size_t repeated = 0, covered = 0;
    for (size_t i = 0; i < r->n;) {
        size_t k = run_len(r, i);
        if (k >= 2) {
            repeated++;
            covered += k;
        }
        i += k;
    }
    return repeated >= 3 && 2 * covered >= t->n_out - 1;
}

static bool rule_whirlpool(const ch_tx_shape *t, const runs *r) {
    static const uint64_t POOLS[] = {100000, 1000000, 5000000, 50000000};
    if (t->n_in < 5 || t->n_in > 8 || t->n_out != t->n_in) return false;
    uint64_t d = r->v[0];
    if (r->v[r->n - 1] != d) return false; /* not all equal */
    bool pool = false;
    for (size_t i = 0; i < sizeof POOLS / sizeof POOLS[0]; i++)
        pool |= d == POOLS[i];
    if (!pool) return false;
    for (size_t i = 0; i < t->n_in; i++)
        if (t->in_value[i] < d || t->in_value[i] > d + 110000) return false;
    return true;
}

static bool rule_joinmarket(const ch_tx_shape *t, const runs *r, size_t distinct) {
    uint64_t v = 0;
    size_t n = most_common(r, 2731, &v); /* above the dust value 2,730 */
    return n >= 3 && 2 * n >= t->n_out && n <= distinct && t->n_out > n;
}

bool cl_coinjoin_possible(uint64_t n_in, uint64_t n_out) {
    /* every rule needs at least 2 inputs and 3 outputs */
    if (n_in < 2 || n_out < 3) return false;
    /* Below 10 inputs only the generic, Whirlpool and JoinMarket rules can
     * fire, and each needs one value shared by at least half the outputs
     * but by no more outputs than there are inputs: so at most twice as
     * many outputs as inputs. This rejects the common batch payment (few
     * inputs, many outputs) before its values are even read. */
    return n_in >= 10 || n_out <= 2 * n_in;
}

/* Can any rule fire, judging by cheap checks only? Most transactions
 * fail them, and so skip the sorting. */
static bool may_be_coinjoin(const ch_tx_shape *t) {
    if (!cl_coinjoin_possible(t->n_in, t->n_out)) return false;
    /* every rule needs two outputs of the same value */
    if (t->n_out > 16) return true; /* let the sorted runs decide */
    for (size_t i = 1; i < t->n_out; i++)
        for (size_t j = 0; j < i; j++)
            if (t->out_value[i] == t->out_value[j]) return true;
    return false;
}

int cl_coinjoin_rules(const ch_tx_shape *t, cl_scratch *sc, unsigned *mask) {
    *mask = 0;
    if (!may_be_coinjoin(t)) return 0;
    if (grow((void **)&sc->vals, &sc->cap_vals, t->n_out, sizeof *sc->vals) != 0 ||
        grow((void **)&sc->addrs, &sc->cap_addrs, t->n_in, sizeof *sc->addrs) != 0)
        return -1;
    memcpy(sc->vals, t->out_value, t->n_out * sizeof *sc->vals);
    sort_u64(sc->vals, t->n_out);
    runs r = {sc->vals, t->n_out};
    size_t distinct = distinct_inputs(t, sc->addrs);
    if (rule_generic(t, &r, distinct)) *mask |= 1u << CH_CJ_GENERIC;
    if (rule_wasabi1(t, &r)) *mask |= 1u << CH_CJ_WASABI1;
    if (rule_wasabi2(t, &r)) *mask |= 1u << CH_CJ_WASABI2;
    if (rule_whirlpool(t, &r)) *mask |= 1u << CH_CJ_WHIRLPOOL;
    if (rule_joinmarket(t, &r, distinct)) *mask |= 1u << CH_CJ_JOINMARKET;
    return 0;
}

ch_coinjoin_rule cl_pick_rule(unsigned mask) {
    static const ch_coinjoin_rule ORDER[] = {CH_CJ_WHIRLPOOL, CH_CJ_WASABI1, CH_CJ_WASABI2,
                                             CH_CJ_JOINMARKET, CH_CJ_GENERIC};
    for (size_t i = 0; i < sizeof ORDER / sizeof ORDER[0]; i++)
        if (mask & (1u << ORDER[i])) return ORDER[i];
    return CH_CJ_NONE;
}

unsigned ch_coinjoin_rules(const ch_tx_shape *t) {
    cl_scratch sc = {0};
    unsigned mask = 0;
    if (cl_coinjoin_rules(t, &sc, &mask) != 0) mask = 0;
    cl_scratch_free(&sc);
    return mask;
}

ch_coinjoin_rule ch_coinjoin_classify(const ch_tx_shape *t) {
    return cl_pick_rule(ch_coinjoin_rules(t));
}

int ch_coinjoin_detect(const ch_store *s, uint64_t tx, ch_coinjoin_rule *rule, ch_error *err) {
    *rule = CH_CJ_NONE;
    uint64_t fi, ni, fo, no;
    ch_store_tx_inputs(s, tx, &fi, &ni);
    ch_store_tx_outputs(s, tx, &fo, &no);
    if (ni < 2 || no < 3) return 0; /* a coinbase has one input */
    uint64_t *in_v = malloc(ni * sizeof *in_v), *out_v = malloc(no * sizeof *out_v);
    ch_addr_id *in_a = malloc(ni * sizeof *in_a);
    if (!in_v || !out_v || !in_a) {
        free(in_v);
        free(out_v);
        free(in_a);
        return ch_err(err, "coinjoin: out of memory for tx %llu", (unsigned long long)tx);
    }
    bool coinbase = false;
    for (uint64_t i = 0; i < ni; i++) {
        int64_t o = ch_store_input_spent_output(s, fi + i);
        if (o < 0) {
            coinbase = true;
            break;
        }
        const ch_out_rec *r = ch_store_output(s, (uint64_t)o);
        in_v[i] = CH_OUT_VALUE(r);
        in_a[i] = ch_out_addr(r);
    }
    for (uint64_t j = 0; j < no; j++)
        out_v[j] = CH_OUT_VALUE(ch_store_output(s, fo + j));
    int rc = 0;
    if (!coinbase) {
        ch_tx_shape t = {ni, in_v, in_a, no, out_v};
        cl_scratch sc = {0};
        unsigned mask;
        if (cl_coinjoin_rules(&t, &sc, &mask) != 0)
            rc = ch_err(err, "coinjoin: out of memory for tx %llu", (unsigned long long)tx);
        else
            *rule = cl_pick_rule(mask);
        cl_scratch_free(&sc);
    }
    free(in_v);
    free(out_v);
    free(in_a);
    return rc;
}
