/* UTF-8 checks and repair, for text that reaches JSON output.
 *
 * Input files do not always say their encoding: a CSV saved from a
 * spreadsheet on Windows is CP1252, an older list Latin-1. JSON must be
 * UTF-8 (RFC 8259), and a JSON writer that copies such bytes through writes
 * a file no parser accepts. Importers repair text as it arrives
 * (ch_utf8_repair: each byte that is not part of a valid UTF-8 sequence is
 * read as CP1252, a superset of Latin-1's printable range) and the JSON
 * writer checks what it writes (ch_utf8_seq), so output is valid whatever
 * the input held. */
#ifndef COINHOUND_UTIL_UTF8_H
#define COINHOUND_UTIL_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Length (1..4) of the well-formed UTF-8 sequence at s[0..n), or 0 when it
 * is not one (a stray continuation byte, an overlong form, a surrogate,
 * above U+10FFFF, or cut short by n). n must be at least 1. */
size_t ch_utf8_seq(const unsigned char *s, size_t n);

/* Is s[0..n) well-formed UTF-8 in full? */
bool ch_utf8_valid(const char *s, size_t n);

/* Copy in[0..n) to out (cap bytes, NUL-terminated) as valid UTF-8: valid
 * sequences are kept, every other byte is read as a CP1252 character
 * (0xA0..0xFF as Latin-1; 0x80..0x9F as CP1252's quotes, dashes, euro
 * sign, ...; the five bytes CP1252 leaves undefined as U+FFFD). When
 * input_cut says the input was cut to a buffer's size, a sequence cut short
 * at its very end is dropped instead (it is the start of a UTF-8 character,
 * not a Latin-1 letter). Output that does not fit is cut at a character
 * boundary. Returns the number of input bytes read as CP1252 (0: the text
 * was valid UTF-8 and is copied unchanged, unless cut); out may not overlap
 * in. */
size_t ch_utf8_repair(const char *in, size_t n, bool input_cut, char *out, size_t cap);

#endif
