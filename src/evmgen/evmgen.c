/* The EVM generator's driver: accounts, then block after block (beacon
 * withdrawals, due sweeps, poisonings and theft stages, traffic), then the
 * side files labels.csv, tokens.csv and theft.json. */
#include "evg_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "coinhound/chainaddr.h"
#include "coinhound/hash.h"
#include "coinhound/jsonw.h"

#define START_TIME      1718000000u /* June 2024, after Cancun */
#define MAX_TPB         5000u
#define MAX_USERS       (1u << 21)
#define FAUCET_GWEI     20000000000000000ULL /* 20M ETH: the funding of everything */
#define DEFAULT_BASEFEE (12 * (u128)GWEI)

void ch_evmgen_opts_init(ch_evmgen_opts *o) {
    memset(o, 0, sizeof *o);
    o->seed = 1;
    o->txs_per_block = CH_EVMGEN_DEFAULT_TXS_PER_BLOCK;
    o->chain_id = CH_EVMGEN_DEFAULT_CHAIN_ID;
    o->first_block = CH_EVMGEN_DEFAULT_FIRST_BLOCK;
}

static int check_opts(const ch_evmgen_opts *o, ch_error *err) {
    if (!o->out_dir || !*o->out_dir) return ch_err(err, "no output directory given");
    if (o->txs_per_block == 0 || o->txs_per_block > MAX_TPB)
        return ch_err(err, "transactions per block must be 1..%u", MAX_TPB);
    if (o->chain_id == 0) return ch_err(err, "the chain id must not be 0");
    if (o->blocks && o->blocks < 3) return ch_err(err, "need at least 3 blocks");
    if (o->theft && o->blocks && o->blocks < CH_EVMGEN_MIN_THEFT_BLOCKS)
        return ch_err(err, "--theft needs at least %u blocks", CH_EVMGEN_MIN_THEFT_BLOCKS);
    if (o->first_block > UINT64_MAX / 2) return ch_err(err, "first block number too large");
    return 0;
}

/* The generated chain's cast, created first so every run of a seed numbers
 * them alike: the fixed roles (zero address, faucet, treasury, deployer,
 * relayer, bot, miners), the exchanges' hot wallets (labelled), the token
 * contracts at their mainnet addresses, and the users, a fifth of them a
 * second address of the customer before (what deposit clustering finds). */
static void init_accounts(evg *g) {
    static const uint8_t ZERO[20] = {0};
    g->zero = evg_acct_at(g, RO_ZERO, ZERO);
    g->faucet = evg_acct_new(g, RO_FAUCET);
    g->treasury = evg_acct_new(g, RO_TREASURY);
    g->deployer = evg_acct_new(g, RO_DEPLOYER);
    g->relayer = evg_acct_new(g, RO_RELAYER);
    g->bot = evg_acct_new(g, RO_BOT);
    for (unsigned i = 0; i < 4; i++)
        g->miner[i] = evg_acct_new(g, RO_MINER);
    for (unsigned ex = 0; ex < N_EX; ex++) {
        g->hot[ex] = evg_acct_new(g, RO_HOT);
        g->a[g->hot[ex]].ex = (uint8_t)ex;
        evg_label(g, g->hot[ex], "exchange", evg_ex_entity(ex));
    }
    for (unsigned tk = 0; tk < TK_COUNT; tk++) {
        if (!EVG_TOKENS[tk].mainnet) continue; /* deployed by the setup block */
        uint8_t addr[20];
        ch_hex_decode(EVG_TOKENS[tk].mainnet, 40, addr, 20);
        g->token[tk] = evg_acct_at(g, RO_CONTRACT, addr);
    }
    /* about one user per eight transactions; a fifth of users are a second
     * or third address of the customer before them (they share deposit
     * addresses, which is what the deposit-address heuristic finds) */
    uint64_t n = (uint64_t)g->plan_blocks * g->o->txs_per_block / 8;
    if (n < 200) n = 200;
    if (n > MAX_USERS) n = MAX_USERS;
    g->n_users = (uint32_t)n;
    g->first_user = g->n_a;
    g->owner = malloc(n * sizeof *g->owner);
    if (!g->owner) abort();
    for (uint32_t i = 0; i < g->n_users; i++) {
        uint32_t a = evg_acct_new(g, RO_USER);
        g->owner[i] = i && evg_chance(&g->rng, 200) ? g->owner[i - 1] : a;
    }
}

static void block_begin(evg *g) {
    g->n_tx = g->n_log = g->n_call = 0;
    g->in_len = 0;
    g->n_wd = 0;
    g->tx_open = EVG_NONE;
    if (g->number == g->o->first_block) {
        g->timestamp = START_TIME;
        g->base_fee = DEFAULT_BASEFEE;
    } else {
        /* a missed slot now and then; the base fee moves by at most 1/8
         * per block as EIP-1559 allows, within 3..80 gwei */
        g->timestamp += evg_chance(&g->rng, 40) ? 24 : 12;
        int64_t step = (int64_t)evg_below(&g->rng, 2001) - 1000;
        u128 delta = g->base_fee * (u128)(step < 0 ? -step : step) / 8000;
        g->base_fee = step < 0 ? g->base_fee - delta : g->base_fee + delta;
        if (g->base_fee < 3 * (u128)GWEI) g->base_fee = 3 * (u128)GWEI;
        if (g->base_fee > 80 * (u128)GWEI) g->base_fee = 80 * (u128)GWEI;
    }
    g->miner_cur = g->miner[evg_below(&g->rng, 4)];
}

/* Withdrawals are credited after the block's transactions, as the protocol
 * does. The first block's single withdrawal funds the faucet. */
static void withdrawals(evg *g) {
    if (g->number == g->o->first_block) {
        g->wd[g->n_wd++] = (evg_wd){g->wd_index++, 1, g->faucet, FAUCET_GWEI};
    } else {
        for (unsigned i = 0; i < MAX_WD; i++)
            g->wd[g->n_wd++] = (evg_wd){g->wd_index++, evg_range(&g->rng, 1, 1500000),
                                        evg_random_user(g), evg_range(&g->rng, 10000000, 60000000)};
    }
    for (uint32_t i = 0; i < g->n_wd; i++)
        g->a[g->wd[i].acct].eth += (u128)g->wd[i].gwei * GWEI;
}

static int open_out(const char *dir, const char *name, FILE **f, ch_error *err) {
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
        return ch_err(err, "output path too long");
    *f = fopen(path, "wb");
    if (!*f) return ch_err(err, "cannot create %s: %s", path, strerror(errno));
    setvbuf(*f, NULL, _IOFBF, 1 << 20);
    return 0;
}

static int write_labels(evg *g, const char *dir, ch_error *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s/labels.csv", dir);
    FILE *f = fopen(path, "w");
    if (!f) return ch_err(err, "cannot create %s", path);
    fputs("address,category,entity\n", f);
    for (uint32_t i = 0; i < g->n_labels; i++) {
        char hex[41];
        ch_hex_encode(g->a[g->labels[i].acct].addr, 20, hex);
        fprintf(f, "0x%s,%s,%s\n", hex, g->labels[i].category, g->labels[i].entity);
    }
    if (fclose(f) != 0) return ch_err(err, "cannot write %s", path);
    return 0;
}

static int write_tokens(evg *g, const char *dir, ch_error *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s/tokens.csv", dir);
    FILE *f = fopen(path, "w");
    if (!f) return ch_err(err, "cannot create %s", path);
    fputs("contract,symbol,decimals,name\n", f);
    for (unsigned tk = 0; tk < TK_COUNT; tk++) {
        if (!EVG_TOKENS[tk].listed) continue;
        char hex[41];
        ch_hex_encode(g->a[g->token[tk]].addr, 20, hex);
        fprintf(f, "0x%s,%s,%u,%s\n", hex, EVG_TOKENS[tk].symbol, EVG_TOKENS[tk].decimals,
                EVG_TOKENS[tk].name);
    }
    if (fclose(f) != 0) return ch_err(err, "cannot write %s", path);
    return 0;
}

static void evg_free(evg *g) {
    free(g->a);
    free(g->owner);
    free(g->dep_key);
    free(g->dep_val);
    free(g->labels);
    free(g->sw);
    free(g->pz);
    free(g->nft_owner);
    free(g->tx);
    free(g->log);
    free(g->call);
    free(g->in);
    free(g->out);
    free(g->bloom_cache);
}

static bool finished(const evg *g) {
    const ch_evmgen_opts *o = g->o;
    uint64_t made = g->number - o->first_block;
    if (o->blocks) return made >= o->blocks;
    if (g->theft.on && !g->theft.done) return false;
    return g->st.transfers >= o->transfers && made >= 3;
}

static int generate(evg *g, ch_error *err) {
    const ch_evmgen_opts *o = g->o;
    for (g->number = o->first_block; !finished(g); g->number++) {
        block_begin(g);
        if (g->number == o->first_block + 1) evg_setup(g);
        if (g->number > o->first_block) {
            evg_run_sweeps(g);
            evg_poison_run_due(g);
            evg_theft_run_due(g);
            if (g->number > o->first_block + 1)
                while (g->n_tx < o->txs_per_block)
                    evg_traffic_tx(g);
        }
        withdrawals(g);
        g->st.withdrawals += g->n_wd;
        if (evg_write_block(g, err) != 0) return -1;
        g->st.transfers = g->st.native + g->st.internal + g->st.erc20 + g->st.withdrawals;
    }
    return 0;
}

int ch_evmgen_run(const ch_evmgen_opts *o, ch_evmgen_stats *stats, ch_error *err) {
    if (check_opts(o, err) != 0) return -1;
    if (mkdir(o->out_dir, 0777) != 0 && errno != EEXIST)
        return ch_err(err, "cannot create %s: %s", o->out_dir, strerror(errno));
    evg *g = calloc(1, sizeof *g);
    if (!g) return ch_err(err, "out of memory");
    g->o = o;
    g->rng.s = o->seed ^ 0x45564d67656e3031ULL; /* "EVMgen01": apart from other generators */
    g->tx_open = EVG_NONE;
    memset(g->parent, 0, 32);
    { /* the parent of the first block: a hash of the seed */
        uint8_t seed_bytes[16] = "evmgen:";
        for (int i = 0; i < 8; i++)
            seed_bytes[8 + i] = (uint8_t)(o->seed >> (8 * i));
        ch_keccak256(seed_bytes, sizeof seed_bytes, g->parent);
    }
    /* transfers per block are about 1.2 per transaction, plus 16 withdrawals */
    uint64_t target = o->transfers ? o->transfers : CH_EVMGEN_DEFAULT_TRANSFERS;
    g->plan_blocks = o->blocks ? o->blocks : 3 + target / (o->txs_per_block * 6 / 5 + 16);
    ch_evmgen_opts local = *o;
    if (!o->blocks) local.transfers = target;
    g->o = &local;
    init_accounts(g);
    if (o->theft) evg_theft_plan(g, o->first_block + g->plan_blocks - 1);

    int rc = open_out(o->out_dir, "blocks.jsonl", &g->fb, err);
    if (rc == 0) rc = open_out(o->out_dir, "receipts.jsonl", &g->fr, err);
    if (rc == 0) rc = open_out(o->out_dir, "traces.jsonl", &g->ft, err);
    if (rc == 0) rc = generate(g, err);
    FILE *fs[3] = {g->fb, g->fr, g->ft};
    for (int i = 0; i < 3; i++)
        if (fs[i] && fclose(fs[i]) != 0 && rc == 0) rc = ch_err(err, "cannot write the output");
    char path[4096];
    snprintf(path, sizeof path, "%s/theft.json", o->out_dir);
    if (rc == 0) rc = write_labels(g, o->out_dir, err);
    if (rc == 0) rc = write_tokens(g, o->out_dir, err);
    if (rc == 0) rc = evg_theft_write(g, path, err);
    if (rc == 0 && stats) *stats = g->st;
    evg_free(g);
    free(g);
    return rc;
}
