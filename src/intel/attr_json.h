/* An attribution <-> a JSON object (the coinhound extension of exports). */
#ifndef COINHOUND_INTEL_ATTR_JSON_H
#define COINHOUND_INTEL_ATTR_JSON_H

#include <jansson.h>

#include "coinhound/intel.h"

/* Every field but address and actor (the export says those its own way). */
json_t *intel_attr_to_json(const ch_attribution *a);
/* Set the fields the object has; others stay as they are. */
void intel_attr_from_json(json_t *o, ch_attribution *a);

#endif
