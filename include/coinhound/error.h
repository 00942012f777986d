/* coinhound: error reporting, and the conventions every public header keeps.
 *
 * ---- Return values (stated once here; a header says so only to differ) ---
 *
 *   int f(..., ch_error *err)   0 on success, -1 on failure. On failure err
 *                               holds one human-readable sentence naming what
 *                               failed and where (file, offset, line), fit to
 *                               print as it is; outputs are then unspecified
 *                               unless the function says otherwise, and
 *                               nothing was written half (files are written
 *                               to a temporary name and renamed).
 *   lookups (find, get, next)   1 found (the out-parameter is filled), 0 not
 *                               found (it is left alone), -1 error (only
 *                               those that take a ch_error can fail). Not
 *                               found is an answer, never an error.
 *   counts                      the count (>= 0), or -1 on error.
 *   void f(...)                 cannot fail.
 *   T *f_new(...)               NULL when out of memory.
 *
 * ---- NULL ----------------------------------------------------------------
 *
 *   - err may always be NULL: the failure is still returned, its message
 *     dropped.
 *   - Every other pointer argument must be valid unless its comment says
 *     "may be NULL" (and then says what NULL means). Passing NULL where it is
 *     not allowed is a programming error: the library does not check for it,
 *     in the way of libsecp256k1, rather than turn a caller's bug into a
 *     silent "not found" (for a screening library, a silent "clean").
 *   - A handle's close or free (ch_store_close, ch_screen_set_close,
 *     ch_intel_close, ch_trace_free, ...) accepts NULL and does nothing, so
 *     cleanup paths need no test. Functions that empty a struct the caller
 *     owns (ch_evm_block_free) need a valid pointer.
 *   - Strings are NUL-terminated UTF-8 unless a length is passed beside them.
 *     Pointers a result hands out (into a mapping, an arena, a handle) live
 *     until that handle is closed or reset; the header says which.
 *
 * ---- Threads -------------------------------------------------------------
 *
 *   A handle is used by one thread at a time unless its header says lookups
 *   are thread-safe (the screening set's are). Distinct handles are
 *   independent.
 *
 * ---- Symbols -------------------------------------------------------------
 *
 *   Every name a header declares starts with ch_ (types, functions) or CH_
 *   (macros, enum values; COINHOUND_ for the version and include guards);
 *   libcoinhound.a and libcoinhound.so export ch_ symbols and nothing
 *   else. */
#ifndef COINHOUND_ERROR_H
#define COINHOUND_ERROR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A compile-time check a public header can make in C11 and in C++. */
#ifdef __cplusplus
#define CH_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define CH_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif

#define CH_ERROR_MAX 512

typedef struct ch_error {
    char msg[CH_ERROR_MAX];
} ch_error;

/* Format a message into err (no-op when err is NULL). Always returns -1 so a
 * caller can write `return ch_err(err, "...", ...);`. */
int ch_err(ch_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prefix an existing message with more context: "ctx: old message". */
int ch_err_prefix(ch_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#ifdef __cplusplus
}
#endif

#endif
