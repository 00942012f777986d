/* A webhook receiver for the watcher's tests: libmicrohttpd on a loopback
 * port that checks each POST itself (the X-Coinhound-Signature header is
 * HMAC-SHA256 of the body under the secret, computed here with OpenSSL; the
 * X-Coinhound-Alert-Id header is the body's id), can be told to fail, and
 * keeps the distinct ids it acknowledged. */
#ifndef COINHOUND_TESTS_HOOKRECV_H
#define COINHOUND_TESTS_HOOKRECV_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>

typedef struct hookrecv {
    struct MHD_Daemon *d;
    int port;
    const char *secret;
    pthread_mutex_t mu;
    int fail_next;      /* answer 500 to this many more requests */
    int every_nth_fail; /* answer 500 to every n-th request (0: never) */
    int requests, bad_signatures, acked;
    json_t *ids; /* id -> the "retracted" of the last body acknowledged with it */
} hookrecv;

/* Zeroed, with its secret (kept by reference) and no daemon yet. */
void hr_init(hookrecv *r, const char *secret);
/* Listen on port (0: a free one the system picks; again after hr_stop):
 * the port. Asserts. */
int hr_start(hookrecv *r, int port);
void hr_stop(hookrecv *r);
/* hr_stop, and the ids freed. */
void hr_free(hookrecv *r);
/* How many distinct ids were acknowledged. */
int hr_acked_ids(hookrecv *r);
bool hr_has(hookrecv *r, const char *id);
/* Wait until at least want ids were acknowledged, or ms passed. */
void hr_wait_acked(hookrecv *r, int want, unsigned ms);
/* Every id of the store's alert log (coinhound alerts --db db --chain
 * chain --json) was acknowledged, its last line last (a retraction after
 * its alert), and the receiver acknowledged no other id: the count of the
 * log's lines. */
int hr_assert_log_acked(hookrecv *r, const char *db, const char *chain);

#endif
