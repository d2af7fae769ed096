/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A plugin from a future, incompatible ABI: the host must refuse it. */
#include "cgsentry/policy.h"

static int choose(const struct cgsentry_view *v, void *state, struct cgsentry_decision *d)
{
        return 0;
}

CGSENTRY_POLICY_EXPORT const struct cgsentry_policy *cgsentry_policy_entry(void)
{
        static const struct cgsentry_policy p = {
                .abi_major = CGSENTRY_POLICY_ABI_MAJOR + 1,
                .abi_minor = 0,
                .struct_size = sizeof(p),
                .name = "bad-abi",
                .version = "1",
                .description = "claims the next ABI major",
                .choose = choose,
        };
        return &p;
}
