#include "coinhound/model.h"

static const char *const TYPE_NAMES[CH_SCRIPT_TYPE_COUNT] = {
    [CH_SCRIPT_NONSTANDARD] = "nonstandard",   [CH_SCRIPT_P2PK] = "pubkey",
    [CH_SCRIPT_P2PKH] = "pubkeyhash",          [CH_SCRIPT_P2SH] = "scripthash",
    [CH_SCRIPT_P2WPKH] = "witness_v0_keyhash", [CH_SCRIPT_P2WSH] = "witness_v0_scripthash",
    [CH_SCRIPT_P2TR] = "witness_v1_taproot",   [CH_SCRIPT_WITNESS_UNKNOWN] = "witness_unknown",
    [CH_SCRIPT_MULTISIG] = "multisig",         [CH_SCRIPT_NULLDATA] = "nulldata",
    [CH_SCRIPT_ACCOUNT] = "account",
};

static const char *const TYPE_SHORT[CH_SCRIPT_TYPE_COUNT] = {
    [CH_SCRIPT_NONSTANDARD] = "non-standard",
    [CH_SCRIPT_P2PK] = "P2PK",
    [CH_SCRIPT_P2PKH] = "P2PKH",
    [CH_SCRIPT_P2SH] = "P2SH",
    [CH_SCRIPT_P2WPKH] = "P2WPKH",
    [CH_SCRIPT_P2WSH] = "P2WSH",
    [CH_SCRIPT_P2TR] = "P2TR",
    [CH_SCRIPT_WITNESS_UNKNOWN] = "witness-unknown",
    [CH_SCRIPT_MULTISIG] = "bare multisig",
    [CH_SCRIPT_NULLDATA] = "OP_RETURN",
    [CH_SCRIPT_ACCOUNT] = "account",
};

const char *ch_script_type_name(ch_script_type t) {
    return (unsigned)t < CH_SCRIPT_TYPE_COUNT ? TYPE_NAMES[t] : "nonstandard";
}

const char *ch_script_type_short(ch_script_type t) {
    return (unsigned)t < CH_SCRIPT_TYPE_COUNT ? TYPE_SHORT[t] : "non-standard";
}
