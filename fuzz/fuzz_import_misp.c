/* libFuzzer harness: MISP event JSON (import_misp.c, jansson). */
#define FUZZ_FORMAT CH_FMT_MISP
#define FUZZ_NAME   "event.json"
#include "import_harness.h"
