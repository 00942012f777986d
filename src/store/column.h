/* A column file: fixed-size records, appended in memory until commit, read
 * through a shared read-only mapping. Internal to the store. */
#ifndef COINHOUND_STORE_COLUMN_H
#define COINHOUND_STORE_COLUMN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "coinhound/error.h"

typedef struct st_col {
    int fd;
    size_t rec;           /* bytes per record */
    uint64_t n_committed; /* records covered by the last commit */
    uint8_t *pend;        /* records added since, not yet in the file */
    uint64_t pend_n;
    uint64_t pend_cap;
    uint8_t *map; /* shared mapping of the committed records (writable for a writer) */
    size_t map_len;
    bool writable;
    /* a writer past its memory budget (ch_store_trim): reads of committed
     * records go through pread, not the mapping (see st_col_get) */
    bool cold;
    /* kept in 4 KiB page-cache pages (st_col_small_pages) */
    bool small_pages;
    char path[4096];
} st_col;

/* A column whose store kind does not keep it stays closed (fd -1): it
 * counts zero records and flush, sync and truncate do nothing. */

/* Open (create when writable) path; cut it to n_committed records when
 * writable (bytes past the last commit are a crashed writer's tail). */
int st_col_open(st_col *c, const char *path, size_t rec, uint64_t n_committed, bool writable,
                ch_error *err);
void st_col_close(st_col *c);
/* A reader's column moves to another committed length n (ch_store_refresh):
 * the file must hold n records; the mapping is made again, so pointers
 * into the old one are invalid. */
int st_col_remap_to(st_col *c, uint64_t n, ch_error *err);

static inline uint64_t st_col_count(const st_col *c) {
    return c->n_committed + c->pend_n;
}

/* Pointer to record i (committed or pending). Valid until the next append
 * or commit. */
static inline void *st_col_at(const st_col *c, uint64_t i) {
    if (i < c->n_committed) return c->map + i * c->rec;
    return c->pend + (i - c->n_committed) * c->rec;
}

int st_col_pread(const st_col *c, uint64_t i, void *out);

/* Copy record i (committed or pending) into out. Through the mapping,
 * unless the column is cold: then a committed record is read with pread.
 * A fault on a mapped file page brings in more than the page (the kernel
 * maps the whole large folio or the pages around it that are cached), so
 * random reads through the mapping of a store larger than the memory
 * budget filled the process's resident set several times faster than they
 * were used, and every trim (then about every second) threw that away
 * again; a pread of one record adds nothing to it. */
static inline void st_col_get(const st_col *c, uint64_t i, void *out) {
    if (c->cold && i < c->n_committed && st_col_pread(c, i, out) == 0) return;
    memcpy(out, st_col_at(c, i), c->rec);
}

/* Records [i, i + n) into out, as st_col_get each; a cold column's
 * committed ones in one pread (an input's tx record and the next one:
 * one system call and one page-cache lookup fewer for each input). */
int st_col_pread_n(const st_col *c, uint64_t i, uint64_t n, void *out);
static inline void st_col_get_n(const st_col *c, uint64_t i, uint64_t n, void *out) {
    if (c->cold && i + n <= c->n_committed && st_col_pread_n(c, i, n, out) == 0) return;
    for (uint64_t k = 0; k < n; k++)
        st_col_get(c, i + k, (uint8_t *)out + k * c->rec);
}

/* Append one record (copied); returns its index, or UINT64_MAX on ENOMEM. */
uint64_t st_col_append(st_col *c, const void *rec);
/* Write bytes into a record in place (the spent mark, an address head): a
 * committed one through the shared writable mapping (the kernel writes it
 * back; st_col_sync makes it durable), a pending one in memory. */
int st_col_patch(st_col *c, uint64_t i, size_t off, const void *data, size_t len, ch_error *err);
/* One in-place write of a batch: record i gets v, stored as a uint32_t or
 * a uint64_t (by the batch's len) would be. */
typedef struct st_col_edit {
    uint64_t i;
    uint64_t v;
} st_col_edit;

/* Write len bytes (4 or 8) of each edit's v at offset off of committed
 * record i, all at once: the edits are sorted by record here (stable: of
 * two edits of one record the later wins), and applied in one pass over
 * the file, in spans of whole 4 KiB pages read with pread, patched and
 * written back with pwrite; nearby pages share a span. Nothing goes
 * through the mapping, which sees the new bytes all the same (one page
 * cache). Why not stores into the mapping: the page cache keeps these
 * appended files in large folios, and a store into one makes ext4 dirty
 * (and write back) the whole folio, up to 2 MiB for a 4-byte mark
 * (docs/store.md, "At scale"). A column held in small pages
 * (st_col_small_pages) gets one pwrite a page, of the bytes from its
 * first edit to its last: it dirties that 4 KiB page alone (not a store
 * into the writable mapping, whose write-back costs a TLB shootdown a
 * page: column_patch.c). Not durable until st_col_sync. */
int st_col_patch_many(st_col *c, st_col_edit *edits, size_t n, size_t off, size_t len,
                      ch_error *err);
/* Write the pending records to the file and start their way to the disk
 * without waiting (step 1 of a commit; st_col_sync makes them durable). The
 * records stay pending until st_col_publish. */
int st_col_write(st_col *c, ch_error *err);
/* Step 2, after the lengths are committed in LMDB: extend the mapping. */
int st_col_publish(st_col *c, ch_error *err);
/* Drop the last pending record (one just appended). */
static inline void st_col_discard_last(st_col *c) {
    if (c->pend_n) c->pend_n--;
}
/* Read record i into out: through the mapping when committed or pending,
 * else from the file (a record a writer committed after this handle's
 * view); 0, or -1 when the file does not hold it. */
int st_col_read_any(const st_col *c, uint64_t i, void *out);
/* Drop pending records. */
void st_col_discard(st_col *c);
/* Cut the column to n records (committed), file included. */
int st_col_truncate(st_col *c, uint64_t n, ch_error *err);
int st_col_sync(st_col *c, ch_error *err);
/* Hold a writer's column in the page cache in 4 KiB pages from now on, for
 * in-place writes (spent marks, address heads) that cost a page each, not
 * a large folio: a 4-byte write into a 2 MiB folio makes ext4 walk (at the
 * write) and write back (at the sync) every buffer of the folio. The pages
 * of the file the page cache holds (mincore) are dropped and read back,
 * 2 MiB of the file at a time, with readahead off (the kernel then caches
 * them in 4 KiB folios; pages not cached are not read), the fd and the
 * mapping are advised random (no readahead or read-around to build large
 * folios again), and st_col_write appends a page at a time (a write's
 * length sets the size of the folios it creates). Pages mapped by another
 * process are left as they are. Costs a read of what was cached. 0, or -1
 * when the file cannot be read back (err says so). */
int st_col_small_pages(st_col *c, ch_error *err);

#endif
