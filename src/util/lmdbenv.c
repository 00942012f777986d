/* One LMDB environment per file per process: the registry (see lmdbenv.h
 * for why, and for the rules it keeps). */
#include "util/lmdbenv.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/ioerr.h"
#include "util/path.h"

#define MAX_TABLES 16

struct ch_lmdb {
    struct ch_lmdb *next;
    MDB_env *env;
    dev_t dev; /* the folder */
    ino_t ino;
    dev_t lock_dev; /* its lock.mdb when the environment was opened (0, 0: none) */
    ino_t lock_ino;
    pid_t pid; /* the process that opened it: only it may use it */
    bool writable;
    bool stale; /* its folder's lock.mdb is another file now: never handed out again */
    int refs;
    size_t n_tables;
    char *table_name[MAX_TABLES];
    MDB_dbi table[MAX_TABLES];
};

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t reg_once = PTHREAD_ONCE_INIT;
static ch_lmdb *reg_head;

/* A fork while another thread holds the registry's lock would leave the
 * child's copy locked for good: the lock is taken around fork. */
static void reg_lock(void) {
    pthread_mutex_lock(&reg_mu);
}
static void reg_unlock(void) {
    pthread_mutex_unlock(&reg_mu);
}
static void reg_init(void) {
    pthread_atfork(reg_lock, reg_unlock, reg_unlock);
}

static void lock_id(const char *dir, dev_t *dev, ino_t *ino) {
    char path[4200];
    struct stat st;
    *dev = 0;
    *ino = 0;
    if (ch_path_join(path, sizeof path, dir, "lock.mdb") == 0 && stat(path, &st) == 0) {
        *dev = st.st_dev;
        *ino = st.st_ino;
    }
}

/* The live entry of this process for the folder (dev, ino), or NULL. An
 * entry whose lock.mdb is no longer the one at dir (the folder emptied and
 * filled again while a handle stayed open) is marked stale and skipped. */
static ch_lmdb *find(const char *dir, dev_t dev, ino_t ino) {
    pid_t me = getpid();
    for (ch_lmdb *e = reg_head; e; e = e->next) {
        if (e->pid != me || e->stale || e->dev != dev || e->ino != ino) continue;
        dev_t ld;
        ino_t li;
        lock_id(dir, &ld, &li);
        if (ld == e->lock_dev && li == e->lock_ino) return e;
        e->stale = true;
    }
    return NULL;
}

/* mdb_env_open of dir into a new environment: 0 or the LMDB code (the
 * environment discarded, as LMDB asks after a failed open). */
static int env_open(const char *dir, const ch_lmdb_spec *spec, bool rdonly, MDB_env **out) {
    MDB_env *env;
    int rc = mdb_env_create(&env);
    if (rc) return rc;
    mdb_env_set_maxdbs(env, spec->max_dbs);
    mdb_env_set_mapsize(env, spec->map_size);
    unsigned flags = (spec->flags & ~(unsigned)MDB_RDONLY) | MDB_NOTLS | (rdonly ? MDB_RDONLY : 0);
    rc = mdb_env_open(env, dir, flags, 0644);
    if (rc) {
        mdb_env_close(env);
        return rc;
    }
    *out = env;
    return 0;
}

static bool write_refused(int rc) {
    return rc == EACCES || rc == EROFS || rc == EPERM;
}

/* The process's first open of the folder: lock.mdb reserved (no
 * environment of this process has it open, so closing the reservation's
 * descriptor drops no lock), then the environment read-write when the
 * files may be written, else read-only (a reader only). */
static int open_new(const char *dir, const ch_lmdb_spec *spec, bool write, dev_t dev, ino_t ino,
                    ch_lmdb **out, ch_error *err) {
    ch_lmdb *e = calloc(1, sizeof *e);
    if (!e) return ch_err(err, "out of memory");
    char path[4200];
    if (spec->lock_bytes && ch_path_join(path, sizeof path, dir, "lock.mdb") == 0 &&
        ch_reserve_file(path, spec->lock_bytes, err) != 0) {
        free(e);
        return -1;
    }
    struct stat st;
    bool has_data = ch_path_join(path, sizeof path, dir, "data.mdb") == 0 && stat(path, &st) == 0;
    int rc;
    if (write || has_data) {
        rc = env_open(dir, spec, false, &e->env);
        e->writable = rc == 0;
        if (rc && !write && write_refused(rc)) rc = env_open(dir, spec, true, &e->env);
    } else {
        rc = env_open(dir, spec, true, &e->env); /* fails: a reader creates nothing */
    }
    if (rc) {
        free(e);
        return rc;
    }
    e->dev = dev;
    e->ino = ino;
    lock_id(dir, &e->lock_dev, &e->lock_ino);
    e->pid = getpid();
    e->refs = 1;
    e->next = reg_head;
    reg_head = e;
    *out = e;
    return 0;
}

int ch_lmdb_open(const char *dir, const ch_lmdb_spec *spec, bool write, ch_lmdb **out,
                 ch_error *err) {
    *out = NULL;
    pthread_once(&reg_once, reg_init);
    struct stat st;
    if (stat(dir, &st) != 0) return errno;
    reg_lock();
    int rc = 0;
    ch_lmdb *e = find(dir, st.st_dev, st.st_ino);
    if (!e) {
        rc = open_new(dir, spec, write, st.st_dev, st.st_ino, out, err);
    } else if (write && !e->writable) {
        rc = ch_err(err,
                    "%s: this process already has it open read-only (it could not write it "
                    "when it opened it): a writer cannot share that environment; close its "
                    "readers first",
                    dir);
    } else {
        e->refs++;
        *out = e;
    }
    reg_unlock();
    return rc;
}

MDB_env *ch_lmdb_env(const ch_lmdb *e) {
    return e->env;
}

bool ch_lmdb_ours(const ch_lmdb *e) {
    return e->pid == getpid();
}

bool ch_lmdb_writable(const ch_lmdb *e) {
    return e->writable;
}

int ch_lmdb_dbi(ch_lmdb *e, const char *name, unsigned flags, MDB_dbi *dbi) {
    reg_lock();
    for (size_t i = 0; i < e->n_tables; i++)
        if (strcmp(e->table_name[i], name) == 0) {
            *dbi = e->table[i];
            reg_unlock();
            return 0;
        }
    int rc = MDB_DBS_FULL;
    char *copy = e->n_tables < MAX_TABLES ? strdup(name) : NULL;
    if (e->n_tables < MAX_TABLES && !copy) rc = ENOMEM;
    MDB_txn *txn = NULL;
    /* a table that exists needs no write transaction */
    for (int pass = 0; copy && pass < 2; pass++) {
        bool create = pass == 1;
        if (create && !((flags & MDB_CREATE) && e->writable)) break;
        rc = mdb_txn_begin(e->env, NULL, create ? 0 : MDB_RDONLY, &txn);
        if (rc) break;
        rc = mdb_dbi_open(txn, name, create ? flags : flags & ~(unsigned)MDB_CREATE, dbi);
        /* committed, not aborted: an abort closes the handles it opened */
        if (rc == 0) {
            rc = mdb_txn_commit(txn);
            break;
        }
        mdb_txn_abort(txn);
        if (rc != MDB_NOTFOUND) break;
    }
    if (rc == 0) {
        e->table_name[e->n_tables] = copy;
        e->table[e->n_tables++] = *dbi;
    } else {
        free(copy);
    }
    reg_unlock();
    return rc;
}

static void unlink_entry(ch_lmdb *e) {
    for (ch_lmdb **p = &reg_head; *p; p = &(*p)->next)
        if (*p == e) {
            *p = e->next;
            return;
        }
}

void ch_lmdb_close(ch_lmdb *e) {
    if (!e) return;
    reg_lock();
    /* an environment inherited through fork stays as it is (lmdbenv.h) */
    if (--e->refs > 0 || e->pid != getpid()) {
        reg_unlock();
        return;
    }
    /* closed under the lock: an open of the same folder meanwhile would be
     * a second environment on the file for a moment, the very fault */
    unlink_entry(e);
    mdb_env_close(e->env);
    reg_unlock();
    for (size_t i = 0; i < e->n_tables; i++)
        free(e->table_name[i]);
    free(e);
}

int ch_lmdb_open_count(const char *dir) {
    struct stat st;
    if (stat(dir, &st) != 0) return 0;
    pthread_once(&reg_once, reg_init);
    reg_lock();
    int n = 0;
    for (ch_lmdb *e = reg_head; e; e = e->next)
        if (e->pid == getpid() && e->dev == st.st_dev && e->ino == st.st_ino) n++;
    reg_unlock();
    return n;
}
