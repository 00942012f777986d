/* Large buffers: the store writer's (hot maps, pending records, the
 * commit's sort arrays) and the trace engine's (per-tx and per-output
 * arrays). Internal to the library. */
#ifndef COINHOUND_UTIL_BIGMEM_H
#define COINHOUND_UTIL_BIGMEM_H

#include <stddef.h>

/* bytes of zeroed memory, or NULL; free with ch_big_free(p, bytes) */
void *ch_big_alloc(size_t bytes);
void ch_big_free(void *p, size_t bytes);
/* p (of old bytes, or NULL) grown to bytes, contents kept; NULL on ENOMEM,
 * p then unchanged */
void *ch_big_grow(void *p, size_t old, size_t bytes);

#endif
