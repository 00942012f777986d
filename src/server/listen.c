/* Listening: one socket, one thread that accepts, and --threads daemons
 * of libmicrohttpd, each a thread with its own epoll loop, that the
 * accepted connections are handed to (MHD_add_connection).
 *
 * Why not libmicrohttpd's own thread pool, which shares the listening
 * socket among its threads: a thread woken by a new connection accepts
 * every connection waiting, up to ten in a row, so a client that opens its
 * few keep-alive connections at once (wrk, a desk's batch client, most
 * connection pools) had all of them on one thread, and a `--threads 2`
 * server used one core (docs/serve.md, measured). Here the accepting
 * thread gives each connection to the daemon with the fewest open ones,
 * so two clients are on two cores whatever the timing of their connects.
 *
 * The limit of open connections (max_conns) is the server's, not a
 * daemon's: while it is reached nothing is accepted, and connections wait
 * in the socket's backlog as they did with libmicrohttpd's own socket,
 * until an open one ends (checked every FULL_POLL_MS). */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/server_internal.h"

#define FULL_POLL_MS 20 /* at the limit: how often an ended connection is looked for */

/* libmicrohttpd's notice of a connection opened or closed on a daemon:
 * that daemon's counts. A connection handed over is taken up by the
 * daemon's own thread (STARTED comes from there, a little later), so
 * until then it is counted as handed, else the next accept would not see
 * it and could give the same daemon a second one. */
static void on_connection(void *cls, struct MHD_Connection *c, void **ctx,
                          enum MHD_ConnectionNotificationCode code) {
    (void)c;
    (void)ctx;
    srv_worker *w = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED)
        atomic_fetch_sub(&w->handed, 1), atomic_fetch_add(&w->open, 1);
    else if (code == MHD_CONNECTION_NOTIFY_CLOSED)
        atomic_fetch_sub(&w->open, 1);
}

/* the daemon with the fewest open connections (the first of a tie after
 * the last one chosen, so that equal ones take turns), and the total */
static srv_worker *least_loaded(ch_server *s, unsigned *total) {
    unsigned best = UINT32_MAX, sum = 0;
    srv_worker *pick = NULL;
    for (unsigned k = 0; k < s->n_workers; k++) {
        srv_worker *w = &s->workers[(s->next_worker + k) % s->n_workers];
        unsigned n = atomic_load(&w->open) + atomic_load(&w->handed);
        sum += n;
        if (n < best) best = n, pick = w;
    }
    s->next_worker = (unsigned)(pick - s->workers + 1) % s->n_workers;
    *total = sum;
    return pick;
}

/* The accepting thread: until srv_listen_stop writes to the wake pipe. */
static void *accept_loop(void *arg) {
    ch_server *s = arg;
    struct pollfd p[2] = {{.fd = s->listen_fd}, {.fd = s->wake[0], .events = POLLIN}};
    for (;;) {
        unsigned open;
        srv_worker *w = least_loaded(s, &open);
        bool full = open >= s->opts.max_conns;
        p[0].events = full ? 0 : POLLIN;
        if (poll(p, 2, full ? FULL_POLL_MS : -1) < 0 && errno != EINTR) {
            fprintf(stderr, "coinhound serve: accepting connections: poll: %s\n", strerror(errno));
            usleep(FULL_POLL_MS * 1000);
            continue;
        }
        if (p[1].revents) return NULL; /* srv_listen_stop */
        if (full || !(p[0].revents & POLLIN)) continue;
        struct sockaddr_storage a;
        socklen_t al = sizeof a;
        int fd = accept4(s->listen_fd, (struct sockaddr *)&a, &al, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            /* out of descriptors: wait for some to close rather than spin */
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                usleep(FULL_POLL_MS * 1000);
            continue; /* EAGAIN (the client left), ECONNABORTED, EINTR */
        }
        /* the daemon owns (and on failure closes) the socket from here */
        atomic_fetch_add(&w->handed, 1);
        if (MHD_add_connection(w->mhd, fd, (struct sockaddr *)&a, al) != MHD_YES)
            atomic_fetch_sub(&w->handed, 1);
    }
}

/* The listening socket, bound and listening on ss; -1 with errno. */
static int open_listen_socket(const struct sockaddr_storage *ss, bool v6) {
    int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int on = 1;
    /* a restarted server binds at once, past the old one's TIME_WAITs (as
     * libmicrohttpd does); no SO_REUSEPORT: a port in use stays refused */
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (v6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
    socklen_t len = v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    if (bind(fd, (const struct sockaddr *)ss, len) != 0 || listen(fd, SOMAXCONN) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

int srv_listen_start(ch_server *s, const struct sockaddr_storage *ss, bool v6,
                     MHD_AccessHandlerCallback on_request,
                     MHD_RequestCompletedCallback on_completed, ch_error *err) {
    s->listen_fd = s->wake[0] = s->wake[1] = -1;
    s->listen_fd = open_listen_socket(ss, v6);
    if (s->listen_fd < 0)
        return ch_err(err, "cannot listen on %s: %s (in use, or not an address of this host)",
                      s->opts.listen, strerror(errno));
    struct sockaddr_storage bound;
    socklen_t bl = sizeof bound;
    if (getsockname(s->listen_fd, (struct sockaddr *)&bound, &bl) == 0)
        s->port = ntohs(v6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                           : ((struct sockaddr_in *)&bound)->sin_port);
    s->workers = calloc(s->opts.threads, sizeof *s->workers);
    if (!s->workers || pipe2(s->wake, O_CLOEXEC) != 0) {
        ch_err(err, "cannot start the listener: %s", strerror(errno));
        goto fail;
    }
    /* suspend/resume: an alert stream with nothing to send is parked;
     * ITC: a connection handed over is taken at once */
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_TURBO | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC;
    for (unsigned i = 0; i < s->opts.threads; i++) {
        srv_worker *w = &s->workers[i];
        atomic_init(&w->open, 0);
        atomic_init(&w->handed, 0);
        w->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s,
                                  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)s->opts.conn_memory,
                                  MHD_OPTION_CONNECTION_LIMIT, (unsigned int)s->opts.max_conns,
                                  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)s->opts.timeout_s,
                                  MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                                  MHD_OPTION_NOTIFY_CONNECTION, on_connection, w, MHD_OPTION_END);
        if (!w->mhd) {
            ch_err(err, "cannot start server thread %u of %u", i + 1, s->opts.threads);
            goto fail;
        }
        s->n_workers++;
    }
    if (pthread_create(&s->acceptor, NULL, accept_loop, s) != 0) {
        ch_err(err, "cannot start the accepting thread");
        goto fail;
    }
    return 0;
fail:
    for (unsigned i = 0; i < s->n_workers; i++)
        MHD_stop_daemon(s->workers[i].mhd);
    free(s->workers);
    s->workers = NULL;
    s->n_workers = 0;
    for (int i = 0; i < 2; i++)
        if (s->wake[i] >= 0) close(s->wake[i]);
    close(s->listen_fd);
    return -1;
}

void srv_listen_metrics(ch_server *s, FILE *f) {
    fprintf(f, "# HELP coinhound_http_connections_open Open connections, by server thread.\n"
               "# TYPE coinhound_http_connections_open gauge\n");
    for (unsigned i = 0; i < s->n_workers; i++)
        fprintf(f, "coinhound_http_connections_open{thread=\"%u\"} %u\n", i,
                atomic_load(&s->workers[i].open));
}

void srv_listen_stop(ch_server *s) {
    /* one byte into an empty pipe: it cannot fail short of a closed fd */
    ssize_t wr = write(s->wake[1], "x", 1);
    (void)wr;
    pthread_join(s->acceptor, NULL);
    close(s->listen_fd); /* new connections are refused from here */
    for (unsigned i = 0; i < s->n_workers; i++)
        MHD_stop_daemon(s->workers[i].mhd);
    free(s->workers);
    close(s->wake[0]);
    close(s->wake[1]);
}
