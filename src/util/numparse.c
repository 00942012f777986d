#include "util/numparse.h"

#include <string.h>
#include <time.h>

static int digit_val(char c, bool hex) {
    if (c >= '0' && c <= '9') return c - '0';
    if (hex && c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (hex && c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int ch_parse_uint(const char *s, uint64_t min, uint64_t max, bool hex_ok, uint64_t *out) {
    if (!s) return -1;
    bool hex = hex_ok && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    const char *p = hex ? s + 2 : s;
    unsigned base = hex ? 16 : 10;
    if (!*p) return -1;
    uint64_t v = 0;
    for (; *p; p++) {
        int d = digit_val(*p, hex);
        if (d < 0) return -1;
        if (v > (UINT64_MAX - (uint64_t)d) / base) return -1; /* overflow */
        v = v * base + (uint64_t)d;
    }
    if (v < min || v > max) return -1;
    *out = v;
    return 0;
}

static bool leap(int y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* "YYYY-MM-DD" exactly, a date that exists. */
static int parse_date(const char *s, int *y, int *m, int *d) {
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-') return -1;
    int v[3] = {0, 0, 0}, field = 0;
    for (int i = 0; i < 10; i++) {
        if (i == 4 || i == 7) {
            field++;
            continue;
        }
        if (s[i] < '0' || s[i] > '9') return -1;
        v[field] = v[field] * 10 + (s[i] - '0');
    }
    static const int DAYS[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (v[0] < 1970 || v[1] < 1 || v[1] > 12 || v[2] < 1) return -1;
    int dim = DAYS[v[1] - 1] + (v[1] == 2 && leap(v[0]));
    if (v[2] > dim) return -1;
    *y = v[0];
    *m = v[1];
    *d = v[2];
    return 0;
}

int ch_parse_time(const char *s, bool end_of_day, uint32_t *out) {
    if (!s) return -1;
    int y, m, d;
    if (strchr(s, '-')) {
        if (parse_date(s, &y, &m, &d) != 0) return -1;
        struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d};
        time_t t = timegm(&tm);
        if (t < 0 || (uint64_t)t + 86399u > UINT32_MAX) return -1;
        *out = (uint32_t)t + (end_of_day ? 86399u : 0u);
        return 0;
    }
    uint64_t v;
    if (ch_parse_uint(s, 0, UINT32_MAX, false, &v) != 0) return -1;
    *out = (uint32_t)v;
    return 0;
}

bool ch_store_name_ok(const char *s) {
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 64 || s[0] == '-' || strcmp(s, "intel") == 0) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-'))
            return false;
    }
    return true;
}
