/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The kernel's own words: the OOM report lines of mm/oom_kill.c and
 * mm/memcontrol.c (Linux 6.1 formats), so operators can grep cgsentry's
 * explanations and logs exactly as they grep dmesg. Plus explain's JSON.
 */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "cgsentry/supervise.h"
#include "container.h"
#include "format.h"
#include "util.h"

static uint64_t kb_to_pages(const struct sv_snapshot *s, uint64_t kb)
{
        return kb / (s->page_size / 1024);
}

static uint64_t rss_pages(const struct sv_snapshot *s, const struct sv_task *t)
{
        return kb_to_pages(s, t->rss_anon_kb + t->rss_file_kb + t->rss_shmem_kb);
}

void sv_format_dump_header(FILE *out)
{
        /* dump_tasks() */
        fputs("Tasks state (memory values in pages):\n"
              "[  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name\n",
              out);
}

void sv_format_dump_task(FILE *out, const struct sv_snapshot *s, const struct sv_task *t)
{
        char comm[SV_COMM_ESCAPED_SIZE];

        /* dump_task(): "[%7d] %5d %5d %8lu %8lu %8ld %8lu         %5hd %s\n" */
        fprintf(out, "[%7d] %5u %5d %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64
                     "         %5d %s\n",
                t->pid, t->uid, t->pid, kb_to_pages(s, t->vm_size_kb), rss_pages(s, t),
                t->vm_pte_kb * 1024, kb_to_pages(s, t->vm_swap_kb), t->oom_score_adj,
                sv_escape(t->comm, comm, sizeof(comm)));
}

void sv_format_killed(FILE *out, const struct sv_snapshot *s, const struct sv_task *t)
{
        /* __oom_kill_process(); the message of a memcg OOM is "Memory cgroup out
         * of memory", of a global one "Out of memory". */
        const char *msg = s->n_groups && s->groups[0].memcg ? "Memory cgroup out of memory"
                                                            : "Out of memory";
        char comm[SV_COMM_ESCAPED_SIZE];

        sv_escape(t->comm, comm, sizeof(comm));
        fprintf(out,
                "%s: Killed process %d (%s) total-vm:%" PRIu64 "kB, anon-rss:%" PRIu64
                "kB, file-rss:%" PRIu64 "kB, shmem-rss:%" PRIu64 "kB, UID:%u pgtables:%" PRIu64
                "kB oom_score_adj:%d\n",
                msg, t->pid, comm, t->vm_size_kb, t->rss_anon_kb, t->rss_file_kb,
                t->rss_shmem_kb, t->uid, t->vm_pte_kb, t->oom_score_adj);
}

void sv_format_oom_summary(FILE *out, const struct sv_snapshot *s, const struct sv_oom_result *r)
{
        const struct sv_task *v;
        bool memcg = s->groups[r->domain].memcg;
        char comm[SV_COMM_ESCAPED_SIZE], *domain, *task_memcg;

        if (r->victim < 0)
                return;
        v = &s->tasks[r->victim];
        domain = sv_escape_dup(s->groups[r->domain].path);
        task_memcg = sv_escape_dup(s->groups[sv_snapshot_memcg_of(s, v->group)].path);
        /* dump_oom_summary() + mem_cgroup_print_oom_context(); the cpuset and
         * mems_allowed of the allocating task are unknown here and left out. */
        fprintf(out, "oom-kill:constraint=%s,nodemask=(null)",
                memcg ? "CONSTRAINT_MEMCG" : "CONSTRAINT_NONE");
        if (memcg)
                fprintf(out, ",oom_memcg=%s", domain ? domain : "?");
        fprintf(out, ",task_memcg=%s,task=%s,pid=%d,uid=%u\n", task_memcg ? task_memcg : "?",
                sv_escape(v->comm, comm, sizeof(comm)), v->pid, v->uid);
        free(domain);
        free(task_memcg);
}

void sv_format_oom_group(FILE *out, const struct sv_snapshot *s, int group)
{
        char *path = sv_escape_dup(s->groups[group].path);

        /* mem_cgroup_print_oom_group() */
        fprintf(out, "Tasks in %s are going to be killed due to memory.oom.group set\n",
                path ? path : "?");
        free(path);
}

/* dump_task() skips oom_unkillable_task() and tasks without an mm; -1000
 * tasks are listed. */
static bool dumped(const struct sv_task *t)
{
        return t->pid != 1 && !(t->flags & SV_PF_KTHREAD) && t->has_mm;
}

/* "# totalpages=…" under the header line. */
static void totalpages_line(FILE *out, const struct sv_snapshot *s, const struct sv_oom_result *r)
{
        const struct sv_group *d = &s->groups[r->domain];

        if (d->memcg) {
                fprintf(out, "# totalpages=%" PRIu64 " (memory.max", r->totalpages);
                if (d->memory_max == SV_LIMIT_MAX)
                        fputs(" max", out);
                else
                        fprintf(out, " %" PRIu64 " pages", d->memory_max / s->page_size);
                if (s->swappiness && s->total_swap_pages)
                        fputs(" + swap within memory.swap.max", out);
                fprintf(out, "), page size %" PRIu64 "\n", s->page_size);
        } else {
                fprintf(out, "# global OOM: totalpages=%" PRIu64 " (RAM + swap)\n", r->totalpages);
        }
}

static void task_dump(FILE *out, const struct sv_snapshot *s, const struct sv_oom_result *r)
{
        sv_format_dump_header(out);
        for (size_t i = 0; i < r->n_candidates; i++) {
                const struct sv_task *t = &s->tasks[r->candidates[i].task];
                if (dumped(t))
                        sv_format_dump_task(out, s, t);
        }
}

static void badness_table(FILE *out, const struct sv_snapshot *s, const struct sv_oom_result *r,
                          int victim)
{
        char comm[SV_COMM_ESCAPED_SIZE];

        fputs("# Badness (oom_badness), in scan order; ties go to the later task:\n", out);
        fprintf(out, "# %10s %7s %s\n", "points", "pid", "comm (cgroup)");
        for (size_t i = 0; i < r->n_candidates; i++) {
                const struct sv_candidate *c = &r->candidates[i];
                const struct sv_task *t = &s->tasks[c->task];
                char *cg = sv_escape_dup(s->groups[t->group].path);

                sv_escape(t->comm, comm, sizeof(comm));
                if (c->points == SV_POINTS_UNKILLABLE)
                        fprintf(out, "# %10s %7d %s (%s)  unkillable: %s\n", "-", t->pid, comm,
                                cg ? cg : "?", sv_unkillable_to_string(c->why));
                else
                        fprintf(out, "# %10" PRId64 " %7d %s (%s)%s\n", c->points, t->pid, comm,
                                cg ? cg : "?", c->task == victim ? "  <- victim" : "");
                free(cg);
        }
}

static void would_die(FILE *out, const struct sv_snapshot *s, const int *tasks, size_t n)
{
        fprintf(out, "# Would die: %zu process%s:", n, n == 1 ? "" : "es");
        for (size_t i = 0; i < n; i++)
                fprintf(out, " %d", s->tasks[tasks[i]].pid);
        fputc('\n', out);
}

void sv_format_explain_text(FILE *out, const struct sv_snapshot *s, const struct sv_oom_result *r)
{
        const struct sv_group *d = &s->groups[r->domain];
        char *path = sv_escape_dup(d->path);

        fprintf(out, "# What the kernel's OOM killer would do if %s hit its limit now\n",
                path ? path : "?");
        totalpages_line(out, s, r);
        sv_format_memory_split(out, s, r->domain);
        task_dump(out, s, r);

        if (r->victim < 0) {
                fprintf(out, "# No killable task in %s: the kernel would find nothing to kill.\n",
                        path ? path : "?");
        } else {
                sv_format_oom_summary(out, s, r);
                sv_format_killed(out, s, &s->tasks[r->victim]);
                if (r->kill_group >= 0) {
                        sv_format_oom_group(out, s, r->kill_group);
                        /* oom_kill_memcg_member() runs over the group in scan order
                         * and logs the victim a second time. */
                        for (size_t i = 0; i < r->n_candidates; i++) {
                                const struct sv_task *t = &s->tasks[r->candidates[i].task];
                                if (!sv_snapshot_group_is_descendant(s, t->group, r->kill_group))
                                        continue;
                                if (!dumped(t) || t->oom_score_adj == SV_OOM_SCORE_ADJ_MIN)
                                        continue;
                                sv_format_killed(out, s, t);
                        }
                }
        }
        badness_table(out, s, r, r->victim);
        if (r->victim >= 0)
                would_die(out, s, r->kill_tasks, r->n_kill_tasks);
        free(path);
}

void sv_format_plan_explain_text(FILE *out, const struct sv_snapshot *s,
                                 const struct sv_trigger *trig, const struct sv_kill_rule *rule,
                                 const struct sv_plan *p)
{
        char *path = sv_escape_dup(s->groups[0].path);

        fprintf(out, "# What cgsentryd would do on a %s trigger in %s now (rule %s, policy %s)\n",
                sv_trigger_name(p->trigger), path ? path : "?",
                rule && rule->name ? rule->name : "-", p->policy);
        totalpages_line(out, s, p->selection);
        sv_format_memory_split(out, s, 0);
        task_dump(out, s, p->selection);
        sv_plan_format_mode(out, s, trig, rule, p, SV_PLAN_WOULD, "# ");
        badness_table(out, s, p->selection, p->victim);
        if (p->n_kill_tasks)
                would_die(out, s, p->kill_tasks, p->n_kill_tasks);
        free(path);
}

/* The group's memory split as the tripwire sees it (memory.stat needed). */
static bool memory_split(const struct sv_snapshot *s, int group, struct sv_reclaim *ret)
{
        const struct sv_group *g = &s->groups[group];

        if (!g->memcg || !(g->have & SV_HAVE_STAT))
                return false;
        sv_reclaim_estimate(&g->stat, g->memory_current, group == 0 ? s->swap_headroom : 0, ret);
        return true;
}

void sv_format_memory_split(FILE *out, const struct sv_snapshot *s, int group)
{
        const struct sv_group *g = &s->groups[group];
        struct sv_reclaim rc;
        char a[10][32];

        if (!memory_split(s, group, &rc))
                return;
        fprintf(out, "# Memory: usage %s, memory.high %s, memory.max %s\n",
                sv_format_bytes(g->memory_current, a[0], sizeof(a[0])),
                sv_format_bytes(g->memory_high, a[1], sizeof(a[1])),
                sv_format_bytes(g->memory_max, a[2], sizeof(a[2])));
        fprintf(out, "#   not reclaimable %s", sv_format_bytes(rc.nonreclaimable, a[3], sizeof(a[3])));
        if (g->memory_max != SV_LIMIT_MAX)
                fprintf(out, " = %u%% of memory.max", sv_reclaim_share(&rc, g->memory_max));
        fprintf(out, " (anon %s, shmem %s, unevictable %s, kernel %s)\n",
                sv_format_bytes(rc.anon, a[4], sizeof(a[4])),
                sv_format_bytes(rc.shmem, a[5], sizeof(a[5])),
                sv_format_bytes(rc.unevictable, a[6], sizeof(a[6])),
                sv_format_bytes(rc.kernel, a[7], sizeof(a[7])));
        fprintf(out, "#   reclaimable: page cache %s, slab %s, swappable %s (swap headroom %s)\n",
                sv_format_bytes(rc.file, a[0], sizeof(a[0])),
                sv_format_bytes(rc.slab_reclaimable, a[1], sizeof(a[1])),
                sv_format_bytes(rc.swappable, a[2], sizeof(a[2])),
                sv_format_bytes(rc.swap_headroom, a[8], sizeof(a[8])));
}

static json_object *memory_json(const struct sv_snapshot *s, int group)
{
        const struct sv_group *g = &s->groups[group];
        json_object *o;
        struct sv_reclaim rc;

        if (!memory_split(s, group, &rc) || !(o = json_object_new_object()))
                return NULL;
#define U64(k, v) json_object_object_add(o, k, json_object_new_uint64(v))
        U64("current", g->memory_current);
        json_object_object_add(o, "high", g->memory_high == SV_LIMIT_MAX
                                                  ? json_object_new_string("max")
                                                  : json_object_new_uint64(g->memory_high));
        json_object_object_add(o, "max", g->memory_max == SV_LIMIT_MAX
                                                 ? json_object_new_string("max")
                                                 : json_object_new_uint64(g->memory_max));
        U64("nonreclaimable", rc.nonreclaimable);
        json_object_object_add(o, "nonreclaimable_percent_of_max",
                               g->memory_max == SV_LIMIT_MAX
                                       ? NULL
                                       : json_object_new_int((int)sv_reclaim_share(&rc, g->memory_max)));
        U64("anon", rc.anon);
        U64("shmem", rc.shmem);
        U64("unevictable", rc.unevictable);
        U64("kernel", rc.kernel);
        U64("file", rc.file);
        U64("slab_reclaimable", rc.slab_reclaimable);
        U64("swappable", rc.swappable);
        U64("swap_headroom", rc.swap_headroom);
#undef U64
        return o;
}

/* A name for JSON: escaped like everywhere else, so always valid UTF-8. */
static json_object *json_name(const char *name)
{
        char *e = sv_escape_dup(name);
        json_object *o = e ? json_object_new_string(e) : NULL;

        free(e);
        return o;
}

json_object *sv__json_task_ref(const struct sv_snapshot *s, int task, int64_t points)
{
        const struct sv_task *t = &s->tasks[task];
        json_object *o = json_object_new_object();

        json_object_object_add(o, "pid", json_object_new_int(t->pid));
        json_object_object_add(o, "comm", json_name(t->comm));
        json_object_object_add(o, "cgroup", json_name(s->groups[t->group].path));
        json_object_object_add(o, "points", points == SV_POINTS_UNKILLABLE
                                                    ? NULL
                                                    : json_object_new_int64(points));
        return o;
}

static json_object *pid_list(const struct sv_snapshot *s, const int *tasks, size_t n)
{
        json_object *pids = json_object_new_array();

        for (size_t i = 0; pids && i < n; i++)
                json_object_array_add(pids, json_object_new_int(s->tasks[tasks[i]].pid));
        return pids;
}

json_object *sv__json_explain(const struct sv_snapshot *s, const struct sv_oom_result *r)
{
        json_object *root = json_object_new_object(), *cands = json_object_new_array();

        if (!root || !cands) {
                json_object_put(root);
                json_object_put(cands);
                return NULL;
        }
        json_object_object_add(root, "domain", json_name(s->groups[r->domain].path));
        json_object_object_add(root, "constraint",
                               json_object_new_string(s->groups[r->domain].memcg
                                                              ? "CONSTRAINT_MEMCG"
                                                              : "CONSTRAINT_NONE"));
        json_object_object_add(root, "totalpages", json_object_new_uint64(r->totalpages));
        json_object_object_add(root, "page_size", json_object_new_uint64(s->page_size));
        json_object_object_add(root, "memory", memory_json(s, r->domain));

        for (size_t i = 0; i < r->n_candidates; i++) {
                const struct sv_candidate *c = &r->candidates[i];
                const struct sv_task *t = &s->tasks[c->task];
                json_object *o = sv__json_task_ref(s, c->task, c->points);

                json_object_object_add(o, "oom_score_adj", json_object_new_int(t->oom_score_adj));
                json_object_object_add(o, "rss_pages", json_object_new_uint64(rss_pages(s, t)));
                json_object_object_add(o, "swap_pages",
                                       json_object_new_uint64(kb_to_pages(s, t->vm_swap_kb)));
                json_object_object_add(o, "pgtables_bytes",
                                       json_object_new_uint64(t->vm_pte_kb * 1024));
                json_object_object_add(o, "killable", json_object_new_boolean(c->why == SV_KILLABLE));
                if (c->why != SV_KILLABLE)
                        json_object_object_add(o, "unkillable",
                                               json_object_new_string(sv_unkillable_to_string(c->why)));
                json_object_array_add(cands, o);
        }
        json_object_object_add(root, "candidates", cands);
        json_object_object_add(root, "victim",
                               r->victim < 0 ? NULL
                                             : sv__json_task_ref(s, r->victim, r->victim_points));
        json_object_object_add(root, "kill_group",
                               r->kill_group < 0 ? NULL : json_name(s->groups[r->kill_group].path));
        json_object_object_add(root, "kill_pids", pid_list(s, r->kill_tasks, r->n_kill_tasks));
        return root;
}

json_object *sv__json_trigger(const struct sv_trigger *t)
{
        json_object *o = json_object_new_object();
        const struct sv_reclaim *r = &t->reclaim;
        char buf[96];

        if (!o)
                return NULL;
#define U64(k, v) json_object_object_add(o, k, json_object_new_uint64(v))
        json_object_object_add(o, "trigger", json_object_new_string(sv_trigger_name(t->kind)));
        switch (t->kind) {
        case SV_TRIGGER_TRIPWIRE:
                U64("memory_max", t->memory_max);
                json_object_object_add(o, "tripwire_percent",
                                       json_object_new_double(t->permyriad / 100.0));
                U64("memory_current", r->usage);
                U64("nonreclaimable", r->nonreclaimable);
                U64("anon", r->anon);
                U64("shmem", r->shmem);
                U64("unevictable", r->unevictable);
                U64("kernel", r->kernel);
                U64("file", r->file);
                U64("slab_reclaimable", r->slab_reclaimable);
                U64("swappable", r->swappable);
                U64("swap_headroom", r->swap_headroom);
                break;
        case SV_TRIGGER_PRESSURE:
                snprintf(buf, sizeof(buf), "%s %" PRIu64 " %" PRIu64, t->psi_full ? "full" : "some",
                         t->stall_usec, t->window_usec);
                json_object_object_add(o, "psi_trigger", json_object_new_string(buf));
                json_object_object_add(o, "some_avg10", json_object_new_double(t->psi.some.avg10));
                json_object_object_add(o, "full_avg10",
                                       t->psi.has_full ? json_object_new_double(t->psi.full.avg10)
                                                       : NULL);
                break;
        case SV_TRIGGER_KERNEL_OOM_KILL:
                U64("oom_kill", t->oom_kill);
                break;
        case SV_TRIGGER_NODE_PRESSURE:
                json_object_object_add(o, "source", json_object_new_string(
                                                           t->node_psi ? "psi" : "memavailable"));
                U64("mem_total", t->mem_total);
                U64("mem_available", t->mem_available);
                if (t->node_psi) {
                        snprintf(buf, sizeof(buf), "%s %" PRIu64 " %" PRIu64,
                                 t->psi_full ? "full" : "some", t->stall_usec, t->window_usec);
                        json_object_object_add(o, "psi_trigger", json_object_new_string(buf));
                        json_object_object_add(o, "some_avg10",
                                               json_object_new_double(t->psi.some.avg10));
                        json_object_object_add(o, "full_avg10",
                                               t->psi.has_full
                                                       ? json_object_new_double(t->psi.full.avg10)
                                                       : NULL);
                } else {
                        U64("available_min", t->available_min);
                }
                break;
        }
#undef U64
        return o;
}

json_object *sv__json_container(const char *path)
{
        struct sv_container_path c;
        json_object *o;

        if (!path || sv_container_parse(path, &c) < 0 || (!c.pod_len && !c.container_len))
                return NULL;
        o = json_object_new_object();
        if (!o)
                return NULL;
        json_object_object_add(o, "engine", c.engine ? json_object_new_string(sv_engine_name(c.engine))
                                                     : NULL);
        json_object_object_add(o, "container_id",
                               c.container_id[0] ? json_object_new_string(c.container_id) : NULL);
        json_object_object_add(o, "pod_uid", c.pod_uid[0] ? json_object_new_string(c.pod_uid) : NULL);
        json_object_object_add(o, "qos", c.qos ? json_object_new_string(sv_pod_qos_name(c.qos)) : NULL);
        return o;
}

json_object *sv__json_plan(const struct sv_snapshot *s, const struct sv_trigger *trig,
                           const struct sv_kill_rule *rule, const struct sv_plan *p)
{
        json_object *root = sv__json_explain(s, p->selection), *pol, *spared;

        if (!root)
                return NULL;
        json_object_object_add(root, "rule", rule && rule->name ? json_object_new_string(rule->name)
                                                                : NULL);
        json_object_object_add(root, "trigger", trig ? sv__json_trigger(trig) : NULL);
        pol = json_object_new_object();
        json_object_object_add(pol, "name", json_object_new_string(p->policy));
        json_object_object_add(pol, "explanation",
                               p->policy_explanation ? json_name(p->policy_explanation) : NULL);
        json_object_object_add(root, "policy", pol);
        json_object_object_add(root, "scope", json_object_new_string(sv_plan_scope_to_string(p->scope)));
        json_object_object_add(root, "victim",
                               p->victim < 0 ? NULL : sv__json_task_ref(s, p->victim, p->victim_points));
        json_object_object_add(root, "kill_group",
                               p->kill_group < 0 ? NULL : json_name(s->groups[p->kill_group].path));
        json_object_object_add(root, "kill_pids", pid_list(s, p->kill_tasks, p->n_kill_tasks));
        json_object_object_add(root, "use_cgroup_kill", json_object_new_boolean(p->use_cgroup_kill));
        /* The pod or container the kill empties, or the victim's. */
        json_object_object_add(root, "container",
                               sv__json_container(p->kill_group >= 0 ? s->groups[p->kill_group].path
                                                  : p->victim >= 0
                                                          ? s->groups[s->tasks[p->victim].group].path
                                                          : NULL));
        spared = json_object_new_array();
        for (size_t i = 0; spared && i < p->n_spared; i++) {
                json_object *o = json_object_new_object();
                json_object_object_add(o, "pid", json_object_new_int(s->tasks[p->spared[i].task].pid));
                json_object_object_add(o, "reason",
                                       json_object_new_string(sv_spare_reason_to_string(p->spared[i].why)));
                json_object_array_add(spared, o);
        }
        json_object_object_add(root, "spared", spared);
        return root;
}

int sv__json_print(FILE *out, json_object *o)
{
        const char *text;

        if (!o)
                return -ENOMEM;
        text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                         JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!text)
                return -ENOMEM;
        return fprintf(out, "%s\n", text) < 0 ? -EIO : 0;
}

int sv_format_explain_json(FILE *out, const struct sv_snapshot *s, const struct sv_oom_result *r)
{
        json_object *o = sv__json_explain(s, r);
        int ret = sv__json_print(out, o);

        json_object_put(o);
        return ret;
}

int sv_format_plan_explain_json(FILE *out, const struct sv_snapshot *s,
                                const struct sv_trigger *trig, const struct sv_kill_rule *rule,
                                const struct sv_plan *p)
{
        json_object *o = sv__json_plan(s, trig, rule, p);
        int ret = sv__json_print(out, o);

        json_object_put(o);
        return ret;
}

const char *sv_version(void)
{
        return CGSENTRY_VERSION;
}

void sv_format_kill_task(FILE *out, const struct sv_snapshot *s, const struct sv_task *t,
                         const char *note)
{
        char comm[SV_COMM_ESCAPED_SIZE], a[5][32];
        char *cg = sv_escape_dup(s->groups[t->group].path);

        fprintf(out, "pid %d (%s) uid %u in %s: anon-rss %s, file-rss %s, shmem-rss %s, swap %s, "
                     "oom_score_adj %d%s%s\n",
                t->pid, sv_escape(t->comm, comm, sizeof(comm)), t->uid, cg ? cg : "?",
                sv_format_bytes(t->rss_anon_kb * 1024, a[0], sizeof(a[0])),
                sv_format_bytes(t->rss_file_kb * 1024, a[1], sizeof(a[1])),
                sv_format_bytes(t->rss_shmem_kb * 1024, a[2], sizeof(a[2])),
                sv_format_bytes(t->vm_swap_kb * 1024, a[3], sizeof(a[3])), t->oom_score_adj,
                note ? ", " : "", note ? note : "");
        free(cg);
}
