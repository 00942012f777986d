/* Download a file over HTTPS with libcurl (for `coinhound intel update`). */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "coinhound/intel.h"

int ch_intel_fetch(const char *url, const char *dest, ch_error *err) {
    if (strncmp(url, "https://", 8) != 0)
        return ch_err(err, "refusing to fetch %s: only https:// URLs", url);
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.part", dest);
    FILE *f = fopen(tmp, "wb");
    if (!f) return ch_err(err, "cannot write %s: %s", tmp, strerror(errno));
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
        fclose(f);
        remove(tmp);
        return ch_err(err, "libcurl failed to initialise");
    }
    CURL *c = curl_easy_init();
    if (!c) {
        fclose(f);
        remove(tmp);
        curl_global_cleanup();
        return ch_err(err, "libcurl failed to initialise");
    }
    char cerr[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, f); /* default write callback: fwrite */
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    /* redirects must stay on https too */
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https");
    curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 20L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 600L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "coinhound (attribution store update)");
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_cleanup(c);
    curl_global_cleanup();
    int closed = fclose(f);
    if (rc != CURLE_OK) {
        remove(tmp);
        return ch_err(err, "cannot fetch %s: %s", url, cerr[0] ? cerr : curl_easy_strerror(rc));
    }
    if (closed != 0 || rename(tmp, dest) != 0) {
        remove(tmp);
        return ch_err(err, "cannot write %s: %s", dest, strerror(errno));
    }
    return 0;
}
