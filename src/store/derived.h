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

/* The head of every derived file, 64 bytes (a filter's blocks, mapped,
 * each stay on one cache line): the kind of file, the run it was derived
 * from and what its body holds. */
typedef struct st_derived_head {
    char magic[8];        /* the kind and its version ("CHRUNFL2", "CHRUNFC1") */
    uint64_t seq, n, tag; /* the run: its number, entries and tag */
    uint64_t count;       /* units in the body (a filter's blocks, fences) */
    uint64_t hash;        /* XXH3-64 of the body */
    uint64_t zero[2];     /* 0 */
} st_derived_head;
CH_STATIC_ASSERT(sizeof(st_derived_head) == 64, "a derived file's head is 64 bytes");

/* The head a file of kind magic derived from run (seq, n, tag) with count
 * units of body must have (its hash left 0). */
st_derived_head st_derived_head_for(const char magic[8], uint64_t seq, uint64_t n, uint64_t tag,
                                    uint64_t count);

/* path opened, its first head_len bytes read into head and its size into
 * *size: the descriptor, or -1 when it is missing or shorter. */
int st_derived_open(const char *path, void *head, size_t head_len, uint64_t *size);
/* path's file mapped read-only (its length in *len; the body follows the
 * head) when its head is want's (st_derived_head_for: the kind, the run,
 * the count; its zero fields 0), it is the head and count units of unit
 * bytes long, and the body hashes (XXH3-64) to the head's hash; NULL when
 * it is missing, another run's or kind's, of another length or damaged. */
void *st_derived_load(const char *path, const st_derived_head *want, size_t unit, size_t *len);
/* Write head (its hash set here, that of body) then body as path (through
 * path.tmp, renamed): a descriptor of the file open for reading (to map
 * it), or -1 with err set (nothing left behind). */
int st_derived_write(const char *path, const st_derived_head *head, const void *body,
                     size_t body_len, ch_error *err);
/* The file fd of len bytes mapped read-only, advised random (a lookup
 * reads one block of it: no read-ahead); NULL when it cannot be. */
void *st_derived_map(int fd, size_t len);

#endif
