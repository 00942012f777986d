/* coinhound: the chain-neutral model.
 *
 * Every chain is translated into the same few things:
 *   - an *address* (ch_addr): who can spend, as bytes with a kind; strings are
 *     only made at the edges (ch_addr_to_string in address.h);
 *   - a *transfer* moves value of one asset from pools to pools at a point in
 *     the chain's order. A Bitcoin transaction is a pool filled by its inputs
 *     and emptied at once into its outputs (and the fee); an account (EVM) is a
 *     long-lived pool whose credits and debits are ordered in time.
 * Values are integers in the chain's base unit (satoshi, wei fits in the
 * store's own representation for EVM chains). */
#ifndef COINHOUND_MODEL_H
#define COINHOUND_MODEL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* How an output locks its coins. Names follow bitcoin-cli's "type" field. */
typedef enum ch_script_type {
    CH_SCRIPT_NONSTANDARD = 0,
    CH_SCRIPT_P2PK,            /* "pubkey" */
    CH_SCRIPT_P2PKH,           /* "pubkeyhash" */
    CH_SCRIPT_P2SH,            /* "scripthash" */
    CH_SCRIPT_P2WPKH,          /* "witness_v0_keyhash" */
    CH_SCRIPT_P2WSH,           /* "witness_v0_scripthash" */
    CH_SCRIPT_P2TR,            /* "witness_v1_taproot" */
    CH_SCRIPT_WITNESS_UNKNOWN, /* "witness_unknown": v1+ programs that are not taproot */
    CH_SCRIPT_MULTISIG,        /* "multisig": bare m-of-n */
    CH_SCRIPT_NULLDATA,        /* "nulldata": OP_RETURN */
    CH_SCRIPT_ACCOUNT,         /* "account": an EVM account (no script) */
    CH_SCRIPT_TYPE_COUNT
} ch_script_type;

/* bitcoin-cli's name of a script type ("pubkeyhash", ...). */
const char *ch_script_type_name(ch_script_type t);
/* Short classification name ("P2PKH", ...), for humans. */
const char *ch_script_type_short(ch_script_type t);

/* The kind of an address: what its bytes are and how its string is made. */
typedef enum ch_addr_kind {
    CH_ADDR_NONE = 0, /* no address (OP_RETURN, bare multisig, non-standard) */
    CH_ADDR_P2PKH,    /* 20-byte key hash, Base58Check; P2PK outputs map here too */
    CH_ADDR_P2SH,     /* 20-byte script hash, Base58Check */
    CH_ADDR_WITNESS,  /* witness version + 2..40-byte program, Bech32 (v0) / Bech32m (v1+) */
    CH_ADDR_EVM,      /* 20-byte EVM account */
} ch_addr_kind;

/* An address as bytes. Two addresses are the same identity exactly when
 * kind, version and bytes[0..len) are equal. */
typedef struct ch_addr {
    uint8_t kind;    /* ch_addr_kind */
    uint8_t version; /* witness version for CH_ADDR_WITNESS, else 0 */
    uint8_t len;     /* bytes used in bytes[] */
    uint8_t bytes[40];
} ch_addr;

/* Which network's encodings to use when an address becomes a string. */
typedef enum ch_network { CH_NET_MAINNET = 0, CH_NET_TESTNET = 1, CH_NET_REGTEST = 2 } ch_network;

/* Maximum string length of any address we print (incl. NUL). */
#define CH_ADDR_STR_MAX 128

#ifdef __cplusplus
}
#endif

#endif
