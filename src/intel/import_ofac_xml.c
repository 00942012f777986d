/* OFAC's legacy sdn.xml (libxml2 xmlTextReader, streaming):
 *   <sdnList><publshInformation><Publish_Date>MM/DD/YYYY</Publish_Date>...
 *   <sdnEntry><uid/><firstName/><lastName/><sdnType/>
 *     <programList><program>DPRK3</program></programList>
 *     <idList><id><uid/><idType>Digital Currency Address - ETH</idType>
 *       <idNumber>0x...</idNumber></id></idList> ... </sdnEntry>
 * Every id whose idType starts with "Digital Currency Address - " is one
 * address of the entry's name. The file is the whole list: what an earlier
 * list had and this one has not is delisted (ofac_common.c). */
#include <string.h>

#include "intel/ofac_common.h"
#include "util/xmlread.h"

typedef struct entry {
    char uid[32], first[128], last[128], programs[96];
    char id_type[96], id_number[160];
    long id_line;
    /* addresses of this entry, pushed at </id> with the name known at </sdnEntry> */
    size_t first_row;
} entry;

static void finish_entry(ofac_rows *rows, entry *e) {
    char entity[260], note[160];
    if (e->first[0])
        snprintf(entity, sizeof entity, "%s %s", e->first, e->last);
    else
        snprintf(entity, sizeof entity, "%s", e->last);
    snprintf(note, sizeof note, "SDN uid %s; programs: %s", e->uid, e->programs);
    for (size_t i = e->first_row; i < rows->n; i++) {
        intel_copy(rows->v[i].entity, sizeof rows->v[i].entity, entity);
        intel_copy(rows->v[i].note, sizeof rows->v[i].note, note);
        intel_copy(rows->v[i].uid, sizeof rows->v[i].uid, e->uid);
    }
}

int import_ofac_xml(ch_imp *im, FILE *f, const char *name, ch_error *err) {
    xml_in x;
    if (xr_open(&x, f, name, err) < 0) return -1;
    ofac_rows rows = {0};
    entry e;
    memset(&e, 0, sizeof e);
    char date[16] = "", text[256];
    bool root_ok = false, in_entry = false;
    int type, rc;
    while ((rc = xr_next(&x, &type, err)) == 1) {
        if (type == XML_READER_TYPE_ELEMENT) {
            const char *n = xr_name(&x), *parent = xr_up(&x, 1);
            if (x.depth == 1) {
                if (strcmp(n, "sdnList") != 0) {
                    rc = ch_err(err, "%s: line %d: root element <%s>, not <sdnList>", name,
                                xr_line(&x), n);
                    break;
                }
                root_ok = true;
            } else if (!strcmp(n, "Publish_Date") && !strcmp(parent, "publshInformation")) {
                xr_text(&x, text, sizeof text);
                if (imp_date(text, date) < 0) {
                    rc = ch_err(err, "%s: line %d: Publish_Date '%s' is not MM/DD/YYYY", name,
                                xr_line(&x), text);
                    break;
                }
            } else if (!strcmp(n, "sdnEntry")) {
                memset(&e, 0, sizeof e);
                e.first_row = rows.n;
                in_entry = true;
            } else if (in_entry && !strcmp(parent, "sdnEntry")) {
                if (!strcmp(n, "uid"))
                    xr_text(&x, e.uid, sizeof e.uid);
                else if (!strcmp(n, "firstName"))
                    xr_text(&x, e.first, sizeof e.first);
                else if (!strcmp(n, "lastName"))
                    xr_text(&x, e.last, sizeof e.last);
            } else if (in_entry && !strcmp(n, "program") && !strcmp(parent, "programList")) {
                xr_text(&x, text, sizeof text);
                intel_append(e.programs, sizeof e.programs, ", ", text);
            } else if (in_entry && !strcmp(n, "id") && !strcmp(parent, "idList")) {
                e.id_type[0] = e.id_number[0] = '\0';
                e.id_line = xr_line(&x);
            } else if (in_entry && !strcmp(parent, "id")) {
                if (!strcmp(n, "idType"))
                    xr_text(&x, e.id_type, sizeof e.id_type);
                else if (!strcmp(n, "idNumber"))
                    xr_text(&x, e.id_number, sizeof e.id_number);
            }
        } else if (type == XML_READER_TYPE_END_ELEMENT) {
            if (!strcmp(x.ended, "id") && in_entry && !strcmp(xr_name(&x), "idList")) {
                if (!strncmp(e.id_type, OFAC_PREFIX, strlen(OFAC_PREFIX)) &&
                    ofac_push(&rows, e.id_type + strlen(OFAC_PREFIX), e.id_number, "", "", "",
                              e.id_line, err) < 0) {
                    rc = -1;
                    break;
                }
            } else if (!strcmp(x.ended, "sdnEntry")) {
                finish_entry(&rows, &e);
                in_entry = false;
            }
        }
    }
    xr_close(&x);
    if (rc < 0) {
        ofac_free(&rows);
        return -1;
    }
    if (!root_ok) {
        ofac_free(&rows);
        return ch_err(err, "%s: no <sdnList> element", name);
    }
    return ofac_commit(im, &rows, date, OFAC_URL, err);
}
