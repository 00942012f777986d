/* The service's state and the answer a handler builds (server/server.c,
 * server/routes.c). */
#ifndef COINHOUND_SERVER_INTERNAL_H
#define COINHOUND_SERVER_INTERNAL_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "coinhound/server.h"
#include "server/keys.h"
#include "server/metrics.h"

/* A chain store the service reads: the screener's (chains[0]) or another
 * chain of the database opened on first use (server/chains.c). Its read
 * transaction is one thread's at a time: a request holds mu while it reads
 * (srv_chain_enter), and the store moves to new commits at most every
 * refresh_ms, under mu. */
typedef struct srv_chain {
    char name[65];
    ch_store *st;        /* NULL: the database has no such store */
    bool owned;          /* opened here (closed by ch_server_stop), not the screener's */
    pthread_mutex_t *mu; /* &own_mu, or the server's store_mu for the screener's */
    pthread_mutex_t own_mu;
    double last_refresh;
    bool broken; /* a refresh failed: answers 503 rather than a stale state */
} srv_chain;

#define SRV_MAX_CHAINS 8

/* An open GET /v1/alerts/stream (server/stream.c). */
typedef struct srv_stream srv_stream;
#define SRV_MAX_STREAMS 64

/* One of the --threads daemons (server/listen.c). */
typedef struct srv_worker {
    struct MHD_Daemon *mhd;
    atomic_uint open;   /* its open connections */
    atomic_uint handed; /* handed to it, not taken up by its thread yet */
} srv_worker;

struct ch_server {
    /* listening (server/listen.c): the socket, the thread that accepts on
     * it, the daemons it hands connections to, the pipe that stops it */
    int listen_fd, wake[2];
    pthread_t acceptor;
    srv_worker *workers;
    unsigned n_workers, next_worker;
    ch_screener *screener;
    ch_server_opts opts;
    srv_keys keys;
    bool have_keys, loopback;
    uint16_t port;
    /* the chain store's read transaction is one thread's at a time (see
     * screener.h): screening with a store, and its refresh, hold this */
    pthread_mutex_t store_mu;
    bool store_locking;
    srv_chain chains[SRV_MAX_CHAINS]; /* [0]: the screener's chain */
    size_t n_chains;
    pthread_mutex_t chains_mu; /* opening a chain */
    pthread_mutex_t import_mu; /* one import at a time */
    /* the alert streams: a list under streams_mu, resumed by streams_thread */
    pthread_mutex_t streams_mu;
    srv_stream *streams;
    unsigned n_streams;
    bool streams_stop;
    pthread_t streams_thread;
    pthread_key_t scratch_key; /* each worker thread's scratch (routes.c), srv_scratch_free */
    double started;
    srv_metrics metrics;
};

/* An answer: status, a JSON (or text) body the handler allocated. */
typedef struct srv_reply {
    unsigned status;
    char *body; /* malloc'd; NULL: empty */
    size_t len;
    const char *content_type;
    const char *allow; /* for 405 */
} srv_reply;

double srv_now(void); /* monotonic seconds */

/* A request as the handlers see it: the path (decoded by MHD, no query),
 * the connection for query parameters (NULL in the fuzz harness: no
 * parameters) and the body. */
typedef struct srv_req {
    const char *url;
    struct MHD_Connection *c;
    const char *body;
    size_t len;
} srv_req;

/* The query parameter name, or NULL when absent (or no connection). */
const char *srv_arg(const srv_req *q, const char *name);

/* A body written through a stdio stream into a growing buffer (routes.c).
 * Not open_memstream: its buffer is the string itself, so every write past
 * the end reallocates; this one writes through a stdio buffer of its own
 * (io: no allocation) and grows by doubling from 4 KiB (a sanctions answer
 * fits; a 10,000-address batch is megabytes). Large first allocations were
 * the cost: 128 KiB malloc'd and freed per request made glibc consolidate
 * its heap each time. The membuf must stay where it is until the stream is
 * closed. */
typedef struct srv_membuf {
    FILE *f;
    char *buf;
    size_t len, cap;
    char io[8192];
} srv_membuf;

int srv_mem_open(srv_membuf *m);
/* Close the stream into r as a 'status' answer; 500 if it failed. */
void srv_mem_reply(srv_membuf *m, srv_reply *r, unsigned status, const char *ctype);
/* Close and drop what was written (an error is answered instead). */
void srv_mem_drop(srv_membuf *m);

/* ---- chain stores (server/chains.c) ---- */

/* Set chains[0] to the screener's chain and its store; 0 or -1. */
int srv_chains_init(ch_server *s);
/* Close the chains opened here. */
void srv_chains_close(ch_server *s);
/* The chain a request reads: the "chain" parameter when given, else the
 * screener's chain when its kind fits the argument (want_account: 1 an
 * account form such as 0x..., 0 a UTXO form, -1 either), else "eth" for an
 * account form and "btc" for a UTXO one (the CLI's rule, cli_chain_of).
 * Opens it on first use. NULL with r filled (400 a bad name, 404 no such
 * store or no database served). */
srv_chain *srv_chain_pick(ch_server *s, const srv_req *q, int want_account, srv_reply *r);
/* The chain named name (a checked chain name), opened when first asked for. */
srv_chain *srv_chain_named(ch_server *s, const char *name, srv_reply *r);
/* Hold c's store, moved to its latest commit at most every refresh_ms.
 * false: the store failed to refresh (answer 503); nothing is held. */
bool srv_chain_enter(ch_server *s, srv_chain *c);
void srv_chain_leave(srv_chain *c);

/* Free a worker thread's scratch (scratch_key's destructor). */
void srv_scratch_free(void *p);

/* A JSON error body {"error": {"status": N, "message": "..."}}. */
void srv_reply_error(srv_reply *r, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The handlers: each fills r from the request (url decoded by MHD, body). */
void srv_sanctions(ch_server *s, const char *url, srv_reply *r);
void srv_screen_batch(ch_server *s, const char *body, size_t len, srv_reply *r);
void srv_status(ch_server *s, srv_reply *r);
void srv_healthz(ch_server *s, srv_reply *r);
void srv_metrics_reply(ch_server *s, srv_reply *r);
void srv_openapi(ch_server *s, srv_reply *r);
void srv_static(ch_server *s, const char *url, srv_reply *r); /* server/static.c */

/* routes_query.c: the store's queries, the same calls as address, tx,
 * block, cluster and trace print through */
void srv_address(ch_server *s, const srv_req *q, srv_reply *r);
void srv_address_txs(ch_server *s, const srv_req *q, srv_reply *r);
void srv_tx(ch_server *s, const srv_req *q, srv_reply *r);
void srv_block(ch_server *s, const srv_req *q, srv_reply *r);
void srv_cluster(ch_server *s, const srv_req *q, srv_reply *r);
void srv_trace(ch_server *s, const srv_req *q, srv_reply *r);
/* POST /v1/report/case: {"trace": TraceRequest, "title", "notes", "tags"}
 * answered with the case report (ch_report_case_write) of that trace. */
void srv_report_case(ch_server *s, const srv_req *q, srv_reply *r);

/* routes_intel.c: the attribution store and the watcher's alerts */
void srv_intel_actors(ch_server *s, const srv_req *q, srv_reply *r);
void srv_intel_address(ch_server *s, const srv_req *q, srv_reply *r);
void srv_alerts(ch_server *s, const srv_req *q, srv_reply *r);
/* The chain whose watcher's alert log a request reads (GET /v1/alerts and
 * its stream): the "chain" parameter, else the screener's chain. NULL with r
 * filled: 404 no database is served, 400 not a chain name. */
const char *srv_alerts_chain(ch_server *s, const srv_req *q, srv_reply *r);
/* POST /v1/intel/import (write scope): the body imported in one transaction
 * through the screener's shared handle, under the store's writer lock. */
void srv_intel_import(ch_server *s, const srv_req *q, srv_reply *r);

/* stream.c: GET /v1/alerts/stream. The response to queue (200, Server-Sent
 * Events), or NULL with r filled (400, 404, 503 too many streams). */
struct MHD_Response *srv_alerts_stream(ch_server *s, const srv_req *q, srv_reply *r);
/* The thread that resumes parked streams: start (0/-1), stop (every stream
 * ends at its next read), free. */
int srv_streams_start(ch_server *s);
void srv_streams_stop(ch_server *s);
void srv_streams_free(ch_server *s);

/* Listening on ss (server/listen.c): the socket, opts.threads daemons
 * answering with on_request and on_completed (cls: the server), and the
 * thread that accepts; s->port is the port bound. 0, or -1 with err and
 * nothing left running. */
int srv_listen_start(ch_server *s, const struct sockaddr_storage *ss, bool v6,
                     MHD_AccessHandlerCallback on_request,
                     MHD_RequestCompletedCallback on_completed, ch_error *err);
/* The open connections of each thread, as /metrics gauges. */
void srv_listen_metrics(ch_server *s, FILE *f);
/* Stops accepting, then every daemon (their connections closed). */
void srv_listen_stop(ch_server *s);

#endif
