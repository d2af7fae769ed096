/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The supervisor's life cycle: start (scan and watch the tree), reload
 * (all or nothing), stop (give every memory.high back), signals, the
 * systemd watchdog and STATUS=. The parts are in watch.c, group.c,
 * tripwire.c and killjob.c (supervisor-internal.h says which does what).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "decide.h"
#include "supervisor-internal.h"
#include "syscalls.h"
#include "util.h"

/* ---- life cycle ------------------------------------------------------------ */

void supervisor_notify_status(struct supervisor *sv)
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
        struct sv_snapshot *s = NULL;
        int flags = MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT;

        if (mlockall(flags) < 0 && (errno != EINVAL || mlockall(flags & ~MCL_ONFAULT) < 0)) {
                cgsentry_log(LOG_WARNING, NULL, "mlockall: %m (continuing without)");
                return;
        }
        for (struct dirwatch *w = sv->watches; w; w = w->next) {
                struct sv_trigger t = { .kind = SV_TRIGGER_TRIPWIRE };
                struct sv_kill_rule kr;
                struct sv_plan *p = NULL;

                if (!w->group || sv_snapshot_take(&o, w->path, &s, NULL) < 0)
                        continue;
                if (w->group->stat_fd >= 0)
                        (void)tripwire_assess(w->group, &t);
                if (cgsentry_decide(s, &t, w->group->rule, sv->self, NULL, 0, &p, NULL, 0) == 0) {
                        cgsentry_kill_rule(w->group->rule, sv->self, &kr);
                        free(sv_plan_text(s, &t, &kr, p, true));
                }
                sv_plan_free(p);
                sv_snapshot_free(s);
                break;
        }
}

int supervisor_new(uv_loop_t *loop, const struct supervisor_opts *opts,
                   struct cgsentry_config *cfg, struct supervisor **ret)
{
        struct supervisor *sv = calloc(1, sizeof(*sv));
        int r;

        if (!sv)
                return -ENOMEM;
        sv->loop = loop;
        sv->opts = *opts;
        sv->ops = opts->kill_ops ? *opts->kill_ops : supervisor_default_kill_ops;
        if (!opts->kill_ops)
                sv->ops.userdata = NULL;
        sv->cfg = cfg;
        sv->self = getpid();
        sv->started_usec = sv->config_loaded_usec = sv__clock_usec(CLOCK_REALTIME);
        sv->started_ns = uv_hrtime();
        sv->root_fd = open(cfg->cgroup_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        sv->proc_fd = open(cfg->proc_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        sv->self_proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (sv->root_fd < 0 || sv->proc_fd < 0 || sv->self_proc_fd < 0) {
                r = -errno;
                if (sv->root_fd >= 0)
                        close(sv->root_fd);
                if (sv->proc_fd >= 0)
                        close(sv->proc_fd);
                if (sv->self_proc_fd >= 0)
                        close(sv->self_proc_fd);
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
        /* cgsentry run's host answers for itself: no socket, no textfile. */
        if (!sv->opts.embedded && !sv->cfg->control_socket_off)
                (void)control_start(sv, sv->cfg->control_socket ?: CGSENTRY_CONTROL_SOCKET_DEFAULT,
                                    &sv->control);
        if (!sv->opts.embedded && sv->cfg->metrics_textfile)
                (void)textfile_start(sv, &sv->textfile);
        if (sv->opts.lock_memory)
                lock_memory(sv);
        if (!sv->opts.embedded)
                sd_notify(0, "READY=1");
        supervisor_notify_status(sv);
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
                sv->stats.reload_failures++;
                if (errs)
                        cgsentry_log_lines(LOG_ERR, &lf, errs);
                cgsentry_log(LOG_ERR, &lf, "reload of %s failed; keeping the previous "
                                           "configuration", sv->opts.config_path);
        } else if (strcmp(cfg->cgroup_root, sv->cfg->cgroup_root) != 0 ||
                   strcmp(cfg->proc_root, sv->cfg->proc_root) != 0) {
                cgsentry_log(LOG_ERR, NULL, "CgroupRoot= and ProcRoot= cannot change on reload; "
                                            "keeping the previous configuration");
                cgsentry_config_free(cfg);
                sv->stats.reload_failures++;
                r = -EINVAL;
        } else {
                const char *sock = cfg->control_socket_off ? NULL
                                   : cfg->control_socket ?: CGSENTRY_CONTROL_SOCKET_DEFAULT;
                const char *old = sv->cfg->control_socket_off ? NULL
                                  : sv->cfg->control_socket ?: CGSENTRY_CONTROL_SOCKET_DEFAULT;
                /* The socket stays where clients know it; ControlGroup= (who
                 * may ask) changes at once. */
                if (!sv->opts.embedded && (!sock != !old || (sock && strcmp(sock, old) != 0)))
                        cgsentry_log(LOG_WARNING, NULL, "ControlSocket= changes on restart, not "
                                                        "on reload; still answering on %s",
                                     old ? old : "no socket");
                /* The textfile follows the new MetricsTextfile=/MetricsInterval=. */
                textfile_stop(sv->textfile);
                sv->textfile = NULL;
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
                sv->config_loaded_usec = sv__clock_usec(CLOCK_REALTIME);
                sv->stats.reloads++;
                watch_tree(sv, "");
                if (!sv->opts.embedded && cfg->metrics_textfile)
                        (void)textfile_start(sv, &sv->textfile);
                cgsentry_log(LOG_INFO, &(struct cgsentry_log_fields){ .message_id = CGSENTRY_MID_CONFIG },
                             "reloaded: %zu rules, supervising %zu cgroups", cfg->n_rules,
                             sv->n_groups);
        }
        free(errs);
        sd_notify(0, "READY=1");
        supervisor_notify_status(sv);
        return r;
}

void supervisor_stop(struct supervisor *sv)
{
        if (sv->stopping)
                return;
        sv->stopping = true;
        while (sv->watches)
                watch_remove(sv, sv->watches);
        control_stop(sv->control);
        sv->control = NULL;
        textfile_stop(sv->textfile);
        sv->textfile = NULL;
        hook_stop_all(sv);
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
        close(sv->self_proc_fd);
        sv_policy_registry_free(sv->policies);
        cgsentry_config_free(sv->cfg);
        cgsentry_stats_done(&sv->stats);
        free(sv->hash);
        free(sv);
}

size_t supervisor_n_groups(const struct supervisor *sv)
{
        return sv->n_groups;
}

uint64_t supervisor_n_kills(const struct supervisor *sv)
{
        return sv->n_kills;
}

struct group *supervisor_find_group(struct supervisor *sv, const char *path)
{
        struct dirwatch *w = watch_find(sv, sv_rel(path));
        return w ? w->group : NULL;
}

int supervisor_trigger(struct supervisor *sv, const char *path, const struct sv_trigger *trig)
{
        struct group *g = supervisor_find_group(sv, path);

        if (!g)
                return -ENOENT;
        return group_act(g, trig, uv_hrtime());
}
