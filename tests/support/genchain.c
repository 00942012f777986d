#include "genchain.h"

#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>

#include "coinhound/gen.h"
#include "coinhound/ingest.h"

void tu_genchain_make(tu_genchain *g, uint64_t seed, uint64_t txs) {
    g->dir = tu_tmpdir();
    snprintf(g->blocks, sizeof g->blocks, "%s/blocks", g->dir);
    snprintf(g->db, sizeof g->db, "%s/db", g->dir);
    ch_gen_opts o = tu_gen_opts(g->blocks);
    o.seed = seed;
    o.txs = txs;
    o.txs_per_block = 40;
    o.maturity = 20;
    o.theft = true;
    tu_gen_run(&o);
    ch_error err;
    ch_ingest_opts io = {.progress = 0};
    if (ch_ingest_btc(g->blocks, g->db, &io, NULL, &err) != 0) fail_msg("ingest: %s", err.msg);
    assert_int_equal(ch_store_open(g->db, "btc", CH_STORE_READ, &g->s, &err), 0);
}

ch_gen_opts tu_gen_opts(const char *dir) {
    ch_gen_opts o;
    ch_gen_opts_init(&o);
    o.out_dir = dir;
    return o;
}

void tu_gen_run(const ch_gen_opts *o) {
    ch_error err;
    if (ch_gen_run(o, NULL, &err) != 0) fail_msg("gen: %s", err.msg);
}

void tu_gen_extend(const char *dir, uint32_t blocks, uint32_t reorg) {
    ch_gen_opts o = tu_gen_opts(dir);
    o.extend = true;
    o.extend_blocks = blocks;
    o.reorg_depth = reorg;
    tu_gen_run(&o);
}

void tu_genchain_close(tu_genchain *g) {
    ch_store_close(g->s);
    tu_rmrf(g->dir);
    free(g->dir);
}
