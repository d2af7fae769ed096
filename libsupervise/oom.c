/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The kernel mirror: what mm/oom_kill.c and mm/memcontrol.c (Linux 6.x) do on
 * a memcg OOM, computed over a snapshot. Pure: no I/O, no logging.
 *
 * The pipeline is the kernel's: filter (oom_unkillable_task, the -1000 and
 * no-mm checks of oom_badness) -> score (oom_badness) -> pick (the scan of
 * select_bad_process/oom_evaluate_task) -> widen (mem_cgroup_get_oom_group)
 * -> kill set (oom_kill_memcg_member).
 *
 * What userspace cannot see, and what we do instead:
 *  - MMF_OOM_SKIP (the mm was already reaped) and tasks that are already OOM
 *    victims: the kernel skips the former and aborts the whole selection for
 *    the latter (it waits for the victim to exit). Neither is visible in
 *    procfs; we score such tasks normally. The daemon avoids the situation by
 *    not acting while its own kill is in flight (cooldown until cgroup.events
 *    says populated 0).
 *  - in_vfork(): a vfork child sharing its parent's mm scores LONG_MIN in the
 *    kernel. procfs does not say a task is in vfork; the child shows the
 *    parent's memory, so we may name it where the kernel names the parent.
 *    vfork windows are microseconds long (the child execs or exits).
 *  - oom_task_origin() (a task inside swapoff or KSM unmerge) scores LONG_MAX.
 *    Invisible; we score it normally.
 *  - task_will_free_mem(): a victim that is already exiting is only given
 *    access to reserves, and its oom.group is not killed. We treat exiting
 *    tasks with no mm as unkillable (SV_UNKILLABLE_NO_MM) and others normally.
 *  - processes outside the group that share the victim's mm (CLONE_VM without
 *    CLONE_THREAD) are killed by __oom_kill_process(); procfs does not expose
 *    mm identity, so they are not in our kill set.
 *  - a system-wide OOM (the domain is the root, which has no memcg of its
 *    own) scans for_each_process(): thread-group leaders in the order they
 *    were forked, not cgroup by cgroup. procfs does not show that list; we
 *    take ascending start time, then pid (a process that outlives a pid
 *    wrap-around can be misplaced). memory.oom.group is then widened from
 *    the victim's cgroup up to the root (mem_cgroup_get_oom_group(victim,
 *    NULL)), which the walk below does with the root as the domain.
 *  - memcgs: a cgroup without its own memory controller is charged to its
 *    nearest ancestor that has one. We scan cgroups in pre-order; the kernel
 *    scans memcgs in pre-order and, within one memcg, the tasks of its
 *    css_sets. Both agree except for ties between a memcg's own tasks and
 *    those of its memory-less child cgroups.
 */
#include <errno.h>
#include <stdlib.h>

#include "cgsentry/supervise.h"

const char *sv_unkillable_to_string(enum sv_unkillable u)
{
        switch (u) {
        case SV_KILLABLE:
                return "killable";
        case SV_UNKILLABLE_INIT:
                return "global init";
        case SV_UNKILLABLE_KTHREAD:
                return "kernel thread";
        case SV_UNKILLABLE_NO_MM:
                return "no mm (exiting or zombie)";
        case SV_UNKILLABLE_ADJ_MIN:
                return "oom_score_adj -1000";
        case SV_UNKILLABLE_EXCLUDED:
                return "spared by the rule";
        }
        return "unknown";
}

static uint64_t pages_of(const struct sv_snapshot *s, uint64_t bytes)
{
        return bytes == SV_LIMIT_MAX ? SV_LIMIT_MAX : bytes / s->page_size;
}

/*
 * PAGE_COUNTER_MAX: what "max" means inside the kernel. The limit files show
 * "max" for anything at or above it.
 */
static uint64_t page_counter_max(const struct sv_snapshot *s)
{
        return (uint64_t)INT64_MAX / s->page_size;
}

static uint64_t limit_pages(const struct sv_snapshot *s, uint64_t bytes)
{
        uint64_t p = pages_of(s, bytes), max = page_counter_max(s);
        return p > max ? max : p;
}

uint64_t sv_oom_totalpages(const struct sv_snapshot *s, int group)
{
        const struct sv_group *g;
        uint64_t max;

        if (group < 0 || (size_t)group >= s->n_groups)
                return 1;
        g = &s->groups[group];
        /* The root memcg has no limit files: a global OOM (constrained_alloc). */
        if (!g->memcg)
                return s->total_ram_pages + s->total_swap_pages ?: 1;

        /* mem_cgroup_get_max(): cgroup v2, so no memsw; vm.swappiness applies. */
        max = limit_pages(s, g->memory_max);
        if (s->swappiness) {
                uint64_t swap = limit_pages(s, g->swap_max);
                max += swap < s->total_swap_pages ? swap : s->total_swap_pages;
        }
        return max ?: 1;
}

int64_t sv_oom_badness(const struct sv_snapshot *s, const struct sv_task *t,
                       uint64_t totalpages, enum sv_unkillable *ret_why)
{
        enum sv_unkillable why = SV_KILLABLE;
        uint64_t page_kb = s->page_size / 1024;
        int64_t points, adj;

        /* oom_unkillable_task(): is_global_init() || PF_KTHREAD */
        if (t->pid == 1)
                why = SV_UNKILLABLE_INIT;
        else if (t->flags & SV_PF_KTHREAD)
                why = SV_UNKILLABLE_KTHREAD;
        /* find_lock_task_mm() == NULL */
        else if (!t->has_mm)
                why = SV_UNKILLABLE_NO_MM;
        else if (t->oom_score_adj == SV_OOM_SCORE_ADJ_MIN)
                why = SV_UNKILLABLE_ADJ_MIN;
        if (ret_why)
                *ret_why = why;
        if (why != SV_KILLABLE)
                return SV_POINTS_UNKILLABLE;

        /* get_mm_rss() + MM_SWAPENTS + mm_pgtables_bytes() / PAGE_SIZE; procfs
         * shows each counter as pages << (PAGE_SHIFT - 10), so the division is exact. */
        points = (int64_t)((t->rss_anon_kb + t->rss_file_kb + t->rss_shmem_kb) / page_kb +
                           t->vm_swap_kb / page_kb + t->vm_pte_kb * 1024 / s->page_size);

        /* "adj *= totalpages / 1000": integer division first, sign kept. */
        adj = (int64_t)t->oom_score_adj * (int64_t)(totalpages / 1000);
        return points + adj;
}

int sv_oom_group(const struct sv_snapshot *s, int victim_task, int domain,
                 const bool *extra_flags)
{
        if (victim_task < 0 || (size_t)victim_task >= s->n_tasks)
                return -1;
        return sv_oom_group_of(s, s->tasks[victim_task].group, domain, extra_flags);
}

int sv_oom_group_of(const struct sv_snapshot *s, int group, int domain, const bool *extra_flags)
{
        int g, oom_group = -1;

        if (group < 0 || (size_t)group >= s->n_groups)
                return -1;
        g = sv_snapshot_memcg_of(s, group);
        /* mem_cgroup_is_root(memcg): nothing to widen to. The root cgroup has no
         * memory.current, so it never counts as a memcg of its own here. */
        if (!s->groups[g].memcg)
                return -1;
        /* Moved outside the OOM domain meanwhile: the kernel ignores oom.group. */
        if (!sv_snapshot_group_is_descendant(s, g, domain))
                return -1;
        for (; g >= 0; g = s->groups[g].parent) {
                if (s->groups[g].oom_group || (extra_flags && extra_flags[g]))
                        oom_group = g;
                if (g == domain)
                        break;
        }
        return oom_group;
}

/* for_each_process() order, as far as procfs shows it. */
static int cmp_task_list(const void *a, const void *b, void *arg)
{
        const struct sv_snapshot *s = arg;
        const struct sv_task *x = &s->tasks[*(const int *)a], *y = &s->tasks[*(const int *)b];

        if (x->starttime != y->starttime)
                return x->starttime < y->starttime ? -1 : 1;
        return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static int cmp_pid(const void *a, const void *b, void *arg)
{
        const struct sv_snapshot *s = arg;
        int x = s->tasks[*(const int *)a].pid, y = s->tasks[*(const int *)b].pid;
        return x < y ? -1 : x > y;
}

size_t sv_oom_group_members_opts(const struct sv_snapshot *s, int group, const bool *exclude,
                                 int *ret_tasks)
{
        size_t n = 0;

        for (size_t i = 0; i < s->n_tasks; i++) {
                const struct sv_task *t = &s->tasks[i];
                if (!sv_snapshot_group_is_descendant(s, t->group, group))
                        continue;
                /* oom_kill_memcg_member() spares -1000 and init;
                 * __oom_kill_process() skips tasks without an mm. */
                if (t->oom_score_adj == SV_OOM_SCORE_ADJ_MIN || t->pid == 1 || !t->has_mm ||
                    (t->flags & SV_PF_KTHREAD) || (exclude && exclude[i]))
                        continue;
                ret_tasks[n++] = (int)i;
        }
        qsort_r(ret_tasks, n, sizeof(int), cmp_pid, (void *)s);
        return n;
}

size_t sv_oom_group_members(const struct sv_snapshot *s, int group, int *ret_tasks)
{
        return sv_oom_group_members_opts(s, group, NULL, ret_tasks);
}

void sv_oom_result_free(struct sv_oom_result *r)
{
        if (!r)
                return;
        free(r->candidates);
        free(r->kill_tasks);
        free(r);
}

int sv_oom_select(const struct sv_snapshot *s, int domain, struct sv_oom_result **ret)
{
        return sv_oom_select_opts(s, domain, NULL, ret);
}

int sv_oom_select_opts(const struct sv_snapshot *s, int domain, const struct sv_oom_opts *opts,
                       struct sv_oom_result **ret)
{
        const bool *extra_flags = opts ? opts->extra_oom_group : NULL;
        const bool *exclude = opts ? opts->exclude : NULL;
        struct sv_oom_result *r;
        int64_t chosen_points = SV_POINTS_UNKILLABLE;
        int chosen = -1, *order;
        size_t n_order = 0;

        if (domain < 0 || (size_t)domain >= s->n_groups)
                return -EINVAL;
        r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        r->domain = domain;
        r->totalpages = sv_oom_totalpages(s, domain);
        r->victim = -1;
        r->kill_group = -1;
        r->candidates = calloc(s->n_tasks ?: 1, sizeof(*r->candidates));
        r->kill_tasks = calloc(s->n_tasks ?: 1, sizeof(*r->kill_tasks));
        if (!r->candidates || !r->kill_tasks) {
                sv_oom_result_free(r);
                return -ENOMEM;
        }

        /* mem_cgroup_scan_tasks(): groups are stored in the kernel's pre-order
         * and tasks in cgroup.procs order, so array order is scan order. A
         * system-wide OOM walks the task list instead. */
        order = malloc((s->n_tasks ?: 1) * sizeof(*order));
        if (!order) {
                sv_oom_result_free(r);
                return -ENOMEM;
        }
        for (size_t i = 0; i < s->n_tasks; i++)
                if (sv_snapshot_group_is_descendant(s, s->tasks[i].group, domain))
                        order[n_order++] = (int)i;
        if (!s->groups[domain].memcg)
                qsort_r(order, n_order, sizeof(*order), cmp_task_list, (void *)s);
        for (size_t k = 0; k < n_order; k++) {
                size_t i = (size_t)order[k];
                struct sv_candidate *c;
                c = &r->candidates[r->n_candidates++];
                c->task = (int)i;
                c->points = sv_oom_badness(s, &s->tasks[i], r->totalpages, &c->why);
                /* What the rule spares is, to the selection, what -1000 is to
                 * the kernel's: never a victim. */
                if (exclude && exclude[i] && c->why == SV_KILLABLE) {
                        c->points = SV_POINTS_UNKILLABLE;
                        c->why = SV_UNKILLABLE_EXCLUDED;
                }
                /* oom_evaluate_task(): "points < chosen_points" is skipped, so an
                 * equal score replaces the earlier pick: ties go to the later task. */
                if (c->points == SV_POINTS_UNKILLABLE || c->points < chosen_points)
                        continue;
                chosen = (int)i;
                chosen_points = c->points;
        }
        free(order);
        if (chosen < 0) {
                *ret = r;
                return 0;
        }
        r->victim = chosen;
        r->victim_points = chosen_points;

        /* oom_kill_process(): the group is looked up before the victim dies. */
        r->kill_group = sv_oom_group(s, chosen, domain, extra_flags);
        if (r->kill_group >= 0) {
                /* The victim is a member: it has an mm and is not -1000 or init. */
                r->n_kill_tasks = sv_oom_group_members_opts(s, r->kill_group, exclude,
                                                            r->kill_tasks);
        } else {
                r->kill_tasks[0] = chosen;
                r->n_kill_tasks = 1;
        }
        *ret = r;
        return 0;
}
