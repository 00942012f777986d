/* What the three SDN importers share: they read the whole file first into a
 * small list of (asset, address, entity, programs) rows, streaming, and only
 * then write, because the list's date may come after its entries and an
 * error late in the file must not leave half a list behind (the transaction
 * would be aborted anyway; this also keeps the delisting sweep simple). */
#ifndef COINHOUND_INTEL_OFAC_COMMON_H
#define COINHOUND_INTEL_OFAC_COMMON_H

#include "intel/intel_internal.h"

#define OFAC_SOURCE "OFAC SDN"
#define OFAC_URL    "https://www.treasury.gov/ofac/downloads/sdn.xml"
#define OFAC_PREFIX "Digital Currency Address - "

typedef struct ofac_row {
    char asset[16];
    char address[128];
    char entity[128];
    char note[160];
    char uid[24]; /* the SDN entry's uid: the listing's identity */
    long line;
} ofac_row;

typedef struct ofac_rows {
    ofac_row *v;
    size_t n, cap;
} ofac_rows;

/* Append a row; asset_text is the text after OFAC_PREFIX ("ETH"); uid the
 * SDN entry's uid ("" when not known yet). */
int ofac_push(ofac_rows *rows, const char *asset_text, const char *address, const char *entity,
              const char *note, const char *uid, long line, ch_error *err);
/* Write the rows as attributions of OFAC_SOURCE dated `date` (or as_of),
 * and declare the list complete (delisting). Frees the rows. */
int ofac_commit(ch_imp *im, ofac_rows *rows, const char *date, const char *url, ch_error *err);
void ofac_free(ofac_rows *rows);

#endif
