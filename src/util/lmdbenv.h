/* One LMDB environment per file per process (internal).
 *
 * Why. LMDB's rule (lmdb.h, "Caveats"): "Do not have open an LMDB database
 * twice in the same process at the same time. Not even from a plain open()
 * call - close()ing it breaks flock() advisory locking." Its locks are
 * POSIX fcntl locks on lock.mdb, which belong to the process, not to the
 * descriptor. coinhound used to give every ch_store and ch_intel handle its
 * own MDB_env, and library calls that take a folder open one more inside
 * (cluster labels, deposits, verify, ...). A second mdb_env_open of the same
 * file in one process then took the "exclusive" lock again (it is its own
 * lock, so that succeeds), believed it was the file's first user and reset
 * the reader table; and closing any one of those environments dropped all
 * the process's locks on lock.mdb and cleared every reader slot of the
 * process (mdb_env_close clears the slots by pid). A live read transaction
 * of another handle was then invisible to writers: a writer in another
 * process reused the pages it was still reading (wrong answers, silently),
 * and a reorg's cut stopped waiting for it (store/readers.c).
 *
 * So every opener of an LMDB folder goes through here: the folder (its
 * st_dev and st_ino, and those of data.mdb once it exists) names one shared,
 * reference-counted environment, closed when its last user closes it.
 *
 * Rules.
 * - Mode. The environment is opened read-write whenever the process may
 *   write the files (a reader opens a folder whose data.mdb exists read-write
 *   too, so that a writer opening the same folder later can share it), and
 *   read-only only when writing is refused (EACCES, EROFS, EPERM). A writer
 *   that finds the folder's environment open read-only fails with an error
 *   naming the folder: it could not have written those files anyway. A
 *   reader never creates data.mdb (a folder without one is an error of
 *   mdb_env_open, as before).
 * - Options. The first opener's spec (map size, tables, flags) holds for
 *   everyone; MDB_NOTLS is always set (every handle keeps read transactions
 *   of its own, several per thread).
 * - Tables. mdb_dbi_open results belong to the environment: ch_lmdb_dbi
 *   opens a named table once per environment, in a transaction of its own
 *   under the registry's lock (LMDB forbids concurrent mdb_dbi_open), and
 *   hands every caller the same handle. No table is ever closed
 *   (mdb_dbi_close) while the environment lives.
 * - Threads. The registry is guarded by one mutex; an environment itself is
 *   used under LMDB's own rules (MDB_NOTLS read transactions, one write
 *   transaction at a time).
 * - fork. An environment belongs to the process that opened it (LMDB: "use
 *   an MDB_env* in the process which opened it, not after fork()"). A child
 *   that opens a folder gets an environment of its own; entries inherited
 *   from the parent are never used, and never closed, by the child (closing
 *   one there is dropping a reference; the memory stays with the child until
 *   it exits or execs). The handles built on one (ch_store_close,
 *   ch_intel_close) check ch_lmdb_ours and leave the parent's alone: an
 *   abort of the inherited read transaction would free the parent's reader
 *   slot, which lives in the shared lock.mdb.
 * - lock.mdb is reserved ahead (ch_reserve_file) only by the process's first
 *   open of a folder: that call opens and closes the file, and closing any
 *   descriptor of it would drop the locks of an environment already open.
 */
#ifndef COINHOUND_UTIL_LMDBENV_H
#define COINHOUND_UTIL_LMDBENV_H

#include <lmdb.h>
#include <stdbool.h>
#include <stddef.h>

#include "coinhound/error.h"

typedef struct ch_lmdb ch_lmdb;

typedef struct ch_lmdb_spec {
    size_t map_size;          /* mdb_env_set_mapsize */
    unsigned max_dbs;         /* mdb_env_set_maxdbs */
    unsigned flags;           /* more mdb_env_open flags (MDB_NORDAHEAD); never MDB_RDONLY */
    unsigned long lock_bytes; /* lock.mdb's blocks reserved before the first open; 0: none */
} ch_lmdb_spec;

/* The shared environment of folder dir, opened (or created, when write) on
 * first use. write: the caller will write (the folder may be new; the
 * environment must be read-write). Returns 0 with *out set; an LMDB or
 * errno code (> 0) from mdb_env_open, for the caller to word (*out NULL, err
 * untouched); or -1 with err set (lock.mdb cannot be reserved, a writer on a
 * read-only environment, out of memory). */
int ch_lmdb_open(const char *dir, const ch_lmdb_spec *spec, bool write, ch_lmdb **out,
                 ch_error *err);

/* The environment (for transactions; never mdb_env_close it). */
MDB_env *ch_lmdb_env(const ch_lmdb *e);

/* True when the environment is read-write. */
bool ch_lmdb_writable(const ch_lmdb *e);

/* The handle of named table `name`, opened once per environment (flags as
 * mdb_dbi_open's; MDB_CREATE needs a read-write environment and creates the
 * table in a write transaction of its own). Returns 0 or the LMDB code
 * (MDB_NOTFOUND: no such table and no MDB_CREATE). */
int ch_lmdb_dbi(ch_lmdb *e, const char *name, unsigned flags, MDB_dbi *dbi);

/* True when this process opened e (false in a child after fork: the
 * handles built on e are the parent's, to be neither used nor closed). */
bool ch_lmdb_ours(const ch_lmdb *e);

/* Drop one reference; the last one closes the environment. NULL is a no-op. */
void ch_lmdb_close(ch_lmdb *e);

/* How many environments this process holds open for the folder dir (0 or
 * 1 except in a child after fork, which never uses its parent's): for
 * tests. */
int ch_lmdb_open_count(const char *dir);

#endif
