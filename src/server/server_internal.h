/* The service's state and the answer a handler builds (server/server.c,
 * server/routes.c). */
#ifndef COINHOUND_SERVER_INTERNAL_H
#define COINHOUND_SERVER_INTERNAL_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "coinhound/server.h"
#include "server/keys.h"
#include "server/metrics.h"

struct ch_server {
    struct MHD_Daemon *mhd;
    ch_screener *screener;
    ch_server_opts opts;
    srv_keys keys;
    bool have_keys, loopback;
    uint16_t port;
    /* the chain store's read transaction is one thread's at a time (see
     * screener.h): screening with a store, and its refresh, hold this */
    pthread_mutex_t store_mu;
    bool store_locking;
    bool store_broken; /* a refresh failed: screening answers 503 */
    double last_refresh;
    pthread_key_t verdict_key; /* each worker thread's ch_verdict */
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

#endif
