/* A small HTTP client over libcurl and an OpenAPI 3 answer check, for the
 * tests of coinhound serve: a request's status, headers and body, and
 * whether the body validates against the schema docs/openapi.json gives for
 * that path, method and status (type, required, properties, items, enum,
 * $ref, nullable: what the document uses). */
#ifndef COINHOUND_TESTS_HTTPCHECK_H
#define COINHOUND_TESTS_HTTPCHECK_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef struct hc_resp {
    long status;
    char *body; /* malloc'd, NUL-terminated; free it */
    size_t len;
    char headers[8192];
    size_t hlen;
} hc_resp;

/* Load docs/openapi.json (run from the repository root); asserts. */
void hc_openapi_load(void);
void hc_openapi_free(void);

/* method path on 127.0.0.1:port (the path as given: no "/../" folded; HEAD
 * reads no body), with an X-API-Key when key is not NULL and a JSON body
 * when body is not NULL; asserts the transfer worked. */
void hc_req(uint16_t port, const char *method, const char *path, const char *key, const char *body,
            size_t blen, const char *ctype, hc_resp *r);
void hc_get(uint16_t port, const char *path, const char *key, hc_resp *r);
void hc_post(uint16_t port, const char *path, const char *key, const char *body, hc_resp *r);

/* A response header's value (name in any case), or NULL. */
const char *hc_header(const hc_resp *r, const char *name, char *out, size_t cap);

/* The body parsed, after asserting it validates against the document's
 * schema for (path_key, method, status); the caller decrefs. */
json_t *hc_checked(const hc_resp *r, const char *path_key, const char *method);
/* An error answer of that status with {"error": {"status", "message"}},
 * checked against the document. */
void hc_assert_error(const hc_resp *r, long status, const char *path_key, const char *method);

#endif
