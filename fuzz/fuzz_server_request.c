/* libFuzzer: what a client sends to coinhound serve, through the handlers.
 *
 * Input: first byte picks the door (even: a POST /v1/screen body; 7 mod 8:
 * a POST /v1/trace body and a GET /v1/address/{a}/txs path, through their
 * parsers; other odd: the address part of GET /api/v1/address/...), the
 * rest is the body or path.
 * The handlers run against the committed screening set
 * (tests/data/screen/vectors.chset), as the server calls them.
 * Properties: never crashes or reads out of bounds; every answer is 200 or
 * 400/413 and its body is one JSON document (valid UTF-8: jansson refuses
 * anything else); a 200 batch has one verdict per item, in order; the
 * batch's simdjson parse (srv_parse_batch_fast) accepts only bodies the
 * jansson parse accepts, as the same items; a trace
 * body that parses has a source and hops within the bound; a segment that
 * parses is a whole, allowed segment. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/screener.h"
#include "server/request.h"
#include "server/server_internal.h"
#include "util/numparse.h"
#include "util/sjson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static ch_server g_srv;
static sj_parser *g_sj;
static srv_item *g_items;
static size_t g_items_cap;

static bool same_str(const char *a, const char *b) {
    return (!a && !b) || (a && b && !strcmp(a, b));
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    ch_screener_opts o;
    ch_screener_opts_init(&o);
    o.set_path = getenv("FUZZ_SET") ? getenv("FUZZ_SET") : "tests/data/screen/vectors.chset";
    ch_error err;
    if (ch_screener_open(&o, &g_srv.screener, NULL, &err) != 0) {
        fprintf(stderr, "fuzz_server_request: %s (run from the repository root)\n", err.msg);
        abort();
    }
    ch_server_opts_init(&g_srv.opts);
    g_srv.opts.max_batch = 64;
    pthread_key_create(&g_srv.scratch_key, srv_scratch_free);
    g_sj = sj_parser_new();
    if (!g_sj) abort();
    return 0;
}

/* The trace body's and the suffixed path's parsers (request.h). */
static void parsers(const char *p, size_t n) {
    json_t *doc;
    ch_trace_spec spec;
    const char *chain;
    ch_error err;
    if (srv_parse_trace(p, n, 20, &doc, &spec, &chain, &err) == 0) {
        if (!spec.source || !spec.source[0] || spec.max_hops < 1 || spec.max_hops > 20) abort();
        if (chain && !ch_store_name_ok(chain)) abort();
        json_decref(doc);
    }
    char url[512] = "/v1/address/", seg[CH_ADDR_STR_MAX];
    size_t k = strlen(url), m = n < sizeof url - k - 1 ? n : sizeof url - k - 1;
    memcpy(url + k, p, m);
    url[k + m] = '\0';
    if (srv_path_segment(url, "/v1/address/", "/txs", seg, &err) == 0 &&
        (!seg[0] || strchr(seg, '/') || !strcmp(seg, "..")))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    if (data[0] % 8 == 7) {
        parsers((const char *)data + 1, size - 1);
        return 0;
    }
    srv_reply r = {0};
    size_t items = 0;
    if (data[0] % 2 == 0) {
        /* how many items the body holds, when it parses: the oracle */
        json_t *doc;
        srv_item *it;
        int too_many;
        ch_error err;
        int slow = srv_parse_batch((const char *)data + 1, size - 1, 64, &doc, &it, &items,
                                   &too_many, &err) == 0;
        if (!slow) items = 0;
        /* the simdjson parse the service tries first accepts only what
         * jansson accepts, as the same items */
        size_t fn = 0;
        int fast = srv_parse_batch_fast(g_sj, (const char *)data + 1, size - 1, 64, &g_items,
                                        &g_items_cap, &fn);
        if (fast < 0) abort();
        if (fast) {
            if (!slow || fn != items) abort();
            for (size_t i = 0; i < fn; i++)
                if (!same_str(g_items[i].address, it[i].address) ||
                    !same_str(g_items[i].chain, it[i].chain) ||
                    !same_str(g_items[i].external_id, it[i].external_id))
                    abort();
        }
        if (slow) {
            free(it);
            json_decref(doc);
        }
        srv_screen_batch(&g_srv, (const char *)data + 1, size - 1, &r);
    } else {
        char url[512] = "/api/v1/address/";
        size_t k = strlen(url), n = size - 1 < sizeof url - k - 1 ? size - 1 : sizeof url - k - 1;
        memcpy(url + k, data + 1, n);
        url[k + n] = '\0';
        srv_sanctions(&g_srv, url, &r);
    }
    if (r.status != 200 && r.status != 400 && r.status != 413) abort();
    json_t *j = json_loadb(r.body ? r.body : "", r.len, 0, NULL);
    if (!j) abort();
    if (data[0] % 2 == 0 && r.status == 200 &&
        (!json_is_array(j) || json_array_size(j) != items || items == 0))
        abort();
    if (data[0] % 2 == 0 && r.status != 200 && items != 0) abort();
    json_decref(j);
    free(r.body);
    return 0;
}
