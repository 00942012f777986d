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

int import_ofac_advanced(ch_imp *im, FILE *f, const char *name, ch_error *err) {
    xml_in x;
    if (xr_open(&x, f, name, err) < 0) return -1;
    ofac_rows rows = {0};
    ftype *types = NULL;
    size_t ntypes = 0, captypes = 0;
    char year[8] = "", month[8] = "", day[8] = "", text[256];
    char profile[32] = "", pname[128] = "", feature_type[16] = "";
    bool in_primary = false, root_ok = false;
    size_t profile_first = 0;
    int type, rc;
    while ((rc = xr_next(&x, &type, err)) == 1) {
        if (type == XML_READER_TYPE_ELEMENT) {
            const char *n = xr_name(&x), *parent = xr_up(&x, 1);
            if (x.depth == 1) {
                if (strcmp(n, "Sanctions") != 0) {
                    rc = ch_err(err, "%s: line %d: root element <%s>, not <Sanctions>", name,
                                xr_line(&x), n);
                    break;
                }
                root_ok = true;
            } else if (!strcmp(parent, "DateOfIssue")) {
                char *dst = !strcmp(n, "Year")    ? year
                            : !strcmp(n, "Month") ? month
                            : !strcmp(n, "Day")   ? day
                                                  : NULL;
                if (dst) xr_text(&x, dst, 8);
            } else if (!strcmp(n, "FeatureType") && !strcmp(parent, "FeatureTypeValues")) {
                xr_text(&x, text, sizeof text);
                if (strncmp(text, OFAC_PREFIX, strlen(OFAC_PREFIX)) != 0) continue;
                ftype *nt = ch_grow(types, &captypes, ntypes + 1, sizeof *nt);
                if (!nt) {
                    rc = ch_err(err, "out of memory");
                    break;
                }
                types = nt;
                ftype *t = &types[ntypes++];
                xr_attr(&x, "ID", t->id, sizeof t->id);
                intel_copy(t->asset, sizeof t->asset, text + strlen(OFAC_PREFIX));
            } else if (!strcmp(n, "Profile")) {
                xr_attr(&x, "ID", profile, sizeof profile);
                pname[0] = '\0';
                profile_first = rows.n;
            } else if (!strcmp(n, "Alias")) {
                xr_attr(&x, "Primary", text, sizeof text);
                in_primary = !strcmp(text, "true");
            } else if (!strcmp(n, "NamePartValue") && in_primary) {
                xr_text(&x, text, sizeof text);
                intel_append(pname, sizeof pname, " ", text);
            } else if (!strcmp(n, "Feature")) {
                xr_attr(&x, "FeatureTypeID", feature_type, sizeof feature_type);
            } else if (!strcmp(n, "VersionDetail") && !strcmp(xr_up(&x, 2), "Feature")) {
                xr_text(&x, text, sizeof text);
                /* the asset is resolved at the end; keep the type id there */
                if (ofac_push(&rows, "", text, "", feature_type, profile, xr_line(&x), err) < 0) {
                    rc = -1;
                    break;
                }
            }
        } else if (type == XML_READER_TYPE_END_ELEMENT) {
            if (!strcmp(x.ended, "Alias")) {
                in_primary = false;
            } else if (!strcmp(x.ended, "Profile")) {
                for (size_t i = profile_first; i < rows.n; i++)
                    intel_copy(rows.v[i].entity, sizeof rows.v[i].entity, pname);
            }
        }
    }
    xr_close(&x);
    if (rc == 0 && !root_ok) rc = ch_err(err, "%s: no <Sanctions> element", name);
    if (rc < 0) {
        ofac_free(&rows);
        free(types);
        return -1;
    }
    /* Keep the features whose type is a digital currency address. */
    size_t w = 0;
    for (size_t i = 0; i < rows.n; i++) {
        ofac_row *r = &rows.v[i];
        const ftype *t = NULL;
        for (size_t j = 0; j < ntypes && !t; j++)
            if (!strcmp(types[j].id, r->note)) t = &types[j];
        if (!t) continue;
        char asset[16];
        intel_copy(asset, sizeof asset, t->asset);
        rows.v[w] = *r;
        intel_copy(rows.v[w].asset, sizeof rows.v[w].asset, asset);
        for (char *c = rows.v[w].asset; *c; c++)
            if (*c == ' ') *c = '\0';
        snprintf(rows.v[w].note, sizeof rows.v[w].note, "SDN uid %s; sdn_advanced feature type %s",
                 rows.v[w].uid, t->id);
        w++;
    }
    rows.n = w;
    free(types);
    char date[16] = "";
    if (year[0] && month[0] && day[0])
        snprintf(date, sizeof date, "%04d-%02d-%02d", atoi(year), atoi(month), atoi(day));
    return ofac_commit(im, &rows, date,
                       "https://www.treasury.gov/ofac/downloads/sanctions/1.0/sdn_advanced.xml",
                       err);
}
