/* Writing self-contained HTML reports: escaping, the page frame with its
 * inline stylesheet (screen and print), numbers for people, and a JSON
 * block a program can read back out of the page. Every string that comes
 * from data (labels, addresses, incident records, notes) goes through
 * rh_esc: a label named "<script>..." is text on the page, never markup. */
#ifndef COINHOUND_REPORT_HTML_H
#define COINHOUND_REPORT_HTML_H

#include <stdint.h>
#include <stdio.h>

#include "coinhound/trace.h"

/* s as HTML text or attribute value: & < > " ' escaped, bytes that are not
 * well-formed UTF-8 written as U+FFFD, control characters but tab and
 * newline dropped. NULL writes nothing. */
void rh_esc(FILE *f, const char *s);
/* printf, then the result escaped (for text built from data). */
void rh_escf(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A link to url when it is http(s) (anything else, a javascript: URL say,
 * is shown as text, not linked); text defaults to the URL. */
void rh_link(FILE *f, const char *url, const char *text);

/* The page from <!DOCTYPE> to the opening of <main>: title, the inline
 * stylesheet (no external asset of any kind), and generator metadata. */
void rh_page_begin(FILE *f, const char *title);
/* Closes <main>, the page footer (tool and version, generated time). */
void rh_page_end(FILE *f, const char *generated);

/* A stream for a JSON text written into f inside <script
 * type="application/json" id="ID">, as it is written (no copy of the text
 * is held): every '<', '>' and '&' (which JSON allows only inside strings)
 * becomes \u003c, \u003e, \u0026, so no text in it can close the script
 * element. The opening tag is written at once; rh_json_block_close writes
 * the closing one. NULL when the stream cannot be made (nothing written). */
FILE *rh_json_block_open(FILE *f, const char *id);
/* Close js: 0, or -1 when a write to it (or to f under it) failed. */
int rh_json_block_close(FILE *js);

/* Whole numbers with thousands separators: "1,234,567". out needs 64
 * bytes. */
const char *rh_group(uint64_t v, char out[64]);
/* A u128 amount of base units with its decimals, grouped and with trailing
 * zeros of the fraction cut: "1,234.5". decimals < 0: base units. out needs
 * 80 bytes. */
const char *rh_amount(ch_taint_sum v, int decimals, char out[80]);
/* The same, cut for a glance (cards, diagrams): at most 8 decimals at or
 * above one unit (a wei amount's 18 are noise there), else 3 significant
 * digits (at least 8 decimals), with a leading "≈" when digits were cut.
 * out needs 84 bytes. */
const char *rh_amount_short(ch_taint_sum v, int decimals, char out[84]);
/* US dollars for people: "$1.46B", "$620.0M", "$41.0M", "$950K". out needs
 * 32 bytes. */
const char *rh_usd_short(double usd, char out[32]);
/* A share as a percentage with one decimal, "61.2%"; "n/a" when the
 * denominator is 0. out needs 16 bytes. */
const char *rh_pct(double part, double whole, char out[16]);
/* The current time (or the given one) as "YYYY-MM-DD HH:MM UTC". */
const char *rh_now(char out[32]);
const char *rh_time(uint32_t t, char out[32]);

/* A colour of the report's palette, by index (cycled). */
const char *rh_color(size_t i);

#endif
