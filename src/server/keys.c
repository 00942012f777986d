/* API keys and rate limits: see server/keys.h. */
#include "server/keys.h"

#include <ctype.h>
#include <math.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/hash.h"
#include "coinhound/server.h"
#include "util/vec.h"

void ch_server_key_hash(const char *key, size_t len, char hex[65]) {
    uint8_t h[32];
    SHA256((const unsigned char *)key, len, h);
    ch_hex_encode(h, 32, hex);
}

static int parse_scopes(const char *s, unsigned *out) {
    *out = 0;
    char buf[64];
    snprintf(buf, sizeof buf, "%s", s);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (!strcmp(t, "read"))
            *out |= SRV_SCOPE_READ;
        else if (!strcmp(t, "write"))
            *out |= SRV_SCOPE_WRITE;
        else
            return -1;
    }
    return *out ? 0 : -1;
}

static int parse_limit(const char *s, uint64_t *limit, double *window) {
    if (!strcmp(s, "unlimited")) {
        *limit = 0;
        *window = 1;
        return 0;
    }
    char *end;
    if (!isdigit((unsigned char)s[0])) return -1;
    unsigned long long n = strtoull(s, &end, 10);
    if (n == 0 || n > 1000000000ULL || *end != '/') return -1;
    if (!strcmp(end, "/s"))
        *window = 1;
    else if (!strcmp(end, "/min"))
        *window = 60;
    else if (!strcmp(end, "/h"))
        *window = 3600;
    else
        return -1;
    *limit = n;
    return 0;
}

/* One line's four fields into k; -1 with what is wrong in err. */
static int parse_line(char *line, srv_key *k, ch_error *err) {
    char *f[5];
    int nf = 0;
    for (char *save = NULL, *t = strtok_r(line, " \t\r\n", &save); t && nf < 5;
         t = strtok_r(NULL, " \t\r\n", &save))
        f[nf++] = t;
    if (nf != 4) return ch_err(err, "want NAME SHA256-HEX SCOPES LIMIT, found %d fields", nf);
    if (strlen(f[0]) >= sizeof k->name) return ch_err(err, "name over 63 bytes");
    snprintf(k->name, sizeof k->name, "%s", f[0]);
    if (strlen(f[1]) != 64 || ch_hex_decode(f[1], 64, k->hash, 32) != 0)
        return ch_err(err,
                      "'%s' is not 64 hex digits (the key's SHA-256: coinhound serve "
                      "--hash-key)",
                      f[1]);
    if (parse_scopes(f[2], &k->scopes) != 0)
        return ch_err(err, "scopes '%s': want read, write or read,write", f[2]);
    if (parse_limit(f[3], &k->limit, &k->window_s) != 0)
        return ch_err(err, "limit '%s': want N/s, N/min, N/h or unlimited", f[3]);
    k->tokens = (double)k->limit;
    k->last = -1;
    return 0;
}

int srv_keys_load(const char *path, srv_keys *out, ch_error *err) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "r");
    if (!f) return ch_err(err, "cannot open keys file %s", path);
    char line[1024];
    size_t cap = 0, lineno = 0;
    srv_keys k = {0};
    ch_error e;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p || *p == '#' || *p == '\n' || *p == '\r') continue;
        srv_key *v = ch_grow(k.v, &cap, k.n + 1, sizeof *v);
        if (!v) {
            ch_err(&e, "out of memory");
            goto fail;
        }
        k.v = v;
        srv_key *key = &k.v[k.n];
        memset(key, 0, sizeof *key);
        if (parse_line(p, key, &e) != 0) goto fail;
        for (size_t i = 0; i < k.n; i++)
            if (!memcmp(k.v[i].hash, key->hash, 32)) {
                ch_err(&e, "the same key as line of '%s'", k.v[i].name);
                goto fail;
            }
        pthread_mutex_init(&key->mu, NULL);
        k.n++;
    }
    fclose(f);
    if (k.n == 0) {
        free(k.v);
        return ch_err(err, "%s: no keys (NAME SHA256-HEX SCOPES LIMIT a line)", path);
    }
    *out = k;
    return 0;
fail:
    fclose(f);
    srv_keys_free(&k);
    return ch_err(err, "%s: line %zu: %s", path, lineno, e.msg);
}

void srv_keys_free(srv_keys *k) {
    for (size_t i = 0; i < k->n; i++)
        pthread_mutex_destroy(&k->v[i].mu);
    free(k->v);
    memset(k, 0, sizeof *k);
}

srv_key *srv_keys_find(srv_keys *k, const char *key, size_t len) {
    uint8_t h[32];
    SHA256((const unsigned char *)key, len, h);
    for (size_t i = 0; i < k->n; i++)
        if (CRYPTO_memcmp(k->v[i].hash, h, 32) == 0) return &k->v[i];
    return NULL;
}

bool srv_key_take(srv_key *k, double now, uint64_t *remaining, unsigned *retry_after) {
    *retry_after = 0;
    if (k->limit == 0) {
        *remaining = 0;
        return true;
    }
    double rate = (double)k->limit / k->window_s;
    pthread_mutex_lock(&k->mu);
    if (k->last >= 0 && now > k->last) {
        k->tokens += (now - k->last) * rate;
        if (k->tokens > (double)k->limit) k->tokens = (double)k->limit;
    }
    k->last = now;
    bool ok = k->tokens >= 1.0;
    if (ok) k->tokens -= 1.0;
    *remaining = (uint64_t)k->tokens;
    if (!ok) {
        double wait = ceil((1.0 - k->tokens) / rate);
        *retry_after = wait < 1 ? 1 : (unsigned)wait;
    }
    pthread_mutex_unlock(&k->mu);
    return ok;
}
