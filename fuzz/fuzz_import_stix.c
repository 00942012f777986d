/* libFuzzer harness: STIX 2.1 bundles (import_stix.c, jansson). */
#define FUZZ_FORMAT CH_FMT_STIX
#define FUZZ_NAME   "bundle.json"
#include "import_harness.h"
