/* Address parsing without its fast path, for the tests that hold the fast
 * path to the general one (chainaddr.c). */
#ifndef COINHOUND_INTEL_CHAINADDR_GENERAL_H
#define COINHOUND_INTEL_CHAINADDR_GENERAL_H

#include "coinhound/chainaddr.h"

/* ch_chainaddr_parse_fault as it answers without the fast path for the
 * common forms (EVM, Bitcoin P2PKH, P2SH and segwit): every family tried
 * in detection's order. The answers must be the same, field for field. */
int chainaddr_parse_general(const char *s, ch_family hint, ch_chainaddr *out, ch_addr_fault *fault,
                            ch_error *err);

#endif
