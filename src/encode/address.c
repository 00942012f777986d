/* Bitcoin addresses as strings <-> ch_addr.
 *
 * Base58Check carries one version byte that names both the network and the
 * kind (P2PKH or P2SH); segwit addresses name the network by their hrp.
 * Regtest reuses testnet's Base58 versions, so a Base58 address read back
 * reports CH_NET_TESTNET even when it was printed for regtest. */
#include "coinhound/address.h"

#include <string.h>
#include <strings.h>

#include "coinhound/encode.h"
#include "coinhound/hash.h"

typedef struct net_params {
    ch_network net;
    const char *hrp;
    uint8_t p2pkh;
    uint8_t p2sh;
} net_params;

/* Published chain parameters (Bitcoin Core's chainparams). */
static const net_params NETS[] = {
    {CH_NET_MAINNET, "bc", 0x00, 0x05},
    {CH_NET_TESTNET, "tb", 0x6f, 0xc4},
    {CH_NET_REGTEST, "bcrt", 0x6f, 0xc4},
};
#define NNETS (sizeof NETS / sizeof NETS[0])

static const net_params *net_by_id(ch_network net) {
    size_t i;
    for (i = 0; i < NNETS; i++)
        if (NETS[i].net == net) return &NETS[i];
    return NULL;
}

static int base58_to_string(uint8_t version, const ch_addr *a, char *out) {
    uint8_t payload[21];
    if (a->len != 20) return -1;
    payload[0] = version;
    memcpy(payload + 1, a->bytes, 20);
    return ch_base58check_encode(payload, sizeof payload, out, CH_ADDR_STR_MAX) ? 0 : -1;
}

int ch_addr_to_string(const ch_addr *a, ch_network net, char out[CH_ADDR_STR_MAX]) {
    const net_params *p = net_by_id(net);
    out[0] = '\0';
    if (!p) return -1;
    switch (a->kind) {
    case CH_ADDR_P2PKH:
        return base58_to_string(p->p2pkh, a, out);
    case CH_ADDR_P2SH:
        return base58_to_string(p->p2sh, a, out);
    case CH_ADDR_WITNESS:
        if (a->len > sizeof a->bytes) return -1;
        return ch_segwit_encode(p->hrp, a->version, a->bytes, a->len, out, CH_ADDR_STR_MAX) ? 0
                                                                                            : -1;
    case CH_ADDR_EVM:
        if (a->len != 20) return -1;
        out[0] = '0';
        out[1] = 'x';
        ch_hex_encode(a->bytes, 20, out + 2);
        return 0;
    default:
        return -1;
    }
}

/* The network whose hrp is the part of s before its last '1' (any case),
 * or NULL when s does not look like one of our segwit addresses. */
static const net_params *segwit_net(const char *s) {
    const char *sep = strrchr(s, '1');
    size_t i, n;
    if (!sep) return NULL;
    n = (size_t)(sep - s);
    for (i = 0; i < NNETS; i++)
        if (strlen(NETS[i].hrp) == n && strncasecmp(s, NETS[i].hrp, n) == 0) return &NETS[i];
    return NULL;
}

static int segwit_from_string(const char *s, const net_params *p, ch_addr *a, ch_network *net,
                              ch_error *err) {
    int ver;
    size_t len;
    uint8_t prog[40];
    if (ch_segwit_decode(s, p->hrp, &ver, prog, &len, err) != 0) return -1;
    memset(a, 0, sizeof *a);
    a->kind = CH_ADDR_WITNESS;
    a->version = (uint8_t)ver;
    a->len = (uint8_t)len;
    memcpy(a->bytes, prog, len);
    if (net) *net = p->net;
    return 0;
}

static int base58_from_string(const char *s, ch_addr *a, ch_network *net, ch_error *err) {
    uint8_t payload[21];
    size_t n, i;
    if (ch_base58check_decode(s, payload, sizeof payload, &n, err) != 0) return -1;
    if (n != 21)
        return ch_err(err, "wrong length (%zu bytes after the version, expected 20)",
                      n ? n - 1 : 0);
    /* First match wins: testnet before regtest, which shares its versions. */
    for (i = 0; i < NNETS; i++) {
        if (payload[0] != NETS[i].p2pkh && payload[0] != NETS[i].p2sh) continue;
        memset(a, 0, sizeof *a);
        a->kind = payload[0] == NETS[i].p2pkh ? CH_ADDR_P2PKH : CH_ADDR_P2SH;
        a->len = 20;
        memcpy(a->bytes, payload + 1, 20);
        if (net) *net = NETS[i].net;
        return 0;
    }
    return ch_err(err, "unknown version byte 0x%02x", payload[0]);
}

int ch_addr_from_string(const char *s, ch_addr *a, ch_network *net, ch_error *err) {
    const net_params *p;
    if (!s || !*s) return ch_err(err, "empty address");
    /* No Base58 address of these networks starts with 'b' or 't', so an hrp
     * of ours before the last '1' means a segwit address. */
    p = segwit_net(s);
    if (p) return segwit_from_string(s, p, a, net, err);
    return base58_from_string(s, a, net, err);
}
