#include "coinhound/hash.h"

#include <string.h>

static const char HEX_DIGITS[] = "0123456789abcdef";

void ch_hex_encode(const uint8_t *in, size_t len, char *out) {
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = HEX_DIGITS[in[i] >> 4];
        out[2 * i + 1] = HEX_DIGITS[in[i] & 15];
    }
    out[2 * len] = '\0';
}

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int ch_hex_decode(const char *hex, size_t hex_len, uint8_t *out, size_t out_len) {
    if (hex_len != 2 * out_len) return -1;
    for (size_t i = 0; i < out_len; i++) {
        int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

void ch_hash256_to_hex(const ch_hash256 *h, char out[65]) {
    uint8_t rev[32];
    for (int i = 0; i < 32; i++)
        rev[i] = h->b[31 - i];
    ch_hex_encode(rev, 32, out);
}

int ch_hash256_from_hex(const char *hex, ch_hash256 *h) {
    uint8_t tmp[32];
    if (!hex || strlen(hex) != 64 || ch_hex_decode(hex, 64, tmp, 32) < 0) return -1;
    for (int i = 0; i < 32; i++)
        h->b[i] = tmp[31 - i];
    return 0;
}
