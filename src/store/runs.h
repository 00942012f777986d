/* An index of sorted runs: the txid and address indexes of the store.
 *
 * A run is a file of 12-byte entries (the top 48 bits of a 64-bit key,
 * then a 48-bit value, both big-endian) sorted by key, written once and
 * read through a shared mapping. A commit writes its batch as a new run,
 * merged with the newest runs when they are no more than twice its size
 * (as a binary counter carries), so a store of N entries has at most about
 * log2(N / batch) runs and each entry is rewritten about that many times,
 * always sequentially. Nothing is ever updated in place: the entries of a
 * cut (reorg) stay behind as stale candidates, which every lookup checks
 * against the columns anyway. Internal to the store. */
#ifndef COINHOUND_STORE_RUNS_H
#define COINHOUND_STORE_RUNS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coinhound/error.h"
#include "store/runfence.h"
#include "store/runfilter.h"

#define ST_RUN_REC 12

/* Entries between two fences: a block of them (3 KiB) is what a fenced
 * lookup reads. */
#define ST_RUN_FENCE 256

typedef struct st_run {
    uint64_t seq; /* the file is <name>-<seq>.run */
    uint64_t n;   /* entries */
    uint8_t *map;
    st_filter filter; /* its keys' filter (a writer's: st_runs_use_filters), or none */
    /* The key of every ST_RUN_FENCE-th entry (runfence.h), or none: a
     * lookup then finds its block here and reads only that block, by
     * pread, where a search through the mapping touched several pages of
     * the file (each fault mapping the cached pages around it into the
     * process, which its memory bound's trims then threw away). A writer
     * saves them as it writes the run; st_runs_use_fences loads (or
     * builds) them for the runs it opens; keys lie in the file's mapping. */
    st_fences fence;
    int fd; /* the run file, for those reads (-1: none) */
} st_run;

/* The merge policy's limit: runs past this many are merged into the new
 * one whatever their sizes (lookups visit every run). */
#define ST_RUNS_MAX 24

typedef struct st_runs {
    char dir[4096];
    char name[16];
    st_run v[ST_RUNS_MAX + 1];
    size_t n;
    /* a run written but not yet committed (st_runs_add): it replaces
     * v[keep..n) at st_runs_publish */
    bool staged;
    st_run next;
    size_t keep;
    bool filters; /* every run has its filter, and new runs get theirs */
    /* st_runs_add leaves the staged run's sync to the caller (the commit
     * syncs it with the columns): its file stays open in sync_fd, and the
     * folder's entry is the caller's to sync too */
    bool defer_sync;
    bool sync_pending;
    int sync_fd;
    /* merges in the background (runmerge.c): st_runs_add merges nothing
     * unless the list grows too long */
    bool background;
    /* the writer's hold on a merge's writes (ch_store_hold_background), or NULL */
    const struct st_run_hold *hold;
    /* a merge of older runs in a thread of its own, or NULL */
    struct st_run_merge *bg;
    /* runs a background merge replaced in v: their files are deleted once
     * a committed list no longer names them (st_runs_publish) */
    uint64_t retired[2 * ST_RUNS_MAX];
    size_t n_retired;
} st_runs;

/* While on, a background merge writes nothing (a watcher's block on its
 * way to alerts, whose syncs would queue behind its writes): it waits a
 * millisecond at a time, at most max_ms (0: 250) each time, so that a
 * merge goes on whatever the writer does. */
typedef struct st_run_hold {
    atomic_bool on;
    unsigned max_ms;
} st_run_hold;

/* An entry to add: key and value (only the top 48 bits of the key and the
 * low 48 of the value are kept). */
typedef struct st_run_item {
    uint64_t key;
    uint64_t val;
} st_run_item;

/* Open the runs listed (seqs[i], counts[i], oldest first) under dir. */
int st_runs_open(st_runs *r, const char *dir, const char *name, const uint64_t *seqs,
                 const uint64_t *counts, size_t n, ch_error *err);
void st_runs_close(st_runs *r);
/* Give every run its filter (runfilter.h), from its file or, when that is
 * missing or does not match, built from the run and saved; new runs get
 * theirs as they are written. For a writer: a lookup then searches only
 * the runs whose filter lets its key through. */
int st_runs_use_filters(st_runs *r, ch_error *err);
/* Give every run its fences (runfence.h), from its file or, when that is
 * missing or does not match, built from the run and saved, and keep its
 * file open for the fenced lookups' reads. For a writer; new runs get
 * theirs as they are written. */
int st_runs_use_fences(st_runs *r, ch_error *err);

/* Visit the values filed under key, oldest run first and in value order
 * within a run, until visit returns non-zero (which is returned); 0 when
 * every candidate was visited. */
typedef int (*st_run_visit)(void *ctx, uint64_t val);
int st_runs_find(const st_runs *r, uint64_t key, st_run_visit visit, void *ctx);

/* Start the loading of where a lookup of key lands in each run. */
void st_runs_prefetch(const st_runs *r, uint64_t key);

/* Write items (sorted by the top 48 bits of key; equal keys in value order)
 * as the run seq, merged with the newest runs the policy picks, and make it
 * durable. The runs in use do not change until st_runs_publish. */
int st_runs_add(st_runs *r, const st_run_item *items, size_t n, uint64_t seq, ch_error *err);
/* The merge policy over v[floor, end), newest first: a run is taken in
 * while it is at most twice the entries gathered so far (*total, which
 * starts with the batch's and grows by each run taken; by_size), and while
 * the runs left would be limit or more; returns the first run taken (end
 * when none). */
size_t st_runs_policy(const st_runs *r, size_t end, size_t floor, uint64_t *total, bool by_size,
                      size_t limit);
/* With defer_sync: the staged run's file, open, to make durable (its
 * folder too) before the list naming it is committed; -1 when none. */
int st_runs_sync_fd(const st_runs *r);
/* The list to record: the runs in use, or the staged list when there is
 * one. Writes up to ST_RUNS_MAX + 1 seqs and counts; returns how many. */
size_t st_runs_list(const st_runs *r, uint64_t *seqs, uint64_t *counts);
/* After the list was committed: use it, delete the merged runs' files. */
void st_runs_publish(st_runs *r);
/* The commit failed: delete the staged run. */
void st_runs_unstage(st_runs *r);
/* --- merges in the background (runmerge.c) ---
 *
 * For a writer of small commits that must not wait (the watcher): instead
 * of merging in its commit (a carry of the binary counter can rewrite
 * much of the index: a second or more at 10M txs), the commit writes its
 * batch as a run of its own and a thread merges the newest runs the same
 * policy picks into a new run, made durable there, with its filter and
 * fences. A later commit takes it in (st_runs_merge_adopt): it replaces
 * those runs in v and in the list that commit records; their files go once
 * the list is committed (st_runs_publish). Until then every run stays as it
 * was: readers, a failed commit and a crash see the runs a committed list
 * names (a crash's unlisted merged run is swept at the next open).
 *
 * Start a merge of the newest runs if the policy picks two or more and no
 * merge runs: 1 when started (as run seq: the caller's to never give
 * again), 0 when there was nothing to merge or no thread could start. */
int st_runs_merge_start(st_runs *r, uint64_t seq);
/* A finished merge taken into v (the runs it merged retired): 1 when one
 * was, 0 when none is finished (or none runs). A merge that failed is let
 * go (its file deleted; the runs stay as they were): -1 with err saying
 * why, the runs usable as they are. */
int st_runs_merge_adopt(st_runs *r, ch_error *err);
/* Wait for the running merge and adopt it: 0, or -1 as st_runs_merge_adopt. */
int st_runs_merge_wait(st_runs *r, ch_error *err);
/* One past the last run of v the running merge reads. */
size_t st_runs_merge_end(const st_runs *r);
/* Stop a running merge (cancelled, its file deleted) and let it go. */
void st_runs_merge_stop(st_runs *r);
/* For runmerge.c: write the runs in (oldest first) merged as the run seq
 * of dir/name, durable, with its filter (filters) and fences, its file's
 * write-back paced (the page cache holds little of it dirty at a time),
 * and map it into out; stops early when *cancel is set; held by hold (may
 * be NULL). */
int st_run_write_merged(const char *dir, const char *name, bool filters, const st_run *in, size_t n,
                        uint64_t seq, const atomic_bool *cancel, const st_run_hold *hold,
                        st_run *out, ch_error *err);
/* Delete the files of run seq of dir/name (the run, its filter, its fences). */
void st_run_unlink(const char *dir, const char *name, uint64_t seq);
/* Unmap a run and free what it holds in memory (its files stay). */
void st_run_unmap(st_run *run);

/* Delete every <name>-*.run file of dir not in the list in use, and its
 * filter (a crashed writer's leftovers). */
void st_runs_sweep(const st_runs *r);
/* Let go of the mapped pages read so far (they fault in again). */
void st_runs_release(st_runs *r);
/* Bytes the filters of r's runs take in memory. */
uint64_t st_runs_filter_bytes(const st_runs *r);
/* The run of r with the largest filter in memory, or NULL when none has one. */
st_run *st_runs_largest_filter(st_runs *r);
/* Entries in all runs. */
uint64_t st_runs_entries(const st_runs *r);

#endif
