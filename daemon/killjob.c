/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The kill job: a trigger fired on a supervised group; take a snapshot, let
 * cgsentry_decide() say what dies, carry it out, confirm it. Every signal
 * and every kill-file write goes through the supervisor's kill ops, so the
 * unit tests run this file with the calls recorded.
 *
 *   trigger -> cooldown? -> snapshot -> cgsentry_decide() -> plan
 *     -> pin every process with a pidfd (before anything dies)
 *     -> [SIGTERM, grace timer] -> SIGKILL (cgroup.kill, or per pidfd when
 *        someone must survive or cgroup.kill fails) -> process_mrelease()
 *     -> confirm (timer, every 20 ms): cgroup empty / pidfds exited
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "decide.h"
#include "killrecord.h"
#include "parse.h"
#include "supervisor-internal.h"
#include "util.h"

/* How often and how long to check after a kill: the kernel empties a
 * SIGKILLed group within milliseconds unless a task is stuck in
 * uninterruptible sleep, which is worth a warning after a few seconds. */
#define CONFIRM_INTERVAL_MSEC 20
#define CONFIRM_TRIES 250

/* ---- the real kill calls ------------------------------------------------- */

static int real_cgroup_kill(void *ud, int root_fd, const char *path)
{
        return sv_kill_cgroup(root_fd, path);
}

static int real_freeze(void *ud, int root_fd, const char *path, bool freeze)
{
        return sv_freeze_cgroup(root_fd, path, freeze);
}

static int real_pidfd_open(void *ud, int proc_fd, int pid, uint64_t starttime)
{
        return sv_pidfd_open_checked(proc_fd, pid, starttime);
}

static int real_pidfd_signal(void *ud, int pidfd, int sig)
{
        return sv_pidfd_kill(pidfd, sig, false);
}

static int real_mrelease(void *ud, int pidfd)
{
        return sv_mrelease(pidfd);
}

/* A pidfd polls readable once its process has exited. */
static int real_alive(void *ud, int pidfd)
{
        struct pollfd p = { .fd = pidfd, .events = POLLIN };
        return poll(&p, 1, 0) == 0;
}

static int real_populated(void *ud, int root_fd, const char *path)
{
        return sv_cgroup_populated(root_fd, path);
}

const struct supervisor_kill_ops supervisor_default_kill_ops = {
        .cgroup_kill = real_cgroup_kill,
        .freeze = real_freeze,
        .pidfd_open = real_pidfd_open,
        .pidfd_signal = real_pidfd_signal,
        .mrelease = real_mrelease,
        .alive = real_alive,
        .populated = real_populated,
};

/* ---- the job --------------------------------------------------------------- */

void killjob_close(struct group *g)
{
        struct killjob *k = g->kill;

        if (!k)
                return;
        if (k->hook_id)
                hook_forget(g->sv, k->hook_id);
        uv_timer_stop(&g->timer);
        for (size_t i = 0; i < k->n_pidfds; i++)
                if (k->pidfds[i] >= 0)
                        close(k->pidfds[i]);
        free(k->pidfds);
        free(k->mrelease_pending);
        free(k->path);
        free(k->shown);
        free(k);
        g->kill = NULL;
}

/*
 * process_mrelease() only works once the SIGKILL has been delivered (the
 * kernel says EINVAL until then) and may fail to reap for a moment
 * (EAGAIN): try now, and again from the confirm timer, never by sleeping
 * in the event loop.
 */
static void mrelease_pending(struct supervisor *sv, struct killjob *k)
{
        for (size_t i = 0; i < k->n_pidfds; i++) {
                int r;
                if (!k->mrelease_pending[i])
                        continue;
                r = sv->ops.mrelease(sv->ops.userdata, k->pidfds[i]);
                if (r != -EINVAL && r != -EAGAIN)
                        k->mrelease_pending[i] = false; /* done, gone, or not supported */
        }
}

static int n_alive(struct supervisor *sv, const struct killjob *k)
{
        int n = 0;

        for (size_t i = 0; i < k->n_pidfds; i++)
                if (k->pidfds[i] >= 0 && sv->ops.alive(sv->ops.userdata, k->pidfds[i]) > 0)
                        n++;
        return n;
}

/* 0 once the kill is done: cgroup.kill empties the cgroup (-ENOENT: and
 * it was removed); a per-process kill spared someone (Protect=, -1000) or
 * could not use cgroup.kill, so it waits for the processes it signalled,
 * not for an empty cgroup. */
static int left_alive(struct supervisor *sv, struct killjob *k)
{
        int r = k->use_cgroup_kill ? sv->ops.populated(sv->ops.userdata, sv->root_fd, k->path)
                                   : n_alive(sv, k);
        return r == -ENOENT ? 0 : r;
}

static void confirm_cb(uv_timer_t *t)
{
        struct group *g = t->data;
        struct supervisor *sv = g->sv;
        struct killjob *k = g->kill;
        struct cgsentry_log_fields f = { .cgroup = k->shown, .message_id = CGSENTRY_MID_KILL };
        const char *path = k->shown;
        int r = left_alive(sv, k);
        uint64_t took = uv_now(sv->loop) - k->started_ms;

        mrelease_pending(sv, k);
        if (r == 0 && k->use_cgroup_kill) {
                cgsentry_log(LOG_INFO, &f, "/%s is empty %" PRIu64 " ms after the kill", path,
                             took);
        } else if (r == 0) {
                cgsentry_log(LOG_INFO, &f, "the %zu killed processes of /%s are gone %" PRIu64
                             " ms after the kill", k->n_pidfds, path, took);
        } else if (--k->confirm_left > 0) {
                return;
        } else {
                cgsentry_log(LOG_WARNING, &f,
                             "/%s still has processes %d ms after SIGKILL (stuck in D state?)",
                             path, CONFIRM_INTERVAL_MSEC * CONFIRM_TRIES);
        }
        cgsentry_stats_outcome(&sv->stats, k->stats_id, r == 0, took);
        g->killed_gone = r == 0;
        killjob_close(g);
}

/* The first signal of the job (SIGTERM, or SIGKILL without a grace
 * period) went out at @now_ns: the reaction the metrics count. */
static void first_signal(struct supervisor *sv, struct killjob *k, uint64_t now_ns)
{
        if (k->first_signal_ns)
                return;
        k->first_signal_ns = now_ns;
        if (k->stats_id)
                cgsentry_stats_reaction(&sv->stats, k->stats_id,
                                        (now_ns - k->trigger_ns) / 1000);
}

/* SIGTERM to every pinned process: the start of a grace period. */
static void sigterm_all(struct supervisor *sv, struct killjob *k)
{
        for (size_t i = 0; i < k->n_pidfds; i++)
                if (k->pidfds[i] >= 0)
                        (void)sv->ops.pidfd_signal(sv->ops.userdata, k->pidfds[i], SIGTERM);
        k->term_pending = false;
        first_signal(sv, k, uv_hrtime());
}

/* SIGKILL to the whole job. 0 when at least one process was signalled
 * (or cgroup.kill written), else -errno. */
static int sigkill_all(struct group *g)
{
        struct supervisor *sv = g->sv;
        struct killjob *k = g->kill;
        struct cgsentry_log_fields f = { .cgroup = k->shown };
        bool delivered = false, frozen = false;
        uint64_t killed_ns;
        int r = -ESRCH, e;

        if (k->use_cgroup_kill) {
                e = sv->ops.cgroup_kill(sv->ops.userdata, sv->root_fd, k->path);
                if (e == 0) {
                        delivered = true;
                } else if (e != -ENOENT && e != -EOPNOTSUPP) {
                        /* Not a missing file (before 5.14) or a threaded cgroup: say so,
                         * then do it by hand. */
                        cgsentry_log(LOG_ERR, &f, "cannot write /%s/cgroup.kill: %s; killing "
                                     "process by process", k->shown, strerror(-e));
                }
                r = e;
                /* Fallback: freeze first, so that nobody forks past the kill. */
                if (!delivered)
                        frozen = sv->ops.freeze(sv->ops.userdata, sv->root_fd, k->path, true) == 0;
        }
        if (!delivered)
                for (size_t i = 0; i < k->n_pidfds; i++) {
                        if (k->pidfds[i] < 0)
                                continue;
                        e = sv->ops.pidfd_signal(sv->ops.userdata, k->pidfds[i], SIGKILL);
                        if (e == 0)
                                delivered = true;
                        else
                                r = e;
                }
        killed_ns = uv_hrtime();
        if (frozen)
                (void)sv->ops.freeze(sv->ops.userdata, sv->root_fd, k->path, false);
        k->grace_pending = false;
        /* Memory back now rather than when each task runs its exit path. */
        for (size_t i = 0; i < k->n_pidfds; i++)
                k->mrelease_pending[i] = delivered && k->pidfds[i] >= 0;
        mrelease_pending(sv, k);
        if (!delivered)
                return r < 0 ? r : -ESRCH;
        if (k->event_ns) {
                cgsentry_log(LOG_INFO, &f, "SIGKILL sent to /%s %" PRIu64 " us after the event",
                             k->shown, (killed_ns - k->event_ns) / 1000);
        }
        first_signal(sv, k, killed_ns);
        k->event_ns = 0;
        k->confirm_left = CONFIRM_TRIES;
        uv_timer_start(&g->timer, confirm_cb, CONFIRM_INTERVAL_MSEC, CONFIRM_INTERVAL_MSEC);
        return 0;
}

static void grace_cb(uv_timer_t *t)
{
        struct group *g = t->data;
        struct cgsentry_log_fields f = { .cgroup = g->kill->shown };
        int r = sigkill_all(g);

        if (r < 0) {
                /* Everybody left during the grace period: nothing to confirm. */
                cgsentry_log(LOG_INFO, &f, "/%s: no process left to SIGKILL after the grace "
                             "period (%s)", g->kill->shown, strerror(-r));
                killjob_close(g);
        }
}

/* The decision stands when its group's watch is rebuilt (reload) or the
 * daemon stops: the SIGKILL of a grace period is sent now rather than never. */
void killjob_finish_now(struct group *g)
{
        struct killjob *k = g->kill;

        if (k && k->grace_pending)
                (void)sigkill_all(g);
        else if (k && k->confirm_left && left_alive(g->sv, k) == 0) {
                /* The usual way a service's kill ends: its manager removed
                 * the emptied cgroup before the confirm timer looked. */
                uv_update_time(g->sv->loop);
                cgsentry_stats_outcome(&g->sv->stats, k->stats_id, true,
                                       uv_now(g->sv->loop) - k->started_ms);
                g->killed_gone = true;
        }
        killjob_close(g);
}

/*
 * Pin every process of the plan with a pidfd before anything dies (pid reuse
 * cannot redirect a signal; process_mrelease() needs the handle), then
 * signal. Returns 0 once something was signalled, -errno when nothing could
 * be (the caller neither counts nor logs it as a kill).
 */
/* ExecBeforeKill= is done (or was killed at its deadline): the grace
 * period's SIGTERM goes out now. */
static void before_kill_done(struct supervisor *sv, uint64_t hook_id, void *userdata)
{
        for (struct dirwatch *w = sv->watches; w; w = w->next) {
                struct group *g = w->group;
                if (!g || !g->kill || g->kill->hook_id != hook_id)
                        continue;
                g->kill->hook_id = 0;
                if (g->kill->term_pending && g->kill->grace_pending)
                        sigterm_all(sv, g->kill);
                return;
        }
}

static int killjob_start(struct group *g, const struct sv_snapshot *s, const struct sv_plan *p,
                         uint64_t event_ns, const struct hook_facts *facts)
{
        struct supervisor *sv = g->sv;
        const struct cgsentry_rule *rule = g->rule;
        struct killjob *k = calloc(1, sizeof(*k));
        int target = p->kill_group >= 0 ? p->kill_group : s->tasks[p->victim].group;
        size_t pinned = 0;
        int r;

        if (!k)
                return -ENOMEM;
        k->pidfds = malloc(p->n_kill_tasks * sizeof(*k->pidfds));
        k->mrelease_pending = calloc(p->n_kill_tasks, sizeof(*k->mrelease_pending));
        k->path = strdup(sv_rel(s->groups[target].path));
        k->shown = k->path ? sv_escape_dup(k->path) : NULL;
        if (!k->pidfds || !k->mrelease_pending || !k->shown) {
                free(k->pidfds);
                free(k->mrelease_pending);
                free(k->path);
                free(k);
                return -ENOMEM;
        }
        k->n_pidfds = p->n_kill_tasks;
        for (size_t i = 0; i < p->n_kill_tasks; i++) {
                const struct sv_task *t = &s->tasks[p->kill_tasks[i]];
                /* Identity is checked in this namespace's /proc, never in a
                 * configured ProcRoot= another pid could hide behind. */
                k->pidfds[i] = sv->ops.pidfd_open(sv->ops.userdata, sv->self_proc_fd, t->pid,
                                                  t->starttime);
                pinned += k->pidfds[i] >= 0;
        }
        k->use_cgroup_kill = p->use_cgroup_kill;
        k->started_ms = uv_now(sv->loop);
        k->event_ns = rule->term_grace_usec ? 0 : event_ns;
        k->trigger_ns = event_ns;
        g->kill = k;
        if (!k->use_cgroup_kill && pinned == 0) {
                killjob_close(g);
                return -ESRCH; /* every process exited since the snapshot */
        }
        if (rule->term_grace_usec) {
                k->grace_pending = true;
                uv_timer_start(&g->timer, grace_cb, rule->term_grace_usec / 1000, 0);
                /* ExecBeforeKill= first, as systemd runs ExecStop= before
                 * KillSignal=: SIGTERM when it is done, at half the grace
                 * period at the latest, so that the processes keep the other
                 * half; SIGKILL at the end whatever it does. */
                if (rule->exec_before_kill && facts) {
                        uint64_t limit = rule->term_grace_usec / 2;
                        if (rule->hook_timeout_usec < limit)
                                limit = rule->hook_timeout_usec;
                        k->term_pending = true;
                        k->hook_id = hook_start(sv, rule->exec_before_kill, facts, limit,
                                                before_kill_done, NULL);
                        if (k->hook_id)
                                return 0;
                }
                sigterm_all(sv, k);
                return 0;
        }
        r = sigkill_all(g);
        if (r < 0)
                killjob_close(g);
        return r;
}

static void read_hook_figures(struct group *g, struct hook_facts *facts)
{
        (void)sv__read_value_at(g->dfd, "memory.current", sv_parse_u64, &facts->memory_current);
        (void)sv__read_value_at(g->dfd, "memory.high", sv_parse_limit, &facts->memory_high);
        (void)sv__read_value_at(g->dfd, "memory.swap.current", sv_parse_u64,
                                &facts->swap_current);
}

/*
 * Cooldown= keeps a trigger from deciding on the memory of processes just
 * killed. The tripwire decides on memory.stat as it is now, and once every
 * killed process has exited their memory is uncharged (exit_mm() runs before
 * the pidfd or cgroup.events says so): it need not wait out the rest, and a
 * runaway in a group reused at once (a restarted worker) is not left
 * throttled at memory.high meanwhile. PSI triggers keep the whole cooldown:
 * the kernel's trigger window can still hold the stalls of the killed
 * processes, and the kernel-OOM-kill trigger follows an event of the past.
 */
bool group_cooling_down(struct group *g, enum sv_trigger_kind kind)
{
        if (g->kill)
                return true;
        if (kind == SV_TRIGGER_TRIPWIRE && g->killed_gone)
                return false;
        /* uv_now() is the loop's cached time, from before this callback. */
        uv_update_time(g->sv->loop);
        return uv_now(g->sv->loop) < g->cooldown_until_ms;
}

/* Log the plan: its summary line as the warning operators look for, the
 * processes and what was spared as details. */
static void log_plan(struct cgsentry_log_fields *f, const char *text)
{
        const char *nl = strchr(text, '\n');
        char *first = nl ? strndup(text, (size_t)(nl - text)) : NULL;

        cgsentry_log(LOG_WARNING, f, "%s", first ? first : text);
        f->extra = NULL; /* the kill's record is the summary entry alone */
        if (nl)
                cgsentry_log_lines(LOG_INFO, f, nl + 1);
        free(first);
}

int group_act(struct group *g, const struct sv_trigger *trig, uint64_t event_ns)
{
        struct supervisor *sv = g->sv;
        const struct cgsentry_rule *rule = g->rule;
        const char *tname = sv_trigger_name(trig->kind);
        /* The kernel's choice needs only limits, oom.group and the tasks;
         * plugin policies may look at counters, PSI and memory.stat. */
        struct sv_snapshot_opts o = { .cgroup_root = sv->cfg->cgroup_root,
                                      .proc_root = sv->cfg->proc_root,
                                      .minimal = !g->policy };
        struct cgsentry_log_fields f = { .cgroup = g->dw->shown, .trigger = tname,
                                         .policy = rule->policy ?: SV_POLICY_DEFAULT,
                                         .rule = rule->name, .trig = trig };
        struct sv_snapshot *s = NULL;
        struct sv_plan *plan = NULL;
        struct sv_kill_rule kr;
        struct sv_error err = {};
        struct killrecord rec = {};
        char note[SV_POLICY_EXPLANATION_SIZE + 600], *text = NULL, *pids = NULL;
        char *kill_shown = NULL, why[1024];
        const struct sv_task *victim;
        struct hook_facts facts;
        uint64_t stats_id;
        size_t pids_len = 0;
        int r;

        if (group_cooling_down(g, trig->kind)) {
                cgsentry_log(LOG_DEBUG, &f, "%s on /%s ignored: cooling down after a kill", tname,
                             g->dw->shown);
                return 0;
        }
        r = sv_snapshot_take(&o, g->dw->path, &s, &err);
        cgsentry_log(LOG_DEBUG, &f, "%s on /%s: snapshot read %" PRIu64 " us after the event",
                     tname, g->dw->shown, (uv_hrtime() - event_ns) / 1000);
        if (r < 0) {
                if (!sv__is_gone(r))
                        cgsentry_log(LOG_ERR, &f, "%s on /%s: cannot read it: %s: %s", tname,
                                     g->dw->shown, err.path,
                                     err.what[0] ? err.what : strerror(-r));
                return sv__is_gone(r) ? 0 : r;
        }
        /* Part of the group could not be read (a threaded or delegated
         * subtree, a bad file): decide on the rest and say what is missing;
         * cgroup.kill of the group still reaches it. */
        for (size_t i = 0; i < s->n_skipped; i++)
                cgsentry_log(LOG_WARNING, &f, "%s on /%s: left out %s: %s", tname, g->dw->shown,
                             s->skipped[i].path, s->skipped[i].what);
        r = cgsentry_decide(s, trig, rule, sv->self, g->policy, uv_hrtime() / 1000, &plan, note,
                            sizeof(note));
        if (note[0])
                cgsentry_log(LOG_ERR, &f, "%s", note);
        if (r < 0) {
                cgsentry_log(LOG_ERR, &f, "%s on /%s: cannot decide: %s", tname, g->dw->shown,
                             strerror(-r));
                goto out;
        }
        cgsentry_kill_rule(rule, sv->self, &kr);
        text = sv_plan_text(s, trig, &kr, plan, rule->dry_run);
        if (!text) {
                r = -ENOMEM;
                goto out;
        }
        if (plan->n_kill_tasks == 0) {
                /* Every member is spared: say so once, not on every event. */
                text[strcspn(text, "\n")] = '\0';
                cgsentry_log(g->nothing_noted ? LOG_DEBUG : LOG_NOTICE, &f, "%s", text);
                g->nothing_noted = true;
                r = 0;
                goto out;
        }
        g->nothing_noted = false;
        f.victim_pid = s->tasks[plan->victim >= 0 ? plan->victim : plan->kill_tasks[0]].pid;
        f.message_id = rule->dry_run ? CGSENTRY_MID_DRY_RUN : CGSENTRY_MID_KILL;
        if (plan->kill_group >= 0) {
                kill_shown = sv_escape_dup(sv_rel(s->groups[plan->kill_group].path));
                if (kill_shown)
                        f.cgroup = kill_shown;
        }
        {
                FILE *pf = open_memstream(&pids, &pids_len);
                for (size_t i = 0; pf && i < plan->n_kill_tasks; i++)
                        fprintf(pf, "%s%d", i ? " " : "", s->tasks[plan->kill_tasks[i]].pid);
                if (pf)
                        fclose(pf);
                f.killed_pids = pids;
        }
        sv_trigger_describe(trig, why, sizeof(why));
        victim = &s->tasks[plan->victim >= 0 ? plan->victim : plan->kill_tasks[0]];
        facts = (struct hook_facts){
                .event = "before-kill",
                .cgroup = g->dw->path,
                .kill_cgroup = sv_rel(s->groups[plan->kill_group >= 0 ? plan->kill_group
                                                                      : victim->group].path),
                .rule = rule->name, .policy = f.policy, .trigger = tname, .why = why,
                .killed_pids = pids, .victim_pid = victim->pid, .victim_comm = victim->comm,
                .n_processes = plan->n_kill_tasks,
                .memory_max = s->groups[0].memory_max,
                .memory_high = SV_LIMIT_MAX,
        };
        /* The figures a hook reports, as they are before the kill; read only
         * for rules with hooks (the kernel's choice needs no such reads). */
        if (rule->exec_before_kill || rule->exec_after_kill)
                read_hook_figures(g, &facts);
        /* Act first, explain after: the report is for people, the kill is
         * racing the kernel's OOM killer. */
        if (!rule->dry_run) {
                r = killjob_start(g, s, plan, event_ns, &facts);
                if (r < 0) {
                        struct cgsentry_log_fields ef = { .cgroup = f.cgroup, .trigger = tname,
                                                          .rule = rule->name };
                        cgsentry_log(LOG_ERR, &ef, "%s on /%s: could not start the kill of %zu "
                                     "process%s: %s", tname, g->dw->shown, plan->n_kill_tasks,
                                     plan->n_kill_tasks == 1 ? "" : "es", strerror(-r));
                        goto out;
                }
                sv->n_kills++;
        }
        {
                struct cgsentry_kill_entry e = {
                        .time_usec = sv__clock_usec(CLOCK_REALTIME), .cgroup = g->dw->path,
                        .kill_cgroup = (char *)facts.kill_cgroup, .rule = rule->name,
                        .policy = (char *)f.policy, .trigger = (char *)tname, .why = why,
                        .processes = plan->n_kill_tasks, .victim_pid = victim->pid,
                        .dry_run = rule->dry_run,
                };
                memcpy(e.victim_comm, victim->comm, sizeof(e.victim_comm));
                stats_id = cgsentry_stats_kill(&sv->stats, &e);
                if (g->kill && !rule->dry_run) {
                        g->kill->stats_id = stats_id;
                        if (g->kill->first_signal_ns)
                                cgsentry_stats_reaction(&sv->stats, stats_id,
                                                        (g->kill->first_signal_ns - event_ns) /
                                                                1000);
                }
        }
        g->cooldown_until_ms = uv_now(sv->loop) + rule->cooldown_usec / 1000;
        g->killed_gone = false;
        /* The kill's record: fields of its journal entry, or (no journal)
         * a line of the state log, written after the report so that the
         * report is not delayed. */
        if (!rule->dry_run && cgsentry_log_to_journal() &&
            killrecord_build(s, plan, trig, rule->name, f.policy, &rec) == 0)
                f.extra = rec.fields;
        log_plan(&f, text);
        if (!rule->dry_run && !rec.json &&
            killrecord_build(s, plan, trig, rule->name, f.policy, &rec) < 0)
                rec.json = NULL;
        if (rec.json)
                killrecord_remember(sv, rec.json);
        if (!rule->dry_run && sv->opts.on_kill) {
                struct supervisor_kill k = { .trigger = trig, .cgroup = g->dw->path,
                                             .kill_cgroup = g->kill ? g->kill->path : "",
                                             .n_processes = plan->n_kill_tasks, .why = why,
                                             .snapshot = s, .plan = plan };
                sv->opts.on_kill(sv->opts.userdata, &k);
        }
        /* After the kill is under way and reported; never waited for. */
        if (!rule->dry_run && rule->exec_after_kill) {
                facts.event = "after-kill";
                facts.kill_id = stats_id;
                (void)hook_start(sv, rule->exec_after_kill, &facts, rule->hook_timeout_usec,
                                 NULL, NULL);
        }
        textfile_kick(sv->textfile);
        supervisor_notify_status(sv);
        r = 1;
out:
        free(kill_shown);
        killrecord_done(&rec);
        free(pids);
        free(text);
        sv_plan_free(plan);
        sv_snapshot_free(s);
        return r;
}
