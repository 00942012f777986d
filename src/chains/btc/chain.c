/* The best chain of a blk directory.
 *
 * Only headers are read: one pread of magic, size and the 80 header bytes
 * per record. Records are linked by prev-hash through a hash table, the tree
 * is walked from the genesis block (the one whose prev is zero) summing each
 * header's work, and the tip with the most cumulative work wins (the first
 * one seen on a tie, as Core prefers the block it received first). Anything
 * off that chain - stale branches, orphans, duplicate records - is counted
 * in n_stale and left out. */
#include <stdlib.h>
#include <string.h>

#include "chains/btc/btc_internal.h"

#define NONE UINT32_MAX

typedef struct node {
    ch_blk_rec r;
    uint32_t parent;
    uint32_t height;
    btc_u256 work; /* cumulative, genesis included */
} node;

typedef struct builder {
    node *nodes;
    size_t n, cap;
    uint32_t *table; /* open addressing: node index + 1, 0 = empty */
    size_t mask;
    uint32_t cached_bits; /* work of the last bits seen: bits change once per 2016 blocks */
    btc_u256 cached_work;
    bool have_cache;
} builder;

static uint64_t hash_key(const ch_hash256 *h) {
    uint64_t k;
    memcpy(&k, h->b, 8);
    return k;
}

static uint32_t lookup(const builder *b, const ch_hash256 *h) {
    for (size_t i = hash_key(h) & b->mask;; i = (i + 1) & b->mask) {
        uint32_t v = b->table[i];
        if (!v) return NONE;
        if (!memcmp(b->nodes[v - 1].r.hash.b, h->b, 32)) return v - 1;
    }
}

/* Insert node idx; false when its hash is already there (a duplicate). */
static bool insert(builder *b, uint32_t idx) {
    const ch_hash256 *h = &b->nodes[idx].r.hash;
    for (size_t i = hash_key(h) & b->mask;; i = (i + 1) & b->mask) {
        uint32_t v = b->table[i];
        if (!v) {
            b->table[i] = idx + 1;
            return true;
        }
        if (!memcmp(b->nodes[v - 1].r.hash.b, h->b, 32)) return false;
    }
}

btc_hdr btc_hdr_of(const ch_blk_pos *pos, const uint8_t header[80]) {
    ch_btc_header h;
    btc_header_decode(header, &h);
    return (btc_hdr){.hash = h.hash,
                     .prev = h.prev,
                     .file_no = pos->file_no,
                     .size = pos->size,
                     .offset = pos->offset,
                     .bits = h.bits,
                     .time = h.time};
}

static int visit(void *ctx, const ch_blk_pos *pos, const uint8_t header[80], ch_error *err) {
    builder *b = ctx;
    if (b->n >= UINT32_MAX - 1) return ch_err(err, "too many block records");
    if (btc_grow((void **)&b->nodes, &b->cap, b->n + 1, sizeof *b->nodes) < 0)
        return ch_err(err, "out of memory after %zu block headers", b->n);
    node *nd = &b->nodes[b->n++];
    nd->r = btc_hdr_of(pos, header);
    nd->parent = NONE;
    nd->height = 0;
    return 0;
}

/* Hash table over all nodes and each node's parent. Returns the genesis
 * node's index, or NONE. Duplicate records keep parent NONE and so are
 * never reached from genesis. */
static int link_nodes(builder *b, uint32_t *genesis, ch_error *err) {
    size_t slots = 16;
    while (slots < 2 * b->n)
        slots *= 2;
    b->table = calloc(slots, sizeof *b->table);
    if (!b->table) return ch_err(err, "out of memory for %zu block headers", b->n);
    b->mask = slots - 1;
    bool *dup = calloc(b->n ? b->n : 1, sizeof *dup);
    if (!dup) return ch_err(err, "out of memory for %zu block headers", b->n);
    for (size_t i = 0; i < b->n; i++)
        dup[i] = !insert(b, (uint32_t)i);
    static const ch_hash256 zero;
    *genesis = NONE;
    for (size_t i = 0; i < b->n; i++) {
        node *nd = &b->nodes[i];
        if (dup[i]) continue;
        if (!memcmp(nd->r.prev.b, zero.b, 32)) {
            if (*genesis == NONE) *genesis = (uint32_t)i;
            continue;
        }
        nd->parent = lookup(b, &nd->r.prev);
    }
    free(dup);
    return 0;
}

static void node_work(builder *b, uint32_t bits, btc_u256 *work) {
    if (!b->have_cache || b->cached_bits != bits) {
        btc_header_work(bits, &b->cached_work);
        b->cached_bits = bits;
        b->have_cache = true;
    }
    *work = b->cached_work;
}

/* Breadth-first from genesis over child lists (children grouped by parent
 * in one array), giving every reachable node its height and cumulative
 * work. Returns the best tip. */
static int walk_tree(builder *b, uint32_t genesis, uint32_t *tip, ch_error *err) {
    size_t n = b->n;
    uint32_t *first = calloc(n + 1, sizeof *first);
    uint32_t *child = malloc((n ? n : 1) * sizeof *child);
    uint32_t *queue = malloc((n ? n : 1) * sizeof *queue);
    int rc = 0;
    if (!first || !child || !queue) {
        rc = ch_err(err, "out of memory for %zu block headers", n);
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        if (b->nodes[i].parent != NONE) first[b->nodes[i].parent + 1]++;
    for (size_t i = 0; i < n; i++)
        first[i + 1] += first[i];
    {
        uint32_t *fill = queue; /* borrowed as a cursor per parent */
        memcpy(fill, first, n * sizeof *fill);
        for (size_t i = 0; i < n; i++) {
            uint32_t par = b->nodes[i].parent;
            if (par != NONE) child[fill[par]++] = (uint32_t)i;
        }
    }
    size_t head = 0, tail = 0;
    node *g = &b->nodes[genesis];
    g->height = 0;
    node_work(b, g->r.bits, &g->work);
    queue[tail++] = genesis;
    *tip = genesis;
    while (head < tail) {
        uint32_t at = queue[head++];
        node *nd = &b->nodes[at];
        int c = btc_u256_cmp(&nd->work, &b->nodes[*tip].work);
        if (c > 0 || (c == 0 && at < *tip)) *tip = at;
        for (uint32_t k = first[at]; k < first[at + 1]; k++) {
            node *ch = &b->nodes[child[k]];
            node_work(b, ch->r.bits, &ch->work);
            btc_u256_add(&ch->work, &nd->work);
            ch->height = nd->height + 1;
            queue[tail++] = child[k];
        }
    }
done:
    free(first);
    free(child);
    free(queue);
    return rc;
}

static int fill_chain(const builder *b, uint32_t tip, ch_blk_chain *chain, ch_error *err) {
    size_t n = (size_t)b->nodes[tip].height + 1;
    if (ch_blk_chain_alloc(chain, n, err) != 0) return -1;
    uint32_t at = tip;
    for (size_t h = n; h-- > 0; at = b->nodes[at].parent)
        chain->rec[h] = b->nodes[at].r;
    chain->n_stale = b->n - n;
    return 0;
}

/* Link the builder's nodes, walk them from genesis, fill the best chain;
 * frees the builder. */
static int build(builder *b, const char *dir, ch_blk_chain *chain, ch_error *err) {
    uint32_t genesis = NONE, tip = NONE;
    int rc = link_nodes(b, &genesis, err);
    if (rc == 0 && genesis == NONE)
        rc = ch_err(err,
                    "%s: no genesis block (a block whose prev hash is zero) among %zu "
                    "records",
                    dir, b->n);
    if (rc == 0) rc = walk_tree(b, genesis, &tip, err);
    if (rc == 0) rc = fill_chain(b, tip, chain, err);
    free(b->nodes);
    free(b->table);
    return rc;
}

int ch_blkdir_best_chain(ch_blkdir *d, ch_blk_chain *chain, ch_error *err) {
    memset(chain, 0, sizeof *chain);
    builder b;
    memset(&b, 0, sizeof b);
    if (btc_blkdir_scan(d, visit, &b, err) != 0) {
        free(b.nodes);
        return -1;
    }
    return build(&b, btc_blkdir_dir(d), chain, err);
}

int ch_blk_chain_read(ch_blkdir *d, const ch_blk_chain *c, size_t h, uint8_t **buf, size_t *cap,
                      ch_error *err) {
    ch_blk_pos pos = ch_blk_chain_pos(c, h);
    return ch_blkdir_read(d, &pos, buf, cap, err);
}

int ch_blk_chain_alloc(ch_blk_chain *c, size_t n, ch_error *err) {
    memset(c, 0, sizeof *c);
    c->rec = calloc(n ? n : 1, sizeof *c->rec);
    if (!c->rec) return ch_err(err, "out of memory for a chain of %zu blocks", n);
    c->n = n;
    return 0;
}

void ch_blk_chain_free(ch_blk_chain *chain) {
    if (!chain) return;
    free(chain->rec);
    memset(chain, 0, sizeof *chain);
}
