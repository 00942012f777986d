/* The web UI's files, served at / by coinhound serve (server/static.c).
 * The path check is a pure function over bytes, so the fuzz harness
 * (fuzz/fuzz_static_path.c) drives it directly. */
#ifndef COINHOUND_SERVER_STATIC_H
#define COINHOUND_SERVER_STATIC_H

#include <stdbool.h>
#include <stddef.h>

#include "coinhound/error.h"

#define SRV_STATIC_PATH_MAX 256
#define SRV_STATIC_FILE_MAX (32u << 20) /* the bundle is ~1 MiB: a bigger file is a mistake */

/* Is url (as libmicrohttpd decoded it) one the UI's files answer? Every
 * path but the API's (/v1/..., /api/...) and the service's own
 * (/healthz, /metrics). */
bool srv_static_claims(const char *url);

/* The file under the UI's folder that url names: "/" is "index.html"; a
 * path of segments of letters, digits, '.', '-', '_', none empty, none
 * starting with '.', at most SRV_STATIC_PATH_MAX - 1 bytes. 0 with rel
 * filled; -1 with err saying what is refused (so "..", "%2e%2e", a
 * backslash, a NUL, "//" never leave the folder). */
int srv_static_path(const char *url, char rel[SRV_STATIC_PATH_MAX], ch_error *err);

/* The Content-Type of a file by its extension (application/octet-stream
 * when unknown: the browser is told nosniff, so it will not guess). */
const char *srv_static_type(const char *rel);

#endif
