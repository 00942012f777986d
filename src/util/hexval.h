/* The value of a hex digit by table (util/hex.c): ch_hexval[c] is 0..15,
 * or 0x80 when c is not a hex digit (either case). Or-ing the values of a
 * run of digits and testing 0x80 once checks them all. */
#ifndef COINHOUND_HEXVAL_H
#define COINHOUND_HEXVAL_H

#include <stdint.h>

extern const uint8_t ch_hexval[256];

#endif
