/* A minimal WebSocket client (RFC 6455) for an EVM node's subscriptions
 * (eth_subscribe "newHeads"): the watcher's `--rpc ws://...`.
 *
 * Why written here: Debian's libcurl (7.88) is built without its
 * experimental WebSocket API, and libwebsockets is an event-loop framework
 * for servers and many connections, where the watcher needs one blocking
 * connection that it reads between blocks. What a node's subscription uses
 * is small: the HTTP upgrade (Sec-WebSocket-Key checked against
 * Sec-WebSocket-Accept), masked text frames from the client, text frames
 * (fragmented or not) from the node, ping answered by pong, close answered
 * by close. Plain ws:// only: wss:// (TLS) is refused with a message.
 *
 * The frame parser is a pure function over bytes (fuzz/fuzz_ws_frame.c). */
#ifndef COINHOUND_CHAINS_ETH_WS_H
#define COINHOUND_CHAINS_ETH_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coinhound/error.h"

enum {
    WS_CONT = 0x0,
    WS_TEXT = 0x1,
    WS_BINARY = 0x2,
    WS_CLOSE = 0x8,
    WS_PING = 0x9,
    WS_PONG = 0xA,
};

/* A frame's header, and where its payload lies in the bytes parsed. */
typedef struct ws_frame {
    bool fin;
    uint8_t opcode;
    bool masked;
    uint8_t mask[4];
    uint64_t len;  /* payload bytes */
    size_t header; /* bytes before the payload */
} ws_frame;

/* The frame at buf[0..n): 1 with *f when its header and whole payload are
 * there (f->header + f->len <= n), 0 when more bytes are needed, -1 when it
 * is malformed (err says why): a reserved bit set, an unknown opcode, a
 * control frame that is fragmented or over 125 bytes, a length not in its
 * shortest form or with the top bit set, or a payload over max_payload
 * (never allocated: the caller reads only what arrived). */
int ws_frame_parse(const uint8_t *buf, size_t n, uint64_t max_payload, ws_frame *f, ch_error *err);
/* A client's frame (FIN set, masked with mask) of opcode and payload into
 * out, which holds len + 14 bytes: its size. */
size_t ws_frame_write(uint8_t *out, uint8_t opcode, const uint8_t *payload, size_t len,
                      const uint8_t mask[4]);
/* Sec-WebSocket-Accept for a key: base64(SHA-1(key + the RFC's GUID)). */
void ws_accept_for(const char *key, char out[29]);

typedef struct evm_ws evm_ws;

/* Connect to ws://host[:port][/path] and upgrade, within timeout_ms. */
int evm_ws_open(const char *url, unsigned timeout_ms, evm_ws **out, ch_error *err);
void evm_ws_close(evm_ws *w);
/* Send one text message. */
int evm_ws_send(evm_ws *w, const char *text, size_t len, ch_error *err);
/* Wait up to timeout_ms for the next message: 1 with *msg (malloc'd,
 * NUL-terminated; the caller frees) and *len, 0 when none came in time,
 * -1 when the connection is gone or broke the protocol (err says which; a
 * close from the node is answered first). Pings are answered, pongs
 * dropped. */
int evm_ws_recv(evm_ws *w, unsigned timeout_ms, char **msg, size_t *len, ch_error *err);

/* eth_subscribe("newHeads") on w: 0 once the node confirmed it (within
 * timeout_ms), -1 else. Its notifications then come through evm_ws_recv;
 * evm_ws_is_head tells them from other messages. */
int evm_ws_subscribe_heads(evm_ws *w, unsigned timeout_ms, ch_error *err);
/* A message is a notification of the subscription (eth_subscription). */
bool evm_ws_is_head(const evm_ws *w, const char *msg, size_t len);

#endif
