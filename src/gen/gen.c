/* The generator's driver: plan the chain, create the wallets, then build
 * block after block (traffic, theft stages, coinbase, stale siblings) and
 * hand them to the writer; finally the side files. */
#include "gen_internal.h"

#include <stdlib.h>
#include <string.h>

#include "coinhound/address.h"
#include "coinhound/btc.h"
#include "util/vec.h"

#define BTC             100000000ULL
#define GENESIS_TIME    1700000000u /* November 2023: an arbitrary fixed start */
#define HALVING         210000u
#define MAX_TXS_PER_BLK 20000u

static const char *const ENTITY[GEN_SERVICES] = {"Northwind Exchange", "Harborview Exchange",
                                                 "Quarry Exchange", "Tumbleweed Mixer"};
static const char *const CATEGORY[GEN_SERVICES] = {"exchange", "exchange", "exchange", "mixer"};
static const gen_stype DEPOSIT_TYPE[GEN_SERVICES] = {ST_P2WPKH, ST_P2SH_P2WPKH, ST_P2PKH,
                                                     ST_P2WPKH};
static const gen_stype HOT_TYPE[GEN_SERVICES] = {ST_P2WPKH, ST_P2SH_MULTI, ST_P2WSH_MULTI, ST_P2TR};
static const gen_stype MINER_TYPE[3] = {ST_P2WPKH, ST_P2PKH, ST_P2SH_MULTI};

void ch_gen_opts_init(ch_gen_opts *o) {
    memset(o, 0, sizeof *o);
    o->seed = 1;
    o->txs_per_block = CH_GEN_DEFAULT_TXS_PER_BLOCK;
    o->maturity = CH_GEN_DEFAULT_MATURITY;
    o->max_file_size = CH_GEN_DEFAULT_MAX_FILE;
    o->shuffle_window = CH_GEN_DEFAULT_SHUFFLE_WIN;
}

/* --- the plan: how many blocks and how many transactions in each -------- */

typedef struct plan {
    uint32_t first_traffic; /* heights below hold only a coinbase */
    uint32_t blocks;        /* planned best-chain length */
    uint64_t txs;           /* wanted non-coinbase txs, 0 = as they come */
    bool fixed_blocks;
    uint32_t *stale_h; /* sorted heights that get a stale sibling */
    uint32_t n_stale;
} plan;

static int make_plan(const ch_gen_opts *o, plan *p, ch_error *err) {
    memset(p, 0, sizeof *p);
    if (!o->out_dir || !*o->out_dir) return ch_err(err, "no output directory given");
    if (o->txs_per_block == 0 || o->txs_per_block > MAX_TXS_PER_BLK)
        return ch_err(err, "transactions per block must be 1..%u", MAX_TXS_PER_BLK);
    if (o->max_file_size < CH_GEN_MIN_FILE_SIZE || o->max_file_size > UINT32_MAX)
        return ch_err(err, "max file size must be %u..%u bytes", CH_GEN_MIN_FILE_SIZE, UINT32_MAX);
    if (o->maturity > 100000) return ch_err(err, "maturity %u is unreasonably large", o->maturity);
    p->first_traffic = o->maturity + 1;
    p->txs = o->txs;
    if (o->blocks) {
        if (o->txs && o->blocks <= p->first_traffic)
            return ch_err(err,
                          "%u blocks leave no room for transactions: the first %u hold only "
                          "coinbases (maturity %u)",
                          o->blocks, p->first_traffic, o->maturity);
        p->blocks = o->blocks;
        p->fixed_blocks = true;
    } else {
        if (!p->txs) p->txs = CH_GEN_DEFAULT_TXS;
        uint64_t need = (p->txs + o->txs_per_block - 1) / o->txs_per_block;
        if (need > UINT32_MAX - p->first_traffic) return ch_err(err, "too many transactions");
        p->blocks = p->first_traffic + (uint32_t)need;
    }
    if (o->stale && p->blocks < 3) return ch_err(err, "stale blocks need a chain of 3 blocks");
    return 0;
}

/* Stale heights come from the layout stream: they never change the best
 * chain. A stale block at height h shares the parent of the best block h;
 * never at the tip, where it would tie with the best chain. */
static int plan_stale(plan *p, uint32_t n, gen_rng *layout) {
    if (!n) return 0;
    p->stale_h = malloc(n * sizeof *p->stale_h);
    if (!p->stale_h) return -1;
    for (uint32_t i = 0; i < n; i++)
        p->stale_h[i] = 1 + (uint32_t)gen_rng_below(layout, p->blocks - 2);
    for (uint32_t i = 1; i < n; i++) /* insertion sort: n is small */
        for (uint32_t j = i; j > 0 && p->stale_h[j - 1] > p->stale_h[j]; j--) {
            uint32_t x = p->stale_h[j];
            p->stale_h[j] = p->stale_h[j - 1];
            p->stale_h[j - 1] = x;
        }
    p->n_stale = n;
    return 0;
}

/* Transactions wanted in block h, given how many were made so far. */
static uint32_t block_target(const ch_gen_opts *o, const plan *p, uint32_t h, uint64_t made) {
    if (h < p->first_traffic) return 0;
    if (!p->txs) return o->txs_per_block;
    if (made >= p->txs) return 0;
    uint64_t left = p->txs - made;
    if (p->fixed_blocks) {
        uint64_t blocks_left = p->blocks - h;
        uint64_t n = (left + blocks_left - 1) / blocks_left;
        return n > MAX_TXS_PER_BLK ? MAX_TXS_PER_BLK : (uint32_t)n;
    }
    return left < o->txs_per_block ? (uint32_t)left : o->txs_per_block;
}

/* --- wallets ------------------------------------------------------------ */

/* Script types of user wallets, per mille: roughly today's mix of outputs. */
static gen_stype user_type(gen_rng *r) {
    static const struct {
        gen_stype t;
        unsigned upto;
    } MIX[] = {{ST_P2WPKH, 420},     {ST_P2PKH, 610},      {ST_P2SH_P2WPKH, 730},
               {ST_P2SH_MULTI, 770}, {ST_P2TR, 900},       {ST_P2WSH_MULTI, 960},
               {ST_P2PK, 980},       {ST_BARE_MULTI, 1000}};
    uint64_t x = gen_rng_below(r, 1000);
    for (size_t i = 0; i < sizeof MIX / sizeof *MIX; i++)
        if (x < MIX[i].upto) return MIX[i].t;
    return ST_P2WPKH;
}

static int make_wallets(gen *g, const plan *p) {
    for (unsigned s = 0; s < GEN_SERVICES; s++) {
        gen_service *v = &g->svc[s];
        v->entity = ENTITY[s];
        v->category = CATEGORY[s];
        v->deposit_w = gen_wallet_new(g, R_DEPOSIT, DEPOSIT_TYPE[s]);
        v->hot_w = gen_wallet_new(g, R_HOT, HOT_TYPE[s]);
        g->w[v->deposit_w].service = g->w[v->hot_w].service = (uint8_t)s;
        for (int k = 0; k < 2; k++) {
            v->hot_key[k] = gen_new_key(g);
            gen_label_add(g, s, HOT_TYPE[s], v->hot_key[k]);
        }
    }
    for (int m = 0; m < 3; m++) {
        g->miner_w[m] = gen_wallet_new(g, R_MINER, MINER_TYPE[m]);
        g->miner_key[m] = gen_new_key(g);
    }
    /* About one user per six transactions: most users appear a few times. */
    uint64_t expect = p->txs ? p->txs : (uint64_t)p->blocks * g->o->txs_per_block;
    uint64_t users = expect / 6;
    if (users < 64) users = 64;
    if (users > 4000000) users = 4000000;
    g->n_users = (uint32_t)users;
    g->first_user = g->n_w;
    for (uint32_t i = 0; i < g->n_users; i++)
        gen_wallet_new(g, R_USER, user_type(&g->rng));
    g->dep_key = calloc((size_t)g->n_users * GEN_SERVICES, sizeof *g->dep_key);
    return g->dep_key ? 0 : -1;
}

/* --- blocks ------------------------------------------------------------- */

static uint64_t subsidy(uint32_t h) {
    return h / HALVING >= 64 ? 0 : (50 * BTC) >> (h / HALVING);
}

static uint64_t block_fees(const gen *g, uint32_t n) {
    uint64_t f = 0;
    for (uint32_t i = 0; i < n; i++)
        f += g->btx[i].fee;
    return f;
}

static void traffic(gen *g, uint32_t n) {
    uint32_t payout_at = n ? (uint32_t)gen_rng_below(&g->rng, n) : 0;
    uint32_t theft_at = n ? (uint32_t)gen_rng_below(&g->rng, n) : 0;
    bool theft_now = gen_theft_due(g);
    uint32_t fails = 0;
    for (uint32_t slot = 0; slot < n && fails < 64;) {
        if (theft_now && slot >= theft_at) {
            uint32_t before = g->n_btx;
            gen_theft_run_due(g);
            theft_now = false;
            slot += g->n_btx - before;
            continue;
        }
        /* Each block a pool pays out what it mined, keeping money moving. */
        bool ok = slot == payout_at && gen_miner_payout(g);
        if (!ok) ok = gen_traffic_tx(g);
        if (ok) {
            slot++;
            fails = 0;
        } else {
            fails++;
        }
    }
    if (theft_now) gen_theft_run_due(g);
}

/* Who the coinbase pays: the pools by hash share, or the theft's treasury
 * in blocks 2..6. */
static void coinbase_payee(gen *g, uint32_t h, uint32_t *wallet, gen_stype *type, uint64_t *key) {
    if (g->theft.on && h >= 2 && h <= 6) {
        *wallet = g->theft.treasury_w;
        *type = ST_P2SH_MULTI;
        *key = gen_new_key(g);
        return;
    }
    uint64_t r = gen_rng_below(&g->rng, 100);
    int m = r < 45 ? 0 : r < 80 ? 1 : 2;
    *wallet = g->miner_w[m];
    *type = MINER_TYPE[m];
    *key = g->miner_key[m];
}

static void count_block(gen *g, bool commitment, gen_stype payee) {
    g->st.blocks++;
    g->st.txs += 1 + g->n_btx;
    g->st.inputs += 1;
    g->st.outputs += commitment ? 2 : 1;
    g->st.outputs_by_type[gen_stype_model(payee)]++;
    if (commitment) g->st.outputs_by_type[CH_SCRIPT_NULLDATA]++;
}

static bool any_witness(const gen *g, uint32_t n) {
    for (uint32_t i = 0; i < n; i++)
        if (g->btx[i].witness) return true;
    return false;
}

/* A block that lost the race: same parent and a prefix of the same
 * transactions (miners share a mempool), another coinbase. Built only from
 * the layout stream so the best chain is the same with or without it. */
static int stale_sibling(gen *g, gen_writer *wr, gen_rng *layout, const ch_hash256 *prev,
                         uint32_t time, gen_buf *out, ch_error *err) {
    uint32_t n = (uint32_t)gen_rng_below(layout, (g->n_btx < 5 ? g->n_btx : 5) + 1);
    uint64_t key = gen_rng_next(layout) | (1ULL << 63); /* never a counter key */
    ch_hash256 hash, cb_txid;
    gen_block_assemble(g, out, prev, time + (uint32_t)gen_rng_range(layout, 1, 60), n,
                       subsidy(g->height) + block_fees(g, n), ST_P2WPKH, key, gen_rng_next(layout),
                       &cb_txid, &hash);
    g->st.stale_blocks++;
    return gen_writer_block(wr, out->p, out->len, g->o->shuffle, err);
}

/* Assemble the next block: mature coinbases join their wallets, the theft's
 * stage and the traffic fill it, then the header is mined and the block
 * written (stale forks beside it as planned). */
static int build_block(gen *g, gen_writer *wr, gen_rng *layout, plan *p, uint32_t *stale_i,
                       ch_hash256 *prev, uint32_t n, gen_buf *out, ch_error *err) {
    uint32_t h = g->height;
    g->txs.len = 0;
    g->n_btx = 0;
    /* A coinbase becomes spendable `maturity` blocks after its own. */
    if (h > g->o->maturity && g->cb_utxo[h - g->o->maturity] != GEN_NONE)
        gen_wallet_add(g, g->cb_utxo[h - g->o->maturity]);
    if (h >= p->first_traffic) traffic(g, n);

    uint32_t wallet = GEN_NONE;
    gen_stype type = ST_P2PK;
    uint64_t key = 0;
    if (h == 0)
        key = gen_new_key(g); /* genesis pays a bare public key, like Bitcoin's */
    else
        coinbase_payee(g, h, &wallet, &type, &key);
    uint64_t value = subsidy(h) + block_fees(g, g->n_btx);
    uint32_t time = GENESIS_TIME + h * 600 + (uint32_t)gen_rng_below(&g->rng, 500);
    ch_hash256 hash, cb_txid;
    gen_block_assemble(g, out, prev, time, g->n_btx, value, type, key, gen_rng_next(&g->rng),
                       &cb_txid, &hash);
    count_block(g, any_witness(g, g->n_btx), type);
    /* As in Bitcoin, the genesis output never enters the UTXO set. */
    g->cb_utxo[h] = GEN_NONE;
    if (h > 0) {
        uint32_t u = gen_utxo_alloc(g);
        g->ut[u] = (gen_utxo){.txid = cb_txid,
                              .value = value,
                              .key = key,
                              .vout = 0,
                              .wallet = wallet,
                              .wpos = GEN_NONE,
                              .ppos = GEN_NONE,
                              .height = h,
                              .type = (uint8_t)type,
                              .flags = UF_COINBASE};
        g->cb_utxo[h] = u;
    }
    if (gen_writer_block(wr, out->p, out->len, g->o->shuffle && h > 0, err) != 0) return -1;
    ch_hash256 parent = *prev;
    *prev = hash;
    g->st.tip = hash;
    for (; *stale_i < p->n_stale && p->stale_h[*stale_i] == h; (*stale_i)++)
        if (stale_sibling(g, wr, layout, &parent, time, out, err) != 0) return -1;
    return 0;
}

static int grow_cb(gen *g, uint32_t h) {
    if (h < g->cap_cb) return 0;
    size_t cap = g->cap_cb;
    uint32_t *p = ch_grow(g->cb_utxo, &cap, (size_t)h + 1, sizeof *p); /* util/vec.h */
    if (!p) return -1;
    g->cb_utxo = p;
    g->cap_cb = cap > UINT32_MAX ? UINT32_MAX : (uint32_t)cap;
    return 0;
}

/* --- labels.csv --------------------------------------------------------- */

static int write_labels(gen *g, ch_error *err) {
    size_t n = strlen(g->o->out_dir) + 16;
    char *path = malloc(n);
    if (!path) return ch_err(err, "out of memory");
    snprintf(path, n, "%s/labels.csv", g->o->out_dir);
    FILE *f = fopen(path, "w");
    if (!f) {
        ch_err(err, "cannot create %s", path);
        free(path);
        return -1;
    }
    fputs("address,category,entity\n", f);
    for (uint32_t i = 0; i < g->n_labels; i++) {
        const gen_label *l = &g->labels[i];
        ch_addr a;
        char s[CH_ADDR_STR_MAX];
        gen_key_addr(g->key_seed, l->type, l->key, &a);
        if (ch_addr_to_string(&a, GEN_ADDR_NET, s) != 0) continue;
        fprintf(f, "%s,%s,%s\n", s, g->svc[l->service].category, g->svc[l->service].entity);
        g->st.labels++;
    }
    int rc = fclose(f) == 0 ? 0 : ch_err(err, "cannot write %s", path);
    free(path);
    return rc;
}

/* --- the run ------------------------------------------------------------ */

static void gen_free(gen *g) {
    for (uint32_t i = 0; i < g->n_w; i++)
        free(g->w[i].u);
    free(g->w);
    free(g->ut);
    free(g->free_ut);
    free(g->pool);
    free(g->dep_key);
    free(g->labels);
    free(g->btx);
    free(g->tb.in);
    free(g->tb.out);
    free(g->cb_utxo);
    free(g->hashes);
    gen_buf_free(&g->txs);
    gen_buf_free(&g->scratch);
}

/* --- extending a folder (gen.params) -------------------------------------
 * What a later --extend needs to build the same chain again: the options
 * that shape its content, the block count of the first run (below it the
 * plan decides how many transactions a block holds, above it
 * txs_per_block), the best chain's length now, and every reorg made (the
 * height it replaced from and the salt its branch's content is drawn
 * with). */

#define MAX_FORKS 256

typedef struct gen_fork {
    uint32_t height;
    uint64_t salt;
} gen_fork;

typedef struct gen_params {
    ch_gen_opts o; /* the options recorded */
    uint32_t base, best;
    gen_fork fork[MAX_FORKS];
    uint32_t n_fork;
} gen_params;

static char *side_path(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static int write_params(const ch_gen_opts *o, const gen_params *gp, ch_error *err) {
    char *path = side_path(o->out_dir, "gen.params");
    FILE *f = path ? fopen(path, "w") : NULL;
    if (!f) {
        free(path);
        return ch_err(err, "cannot write %s/gen.params", o->out_dir);
    }
    const ch_gen_opts *r = &gp->o;
    fprintf(f,
            "coinhound-gen-params 1\nseed %llu\ntxs %llu\nblocks %u\ntxs_per_block %u\n"
            "maturity %u\nmax_file_size %llu\ntheft %d\nbase %u\nbest %u\nforks %u\n",
            (unsigned long long)r->seed, (unsigned long long)r->txs, r->blocks, r->txs_per_block,
            r->maturity, (unsigned long long)r->max_file_size, r->theft ? 1 : 0, gp->base, gp->best,
            gp->n_fork);
    for (uint32_t i = 0; i < gp->n_fork; i++)
        fprintf(f, "fork %u %llu\n", gp->fork[i].height, (unsigned long long)gp->fork[i].salt);
    int rc = fclose(f) == 0 ? 0 : ch_err(err, "cannot write %s", path);
    free(path);
    return rc;
}

/* gen.params back into options, the first run's block count, the best
 * chain's length and the reorgs made: what rebuilding the same chain needs. */
static int read_params(const char *dir, gen_params *gp, ch_error *err) {
    char *path = side_path(dir, "gen.params");
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f) {
        int rc = ch_err(err,
                        "%s/gen.params: cannot read it (a folder to extend must have been "
                        "written by coinhound-gen)",
                        dir);
        free(path);
        return rc;
    }
    memset(gp, 0, sizeof *gp);
    ch_gen_opts_init(&gp->o);
    unsigned long long seed, txs, maxf;
    int theft;
    bool ok = fscanf(f,
                     "coinhound-gen-params 1 seed %llu txs %llu blocks %u txs_per_block %u "
                     "maturity %u max_file_size %llu theft %d base %u best %u forks %u",
                     &seed, &txs, &gp->o.blocks, &gp->o.txs_per_block, &gp->o.maturity, &maxf,
                     &theft, &gp->base, &gp->best, &gp->n_fork) == 10 &&
              gp->n_fork <= MAX_FORKS && gp->best > 0;
    for (uint32_t i = 0; ok && i < gp->n_fork; i++) {
        unsigned long long salt;
        ok = fscanf(f, " fork %u %llu", &gp->fork[i].height, &salt) == 2;
        gp->fork[i].salt = salt;
    }
    fclose(f);
    gp->o.seed = seed;
    gp->o.txs = txs;
    gp->o.max_file_size = maxf;
    gp->o.theft = theft != 0;
    int rc = ok ? 0 : ch_err(err, "%s: not a coinhound-gen parameter file", path);
    free(path);
    return rc;
}

/* The content stream from height h on: the seed's, or a reorg's branch. */
static void maybe_fork(gen *g, const gen_params *gp, uint32_t h) {
    for (uint32_t i = 0; gp && i < gp->n_fork; i++)
        if (gp->fork[i].height == h)
            gen_rng_seed(&g->rng, g->o->seed ^ (gp->fork[i].salt * 0x9e3779b97f4a7c15ULL));
}

static bool more_blocks(const gen *g, const plan *p, uint32_t h) {
    if (p->fixed_blocks || h < p->blocks) return h < p->blocks;
    /* Not all slots could be filled (money still spreading): keep going,
     * but not forever. */
    uint64_t made = g->st.txs - g->st.blocks;
    return made < p->txs && h < p->blocks + p->blocks / 2 + 100;
}

/* gp: extending (the blocks below gp->best - reorg depth are rebuilt, not
 * written; the chain ends at gp->best + extend_blocks). */
static int run(gen *g, plan *p, gen_writer *wr, gen_rng *layout, const gen_params *gp,
               ch_error *err) {
    if (make_wallets(g, p) != 0) return ch_err(err, "out of memory");
    if (g->o->theft && gen_theft_plan(g, p->first_traffic, p->blocks - 1, err) != 0) return -1;
    ch_hash256 prev;
    memset(&prev, 0, sizeof prev);
    gen_buf out = {0};
    uint32_t stale_i = 0;
    int rc = 0;
    uint32_t end = gp ? gp->best + g->o->extend_blocks : 0;
    uint32_t write_from = gp ? gp->best - g->o->reorg_depth : 0;
    for (uint32_t h = 0; rc == 0 && (gp ? h < end : more_blocks(g, p, h)); h++) {
        if (grow_cb(g, h) != 0) {
            rc = ch_err(err, "out of memory");
            break;
        }
        g->height = h;
        maybe_fork(g, gp, h);
        wr->skip = gp && h < write_from;
        uint32_t n = gp && h >= gp->base ? g->o->txs_per_block
                                         : block_target(g->o, p, h, g->st.txs - g->st.blocks);
        rc = build_block(g, wr, layout, p, &stale_i, &prev, n, &out, err);
    }
    gen_buf_free(&out);
    if (rc == 0) rc = gen_writer_finish(wr, err);
    if (rc == 0) rc = write_labels(g, err);
    if (rc == 0) rc = gen_theft_write(g, err);
    return rc;
}

static int gen_main(const ch_gen_opts *o, gen_params *gp, ch_gen_stats *stats, ch_error *err);

int ch_gen_run(const ch_gen_opts *o, ch_gen_stats *stats, ch_error *err) {
    gen_params *gp = calloc(1, sizeof *gp);
    if (!gp) return ch_err(err, "out of memory");
    int rc = 0;
    if (o->extend) {
        if (!o->out_dir) rc = ch_err(err, "no folder to extend");
        if (rc == 0) rc = read_params(o->out_dir, gp, err);
        if (rc == 0 && o->extend_blocks == 0)
            rc = ch_err(err, "extending needs a number of blocks (1 or more)");
        if (rc == 0 && (o->reorg_depth >= gp->best || gp->n_fork >= MAX_FORKS))
            rc = ch_err(err, "a reorg of %u blocks needs a chain longer than that (it has %u)",
                        o->reorg_depth, gp->best);
        if (rc == 0 && gp->best > UINT32_MAX - o->extend_blocks)
            rc = ch_err(err, "too many blocks");
        if (rc == 0) {
            ch_gen_opts eo = gp->o;
            eo.out_dir = o->out_dir;
            eo.extend = true;
            eo.extend_blocks = o->extend_blocks;
            eo.reorg_depth = o->reorg_depth;
            if (o->reorg_depth)
                gp->fork[gp->n_fork++] =
                    (gen_fork){gp->best - o->reorg_depth, (uint64_t)gp->n_fork + 1};
            rc = gen_main(&eo, gp, stats, err);
        }
    } else {
        rc = gen_main(o, NULL, stats, err);
    }
    free(gp);
    return rc;
}

/* One generator run: plan, wallets, blocks, side files; gp non-NULL
 * extends the chain gp describes (blocks below the new ones rebuilt, not
 * written) and gets its new length. */
static int gen_main(const ch_gen_opts *o, gen_params *gp, ch_gen_stats *stats, ch_error *err) {
    plan p;
    if (make_plan(o, &p, err) != 0) return -1;
    gen *g = calloc(1, sizeof *g);
    if (!g) return ch_err(err, "out of memory");
    g->o = o;
    gen_rng_seed(&g->rng, o->seed);
    /* A second stream for layout, so xor/shuffle/stale never change the
     * chain itself. */
    gen_rng layout;
    gen_rng_seed(&layout, o->seed ^ 0x6c61796f75742121ULL);
    g->key_seed = gen_rng_next(&g->rng);

    gen_writer wr;
    int rc = 0;
    if (gp) {
        rc = gen_writer_open_append(&wr, o, err);
    } else {
        rc = plan_stale(&p, o->stale, &layout) != 0 ? ch_err(err, "out of memory") : 0;
        if (rc == 0) rc = gen_writer_open(&wr, o, &layout, err);
    }
    if (rc == 0) rc = run(g, &p, &wr, &layout, gp, err);
    g->st.bytes = wr.bytes;
    g->st.files = wr.files;
    if (rc == 0) {
        gen_params fresh;
        if (!gp) {
            memset(&fresh, 0, sizeof fresh);
            fresh.o = *o;
            fresh.base = g->st.blocks;
            gp = &fresh;
        }
        gp->best = g->st.blocks;
        rc = write_params(o, gp, err);
    }
    if (rc == 0 && stats) *stats = g->st;
    gen_writer_free(&wr);
    free(p.stale_h);
    gen_free(g);
    free(g);
    return rc;
}
