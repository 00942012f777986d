/* Helpers shared by the cmocka tests. */
#ifndef COINHOUND_TESTUTIL_H
#define COINHOUND_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <cmocka.h>

/* The shared fixtures folder: $COINHOUND_FIXTURES, else ../shared/fixtures
 * relative to the repository root (tests run from the root). */
const char *tu_fixtures_dir(void);
/* Path of a fixture file (static buffer, overwritten by the next call); NULL,
 * with a clear "skipped" message on stderr, when the fixtures are absent.
 * Tests call skip() when it returns NULL. */
const char *tu_fixture(const char *relpath);
/* Read a whole file; NULL when it cannot be read. Caller frees. */
uint8_t *tu_read_file(const char *path, size_t *len);
/* A fresh empty temporary directory (mkdtemp); caller removes with tu_rmrf. */
char *tu_tmpdir(void);
void tu_rmrf(const char *path);
/* Run a shell command and capture stdout (caller frees); *status gets the exit code. */
char *tu_run(const char *cmd, int *status);
/* Path to a built program in the build dir ($BUILD, default "build"). */
const char *tu_bin(const char *name);
/* A text file whole (NUL-terminated), or NULL. Caller frees. */
char *tu_read_text(const char *path);
/* How many times text occurs in the file at path (0 when unreadable). */
int tu_count_in(const char *path, const char *text);
/* The file at path says each of texts (NULL-ended); a failure names the
 * first it does not say. */
void tu_assert_file_says(const char *path, const char *const *texts);
void tu_msleep(unsigned ms);
/* Start argv[0] (a path) in a child, its stdout appended to out_path and
 * its stderr to err_path (both made when absent); its pid. */
pid_t tu_spawn(char *const argv[], const char *out_path, const char *err_path);

/* 1 when built with AddressSanitizer (GCC says so with __SANITIZE_ADDRESS__,
 * clang through __has_feature): its allocator serves malloc (no mallinfo2)
 * and its shadow memory is in RSS, so tests of the heap's or RSS's growth
 * cannot hold their bounds there. */
#if defined(__SANITIZE_ADDRESS__)
#define TU_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TU_UNDER_ASAN 1
#endif
#endif
#ifndef TU_UNDER_ASAN
#define TU_UNDER_ASAN 0
#endif

#endif
