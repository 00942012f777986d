/* Lists that lost letter case.
 *
 * Some public copies of OFAC's list lower-case every address. Base58
 * addresses (BTC legacy, LTC, TRX, DASH, ZEC, XRP, XMR, ...) are
 * case-sensitive: lower-cased, they fail their checksum and no longer name
 * the real address. The real case cannot be worked out from the string (one
 * letter in two would have to be guessed, 2^20 tries and more per address),
 * so such an entry is:
 *   - restored to its real case when the store (any source) or this import
 *     holds a real-case address of the same lower-cased form: a checksum
 *     proves that one is a real address, and two real addresses that differ
 *     only in case do not happen (that would take a checksum collision);
 *   - otherwise kept under its lower-cased form, and a lookup of the
 *     real-case address also asks that key (store.c, screen/reader.c), with
 *     the match marked case-insensitive.
 * When a real-case address arrives later, the attributions kept under its
 * lower-cased form move onto it. Each file ends with a loud warning when
 * many of its Base58 addresses had lost their case. */
#include "intel/intel_internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util/vec.h"

ch_family case_lost_family(const char *s) {
    size_t n = strlen(s);
    if (n < 25 || n > 110) return CH_FAM_UNKNOWN;
    bool letter = false;
    for (const char *p = s; *p; p++) {
        if (*p >= 'a' && *p <= 'z')
            letter = true;
        else if (!(*p >= '1' && *p <= '9'))
            return CH_FAM_UNKNOWN; /* '0', upper case, punctuation: not a lower-cased Base58 */
    }
    if (!letter) return CH_FAM_UNKNOWN;
    /* bech32 and CashAddr are lower-case by nature: they validate or not */
    if (!strncmp(s, "bc1", 3) || !strncmp(s, "ltc1", 4) || !strncmp(s, "tb1", 3) ||
        ((s[0] == 'q' || s[0] == 'p') && n == 42))
        return CH_FAM_UNKNOWN;
    switch (s[0]) {
    case '1':
    case '3':
        return n <= 35 ? CH_FAM_BTC : CH_FAM_UNKNOWN;
    case 't':
        return n == 34 ? CH_FAM_TRX : n == 35 ? CH_FAM_ZEC : CH_FAM_UNKNOWN;
    case 'l':
    case 'm':
        return n == 34 ? CH_FAM_LTC : CH_FAM_UNKNOWN;
    case 'x':
        return n == 34 ? CH_FAM_DASH : CH_FAM_UNKNOWN;
    case 'r':
        return n <= 35 ? CH_FAM_XRP : CH_FAM_UNKNOWN;
    case 'd':
        return n == 34 ? CH_FAM_XVG : CH_FAM_UNKNOWN;
    case 'g':
    case 'a':
        return n == 34 ? CH_FAM_BTG : CH_FAM_UNKNOWN;
    case '4':
    case '8':
        return n == 95 || n == 106 ? CH_FAM_XMR : CH_FAM_UNKNOWN;
    default:
        return CH_FAM_UNKNOWN;
    }
}

/* ---- the lower-cased -> real-case table ---- */

static int entry_cmp(const void *x, const void *y) {
    return strcmp(((const case_entry *)x)->lower, ((const case_entry *)y)->lower);
}

static int push(ch_imp *im, const char *lower, const char *real, ch_error *err) {
    case_entry *nv = ch_grow(im->cases, &im->capcases, im->ncases + 1, sizeof *nv);
    if (!nv) return ch_err(err, "out of memory");
    im->cases = nv;
    case_entry *e = &im->cases[im->ncases++];
    intel_copy(e->lower, sizeof e->lower, lower);
    intel_copy(e->real, sizeof e->real, real);
    im->cases_sorted = false;
    return 0;
}

/* Every address with an upper-case letter the store holds (keys are sorted
 * by address, so each address comes once in a row). */
static int build(ch_imp *im, ch_error *err) {
    MDB_cursor *cur;
    int rc = mdb_cursor_open(im->txn, im->db->attr, &cur);
    if (rc) return intel_lmdb_err(err, "cursor", rc);
    MDB_val k, v;
    char prev[128] = "";
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        size_t al = strnlen(k.mv_data, k.mv_size);
        if (al >= sizeof prev) continue;
        char addr[128], lower[128];
        memcpy(addr, k.mv_data, al);
        addr[al] = '\0';
        if (!strcmp(addr, prev)) continue;
        memcpy(prev, addr, al + 1);
        if (intel_fold_case(addr, lower, sizeof lower) && push(im, lower, addr, err) < 0) {
            mdb_cursor_close(cur);
            return -1;
        }
    }
    mdb_cursor_close(cur);
    im->cases_built = true;
    return 0;
}

int case_find_real(ch_imp *im, const char *lower, char real[128], ch_error *err) {
    if (!im->cases_built && build(im, err) < 0) return -1;
    if (!im->cases_sorted) {
        if (im->ncases > 1) qsort(im->cases, im->ncases, sizeof *im->cases, entry_cmp);
        im->cases_sorted = true;
    }
    case_entry key;
    intel_copy(key.lower, sizeof key.lower, lower);
    const case_entry *e =
        im->ncases ? bsearch(&key, im->cases, im->ncases, sizeof *im->cases, entry_cmp) : NULL;
    if (!e) return 0;
    intel_copy(real, 128, e->real);
    return 1;
}

/* ---- moving case-lost attributions onto the real address ---- */

typedef struct moved {
    uint8_t key[160];
    size_t klen;
    ch_attribution a;
} moved;

int case_note_real(ch_imp *im, const char *real, ch_error *err) {
    char lower[128];
    if (!intel_fold_case(real, lower, sizeof lower)) return 0;
    if (im->cases_built && push(im, lower, real, err) < 0) return -1;
    /* what sources listed under the lower-cased form */
    MDB_cursor *cur;
    int rc = mdb_cursor_open(im->txn, im->db->attr, &cur);
    if (rc) return intel_lmdb_err(err, "cursor", rc);
    size_t pl = strlen(lower) + 1;
    MDB_val k = {pl, lower}, v;
    moved *mv = NULL;
    size_t n = 0, cap = 0;
    int result = 0;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size < pl || memcmp(k.mv_data, lower, pl) != 0 || k.mv_size > 160) break;
        moved *nv = ch_grow(mv, &cap, n + 1, sizeof *mv);
        if (!nv) {
            result = ch_err(err, "out of memory");
            break;
        }
        mv = nv;
        memcpy(mv[n].key, k.mv_data, k.mv_size);
        mv[n].klen = k.mv_size;
        intel_copy(mv[n].a.address, sizeof mv[n].a.address, real);
        if (intel_attr_decode(v.mv_data, v.mv_size, &mv[n].a) < 0) {
            result = ch_err(err, "attribution store: corrupt record for %s", lower);
            break;
        }
        n++;
    }
    mdb_cursor_close(cur);
    for (size_t i = 0; result == 0 && i < n; i++) {
        MDB_val dk = {mv[i].klen, mv[i].key};
        rc = mdb_del(im->txn, im->db->attr, &dk, NULL);
        if (rc) {
            result = intel_lmdb_err(err, "move", rc);
            break;
        }
        ch_attribution *a = &mv[i].a;
        char note[200];
        snprintf(note, sizeof note, "letter case restored: the source lists '%s'", lower);
        if (!strstr(a->note, "letter case restored"))
            intel_append(a->note, sizeof a->note, "; ", note);
        result = imp_put_record(im, a, err);
        if (im->st) im->st->case_restored++;
    }
    free(mv);
    return result;
}

void case_report(ch_imp *im) {
    for (int f = 0; f < CH_FAM_COUNT; f++) {
        uint64_t lost = im->fam_lost[f], seen = im->fam_seen[f];
        if (!lost) continue;
        imp_warn(im,
                 "%s: %llu of %llu %s addresses fail their checksum%s: they are kept lower-cased "
                 "and matched case-insensitively (restored to their real case where the store "
                 "knows it)",
                 im->file, (unsigned long long)lost, (unsigned long long)seen,
                 ch_family_name((ch_family)f),
                 lost * 2 >= seen ? ": this list looks lower-cased" : " and look lower-cased");
    }
    memset(im->fam_seen, 0, sizeof im->fam_seen);
    memset(im->fam_lost, 0, sizeof im->fam_lost);
}

void case_free(ch_imp *im) {
    free(im->cases);
    im->cases = NULL;
    im->ncases = im->capcases = 0;
    im->cases_built = false;
}
