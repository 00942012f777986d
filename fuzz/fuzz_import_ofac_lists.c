/* libFuzzer harness: OFAC per-asset lists (import_ofac_lists.c), the .txt
 * and the .json form (the importer picks by the first byte). */
#define FUZZ_FORMAT CH_FMT_OFAC_LISTS
#define FUZZ_NAME   "sanctioned_addresses_XBT.txt"
#include "import_harness.h"
