#include "coinhound/progress.h"

#include <time.h>
#include <unistd.h>

double ch_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void ch_progress_init(ch_progress *p, FILE *out, int force, uint64_t total_bytes,
                      uint32_t top_height) {
    p->out = out;
    p->enabled = force < 0 ? isatty(fileno(out)) : force > 0;
    p->start = p->last = ch_now();
    p->total_bytes = total_bytes;
    p->top_height = top_height;
}

static void fmt_eta(double s, char *buf, size_t cap) {
    if (s < 0 || s > 1e7)
        snprintf(buf, cap, "--");
    else if (s >= 3600)
        snprintf(buf, cap, "%dh%02dm", (int)(s / 3600), (int)(s / 60) % 60);
    else
        snprintf(buf, cap, "%dm%02ds", (int)(s / 60), (int)s % 60);
}

void ch_progress_update(ch_progress *p, uint32_t height, uint64_t txs, uint64_t bytes) {
    if (!p->enabled) return;
    double now = ch_now();
    if (now - p->last < 0.25) return;
    p->last = now;
    double el = now - p->start;
    double txps = el > 0 ? (double)txs / el : 0, mbps = el > 0 ? (double)bytes / el / 1e6 : 0;
    double eta = bytes > 0 && p->total_bytes > bytes
                     ? (double)(p->total_bytes - bytes) * el / (double)bytes
                     : 0;
    char e[32];
    fmt_eta(eta, e, sizeof e);
    fprintf(p->out, "\r\033[Kheight %u/%u  %.0f tx/s  %.1f MB/s  ETA %s", height, p->top_height,
            txps, mbps, e);
    fflush(p->out);
}

void ch_progress_done(ch_progress *p) {
    if (!p->enabled) return;
    fprintf(p->out, "\r\033[K");
    fflush(p->out);
}
