/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What an OOM ends in, before and beyond the victim scan: the vm sysctls
 * of mm/oom_kill.c (out_of_memory(), check_panic_on_oom()) over a snapshot.
 * Pure. Not part of the documented API (explain is its user).
 */
#ifndef SV_OUTCOME_H
#define SV_OUTCOME_H

#include <json-c/json.h>
#include <stdio.h>

#include "cgsentry/supervise.h"

enum sv_outcome_kind {
        SV_OUTCOME_KILL,            /* the victim of the scan (and its oom.group) */
        SV_OUTCOME_KILL_ALLOCATING, /* the task whose allocation failed */
        SV_OUTCOME_PANIC,           /* vm.panic_on_oom, or nothing killable system-wide */
        SV_OUTCOME_NONE,            /* memcg OOM with nothing killable: no kill */
};

struct sv_outcome {
        enum sv_outcome_kind kind;
        bool global;          /* a system-wide OOM (CONSTRAINT_NONE) */
        const char *why;      /* one sentence */
        int allocating;       /* task index when the allocating task is known, else -1 */
};

/*
 * sv_oom_outcome() - what the kernel would do for the OOM of @r's domain,
 * given @s->vm: panic_on_oom 2 panics on any OOM, 1 on a system-wide one
 * (not on cpuset, mempolicy or memcg constrained ones); a system-wide OOM
 * with oom_kill_allocating_task kills the allocating task when it is
 * killable (has an mm, is not init or a kernel thread, not -1000), the
 * scan being the fallback; a system-wide OOM with nothing killable panics.
 * @allocating is the allocating task's index in @s, or -1 when unknown.
 */
void sv_oom_outcome(const struct sv_snapshot *s, const struct sv_oom_result *r, int allocating,
                    struct sv_outcome *ret);

/* "panic", "kill-allocating-task", "kill", "none" */
const char *sv_outcome_kind_name(enum sv_outcome_kind k);

/*
 * sv_oom_apply_allocating() - make @r what oom_kill_process() does with
 * the allocating task @task as oc->chosen: it is the victim and its
 * memory.oom.group (widened up to the root) dies with it. For
 * SV_OUTCOME_KILL_ALLOCATING. 0 or -EINVAL.
 */
int sv_oom_apply_allocating(const struct sv_snapshot *s, struct sv_oom_result *r, int task);

/* The outcome line first, then the sysctls and overcommit figures, every
 * line starting with "# ". */
void sv_outcome_format(FILE *out, const struct sv_snapshot *s, const struct sv_oom_result *r,
                       const struct sv_outcome *o);
/* {kind, reason, global, panic_on_oom, oom_kill_allocating_task,
 *  oom_dump_tasks, overcommit_memory, overcommit_ratio, overcommit_kbytes,
 *  commit_limit_kb, committed_as_kb, allocating_pid} */
json_object *sv_outcome_json(const struct sv_snapshot *s, const struct sv_outcome *o);

#endif
