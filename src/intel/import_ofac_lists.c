/* OFAC's digital-currency addresses as per-asset lists:
 * sanctioned_addresses_<ASSET>.txt (one address a line) or .json (an array of
 * strings), as 0xB10C's generator extracts them from the SDN list. Each file
 * is the complete list for its asset, so an address it no longer holds is
 * delisted. The files name no entity. */
#include "intel/intel_internal.h"

#include <ctype.h>
#include <jansson.h>
#include <string.h>

#define LIST_SOURCE "OFAC SDN (per-asset lists)"
#define LIST_URL    "https://www.treasury.gov/ofac/downloads/sdn.xml"

/* "XBT" from ".../sanctioned_addresses_XBT.json" */
static int asset_of(const char *name, char asset[16], ch_error *err) {
    char stem[256];
    imp_stem(name, stem, sizeof stem);
    const char *p = strstr(stem, "sanctioned_addresses_");
    if (!p || !p[21]) return ch_err(err, "%s: not named sanctioned_addresses_<ASSET>", name);
    intel_copy(asset, 16, p + 21);
    for (char *c = asset; *c; c++) {
        if (!isalnum((unsigned char)*c))
            return ch_err(err, "%s: bad asset code in the file name", name);
        *c = (char)toupper((unsigned char)*c);
    }
    return 0;
}

static int add(ch_imp *im, const char *asset, const char *address, const char *where,
               ch_error *err) {
    ch_attribution a;
    memset(&a, 0, sizeof a);
    intel_copy(a.asset, sizeof a.asset, asset);
    intel_copy(a.category, sizeof a.category, "sanctions");
    intel_copy(a.source_name, sizeof a.source_name, LIST_SOURCE);
    intel_copy(a.source_url, sizeof a.source_url, LIST_URL);
    /* the list's date is the import's as-of date (the files carry none) */
    intel_copy(a.source_date, sizeof a.source_date, im->as_of);
    a.confidence = 100;
    return imp_add(im, address, &a, NULL, IMP_AS_LISTED, where, err);
}

static int read_json(ch_imp *im, FILE *f, const char *name, const char *asset, ch_error *err) {
    json_error_t je;
    json_t *root = json_loadf(f, 0, &je);
    if (!root) return ch_err(err, "%s: line %d, column %d: %s", name, je.line, je.column, je.text);
    if (!json_is_array(root)) {
        json_decref(root);
        return ch_err(err, "%s: expected a JSON array of addresses", name);
    }
    size_t i;
    json_t *v;
    json_array_foreach(root, i, v) {
        char where[48];
        snprintf(where, sizeof where, "item %zu", i);
        if (!json_is_string(v)) {
            json_decref(root);
            return ch_err(err, "%s: %s: not a string", name, where);
        }
        if (add(im, asset, json_string_value(v), where, err) < 0) {
            json_decref(root);
            return -1;
        }
    }
    json_decref(root);
    return 0;
}

static int read_txt(ch_imp *im, FILE *f, const char *name, const char *asset, ch_error *err) {
    char line[1024];
    long ln = 0;
    while (fgets(line, sizeof line, f)) {
        ln++;
        size_t n = strlen(line);
        if (n == sizeof line - 1 && line[n - 1] != '\n')
            return ch_err(err, "%s: line %ld: line too long for an address", name, ln);
        for (size_t i = 0; i < n; i++)
            if (line[i] == '\0' ||
                ((unsigned char)line[i] < 0x20 && !isspace((unsigned char)line[i])))
                return ch_err(err, "%s: line %ld: control byte (not a text list)", name, ln);
        char *s = line;
        while (isspace((unsigned char)*s))
            s++;
        if (!*s || *s == '#') continue;
        char where[32];
        snprintf(where, sizeof where, "line %ld", ln);
        if (add(im, asset, s, where, err) < 0) return -1;
    }
    /* fgets stops at a NUL too: a binary file shows up as a short read */
    if (ferror(f)) return ch_err(err, "%s: read error", name);
    return 0;
}

int import_ofac_list(ch_imp *im, FILE *f, const char *name, ch_error *err) {
    char asset[16];
    if (asset_of(name, asset, err) < 0) return -1;
    if (imp_snapshot(im, LIST_SOURCE, asset, im->as_of, err) < 0) return -1;
    /* The files carry no date: an undated copy counts as today's list, and
     * the newest list of an authority is the one that counts (a delisting
     * in a later list loses to it), so say so. */
    if (!im->as_of_given && !im->warned_undated) {
        im->warned_undated = true;
        imp_warn(im,
                 "%s: the per-asset lists carry no date: taken as the lists of %s; give "
                 "--as-of the date they were extracted from the SDN list",
                 name, im->as_of);
    }
    int c = getc(f);
    while (c != EOF && isspace(c))
        c = getc(f);
    if (c != EOF) ungetc(c, f);
    return c == '[' ? read_json(im, f, name, asset, err) : read_txt(im, f, name, asset, err);
}
