/* A small Bitcoin Core JSON-RPC responder for tests: serves the three calls
 * a follower makes (getbestblockhash, getblockhash, getblock HASH 0) over
 * blocks held in memory, on a loopback port, with basic authentication,
 * and can be made to answer garbage or go away. */
#ifndef COINHOUND_TEST_BTCNODE_H
#define COINHOUND_TEST_BTCNODE_H

#include <stddef.h>
#include <stdint.h>

typedef struct tu_btcnode tu_btcnode;

/* TU_NODE_HANG: a call is read (and counted) and not answered until the
 * mode changes or the node stops or goes down (a node that accepted the
 * request and stalled); the daemon's one thread: later calls wait too. */
typedef enum { TU_NODE_OK, TU_NODE_GARBAGE, TU_NODE_ERROR500, TU_NODE_HANG } tu_node_mode;

/* Start on a free loopback port, requiring "user:password" (NULL: none). */
tu_btcnode *tu_btcnode_start(const char *userpwd);
void tu_btcnode_stop(tu_btcnode *n);
/* http://127.0.0.1:PORT/ */
const char *tu_btcnode_url(const tu_btcnode *n);
/* The chain served: the best chain of a blk folder, heights [0, tip] of it
 * (tip past its end: all). Replaces what was served (a reorg when the
 * folder's chain differs). */
void tu_btcnode_serve_folder(tu_btcnode *n, const char *blocks_dir, uint32_t tip);
/* Raw blocks (copied), height 0 first. */
void tu_btcnode_serve(tu_btcnode *n, uint8_t *const *blocks, const size_t *lens, size_t count);
/* How many of the blocks served are on the chain (the tip moves). */
void tu_btcnode_set_tip(tu_btcnode *n, uint32_t tip);
void tu_btcnode_set_mode(tu_btcnode *n, tu_node_mode m);
/* Hold each answer back ms milliseconds (a slow node; 0: at once). One
 * thread answers: a call behind a slow one waits for it too. */
void tu_btcnode_set_delay(tu_btcnode *n, unsigned ms);
/* Close the port (a node that went away) and open it again. */
void tu_btcnode_down(tu_btcnode *n);
void tu_btcnode_up(tu_btcnode *n);
/* The mode becomes TU_NODE_HANG at call number `call` (counted as
 * tu_btcnode_calls counts; 0: never), e.g. in the middle of a catch-up. */
void tu_btcnode_hang_at(tu_btcnode *n, unsigned call);
/* Calls answered so far. */
unsigned tu_btcnode_calls(const tu_btcnode *n);

#endif
