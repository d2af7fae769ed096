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
        /* dump_task(): "[%7d] %5d %5d %8lu %8lu %8ld %8lu         %5hd %s\n" */
        fprintf(out, "[%7d] %5u %5d %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64
                     "         %5d %s\n",
                t->pid, t->uid, t->pid, kb_to_pages(s, t->vm_size_kb), rss_pages(s, t),
                t->vm_pte_kb * 1024, kb_to_pages(s, t->vm_swap_kb), t->oom_score_adj, t->comm);
}

void sv_format_killed(FILE *out, const struct sv_snapshot *s, const struct sv_task *t)
{
        /* __oom_kill_process(); the message of a memcg OOM is "Memory cgroup out
         * of memory", of a global one "Out of memory". */
        const char *msg = s->n_groups && s->groups[0].memcg ? "Memory cgroup out of memory"
                                                            : "Out of memory";
        fprintf(out,
                "%s: Killed process %d (%s) total-vm:%" PRIu64 "kB, anon-rss:%" PRIu64
                "kB, file-rss:%" PRIu64 "kB, shmem-rss:%" PRIu64 "kB, UID:%u pgtables:%" PRIu64
                "kB oom_score_adj:%d\n",
                msg, t->pid, t->comm, t->vm_size_kb, t->rss_anon_kb, t->rss_file_kb,
                t->rss_shmem_kb, t->uid, t->vm_pte_kb, t->oom_score_adj);
}

void sv_format_oom_summary(FILE *out, const struct sv_snapshot *s, const struct sv_oom_result *r)
{
        const struct sv_task *v;
        bool memcg = s->groups[r->domain].memcg;

        if (r->victim < 0)
                return;
        v = &s->tasks[r->victim];
        /* dump_oom_summary() + mem_cgroup_print_oom_context(); the cpuset and
         * mems_allowed of the allocating task are unknown here and left out. */
        fprintf(out, "oom-kill:constraint=%s,nodemask=(null)",
                memcg ? "CONSTRAINT_MEMCG" : "CONSTRAINT_NONE");
        if (memcg)
                fprintf(out, ",oom_memcg=%s", s->groups[r->domain].path);
        fprintf(out, ",task_memcg=%s,task=%s,pid=%d,uid=%u\n",
                s->groups[sv_snapshot_memcg_of(s, v->group)].path, v->comm, v->pid, v->uid);
}

void sv_format_oom_group(FILE *out, const struct sv_snapshot *s, int group)
{
        /* mem_cgroup_print_oom_group() */
        fprintf(out, "Tasks in %s are going to be killed due to memory.oom.group set\n",
                s->groups[group].path);
}

/* dump_task() skips oom_unkillable_task() and tasks without an mm; -1000
 * tasks are listed. */
static bool dumped(const struct sv_task *t)
{
        return t->pid != 1 && !(t->flags & SV_PF_KTHREAD) && t->has_mm;
}

static const char *points_note(const struct sv_candidate *c, int victim)
{
        if (c->task == victim)
                return "  <- victim";
        return "";
}

void sv_format_explain_text(FILE *out, const struct sv_snapshot *s, const struct sv_oom_result *r)
{
        const struct sv_group *d = &s->groups[r->domain];

        fprintf(out, "# What the kernel's OOM killer would do if %s hit its limit now\n", d->path);
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

        sv_format_memory_split(out, s, r->domain);
        sv_format_dump_header(out);
        for (size_t i = 0; i < r->n_candidates; i++) {
                const struct sv_task *t = &s->tasks[r->candidates[i].task];
                if (dumped(t))
                        sv_format_dump_task(out, s, t);
        }

        if (r->victim < 0) {
                fprintf(out, "# No killable task in %s: the kernel would find nothing to kill.\n",
                        d->path);
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

        fputs("# Badness (oom_badness), in scan order; ties go to the later task:\n", out);
        fprintf(out, "# %10s %7s %s\n", "points", "pid", "comm (cgroup)");
        for (size_t i = 0; i < r->n_candidates; i++) {
                const struct sv_candidate *c = &r->candidates[i];
                const struct sv_task *t = &s->tasks[c->task];
                if (c->points == SV_POINTS_UNKILLABLE)
                        fprintf(out, "# %10s %7d %s (%s)  unkillable: %s\n", "-", t->pid, t->comm,
                                s->groups[t->group].path, sv_unkillable_to_string(c->why));
                else
                        fprintf(out, "# %10" PRId64 " %7d %s (%s)%s\n", c->points, t->pid, t->comm,
                                s->groups[t->group].path, points_note(c, r->victim));
        }
        if (r->victim >= 0) {
                fprintf(out, "# Would die: %zu process%s:", r->n_kill_tasks,
                        r->n_kill_tasks == 1 ? "" : "es");
                for (size_t i = 0; i < r->n_kill_tasks; i++)
                        fprintf(out, " %d", s->tasks[r->kill_tasks[i]].pid);
                fputc('\n', out);
        }
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

static json_object *task_ref(const struct sv_snapshot *s, int task, int64_t points)
{
        const struct sv_task *t = &s->tasks[task];
        json_object *o = json_object_new_object();

        json_object_object_add(o, "pid", json_object_new_int(t->pid));
        char comm[SV_COMM_UTF8_SIZE];

        sv__utf8_sanitize(t->comm, comm, sizeof(comm));
        json_object_object_add(o, "comm", json_object_new_string(comm));
        json_object_object_add(o, "cgroup", json_object_new_string(s->groups[t->group].path));
        json_object_object_add(o, "points", points == SV_POINTS_UNKILLABLE
                                                    ? NULL
                                                    : json_object_new_int64(points));
        return o;
}

int sv_format_explain_json(FILE *out, const struct sv_snapshot *s, const struct sv_oom_result *r)
{
        json_object *root = json_object_new_object(), *cands = json_object_new_array(),
                    *pids = json_object_new_array();
        const char *text;
        int ret = 0;

        if (!root || !cands || !pids) {
                json_object_put(root);
                json_object_put(cands);
                json_object_put(pids);
                return -ENOMEM;
        }
        json_object_object_add(root, "domain", json_object_new_string(s->groups[r->domain].path));
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
                json_object *o = task_ref(s, c->task, c->points);

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
                               r->victim < 0 ? NULL : task_ref(s, r->victim, r->victim_points));
        json_object_object_add(root, "kill_group",
                               r->kill_group < 0
                                       ? NULL
                                       : json_object_new_string(s->groups[r->kill_group].path));
        for (size_t i = 0; i < r->n_kill_tasks; i++)
                json_object_array_add(pids, json_object_new_int(s->tasks[r->kill_tasks[i]].pid));
        json_object_object_add(root, "kill_pids", pids);

        text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
                                                            JSON_C_TO_STRING_SPACED |
                                                            JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!text || fprintf(out, "%s\n", text) < 0)
                ret = -EIO;
        json_object_put(root);
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
