/* The test responder (btcnode.h): libmicrohttpd on its own thread. */
#include "btcnode.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "coinhound/btc.h"
#include "testutil.h"

typedef struct blk {
    uint8_t *p;
    size_t len;
    ch_hash256 hash;
} blk;

struct tu_btcnode {
    struct MHD_Daemon *d;
    pthread_mutex_t mu;
    pthread_cond_t moved; /* the mode changed, or the node is closing */
    blk *v;
    size_t n;
    uint32_t tip;
    tu_node_mode mode;
    char auth[1000]; /* the Authorization header wanted, "" none */
    char url[64];
    unsigned port;
    unsigned calls;
    unsigned delay_ms; /* each answer held back this long (a slow node) */
    unsigned hang_at;  /* the call from which the mode is TU_NODE_HANG (0: none) */
};

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void base64(const char *in, char *out) {
    size_t n = strlen(in), o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)(uint8_t)in[i] << 16;
        if (i + 1 < n) v |= (uint32_t)(uint8_t)in[i + 1] << 8;
        if (i + 2 < n) v |= (uint8_t)in[i + 2];
        out[o++] = B64[v >> 18 & 63];
        out[o++] = B64[v >> 12 & 63];
        out[o++] = i + 1 < n ? B64[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? B64[v & 63] : '=';
    }
    out[o] = 0;
}

typedef struct req {
    char *body;
    size_t len;
} req;

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, char *text) {
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

static char *answer(tu_btcnode *n, json_t *q) {
    const char *method = json_string_value(json_object_get(q, "method"));
    json_t *params = json_object_get(q, "params");
    json_t *id = json_object_get(q, "id");
    json_t *result = NULL, *error = NULL;
    char hex[65];
    if (!method) {
        error = json_pack("{s:i,s:s}", "code", -32600, "message", "Invalid Request");
    } else if (!strcmp(method, "getbestblockhash")) {
        ch_hash256_to_hex(&n->v[n->tip].hash, hex);
        result = json_string(hex);
    } else if (!strcmp(method, "getblockhash")) {
        json_int_t h = json_integer_value(json_array_get(params, 0));
        if (h < 0 || h > (json_int_t)n->tip) {
            error = json_pack("{s:i,s:s}", "code", -8, "message", "Block height out of range");
        } else {
            ch_hash256_to_hex(&n->v[h].hash, hex);
            result = json_string(hex);
        }
    } else if (!strcmp(method, "getblock")) {
        const char *want = json_string_value(json_array_get(params, 0));
        ch_hash256 h;
        size_t i = n->n;
        if (want && ch_hash256_from_hex(want, &h) == 0)
            for (i = 0; i < n->n && memcmp(n->v[i].hash.b, h.b, 32); i++) {
            }
        if (i == n->n) {
            error = json_pack("{s:i,s:s}", "code", -5, "message", "Block not found");
        } else {
            char *x = malloc(n->v[i].len * 2 + 1);
            ch_hex_encode(n->v[i].p, n->v[i].len, x);
            result = json_string(x);
            free(x);
        }
    } else {
        error = json_pack("{s:i,s:s}", "code", -32601, "message", "Method not found");
    }
    json_t *o = json_pack("{s:o,s:o,s:O}", "result", result ? result : json_null(), "error",
                          error ? error : json_null(), "id", id ? id : json_null());
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *size, void **con) {
    (void)url, (void)method, (void)version;
    tu_btcnode *n = cls;
    req *r = *con;
    if (!r) {
        *con = calloc(1, sizeof *r);
        return MHD_YES;
    }
    if (*size) {
        r->body = realloc(r->body, r->len + *size + 1);
        memcpy(r->body + r->len, data, *size);
        r->len += *size;
        r->body[r->len] = 0;
        *size = 0;
        return MHD_YES;
    }
    pthread_mutex_lock(&n->mu);
    n->calls++;
    if (n->hang_at && n->calls >= n->hang_at) n->mode = TU_NODE_HANG, n->hang_at = 0;
    while (n->mode == TU_NODE_HANG)
        pthread_cond_wait(&n->moved, &n->mu);
    char *out;
    unsigned status = 200;
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (n->auth[0] && (!auth || strcmp(auth, n->auth))) {
        status = 401, out = strdup("");
    } else if (n->mode == TU_NODE_GARBAGE) {
        out = strdup("<html>this is not JSON-RPC</html>");
    } else if (n->mode == TU_NODE_ERROR500) {
        status = 500,
        out = strdup("{\"result\":null,\"error\":{\"code\":-28,\"message\":\"Loading\"}}");
    } else {
        json_t *q = r->body ? json_loads(r->body, 0, NULL) : NULL;
        out = answer(n, q);
        json_decref(q);
    }
    unsigned delay = n->delay_ms;
    pthread_mutex_unlock(&n->mu);
    if (delay) { /* the daemon's one thread: later calls wait too */
        struct timespec ts = {.tv_sec = delay / 1000, .tv_nsec = (long)(delay % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    free(r->body);
    free(r);
    *con = NULL;
    return reply(c, status, out);
}

static void listen_on(tu_btcnode *n, unsigned port) {
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                            .sin_port = htons((uint16_t)port)};
    n->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, on_request, n,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&a,
                            MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1, MHD_OPTION_END);
    assert_non_null(n->d);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(n->d, MHD_DAEMON_INFO_BIND_PORT);
    n->port = info->port;
    snprintf(n->url, sizeof n->url, "http://127.0.0.1:%u/", n->port);
}

/* A hung call answered (as TU_NODE_OK), so that the daemon can stop. */
static void release(tu_btcnode *n) {
    pthread_mutex_lock(&n->mu);
    if (n->mode == TU_NODE_HANG) n->mode = TU_NODE_OK;
    pthread_cond_broadcast(&n->moved);
    pthread_mutex_unlock(&n->mu);
}

void tu_btcnode_down(tu_btcnode *n) {
    release(n);
    if (n->d) MHD_stop_daemon(n->d);
    n->d = NULL;
}

void tu_btcnode_up(tu_btcnode *n) {
    if (!n->d) listen_on(n, n->port);
}

tu_btcnode *tu_btcnode_start(const char *userpwd) {
    tu_btcnode *n = calloc(1, sizeof *n);
    pthread_mutex_init(&n->mu, NULL);
    pthread_cond_init(&n->moved, NULL);
    if (userpwd) {
        char b[600];
        base64(userpwd, b);
        snprintf(n->auth, sizeof n->auth, "Basic %s", b);
    }
    listen_on(n, 0);
    return n;
}

static void drop_blocks(tu_btcnode *n) {
    for (size_t i = 0; i < n->n; i++)
        free(n->v[i].p);
    free(n->v);
    n->v = NULL;
    n->n = 0;
}

void tu_btcnode_stop(tu_btcnode *n) {
    if (!n) return;
    release(n);
    if (n->d) MHD_stop_daemon(n->d);
    drop_blocks(n);
    pthread_cond_destroy(&n->moved);
    pthread_mutex_destroy(&n->mu);
    free(n);
}

const char *tu_btcnode_url(const tu_btcnode *n) {
    return n->url;
}

void tu_btcnode_serve(tu_btcnode *n, uint8_t *const *blocks, const size_t *lens, size_t count) {
    blk *v = calloc(count, sizeof *v);
    for (size_t i = 0; i < count; i++) {
        v[i].p = malloc(lens[i]);
        memcpy(v[i].p, blocks[i], lens[i]);
        v[i].len = lens[i];
        ch_btc_header h;
        ch_error err;
        if (ch_btc_parse_header(v[i].p, v[i].len, &h, &err) != 0) fail_msg("%s", err.msg);
        v[i].hash = h.hash;
    }
    pthread_mutex_lock(&n->mu);
    drop_blocks(n);
    n->v = v;
    n->n = count;
    if (n->tip >= count) n->tip = (uint32_t)count - 1;
    pthread_mutex_unlock(&n->mu);
}

void tu_btcnode_serve_folder(tu_btcnode *n, const char *dir, uint32_t tip) {
    ch_error err;
    ch_blkdir *d;
    ch_blk_chain c;
    if (ch_blkdir_open(dir, &d, &err) != 0 || ch_blkdir_best_chain(d, &c, &err) != 0)
        fail_msg("%s", err.msg);
    size_t count = c.n;
    uint8_t **b = calloc(count, sizeof *b);
    size_t *lens = calloc(count, sizeof *lens), cap = 0;
    for (size_t i = 0; i < count; i++) {
        uint8_t *buf = NULL;
        cap = 0;
        if (ch_blk_chain_read(d, &c, i, &buf, &cap, &err) != 0) fail_msg("%s", err.msg);
        b[i] = buf;
        lens[i] = ch_blk_chain_rec(&c, i)->size;
    }
    tu_btcnode_serve(n, b, lens, count);
    tu_btcnode_set_tip(n, tip);
    for (size_t i = 0; i < count; i++)
        free(b[i]);
    free(b);
    free(lens);
    ch_blk_chain_free(&c);
    ch_blkdir_close(d);
}

void tu_btcnode_set_tip(tu_btcnode *n, uint32_t tip) {
    pthread_mutex_lock(&n->mu);
    n->tip = tip < n->n ? tip : (uint32_t)n->n - 1;
    pthread_mutex_unlock(&n->mu);
}

void tu_btcnode_set_mode(tu_btcnode *n, tu_node_mode m) {
    pthread_mutex_lock(&n->mu);
    n->mode = m;
    pthread_cond_broadcast(&n->moved);
    pthread_mutex_unlock(&n->mu);
}

void tu_btcnode_hang_at(tu_btcnode *n, unsigned call) {
    pthread_mutex_lock(&n->mu);
    n->hang_at = call;
    pthread_mutex_unlock(&n->mu);
}

void tu_btcnode_set_delay(tu_btcnode *n, unsigned ms) {
    pthread_mutex_lock(&n->mu);
    n->delay_ms = ms;
    pthread_mutex_unlock(&n->mu);
}

unsigned tu_btcnode_calls(const tu_btcnode *n) {
    return n->calls;
}
