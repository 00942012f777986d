/* OFAC's sdn.csv: no header, one row per SDN entry:
 *   ent_num, SDN_Name, SDN_Type, Program, Title, Call_Sign, Vess_type,
 *   Tonnage, GRT, Vess_flag, Vess_owner, Remarks
 * ("-0-" for an empty field). Addresses are inside Remarks:
 *   "... Digital Currency Address - ETH 0x...; alt. Digital Currency
 *   Address - ETH 0x...; Secondary sanctions risk: ... ."
 * The file carries no date: the import's as-of date is the list's date.
 *
 * What OFAC really writes, and how it is read:
 *   - a remark ends with a full stop, which may follow an address directly
 *     ("... XBT 17a5bpKvEp1j1Trs4qTbcNZrby53JbaS9C."): the stop is not part
 *     of the address;
 *   - Remarks are cut at 1,000 characters, so the last address of a long
 *     remark can be a fragment ("1Gq", "3", or "Digital Currency Address -
 *     XBT " with nothing after it). OFAC writes the rest of such remarks in
 *     sdn_comments.csv (ent_num, the continuation): when it is read in the
 *     same import (named, or lying beside sdn.csv) remark and continuation
 *     are joined and nothing is lost. Without it a fragment is skipped with a
 *     warning naming the line and the entity, counted in `cut`, never stored;
 *   - SDN_Name of an individual is "LAST, First"; sdn.xml writes "First
 *     LAST". The CSV name is turned around so that both read alike (the
 *     store keys OFAC listings by ent_num, the same as sdn.xml's uid). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "util/csvread.h"
#include "intel/ofac_common.h"
#include "util/vec.h"

enum {
    COL_NUM = 0,
    COL_NAME = 1,
    COL_TYPE = 2,
    COL_PROGRAM = 3,
    COL_REMARKS = 11,
    NCOLS = 12,
    REMARK_LIMIT = 1000 /* OFAC's cut: a remark this long may go on in sdn_comments.csv */
};

static const char *value(const char *s) {
    while (isspace((unsigned char)*s))
        s++;
    return !strncmp(s, "-0-", 3) ? "" : s;
}

/* A copy of s without leading and trailing blanks. */
static void trimmed(char *dst, size_t cap, const char *s) {
    while (isspace((unsigned char)*s))
        s++;
    intel_copy(dst, cap, s);
    size_t n = strlen(dst);
    while (n && isspace((unsigned char)dst[n - 1]))
        dst[--n] = '\0';
}

/* ---- sdn_comments.csv ---- */

bool ofac_is_comments_name(const char *path) {
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    return !strncasecmp(b, "sdn_comments", 12) && strchr(b, '.') &&
           !strcasecmp(strrchr(b, '.'), ".csv");
}

void ofac_comments_free(ch_imp *im) {
    for (size_t i = 0; i < im->ncomments; i++)
        free(im->comments[i].text);
    free(im->comments);
    im->comments = NULL;
    im->ncomments = im->capcomments = 0;
}

static ofac_comment *comment_of(ch_imp *im, const char *ent_num) {
    for (size_t i = 0; i < im->ncomments; i++)
        if (!strcmp(im->comments[i].ent_num, ent_num)) return &im->comments[i];
    return NULL;
}

/* Append text to an entry's continuation (a long one may take several
 * rows: they are joined in order). */
static int add_comment(ch_imp *im, const char *num, const char *text, size_t len, ch_error *err) {
    ofac_comment *c = comment_of(im, num);
    if (!c) {
        ofac_comment *nv = ch_grow(im->comments, &im->capcomments, im->ncomments + 1, sizeof *nv);
        if (!nv) return ch_err(err, "out of memory");
        im->comments = nv;
        c = &im->comments[im->ncomments++];
        intel_copy(c->ent_num, sizeof c->ent_num, num);
        c->text = NULL;
    }
    size_t have = c->text ? strlen(c->text) : 0;
    char *t = realloc(c->text, have + len + 1); /* exact: a string, joined once per row */
    if (!t) return ch_err(err, "out of memory");
    memcpy(t + have, text, len);
    t[have + len] = '\0';
    c->text = t;
    return 0;
}

/* sdn_comments.csv: one line per row, `ent_num,"the rest of the remark"`.
 * Read line by line rather than as strict CSV: the continuation is one
 * field, and OFAC's text may hold quotes it does not double (a.k.a.
 * "nickname"), which a strict reader would refuse. The field's enclosing
 * quotes are taken off and doubled quotes read as one. A line that does not
 * start with an ent_num is an error naming it. */
int import_ofac_comments(ch_imp *im, FILE *f, const char *name, ch_error *err) {
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long ln = 0;
    int rc = 0;
    while (rc == 0 && (n = getline(&line, &cap, f)) >= 0) {
        ln++;
        if (memchr(line, '\0', (size_t)n)) {
            rc = ch_err(err, "%s: line %ld: NUL byte (not a text file)", name, ln);
            break;
        }
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == 0x1a ||
                     line[n - 1] == ' '))
            line[--n] = '\0';
        const char *p = line;
        while (*p == ' ' || *p == 0x1a)
            p++;
        if (!*p) continue; /* blank line, DOS end-of-file byte */
        char num[24];
        size_t nd = strspn(p, "0123456789");
        if (!nd || nd >= sizeof num || p[nd] != ',') {
            rc = ch_err(err, "%s: line %ld: not an sdn_comments.csv row (ent_num,\"remarks\")",
                        name, ln);
            break;
        }
        memcpy(num, p, nd);
        num[nd] = '\0';
        const char *t = p + nd + 1;
        size_t tl = strlen(t);
        if (tl >= 2 && t[0] == '"' && t[tl - 1] == '"') {
            t++;
            tl -= 2;
        }
        char *text = malloc(tl + 1);
        if (!text) {
            rc = ch_err(err, "out of memory");
            break;
        }
        size_t w = 0;
        for (size_t i = 0; i < tl; i++) {
            text[w++] = t[i];
            if (t[i] == '"' && i + 1 < tl && t[i + 1] == '"') i++;
        }
        rc = add_comment(im, num, text, w, err);
        free(text);
    }
    free(line);
    if (rc == 0 && ferror(f)) rc = ch_err(err, "%s: read error", name);
    if (rc < 0) return -1;
    intel_copy(im->comments_file, sizeof im->comments_file, name);
    return 0;
}

int ofac_comments_beside(ch_imp *im, const char *sdn_path, ch_error *err) {
    if (im->comments_file[0]) return 0;
    static const char *const NAMES[] = {"sdn_comments.csv", "SDN_COMMENTS.CSV"};
    const char *slash = strrchr(sdn_path, '/');
    int dirlen = slash ? (int)(slash - sdn_path + 1) : 0;
    for (size_t i = 0; i < sizeof NAMES / sizeof NAMES[0]; i++) {
        char p[4096];
        snprintf(p, sizeof p, "%.*s%s", dirlen, sdn_path, NAMES[i]);
        struct stat st;
        if (stat(p, &st) != 0 || !S_ISREG(st.st_mode)) continue;
        FILE *f = fopen(p, "rb");
        if (!f) return ch_err(err, "cannot open %s beside %s", p, sdn_path);
        int r = import_ofac_comments(im, f, p, err);
        fclose(f);
        return r;
    }
    return 0;
}

/* ---- sdn.csv ---- */

/* "SEMENOV, Roman" -> "Roman SEMENOV" for an individual (as sdn.xml names
 * it); any other name as written. */
static void entity_name(const char *name, const char *type, char *out, size_t cap) {
    const char *comma = strstr(name, ", ");
    if (strcasecmp(type, "individual") != 0 || !comma || strstr(comma + 2, ", ")) {
        intel_copy(out, cap, name);
        return;
    }
    snprintf(out, cap, "%s %.*s", comma + 2, (int)(comma - name), name);
}

/* Does the remark end inside the words "Digital Currency Address"? Then an
 * address was cut away whole with its prefix ("...; alt. Digital Cur"). */
static bool ends_in_prefix(const char *rem) {
    const char *semi = strrchr(rem, ';');
    const char *tail = semi ? semi + 1 : rem;
    while (*tail == ' ')
        tail++;
    if (!strncmp(tail, "alt. ", 5)) tail += 5;
    size_t n = strlen(tail);
    return n >= 3 && n < strlen(OFAC_PREFIX) && !strncmp(OFAC_PREFIX, tail, n);
}

typedef struct entry_ctx {
    ch_imp *im;
    ofac_rows *rows;
    const char *name, *entity, *uid, *note;
    long line;
} entry_ctx;

static void warn_cut(const entry_ctx *e, const char *what) {
    e->im->st->cut++;
    imp_warn(e->im,
             "%s: line %ld: entity '%s' (SDN uid %s): its remark is cut at %d characters and "
             "leaves %s: skipped, not stored (read sdn_comments.csv with sdn.csv to recover it)",
             e->name, e->line, e->entity, e->uid, REMARK_LIMIT, what);
}

/* Every address in one (joined) remark. */
static int read_remark(const entry_ctx *e, const char *rem, ch_error *err) {
    for (const char *p = rem; (p = strstr(p, OFAC_PREFIX)) != NULL;) {
        p += strlen(OFAC_PREFIX);
        char asset[16] = "", addr[160] = "";
        size_t n = strcspn(p, " ;.");
        size_t an = n < sizeof asset ? n : sizeof asset - 1;
        memcpy(asset, p, an);
        asset[an] = '\0';
        p += n;
        while (*p == ' ')
            p++;
        n = strcspn(p, " ;,");
        size_t dn = n < sizeof addr ? n : sizeof addr - 1;
        memcpy(addr, p, dn);
        addr[dn] = '\0';
        p += n;
        /* the remark's closing full stop is not part of the address */
        bool stopped = false;
        while (dn && addr[dn - 1] == '.') {
            addr[--dn] = '\0';
            stopped = true;
        }
        /* At the very end of the remark, with no stop after it: OFAC's cut
         * may have fallen inside it. Only a whole, valid address is kept. */
        const char *rest = p;
        while (isspace((unsigned char)*rest))
            rest++;
        bool at_end = !*rest && !stopped;
        char canon[128];
        if ((!asset[0] || !addr[0]) && !at_end) {
            /* not OFAC's cut: a remark that names no address there */
            e->im->st->rejected++;
            imp_warn(e->im,
                     "%s: line %ld: entity '%s' (SDN uid %s): '%s%s' names no address: "
                     "skipped",
                     e->name, e->line, e->entity, e->uid, OFAC_PREFIX, asset);
            continue;
        }
        if (!asset[0] || !addr[0] || (at_end && ch_intel_canonical(addr, asset, canon, NULL) < 0)) {
            char what[260];
            snprintf(what, sizeof what, "the fragment '%s%s%s%s'", OFAC_PREFIX, asset,
                     asset[0] ? " " : "", addr);
            warn_cut(e, what);
            continue;
        }
        if (ofac_push(e->rows, asset, addr, e->entity, e->note, e->uid, e->line, err) < 0)
            return -1;
    }
    if (ends_in_prefix(rem)) {
        char what[200];
        snprintf(what, sizeof what, "an address cut away with its prefix ('...%s')",
                 strrchr(rem, ';') ? strrchr(rem, ';') + 1 : rem);
        warn_cut(e, what);
    }
    return 0;
}

static int read_row(ch_imp *im, csv_reader *r, ofac_rows *rows, const char *name, ch_error *err) {
    char uid[24], entity[128], note[160];
    trimmed(uid, sizeof uid, value(r->field[COL_NUM]));
    entity_name(value(r->field[COL_NAME]), value(r->field[COL_TYPE]), entity, sizeof entity);
    snprintf(note, sizeof note, "SDN uid %s; programs: %s", uid, value(r->field[COL_PROGRAM]));
    const char *rem = r->field[COL_REMARKS];
    ofac_comment *c = comment_of(im, uid);
    char *joined = NULL;
    if (c && c->text) {
        /* the continuation goes on where the cut fell, mid-word if need be */
        size_t a = strlen(rem), b = strlen(c->text);
        joined = malloc(a + b + 1);
        if (!joined) return ch_err(err, "out of memory");
        memcpy(joined, rem, a);
        memcpy(joined + a, c->text, b + 1);
        rem = joined;
    }
    entry_ctx e = {im, rows, name, entity, uid, note, r->rec_line};
    int rc = read_remark(&e, rem, err);
    free(joined);
    return rc;
}

int import_ofac_csv(ch_imp *im, FILE *f, const char *name, ch_error *err) {
    csv_reader r;
    csv_init(&r, f, name);
    ofac_rows rows = {0};
    int rc;
    while ((rc = csv_next(&r, err)) == 1) {
        if (r.nfields == 1) {
            /* a blank line, or the DOS end-of-file byte (0x1A) the file ends with */
            const char *s = r.field[0];
            while (*s && (isspace((unsigned char)*s) || *s == 0x1a))
                s++;
            if (!*s) continue;
        }
        if (r.nfields < NCOLS) {
            rc = ch_err(err, "%s: line %ld: %d fields, sdn.csv rows have %d", name, r.rec_line,
                        r.nfields, NCOLS);
            break;
        }
        if (read_row(im, &r, &rows, name, err) < 0) {
            rc = -1;
            break;
        }
    }
    csv_free(&r);
    if (rc < 0) {
        ofac_free(&rows);
        return -1;
    }
    return ofac_commit(im, &rows, NULL, "https://www.treasury.gov/ofac/downloads/sdn.csv", err);
}
