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

CGSENTRY_POLICY_EXPORT const struct cgsentry_policy *cgsentry_policy_entry(void)
{
        static const struct cgsentry_policy policy = {
                .abi_major = CGSENTRY_POLICY_ABI_MAJOR,
                .abi_minor = CGSENTRY_POLICY_ABI_MINOR,
                .struct_size = sizeof(struct cgsentry_policy),
                .name = "largest",
                .version = POLICY_VERSION,
                .description = "the group using the most memory (memory.current), then swap",
                .choose = largest_choose,
        };
        return &policy;
}
