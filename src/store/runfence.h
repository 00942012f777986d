/* A sorted run's fences saved beside it: the key of every ST_RUN_FENCE-th
 * entry (8 bytes for 256 entries, 1/384 of the run), so that a lookup in a
 * run any process opens finds the block of 256 entries that can hold its
 * key in memory, then reads only that block (runs.c, st_runs_find), where
 * a search of the run's mapping touched a page of the file for each of its
 * last dozen steps. The writer of a run has its fences as it writes it (the
 * merge sees every key); a process that opens the store later, the
 * watcher above all, read the run's pages instead: run lookups were 74% of
 * the watcher's adds (docs/store.md, "New blocks"). Derived data, kept as
 * <name>-<seq>.fence with what ties it to its run (seq, entry count, the
 * run's tag) and an XXH3-64 of the fences: a stale or damaged file is
 * built again from the run, never trusted (a wrong fence would send a
 * lookup to a block that does not hold its key, and a stored tx or
 * address would look new). Internal to the store. */
#ifndef COINHOUND_STORE_RUNFENCE_H
#define COINHOUND_STORE_RUNFENCE_H

#include <stddef.h>
#include <stdint.h>

#include "coinhound/error.h"

/* The fences of one run: count keys, read from a read-only mapping of the
 * file (map, map_len), or none (keys NULL). */
typedef struct st_fences {
    const uint64_t *keys;
    uint64_t count;
    void *map;
    size_t map_len;
} st_fences;

/* Fences a run of n entries has: one per ST_RUN_FENCE entries. */
uint64_t st_fence_count(uint64_t n);
/* Load path's fences for run seq of n entries and tag: 0, or -1 when the
 * file is missing, another run's, or damaged (f then empty). */
int st_fence_load(st_fences *f, const char *path, uint64_t seq, uint64_t n, uint64_t tag);
/* Save keys (st_fence_count(n) of them) as path's fences for that run (a
 * temporary file renamed; not synced: a crash's leftover fails its checks
 * and is built again) and map them into f; keys stay the caller's. 0, or
 * -1 with err set (f then empty). */
int st_fence_save(st_fences *f, const char *path, uint64_t seq, uint64_t n, uint64_t tag,
                  const uint64_t *keys, ch_error *err);
void st_fence_free(st_fences *f);

#endif
