/* The reader of a Bitcoin ingest, ahead of the store (btc_pipe.h).
 *
 * Why a thread: on a 2M-tx chain a third of a one-thread ingest's CPU is
 * work that needs nothing from the store (SHA256d of every tx, the merkle
 * root and the witness commitment, each output's classification, reading
 * the blk file); the store's part is random reads of its maps and columns.
 * On two cores they overlap. The store stays single-writer: only the
 * caller's thread touches it.
 *
 * The queue is a ring of SLOTS reused slots; each keeps its buffers (the
 * block's bytes, the parser's arrays, the classification) from block to
 * block, so that a steady run allocates nothing. What the slots hold is
 * counted: the reader fills no slot while the count is past the budget and
 * the caller still has one to give back, and a slot that grew past its
 * share of the budget (a block far larger than the rest) lets its buffers
 * go when it comes back. */
#include "ingest/btc_pipe.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/store.h"
#include "util/spare.h"
#include "util/vec.h"

/* Enough to ride out a run of large blocks on one side, a commit or a
 * time slice lost to another process on the other; the budget, not the
 * count, bounds the memory. */
#define SLOTS 64
/* A sleeping side is woken for a batch, not for each block: fewer context
 * switches, each of which also costs the cache what the other thread
 * brings in. The caller wakes for WAKE_AHEAD blocks ready (or the end, or
 * a reader that must wait itself); the reader for half the ring free. */
#define WAKE_AHEAD 8

typedef struct pipe_slot {
    btc_prep prep;
    int rc; /* 0, or -1 with err: the reader stopped at this block */
    ch_error err;
    uint64_t bytes; /* what its buffers hold */
} pipe_slot;

/* A kept block (btc_pipe_start_kept): its buffers between pipes, and the
 * witness check's task while one is posted. */
struct btc_keep {
    btc_prep prep;
    uint64_t bytes;
    ch_spare_task task;
    bool checking; /* task runs check() on the block handed over */
    int check_rc;
    ch_error check_err;
};

struct btc_pipe {
    ch_blkdir *d;
    const ch_blk_chain *chain;
    uint32_t from, to;
    bool threaded;
    uint64_t budget;
    pipe_slot slot[SLOTS];
    /* slot i % SLOTS: filled by the reader for i < filled, handed to the
     * caller for i < taken, given back for i < released (released is taken
     * or taken - 1); the reader may fill slot `filled` while filled -
     * released < SLOTS */
    uint64_t filled, taken, released;
    uint64_t held; /* the sum of the slots' bytes */
    bool stop;     /* the caller is done: the reader stops */
    bool done;     /* the reader has published all it will */
    bool reader_waits, caller_waits;
    pthread_mutex_t mu;
    pthread_cond_t can_fill, can_take;
    pthread_t th;
    bool started;
    btc_keep *keep; /* a kept pipe of one block: slot 0's buffers are keep's */
};

int btc_prep_classify(btc_prep *p) {
    const ch_btc_block *b = &p->b;
    size_t outs = 0;
    for (uint32_t t = 0; t < b->n_tx; t++)
        outs += b->tx[t].n_out;
    if (outs > p->addr_cap) {
        ch_addr *a = ch_grow(p->addr, &p->addr_cap, outs, sizeof *a);
        if (!a) return -1;
        p->addr = a;
    }
    if (outs > p->type_cap) {
        ch_script_type *ty = ch_grow(p->type, &p->type_cap, outs, sizeof *ty);
        if (!ty) return -1;
        p->type = ty;
    }
    if (outs > p->key_cap) {
        uint64_t *key = ch_grow(p->key, &p->key_cap, outs, sizeof *key);
        if (!key) return -1;
        p->key = key;
    }
    size_t k = 0;
    for (uint32_t t = 0; t < b->n_tx; t++)
        for (uint32_t o = 0; o < b->tx[t].n_out; o++, k++) {
            const ch_addr *a = &p->addr[k];
            p->type[k] =
                ch_btc_classify(b->tx[t].out[o].script, b->tx[t].out[o].script_len, &p->addr[k]);
            /* the outputs whose address the store keeps (ch_store_add_output) */
            p->key[k] = a->kind != CH_ADDR_NONE && a->len <= 32 ? ch_store_addr_key(a) : 0;
        }
    return 0;
}

void btc_prep_free(btc_prep *p) {
    free(p->addr);
    free(p->key);
    free(p->type);
    free(p->buf);
    ch_btc_parser_free(p->p);
    memset(p, 0, sizeof *p);
}

static uint64_t prep_bytes(const btc_prep *p) {
    return (uint64_t)p->cap + p->addr_cap * sizeof *p->addr + p->key_cap * sizeof *p->key +
           p->type_cap * sizeof *p->type + (p->p ? ch_btc_parser_bytes(p->p) : 0);
}

/* err prefixed with where block p is: its file, offset and height. */
static int located(const btc_pipe *pp, const btc_prep *p, ch_error *err) {
    return ch_err_prefix(err, "%s offset %llu (height %u)", ch_blkdir_path(pp->d, p->pos.file_no),
                         (unsigned long long)p->pos.offset, p->height);
}

/* Read, parse, check and classify the block at height h into sl; with
 * check false, all but the witness commitment check (the caller's to run
 * next, btc_keep). 0, or -1 with sl->err naming the file, offset and
 * height. */
static int fill_ex(btc_pipe *pp, pipe_slot *sl, uint32_t h, bool check) {
    btc_prep *p = &sl->prep;
    p->height = h;
    p->pos = ch_blk_chain_pos(pp->chain, h);
    if (!p->p) p->p = ch_btc_parser_new();
    if (!p->p) {
        ch_err(&sl->err, "out of memory");
    } else if (ch_blkdir_read(pp->d, &p->pos, &p->buf, &p->cap, &sl->err) == 0 &&
               ch_btc_parse_block(p->p, p->buf, p->pos.size, &p->b, &sl->err) == 0 &&
               (!check || ch_btc_check_witness_commitment(&p->b, &sl->err) == 0)) {
        if (btc_prep_classify(p) == 0) return 0;
        /* the check a one-thread fill makes first names a bad block first */
        if (!check && ch_btc_check_witness_commitment(&p->b, &sl->err) != 0)
            return located(pp, p, &sl->err);
        ch_err(&sl->err, "out of memory");
    }
    return located(pp, p, &sl->err);
}

static int fill(btc_pipe *pp, pipe_slot *sl, uint32_t h) {
    return fill_ex(pp, sl, h, true);
}

/* The reader thread: fills the slots in height order, ahead of the store's
 * thread, while a slot is free and the blocks held stay within the byte
 * budget, so that reading and parsing overlap the store's writes; it stops
 * at the first block it cannot take (its slot carries the error) or when
 * asked to. */
static void *reader(void *arg) {
    btc_pipe *pp = arg;
    pthread_mutex_lock(&pp->mu);
    for (uint32_t h = pp->from; h < pp->to && !pp->stop; h++) {
        /* a free slot, and room in the budget unless nothing is out */
        while (!pp->stop && (pp->filled - pp->released == SLOTS ||
                             (pp->held > pp->budget && pp->filled > pp->released))) {
            if (pp->caller_waits) pthread_cond_signal(&pp->can_take); /* what there is */
            pp->reader_waits = true;
            pthread_cond_wait(&pp->can_fill, &pp->mu);
            pp->reader_waits = false;
        }
        if (pp->stop) break;
        pipe_slot *sl = &pp->slot[pp->filled % SLOTS];
        pthread_mutex_unlock(&pp->mu);
        int rc = fill(pp, sl, h);
        uint64_t bytes = prep_bytes(&sl->prep);
        pthread_mutex_lock(&pp->mu);
        sl->rc = rc;
        pp->held = pp->held - sl->bytes + bytes;
        sl->bytes = bytes;
        pp->filled++;
        if (pp->caller_waits && (pp->filled - pp->taken >= WAKE_AHEAD || rc != 0))
            pthread_cond_signal(&pp->can_take);
        if (rc != 0) break;
    }
    pp->done = true;
    pthread_cond_signal(&pp->can_take);
    pthread_mutex_unlock(&pp->mu);
    return NULL;
}

btc_pipe *btc_pipe_start(ch_blkdir *d, const ch_blk_chain *chain, uint32_t from, uint32_t to,
                         bool threaded, uint64_t budget, ch_error *err) {
    btc_pipe *pp = calloc(1, sizeof *pp);
    if (!pp) {
        ch_err(err, "out of memory");
        return NULL;
    }
    pp->d = d;
    pp->chain = chain;
    pp->from = from;
    pp->to = to;
    pp->budget = budget;
    if (!threaded || from >= to) return pp;
    if (pthread_mutex_init(&pp->mu, NULL) != 0) return pp; /* one thread then */
    if (pthread_cond_init(&pp->can_fill, NULL) != 0) goto no_thread;
    if (pthread_cond_init(&pp->can_take, NULL) != 0) {
        pthread_cond_destroy(&pp->can_fill);
        goto no_thread;
    }
    pp->threaded = true;
    if (pthread_create(&pp->th, NULL, reader, pp) == 0) {
        pp->started = true;
        return pp;
    }
    pthread_cond_destroy(&pp->can_take);
    pthread_cond_destroy(&pp->can_fill);
    pp->threaded = false;
no_thread: /* a machine that cannot start a thread still ingests, in one */
    pthread_mutex_destroy(&pp->mu);
    return pp;
}

btc_keep *btc_keep_new(void) {
    return calloc(1, sizeof(btc_keep));
}

/* The witness check, on a spare thread: the block is only read, by it
 * and by the caller's adds, until btc_pipe_checked waits for it. */
static void check(void *arg) {
    btc_keep *k = arg;
    k->check_rc = ch_btc_check_witness_commitment(&k->prep.b, &k->check_err);
}

/* The witness check done, if one was posted: waited for, or taken back
 * when no spare thread has started it yet (one busy elsewhere) and then
 * made here if its answer is wanted (it is not when the block is let go). */
static void keep_join(btc_keep *k, bool wanted) {
    if (!k->checking) return;
    if (ch_spare_withdraw(&k->task) && wanted) check(k);
    k->checking = false;
}

void btc_keep_free(btc_keep *k) {
    if (!k) return;
    keep_join(k, false);
    btc_prep_free(&k->prep);
    free(k);
}

btc_pipe *btc_pipe_start_kept(ch_blkdir *d, const ch_blk_chain *chain, uint32_t from, uint32_t to,
                              bool threaded, uint64_t budget, btc_keep *keep, ch_error *err) {
    if (!keep || to - from != 1 || from >= to)
        return btc_pipe_start(d, chain, from, to, threaded, budget, err);
    btc_pipe *pp = btc_pipe_start(d, chain, from, to, false, budget, err);
    if (!pp) return NULL;
    keep_join(keep, false); /* a pipe freed without asking (an add that failed) */
    pp->keep = keep;
    pp->slot[0].prep = keep->prep; /* the buffers, lent */
    pp->slot[0].bytes = keep->bytes;
    pp->held = keep->bytes;
    memset(&keep->prep, 0, sizeof keep->prep);
    return pp;
}

int btc_pipe_checked(btc_pipe *pp, ch_error *err) {
    btc_keep *k = pp->keep;
    if (!k || !k->checking) return 0;
    keep_join(k, true);
    if (k->check_rc == 0) return 0;
    *err = k->check_err;
    return located(pp, &pp->slot[0].prep, err);
}

/* A kept pipe's one block: read, parsed and classified here, its witness
 * commitment checked on a spare thread beside the caller's adds (inline
 * when the process has none: util/spare.h). 1 or -1 as btc_pipe_next. */
static int next_kept(btc_pipe *pp, const btc_prep **out, ch_error *err) {
    if (pp->taken) return 0;
    pipe_slot *sl = &pp->slot[0];
    int rc = fill_ex(pp, sl, pp->from, false);
    sl->bytes = pp->held = prep_bytes(&sl->prep);
    pp->filled++;
    pp->taken++;
    if (rc != 0) {
        *err = sl->err;
        return -1;
    }
    btc_keep *k = pp->keep;
    k->prep.b = sl->prep.b; /* the thread's view: the same arrays and bytes */
    k->check_rc = 0;
    k->checking = ch_spare_post(&k->task, check, k);
    if (!k->checking && ch_btc_check_witness_commitment(&sl->prep.b, &sl->err) != 0) {
        *err = sl->err;
        return located(pp, &sl->prep, err);
    }
    *out = &sl->prep;
    return 1;
}

/* Slot of the i-th block: one slot serves when there is no reader. */
static pipe_slot *slot_of(btc_pipe *pp, uint64_t i) {
    return &pp->slot[pp->threaded ? i % SLOTS : 0];
}

/* Give back the slot the caller held: its buffers go if it outgrew its
 * share of the budget. Under the lock when threaded. */
static void give_back(btc_pipe *pp) {
    if (pp->released == pp->taken) return;
    pipe_slot *sl = slot_of(pp, pp->released);
    if (sl->bytes > pp->budget / SLOTS) {
        btc_prep_free(&sl->prep);
        pp->held -= sl->bytes;
        sl->bytes = 0;
    }
    pp->released++;
}

int btc_pipe_next(btc_pipe *pp, const btc_prep **out, ch_error *err) {
    if (pp->keep) return next_kept(pp, out, err);
    if (!pp->threaded) {
        give_back(pp);
        uint32_t h = pp->from + (uint32_t)pp->taken;
        if (h >= pp->to) return 0;
        pipe_slot *sl = slot_of(pp, pp->taken);
        int rc = fill(pp, sl, h);
        pp->held = pp->held - sl->bytes + prep_bytes(&sl->prep);
        sl->bytes = prep_bytes(&sl->prep);
        pp->filled++;
        pp->taken++;
        if (rc != 0) {
            *err = sl->err;
            return -1;
        }
        *out = &sl->prep;
        return 1;
    }
    pthread_mutex_lock(&pp->mu);
    give_back(pp);
    if (pp->reader_waits && (pp->released == pp->filled ||
                             (pp->filled - pp->released <= SLOTS / 2 && pp->held <= pp->budget)))
        pthread_cond_signal(&pp->can_fill);
    while (pp->taken == pp->filled && !pp->done) {
        pp->caller_waits = true;
        pthread_cond_wait(&pp->can_take, &pp->mu);
        pp->caller_waits = false;
    }
    int rc = 0;
    if (pp->taken < pp->filled) {
        pipe_slot *sl = slot_of(pp, pp->taken++);
        if (sl->rc != 0) {
            *err = sl->err;
            rc = -1;
        } else {
            *out = &sl->prep;
            rc = 1;
        }
    }
    pthread_mutex_unlock(&pp->mu);
    return rc;
}

uint64_t btc_pipe_bytes(btc_pipe *pp) {
    if (!pp->threaded) return pp->held;
    pthread_mutex_lock(&pp->mu);
    uint64_t n = pp->held;
    pthread_mutex_unlock(&pp->mu);
    return n;
}

void btc_pipe_free(btc_pipe *pp) {
    if (!pp) return;
    if (pp->keep) { /* the buffers go back, unless one block outgrew the budget */
        btc_keep *k = pp->keep;
        keep_join(k, false);
        memset(&k->prep.b, 0, sizeof k->prep.b);
        if (pp->slot[0].bytes <= pp->budget) {
            k->prep = pp->slot[0].prep;
            k->bytes = pp->slot[0].bytes;
            memset(&pp->slot[0].prep, 0, sizeof pp->slot[0].prep);
        } else {
            k->bytes = 0;
        }
    }
    if (pp->started) {
        pthread_mutex_lock(&pp->mu);
        pp->stop = true;
        pthread_cond_signal(&pp->can_fill);
        pthread_mutex_unlock(&pp->mu);
        pthread_join(pp->th, NULL);
        pthread_cond_destroy(&pp->can_take);
        pthread_cond_destroy(&pp->can_fill);
        pthread_mutex_destroy(&pp->mu);
    }
    for (int i = 0; i < SLOTS; i++)
        btc_prep_free(&pp->slot[i].prep);
    free(pp);
}
