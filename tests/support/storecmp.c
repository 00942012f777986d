#include "storecmp.h"

#include "testutil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The .col names in dir, sorted; returns the count (at most max). */
static size_t col_names(const char *dir, char names[][64], size_t max) {
    DIR *d = opendir(dir);
    size_t n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) && n < max) {
        size_t len = strlen(e->d_name);
        if (len > 4 && len < 64 && !strcmp(e->d_name + len - 4, ".col"))
            strcpy(names[n++], e->d_name);
    }
    if (d) closedir(d);
    qsort(names, n, 64, (int (*)(const void *, const void *))strcmp);
    return n;
}

static void compare_file(const char *a, const char *b, const char *name) {
    size_t la = 0, lb = 0;
    uint8_t *x = tu_read_file(a, &la), *y = tu_read_file(b, &lb);
    if (!x || !y) fail_msg("%s exists in one store only", name);
    if (la != lb || memcmp(x, y, la) != 0) {
        size_t k = 0;
        while (k < la && k < lb && x[k] == y[k])
            k++;
        free(x);
        free(y);
        fail_msg("%s differs (%zu and %zu bytes; first difference at byte %zu)", name, la, lb, k);
    }
    free(x);
    free(y);
}

void tu_assert_same_columns(const char *db_a, const char *db_b, const char *chain) {
    char da[4096], dbb[4096];
    snprintf(da, sizeof da, "%s/%s", db_a, chain);
    snprintf(dbb, sizeof dbb, "%s/%s", db_b, chain);
    char na[32][64], nb[32][64];
    size_t n = col_names(da, na, 32), m = col_names(dbb, nb, 32);
    if (n == 0) fail_msg("%s holds no column files", da);
    if (n != m) fail_msg("%s has %zu column files, %s %zu", da, n, dbb, m);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(na[i], nb[i]) != 0) fail_msg("%s is in one store only", na[i]);
        char pa[4200], pb[4200];
        snprintf(pa, sizeof pa, "%s/%s", da, na[i]);
        snprintf(pb, sizeof pb, "%s/%s", dbb, nb[i]);
        compare_file(pa, pb, na[i]);
    }
}

char *tu_store_snapshot(const char *db, const char *chain, size_t *len) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/%s", db, chain);
    char names[32][64];
    size_t n = col_names(dir, names, 32), total = 0;
    char *all = malloc(1);
    for (size_t i = 0; i < n && all; i++) {
        char p[4200];
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        size_t l = 0;
        uint8_t *d = tu_read_file(p, &l);
        char *grown = realloc(all, total + l + 1);
        if (!grown) {
            free(all);
            all = NULL;
        } else {
            all = grown;
            if (d) memcpy(all + total, d, l);
            total += l;
        }
        free(d);
    }
    *len = total;
    return all;
}
