/* libFuzzer harness: CSV with a header (import_csv.c) and the RFC 4180 reader. */
#define FUZZ_FORMAT CH_FMT_CSV
#define FUZZ_NAME   "list.csv"
#include "import_harness.h"
