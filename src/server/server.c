/* The HTTP service on libmicrohttpd: see coinhound/server.h. This file is
 * the plumbing (listening, a request's life, keys, limits, headers,
 * metrics); the answers are made in server/routes.c. */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "server/server_internal.h"
#include "server/static.h"

void ch_server_opts_init(ch_server_opts *o) {
    memset(o, 0, sizeof *o);
    o->listen = CH_SERVER_DEFAULT_LISTEN;
    o->threads = 2;
    o->max_body = 4u << 20;
    o->max_batch = 10000;
    /* libmicrohttpd clears a connection's memory for each request: its size
     * is paid per request (64 KiB cost 15% of a sanctions answer's time) */
    o->conn_memory = 32u << 10;
    o->max_conns = 1024;
    o->timeout_s = 15;
    o->refresh_ms = 1000;
    o->max_trace_hops = 20;
    o->max_header = 8u << 10; /* as nginx's and Apache's default bounds */
}

double srv_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One request's state, from its headers to its answer. */
typedef struct conn {
    double start;
    srv_endpoint ep;
    srv_key *key;
    uint64_t remaining;
    bool answered; /* a response was queued before the body (refused early) */
    bool too_big;  /* the body passed max_body: read and dropped, then 413 */
    bool close;    /* answer with Connection: close */
    char *body;
    size_t len, cap;
} conn;

typedef struct route {
    const char *method;
    const char *path;
    bool prefix;        /* path is a prefix followed by a segment (an address, a txid ...) */
    const char *suffix; /* a prefix route: what follows the segment ("/txs"), or NULL */
    srv_endpoint ep;
    unsigned scope; /* 0: open (health, metrics, the document) */
} route;

static const route ROUTES[] = {
    {"GET", "/api/v1/address/", true, NULL, EP_SANCTIONS, SRV_SCOPE_READ},
    {"POST", "/v1/screen", false, NULL, EP_SCREEN, SRV_SCOPE_READ},
    {"GET", "/v1/status", false, NULL, EP_STATUS, SRV_SCOPE_READ},
    {"GET", "/healthz", false, NULL, EP_HEALTHZ, 0},
    {"GET", "/metrics", false, NULL, EP_METRICS, 0},
    {"GET", "/v1/openapi.json", false, NULL, EP_OPENAPI, 0},
    /* the suffixed route before the plain one it also starts like */
    {"GET", "/v1/address/", true, "/txs", EP_ADDRESS_TXS, SRV_SCOPE_READ},
    {"GET", "/v1/address/", true, NULL, EP_ADDRESS, SRV_SCOPE_READ},
    {"GET", "/v1/tx/", true, NULL, EP_TX, SRV_SCOPE_READ},
    {"GET", "/v1/block/", true, NULL, EP_BLOCK, SRV_SCOPE_READ},
    {"GET", "/v1/cluster/", true, NULL, EP_CLUSTER, SRV_SCOPE_READ},
    {"POST", "/v1/trace", false, NULL, EP_TRACE, SRV_SCOPE_READ},
    {"GET", "/v1/intel/actors", false, NULL, EP_INTEL_ACTORS, SRV_SCOPE_READ},
    {"GET", "/v1/intel/address/", true, NULL, EP_INTEL_ADDRESS, SRV_SCOPE_READ},
    {"GET", "/v1/alerts", false, NULL, EP_ALERTS, SRV_SCOPE_READ},
    {"GET", "/v1/alerts/stream", false, NULL, EP_ALERTS_STREAM, SRV_SCOPE_READ},
    {"POST", "/v1/intel/import", false, NULL, EP_INTEL_IMPORT, SRV_SCOPE_WRITE},
    {"POST", "/v1/report/case", false, NULL, EP_REPORT_CASE, SRV_SCOPE_READ},
};
#define N_ROUTES (sizeof ROUTES / sizeof ROUTES[0])
/* Whatever GET the API does not claim is a file of the web UI (no key:
 * the page itself holds no data; the calls it makes are keyed as any). */
static const route STATIC_ROUTE = {"GET", "/", true, NULL, EP_STATIC, 0};

static bool path_matches(const route *r, const char *url) {
    if (!r->prefix) return strcmp(url, r->path) == 0;
    size_t pl = strlen(r->path), ul = strlen(url);
    if (strncmp(url, r->path, pl) != 0) return false;
    if (!r->suffix) return true;
    size_t sl = strlen(r->suffix);
    return ul > pl + sl && strcmp(url + ul - sl, r->suffix) == 0;
}

const char *srv_arg(const srv_req *q, const char *name) {
    return q->c ? MHD_lookup_connection_value(q->c, MHD_GET_ARGUMENT_KIND, name) : NULL;
}

/* The route of (method, url); NULL with *allow set when the path exists
 * under another method (405), NULL with *allow NULL when it does not (404). */
static const route *find_route(const char *method, const char *url, const char **allow) {
    *allow = NULL;
    for (size_t i = 0; i < N_ROUTES; i++) {
        if (!path_matches(&ROUTES[i], url)) continue;
        if (!strcmp(method, ROUTES[i].method)) return &ROUTES[i];
        *allow = ROUTES[i].method;
    }
    if (!*allow && srv_static_claims(url)) {
        if (!strcmp(method, "GET") || !strcmp(method, "HEAD")) return &STATIC_ROUTE;
        *allow = "GET";
    }
    return NULL;
}

/* Queue resp (status) on the connection with the headers every answer
 * carries: the key's limits, Retry-After, Allow, Connection: close. */
static enum MHD_Result queue(ch_server *s, struct MHD_Connection *c, conn *cx,
                             struct MHD_Response *resp, unsigned status, const srv_reply *r,
                             unsigned retry_after) {
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (r->allow) MHD_add_response_header(resp, "Allow", r->allow);
    if (cx->close) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    if (cx->key && cx->key->limit) {
        char b[32];
        snprintf(b, sizeof b, "%llu", (unsigned long long)cx->key->limit);
        MHD_add_response_header(resp, "X-RateLimit-Limit", b);
        snprintf(b, sizeof b, "%llu", (unsigned long long)cx->remaining);
        MHD_add_response_header(resp, "X-RateLimit-Remaining", b);
    }
    if (retry_after) {
        char b[32];
        snprintf(b, sizeof b, "%u", retry_after);
        MHD_add_response_header(resp, "Retry-After", b);
    }
    enum MHD_Result rc = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    srv_metrics_record(&s->metrics, cx->ep, status, srv_now() - cx->start);
    cx->answered = true;
    return rc;
}

/* Queue r, its body as the answer. */
static enum MHD_Result send_reply(ch_server *s, struct MHD_Connection *c, conn *cx, srv_reply *r,
                                  unsigned retry_after) {
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(r->len, r->body ? r->body : (void *)"",
                                        r->body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        free(r->body);
        return MHD_NO;
    }
    r->body = NULL; /* the response owns it */
    MHD_add_response_header(resp, "Content-Type",
                            r->content_type ? r->content_type : "application/json");
    return queue(s, c, cx, resp, r->status, r, retry_after);
}

static enum MHD_Result add_len(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *value) {
    (void)kind;
    *(size_t *)cls += strlen(key) + (value ? strlen(value) : 0) + 4; /* ": " and CRLF */
    return MHD_YES;
}

/* The bytes of the request line and header block as received (near
 * enough: names, values and separators; the query is counted in url's
 * arguments). */
static size_t header_bytes(struct MHD_Connection *c, const char *url, const char *method) {
    size_t n = strlen(method) + strlen(url) + 12;
    MHD_get_connection_values(c, MHD_HEADER_KIND, add_len, &n);
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_len, &n);
    return n;
}

/* What is decided from the headers alone: the route, the key, the limit,
 * the declared body size. true with r filled when refused. */
static bool precheck(ch_server *s, struct MHD_Connection *c, conn *cx, const char *url,
                     const char *method, const route **rt, srv_reply *r, unsigned *retry) {
    const char *allow;
    /* libmicrohttpd answers a header block over its memory itself (431, not
     * JSON); a smaller bound of our own answers one in JSON */
    size_t hb = header_bytes(c, url, method);
    if (hb > s->opts.max_header) {
        *rt = NULL;
        cx->ep = EP_OTHER;
        cx->close = true;
        srv_reply_error(r, 431, "the request line and headers are %zu bytes: at most %zu", hb,
                        s->opts.max_header);
        return true;
    }
    *rt = find_route(method, url, &allow);
    if (!*rt) {
        cx->ep = EP_OTHER;
        if (allow) {
            r->allow = allow;
            srv_reply_error(r, 405, "%s is not allowed on this path (allowed: %s)", method, allow);
        } else {
            srv_reply_error(r, 404, "no such endpoint (see /v1/openapi.json)");
        }
        return true;
    }
    cx->ep = (*rt)->ep;
    if (s->have_keys && (*rt)->scope) {
        const char *key = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-API-Key");
        if (!key || !*key) {
            srv_reply_error(r, 401, "an API key is required: send it in the X-API-Key header");
            return true;
        }
        cx->key = srv_keys_find(&s->keys, key, strlen(key));
        if (!cx->key) {
            srv_reply_error(r, 401, "unknown API key");
            return true;
        }
        if (!(cx->key->scopes & (*rt)->scope)) {
            srv_reply_error(r, 403, "this key has no %s scope",
                            (*rt)->scope == SRV_SCOPE_WRITE ? "write" : "read");
            return true;
        }
        if (!srv_key_take(cx->key, srv_now(), &cx->remaining, retry)) {
            srv_reply_error(r, 429,
                            "rate limit of %llu requests per %g s reached: retry after "
                            "%u s",
                            (unsigned long long)cx->key->limit, cx->key->window_s, *retry);
            return true;
        }
    }
    /* A body declared over max_body is read and dropped, then answered 413:
     * answered before it is read, the connection would be closed on unread
     * bytes and the client could see a reset instead of the answer. One
     * declared over 16 times the bound is answered at once (a reset is the
     * price; reading it is not worth the bandwidth). */
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
    unsigned long long declared = cl ? strtoull(cl, NULL, 10) : 0;
    if (declared > 16ull * s->opts.max_body) {
        srv_reply_error(r, 413, "a body of %s bytes: at most %zu", cl, s->opts.max_body);
        return true;
    }
    if (declared > s->opts.max_body) cx->too_big = true;
    if ((*rt)->ep == EP_SCREEN || (*rt)->ep == EP_TRACE || (*rt)->ep == EP_REPORT_CASE) {
        const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
        if (ct && strncmp(ct, "application/json", 16) != 0) {
            srv_reply_error(r, 415, "the body must be application/json, not %s", ct);
            return true;
        }
    }
    return false;
}

/* Keep upload bytes, up to max_body; past it the rest is dropped. */
static void take_body(ch_server *s, conn *cx, const char *data, size_t n) {
    if (cx->too_big) return;
    if (cx->len + n > s->opts.max_body) {
        cx->too_big = true;
        free(cx->body);
        cx->body = NULL;
        cx->len = cx->cap = 0;
        return;
    }
    if (cx->len + n + 1 > cx->cap) {
        size_t cap = cx->cap ? cx->cap : 4096;
        while (cap < cx->len + n + 1)
            cap *= 2;
        if (cap > s->opts.max_body + 1) cap = s->opts.max_body + 1;
        /* not ch_grow: the block stops at max_body + 1, a limit it knows nothing of */
        char *b = realloc(cx->body, cap);
        if (!b) {
            cx->too_big = true; /* answered 413: the same as a body too big to hold */
            return;
        }
        cx->body = b;
        cx->cap = cap;
    }
    memcpy(cx->body + cx->len, data, n);
    cx->len += n;
}

/* libmicrohttpd's handler: at the headers, decide what can be decided
 * (route, key, declared size); then gather the body within its bound; at the
 * end, answer through the routes. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls) {
    (void)version;
    ch_server *s = cls;
    conn *cx = *con_cls;
    srv_reply r = {0};
    if (!cx) { /* the headers are in: decide what can be decided now */
        cx = calloc(1, sizeof *cx);
        if (!cx) return MHD_NO;
        cx->start = srv_now();
        *con_cls = cx;
        const route *rt;
        unsigned retry = 0;
        if (precheck(s, c, cx, url, method, &rt, &r, &retry))
            return send_reply(s, c, cx, &r, retry);
        return MHD_YES;
    }
    if (cx->answered) { /* refused early: drop what the client still sends */
        *upload_size = 0;
        return MHD_YES;
    }
    if (*upload_size) {
        take_body(s, cx, upload_data, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (cx->too_big) {
        srv_reply_error(&r, 413, "the body is over %zu bytes", s->opts.max_body);
        return send_reply(s, c, cx, &r, 0);
    }
    srv_req q = {url, c, cx->body ? cx->body : "", cx->len};
    switch (cx->ep) {
    case EP_SANCTIONS:
        srv_sanctions(s, url, &r);
        break;
    case EP_SCREEN:
        srv_screen_batch(s, cx->body ? cx->body : "", cx->len, &r);
        break;
    case EP_STATUS:
        srv_status(s, &r);
        break;
    case EP_HEALTHZ:
        srv_healthz(s, &r);
        break;
    case EP_METRICS:
        srv_metrics_reply(s, &r);
        break;
    case EP_OPENAPI:
        srv_openapi(s, &r);
        break;
    case EP_STATIC:
        srv_static(s, url, &r);
        break;
    case EP_ADDRESS:
        srv_address(s, &q, &r);
        break;
    case EP_ADDRESS_TXS:
        srv_address_txs(s, &q, &r);
        break;
    case EP_TX:
        srv_tx(s, &q, &r);
        break;
    case EP_BLOCK:
        srv_block(s, &q, &r);
        break;
    case EP_CLUSTER:
        srv_cluster(s, &q, &r);
        break;
    case EP_TRACE:
        srv_trace(s, &q, &r);
        break;
    case EP_REPORT_CASE:
        srv_report_case(s, &q, &r);
        break;
    case EP_INTEL_ACTORS:
        srv_intel_actors(s, &q, &r);
        break;
    case EP_INTEL_ADDRESS:
        srv_intel_address(s, &q, &r);
        break;
    case EP_ALERTS:
        srv_alerts(s, &q, &r);
        break;
    case EP_INTEL_IMPORT:
        srv_intel_import(s, &q, &r);
        break;
    case EP_ALERTS_STREAM: {
        struct MHD_Response *resp = srv_alerts_stream(s, &q, &r);
        if (resp) return queue(s, c, cx, resp, 200, &r, 0);
        break;
    }
    default:
        srv_reply_error(&r, 404, "no such endpoint");
    }
    return send_reply(s, c, cx, &r, 0);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
    (void)cls;
    (void)c;
    (void)toe;
    conn *cx = *con_cls;
    if (!cx) return;
    free(cx->body);
    free(cx);
    *con_cls = NULL;
}

/* "ADDR:PORT" or "[V6]:PORT" into a socket address. */
static int parse_listen(const char *text, struct sockaddr_storage *ss, bool *v6, bool *loopback,
                        ch_error *err) {
    char host[256];
    const char *colon = strrchr(text, ':');
    if (!colon || colon == text || strlen(text) >= sizeof host)
        return ch_err(err, "--listen wants ADDR:PORT ([::1]:8080 for IPv6), not '%s'", text);
    size_t hl = (size_t)(colon - text);
    memcpy(host, text, hl);
    host[hl] = '\0';
    if (host[0] == '[' && hl >= 2 && host[hl - 1] == ']') {
        memmove(host, host + 1, hl - 2);
        host[hl - 2] = '\0';
    }
    const char *port = colon + 1;
    char *end;
    unsigned long p = strtoul(port, &end, 10);
    if (!*port || *end || p > 65535) return ch_err(err, "--listen: '%s' is no port", port);
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)p);
        *v6 = false;
        *loopback = (ntohl(a4->sin_addr.s_addr) >> 24) == 127;
        return 0;
    }
    if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)p);
        *v6 = true;
        *loopback = IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr);
        return 0;
    }
    return ch_err(err, "--listen: '%s' is no IP address (127.0.0.1, ::1, 0.0.0.0, ...)", host);
}

int ch_server_start(ch_screener *sc, const ch_server_opts *o, ch_server **out, ch_error *err) {
    *out = NULL;
    ch_server *s = calloc(1, sizeof *s);
    if (!s) return ch_err(err, "out of memory");
    s->opts = *o;
    if (!s->opts.listen) s->opts.listen = CH_SERVER_DEFAULT_LISTEN;
    if (!s->opts.threads) s->opts.threads = 2;
    if (!s->opts.max_batch) s->opts.max_batch = 10000;
    if (!s->opts.max_body) s->opts.max_body = 4u << 20;
    s->screener = sc;
    struct sockaddr_storage ss;
    bool v6 = false;
    if (parse_listen(s->opts.listen, &ss, &v6, &s->loopback, err) != 0) goto fail;
    if (o->keys_path) {
        if (srv_keys_load(o->keys_path, &s->keys, err) != 0) goto fail;
        s->have_keys = true;
    } else if (!s->loopback) {
        ch_err(err,
               "without --keys the service listens on loopback only (127.0.0.1 or ::1), "
               "not %s",
               s->opts.listen);
        goto fail;
    }
    s->store_locking = ch_screener_store(sc) != NULL;
    pthread_mutex_init(&s->store_mu, NULL);
    pthread_mutex_init(&s->import_mu, NULL);
    if (!s->opts.max_trace_hops) s->opts.max_trace_hops = 20;
    if (!s->opts.max_header) s->opts.max_header = 8u << 10;
    if (!s->opts.conn_memory) s->opts.conn_memory = 32u << 10;
    if (srv_chains_init(s) != 0) {
        ch_err(err, "cannot create a lock");
        pthread_mutex_destroy(&s->store_mu);
        goto fail;
    }
    if (srv_streams_start(s) != 0) {
        ch_err(err, "cannot start a thread");
        srv_chains_close(s);
        pthread_mutex_destroy(&s->store_mu);
        goto fail;
    }
    if (pthread_key_create(&s->scratch_key, srv_scratch_free) != 0) {
        ch_err(err, "cannot create a thread key");
        srv_streams_stop(s);
        srv_streams_free(s);
        srv_chains_close(s);
        pthread_mutex_destroy(&s->store_mu);
        goto fail;
    }
    s->started = srv_now();
    if (srv_listen_start(s, &ss, v6, on_request, on_completed, err) != 0) {
        pthread_key_delete(s->scratch_key);
        srv_streams_stop(s);
        srv_streams_free(s);
        srv_chains_close(s);
        pthread_mutex_destroy(&s->store_mu);
        goto fail;
    }
    *out = s;
    return 0;
fail:
    if (s->have_keys) srv_keys_free(&s->keys);
    free(s);
    return -1;
}

uint16_t ch_server_port(const ch_server *s) {
    return s->port;
}
int ch_server_loopback(const ch_server *s) {
    return s->loopback;
}

void ch_server_stop(ch_server *s) {
    if (!s) return;
    srv_streams_stop(s); /* every stream resumed, to end at its next read */
    srv_listen_stop(s);
    srv_streams_free(s);
    srv_chains_close(s);
    pthread_mutex_destroy(&s->import_mu);
    pthread_key_delete(s->scratch_key);
    pthread_mutex_destroy(&s->store_mu);
    if (s->have_keys) srv_keys_free(&s->keys);
    free(s);
}
