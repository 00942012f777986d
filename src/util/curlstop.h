/* A libcurl transfer given up when a stop flag is set (internal): the node
 * clients (eth's and btc's) share it, so that a stop is not kept waiting on
 * a node that accepted the request and never answers. */
#ifndef COINHOUND_UTIL_CURLSTOP_H
#define COINHOUND_UTIL_CURLSTOP_H

#include <curl/curl.h>
#include <signal.h>

/* Once *stop is set (by a signal handler), the transfer in hand on c ends
 * within about a second with CURLE_ABORTED_BY_CALLBACK (libcurl's progress
 * callback); stop NULL: nothing is set. Set again after curl_easy_reset. */
void ch_curl_stop_on(CURL *c, volatile sig_atomic_t *stop);

#endif
