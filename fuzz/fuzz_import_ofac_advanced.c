/* libFuzzer harness: OFAC sdn_advanced.xml (import_ofac_advanced.c, libxml2 reader). */
#define FUZZ_FORMAT CH_FMT_OFAC_ADVANCED
#define FUZZ_NAME   "sdn_advanced.xml"
#include "import_harness.h"
