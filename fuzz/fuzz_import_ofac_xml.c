/* libFuzzer harness: OFAC legacy sdn.xml (import_ofac_xml.c, libxml2 reader). */
#define FUZZ_FORMAT CH_FMT_OFAC_XML
#define FUZZ_NAME   "sdn.xml"
#include "import_harness.h"
