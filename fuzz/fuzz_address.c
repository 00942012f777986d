/* libFuzzer harness for the address decoders.
 *
 * Feeds arbitrary bytes (as a NUL-terminated string) to every decoder and
 * checks the one property that matters for a forensics tool: whatever
 * decodes re-encodes to the very same string (Bech32 up to case, which the
 * format ignores). A second spelling of the same address would let two
 * strings name one identity, or one string name two. abort() on a mismatch;
 * ASan/UBSan catch memory errors on the way. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "coinhound/address.h"
#include "coinhound/encode.h"

static void check(int ok) {
    if (!ok) abort();
}

static void check_addr(const char *s) {
    ch_addr a;
    ch_network net;
    ch_error err;
    char out[CH_ADDR_STR_MAX];
    if (ch_addr_from_string(s, &a, &net, &err) != 0) return;
    check(ch_addr_to_string(&a, net, out) == 0);
    if (a.kind == CH_ADDR_WITNESS)
        check(strcasecmp(out, s) == 0);
    else
        check(strcmp(out, s) == 0);
}

static void check_bech32(const char *s) {
    char hrp[128], out[128];
    uint8_t data[128];
    size_t n = 0;
    ch_bech32_variant v = ch_bech32_decode(s, hrp, sizeof hrp, data, sizeof data, &n, NULL);
    if (v == CH_BECH32_INVALID) return;
    check(ch_bech32_encode(hrp, data, n, v, out, sizeof out) == strlen(s));
    check(strcasecmp(out, s) == 0);
}

static void check_segwit(const char *s) {
    uint8_t prog[40];
    size_t len = 0;
    int ver = -1;
    char out[128];
    if (ch_segwit_decode(s, "bc", &ver, prog, &len, NULL) != 0) return;
    check(ch_segwit_encode("bc", ver, prog, len, out, sizeof out) == strlen(s));
    check(strcasecmp(out, s) == 0);
}

static void check_base58(const char *s) {
    uint8_t raw[300];
    size_t n = 0;
    char out[512];
    ch_error err;
    if (ch_base58check_decode(s, raw, sizeof raw, &n, &err) == 0) {
        check(ch_base58check_encode(raw, n, out, sizeof out) == strlen(s));
        check(strcmp(out, s) == 0);
    }
    /* Plain Base58 into a small buffer: inputs that do not fit must fail
     * cleanly, the rest must round-trip exactly. */
    if (ch_base58_decode(s, raw, 64, &n) == 0) {
        check(n <= 64);
        check(ch_base58_encode(raw, n, out, sizeof out) == strlen(s));
        check(strcmp(out, s) == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *s = malloc(size + 1);
    if (!s) return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    check_addr(s);
    check_bech32(s);
    check_segwit(s);
    check_base58(s);
    free(s);
    return 0;
}
