/* Bitcoin Core's JSON-RPC, the three calls a follower needs: the best
 * block's hash (getbestblockhash), the hash at a height of the best chain
 * (getblockhash), a block's raw bytes (getblock HASH 0, hex). HTTP POST
 * through libcurl with basic authentication: the user and password given,
 * or the node's cookie file (__cookie__:secret, rewritten by Core at each
 * start: it is read again at every connection). Every answer is checked
 * for shape: an answer that is not JSON-RPC, or a block whose bytes do not
 * hash to the hash asked for, is an error naming the call. */
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/btc.h"
#include "util/curlstop.h"
#include "util/vec.h"

#define MAX_ANSWER (16u << 20) /* hex of a 4 MB block, twice, with room */

struct ch_btc_rpc {
    CURL *curl;
    struct curl_slist *headers;
    char *url, *cookie, *user, *password;
    char userpwd[512];
    char curl_err[CURL_ERROR_SIZE];
    unsigned id;
    long timeout_ms;
    volatile sig_atomic_t *stop; /* set: the call in hand is given up */
};

typedef struct answer {
    char *p;
    size_t len, cap;
    bool too_big;
} answer;

static size_t on_data(char *data, size_t size, size_t nmemb, void *ctx) {
    answer *a = ctx;
    size_t n = size * nmemb;
    if (a->len + n + 1 > MAX_ANSWER) {
        a->too_big = true;
        return 0;
    }
    char *p = ch_grow(a->p, &a->cap, a->len + n + 1, 1);
    if (!p) return 0; /* curl stops with CURLE_WRITE_ERROR */
    a->p = p;
    memcpy(a->p + a->len, data, n);
    a->len += n;
    a->p[a->len] = '\0';
    return n;
}

static char *dup_or_null(const char *s) {
    return s ? strdup(s) : NULL;
}

/* user:password from the cookie file, or as given. */
static int credentials(ch_btc_rpc *r, ch_error *err) {
    r->userpwd[0] = '\0';
    if (r->cookie) {
        FILE *f = fopen(r->cookie, "r");
        if (!f) return ch_err(err, "%s: cannot read the node's cookie file", r->cookie);
        char line[400] = "";
        bool ok = fgets(line, sizeof line, f) != NULL;
        fclose(f);
        line[strcspn(line, "\r\n")] = '\0';
        if (!ok || !strchr(line, ':'))
            return ch_err(err, "%s: not a cookie file (user:password)", r->cookie);
        snprintf(r->userpwd, sizeof r->userpwd, "%s", line);
    } else if (r->user) {
        snprintf(r->userpwd, sizeof r->userpwd, "%s:%s", r->user, r->password ? r->password : "");
    }
    curl_easy_setopt(r->curl, CURLOPT_USERPWD, r->userpwd[0] ? r->userpwd : NULL);
    return 0;
}

/* The connection's options (again after a reset). */
static void setup(ch_btc_rpc *r) {
    long t = r->timeout_ms;
    curl_easy_setopt(r->curl, CURLOPT_URL, r->url);
    curl_easy_setopt(r->curl, CURLOPT_HTTPHEADER, r->headers);
    curl_easy_setopt(r->curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(r->curl, CURLOPT_ERRORBUFFER, r->curl_err);
    curl_easy_setopt(r->curl, CURLOPT_TIMEOUT_MS, t);
    curl_easy_setopt(r->curl, CURLOPT_CONNECTTIMEOUT_MS, t < 10000 ? t : 10000L);
    curl_easy_setopt(r->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(r->curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    curl_easy_setopt(r->curl, CURLOPT_USERAGENT, "coinhound");
    ch_curl_stop_on(r->curl, r->stop);
}

int ch_btc_rpc_open(const ch_btc_rpc_cfg *cfg, ch_btc_rpc **out, ch_error *err) {
    *out = NULL;
    ch_btc_rpc *r = calloc(1, sizeof *r);
    if (!r) return ch_err(err, "out of memory");
    r->url = dup_or_null(cfg->url);
    r->cookie = dup_or_null(cfg->cookie_path);
    r->user = dup_or_null(cfg->user);
    r->password = dup_or_null(cfg->password);
    r->curl = curl_easy_init();
    r->headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (!r->url || !r->curl || !r->headers) {
        ch_btc_rpc_close(r);
        return ch_err(err, "out of memory");
    }
    r->timeout_ms = cfg->timeout_ms ? (long)cfg->timeout_ms : 30000L;
    r->stop = cfg->stop;
    setup(r);
    if (credentials(r, err) != 0) {
        ch_btc_rpc_close(r);
        return -1;
    }
    *out = r;
    return 0;
}

void ch_btc_rpc_close(ch_btc_rpc *r) {
    if (!r) return;
    if (r->curl) curl_easy_cleanup(r->curl);
    curl_slist_free_all(r->headers);
    free(r->url);
    free(r->cookie);
    free(r->user);
    free(r->password);
    free(r);
}

/* One call; *result gets the answer's "result" (a new reference). 1 done,
 * 0 the node answered with error code `soft` (e.g. a height past its tip),
 * -1 failed (err names the call). */
static int call(ch_btc_rpc *r, const char *method, json_t *params, int soft, json_t **result,
                ch_error *err) {
    *result = NULL;
    json_t *req = json_pack("{s:s,s:I,s:s,s:o}", "jsonrpc", "1.0", "id", (json_int_t)++r->id,
                            "method", method, "params", params);
    char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (!body) return ch_err(err, "out of memory");
    answer a = {0};
    r->curl_err[0] = '\0';
    curl_easy_setopt(r->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(r->curl, CURLOPT_WRITEDATA, &a);
    CURLcode cc = curl_easy_perform(r->curl);
    free(body);
    long status = 0;
    curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &status);
    int rc = -1;
    json_t *o = NULL;
    if (cc == CURLE_ABORTED_BY_CALLBACK) { /* the stop flag */
        ch_err(err, "%s: %s: given up: stopping", r->url, method);
        goto out;
    }
    if (cc == CURLE_OPERATION_TIMEDOUT) { /* a slow node, said as such */
        ch_err(err, "%s: %s: no answer within %.1f s (the node is slow or stalled)", r->url, method,
               r->timeout_ms / 1e3);
        goto out;
    }
    if (cc != CURLE_OK) {
        ch_err(err, "%s: %s: %s", r->url, method,
               a.too_big        ? "answer too large"
               : r->curl_err[0] ? r->curl_err
                                : curl_easy_strerror(cc));
        goto out;
    }
    if (status == 401 || status == 403) {
        ch_err(err,
               "%s: %s: HTTP %ld: the node refused the credentials (--rpc-cookie, or "
               "--rpc-user and --rpc-password)",
               r->url, method, status);
        goto out;
    }
    json_error_t je;
    o = a.p ? json_loadb(a.p, a.len, 0, &je) : NULL;
    if (!json_is_object(o)) {
        ch_err(err, "%s: %s: HTTP %ld, and the answer is not JSON-RPC", r->url, method, status);
        goto out;
    }
    json_t *e = json_object_get(o, "error");
    if (json_is_object(e)) {
        json_int_t code = json_integer_value(json_object_get(e, "code"));
        const char *msg = json_string_value(json_object_get(e, "message"));
        if (soft && code == soft) {
            rc = 0;
            goto out;
        }
        ch_err(err, "%s: %s: the node answered error %lld: %s", r->url, method, (long long)code,
               msg ? msg : "(no message)");
        goto out;
    }
    json_t *res = json_object_get(o, "result");
    if (!res || json_is_null(res)) {
        ch_err(err, "%s: %s: HTTP %ld, an answer without a result", r->url, method, status);
        goto out;
    }
    *result = json_incref(res);
    rc = 1;
out:
    json_decref(o);
    free(a.p);
    return rc;
}

/* A hash as Core writes it (64 hex digits, display order). */
static int hash_of(const ch_btc_rpc *r, const char *method, json_t *v, ch_hash256 *out,
                   ch_error *err) {
    const char *s = json_string_value(v);
    if (!s || strlen(s) != 64 || ch_hash256_from_hex(s, out) != 0)
        return ch_err(err, "%s: %s: the answer is not a block hash", r->url, method);
    return 0;
}

int ch_btc_rpc_best_hash(ch_btc_rpc *r, ch_hash256 *out, ch_error *err) {
    json_t *res;
    if (call(r, "getbestblockhash", json_array(), 0, &res, err) != 1) return -1;
    int rc = hash_of(r, "getbestblockhash", res, out, err);
    json_decref(res);
    return rc;
}

int ch_btc_rpc_block_hash(ch_btc_rpc *r, uint64_t height, ch_hash256 *out, ch_error *err) {
    json_t *res;
    /* -8: "Block height out of range" */
    int rc = call(r, "getblockhash", json_pack("[I]", (json_int_t)height), -8, &res, err);
    if (rc != 1) return rc;
    rc = hash_of(r, "getblockhash", res, out, err) == 0 ? 1 : -1;
    json_decref(res);
    return rc;
}

int ch_btc_rpc_block(ch_btc_rpc *r, const ch_hash256 *hash, uint8_t **raw, size_t *len,
                     ch_error *err) {
    char hex[65];
    ch_hash256_to_hex(hash, hex);
    json_t *res;
    if (call(r, "getblock", json_pack("[s,i]", hex, 0), 0, &res, err) != 1) return -1;
    const char *s = json_string_value(res);
    size_t n = s ? strlen(s) : 0;
    int rc = 0;
    if (n < 160 || n % 2) {
        rc = ch_err(err, "%s: getblock %s: the answer is not a block's hex", r->url, hex);
    } else if (!(*raw = malloc(n / 2))) {
        rc = ch_err(err, "out of memory");
    } else if (ch_hex_decode(s, n, *raw, n / 2) != 0) {
        free(*raw);
        *raw = NULL;
        rc = ch_err(err, "%s: getblock %s: the answer is not a block's hex", r->url, hex);
    } else {
        *len = n / 2;
        ch_btc_header h;
        if (ch_btc_parse_header(*raw, *len, &h, err) != 0 || memcmp(h.hash.b, hash->b, 32)) {
            free(*raw);
            *raw = NULL;
            rc = ch_err(err, "%s: getblock %s: the bytes answered are another block", r->url, hex);
        }
    }
    json_decref(res);
    return rc;
}

int ch_btc_rpc_reconnect(ch_btc_rpc *r, ch_error *err) {
    curl_easy_reset(r->curl);
    setup(r);
    curl_easy_setopt(r->curl, CURLOPT_FRESH_CONNECT, 1L);
    return credentials(r, err);
}
