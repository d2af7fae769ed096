/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "outcome.h"

const char *sv_outcome_kind_name(enum sv_outcome_kind k)
{
        switch (k) {
        case SV_OUTCOME_KILL:
                return "kill";
        case SV_OUTCOME_KILL_ALLOCATING:
                return "kill-allocating-task";
        case SV_OUTCOME_PANIC:
                return "panic";
        case SV_OUTCOME_NONE:
                return "none";
        }
        return "?";
}

/* out_of_memory(): current->mm && !oom_unkillable_task(current) &&
 * oom_score_adj != OOM_SCORE_ADJ_MIN */
static bool allocating_killable(const struct sv_task *t)
{
        return t->has_mm && t->pid != 1 && !(t->flags & SV_PF_KTHREAD) &&
               t->oom_score_adj != SV_OOM_SCORE_ADJ_MIN;
}

void sv_oom_outcome(const struct sv_snapshot *s, const struct sv_oom_result *r, int allocating,
                    struct sv_outcome *ret)
{
        struct sv_outcome o = { .global = !s->groups[r->domain].memcg, .allocating = allocating };

        /* check_panic_on_oom() comes before anything else. */
        if (s->vm.panic_on_oom == 2) {
                o.kind = SV_OUTCOME_PANIC;
                o.why = o.global ? "vm.panic_on_oom=2: every OOM panics"
                                 : "vm.panic_on_oom=2: every OOM panics, memory-cgroup ones included";
        } else if (s->vm.panic_on_oom == 1 && o.global) {
                o.kind = SV_OUTCOME_PANIC;
                o.why = "vm.panic_on_oom=1: a system-wide OOM (not constrained by cpuset, "
                        "mempolicy or memcg) panics";
        } else if (o.global && s->vm.oom_kill_allocating_task &&
                   (allocating < 0 || allocating_killable(&s->tasks[allocating]))) {
                o.kind = SV_OUTCOME_KILL_ALLOCATING;
                o.why = allocating < 0
                                ? "vm.oom_kill_allocating_task=1: the task whose allocation fails "
                                  "is killed if it can be; the badness scan below only chooses "
                                  "when it cannot (oom_score_adj -1000, init, a kernel thread)"
                                : "vm.oom_kill_allocating_task=1: the allocating task is killable, "
                                  "so it dies without a scan";
        } else if (r->victim < 0) {
                o.kind = o.global ? SV_OUTCOME_PANIC : SV_OUTCOME_NONE;
                o.why = o.global ? "nothing is killable: \"System is deadlocked on memory\""
                                 : "nothing is killable: the kernel kills nothing and the "
                                   "allocation keeps failing";
        } else {
                o.kind = SV_OUTCOME_KILL;
                o.why = o.global && s->vm.oom_kill_allocating_task
                                ? "vm.oom_kill_allocating_task=1, but the allocating task cannot "
                                  "be killed: the badness scan chooses"
                        : s->vm.panic_on_oom == 1
                                ? "vm.panic_on_oom=1 spares memory-cgroup OOMs: the badness scan "
                                  "chooses"
                                : "the badness scan chooses";
        }
        *ret = o;
}

int sv_oom_apply_allocating(const struct sv_snapshot *s, struct sv_oom_result *r, int task)
{
        if (task < 0 || (size_t)task >= s->n_tasks ||
            !sv_snapshot_group_is_descendant(s, s->tasks[task].group, r->domain))
                return -EINVAL;
        r->victim = task;
        r->victim_points = sv_oom_badness(s, &s->tasks[task], r->totalpages, NULL);
        r->kill_group = sv_oom_group(s, task, r->domain, NULL);
        if (r->kill_group >= 0) {
                r->n_kill_tasks = sv_oom_group_members(s, r->kill_group, r->kill_tasks);
        } else {
                r->kill_tasks[0] = task;
                r->n_kill_tasks = 1;
        }
        return 0;
}

void sv_outcome_format(FILE *out, const struct sv_snapshot *s, const struct sv_oom_result *r,
                       const struct sv_outcome *o)
{
        const struct sv_vm_sysctl *vm = &s->vm;
        char comm[SV_COMM_ESCAPED_SIZE];

        switch (o->kind) {
        case SV_OUTCOME_PANIC:
                fprintf(out, "# Outcome: PANIC (%s)\n", o->why);
                break;
        case SV_OUTCOME_KILL_ALLOCATING:
                if (o->allocating >= 0)
                        fprintf(out, "# Outcome: kill the allocating task, pid %d (%s) (%s)\n",
                                s->tasks[o->allocating].pid,
                                sv_escape(s->tasks[o->allocating].comm, comm, sizeof(comm)),
                                o->why);
                else
                        fprintf(out, "# Outcome: kill the allocating task (%s)\n", o->why);
                break;
        case SV_OUTCOME_KILL:
                fprintf(out, "# Outcome: kill pid %d (%s)%s (%s)\n", s->tasks[r->victim].pid,
                        sv_escape(s->tasks[r->victim].comm, comm, sizeof(comm)),
                        r->n_kill_tasks > 1 ? " and its memory.oom.group" : "", o->why);
                break;
        case SV_OUTCOME_NONE:
                fprintf(out, "# Outcome: no kill (%s)\n", o->why);
                break;
        }
        fprintf(out, "# vm.panic_on_oom=%d vm.oom_kill_allocating_task=%d vm.oom_dump_tasks=%d%s\n",
                vm->panic_on_oom, vm->oom_kill_allocating_task, vm->oom_dump_tasks,
                vm->oom_dump_tasks ? "" : " (the kernel's report would have no task table)");
        if (o->global && vm->oom_kill_allocating_task && o->allocating < 0 &&
            o->kind == SV_OUTCOME_KILL_ALLOCATING)
                fputs("# Which task allocates is not known here (explain --allocating-pid PID "
                      "says); if it cannot be killed, the scan below chooses:\n", out);
        fprintf(out, "# vm.overcommit_memory=%d (%s)", vm->overcommit_memory,
                vm->overcommit_memory == 0   ? "heuristic"
                : vm->overcommit_memory == 1 ? "always overcommit"
                                             : "never overcommit");
        if (s->have_commit)
                fprintf(out, ": CommitLimit %" PRIu64 " kB, Committed_AS %" PRIu64 " kB",
                        s->commit_limit_kb, s->committed_as_kb);
        fputc('\n', out);
        if (vm->overcommit_memory == 2)
                fprintf(out, "#   allocations fail with ENOMEM once Committed_AS reaches "
                             "CommitLimit (swap + overcommit_%s of RAM), long before an OOM%s\n",
                        vm->overcommit_kbytes ? "kbytes" : "ratio",
                        s->have_commit && s->committed_as_kb >= s->commit_limit_kb
                                ? ": it is reached now"
                                : "");
        /* The legacy knob, where its number misleads. */
        for (size_t i = 0; i < r->n_candidates; i++) {
                const struct sv_task *t = &s->tasks[r->candidates[i].task];
                if (!t->has_oom_adj || t->oom_score_adj == 0)
                        continue;
                fprintf(out, "# pid %d (%s): oom_score_adj %d; legacy /proc/%d/oom_adj shows %d%s\n",
                        t->pid, sv_escape(t->comm, comm, sizeof(comm)), t->oom_score_adj, t->pid,
                        t->oom_adj,
                        t->oom_adj == -17 ? " (OOM_DISABLE: never killed)"
                        : t->oom_score_adj == SV_OOM_SCORE_ADJ_MIN ? ""
                        : " (a coarse x17/1000 view; the kernel scores oom_score_adj)");
        }
}

json_object *sv_outcome_json(const struct sv_snapshot *s, const struct sv_outcome *o)
{
        json_object *j = json_object_new_object();

        if (!j)
                return NULL;
        json_object_object_add(j, "kind", json_object_new_string(sv_outcome_kind_name(o->kind)));
        json_object_object_add(j, "reason", json_object_new_string(o->why));
        json_object_object_add(j, "global", json_object_new_boolean(o->global));
        json_object_object_add(j, "panic_on_oom", json_object_new_int(s->vm.panic_on_oom));
        json_object_object_add(j, "oom_kill_allocating_task",
                               json_object_new_int(s->vm.oom_kill_allocating_task));
        json_object_object_add(j, "oom_dump_tasks", json_object_new_int(s->vm.oom_dump_tasks));
        json_object_object_add(j, "overcommit_memory", json_object_new_int(s->vm.overcommit_memory));
        json_object_object_add(j, "overcommit_ratio", json_object_new_int(s->vm.overcommit_ratio));
        json_object_object_add(j, "overcommit_kbytes", json_object_new_uint64(s->vm.overcommit_kbytes));
        json_object_object_add(j, "commit_limit_kb",
                               s->have_commit ? json_object_new_uint64(s->commit_limit_kb) : NULL);
        json_object_object_add(j, "committed_as_kb",
                               s->have_commit ? json_object_new_uint64(s->committed_as_kb) : NULL);
        json_object_object_add(j, "allocating_pid",
                               o->allocating >= 0 ? json_object_new_int(s->tasks[o->allocating].pid)
                                                  : NULL);
        return j;
}
