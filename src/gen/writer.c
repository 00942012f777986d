/* Writing blocks as Bitcoin Core stores them: blocks/blkNNNNN.dat files of
 * records (4 magic bytes fa bf b5 da: regtest, whose proof of work the
 * blocks carry; 4-byte little-endian size; the block),
 * a new file once the next record would pass the size limit, and since Core
 * 28 an optional xor.dat key that obfuscates every byte of the blk files
 * with key[offset_in_file % 8].
 *
 * Shuffling imitates initial sync, where blocks are downloaded in parallel
 * and stored in arrival order: a window of pending blocks, of which a random
 * one is written whenever the window is full. */
#include "gen_internal.h"

#include "coinhound/btc.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STDIO_BUF (1u << 20)

static char *join(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* The files a previous run may have left: they would be read as part of the
 * new chain (blk files) or contradict it (side files). */
static bool ours(const char *name) {
    unsigned no;
    char tail[8];
    if (sscanf(name, "blk%5u%7s", &no, tail) == 2 && strlen(name) == 12 &&
        strcmp(tail, ".dat") == 0)
        return true;
    return !strcmp(name, "xor.dat") || !strcmp(name, "labels.csv") || !strcmp(name, "theft.json") ||
           !strcmp(name, "gen.params");
}

static int prepare_dir(const char *dir, ch_error *err) {
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return ch_err(err, "cannot create %s: %s", dir, strerror(errno));
    DIR *d = opendir(dir);
    if (!d) return ch_err(err, "cannot open %s: %s", dir, strerror(errno));
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d))) {
        if (!ours(e->d_name)) continue;
        char *p = join(dir, e->d_name);
        if (!p || unlink(p) != 0)
            rc = ch_err(err, "cannot remove old %s/%s: %s", dir, e->d_name, strerror(errno));
        free(p);
    }
    closedir(d);
    return rc;
}

static int write_xor_dat(gen_writer *w, ch_error *err) {
    char *p = join(w->dir, "xor.dat");
    FILE *f = p ? fopen(p, "wb") : NULL;
    int rc = 0;
    if (!f || fwrite(w->key, 1, 8, f) != 8) rc = ch_err(err, "cannot write %s", p ? p : "xor.dat");
    if (f && fclose(f) != 0 && rc == 0) rc = ch_err(err, "cannot write %s", p);
    free(p);
    return rc;
}

int gen_writer_open(gen_writer *w, const ch_gen_opts *o, gen_rng *layout, ch_error *err) {
    memset(w, 0, sizeof *w);
    w->dir = strdup(o->out_dir);
    w->max_size = o->max_file_size;
    w->rng = layout;
    w->window = o->shuffle ? (o->shuffle_window ? o->shuffle_window : 1) : 1;
    w->pend = calloc(w->window, sizeof *w->pend);
    if (!w->dir || !w->pend) return ch_err(err, "out of memory");
    if (prepare_dir(w->dir, err) != 0) return -1;
    if (o->xor_enabled) {
        w->xor_on = true;
        if (o->xor_key_set)
            memcpy(w->key, o->xor_key, 8);
        else
            gen_rng_bytes(layout, w->key, 8);
        if (write_xor_dat(w, err) != 0) return -1;
    }
    return 0;
}

/* Extending a folder (ch_gen_opts.extend): the blocks go after the last
 * record of the highest-numbered blk file, obfuscated with the folder's
 * xor.dat key when it has one, as Core appends a block it receives. */
static int open_append(gen_writer *w, ch_error *err) {
    char *p = join(w->dir, "xor.dat");
    FILE *f = p ? fopen(p, "rb") : NULL;
    free(p);
    if (f) {
        w->xor_on = fread(w->key, 1, 8, f) == 8;
        fclose(f);
    }
    DIR *d = opendir(w->dir);
    if (!d) return ch_err(err, "cannot open %s: %s", w->dir, strerror(errno));
    struct dirent *e;
    bool any = false;
    unsigned last = 0, no;
    char tail[8];
    while ((e = readdir(d)))
        if (sscanf(e->d_name, "blk%5u%7s", &no, tail) == 2 && strlen(e->d_name) == 12 &&
            !strcmp(tail, ".dat") && (!any || no > last))
            last = no, any = true;
    closedir(d);
    if (!any) return ch_err(err, "%s: no blk files to extend", w->dir);
    char name[32];
    snprintf(name, sizeof name, "blk%05u.dat", last);
    p = join(w->dir, name);
    w->f = p ? fopen(p, "ab") : NULL;
    free(p);
    if (!w->f) return ch_err(err, "cannot open %s/%s: %s", w->dir, name, strerror(errno));
    long end = fseek(w->f, 0, SEEK_END) == 0 ? ftell(w->f) : -1;
    if (end < 0) return ch_err(err, "%s/%s: %s", w->dir, name, strerror(errno));
    w->file_no = last;
    w->off = (uint64_t)end;
    w->files = 1;
    return 0;
}

int gen_writer_open_append(gen_writer *w, const ch_gen_opts *o, ch_error *err) {
    memset(w, 0, sizeof *w);
    w->dir = strdup(o->out_dir);
    w->max_size = o->max_file_size;
    w->window = 1;
    w->pend = calloc(1, sizeof *w->pend);
    if (!w->dir || !w->pend) return ch_err(err, "out of memory");
    return open_append(w, err);
}

static int close_file(gen_writer *w, ch_error *err) {
    if (!w->f) return 0;
    int rc = fclose(w->f);
    w->f = NULL;
    free(w->fbuf);
    w->fbuf = NULL;
    if (rc != 0) return ch_err(err, "cannot write blk%05u.dat: %s", w->file_no, strerror(errno));
    return 0;
}

static int open_file(gen_writer *w, uint32_t no, ch_error *err) {
    char name[32];
    snprintf(name, sizeof name, "blk%05u.dat", no);
    char *p = join(w->dir, name);
    w->f = p ? fopen(p, "wb") : NULL;
    if (!w->f) {
        ch_err(err, "cannot create %s/%s: %s", w->dir, name, strerror(errno));
        free(p);
        return -1;
    }
    free(p);
    w->fbuf = malloc(STDIO_BUF);
    if (w->fbuf) setvbuf(w->f, w->fbuf, _IOFBF, STDIO_BUF);
    w->file_no = no;
    w->off = 0;
    w->files++;
    return 0;
}

/* Write one framed record; rec holds magic + size + block and is
 * obfuscated in place. */
static int write_record(gen_writer *w, uint8_t *rec, size_t n, ch_error *err) {
    if (w->f && w->off > 0 && w->off + n > w->max_size) {
        if (close_file(w, err) != 0) return -1;
        if (open_file(w, w->file_no + 1, err) != 0) return -1;
    }
    if (!w->f && open_file(w, 0, err) != 0) return -1;
    if (w->xor_on)
        for (size_t i = 0; i < n; i++)
            rec[i] ^= w->key[(w->off + i) % 8];
    if (fwrite(rec, 1, n, w->f) != n)
        return ch_err(err, "cannot write blk%05u.dat: %s", w->file_no, strerror(errno));
    w->off += n;
    w->bytes += n;
    return 0;
}

static void frame(gen_buf *dst, const uint8_t *block, size_t len) {
    dst->len = 0;
    gen_put_u32(dst, CH_BTC_REGTEST_MAGIC);
    gen_put_u32(dst, (uint32_t)len);
    gen_put(dst, block, len);
}

int gen_writer_block(gen_writer *w, const uint8_t *block, size_t len, bool shuffle, ch_error *err) {
    if (w->skip) return 0;
    if (!shuffle || w->window <= 1) {
        gen_buf tmp = {0};
        frame(&tmp, block, len);
        int rc = write_record(w, tmp.p, tmp.len, err);
        gen_buf_free(&tmp);
        return rc;
    }
    if (w->n_pend < w->window) {
        frame(&w->pend[w->n_pend++], block, len);
        return 0;
    }
    /* Window full: a random waiting block arrives, the new one takes its
     * place. */
    uint32_t i = (uint32_t)gen_rng_below(w->rng, w->n_pend);
    if (write_record(w, w->pend[i].p, w->pend[i].len, err) != 0) return -1;
    frame(&w->pend[i], block, len);
    return 0;
}

int gen_writer_finish(gen_writer *w, ch_error *err) {
    while (w->n_pend > 0) {
        uint32_t i = (uint32_t)gen_rng_below(w->rng, w->n_pend);
        if (write_record(w, w->pend[i].p, w->pend[i].len, err) != 0) return -1;
        gen_buf tmp = w->pend[i];
        w->pend[i] = w->pend[--w->n_pend];
        w->pend[w->n_pend] = tmp;
    }
    return close_file(w, err);
}

void gen_writer_free(gen_writer *w) {
    if (w->f) fclose(w->f);
    free(w->fbuf);
    for (uint32_t i = 0; i < w->window && w->pend; i++)
        gen_buf_free(&w->pend[i]);
    free(w->pend);
    free(w->dir);
    memset(w, 0, sizeof *w);
}
