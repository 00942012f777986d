/* DIR/<chain>/clusters.col: writing it atomically, and reading it back through
 * a read-only mapping (layout in cluster.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cluster/cluster_internal.h"
#include "coinhound/lock.h"
#include "util/path.h"

#define CL_TMP_SUFFIX ".tmp"

int cl_build_begin(const char *dbdir, const char *chain, bool wait, ch_writer_lock **lock,
                   ch_error *err) {
    *lock = NULL;
    char dir[4096], tmp[4200];
    if (ch_path_join(dir, sizeof dir, dbdir, chain) != 0)
        return ch_err(err, "%.64s...: path too long", dbdir);
    struct stat st;
    if (stat(dir, &st) != 0) return 0;
    if (ch_writer_lock_take(dir, wait, lock, err) != 0) return -1;
    /* the lock makes any temporary file a dead build's */
    if (snprintf(tmp, sizeof tmp, "%s/%s" CL_TMP_SUFFIX, dir, CH_CLUSTER_FILE) < (int)sizeof tmp &&
        unlink(tmp) != 0 && errno != ENOENT) {
        ch_err(err, "cluster: cannot remove %s: %s", tmp, strerror(errno));
        ch_writer_lock_release(*lock);
        *lock = NULL;
        return -1;
    }
    return 0;
}

uint64_t cl_checksum(uint64_t h, const void *data, size_t len) {
    const uint8_t *p = data;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 0x100000001b3ULL;
    }
    if (i < len) {
        uint64_t w = 0;
        memcpy(&w, p + i, len - i);
        h = (h ^ w) * 0x100000001b3ULL;
    }
    return h;
}

static void path_of(char *buf, size_t n, const char *dbdir, const char *chain, const char *name) {
    snprintf(buf, n, "%s/%s/%s", dbdir, chain, name);
}

static int write_all(int fd, const void *data, size_t len) {
    const uint8_t *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len > (1u << 30) ? (1u << 30) : len);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

static void header_from_meta(cl_header *h, const ch_cluster_meta *m) {
    memset(h, 0, sizeof *h);
    memcpy(h->magic, CL_MAGIC, 8);
    h->version = CL_VERSION;
    h->flags = m->flags;
    h->addresses = m->addresses;
    h->txs = m->txs;
    h->inputs = m->inputs;
    h->clusters = m->clusters;
    h->largest_size = m->largest_size;
    memcpy(h->coinjoins, m->coinjoins, sizeof h->coinjoins);
    h->merged_inputs = m->merged_inputs;
    h->change_links = m->change_links;
    h->reserved[0] = m->deposit_addrs;
    h->reserved[1] = m->customers;
}

static void meta_from_header(ch_cluster_meta *m, const cl_header *h) {
    memset(m, 0, sizeof *m);
    m->flags = h->flags;
    m->addresses = h->addresses;
    m->txs = h->txs;
    m->inputs = h->inputs;
    m->clusters = h->clusters;
    m->largest_size = h->largest_size;
    memcpy(m->coinjoins, h->coinjoins, sizeof m->coinjoins);
    m->merged_inputs = h->merged_inputs;
    m->change_links = h->change_links;
    m->deposit_addrs = h->reserved[0];
    m->customers = h->reserved[1];
}

int cl_write_file(const char *dbdir, const ch_store *s, const uint32_t *cid,
                  const ch_cluster_meta *meta, ch_error *err) {
    return cl_write_file_chain(dbdir, "btc", s, cid, meta, err);
}

int cl_write_file_chain(const char *dbdir, const char *chain, const ch_store *s,
                        const uint32_t *cid, const ch_cluster_meta *meta, ch_error *err) {
    size_t n = (size_t)meta->addresses + 1, bytes = n * sizeof(uint32_t);
    uint32_t *ids = calloc(n, sizeof *ids), *size = calloc(n, sizeof *size),
             *next = calloc(n, sizeof *next), *tail = malloc(bytes);
    if (!ids || !size || !next || !tail) {
        free(ids);
        free(size);
        free(next);
        free(tail);
        return ch_err(err, "cluster: out of memory writing the cluster file");
    }
    /* Slots upward: a cluster's name is its smallest slot, met first, so its
     * id is known before any other member; members are chained in order. */
    uint64_t narrow = 0;
    for (size_t i = 1; i < n; i++) {
        uint32_t c = cid[i];
        if (!(ch_store_addr_id_at(s, i - 1) & CH_ADDR_ID_WIDE)) narrow++;
        ids[i] = c;
        size[c]++;
        if (c != i) next[tail[c]] = (uint32_t)i;
        tail[c] = (uint32_t)i;
    }
    free(tail);
    cl_header h;
    header_from_meta(&h, meta);
    h.narrow = narrow;
    h.largest = meta->largest ? (uint32_t)(ch_store_addr_index(s, meta->largest) + 1) : 0;
    ch_store_counts cnt;
    ch_store_get_counts(s, &cnt);
    h.built_blocks = cnt.blocks;
    if (cnt.blocks) memcpy(h.built_tip, ch_store_block(s, (uint32_t)(cnt.blocks - 1))->hash, 32);
    uint64_t sum = cl_checksum(CL_SUM_INIT, ids, bytes);
    sum = cl_checksum(sum, size, bytes);
    h.body_sum = cl_checksum(sum, next, bytes);
    h.header_sum = cl_checksum(CL_SUM_INIT, &h, offsetof(cl_header, header_sum));

    char path[4200], tmp[4300], dir[4200];
    path_of(path, sizeof path, dbdir, chain, CH_CLUSTER_FILE);
    /* one name, not one per process: the writer lock keeps builds apart, and
     * the next build removes what a killed one left (cl_build_begin) */
    snprintf(tmp, sizeof tmp, "%s" CL_TMP_SUFFIX, path);
    snprintf(dir, sizeof dir, "%s/%s", dbdir, chain);
    int rc = -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        ch_err(err, "cluster: cannot create %s: %s", tmp, strerror(errno));
        goto done;
    }
    if (write_all(fd, &h, sizeof h) != 0 || write_all(fd, ids, bytes) != 0 ||
        write_all(fd, size, bytes) != 0 || write_all(fd, next, bytes) != 0 || fsync(fd) != 0) {
        ch_err(err, "cluster: cannot write %s: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        goto done;
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        ch_err(err, "cluster: cannot rename %s to %s: %s", tmp, path, strerror(errno));
        unlink(tmp);
        goto done;
    }
    /* make the rename itself durable */
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    rc = 0;
done:
    free(ids);
    free(size);
    free(next);
    return rc;
}

/* ---- reading ---- */
struct ch_clusters {
    void *map;
    size_t len;
    ch_cluster_meta meta;
    const uint32_t *cid, *size, *next;
    uint32_t n;      /* slots 0..n-1 are in the file */
    uint32_t narrow; /* slots 1..narrow hold ids 1..narrow; then CH_ADDR_ID_WIDE | 1.. */
    uint64_t built_blocks;
    uint8_t built_tip[32];
    char path[4200], again[4300]; /* for messages: the file, how to rebuild it */
};

/* The file's slot of address id, 0 for none or newer than the file. */
static uint32_t slot_of(const ch_clusters *c, ch_addr_id id) {
    if (id & CH_ADDR_ID_WIDE) {
        uint64_t k = id & ~CH_ADDR_ID_WIDE;
        return k >= 1 && k < c->n - c->narrow ? c->narrow + (uint32_t)k : 0;
    }
    return id <= c->narrow ? (uint32_t)id : 0;
}

/* The address id of a slot (0 for 0): the inverse of slot_of. */
static ch_addr_id id_of(const ch_clusters *c, uint32_t slot) {
    if (slot <= c->narrow) return slot;
    return (slot - c->narrow) | CH_ADDR_ID_WIDE;
}

int ch_clusters_open(const char *dbdir, ch_clusters **out, ch_error *err) {
    return ch_clusters_open_chain(dbdir, "btc", out, err);
}

int ch_clusters_open_chain(const char *dbdir, const char *chain, ch_clusters **out, ch_error *err) {
    char path[4200], again[4300];
    path_of(path, sizeof path, dbdir, chain, CH_CLUSTER_FILE);
    /* how to make one: the command for this chain */
    if (strcmp(chain, "btc"))
        snprintf(again, sizeof again, "coinhound cluster build --chain %s --db %s", chain, dbdir);
    else
        snprintf(again, sizeof again, "coinhound cluster build --db %s", dbdir);
    *out = NULL;
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        if (errno == ENOENT) return ch_err(err, "%s: no cluster file; run '%s'", path, again);
        return ch_err(err, "%s: %s", path, strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return ch_err(err, "%s: %s", path, strerror(errno));
    }
    size_t len = (size_t)st.st_size;
    if (len < sizeof(cl_header)) {
        close(fd);
        return ch_err(err, "%s: truncated (%zu bytes, shorter than its header); rebuild it", path,
                      len);
    }
    void *map = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (map == MAP_FAILED) return ch_err(err, "%s: cannot map: %s", path, strerror(errno));
    cl_header h;
    memcpy(&h, map, sizeof h);
    const char *why = NULL;
    char whybuf[160];
    if (memcmp(h.magic, CL_MAGIC, 8) != 0)
        why = "not a coinhound cluster file (bad magic)";
    else if (h.version != CL_VERSION) {
        snprintf(whybuf, sizeof whybuf, "format version %u, this build reads %u", h.version,
                 CL_VERSION);
        why = whybuf;
    } else if (cl_checksum(CL_SUM_INIT, &h, offsetof(cl_header, header_sum)) != h.header_sum)
        why = "corrupt header (checksum mismatch)";
    else if (h.addresses >= UINT32_MAX || h.narrow > h.addresses)
        why = "corrupt header (address count out of range)";
    size_t bytes = why ? 0 : ((size_t)h.addresses + 1) * sizeof(uint32_t);
    if (!why && len != sizeof h + 3 * bytes) {
        snprintf(whybuf, sizeof whybuf, "truncated or overlong (%zu bytes, header says %zu)", len,
                 sizeof h + 3 * bytes);
        why = whybuf;
    }
    if (!why) {
        /* section by section, as written (each section's tail is padded) */
        const uint8_t *body = (const uint8_t *)map + sizeof h;
        uint64_t sum = CL_SUM_INIT;
        for (int i = 0; i < 3; i++)
            sum = cl_checksum(sum, body + (size_t)i * bytes, bytes);
        if (sum != h.body_sum) why = "corrupt data (checksum mismatch)";
    }
    if (why) {
        munmap(map, len);
        return ch_err(err, "%s: %s; rebuild it with '%s'", path, why, again);
    }
    ch_clusters *c = calloc(1, sizeof *c);
    if (!c) {
        munmap(map, len);
        return ch_err(err, "cluster: out of memory");
    }
    c->map = map;
    c->len = len;
    meta_from_header(&c->meta, &h);
    c->n = (uint32_t)(h.addresses + 1);
    c->narrow = (uint32_t)h.narrow;
    c->built_blocks = h.built_blocks;
    memcpy(c->built_tip, h.built_tip, 32);
    snprintf(c->path, sizeof c->path, "%s", path);
    snprintf(c->again, sizeof c->again, "%s", again);
    c->cid = (const uint32_t *)((const uint8_t *)map + sizeof h);
    c->size = c->cid + c->n;
    c->next = c->size + c->n;
    c->meta.largest = h.largest < c->n ? id_of(c, h.largest) : 0;
    *out = c;
    return 0;
}

int ch_clusters_check(const ch_clusters *c, const ch_store *s, ch_error *err) {
    ch_store_counts cnt;
    ch_store_get_counts(s, &cnt);
    /* the store's count of 20-byte addresses: the dense index of the first wide one */
    uint64_t n20 = ch_store_addr_index(s, CH_ADDR_ID_WIDE | 1);
    const char *why = NULL;
    if (c->built_blocks > cnt.blocks)
        why = "built from more blocks than the store holds now (a reorg cut it back)";
    else if (c->built_blocks &&
             memcmp(ch_store_block(s, (uint32_t)(c->built_blocks - 1))->hash, c->built_tip, 32))
        why = "built from blocks a reorg has since replaced";
    else if (c->narrow > n20 || c->n - 1 - c->narrow > cnt.addresses - n20)
        why = "it names more addresses than the store holds";
    if (!why) return 0;
    return ch_err(err, "%s: stale: %s (built at height %llu); rebuild it with '%s'", c->path, why,
                  (unsigned long long)(c->built_blocks ? c->built_blocks - 1 : 0), c->again);
}

int ch_clusters_open_for(const ch_store *s, const char *dbdir, const char *chain, ch_clusters **out,
                         ch_error *err) {
    if (ch_clusters_open_chain(dbdir, chain, out, err) != 0) return -1;
    if (ch_clusters_check(*out, s, err) == 0) return 0;
    ch_clusters_close(*out);
    *out = NULL;
    return -1;
}

void ch_clusters_close(ch_clusters *c) {
    if (!c) return;
    munmap(c->map, c->len);
    free(c);
}

const ch_cluster_meta *ch_clusters_meta(const ch_clusters *c) {
    return &c->meta;
}

/* A slot read from the file: past its slots (a file whose checksums were
 * forged, not merely damaged) reads as none. */
static uint32_t file_slot(const ch_clusters *c, uint32_t v) {
    return v < c->n ? v : 0;
}

ch_addr_id ch_cluster_of(const ch_clusters *c, ch_addr_id addr) {
    uint32_t slot = slot_of(c, addr);
    return slot ? id_of(c, file_slot(c, c->cid[slot])) : addr;
}

uint32_t ch_cluster_size(const ch_clusters *c, ch_addr_id addr) {
    if (addr == 0) return 0;
    uint32_t slot = slot_of(c, addr);
    return slot ? c->size[file_slot(c, c->cid[slot])] : 1;
}

uint32_t cl_slot_of(const ch_clusters *c, ch_addr_id m) {
    return slot_of(c, m);
}

ch_addr_id cl_next_member(const ch_clusters *c, ch_addr_id m) {
    uint32_t slot = slot_of(c, m);
    return slot ? id_of(c, file_slot(c, c->next[slot])) : 0;
}

size_t ch_cluster_members(const ch_clusters *c, ch_addr_id addr, ch_addr_id *out, size_t max) {
    if (addr == 0 || max == 0) return 0;
    size_t k = 0;
    for (ch_addr_id m = ch_cluster_of(c, addr); m != 0 && k < max; m = cl_next_member(c, m))
        out[k++] = m;
    return k;
}
