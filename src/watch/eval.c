/* The rules against one committed block of an account store: which value
 * transfers match, and the alert each match gives (its stable id, what
 * moved, where, how much and why). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/hash.h"
#include "watch/watch_internal.h"

typedef struct side {
    bool has;
    ch_evm_addr a;
    char hex[43];
} side;

static void side_of(ch_store *s, ch_addr_id id, side *out) {
    memset(out, 0, sizeof *out);
    if (id == 0) return;
    ch_addr a;
    ch_store_addr_of(s, id, &a);
    if (a.kind != CH_ADDR_EVM || a.len != 20) return;
    out->has = true;
    memcpy(out->a.b, a.bytes, 20);
    ch_evm_addr_to_hex(&out->a, out->hex);
}

static int cmp20(const void *a, const void *b) {
    return memcmp(a, b, 20);
}

const char *watch_xfer_kind_name(uint8_t k) {
    switch (k) {
    case CH_XFER_NATIVE:
        return "native";
    case CH_XFER_INTERNAL:
        return "internal";
    case CH_XFER_TOKEN:
        return "token";
    case CH_XFER_NFT:
        return "nft";
    default:
        return "other";
    }
}

void watch_alert_id(const char *rule, const char *chain, const uint8_t block[32],
                    const uint8_t tx[32], uint8_t kind, uint32_t position, char out[33]) {
    ch_sha256_ctx c;
    ch_sha256_init(&c);
    ch_sha256_update(&c, "coinhound-watch-1", 18);
    ch_sha256_update(&c, rule, strlen(rule) + 1);
    ch_sha256_update(&c, chain, strlen(chain) + 1);
    ch_sha256_update(&c, block, 32);
    ch_sha256_update(&c, tx, 32);
    uint8_t kp[5] = {kind, (uint8_t)(position >> 24), (uint8_t)(position >> 16),
                     (uint8_t)(position >> 8), (uint8_t)position};
    ch_sha256_update(&c, kp, sizeof kp);
    uint8_t h[32];
    ch_sha256_final(&c, h);
    ch_hex_encode(h, 16, out);
}

void watch_coverage_id(const char *chain, const char *event, uint64_t first, char out[33]) {
    ch_sha256_ctx c;
    ch_sha256_init(&c);
    ch_sha256_update(&c, "coinhound-watch-coverage-1", 27);
    ch_sha256_update(&c, chain, strlen(chain) + 1);
    ch_sha256_update(&c, event, strlen(event) + 1);
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(first >> (56 - 8 * i));
    ch_sha256_update(&c, b, sizeof b);
    uint8_t h[32];
    ch_sha256_final(&c, h);
    ch_hex_encode(h, 16, out);
}

static json_t *hex32(const uint8_t b[32]) {
    char hex[67] = "0x";
    ch_hex_encode(b, 32, hex + 2);
    return json_string(hex);
}

typedef struct block_ctx {
    const watch_block *w;
    uint64_t number;
    uint64_t xi; /* the transfer's index */
    const ch_block_rec *b;
    ch_hash256 txid;
    const ch_xfer_rec *x;
    side from, to;
    json_t **attr[2]; /* per side, one per rule: the attribution rules' reasons
                       * (watch_attr_match), NULL when no such rule runs */
    side asset_side;  /* the token contract (has: false for the native coin) */
    char asset[48];
    char amount[80];
    bool saturated;
} block_ctx;

static int emit(block_ctx *c, const ch_watch_rule *r, json_t *addresses, json_t *reasons) {
    char id[33];
    watch_alert_id(r->name, c->w->chain, c->b->hash, c->txid.b, c->x->kind, c->x->position, id);
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(id));
    json_object_set_new(o, "rule", json_string(r->name));
    json_object_set_new(o, "kind", json_string(ch_watch_rule_kind_name(r->kind)));
    json_object_set_new(o, "severity", json_string(r->severity));
    json_object_set_new(o, "chain", json_string(c->w->chain));
    json_object_set_new(o, "height", json_integer((json_int_t)c->number));
    json_object_set_new(o, "block_hash", hex32(c->b->hash));
    json_object_set_new(o, "time", json_integer((json_int_t)c->b->time));
    json_object_set_new(o, "tx", hex32(c->txid.b));
    json_object_set_new(o, "transfer",
                        json_pack("{s:s,s:I}", "kind", watch_xfer_kind_name(c->x->kind), "position",
                                  (json_int_t)c->x->position));
    json_object_set_new(o, "from", c->from.has ? json_string(c->from.hex) : json_null());
    json_object_set_new(o, "to", c->to.has ? json_string(c->to.hex) : json_null());
    json_object_set_new(o, "addresses", addresses);
    json_object_set_new(o, "asset", json_string(c->asset));
    json_object_set_new(o, "amount", json_string(c->amount));
    if (c->saturated) json_object_set_new(o, "amount_saturated", json_true());
    json_object_set_new(o, "reasons", reasons);
    json_object_set_new(o, "retracted", json_false());
    return c->w->fn(o, c->w->ctx);
}

/* One rule against one transfer, on its sending and receiving sides: the
 * addresses that matched and why, as the alert's reasons. */
static int eval_rule(block_ctx *c, const ch_watch_rule *r) {
    if (r->kind == CH_WATCH_INCIDENT || r->kind == CH_WATCH_POISONING) return 0; /* per block */
    if (r->kind == CH_WATCH_DEPOSIT) return watch_deposit_eval(c->w, r, c->xi);
    json_t *addresses = json_array(), *reasons = json_array();
    bool hit = false;
    const side *sides[2] = {&c->from, &c->to};
    const char *dir[2] = {"sent from", "received by"};
    for (int i = 0; i < 2; i++) {
        const side *sd = sides[i];
        if (!sd->has) continue;
        bool this_hit = false;
        if (r->kind == CH_WATCH_ADDRESS) {
            if (!r->n_addrs || !bsearch(sd->a.b, r->addrs, r->n_addrs, 20, cmp20)) continue;
            char why[160];
            snprintf(why, sizeof why, "%s %s, a watched address", dir[i], sd->hex);
            watch_rule_reason(reasons, c->w->rules, r, why);
            this_hit = true;
        } else if (watch_rule_is_attr(r) && c->attr[i]) {
            json_t *mine = c->attr[i][r - c->w->rules->v];
            if (!mine) continue;
            json_array_extend(reasons, mine);
            this_hit = true;
        }
        if (this_hit) {
            hit = true;
            json_array_append_new(addresses, json_string(sd->hex));
        }
    }
    if (r->kind == CH_WATCH_LARGE) {
        bool native = c->x->asset == 0;
        bool asset_ok = false;
        if (r->native)
            asset_ok = native && (c->x->kind == CH_XFER_NATIVE || c->x->kind == CH_XFER_INTERNAL);
        else if (!native && c->x->kind == CH_XFER_TOKEN)
            asset_ok = c->asset_side.has && memcmp(c->asset_side.a.b, r->asset, 20) == 0;
        ch_u256 v = {{c->x->value_lo, c->x->value_hi, c->saturated ? 1 : 0, 0}};
        if (asset_ok && ch_u256_cmp(&v, &r->min) >= 0) {
            char min[80], why[300];
            ch_u256_to_dec(&r->min, min);
            snprintf(why, sizeof why, "%s %s base units of %s, at or above the rule's minimum %s",
                     c->saturated ? "more than" : "moved", c->amount, c->asset, min);
            watch_rule_reason(reasons, c->w->rules, r, why);
            if (c->from.has) json_array_append_new(addresses, json_string(c->from.hex));
            if (c->to.has) json_array_append_new(addresses, json_string(c->to.hex));
            hit = true;
        }
    }
    if (!hit) {
        json_decref(addresses);
        json_decref(reasons);
        return 0;
    }
    return emit(c, r, addresses, reasons);
}

int watch_eval_block(const watch_block *w) {
    ch_store *s = w->s;
    ch_intel *intel = w->intel;
    const ch_watch_rules *rules = w->rules;
    ch_error *err = w->err;
    block_ctx c = {
        .w = w, .number = ch_store_first_number(s) + w->height, .b = ch_store_block(s, w->height)};
    /* one lookup a side answers every attribution rule (not one a rule) */
    json_t **attr = NULL;
    bool any_attr = false;
    for (size_t r = 0; r < rules->n; r++)
        any_attr |= watch_rule_is_attr(&rules->v[r]);
    if (intel && any_attr) {
        if (!(attr = calloc(2 * rules->n, sizeof *attr))) return ch_err(err, "out of memory");
        c.attr[0] = attr;
        c.attr[1] = attr + rules->n;
    }
    int rc = 0;
    for (uint64_t tx = c.b->first_tx; rc == 0 && tx < c.b->first_tx + c.b->n_tx; tx++) {
        uint64_t first, n;
        ch_store_tx_xfers(s, tx, &first, &n);
        ch_store_txid(s, tx, &c.txid);
        for (uint64_t i = first; rc == 0 && i < first + n; i++) {
            c.x = ch_store_xfer(s, i);
            c.xi = i;
            if (c.x->kind == CH_XFER_FEE || c.x->kind == CH_XFER_REWARD ||
                c.x->kind == CH_XFER_WITHDRAWAL || (c.x->value_lo == 0 && c.x->value_hi == 0))
                continue;
            side_of(s, c.x->from, &c.from);
            side_of(s, c.x->to, &c.to);
            side_of(s, c.x->asset, &c.asset_side);
            if (c.x->asset == 0)
                snprintf(c.asset, sizeof c.asset, "ETH");
            else
                snprintf(c.asset, sizeof c.asset, "%s", c.asset_side.has ? c.asset_side.hex : "?");
            c.saturated = (c.x->flags & CH_XFER_SATURATED) != 0;
            ch_u256 v = {{c.x->value_lo, c.x->value_hi, 0, 0}};
            ch_u256_to_dec(&v, c.amount);
            if (attr && ((c.from.has &&
                          watch_attr_match(intel, rules, c.from.hex, "ETH", c.attr[0], err) != 0) ||
                         (c.to.has &&
                          watch_attr_match(intel, rules, c.to.hex, "ETH", c.attr[1], err) != 0)))
                rc = -1;
            for (size_t r = 0; rc == 0 && r < rules->n; r++)
                rc = eval_rule(&c, &rules->v[r]);
            if (attr) watch_attr_clear(attr, 2 * rules->n);
        }
    }
    free(attr);
    if (rc != 0) return -1;
    /* poisoning: the signals the ingest recorded for the block's transfers */
    if (c.b->n_tx) {
        uint64_t lo, n, last_f, last_n;
        ch_store_tx_xfers(s, c.b->first_tx, &lo, &n);
        ch_store_tx_xfers(s, c.b->first_tx + c.b->n_tx - 1, &last_f, &last_n);
        for (size_t r = 0; r < rules->n; r++)
            if (rules->v[r].kind == CH_WATCH_POISONING &&
                watch_poisoning_eval(s, rules, &rules->v[r], w->chain, w->height, lo,
                                     last_f + last_n, w->fn, w->ctx, err) != 0)
                return -1;
    }
    return ch_store_damage(s, err);
}
