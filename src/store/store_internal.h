/* The store's insides, shared by its files and by no one else.
 *
 * Their names carry the store's private prefix, st_ (ST_ for constants),
 * here and in column.h, runs.h, hotmap.h and checksums.h, so that a ch_store_
 * name is always the public API of include/coinhound/store.h. */
#ifndef COINHOUND_STORE_INTERNAL_H
#define COINHOUND_STORE_INTERNAL_H

#include <lmdb.h>
#include <pthread.h>

#include "coinhound/store.h"
#include "store/column.h"
#include "store/hotmap.h"
#include "store/runs.h"
#include "store/utxomap.h"
#include "util/spare.h"
#include "util/syncmany.h"

/* Records as the writer makes them (store.h: the layouts). */
static inline ch_in_rec st_in_make(uint64_t tx, uint32_t vout) {
    ch_in_rec r = {((tx == CH_NO_TX ? CH_ID_MASK : tx) & CH_ID_MASK) | (uint64_t)vout
                                                                           << CH_ID_BITS};
    return r;
}
/* An output, unspent. */
static inline ch_out_rec st_out_make(uint64_t value_type, ch_addr_id addr) {
    ch_out_rec r;
    memset(&r, 0, sizeof r);
    memcpy(r.b, &value_type, 8);
    memcpy(r.b + CH_OUT_ADDR_OFF, &addr, CH_OUT_ID_BYTES);
    return r;
}

typedef struct st_u64_list {
    uint64_t *v;
    size_t n, cap;
} st_u64_list;

int st_u64_push(st_u64_list *l, uint64_t x);

/* output + 1 -> a value, open addressing on pairs (marks.c) */
typedef struct st_pairs {
    uint64_t *v; /* 2 (mask + 1) words: key, value; key 0 is a free slot */
    size_t mask;
    size_t n;
} st_pairs;

typedef struct st_edit_list {
    st_col_edit *v;
    size_t n, cap;
} st_edit_list;

int st_edits_push(st_edit_list *l, uint64_t i, uint64_t v);

enum {
    COL_BLOCKS,
    COL_TXS,
    COL_TXIDS,
    COL_INS,
    COL_OUTS,
    COL_OUTPREV,
    COL_ADDRS20,
    COL_ADDRS32,
    COL_ETXS,    /* account chains */
    COL_XFERS,   /* account chains */
    COL_XPREV,   /* account chains: uint32 pair per transfer */
    COL_BXFER,   /* account chains: st_bxfer_rec per block */
    COL_NOTES,   /* account chains: ch_xfer_note (signals.col: the safeguard's signals) */
    COL_TXVIN,   /* UTXO chains: uint64 per tx, the value its inputs spend */
    COL_HEADS20, /* uint64 per address of addrs20.col: its last output or transfer */
    COL_HEADS32, /* the same for addrs32.col */
    COL_COUNT
};

/* Address records: a tag (kind << 5 | witness version), then the bytes;
 * the wide class also has a length byte. */
#define ADDR20_REC 21
#define ADDR32_REC 34

/* outprev value meaning "the distance did not fit; see the farprev table" */
#define ST_OUTPREV_FAR UINT32_MAX

/* A UTXO key computed ahead for an input: its txid, vout and key. */
typedef struct st_utxo_ahead {
    ch_hash256 txid;
    uint32_t vout;
    st_utxo_key k;
} st_utxo_ahead;

/* The write-back of a file's dirty pages started from a thread of its own
 * (sync_file_range: a hint, it makes nothing durable), so that the kernel's
 * work of submitting them overlaps the caller's until st_writeback_join. */
typedef struct st_writeback {
    pthread_t th;
    int fd;
    bool started;
} st_writeback;

/* ch_store_resolve_block's answers for the block being added (resolve.c):
 * what the committed index says of each tx an input spends and of each
 * address an output pays that the hot maps missed when it was asked. */
typedef struct st_resolved_tx {
    ch_hash256 txid;
    uint64_t tx;               /* its number, when found */
    uint64_t first_out, n_out; /* its outputs, when found */
    bool found;
} st_resolved_tx;

typedef struct st_resolved_addr {
    ch_addr addr;
    uint64_t key; /* st_addr_key(&addr) */
    ch_addr_id id;
    uint64_t last; /* its head (st_index_find_addr's last_out), when found */
    bool found;
} st_resolved_addr;

typedef struct st_resolver {
    bool on;    /* ch_store_resolve_in_parallel */
    bool valid; /* the answers are the current block's (until its end_block) */
    st_resolved_tx *tx;
    size_t n_tx, cap_tx;
    st_resolved_addr *addr;
    size_t n_addr, cap_addr;
    uint32_t *tx_slots, *addr_slots; /* open addressing: an answer's index + 1, 0 free */
    size_t slots_mask;               /* both tables: slots - 1 */
    size_t cap_slots;
    /* since the store was opened: answers made (txids, addresses) and
     * taken by the adds (what the tests check the path was taken by) */
    uint64_t made_tx, made_addr, taken;
    /* the block's lookups shared out: the next one to take, and how many
     * threads are at one; the spare threads' tasks, waited for at the next
     * block's start */
    atomic_size_t next, busy;
    ch_spare_task helper[CH_SPARE_MAX];
    size_t n_helpers;
} st_resolver;

struct ch_store {
    char dir[4096];
    bool writable;
    bool account;          /* an account chain (EVM) */
    uint64_t first_number; /* block number of height 0 */
    uint64_t network;      /* a Bitcoin store's ch_btc_net + 1 (meta "network"); 0 unrecorded */
    st_col col[COL_COUNT];
    struct ch_lmdb *lm;          /* the process's one environment of the index (util/lmdbenv.h) */
    MDB_env *env;                /* lm's */
    bool env_ready;              /* env opened and its tables found: close may write */
    struct ch_writer_lock *lock; /* writers: DIR/<chain>/writer.lock */
    /* readers: the first index seen pointing outside its file (ch_store_damage) */
    bool damaged;
    char damage[256];
    MDB_dbi db_block, db_farprev, db_meta;
    MDB_dbi db_commits; /* checksums of committed ranges (checksums.h) */
    bool has_commits;   /* false: a reader of a store written before they were kept */
    MDB_txn *rtxn;      /* long-lived read transaction, renewed after each commit */
    st_runs txid_runs;  /* txid key -> tx number */
    st_runs addr_runs;  /* address key -> address id */
    uint64_t run_seq;   /* the next run file's number */
    /* Every address head is right for the outputs (UTXO) or transfers
     * (account) below this; past it, they are replayed (see heads.c). */
    uint64_t heads_upto;
    /* Every spent mark of the inputs below this is durable; a small
     * commit's are written after its syncs, so they are in the page cache
     * only until the next commit's syncs (marks.c). UINT64_MAX: all. */
    uint64_t marks_upto;
    char marks_boot[40]; /* the boot of the commit that recorded marks_upto */
    /* The inputs from this one on may have no mark in outs.col yet: a bulk
     * writer holds them (marks.c); UINT64_MAX: none. A reader indexes them
     * (held_idx: output + 1 -> mark, for inputs [marks_held_from, held_hi)). */
    uint64_t marks_held_from;
    st_pairs held_idx;
    uint64_t held_idx_from, held_hi;
    /* the write-back of the files a small commit wrote in place after its
     * syncs (outs.col, heads20.col, heads32.col): joined by the next */
    st_writeback lag_wb[3];
    /* a reader's view past heads_upto (the last small commit's outputs):
     * each address they name and the last of them, so that a head is not
     * a scan of them (st_heads_index); pairs (id, x), open addressing */
    uint64_t *lag_heads;
    size_t lag_heads_mask;
    uint64_t mem_budget; /* ch_store_set_mem: bytes the process should stay under */
    uint64_t hot_slots;  /* slots of a young hot map before it turns old (0: HOT_SLOTS) */
    uint64_t hot_cap;    /* ch_store_set_hot_cap: bytes of the four tables at most (0: none) */

    /* writer state: each hot map in two generations (see append.c) */
    st_hotmap tx_hot;     /* txid key -> tx number (every pending tx, the recent ones) */
    st_hotmap addr_hot;   /* address key -> id, last output (every pending or dirty one) */
    st_hotmap tx_old;     /* the generation before tx_hot: looked up after it */
    st_hotmap addr_old;   /* the generation before addr_hot (entries found here move up) */
    uint64_t addr_sip[2]; /* the key of the address and tx entries' checks (append.c) */
    bool addr_check_off;  /* tests: every hit confirmed by its record, as before the checks */
    bool tx_check_off;    /* tests: every tx hit confirmed by its txid's record */
    /* the tx whose outputs are being added: its entry learns their count
     * when the next tx or the block's end comes (append.c, tx_outputs_done) */
    bool tx_pend_set;
    uint64_t tx_pend, tx_pend_key;
    bool tx_hot_complete;   /* every committed txid key is in tx_hot or tx_old */
    bool addr_hot_complete; /* every committed address key is in addr_hot or addr_old */
    bool in_block;
    uint64_t block_first_tx;
    uint64_t cur_tx; /* tx being added (UINT64_MAX: none) */
    /* the UTXO map (utxomap.h; none by default): the unspent outputs of
     * the txs the tx hot maps let go of, from when they let go of them */
    st_utxo utxo;
    uint64_t tx_hot_from, tx_old_from; /* the first tx of each tx generation */
    /* index entries waiting for the commit's LMDB transaction (new txids
     * are simply the txs past the committed count) */
    st_u64_list dirty_addr_keys; /* addr_hot keys new or moved since then */
    st_u64_list far_pend;        /* pairs (output, previous output) too far apart */
    st_edit_list heads_moves[2]; /* committed addresses' new heads (heads20, heads32 records) */
    st_edit_list marks;          /* spent marks of committed outputs (marks.c) */
    st_pairs mark_set;           /* the outputs in marks (+ 1) and their marks */
    /* a bit an output of mark_set (8 bits a slot of it: about 3% of the
     * outputs not in it pass), asked first: the set of held marks outgrows
     * the caches, and nearly every input asks it about an unmarked output */
    uint64_t *mark_bits;
    size_t mark_bits_mask; /* bits - 1 */
    bool marks_written;    /* marks went to the file: an abort clears them */
    /* marks.v[0, marks_held): committed batches' marks not yet written to
     * outs.col (a bulk ingest's commits hold them until they are dense
     * enough to be worth a pass over the file: marks.c) */
    size_t marks_held;
    double marks_density; /* ch_store_set_marks_density: held marks a page (0: default) */
    ch_store_commit_times commit_times; /* the last commit's (ch_store_last_commit_times) */
    uint32_t batch;                     /* tag of this batch's dirty addr_hot entries */
    st_u64_list prefetch_keys;          /* scratch of ch_store_prefetch */
    /* ch_store_prefetch's UTXO keys of the spends the hot maps miss, taken
     * in turn by the add_input calls that follow (lookahead.c) */
    st_utxo_ahead *ahead_in;
    size_t ahead_in_n, ahead_in_i, ahead_in_cap;
    int statm_fd1; /* /proc/self/statm, kept open for ch_store_trim: fd + 1 (0: not open) */
    /* commits of this many pending bytes or more write their columns in a
     * thread of their own (append.c; 0: its default), and how many did */
    uint64_t commit_thread_from, commit_threads;
    /* set when a commit's marks could not be written after its
     * transaction: why the next commit is refused (append.c) */
    char refuse[512];
    /* tests: called between a commit's transaction and its lagging marks */
    void (*after_txn_for_tests)(ch_store *s);
    unsigned merge_turn;  /* which index's runs a background merge tries first */
    st_resolver resolver; /* ch_store_resolve_block's answers (resolve.c) */
    st_run_hold bg_hold;  /* ch_store_hold_background: the runs' hold */
};

/* The UTXO key of an input (txid, vout): from ch_store_prefetch's list
 * when it is the next one there, else hashed. */
st_utxo_key st_utxo_input_key(ch_store *s, const ch_hash256 *txid, uint32_t vout);
/* The unspent outputs of committed txs [a, b) into the UTXO map (the
 * tx hot maps let go of those txs): read from the columns in order. */
void st_utxo_fill(ch_store *s, uint64_t a, uint64_t b);

/* 64-bit keys of an item: the hot maps use all of it, the run index its
 * top 48 bits (about one false candidate per 28,000 lookups at ten billion
 * items; every candidate is checked against the column anyway). */
uint64_t st_txid_key(const ch_hash256 *txid);
uint64_t st_addr_key(const ch_addr *a);
/* The mixer st_addr_key chains over an address's 64-bit words (splitmix64's
 * finalizer): here so that tests can build two addresses sharing a key. */
static inline uint64_t st_mix64(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* Index lookups (the runs; candidates checked against the columns): 1
 * found, 0 not. The address's head is as this handle sees the store. */
int st_index_find_tx(ch_store *s, const ch_hash256 *txid, uint64_t *tx);
int st_index_find_addr(ch_store *s, const ch_addr *a, ch_addr_id *id, uint64_t *last_out);
int st_renew_read(ch_store *s, ch_error *err);
/* The hot maps' answer for a txid (1: *tx set) and whether they hold an
 * address (append.c): what an add asks before the index. */
int st_find_tx_hot(const ch_store *s, const ch_hash256 *txid, uint64_t *tx);
/* A tx hot entry (append.c): its tx number in aux's low 40 bits, the count
 * of its outputs in the next 23 (all ones: not known, read its records),
 * bit 63 set when the entry sits off its txid's key; its first output in
 * idf's low 40 bits (all ones: not known) and a 24-bit keyed check of the
 * txid above them. */
#define ST_TX_NUM_BITS  40 /* the tx number's and the first output's; the rest above */
#define ST_TX_NUM_MASK  ((1ULL << ST_TX_NUM_BITS) - 1)
#define ST_TX_NOUT_NONE ((1ULL << 23) - 1)
static inline uint64_t st_hot_tx(const st_hot_entry *e) {
    return e->aux & ST_TX_NUM_MASK;
}
/* The entry's output range: true when it knows it. */
static inline bool st_hot_tx_outputs(const st_hot_entry *e, uint64_t *first, uint64_t *n) {
    uint64_t c = e->aux >> ST_TX_NUM_BITS & ST_TX_NOUT_NONE, f = e->idf & ST_TX_NUM_MASK;
    if (c == ST_TX_NOUT_NONE || f == ST_TX_NUM_MASK) return false;
    *first = f;
    *n = c;
    return true;
}
bool st_addr_in_hot(const ch_store *s, const ch_addr *a, uint64_t key);
/* ch_store_resolve_block's answer for a txid or an address, or NULL when
 * it has none (not asked, or not this block's): resolve.c. */
const st_resolved_tx *st_resolved_tx_get(const ch_store *s, const ch_hash256 *txid);
const st_resolved_addr *st_resolved_addr_get(const ch_store *s, const ch_addr *a, uint64_t key);
/* The answers are no longer the current block's (its end, an abort). */
static inline void st_resolved_drop(ch_store *s) {
    s->resolver.valid = false;
}
void st_resolver_free(ch_store *s);
/* Entries a young hot map takes before it turns old at a commit (3/8 of
 * its slots, append.c): what an ingest's expectation may reserve. */
uint64_t st_young_max(const ch_store *s);

/* --- spent marks of committed outputs (marks.c) --- */
/* Out (committed) is spent by mark - 1: written at the commit. 0, or -1
 * when out of memory. */
int st_marks_add(ch_store *s, uint64_t out, uint64_t mark);
/* Is out marked in the pending batch? */
bool st_marks_has(const ch_store *s, uint64_t out);
/* Start loading where st_marks_has(s, out) looks (lookahead.c). */
void st_marks_prefetch(const ch_store *s, uint64_t out);
/* Write the batch's marks (sorted, one pass), not yet durable. */
int st_marks_write(ch_store *s, ch_error *err);
/* Should a large commit hold its marks (with those held before) rather
 * than write them? */
bool st_marks_hold(const ch_store *s);
/* After a commit: held (the marks stay, committed) or written (forgotten). */
void st_marks_committed(ch_store *s, bool held);
/* The mark (spender + 1) of out that outs.col does not hold yet, or 0: a
 * writer's held marks, a reader's index of them (st_marks_index). */
uint64_t st_marks_spent(const ch_store *s, uint64_t out);
/* A reader: index the marks of the inputs past marks_held_from (another
 * process holds them) from ins.col. 0, or -1 when out of memory. */
int st_marks_index(ch_store *s, ch_error *err);
/* An abort: forget the failed batch's marks, keep the held ones. */
void st_marks_abort(ch_store *s);

/* (a commit's files are made durable at once by util/syncmany.h) */
void st_writeback_start(st_writeback *w, int fd);
void st_writeback_join(st_writeback *w);
/* Forget the batch's marks (after its commit or abort). */
void st_marks_reset(ch_store *s);
/* This boot's id (/proc/sys/kernel/random/boot_id; "" where there is none):
 * within one boot the page cache is every reader's truth, so marks past
 * marks_upto written in this boot are there; from another boot they may be
 * lost (a power cut before their write-back). */
const char *st_boot_id(void);
/* Tests: present id as this boot's (a restart), NULL for the real one. */
void st_boot_id_set_for_tests(const char *id);
/* Are the spent marks of the first n_ins inputs all there (durable, or
 * written in this boot)? */
bool st_marks_trusted(const ch_store *s, uint64_t n_ins);
/* The committed inputs whose marks outs.col holds (the rest a bulk writer
 * holds, indexed by a reader from ins.col: st_marks_index). */
uint64_t st_marks_in_file(const ch_store *s);
/* A writer: write the spent marks of the committed inputs at or past
 * marks_upto again (the inputs name what they spend), make them durable and
 * record marks_upto as the committed count. */
int st_marks_recover(ch_store *s, ch_error *err);
void st_marks_free(ch_store *s);

/* --- address heads (heads.c) --- */
#define ST_NO_HEAD UINT64_MAX
/* The head stored for id (committed or pending record), as written. */
uint64_t st_heads_get(const ch_store *s, ch_addr_id id);
/* Set it (a pending record in memory, a committed one in the mapping). */
void st_heads_set(ch_store *s, ch_addr_id id, uint64_t head);
/* The head as this handle's committed view has it: a reader's view may be
 * older than the heads column (a writer updates it in place) or newer
 * (heads_upto behind the committed count after a crash). */
uint64_t st_heads_view(ch_store *s, ch_addr_id id);
/* A writer: make the heads right for every committed output/transfer
 * (replaying those at or past heads_upto), then durable; heads_upto is
 * then the committed count. */
int st_heads_recover(ch_store *s, ch_error *err);
/* A reader, after its view moved (open, refresh): index the outputs or
 * transfers of its view at or past heads_upto by address (a small
 * commit's: a larger range is left to st_heads_view's scan). */
void st_heads_index(ch_store *s);
void st_heads_index_free(ch_store *s);
/* The count heads_upto measures (outputs or transfers), committed. */
uint64_t st_heads_domain(const ch_store *s);

/* Account chains: the previous transfer of addr before x, reading far
 * links through txn (the read transaction when NULL). */
int64_t st_account_prev(const ch_store *s, MDB_txn *txn, uint64_t x, ch_addr_id addr);
/* The farprev key of an account link: transfer and side (0 from, 1 to). */
static inline uint64_t st_far_xkey(uint64_t x, int side) {
    return x << 1 | (uint64_t)side;
}

/* Where an account chain's block began: its first transfer and the address
 * counts then, so a reorg knows what to cut. */
typedef struct st_bxfer_rec {
    uint64_t first_xfer;
    uint64_t addrs20, addrs32;
} st_bxfer_rec;

/* Address records. */
bool st_addr_equal(const ch_store *s, ch_addr_id id, const ch_addr *a);
/* An address hot entry's check and aux (append.c): 23 bits of a keyed hash
 * of a; aux packs a last output with it (a last past 40 bits stays raw,
 * without one); st_addr_aux_last gives the last back (UINT64_MAX: none). */
uint64_t st_addr_check(const ch_store *s, const ch_addr *a);
uint64_t st_addr_aux(uint64_t last, uint64_t check);
uint64_t st_addr_aux_last(uint64_t aux);
/* The record of address id (committed or pending). */
const uint8_t *st_addr_rec(const ch_store *s, ch_addr_id id);
/* Append a new address record (and its head, none yet); returns its id, 0
 * when it does not fit. */
ch_addr_id st_addr_append(ch_store *s, const ch_addr *a);
/* Whether an address id exists (committed or pending). */
bool st_addr_valid(const ch_store *s, ch_addr_id id);

/* Wait until no reader holds a state older than LMDB transaction `before`
 * (0: return at once): see readers.c. The caller's own read transaction
 * must be reset. */
int st_wait_readers(ch_store *s, uint64_t before);

/* Committed lengths, run lists, heads_upto and marks_upto (with this
 * boot's id) in the "meta" table. */
int st_write_lengths(ch_store *s, MDB_txn *txn, ch_error *err);
/* Record heads_upto and marks_upto (with this boot) alone, in a
 * transaction of its own. */
int st_write_heads_upto(ch_store *s, ch_error *err);

#endif
