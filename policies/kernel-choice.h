/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The "kernel" policy's choose(), shared by the plugin (policies/kernel.c)
 * and the builtin copy in libsupervise/policy.c, so that the two cannot
 * drift apart. Uses only the public ABI: the host's kernel_choice() helper
 * is the exact kernel mirror (select_bad_process + mem_cgroup_get_oom_group).
 */
#ifndef CGSENTRY_POLICY_KERNEL_CHOICE_H
#define CGSENTRY_POLICY_KERNEL_CHOICE_H

#include <inttypes.h>
#include <stdio.h>

#include "cgsentry/policy.h"

#define CGSENTRY_KERNEL_POLICY_DESCRIPTION                                                         \
        "the kernel's own choice: the task with the highest oom_badness, widened to its "          \
        "memory.oom.group"

static int cgsentry_kernel_policy_choose(const struct cgsentry_view *view, void *state,
                                         struct cgsentry_decision *d)
{
        const struct cgsentry_task *t;
        int32_t task = -1, group = -1;
        int r;

        (void)state;
        r = view->host->kernel_choice(view, &task, &group);
        if (r < 0)
                return r;
        if (task < 0) {
                snprintf(d->explanation, d->explanation_size,
                         "no killable task in %s: the kernel would kill nothing", view->domain);
                return 0;
        }
        t = cgsentry_view_task(view, (uint32_t)task);
        d->task = task;
        if (group >= 0) {
                /* mem_cgroup_get_oom_group(): the whole group goes. */
                d->group = group;
                snprintf(d->explanation, d->explanation_size,
                         "pid %" PRId32 " (%s) has the highest badness, %" PRId64
                         " points of totalpages %" PRIu64
                         "; memory.oom.group widens the kill to %s",
                         t->pid, t->comm, t->badness, view->totalpages,
                         cgsentry_view_group(view, (uint32_t)group)->path);
        } else {
                /* No oom.group: the kernel kills the task alone; name its cgroup. */
                d->group = t->group;
                snprintf(d->explanation, d->explanation_size,
                         "pid %" PRId32 " (%s) in %s has the highest badness, %" PRId64
                         " points of totalpages %" PRIu64 "; no memory.oom.group, so the kernel "
                         "kills that task alone",
                         t->pid, t->comm, cgsentry_view_group(view, (uint32_t)t->group)->path,
                         t->badness, view->totalpages);
        }
        return 0;
}

#endif
