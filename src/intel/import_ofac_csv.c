/* OFAC's sdn.csv: no header, one row per SDN entry:
 *   ent_num, SDN_Name, SDN_Type, Program, Title, Call_Sign, Vess_type,
 *   Tonnage, GRT, Vess_flag, Vess_owner, Remarks
 * ("-0-" for an empty field). Addresses are inside Remarks:
 *   "... Digital Currency Address - ETH 0x...; alt. Digital Currency
 *   Address - ETH 0x...; ..."
 * The file carries no date: the import's as-of date is the list's date. */
#include <ctype.h>
#include <string.h>

#include "intel/csvread.h"
#include "intel/ofac_common.h"

enum { COL_NUM = 0, COL_NAME = 1, COL_PROGRAM = 3, COL_REMARKS = 11, NCOLS = 12 };

static const char *value(const char *s) {
    while (isspace((unsigned char)*s))
        s++;
    return !strncmp(s, "-0-", 3) ? "" : s;
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
        const char *rem = r.field[COL_REMARKS];
        char note[160];
        snprintf(note, sizeof note, "SDN uid %s; programs: %s", value(r.field[COL_NUM]),
                 value(r.field[COL_PROGRAM]));
        for (const char *p = rem; (p = strstr(p, OFAC_PREFIX)) != NULL;) {
            p += strlen(OFAC_PREFIX);
            char asset[16] = "", addr[160] = "";
            size_t n = strcspn(p, " ;");
            if (n >= sizeof asset) n = sizeof asset - 1;
            memcpy(asset, p, n);
            asset[n] = '\0';
            p += n;
            while (*p == ' ')
                p++;
            n = strcspn(p, " ;,");
            if (n >= sizeof addr) n = sizeof addr - 1;
            memcpy(addr, p, n);
            addr[n] = '\0';
            p += n;
            if (!addr[0] || !asset[0]) {
                rc = ch_err(err, "%s: line %ld: '%s' without an asset and an address", name,
                            r.rec_line, OFAC_PREFIX);
                break;
            }
            if (ofac_push(&rows, asset, addr, value(r.field[COL_NAME]), note, r.rec_line, err) <
                0) {
                rc = -1;
                break;
            }
        }
        if (rc < 0) break;
    }
    csv_free(&r);
    if (rc < 0) {
        ofac_free(&rows);
        return -1;
    }
    return ofac_commit(im, &rows, NULL, "https://www.treasury.gov/ofac/downloads/sdn.csv", err);
}
