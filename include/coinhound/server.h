/* coinhound: the HTTP service behind `coinhound serve` (docs/serve.md).
 *
 * libmicrohttpd: a thread that accepts and hands each connection to the
 * least busy of --threads daemons, each a thread with its own epoll loop;
 * JSON in and out. The handlers hold no logic of their own: a screening answer is
 * ch_screener_screen() written by ch_verdict_write_json(), the very calls
 * of `coinhound screen --json`.
 *
 *   GET  /api/v1/address/{address}  sanctions identifications (the shape of
 *                                    the best-known free sanctions API)
 *   POST /v1/screen                  up to max_batch addresses: verdicts
 *   GET  /v1/status                  what is served, the store's tip
 *   GET  /v1/address/{a}, /v1/address/{a}/txs, /v1/tx/{txid},
 *        /v1/block/{height|hash}, /v1/cluster/{a}   the store's queries
 *                                    (query.h, cluster.h), as the CLI's --json
 *   POST /v1/trace                   a trace (trace.h), docs/trace.md's JSON
 *   GET  /v1/intel/actors, /v1/intel/address/{a}    the attribution store
 *   GET  /v1/alerts                  the watcher's alert log (watch.h)
 *   GET  /healthz, /metrics, /v1/openapi.json
 *   GET  /, /app.js, ...             the web UI's files (web_dir), no key
 *
 * Keys (keys_path): one a line, "NAME SHA256-HEX SCOPES LIMIT" (SCOPES:
 * read, write or read,write; LIMIT: N/s, N/min, N/h or unlimited); the key
 * itself is never stored, only its SHA-256. A request names its key in the
 * X-API-Key header. Without keys the service refuses any address but
 * loopback.
 *
 * Bounds: a body over max_body is 413; a header block over max_header is a
 * 431 with a JSON error, one over conn_memory is answered by libmicrohttpd
 * itself (431, its own body) and the connection closed; a client
 * idle for timeout_s is cut off; at most max_conns connections. */
#ifndef COINHOUND_SERVER_H
#define COINHOUND_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "coinhound/error.h"
#include "coinhound/screener.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ch_server ch_server;

typedef struct ch_server_opts {
    const char *listen;      /* "ADDR:PORT" ("[::1]:8080" for IPv6); port 0 picks a free one */
    const char *keys_path;   /* NULL: no keys, loopback only */
    unsigned threads;        /* worker threads (each its own epoll loop): default 2 */
    size_t max_body;         /* bytes of a request body: default 4 MiB */
    size_t max_batch;        /* addresses in one POST /v1/screen: default 10,000 */
    size_t conn_memory;      /* per connection, headers included: default 32 KiB */
    unsigned max_conns;      /* default 1024 */
    unsigned timeout_s;      /* an idle connection is closed after it: default 15 */
    unsigned refresh_ms;     /* the chain store moves to new commits at most this often:
                                default 1000 */
    const char *db;          /* the database served (its chain stores, attribution store and
                                alert logs) for the query endpoints; NULL: screening only */
    uint32_t max_trace_hops; /* POST /v1/trace: the hops a trace may ask for (default 20) */
    size_t max_header;       /* bytes of the request line and headers: over it, 431 with a
                                JSON error (default 8 KiB; below conn_memory) */
    const char *web_dir;     /* the web UI's built files, served at / without a key
                                (NULL: / answers 404 saying how to build it) */
} ch_server_opts;

#define CH_SERVER_DEFAULT_LISTEN "127.0.0.1:8080"

void ch_server_opts_init(ch_server_opts *o);

/* Start serving s (which the server uses but does not own: close it after
 * ch_server_stop). Fails (-1, err) on a bad listen address, a keys file
 * that does not parse (err names the line), a non-loopback address without
 * keys, or a port in use. */
int ch_server_start(ch_screener *s, const ch_server_opts *o, ch_server **out, ch_error *err);
/* The port listened on (the one picked when the option said 0). */
uint16_t ch_server_port(const ch_server *srv);
/* Is the listen address loopback? */
int ch_server_loopback(const ch_server *srv);
/* Stop accepting, finish or cut the requests in flight, free. NULL: no-op. */
void ch_server_stop(ch_server *srv);

/* The OpenAPI 3 document of the endpoints served (docs/openapi.json). */
const char *ch_server_openapi(void);

/* The web UI's folder next to this program: ../web/dist (the source tree's
 * build) or ../share/coinhound/web (installed), the first holding an
 * index.html, resolved into out. 0 found; -1 none (or out too small). */
int ch_server_web_default(char *out, size_t n);

/* The hex SHA-256 of an API key, as the keys file holds it. */
void ch_server_key_hash(const char *key, size_t len, char hex[65]);

#ifdef __cplusplus
}
#endif

#endif
