/* Parsing what a client sends: see server/request.h. */
#include "server/request.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/numparse.h"

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
