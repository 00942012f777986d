/* The web UI's files (web/, built into web/dist by web/build.mjs), served
 * at / beside the API. Read-only, no listing, no path outside the folder:
 * the path is checked by its characters first (srv_static_path), then the
 * resolved file must still be under the resolved folder (a symlink planted
 * in the folder cannot lead out). Files are small (the bundle is about a
 * MiB) and read whole per request: nothing is cached, so a rebuilt UI is
 * served at once. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/server_internal.h"
#include "server/static.h"

bool srv_static_claims(const char *url) {
    static const char *const API[] = {"/v1/", "/api/", "/healthz", "/metrics"};
    for (size_t i = 0; i < sizeof API / sizeof API[0]; i++)
        if (!strncmp(url, API[i], strlen(API[i]))) return false;
    return url[0] == '/';
}

static bool path_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == '_';
}

int srv_static_path(const char *url, char rel[SRV_STATIC_PATH_MAX], ch_error *err) {
    if (url[0] != '/') return ch_err(err, "a path must start with '/'");
    const char *p = url + 1;
    if (!*p) p = "index.html";
    size_t n = strlen(p);
    if (n >= SRV_STATIC_PATH_MAX)
        return ch_err(err, "a path of %zu bytes: at most %d", n, SRV_STATIC_PATH_MAX - 1);
    bool seg_start = true;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c == '/') {
            if (seg_start) return ch_err(err, "an empty segment at byte %zu", i + 1);
            seg_start = true;
            continue;
        }
        if (!path_char(c)) return ch_err(err, "byte %zu of the path is not allowed", i + 1);
        if (seg_start && c == '.')
            return ch_err(err, "a segment starting with '.' at byte %zu", i + 1);
        seg_start = false;
    }
    if (seg_start) return ch_err(err, "the path ends with '/'");
    memcpy(rel, p, n + 1);
    return 0;
}

const char *srv_static_type(const char *rel) {
    static const struct {
        const char *ext, *type;
    } TYPES[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".map", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".txt", "text/plain; charset=utf-8"},
        {".woff2", "font/woff2"},
    };
    const char *dot = strrchr(rel, '.');
    if (dot && !strchr(dot, '/'))
        for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++)
            if (!strcmp(dot, TYPES[i].ext)) return TYPES[i].type;
    return "application/octet-stream";
}

/* Read the regular file at path (at most SRV_STATIC_FILE_MAX bytes) into
 * r's body. 0 ok; -1 with r an error answer. */
static int read_whole(const char *path, srv_reply *r) {
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f || fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        if (f) fclose(f);
        srv_reply_error(r, 404, "no such file in the web UI");
        return -1;
    }
    if ((unsigned long long)st.st_size > SRV_STATIC_FILE_MAX) {
        fclose(f);
        srv_reply_error(r, 500, "a web UI file over %u bytes", SRV_STATIC_FILE_MAX);
        return -1;
    }
    size_t n = (size_t)st.st_size;
    char *b = malloc(n ? n : 1);
    if (!b || fread(b, 1, n, f) != n) {
        free(b);
        fclose(f);
        srv_reply_error(r, 500, "cannot read a web UI file");
        return -1;
    }
    fclose(f);
    r->body = b;
    r->len = n;
    return 0;
}

void srv_static(ch_server *s, const char *url, srv_reply *r) {
    if (!s->opts.web_dir) {
        srv_reply_error(r, 404,
                        "the web UI is not served: build it (npm ci and node build.mjs in web/) "
                        "or give serve --web DIR");
        return;
    }
    char rel[SRV_STATIC_PATH_MAX];
    ch_error err;
    if (srv_static_path(url, rel, &err) != 0) {
        srv_reply_error(r, 404, "no such file: %s", err.msg);
        return;
    }
    char root[PATH_MAX], want[PATH_MAX * 2], real[PATH_MAX];
    if (!realpath(s->opts.web_dir, root)) {
        srv_reply_error(r, 404, "the web UI's folder is gone: %s", strerror(errno));
        return;
    }
    snprintf(want, sizeof want, "%s/%s", root, rel);
    size_t rl = strlen(root);
    if (!realpath(want, real) || strncmp(real, root, rl) != 0 || real[rl] != '/') {
        srv_reply_error(r, 404, "no such file in the web UI: /%s", rel);
        return;
    }
    if (read_whole(real, r) != 0) return;
    r->status = 200;
    r->content_type = srv_static_type(rel);
}

int ch_server_web_default(char *out, size_t n) {
    char exe[PATH_MAX];
    ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (k <= 0) return -1;
    exe[k] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash) return -1;
    *slash = '\0';
    /* build/coinhound in the source tree; PREFIX/bin/coinhound installed */
    static const char *const REL[] = {"/../web/dist", "/../share/coinhound/web"};
    for (size_t i = 0; i < sizeof REL / sizeof REL[0]; i++) {
        char cand[PATH_MAX + 64], real[PATH_MAX];
        struct stat st;
        snprintf(cand, sizeof cand, "%s%s/index.html", exe, REL[i]);
        if (stat(cand, &st) != 0 || !S_ISREG(st.st_mode) || !realpath(cand, real)) continue;
        *strrchr(real, '/') = '\0'; /* the folder of index.html */
        if (strlen(real) + 1 > n) return -1;
        memcpy(out, real, strlen(real) + 1);
        return 0;
    }
    return -1;
}
