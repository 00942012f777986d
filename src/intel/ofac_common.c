#include "intel/ofac_common.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util/vec.h"

int ofac_push(ofac_rows *rows, const char *asset_text, const char *address, const char *entity,
              const char *note, const char *uid, long line, ch_error *err) {
    ofac_row *nv = ch_grow(rows->v, &rows->cap, rows->n + 1, sizeof *nv);
    if (!nv) return ch_err(err, "out of memory");
    rows->v = nv;
    ofac_row *r = &rows->v[rows->n++];
    memset(r, 0, sizeof *r);
    /* "ETH" from "ETH", "ETH " or "ETH (Ethereum)" */
    size_t i = 0;
    while (isspace((unsigned char)*asset_text))
        asset_text++;
    while (asset_text[i] && isalnum((unsigned char)asset_text[i]) && i + 1 < sizeof r->asset) {
        r->asset[i] = (char)toupper((unsigned char)asset_text[i]);
        i++;
    }
    intel_copy(r->address, sizeof r->address, address);
    intel_copy(r->entity, sizeof r->entity, entity);
    intel_copy(r->note, sizeof r->note, note);
    intel_copy(r->uid, sizeof r->uid, uid);
    r->line = line;
    return 0;
}

void ofac_free(ofac_rows *rows) {
    free(rows->v);
    rows->v = NULL;
    rows->n = rows->cap = 0;
}

int ofac_commit(ch_imp *im, ofac_rows *rows, const char *date, const char *url, ch_error *err) {
    const char *d = date && *date ? date : im->as_of;
    int r = imp_snapshot(im, OFAC_SOURCE, "", d, err);
    for (size_t i = 0; r == 0 && i < rows->n; i++) {
        ofac_row *o = &rows->v[i];
        ch_attribution a;
        memset(&a, 0, sizeof a);
        intel_copy(a.asset, sizeof a.asset, o->asset);
        intel_copy(a.entity, sizeof a.entity, o->entity);
        intel_copy(a.category, sizeof a.category, "sanctions");
        intel_copy(a.source_name, sizeof a.source_name, OFAC_SOURCE);
        intel_copy(a.source_url, sizeof a.source_url, url);
        intel_copy(a.source_date, sizeof a.source_date, d);
        intel_copy(a.note, sizeof a.note, o->note);
        intel_copy(a.source_id, sizeof a.source_id, o->uid);
        a.confidence = 100;
        char where[32];
        snprintf(where, sizeof where, "line %ld", o->line);
        if (!o->asset[0]) {
            r = ch_err(err, "%s: %s: digital currency address without an asset code", im->file,
                       where);
            break;
        }
        r = imp_add(im, o->address, &a, NULL, IMP_AS_LISTED, where, err);
    }
    ofac_free(rows);
    return r;
}
