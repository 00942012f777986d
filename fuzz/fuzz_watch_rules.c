/* libFuzzer: watch rules (YAML) on arbitrary bytes.
 *
 * Properties: never crashes or reads out of bounds; a refused file says
 * where ("line N") whenever libyaml could read it as YAML; an accepted file
 * has at least one rule, each with a name, a known kind and what its kind
 * needs (addresses, values, a large_transfer's minimum, an incident's
 * sources in a form a watcher reads). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/watch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ch_watch_rules *r = NULL;
    ch_error err;
    if (ch_watch_rules_parse((const char *)data, size, "fuzz.yaml", &r, &err) != 0) {
        if (r) abort();
        if (strncmp(err.msg, "fuzz.yaml", 9) != 0 && strcmp(err.msg, "out of memory") != 0) abort();
        return 0;
    }
    if (!r || r->n == 0) abort();
    for (size_t i = 0; i < r->n; i++) {
        const ch_watch_rule *x = &r->v[i];
        if (!x->name[0] || x->line == 0) abort();
        switch (x->kind) {
        case CH_WATCH_ADDRESS: /* EVM addresses, Bitcoin ones, or both: each list sorted */
            if (x->n_addrs + x->n_btc_addrs == 0) abort();
            for (size_t k = 1; k < x->n_addrs; k++)
                if (memcmp(x->addrs[k - 1], x->addrs[k], 20) > 0) abort();
            for (size_t k = 1; k < x->n_btc_addrs; k++)
                if (ch_watch_addr_cmp(&x->btc_addrs[k - 1], &x->btc_addrs[k]) > 0) abort();
            break;
        case CH_WATCH_LARGE:
            if (!x->asset_text[0]) abort();
            break;
        case CH_WATCH_ENTITY:
        case CH_WATCH_ACTOR:
        case CH_WATCH_CATEGORY:
            if (x->n_values == 0) abort();
            break;
        case CH_WATCH_INCIDENT:
            /* each source an EVM tx hash or address, or a Bitcoin txid,
             * TXID:VOUT or address: the forms each watcher tells apart */
            if (x->n_sources == 0) abort();
            for (size_t k = 0; k < x->n_sources; k++) {
                const char *s = x->sources[k];
                size_t n = strlen(s);
                if (ch_watch_source_is_evm(s) ? n != 42 && n != 66
                                              : !ch_watch_source_is_tx(s) && n < 14)
                    abort();
            }
            break;
        case CH_WATCH_DEPOSIT:
        case CH_WATCH_POISONING:
            break; /* their fields are checked by the parser's own tests */
        default:
            abort();
        }
    }
    ch_watch_rules_free(r);
    return 0;
}
