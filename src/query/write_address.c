/* An address's summary and history pages as text and JSON: the output of
 * `coinhound address`, a contract (fields are added, never renamed). */
#include <inttypes.h>
#include <stdio.h>

#include "coinhound/query.h"
#include "query/query_internal.h"

static const char *const KIND_NAMES[] = {"native",     "internal", "token", "nft",
                                         "withdrawal", "fee",      "reward"};

static const char *kind_name(uint8_t k) {
    return k < sizeof KIND_NAMES / sizeof KIND_NAMES[0] ? KIND_NAMES[k] : "unknown";
}

/* A token's symbol and decimals, or NULL (native, or not in tokens). */
static const ch_token_info *token_of(const ch_store *s, const ch_toktab *tokens, ch_addr_id asset) {
    if (!tokens || !asset) return NULL;
    ch_addr a;
    ch_store_addr_of(s, asset, &a);
    return a.len == 20 ? ch_toktab_find(tokens, a.bytes) : NULL;
}

/* "asset", "symbol" and "decimals" of an account asset. */
static void json_asset(ch_jw *w, const ch_store *s, const ch_toktab *tokens, ch_addr_id asset) {
    char buf[128];
    ch_jw_key(w, "asset");
    ch_jw_str(w, asset ? ch_q_addr_str(s, asset, buf) : "native");
    const ch_token_info *ti = token_of(s, tokens, asset);
    if (!asset) {
        ch_jw_key(w, "symbol");
        ch_jw_str(w, "ETH");
        ch_jw_key(w, "decimals");
        ch_jw_uint(w, 18);
    } else if (ti) {
        ch_jw_key(w, "symbol");
        ch_jw_str(w, ti->symbol);
        if (ti->decimals >= 0) {
            ch_jw_key(w, "decimals");
            ch_jw_uint(w, (uint64_t)ti->decimals);
        }
    }
}

static void json_seen(ch_jw *w, const char *key, uint32_t height, uint32_t time) {
    ch_jw_key(w, key);
    ch_jw_obj_begin(w);
    ch_jw_key(w, "height");
    ch_jw_uint(w, height);
    ch_jw_key(w, "time");
    ch_jw_uint(w, time);
    ch_jw_obj_end(w);
}

/* One history entry: a UTXO tx {txid, height, delta}, or an account
 * transfer {hash, block_number, time, kind, asset, from, to, value, direction}. */
static void json_entry(ch_jw *w, const ch_store *s, const ch_q_entry *e, bool account,
                       const ch_toktab *tokens) {
    char hex[67], buf[128], v[48];
    ch_jw_obj_begin(w);
    if (!account) {
        ch_hash256 id;
        ch_store_txid(s, e->tx, &id);
        ch_hash256_to_hex(&id, hex);
        ch_jw_key(w, "txid");
        ch_jw_str(w, hex);
        ch_jw_key(w, "height");
        ch_jw_uint(w, e->height);
        ch_jw_key(w, "time");
        ch_jw_uint(w, e->time);
        ch_jw_key(w, "delta");
        ch_jw_int(w, e->sign < 0 ? -(int64_t)e->amount : (int64_t)e->amount);
        ch_jw_obj_end(w);
        return;
    }
    ch_jw_key(w, "hash");
    if (e->tx == CH_NO_TX) {
        ch_jw_null(w);
    } else {
        ch_hash256 id;
        ch_store_txid(s, e->tx, &id);
        ch_q_hash_hex(id.b, true, hex);
        ch_jw_str(w, hex);
    }
    ch_jw_key(w, "block_number");
    ch_jw_uint(w, e->number);
    ch_jw_key(w, "time");
    ch_jw_uint(w, e->time);
    ch_jw_key(w, "kind");
    ch_jw_str(w, kind_name(e->kind));
    json_asset(w, s, tokens, e->asset);
    ch_jw_key(w, "from");
    ch_jw_str(w, ch_q_addr_str(s, e->from, buf));
    ch_jw_key(w, "to");
    ch_jw_str(w, ch_q_addr_str(s, e->to, buf));
    ch_jw_key(w, "value");
    ch_jw_str(w, ch_u128_str(e->amount, v));
    ch_jw_key(w, "direction");
    ch_jw_str(w, e->sign > 0 ? "in" : e->sign < 0 ? "out" : "self");
    ch_jw_obj_end(w);
}

static void json_entries(ch_jw *w, const ch_store *s, const ch_q_address *a, const ch_q_page *p,
                         const ch_toktab *tokens) {
    ch_jw_arr_begin(w);
    for (size_t i = 0; p && i < p->n; i++)
        json_entry(w, s, &p->v[i], a->account, tokens);
    ch_jw_arr_end(w);
    ch_jw_key(w, "next_cursor");
    ch_jw_str(w, p && p->next[0] ? p->next : NULL);
}

static void json_utxo(ch_jw *w, const ch_store *s, const ch_q_address *a, const ch_q_page *p) {
    const ch_q_balance *b = &a->balances[0];
    ch_jw_key(w, "received");
    ch_jw_uint(w, (uint64_t)b->received);
    ch_jw_key(w, "sent");
    ch_jw_uint(w, (uint64_t)b->sent);
    ch_jw_key(w, "balance");
    ch_jw_uint(w, (uint64_t)b->balance);
    ch_jw_key(w, "outputs");
    ch_jw_uint(w, a->items);
    ch_jw_key(w, "tx_count");
    ch_jw_uint(w, a->tx_count);
    json_seen(w, "first_seen", a->first_height, a->first_time);
    json_seen(w, "last_seen", a->last_height, a->last_time);
    ch_jw_key(w, "txs");
    json_entries(w, s, a, p, NULL);
}

/* The JSON body of an account-chain address summary: counts, first and last
 * seen, balances per asset (with symbols and decimals when known) and
 * counterparties. */
static void json_account(ch_jw *w, const ch_store *s, const ch_q_address *a, const ch_q_page *p,
                         size_t max_peers, const ch_toktab *tokens) {
    char buf[128], v[48];
    ch_jw_key(w, "transfers");
    ch_jw_uint(w, a->items);
    ch_jw_key(w, "tx_count");
    ch_jw_uint(w, a->tx_count);
    ch_jw_key(w, "first_seen");
    ch_jw_uint(w, a->first_number);
    ch_jw_key(w, "last_seen");
    ch_jw_uint(w, a->last_number);
    ch_jw_key(w, "balances");
    ch_jw_arr_begin(w);
    for (size_t i = 0; i < a->n_balances; i++) {
        const ch_q_balance *b = &a->balances[i];
        ch_jw_obj_begin(w);
        json_asset(w, s, tokens, b->asset);
        ch_jw_key(w, "received");
        ch_jw_str(w, ch_u128_str(b->received, v));
        ch_jw_key(w, "sent");
        ch_jw_str(w, ch_u128_str(b->sent, v));
        ch_jw_key(w, "balance"); /* null when the store began after its funding */
        ch_jw_str(w, b->balance_known ? ch_u128_str(b->balance, v) : NULL);
        ch_jw_obj_end(w);
    }
    ch_jw_arr_end(w);
    ch_jw_key(w, "counterparties");
    ch_jw_arr_begin(w);
    for (size_t i = 0; i < a->n_peers && (!max_peers || i < max_peers); i++) {
        ch_jw_obj_begin(w);
        ch_jw_key(w, "address");
        ch_jw_str(w, ch_q_addr_str(s, a->peers[i].addr, buf));
        ch_jw_key(w, "transfers");
        ch_jw_uint(w, a->peers[i].count);
        ch_jw_obj_end(w);
    }
    ch_jw_arr_end(w);
    if (p) {
        ch_jw_key(w, "history");
        json_entries(w, s, a, p, tokens);
    }
}

void ch_q_address_json(FILE *f, const ch_store *s, const ch_q_address *a, const ch_q_page *page,
                       size_t max_peers, const ch_toktab *tokens) {
    ch_jw w;
    ch_jw_init(&w, f);
    ch_jw_obj_begin(&w);
    ch_jw_key(&w, "address");
    ch_jw_str(&w, a->canonical);
    if (a->account)
        json_account(&w, s, a, page, max_peers, tokens);
    else
        json_utxo(&w, s, a, page);
    ch_jw_obj_end(&w);
    ch_jw_newline(&w);
}

void ch_q_page_json(FILE *f, const ch_store *s, const ch_q_address *a, const ch_q_page *page,
                    const ch_toktab *tokens) {
    ch_jw w;
    ch_jw_init(&w, f);
    ch_jw_obj_begin(&w);
    ch_jw_key(&w, "address");
    ch_jw_str(&w, a->canonical);
    ch_jw_key(&w, "entries");
    json_entries(&w, s, a, page, tokens);
    ch_jw_obj_end(&w);
    ch_jw_newline(&w);
}

static void text_entry(FILE *f, const ch_store *s, const ch_q_entry *e, bool account,
                       const ch_toktab *tokens) {
    char hex[67], v[48], b1[128], b2[128], b3[128];
    if (!account) {
        ch_hash256 id;
        ch_store_txid(s, e->tx, &id);
        ch_hash256_to_hex(&id, hex);
        fprintf(f, "  %8u  %s  %c%s\n", e->height, hex, e->sign < 0 ? '-' : '+',
                ch_q_btc((uint64_t)e->amount, v));
        return;
    }
    if (e->tx == CH_NO_TX) {
        snprintf(hex, sizeof hex, "(no tx)");
    } else {
        ch_hash256 id;
        ch_store_txid(s, e->tx, &id);
        ch_q_hash_hex(id.b, true, hex);
    }
    const ch_token_info *ti = token_of(s, tokens, e->asset);
    fprintf(f, "  %8" PRIu64 "  %s  %-8s %s -> %s  %c%s %s\n", e->number, hex, kind_name(e->kind),
            ch_q_addr_str(s, e->from, b1) ? b1 : "-", ch_q_addr_str(s, e->to, b2) ? b2 : "-",
            e->sign > 0   ? '+'
            : e->sign < 0 ? '-'
                          : '=',
            ch_u128_str(e->amount, v),
            !e->asset ? "wei"
            : ti      ? ti->symbol
                      : ch_q_addr_str(s, e->asset, b3));
}

void ch_q_page_text(FILE *f, const ch_store *s, const ch_q_page *page, const ch_toktab *tokens) {
    bool account = ch_store_is_account(s);
    for (size_t i = 0; i < page->n; i++)
        text_entry(f, s, &page->v[i], account, tokens);
    if (page->next[0]) fprintf(f, "  next page: --cursor %s\n", page->next);
}

void ch_q_address_text(FILE *f, const ch_store *s, const ch_q_address *a, const ch_q_page *page,
                       size_t max_peers, const ch_toktab *tokens) {
    char v1[48], v2[48], t[32], buf[128];
    fprintf(f, "address   %s\n", a->canonical);
    if (!a->account) {
        const ch_q_balance *b = &a->balances[0];
        fprintf(f, "received  %s BTC\n", ch_q_btc((uint64_t)b->received, v1));
        fprintf(f, "sent      %s BTC\n", ch_q_btc((uint64_t)b->sent, v1));
        fprintf(f, "balance   %s BTC\n", ch_q_btc((uint64_t)b->balance, v1));
        fprintf(f, "txs       %" PRIu64 " (%" PRIu64 " outputs)\n", a->tx_count, a->items);
        fprintf(f, "first     height %u  %s UTC\n", a->first_height, ch_q_time(a->first_time, t));
        fprintf(f, "last      height %u  %s UTC\n", a->last_height, ch_q_time(a->last_time, t));
        for (size_t i = 0; page && i < page->n; i++)
            text_entry(f, s, &page->v[i], false, tokens);
        size_t shown = page ? page->n : 0;
        if (shown < a->tx_count)
            fprintf(f, "  ... %" PRIu64 " more (--limit 0 shows all)\n", a->tx_count - shown);
        return;
    }
    fprintf(f, "txs       %" PRIu64 " (%" PRIu64 " transfers)\n", a->tx_count, a->items);
    fprintf(f, "first     block %" PRIu64 "\nlast      block %" PRIu64 "\n", a->first_number,
            a->last_number);
    for (size_t i = 0; i < a->n_balances; i++) {
        const ch_q_balance *b = &a->balances[i];
        const ch_token_info *ti = token_of(s, tokens, b->asset);
        fprintf(f, "asset %s%s%s: received %s, sent %s\n",
                b->asset ? ch_q_addr_str(s, b->asset, buf) : "native (wei)", ti ? " " : "",
                ti ? ti->symbol : "", ch_u128_str(b->received, v1), ch_u128_str(b->sent, v2));
    }
    for (size_t i = 0; i < a->n_peers && (!max_peers || i < max_peers); i++)
        fprintf(f, "  counterparty %s  %" PRIu64 " transfers\n",
                ch_q_addr_str(s, a->peers[i].addr, buf), a->peers[i].count);
    if (page) ch_q_page_text(f, s, page, tokens);
}
