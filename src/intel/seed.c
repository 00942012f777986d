/* Built-in seed facts: a few attributions every store starts with, each
 * with its citation. Never add an address here without one. */
#include "intel/intel_internal.h"

#include <string.h>

typedef struct seed_fact {
    const char *address, *asset, *entity, *category, *source_url, *date, *note;
} seed_fact;

static const seed_fact SEED[] = {
    /* The Ronin bridge exploiter: OFAC added this address to the SDN entry
     * of LAZARUS GROUP on 2022-04-14 (cited in issue 3; the address is also
     * in the OFAC per-asset list fixture, ofac-lists/sanctioned_addresses_ETH). */
    {"0x098B716B8Aaf21512996dC57EB0615e2383E2f96", "ETH", "LAZARUS GROUP", "sanctions",
     "https://ofac.treasury.gov/recent-actions/20220414", "2022-04-14",
     "Ronin bridge exploiter (about $620M, disclosed 2022-03-29); OFAC SDN LAZARUS GROUP, "
     "2022-04-14"},
};

#define SEED_SOURCE "OFAC SDN (built-in seed)"

int intel_seed_facts(ch_intel *db, MDB_txn *txn, ch_error *err) {
    ch_import_stats st = {0};
    ch_imp im;
    memset(&im, 0, sizeof im);
    im.db = db;
    im.txn = txn;
    im.st = &st;
    im.file = "built-in seed";
    for (size_t i = 0; i < sizeof SEED / sizeof SEED[0]; i++) {
        const seed_fact *s = &SEED[i];
        ch_attribution a;
        memset(&a, 0, sizeof a);
        intel_copy(a.asset, sizeof a.asset, s->asset);
        intel_copy(a.entity, sizeof a.entity, s->entity);
        intel_copy(a.category, sizeof a.category, s->category);
        intel_copy(a.source_name, sizeof a.source_name, SEED_SOURCE);
        intel_copy(a.source_url, sizeof a.source_url, s->source_url);
        intel_copy(a.source_date, sizeof a.source_date, s->date);
        intel_copy(a.first_listed, sizeof a.first_listed, s->date);
        intel_copy(a.last_listed, sizeof a.last_listed, s->date);
        intel_copy(a.note, sizeof a.note, s->note);
        a.confidence = 100;
        intel_copy(im.as_of, sizeof im.as_of, s->date);
        if (imp_add(&im, s->address, &a, NULL, IMP_VALIDATE, "seed", err) < 0) return -1;
        if (st.rejected)
            return ch_err(err, "built-in seed address %s does not validate", s->address);
    }
    return 0;
}
