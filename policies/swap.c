/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * swap: the candidate with the most swap in use (memory.swap.current), then
 * the most memory; ties to the first in pre-order. When no candidate uses
 * any swap it chooses nothing: killing to relieve swap that nobody uses
 * would free nothing this policy is about. No options.
 */
#include "common.h"

static int swap_choose(const struct cgsentry_view *v, void *state, struct cgsentry_decision *d)
{
        int32_t best = policy_choose_ranked(v, POLICY_RANK_SWAP, d);

        if (best >= 0 && policy_group_swap(v, (uint32_t)best) == 0) {
                d->group = -1;
                snprintf(d->explanation, d->explanation_size,
                         "none of the %" PRIu32 " candidates in %s uses swap", v->n_candidates,
                         v->domain);
        }
        return 0;
}

CGSENTRY_POLICY_DEFINE("swap", POLICY_VERSION,
                       "the group using the most swap (memory.swap.current); none if no "
                       "swap is used",
                       NULL, swap_choose, NULL)
