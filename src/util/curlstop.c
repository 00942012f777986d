/* The stop flag seen by libcurl while it waits (curlstop.h). */
#include "curlstop.h"

/* libcurl's progress callback, about once a second while it waits:
 * non-zero aborts the transfer. */
static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow) {
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    const volatile sig_atomic_t *stop = ctx;
    return *stop != 0;
}

void ch_curl_stop_on(CURL *c, volatile sig_atomic_t *stop) {
    if (!stop) return;
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)stop);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
}
