/* coinhound: error reporting.
 *
 * Every fallible function takes a `ch_error *` (which may be NULL) and returns
 * 0 on success or -1 on failure after writing one human-readable sentence into
 * it. Messages name what failed and where (file, offset, line), so a CLI can
 * print them as they are. */
#ifndef COINHOUND_ERROR_H
#define COINHOUND_ERROR_H

#include <stddef.h>

#define CH_ERROR_MAX 512

typedef struct ch_error {
    char msg[CH_ERROR_MAX];
} ch_error;

/* Format a message into err (no-op when err is NULL). Always returns -1 so a
 * caller can write `return ch_err(err, "...", ...);`. */
int ch_err(ch_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prefix an existing message with more context: "ctx: old message". */
int ch_err_prefix(ch_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
