/* The watch btc fixture of the watcher's tests (watchbtc.h). */
#include "watchbtc.h"

#include "genchain.h"
#include "testutil.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static wb_fx *g_fx;

void wb_init(wb_fx *f) {
    memset(f, 0, sizeof *f);
    g_fx = f;
    f->dir = tu_tmpdir();
    snprintf(f->blocks, sizeof f->blocks, "%s/blocks", f->dir);
    snprintf(f->db, sizeof f->db, "%s/db", f->dir);
    snprintf(f->rules, sizeof f->rules, "%s/rules.yaml", f->dir);
    snprintf(f->alerts, sizeof f->alerts, "%s/alerts.jsonl", f->dir);
    snprintf(f->log, sizeof f->log, "%s/watch.log", f->dir);
    snprintf(f->cookie, sizeof f->cookie, "%s/.cookie", f->dir);
}

wb_fx *wb_new(void **state) {
    wb_fx *f = malloc(sizeof *f);
    assert_non_null(f);
    wb_init(f);
    f->on_heap = true;
    *state = f;
    return f;
}

void wb_kill9(wb_fx *f) {
    if (f->watcher > 0) {
        kill(f->watcher, SIGKILL);
        waitpid(f->watcher, NULL, 0);
    }
    f->watcher = 0;
}

void wb_free(wb_fx *f) {
    wb_kill9(f);
    tu_btcnode_stop(f->node);
    f->node = NULL;
    if (f->dir) tu_rmrf(f->dir);
    free(f->dir);
    f->dir = NULL;
    g_fx = NULL;
    if (f->on_heap) free(f);
}

int wb_end_processes(void **state) {
    if (g_fx) wb_free(g_fx);
    *state = NULL; /* (a wb_new fixture: freed) */
    return 0;
}

void wb_start(wb_fx *f, bool rpc) {
    const char *argv[24];
    int n = 0;
    argv[n++] = tu_bin("coinhound");
    argv[n++] = "watch";
    argv[n++] = "btc";
    if (rpc) {
        argv[n++] = "--rpc";
        argv[n++] = tu_btcnode_url(f->node);
        argv[n++] = f->rpc_user ? "--rpc-user" : "--rpc-cookie";
        argv[n++] = f->rpc_user ? f->rpc_user : f->cookie;
        if (f->rpc_user) {
            argv[n++] = "--rpc-password";
            argv[n++] = f->rpc_password;
        }
        argv[n++] = "--poll-ms";
        argv[n++] = "50";
    } else {
        argv[n++] = "--blocks";
        argv[n++] = f->blocks;
    }
    const char *rest[] = {"--db", f->db, "--rules", f->rules, "--alerts", f->alerts};
    for (size_t i = 0; i < sizeof rest / sizeof *rest; i++)
        argv[n++] = rest[i];
    if (f->hook_url[0]) {
        argv[n++] = "--webhook";
        argv[n++] = f->hook_url;
        argv[n++] = "--webhook-secret-file";
        argv[n++] = f->hook_secret;
    }
    for (int i = 0; i < 4 && f->extra[i]; i++)
        argv[n++] = f->extra[i];
    argv[n] = NULL;
    f->seen = tu_count_in(f->log, " info: watching "); /* the ones before have exited */
    f->watcher = tu_spawn((char *const *)argv, "/dev/null", f->log);
}

/* (A signal before the handler is set ends the process as the default
 * action does, which is not the clean stop this asserts.) */
int wb_stop(wb_fx *f) {
    for (int i = 0; i < 400 && tu_count_in(f->log, " info: watching ") <= f->seen; i++)
        tu_msleep(50);
    kill(f->watcher, SIGTERM);
    int st = 0;
    waitpid(f->watcher, &st, 0);
    f->watcher = 0;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

void wb_wait_log(const wb_fx *f, const char *text, int n, unsigned timeout_ms) {
    for (unsigned t = 0; t <= timeout_ms; t += 100) {
        if (tu_count_in(f->log, text) >= n) return;
        tu_msleep(100);
    }
    wb_print_log_end(f);
    fail_msg("'%s' is not %d times in the watcher's log", text, n);
}

void wb_print_log_end(const wb_fx *f) {
    char *log = tu_read_text(f->log);
    size_t len = log ? strlen(log) : 0;
    fprintf(stderr, "log's end: %s\n", log ? log + (len > 3000 ? len - 3000 : 0) : "");
    free(log);
}

void wb_gen(const char *dir, uint64_t seed, bool theft) {
    ch_gen_opts o = tu_gen_opts(dir);
    o.seed = seed;
    o.theft = theft;
    o.txs = theft ? 3000 : 1500;
    o.txs_per_block = 40;
    o.maturity = 20;
    o.xor_enabled = true;
    tu_gen_run(&o);
}

ch_blkdir *wb_best_chain(const char *dir, ch_blk_chain *c) {
    ch_blkdir *d;
    ch_error err;
    if (ch_blkdir_open(dir, &d, &err) != 0 || ch_blkdir_best_chain(d, c, &err) != 0)
        fail_msg("%s", err.msg);
    return d;
}

void wb_cut_blocks(const char *src, const char *dst, uint32_t upto, ch_blk_chain *c) {
    ch_blkdir_close(wb_best_chain(src, c));
    assert_true(c->n > upto && ch_blk_chain_rec(c, upto - 1)->file_no == 0 &&
                ch_blk_chain_rec(c, c->n - 1)->file_no == 0);
    char cmd[2000];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && cp '%s'/* '%s'/", dst, src, dst);
    assert_int_equal(system(cmd), 0);
    const ch_blk_rec *r = ch_blk_chain_rec(c, upto - 1);
    snprintf(cmd, sizeof cmd, "%s/blk00000.dat", dst);
    assert_int_equal(truncate(cmd, (off_t)(r->offset + r->size)), 0);
}

void wb_append_block(const char *src, const char *dst, const ch_blk_chain *c, uint32_t h) {
    char p[1200];
    const ch_blk_rec *r = ch_blk_chain_rec(c, h);
    size_t len = r->size + 8;
    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    snprintf(p, sizeof p, "%s/blk00000.dat", src);
    int fd = open(p, O_RDONLY);
    assert_true(fd >= 0 && pread(fd, buf, len, (off_t)r->offset - 8) == (ssize_t)len);
    close(fd);
    snprintf(p, sizeof p, "%s/blk00000.dat", dst);
    fd = open(p, O_WRONLY | O_APPEND);
    assert_true(fd >= 0 && write(fd, buf, len) == (ssize_t)len);
    close(fd);
    free(buf);
}

json_t *wb_theft(const char *dir, char theft[65]) {
    char path[700];
    snprintf(path, sizeof path, "%s/theft.json", dir);
    json_error_t je;
    json_t *tj = json_load_file(path, 0, &je);
    if (!tj) fail_msg("%s: %s", path, je.text);
    if (theft) snprintf(theft, 65, "%s", json_string_value(json_object_get(tj, "theft_txid")));
    return tj;
}

void wb_intel_import(const char *csv, const char *db) {
    char cmd[2000];
    snprintf(cmd, sizeof cmd, "%s intel import --format csv %s --db %s 2>&1", tu_bin("coinhound"),
             csv, db);
    int st;
    char *out = tu_run(cmd, &st);
    if (st != 0) fail_msg("intel import: %s", out);
    free(out);
}

json_t *wb_last_by_id(const char *path) {
    json_t *by = json_object();
    FILE *in = fopen(path, "r");
    if (!in) return by;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, in)) > 0) {
        if (line[n - 1] != '\n') break;
        json_t *a = json_loads(line, 0, NULL);
        assert_non_null(a);
        json_object_set_new(by, json_string_value(json_object_get(a, "id")), a);
    }
    free(line);
    fclose(in);
    return by;
}
