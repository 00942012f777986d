/* screen --csv: a CSV file's address column screened row by row
 * (cli/screen_csv.c). */
#ifndef COINHOUND_CLI_SCREEN_CSV_H
#define COINHOUND_CLI_SCREEN_CSV_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "coinhound/screener.h"

typedef struct screen_csv_counts {
    uint64_t rows, flagged, clean, invalid, unsupported, errors;
    uint64_t by_level[CH_RISK_SEVERE + 1]; /* flagged rows per level */
} screen_csv_counts;

/* Rows screened together by default (--batch). */
#define SCREEN_CSV_BATCH 64

/* Screen the column named column (exact, else in any case) of the CSV at
 * path ("-": standard input) with sc, v as scratch, writing to out: as CSV
 * (the kept columns, then address, canonical, family, risk, score,
 * categories, entities, sources, source_urls, exposure_share, error; a
 * header first) or, with json, one object a row {"line", "kept": {...},
 * "verdict": {screen --json's}} and a last line {"counts": {...}}. keep
 * ("A,B", NULL none) names header columns passed through. batch rows are
 * read, screened together and written at a time (0: SCREEN_CSV_BATCH; 1:
 * each row screened alone and written before the next is read); the bytes
 * written are the same whatever batch is. 0 with *c
 * filled; -1 with err naming the file and line (unreadable, malformed CSV,
 * no such column): rows before it were written. */
int screen_csv(ch_screener *sc, ch_verdict *v, const char *path, const char *column,
               const char *keep, bool json, size_t batch, FILE *out, screen_csv_counts *c,
               ch_error *err);

#endif
