#include "cli/cli_util.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "coinhound/address.h"

const char *cli_db_dir(const char *cmd, const char *opt) {
    if (opt && *opt) return opt;
    const char *env = getenv("COINHOUND_DB");
    if (env && *env) return env;
    fprintf(stderr, "coinhound %s: no database: give --db DIR or set COINHOUND_DB\n", cmd);
    return NULL;
}

int cli_fail(const char *cmd, const ch_error *err) {
    fprintf(stderr, "coinhound %s: %s\n", cmd, err->msg);
    return 2;
}

int cli_failf(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "coinhound %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 2;
}

const char *cli_addr_str(const ch_store *s, uint32_t id, char buf[128]) {
    if (id == 0) return NULL;
    ch_addr a;
    ch_store_addr_of(s, id, &a);
    return ch_addr_to_string(&a, CH_NET_MAINNET, buf) == 0 ? buf : NULL;
}

const char *cli_btc(uint64_t sat, char buf[32]) {
    snprintf(buf, 32, "%" PRIu64 ".%08" PRIu64, sat / 100000000, sat % 100000000);
    return buf;
}

const char *cli_time(uint32_t t, char buf[32]) {
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, 32, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

bool cli_is_help(const char *s) {
    return !strcmp(s, "-h") || !strcmp(s, "--help");
}
