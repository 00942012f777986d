/* libFuzzer: the incidents and published-figures files of `coinhound report
 * totals` (report.h, docs/report.md).
 *
 * Input: the first byte picks the layout (even: incidents; odd: published
 * figures); the rest is the file.
 * Properties: never crashes or reads out of bounds; a refusal names the
 * input ("fuzz: ..."); a refused file leaves the set as it was; every record
 * taken has a date or year in range, a non-negative amount and an http(s)
 * citation; and the totals report of what was taken (HTML and JSON) is
 * written without error. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "coinhound/report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    bool published = data[0] & 1;
    ch_incidents *set;
    ch_error err;
    if (ch_incidents_new(&set, &err) != 0) abort();
    const char *text = (const char *)data + 1;
    int rc = published ? ch_published_load_mem(set, "fuzz", text, size - 1, &err)
                       : ch_incidents_load_mem(set, "fuzz", text, size - 1, &err);
    if (rc != 0) {
        if (strncmp(err.msg, "fuzz", 4) != 0 && strcmp(err.msg, "out of memory") != 0) abort();
        if (ch_incidents_count(set) || ch_published_count(set)) abort(); /* nothing kept */
    }
    for (size_t i = 0; i < ch_incidents_count(set); i++) {
        const ch_incident *x = ch_incidents_get(set, i);
        if (x->year < 2009 || x->year > 2100 || !(x->usd >= 0)) abort();
        if (strncasecmp(x->source_url, "http", 4) != 0) abort();
    }
    for (size_t i = 0; i < ch_published_count(set); i++) {
        const ch_published *p = ch_published_get(set, i);
        if (p->year < 2009 || p->year > 2100 || !(p->usd >= 0)) abort();
        if (strncasecmp(p->source_url, "http", 4) != 0) abort();
    }
    FILE *sink = fopen("/dev/null", "w");
    if (!sink) abort();
    ch_totals_opts o;
    ch_totals_opts_init(&o);
    o.generated = "fuzz";
    if (ch_report_totals_write(sink, set, &o, false, &err) != 0) abort();
    if (ch_report_totals_write(sink, set, &o, true, &err) != 0) abort();
    fclose(sink);
    ch_incidents_free(set);
    return 0;
}
