#include "util/csvread.h"

#include <stdlib.h>
#include <string.h>

#include "util/vec.h"

void csv_init(csv_reader *r, FILE *f, const char *name) {
    memset(r, 0, sizeof *r);
    r->f = f;
    r->name = name;
    r->line = 1;
}

void csv_free(csv_reader *r) {
    free(r->buf);
    r->buf = NULL;
}

static int push(csv_reader *r, char c, ch_error *err) {
    if (r->len + 1 >= r->cap) {
        if (r->cap >= CSV_MAX_RECORD)
            return ch_err(err, "%s: line %ld: record longer than %d bytes", r->name, r->rec_line,
                          CSV_MAX_RECORD);
        char *nb = ch_grow(r->buf, &r->cap, r->len + 2, 1);
        if (!nb) return ch_err(err, "out of memory");
        r->buf = nb;
    }
    r->buf[r->len++] = c;
    return 0;
}

static int end_field(csv_reader *r, ch_error *err) {
    if (push(r, '\0', err) < 0) return -1;
    if (r->nfields >= CSV_MAX_FIELDS)
        return ch_err(err, "%s: line %ld: more than %d fields", r->name, r->rec_line,
                      CSV_MAX_FIELDS);
    r->nfields++;
    if (r->nfields < CSV_MAX_FIELDS) r->start[r->nfields] = r->len;
    return 0;
}

int csv_next(csv_reader *r, ch_error *err) {
    r->len = 0;
    r->nfields = 0;
    r->start[0] = 0;
    r->rec_line = r->line;
    int c = getc(r->f);
    if (c == EOF) return 0;
    enum { FIELD_START, UNQUOTED, QUOTED, QUOTE_IN_QUOTED } st = FIELD_START;
    for (;; c = getc(r->f)) {
        if (c == '\0')
            return ch_err(err, "%s: line %ld: NUL byte (not a text file?)", r->name, r->line);
        if (c == '\n') r->line++;
        switch (st) {
        case FIELD_START:
        case UNQUOTED:
            if (c == '"') {
                if (st == UNQUOTED)
                    return ch_err(err, "%s: line %ld: quote inside an unquoted field", r->name,
                                  r->line);
                st = QUOTED;
            } else if (c == ',') {
                if (end_field(r, err) < 0) return -1;
                st = FIELD_START;
            } else if (c == '\n' || c == EOF) {
                goto record_end;
            } else if (c == '\r') {
                /* CRLF: the \n follows; a lone CR is kept out of the field */
            } else {
                if (push(r, (char)c, err) < 0) return -1;
                st = UNQUOTED;
            }
            break;
        case QUOTED:
            if (c == EOF)
                return ch_err(err, "%s: line %ld: unterminated quoted field (opened on line %ld)",
                              r->name, r->line, r->rec_line);
            if (c == '"')
                st = QUOTE_IN_QUOTED;
            else if (push(r, (char)c, err) < 0)
                return -1;
            break;
        case QUOTE_IN_QUOTED:
            if (c == '"') {
                if (push(r, '"', err) < 0) return -1;
                st = QUOTED;
            } else if (c == ',') {
                if (end_field(r, err) < 0) return -1;
                st = FIELD_START;
            } else if (c == '\n' || c == EOF) {
                goto record_end;
            } else if (c == '\r') {
                /* CRLF after a closing quote */
            } else {
                return ch_err(err, "%s: line %ld: text after a closing quote", r->name, r->line);
            }
            break;
        }
    }
record_end:
    if (end_field(r, err) < 0) return -1;
    for (int i = 0; i < r->nfields; i++)
        r->field[i] = r->buf + r->start[i];
    return 1;
}
