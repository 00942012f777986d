/* API keys and their rate limits (server/keys.c).
 *
 * The keys file: one key a line, "NAME SHA256-HEX SCOPES LIMIT", '#'
 * comments and blank lines skipped. SCOPES is "read", "write" or
 * "read,write"; LIMIT is N/s, N/min, N/h or "unlimited". Only the SHA-256
 * of a key is kept (a stolen file names no usable key).
 *
 * A limit of N per window is a token bucket holding at most N tokens,
 * refilled at N per window: a burst of N, then N per window. */
#ifndef COINHOUND_SERVER_KEYS_H
#define COINHOUND_SERVER_KEYS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coinhound/error.h"

#define SRV_SCOPE_READ  1u
#define SRV_SCOPE_WRITE 2u

typedef struct srv_key {
    char name[64];
    uint8_t hash[32];
    unsigned scopes;
    uint64_t limit;  /* requests per window; 0: unlimited */
    double window_s; /* the window in seconds */
    /* the bucket */
    pthread_mutex_t mu;
    double tokens;
    double last; /* monotonic seconds of the last refill */
} srv_key;

typedef struct srv_keys {
    srv_key *v;
    size_t n;
} srv_keys;

/* Read a keys file: all or nothing, -1 with "FILE: line N: ..." in err. */
int srv_keys_load(const char *path, srv_keys *out, ch_error *err);
void srv_keys_free(srv_keys *k);
/* The key whose SHA-256 is that of the text given, or NULL. */
srv_key *srv_keys_find(srv_keys *k, const char *key, size_t len);

/* Take one request from the key's bucket at monotonic time now: true when
 * allowed. *remaining gets what is left after it; *retry_after the whole
 * seconds until the next token when refused. */
bool srv_key_take(srv_key *k, double now, uint64_t *remaining, unsigned *retry_after);

#endif
