/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decide.h"

void cgsentry_kill_rule(const struct cgsentry_rule *rule, int self_pid, struct sv_kill_rule *ret)
{
        *ret = (struct sv_kill_rule){
                .name = rule ? rule->name : NULL,
                .oom_group = rule && rule->oom_group,
                .protect = rule ? (const char *const *)rule->protect : NULL,
                .n_protect = rule ? rule->n_protect : 0,
                .self_pid = self_pid,
        };
}

/* The policy's choice on a view that knows the rule: its spared tasks are
 * unkillable and OOMGroup= marks the domain. */
static int policy_choice(const struct sv_snapshot *s, const struct sv_kill_rule *kr,
                         struct sv_policy_instance *policy, uint64_t now_usec,
                         struct sv_policy_decision *ret, struct sv_error *err)
{
        bool *extra = calloc(s->n_groups, sizeof(*extra)), *exclude = NULL;
        struct sv_policy_view *v = NULL;
        int r = extra ? sv_plan_exclusions(s, kr, &exclude) : -ENOMEM;

        if (r == 0) {
                struct sv_policy_view_opts vo = { .now_usec = now_usec,
                                                  .extra_oom_group = extra,
                                                  .exclude = exclude };
                extra[0] = kr->oom_group;
                r = sv_policy_view_new(s, 0, &vo, &v);
        }
        if (r == 0)
                r = sv_policy_choose(policy, v, ret, err);
        else
                snprintf(err->what, sizeof(err->what), "cannot build its view: %s", strerror(-r));
        sv_policy_view_free(v);
        free(extra);
        free(exclude);
        return r;
}

int cgsentry_decide(const struct sv_snapshot *s, const struct sv_trigger *trig,
                    const struct cgsentry_rule *rule, int self_pid,
                    struct sv_policy_instance *policy, uint64_t now_usec, struct sv_plan **ret,
                    char *note, size_t note_size)
{
        struct sv_kill_rule kr;
        struct sv_policy_decision d;
        struct sv_plan_choice choice;
        struct sv_policy_info info;
        struct sv_error err = {};
        bool chose = false;
        int r;

        if (note && note_size)
                note[0] = '\0';
        cgsentry_kill_rule(rule, self_pid, &kr);
        /* After a kernel OOM kill the kernel has chosen; no policy is asked. */
        if (policy && trig->kind != SV_TRIGGER_KERNEL_OOM_KILL) {
                sv_policy_get_info(sv_policy_instance_policy(policy), &info);
                r = policy_choice(s, &kr, policy, now_usec, &d, &err);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        if (note)
                                snprintf(note, note_size, "policy %s failed (%s%s%s); using the "
                                         "kernel's choice", info.name, err.path,
                                         err.path[0] ? ": " : "", err.what);
                } else {
                        choice = (struct sv_plan_choice){ .group = d.group, .task = d.task,
                                                          .policy = info.name,
                                                          .explanation = d.explanation };
                        chose = true;
                }
        }
        return sv_plan_kill(s, trig, &kr, chose ? &choice : NULL, ret);
}
