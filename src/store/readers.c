/* Readers and the cut of a reorg.
 *
 * A reader maps each column up to the lengths its LMDB read transaction
 * holds, and keeps that transaction (one committed state) until it closes
 * or calls ch_store_refresh. Appends never touch those bytes. A cut does:
 * after it, new records are written over the old tail and the files are
 * shortened, which a reader of the state before the cut would see change
 * under it, or lose (SIGBUS). So the writer commits the cut's LMDB
 * transaction (from then on, new readers get the shorter lengths), records
 * that transaction's id as "cut_txn", and waits until no reader holds an
 * older one; only then does anything write over or shorten the old tail.
 * LMDB's reader table says which transaction each reader holds, and a
 * reader that died is cleared from it (mdb_reader_check). A writer that
 * died during the wait leaves "cut_txn" behind: the next writer waits the
 * same way before it cuts the tails that crash left. */
#include "store/store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct older {
    uint64_t before; /* transaction id of the cut */
    size_t n;        /* readers holding an older one */
    int pid;         /* one of them, for the message */
} older;

/* One line of mdb_reader_list: "pid thread txnid", txnid "-" when idle. */
static int count_line(const char *line, void *ctx) {
    older *o = ctx;
    int pid;
    size_t tid;
    char txn[32];
    if (sscanf(line, "%d %zx %31s", &pid, &tid, txn) != 3 || txn[0] == '-') return 0;
    char *end;
    unsigned long long id = strtoull(txn, &end, 10);
    if (*end == 0 && id < o->before) {
        o->n++;
        o->pid = pid;
    }
    return 0;
}

/* Readers holding a state older than transaction `before`. */
static older readers_before(ch_store *s, uint64_t before) {
    int dead;
    mdb_reader_check(s->env, &dead);
    older o = {before, 0, 0};
    mdb_reader_list(s->env, count_line, &o);
    return o;
}

/* Polls every 5 ms; after 2 s says once on stderr whom it waits for (a
 * reader that never closes nor refreshes holds the writer up for good). */
int st_wait_readers(ch_store *s, uint64_t before) {
    if (before == 0) return 0;
    struct timespec nap = {0, 5 * 1000 * 1000};
    for (unsigned polls = 0;; polls++) {
        older o = readers_before(s, before);
        if (o.n == 0) return 0;
        if (polls == 400)
            fprintf(stderr,
                    "coinhound: %s: waiting for %zu reader(s) of the state before the reorg "
                    "(pid %d, ...) to close or refresh\n",
                    s->dir, o.n, o.pid);
        nanosleep(&nap, NULL);
    }
}
