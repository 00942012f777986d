/* Bitcoin merkle trees: SHA256d of each pair of 32-byte nodes, the last node
 * of an odd row paired with itself. */
#include <string.h>

#include "chains/btc/btc_internal.h"

static void hash_pair(const ch_hash256 *left, const ch_hash256 *right, ch_hash256 *out) {
    uint8_t buf[64];
    memcpy(buf, left->b, 32);
    memcpy(buf + 32, right->b, 32);
    ch_sha256d(buf, sizeof buf, out);
}

void ch_btc_merkle_root(const ch_hash256 *hashes, size_t n, ch_hash256 *scratch, ch_hash256 *root) {
    if (n == 0) {
        memset(root, 0, sizeof *root);
        return;
    }
    memcpy(scratch, hashes, n * sizeof *hashes);
    while (n > 1) {
        size_t half = 0;
        for (size_t i = 0; i < n; i += 2) {
            const ch_hash256 *right = (i + 1 < n) ? &scratch[i + 1] : &scratch[i];
            hash_pair(&scratch[i], right, &scratch[half++]);
        }
        n = half;
    }
    *root = scratch[0];
}

void btc_merkle_init(btc_merkle_acc *m) {
    m->top = 0;
    m->leaves = 0;
    m->mutated = false;
}

/* Replace the two top entries (equal levels, both real nodes) by their parent. */
static void combine_top(btc_merkle_acc *m) {
    int t = m->top - 1;
    if (!memcmp(m->node[t - 1].b, m->node[t].b, 32)) m->mutated = true;
    hash_pair(&m->node[t - 1], &m->node[t], &m->node[t - 1]);
    m->level[t - 1]++;
    m->top--;
}

void btc_merkle_push(btc_merkle_acc *m, const ch_hash256 *leaf) {
    m->node[m->top] = *leaf;
    m->level[m->top] = 0;
    m->top++;
    m->leaves++;
    while (m->top >= 2 && m->level[m->top - 1] == m->level[m->top - 2])
        combine_top(m);
}

void btc_merkle_finish(btc_merkle_acc *m, ch_hash256 *root) {
    if (m->top == 0) {
        memset(root, 0, sizeof *root);
        return;
    }
    /* What is left is the right edge of the tree: a lone node below a taller
     * subtree stands for an odd row, so it is paired with itself until it
     * reaches its left neighbour's height. */
    while (m->top > 1) {
        int t = m->top - 1;
        if (m->level[t] < m->level[t - 1]) {
            hash_pair(&m->node[t], &m->node[t], &m->node[t]);
            m->level[t]++;
        } else {
            combine_top(m);
        }
    }
    *root = m->node[0];
}
