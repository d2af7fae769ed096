/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kernel: the exact kernel mirror, as a plugin. cgsentry also has it builtin
 * (the default, no dlopen); this file shows the ABI can express it and is
 * tested to agree with the builtin copy.
 */
#include "kernel-choice.h"
#include "common.h"

CGSENTRY_POLICY_EXPORT const struct cgsentry_policy *cgsentry_policy_entry(void)
{
        static const struct cgsentry_policy policy = {
                .abi_major = CGSENTRY_POLICY_ABI_MAJOR,
                .abi_minor = CGSENTRY_POLICY_ABI_MINOR,
                .struct_size = sizeof(struct cgsentry_policy),
                .name = "kernel",
                .version = POLICY_VERSION,
                .description = CGSENTRY_KERNEL_POLICY_DESCRIPTION,
                .choose = cgsentry_kernel_policy_choose,
        };
        return &policy;
}
