/* Parsing what a client sends (server/request.c): the address in a path,
 * the body of POST /v1/screen. Pure functions over bytes, no server state,
 * so the fuzz harness (fuzz/fuzz_server_request.c) drives them directly. */
#ifndef COINHOUND_SERVER_REQUEST_H
#define COINHOUND_SERVER_REQUEST_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "coinhound/chainaddr.h"
#include "coinhound/error.h"
#include "coinhound/trace.h"

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

/* The one segment between prefix and suffix (NULL: none) of a path, with
 * srv_path_address's rules ("/v1/address/{a}/txs"). */
int srv_path_segment(const char *url, const char *prefix, const char *suffix,
                     char out[CH_ADDR_STR_MAX], ch_error *err);

/* A count parameter such as limit: NULL gives def; else a decimal in
 * [1, max]. 0 or -1 with err naming the parameter. */
int srv_parse_count(const char *name, const char *text, uint64_t def, uint64_t max, uint64_t *out,
                    ch_error *err);

/* Parse a POST /v1/screen body: a JSON array (1..max_items) of objects with
 * "address" (a string, required), "chain" (a chain name) and "external_id"
 * (a string of at most SRV_EXTERNAL_ID_MAX bytes), no other field. Invalid
 * UTF-8, NUL in a string, duplicate keys and trailing bytes are refused.
 * 0: *doc holds the document (json_decref it) and *items (free it) its n
 * items. -1: err says what and where ("item 3: ..."); *too_many is set when
 * the only fault is the count (the caller answers 413, else 400). */
int srv_parse_batch(const char *body, size_t len, size_t max_items, json_t **doc, srv_item **items,
                    size_t *n, int *too_many, ch_error *err);

/* The same parse on simdjson (util/sjson.h), for the batches a service
 * answers by the thousand: jansson built a node per value and was a quarter
 * of a batch's time. It only accepts: 1 when the body is a batch
 * srv_parse_batch accepts, with *items (reused: *cap grows it, the caller
 * frees it) pointing into p's document (valid until p parses again) and *n
 * set, the same items srv_parse_batch gives; 0 for anything else
 * (malformed, too many, an unknown field, a body simdjson and jansson
 * might judge differently ...): srv_parse_batch then says what is wrong,
 * in its words, so an error reads the same whichever parser ran. -1: out
 * of memory. */
struct sj_parser;
int srv_parse_batch_fast(struct sj_parser *p, const char *body, size_t len, size_t max_items,
                         srv_item **items, size_t *cap, size_t *n);

/* Parse a POST /v1/trace body: an object with "source" (required: a txid,
 * txid:vout or an address; an 0x address or tx hash on an account chain)
 * and optional "chain" (a chain name), "policy", "direction" (as trace's
 * options), "max_hops" (1..max_hops; absent: max_hops, so every trace the
 * service runs is bounded), "first_block", "last_block", "min_amount"
 * (whole numbers), "since", "until" (unix seconds or YYYY-MM-DD) and
 * "stop_at" (categories, comma-separated). No other field. 0 with spec
 * filled (its strings point into *doc: json_decref it after) and *chain
 * (NULL when not given); -1 with err naming the field. */
int srv_parse_trace(const char *body, size_t len, uint32_t max_hops, json_t **doc,
                    ch_trace_spec *spec, const char **chain, ch_error *err);
/* The same rules over an object already parsed (the "trace" field of a
 * POST /v1/report/case body): spec's strings point into obj. 0, or -1 with
 * err naming the field. */
int srv_trace_spec_of(json_t *obj, uint32_t max_hops, ch_trace_spec *spec, const char **chain,
                      ch_error *err);

#endif
