/* libxml2's streaming reader (xmlTextReader) over a FILE*, with the first
 * error kept with its line, and an element-path stack so importers can ask
 * "am I in sdnEntry/idList/id?". */
#ifndef COINHOUND_UTIL_XMLREAD_H
#define COINHOUND_UTIL_XMLREAD_H

#include <libxml/xmlreader.h>
#include <stdbool.h>
#include <stdio.h>

#include "coinhound/error.h"

#define XR_MAX_DEPTH 32

typedef struct xml_in {
    xmlTextReaderPtr r;
    const char *name;
    char error[400];
    int error_line;
    /* local names of the open elements, [0] = root */
    char path[XR_MAX_DEPTH][48];
    bool empty[XR_MAX_DEPTH]; /* <a/>: its END_ELEMENT is synthesised */
    int depth;
    char ended[48]; /* name of the element an END_ELEMENT closed */
} xml_in;

int xr_open(xml_in *x, FILE *f, const char *name, ch_error *err);
void xr_close(xml_in *x);
/* Next node: 1 read, 0 end of document, -1 error (message with line). The
 * node type is in *type (XML_READER_TYPE_ELEMENT, ..._END_ELEMENT, ...). An
 * empty element (<a/>) is reported as an ELEMENT then an END_ELEMENT. At an
 * ELEMENT, xr_name() is that element; at an END_ELEMENT it has been popped:
 * x->ended names it and xr_name() is its parent. */
int xr_next(xml_in *x, int *type, ch_error *err);
/* Local name of the current node / of the element `up` levels above it
 * (0 = the current element, 1 = its parent). "" beyond the root. */
const char *xr_name(xml_in *x);
const char *xr_up(xml_in *x, int up);
/* Text content of the current element, trimmed, into buf. */
void xr_text(xml_in *x, char *buf, size_t cap);
/* An attribute of the current element, or "" */
void xr_attr(xml_in *x, const char *attr, char *buf, size_t cap);
int xr_line(xml_in *x);

#endif
