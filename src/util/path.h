/* Path joining without silent truncation (internal). */
#ifndef COINHOUND_UTIL_PATH_H
#define COINHOUND_UTIL_PATH_H

#include <stddef.h>

/* out = a + "/" + b; -1 when it does not fit in cap. */
int ch_path_join(char *out, size_t cap, const char *a, const char *b);

#endif
