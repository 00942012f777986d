/* An address's history, a page at a time, with an opaque cursor.
 *
 * The cursor is a letter and a hex number, nothing a URL must escape:
 *   "u<T>"  UTXO: the page holds txs with index < T. Appended txs have
 *           larger indexes, so a cursor stays valid and never repeats.
 *   "a<X>"  account: the page starts at transfer X of the address's chain
 *           of transfers (newest first); appended transfers are newer.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/query.h"
#include "query/query_internal.h"

void ch_q_page_free(ch_q_page *p) {
    if (!p) return;
    free(p->v);
    p->v = NULL;
    p->n = 0;
}

/* "u1a2b" -> 'u', 0x1a2b; -1 when not a letter and 1 to 16 hex digits. */
static int cursor_parse(const char *c, char want, uint64_t *v) {
    size_t n = strlen(c);
    if (n < 2 || n > 17 || c[0] != want) return -1;
    *v = 0;
    for (size_t i = 1; i < n; i++) {
        char d = c[i];
        int x = d >= '0' && d <= '9' ? d - '0' : d >= 'a' && d <= 'f' ? d - 'a' + 10 : -1;
        if (x < 0) return -1;
        *v = *v << 4 | (uint64_t)x;
    }
    return 0;
}

typedef struct ev {
    uint64_t tx;
    int64_t delta; /* satoshi: |delta| < 2^63 as total supply < 2^51 */
} ev;

static int by_tx_desc(const void *a, const void *b) {
    uint64_t x = ((const ev *)a)->tx, y = ((const ev *)b)->tx;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* Sort events newest first and merge those of one tx; keep at most keep
 * (0: all). Returns whether any tx was dropped. */
static bool merge_keep(ch_vec *e, size_t keep) {
    ev *v = e->v;
    if (e->n) qsort(v, e->n, sizeof *v, by_tx_desc);
    size_t m = 0;
    for (size_t i = 0; i < e->n; i++) {
        if (m > 0 && v[m - 1].tx == v[i].tx)
            v[m - 1].delta += v[i].delta;
        else
            v[m++] = v[i];
    }
    e->n = m;
    if (keep && m > keep) {
        e->n = keep;
        return true;
    }
    return false;
}

/* UTXO: an output received in tx r is spent, if at all, by a later tx; so
 * the txs below T come from the outputs received below T, and no output
 * above is needed. Events are kept to the newest `limit` + 1 txs by merging
 * whenever the buffer reaches four times that (a tx that falls out then can
 * never come back: the bar only rises). */
static int utxo_page(ch_store *s, const ch_q_address *a, uint64_t T, uint64_t limit, ch_q_page *out,
                     ch_error *err) {
    ch_vec e = {0};
    size_t keep = limit ? (size_t)limit + 1 : 0; /* one more says whether more exist */
    for (int64_t o = a->last == UINT64_MAX ? -1 : (int64_t)a->last; o >= 0;
         o = ch_store_output_prev_same_addr(s, (uint64_t)o)) {
        int64_t r = ch_query_output_tx(s, (uint64_t)o);
        if (r < 0) goto fail;
        if ((uint64_t)r >= T) continue;
        int64_t v = (int64_t)CH_OUT_VALUE(ch_store_output(s, (uint64_t)o));
        int64_t sp = ch_store_output_spender(s, (uint64_t)o);
        if (ch_vec_push(&e, sizeof(ev), &(ev){(uint64_t)r, v}) != 0) goto fail;
        if (sp >= 0 && (uint64_t)sp < T && ch_vec_push(&e, sizeof(ev), &(ev){(uint64_t)sp, -v}))
            goto fail;
        if (keep && e.n >= 4 * keep) merge_keep(&e, keep);
    }
    merge_keep(&e, keep);
    bool more = limit && e.n > limit;
    size_t n = more ? (size_t)limit : e.n;
    if (n && !(out->v = calloc(n, sizeof *out->v))) goto fail;
    const ev *v = e.v;
    for (size_t i = 0; i < n; i++) {
        ch_q_entry *x = &out->v[i];
        x->tx = v[i].tx;
        x->height = ch_store_tx_height(s, v[i].tx);
        x->number = x->height;
        x->time = ch_store_block(s, x->height)->time;
        x->sign = v[i].delta < 0 ? -1 : 1;
        x->amount = (ch_q_amount)(v[i].delta < 0 ? -(uint64_t)v[i].delta : (uint64_t)v[i].delta);
    }
    out->n = n;
    if (more) snprintf(out->next, sizeof out->next, "u%" PRIx64, v[n - 1].tx);
    free(e.v);
    return 0;
fail:
    free(e.v);
    return ch_err(err, "address history: out of memory or a damaged store");
}

/* Account: the address's transfers are a chain, newest first; a page is
 * the next `limit` links from the cursor's transfer. */
static int account_page(ch_store *s, const ch_q_address *a, int64_t x, uint64_t limit,
                        ch_q_page *out, ch_error *err) {
    ch_vec e = {0};
    uint64_t base = ch_store_first_number(s);
    for (; x >= 0 && (!limit || e.n < limit); x = ch_store_xfer_prev(s, (uint64_t)x, a->id)) {
        const ch_xfer_rec *r = ch_store_xfer(s, (uint64_t)x);
        ch_q_entry en = {0};
        en.tx = r->tx;
        en.xfer = (uint64_t)x;
        en.height = ch_store_xfer_height(s, (uint64_t)x);
        en.number = base + en.height;
        en.time = ch_store_block(s, en.height)->time;
        en.asset = r->asset;
        en.amount = (ch_q_amount)r->value_hi << 64 | r->value_lo;
        en.sign = r->to == a->id && r->from == a->id ? 0 : r->to == a->id ? 1 : -1;
        en.kind = r->kind;
        en.from = r->from;
        en.to = r->to;
        if (ch_vec_push(&e, sizeof en, &en) != 0) {
            free(e.v);
            return ch_err(err, "address history: out of memory");
        }
    }
    out->v = e.v;
    out->n = e.n;
    if (x >= 0) snprintf(out->next, sizeof out->next, "a%" PRIx64, (uint64_t)x);
    return 0;
}

int ch_query_history(ch_store *s, const ch_q_address *a, const char *cursor, uint64_t limit,
                     ch_q_page *out, ch_error *err) {
    memset(out, 0, sizeof *out);
    bool first = !cursor || !*cursor;
    uint64_t c = 0;
    ch_store_counts n;
    ch_store_get_counts(s, &n);
    if (!a->account) {
        if (!first && (cursor_parse(cursor, 'u', &c) != 0 || c > n.txs))
            return ch_err(err, "bad cursor '%s': not a cursor of this address's history", cursor);
        return utxo_page(s, a, first ? UINT64_MAX : c, limit, out, err);
    }
    if (a->last == UINT64_MAX) return 0;
    if (first) return account_page(s, a, (int64_t)a->last, limit, out, err);
    const ch_xfer_rec *r;
    if (cursor_parse(cursor, 'a', &c) != 0 || c >= ch_store_xfer_count(s) ||
        ((r = ch_store_xfer(s, c))->from != a->id && r->to != a->id))
        return ch_err(err, "bad cursor '%s': not a cursor of this address's history", cursor);
    return account_page(s, a, (int64_t)c, limit, out, err);
}
