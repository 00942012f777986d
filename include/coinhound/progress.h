/* coinhound: progress of long work on a terminal (quiet when not a TTY). */
#ifndef COINHOUND_PROGRESS_H
#define COINHOUND_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ch_progress {
    FILE *out;
    bool enabled;
    double start, last;
    uint64_t total_bytes; /* work to do, for rate and ETA */
    uint32_t top_height;
} ch_progress;

/* Enabled when out is a terminal (force: 1 on, 0 off, -1 auto). */
void ch_progress_init(ch_progress *p, FILE *out, int force, uint64_t total_bytes,
                      uint32_t top_height);
/* Redraws at most a few times a second: height, tx/s, MB/s, ETA. */
void ch_progress_update(ch_progress *p, uint32_t height, uint64_t txs, uint64_t bytes);
/* Clears the line. */
void ch_progress_done(ch_progress *p);
/* Seconds on a monotonic clock. */
double ch_now(void);

#ifdef __cplusplus
}
#endif

#endif
