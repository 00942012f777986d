/* sjson: a small C face on simdjson's DOM parser (Debian's libsimdjson-dev).
 *
 * Why: the EVM readers parse gigabytes of JSON lines; jansson builds a tree
 * of malloc'd nodes at about 70 MB/s, simdjson parses into a flat tape at
 * gigabytes a second. simdjson is C++: this shim (sjson.cpp, the only C++
 * in coinhound) gives C the few calls the readers need, and nothing leaks
 * through but plain C types.
 *
 * Values are small handles into the parser's last document: they are valid
 * until the next sj_parse on the same parser or sj_parser_free, and must
 * not be used after. A handle of type SJ_NONE stands for "absent" (a key
 * not in the object, an index past the end), as jansson's NULL does: every
 * accessor takes it and answers "no" or zero, never crashes.
 *
 * What simdjson accepts that jansson did not: "\u0000" inside strings (the
 * length then counts it; sj_str's text is still NUL-terminated after it),
 * and integers from 2^63 to 2^64-1 (SJ_UINT). An integer of 2^64 or more
 * is refused (simdjson 3's "Problem while parsing a number"), never rounded. A document simdjson
 * refuses is refused: callers that must name the column of the fault ask jansson for it (sj_parse
 * says only that it failed and simdjson's reason). Nesting deeper than SJ_MAX_DEPTH is refused, as
 * jansson refuses past 2048. */
#ifndef COINHOUND_SJSON_H
#define COINHOUND_SJSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SJ_MAX_DEPTH 2048

typedef enum {
    SJ_NONE = 0, /* absent: not a JSON value */
    SJ_NULL,
    SJ_FALSE,
    SJ_TRUE,
    SJ_INT,    /* fits int64_t */
    SJ_UINT,   /* above INT64_MAX, fits uint64_t */
    SJ_DOUBLE, /* a number with a fraction or exponent, or too large for 64 bits */
    SJ_STRING,
    SJ_ARRAY,
    SJ_OBJECT
} sj_type;

/* A value of the parser's current document (opaque: copy it freely). */
typedef struct sj_val {
    const void *doc;
    size_t at;
    sj_type type;
} sj_val;

/* Walks an array's items in order (opaque). */
typedef struct sj_iter {
    const void *doc;
    size_t at, end;
} sj_iter;

typedef struct sj_parser sj_parser;

/* A parser with no document yet; NULL when out of memory. */
sj_parser *sj_parser_new(void);
void sj_parser_free(sj_parser *p);

/* Parse buf[0..len) as one JSON document (surrounding whitespace allowed,
 * anything else after the value is an error). 0 and *root set; -1 when the
 * text is not JSON (or out of memory), with simdjson's reason in
 * sj_parser_error. The parser copies the text: buf need not outlive it. */
int sj_parse(sj_parser *p, const char *buf, size_t len, sj_val *root);
const char *sj_parser_error(const sj_parser *p);

/* A value that is absent (SJ_NONE). */
sj_val sj_none(void);

/* The value of key in object o; SJ_NONE when o is not an object or lacks
 * the key (the first of duplicate keys wins). */
sj_val sj_get(sj_val o, const char *key);
/* Items of an array, members of an object; 0 for anything else. */
size_t sj_size(sj_val v);
/* Item i of array a (linear in i: walk with sj_iter when visiting all). */
sj_val sj_at(sj_val a, size_t i);
/* Start walking a (no items when a is not an array). */
sj_iter sj_items(sj_val a);
/* The next item into *out: true, or false at the end. */
bool sj_next(sj_iter *it, sj_val *out);

/* Whether v is, or holds at any depth, a number with a fraction or an
 * exponent (SJ_DOUBLE): a reader that needs numbers' exact text then reads
 * the document another way (simdjson keeps a double's value, not its text). */
bool sj_has_double(sj_val v);

/* A string's text (NUL-terminated) and length; NULL (len 0) when v is not
 * a string. */
const char *sj_str(sj_val v, size_t *len);
/* sj_int: an SJ_INT's value, 0 for anything else. sj_uint: an SJ_UINT's
 * value or a non-negative SJ_INT's, 0 for anything else. */
int64_t sj_int(sj_val v);
uint64_t sj_uint(sj_val v);

static inline bool sj_is(sj_val v, sj_type t) {
    return v.type == t;
}
static inline bool sj_present(sj_val v) {
    return v.type != SJ_NONE;
}
static inline bool sj_is_null(sj_val v) {
    return v.type == SJ_NULL;
}
static inline bool sj_is_string(sj_val v) {
    return v.type == SJ_STRING;
}
static inline bool sj_is_array(sj_val v) {
    return v.type == SJ_ARRAY;
}
static inline bool sj_is_object(sj_val v) {
    return v.type == SJ_OBJECT;
}
static inline bool sj_is_integer(sj_val v) {
    return v.type == SJ_INT || v.type == SJ_UINT;
}

#ifdef __cplusplus
}
#endif

#endif
