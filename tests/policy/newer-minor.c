/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A plugin built against a later minor of ABI 1 whose descriptor has grown
 * a field: the host must load it, copying only the part it knows.
 */
#include <stdio.h>

#include "cgsentry/policy.h"

struct grown {
        struct cgsentry_policy base;
        int (*future_hook)(void);
        char padding[64];
};

static int choose(const struct cgsentry_view *v, void *state, struct cgsentry_decision *d)
{
        if (v->n_candidates) {
                d->group = (int32_t)v->candidates[v->n_candidates - 1];
                snprintf(d->explanation, d->explanation_size, "the last candidate");
        }
        return 0;
}

CGSENTRY_POLICY_EXPORT const struct cgsentry_policy *cgsentry_policy_entry(void)
{
        static const struct grown p = {
                .base =
                        {
                                .abi_major = CGSENTRY_POLICY_ABI_MAJOR,
                                .abi_minor = CGSENTRY_POLICY_ABI_MINOR + 7,
                                .struct_size = sizeof(p),
                                .name = "newer-minor",
                                .version = "9.9",
                                .description = "built against a later minor",
                                .choose = choose,
                        },
        };
        return &p.base;
}
