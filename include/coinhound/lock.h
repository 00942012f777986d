/* coinhound: one writer at a time.
 *
 * A store (DIR/<chain>, DIR/intel) has at most one writer: every writing
 * path takes an exclusive flock(2) on the store's `writer.lock` file and
 * holds it for the writer's life. The kernel releases it when the process
 * ends, however it ends (kill -9 included), so a dead writer never leaves
 * the store locked. The holder writes its pid into the file, so a refused
 * writer can say who holds it. Readers take no lock: they read committed
 * state only.
 *
 * flock locks belong to an open file description: a second take in the same
 * process conflicts like one from another process. */
#ifndef COINHOUND_LOCK_H
#define COINHOUND_LOCK_H

#include <stdbool.h>

#include "coinhound/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CH_WRITER_LOCK_FILE "writer.lock"

typedef struct ch_writer_lock ch_writer_lock;

/* Take DIR/writer.lock (DIR must exist). When another process holds it:
 * with wait, block until it is released (saying once on stderr whom it
 * waits for); without, fail at once with a message naming DIR and the
 * holder's pid. *out is NULL on failure. */
int ch_writer_lock_take(const char *dir, bool wait, ch_writer_lock **out, ch_error *err);
/* Release and free (NULL is fine). */
void ch_writer_lock_release(ch_writer_lock *l);

#ifdef __cplusplus
}
#endif

#endif
