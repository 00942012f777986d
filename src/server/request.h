/* Parsing what a client sends (server/request.c): the address in a path,
 * the body of POST /v1/screen. Pure functions over bytes, no server state,
 * so the fuzz harness (fuzz/fuzz_server_request.c) drives them directly. */
#ifndef COINHOUND_SERVER_REQUEST_H
#define COINHOUND_SERVER_REQUEST_H

#include <jansson.h>
#include <stddef.h>

#include "coinhound/chainaddr.h"
#include "coinhound/error.h"

/* One item of a screening batch: pointers into the parsed document. */
typedef struct srv_item {
    const char *address;
    const char *chain;       /* NULL when not given */
    const char *external_id; /* NULL when not given */
} srv_item;

#define SRV_EXTERNAL_ID_MAX 256

/* The address of a path: url must be prefix followed by one segment of 1 to
 * CH_ADDR_STR_MAX - 1 characters, each a letter, digit, ':', '-', '_' or
 * '.', and not "." or "..". 0 with out filled; -1 with err naming what is
 * wrong (a path trick, an empty or overlong segment, a character). */
int srv_path_address(const char *url, const char *prefix, char out[CH_ADDR_STR_MAX], ch_error *err);

/* Parse a POST /v1/screen body: a JSON array (1..max_items) of objects with
 * "address" (a string, required), "chain" (a chain name) and "external_id"
 * (a string of at most SRV_EXTERNAL_ID_MAX bytes), no other field. Invalid
 * UTF-8, NUL in a string, duplicate keys and trailing bytes are refused.
 * 0: *doc holds the document (json_decref it) and *items (free it) its n
 * items. -1: err says what and where ("item 3: ..."); *too_many is set when
 * the only fault is the count (the caller answers 413, else 400). */
int srv_parse_batch(const char *body, size_t len, size_t max_items, json_t **doc, srv_item **items,
                    size_t *n, int *too_many, ch_error *err);

#endif
