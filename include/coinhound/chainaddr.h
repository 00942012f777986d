/* coinhound: addresses of every chain on OFAC's list, validated and put in
 * canonical form.
 *
 * The canonical string is the identity used by the attribution store and the
 * screening set:
 *   EVM (ETH, ETC, BSC, ARB, USDT/USDC on Ethereum, ...): "0x" + 40 lowercase
 *     hex; a mixed-case input must pass its EIP-55 checksum (Keccak-256);
 *   Bech32/Bech32m and cashaddr: lowercase (cashaddr with its "bitcoincash:"
 *     prefix);
 *   Base58 formats (BTC/LTC/BCH/BSV/BTG legacy, DASH, ZEC t-addr, XMR, TRX,
 *     XRP, XVG): as written (they are case-sensitive), checksum verified.
 * A mistyped address fails with a reason ("bad checksum"), never passes. */
#ifndef COINHOUND_CHAINADDR_H
#define COINHOUND_CHAINADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coinhound/error.h"
#include "coinhound/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ch_family {
    CH_FAM_UNKNOWN = 0,
    CH_FAM_BTC,
    CH_FAM_EVM,
    CH_FAM_LTC,
    CH_FAM_BCH,
    CH_FAM_BSV,
    CH_FAM_BTG,
    CH_FAM_DASH,
    CH_FAM_ZEC,
    CH_FAM_XMR,
    CH_FAM_TRX,
    CH_FAM_XRP,
    CH_FAM_XVG,
    CH_FAM_SOL,
    CH_FAM_COUNT
} ch_family;

typedef struct ch_chainaddr {
    ch_family family;
    bool testnet;
    char canonical[CH_ADDR_STR_MAX];
} ch_chainaddr;

/* "BTC", "EVM", ... */
const char *ch_family_name(ch_family f);
/* Family of an asset code as OFAC writes it in "Digital Currency Address -
 * XBT": XBT->BTC, ETH/ETC/BSC/ARB/USDC->EVM, USDT->EVM (a Tron-format USDT
 * address is recognised as TRX by its form), LTC, BCH, ... ; UNKNOWN if none. */
ch_family ch_family_from_asset(const char *asset_code);

/* Validate and normalise. With hint == CH_FAM_UNKNOWN the family is detected
 * from the form (a legacy "1..."/"3..." string is BTC; BCH and BSV share it,
 * which callers that screen handle by key, not by family). */
int ch_chainaddr_parse(const char *s, ch_family hint, ch_chainaddr *out, ch_error *err);

/* Why an address was refused, for a door that answers differently to a
 * mistyped address than to something that is no address at all (poison
 * --check: "bad_checksum" or "not_an_address"). */
typedef enum ch_addr_fault {
    CH_ADDR_FAULT_NONE = 0,    /* accepted */
    CH_ADDR_FAULT_FORM,        /* no supported address form (length, alphabet, version, ...) */
    CH_ADDR_FAULT_CHECKSUM,    /* a supported form whose checksum does not hold: mistyped or
                                  altered (EIP-55 case, Base58Check, Bech32, cashaddr, XRP,
                                  Monero) */
    CH_ADDR_FAULT_UNSUPPORTED, /* another chain's address (ch_chainaddr_unsupported) */
} ch_addr_fault;

/* ch_chainaddr_parse, and the reason of a refusal in *fault (when not NULL;
 * CH_ADDR_FAULT_NONE on success). */
int ch_chainaddr_parse_fault(const char *s, ch_family hint, ch_chainaddr *out, ch_addr_fault *fault,
                             ch_error *err);

/* ch_chainaddr_parse_fault for n strings: rc[i] (0 or -1), out[i],
 * fault[i] and err[i] as ch_chainaddr_parse_fault(s[i], hint, &out[i],
 * &fault[i], &err[i]) sets them (fault and err may be NULL). Faster per
 * string than a call each when many are EVM addresses in EIP-55 mixed case:
 * their checksums' Keccak-256 are worked out several at a time (one state
 * per vector element where the CPU has AVX2 or AVX-512). */
void ch_chainaddr_parse_many(const char *const *s, size_t n, ch_family hint, ch_chainaddr *out,
                             int *rc, ch_addr_fault *fault, ch_error *err);

/* Is s the address of a chain coinhound does not support? 1 with a
 * description in why ("THORChain (Bech32 prefix 'thor')"), else 0. It
 * recognises: Bech32 prefixes of known other chains (THORChain, Cosmos SDK
 * chains, Cardano, Harmony, ...); any other prefix whose Bech32 checksum is
 * valid; 0x + 64 hex digits (32-byte account keys); a valid Base58Check
 * string of a version no supported chain uses. ch_chainaddr_parse() fails
 * on these with "unsupported chain: <why>", so callers need this only to
 * tell that answer apart from an invalid address. */
int ch_chainaddr_unsupported(const char *s, char *why, size_t cap);

/* An EVM address ("0x" + 40 hex digits) into its 20 bytes, refusing what
 * ch_chainaddr_parse() refuses: a mixed-case string must pass its EIP-55
 * checksum (all-lowercase and all-uppercase carry none and are accepted).
 * -1 with the reason in err ("bad checksum (EIP-55 ...)", "not an EVM
 * address ..."); out is untouched then. Every door that takes an EVM address
 * from a person (screen, poison --check) goes through this or
 * ch_chainaddr_parse, so a mistyped or altered address is refused alike. */
int ch_evm_addr_parse(const char *s, uint8_t out[20], ch_error *err);
/* ch_evm_addr_parse, and the reason of a refusal in *fault (when not NULL):
 * CH_ADDR_FAULT_CHECKSUM for a mixed case that fails EIP-55, else FORM. */
int ch_evm_addr_parse_fault(const char *s, uint8_t out[20], ch_addr_fault *fault, ch_error *err);

/* EIP-55 mixed-case form of a 20-byte EVM address (out: 43 bytes). */
void ch_evm_checksum_address(const uint8_t addr[20], char out[43]);

#ifdef __cplusplus
}
#endif

#endif
