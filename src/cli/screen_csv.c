/* coinhound screen --csv FILE --column NAME [--keep COL,...] [--out-format
 * csv|json]: a compliance desk's daily file screened row by row.
 *
 * The file is RFC 4180 CSV with a header (intel/csvread.c: quoted fields
 * with commas, quotes and line breaks), optionally starting with a UTF-8
 * BOM (what spreadsheet programs write). Each row's NAME cell is screened
 * with the library's screener; the kept columns are passed through in front
 * of the verdict. Streams: one row read, one row written. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_util.h"
#include "cli/screen_csv.h"
#include "coinhound/jsonw.h"
#include "util/csvread.h"
#include "util/vec.h"

#define MAX_KEEP 64

/* A field as CSV: quoted when it holds a comma, a quote or a line break
 * (quotes doubled). */
static void csv_field(FILE *f, const char *s, bool first) {
    if (!first) fputc(',', f);
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* The current reasons' values of one kind (0 category, 1 entity, 2 source
 * name, 3 source URL), distinct, joined by "; ". */
static void reasons_field(const ch_verdict *v, int what, char *out, size_t cap) {
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; v->kind == CH_VERDICT_OK && i < v->risk.n_current; i++) {
        const ch_attribution *a = v->risk.reasons[i].attr;
        const char *s = what == 0   ? a->category
                        : what == 1 ? a->entity
                        : what == 2 ? a->source_name
                                    : a->source_url;
        if (!*s) continue;
        /* distinct: "; s;" not yet in "; out;" */
        bool seen = false;
        for (const char *p = out; (p = strstr(p, s)) && !seen; p++)
            seen = (p == out || p[-1] == ' ') && (p[strlen(s)] == ';' || p[strlen(s)] == '\0');
        if (seen) continue;
        int k = snprintf(out + len, cap - len, "%s%s", len ? "; " : "", s);
        if (k < 0 || (size_t)k >= cap - len) break; /* the rest does not fit: cut */
        len += (size_t)k;
    }
}

static const char *risk_name(const ch_verdict *v) {
    switch (v->kind) {
    case CH_VERDICT_OK:
        return ch_risk_level_name(v->risk.level);
    case CH_VERDICT_INVALID:
        return "invalid";
    case CH_VERDICT_UNSUPPORTED:
        return "unsupported";
    default:
        return "error";
    }
}

static const char *const OUT_COLUMNS[] = {"address",     "canonical",      "family",   "risk",
                                          "score",       "categories",     "entities", "sources",
                                          "source_urls", "exposure_share", "error"};

/* The verdict's columns (OUT_COLUMNS); first: the address is the row's
 * first field (no column kept before it). */
static void write_csv_row(FILE *f, const ch_verdict *v, const char *address, bool first) {
    char buf[4096], num[64];
    csv_field(f, address, first);
    csv_field(f, v->kind == CH_VERDICT_OK ? v->canonical : "", false);
    csv_field(f, v->kind == CH_VERDICT_OK ? ch_family_name(v->family) : "", false);
    csv_field(f, risk_name(v), false);
    snprintf(num, sizeof num, "%g", v->kind == CH_VERDICT_OK ? v->risk.score : 0.0);
    csv_field(f, num, false);
    for (int what = 0; what < 4; what++) {
        reasons_field(v, what, buf, sizeof buf);
        csv_field(f, buf, false);
    }
    num[0] = '\0';
    if (v->kind == CH_VERDICT_OK && v->have_exposure)
        snprintf(num, sizeof num, "%.6f", v->exposure->flagged_share);
    csv_field(f, num, false);
    csv_field(f, v->kind == CH_VERDICT_OK ? "" : v->error, false);
    fputc('\n', f);
}

/* The index of name in the header (exact, else ignoring case), or -1. */
static int column_of(const csv_reader *r, const char *name) {
    for (int i = 0; i < r->nfields; i++)
        if (!strcmp(r->field[i], name)) return i;
    for (int i = 0; i < r->nfields; i++)
        if (!strcasecmp(r->field[i], name)) return i;
    return -1;
}

/* keep ("a,b") into the header's indexes; -1 naming what is missing. */
static int keep_columns(const csv_reader *r, const char *keep, int *idx, int *n, ch_error *err) {
    *n = 0;
    if (!keep) return 0;
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", keep);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (*n == MAX_KEEP) return ch_err(err, "--keep: at most %d columns", MAX_KEEP);
        int i = column_of(r, t);
        if (i < 0) return ch_err(err, "--keep: the header has no column '%s'", t);
        idx[(*n)++] = i;
    }
    return 0;
}

static void count(screen_csv_counts *c, const ch_verdict *v) {
    c->rows++;
    if (v->kind == CH_VERDICT_INVALID)
        c->invalid++;
    else if (v->kind == CH_VERDICT_UNSUPPORTED)
        c->unsupported++;
    else if (v->kind != CH_VERDICT_OK)
        c->errors++;
    else if (v->risk.level > CH_RISK_NONE) {
        c->flagged++;
        c->by_level[v->risk.level]++;
    } else
        c->clean++;
}

static void write_counts_json(FILE *f, const screen_csv_counts *c) {
    ch_jw w;
    ch_jw_init(&w, f);
    ch_jw_obj_begin(&w);
    ch_jw_key(&w, "counts");
    ch_jw_obj_begin(&w);
    const struct {
        const char *k;
        uint64_t v;
    } kv[] = {{"rows", c->rows},
              {"flagged", c->flagged},
              {"severe", c->by_level[CH_RISK_SEVERE]},
              {"high", c->by_level[CH_RISK_HIGH]},
              {"medium", c->by_level[CH_RISK_MEDIUM]},
              {"low", c->by_level[CH_RISK_LOW]},
              {"clean", c->clean},
              {"invalid", c->invalid},
              {"unsupported", c->unsupported},
              {"errors", c->errors}};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) {
        ch_jw_key(&w, kv[i].k);
        ch_jw_uint(&w, kv[i].v);
    }
    ch_jw_obj_end(&w);
    ch_jw_obj_end(&w);
    ch_jw_newline(&w);
}

/* A UTF-8 BOM at the start of the header's first field is not part of it. */
static void strip_bom(csv_reader *r) {
    if (r->nfields > 0 && !memcmp(r->field[0], "\xEF\xBB\xBF", 3))
        memmove(r->field[0], r->field[0] + 3, strlen(r->field[0] + 3) + 1);
}

/* Rows read and not yet written: each row's address and kept cells as
 * offsets into one text (it moves as it grows), its line, a verdict each. */
typedef struct csv_chunk {
    size_t n, cap; /* rows held; rows a chunk holds (--batch) */
    int nk;        /* kept cells a row */
    long *line;
    size_t *off; /* row i's cells: off[i * (1 + nk)], the address first */
    char *text;
    size_t len, text_cap;
    const char **addr;
    ch_verdict **v; /* v[0] the caller's */
} csv_chunk;

static void chunk_free(csv_chunk *ch, ch_verdict *callers) {
    for (size_t i = 0; ch->v && i < ch->cap; i++)
        if (ch->v[i] != callers) ch_verdict_free(ch->v[i]);
    free(ch->v);
    free(ch->line);
    free(ch->off);
    free(ch->text);
    free(ch->addr);
    memset(ch, 0, sizeof *ch);
}

/* A chunk of cap rows of nk kept cells, v its first verdict; -1 when out of
 * memory (ch left empty). */
static int chunk_init(csv_chunk *ch, size_t cap, ch_verdict *v, int nk) {
    memset(ch, 0, sizeof *ch);
    ch->cap = cap;
    ch->nk = nk;
    ch->line = malloc(cap * sizeof *ch->line);
    ch->off = malloc(cap * (1 + (size_t)nk) * sizeof *ch->off);
    ch->addr = malloc(cap * sizeof *ch->addr);
    ch->v = calloc(cap, sizeof *ch->v);
    if (!ch->line || !ch->off || !ch->addr || !ch->v) goto fail;
    ch->v[0] = v;
    for (size_t i = 1; i < cap; i++)
        if (!(ch->v[i] = ch_verdict_new())) goto fail;
    return 0;
fail:
    chunk_free(ch, v);
    return -1;
}

/* s (NUL included) appended to the chunk's text; its offset, or -1. */
static long chunk_str(csv_chunk *ch, const char *s) {
    size_t n = strlen(s) + 1;
    char *t = ch_grow(ch->text, &ch->text_cap, ch->len + n, 1);
    if (!t) return -1;
    ch->text = t;
    memcpy(t + ch->len, s, n);
    ch->len += n;
    return (long)(ch->len - n);
}

/* The record r's address cell (column col; "" when the row has none: then
 * invalid, never clean) and kept cells held as the chunk's next row. */
static int chunk_add(csv_chunk *ch, const csv_reader *r, int col, const int *kidx) {
    size_t *o = ch->off + ch->n * (1 + (size_t)ch->nk);
    long at = chunk_str(ch, col < r->nfields ? r->field[col] : "");
    if (at < 0) return -1;
    o[0] = (size_t)at;
    for (int i = 0; i < ch->nk; i++) {
        if ((at = chunk_str(ch, kidx[i] < r->nfields ? r->field[kidx[i]] : "")) < 0) return -1;
        o[1 + i] = (size_t)at;
    }
    ch->line[ch->n++] = r->rec_line;
    return 0;
}

/* One row's answer: {"line","kept","verdict"} or the CSV row. */
static void write_row(const csv_chunk *ch, size_t i, bool json, char *const *kname, FILE *out) {
    const size_t *o = ch->off + i * (1 + (size_t)ch->nk);
    const ch_verdict *v = ch->v[i];
    if (json) {
        ch_jw w;
        ch_jw_init(&w, out);
        ch_jw_obj_begin(&w);
        ch_jw_key(&w, "line");
        ch_jw_uint(&w, (uint64_t)ch->line[i]);
        ch_jw_key(&w, "kept");
        ch_jw_obj_begin(&w);
        for (int k = 0; k < ch->nk; k++) {
            ch_jw_key(&w, kname[k]);
            ch_jw_str(&w, ch->text + o[1 + k]);
        }
        ch_jw_obj_end(&w);
        ch_jw_key(&w, "verdict");
        ch_verdict_write_json(v, &w, NULL);
        ch_jw_obj_end(&w);
        ch_jw_newline(&w);
    } else {
        for (int k = 0; k < ch->nk; k++)
            csv_field(out, ch->text + o[1 + k], k == 0);
        write_csv_row(out, v, ch->text + o[0], ch->nk == 0);
    }
}

/* The chunk's rows screened (together, or the one row alone), counted and
 * written in order; the chunk left empty. */
static void flush(csv_chunk *ch, ch_screener *sc, bool json, char *const *kname, FILE *out,
                  screen_csv_counts *c) {
    for (size_t i = 0; i < ch->n; i++)
        ch->addr[i] = ch->text + ch->off[i * (1 + (size_t)ch->nk)];
    if (ch->cap == 1 && ch->n == 1)
        ch_screener_screen(sc, ch->addr[0], ch->v[0]);
    else if (ch->n)
        ch_screener_screen_many(sc, ch->addr, ch->n, ch->v);
    for (size_t i = 0; i < ch->n; i++) {
        count(c, ch->v[i]);
        write_row(ch, i, json, kname, out);
    }
    ch->n = 0;
    ch->len = 0;
}

int screen_csv(ch_screener *sc, ch_verdict *v, const char *path, const char *column,
               const char *keep, bool json, size_t batch, FILE *out, screen_csv_counts *c,
               ch_error *err) {
    if (batch == 0) batch = SCREEN_CSV_BATCH;
    memset(c, 0, sizeof *c);
    FILE *in = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!in) return ch_err(err, "cannot open %s", path);
    csv_reader r;
    csv_init(&r, in, strcmp(path, "-") ? path : "standard input");
    int rc = csv_next(&r, err), col = -1, kidx[MAX_KEEP], nk = 0;
    char *kname[MAX_KEEP];
    memset(kname, 0, sizeof kname);
    if (rc == 0) rc = ch_err(err, "%s: empty: no header", path);
    if (rc == 1) {
        strip_bom(&r);
        if ((col = column_of(&r, column)) < 0) {
            char names[1024] = "";
            for (int i = 0; i < r.nfields && strlen(names) < 900; i++)
                snprintf(names + strlen(names), sizeof names - strlen(names), "%s'%.60s'",
                         i ? ", " : "", r.field[i]);
            rc = ch_err(err, "%s: the header has no column '%s' (it has %s)", path, column, names);
        } else if (keep_columns(&r, keep, kidx, &nk, err) != 0) {
            rc = -1;
        }
    }
    for (int i = 0; rc == 1 && i < nk; i++) /* the header's names outlive its record */
        if (!(kname[i] = strdup(r.field[kidx[i]]))) rc = ch_err(err, "out of memory");
    if (rc == 1 && !json) {
        for (int i = 0; i < nk; i++)
            csv_field(out, kname[i], i == 0);
        for (size_t i = 0; i < sizeof OUT_COLUMNS / sizeof OUT_COLUMNS[0]; i++)
            csv_field(out, OUT_COLUMNS[i], nk == 0 && i == 0);
        fputc('\n', out);
    }
    csv_chunk ch = {0};
    if (rc == 1 && chunk_init(&ch, batch, v, nk) != 0) rc = ch_err(err, "out of memory");
    while (rc == 1 && (rc = csv_next(&r, err)) == 1) {
        if (r.nfields == 1 && !r.field[0][0]) continue; /* a blank line */
        if (chunk_add(&ch, &r, col, kidx) != 0) {
            rc = ch_err(err, "out of memory");
            break;
        }
        if (ch.n == ch.cap) flush(&ch, sc, json, kname, out, c);
    }
    if (ch.v) { /* the rows read before the end, or before an error */
        flush(&ch, sc, json, kname, out, c);
        chunk_free(&ch, v);
    }
    if (rc == 0 && json) write_counts_json(out, c);
    for (int i = 0; i < nk; i++)
        free(kname[i]);
    csv_free(&r);
    if (in != stdin) fclose(in);
    return rc < 0 ? -1 : 0;
}
