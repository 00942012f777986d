/* Stop categories: the one parser of a comma-separated category list, used
 * by both engines (where a trace stops) and by the labels (which of several
 * attributions to prefer), so the three read the same list the same way. */
#include <stdlib.h>
#include <string.h>

#include "trace/trace_internal.h"

int tr_stop_parse(const char *list, char ***v, size_t *n) {
    size_t cap = 0;
    for (const char *p = list ? list : ""; *p;) {
        while (*p == ',' || *p == ' ')
            p++;
        if (!*p) break;
        const char *e = p;
        while (*e && *e != ',')
            e++;
        size_t len = (size_t)(e - p);
        while (len && p[len - 1] == ' ')
            len--;
        if (tr_grow((void **)v, &cap, *n + 1, sizeof **v) != 0) return -1;
        if (!((*v)[*n] = strndup(p, len))) return -1;
        (*n)++;
        p = e;
    }
    return 0;
}

void tr_stop_free(char **v, size_t n) {
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}
