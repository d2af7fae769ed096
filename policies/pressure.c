/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pressure: the candidate whose tasks stall most on memory: the highest
 * memory.pressure "full avg10", then "some avg10", then memory.current;
 * ties to the first in pre-order. No options.
 */
#include "common.h"

static int pressure_choose(const struct cgsentry_view *v, void *state, struct cgsentry_decision *d)
{
        policy_choose_ranked(v, POLICY_RANK_PRESSURE, d);
        return 0;
}

CGSENTRY_POLICY_EXPORT const struct cgsentry_policy *cgsentry_policy_entry(void)
{
        static const struct cgsentry_policy policy = {
                .abi_major = CGSENTRY_POLICY_ABI_MAJOR,
                .abi_minor = CGSENTRY_POLICY_ABI_MINOR,
                .struct_size = sizeof(struct cgsentry_policy),
                .name = "pressure",
                .version = POLICY_VERSION,
                .description = "the group with the highest memory PSI full avg10, then some avg10",
                .choose = pressure_choose,
        };
        return &policy;
}
