/* Header rules: proof of work and difficulty retargeting, per network, as
 * Bitcoin Core's pow.cpp states them (GetNextWorkRequired,
 * CalculateNextWorkRequired, CheckProofOfWork). What a header alone and its
 * ancestors' headers can prove is checked here; transactions are the
 * parser's (merkle root, witness commitment). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "chains/btc/btc_internal.h"

#define INTERVAL     2016u    /* blocks between retargets */
#define TIMESPAN     1209600u /* two weeks, the period's intended length */
#define SPACING      600u     /* ten minutes a block */
#define MAX_TIMEWARP 600u     /* BIP94: a period's first block may go back this far */
#define ALL_ONES     UINT64_MAX

typedef struct net_rules {
    const char *name;
    btc_u256 limit;      /* the easiest target allowed */
    bool min_difficulty; /* a block 20 minutes after its parent may use the limit */
    bool no_retarget;    /* regtest: bits never change */
    bool bip94;          /* testnet4: retarget from the period's first block; timewarp rule */
} net_rules;

static const net_rules RULES[CH_BTC_NET_COUNT] = {
    [CH_BTC_NET_MAIN] =
        {"mainnet", {{ALL_ONES, ALL_ONES, ALL_ONES, 0x00000000ffffffffULL}}, false, false, false},
    [CH_BTC_NET_TESTNET3] =
        {"testnet3", {{ALL_ONES, ALL_ONES, ALL_ONES, 0x00000000ffffffffULL}}, true, false, false},
    [CH_BTC_NET_TESTNET4] =
        {"testnet4", {{ALL_ONES, ALL_ONES, ALL_ONES, 0x00000000ffffffffULL}}, true, false, true},
    [CH_BTC_NET_SIGNET] = {"signet", {{0, 0, 0, 0x00000377ae000000ULL}}, false, false, false},
    [CH_BTC_NET_REGTEST] =
        {"regtest", {{ALL_ONES, ALL_ONES, ALL_ONES, 0x7fffffffffffffffULL}}, true, true, false},
};

/* The bits a retarget gives at height h (h % INTERVAL == 0, h >= INTERVAL). */
static uint32_t retarget(const net_rules *r, const ch_blk_chain *c, size_t h) {
    size_t first = h - INTERVAL, last = h - 1;
    int64_t span =
        (int64_t)ch_blk_chain_rec(c, last)->time - (int64_t)ch_blk_chain_rec(c, first)->time;
    if (span < TIMESPAN / 4) span = TIMESPAN / 4;
    if (span > (int64_t)TIMESPAN * 4) span = (int64_t)TIMESPAN * 4;
    btc_u256 t;
    /* the base was checked when its block was: it is a valid target */
    (void)btc_target_from_bits(
        r->bip94 ? ch_blk_chain_rec(c, first)->bits : ch_blk_chain_rec(c, last)->bits, &t);
    btc_u256_mul32(&t, (uint32_t)span);
    btc_u256_div32(&t, TIMESPAN);
    if (btc_u256_cmp(&t, &r->limit) > 0) t = r->limit;
    return btc_bits_from_target(&t);
}

/* The bits block h must carry. eff is the bits of the last block before h
 * that starts a period or is not at the minimum difficulty (testnets). */
static uint32_t expected_bits(const net_rules *r, const ch_blk_chain *c, size_t h, uint32_t eff,
                              uint32_t limit_bits) {
    if (h % INTERVAL != 0) {
        if (!r->min_difficulty) return ch_blk_chain_rec(c, h - 1)->bits;
        if ((int64_t)ch_blk_chain_rec(c, h)->time >
            (int64_t)ch_blk_chain_rec(c, h - 1)->time + 2 * SPACING)
            return limit_bits;
        return eff;
    }
    if (r->no_retarget || h < INTERVAL) return ch_blk_chain_rec(c, h - 1)->bits;
    return retarget(r, c, h);
}

/* The median time of the 11 blocks before h (fewer near genesis): a
 * block's time must be past it (Core's "time-too-old"). */
static uint32_t median_time_past(const ch_blk_chain *c, size_t h) {
    uint32_t t[11];
    size_t n = 0;
    for (size_t k = h; k > 0 && n < 11; k--)
        t[n++] = ch_blk_chain_rec(c, k - 1)->time;
    for (size_t i = 1; i < n; i++) /* insertion sort of at most 11 */
        for (size_t j = i; j > 0 && t[j - 1] > t[j]; j--) {
            uint32_t x = t[j];
            t[j] = t[j - 1];
            t[j - 1] = x;
        }
    return t[n / 2];
}

static int refuse(const ch_blkdir *d, const ch_blk_chain *c, size_t h, ch_error *err,
                  const char *why) {
    char hex[65];
    const ch_blk_rec *r = ch_blk_chain_rec(c, h);
    ch_hash256_to_hex(&r->hash, hex);
    const char *path = d ? ch_blkdir_path(d, r->file_no) : NULL;
    return ch_err(err, "%s offset %" PRIu64 ": block %s at height %zu: %s", path ? path : "?",
                  r->offset, hex, h, why);
}

int ch_blk_chain_check(const ch_blkdir *d, const ch_blk_chain *c, ch_error *err) {
    ch_btc_net net = btc_blkdir_net(d);
    if (c->n == 0) return 0;
    if (net >= CH_BTC_NET_COUNT) return ch_err(err, "%s: network unknown", btc_blkdir_dir(d));
    return btc_chain_check(net, c, d, err);
}

int ch_btc_chain_check_net(ch_btc_net net, const ch_blk_chain *c, ch_error *err) {
    return c->n ? btc_chain_check(net, c, NULL, err) : 0;
}

int ch_btc_chain_check_from_net(ch_btc_net net, const ch_blk_chain *c, size_t from, ch_error *err) {
    return c->n ? btc_chain_check_from(net, c, NULL, from, err) : 0;
}

int btc_chain_check(ch_btc_net net, const ch_blk_chain *c, const ch_blkdir *d, ch_error *err) {
    return btc_chain_check_from(net, c, d, 0, err);
}

int btc_chain_check_from(ch_btc_net net, const ch_blk_chain *c, const ch_blkdir *d, size_t from,
                         ch_error *err) {
    if (net >= CH_BTC_NET_COUNT) return ch_err(err, "network unknown");
    const net_rules *r = &RULES[net];
    uint32_t limit_bits = btc_bits_from_target(&r->limit), eff = 0;
    char why[160];
    /* eff as the loop below would have left it at `from` */
    for (size_t k = from < c->n ? from : c->n; k-- > 0;)
        if (k == 0 || k % INTERVAL == 0 || ch_blk_chain_rec(c, k)->bits != limit_bits) {
            eff = ch_blk_chain_rec(c, k)->bits;
            break;
        }
    for (size_t h = from; h < c->n; h++) {
        uint32_t bits = ch_blk_chain_rec(c, h)->bits;
        btc_u256 target, hash;
        if (btc_target_from_bits(bits, &target) != 0) {
            snprintf(why, sizeof why, "bits 0x%08x is not a valid target", bits);
            return refuse(d, c, h, err, why);
        }
        if (btc_u256_cmp(&target, &r->limit) > 0) {
            snprintf(why, sizeof why, "bits 0x%08x is easier than %s allows (0x%08x)", bits,
                     r->name, limit_bits);
            return refuse(d, c, h, err, why);
        }
        btc_u256_from_hash(&hash, &ch_blk_chain_rec(c, h)->hash);
        if (btc_u256_cmp(&hash, &target) > 0) {
            snprintf(why, sizeof why,
                     "its hash is above the target its bits 0x%08x claim: no proof of work", bits);
            return refuse(d, c, h, err, why);
        }
        if (h > 0) {
            uint32_t want = expected_bits(r, c, h, eff, limit_bits);
            if (bits != want) {
                snprintf(why, sizeof why, "bits 0x%08x, but %s's retarget rules give 0x%08x", bits,
                         r->name, want);
                return refuse(d, c, h, err, why);
            }
            uint32_t mtp = median_time_past(c, h);
            if (ch_blk_chain_rec(c, h)->time <= mtp) {
                snprintf(why, sizeof why,
                         "its time %u is not past the median time %u of the 11 blocks before it",
                         ch_blk_chain_rec(c, h)->time, mtp);
                return refuse(d, c, h, err, why);
            }
            if (r->bip94 && h % INTERVAL == 0 &&
                (int64_t)ch_blk_chain_rec(c, h)->time <
                    (int64_t)ch_blk_chain_rec(c, h - 1)->time - MAX_TIMEWARP)
                return refuse(d, c, h, err,
                              "a period's first block more than 10 minutes before its parent "
                              "(BIP94 timewarp rule)");
        }
        if (h == 0 || h % INTERVAL == 0 || bits != limit_bits) eff = bits;
    }
    return 0;
}

int ch_btc_work_cmp(const uint32_t *bits_a, size_t n_a, const uint32_t *bits_b, size_t n_b) {
    btc_u256 sum[2] = {{{0}}, {{0}}}, w;
    const uint32_t *bits[2] = {bits_a, bits_b};
    size_t n[2] = {n_a, n_b};
    for (int k = 0; k < 2; k++) {
        uint32_t last = 0;
        for (size_t i = 0; i < n[k]; i++) {
            if (i == 0 || bits[k][i] != last) btc_header_work(bits[k][i], &w);
            last = bits[k][i];
            btc_u256_add(&sum[k], &w);
        }
    }
    return btc_u256_cmp(&sum[0], &sum[1]);
}
