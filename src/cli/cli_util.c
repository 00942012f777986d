#include "cli/cli_util.h"

#include <inttypes.h>
#include <stdarg.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/account_query.h"
#include "coinhound/address.h"
#include "util/numparse.h"

const char *cli_db_find(const char *opt) {
    if (opt && *opt) return opt;
    const char *env = getenv("COINHOUND_DB");
    return env && *env ? env : NULL;
}

const char *cli_db_dir(const char *cmd, const char *opt) {
    const char *db = cli_db_find(opt);
    if (db) return db;
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

const char *cli_addr_str(const ch_store *s, ch_addr_id id, char buf[128]) {
    if (id == 0) return NULL;
    ch_addr a;
    ch_store_addr_of(s, id, &a);
    return ch_addr_to_string(&a, ch_store_addr_net(s), buf) == 0 ? buf : NULL;
}

int cli_store_close(const char *cmd, ch_store *s, int rc) {
    ch_error err;
    if (s && ch_store_damage(s, &err) != 0) {
        fflush(stdout);
        rc = cli_fail(cmd, &err);
    }
    ch_store_close(s);
    return rc;
}

int cli_opt_u64(const char *cmd, const char *opt, const char *text, uint64_t min, uint64_t max,
                uint64_t *out) {
    if (ch_parse_uint(text, min, max, false, out) == 0) return 0;
    cli_failf(cmd, "%s wants a whole number from %" PRIu64 " to %" PRIu64 ", not '%s'", opt, min,
              max, text);
    return -1;
}

int cli_opt_u32(const char *cmd, const char *opt, const char *text, uint32_t min, uint32_t max,
                uint32_t *out) {
    uint64_t v;
    if (cli_opt_u64(cmd, opt, text, min, max, &v) != 0) return -1;
    *out = (uint32_t)v;
    return 0;
}

int cli_opt_mem(const char *cmd, const char *opt, const char *text, uint64_t *out) {
    return cli_opt_size(cmd, opt, text, 256ULL << 20, out);
}

int cli_opt_size(const char *cmd, const char *opt, const char *text, uint64_t min, uint64_t *out) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    unsigned shift = 0;
    if (end != text && (*end == 'K' || *end == 'k'))
        shift = 10, end++;
    else if (end != text && (*end == 'M' || *end == 'm'))
        shift = 20, end++;
    else if (end != text && (*end == 'G' || *end == 'g'))
        shift = 30, end++;
    if (end == text || *end || errno || text[0] == '-' || v > (UINT64_MAX >> 1) >> shift ||
        (v << shift) < min) {
        fprintf(stderr, "%s: %s: '%s' is not a memory size of at least %lluM (e.g. 4G)\n", cmd, opt,
                text, (unsigned long long)(min >> 20));
        return -1;
    }
    *out = (uint64_t)v << shift;
    return 0;
}

int cli_opt_block(const char *cmd, const char *opt, const char *text, uint64_t *out) {
    if (ch_parse_uint(text, 0, UINT64_MAX, true, out) == 0) return 0;
    cli_failf(cmd, "%s wants a block number (decimal or 0x hex), not '%s'", opt, text);
    return -1;
}

int cli_opt_time(const char *cmd, const char *opt, const char *text, bool end_of_day,
                 uint32_t *out) {
    if (ch_parse_time(text, end_of_day, out) == 0) return 0;
    cli_failf(cmd, "%s wants unix seconds or a date YYYY-MM-DD (UTC), not '%s'", opt, text);
    return -1;
}

int cli_opt_range(const char *cmd, uint32_t since, uint32_t until) {
    if (!since || !until || until >= since) return 0;
    cli_failf(cmd, "--until is before --since: an empty range");
    return -1;
}

int cli_opt_chain(const char *cmd, const char *text) {
    if (ch_store_name_ok(text)) return 0;
    cli_failf(cmd, "--chain wants a chain name (letters, digits and '-'), not '%s'", text);
    return -1;
}

bool cli_is_help(const char *s) {
    return !strcmp(s, "-h") || !strcmp(s, "--help");
}

const char *cli_chain_of(const char *chain_opt, const char *arg) {
    if (chain_opt) return chain_opt;
    return arg && (!strncmp(arg, "0x", 2) || !strncmp(arg, "0X", 2)) ? "eth" : "btc";
}

int cli_query_open(const char *cmd, const char *db_opt, const char *chain_opt, const char *arg,
                   const char *const *token_files, size_t n_token_files, cli_query *q) {
    memset(q, 0, sizeof *q);
    if (!(q->db = cli_db_dir(cmd, db_opt))) return 2;
    ch_error err;
    const char *chain = cli_chain_of(chain_opt, arg);
    if (ch_store_open(q->db, chain, CH_STORE_READ, &q->s, &err) != 0)
        return cli_failf(cmd, "%s (chain %s)", err.msg, chain); /* which rule chose it */
    if (ch_store_is_account(q->s)) {
        if (cli_account_tokens(token_files, n_token_files, &err) != 0) {
            cli_account_tokens_free();
            ch_store_close(q->s);
            q->s = NULL;
            return cli_fail(cmd, &err);
        }
        q->tokens = cli_account_tokens_table();
    }
    return 0;
}

int cli_query_close(const char *cmd, cli_query *q, int rc) {
    cli_account_tokens_free();
    q->tokens = NULL;
    rc = cli_store_close(cmd, q->s, rc);
    q->s = NULL;
    return rc;
}

int cli_poison_open(const char *cmd, const char *tokens_opt, const char *meta_opt,
                    ch_poison **out) {
    ch_poison_opts po = {.tokens_path = tokens_opt ? tokens_opt : getenv("COINHOUND_TOKENS"),
                         .token_meta_path = meta_opt ? meta_opt : getenv("COINHOUND_TOKEN_META")};
    if (po.tokens_path && !po.tokens_path[0]) po.tokens_path = NULL;
    if (po.token_meta_path && !po.token_meta_path[0]) po.token_meta_path = NULL;
    const char *cid = getenv("COINHOUND_CHAIN_ID");
    if (cid && *cid && cli_opt_u64(cmd, "COINHOUND_CHAIN_ID", cid, 1, UINT64_MAX, &po.chain_id))
        return 2;
    ch_error err;
    if (ch_poison_new(&po, out, &err) != 0) {
        ch_err_prefix(&err, "poisoning detector");
        return cli_fail(cmd, &err);
    }
    return 0;
}
