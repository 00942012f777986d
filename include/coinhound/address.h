/* coinhound: Bitcoin-family addresses as strings <-> ch_addr. */
#ifndef COINHOUND_ADDRESS_H
#define COINHOUND_ADDRESS_H

#include "coinhound/error.h"
#include "coinhound/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Render an address for a Bitcoin network: Base58Check for P2PKH/P2SH,
 * Bech32/Bech32m for witness programs, "0x" + lowercase hex for EVM.
 * Returns -1 for CH_ADDR_NONE. */
int ch_addr_to_string(const ch_addr *a, ch_network net, char out[CH_ADDR_STR_MAX]);

/* Parse a Bitcoin address (mainnet, testnet or regtest; *net tells which,
 * may be NULL). A mistyped address fails with "bad checksum". */
int ch_addr_from_string(const char *s, ch_addr *a, ch_network *net, ch_error *err);

#ifdef __cplusplus
}
#endif

#endif
