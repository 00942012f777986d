/* An attribution's text made valid UTF-8 before it is stored, whatever
 * encoding its source file used (a CSV saved as Latin-1 or CP1252): every
 * output (screen --json, the STIX and MISP exports) is then valid JSON. */
#include "intel/intel_internal.h"

#include <string.h>

#include "util/utf8.h"

/* Repair one field in place; true when it changed. */
static bool repair(char *field, size_t cap) {
    size_t n = strnlen(field, cap);
    if (ch_utf8_valid(field, n)) return false;
    char tmp[1024];
    if (cap > sizeof tmp) cap = sizeof tmp;
    /* a full field may have been cut inside a UTF-8 character */
    ch_utf8_repair(field, n, n + 1 == cap, tmp, cap);
    memcpy(field, tmp, strlen(tmp) + 1);
    return true;
}

size_t intel_attr_repair_utf8(ch_attribution *a) {
    size_t changed = 0;
#define FIX(f) changed += repair(a->f, sizeof a->f);
    FIX(address)
    FIX(asset)
    FIX(entity)
    FIX(actor)
    FIX(actor_country)
    FIX(category)
    FIX(source_name)
    FIX(source_url)
    FIX(source_date)
    FIX(first_listed)
    FIX(last_listed)
    FIX(delisted_date)
    FIX(note)
#undef FIX
    return changed;
}
