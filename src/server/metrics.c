/* Request counters and latencies: see server/metrics.h. */
#include "server/metrics.h"

#include <inttypes.h>

static const unsigned CODES[SRV_CODES] = {200, 400, 401, 403, 404, 405, 408,
                                          413, 415, 429, 431, 500, 503, 0 /* other */};
/* seconds: a screening set answers in microseconds, a batch or an exposure
 * walk in milliseconds */
static const double BUCKETS[SRV_BUCKETS] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                            0.01,   0.025,   0.05,   0.1,   0.5,    1.0};

const char *srv_endpoint_name(srv_endpoint e) {
    static const char *names[EP_COUNT] = {
        "sanctions",    "screen",        "status", "healthz",       "metrics",      "openapi",
        "address",      "address_txs",   "tx",     "block",         "cluster",      "trace",
        "intel_actors", "intel_address", "alerts", "alerts_stream", "intel_import", "report_case",
        "web",          "other"};
    return e < EP_COUNT ? names[e] : "other";
}

static unsigned code_index(unsigned code) {
    for (unsigned i = 0; i + 1 < SRV_CODES; i++)
        if (CODES[i] == code) return i;
    return SRV_CODES - 1;
}

void srv_metrics_record(srv_metrics *m, srv_endpoint e, unsigned code, double seconds) {
    if (e >= EP_COUNT) e = EP_OTHER;
    atomic_fetch_add_explicit(&m->requests[e][code_index(code)], 1, memory_order_relaxed);
    unsigned b = 0;
    while (b < SRV_BUCKETS && seconds > BUCKETS[b])
        b++;
    atomic_fetch_add_explicit(&m->latency[e][b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->latency_ns_sum[e], (uint64_t)(seconds * 1e9),
                              memory_order_relaxed);
}

static uint64_t rd(const atomic_uint_fast64_t *a) {
    return atomic_load_explicit(a, memory_order_relaxed);
}

void srv_metrics_write(const srv_metrics *m, FILE *f) {
    fprintf(f, "# HELP coinhound_http_requests_total Requests answered, by endpoint and code.\n"
               "# TYPE coinhound_http_requests_total counter\n");
    for (int e = 0; e < EP_COUNT; e++)
        for (int c = 0; c < SRV_CODES; c++) {
            uint64_t n = rd(&m->requests[e][c]);
            if (!n) continue;
            if (CODES[c])
                fprintf(f,
                        "coinhound_http_requests_total{endpoint=\"%s\",code=\"%u\"} %" PRIu64 "\n",
                        srv_endpoint_name((srv_endpoint)e), CODES[c], n);
            else
                fprintf(f,
                        "coinhound_http_requests_total{endpoint=\"%s\",code=\"other\"} %" PRIu64
                        "\n",
                        srv_endpoint_name((srv_endpoint)e), n);
        }
    fprintf(f, "# HELP coinhound_http_request_duration_seconds Time from a request's headers "
               "to its answer.\n"
               "# TYPE coinhound_http_request_duration_seconds histogram\n");
    for (int e = 0; e < EP_COUNT; e++) {
        uint64_t cum = 0;
        const char *name = srv_endpoint_name((srv_endpoint)e);
        for (int b = 0; b < SRV_BUCKETS; b++) {
            cum += rd(&m->latency[e][b]);
            fprintf(f,
                    "coinhound_http_request_duration_seconds_bucket{endpoint=\"%s\",le=\"%g\"} "
                    "%" PRIu64 "\n",
                    name, BUCKETS[b], cum);
        }
        cum += rd(&m->latency[e][SRV_BUCKETS]);
        fprintf(f,
                "coinhound_http_request_duration_seconds_bucket{endpoint=\"%s\",le=\"+Inf\"} "
                "%" PRIu64 "\n",
                name, cum);
        fprintf(f, "coinhound_http_request_duration_seconds_sum{endpoint=\"%s\"} %.9f\n", name,
                (double)rd(&m->latency_ns_sum[e]) / 1e9);
        fprintf(f, "coinhound_http_request_duration_seconds_count{endpoint=\"%s\"} %" PRIu64 "\n",
                name, cum);
    }
    fprintf(f,
            "# HELP coinhound_addresses_screened_total Addresses screened.\n"
            "# TYPE coinhound_addresses_screened_total counter\n"
            "coinhound_addresses_screened_total %" PRIu64 "\n",
            rd(&m->addresses));
}
