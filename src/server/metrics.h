/* Request counters and latencies, written as Prometheus text
 * (server/metrics.c). Lock-free: relaxed atomic counters, read without a
 * lock (a scrape may see one request's count before its latency). */
#ifndef COINHOUND_SERVER_METRICS_H
#define COINHOUND_SERVER_METRICS_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

/* The endpoints, for labels: what a request was routed to. */
typedef enum srv_endpoint {
    EP_SANCTIONS,
    EP_SCREEN,
    EP_STATUS,
    EP_HEALTHZ,
    EP_METRICS,
    EP_OPENAPI,
    EP_ADDRESS,
    EP_ADDRESS_TXS,
    EP_TX,
    EP_BLOCK,
    EP_CLUSTER,
    EP_TRACE,
    EP_INTEL_ACTORS,
    EP_INTEL_ADDRESS,
    EP_ALERTS,
    EP_ALERTS_STREAM,
    EP_INTEL_IMPORT,
    EP_REPORT_CASE,
    EP_STATIC, /* the web UI's files */
    EP_OTHER,  /* no route: 404, 405 */
    EP_COUNT
} srv_endpoint;

#define SRV_CODES   14
#define SRV_BUCKETS 12

typedef struct srv_metrics {
    atomic_uint_fast64_t requests[EP_COUNT][SRV_CODES];
    atomic_uint_fast64_t latency[EP_COUNT][SRV_BUCKETS + 1]; /* the last: +Inf */
    atomic_uint_fast64_t latency_ns_sum[EP_COUNT];
    atomic_uint_fast64_t addresses; /* addresses screened, batches and single */
} srv_metrics;

const char *srv_endpoint_name(srv_endpoint e);
/* Count one request answered with code after seconds. */
void srv_metrics_record(srv_metrics *m, srv_endpoint e, unsigned code, double seconds);
/* Everything in Prometheus text exposition format. */
void srv_metrics_write(const srv_metrics *m, FILE *f);

#endif
