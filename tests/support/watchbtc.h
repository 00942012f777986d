/* `coinhound watch btc` run by the tests as a separate process (kill -9
 * included) beside a blocks folder that grows as Bitcoin Core's does, or
 * beside a JSON-RPC responder (btcnode.h): the fixture's paths and
 * processes, coinhound-gen's chains grown, cut and appended to, the alert
 * files read back. test_watch_btc and test_watch_btc_deposit share it. */
#ifndef COINHOUND_TEST_WATCHBTC_H
#define COINHOUND_TEST_WATCHBTC_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "btcnode.h"

#include "coinhound/btc.h"

typedef struct wb_fx {
    char *dir; /* a temporary folder holding the rest */
    char blocks[512], db[512], rules[512], alerts[512], log[512], cookie[512];
    pid_t watcher;
    tu_btcnode *node;
    /* --webhook URL --webhook-secret-file FILE when hook_url[0] */
    char hook_url[64], hook_secret[512];
    int seen;             /* "info: watching" lines in the log when the last watcher started */
    const char *extra[5]; /* more options for the watcher, NULL-ended */
    /* --rpc-user and --rpc-password instead of --rpc-cookie when set */
    const char *rpc_user, *rpc_password;
    bool on_heap; /* wb_new's: wb_free frees it too */
} wb_fx;

/* A fresh fixture in a new temporary folder, made the running test's: its
 * teardown (wb_end_processes) ends the watcher and the node even when an
 * assertion failed. */
void wb_init(wb_fx *f);
/* The same, allocated, as the test's state (*state): wb_end_processes,
 * the test's teardown, ends and frees it. */
wb_fx *wb_new(void **state);
/* End the watcher and the node, remove the folder (free a wb_new one). */
void wb_free(wb_fx *f);
/* A cmocka teardown: wb_free of the running test's fixture. */
int wb_end_processes(void **state);

/* watch btc on f->blocks (or, rpc, f->node's URL with f->cookie or the
 * user and password) with f->db, f->rules, f->alerts, the webhook and the
 * extra options; its stderr appended to f->log, its stdout dropped. */
void wb_start(wb_fx *f, bool rpc);
/* SIGTERM once the watcher is up (its handler set), and its exit code. */
int wb_stop(wb_fx *f);
/* SIGKILL, and the watcher reaped. */
void wb_kill9(wb_fx *f);
/* Wait until text is at least n times in the log (or fail with its end). */
void wb_wait_log(const wb_fx *f, const char *text, int n, unsigned timeout_ms);
/* The log's last 3,000 bytes on stderr (before a failure). */
void wb_print_log_end(const wb_fx *f);

/* coinhound-gen into dir: 40 txs a block, maturity 20, xor.dat on; 1,500
 * txs, or with its planted theft 3,000. */
void wb_gen(const char *dir, uint64_t seed, bool theft);
/* dir's blocks folder opened and its best chain read into c (or fail). */
ch_blkdir *wb_best_chain(const char *dir, ch_blk_chain *c);
/* dst (a folder) gets src's blk files cut after the record of height
 * upto - 1, and src's other files (xor.dat, labels, theft.json): a node's
 * folder before those blocks came. c gets src's best chain, all of it in
 * blk00000.dat. */
void wb_cut_blocks(const char *src, const char *dst, uint32_t upto, ch_blk_chain *c);
/* Append the record of height h (magic and size included, as written,
 * xor.dat's obfuscation and all: it depends on the place in the file only)
 * from src's blk file to dst's, in one write, as Core appends a block. */
void wb_append_block(const char *src, const char *dst, const ch_blk_chain *c, uint32_t h);
/* dir/theft.json (coinhound-gen's theft), its theft_txid into theft when
 * not NULL. Caller decrefs. */
json_t *wb_theft(const char *dir, char theft[65]);

/* `coinhound intel import --format csv CSV --db DB` (or fail). */
void wb_intel_import(const char *csv, const char *db);
/* The last record of each id of a JSON-lines alert file, as delivered
 * (a torn last line left out): id -> alert. */
json_t *wb_last_by_id(const char *path);

#endif
