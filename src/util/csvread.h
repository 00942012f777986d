/* A small RFC 4180 CSV reader over a FILE*: comma separated, fields in
 * double quotes may hold commas, line breaks and doubled quotes. Strict: a
 * quote inside an unquoted field, text after a closing quote, an unterminated
 * quote or a NUL byte is an error naming the line. */
#ifndef COINHOUND_UTIL_CSVREAD_H
#define COINHOUND_UTIL_CSVREAD_H

#include <stdio.h>

#include "coinhound/error.h"

#define CSV_MAX_FIELDS 512
#define CSV_MAX_RECORD (1 << 20)

typedef struct csv_reader {
    FILE *f;
    const char *name; /* for messages */
    long line;        /* current physical line (1-based) */
    long rec_line;    /* line where the last record started */
    char *buf;
    size_t len, cap;
    size_t start[CSV_MAX_FIELDS];
    int nfields;
    char *field[CSV_MAX_FIELDS]; /* valid after csv_next until the next call */
} csv_reader;

void csv_init(csv_reader *r, FILE *f, const char *name);
/* 1 a record was read, 0 end of input, -1 error ("name: line N: ..."). A
 * blank line is a record of one empty field. */
int csv_next(csv_reader *r, ch_error *err);
void csv_free(csv_reader *r);

#endif
