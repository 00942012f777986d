/* libFuzzer: the WebSocket frame parser (src/chains/eth/ws.c) on arbitrary
 * bytes, as a node's stream would hand them to the watcher.
 *
 * Properties: never crashes or reads out of bounds; a frame reported whole
 * lies within the bytes (header + payload <= size) with a payload no larger
 * than the bound, a known opcode, and a control frame unfragmented and at
 * most 125 bytes; a prefix of a whole frame is never reported whole nor
 * malformed differently from the whole (more bytes only complete it); and
 * a frame the client writer makes of the first payload bytes parses back
 * to the same opcode, length and (unmasked) payload. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chains/eth/ws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ch_error err;
    ws_frame f;
    uint64_t max = 1u << 20;
    int r = ws_frame_parse(data, size, max, &f, &err);
    if (r == 1) {
        if (f.header + f.len > size || f.len > max) abort();
        if (f.opcode > 2 && (f.opcode < 8 || f.opcode > 10)) abort();
        if ((f.opcode & 8) && (!f.fin || f.len > 125)) abort();
        /* every shorter prefix is incomplete, never whole or malformed */
        for (size_t k = 0; k < f.header + f.len; k += 1 + k / 4) {
            ws_frame g;
            if (ws_frame_parse(data, k, max, &g, &err) != 0) abort();
        }
    }
    /* the writer's frames parse back */
    size_t len = size > 300 ? 300 : size;
    uint8_t out[300 + 14], mask[4] = {0x12, 0x34, 0x56, 0x78};
    uint8_t op = size && (data[0] & 1) ? 0x1 : 0x2;
    size_t n = ws_frame_write(out, op, data, len, mask);
    ws_frame g;
    if (ws_frame_parse(out, n, max, &g, &err) != 1) abort();
    if (g.opcode != op || g.len != len || !g.masked || !g.fin || g.header + g.len != n) abort();
    for (size_t i = 0; i < len; i++)
        if ((uint8_t)(out[g.header + i] ^ g.mask[i & 3]) != data[i]) abort();
    return 0;
}
