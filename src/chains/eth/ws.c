/* The WebSocket client of ws.h: one blocking-style connection over a
 * non-blocking socket and poll(2), so that every wait has a deadline. */
#include "chains/eth/ws.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netdb.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util/vec.h"

#define MAX_MESSAGE (16u << 20) /* a head is ~1 KiB; a node's largest answer far less */
#define MAX_HEADERS 8192        /* the upgrade answer's headers */

struct evm_ws {
    int fd;
    char url[1024];
    uint8_t *rb; /* bytes read, not yet parsed */
    size_t rn, rcap;
    char *msg; /* a fragmented message being put together */
    size_t mn, mcap;
    bool in_msg;
    char sub[80]; /* the subscription's id, "" before */
};

/* ---- frames ---------------------------------------------------------- */

int ws_frame_parse(const uint8_t *buf, size_t n, uint64_t max_payload, ws_frame *f, ch_error *err) {
    if (n < 2) return 0;
    memset(f, 0, sizeof *f);
    f->fin = buf[0] & 0x80;
    f->opcode = buf[0] & 0x0f;
    if (buf[0] & 0x70) return ch_err(err, "websocket: a frame sets reserved bits (0x%02x)", buf[0]);
    bool control = f->opcode & 0x8;
    if (f->opcode > WS_BINARY && !(control && f->opcode <= WS_PONG))
        return ch_err(err, "websocket: unknown opcode %u", f->opcode);
    f->masked = buf[1] & 0x80;
    uint64_t len = buf[1] & 0x7f;
    size_t h = 2;
    if (len == 126) {
        if (n < 4) return 0;
        len = (uint64_t)buf[2] << 8 | buf[3];
        if (len < 126) return ch_err(err, "websocket: a length not in its shortest form");
        h = 4;
    } else if (len == 127) {
        if (n < 10) return 0;
        len = 0;
        for (int i = 0; i < 8; i++)
            len = len << 8 | buf[2 + i];
        if (len >> 63) return ch_err(err, "websocket: a 64-bit length with its top bit set");
        if (len < 65536) return ch_err(err, "websocket: a length not in its shortest form");
        h = 10;
    }
    if (control && (!f->fin || len > 125))
        return ch_err(err, "websocket: a control frame fragmented or over 125 bytes");
    if (len > max_payload)
        return ch_err(err, "websocket: a frame of %llu bytes (over %llu)", (unsigned long long)len,
                      (unsigned long long)max_payload);
    if (f->masked) {
        if (n < h + 4) return 0;
        memcpy(f->mask, buf + h, 4);
        h += 4;
    }
    f->len = len;
    f->header = h;
    return n - h >= len ? 1 : 0;
}

size_t ws_frame_write(uint8_t *out, uint8_t opcode, const uint8_t *payload, size_t len,
                      const uint8_t mask[4]) {
    size_t h = 0;
    out[h++] = (uint8_t)(0x80 | (opcode & 0x0f));
    if (len < 126) {
        out[h++] = (uint8_t)(0x80 | len);
    } else if (len < 65536) {
        out[h++] = 0x80 | 126;
        out[h++] = (uint8_t)(len >> 8);
        out[h++] = (uint8_t)len;
    } else {
        out[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            out[h++] = (uint8_t)((uint64_t)len >> (8 * i));
    }
    memcpy(out + h, mask, 4);
    h += 4;
    for (size_t i = 0; i < len; i++)
        out[h + i] = payload[i] ^ mask[i & 3];
    return h + len;
}

void ws_accept_for(const char *key, char out[29]) {
    static const char GUID[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    char cat[128];
    snprintf(cat, sizeof cat, "%.60s%s", key, GUID);
    uint8_t d[SHA_DIGEST_LENGTH];
    SHA1((const unsigned char *)cat, strlen(cat), d);
    EVP_EncodeBlock((unsigned char *)out, d, SHA_DIGEST_LENGTH); /* 28 characters and a NUL */
}

/* ---- the connection -------------------------------------------------- */

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Wait for fd to be ready for events until deadline: 1 ready, 0 timeout,
 * -1 error. */
static int wait_fd(int fd, short events, double deadline) {
    for (;;) {
        double left = deadline - now_ms();
        if (left <= 0) return 0;
        struct pollfd p = {.fd = fd, .events = events};
        int r = poll(&p, 1, (int)(left + 1));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return -1;
        if (r == 0) return 0;
        return 1;
    }
}

static int send_all(evm_ws *w, const uint8_t *p, size_t n, double deadline, ch_error *err) {
    while (n) {
        ssize_t k = send(w->fd, p, n, MSG_NOSIGNAL);
        if (k > 0) {
            p += k;
            n -= (size_t)k;
            continue;
        }
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            if (wait_fd(w->fd, POLLOUT, deadline) <= 0)
                return ch_err(err, "%s: websocket: sending timed out", w->url);
            continue;
        }
        return ch_err(err, "%s: websocket: send: %s", w->url, strerror(errno));
    }
    return 0;
}

/* Read what is there (waiting until deadline for something): 1 read, 0
 * timeout, -1 closed or failed. */
static int read_some(evm_ws *w, double deadline, ch_error *err) {
    if (w->rn == w->rcap) {
        uint8_t *b = ch_grow(w->rb, &w->rcap, w->rn + 65536, 1);
        if (!b) return ch_err(err, "out of memory");
        w->rb = b;
    }
    for (;;) {
        ssize_t k = recv(w->fd, w->rb + w->rn, w->rcap - w->rn, 0);
        if (k > 0) {
            w->rn += (size_t)k;
            return 1;
        }
        if (k == 0) return ch_err(err, "%s: websocket: the node closed the connection", w->url);
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return ch_err(err, "%s: websocket: recv: %s", w->url, strerror(errno));
        int r = wait_fd(w->fd, POLLIN, deadline);
        if (r < 0) return ch_err(err, "%s: websocket: poll: %s", w->url, strerror(errno));
        if (r == 0) return 0;
    }
}

/* ws://host[:port][/path] into its parts. */
static int parse_url(const char *url, char *host, size_t hcap, char *port, char *path, size_t pcap,
                     ch_error *err) {
    if (!strncasecmp(url, "wss://", 6))
        return ch_err(err,
                      "%s: wss:// (TLS) is not supported by this version: use ws:// to a "
                      "node on a trusted network, or http(s):// polling",
                      url);
    if (strncasecmp(url, "ws://", 5)) return ch_err(err, "%s: not a ws:// URL", url);
    const char *h = url + 5, *slash = strchr(h, '/');
    size_t hl = slash ? (size_t)(slash - h) : strlen(h);
    snprintf(path, pcap, "%s", slash ? slash : "/");
    char hp[512];
    if (hl == 0 || hl >= sizeof hp) return ch_err(err, "%s: no host in the URL", url);
    memcpy(hp, h, hl);
    hp[hl] = 0;
    char *colon = hp[0] == '[' ? strstr(hp, "]:") : strrchr(hp, ':');
    if (hp[0] == '[' && colon) colon++;
    snprintf(port, 8, "80");
    if (colon && (hp[0] == '[' || !strchr(colon + 1, ':'))) {
        if (!colon[1] || strlen(colon + 1) > 5 ||
            strspn(colon + 1, "0123456789") != strlen(colon + 1))
            return ch_err(err, "%s: '%s' is not a port", url, colon + 1);
        snprintf(port, 8, "%s", colon + 1);
        *colon = 0;
    }
    size_t n = strlen(hp);
    if (hp[0] == '[') { /* [v6] */
        if (n < 3 || hp[n - 1] != ']') return ch_err(err, "%s: a malformed [address]", url);
        hp[n - 1] = 0;
        memmove(hp, hp + 1, n - 1);
    }
    snprintf(host, hcap, "%s", hp);
    return 0;
}

static int connect_to(evm_ws *w, const char *host, const char *port, double deadline,
                      ch_error *err) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) return ch_err(err, "%s: %s: %s", w->url, host, gai_strerror(rc));
    int last = 0;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) continue;
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0 ||
            (errno == EINPROGRESS && wait_fd(fd, POLLOUT, deadline) == 1)) {
            int so = 0;
            socklen_t sl = sizeof so;
            if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &sl) == 0 && so == 0) {
                w->fd = fd;
                freeaddrinfo(res);
                return 0;
            }
            last = so;
        } else {
            last = errno == EINPROGRESS ? ETIMEDOUT : errno;
        }
        close(fd);
    }
    freeaddrinfo(res);
    return ch_err(err, "%s: cannot connect: %s", w->url, strerror(last ? last : ECONNREFUSED));
}

/* The upgrade: the request, then the node's 101 answer with the accept
 * value of our key. Bytes after the answer's headers are frames: kept. */
static int handshake(evm_ws *w, const char *host, const char *port, const char *path,
                     double deadline, ch_error *err) {
    uint8_t raw[16];
    char key[32], want[29], req[2048];
    if (RAND_bytes(raw, sizeof raw) != 1) return ch_err(err, "websocket: no random bytes");
    EVP_EncodeBlock((unsigned char *)key, raw, sizeof raw);
    ws_accept_for(key, want);
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: %s:%s\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                     "Sec-WebSocket-Version: 13\r\nUser-Agent: coinhound-watch\r\n\r\n",
                     path, host, port, key);
    if (n <= 0 || (size_t)n >= sizeof req) return ch_err(err, "%s: the URL is too long", w->url);
    if (send_all(w, (const uint8_t *)req, (size_t)n, deadline, err) != 0) return -1;
    char *end = NULL;
    while (!end) {
        int r = read_some(w, deadline, err);
        if (r < 0) return -1;
        if (r == 0) return ch_err(err, "%s: websocket: no answer to the upgrade", w->url);
        end = memmem(w->rb, w->rn, "\r\n\r\n", 4);
        if (!end && w->rn > MAX_HEADERS)
            return ch_err(err, "%s: websocket: the upgrade's answer has no end", w->url);
    }
    size_t hl = (size_t)(end - (char *)w->rb) + 4;
    char *hdr = malloc(hl + 1);
    if (!hdr) return ch_err(err, "out of memory");
    memcpy(hdr, w->rb, hl);
    hdr[hl] = 0;
    memmove(w->rb, w->rb + hl, w->rn - hl);
    w->rn -= hl;
    int rc = 0;
    if (strncmp(hdr, "HTTP/1.1 101", 12)) {
        hdr[strcspn(hdr, "\r\n")] = 0;
        rc = ch_err(err, "%s: the node did not upgrade to a websocket: '%.100s'", w->url, hdr);
    } else {
        bool ok = false;
        for (char *line = strstr(hdr, "\r\n"); line && !ok; line = strstr(line + 2, "\r\n")) {
            const char *name = "\r\nSec-WebSocket-Accept:";
            if (strncasecmp(line, name, strlen(name))) continue;
            const char *v = line + strlen(name);
            v += strspn(v, " \t");
            ok = !strncmp(v, want, 28) && (v[28] == '\r' || v[28] == ' ');
        }
        if (!ok)
            rc = ch_err(err, "%s: the node's Sec-WebSocket-Accept is wrong or missing", w->url);
    }
    free(hdr);
    return rc;
}

int evm_ws_open(const char *url, unsigned timeout_ms, evm_ws **out, ch_error *err) {
    *out = NULL;
    char host[512], port[8], path[1024];
    if (parse_url(url, host, sizeof host, port, path, sizeof path, err) != 0) return -1;
    evm_ws *w = calloc(1, sizeof *w);
    if (!w) return ch_err(err, "out of memory");
    w->fd = -1;
    snprintf(w->url, sizeof w->url, "%s", url);
    double deadline = now_ms() + (timeout_ms ? timeout_ms : 10000);
    if (connect_to(w, host, port, deadline, err) != 0 ||
        handshake(w, host, port, path, deadline, err) != 0) {
        evm_ws_close(w);
        return -1;
    }
    *out = w;
    return 0;
}

void evm_ws_close(evm_ws *w) {
    if (!w) return;
    if (w->fd >= 0) close(w->fd);
    free(w->rb);
    free(w->msg);
    free(w);
}

static int send_frame(evm_ws *w, uint8_t opcode, const uint8_t *p, size_t len, ch_error *err) {
    uint8_t mask[4];
    if (RAND_bytes(mask, 4) != 1) return ch_err(err, "websocket: no random bytes");
    uint8_t small[256], *buf = len + 14 <= sizeof small ? small : malloc(len + 14);
    if (!buf) return ch_err(err, "out of memory");
    size_t n = ws_frame_write(buf, opcode, p, len, mask);
    int rc = send_all(w, buf, n, now_ms() + 10000, err);
    if (buf != small) free(buf);
    return rc;
}

int evm_ws_send(evm_ws *w, const char *text, size_t len, ch_error *err) {
    return send_frame(w, WS_TEXT, (const uint8_t *)text, len, err);
}

/* Add a frame's payload (unmasked) to the message being put together. */
static int msg_add(evm_ws *w, const ws_frame *f, const uint8_t *p, ch_error *err) {
    if (w->mn + f->len + 1 > MAX_MESSAGE)
        return ch_err(err, "%s: websocket: a message over %u bytes", w->url, MAX_MESSAGE);
    char *m = ch_grow(w->msg, &w->mcap, w->mn + (size_t)f->len + 1, 1);
    if (!m) return ch_err(err, "out of memory");
    w->msg = m;
    for (uint64_t i = 0; i < f->len; i++)
        m[w->mn + i] = (char)(f->masked ? p[i] ^ f->mask[i & 3] : p[i]);
    w->mn += (size_t)f->len;
    m[w->mn] = 0;
    return 0;
}

/* Handle the frames already read: 1 a whole message is in w->msg, 0 more
 * bytes are needed, -1 the connection ends. */
static int take_frames(evm_ws *w, ch_error *err) {
    for (;;) {
        ws_frame f;
        int r = ws_frame_parse(w->rb, w->rn, MAX_MESSAGE, &f, err);
        if (r < 0) return ch_err_prefix(err, "%s", w->url);
        if (r == 0) return 0;
        const uint8_t *p = w->rb + f.header;
        size_t used = f.header + (size_t)f.len;
        int done = 0;
        switch (f.opcode) {
        case WS_PING: {
            uint8_t pay[125];
            for (uint64_t i = 0; i < f.len; i++)
                pay[i] = f.masked ? p[i] ^ f.mask[i & 3] : p[i];
            if (send_frame(w, WS_PONG, pay, (size_t)f.len, err) != 0) return -1;
            break;
        }
        case WS_PONG:
            break;
        case WS_CLOSE: {
            uint8_t none = 0;
            send_frame(w, WS_CLOSE, &none, 0, err);
            return ch_err(err, "%s: websocket: the node closed the connection (close frame)",
                          w->url);
        }
        case WS_CONT:
            if (!w->in_msg) return ch_err(err, "%s: websocket: a continuation of nothing", w->url);
            if (msg_add(w, &f, p, err) != 0) return -1;
            done = f.fin;
            break;
        default: /* text or binary: a new message */
            if (w->in_msg)
                return ch_err(err, "%s: websocket: a new message inside a fragmented one", w->url);
            w->mn = 0;
            if (msg_add(w, &f, p, err) != 0) return -1;
            w->in_msg = !f.fin;
            done = f.fin;
            break;
        }
        if (f.opcode == WS_CONT && f.fin) w->in_msg = false;
        memmove(w->rb, w->rb + used, w->rn - used);
        w->rn -= used;
        if (done) return 1;
    }
}

int evm_ws_recv(evm_ws *w, unsigned timeout_ms, char **msg, size_t *len, ch_error *err) {
    *msg = NULL;
    *len = 0;
    double deadline = now_ms() + timeout_ms;
    for (;;) {
        int r = take_frames(w, err);
        if (r < 0) return -1;
        if (r == 1) {
            *msg = malloc(w->mn + 1);
            if (!*msg) return ch_err(err, "out of memory");
            memcpy(*msg, w->msg ? w->msg : "", w->mn + 1);
            *len = w->mn;
            w->mn = 0;
            return 1;
        }
        if (w->rn == w->rcap && w->rcap >= MAX_MESSAGE + 64)
            return ch_err(err, "%s: websocket: a frame larger than the buffer", w->url);
        r = read_some(w, deadline, err);
        if (r <= 0) return r;
    }
}

int evm_ws_subscribe_heads(evm_ws *w, unsigned timeout_ms, ch_error *err) {
    static const char REQ[] =
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_subscribe\",\"params\":[\"newHeads\"]}";
    if (evm_ws_send(w, REQ, sizeof REQ - 1, err) != 0) return -1;
    double deadline = now_ms() + timeout_ms;
    for (;;) {
        double left = deadline - now_ms();
        char *m;
        size_t n;
        int r = left > 0 ? evm_ws_recv(w, (unsigned)left, &m, &n, err) : 0;
        if (r < 0) return -1;
        if (r == 0) return ch_err(err, "%s: no answer to eth_subscribe", w->url);
        json_t *j = json_loadb(m, n, 0, NULL);
        free(m);
        json_t *id = json_object_get(j, "id");
        if (!id || json_integer_value(id) != 1) { /* not the answer (a head already?) */
            json_decref(j);
            continue;
        }
        const char *sub = json_string_value(json_object_get(j, "result"));
        if (!sub || strlen(sub) >= sizeof w->sub) {
            json_t *e = json_object_get(j, "error");
            const char *why = json_string_value(json_object_get(e, "message"));
            ch_err(err, "%s: eth_subscribe newHeads refused: %s", w->url,
                   why ? why : "no subscription id");
            json_decref(j);
            return -1;
        }
        snprintf(w->sub, sizeof w->sub, "%s", sub);
        json_decref(j);
        return 0;
    }
}

bool evm_ws_is_head(const evm_ws *w, const char *msg, size_t len) {
    json_t *j = json_loadb(msg, len, 0, NULL);
    bool is = false;
    if (j && w->sub[0]) {
        const char *method = json_string_value(json_object_get(j, "method"));
        const char *sub =
            json_string_value(json_object_get(json_object_get(j, "params"), "subscription"));
        is = method && !strcmp(method, "eth_subscription") && sub && !strcmp(sub, w->sub);
    }
    json_decref(j);
    return is;
}
