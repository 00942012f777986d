/* The screener's insides that its tests look at (screener.c). */
#ifndef COINHOUND_SCREEN_SCREENER_INTERNAL_H
#define COINHOUND_SCREEN_SCREENER_INTERNAL_H

#include "coinhound/cluster.h"
#include "coinhound/screener.h"

/* The cluster labels' index in use (NULL: not built, or dropped): the same
 * pointer across a ch_screener_refresh that found nothing new. */
const ch_cluster_label_index *scr_screener_labels_index(const ch_screener *s);

#endif
