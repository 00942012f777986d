/* Files derived from a sorted run (its filter, runfilter.h; its fences,
 * runfence.h): a header that ties the file to its run, then the data.
 * Written whole under a temporary name and renamed, not synced (a file a
 * crash cut short or left unwritten fails its checks at the next open
 * and is built again from the run, and a sync would cost the watcher's
 * commit a disk flush more for each new run); read through a read-only
 * mapping. Internal to the store. */
#ifndef COINHOUND_STORE_DERIVED_H
#define COINHOUND_STORE_DERIVED_H

#include <stddef.h>
#include <stdint.h>

#include "coinhound/error.h"

/* path opened, its first head_len bytes read into head and its size into
 * *size: the descriptor, or -1 when it is missing or shorter. */
int st_derived_open(const char *path, void *head, size_t head_len, uint64_t *size);
/* path's file mapped read-only (its length in *len) when it is size bytes
 * long and what follows its head_len-byte head hashes (XXH3-64) to hash,
 * a field of head read from the file; NULL when it is missing, of another
 * length or damaged. ok is the caller's check of the head just read
 * (magic, the run it names) and says how long the file must be. */
void *st_derived_load(const char *path, void *head, size_t head_len, const uint64_t *hash,
                      uint64_t (*ok)(const void *head, const void *ctx), const void *ctx,
                      size_t *len);
/* Write head then body as path (through path.tmp, renamed): a descriptor
 * of the file open for reading (to map it), or -1 with err set (nothing
 * left behind). */
int st_derived_write(const char *path, const void *head, size_t head_len, const void *body,
                     size_t body_len, ch_error *err);
/* The file fd of len bytes mapped read-only, advised random (a lookup
 * reads one block of it: no read-ahead); NULL when it cannot be. */
void *st_derived_map(int fd, size_t len);

#endif
