/* OFAC's sdn_advanced.xml (libxml2 xmlTextReader, streaming):
 *   <Sanctions><DateOfIssue><Year/><Month/><Day/></DateOfIssue>
 *   <ReferenceValueSets><FeatureTypeValues>
 *     <FeatureType ID="345">Digital Currency Address - ETH</FeatureType>...
 *   <DistinctParties><DistinctParty><Profile ID="..">
 *     <Identity><Alias Primary="true"><DocumentedName><DocumentedNamePart>
 *       <NamePartValue>LAZARUS GROUP</NamePartValue>...
 *     <Feature FeatureTypeID="345"><FeatureVersion>
 *       <VersionDetail>0x...</VersionDetail>...
 * Feature-type IDs are not fixed: they are resolved by their text, after
 * the whole file has been read (the reference values may come anywhere).
 * A Profile's ID is the SDN entry's uid (ent_num in sdn.csv, uid in
 * sdn.xml): the listing's identity in the store. */
#include <stdlib.h>
#include <string.h>

#include "intel/ofac_common.h"
#include "util/xmlread.h"
#include "util/vec.h"

typedef struct ftype {
    char id[16];
    char asset[16];
} ftype;

/* What the streaming read has gathered so far. */
typedef struct adv_state {
    ofac_rows rows; /* one per VersionDetail, the feature type id in note */
    ftype *types;   /* digital currency address feature types */
    size_t ntypes, captypes;
    char year[8], month[8], day[8];
    char profile[32], pname[128], feature_type[16];
    bool in_primary, root_ok;
    size_t profile_first; /* the current Profile's first row */
} adv_state;

/* A FeatureType of a digital currency address ("Digital Currency Address -
 * ETH"): its id and asset kept for resolving features at the end. 0, or -1
 * out of memory. */
static int add_feature_type(adv_state *st, xml_in *x, const char *text, ch_error *err) {
    if (strncmp(text, OFAC_PREFIX, strlen(OFAC_PREFIX)) != 0) return 0;
    ftype *nt = ch_grow(st->types, &st->captypes, st->ntypes + 1, sizeof *nt);
    if (!nt) return ch_err(err, "out of memory");
    st->types = nt;
    ftype *t = &st->types[st->ntypes++];
    xr_attr(x, "ID", t->id, sizeof t->id);
    intel_copy(t->asset, sizeof t->asset, text + strlen(OFAC_PREFIX));
    return 0;
}

/* One opening element: the root, the date of issue, feature types,
 * profiles with their primary name, and feature values. 0, or -1 with err. */
static int on_element(adv_state *st, xml_in *x, const char *name, ch_error *err) {
    char text[256];
    const char *n = xr_name(x), *parent = xr_up(x, 1);
    if (x->depth == 1) {
        if (strcmp(n, "Sanctions") != 0)
            return ch_err(err, "%s: line %d: root element <%s>, not <Sanctions>", name, xr_line(x),
                          n);
        st->root_ok = true;
    } else if (!strcmp(parent, "DateOfIssue")) {
        char *dst = !strcmp(n, "Year")    ? st->year
                    : !strcmp(n, "Month") ? st->month
                    : !strcmp(n, "Day")   ? st->day
                                          : NULL;
        if (dst) xr_text(x, dst, 8);
    } else if (!strcmp(n, "FeatureType") && !strcmp(parent, "FeatureTypeValues")) {
        xr_text(x, text, sizeof text);
        return add_feature_type(st, x, text, err);
    } else if (!strcmp(n, "Profile")) {
        xr_attr(x, "ID", st->profile, sizeof st->profile);
        st->pname[0] = '\0';
        st->profile_first = st->rows.n;
    } else if (!strcmp(n, "Alias")) {
        xr_attr(x, "Primary", text, sizeof text);
        st->in_primary = !strcmp(text, "true");
    } else if (!strcmp(n, "NamePartValue") && st->in_primary) {
        xr_text(x, text, sizeof text);
        intel_append(st->pname, sizeof st->pname, " ", text);
    } else if (!strcmp(n, "Feature")) {
        xr_attr(x, "FeatureTypeID", st->feature_type, sizeof st->feature_type);
    } else if (!strcmp(n, "VersionDetail") && !strcmp(xr_up(x, 2), "Feature")) {
        xr_text(x, text, sizeof text);
        /* the asset is resolved at the end; keep the type id there */
        if (ofac_push(&st->rows, "", text, "", st->feature_type, st->profile, xr_line(x), err) < 0)
            return -1;
    }
    return 0;
}

/* One closing element: an Alias ends its primary name; a Profile gives its
 * name to the rows it holds. */
static void on_end(adv_state *st, const xml_in *x) {
    if (!strcmp(x->ended, "Alias")) {
        st->in_primary = false;
    } else if (!strcmp(x->ended, "Profile")) {
        for (size_t i = st->profile_first; i < st->rows.n; i++)
            intel_copy(st->rows.v[i].entity, sizeof st->rows.v[i].entity, st->pname);
    }
}

/* Keep the features whose type is a digital currency address, with the
 * type's asset (its first word) and a note naming the uid and type. */
static void resolve_feature_types(adv_state *st) {
    ofac_rows *rows = &st->rows;
    size_t w = 0;
    for (size_t i = 0; i < rows->n; i++) {
        ofac_row *r = &rows->v[i];
        const ftype *t = NULL;
        for (size_t j = 0; j < st->ntypes && !t; j++)
            if (!strcmp(st->types[j].id, r->note)) t = &st->types[j];
        if (!t) continue;
        char asset[16];
        intel_copy(asset, sizeof asset, t->asset);
        rows->v[w] = *r;
        intel_copy(rows->v[w].asset, sizeof rows->v[w].asset, asset);
        for (char *c = rows->v[w].asset; *c; c++)
            if (*c == ' ') *c = '\0';
        snprintf(rows->v[w].note, sizeof rows->v[w].note,
                 "SDN uid %s; sdn_advanced feature type %s", rows->v[w].uid, t->id);
        w++;
    }
    rows->n = w;
}

int import_ofac_advanced(ch_imp *im, FILE *f, const char *name, ch_error *err) {
    xml_in x;
    if (xr_open(&x, f, name, err) < 0) return -1;
    adv_state st;
    memset(&st, 0, sizeof st);
    int type, rc;
    while ((rc = xr_next(&x, &type, err)) == 1) {
        if (type == XML_READER_TYPE_ELEMENT && on_element(&st, &x, name, err) != 0) {
            rc = -1;
            break;
        }
        if (type == XML_READER_TYPE_END_ELEMENT) on_end(&st, &x);
    }
    xr_close(&x);
    if (rc == 0 && !st.root_ok) rc = ch_err(err, "%s: no <Sanctions> element", name);
    if (rc < 0) {
        ofac_free(&st.rows);
        free(st.types);
        return -1;
    }
    resolve_feature_types(&st);
    free(st.types);
    char date[16] = "";
    if (st.year[0] && st.month[0] && st.day[0])
        snprintf(date, sizeof date, "%04d-%02d-%02d", atoi(st.year), atoi(st.month), atoi(st.day));
    return ofac_commit(im, &st.rows, date,
                       "https://www.treasury.gov/ofac/downloads/sanctions/1.0/sdn_advanced.xml",
                       err);
}
