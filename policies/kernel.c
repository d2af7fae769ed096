/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kernel: the kernel's own choice, as a plugin. cgsentry has it builtin (the
 * default, no dlopen) and offers the very same code to plugins through the
 * host table, so this file is only the call: it shows the ABI can express
 * the default and is tested to agree with the builtin one.
 */
#include <inttypes.h>
#include <stdio.h>

#include "common.h"

static int kernel_choose(const struct cgsentry_view *view, void *state,
                         struct cgsentry_decision *d)
{
        const struct cgsentry_host *host = view->host;
        int32_t task = -1, group = -1;
        int r;

        if (CGSENTRY_POLICY_HAS(host->struct_size, struct cgsentry_host, kernel_choose) &&
            host->kernel_choose)
                return host->kernel_choose(view, d);
        /* An ABI 1.0 host: the choice without the host's wording. */
        r = host->kernel_choice(view, &task, &group);
        if (r < 0 || task < 0)
                return r;
        d->task = task;
        d->group = group >= 0 ? group : cgsentry_view_task(view, (uint32_t)task)->group;
        snprintf(d->explanation, d->explanation_size, "the kernel's choice: pid %" PRId32,
                 cgsentry_view_task(view, (uint32_t)task)->pid);
        return 0;
}

CGSENTRY_POLICY_DEFINE("kernel", POLICY_VERSION,
                       "the kernel's own choice: the task with the highest oom_badness, widened "
                       "to its memory.oom.group",
                       NULL, kernel_choose, NULL)
