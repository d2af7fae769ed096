/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A descriptor smaller than ABI 1.0's: the host must not read past it. */
#include "cgsentry/policy.h"

struct truncated {
        uint32_t abi_major, abi_minor, struct_size, reserved0;
};

CGSENTRY_POLICY_EXPORT const struct cgsentry_policy *cgsentry_policy_entry(void)
{
        static const struct truncated p = {
                .abi_major = CGSENTRY_POLICY_ABI_MAJOR,
                .abi_minor = CGSENTRY_POLICY_ABI_MINOR,
                .struct_size = sizeof(p),
        };
        return (const struct cgsentry_policy *)(const void *)&p;
}
