/* The pre-send check: is the destination a poisoner's lookalike? */
#include "poison/poison_internal.h"

#include <string.h>

/* Sender histories are walked whole up to this many transfers (a person's
 * wallet; an exchange's hot wallet is cut off here). */
#define CHECK_WALK_MAX 2000000u

/* The first signal on transfer x whose victim is `victim` (0: any victim),
 * or NULL; signals are appended in transfer order. */
static const ch_signal_rec *signal_on(const ch_store *s, uint64_t x, ch_addr_id victim) {
    for (uint64_t lo = ch_poison_signal_from(s, x); lo < ch_poison_signal_count(s); lo++) {
        const ch_signal_rec *r = ch_poison_signal(s, lo);
        if (r->xfer != x) break;
        if (victim == 0 || r->victim == victim) return r;
    }
    return NULL;
}

int ch_poison_check_send(ch_poison *p, ch_store *s, const ch_addr *sender_addr,
                         const ch_addr *dest_addr, ch_send_check *out, ch_error *err) {
    memset(out, 0, sizeof *out);
    ch_addr_id dest = 0;
    ch_addr_id sender = 0;
    uint64_t head = 0, dhead;
    int rc = ch_store_find_addr(s, sender_addr, &sender, &head, err);
    if (rc < 0 || ch_store_find_addr(s, dest_addr, &dest, &dhead, err) < 0) return -1;
    if (rc == 0 || head >= ch_store_xfer_count(s) ||
        !memcmp(sender_addr->bytes, dest_addr->bytes, 20))
        return 0; /* no history to go by (or sending to oneself) */
    out->sender_known = true;
    ch_poison *own = NULL;
    if (!p) {
        if (ch_poison_new(NULL, &own, err) != 0) return -1;
        p = own;
    }
    if (p->cache_store != s) pz_cache_clear(p);
    p->cache_store = s;
    ch_addr ca;
    const uint8_t *db = dest_addr->bytes;
    for (int64_t y = (int64_t)head; y >= 0 && out->walked < CHECK_WALK_MAX;
         y = ch_store_xfer_prev(s, (uint64_t)y, sender), out->walked++) {
        ch_xfer_rec r = *ch_store_xfer(s, (uint64_t)y);
        ch_addr_id other = r.from == sender ? r.to : r.from;
        if (other == 0) continue;
        bool clean =
            (r.value_lo || r.value_hi) && r.from && r.to &&
            (r.kind == CH_XFER_NATIVE || r.kind == CH_XFER_INTERNAL || r.kind == CH_XFER_TOKEN) &&
            ch_poison_classify(p, s, &r) == 0;
        if (r.tx != CH_NO_TX && ch_store_etx(s, r.tx)->status == 0) clean = false;
        /* what ingest recorded counts too (its token tables may have known
         * a fake this detector does not) */
        if (clean && signal_on(s, (uint64_t)y, 0)) clean = false;
        if (dest && other == dest) {
            out->dest_known = true;
            out->first_xfer = (uint64_t)y; /* walking back: the last one met is the first */
            if (clean && r.from == sender) out->dest_paid = true;
            continue;
        }
        if (!clean) continue;
        ch_store_addr_of(s, other, &ca);
        unsigned pre, suf;
        ch_poison_match(db, ca.bytes, &pre, &suf);
        if (pre < p->o.min_prefix || suf < p->o.min_suffix) continue;
        if (out->lookalike && pre + suf <= out->prefix + out->suffix) continue;
        out->lookalike = true;
        out->imitated = other;
        out->prefix = pre;
        out->suffix = suf;
    }
    if (out->dest_known) {
        const ch_signal_rec *sig = signal_on(s, out->first_xfer, sender);
        if (sig) {
            out->first_via_signal = true;
            out->first_kind = sig->kind;
        } else {
            /* a store ingested without the detector: judge the transfer now */
            unsigned m = ch_poison_classify(p, s, ch_store_xfer(s, out->first_xfer));
            for (int k = CH_SIG_ZERO_SPOOF; k <= CH_SIG_FAKE_TOKEN && !out->first_via_signal; k++)
                if (m & (1u << k)) {
                    out->first_via_signal = true;
                    out->first_kind = k;
                }
        }
    }
    out->verdict = out->first_via_signal ? CH_SEND_FIRST_VIA_SIGNAL
                   : out->lookalike      ? CH_SEND_LOOKALIKE
                                         : CH_SEND_OK;
    ch_poison_free(own);
    return 0;
}
