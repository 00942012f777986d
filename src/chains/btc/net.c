/* The Bitcoin networks coinhound reads (btc.h): names and address
 * encodings. */
#include "btc_internal.h"

const char *ch_btc_net_name(ch_btc_net n) {
    static const char *const NAMES[CH_BTC_NET_COUNT] = {"mainnet", "testnet3", "testnet4", "signet",
                                                        "regtest"};
    return (unsigned)n < CH_BTC_NET_COUNT ? NAMES[n] : "unknown";
}

ch_network ch_btc_net_encoding(ch_btc_net n) {
    switch (n) {
    case CH_BTC_NET_TESTNET3:
    case CH_BTC_NET_TESTNET4:
    case CH_BTC_NET_SIGNET:
        return CH_NET_TESTNET; /* tb1..., m/n and 2... */
    case CH_BTC_NET_REGTEST:
        return CH_NET_REGTEST; /* bcrt1..., m/n and 2... */
    default:
        return CH_NET_MAINNET;
    }
}

ch_btc_net ch_blkdir_net(const ch_blkdir *d) {
    return btc_blkdir_net(d);
}
