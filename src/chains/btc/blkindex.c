/* The persisted index of a blk folder's records (btc.h, ch_blkidx).
 *
 * In memory: every record's header fields (btc_hdr) in the order read, and
 * per blk file the offset the next read starts at with the file's size and
 * modification time when it was read. An update stats each file of the
 * listing: one whose size and time are unchanged is not opened (Core only
 * appends to its current file, and writing into preallocated space moves
 * the time); a changed one is read from its offset; one now shorter than
 * that offset means the folder was written anew, and everything is read
 * again.
 *
 * The process's own memory does not grow with the chain but by 8 bytes a
 * block (a watcher runs for months): the records are read through a
 * mapping of the index file once saved, the best chain is a record number
 * a height, and the tree that places each new record (parent, height,
 * cumulative work, the hash table) holds only the records from about
 * `keep` heights below the tip on (a window of record numbers). Records
 * below the window leave their hash's first 4 bytes in a sorted array: a
 * new record whose parent (or own hash) is not in the window but may be
 * among them - a branch from deeper than `keep`, a duplicate of an old
 * record - makes the tree be built again from every record, which gives
 * exactly what keeping the whole tree would have (the tests hold it to a
 * full scan's answer). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chains/btc/btc_internal.h"
#include "util/vec.h"

CH_STATIC_ASSERT(sizeof(btc_hdr) == 88, "an index record is 88 bytes");

typedef struct file_state {
    uint32_t no;
    uint64_t next; /* where the next read starts */
    uint64_t size;
    int64_t mtime_ns;
} file_state;

/* Heights below the best tip whose records the tree keeps: as Bitcoin
 * Core's pruned nodes keep 288 blocks (two days). A branch from deeper
 * costs a rebuild of the tree (0.5-2 s at mainnet's height), not a wrong
 * answer. */
#define KEEP_DEFAULT 288

struct ch_blkidx {
    char dir[PATH_MAX];
    uint8_t key[8];
    uint8_t magic[4];
    bool have_magic;
    /* records [0, n_map): a read-only mapping of the index file (page
     * cache, not the process's own memory: a watcher adds a record a block
     * for months); [n_map, n): h, those read since (a save maps them) */
    const btc_hdr *map;
    size_t n_map;
    btc_hdr *h;
    size_t n, cap;
    size_t n_saved; /* records already in the file */
    bool rewrite;   /* the file's records are not a prefix of these: write all */
    file_state *f;
    size_t n_f, cap_f;
    size_t n_read; /* records read from blk files since the load */
    /* the tree of records [base, n_tree), kept as records arrive: parent,
     * height (or a mark below) and cumulative work of record i at i - base */
    size_t base, n_tree, cap_tree;
    uint32_t *parent, *height;
    btc_u256 *work;
    uint32_t *table; /* hash -> index + 1 (open addressing), duplicates left out */
    size_t mask, table_used;
    uint32_t *orphan; /* by prev hash: index + 1, TOMB removed, 0 empty */
    size_t orphan_mask, orphan_used;
    /* the first 4 bytes of the hashes of records [0, base), sorted */
    uint32_t *pruned;
    size_t n_pruned, cap_pruned;
    size_t keep;     /* heights below the tip the tree keeps */
    size_t rebuilds; /* trees built again since the load */
    uint32_t genesis, best;
    uint32_t cached_bits;
    btc_u256 cached_work;
    /* the best chain, kept current: at[height] is its record (chain reads
     * through it); heights [0, checked) passed the rules */
    uint32_t *at;
    size_t at_cap;
    ch_blk_chain chain;
    size_t checked;
};

#define NONE UINT32_MAX       /* no parent; height: not linked (an orphan waiting) */
#define TOMB UINT32_MAX       /* an orphan slot emptied */
#define DUP  (UINT32_MAX - 1) /* height: a duplicate or a second genesis, never linked */

/* Record i's tree columns (i in [base, n_tree)). */
#define PARENT(x, i) ((x)->parent[(i) - (x)->base])
#define HEIGHT(x, i) ((x)->height[(i) - (x)->base])
#define WORK(x, i)   ((x)->work[(i) - (x)->base])

static const ch_hash256 ZERO_HASH;

/* Record i, from the mapping or the records read since. */
static inline const btc_hdr *hdr(const ch_blkidx *x, size_t i) {
    return i < x->n_map ? &x->map[i] : &x->h[i - x->n_map];
}

/* The chain reads the records where they are now (after a read moved h,
 * a save mapped them, or at[] grew). */
static void sync_view(ch_blkidx *x) {
    x->chain.at = x->at;
    x->chain.span0 = x->map;
    x->chain.n_span0 = x->n_map;
    x->chain.span1 = x->h;
}

static void unmap_records(ch_blkidx *x) {
    if (x->map) munmap((void *)x->map, x->n_map * sizeof *x->map);
    x->map = NULL;
    x->n_map = 0;
}

/* Map the first n records of the index file fd (n > 0) in place of the
 * mapping and the records read so far, [0, n) of which are in the file:
 * those after n stay in h. 0, or -1 (x unchanged: they are used from h). */
static int map_records(ch_blkidx *x, int fd, size_t n) {
    size_t len = n * sizeof *x->map;
    void *m = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) return -1;
    size_t keep = x->n - n; /* records after the file's, moved to h's start */
    if (keep) memmove(x->h, x->h + (n - x->n_map), keep * sizeof *x->h);
    unmap_records(x);
    x->map = m;
    x->n_map = n;
    if (!keep) { /* the heap's part back to nothing */
        free(x->h);
        x->h = NULL;
        x->cap = 0;
    }
    sync_view(x);
    return 0;
}

/* The tree back to empty (to be built again from every record); the best
 * chain and its rules' mark stay: the same records give the same chain. */
static void tree_reset(ch_blkidx *x) {
    free(x->parent);
    free(x->height);
    free(x->work);
    free(x->table);
    free(x->orphan);
    free(x->pruned);
    x->parent = x->height = x->table = x->orphan = x->pruned = NULL;
    x->work = NULL;
    x->base = x->n_tree = x->cap_tree = x->mask = x->table_used = 0;
    x->orphan_mask = x->orphan_used = x->n_pruned = x->cap_pruned = 0;
    x->genesis = x->best = NONE;
}

static void tree_free(ch_blkidx *x) {
    tree_reset(x);
    free(x->at);
    x->at = NULL;
    x->at_cap = 0;
    memset(&x->chain, 0, sizeof x->chain);
    x->checked = 0;
}

static void reset(ch_blkidx *x) {
    unmap_records(x);
    x->n = 0;
    x->n_f = 0;
    x->have_magic = false;
    x->rewrite = true;
    tree_free(x);
}

static file_state *state_of(ch_blkidx *x, uint32_t no) {
    for (size_t i = x->n_f; i-- > 0;) /* new files come last */
        if (x->f[i].no == no) return &x->f[i];
    return NULL;
}

static void folder_of(ch_blkdir *d, char out[PATH_MAX]) {
    if (!realpath(btc_blkdir_dir(d), out)) snprintf(out, PATH_MAX, "%s", btc_blkdir_dir(d));
}

static char *state_path(const char *path) {
    size_t n = strlen(path) + 8;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s.state", path);
    return s;
}

/* Read PATH.state and PATH into x; any mismatch leaves x empty. */
static void load_files(ch_blkidx *x, const char *path, size_t *checked, ch_hash256 *checked_hash) {
    char *sp = state_path(path);
    FILE *f = sp ? fopen(sp, "r") : NULL;
    free(sp);
    if (!f) return;
    char dir[PATH_MAX + 1] = "", key[17] = "", magic[9] = "";
    unsigned long long n = 0, n_f = 0;
    bool ok =
        fscanf(f, "coinhound-blkindex 1 dir %4096s key %16s magic %8s records %llu files %llu", dir,
               key, magic, &n, &n_f) == 5 &&
        !strcmp(dir, x->dir) && strlen(key) == 16 && n < (1ULL << 32) && n_f < (1u << 20);
    uint8_t k[8], m[4];
    ok = ok && ch_hex_decode(key, 16, k, 8) == 0 && !memcmp(k, x->key, 8);
    bool has_magic = ok && strcmp(magic, "none");
    if (has_magic) ok = strlen(magic) == 8 && ch_hex_decode(magic, 8, m, 4) == 0;
    ok = ok && btc_grow((void **)&x->f, &x->cap_f, (size_t)n_f, sizeof *x->f) == 0;
    for (size_t i = 0; ok && i < n_f; i++) {
        unsigned no;
        unsigned long long next, size;
        long long mt;
        ok = fscanf(f, " file %u %llu %llu %lld", &no, &next, &size, &mt) == 4 && next <= size;
        if (ok) x->f[x->n_f++] = (file_state){no, next, size, mt};
    }
    unsigned long long ck = 0;
    char ckhex[80] = "";
    if (ok && fscanf(f, " checked %llu %70s", &ck, ckhex) == 2 && strlen(ckhex) == 64 &&
        ch_hash256_from_hex(ckhex, checked_hash) == 0)
        *checked = (size_t)ck;
    fclose(f);
    /* the records mapped, not read: a file shorter than the state says is
     * an unreadable index */
    int fd = ok ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    struct stat st;
    ok = fd >= 0 && fstat(fd, &st) == 0 && (uint64_t)st.st_size >= n * sizeof(btc_hdr);
    x->n = (size_t)n;
    ok = ok && (n == 0 || map_records(x, fd, (size_t)n) == 0);
    if (fd >= 0) close(fd);
    if (!ok) {
        reset(x);
        return;
    }
    x->n_saved = (size_t)n;
    x->rewrite = false;
    if (has_magic) {
        memcpy(x->magic, m, 4);
        x->have_magic = true;
    }
}

/* --- the tree, grown record by record ----------------------------------
 * What ch_blkdir_best_chain computes from all records at once (chain.c),
 * here as they arrive, with the same answers: the first record whose prev
 * is zero is the genesis block, a record whose hash was seen before is a
 * duplicate and never linked, a record whose parent is not linked yet
 * waits (an orphan: Core stores blocks in arrival order) until it is, and
 * the best tip is the linked record of most cumulative work, the earliest
 * on a tie. Those decisions involve the new record, its parent and the
 * best tip only, so the tree may let go of records far below the tip (see
 * the top of the file) as long as a record that needs one of them has the
 * tree built again. */

static uint64_t key_of(const ch_hash256 *h) {
    uint64_t k;
    memcpy(&k, h->b, 8);
    return k;
}

static uint32_t prefix_of(const ch_hash256 *h) {
    uint32_t k;
    memcpy(&k, h->b, 4);
    return k;
}

static uint32_t lookup(const ch_blkidx *x, const ch_hash256 *h) {
    if (!x->table) return NONE;
    for (size_t i = key_of(h) & x->mask;; i = (i + 1) & x->mask) {
        uint32_t v = x->table[i];
        if (!v) return NONE;
        if (!memcmp(hdr(x, v - 1)->hash.b, h->b, 32)) return v - 1;
    }
}

static int table_put(uint32_t *t, size_t mask, const ch_blkidx *x, uint32_t idx) {
    const ch_hash256 *h = &hdr(x, idx)->hash;
    for (size_t i = key_of(h) & mask;; i = (i + 1) & mask) {
        if (!t[i]) {
            t[i] = idx + 1;
            return 1;
        }
        if (!memcmp(hdr(x, t[i] - 1)->hash.b, h->b, 32)) return 0;
    }
}

/* A table of at least `slots` slots (a power of two) holding the window's
 * records that are in the table (all but duplicates). */
static int table_build(ch_blkidx *x, size_t slots) {
    uint32_t *t = calloc(slots, sizeof *t);
    if (!t) return -1;
    size_t used = 0;
    for (size_t i = x->base; i < x->n_tree; i++)
        if (HEIGHT(x, i) != DUP) used += (size_t)table_put(t, slots - 1, x, (uint32_t)i);
    free(x->table);
    x->table = t;
    x->mask = slots - 1;
    x->table_used = used;
    return 0;
}

/* Insert record idx; 0 when its hash is there already (a duplicate). */
static int table_add(ch_blkidx *x, uint32_t idx) {
    if (!x->table || (x->table_used + 1) * 2 > x->mask + 1) {
        size_t slots = x->table ? (x->mask + 1) * 2 : 1024;
        uint32_t *t = calloc(slots, sizeof *t);
        if (!t) return -1;
        for (size_t i = 0; x->table && i <= x->mask; i++)
            if (x->table[i]) table_put(t, slots - 1, x, x->table[i] - 1);
        free(x->table);
        x->table = t;
        x->mask = slots - 1;
    }
    int added = table_put(x->table, x->mask, x, idx);
    x->table_used += (size_t)added;
    return added;
}

static int orphan_add(ch_blkidx *x, uint32_t idx) {
    if (!x->orphan || (x->orphan_used + 1) * 2 > x->orphan_mask + 1) {
        size_t slots = x->orphan ? (x->orphan_mask + 1) * 2 : 64;
        uint32_t *t = calloc(slots, sizeof *t);
        if (!t) return -1;
        size_t used = 0;
        for (size_t i = 0; x->orphan && i <= x->orphan_mask; i++) {
            uint32_t v = x->orphan[i];
            if (!v || v == TOMB) continue;
            size_t j = key_of(&hdr(x, v - 1)->prev) & (slots - 1);
            while (t[j])
                j = (j + 1) & (slots - 1);
            t[j] = v;
            used++;
        }
        free(x->orphan);
        x->orphan = t;
        x->orphan_mask = slots - 1;
        x->orphan_used = used;
    }
    size_t j = key_of(&hdr(x, idx)->prev) & x->orphan_mask;
    while (x->orphan[j] && x->orphan[j] != TOMB)
        j = (j + 1) & x->orphan_mask;
    if (!x->orphan[j]) x->orphan_used++;
    x->orphan[j] = idx + 1;
    return 0;
}

/* Take out a waiting child of `hash`: its index, or NONE. */
static uint32_t orphan_take(ch_blkidx *x, const ch_hash256 *hash) {
    if (!x->orphan) return NONE;
    for (size_t j = key_of(hash) & x->orphan_mask; x->orphan[j]; j = (j + 1) & x->orphan_mask) {
        uint32_t v = x->orphan[j];
        if (v != TOMB && !memcmp(hdr(x, v - 1)->prev.b, hash->b, 32)) {
            x->orphan[j] = TOMB;
            return v - 1;
        }
    }
    return NONE;
}

/* Whether a record below the window has this hash: its first 4 bytes in
 * the sorted array, then (rarely: about one look-up in 4,000 at mainnet's
 * height) the records themselves compared whole. */
static bool below_window(const ch_blkidx *x, const ch_hash256 *h) {
    uint32_t k = prefix_of(h);
    size_t lo = 0, hi = x->n_pruned;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (x->pruned[mid] < k)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == x->n_pruned || x->pruned[lo] != k) return false;
    for (size_t i = 0; i < x->base; i++)
        if (!memcmp(hdr(x, i)->hash.b, h->b, 32)) return true;
    return false;
}

static void own_work(ch_blkidx *x, uint32_t bits, btc_u256 *w) {
    if (x->cached_bits != bits || btc_u256_is_zero(&x->cached_work)) {
        btc_header_work(bits, &x->cached_work);
        x->cached_bits = bits;
    }
    *w = x->cached_work;
}

/* Link i under parent p (NONE: i is the genesis block), then whatever
 * waited for it, depth first. */
static void link_from(ch_blkidx *x, uint32_t i, uint32_t p) {
    uint32_t stack_top = i;
    PARENT(x, i) = p;
    for (;;) {
        uint32_t k = stack_top, par = PARENT(x, k);
        own_work(x, hdr(x, k)->bits, &WORK(x, k));
        if (par != NONE) {
            btc_u256_add(&WORK(x, k), &WORK(x, par));
            HEIGHT(x, k) = HEIGHT(x, par) + 1;
        } else {
            HEIGHT(x, k) = 0;
        }
        int c = x->best == NONE ? 1 : btc_u256_cmp(&WORK(x, k), &WORK(x, x->best));
        if (c > 0 || (c == 0 && k < x->best)) x->best = k;
        /* the next to link: a child of k, else of an ancestor on this walk */
        uint32_t next = NONE;
        for (uint32_t a = k; next == NONE; a = PARENT(x, a)) {
            next = orphan_take(x, &hdr(x, a)->hash);
            if (next != NONE) PARENT(x, next) = a;
            if (a == i) break;
        }
        if (next == NONE) return;
        stack_top = next;
    }
}

static int grow_tree(ch_blkidx *x, size_t need) {
    void **cols[] = {(void **)&x->parent, (void **)&x->height, (void **)&x->work};
    const size_t sz[] = {sizeof *x->parent, sizeof *x->height, sizeof *x->work};
    return ch_grow_cols(cols, sz, 3, &x->cap_tree, need);
}

/* The best chain follows the best tip: the heights from where it left the
 * old chain are written again (and the rules' mark drops to there). 1
 * when the new chain leaves the old one below the window (the tree must
 * be built again; nothing written), 0, or -1. */
static int follow_best(ch_blkidx *x, ch_error *err) {
    if (x->best == NONE) return 0;
    ch_blk_chain *c = &x->chain;
    size_t n = (size_t)HEIGHT(x, x->best) + 1;
    /* first down to where the chains meet, to know that they do */
    uint32_t k = x->best;
    for (size_t ht = n - 1;; ht--) {
        if (ht < c->n && x->at[ht] == k) break;
        uint32_t p = PARENT(x, k);
        if (p == NONE) break;
        if (p < x->base && (ht - 1 >= c->n || x->at[ht - 1] != p)) return 1;
        k = p;
    }
    if (btc_grow((void **)&x->at, &x->at_cap, n, sizeof *x->at) != 0)
        return ch_err(err, "out of memory for a chain of %zu blocks", n);
    k = x->best;
    for (size_t ht = n - 1;; ht--) {
        if (ht < c->n && x->at[ht] == k) break;
        x->at[ht] = k;
        if (ht < x->checked) x->checked = ht;
        if (PARENT(x, k) == NONE || PARENT(x, k) < x->base) break;
        k = PARENT(x, k);
    }
    if (n < x->checked) x->checked = n;
    c->n = n;
    sync_view(x);
    return 0;
}

static void radix_sort(uint32_t *a, uint32_t *tmp, size_t n) {
    for (unsigned shift = 0; shift < 32; shift += 8) {
        size_t count[257] = {0};
        for (size_t i = 0; i < n; i++)
            count[((a[i] >> shift) & 0xff) + 1]++;
        for (size_t b = 0; b < 256; b++)
            count[b + 1] += count[b];
        for (size_t i = 0; i < n; i++)
            tmp[count[(a[i] >> shift) & 0xff]++] = a[i];
        memcpy(a, tmp, n * sizeof *a);
    }
}

/* Let go of the records far below the tip once the window holds twice
 * `keep` heights' worth: the window starts again at the first record that
 * is linked at `keep` heights below the tip or above, or waits for its
 * parent; the hashes of those before join the sorted array. 0, or -1 out
 * of memory (the tree unchanged). */
static int prune(ch_blkidx *x) {
    if (x->best == NONE || !x->keep || x->n_tree - x->base < 2 * x->keep) return 0;
    uint32_t tip_h = HEIGHT(x, x->best);
    if (tip_h < x->keep) return 0;
    uint32_t low = tip_h - (uint32_t)x->keep;
    size_t nb = x->base;
    while (nb < x->n_tree &&
           (HEIGHT(x, nb) == DUP || (HEIGHT(x, nb) != NONE && HEIGHT(x, nb) < low)))
        nb++;
    size_t gone = nb - x->base, total = x->n_pruned + gone;
    if (gone < x->keep) return 0; /* too little to be worth the array's merge */
    /* the array grown in place (doubling: a watcher's heap is not left
     * with the old arrays as holes), the new keys sorted beside it */
    uint32_t *add = malloc(2 * gone * sizeof *add);
    if (!add || btc_grow((void **)&x->pruned, &x->cap_pruned, total, sizeof *x->pruned) != 0) {
        free(add);
        return -1;
    }
    for (size_t i = 0; i < gone; i++)
        add[i] = prefix_of(&hdr(x, x->base + i)->hash);
    radix_sort(add, add + gone, gone);
    /* merged from the back, in place: what is written is past what is read */
    size_t a = x->n_pruned, b = gone, o = total;
    while (b) {
        if (a && x->pruned[a - 1] > add[b - 1])
            x->pruned[--o] = x->pruned[--a];
        else
            x->pruned[--o] = add[--b];
    }
    free(add);
    x->n_pruned = total;
    /* the columns moved down and cut to their size, the table built anew */
    size_t live = x->n_tree - nb;
    memmove(x->parent, x->parent + gone, live * sizeof *x->parent);
    memmove(x->height, x->height + gone, live * sizeof *x->height);
    memmove(x->work, x->work + gone, live * sizeof *x->work);
    x->base = nb;
    size_t cap = live + x->keep;
    if (x->cap_tree > 2 * cap) {
        uint32_t *pa = realloc(x->parent, cap * sizeof *pa);
        if (pa) x->parent = pa;
        uint32_t *he = realloc(x->height, cap * sizeof *he);
        if (he) x->height = he;
        btc_u256 *wo = realloc(x->work, cap * sizeof *wo);
        if (wo) x->work = wo;
        if (pa && he && wo) x->cap_tree = cap;
    }
    size_t slots = 1024;
    while (slots < 2 * (live + 1))
        slots *= 2;
    return table_build(x, slots);
}

/* Records [n_tree, n) into the tree, then the best chain: 0, -1, or 1 when
 * a record needs one below the window (the tree must be built again). */
static int grow_pass(ch_blkidx *x, ch_error *err) {
    if (x->n > UINT32_MAX - 2) return ch_err(err, "too many block records");
    if (grow_tree(x, x->n - x->base) != 0)
        return ch_err(err, "out of memory for %zu block headers", x->n);
    for (size_t i = x->n_tree; i < x->n; i++) {
        uint32_t idx = (uint32_t)i;
        const btc_hdr *r = hdr(x, i);
        x->n_tree = i + 1;
        PARENT(x, idx) = NONE;
        HEIGHT(x, idx) = NONE;
        if (x->n_pruned && below_window(x, &r->hash)) return 1; /* a duplicate of one */
        int added = table_add(x, idx);
        if (added < 0) return ch_err(err, "out of memory for %zu block headers", x->n);
        if (!added) { /* a duplicate record: never on the chain */
            HEIGHT(x, idx) = DUP;
            continue;
        }
        if (!memcmp(r->prev.b, ZERO_HASH.b, 32)) {
            if (x->genesis == NONE) {
                x->genesis = idx;
                link_from(x, idx, NONE);
            } else {
                HEIGHT(x, idx) = DUP;
            }
            continue;
        }
        uint32_t p = lookup(x, &r->prev);
        if (p != NONE && HEIGHT(x, p) != NONE && HEIGHT(x, p) != DUP)
            link_from(x, idx, p);
        else if (p == NONE && x->n_pruned && below_window(x, &r->prev))
            return 1;
        else if (orphan_add(x, idx) != 0)
            return ch_err(err, "out of memory for %zu block headers", x->n);
    }
    x->chain.n_stale = x->n - (x->best == NONE ? 0 : (size_t)HEIGHT(x, x->best) + 1);
    int rc = follow_best(x, err);
    if (rc == 0 && prune(x) != 0) return ch_err(err, "out of memory for %zu block headers", x->n);
    return rc;
}

/* Records [n_tree, n) into the tree and the best chain, the tree built
 * again from every record when one needs a record below the window. */
static int grow_with_new(ch_blkidx *x, ch_error *err) {
    int rc;
    while ((rc = grow_pass(x, err)) == 1) {
        x->rebuilds++;
        tree_reset(x);
    }
    return rc;
}

int ch_blkidx_load(const char *path, ch_blkdir *d, ch_blkidx **out, ch_error *err) {
    ch_blkidx *x = calloc(1, sizeof *x);
    if (!x) return ch_err(err, "out of memory");
    folder_of(d, x->dir);
    memcpy(x->key, btc_blkdir_key(d), 8);
    x->rewrite = true;
    x->genesis = x->best = NONE;
    x->keep = KEEP_DEFAULT;
    size_t checked = 0;
    ch_hash256 checked_hash;
    if (path) load_files(x, path, &checked, &checked_hash);
    if (grow_with_new(x, err) != 0) {
        ch_blkidx_free(x);
        return -1;
    }
    /* the rules' mark stands when the chain still holds the block it
     * was set at */
    if (checked && checked <= x->chain.n &&
        !memcmp(ch_blk_chain_rec(&x->chain, checked - 1)->hash.b, checked_hash.b, 32))
        x->checked = checked;
    /* the folder's network is its records' magic, read before: tell the
     * folder, which would otherwise learn it from the first record read */
    ch_error e;
    if (x->have_magic && btc_blkdir_set_magic(d, x->magic, &e) != 0) reset(x);
    *out = x;
    return 0;
}

static int on_record(void *ctx, const ch_blk_pos *pos, const uint8_t header[80], ch_error *err) {
    ch_blkidx *x = ctx;
    if (btc_grow((void **)&x->h, &x->cap, x->n - x->n_map + 1, sizeof *x->h) != 0)
        return ch_err(err, "out of memory after %zu block headers", x->n);
    x->h[x->n++ - x->n_map] = btc_hdr_of(pos, header);
    x->n_read++;
    return 0;
}

/* One pass over the listing; 1 when the folder was written anew (x must be
 * reset and read again), 0 done, -1 error. */
static int update_pass(ch_blkidx *x, ch_blkdir *d, bool strict, ch_error *err) {
    uint32_t n_files = ch_blkdir_file_count(d);
    for (uint32_t i = 0; i < n_files; i++) {
        uint32_t no = btc_blkdir_file_no(d, i);
        const char *p = ch_blkdir_path(d, no);
        struct stat st;
        if (stat(p, &st) != 0) return ch_err(err, "%s: %s", p, strerror(errno));
        int64_t mt = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
        file_state *fs = state_of(x, no);
        /* unchanged; strict reads again a tail left unread (padding, or a
         * record cut short that a tolerant update waited for) */
        if (fs && fs->size == (uint64_t)st.st_size && fs->mtime_ns == mt &&
            (!strict || fs->next == fs->size))
            continue;
        if (fs && (uint64_t)st.st_size < fs->next) return 1;
        if (!fs) {
            if (btc_grow((void **)&x->f, &x->cap_f, x->n_f + 1, sizeof *x->f) != 0)
                return ch_err(err, "out of memory");
            fs = &x->f[x->n_f++];
            *fs = (file_state){.no = no};
        }
        uint64_t end;
        if (btc_blkdir_scan_file(d, i, fs->next, !strict, on_record, x, &end, err) != 0) return -1;
        *fs = (file_state){no, end, (uint64_t)st.st_size, mt};
    }
    const uint8_t *m = btc_blkdir_magic(d);
    if (m && !x->have_magic) {
        memcpy(x->magic, m, 4);
        x->have_magic = true;
    }
    return 0;
}

int ch_blkidx_update(ch_blkidx *x, ch_blkdir *d, bool strict, ch_error *err) {
    if (ch_blkdir_relist(d, err) != 0) return -1;
    size_t before = x->n;
    int rc = update_pass(x, d, strict, err);
    if (rc == 1) {
        reset(x);
        before = 0;
        rc = update_pass(x, d, strict, err);
    }
    if (rc == 0) rc = grow_with_new(x, err);
    sync_view(x); /* h may have moved, even on a failure */
    return rc != 0 ? -1 : (int)(x->n - before);
}

static int write_all_at(int fd, const void *p, size_t n, uint64_t off) {
    const uint8_t *b = p;
    while (n) {
        ssize_t w = pwrite(fd, b, n, (off_t)off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        b += w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
    return 0;
}

/* PATH.state written whole to a temporary file, synced, renamed over the
 * old: a crash leaves one state or the other, never half of one. */
static int save_state(const ch_blkidx *x, const char *path, ch_error *err) {
    char *sp = state_path(path);
    if (!sp) return ch_err(err, "out of memory");
    size_t tn = strlen(sp) + 8;
    char *tmp = malloc(tn);
    if (!tmp) {
        free(sp);
        return ch_err(err, "out of memory");
    }
    snprintf(tmp, tn, "%s.tmp", sp);
    int rc = 0;
    FILE *f = fopen(tmp, "w");
    if (!f) {
        rc = ch_err(err, "%s: cannot write: %s", tmp, strerror(errno));
        goto out;
    }
    char key[17], magic[9] = "none";
    ch_hex_encode(x->key, 8, key);
    if (x->have_magic) ch_hex_encode(x->magic, 4, magic);
    fprintf(f, "coinhound-blkindex 1\ndir %s\nkey %s\nmagic %s\nrecords %zu\nfiles %zu\n", x->dir,
            key, magic, x->n, x->n_f);
    for (size_t i = 0; i < x->n_f; i++)
        fprintf(f, "file %u %" PRIu64 " %" PRIu64 " %" PRId64 "\n", x->f[i].no, x->f[i].next,
                x->f[i].size, x->f[i].mtime_ns);
    if (x->checked) {
        char hex[65];
        ch_hash256_to_hex(&ch_blk_chain_rec(&x->chain, x->checked - 1)->hash, hex);
        fprintf(f, "checked %zu %s\n", x->checked, hex);
    }
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) rc = ch_err(err, "%s: cannot write", tmp);
    if (fclose(f) != 0 && rc == 0) rc = ch_err(err, "%s: cannot write", tmp);
    if (rc == 0 && rename(tmp, sp) != 0)
        rc = ch_err(err, "%s: cannot rename: %s", sp, strerror(errno));
out:
    free(tmp);
    free(sp);
    return rc;
}

int ch_blkidx_save(ch_blkidx *x, const char *path, ch_error *err) {
    if (x->dir[0] && strchr(x->dir, ' ')) return 0; /* the state's format has no quoting */
    if (!x->rewrite && x->n_saved == x->n) {
        /* nothing new among the records; file states may have moved */
        return save_state(x, path, err);
    }
    if (x->rewrite) {
        /* the old state must not outlive the records it counted */
        char *sp = state_path(path);
        if (sp) unlink(sp);
        free(sp);
    }
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return ch_err(err, "%s: cannot write: %s", path, strerror(errno));
    /* the records not in the file: all of them in h (a rewrite starts
     * from reset, which unmapped them), or those after the mapped ones */
    size_t from = x->rewrite ? 0 : x->n_saved;
    int rc = 0;
    if ((x->n > from && write_all_at(fd, hdr(x, from), (x->n - from) * sizeof(btc_hdr),
                                     from * sizeof(btc_hdr)) != 0) ||
        ftruncate(fd, (off_t)(x->n * sizeof(btc_hdr))) != 0 || fdatasync(fd) != 0)
        rc = ch_err(err, "%s: cannot write: %s", path, strerror(errno));
    if (rc == 0) rc = save_state(x, path, err);
    if (rc == 0) {
        x->n_saved = x->n;
        x->rewrite = false;
        /* from now on read from the file (failing, from h as before) */
        if (x->n > x->n_map) (void)map_records(x, fd, x->n);
    }
    close(fd);
    return rc;
}

int ch_blkidx_chain(const ch_blkidx *x, const ch_blk_chain **chain, ch_error *err) {
    *chain = NULL;
    if (x->best == NONE)
        return ch_err(err,
                      "%s: no genesis block (a block whose prev hash is zero) among %zu "
                      "records",
                      x->dir, x->n);
    *chain = &x->chain;
    return 0;
}

int ch_blkidx_best_chain(const ch_blkidx *x, ch_blk_chain *chain, ch_error *err) {
    memset(chain, 0, sizeof *chain);
    const ch_blk_chain *c;
    if (ch_blkidx_chain(x, &c, err) != 0 || ch_blk_chain_alloc(chain, c->n, err) != 0) return -1;
    for (size_t h = 0; h < c->n; h++)
        chain->rec[h] = *ch_blk_chain_rec(c, h);
    chain->n_stale = c->n_stale;
    return 0;
}

int ch_blkidx_check(ch_blkidx *x, const ch_blkdir *d, ch_error *err) {
    const ch_blk_chain *c;
    if (ch_blkidx_chain(x, &c, err) != 0) return -1;
    if (x->checked >= c->n) return 0;
    ch_btc_net net = btc_blkdir_net(d);
    if (net >= CH_BTC_NET_COUNT) return ch_err(err, "%s: network unknown", btc_blkdir_dir(d));
    if (btc_chain_check_from(net, c, d, x->checked, err) != 0) return -1;
    x->checked = c->n;
    return 0;
}

size_t ch_blkidx_count(const ch_blkidx *x) {
    return x->n;
}

size_t ch_blkidx_read_count(const ch_blkidx *x) {
    return x->n_read;
}

void ch_blkidx_free(ch_blkidx *x) {
    if (!x) return;
    tree_free(x);
    unmap_records(x);
    free(x->h);
    free(x->f);
    free(x);
}

void btc_blkidx_set_keep(ch_blkidx *x, size_t keep) {
    x->keep = keep;
}

size_t btc_blkidx_tree_records(const ch_blkidx *x) {
    return x->n_tree - x->base;
}

size_t btc_blkidx_rebuilds(const ch_blkidx *x) {
    return x->rebuilds;
}
