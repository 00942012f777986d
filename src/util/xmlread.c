#include "util/xmlread.h"

#include <ctype.h>
#include <string.h>

static int read_cb(void *ctx, char *buf, int len) {
    FILE *f = ctx;
    size_t n = fread(buf, 1, (size_t)len, f);
    return n == 0 && ferror(f) ? -1 : (int)n;
}

static int close_cb(void *ctx) {
    (void)ctx; /* the caller owns the FILE */
    return 0;
}

static void on_error(void *arg, const char *msg, xmlParserSeverities sev,
                     xmlTextReaderLocatorPtr loc) {
    xml_in *x = arg;
    if (x->error[0]) return; /* keep the first */
    if (sev == XML_PARSER_SEVERITY_WARNING || sev == XML_PARSER_SEVERITY_VALIDITY_WARNING) return;
    snprintf(x->error, sizeof x->error, "%s", msg ? msg : "XML error");
    size_t n = strlen(x->error);
    while (n && isspace((unsigned char)x->error[n - 1]))
        x->error[--n] = '\0';
    x->error_line = loc ? xmlTextReaderLocatorLineNumber(loc) : 0;
}

int xr_open(xml_in *x, FILE *f, const char *name, ch_error *err) {
    memset(x, 0, sizeof *x);
    x->name = name;
    xmlInitParser();
    /* No network, no external DTD, no entity expansion (XML_PARSE_NOENT
     * is left out on purpose): an SDN file needs none of them. */
    x->r = xmlReaderForIO(read_cb, close_cb, f, name, NULL, XML_PARSE_NONET);
    if (!x->r) return ch_err(err, "%s: cannot start the XML reader", name);
    xmlTextReaderSetErrorHandler(x->r, on_error, x);
    return 0;
}

void xr_close(xml_in *x) {
    if (x->r) xmlFreeTextReader(x->r);
    x->r = NULL;
}

int xr_line(xml_in *x) {
    return xmlTextReaderGetParserLineNumber(x->r);
}

int xr_next(xml_in *x, int *type, ch_error *err) {
    if (x->depth > 0 && x->empty[x->depth - 1]) {
        /* the reader gives no END_ELEMENT for <a/>: report it now */
        x->depth--;
        x->empty[x->depth] = false;
        memcpy(x->ended, x->path[x->depth], sizeof x->ended);
        *type = XML_READER_TYPE_END_ELEMENT;
        return 1;
    }
    int rc = xmlTextReaderRead(x->r);
    if (rc < 0 || x->error[0]) {
        if (x->error[0])
            return ch_err(err, "%s: line %d: %s", x->name,
                          x->error_line ? x->error_line : xr_line(x), x->error);
        return ch_err(err, "%s: line %d: malformed XML", x->name, xr_line(x));
    }
    if (rc == 0) {
        if (x->depth > 0)
            return ch_err(err, "%s: line %d: document ends inside <%s>", x->name, xr_line(x),
                          x->path[x->depth - 1]);
        return 0;
    }
    *type = xmlTextReaderNodeType(x->r);
    if (*type == XML_READER_TYPE_ELEMENT) {
        if (x->depth >= XR_MAX_DEPTH)
            return ch_err(err, "%s: line %d: elements nested deeper than %d", x->name, xr_line(x),
                          XR_MAX_DEPTH);
        const char *n = (const char *)xmlTextReaderConstLocalName(x->r);
        snprintf(x->path[x->depth], sizeof x->path[0], "%s", n ? n : "");
        x->empty[x->depth] = xmlTextReaderIsEmptyElement(x->r) == 1;
        x->depth++;
    } else if (*type == XML_READER_TYPE_END_ELEMENT && x->depth > 0) {
        x->depth--;
        memcpy(x->ended, x->path[x->depth], sizeof x->ended);
    }
    return 1;
}

const char *xr_name(xml_in *x) {
    return x->depth > 0 ? x->path[x->depth - 1] : "";
}

const char *xr_up(xml_in *x, int up) {
    int i = x->depth - 1 - up;
    return i >= 0 ? x->path[i] : "";
}

void xr_text(xml_in *x, char *buf, size_t cap) {
    xmlChar *s = xmlTextReaderReadString(x->r);
    const char *p = s ? (const char *)s : "";
    while (isspace((unsigned char)*p))
        p++;
    snprintf(buf, cap, "%s", p);
    size_t n = strlen(buf);
    while (n && isspace((unsigned char)buf[n - 1]))
        buf[--n] = '\0';
    if (s) xmlFree(s);
}

void xr_attr(xml_in *x, const char *attr, char *buf, size_t cap) {
    xmlChar *s = xmlTextReaderGetAttribute(x->r, (const xmlChar *)attr);
    snprintf(buf, cap, "%s", s ? (const char *)s : "");
    if (s) xmlFree(s);
}
