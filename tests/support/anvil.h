/* A real EVM node for the watcher's tests: anvil (Foundry's local Ethereum
 * node, installed from npm into tests/node by scripts/deps.sh) on a free
 * loopback port, JSON-RPC calls to it, and the watcher run as a separate
 * process beside it (kill -9 included). Tests skip, saying why, when anvil
 * is absent (an_setup returns false). */
#ifndef COINHOUND_TEST_ANVIL_H
#define COINHOUND_TEST_ANVIL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define ANVIL_DEFAULT "tests/node/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"

/* anvil's default accounts (its fixed test mnemonic), each funded with 10000 ETH */
#define ACCT0 "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"
#define THIEF "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"
#define ACCT2 "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc"
#define ACCT3 "0x90f79bf6eb2c4f870365e785982e1f101e93b906"
#define LAZ   "0x15d34aaf54267db7d7c367839aaf71a00a2c6a65" /* attributed to Lazarus below */
#define ACCT5 "0x9965507d1a55bcc2695c58ba16fb37d819b0a4dc"

#define ETH_1000 "0x3635c9adc5dea00000" /* 1000 ETH in wei */
#define ETH_999  "0x3627e8f712373c0000" /* 999 ETH */

typedef struct fx {
    char *dir;
    char db[512], rules[512], alerts[512], log[512], url[64];
    int port;
    pid_t anvil, watcher;
    /* more arguments for the watcher (NULL-terminated; may be NULL) */
    const char *const *watch_args;
} fx;

/* The fixture of the running test: an_end_processes (a cmocka teardown)
 * ends its processes even when an assertion left the test early. */
extern fx *an_g_fx;

const char *an_anvil_bin(void);
int an_free_port(void);
pid_t an_spawn(char *const argv[], const char *out_path, const char *err_path);
void an_msleep(unsigned ms);
size_t an_on_body(char *d, size_t sz, size_t nm, void *ctx);
/* POST a JSON body to url (10 s at most); the answer's body, NUL-ended
 * (caller frees), or NULL when none came. */
char *an_post_json(const char *url, const char *body);
json_t *an_rpc(const fx *f, const char *method, json_t *params);
char *an_send_eth(const fx *f, const char *from, const char *to, const char *wei_hex);
void an_receipt_block(const fx *f, const char *tx, long long *number, char hash[67]);
void an_write_file(const char *path, const char *text);
json_t *an_read_alerts(const char *path);
json_t *an_wait_alerts(const fx *f, size_t want, unsigned timeout_ms);
void an_start_anvil(fx *f, const char *bin);
bool an_setup(fx *f);
int an_count_in_file(const char *path, const char *needle);
pid_t an_start_watcher_nowait(fx *f, const char *extra, bool wait);
pid_t an_start_watcher(fx *f, const char *extra);
int an_stop_watcher(fx *f);
void an_teardown(fx *f);
int an_end_processes(void **state);
json_t *an_by_rule(json_t *alerts, const char *rule);
const char *an_s_of(json_t *a, const char *k);

#endif
