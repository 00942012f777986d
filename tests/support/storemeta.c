#include "storemeta.h"

#include "testutil.h"

#include <lmdb.h>
#include <stdbool.h>
#include <string.h>

/* The index's environment and a transaction in it (read-only or not),
 * with the named table open. */
static void open_table(const char *index_dir, const char *table, unsigned flags, bool rdonly,
                       MDB_env **env, MDB_txn **txn, MDB_dbi *dbi) {
    assert_int_equal(mdb_env_create(env), 0);
    assert_int_equal(mdb_env_set_maxdbs(*env, 16), 0);
    assert_int_equal(mdb_env_set_mapsize(*env, 1ULL << 30), 0);
    assert_int_equal(mdb_env_open(*env, index_dir, MDB_NOTLS | (rdonly ? MDB_RDONLY : 0), 0644), 0);
    assert_int_equal(mdb_txn_begin(*env, NULL, rdonly ? MDB_RDONLY : 0, txn), 0);
    assert_int_equal(mdb_dbi_open(*txn, table, flags, dbi), 0);
}

static void commit_close(MDB_env *env, MDB_txn *txn) {
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
}

void tu_meta_put(const char *index_dir, const char *key, const void *val, size_t len) {
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    open_table(index_dir, "meta", 0, false, &env, &txn, &dbi);
    MDB_val k = {strlen(key), (void *)key}, v = {len, (void *)val};
    assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
    commit_close(env, txn);
}

void tu_meta_put_u64(const char *index_dir, const char *key, uint64_t v) {
    tu_meta_put(index_dir, key, &v, sizeof v);
}

uint64_t tu_meta_get_u64(const char *index_dir, const char *key) {
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    open_table(index_dir, "meta", 0, true, &env, &txn, &dbi);
    MDB_val k = {strlen(key), (void *)key}, v;
    assert_int_equal(mdb_get(txn, dbi, &k, &v), 0);
    assert_true(v.mv_size >= 8);
    uint64_t x;
    memcpy(&x, v.mv_data, 8);
    mdb_txn_abort(txn);
    mdb_env_close(env);
    return x;
}

void tu_meta_del(const char *index_dir, const char *key) {
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    open_table(index_dir, "meta", 0, false, &env, &txn, &dbi);
    MDB_val k = {strlen(key), (void *)key};
    assert_int_equal(mdb_del(txn, dbi, &k, NULL), 0);
    commit_close(env, txn);
}

void tu_index_drop(const char *index_dir, const char *table, unsigned flags) {
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    open_table(index_dir, table, flags, false, &env, &txn, &dbi);
    assert_int_equal(mdb_drop(txn, dbi, 1), 0);
    commit_close(env, txn);
}
