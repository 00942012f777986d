/* An attribution as a JSON object, the coinhound extension that STIX and
 * MISP exports carry ("x_coinhound" in STIX, the address attribute's comment
 * in MISP) so that exporting then importing loses nothing. */
#include "intel/attr_json.h"

#include <string.h>

#include "intel/intel_internal.h"

// clang-format off
/* an X-macro list reads best one field a line */
#define STR_FIELDS(X) \
    X(asset)          \
    X(entity)         \
    X(category)       \
    X(source_name)    \
    X(source_url)     \
    X(source_date)    \
    X(first_listed)   \
    X(last_listed)    \
    X(delisted_date)  \
    X(note)           \
    X(source_id)
// clang-format on

json_t *intel_attr_to_json(const ch_attribution *a) {
    json_t *o = json_object();
#define PUT(f) json_object_set_new(o, #f, json_string(a->f));
    STR_FIELDS(PUT)
#undef PUT
    json_object_set_new(o, "confidence", json_integer(a->confidence));
    json_object_set_new(o, "delisted", json_boolean(a->delisted));
    return o;
}

static void get(json_t *o, const char *key, char *dst, size_t cap) {
    const char *s = json_string_value(json_object_get(o, key));
    if (s) intel_copy(dst, cap, s);
}

void intel_attr_from_json(json_t *o, ch_attribution *a) {
    if (!json_is_object(o)) return;
#define GET(f) get(o, #f, a->f, sizeof a->f);
    STR_FIELDS(GET)
#undef GET
    json_t *c = json_object_get(o, "confidence");
    if (json_is_integer(c) && json_integer_value(c) >= 0 && json_integer_value(c) <= 100)
        a->confidence = (uint8_t)json_integer_value(c);
    json_t *d = json_object_get(o, "delisted");
    if (json_is_boolean(d)) a->delisted = json_is_true(d);
}
