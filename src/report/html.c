/* HTML report helpers (see html.h). */
#include "report/html.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "coinhound/version.h"
#include "util/utf8.h"

void rh_esc(FILE *f, const char *s) {
    if (!s) return;
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) {
            size_t k = ch_utf8_seq((const unsigned char *)s + i, n - i);
            if (k == 0) {
                fputs("\xEF\xBF\xBD", f); /* U+FFFD */
                i++;
            } else {
                fwrite(s + i, 1, k, f);
                i += k;
            }
            continue;
        }
        switch (c) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&#39;", f);
            break;
        default:
            if (c >= 0x20 || c == '\t' || c == '\n') fputc(c, f);
        }
        i++;
    }
}

void rh_escf(FILE *f, const char *fmt, ...) {
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    rh_esc(f, buf);
}

void rh_link(FILE *f, const char *url, const char *text) {
    if (!url || !url[0]) {
        rh_esc(f, text);
        return;
    }
    bool web = !strncasecmp(url, "https://", 8) || !strncasecmp(url, "http://", 7);
    if (!web) {
        rh_esc(f, text ? text : url);
        return;
    }
    fputs("<a href=\"", f);
    rh_esc(f, url);
    fputs("\" rel=\"noreferrer\">", f);
    rh_esc(f, text && text[0] ? text : url);
    fputs("</a>", f);
}

/* The stylesheet: plain, readable, printable (A4/Letter, tables kept whole
 * where they fit, links followed by nothing: the URL is printed beside). */
static const char CSS[] =
    ":root{--ink:#1d2430;--mute:#5b6577;--line:#d9dee7;--bg:#fff;--band:#f4f6fa;--warn:#a33;"
    "--ok:#1f6f43}\n"
    "*{box-sizing:border-box}\n"
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;"
    "color:var(--ink);background:var(--bg);margin:0}\n"
    "main{max-width:1100px;margin:0 auto;padding:24px 28px 40px}\n"
    "h1{font-size:24px;margin:0 0 4px;overflow-wrap:anywhere}h2{font-size:18px;margin:28px 0 "
    "8px;padding-bottom:4px;"
    "border-bottom:2px solid var(--ink)}h3{font-size:15px;margin:18px 0 6px}\n"
    ".sub{color:var(--mute);margin:0 0 16px}\n"
    ".cards{display:flex;flex-wrap:wrap;gap:12px;margin:12px 0}\n"
    ".card{flex:1 1 200px;border:1px solid var(--line);border-radius:6px;padding:10px 12px;"
    "background:var(--band)}\n"
    ".card .k{font-size:12px;color:var(--mute);text-transform:uppercase;letter-spacing:.04em}\n"
    ".card .v{font-size:20px;font-weight:600;margin-top:2px}.card .n{font-size:12px;"
    "color:var(--mute)}\n"
    "table{border-collapse:collapse;width:100%;margin:8px 0 12px;font-size:13px}\n"
    "th,td{border-bottom:1px solid var(--line);padding:5px 8px;text-align:left;"
    "vertical-align:top}\n"
    "th{background:var(--band);font-weight:600}\n"
    "td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
    "tr.total td{font-weight:600;border-top:2px solid var(--ink)}td.date{white-space:nowrap}\n"
    ".mono{font-family:'DejaVu Sans Mono',Menlo,Consolas,monospace;font-size:12px;"
    "word-break:break-all}\n"
    ".tag{display:inline-block;padding:0 6px;border-radius:3px;font-size:12px;"
    "background:var(--band);border:1px solid var(--line)}\n"
    ".yes{color:var(--ok);font-weight:600}.no{color:var(--warn);font-weight:600}\n"
    ".note{color:var(--mute);font-size:12px}\n"
    ".warn{border-left:4px solid var(--warn);padding:6px 10px;background:#fbeeee}\n"
    "figure{margin:8px 0 16px}figcaption{color:var(--mute);font-size:12px}\n"
    "svg text{font-family:system-ui,'DejaVu Sans',sans-serif}\n"
    "footer{color:var(--mute);font-size:12px;border-top:1px solid var(--line);margin-top:32px;"
    "padding-top:8px}\n"
    "@media print{body{font-size:11px}main{max-width:none;padding:0}"
    "h2{break-after:avoid}table,figure,.cards{break-inside:avoid}"
    "tr{break-inside:avoid}a{color:inherit;text-decoration:none}"
    ".card{background:none}@page{margin:14mm}}\n";

void rh_page_begin(FILE *f, const char *title) {
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          /* no script runs and nothing loads from anywhere: the page is what it shows */
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "style-src 'unsafe-inline'; img-src data:\">\n",
          f);
    fprintf(f, "<meta name=\"generator\" content=\"coinhound %s\">\n<title>", COINHOUND_VERSION);
    rh_esc(f, title);
    fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<main>\n", CSS);
}

void rh_page_end(FILE *f, const char *generated) {
    fputs("<footer>Written by coinhound ", f);
    rh_esc(f, COINHOUND_VERSION);
    fputs(" (open source) on ", f);
    rh_esc(f, generated);
    fputs(". Amounts come from the chain store named above; every label and figure carries its "
          "source.</footer>\n</main>\n</body>\n</html>\n",
          f);
}

/* The stream of a JSON block: its cookie is the page (FILE *) it writes into. */
static ssize_t json_block_write(void *page, const char *p, size_t n) {
    FILE *f = page;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c == '<')
            fputs("\\u003c", f);
        else if (c == '>')
            fputs("\\u003e", f);
        else if (c == '&')
            fputs("\\u0026", f);
        else
            fputc(c, f);
    }
    return ferror(f) ? -1 : (ssize_t)n;
}

static int json_block_end(void *page) {
    fputs("</script>\n", page);
    return ferror((FILE *)page) ? -1 : 0;
}

FILE *rh_json_block_open(FILE *f, const char *id) {
    cookie_io_functions_t io = {.write = json_block_write, .close = json_block_end};
    FILE *js = fopencookie(f, "w", io);
    if (!js) return NULL;
    fputs("<script type=\"application/json\" id=\"", f);
    rh_esc(f, id);
    fputs("\">", f);
    return js;
}

int rh_json_block_close(FILE *js) {
    bool bad = ferror(js) != 0;
    return fclose(js) != 0 || bad ? -1 : 0;
}

/* The n digits d into out with a ',' every three from the right; the
 * length written (no NUL). */
static size_t group_digits(const char *d, size_t n, char *out) {
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0) out[o++] = ',';
        out[o++] = d[i];
    }
    return o;
}

const char *rh_group(uint64_t v, char out[64]) {
    char d[32];
    int n = snprintf(d, sizeof d, "%llu", (unsigned long long)v);
    out[group_digits(d, (size_t)n, out)] = '\0';
    return out;
}

const char *rh_amount(ch_taint_sum v, int decimals, char out[80]) {
    char b[48];
    /* the fraction comes without trailing zeros (ch_u128_decimals_str) */
    const char *s = decimals >= 0 ? ch_u128_decimals_str(v, decimals, b) : ch_u128_str(v, b);
    const char *dot = strchr(s, '.');
    size_t o = group_digits(s, dot ? (size_t)(dot - s) : strlen(s), out);
    strcpy(out + o, dot ? dot : "");
    return out;
}

const char *rh_amount_short(ch_taint_sum v, int decimals, char out[84]) {
    char full[80];
    rh_amount(v, decimals, full);
    char *dot = strchr(full, '.');
    if (!dot) return strcpy(out, full);
    size_t keep = 8;                         /* satoshi precision: Bitcoin amounts stay exact */
    if (dot - full == 1 && full[0] == '0') { /* below one unit: 3 significant digits */
        size_t z = strspn(dot + 1, "0");
        keep = z + 3 > 8 ? z + 3 : 8;
    }
    if (strlen(dot + 1) <= keep) return strcpy(out, full);
    dot[1 + keep] = '\0';
    size_t end = strlen(full);
    while (end > 0 && full[end - 1] == '0') /* 1.5000 -> 1.5 */
        full[--end] = '\0';
    if (end > 0 && full[end - 1] == '.') full[--end] = '\0';
    snprintf(out, 84, "\u2248%s", full);
    return out;
}

const char *rh_usd_short(double usd, char out[32]) {
    if (usd >= 1e9)
        snprintf(out, 32, "$%.2fB", usd / 1e9);
    else if (usd >= 1e6)
        snprintf(out, 32, "$%.1fM", usd / 1e6);
    else if (usd >= 1e3)
        snprintf(out, 32, "$%.0fK", usd / 1e3);
    else
        snprintf(out, 32, "$%.0f", usd);
    return out;
}

const char *rh_pct(double part, double whole, char out[16]) {
    if (whole <= 0)
        snprintf(out, 16, "n/a");
    else
        snprintf(out, 16, "%.1f%%", 100.0 * part / whole);
    return out;
}

const char *rh_time(uint32_t t, char out[32]) {
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || !strftime(out, 32, "%Y-%m-%d %H:%M UTC", &tm))
        snprintf(out, 32, "%u", t);
    return out;
}

const char *rh_now(char out[32]) {
    return rh_time((uint32_t)time(NULL), out);
}

const char *rh_color(size_t i) {
    static const char *const pal[] = {"#2f6db5", "#d9822b", "#3a9a5b", "#b5453a", "#7d5bb5",
                                      "#2a9d9a", "#c2a12b", "#8c6d4f", "#5c7a99", "#c45c9a"};
    return pal[i % (sizeof pal / sizeof *pal)];
}
