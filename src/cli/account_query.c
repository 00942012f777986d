#include "cli/account_query.h"

#include <stdlib.h>

#include "coinhound/tokens.h"

/* The token table for display: the reference list ($COINHOUND_TOKENS) and
 * a metadata table ($COINHOUND_TOKEN_META), as ingest's safeguard reads
 * them, plus --tokens files. Loaded once; NULL when none is given. */
static ch_toktab *g_tokens;

int cli_account_tokens(const char *const *files, size_t n, ch_error *err) {
    const char *ref = getenv("COINHOUND_TOKENS"), *meta = getenv("COINHOUND_TOKEN_META");
    if (!n && !(ref && *ref) && !(meta && *meta)) return 0;
    if (ch_toktab_new(1, &g_tokens, err) != 0) return -1;
    if (ref && *ref && ch_toktab_load(g_tokens, ref, true, err) != 0) return -1;
    if (meta && *meta && ch_toktab_load(g_tokens, meta, false, err) != 0) return -1;
    for (size_t i = 0; i < n; i++)
        if (ch_toktab_load(g_tokens, files[i], false, err) != 0) return -1;
    return 0;
}

const ch_toktab *cli_account_tokens_table(void) {
    return g_tokens;
}

void cli_account_tokens_free(void) {
    ch_toktab_free(g_tokens);
    g_tokens = NULL;
}
