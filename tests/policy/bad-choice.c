/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Returns an index outside the view, and fails init on "fail=1". */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cgsentry/policy.h"

static int init(const char *options, void **ret_state, char *err, size_t err_size)
{
        if (strcmp(options, "fail=1") == 0) {
                snprintf(err, err_size, "fail=1: asked to fail");
                return -EINVAL;
        }
        *ret_state = NULL;
        return 0;
}

static int choose(const struct cgsentry_view *v, void *state, struct cgsentry_decision *d)
{
        d->group = (int32_t)v->n_groups;
        return 0;
}

CGSENTRY_POLICY_EXPORT const struct cgsentry_policy *cgsentry_policy_entry(void)
{
        static const struct cgsentry_policy p = {
                .abi_major = CGSENTRY_POLICY_ABI_MAJOR,
                .abi_minor = CGSENTRY_POLICY_ABI_MINOR,
                .struct_size = sizeof(p),
                .name = "bad-choice",
                .version = "1",
                .description = "answers out of range",
                .init = init,
                .choose = choose,
        };
        return &p;
}
