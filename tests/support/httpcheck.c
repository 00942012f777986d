/* See httpcheck.h. */
#include "httpcheck.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "testutil.h"

static json_t *g_doc;

void hc_openapi_load(void) {
    json_error_t je;
    g_doc = json_load_file("docs/openapi.json", 0, &je);
    if (!g_doc) fprintf(stderr, "docs/openapi.json: %s (line %d)\n", je.text, je.line);
    assert_non_null(g_doc);
}

void hc_openapi_free(void) {
    json_decref(g_doc);
    g_doc = NULL;
}

static size_t on_body(char *p, size_t sz, size_t n, void *ctx) {
    hc_resp *r = ctx;
    char *b = realloc(r->body, r->len + sz * n + 1);
    if (!b) return 0;
    memcpy(b + r->len, p, sz * n);
    r->body = b;
    r->len += sz * n;
    b[r->len] = '\0';
    return sz * n;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ctx) {
    hc_resp *r = ctx;
    size_t k = sz * n;
    if (r->hlen + k < sizeof r->headers) {
        memcpy(r->headers + r->hlen, p, k);
        r->hlen += k;
        r->headers[r->hlen] = '\0';
    }
    return k;
}

const char *hc_header(const hc_resp *r, const char *name, char *out, size_t cap) {
    size_t nl = strlen(name);
    for (const char *p = r->headers; p && *p;) {
        if (!strncasecmp(p, name, nl) && p[nl] == ':') {
            p += nl + 1;
            while (*p == ' ')
                p++;
            size_t k = strcspn(p, "\r\n");
            snprintf(out, cap, "%.*s", (int)k, p);
            return out;
        }
        p = strchr(p, '\n');
        if (p) p++;
    }
    return NULL;
}

void hc_req(uint16_t port, const char *method, const char *path, const char *key, const char *body,
            size_t blen, const char *ctype, hc_resp *r) {
    memset(r, 0, sizeof *r);
    CURL *c = curl_easy_init();
    assert_non_null(c);
    size_t ul = strlen(path) + 64;
    char *url = malloc(ul); /* a path of any length: the hostile tests send long ones */
    assert_non_null(url);
    snprintf(url, ul, "http://127.0.0.1:%u%s", (unsigned)port, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
    if (!strcmp(method, "HEAD"))
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L); /* as a custom method, curl would wait for one */
    else
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    struct curl_slist *h = NULL;
    char line[512];
    if (key) {
        snprintf(line, sizeof line, "X-API-Key: %s", key);
        h = curl_slist_append(h, line);
    }
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
        snprintf(line, sizeof line, "Content-Type: %s", ctype ? ctype : "application/json");
        h = curl_slist_append(h, line);
    }
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) fprintf(stderr, "curl: %s %s: %s\n", method, path, curl_easy_strerror(rc));
    assert_int_equal(rc, CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    free(url);
    if (!r->body) r->body = calloc(1, 1);
}

void hc_get(uint16_t port, const char *path, const char *key, hc_resp *r) {
    hc_req(port, "GET", path, key, NULL, 0, NULL, r);
}

void hc_post(uint16_t port, const char *path, const char *key, const char *body, hc_resp *r) {
    hc_req(port, "POST", path, key, body, strlen(body), NULL, r);
}

static json_t *deref(json_t *schema) {
    json_t *ref = json_object_get(schema, "$ref");
    if (!ref) return schema;
    const char *p = json_string_value(ref); /* "#/components/schemas/X" */
    json_t *node = g_doc;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", p + 2);
    for (char *save = NULL, *t = strtok_r(buf, "/", &save); t; t = strtok_r(NULL, "/", &save))
        node = json_object_get(node, t);
    assert_non_null(node);
    return deref(node);
}

static int validate(json_t *v, json_t *schema, const char *at, char *why, size_t cap) {
    schema = deref(schema);
    if (json_is_null(v) && json_is_true(json_object_get(schema, "nullable"))) return 0;
    const char *type = json_string_value(json_object_get(schema, "type"));
    if (type) {
        bool ok = !strcmp(type, "object")    ? json_is_object(v)
                  : !strcmp(type, "array")   ? json_is_array(v)
                  : !strcmp(type, "string")  ? json_is_string(v)
                  : !strcmp(type, "integer") ? json_is_integer(v)
                  : !strcmp(type, "number")  ? json_is_number(v)
                  : !strcmp(type, "boolean") ? json_is_boolean(v)
                                             : false;
        if (!ok) return snprintf(why, cap, "%s: not a %s", at, type), -1;
    }
    json_t *en = json_object_get(schema, "enum");
    if (en) {
        bool found = false;
        for (size_t i = 0; i < json_array_size(en); i++)
            if (json_equal(json_array_get(en, i), v)) found = true;
        if (!found) return snprintf(why, cap, "%s: not in the enum", at), -1;
    }
    json_t *req = json_object_get(schema, "required");
    for (size_t i = 0; i < json_array_size(req); i++) {
        const char *k = json_string_value(json_array_get(req, i));
        if (!json_object_get(v, k)) return snprintf(why, cap, "%s: no field %s", at, k), -1;
    }
    const char *k;
    json_t *sub;
    json_object_foreach(json_object_get(schema, "properties"), k, sub) {
        json_t *f = json_object_get(v, k);
        if (f && validate(f, sub, k, why, cap) != 0) return -1;
    }
    json_t *items = json_object_get(schema, "items");
    if (items && json_is_array(v))
        for (size_t i = 0; i < json_array_size(v); i++)
            if (validate(json_array_get(v, i), items, at, why, cap) != 0) return -1;
    return 0;
}

json_t *hc_checked(const hc_resp *r, const char *path_key, const char *method) {
    json_t *op =
        json_object_get(json_object_get(json_object_get(g_doc, "paths"), path_key), method);
    if (!op) fprintf(stderr, "%s %s: not in the document\n", method, path_key);
    assert_non_null(op);
    char code[8];
    snprintf(code, sizeof code, "%ld", r->status);
    json_t *rs = json_object_get(json_object_get(op, "responses"), code);
    if (!rs)
        fprintf(stderr, "%s %s: status %s not in the document: %.300s\n", method, path_key, code,
                r->body);
    assert_non_null(rs);
    rs = deref(rs);
    json_t *schema = json_object_get(
        json_object_get(json_object_get(rs, "content"), "application/json"), "schema");
    json_error_t je;
    json_t *body = json_loadb(r->body ? r->body : "", r->len, 0, &je);
    if (!body) fprintf(stderr, "%s %s: not JSON: %.200s\n", method, path_key, r->body);
    assert_non_null(body);
    if (schema) {
        char why[512] = "";
        int bad = validate(body, schema, "body", why, sizeof why);
        if (bad) fprintf(stderr, "%s %s (%s): %s: %.300s\n", method, path_key, code, why, r->body);
        assert_int_equal(bad, 0);
    }
    return body;
}

void hc_assert_error(const hc_resp *r, long status, const char *path_key, const char *method) {
    if (r->status != status)
        fprintf(stderr, "%s %s: want %ld, got %ld: %.300s\n", method, path_key, status, r->status,
                r->body);
    assert_int_equal(r->status, status);
    json_t *b = hc_checked(r, path_key, method);
    json_t *e = json_object_get(b, "error");
    assert_int_equal(json_integer_value(json_object_get(e, "status")), status);
    assert_true(json_string_length(json_object_get(e, "message")) > 0);
    json_decref(b);
}
