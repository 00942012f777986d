/* The watcher's malloc thresholds (watch_internal.h: watch_steady_malloc).
 *
 * Set here, by the library's watch entry points, rather than by the CLI:
 * the heap's growth they prevent is the watcher's own (its commits' and
 * merges' buffers), so every door to a watcher needs them - the CLI, the
 * systemd unit's process, any program that embeds ch_watch_run or
 * ch_watch_run_btc - or its memory is flat in one and not in the others.
 * The cost is that they are the process's: a program embedding a watcher
 * gets them too (documented in watch.h); the values are glibc's own
 * defaults, so they only stop glibc from raising them, which a process
 * that runs for months does not want either. */
#include <stdlib.h> /* a libc header: it says whether this is glibc */
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "watch/watch_internal.h"

void watch_steady_malloc(void) {
#ifdef __GLIBC__
    /* glibc, left to itself, raises its mmap threshold to the largest
     * block freed (up to 32 MiB) and its trim threshold to twice that, so
     * that the transient buffers of the store's commits and merges, as
     * they grow with the store, come from the heap and leave its resident
     * size at their high-water mark (docs/watch.md, Memory: 120 of the 280
     * bytes a block measured). Fixed at glibc's defaults, large blocks are
     * mapped and unmapped and the heap's free top returned. */
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    mallopt(M_TRIM_THRESHOLD, 128 * 1024);
#endif
}
