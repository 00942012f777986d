/* I/O failures said as what they are (internal). */
#ifndef COINHOUND_UTIL_IOERR_H
#define COINHOUND_UTIL_IOERR_H

#include "coinhound/error.h"

/* An error writing `file` while doing `what`, with the system's reason
 * (reason: its text; errnum: the errno or LMDB code, 0 if none). A full
 * disk is named as such, "FILE: no space left on device (WHAT)": ENOSPC,
 * and also an EIO or a short write when the file's file system has less
 * than 1 MiB left (LMDB reports a short write as EIO). Returns -1. */
int ch_io_err(ch_error *err, const char *file, const char *what, const char *reason, int errnum);

/* Give file (created if missing) at least `bytes` of real disk blocks.
 * LMDB maps its lock file and writes through the mapping: on a full disk a
 * new, sparse lock file is a SIGBUS inside mdb_env_open, so the blocks are
 * reserved before (an error saying the disk is full instead). It opens and
 * closes the file: never call it on a lock.mdb that an environment of this
 * process has open (closing any descriptor of a file drops all the
 * process's fcntl locks on it, LMDB's included); util/lmdbenv.c calls it
 * only before the process's first open of a folder. */
int ch_reserve_file(const char *file, unsigned long bytes, ch_error *err);

#endif
