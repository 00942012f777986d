/* Parsing what a client sends: see server/request.h. */
#include "server/request.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/numparse.h"
#include "util/sjson.h"
#include "util/utf8.h"
#include "util/vec.h"

static bool path_char_ok(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' ||
           c == '-' || c == '_' || c == '.';
}

int srv_path_address(const char *url, const char *prefix, char out[CH_ADDR_STR_MAX],
                     ch_error *err) {
    size_t pl = strlen(prefix);
    if (strncmp(url, prefix, pl) != 0) return ch_err(err, "path does not start with %s", prefix);
    const char *seg = url + pl;
    size_t n = strlen(seg);
    if (n == 0) return ch_err(err, "no address in the path");
    if (n >= CH_ADDR_STR_MAX)
        return ch_err(err, "address in the path is %zu bytes long: at most %d", n,
                      CH_ADDR_STR_MAX - 1);
    if (!strcmp(seg, ".") || !strcmp(seg, "..")) return ch_err(err, "'%s' is no address", seg);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)seg[i];
        if (c == '/') return ch_err(err, "the path has more segments than one address");
        if (!path_char_ok(c))
            return ch_err(err,
                          "byte 0x%02x at offset %zu of the address: an address has only "
                          "letters, digits, ':', '-', '_' and '.'",
                          c, i);
    }
    memcpy(out, seg, n + 1);
    return 0;
}

int srv_path_segment(const char *url, const char *prefix, const char *suffix,
                     char out[CH_ADDR_STR_MAX], ch_error *err) {
    size_t ul = strlen(url), sl = suffix ? strlen(suffix) : 0;
    if (sl && (ul < sl || strcmp(url + ul - sl, suffix) != 0))
        return ch_err(err, "path does not end with %s", suffix);
    char buf[512];
    if (ul - sl >= sizeof buf) return ch_err(err, "the path is %zu bytes long", ul);
    memcpy(buf, url, ul - sl);
    buf[ul - sl] = '\0';
    return srv_path_address(buf, prefix, out, err);
}

int srv_parse_count(const char *name, const char *text, uint64_t def, uint64_t max, uint64_t *out,
                    ch_error *err) {
    if (!text) {
        *out = def;
        return 0;
    }
    if (ch_parse_uint(text, 1, max, false, out) != 0)
        return ch_err(err, "%s: '%.40s' is not a whole number from 1 to %llu", name, text,
                      (unsigned long long)max);
    return 0;
}

/* One object of the batch into *it; -1 with err ("item I: ..."). */
static int parse_item(json_t *o, size_t i, srv_item *it, ch_error *err) {
    if (!json_is_object(o)) return ch_err(err, "item %zu: not an object", i);
    memset(it, 0, sizeof *it);
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        if (!strcmp(key, "address")) {
            if (!json_is_string(v)) return ch_err(err, "item %zu: address is not a string", i);
            it->address = json_string_value(v);
        } else if (!strcmp(key, "chain")) {
            if (!json_is_string(v)) return ch_err(err, "item %zu: chain is not a string", i);
            it->chain = json_string_value(v);
            if (!ch_store_name_ok(it->chain))
                return ch_err(err, "item %zu: chain is no chain name (letters, digits, '-')", i);
        } else if (!strcmp(key, "external_id")) {
            if (!json_is_string(v)) return ch_err(err, "item %zu: external_id is not a string", i);
            if (json_string_length(v) > SRV_EXTERNAL_ID_MAX)
                return ch_err(err, "item %zu: external_id is over %d bytes", i,
                              SRV_EXTERNAL_ID_MAX);
            it->external_id = json_string_value(v);
        } else {
            /* a misspelt field must not pass as an absent one */
            return ch_err(err, "item %zu: unknown field (address, chain, external_id are known)",
                          i);
        }
    }
    if (!it->address) return ch_err(err, "item %zu: no address", i);
    return 0;
}

int srv_parse_batch(const char *body, size_t len, size_t max_items, json_t **doc, srv_item **items,
                    size_t *n, int *too_many, ch_error *err) {
    *doc = NULL;
    *items = NULL;
    *n = 0;
    *too_many = 0;
    json_error_t je;
    /* jansson refuses invalid UTF-8 and NUL in strings by default */
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return ch_err(err, "malformed JSON at line %d, column %d: %s", je.line, je.column, je.text);
    if (!json_is_array(root)) {
        json_decref(root);
        return ch_err(err, "the body is not a JSON array of {\"address\": ...} objects");
    }
    size_t count = json_array_size(root);
    if (count == 0) {
        json_decref(root);
        return ch_err(err, "an empty batch: nothing to screen");
    }
    if (count > max_items) {
        json_decref(root);
        *too_many = 1;
        return ch_err(err, "a batch of %zu addresses: at most %zu a request", count, max_items);
    }
    srv_item *v = calloc(count, sizeof *v);
    if (!v) {
        json_decref(root);
        return ch_err(err, "out of memory");
    }
    for (size_t i = 0; i < count; i++) {
        if (parse_item(json_array_get(root, i), i, &v[i], err) != 0) {
            free(v);
            json_decref(root);
            return -1;
        }
    }
    *doc = root;
    *items = v;
    *n = count;
    return 0;
}

/* Is s[0..n) ASCII without a NUL? 8 bytes at a time: an address and an id
 * are, and the byte-at-a-time UTF-8 check was 6% of a batch of clean
 * addresses. A word has a NUL or a byte >= 0x80 exactly when (x - 1s) | x
 * has a high bit set (a byte of 1..0x7f minus one borrows nothing). */
static bool ascii_no_nul(const char *s, size_t n) {
    const uint64_t ONES = 0x0101010101010101ull, HIGH = 0x8080808080808080ull;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x;
        memcpy(&x, s + i, 8);
        if (((x - ONES) | x) & HIGH) return false;
    }
    for (; i < n; i++)
        if (s[i] == '\0' || (unsigned char)s[i] >= 0x80) return false;
    return true;
}

/* A string member of an item as srv_parse_batch takes it: no NUL (jansson
 * refuses "\u0000") and well-formed UTF-8 (a lone surrogate escape is no
 * character: jansson refuses it, simdjson may write its three bytes). */
static bool fast_str(sj_val v, const char **out, size_t *len) {
    const char *t = sj_str(v, len);
    if (!t) return false;
    if (!ascii_no_nul(t, *len) && (memchr(t, '\0', *len) || !ch_utf8_valid(t, *len))) return false;
    *out = t;
    return true;
}

int srv_parse_batch_fast(sj_parser *p, const char *body, size_t len, size_t max_items,
                         srv_item **items, size_t *cap, size_t *n) {
    *n = 0;
    /* a byte-order mark: jansson refuses it, let it say so */
    if (len >= 3 && (unsigned char)body[0] == 0xef) return 0;
    sj_val root;
    if (sj_parse(p, body, len, &root) != 0 || !sj_is_array(root)) return 0;
    size_t count = sj_size(root);
    if (count == 0 || count > max_items) return 0;
    srv_item *v = ch_grow(*items, cap, count, sizeof *v);
    if (!v) return -1;
    *items = v;
    sj_iter it = sj_items(root);
    sj_val o;
    size_t i = 0;
    for (; sj_next(&it, &o); i++) {
        if (i == count || !sj_is_object(o)) return 0;
        srv_item *x = &v[i];
        memset(x, 0, sizeof *x);
        size_t found = 0, l;
        sj_val a = sj_get(o, "address"), c = sj_get(o, "chain"), e = sj_get(o, "external_id");
        /* each key found once and no other: the members are exactly these
         * (a duplicate or an unknown key makes the count differ) */
        if (!sj_present(a) || !fast_str(a, &x->address, &l)) return 0;
        found++;
        if (sj_present(c)) {
            if (!fast_str(c, &x->chain, &l) || !ch_store_name_ok(x->chain)) return 0;
            found++;
        }
        if (sj_present(e)) {
            if (!fast_str(e, &x->external_id, &l) || l > SRV_EXTERNAL_ID_MAX) return 0;
            found++;
        }
        if (sj_size(o) != found) return 0;
    }
    if (i != count) return 0;
    *n = count;
    return 1;
}

/* A whole number field (a JSON integer, or a decimal string for amounts
 * past 2^53), or a time field (unix seconds, or a YYYY-MM-DD string). */
static int field_uint(json_t *v, const char *k, uint64_t max, uint64_t *out, ch_error *err) {
    if (json_is_integer(v) && json_integer_value(v) >= 0 &&
        (uint64_t)json_integer_value(v) <= max) {
        *out = (uint64_t)json_integer_value(v);
        return 0;
    }
    if (json_is_string(v) && ch_parse_uint(json_string_value(v), 0, max, false, out) == 0) return 0;
    return ch_err(err, "%s: a whole number from 0 to %llu", k, (unsigned long long)max);
}

static int field_time(json_t *v, const char *k, bool end, uint32_t *out, ch_error *err) {
    if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= UINT32_MAX) {
        *out = (uint32_t)json_integer_value(v);
        return 0;
    }
    if (json_is_string(v) && ch_parse_time(json_string_value(v), end, out) == 0) return 0;
    return ch_err(err, "%s: unix seconds or a date YYYY-MM-DD", k);
}

static int field_str(json_t *v, const char *k, const char **out, ch_error *err) {
    if (!json_is_string(v)) return ch_err(err, "%s is not a string", k);
    *out = json_string_value(v);
    return 0;
}

/* One field of a trace body into spec; -1 with err. */
static int trace_field(const char *k, json_t *v, uint32_t max_hops, ch_trace_spec *o,
                       const char **chain, ch_error *err) {
    uint64_t u;
    const char *t = NULL;
    if (!strcmp(k, "source")) return field_str(v, k, &o->source, err);
    if (!strcmp(k, "stop_at")) return field_str(v, k, &o->stop_at, err);
    if (!strcmp(k, "chain")) {
        if (field_str(v, k, chain, err) != 0) return -1;
        return ch_store_name_ok(*chain) ? 0 : ch_err(err, "chain: no chain name");
    }
    if (!strcmp(k, "policy")) {
        if (field_str(v, k, &t, err) != 0) return -1;
        return ch_trace_policy_parse(t, &o->policy) == 0
                   ? 0
                   : ch_err(err, "policy: poison, haircut, fifo or lifo");
    }
    if (!strcmp(k, "direction")) {
        if (field_str(v, k, &t, err) != 0) return -1;
        return ch_trace_direction_parse(t, &o->direction) == 0
                   ? 0
                   : ch_err(err, "direction: forward or backward");
    }
    if (!strcmp(k, "max_hops")) {
        if (field_uint(v, k, max_hops, &u, err) != 0 || u == 0)
            return ch_err(err, "max_hops: from 1 to %u (this service's bound)", max_hops);
        o->max_hops = (uint32_t)u;
        return 0;
    }
    if (!strcmp(k, "first_block")) return field_uint(v, k, UINT64_MAX, &o->first_block, err);
    if (!strcmp(k, "last_block")) return field_uint(v, k, UINT64_MAX, &o->last_block, err);
    if (!strcmp(k, "min_amount")) {
        if (field_uint(v, k, UINT64_MAX, &u, err) != 0) return -1;
        o->min_amount = u;
        return 0;
    }
    if (!strcmp(k, "since")) return field_time(v, k, false, &o->since, err);
    if (!strcmp(k, "until")) return field_time(v, k, true, &o->until, err);
    return ch_err(err,
                  "unknown field '%.64s' (source, chain, policy, direction, max_hops, "
                  "first_block, last_block, min_amount, since, until, stop_at are known)",
                  k);
}

int srv_trace_spec_of(json_t *obj, uint32_t max_hops, ch_trace_spec *spec, const char **chain,
                      ch_error *err) {
    *chain = NULL;
    ch_trace_spec_init(spec);
    spec->max_hops = max_hops;
    if (!json_is_object(obj)) return ch_err(err, "the body is not a JSON object {\"source\": ...}");
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        if (trace_field(k, v, max_hops, spec, chain, err) != 0) return -1;
    }
    if (!spec->source || !spec->source[0])
        return ch_err(err, "no source (a txid, txid:vout or an address)");
    if (spec->since && spec->until && spec->since > spec->until)
        return ch_err(err, "until is before since: an empty window");
    if (spec->last_block && spec->first_block > spec->last_block)
        return ch_err(err, "last_block is before first_block: an empty range");
    return 0;
}

int srv_parse_trace(const char *body, size_t len, uint32_t max_hops, json_t **doc,
                    ch_trace_spec *spec, const char **chain, ch_error *err) {
    *doc = NULL;
    json_error_t je;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        *chain = NULL;
        ch_trace_spec_init(spec);
        spec->max_hops = max_hops;
        return ch_err(err, "malformed JSON at line %d, column %d: %s", je.line, je.column, je.text);
    }
    if (srv_trace_spec_of(root, max_hops, spec, chain, err) != 0) {
        json_decref(root);
        return -1;
    }
    *doc = root;
    return 0;
}
