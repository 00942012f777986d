/* Screen one address against an offline screening set (see screen.h).
 *
 *   make install PREFIX=$HOME/.local
 *   export PKG_CONFIG_PATH=$HOME/.local/lib/pkgconfig
 *   cc -std=c11 docs/examples/screen_example.c $(pkg-config --cflags --libs coinhound) \
 *      -o screen_example
 *   ./screen_example ofac.chset 0x098B716B8Aaf21512996dC57EB0615e2383E2f96
 *
 * Exit status: 0 not listed, 1 listed, 2 invalid address or unreadable set. */
#include <stdio.h>

#include "coinhound/screen.h"

int main(int argc, char **argv) {
    ch_screen_set *set;
    ch_error err;
    if (argc < 3) {
        fprintf(stderr, "usage: %s SET ADDRESS\n", argv[0]);
        return 2;
    }
    if (ch_screen_set_open(argv[1], &set, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 2;
    }
    ch_screen_result r; /* no allocation per lookup */
    ch_screen_lookup(set, argv[2], &r);
    int status = 0;
    if (r.status == CH_SCREEN_INVALID) {
        printf("invalid: %s\n", r.reason); /* never "clean" */
        status = 2;
    } else if (r.status == CH_SCREEN_CLEAN) {
        printf("%s: not listed\n", r.canonical);
    } else {
        for (uint32_t i = 0; i < r.n_attr; i++) {
            ch_screen_attr a;
            ch_screen_attr_get(set, &r, i, &a); /* pointers into the file */
            printf("%s: %s %s (%s%s%s) per %s %s, confidence %u%s\n", r.canonical, a.category,
                   a.entity, a.actor_country, a.actor_country[0] ? ": " : "", a.actor,
                   a.source_name, a.source_date, a.confidence, a.delisted ? " [delisted]" : "");
        }
        status = 1;
    }
    ch_screen_set_close(set);
    return status;
}
