/* coinhound: the public API, all of it (or include the one header you need).
 *
 * `make install PREFIX=...` installs these headers with libcoinhound.a,
 * libcoinhound.so and coinhound.pc; build with
 *
 *   cc app.c $(pkg-config --cflags --libs coinhound)          (shared)
 *   cc app.c $(pkg-config --cflags coinhound) PREFIX/lib/libcoinhound.a \
 *      $(pkg-config --libs $(pkg-config --print-requires-private coinhound)) \
 *      -lpthread -lm                                         (static)
 *
 * error.h states the conventions every header keeps: return values, NULL,
 * threads, the ch_ prefix. Every header is usable from C++.
 *
 * ---- What an embedder uses (installed) ----------------------------------
 *   store.h          the chain store: open, read blocks, txs, outputs, addresses
 *   ingest.h         Bitcoin blk files and EVM exports or nodes into a store
 *   btc.h, evm.h     the chains' formats, parsed into the model (for ingest)
 *   trace.h          taint tracing on a UTXO store (poison, haircut, FIFO)
 *   trace_account.h  taint tracing on an account (EVM) store
 *   report.h         reports people read: the case report of a trace (HTML)
 *   cluster.h        multi-input clustering, CoinJoin detection, labels
 *   screen.h         the offline screening set (format: docs/screening-set.md)
 *   risk.h           risk verdicts from attributions
 *   exposure.h       indirect exposure through the chain
 *   intel.h          the attribution store and its importers
 *   poison.h         the people's safeguard: address-poisoning signals
 *   tokens.h         EVM token tables (used by the safeguard)
 *   model.h, address.h, chainaddr.h, hash.h
 *                    the shared types: addresses, transfers, hashes, hex
 *   error.h, version.h
 *
 * ---- Internal or tool headers (in the source tree, not installed) -------
 *   jsonw.h          the CLI's streaming JSON writer
 *   screener.h       one address's verdict with its evidence, and its JSON
 *                    (what `screen` and `serve` call; writes through jsonw.h)
 *   server.h         the HTTP service behind `coinhound serve`
 *   progress.h       progress lines on a terminal
 *   encode.h         Base58Check and Bech32 (reach them through address.h
 *                    and chainaddr.h)
 *   watch.h          the live watcher: rules, the follower, the alert log
 *                    (young: its API may change before it is installed)
 *   gen.h, evmgen.h  the chain generators, in their own tool library
 *                    (libcoinhound-gen.a) for tests and benchmarks
 * Their functions are ch_ named, like all the library's, but carry no
 * promise: they may change in any release. */
#ifndef COINHOUND_COINHOUND_H
#define COINHOUND_COINHOUND_H

#include "coinhound/address.h"
#include "coinhound/btc.h"
#include "coinhound/chainaddr.h"
#include "coinhound/cluster.h"
#include "coinhound/error.h"
#include "coinhound/evm.h"
#include "coinhound/exposure.h"
#include "coinhound/hash.h"
#include "coinhound/ingest.h"
#include "coinhound/intel.h"
#include "coinhound/lock.h"
#include "coinhound/model.h"
#include "coinhound/poison.h"
#include "coinhound/report.h"
#include "coinhound/risk.h"
#include "coinhound/screen.h"
#include "coinhound/query.h"
#include "coinhound/store.h"
#include "coinhound/tokens.h"
#include "coinhound/trace.h"
#include "coinhound/trace_account.h"
#include "coinhound/version.h"

#endif
