/* coinhound poison ADDR --db DIR [--chain eth] [--json] [--limit N]
 * coinhound poison --check DEST --from SENDER --db DIR [--chain eth] [--json] */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "coinhound/chainaddr.h"
#include "coinhound/hash.h"
#include "coinhound/jsonw.h"
#include "coinhound/poison.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: coinhound poison ADDR --db DIR [--chain eth] [--json] [--limit N]\n"
            "       coinhound poison --check DEST --from SENDER --db DIR [--chain eth] [--json]\n"
            "                        [--tokens FILE.csv] [--token-meta FILE.csv]\n\n"
            "Address poisoning: after you pay someone, attackers put transfers into your\n"
            "history from addresses that start and end like theirs, hoping you copy the\n"
            "wrong one next time. Ingest records these attempts (zero-value transfers\n"
            "you never made, dust, fake tokens copying a known symbol, and the lookalike\n"
            "addresses behind them).\n\n"
            "'poison ADDR' lists the attempts aimed at ADDR: kind, the lookalike address,\n"
            "the real address it imitates, the transaction and block, and how many\n"
            "leading/trailing characters match (newest first, --limit N, default 100,\n"
            "0 for all). Exit 1 when there are any, 0 when none.\n\n"
            "'poison --check DEST --from SENDER' is the check before sending: it warns\n"
            "when DEST first reached SENDER through such an attempt, or looks like\n"
            "(same first and last characters as) someone SENDER really dealt with\n"
            "without being that address. Exit 0 no warning, 1 warning, 2 error.\n"
            "Before anything else DEST is validated: a mixed-case address whose EIP-55\n"
            "checksum fails (a mistyped or altered address) is REFUSED, exit 2, with\n"
            "--json {\"valid\":false,\"reasons\":[\"bad_checksum\"],\"error\":...}.\n"
            "Token tables (--tokens: a reference list such as Etherscan's; --token-meta:\n"
            "symbols and decimals tokens claim) sharpen the judgement of old transfers;\n"
            "COINHOUND_TOKENS and COINHOUND_TOKEN_META give them to ingest too.\n\n"
            "examples:\n"
            "  coinhound poison 0x5a5a...5a5a --db ./chdb\n"
            "  coinhound poison --check 0xabcd...ef01 --from 0x5a5a...5a5a --db ./chdb\n");
}

/* An EVM address typed by a person: 0x + 40 hex digits, and a mixed-case
 * one must pass its EIP-55 checksum (as screen demands); why a refusal
 * (fault may be NULL). */
static int parse_evm(const char *str, ch_addr *a, ch_addr_fault *fault, ch_error *err) {
    memset(a, 0, sizeof *a);
    a->kind = CH_ADDR_EVM;
    a->len = 20;
    return ch_evm_addr_parse_fault(str, a->bytes, fault, err);
}

/* The destination of a payment fails validation: nothing else is judged,
 * the payment must not go out. Exit 2 (the answer is "not an address"). */
static int refuse_dest(const char *from_s, const char *dest_s, ch_addr_fault fault,
                       const ch_error *why, bool json) {
    bool checksum = fault == CH_ADDR_FAULT_CHECKSUM;
    if (json) {
        ch_jw w;
        ch_jw_init(&w, stdout);
        ch_jw_obj_begin(&w);
        ch_jw_key(&w, "from");
        ch_jw_str(&w, from_s);
        ch_jw_key(&w, "to");
        ch_jw_str(&w, dest_s);
        ch_jw_key(&w, "valid");
        ch_jw_bool(&w, false);
        ch_jw_key(&w, "warning");
        ch_jw_bool(&w, true);
        ch_jw_key(&w, "reasons");
        ch_jw_arr_begin(&w);
        ch_jw_str(&w, checksum ? "bad_checksum" : "not_an_address");
        ch_jw_arr_end(&w);
        ch_jw_key(&w, "error");
        ch_jw_str(&w, why->msg);
        ch_jw_obj_end(&w);
        ch_jw_newline(&w);
    } else {
        printf("REFUSED: %s is not a valid EVM address: %s.\n", dest_s, why->msg);
        if (checksum)
            printf("Its letter case does not match its EIP-55 checksum: the address was mistyped\n"
                   "or altered. Do not send; get the address again from the person you mean\n"
                   "to pay.\n");
    }
    fflush(stdout);
    return 2;
}

static const char *hex_addr(const ch_store *s, ch_addr_id id, char buf[128]) {
    const char *r = id ? cli_addr_str(s, id, buf) : NULL;
    return r ? r : "";
}

static const char *hex_tx(const ch_store *s, uint64_t tx, char buf[67]) {
    if (tx == CH_NO_TX) return "";
    ch_hash256 h;
    ch_store_txid(s, tx, &h);
    buf[0] = '0';
    buf[1] = 'x';
    ch_hex_encode(h.b, 32, buf + 2); /* EVM hashes keep their written order */
    return buf;
}

static uint64_t block_of(const ch_store *s, uint64_t tx) {
    return tx == CH_NO_TX ? 0 : ch_store_first_number(s) + ch_store_tx_height(s, tx);
}

/* ---- poison ADDR ---- */
static int run_list(ch_store *s, const ch_addr *a, const char *arg, bool json, uint64_t limit) {
    ch_error err;
    ch_addr_id id = 0;
    uint64_t last;
    int found = ch_store_find_addr(s, a, &id, &last, &err);
    if (found < 0) return cli_fail("poison", &err);
    uint64_t n = ch_poison_signal_count(s), shown = 0, total = 0;
    for (uint64_t i = 0; found && i < n; i++)
        total += ch_poison_signal(s, i)->victim == id;
    ch_jw w;
    if (json) {
        ch_jw_init(&w, stdout);
        ch_jw_obj_begin(&w);
        ch_jw_key(&w, "address");
        ch_jw_str(&w, arg);
        ch_jw_key(&w, "known");
        ch_jw_bool(&w, found == 1);
        ch_jw_key(&w, "count");
        ch_jw_uint(&w, total);
        ch_jw_key(&w, "signals");
        ch_jw_arr_begin(&w);
    } else {
        printf("address   %s\n", arg);
        printf("signals   %" PRIu64 "%s\n", total,
               found ? "" : " (the address never appears in the store)");
    }
    char b1[128], b2[128], th[67];
    for (uint64_t i = n; found && i-- > 0 && (limit == 0 || shown < limit);) {
        const ch_signal_rec *r = ch_poison_signal(s, i);
        if (r->victim != id) continue;
        shown++;
        const ch_xfer_rec *x = ch_store_xfer(s, r->xfer);
        const char *look = hex_addr(s, r->lookalike, b1), *imit = hex_addr(s, r->imitated, b2);
        if (json) {
            ch_jw_obj_begin(&w);
            ch_jw_key(&w, "kind");
            ch_jw_str(&w, ch_signal_kind_name(r->kind));
            ch_jw_key(&w, "lookalike");
            ch_jw_str(&w, look);
            ch_jw_key(&w, "imitated");
            if (r->imitated)
                ch_jw_str(&w, imit);
            else
                ch_jw_null(&w);
            ch_jw_key(&w, "tx");
            ch_jw_str(&w, hex_tx(s, x->tx, th));
            ch_jw_key(&w, "block");
            ch_jw_uint(&w, block_of(s, x->tx));
            ch_jw_key(&w, "prefix");
            ch_jw_uint(&w, r->prefix);
            ch_jw_key(&w, "suffix");
            ch_jw_uint(&w, r->suffix);
            ch_jw_obj_end(&w);
        } else {
            printf("  %-10s block %-10" PRIu64 " tx %s\n", ch_signal_kind_name(r->kind),
                   block_of(s, x->tx), hex_tx(s, x->tx, th));
            if (r->kind == CH_SIG_FAKE_TOKEN)
                printf("             fake token %s%s%s\n", look, r->imitated ? " imitating " : "",
                       imit);
            else
                printf("             from %s%s%s", look, r->imitated ? " imitating " : "", imit);
            if (r->kind != CH_SIG_FAKE_TOKEN && r->imitated)
                printf(" (first %u, last %u characters alike)\n", r->prefix, r->suffix);
            else if (r->kind != CH_SIG_FAKE_TOKEN)
                printf("\n");
        }
    }
    if (json) {
        ch_jw_arr_end(&w);
        ch_jw_obj_end(&w);
        ch_jw_newline(&w);
    } else if (shown < total) {
        printf("  ... %" PRIu64 " more (--limit 0 shows all)\n", total - shown);
    }
    return total ? 1 : 0;
}

/* ---- poison --check ---- */
static const char *kind_words(int kind) {
    switch (kind) {
    case CH_SIG_ZERO_SPOOF:
        return "a zero-value token transfer that the sender never made (someone else's "
               "transaction put it in the history)";
    case CH_SIG_DUST:
        return "a tiny 'dust' transfer";
    case CH_SIG_FAKE_TOKEN:
        return "a transfer of a fake token copying a well-known token's name";
    }
    return "a suspicious transfer";
}

/* poison --check: the pre-send check of one payment (ch_poison_check_send)
 * said as a verdict with its reasons, the first contact and the imitated
 * counterparty; exit 1 on a warning. */
static int run_check(ch_store *s, ch_poison *p, const ch_addr *from, const char *from_s,
                     const ch_addr *dest, const char *dest_s, bool json) {
    ch_error err;
    ch_send_check r;
    if (ch_poison_check_send(p, s, from, dest, &r, &err) != 0) return cli_fail("poison", &err);
    char b1[128], th[67];
    const char *imit = hex_addr(s, r.imitated, b1);
    uint64_t ftx = r.dest_known ? ch_store_xfer(s, r.first_xfer)->tx : CH_NO_TX;
    if (json) {
        ch_jw w;
        ch_jw_init(&w, stdout);
        ch_jw_obj_begin(&w);
        ch_jw_key(&w, "from");
        ch_jw_str(&w, from_s);
        ch_jw_key(&w, "to");
        ch_jw_str(&w, dest_s);
        ch_jw_key(&w, "valid");
        ch_jw_bool(&w, true);
        ch_jw_key(&w, "warning");
        ch_jw_bool(&w, r.verdict != CH_SEND_OK);
        ch_jw_key(&w, "reasons");
        ch_jw_arr_begin(&w);
        if (r.first_via_signal) ch_jw_str(&w, "first_seen_via_poisoning");
        if (r.lookalike) ch_jw_str(&w, "lookalike_of_counterparty");
        ch_jw_arr_end(&w);
        ch_jw_key(&w, "sender_known");
        ch_jw_bool(&w, r.sender_known);
        ch_jw_key(&w, "dest_in_history");
        ch_jw_bool(&w, r.dest_known);
        ch_jw_key(&w, "dest_paid_before");
        ch_jw_bool(&w, r.dest_paid);
        if (r.first_via_signal) {
            ch_jw_key(&w, "first_seen");
            ch_jw_obj_begin(&w);
            ch_jw_key(&w, "kind");
            ch_jw_str(&w, ch_signal_kind_name(r.first_kind));
            ch_jw_key(&w, "tx");
            ch_jw_str(&w, hex_tx(s, ftx, th));
            ch_jw_key(&w, "block");
            ch_jw_uint(&w, block_of(s, ftx));
            ch_jw_obj_end(&w);
        }
        if (r.lookalike) {
            ch_jw_key(&w, "imitates");
            ch_jw_obj_begin(&w);
            ch_jw_key(&w, "address");
            ch_jw_str(&w, imit);
            ch_jw_key(&w, "prefix");
            ch_jw_uint(&w, r.prefix);
            ch_jw_key(&w, "suffix");
            ch_jw_uint(&w, r.suffix);
            ch_jw_obj_end(&w);
        }
        ch_jw_obj_end(&w);
        ch_jw_newline(&w);
        return r.verdict != CH_SEND_OK;
    }
    if (r.verdict == CH_SEND_OK) {
        printf("OK: no sign of address poisoning for %s -> %s.\n", from_s, dest_s);
        if (!r.sender_known)
            printf("(The sender has no history in this store, so there was nothing to compare "
                   "with.)\n");
        else if (r.dest_paid)
            printf("The sender has paid this address before.\n");
        else if (!r.dest_known)
            printf("The sender has never dealt with this address: make sure it came from the "
                   "person you mean to pay, not from your transaction history.\n");
        return 0;
    }
    printf("WARNING: %s may be a poisoner's lookalike address. Do not send until you have\n"
           "checked it character by character against a source you trust.\n",
           dest_s);
    if (r.first_via_signal)
        printf("- It first appeared in %s's history through %s,\n"
               "  in tx %s (block %" PRIu64 "). Poisoners plant such transfers so that the\n"
               "  address shows up in your history and gets copied by mistake.\n",
               from_s, kind_words(r.first_kind), hex_tx(s, ftx, th), block_of(s, ftx));
    if (r.lookalike)
        printf("- It looks like %s, an address %s really dealt with:\n"
               "  the same first %u and last %u characters, but it is a different address.\n",
               imit, from_s, r.prefix, r.suffix);
    return 1;
}

int cmd_poison(int argc, char **argv) {
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'},     {"chain", required_argument, 0, 'c'},
        {"json", no_argument, 0, 'j'},         {"limit", required_argument, 0, 'l'},
        {"check", required_argument, 0, 'k'},  {"from", required_argument, 0, 'f'},
        {"tokens", required_argument, 0, 't'}, {"token-meta", required_argument, 0, 'm'},
        {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
    const char *db = NULL, *chain = NULL, *dest = NULL, *from = NULL;
    const char *tokens = NULL, *token_meta = NULL; /* cli_poison_open: else the environment's */
    bool json = false;
    uint64_t limit = 100;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'd')
            db = optarg;
        else if (c == 'c') {
            if (cli_opt_chain("poison", optarg)) return 2;
            chain = optarg;
        } else if (c == 'j')
            json = true;
        else if (c == 'l') {
            if (cli_opt_u64("poison", "--limit", optarg, 0, UINT64_MAX, &limit)) return 2;
        } else if (c == 'k')
            dest = optarg;
        else if (c == 'f')
            from = optarg;
        else if (c == 't')
            tokens = optarg;
        else if (c == 'm')
            token_meta = optarg;
        else {
            usage(c == 'h' ? stdout : stderr);
            return c == 'h' ? 0 : 2;
        }
    }
    bool checking = dest != NULL;
    if (checking ? (argc != optind || !from) : (argc - optind != 1 || from)) {
        usage(stderr);
        return 2;
    }
    ch_addr a, f;
    ch_error perr;
    const char *target = checking ? dest : argv[optind];
    /* Validation comes first: a mistyped or altered address is refused
     * before any history is consulted (no store is needed to say so). */
    ch_addr_fault fault;
    if (checking && parse_evm(from, &f, NULL, &perr) != 0)
        return cli_failf("poison", "--from '%s' is not a valid EVM address: %s", from, perr.msg);
    if (parse_evm(target, &a, &fault, &perr) != 0) {
        if (checking) return refuse_dest(from, dest, fault, &perr, json);
        return cli_failf("poison", "'%s' is not a valid EVM address: %s", target, perr.msg);
    }
    /* the one opener and chain rule: the address is an EVM one, so without
     * --chain the store is eth's */
    cli_query q;
    int rc = cli_query_open("poison", db, chain, target, NULL, 0, &q);
    if (rc != 0) return rc;
    ch_store *s = q.s;
    if (!ch_store_is_account(s)) {
        rc = cli_failf("poison", "%s/%s is not an account chain's store", q.db,
                       cli_chain_of(chain, target));
    } else if (!checking) {
        rc = run_list(s, &a, target, json, limit);
    } else {
        ch_poison *p = NULL;
        rc = cli_poison_open("poison", tokens, token_meta, &p);
        if (rc == 0) rc = run_check(s, p, &f, from, &a, dest, json);
        ch_poison_free(p);
    }
    return cli_query_close("poison", &q, rc);
}
