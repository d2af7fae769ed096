/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one kill decision: what dies when a rule's trigger fires on a domain.
 * Pure: a snapshot, the trigger, the rule and (optionally) a policy's choice
 * in; the victim, the group, the processes to kill, the processes spared and
 * why, out. cgsentryd, `cgsentry explain --config` and `cgsentry run` all
 * come here, so what explain says is what the daemon does.
 *
 * How a decision becomes a kill set, in the kernel's terms:
 *  - no policy (the default, "kernel"): select_bad_process() over the domain
 *    with the rule's spared tasks treated like oom_score_adj -1000, then
 *    mem_cgroup_get_oom_group() with OOMGroup= counting as memory.oom.group
 *    on the domain;
 *  - a policy that names a task: that task is the victim, widened the same
 *    way (alone when nothing widens it, as the kernel kills it);
 *  - a policy that names a group: that group, widened the same way, dies
 *    whole;
 *  - after a kernel OOM kill (OnKernelOOMKill=group-kill): the rest of the
 *    domain.
 * Every kill set spares what oom_kill_memcg_member() spares (-1000, init),
 * tasks without an mm, and what the rule spares (Protect=, the supervisor).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cgsentry/supervise.h"

const char *sv_spare_reason_to_string(enum sv_spare_reason why)
{
        switch (why) {
        case SV_SPARE_ADJ_MIN:
                return "oom_score_adj -1000";
        case SV_SPARE_PROTECT:
                return "Protect=";
        case SV_SPARE_SELF:
                return "the supervisor itself";
        case SV_SPARE_INIT:
                return "global init";
        case SV_SPARE_KTHREAD:
                return "kernel thread";
        case SV_SPARE_NO_MM:
                return "exiting (no memory left)";
        }
        return "unknown";
}

const char *sv_plan_scope_to_string(enum sv_plan_scope scope)
{
        switch (scope) {
        case SV_SCOPE_NONE:
                return "nothing killable";
        case SV_SCOPE_TASK:
                return "the victim alone: no memory.oom.group, no OOMGroup=";
        case SV_SCOPE_OOM_GROUP:
                return "memory.oom.group is set";
        case SV_SCOPE_RULE_OOM_GROUP:
                return "OOMGroup=yes";
        case SV_SCOPE_POLICY_GROUP:
                return "the policy chose the whole group";
        case SV_SCOPE_KERNEL_KILL:
                return "OnKernelOOMKill=group-kill finishes the group";
        }
        return "unknown";
}

static const char *rel(const char *path)
{
        while (*path == '/')
                path++;
        return path;
}

/* Does a Protect= glob match @path or one of its ancestors? A protected
 * cgroup protects its whole subtree, inside the domain or above it. */
static bool protected_path(const struct sv_kill_rule *rule, const char *path)
{
        char buf[PATH_MAX];
        size_t n = strlen(path);

        if (rule->n_protect == 0 || n >= sizeof(buf))
                return false;
        memcpy(buf, path, n + 1);
        for (;;) {
                for (size_t k = 0; k < rule->n_protect; k++)
                        if (sv_glob_match(rule->protect[k], buf))
                                return true;
                char *slash = strrchr(buf, '/');
                if (!slash)
                        return false;
                *slash = '\0';
        }
}

/* Why the rule spares task @i, or -1 when it does not. */
static int rule_spares(const struct sv_snapshot *s, const struct sv_kill_rule *rule, size_t i)
{
        const struct sv_task *t = &s->tasks[i];

        if (!rule)
                return -1;
        if (rule->self_pid && t->pid == rule->self_pid)
                return SV_SPARE_SELF;
        if (protected_path(rule, rel(s->groups[t->group].path)))
                return SV_SPARE_PROTECT;
        return -1;
}

int sv_plan_exclusions(const struct sv_snapshot *s, const struct sv_kill_rule *rule, bool **ret)
{
        bool *ex = calloc(s->n_tasks ?: 1, sizeof(*ex));

        if (!ex)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_tasks; i++)
                ex[i] = rule_spares(s, rule, i) >= 0;
        *ret = ex;
        return 0;
}

/* Why a task of the kill scope is not in the kill set, or -1. */
static int spare_reason(const struct sv_snapshot *s, const struct sv_kill_rule *rule, size_t i)
{
        const struct sv_task *t = &s->tasks[i];
        int r = rule_spares(s, rule, i);

        if (r >= 0)
                return r;
        if (t->pid == 1)
                return SV_SPARE_INIT;
        if (t->flags & SV_PF_KTHREAD)
                return SV_SPARE_KTHREAD;
        if (!t->has_mm)
                return SV_SPARE_NO_MM;
        if (t->oom_score_adj == SV_OOM_SCORE_ADJ_MIN)
                return SV_SPARE_ADJ_MIN;
        return -1;
}

void sv_plan_free(struct sv_plan *p)
{
        if (!p)
                return;
        sv_oom_result_free(p->selection);
        free(p->kill_tasks);
        free(p->spared);
        free(p->policy);
        free(p->policy_explanation);
        free(p);
}

/* The scope a widened kill group stands for. */
static enum sv_plan_scope widened_scope(const struct sv_snapshot *s, int kg)
{
        return s->groups[kg].oom_group ? SV_SCOPE_OOM_GROUP : SV_SCOPE_RULE_OOM_GROUP;
}

int sv_plan_kill(const struct sv_snapshot *s, const struct sv_trigger *trig,
                 const struct sv_kill_rule *rule, const struct sv_plan_choice *choice,
                 struct sv_plan **ret)
{
        struct sv_plan *p;
        bool *extra = NULL, *exclude = NULL;
        struct sv_oom_opts o;
        int r, kg = -1, scope_group;

        if (s->n_groups == 0)
                return -EINVAL;
        if (choice && (choice->group < -1 || choice->group >= (int)s->n_groups ||
                       choice->task < -1 || choice->task >= (int)s->n_tasks))
                return -EINVAL;
        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->trigger = trig ? trig->kind : SV_TRIGGER_TRIPWIRE;
        p->victim = -1;
        p->kill_group = -1;
        r = -ENOMEM;
        extra = calloc(s->n_groups, sizeof(*extra));
        p->kill_tasks = calloc(s->n_tasks ?: 1, sizeof(*p->kill_tasks));
        p->spared = calloc(s->n_tasks ?: 1, sizeof(*p->spared));
        p->policy = strdup(choice && choice->policy ? choice->policy : "kernel");
        if (!extra || !p->kill_tasks || !p->spared || !p->policy ||
            (choice && choice->explanation &&
             !(p->policy_explanation = strdup(choice->explanation))))
                goto fail;
        r = sv_plan_exclusions(s, rule, &exclude);
        if (r < 0)
                goto fail;
        extra[0] = rule && rule->oom_group;
        o = (struct sv_oom_opts){ .extra_oom_group = extra, .exclude = exclude };

        /* The kernel's view under the rule: candidates and badness for the
         * explanation, and the victim when no policy decided. */
        r = sv_oom_select_opts(s, 0, &o, &p->selection);
        if (r < 0)
                goto fail;

        if (p->trigger == SV_TRIGGER_KERNEL_OOM_KILL) {
                /* The kernel chose and killed; the rest of the domain goes. */
                kg = 0;
                p->scope = SV_SCOPE_KERNEL_KILL;
        } else if (choice && choice->group < 0) {
                /* The policy chose nothing (e.g. swap, when nobody swaps). */
                p->scope = SV_SCOPE_NONE;
        } else if (choice) {
                int task = choice->task;
                /* A spared task named by a policy is not the victim. */
                if (task >= 0 && exclude[task])
                        task = -1;
                if (task >= 0) {
                        p->victim = task;
                        kg = sv_oom_group(s, task, 0, extra);
                        p->scope = kg >= 0 ? widened_scope(s, kg) : SV_SCOPE_TASK;
                } else {
                        kg = sv_oom_group_of(s, choice->group, 0, extra);
                        if (kg >= 0) {
                                p->scope = widened_scope(s, kg);
                        } else {
                                kg = choice->group;
                                p->scope = SV_SCOPE_POLICY_GROUP;
                        }
                }
        } else {
                p->victim = p->selection->victim;
                kg = p->selection->kill_group;
                p->scope = p->victim < 0 ? SV_SCOPE_NONE
                           : kg >= 0     ? widened_scope(s, kg)
                                         : SV_SCOPE_TASK;
        }
        if (p->victim >= 0) {
                const struct sv_candidate *c = NULL;
                for (size_t i = 0; i < p->selection->n_candidates && !c; i++)
                        if (p->selection->candidates[i].task == p->victim)
                                c = &p->selection->candidates[i];
                p->victim_points = c ? c->points : SV_POINTS_UNKILLABLE;
        }

        if (kg >= 0) {
                p->kill_group = kg;
                p->n_kill_tasks = sv_oom_group_members_opts(s, kg, exclude, p->kill_tasks);
        } else if (p->victim >= 0 && spare_reason(s, rule, (size_t)p->victim) < 0) {
                p->kill_tasks[0] = p->victim;
                p->n_kill_tasks = 1;
        }
        if (p->n_kill_tasks == 0) {
                p->victim = -1;
                p->kill_group = -1;
                p->scope = SV_SCOPE_NONE;
        }

        /* Who in the kill's reach stays, and why. */
        scope_group = p->kill_group;
        for (size_t i = 0; scope_group >= 0 && i < s->n_tasks; i++) {
                int why;
                if (!sv_snapshot_group_is_descendant(s, s->tasks[i].group, scope_group))
                        continue;
                why = spare_reason(s, rule, i);
                if (why < 0)
                        continue;
                p->spared[p->n_spared++] = (struct sv_spared){ .task = (int)i, .why = why };
                /* cgroup.kill spares nobody: only when nobody must survive. */
                if (why != SV_SPARE_NO_MM && why != SV_SPARE_KTHREAD)
                        p->keeps_someone = true;
        }
        p->use_cgroup_kill = p->kill_group >= 0 && !p->keeps_someone;
        free(extra);
        free(exclude);
        *ret = p;
        return 0;
fail:
        free(extra);
        free(exclude);
        sv_plan_free(p);
        return r;
}

/* ---- the plan in words --------------------------------------------------- */

int sv_plan_format_mode(FILE *out, const struct sv_snapshot *s, const struct sv_trigger *trig,
                        const struct sv_kill_rule *rule, const struct sv_plan *p,
                        enum sv_plan_mode mode, const char *prefix)
{
        static const char *const verbs[] = { [SV_PLAN_KILLING] = "killing",
                                             [SV_PLAN_DRY_RUN] = "would kill",
                                             [SV_PLAN_WOULD] = "would kill" };
        const char *dry = mode == SV_PLAN_DRY_RUN ? "dry run: " : "";
        char why[1024], comm[SV_COMM_ESCAPED_SIZE];
        char *domain = sv_escape_dup(s->groups[0].path), *target = NULL, *pexp = NULL;
        int target_group = p->kill_group >= 0 ? p->kill_group
                           : p->victim >= 0   ? s->tasks[p->victim].group
                                              : 0;

        target = sv_escape_dup(s->groups[target_group].path);
        if (p->policy_explanation)
                pexp = sv_escape_dup(p->policy_explanation);
        if (!domain || !target || (p->policy_explanation && !pexp)) {
                free(domain);
                free(target);
                free(pexp);
                return -ENOMEM;
        }
        if (trig)
                sv_trigger_describe(trig, why, sizeof(why));
        else
                snprintf(why, sizeof(why), "(no trigger)");
        if (p->n_kill_tasks == 0)
                fprintf(out, "%s%s%s: %s %s; nothing killable (rule %s, policy %s)\n", prefix, dry,
                        sv_trigger_name(p->trigger), domain, why,
                        rule && rule->name ? rule->name : "-", p->policy);
        else
                fprintf(out, "%s%s%s: %s %s; %s %zu process%s of %s (rule %s, policy %s; %s)\n",
                        prefix, dry, sv_trigger_name(p->trigger), domain, why, verbs[mode],
                        p->n_kill_tasks,
                        p->n_kill_tasks == 1 ? "" : "es", target,
                        rule && rule->name ? rule->name : "-", p->policy,
                        sv_plan_scope_to_string(p->scope));
        if (pexp)
                fprintf(out, "%spolicy %s: %s\n", prefix, p->policy, pexp);
        for (size_t i = 0; i < p->n_kill_tasks; i++) {
                fputs(prefix, out);
                sv_format_kill_task(out, s, &s->tasks[p->kill_tasks[i]],
                                    p->kill_tasks[i] == p->victim ? "the victim" : NULL);
        }
        for (size_t i = 0; i < p->n_spared; i++) {
                const struct sv_task *t = &s->tasks[p->spared[i].task];
                char *cg = sv_escape_dup(s->groups[t->group].path);
                fprintf(out, "%ssparing pid %d (%s) in %s: %s\n", prefix, t->pid,
                        sv_escape(t->comm, comm, sizeof(comm)), cg ? cg : "?",
                        sv_spare_reason_to_string(p->spared[i].why));
                free(cg);
        }
        free(domain);
        free(target);
        free(pexp);
        return 0;
}

int sv_plan_format(FILE *out, const struct sv_snapshot *s, const struct sv_trigger *trig,
                   const struct sv_kill_rule *rule, const struct sv_plan *p, bool dry_run)
{
        return sv_plan_format_mode(out, s, trig, rule, p, dry_run ? SV_PLAN_DRY_RUN : SV_PLAN_KILLING,
                                   "");
}

char *sv_plan_text(const struct sv_snapshot *s, const struct sv_trigger *trig,
                   const struct sv_kill_rule *rule, const struct sv_plan *p, bool dry_run)
{
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        int r;

        if (!f)
                return NULL;
        r = sv_plan_format(f, s, trig, rule, p, dry_run);
        if (fclose(f) != 0 || r < 0) {
                free(text);
                return NULL;
        }
        return text;
}
