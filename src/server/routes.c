/* The endpoints' handlers. Each parses, calls the library (the same calls
 * as the CLI's: ch_screener_screen, ch_verdict_write_json), and writes. */
#include <stdarg.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/hash.h"
#include "coinhound/jsonw.h"
#include "coinhound/version.h"
#include "server/request.h"
#include "server/server_internal.h"
#include "util/sjson.h"
#include "util/vec.h"

static ssize_t mem_write(void *cookie, const char *p, size_t n) {
    srv_membuf *m = cookie;
    if (n > SIZE_MAX - m->len - 1) return -1;
    char *b = ch_grow(m->buf, &m->cap, m->len + n + 1, 1);
    if (!b) return -1;
    m->buf = b;
    memcpy(m->buf + m->len, p, n);
    m->len += n;
    m->buf[m->len] = '\0';
    return (ssize_t)n;
}

int srv_mem_open(srv_membuf *m) {
    m->buf = NULL; /* not the io buffer: nothing in it is read before written */
    m->len = m->cap = 0;
    cookie_io_functions_t io = {.write = mem_write};
    m->f = fopencookie(m, "w", io);
    if (!m->f) return -1;
    setvbuf(m->f, m->io, _IOFBF, sizeof m->io);
    /* one thread writes it: no stream lock per fputc (a quarter of a
     * batch's time went to the locked calls of the JSON writer) */
    __fsetlocking(m->f, FSETLOCKING_BYCALLER);
    return 0;
}

/* Close m's stream: 0 with m->buf the whole text (NULL when nothing was
 * written), or -1 when a write or the close failed (m->buf freed, empty). */
static int mem_close(srv_membuf *m) {
    bool bad = ferror(m->f) != 0;
    if (fclose(m->f) != 0 || bad) {
        free(m->buf);
        m->buf = NULL;
        m->len = 0;
        return -1;
    }
    return 0;
}

void srv_mem_reply(srv_membuf *m, srv_reply *r, unsigned status, const char *ctype) {
    if (mem_close(m) != 0) {
        srv_reply_error(r, 500, "out of memory writing the answer");
        return;
    }
    r->status = status;
    r->body = m->buf;
    r->len = m->len;
    r->content_type = ctype;
}

void srv_mem_drop(srv_membuf *m) {
    fclose(m->f);
    free(m->buf);
    m->buf = NULL;
    m->len = m->cap = 0;
}

void srv_reply_error(srv_reply *r, unsigned status, const char *fmt, ...) {
    char msg[CH_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    free(r->body);
    r->body = NULL;
    r->len = 0;
    ch_jw w;
    ch_jw_init_mem(&w, 0);
    ch_jw_obj_begin(&w);
    ch_jw_key(&w, "error");
    ch_jw_obj_begin(&w);
    ch_jw_key(&w, "status");
    ch_jw_uint(&w, status);
    ch_jw_key(&w, "message");
    ch_jw_str(&w, msg);
    ch_jw_obj_end(&w);
    ch_jw_obj_end(&w);
    ch_jw_newline(&w);
    r->status = status;
    r->body = ch_jw_mem_take(&w, &r->len); /* NULL: an empty body, still the right status */
    r->content_type = "application/json";
}

/* Answer r with what w wrote in memory (status, JSON); 500 if memory ran
 * out on the way. */
static void jw_reply(ch_jw *w, srv_reply *r, unsigned status) {
    r->body = ch_jw_mem_take(w, &r->len);
    if (!r->body) {
        srv_reply_error(r, 500, "out of memory writing the answer");
        return;
    }
    r->status = status;
    r->content_type = "application/json";
}

/* A worker thread's scratch, kept across its requests (scratch_key): the
 * verdict, the batch parser and its items. */
#define SRV_BATCH_CHUNK 64 /* a batch's addresses screened together (ch_screener_screen_many) */

typedef struct srv_scratch {
    ch_verdict *v;
    ch_verdict *chunk[SRV_BATCH_CHUNK]; /* NULL until the thread's first batch */
    sj_parser *sj;                      /* NULL until the thread's first batch */
    srv_item *items;
    size_t items_cap;
} srv_scratch;

void srv_scratch_free(void *p) {
    srv_scratch *t = p;
    if (!t) return;
    ch_verdict_free(t->v);
    for (size_t i = 0; i < SRV_BATCH_CHUNK; i++)
        ch_verdict_free(t->chunk[i]);
    sj_parser_free(t->sj);
    free(t->items);
    free(t);
}

/* The thread's scratch, made on its first request; NULL: out of memory. */
static srv_scratch *thread_scratch(ch_server *s) {
    srv_scratch *t = pthread_getspecific(s->scratch_key);
    if (t) return t;
    t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->v = ch_verdict_new();
    if (!t->v || pthread_setspecific(s->scratch_key, t) != 0) {
        srv_scratch_free(t);
        return NULL;
    }
    return t;
}

/* Hold the screener's chain store (when there is one), moved to new
 * commits. false: the store failed to refresh, answer 503. */
static bool store_enter(ch_server *s) {
    return !s->store_locking || srv_chain_enter(s, &s->chains[0]);
}

static void store_leave(ch_server *s) {
    if (s->store_locking) srv_chain_leave(&s->chains[0]);
}

/* A sanctions identification per current, direct reason of category
 * sanctions: the best-known free sanctions API's shape. */
static void write_identifications(ch_jw *w, const ch_verdict *v) {
    ch_jw_obj_begin(w);
    ch_jw_key(w, "identifications");
    ch_jw_arr_begin(w);
    for (size_t i = 0; i < v->risk.n_current; i++) {
        const ch_risk_reason *r = &v->risk.reasons[i];
        const ch_attribution *a = r->attr;
        char cat[CH_RISK_KEY_MAX], auth[64], text[1024];
        if ((size_t)(a - v->attrs) >= v->n_direct) continue; /* through a cluster-mate */
        ch_risk_normalise_category(a->category, cat, sizeof cat);
        if (strcmp(cat, "sanctions") != 0 && strcmp(cat, "sanctioned") != 0) continue;
        ch_risk_authority(a, auth, sizeof auth);
        ch_jw_obj_begin(w);
        ch_jw_key(w, "category");
        ch_jw_str(w, "sanctions");
        ch_jw_key(w, "name");
        snprintf(text, sizeof text, "SANCTIONS: %s %s%s%s", auth, a->entity,
                 a->first_listed[0] ? " " : "", a->first_listed);
        ch_jw_str(w, text);
        ch_jw_key(w, "description");
        snprintf(text, sizeof text, "%s%s%s%s, listed by %s%s%s", a->entity,
                 r->actor_label[0] ? " (" : "", r->actor_label, r->actor_label[0] ? ")" : "",
                 a->source_name[0] ? a->source_name : auth, a->source_date[0] ? " on " : "",
                 a->source_date);
        ch_jw_str(w, text);
        ch_jw_key(w, "url");
        ch_jw_str(w, a->source_url);
        ch_jw_obj_end(w);
    }
    ch_jw_arr_end(w);
    ch_jw_obj_end(w);
    ch_jw_newline(w);
}

void srv_sanctions(ch_server *s, const char *url, srv_reply *r) {
    char addr[CH_ADDR_STR_MAX];
    ch_error err;
    if (srv_path_address(url, "/api/v1/address/", addr, &err) != 0) {
        srv_reply_error(r, 400, "%s", err.msg);
        return;
    }
    srv_scratch *t = thread_scratch(s);
    if (!t) {
        srv_reply_error(r, 500, "out of memory");
        return;
    }
    ch_verdict *v = t->v;
    if (!store_enter(s)) {
        srv_reply_error(r, 503, "the chain store is unavailable");
        return;
    }
    ch_verdict_kind k = ch_screener_screen(s->screener, addr, v);
    store_leave(s);
    atomic_fetch_add_explicit(&s->metrics.addresses, 1, memory_order_relaxed);
    /* never an empty list (clean) for what was not judged */
    if (k == CH_VERDICT_INVALID || k == CH_VERDICT_UNSUPPORTED) {
        srv_reply_error(r, 400, "%s: %s",
                        k == CH_VERDICT_INVALID ? "invalid address" : "unsupported address",
                        v->error);
        return;
    }
    if (k != CH_VERDICT_OK) {
        srv_reply_error(r, 500, "lookup failed: %s", v->error);
        return;
    }
    ch_jw w;
    ch_jw_init_mem(&w, 0);
    write_identifications(&w, v);
    jw_reply(&w, r, 200);
}

/* A verdict's size in a batch's answer, about: the answer's first
 * allocation is this times the items (doubling from 4 KiB, a 7 MB answer
 * was copied eleven times). */
#define VERDICT_BYTES_GUESS 768

void srv_screen_batch(ch_server *s, const char *body, size_t len, srv_reply *r) {
    json_t *doc = NULL;
    srv_item *items;
    size_t n;
    srv_scratch *t = thread_scratch(s);
    if (!t || (!t->sj && !(t->sj = sj_parser_new()))) {
        srv_reply_error(r, 500, "out of memory");
        return;
    }
    for (size_t i = 0; i < SRV_BATCH_CHUNK; i++)
        if (!t->chunk[i] && !(t->chunk[i] = ch_verdict_new())) {
            srv_reply_error(r, 500, "out of memory");
            return;
        }
    /* simdjson when it accepts the body; jansson's parse otherwise, which
     * says what is wrong (or accepts what simdjson would not judge) */
    int fast =
        srv_parse_batch_fast(t->sj, body, len, s->opts.max_batch, &t->items, &t->items_cap, &n);
    if (fast < 0) {
        srv_reply_error(r, 500, "out of memory");
        return;
    }
    if (fast) {
        items = t->items;
    } else {
        int too_many;
        ch_error err;
        if (srv_parse_batch(body, len, s->opts.max_batch, &doc, &items, &n, &too_many, &err) != 0) {
            srv_reply_error(r, too_many ? 413 : 400, "%s", err.msg);
            return;
        }
    }
    ch_jw w;
    ch_jw_init_mem(&w, n * VERDICT_BYTES_GUESS);
    ch_jw_arr_begin(&w);
    bool unavailable = false;
    /* a chunk's addresses screened together (with a set: parsed, checksums
     * included, and looked up as one batch), then written in order */
    for (size_t base = 0; base < n && !unavailable; base += SRV_BATCH_CHUNK) {
        size_t m = n - base < SRV_BATCH_CHUNK ? n - base : SRV_BATCH_CHUNK;
        const char *addrs[SRV_BATCH_CHUNK];
        for (size_t i = 0; i < m; i++)
            addrs[i] = items[base + i].address;
        if (!store_enter(s)) {
            unavailable = true;
            break;
        }
        ch_screener_screen_many(s->screener, addrs, m, t->chunk);
        /* written under the lock: exposure paths name txids from the store */
        for (size_t i = 0; i < m; i++)
            ch_verdict_write_json(t->chunk[i], &w, items[base + i].external_id);
        store_leave(s);
    }
    ch_jw_arr_end(&w);
    ch_jw_newline(&w);
    atomic_fetch_add_explicit(&s->metrics.addresses, n, memory_order_relaxed);
    if (!fast) {
        free(items);
        json_decref(doc);
    }
    if (unavailable) {
        ch_jw_mem_free(&w);
        srv_reply_error(r, 503, "the chain store is unavailable");
        return;
    }
    jw_reply(&w, r, 200);
}

void srv_status(ch_server *s, srv_reply *r) {
    srv_membuf m;
    if (srv_mem_open(&m) != 0) {
        srv_reply_error(r, 500, "out of memory");
        return;
    }
    ch_jw w;
    ch_jw_init(&w, m.f);
    ch_jw_obj_begin(&w);
    ch_jw_key(&w, "service");
    ch_jw_str(&w, "coinhound");
    ch_jw_key(&w, "version");
    ch_jw_str(&w, COINHOUND_VERSION);
    ch_jw_key(&w, "uptime_seconds");
    ch_jw_uint(&w, (uint64_t)(srv_now() - s->started));
    ch_jw_key(&w, "threads");
    ch_jw_uint(&w, s->opts.threads);
    ch_jw_key(&w, "keys");
    ch_jw_bool(&w, s->have_keys);
    ch_jw_key(&w, "max_batch");
    ch_jw_uint(&w, s->opts.max_batch);
    ch_screen_set *set = ch_screener_set(s->screener);
    ch_jw_key(&w, "source");
    ch_jw_str(&w, set ? "set" : "db");
    if (set) {
        ch_screen_info in;
        ch_screen_set_info(set, &in);
        ch_jw_key(&w, "set");
        ch_jw_obj_begin(&w);
        ch_jw_key(&w, "addresses");
        ch_jw_uint(&w, in.addresses);
        ch_jw_key(&w, "attributions");
        ch_jw_uint(&w, in.attributions);
        ch_jw_key(&w, "version");
        ch_jw_uint(&w, in.version);
        ch_jw_obj_end(&w);
    }
    ch_jw_key(&w, "store");
    if (!ch_screener_store(s->screener)) {
        ch_jw_null(&w);
    } else if (!store_enter(s)) {
        ch_jw_null(&w);
    } else {
        ch_store *st = ch_screener_store(s->screener);
        ch_store_counts n;
        ch_store_get_counts(st, &n);
        ch_jw_obj_begin(&w);
        ch_jw_key(&w, "chain");
        ch_jw_str(&w, ch_screener_chain(s->screener));
        ch_jw_key(&w, "blocks");
        ch_jw_uint(&w, n.blocks);
        ch_jw_key(&w, "txs");
        ch_jw_uint(&w, n.txs);
        ch_jw_key(&w, "addresses");
        ch_jw_uint(&w, n.addresses);
        if (n.blocks) {
            ch_hash256 h;
            char hex[65];
            memcpy(h.b, ch_store_block(st, (uint32_t)n.blocks - 1)->hash, 32);
            ch_hash256_to_hex(&h, hex);
            ch_jw_key(&w, "tip_height");
            ch_jw_uint(&w, ch_store_first_number(st) + n.blocks - 1);
            ch_jw_key(&w, "tip_hash");
            ch_jw_str(&w, hex);
        }
        ch_jw_obj_end(&w);
        store_leave(s);
    }
    ch_jw_obj_end(&w);
    ch_jw_newline(&w);
    srv_mem_reply(&m, r, 200, "application/json");
}

void srv_healthz(ch_server *s, srv_reply *r) {
    (void)s;
    static const char OK[] = "{\"status\":\"ok\"}\n";
    r->status = 200;
    r->body = malloc(sizeof OK);
    if (!r->body) {
        srv_reply_error(r, 500, "out of memory");
        return;
    }
    memcpy(r->body, OK, sizeof OK);
    r->len = sizeof OK - 1;
    r->content_type = "application/json";
}

void srv_metrics_reply(ch_server *s, srv_reply *r) {
    srv_membuf m;
    if (srv_mem_open(&m) != 0) {
        srv_reply_error(r, 500, "out of memory");
        return;
    }
    srv_metrics_write(&s->metrics, m.f);
    srv_listen_metrics(s, m.f);
    if (ch_screener_store(s->screener) && store_enter(s)) {
        ch_store_counts n;
        ch_store_get_counts(ch_screener_store(s->screener), &n);
        store_leave(s);
        fprintf(m.f,
                "# HELP coinhound_store_blocks Blocks in the chain store served.\n"
                "# TYPE coinhound_store_blocks gauge\n"
                "coinhound_store_blocks{chain=\"%s\"} %llu\n",
                ch_screener_chain(s->screener), (unsigned long long)n.blocks);
    }
    srv_mem_reply(&m, r, 200, "text/plain; version=0.0.4");
}

void srv_openapi(ch_server *s, srv_reply *r) {
    (void)s;
    const char *doc = ch_server_openapi();
    size_t n = strlen(doc);
    r->body = malloc(n + 1);
    if (!r->body) {
        srv_reply_error(r, 500, "out of memory");
        return;
    }
    memcpy(r->body, doc, n + 1);
    r->status = 200;
    r->len = n;
    r->content_type = "application/json";
}
