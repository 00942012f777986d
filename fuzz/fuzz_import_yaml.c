/* libFuzzer harness: GraphSense TagPack YAML (import_tagpack.c, libyaml). */
#define FUZZ_FORMAT CH_FMT_TAGPACK
#define FUZZ_NAME   "pack.yaml"
#include "import_harness.h"
