/* coinhound check --db DIR [--chain NAME]: verify stores end to end. */
#include <dirent.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "coinhound/store.h"
#include "util/numparse.h"

static void usage(FILE *f) {
    fprintf(f, "usage: coinhound check --db DIR [--chain NAME]\n\n"
               "Verifies a chain store end to end: the committed lengths against the files,\n"
               "every block, tx, input, output and transfer against the files it points\n"
               "into, address histories, and the block, txid and address indexes against the\n"
               "columns. Says what is wrong, file and record (the first 20 problems).\n"
               "Without --chain, every store under DIR (btc, eth, ...). Reads the whole\n"
               "store: minutes on mainnet. Run it while no ingest writes the store.\n\n"
               "Exit 0 every store is sound, 1 a store is damaged, 2 an error (no store).\n\n"
               "example:\n"
               "  coinhound check --db ./chdb\n");
}

static void say(const char *problem, void *ctx) {
    (void)ctx;
    printf("  %s\n", problem);
}

/* 0 sound, 1 damaged, 2 not checked. */
static int check_one(const char *db, const char *chain) {
    ch_error err;
    ch_store_counts c = {0};
    printf("%s/%s:\n", db, chain);
    int rc = ch_store_verify(db, chain, say, NULL, &c, &err);
    if (rc < 0) {
        cli_fail("check", &err);
        return 2;
    }
    if (c.checksum_commits)
        printf("  checksums: %" PRIu64 " commits' ranges recomputed\n", c.checksum_commits);
    else if (c.txs)
        printf("  checksums: none recorded (written before stores kept them): checked without\n");
    if (rc == 0)
        printf("  sound: %" PRIu64 " blocks, %" PRIu64 " txs, %" PRIu64 " addresses\n", c.blocks,
               c.txs, c.addresses);
    else
        printf("  damaged\n");
    fflush(stdout);
    return rc;
}

int cmd_check(int argc, char **argv) {
    static const struct option opts[] = {{"db", required_argument, 0, 'd'},
                                         {"chain", required_argument, 0, 'c'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *db = NULL, *chain = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'd')
            db = optarg;
        else if (c == 'c') {
            if (cli_opt_chain("check", optarg)) return 2;
            chain = optarg;
        } else {
            usage(c == 'h' ? stdout : stderr);
            return c == 'h' ? 0 : 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    if (!(db = cli_db_dir("check", db))) return 2;
    if (chain) return check_one(db, chain);
    DIR *d = opendir(db);
    if (!d) return cli_failf("check", "%s: cannot read the folder", db);
    int worst = 0, stores = 0;
    struct dirent *e;
    char names[64][80];
    int n = 0;
    while ((e = readdir(d)) != NULL && n < 64) {
        char idx[4096];
        struct stat st;
        if (!ch_store_name_ok(e->d_name)) continue;
        snprintf(idx, sizeof idx, "%s/%s/index", db, e->d_name);
        if (stat(idx, &st) != 0 || !S_ISDIR(st.st_mode)) continue;
        snprintf(names[n++], sizeof names[0], "%.64s", e->d_name); /* names are <= 64 */
    }
    closedir(d);
    /* a stable order: by name */
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char t[80];
            memcpy(t, names[j], sizeof t);
            memcpy(names[j], names[j - 1], sizeof t);
            memcpy(names[j - 1], t, sizeof t);
        }
    for (int i = 0; i < n; i++) {
        int rc = check_one(db, names[i]);
        stores++;
        if (rc == 2 || (rc == 1 && worst == 0)) worst = rc;
    }
    if (stores == 0) return cli_failf("check", "%s: no chain store here", db);
    return worst;
}
