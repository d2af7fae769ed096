/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "cgsentry/supervise.h"
#include "log.h"
#include "parse.h"
#include "policy-host.h"
#include "supervisor.h"
#include "util.h"

/* How often and how long to check cgroup.events after a kill: the kernel
 * empties a SIGKILLed group within milliseconds unless a task is stuck in
 * uninterruptible sleep, which is worth a warning after a few seconds. */
#define CONFIRM_INTERVAL_MSEC 20
#define CONFIRM_TRIES 250

struct group;

/* One watched cgroup directory: discovery of children, and for supervised
 * groups the memory.events changes kernfs reports on the directory. */
struct dirwatch {
        struct supervisor *sv;
        uv_fs_event_t ev;
        char *path; /* relative to the cgroup root, "" for the root */
        struct group *group;
        struct dirwatch *next, *prev;
        struct dirwatch *hnext; /* in supervisor.hash, by path */
        ino_t ino; /* of the directory watched: a re-created cgroup has another */
        bool no_inotify; /* watch limit reached: the group polls memory.events */
};

struct group {
        struct supervisor *sv;
        struct dirwatch *dw;
        const struct cgsentry_rule *rule;
        int dfd, events_fd, events_local_fd;
        int stat_fd; /* memory.stat, for Tripwire= only */
        struct sv_memory_events last, last_local;
        int psi_fd;
        uv_poll_t *psi; /* allocated only for PressureStall= */
        uv_timer_t timer; /* grace period, then confirming the kill */
        uv_poll_t *events_poll, *local_poll; /* only without inotify (ENOSPC) */
        int open_handles;  /* libuv handles not yet closed; the last one frees g */
        bool high_set;
        bool high_noted; /* said once that a high event was only page cache */
        uint64_t orig_high;
        uint64_t armed_max; /* memory.max the tripwire was computed from */
        uint64_t armed_high; /* what memory.high holds while we own it */
        uint64_t cooldown_until_ms;
        /* A kill in progress. */
        char *kill_path;   /* cgroup being emptied, relative */
        int *pidfds;
        size_t n_pidfds;
        bool use_cgroup_kill;
        unsigned confirm_left;
        uint64_t kill_started_ms;
        bool grace_pending; /* SIGTERM sent, SIGKILL not yet */
        uint64_t event_ns; /* when the triggering event was read, for latency */
        struct sv_policy_instance *policy; /* Policy= other than the kernel mirror */
};

struct supervisor {
        uv_loop_t *loop;
        struct supervisor_opts opts;
        struct cgsentry_config *cfg;
        int root_fd, proc_fd;
        struct dirwatch *watches;
        size_t n_groups, n_watches;
        /* Watches by path: discovery looks one up for every directory it
         * sees, which a list made quadratic with thousands of groups. */
        struct dirwatch **hash;
        size_t hash_size; /* a power of two */
        size_t last_status[3]; /* what STATUS= said last: groups, watches, kills */
        uint64_t n_kills;
        struct sv_policy_registry *policies;
        uv_signal_t sighup, sigterm, sigint;
        uv_timer_t watchdog;
        bool watchdog_on, stopping;
        bool enospc_logged;
};

static void group_close(struct group *g);
static void notify_status(struct supervisor *sv);

static const char *rel(const char *path)
{
        while (*path == '/')
                path++;
        return path;
}

/* ---- the decision and the kill ------------------------------------------ */

/* Tasks cgsentry must never kill: Protect= globs, itself, and (by the
 * kernel's rules, which sv_oom_* already apply) -1000 and init. Marking them
 * -1000 in the snapshot makes the mirror skip them as victims and spare them
 * in group kills, exactly as the kernel spares -1000 tasks. */
static bool mark_protected(struct sv_snapshot *s, const struct cgsentry_rule *rule)
{
        bool any = false;
        pid_t self = getpid();

        for (size_t i = 0; i < s->n_tasks; i++) {
                struct sv_task *t = &s->tasks[i];
                if (t->pid == self || cgsentry_rule_protects(rule, rel(s->groups[t->group].path)))
                        t->oom_score_adj = SV_OOM_SCORE_ADJ_MIN;
                if (t->oom_score_adj == SV_OOM_SCORE_ADJ_MIN || t->pid == 1)
                        any = true;
        }
        return any;
}

static bool group_has_spared(const struct sv_snapshot *s, int group)
{
        for (size_t i = 0; i < s->n_tasks; i++) {
                const struct sv_task *t = &s->tasks[i];
                if (sv_snapshot_group_is_descendant(s, t->group, group) &&
                    (t->oom_score_adj == SV_OOM_SCORE_ADJ_MIN || t->pid == 1))
                        return true;
        }
        return false;
}

static void close_pidfds(struct group *g)
{
        for (size_t i = 0; i < g->n_pidfds; i++)
                if (g->pidfds[i] >= 0)
                        close(g->pidfds[i]);
        free(g->pidfds);
        g->pidfds = NULL;
        g->n_pidfds = 0;
}

/* Killed processes that have not exited yet: a pidfd polls readable once
 * its process has exited. */
static int n_killed_alive(const struct group *g)
{
        int n = 0;

        for (size_t i = 0; i < g->n_pidfds; i++) {
                struct pollfd p = { .fd = g->pidfds[i], .events = POLLIN };
                if (g->pidfds[i] >= 0 && poll(&p, 1, 0) == 0)
                        n++;
        }
        return n;
}

static void confirm_cb(uv_timer_t *t)
{
        struct group *g = t->data;
        struct cgsentry_log_fields f = { .cgroup = g->kill_path, .message_id = CGSENTRY_MID_KILL };
        /* cgroup.kill empties the cgroup; a per-process kill spared someone
         * (Protect=, -1000) or could not use cgroup.kill: wait for the
         * processes it signalled, not for an empty cgroup. */
        int r = g->use_cgroup_kill ? sv_cgroup_populated(g->sv->root_fd, g->kill_path)
                                   : n_killed_alive(g);

        if ((r == 0 || r == -ENOENT) && g->use_cgroup_kill) {
                cgsentry_log(LOG_INFO, &f, "/%s is empty %" PRIu64 " ms after the kill",
                             g->kill_path, uv_now(g->sv->loop) - g->kill_started_ms);
        } else if (r == 0) {
                cgsentry_log(LOG_INFO, &f, "the %zu killed processes of /%s are gone %" PRIu64
                             " ms after the kill", g->n_pidfds, g->kill_path,
                             uv_now(g->sv->loop) - g->kill_started_ms);
        } else if (--g->confirm_left > 0) {
                return;
        } else {
                cgsentry_log(LOG_WARNING, &f,
                             "/%s still has processes %d ms after SIGKILL (stuck in D state?)",
                             g->kill_path, CONFIRM_INTERVAL_MSEC * CONFIRM_TRIES);
        }
        uv_timer_stop(t);
        close_pidfds(g);
        free(g->kill_path);
        g->kill_path = NULL;
}

static void sigkill_all(struct group *g)
{
        struct supervisor *sv = g->sv;
        uint64_t killed_ns;
        int r = -ENOENT;

        if (g->use_cgroup_kill) {
                r = sv_kill_cgroup(sv->root_fd, g->kill_path);
                if (r < 0 && r != -ENOENT && r != -EOPNOTSUPP)
                        cgsentry_log(LOG_ERR, &(struct cgsentry_log_fields){ .cgroup = g->kill_path },
                                     "cannot write /%s/cgroup.kill: %s", g->kill_path, strerror(-r));
        }
        killed_ns = uv_hrtime();
        if (r == 0) {
                /* Memory back now rather than when each task runs its exit path. */
                for (size_t i = 0; i < g->n_pidfds; i++)
                        if (g->pidfds[i] >= 0)
                                (void)sv_mrelease(g->pidfds[i]);
        } else {
                /* Per-process SIGKILL: protected members present, or no cgroup.kill
                 * (before 5.14; frozen first so nobody forks past us). */
                bool frozen = g->use_cgroup_kill &&
                              sv_freeze_cgroup(sv->root_fd, g->kill_path, true) == 0;
                for (size_t i = 0; i < g->n_pidfds; i++)
                        if (g->pidfds[i] >= 0)
                                (void)sv_pidfd_kill(g->pidfds[i], SIGKILL, false);
                killed_ns = uv_hrtime();
                if (frozen)
                        sv_freeze_cgroup(sv->root_fd, g->kill_path, false);
                for (size_t i = 0; i < g->n_pidfds; i++)
                        if (g->pidfds[i] >= 0)
                                (void)sv_mrelease(g->pidfds[i]);
        }
        g->grace_pending = false;
        /* A per-process kill is confirmed through its pidfds (confirm_cb). */
        if (r == 0)
                close_pidfds(g);
        if (g->event_ns)
                cgsentry_log(LOG_INFO, &(struct cgsentry_log_fields){ .cgroup = g->kill_path },
                             "SIGKILL sent to /%s %" PRIu64 " us after the event",
                             g->kill_path, (killed_ns - g->event_ns) / 1000);
        g->event_ns = 0;
        g->confirm_left = CONFIRM_TRIES;
        uv_timer_start(&g->timer, confirm_cb, CONFIRM_INTERVAL_MSEC, CONFIRM_INTERVAL_MSEC);
}

static void grace_cb(uv_timer_t *t)
{
        sigkill_all(t->data);
}

/* The processes a kill takes, one line each in cgsentry's own words. */
static char *kill_list_text(const struct sv_snapshot *s, const struct sv_oom_result *res)
{
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);

        if (!f)
                return NULL;
        for (size_t i = 0; i < res->n_kill_tasks; i++)
                sv_format_kill_task(f, s, &s->tasks[res->kill_tasks[i]],
                                    res->kill_tasks[i] == res->victim
                                            ? "the victim the kernel's badness picks"
                                            : NULL);
        fclose(f);
        return text;
}

/* OnKernelOOMKill=group-kill: the kernel already chose and killed one task;
 * the rest of the matched group goes, sparing what the kernel spares. */
static int finish_kernel_kill(const struct sv_snapshot *s, struct sv_oom_result **ret)
{
        struct sv_oom_result *r = calloc(1, sizeof(*r));

        if (!r || !(r->kill_tasks = calloc(s->n_tasks ?: 1, sizeof(int)))) {
                free(r);
                return -ENOMEM;
        }
        r->victim = -1;
        r->kill_group = 0;
        r->n_kill_tasks = sv_oom_group_members(s, 0, r->kill_tasks);
        *ret = r;
        return 0;
}

static int start_kill(struct group *g, const struct sv_snapshot *s,
                      const struct sv_oom_result *res, const struct sv_trigger *trig,
                      const char *why, uint64_t event_ns)
{
        struct supervisor *sv = g->sv;
        const struct cgsentry_rule *rule = g->rule;

        /* Pin every member with a pidfd before anything dies, so pid reuse
         * cannot redirect a signal and process_mrelease() has a handle. */
        g->pidfds = malloc(res->n_kill_tasks * sizeof(int));
        if (!g->pidfds)
                return -ENOMEM;
        g->n_pidfds = res->n_kill_tasks;
        for (size_t i = 0; i < res->n_kill_tasks; i++) {
                const struct sv_task *t = &s->tasks[res->kill_tasks[i]];
                g->pidfds[i] = sv_pidfd_open_checked(sv->proc_fd, t->pid, t->starttime);
        }
        g->kill_path = strdup(res->kill_group >= 0 ? rel(s->groups[res->kill_group].path)
                                                   : rel(s->groups[s->tasks[res->victim].group].path));
        /* cgroup.kill spares nobody: only when no member must survive. */
        g->use_cgroup_kill = res->kill_group >= 0 && !group_has_spared(s, res->kill_group);
        g->kill_started_ms = uv_now(sv->loop);
        g->event_ns = rule->term_grace_usec ? 0 : event_ns;
        sv->n_kills++;
        if (!g->kill_path) {
                close_pidfds(g);
                return -ENOMEM;
        }
        if (sv->opts.on_kill) {
                struct supervisor_kill k = { .trigger = trig, .cgroup = g->dw->path,
                                             .kill_cgroup = g->kill_path,
                                             .n_processes = res->n_kill_tasks, .why = why };
                sv->opts.on_kill(sv->opts.userdata, &k);
        }
        if (rule->term_grace_usec) {
                for (size_t i = 0; i < g->n_pidfds; i++)
                        if (g->pidfds[i] >= 0)
                                (void)sv_pidfd_kill(g->pidfds[i], SIGTERM, false);
                g->grace_pending = true;
                uv_timer_start(&g->timer, grace_cb, rule->term_grace_usec / 1000, 0);
        } else {
                sigkill_all(g);
        }
        notify_status(sv);
        return 0;
}

/*
 * Policy=: the plugin names a group (and maybe a task). That group is widened
 * like mem_cgroup_get_oom_group() (memory.oom.group or OOMGroup= up to the
 * matched cgroup) and killed whole, sparing what the kernel spares.
 */
static int policy_select(struct group *g, const struct sv_snapshot *s, const bool *flags,
                         struct sv_oom_result **ret, char *why, size_t why_size)
{
        struct sv_policy_view_opts vo = { .now_usec = uv_hrtime() / 1000,
                                          .cgroup_root = g->sv->cfg->cgroup_root,
                                          .extra_oom_group = flags };
        struct sv_policy_decision d;
        struct sv_policy_view *v = NULL;
        struct sv_oom_result *res;
        struct sv_error err = {};
        int r, kg;

        r = sv_policy_view_new(s, 0, &vo, &v);
        if (r < 0)
                return r;
        r = sv_policy_choose(g->policy, v, &d, &err);
        sv_policy_view_free(v);
        if (r < 0) {
                snprintf(why, why_size, "%s: %s", err.path, err.what);
                return r;
        }
        snprintf(why, why_size, "%s", d.explanation);
        res = calloc(1, sizeof(*res));
        if (!res || !(res->kill_tasks = calloc(s->n_tasks ?: 1, sizeof(int)))) {
                free(res);
                return -ENOMEM;
        }
        res->victim = d.task;
        res->kill_group = -1;
        if (d.group >= 0) {
                kg = sv_oom_group_of(s, d.group, 0, flags);
                if (kg < 0)
                        kg = d.group;
                res->kill_group = kg;
                res->n_kill_tasks = sv_oom_group_members(s, kg, res->kill_tasks);
        }
        if (res->victim >= 0 && res->n_kill_tasks == 0)
                res->victim = -1;
        *ret = res;
        return 0;
}

/* Why the kill takes a whole group rather than one process. */
static const char *whole_group_reason(const struct group *g, const struct sv_snapshot *s,
                                      const struct sv_oom_result *res,
                                      const struct sv_trigger *trig)
{
        if (res->kill_group < 0)
                return "one process: no memory.oom.group and no OOMGroup=";
        if (trig->kind == SV_TRIGGER_KERNEL_OOM_KILL)
                return "OnKernelOOMKill=group-kill finishes the group";
        if (s->groups[res->kill_group].oom_group)
                return "memory.oom.group is set";
        if (res->victim < 0)
                return "the policy chose the group";
        return "OOMGroup=yes";
}

static void act(struct group *g, const struct sv_trigger *trig, uint64_t event_ns)
{
        struct supervisor *sv = g->sv;
        const struct cgsentry_rule *rule = g->rule;
        const char *tname = sv_trigger_name(trig->kind);
        /* The kernel mirror needs only limits, oom.group and the tasks; plugin
         * policies may look at counters, PSI and memory.stat. */
        struct sv_snapshot_opts o = { .cgroup_root = sv->cfg->cgroup_root,
                                      .proc_root = sv->cfg->proc_root,
                                      .minimal = !g->policy };
        struct cgsentry_log_fields f = { .cgroup = g->dw->path, .trigger = tname,
                                         .policy = rule->policy ?: "kernel", .rule = rule->name,
                                         .trig = trig };
        struct sv_oom_result *res = NULL;
        struct sv_snapshot *s = NULL;
        struct sv_error err = {};
        char why[1024], *list = NULL, *pids = NULL;
        size_t pids_len = 0;
        uint64_t now;
        bool *flags = NULL;
        int r;

        /* uv_now() is the loop's cached time, from before this callback. */
        uv_update_time(sv->loop);
        now = uv_now(sv->loop);
        if (now < g->cooldown_until_ms || g->kill_path) {
                cgsentry_log(LOG_DEBUG, &f, "%s on /%s ignored: cooling down after a kill", tname,
                             g->dw->path);
                return;
        }
        r = sv_snapshot_take(&o, g->dw->path, &s, &err);
        cgsentry_log(LOG_DEBUG, &f, "%s on /%s: snapshot read %" PRIu64 " us after the event",
                     tname, g->dw->path, (uv_hrtime() - event_ns) / 1000);
        if (r < 0) {
                if (!sv__is_gone(r))
                        cgsentry_log(LOG_ERR, &f, "%s on /%s: cannot read it: %s: %s", tname,
                                     g->dw->path, err.path,
                                     err.what[0] ? err.what : strerror(-r));
                return;
        }
        mark_protected(s, rule);
        if (trig->kind == SV_TRIGGER_KERNEL_OOM_KILL) {
                r = finish_kernel_kill(s, &res);
        } else {
                char pwhy[SV_POLICY_EXPLANATION_SIZE + 600] = "";
                flags = calloc(s->n_groups, sizeof(bool));
                if (flags)
                        flags[0] = rule->oom_group;
                r = flags ? 0 : -ENOMEM;
                if (r == 0 && g->policy) {
                        r = policy_select(g, s, flags, &res, pwhy, sizeof(pwhy));
                        if (r < 0) {
                                cgsentry_log(LOG_ERR, &f, "policy %s failed (%s); using the "
                                             "kernel's choice", rule->policy, pwhy);
                                r = 0;
                        } else if (pwhy[0]) {
                                cgsentry_log(LOG_NOTICE, &f, "policy %s: %s", rule->policy, pwhy);
                        }
                }
                if (r == 0 && !res)
                        r = sv_oom_select_flags(s, 0, flags, &res);
        }
        if (r < 0) {
                cgsentry_log(LOG_ERR, &f, "%s on /%s: %s", tname, g->dw->path, strerror(-r));
                goto out;
        }
        sv_trigger_describe(trig, why, sizeof(why));
        if (res->n_kill_tasks == 0) {
                cgsentry_log(LOG_NOTICE, &f, "%s: /%s %s; nothing killable", tname, g->dw->path,
                             why);
                goto out;
        }
        f.victim_pid = res->victim >= 0 ? s->tasks[res->victim].pid
                                        : s->tasks[res->kill_tasks[0]].pid;
        f.message_id = rule->dry_run ? CGSENTRY_MID_DRY_RUN : CGSENTRY_MID_KILL;
        if (res->kill_group >= 0)
                f.cgroup = rel(s->groups[res->kill_group].path);
        {
                FILE *pf = open_memstream(&pids, &pids_len);
                for (size_t i = 0; pf && i < res->n_kill_tasks; i++)
                        fprintf(pf, "%s%d", i ? " " : "", s->tasks[res->kill_tasks[i]].pid);
                if (pf)
                        fclose(pf);
                f.killed_pids = pids;
        }
        g->cooldown_until_ms = now + rule->cooldown_usec / 1000;
        /* Act first, explain after: the report is for people, the kill is
         * racing the kernel's OOM killer. */
        if (!rule->dry_run && start_kill(g, s, res, trig, why, event_ns) < 0)
                cgsentry_log(LOG_ERR, &f, "out of memory preparing the kill");
        cgsentry_log(LOG_WARNING, &f, "%s%s: /%s %s; %s %zu process%s of %s (rule %s, policy %s; %s)",
                     rule->dry_run ? "dry run: " : "", tname, g->dw->path, why,
                     rule->dry_run ? "would kill" : "killing", res->n_kill_tasks,
                     res->n_kill_tasks == 1 ? "" : "es",
                     res->kill_group >= 0 ? s->groups[res->kill_group].path
                                          : s->groups[s->tasks[res->victim].group].path,
                     rule->name, f.policy, whole_group_reason(g, s, res, trig));
        list = kill_list_text(s, res);
        if (list) {
                cgsentry_log_lines(LOG_INFO, &f, list);
                free(list);
        }
        notify_status(sv);
out:
        free(pids);
        free(flags);
        sv_oom_result_free(res);
        sv_snapshot_free(s);
}

/* ---- per-group event sources --------------------------------------------- */

static int read_events(int fd, struct sv_memory_events *ret)
{
        char buf[512];
        ssize_t n = sv__read_fd(fd, buf, sizeof(buf));

        if (n < 0)
                return (int)n;
        return sv_parse_memory_events(buf, (size_t)n, ret);
}

/* A kill of this group is in flight or just done: triggers wait. */
static bool cooling_down(struct group *g)
{
        uv_update_time(g->sv->loop);
        return uv_now(g->sv->loop) < g->cooldown_until_ms || g->kill_path;
}

/*
 * A "high" event only says that usage went above memory.high and the
 * kernel started reclaiming (reclaim_high()). Whether the group is in
 * danger depends on what that reclaim cannot take back: see reclaim.c.
 * Returns 1 when the tripwire fires (with the figures in @t), 0 when the
 * memory above memory.high is reclaimable, -errno when the group could not
 * be read (it is going away).
 */
static int tripwire_assess(struct group *g, struct sv_trigger *t)
{
        struct supervisor *sv = g->sv;
        struct sv_memory_stat st;
        uint64_t usage = 0, headroom = 0;
        char buf[8192];
        ssize_t n;
        int r;

        n = sv__read_fd(g->stat_fd, buf, sizeof(buf));
        if (n < 0)
                return (int)n;
        r = sv_parse_memory_stat(buf, (size_t)n, &st);
        if (r < 0)
                return r;
        n = sv__read_at(g->dfd, "memory.current", buf, sizeof(buf));
        if (n >= 0)
                (void)sv_parse_u64(buf, (size_t)n, &usage);
        r = sv_swap_headroom_read(sv->root_fd, sv->proc_fd, g->dw->path, &headroom);
        if (r < 0 && !sv__is_gone(r))
                headroom = 0; /* unknown: count swap-backed memory as stuck */
        *t = (struct sv_trigger){ .kind = SV_TRIGGER_TRIPWIRE, .memory_max = g->armed_max,
                                  .permyriad = g->rule->tripwire_permyriad };
        sv_reclaim_estimate(&st, usage, headroom, &t->reclaim);
        return sv_reclaim_over(&t->reclaim, t->memory_max, t->permyriad);
}

static void tripwire_event(struct group *g, uint64_t event_ns)
{
        struct cgsentry_log_fields f = { .cgroup = g->dw->path, .trigger = "tripwire",
                                         .rule = g->rule->name };
        struct sv_trigger t;
        char why[1024];
        int r;

        if (cooling_down(g))
                return;
        r = tripwire_assess(g, &t);
        if (r > 0) {
                act(g, &t, event_ns);
                return;
        }
        if (r < 0)
                return; /* the group is going away; the directory event follows */
        /* Reclaim is doing its job: say so once at info level, then only in
         * debug output (a cache-heavy service raises this many times a second). */
        sv_trigger_describe(&t, why, sizeof(why));
        cgsentry_log(g->high_noted ? LOG_DEBUG : LOG_INFO, &f,
                     "/%s is above memory.high but below the tripwire: %s; not killing%s",
                     g->dw->path, why,
                     g->high_noted ? "" : " (further such events are logged at debug level)");
        g->high_noted = true;
}

static void group_check_events(struct group *g, uint64_t event_ns)
{
        struct sv_memory_events ev, local = g->last_local;
        uint64_t oom_kill_before = g->last.oom_kill;
        bool oom_kill, high;

        if (read_events(g->events_fd, &ev) < 0)
                return; /* the group is going away; the directory event follows */
        if (g->events_local_fd >= 0 && read_events(g->events_local_fd, &local) < 0)
                return;
        oom_kill = ev.oom_kill > g->last.oom_kill;
        /* Our tripwire is this group's own memory.high: the local counter, so a
         * child hitting its own memory.high does not fire it. */
        high = g->events_local_fd >= 0 ? local.high > g->last_local.high
                                       : ev.high > g->last.high;
        g->last = ev;
        g->last_local = local;
        if (oom_kill && g->rule->on_kernel_oom_kill) {
                struct sv_trigger t = { .kind = SV_TRIGGER_KERNEL_OOM_KILL,
                                        .oom_kill_before = oom_kill_before,
                                        .oom_kill = ev.oom_kill };
                act(g, &t, event_ns);
        } else if (high && g->high_set) {
                tripwire_event(g, event_ns);
        }
}

static void poll_closed(uv_handle_t *h)
{
        struct group *g = h->data;

        free(h);
        if (--g->open_handles == 0)
                free(g);
}

/* Poll handles are allocated only for the groups that need one: most
 * groups have neither a PSI trigger nor the ENOSPC fallback. */
static uv_poll_t *start_poll(struct group *g, int fd, uv_poll_cb cb)
{
        uv_poll_t *p = malloc(sizeof(*p));

        if (!p)
                return NULL;
        if (uv_poll_init(g->sv->loop, p, fd) < 0) {
                free(p);
                return NULL;
        }
        p->data = g;
        g->open_handles++;
        uv_poll_start(p, UV_PRIORITIZED | UV_DISCONNECT, cb);
        return p;
}

static void close_poll(uv_poll_t *p)
{
        if (p)
                uv_close((uv_handle_t *)p, poll_closed);
}

/* The fallback without an inotify watch: kernfs files poll POLLPRI on change. */
static void events_poll_cb(uv_poll_t *h, int status, int events)
{
        struct group *g = h->data;

        if (status < 0 || (events & UV_DISCONNECT)) {
                uv_poll_stop(h);
                return;
        }
        group_check_events(g, uv_hrtime());
}

static void psi_cb(uv_poll_t *h, int status, int events)
{
        struct group *g = h->data;

        if (status < 0 || (events & UV_DISCONNECT)) {
                /* POLLERR: the cgroup is gone; the directory event cleans up. */
                uv_poll_stop(h);
                return;
        }
        {
                const struct cgsentry_pressure *p = &g->rule->pressure;
                struct sv_trigger t = { .kind = SV_TRIGGER_PRESSURE, .psi_full = p->full,
                                        .stall_usec = p->stall_usec,
                                        .window_usec = p->window_usec };
                uint64_t now = uv_hrtime();
                char buf[512];
                ssize_t n;

                if (cooling_down(g))
                        return;
                /* The averages for the message; the trigger itself decided. */
                n = sv__read_at(g->dfd, "memory.pressure", buf, sizeof(buf));
                if (n >= 0)
                        (void)sv_parse_psi(buf, (size_t)n, &t.psi);
                act(g, &t, now);
        }
}

static int read_limit_at(int dfd, const char *name, uint64_t *ret)
{
        char buf[64];
        ssize_t n = sv__read_at(dfd, name, buf, sizeof(buf));
        return n < 0 ? (int)n : sv_parse_limit(buf, (size_t)n, ret);
}

static int write_at(int dfd, const char *name, const char *value, size_t len)
{
        int fd = openat(dfd, name, O_WRONLY | O_CLOEXEC), r = 0;

        if (fd < 0)
                return -errno;
        if (write(fd, value, len) < 0)
                r = -errno;
        close(fd);
        return r;
}

/* The operator's memory.high, kept on the cgroup itself while a tripwire
 * replaces it, so that a daemon restarted after a crash gives back that
 * value rather than the tripwire it finds in memory.high. */
#define ORIG_HIGH_XATTR "trusted.cgsentry.memory_high"

static void restore_high(struct group *g)
{
        char buf[32];
        int n = g->orig_high == SV_LIMIT_MAX ? snprintf(buf, sizeof(buf), "max")
                                             : snprintf(buf, sizeof(buf), "%" PRIu64, g->orig_high);
        if (write_at(g->dfd, "memory.high", buf, (size_t)n) == 0)
                (void)fremovexattr(g->dfd, ORIG_HIGH_XATTR);
}

static void save_orig_high(struct group *g)
{
        char buf[32];
        int len = g->orig_high == SV_LIMIT_MAX ? snprintf(buf, sizeof(buf), "max")
                                               : snprintf(buf, sizeof(buf), "%" PRIu64, g->orig_high);
        /* Best effort: trusted.* xattrs on cgroupfs need CAP_SYS_ADMIN. */
        (void)fsetxattr(g->dfd, ORIG_HIGH_XATTR, buf, (size_t)len, 0);
}

static void read_orig_high(struct group *g)
{
        char buf[32];
        ssize_t n = fgetxattr(g->dfd, ORIG_HIGH_XATTR, buf, sizeof(buf) - 1);
        uint64_t v;

        if (n > 0 && sv_parse_limit(buf, (size_t)n, &v) == 0)
                g->orig_high = v;
}

/*
 * Tripwire=: memory.high at a fraction of memory.max. Re-run whenever
 * memory.max is written (the directory watch sees the write's IN_MODIFY),
 * because managers such as systemd create the cgroup first and set its
 * limits after, and operators change limits at run time.
 */
static void arm_tripwire(struct group *g)
{
        struct cgsentry_log_fields f = { .cgroup = g->dw->path };
        uint64_t max, high, cur;
        char buf[32];
        int r;

        if (read_limit_at(g->dfd, "memory.max", &max) < 0)
                return;
        /*
         * memory.high changed under us: systemd writes every memory.* limit
         * of a unit again (MemoryHigh=, "max" by default) whenever it
         * re-applies the unit's cgroup settings (daemon-reload,
         * set-property), and an operator may write it too. That value is
         * the operator's from now on; the tripwire goes back on top of it.
         */
        if (g->high_set && read_limit_at(g->dfd, "memory.high", &cur) == 0 &&
            cur != g->armed_high) {
                g->orig_high = cur;
                save_orig_high(g);
        } else if (max == g->armed_max) {
                return;
        }
        if (!g->high_set) {
                if (read_limit_at(g->dfd, "memory.high", &g->orig_high) < 0)
                        return;
                read_orig_high(g); /* a previous daemon's record wins */
        }
        g->armed_max = max;
        if (max == SV_LIMIT_MAX) {
                /* No limit (yet): nothing to be a fraction of. */
                if (g->high_set) {
                        restore_high(g);
                        g->high_set = false;
                }
                cgsentry_log(LOG_DEBUG, &f, "/%s: no memory.max, tripwire waits for one",
                             g->dw->path);
                return;
        }
        high = max / 10000 * g->rule->tripwire_permyriad +
               max % 10000 * g->rule->tripwire_permyriad / 10000;
        /* The kernel keeps limits in pages; so do we, so that re-arming can
         * tell an unchanged memory.high from one somebody else wrote. */
        high -= high % (uint64_t)sysconf(_SC_PAGESIZE);
        if (g->orig_high != SV_LIMIT_MAX && g->orig_high <= high)
                high = g->orig_high; /* an operator's lower memory.high stays */
        if (!g->high_set)
                save_orig_high(g);
        g->armed_high = high;
        if (read_limit_at(g->dfd, "memory.high", &cur) == 0 && cur == high) {
                g->high_set = true;
                return;
        }
        snprintf(buf, sizeof(buf), "%" PRIu64, high);
        r = write_at(g->dfd, "memory.high", buf, strlen(buf));
        if (r < 0) {
                cgsentry_log(LOG_WARNING, &f, "/%s: cannot set memory.high: %s", g->dw->path,
                             strerror(-r));
                return;
        }
        g->high_set = true;
        cgsentry_log(LOG_INFO, &f, "/%s: tripwire armed at memory.high=%" PRIu64
                     " (%u.%02u%% of memory.max=%" PRIu64 ")", g->dw->path, high,
                     g->rule->tripwire_permyriad / 100, g->rule->tripwire_permyriad % 100, max);
}

static void setup_pressure(struct group *g)
{
        const struct cgsentry_pressure *p = &g->rule->pressure;
        struct cgsentry_log_fields f = { .cgroup = g->dw->path };
        char trig[64];
        int n;

        g->psi_fd = openat(g->dfd, "memory.pressure", O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (g->psi_fd < 0) {
                cgsentry_log(LOG_WARNING, &f, "/%s: PressureStall= unavailable: %m", g->dw->path);
                return;
        }
        /* psi.rst: the trigger string is written with its terminating NUL. */
        n = snprintf(trig, sizeof(trig), "%s %" PRIu64 " %" PRIu64, p->full ? "full" : "some",
                     p->stall_usec, p->window_usec);
        if (write(g->psi_fd, trig, (size_t)n + 1) < 0) {
                cgsentry_log(LOG_WARNING, &f, "/%s: cannot arm PSI trigger \"%s\": %m",
                             g->dw->path, trig);
                close(g->psi_fd);
                g->psi_fd = -1;
                return;
        }
        g->psi = start_poll(g, g->psi_fd, psi_cb);
        if (!g->psi) {
                cgsentry_log(LOG_WARNING, &f, "/%s: cannot poll the PSI trigger", g->dw->path);
                close(g->psi_fd);
                g->psi_fd = -1;
        }
}

/* The rule's policy for one group (each group has its own plugin state, e.g.
 * growth samples); NULL, with the reason logged, means the kernel mirror. */
static struct sv_policy_instance *policy_instance(struct supervisor *sv,
                                                  const struct cgsentry_rule *rule,
                                                  const char *path)
{
        struct cgsentry_log_fields f = { .cgroup = path, .policy = rule->policy };
        struct sv_policy_instance *inst = NULL;
        const struct sv_policy *p;
        struct sv_error err = {};
        int r;

        if (!sv->policies) {
                r = sv_policy_registry_new(sv->cfg->policy_dir, &sv->policies);
                if (r < 0) {
                        cgsentry_log(LOG_ERR, &f, "cannot set up policies: %s", strerror(-r));
                        return NULL;
                }
        }
        r = sv_policy_registry_get(sv->policies, rule->policy, &p, &err);
        if (r == 0)
                r = sv_policy_instance_new(p, rule->policy_options, &inst, &err);
        if (r < 0) {
                cgsentry_log(LOG_ERR, &f, "rule %s: policy %s cannot be used: %s%s%s; using "
                             "the kernel's choice for /%s", rule->name, rule->policy, err.path,
                             err.path[0] ? ": " : "", err.what[0] ? err.what : strerror(-r),
                             path);
                return NULL;
        }
        return inst;
}

static struct group *group_new(struct dirwatch *dw, const struct cgsentry_rule *rule)
{
        struct supervisor *sv = dw->sv;
        struct cgsentry_log_fields f = { .cgroup = dw->path, .message_id = CGSENTRY_MID_SUPERVISE };
        struct group *g = calloc(1, sizeof(*g));

        if (!g)
                return NULL;
        g->sv = sv;
        g->dw = dw;
        g->rule = rule;
        g->psi_fd = g->events_local_fd = g->stat_fd = -1;
        g->armed_max = 0;
        g->dfd = openat(sv->root_fd, *dw->path ? dw->path : ".",
                        O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (g->dfd < 0)
                goto fail_fd;
        /* Keeping memory.events open also keeps its kernfs inode alive, which
         * kernfs needs in order to send the change notification at all. */
        g->events_fd = openat(g->dfd, "memory.events", O_RDONLY | O_CLOEXEC);
        if (g->events_fd < 0) {
                if (errno == EMFILE || errno == ENFILE)
                        goto fail_fd;
                if (errno == ENOENT)
                        cgsentry_log(LOG_WARNING, &f,
                                     "/%s matches rule %s but has no memory controller "
                                     "(enable +memory in its parent's cgroup.subtree_control)",
                                     dw->path, rule->name);
                goto fail;
        }
        g->events_local_fd = openat(g->dfd, "memory.events.local", O_RDONLY | O_CLOEXEC);
        if (read_events(g->events_fd, &g->last) < 0)
                goto fail;
        if (g->events_local_fd >= 0)
                (void)read_events(g->events_local_fd, &g->last_local);
        uv_timer_init(sv->loop, &g->timer);
        g->timer.data = g;
        g->open_handles++;
        if (rule->policy && strcmp(rule->policy, SV_POLICY_DEFAULT) != 0)
                g->policy = policy_instance(sv, rule, dw->path);
        if (dw->no_inotify) {
                g->events_poll = start_poll(g, g->events_fd, events_poll_cb);
                if (g->events_local_fd >= 0)
                        g->local_poll = start_poll(g, g->events_local_fd, events_poll_cb);
        }
        if (rule->tripwire_permyriad) {
                /* Kept open: read on every high event, when time counts. */
                g->stat_fd = openat(g->dfd, "memory.stat", O_RDONLY | O_CLOEXEC);
                if (g->stat_fd < 0) {
                        if (errno == EMFILE || errno == ENFILE)
                                goto fail_fd;
                        goto fail;
                }
                arm_tripwire(g);
        }
        if (rule->pressure.enabled)
                setup_pressure(g);
        sv->n_groups++;
        {
                struct sv_policy_info pi = { .name = SV_POLICY_DEFAULT, .version = "builtin" };
                if (g->policy)
                        sv_policy_get_info(sv_policy_instance_policy(g->policy), &pi);
                cgsentry_log(LOG_INFO, &f, "supervising /%s (rule %s, policy %s %s%s%s%s%s%s%s%s)",
                             dw->path, rule->name, pi.name, pi.version,
                             pi.path ? " from " : "", pi.path ? pi.path : "",
                             g->high_set ? ", tripwire" : "", g->psi_fd >= 0 ? ", pressure" : "",
                             rule->on_kernel_oom_kill ? ", kernel-oom-kill" : "",
                             rule->oom_group ? ", whole group" : "",
                             rule->dry_run ? ", dry run" : "");
        }
        return g;
fail_fd:
        /* Silence here would leave a group unsupervised without a word. */
        if (errno == EMFILE || errno == ENFILE)
                cgsentry_log(LOG_ERR, &f, "cannot supervise /%s: out of file descriptors (%m); "
                             "raise LimitNOFILE= (each group holds up to 4)", dw->path);
fail:
        if (g->stat_fd >= 0)
                close(g->stat_fd);
        if (g->events_local_fd >= 0)
                close(g->events_local_fd);
        if (g->events_fd >= 0 && g->dfd >= 0)
                close(g->events_fd);
        if (g->dfd >= 0)
                close(g->dfd);
        free(g);
        return NULL;
}

static void group_handle_closed(uv_handle_t *h)
{
        struct group *g = h->data;

        if (--g->open_handles == 0)
                free(g);
}

static void group_close(struct group *g)
{
        struct supervisor *sv = g->sv;

        /* The decision stands when its group's watch is rebuilt (reload) or
         * the daemon stops: the SIGKILL of a grace period is sent now
         * rather than never. */
        if (g->grace_pending)
                sigkill_all(g);

        /* Give the operator's memory.high back, unless the group is gone. */
        if (g->high_set)
                restore_high(g);
        close_pidfds(g);
        free(g->kill_path);
        g->kill_path = NULL;
        sv_policy_instance_free(g->policy);
        g->policy = NULL;
        close_poll(g->events_poll);
        close_poll(g->local_poll);
        close(g->events_fd);
        if (g->events_local_fd >= 0)
                close(g->events_local_fd);
        if (g->stat_fd >= 0)
                close(g->stat_fd);
        close(g->dfd);
        sv->n_groups--;
        close_poll(g->psi);
        if (g->psi_fd >= 0)
                close(g->psi_fd); /* after uv_close: libuv stopped polling it */
        uv_close((uv_handle_t *)&g->timer, group_handle_closed);
}

/* ---- discovery ------------------------------------------------------------ */

static size_t path_hash(const char *path)
{
        size_t h = 14695981039346656037ull; /* FNV-1a */

        for (; *path; path++)
                h = (h ^ (unsigned char)*path) * 1099511628211ull;
        return h;
}

static struct dirwatch *find_watch(struct supervisor *sv, const char *path)
{
        if (!sv->hash)
                return NULL;
        for (struct dirwatch *w = sv->hash[path_hash(path) & (sv->hash_size - 1)]; w; w = w->hnext)
                if (strcmp(w->path, path) == 0)
                        return w;
        return NULL;
}

/* Keep the table at most 1 entry per bucket on average. */
static int hash_add(struct supervisor *sv, struct dirwatch *w)
{
        if (sv->n_watches + 1 > sv->hash_size) {
                size_t n = sv->hash_size ? sv->hash_size * 2 : 64;
                struct dirwatch **t = calloc(n, sizeof(*t));
                if (!t)
                        return -ENOMEM;
                for (size_t i = 0; i < sv->hash_size; i++)
                        for (struct dirwatch *x = sv->hash[i], *nx; x; x = nx) {
                                nx = x->hnext;
                                x->hnext = t[path_hash(x->path) & (n - 1)];
                                t[path_hash(x->path) & (n - 1)] = x;
                        }
                free(sv->hash);
                sv->hash = t;
                sv->hash_size = n;
        }
        w->hnext = sv->hash[path_hash(w->path) & (sv->hash_size - 1)];
        sv->hash[path_hash(w->path) & (sv->hash_size - 1)] = w;
        return 0;
}

static void hash_del(struct supervisor *sv, struct dirwatch *w)
{
        struct dirwatch **p = &sv->hash[path_hash(w->path) & (sv->hash_size - 1)];

        for (; *p; p = &(*p)->hnext)
                if (*p == w) {
                        *p = w->hnext;
                        return;
                }
}

/* Could a rule match @path or something below it? Then its directory is
 * watched for new children. */
static bool could_contain(const char *pattern, const char *path)
{
        while (*path) {
                const char *pe = strchrnul(pattern, '/'), *se = strchrnul(path, '/');
                char pc[256], sc[256];
                size_t pl = (size_t)(pe - pattern), sl = (size_t)(se - path);

                if (!*pattern)
                        return false;
                if (pl == 2 && pattern[0] == '*' && pattern[1] == '*')
                        return true;
                if (pl >= sizeof(pc) || sl >= sizeof(sc))
                        return false;
                memcpy(pc, pattern, pl);
                pc[pl] = '\0';
                memcpy(sc, path, sl);
                sc[sl] = '\0';
                if (!cgsentry_glob_match(pc, sc))
                        return false;
                pattern = *pe ? pe + 1 : pe;
                path = *se ? se + 1 : se;
        }
        return *pattern != '\0';
}

static bool interesting(const struct supervisor *sv, const char *path)
{
        for (size_t i = 0; i < sv->cfg->n_rules; i++)
                if (could_contain(sv->cfg->rules[i].match, path))
                        return true;
        return false;
}

static void watch_tree(struct supervisor *sv, const char *path);
static void unwatch_tree(struct supervisor *sv, const char *path);

static void dir_cb(uv_fs_event_t *h, const char *name, int events, int status)
{
        struct dirwatch *w = h->data;
        struct supervisor *sv = w->sv;
        char *child;
        struct stat st;

        if (status < 0 || !name || sv->stopping)
                return;
        if (w->group && (events & UV_CHANGE) &&
            (strcmp(name, "memory.events") == 0 || strcmp(name, "memory.events.local") == 0)) {
                group_check_events(w->group, uv_hrtime());
                return;
        }
        if (w->group && (events & UV_CHANGE) &&
            (strcmp(name, "memory.max") == 0 || strcmp(name, "memory.high") == 0)) {
                if (w->group->rule->tripwire_permyriad)
                        arm_tripwire(w->group);
                return;
        }
        if (!(events & UV_RENAME))
                return;
        if (asprintf(&child, "%s%s%s", w->path, *w->path ? "/" : "", name) < 0)
                return;
        if (fstatat(sv->root_fd, child, &st, AT_SYMLINK_NOFOLLOW) == 0) {
                struct dirwatch *old = S_ISDIR(st.st_mode) ? find_watch(sv, child) : NULL;
                /* Removed and created again (a service restart) before we
                 * handled the removal: what we hold is the old cgroup's. */
                if (old && old->ino != st.st_ino) {
                        unwatch_tree(sv, child);
                        old = NULL;
                }
                if (S_ISDIR(st.st_mode) && !old)
                        watch_tree(sv, child);
        } else if (errno == ENOENT) {
                /* A child went away, or (IN_DELETE_SELF) this directory did. */
                if (find_watch(sv, child))
                        unwatch_tree(sv, child);
                else if (*w->path && faccessat(sv->root_fd, w->path, F_OK, 0) < 0)
                        unwatch_tree(sv, w->path);
        }
        free(child);
        notify_status(sv);
}

static void watch_closed(uv_handle_t *h)
{
        struct dirwatch *w = h->data;
        free(w->path);
        free(w);
}

static void watch_remove(struct supervisor *sv, struct dirwatch *w)
{
        if (w->prev)
                w->prev->next = w->next;
        else
                sv->watches = w->next;
        if (w->next)
                w->next->prev = w->prev;
        hash_del(sv, w);
        sv->n_watches--;
        if (w->group)
                group_close(w->group);
        w->group = NULL;
        uv_close((uv_handle_t *)&w->ev, watch_closed);
}

static void watch_one(struct supervisor *sv, const char *path)
{
        const struct cgsentry_rule *rule = cgsentry_config_match(sv->cfg, path);
        struct cgsentry_log_fields f = { .cgroup = path };
        struct dirwatch *w;
        struct stat st;
        char *full;
        int r;

        if (!rule && !interesting(sv, path))
                return;
        if (fstatat(sv->root_fd, *path ? path : ".", &st, AT_SYMLINK_NOFOLLOW) < 0)
                return; /* gone already */
        w = calloc(1, sizeof(*w));
        if (!w || !(w->path = strdup(path))) {
                free(w);
                return;
        }
        w->sv = sv;
        w->ino = st.st_ino;
        if (asprintf(&full, "%s/%s", sv->cfg->cgroup_root, path) < 0) {
                free(w->path);
                free(w);
                return;
        }
        uv_fs_event_init(sv->loop, &w->ev);
        w->ev.data = w;
        r = uv_fs_event_start(&w->ev, dir_cb, full, 0);
        free(full);
        if (r == UV_ENOSPC) {
                /* Documented fallback: keep walking the tree, and supervise the
                 * groups found by polling their memory.events for POLLPRI. What
                 * is lost below such a directory: discovery of cgroups created
                 * later and the re-arming of Tripwire= when memory.max changes. */
                if (!sv->enospc_logged)
                        cgsentry_log(LOG_ERR, &f,
                                     "inotify watch limit reached (fs.inotify.max_user_watches) "
                                     "at /%s: groups from here on are supervised by polling "
                                     "memory.events, and cgroups created below them are not "
                                     "discovered until the limit is raised and cgsentryd "
                                     "reloaded (SIGHUP)", path);
                sv->enospc_logged = true;
                w->no_inotify = true;
        } else if (r < 0) {
                if (r != UV_ENOENT) /* gone before we looked: not an error */
                        cgsentry_log(LOG_ERR, &f, "cannot watch /%s: %s", path, uv_strerror(r));
                uv_close((uv_handle_t *)&w->ev, watch_closed);
                return;
        }
        if (hash_add(sv, w) < 0) {
                cgsentry_log(LOG_ERR, &f, "cannot watch /%s: out of memory", path);
                uv_close((uv_handle_t *)&w->ev, watch_closed);
                return;
        }
        w->next = sv->watches;
        if (w->next)
                w->next->prev = w;
        sv->watches = w;
        sv->n_watches++;
        if (rule)
                w->group = group_new(w, rule);
}

/* Watch @path and, recursively, its subdirectories that rules may match.
 * The watch is set before reading the directory so no child created in
 * between is missed. */
static void watch_tree(struct supervisor *sv, const char *path)
{
        DIR *d;
        struct dirent *de;
        int fd;

        watch_one(sv, path);
        if (!find_watch(sv, path))
                return;
        fd = openat(sv->root_fd, *path ? path : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || !(d = fdopendir(fd))) {
                if (fd >= 0)
                        close(fd);
                return;
        }
        while ((de = readdir(d))) {
                char *child;
                if (de->d_name[0] == '.' || de->d_type != DT_DIR)
                        continue;
                if (asprintf(&child, "%s%s%s", path, *path ? "/" : "", de->d_name) < 0)
                        break;
                if (!find_watch(sv, child))
                        watch_tree(sv, child);
                free(child);
        }
        closedir(d);
}

static void unwatch_tree(struct supervisor *sv, const char *path)
{
        size_t n = strlen(path);
        struct dirwatch *w = sv->watches, *next;

        for (; w; w = next) {
                next = w->next;
                if (strncmp(w->path, path, n) == 0 && (w->path[n] == '\0' || w->path[n] == '/' || n == 0)) {
                        if (w->group) {
                                struct cgsentry_log_fields f = { .cgroup = w->path };
                                cgsentry_log(LOG_INFO, &f, "/%s is gone", w->path);
                        }
                        watch_remove(sv, w);
                }
        }
}

/* ---- life cycle ------------------------------------------------------------ */

static void notify_status(struct supervisor *sv)
{
        if (sv->opts.embedded)
                return;
        /* Only when something changed: directory churn is not news. */
        if (sv->last_status[0] == sv->n_groups && sv->last_status[1] == sv->n_watches &&
            sv->last_status[2] == sv->n_kills && sv->last_status[0] + sv->last_status[1] > 0)
                return;
        sv->last_status[0] = sv->n_groups;
        sv->last_status[1] = sv->n_watches;
        sv->last_status[2] = sv->n_kills;
        sd_notifyf(0, "STATUS=Supervising %zu cgroups (%zu watches), %" PRIu64 " kills",
                   sv->n_groups, sv->n_watches, sv->n_kills);
}

static void on_signal(uv_signal_t *h, int signum)
{
        struct supervisor *sv = h->data;

        if (signum == SIGHUP) {
                supervisor_reload(sv);
                return;
        }
        cgsentry_log(LOG_INFO, NULL, "%s: exiting", strsignal(signum));
        sd_notify(0, "STOPPING=1");
        supervisor_stop(sv);
}

static void watchdog_cb(uv_timer_t *t)
{
        sd_notify(0, "WATCHDOG=1");
}

#ifndef MCL_ONFAULT
#define MCL_ONFAULT 4
#endif

/*
 * Lock what the daemon uses, not every page of every library it maps:
 * MCL_ONFAULT (4.4+) locks pages as they are first touched, which keeps
 * libsystemd's unused dependencies (about 3 MiB) out of RAM. The kill path
 * is walked once now, on the first supervised group, so that its code and
 * data are touched, and so locked, before memory runs short.
 */
static void lock_memory(struct supervisor *sv)
{
        struct sv_snapshot_opts o = { .cgroup_root = sv->cfg->cgroup_root,
                                      .proc_root = sv->cfg->proc_root, .minimal = true };
        struct sv_oom_result *res = NULL;
        struct sv_snapshot *s = NULL;
        int flags = MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT;

        if (mlockall(flags) < 0 && (errno != EINVAL || mlockall(flags & ~MCL_ONFAULT) < 0)) {
                cgsentry_log(LOG_WARNING, NULL, "mlockall: %m (continuing without)");
                return;
        }
        for (struct dirwatch *w = sv->watches; w; w = w->next) {
                char *text;
                if (!w->group || sv_snapshot_take(&o, w->path, &s, NULL) < 0)
                        continue;
                if (sv_oom_select(s, 0, &res) == 0) {
                        struct sv_trigger t = { .kind = SV_TRIGGER_TRIPWIRE };
                        char why[1024];
                        sv_trigger_describe(&t, why, sizeof(why));
                        if (w->group->stat_fd >= 0)
                                (void)tripwire_assess(w->group, &t);
                        text = kill_list_text(s, res);
                        free(text);
                }
                sv_oom_result_free(res);
                sv_snapshot_free(s);
                break;
        }
}

int supervisor_new(uv_loop_t *loop, const struct supervisor_opts *opts,
                   struct cgsentry_config *cfg, struct supervisor **ret)
{
        struct supervisor *sv = calloc(1, sizeof(*sv));

        if (!sv)
                return -ENOMEM;
        sv->loop = loop;
        sv->opts = *opts;
        sv->cfg = cfg;
        sv->root_fd = open(cfg->cgroup_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        sv->proc_fd = open(cfg->proc_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (sv->root_fd < 0 || sv->proc_fd < 0) {
                int r = -errno;
                if (sv->root_fd >= 0)
                        close(sv->root_fd);
                if (sv->proc_fd >= 0)
                        close(sv->proc_fd);
                free(sv);
                return r;
        }
        *ret = sv;
        return 0;
}

int supervisor_start(struct supervisor *sv)
{
        uint64_t wd_usec;

        if (!sv->opts.embedded) {
                uv_signal_init(sv->loop, &sv->sighup);
                uv_signal_init(sv->loop, &sv->sigterm);
                uv_signal_init(sv->loop, &sv->sigint);
                sv->sighup.data = sv->sigterm.data = sv->sigint.data = sv;
                uv_signal_start(&sv->sighup, on_signal, SIGHUP);
                uv_signal_start(&sv->sigterm, on_signal, SIGTERM);
                uv_signal_start(&sv->sigint, on_signal, SIGINT);
        }
        uv_timer_init(sv->loop, &sv->watchdog);
        if (!sv->opts.embedded && sd_watchdog_enabled(0, &wd_usec) > 0 && wd_usec >= 2000) {
                uv_timer_start(&sv->watchdog, watchdog_cb, wd_usec / 2000, wd_usec / 2000);
                sv->watchdog_on = true;
        }

        watch_tree(sv, "");
        cgsentry_log(LOG_INFO, NULL, "cgsentryd %s: %zu rules, supervising %zu cgroups",
                     sv_version(), sv->cfg->n_rules, sv->n_groups);
        if (sv->opts.lock_memory)
                lock_memory(sv);
        if (!sv->opts.embedded)
                sd_notify(0, "READY=1");
        notify_status(sv);
        return 0;
}

int supervisor_reload(struct supervisor *sv)
{
        struct cgsentry_config *cfg = NULL;
        char *errs = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&errs, &len);
        int r;

        sd_notify(0, "RELOADING=1");
        r = cgsentry_config_load(sv->opts.config_path, f, &cfg);
        if (f)
                fclose(f);
        if (r < 0) {
                struct cgsentry_log_fields lf = { .message_id = CGSENTRY_MID_CONFIG };
                if (errs)
                        cgsentry_log_lines(LOG_ERR, &lf, errs);
                cgsentry_log(LOG_ERR, &lf, "reload of %s failed; keeping the previous "
                                           "configuration", sv->opts.config_path);
        } else if (strcmp(cfg->cgroup_root, sv->cfg->cgroup_root) != 0 ||
                   strcmp(cfg->proc_root, sv->cfg->proc_root) != 0) {
                cgsentry_log(LOG_ERR, NULL, "CgroupRoot= and ProcRoot= cannot change on reload; "
                                            "keeping the previous configuration");
                cgsentry_config_free(cfg);
                r = -EINVAL;
        } else {
                /* Rebuild every watch under the new rules; counters are re-read,
                 * so nothing fires for events that happened before. */
                while (sv->watches)
                        watch_remove(sv, sv->watches);
                sv->enospc_logged = false;
                /* Plugins are reloaded too: a new file takes effect on SIGHUP. */
                sv_policy_registry_free(sv->policies);
                sv->policies = NULL;
                cgsentry_config_free(sv->cfg);
                sv->cfg = cfg;
                watch_tree(sv, "");
                cgsentry_log(LOG_INFO, &(struct cgsentry_log_fields){ .message_id = CGSENTRY_MID_CONFIG },
                             "reloaded: %zu rules, supervising %zu cgroups", cfg->n_rules,
                             sv->n_groups);
        }
        free(errs);
        sd_notify(0, "READY=1");
        notify_status(sv);
        return r;
}

void supervisor_stop(struct supervisor *sv)
{
        if (sv->stopping)
                return;
        sv->stopping = true;
        while (sv->watches)
                watch_remove(sv, sv->watches);
        if (!sv->opts.embedded) {
                uv_close((uv_handle_t *)&sv->sighup, NULL);
                uv_close((uv_handle_t *)&sv->sigterm, NULL);
                uv_close((uv_handle_t *)&sv->sigint, NULL);
        }
        uv_close((uv_handle_t *)&sv->watchdog, NULL);
}

void supervisor_free(struct supervisor *sv)
{
        if (!sv)
                return;
        close(sv->root_fd);
        close(sv->proc_fd);
        sv_policy_registry_free(sv->policies);
        cgsentry_config_free(sv->cfg);
        free(sv->hash);
        free(sv);
}

size_t supervisor_n_groups(const struct supervisor *sv)
{
        return sv->n_groups;
}
