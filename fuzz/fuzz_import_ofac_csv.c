/* libFuzzer harness: OFAC sdn.csv with its sdn_comments.csv
 * (import_ofac_csv.c). The input is split at its first NUL byte: the part
 * before is read as sdn_comments.csv, the part after as sdn.csv, in one
 * import (an input without a NUL is an sdn.csv alone). Remarks are joined
 * with their continuations, cut addresses counted: never a crash, a leak or
 * a read out of bounds. */
#define FUZZ_FORMAT         CH_FMT_OFAC_CSV
#define FUZZ_NAME           "sdn.csv"
#define FUZZ_SPLIT_COMMENTS 1
#include "import_harness.h"
