/* GET /v1/alerts/stream: the watcher's alert log as Server-Sent Events.
 *
 * Each record the watcher appends to DIR/<chain>/watch/alerts.jsonl is one
 * event ("id: ID", "data: RECORD"), read with ch_watch_alerts_follow from
 * the byte after the last one sent. A stream with nothing to send is
 * suspended (libmicrohttpd's flow control: the worker's event loop is never
 * blocked), and one thread of the server resumes the suspended streams
 * every SRV_STREAM_POLL_MS to look again, so an alert reaches the client
 * within that time; a comment line every SRV_STREAM_BEAT_S keeps proxies
 * and clients from taking a quiet stream for a dead one. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "coinhound/watch.h"
#include "server/server_internal.h"
#include "util/vec.h"
#include "util/numparse.h"

#define SRV_STREAM_POLL_MS 200
#define SRV_STREAM_BEAT_S  10.0

struct srv_stream {
    ch_server *s;
    struct MHD_Connection *c;
    char chain[65];
    uint64_t offset; /* of the log: the byte after the last record sent */
    char *pending;   /* events formatted, not yet taken by libmicrohttpd */
    size_t plen, ppos, pcap;
    double last_sent;
    bool suspended;
    bool skipping; /* the first read without since: the log so far is not sent */
    struct srv_stream *next, *prev;
};

static int pend(srv_stream *st, const char *p, size_t n) {
    char *b = ch_grow(st->pending, &st->pcap, st->plen + n, 1);
    if (!b) return -1;
    st->pending = b;
    memcpy(st->pending + st->plen, p, n);
    st->plen += n;
    return 0;
}

/* One record as an event: its id (for the client's Last-Event-ID) and the
 * record as the log holds it (one line: a data field needs no splitting). */
static int add_event(const char *line, size_t len, void *vctx) {
    srv_stream *st = vctx;
    if (st->skipping) return 0;
    json_t *o = json_loadb(line, len, 0, NULL);
    const char *id = json_string_value(json_object_get(o, "id"));
    int rc = 0;
    if (id && !strpbrk(id, "\r\n")) {
        rc = pend(st, "id: ", 4) || pend(st, id, strlen(id)) || pend(st, "\ndata: ", 7) ||
             pend(st, line, len) || pend(st, "\n\n", 2);
    }
    json_decref(o);
    return rc;
}

/* New records of the log into pending, or a heartbeat when the stream has
 * been quiet. since: the first read's starting record (NULL: the log's
 * start). -1 with err when the log cannot be read or since is not in it. */
static int refill(srv_stream *st, const char *since, ch_error *err) {
    if (ch_watch_alerts_follow(st->s->opts.db, st->chain, since, &st->offset, add_event, st, err) <
        0)
        return -1;
    if (st->plen == 0 && srv_now() - st->last_sent >= SRV_STREAM_BEAT_S)
        return pend(st, ": keepalive\n\n", 13);
    return 0;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max) {
    (void)pos;
    srv_stream *st = cls;
    ch_server *s = st->s;
    if (st->ppos == st->plen) {
        st->ppos = st->plen = 0;
        ch_error err;
        if (refill(st, NULL, &err) != 0) {
            fprintf(stderr, "coinhound serve: alert stream of %s: %s\n", st->chain, err.msg);
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
    }
    if (st->plen == 0) {
        /* nothing to send: parked until the poller resumes it */
        pthread_mutex_lock(&s->streams_mu);
        bool stop = s->streams_stop;
        if (!stop) {
            st->suspended = true;
            MHD_suspend_connection(st->c);
        }
        pthread_mutex_unlock(&s->streams_mu);
        return stop ? MHD_CONTENT_READER_END_OF_STREAM : 0;
    }
    size_t n = st->plen - st->ppos < max ? st->plen - st->ppos : max;
    memcpy(buf, st->pending + st->ppos, n);
    st->ppos += n;
    st->last_sent = srv_now();
    return (ssize_t)n;
}

static void stream_free(void *cls) {
    srv_stream *st = cls;
    ch_server *s = st->s;
    pthread_mutex_lock(&s->streams_mu);
    if (st->prev)
        st->prev->next = st->next;
    else
        s->streams = st->next;
    if (st->next) st->next->prev = st->prev;
    s->n_streams--;
    pthread_mutex_unlock(&s->streams_mu);
    free(st->pending);
    free(st);
}

/* Every SRV_STREAM_POLL_MS, resume the suspended streams: each looks at
 * the log again and parks itself when nothing is new. */
static void *poller(void *arg) {
    ch_server *s = arg;
    struct timespec nap = {0, SRV_STREAM_POLL_MS * 1000000L};
    for (;;) {
        pthread_mutex_lock(&s->streams_mu);
        bool stop = s->streams_stop;
        for (srv_stream *st = s->streams; st; st = st->next)
            if (st->suspended) {
                st->suspended = false;
                MHD_resume_connection(st->c);
            }
        pthread_mutex_unlock(&s->streams_mu);
        if (stop) return NULL;
        nanosleep(&nap, NULL);
    }
}

int srv_streams_start(ch_server *s) {
    if (pthread_mutex_init(&s->streams_mu, NULL) != 0) return -1;
    s->streams = NULL;
    s->n_streams = 0;
    s->streams_stop = false;
    if (pthread_create(&s->streams_thread, NULL, poller, s) != 0) {
        pthread_mutex_destroy(&s->streams_mu);
        return -1;
    }
    return 0;
}

void srv_streams_stop(ch_server *s) {
    pthread_mutex_lock(&s->streams_mu);
    s->streams_stop = true;
    pthread_mutex_unlock(&s->streams_mu);
    pthread_join(s->streams_thread, NULL); /* its last round resumed every stream */
}

void srv_streams_free(ch_server *s) {
    pthread_mutex_destroy(&s->streams_mu);
}

struct MHD_Response *srv_alerts_stream(ch_server *s, const srv_req *q, srv_reply *r) {
    const char *chain = srv_alerts_chain(s, q, r);
    if (!chain) return NULL;
    /* where to start: after since (the parameter, or the Last-Event-ID of
     * a client reconnecting); without one, what is appended from now on
     * (GET /v1/alerts gives what came before, and its next_since) */
    const char *since = srv_arg(q, "since");
    if (!since && q->c) since = MHD_lookup_connection_value(q->c, MHD_HEADER_KIND, "Last-Event-ID");
    srv_stream *st = calloc(1, sizeof *st);
    if (!st) {
        srv_reply_error(r, 500, "out of memory");
        return NULL;
    }
    st->s = s;
    st->c = q->c;
    snprintf(st->chain, sizeof st->chain, "%s", chain);
    st->last_sent = srv_now();
    st->skipping = !since;
    ch_error err;
    int rc = refill(st, since, &err);
    st->skipping = false;
    if (rc != 0) { /* an unknown since is the client's mistake */
        free(st->pending);
        free(st);
        srv_reply_error(r, since ? 400 : 500, "%s", err.msg);
        return NULL;
    }
    pthread_mutex_lock(&s->streams_mu);
    bool full = s->n_streams >= SRV_MAX_STREAMS || s->streams_stop;
    if (!full) {
        st->next = s->streams;
        if (s->streams) s->streams->prev = st;
        s->streams = st;
        s->n_streams++;
    }
    pthread_mutex_unlock(&s->streams_mu);
    if (full) {
        free(st->pending);
        free(st);
        srv_reply_error(r, 503, "%d alert streams are open: at most that many", SRV_MAX_STREAMS);
        return NULL;
    }
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, st, stream_free);
    if (!resp) {
        stream_free(st);
        srv_reply_error(r, 500, "out of memory");
        return NULL;
    }
    MHD_add_response_header(resp, "Content-Type", "text/event-stream");
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    return resp;
}
