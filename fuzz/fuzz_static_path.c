/* libFuzzer: the web UI's path check (server/static.c) on arbitrary paths.
 *
 * Properties: never crashes or reads out of bounds; an accepted path names
 * a file inside the folder: relative, no empty segment, no segment
 * starting with '.', only letters, digits, '.', '-', '_' and '/'; a path
 * the API claims is never taken for a file. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/static.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *url = malloc(size + 1);
    if (!url) return 0;
    memcpy(url, data, size);
    url[size] = '\0'; /* libmicrohttpd hands a C string: a NUL ends it */
    char rel[SRV_STATIC_PATH_MAX];
    ch_error err;
    if (srv_static_claims(url) && srv_static_path(url, rel, &err) == 0) {
        size_t n = strlen(rel);
        assert(n > 0 && n < SRV_STATIC_PATH_MAX);
        assert(rel[0] != '/' && rel[n - 1] != '/');
        assert(!strstr(rel, "//") && !strstr(rel, "/.") && rel[0] != '.');
        for (size_t i = 0; i < n; i++)
            assert(strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_/",
                          rel[i]));
        (void)srv_static_type(rel);
    }
    if (!strncmp(url, "/v1/", 4) || !strncmp(url, "/api/", 5)) assert(!srv_static_claims(url));
    free(url);
    return 0;
}
