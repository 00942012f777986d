/* sjson: the C face on simdjson's DOM parser (see sjson.h). The only C++
 * in coinhound: built without exceptions or RTTI; every simdjson call is
 * the error-code form, so nothing throws across the C boundary.
 *
 * A handle carries the document and a tape index: simdjson's dom::element
 * and dom::array::iterator are exactly that pair (a tape_ref), trivially
 * copyable, so a handle is turned back into one by copying the bytes (the
 * static_asserts below hold the layout to it). */
#include "util/sjson.h"

#include <simdjson.h>

#include <cstdlib>
#include <cstring>
#include <new>
#include <type_traits>

using simdjson::dom::element;

namespace {

struct ref {
    const void *doc;
    size_t at;
};
static_assert(sizeof(element) == sizeof(ref), "dom::element is a tape_ref");
static_assert(std::is_trivially_copyable<element>::value, "dom::element copies as bytes");
static_assert(sizeof(simdjson::dom::array::iterator) == sizeof(ref), "an iterator is a tape_ref");
static_assert(std::is_trivially_copyable<simdjson::dom::array::iterator>::value,
              "an iterator copies as bytes");

element to_elem(const void *doc, size_t at) {
    ref r = {doc, at};
    element e;
    std::memcpy(static_cast<void *>(&e), &r, sizeof r);
    return e;
}

sj_type type_of(element e) {
    switch (e.type()) {
    case simdjson::dom::element_type::ARRAY:
        return SJ_ARRAY;
    case simdjson::dom::element_type::OBJECT:
        return SJ_OBJECT;
    case simdjson::dom::element_type::INT64:
        return SJ_INT;
    case simdjson::dom::element_type::UINT64:
        return SJ_UINT;
    case simdjson::dom::element_type::DOUBLE:
        return SJ_DOUBLE;
    case simdjson::dom::element_type::STRING:
        return SJ_STRING;
    case simdjson::dom::element_type::BOOL: {
        bool b = false;
        return e.get_bool().get(b) == simdjson::SUCCESS && b ? SJ_TRUE : SJ_FALSE;
    }
    case simdjson::dom::element_type::NULL_VALUE:
        return SJ_NULL;
    }
    return SJ_NONE;
}

sj_val to_val(element e) {
    ref r;
    std::memcpy(&r, static_cast<const void *>(&e), sizeof r);
    sj_val v;
    v.doc = r.doc;
    v.at = r.at;
    v.type = type_of(e);
    return v;
}

element elem_of(sj_val v) {
    return to_elem(v.doc, v.at);
}

} // namespace

struct sj_parser {
    simdjson::dom::parser dom;
    char *buf; /* the text, copied with simdjson's padding after it */
    size_t cap;
    const char *error;
};

extern "C" {

sj_parser *sj_parser_new(void) {
    sj_parser *p = new (std::nothrow) sj_parser();
    if (!p) return nullptr;
    p->buf = nullptr;
    p->cap = 0;
    p->error = "";
    if (p->dom.allocate(1 << 16, SJ_MAX_DEPTH) != simdjson::SUCCESS) {
        delete p;
        return nullptr;
    }
    return p;
}

void sj_parser_free(sj_parser *p) {
    if (!p) return;
    std::free(p->buf);
    delete p;
}

const char *sj_parser_error(const sj_parser *p) {
    return p->error;
}

int sj_parse(sj_parser *p, const char *buf, size_t len, sj_val *root) {
    *root = sj_none();
    if (len + simdjson::SIMDJSON_PADDING > p->cap) {
        size_t cap = p->cap ? p->cap : 4096;
        while (cap < len + simdjson::SIMDJSON_PADDING)
            cap *= 2;
        // the C++ side of the library (simdjson): util/vec.h's ch_grow is C
        char *nb = static_cast<char *>(std::realloc(p->buf, cap));
        if (!nb) {
            p->error = "out of memory";
            return -1;
        }
        p->buf = nb;
        p->cap = cap;
    }
    std::memcpy(p->buf, buf, len);
    std::memset(p->buf + len, 0, simdjson::SIMDJSON_PADDING);
    element e;
    simdjson::error_code ec = p->dom.parse(p->buf, len, false).get(e);
    if (ec != simdjson::SUCCESS) {
        p->error = simdjson::error_message(ec);
        return -1;
    }
    *root = to_val(e);
    return 0;
}

sj_val sj_none(void) {
    sj_val v;
    v.doc = nullptr;
    v.at = 0;
    v.type = SJ_NONE;
    return v;
}

sj_val sj_get(sj_val o, const char *key) {
    if (o.type != SJ_OBJECT) return sj_none();
    simdjson::dom::object obj;
    if (elem_of(o).get_object().get(obj) != simdjson::SUCCESS) return sj_none();
    element e;
    if (obj.at_key(key).get(e) != simdjson::SUCCESS) return sj_none();
    return to_val(e);
}

size_t sj_size(sj_val v) {
    if (v.type == SJ_ARRAY) {
        simdjson::dom::array a;
        return elem_of(v).get_array().get(a) == simdjson::SUCCESS ? a.size() : 0;
    }
    if (v.type == SJ_OBJECT) {
        simdjson::dom::object o;
        return elem_of(v).get_object().get(o) == simdjson::SUCCESS ? o.size() : 0;
    }
    return 0;
}

sj_iter sj_items(sj_val a) {
    sj_iter it;
    it.doc = a.doc;
    it.at = it.end = 0;
    simdjson::dom::array arr;
    if (a.type != SJ_ARRAY || elem_of(a).get_array().get(arr) != simdjson::SUCCESS) return it;
    simdjson::dom::array::iterator b = arr.begin(), e = arr.end();
    ref rb, re;
    std::memcpy(&rb, static_cast<const void *>(&b), sizeof rb);
    std::memcpy(&re, static_cast<const void *>(&e), sizeof re);
    it.at = rb.at;
    it.end = re.at;
    return it;
}

bool sj_next(sj_iter *it, sj_val *out) {
    if (it->at == it->end) return false;
    ref r = {it->doc, it->at};
    simdjson::dom::array::iterator i;
    std::memcpy(static_cast<void *>(&i), &r, sizeof r);
    *out = to_val(*i);
    ++i;
    std::memcpy(&r, static_cast<const void *>(&i), sizeof r);
    it->at = r.at;
    return true;
}

sj_val sj_at(sj_val a, size_t i) {
    sj_iter it = sj_items(a);
    sj_val v;
    for (size_t k = 0; sj_next(&it, &v); k++)
        if (k == i) return v;
    return sj_none();
}

namespace {
bool has_double(element e, int depth) {
    switch (e.type()) {
    case simdjson::dom::element_type::DOUBLE:
        return true;
    case simdjson::dom::element_type::ARRAY: {
        simdjson::dom::array a;
        if (depth > SJ_MAX_DEPTH || e.get_array().get(a) != simdjson::SUCCESS) return false;
        for (element x : a)
            if (has_double(x, depth + 1)) return true;
        return false;
    }
    case simdjson::dom::element_type::OBJECT: {
        simdjson::dom::object o;
        if (depth > SJ_MAX_DEPTH || e.get_object().get(o) != simdjson::SUCCESS) return false;
        for (simdjson::dom::key_value_pair kv : o)
            if (has_double(kv.value, depth + 1)) return true;
        return false;
    }
    default:
        return false;
    }
}
} // namespace

extern "C" bool sj_has_double(sj_val v) {
    if (v.type == SJ_NONE) return false;
    return has_double(elem_of(v), 0);
}

const char *sj_str(sj_val v, size_t *len) {
    *len = 0;
    if (v.type != SJ_STRING) return nullptr;
    std::string_view s;
    if (elem_of(v).get_string().get(s) != simdjson::SUCCESS) return nullptr;
    *len = s.size();
    return s.data(); /* simdjson ends each string on the tape with a NUL */
}

int64_t sj_int(sj_val v) {
    int64_t x = 0;
    if (v.type != SJ_INT || elem_of(v).get_int64().get(x) != simdjson::SUCCESS) return 0;
    return x;
}

uint64_t sj_uint(sj_val v) {
    if (v.type == SJ_INT) {
        int64_t x = sj_int(v);
        return x < 0 ? 0 : static_cast<uint64_t>(x);
    }
    uint64_t x = 0;
    if (v.type != SJ_UINT || elem_of(v).get_uint64().get(x) != simdjson::SUCCESS) return 0;
    return x;
}

} /* extern "C" */
