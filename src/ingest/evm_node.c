/* Placeholder until the JSON-RPC node client lands (libcurl). */
#include "coinhound/ingest.h"

int ch_ingest_evm_node(const char *url, const char *db_dir, const char *chain,
                       const ch_node_opts *node, const ch_ingest_opts *opts, ch_ingest_stats *stats,
                       ch_error *err) {
    (void)db_dir;
    (void)chain;
    (void)node;
    (void)opts;
    (void)stats;
    return ch_err(err, "%s: the node client is not built yet", url);
}
