/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A supervised group: its directory and memory.events fds (kept open: the
 * kernfs inode must stay alive for kernfs to notify at all), the event
 * sources of its rule (memory.events via the directory watch, or polled
 * when inotify ran out; a PSI trigger), and its policy instance.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "container.h"
#include "parse.h"
#include "supervisor-internal.h"
#include "util.h"

static int read_events(int fd, struct sv_memory_events *ret)
{
        char buf[512];
        ssize_t n = sv__read_fd(fd, buf, sizeof(buf));

        if (n < 0)
                return (int)n;
        return sv_parse_memory_events(buf, (size_t)n, ret);
}

void group_check_events(struct group *g, uint64_t event_ns)
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
                (void)group_act(g, &t, event_ns);
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

                if (group_cooling_down(g, SV_TRIGGER_PRESSURE))
                        return;
                /* The averages for the message; the trigger itself decided. */
                n = sv__read_at(g->dfd, "memory.pressure", buf, sizeof(buf));
                if (n >= 0)
                        (void)sv_parse_psi(buf, (size_t)n, &t.psi);
                (void)group_act(g, &t, now);
        }
}

static void setup_pressure(struct group *g)
{
        const struct cgsentry_pressure *p = &g->rule->pressure;
        struct cgsentry_log_fields f = { .cgroup = g->dw->shown };
        char trig[64];
        int n;

        g->psi_fd = openat(g->dfd, "memory.pressure", O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (g->psi_fd < 0) {
                /* Without PSI the kernel shows no pressure files at all. */
                cgsentry_log(LOG_WARNING, &f, "/%s: PressureStall= unavailable: %m%s", g->dw->shown,
                             errno == ENOENT || errno == EOPNOTSUPP
                                     ? " (is PSI off? psi=0 on the kernel command line, or a "
                                       "kernel without CONFIG_PSI); the rule's other triggers "
                                       "still work"
                                     : "");
                return;
        }
        /* psi.rst: the trigger string is written with its terminating NUL. */
        n = snprintf(trig, sizeof(trig), "%s %" PRIu64 " %" PRIu64, p->full ? "full" : "some",
                     p->stall_usec, p->window_usec);
        if (write(g->psi_fd, trig, (size_t)n + 1) < 0) {
                cgsentry_log(LOG_WARNING, &f, "/%s: cannot arm PSI trigger \"%s\": %m",
                             g->dw->shown, trig);
                close(g->psi_fd);
                g->psi_fd = -1;
                return;
        }
        g->psi = start_poll(g, g->psi_fd, psi_cb);
        if (!g->psi) {
                cgsentry_log(LOG_WARNING, &f, "/%s: cannot poll the PSI trigger", g->dw->shown);
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

struct group *group_new(struct dirwatch *dw, const struct cgsentry_rule *rule)
{
        struct supervisor *sv = dw->sv;
        struct cgsentry_log_fields f = { .cgroup = dw->shown, .message_id = CGSENTRY_MID_SUPERVISE };
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
        g->events_fd = sv__open_regular(g->dfd, "memory.events");
        if (g->events_fd < 0) {
                errno = -g->events_fd;
                if (errno == EMFILE || errno == ENFILE)
                        goto fail_fd;
                if (errno == ENOENT)
                        cgsentry_log(LOG_WARNING, &f,
                                     "/%s matches rule %s but has no memory controller "
                                     "(enable +memory in its parent's cgroup.subtree_control)",
                                     dw->shown, rule->name);
                goto fail;
        }
        g->events_local_fd = sv__open_regular(g->dfd, "memory.events.local");
        if (g->events_local_fd < 0)
                g->events_local_fd = -1;
        /* Kept open: read on every high event, when time counts. Opened with
         * the other fds, before any libuv handle exists that a failure here
         * would have to close. */
        if (rule->tripwire_permyriad) {
                g->stat_fd = sv__open_regular(g->dfd, "memory.stat");
                if (g->stat_fd < 0) {
                        errno = -g->stat_fd;
                        if (errno == EMFILE || errno == ENFILE)
                                goto fail_fd;
                        goto fail;
                }
        }
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
                sv->n_polling += g->events_poll != NULL;
                if (g->events_local_fd >= 0)
                        g->local_poll = start_poll(g, g->events_local_fd, events_poll_cb);
        }
        if (rule->tripwire_permyriad)
                tripwire_arm(g);
        if (rule->pressure.enabled)
                setup_pressure(g);
        node_arm(g);
        sv->n_groups++;
        {
                struct sv_policy_info pi = { .name = SV_POLICY_DEFAULT, .version = "builtin" };
                struct sv_container_path c;
                char who[160] = "";
                if (g->policy)
                        sv_policy_get_info(sv_policy_instance_policy(g->policy), &pi);
                /* Operators look for containers and pods by id, not by path. */
                if (sv_container_parse(dw->path, &c) == 0 && (c.container_id[0] || c.pod_uid[0]))
                        snprintf(who, sizeof(who), "%s%.12s%s%s%s%s%s", c.container_id[0] ? ", container " : "",
                                 c.container_id, c.pod_uid[0] ? c.container_id[0] ? " of pod " : ", pod " : "",
                                 c.pod_uid, c.pod_uid[0] ? " (" : "", sv_pod_qos_name(c.qos),
                                 c.pod_uid[0] ? ")" : "");
                cgsentry_log(LOG_INFO, &f, "supervising /%s (rule %s, policy %s %s%s%s%s%s%s%s%s%s%s)",
                             dw->shown, rule->name, pi.name, pi.version,
                             pi.path ? " from " : "", pi.path ? pi.path : "",
                             g->high_set ? ", tripwire" : "", g->psi_fd >= 0 ? ", pressure" : "",
                             rule->on_kernel_oom_kill ? ", kernel-oom-kill" : "",
                             g->node ? ", node pressure" : "",
                             rule->oom_group ? ", whole group" : "",
                             rule->dry_run ? ", dry run" : "", who);
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

void group_close(struct group *g)
{
        struct supervisor *sv = g->sv;

        /* The decision stands when its group's watch is rebuilt (reload) or
         * the daemon stops: the SIGKILL of a grace period is sent now
         * rather than never. */
        killjob_finish_now(g);

        /* Give the operator's memory.high back, unless the group is gone. */
        if (g->high_set)
                tripwire_restore(g);
        sv_policy_instance_free(g->policy);
        g->policy = NULL;
        sv->n_polling -= g->events_poll != NULL;
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
        node_disarm(g);
        uv_close((uv_handle_t *)&g->timer, group_handle_closed);
}

