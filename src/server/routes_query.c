/* The store's queries over HTTP: each handler parses the path and the
 * parameters, calls the library (query.h: the calls and writers of
 * `coinhound address|tx|block --json`) under the chain's lock, and answers
 * what the writer wrote. A chain is the "chain" parameter or the store's
 * kind (srv_chain_pick). */
#include <stdlib.h>
#include <string.h>

#include "coinhound/cluster.h"
#include "coinhound/query.h"
#include "coinhound/report.h"
#include "coinhound/tokens.h"
#include "coinhound/trace.h"
#include "server/request.h"
#include "server/server_internal.h"

/* Entries of a history page, and of an address summary's first page. */
#define SRV_PAGE_DEFAULT 100
#define SRV_PAGE_MAX     1000

static bool is_0x(const char *t) {
    return t[0] == '0' && (t[1] == 'x' || t[1] == 'X');
}

static bool all_digits(const char *t) {
    if (!*t) return false;
    for (; *t; t++)
        if (*t < '0' || *t > '9') return false;
    return true;
}

static bool all_hex(const char *t) {
    if (!*t) return false;
    for (; *t; t++)
        if (!strchr("0123456789abcdefABCDEF", *t)) return false;
    return true;
}

/* c held (srv_chain_enter); false with r filled (503) when its store
 * failed to refresh, or when c is NULL (r already filled). */
static bool chain_hold(ch_server *s, srv_chain *c, srv_reply *r) {
    if (!c) return false;
    if (srv_chain_enter(s, c)) return true;
    srv_reply_error(r, 503, "the chain store %s is unavailable", c->name);
    return false;
}

/* The chain a request reads (srv_chain_pick), held. NULL with r filled
 * (400/404 as srv_chain_pick, 503 as chain_hold). */
static srv_chain *chain_enter(ch_server *s, const srv_req *q, int want_account, srv_reply *r) {
    srv_chain *c = srv_chain_pick(s, q, want_account, r);
    return chain_hold(s, c, r) ? c : NULL;
}

/* The address of the path and its chain, held (srv_chain_enter), looked up
 * (ch_query_address). NULL with r filled: 400 malformed, 404 never in the
 * store, 503 the store is unavailable. */
static srv_chain *address_enter(ch_server *s, const srv_req *q, const char *prefix,
                                const char *suffix, ch_q_address *a, srv_reply *r) {
    char text[CH_ADDR_STR_MAX];
    ch_error err;
    if (srv_path_segment(q->url, prefix, suffix, text, &err) != 0) {
        srv_reply_error(r, 400, "%s", err.msg);
        return NULL;
    }
    srv_chain *c = chain_enter(s, q, is_0x(text) ? 1 : 0, r);
    if (!c) return NULL;
    int rc = ch_query_address(c->st, text, a, &err);
    if (rc == 1) return c;
    srv_chain_leave(c);
    if (rc < 0)
        srv_reply_error(r, 400, "%s (chain %s)", err.msg, c->name);
    else
        srv_reply_error(r, 404, "%s never appears in the store (chain %s)",
                        a->canonical[0] ? a->canonical : text, c->name);
    ch_q_address_free(a);
    return NULL;
}

/* GET /v1/address/{a} (txs false), as `address --json`: a UTXO summary
 * carries its history's first page, an account's its counterparties (limit
 * bounds both); GET /v1/address/{a}/txs (txs true): one page of the
 * history from the "cursor" parameter. */
static void address_reply(ch_server *s, const srv_req *q, bool txs, srv_reply *r) {
    uint64_t limit;
    ch_error err;
    if (srv_parse_count("limit", srv_arg(q, "limit"), SRV_PAGE_DEFAULT, SRV_PAGE_MAX, &limit,
                        &err) != 0) {
        srv_reply_error(r, 400, "%s", err.msg);
        return;
    }
    ch_q_address a;
    srv_chain *c = address_enter(s, q, "/v1/address/", txs ? "/txs" : NULL, &a, r);
    if (!c) return;
    ch_q_page page = {0};
    srv_membuf m;
    if ((txs || !a.account) &&
        ch_query_history(c->st, &a, txs ? srv_arg(q, "cursor") : NULL, limit, &page, &err) != 0)
        /* only a client's cursor can be wrong; the first page cannot */
        srv_reply_error(r, txs ? 400 : 500, "%s%s", txs ? "cursor: " : "", err.msg);
    else if (srv_mem_open(&m) != 0)
        srv_reply_error(r, 500, "out of memory");
    else {
        if (txs)
            ch_q_page_json(m.f, c->st, &a, &page, NULL);
        else
            ch_q_address_json(m.f, c->st, &a, a.account ? NULL : &page, (size_t)limit, NULL);
        srv_mem_reply(&m, r, 200, "application/json");
    }
    srv_chain_leave(c);
    ch_q_page_free(&page);
    ch_q_address_free(&a);
}

void srv_address(ch_server *s, const srv_req *q, srv_reply *r) {
    address_reply(s, q, false, r);
}

void srv_address_txs(ch_server *s, const srv_req *q, srv_reply *r) {
    address_reply(s, q, true, r);
}

void srv_tx(ch_server *s, const srv_req *q, srv_reply *r) {
    char text[CH_ADDR_STR_MAX];
    ch_error err;
    if (srv_path_segment(q->url, "/v1/tx/", NULL, text, &err) != 0) {
        srv_reply_error(r, 400, "%s", err.msg);
        return;
    }
    srv_chain *c = chain_enter(s, q, is_0x(text) ? 1 : 0, r);
    if (!c) return;
    uint64_t tx;
    size_t n_cand = 0;
    int rc = ch_query_find_tx(c->st, text, &tx, &n_cand, &err);
    srv_membuf m;
    const char *hex = is_0x(text) ? text + 2 : text;
    if (rc == 1 && srv_mem_open(&m) == 0) {
        ch_q_tx_json(m.f, c->st, tx, NULL);
        srv_mem_reply(&m, r, 200, "application/json");
    } else if (rc == 1)
        srv_reply_error(r, 500, "out of memory");
    else if (rc == 0 || (n_cand == 0 && all_hex(hex) && strlen(hex) >= 4 && strlen(hex) < 64))
        /* a whole id absent, or a well-formed prefix no id begins with */
        srv_reply_error(r, 404, "%s (chain %s)", rc == 0 ? "no such tx" : err.msg, c->name);
    else
        srv_reply_error(r, 400, "%s (chain %s)", err.msg, c->name); /* malformed, ambiguous */
    srv_chain_leave(c);
}

void srv_block(ch_server *s, const srv_req *q, srv_reply *r) {
    char text[CH_ADDR_STR_MAX];
    ch_error err;
    if (srv_path_segment(q->url, "/v1/block/", NULL, text, &err) != 0) {
        srv_reply_error(r, 400, "%s", err.msg);
        return;
    }
    const char *txs = srv_arg(q, "txs");
    if (txs && strcmp(txs, "true") != 0 && strcmp(txs, "false") != 0) {
        srv_reply_error(r, 400, "txs: 'true' or 'false', not '%.40s'", txs);
        return;
    }
    /* a number is the served store's; a hash says its kind by its 0x */
    srv_chain *c = chain_enter(s, q, all_digits(text) ? -1 : is_0x(text) ? 1 : 0, r);
    if (!c) return;
    ch_q_block b;
    int rc = ch_query_block(c->st, text, &b, &err);
    srv_membuf m;
    if (rc == 1 && srv_mem_open(&m) == 0) {
        ch_q_block_json(m.f, c->st, &b, txs && !strcmp(txs, "true"), NULL);
        srv_mem_reply(&m, r, 200, "application/json");
    } else if (rc == 1)
        srv_reply_error(r, 500, "out of memory");
    else if (rc == 0)
        srv_reply_error(r, 404, "no block %s in the store (chain %s)", text, c->name);
    else
        srv_reply_error(r, 400, "%s (chain %s)", err.msg, c->name);
    srv_chain_leave(c);
}

void srv_cluster(ch_server *s, const srv_req *q, srv_reply *r) {
    char text[CH_ADDR_STR_MAX];
    uint64_t limit;
    ch_error err;
    if (srv_path_segment(q->url, "/v1/cluster/", NULL, text, &err) != 0 ||
        srv_parse_count("limit", srv_arg(q, "limit"), SRV_PAGE_DEFAULT, SRV_PAGE_MAX, &limit,
                        &err) != 0) {
        srv_reply_error(r, 400, "%s", err.msg);
        return;
    }
    srv_chain *c = chain_enter(s, q, is_0x(text) ? 1 : 0, r);
    if (!c) return;
    /* the cluster file as it is now (a rebuild is picked up) */
    ch_clusters *cl;
    if (ch_clusters_open_for(c->st, s->opts.db, c->name, &cl, &err) != 0) {
        srv_chain_leave(c);
        srv_reply_error(r, 404, "no clusters of chain %s: %s", c->name, err.msg);
        return;
    }
    ch_cluster_view v;
    int rc = ch_cluster_view_get(c->st, cl, ch_screener_intel(s->screener), text, (size_t)limit, &v,
                                 &err);
    srv_membuf m;
    if (rc == 1 && srv_mem_open(&m) == 0) {
        ch_jw w;
        ch_jw_init(&w, m.f);
        ch_cluster_view_json(&v, c->st, (size_t)limit, &w);
        ch_jw_newline(&w);
        srv_mem_reply(&m, r, 200, "application/json");
    } else if (rc == 1)
        srv_reply_error(r, 500, "out of memory");
    else if (rc == 0)
        srv_reply_error(r, 404, "%s never appears in the store (chain %s)", v.canonical, c->name);
    else
        srv_reply_error(r, 400, "%s (chain %s)", err.msg, c->name);
    ch_cluster_view_free(&v);
    ch_clusters_close(cl);
    srv_chain_leave(c);
}

/* What a case report adds to its trace: the investigator's words. */
typedef struct report_args {
    const char *title, *notes;
    const char *tags[32];
    size_t n_tags;
} report_args;

/* The trace spec o asks for (chain: the request's "chain" field, or NULL),
 * run on its chain with the attribution store's labels, then written as
 * `trace --json` writes it (docs/trace.md), or, with rep, as the case report
 * `report case` writes (one door's logic for both: the same parse, chain
 * rule and labels). */
static void trace_and_write(ch_server *s, const srv_req *q, ch_trace_spec *o, const char *chain,
                            const report_args *rep, srv_reply *r) {
    ch_error err = {{0}};
    /* the body's chain as the "chain" parameter: one rule for every door */
    srv_chain *c =
        chain ? srv_chain_named(s, chain, r) : srv_chain_pick(s, q, is_0x(o->source) ? 1 : 0, r);
    if (!chain_hold(s, c, r)) return;
    bool account = ch_store_is_account(c->st);
    ch_labels *labels = NULL;
    ch_toktab *tokens = NULL;
    ch_trace_result *res = NULL;
    srv_membuf m;
    int found = 0;
    if (account && o->policy == CH_POLICY_LIFO) {
        srv_reply_error(r, 400, "account chains: policy is poison, haircut or fifo");
        goto done;
    }
    if (ch_labels_new(c->st, ch_screener_intel(s->screener),
                      o->stop_at ? o->stop_at : CH_TRACE_DEFAULT_STOP, &labels, &err) != 0 ||
        (account && ch_toktab_new(1, &tokens, &err) != 0)) {
        srv_reply_error(r, 500, "%s", err.msg);
        goto done;
    }
    o->labels = labels;
    o->chain = c->name;
    o->tokens = tokens;
    found = ch_trace_exec(c->st, o, &res, &err);
    if (found < 0)
        srv_reply_error(r, 400, "%s (chain %s)", err.msg, c->name);
    else if (found == 0)
        srv_reply_error(r, 404, "%s (chain %s)", err.msg, c->name);
    else if (srv_mem_open(&m) != 0)
        srv_reply_error(r, 500, "out of memory");
    else if (!rep) {
        if (ch_trace_write(res, CH_TRACE_JSON, m.f) != 0) {
            srv_mem_drop(&m);
            srv_reply_error(r, 500, "cannot write the trace");
        } else
            srv_mem_reply(&m, r, 200, "application/json");
    } else {
        ch_report_case_opts ro;
        ch_report_case_opts_init(&ro);
        ro.title = rep->title;
        ro.notes = rep->notes;
        ro.tags = rep->tags;
        ro.n_tags = rep->n_tags;
        if (ch_report_case_write(m.f, res, &ro, &err) != 0) {
            srv_mem_drop(&m);
            srv_reply_error(r, 500, "cannot write the report: %s", err.msg);
        } else
            srv_mem_reply(&m, r, 200, "text/html; charset=utf-8");
    }
done:
    ch_trace_result_free(res);
    ch_toktab_free(tokens);
    ch_labels_free(labels);
    srv_chain_leave(c);
}

void srv_trace(ch_server *s, const srv_req *q, srv_reply *r) {
    ch_trace_spec o;
    const char *chain;
    json_t *doc;
    ch_error err = {{0}};
    if (srv_parse_trace(q->body, q->len, s->opts.max_trace_hops, &doc, &o, &chain, &err) != 0) {
        srv_reply_error(r, 400, "%s", err.msg);
        return;
    }
    trace_and_write(s, q, &o, chain, NULL, r);
    json_decref(doc); /* after the trace: o's strings are doc's */
}

/* A text field of the report body: absent or null is NULL, else a string
 * of at most max bytes. */
static int report_text(json_t *doc, const char *key, size_t max, const char **out, ch_error *err) {
    json_t *v = json_object_get(doc, key);
    *out = NULL;
    if (!v || json_is_null(v)) return 0;
    if (!json_is_string(v)) return ch_err(err, "%s: a string", key);
    if (json_string_length(v) > max) return ch_err(err, "%s: at most %zu bytes", key, max);
    *out = json_string_value(v);
    return 0;
}

/* The report body: {"trace": {...TraceRequest}, "title", "notes", "tags"};
 * unknown fields are refused, as in every body the service reads. */
static int parse_report(json_t *doc, report_args *a, json_t **trace, ch_error *err) {
    memset(a, 0, sizeof *a);
    if (!json_is_object(doc)) return ch_err(err, "the body must be a JSON object");
    const char *k;
    json_t *v;
    json_object_foreach(doc, k, v) {
        if (strcmp(k, "trace") && strcmp(k, "title") && strcmp(k, "notes") && strcmp(k, "tags"))
            return ch_err(err, "unknown field '%.40s' (trace, title, notes, tags)", k);
    }
    *trace = json_object_get(doc, "trace");
    if (!json_is_object(*trace)) return ch_err(err, "trace: the TraceRequest object, required");
    if (report_text(doc, "title", 200, &a->title, err) ||
        report_text(doc, "notes", 20000, &a->notes, err))
        return -1;
    json_t *tags = json_object_get(doc, "tags");
    if (tags && !json_is_null(tags)) {
        if (!json_is_array(tags) || json_array_size(tags) > 32)
            return ch_err(err, "tags: an array of at most 32 strings");
        size_t i;
        json_array_foreach(tags, i, v) {
            if (!json_is_string(v) || json_string_length(v) > 64)
                return ch_err(err, "tags[%zu]: a string of at most 64 bytes", i);
            a->tags[a->n_tags++] = json_string_value(v);
        }
    }
    return 0;
}

void srv_report_case(ch_server *s, const srv_req *q, srv_reply *r) {
    json_error_t je;
    json_t *doc = json_loadb(q->body ? q->body : "", q->len, JSON_REJECT_DUPLICATES, &je);
    if (!doc) {
        srv_reply_error(r, 400, "malformed JSON at line %d, column %d: %s", je.line, je.column,
                        je.text);
        return;
    }
    report_args a;
    json_t *trace = NULL;
    ch_trace_spec o;
    const char *chain;
    ch_error err = {{0}};
    /* the trace object is read where it lies: not written out and parsed again */
    if (parse_report(doc, &a, &trace, &err) != 0)
        srv_reply_error(r, 400, "%s", err.msg);
    else if (srv_trace_spec_of(trace, s->opts.max_trace_hops, &o, &chain, &err) != 0)
        srv_reply_error(r, 400, "trace: %s", err.msg);
    else
        trace_and_write(s, q, &o, chain, &a, r);
    json_decref(doc); /* after the report: a's and o's strings are doc's */
}
