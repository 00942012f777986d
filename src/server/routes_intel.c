/* The attribution store and the watcher's alert log over HTTP: the calls
 * and writers of `coinhound intel lookup|actor --json` and `coinhound
 * alerts --json` (intel.h, watch.h). The attribution store is the
 * screener's (read transactions of their own: no lock). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "coinhound/intel.h"
#include "coinhound/watch.h"
#include "server/request.h"
#include "util/numparse.h"
#include "server/server_internal.h"

/* The screener's attribution store; NULL with r filled (404). */
static ch_intel *intel_of(ch_server *s, srv_reply *r) {
    ch_intel *db = ch_screener_intel(s->screener);
    if (!db) srv_reply_error(r, 404, "no attribution store is served (a screening set is)");
    return db;
}

typedef struct actors_ctx {
    ch_intel *db;
    ch_jw *w;
    ch_error *err;
} actors_ctx;

static int write_actor(const ch_actor *a, void *vctx) {
    actors_ctx *c = vctx;
    return ch_intel_actor_json(c->db, a, NULL, c->w, c->err) < 0 ? 1 : 0;
}

void srv_intel_actors(ch_server *s, const srv_req *q, srv_reply *r) {
    (void)q;
    ch_intel *db = intel_of(s, r);
    if (!db) return;
    srv_membuf m;
    if (srv_mem_open(&m) != 0) {
        srv_reply_error(r, 500, "out of memory");
        return;
    }
    ch_error err = {{0}};
    ch_jw w;
    ch_jw_init(&w, m.f);
    ch_jw_obj_begin(&w);
    ch_jw_key(&w, "actors");
    ch_jw_arr_begin(&w);
    actors_ctx c = {db, &w, &err};
    int rc = ch_intel_actors_foreach(db, write_actor, &c, &err);
    ch_jw_arr_end(&w);
    ch_jw_obj_end(&w);
    ch_jw_newline(&w);
    if (rc < 0 || err.msg[0]) {
        srv_mem_drop(&m);
        srv_reply_error(r, 500, "%s", err.msg);
        return;
    }
    srv_mem_reply(&m, r, 200, "application/json");
}

void srv_intel_address(ch_server *s, const srv_req *q, srv_reply *r) {
    char text[CH_ADDR_STR_MAX];
    ch_error err;
    if (srv_path_segment(q->url, "/v1/intel/address/", NULL, text, &err) != 0) {
        srv_reply_error(r, 400, "%s", err.msg);
        return;
    }
    ch_intel *db = intel_of(s, r);
    if (!db) return;
    srv_membuf m;
    if (srv_mem_open(&m) != 0) {
        srv_reply_error(r, 500, "out of memory");
        return;
    }
    ch_jw w;
    ch_jw_init(&w, m.f);
    bool valid;
    int n = ch_intel_lookup_json(db, text, &w, &valid, &err);
    ch_jw_newline(&w);
    if (n < 0 || !valid) {
        srv_mem_drop(&m);
        if (n < 0)
            srv_reply_error(r, 500, "%s", err.msg);
        else {
            char key[128];
            ch_intel_canonical(text, NULL, key, &err);
            srv_reply_error(r, 400, "%s is not a valid address: %s", text, err.msg);
        }
        return;
    }
    srv_mem_reply(&m, r, 200, "application/json");
}

/* ---- import ---- */

typedef struct warn_ctx {
    json_t *list; /* the first SRV_IMPORT_WARNINGS rejected rows */
    size_t n;
} warn_ctx;

#define SRV_IMPORT_WARNINGS 20

static void on_warn(const char *msg, void *vctx) {
    warn_ctx *w = vctx;
    if (w->n++ < SRV_IMPORT_WARNINGS) json_array_append_new(w->list, json_string(msg));
}

/* The import's options from the parameters; -1 with r filled (400). */
static int import_opts(const srv_req *q, ch_import_opts *o, srv_reply *r) {
    memset(o, 0, sizeof *o);
    const char *fmt = srv_arg(q, "format");
    if (!fmt || ch_intel_format_parse(fmt, &o->format) != 0 || o->format == CH_FMT_AUTO) {
        srv_reply_error(r, 400,
                        "format: the body's format, as intel import --format names it (csv, "
                        "ofac-xml, ofac-csv, tagpack, stix, misp, ...), not '%.40s'",
                        fmt ? fmt : "");
        return -1;
    }
    o->as_of = srv_arg(q, "as_of");
    uint32_t day;
    if (o->as_of && ch_parse_time(o->as_of, false, &day) != 0) {
        srv_reply_error(r, 400, "as_of: a date YYYY-MM-DD, not '%.40s'", o->as_of);
        return -1;
    }
    o->category = srv_arg(q, "category");
    o->entity = srv_arg(q, "entity");
    o->source = srv_arg(q, "source");
    o->strict = true;
    return 0;
}

void srv_intel_import(ch_server *s, const srv_req *q, srv_reply *r) {
    ch_intel *db = intel_of(s, r);
    if (!db) return;
    if (!ch_intel_can_write(db)) {
        srv_reply_error(r, 503, "the attribution store is served read-only (no write permission)");
        return;
    }
    ch_import_opts o;
    if (import_opts(q, &o, r) != 0) return;
    if (q->len == 0) {
        srv_reply_error(r, 400, "an empty body: send the file to import");
        return;
    }
    /* the name a message cites, and an OFAC per-asset list's asset */
    const char *name = srv_arg(q, "name");
    if (!name) name = "upload";
    if (strlen(name) > 255 || strpbrk(name, "/\\")) {
        srv_reply_error(r, 400, "name: a file name (no '/'), at most 255 bytes");
        return;
    }
    warn_ctx wc = {json_array(), 0};
    o.warn = on_warn;
    o.ctx = &wc;
    ch_error err;
    ch_import_stats st;
    memset(&st, 0, sizeof st);
    ch_import *im = NULL;
    pthread_mutex_lock(&s->import_mu);
    int rc = ch_intel_write_begin(db, false, &err);
    if (rc != 0) {
        pthread_mutex_unlock(&s->import_mu);
        json_decref(wc.list);
        srv_reply_error(r, 409, "%s", err.msg); /* another writer holds the store */
        return;
    }
    unsigned status = 400;
    if (ch_intel_import_begin(db, &o, &im, &err) != 0)
        status = 500;
    else if (ch_intel_import_mem(im, o.format, name, q->body, q->len, &st, &err) != 0)
        ch_intel_import_abort(im); /* the store is unchanged */
    else if (ch_intel_import_commit(im, &err) != 0)
        status = 500;
    else
        status = 200;
    ch_intel_write_end(db);
    pthread_mutex_unlock(&s->import_mu);
    srv_membuf m;
    if (status != 200) {
        srv_reply_error(r, status, "%s", err.msg);
    } else if (srv_mem_open(&m) != 0) {
        srv_reply_error(r, 500, "out of memory");
    } else {
        ch_jw w;
        ch_jw_init(&w, m.f);
        ch_jw_obj_begin(&w);
        ch_jw_key(&w, "format");
        ch_jw_str(&w, ch_intel_format_name(o.format));
        ch_jw_key(&w, "name");
        ch_jw_str(&w, name);
        ch_jw_key(&w, "stats");
        ch_intel_import_stats_json(&st, &w);
        ch_jw_key(&w, "warnings_count");
        ch_jw_uint(&w, wc.n);
        ch_jw_key(&w, "warnings"); /* the first rejected rows, as the importer names them */
        ch_jw_arr_begin(&w);
        for (size_t i = 0; i < json_array_size(wc.list); i++)
            ch_jw_str(&w, json_string_value(json_array_get(wc.list, i)));
        ch_jw_arr_end(&w);
        ch_jw_obj_end(&w);
        ch_jw_newline(&w);
        srv_mem_reply(&m, r, 200, "application/json");
    }
    json_decref(wc.list);
}

/* ---- alerts ---- */

/* Records of a page: at most this many (a client pages on with since). */
#define SRV_ALERTS_MAX 1000

typedef struct alerts_ctx {
    FILE *f;
    size_t n, max;
    char last[128]; /* the id of the last record written */
    bool more;
} alerts_ctx;

/* The log's lines are JSON objects the watcher wrote: each is passed as it
 * is, an element of the array. */
static int add_alert(const char *line, size_t len, void *vctx) {
    alerts_ctx *c = vctx;
    if (c->n == c->max) {
        c->more = true;
        return 0; /* counted to the end: the records after are the next page */
    }
    json_t *o = json_loadb(line, len, 0, NULL);
    const char *id = json_string_value(json_object_get(o, "id"));
    if (!id) {
        json_decref(o);
        return 0; /* a line the watcher did not finish (or not its own): skipped */
    }
    snprintf(c->last, sizeof c->last, "%s", id);
    json_decref(o);
    if (c->n++) fputc(',', c->f);
    fwrite(line, 1, len, c->f);
    return 0;
}

const char *srv_alerts_chain(ch_server *s, const srv_req *q, srv_reply *r) {
    if (!s->opts.db) {
        srv_reply_error(r, 404, "no database is served (a screening set is): no alerts");
        return NULL;
    }
    const char *chain = srv_arg(q, "chain");
    if (!chain) chain = s->chains[0].name;
    if (!ch_store_name_ok(chain)) {
        srv_reply_error(r, 400, "chain: '%.64s' is no chain name (letters, digits, '-')", chain);
        return NULL;
    }
    return chain;
}

void srv_alerts(ch_server *s, const srv_req *q, srv_reply *r) {
    uint64_t limit;
    ch_error err;
    if (srv_parse_count("limit", srv_arg(q, "limit"), SRV_ALERTS_MAX, SRV_ALERTS_MAX, &limit,
                        &err) != 0) {
        srv_reply_error(r, 400, "%s", err.msg);
        return;
    }
    const char *chain = srv_alerts_chain(s, q, r);
    if (!chain) return;
    const char *since = srv_arg(q, "since");
    char path[4200];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s/watch/alerts.jsonl", s->opts.db, chain);
    if (stat(path, &st) != 0) {
        srv_reply_error(r, 404, "no alert log of chain %s (has 'coinhound watch' run on it?)",
                        chain);
        return;
    }
    srv_membuf m;
    if (srv_mem_open(&m) != 0) {
        srv_reply_error(r, 500, "out of memory");
        return;
    }
    alerts_ctx c = {m.f, 0, (size_t)limit, "", false};
    fputs("{\"alerts\":[", m.f);
    int n = ch_watch_alerts_foreach(s->opts.db, chain, since, add_alert, &c, &err);
    if (n < 0) {
        srv_mem_drop(&m);
        /* an id not in the log is the client's mistake */
        srv_reply_error(r, since ? 400 : 500, "%s", err.msg);
        return;
    }
    /* the records are written as the log holds them; the rest as a
     * string or null (jansson's escaping: no writer state to confuse) */
    json_t *ch = json_string(chain), *next = c.last[0] ? json_string(c.last)
                                             : since   ? json_string(since)
                                                       : json_null();
    fputs("],\"chain\":", m.f);
    json_dumpf(ch, m.f, JSON_ENCODE_ANY | JSON_COMPACT);
    fputs(",\"next_since\":", m.f);
    json_dumpf(next, m.f, JSON_ENCODE_ANY | JSON_COMPACT);
    json_decref(ch);
    json_decref(next);
    fprintf(m.f, ",\"more\":%s}\n", c.more ? "true" : "false");
    srv_mem_reply(&m, r, 200, "application/json");
}
