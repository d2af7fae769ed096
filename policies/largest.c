/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * largest: the candidate using the most memory (memory.current), then the
 * most swap; ties to the first in pre-order. No options.
 */
#include "common.h"

static int largest_choose(const struct cgsentry_view *v, void *state, struct cgsentry_decision *d)
{
        policy_choose_ranked(v, POLICY_RANK_LARGEST, d);
        return 0;
}

CGSENTRY_POLICY_DEFINE("largest", POLICY_VERSION,
                       "the group using the most memory (memory.current), then swap",
                       NULL, largest_choose, NULL)
