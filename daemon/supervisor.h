/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The event-driven supervisor: one libuv loop, one inotify watch per
 * cgroup directory of interest (discovery of new groups and the IN_MODIFY of
 * memory.events / memory.events.local, which kernfs reports on the parent
 * directory), one PSI trigger per group that asks for one. No timers while
 * idle: timers exist only for cooldowns, grace periods, confirming a kill
 * and the systemd watchdog.
 */
#ifndef CGSENTRY_SUPERVISOR_H
#define CGSENTRY_SUPERVISOR_H

#include <uv.h>

#include "cgsentry/supervise.h"
#include "config.h"

struct supervisor;

/* A kill the supervisor is starting, for its host (cgsentry run). Valid
 * during the on_kill() call only. */
struct supervisor_kill {
        const struct sv_trigger *trigger; /* what fired, with its figures */
        const char *cgroup;               /* the supervised group (relative) */
        const char *kill_cgroup;          /* the group being emptied (relative) */
        size_t n_processes;
        const char *why;                  /* sv_trigger_describe() */
        const struct sv_snapshot *snapshot;
        const struct sv_plan *plan;
};

/*
 * Everything that signals a process or writes a kill file goes through
 * these, so that tests run the whole kill job with the calls recorded, not
 * made. Each returns what the libsupervise call it stands for returns.
 */
struct supervisor_kill_ops {
        int (*cgroup_kill)(void *userdata, int root_fd, const char *path);
        int (*freeze)(void *userdata, int root_fd, const char *path, bool freeze);
        /* a pidfd for @pid if it is still the task that started at
         * @starttime, read through @proc_fd (always the real /proc) */
        int (*pidfd_open)(void *userdata, int proc_fd, int pid, uint64_t starttime);
        int (*pidfd_signal)(void *userdata, int pidfd, int sig);
        /* one process_mrelease() attempt: 0, -EINVAL (not dying yet), ... */
        int (*mrelease)(void *userdata, int pidfd);
        /* 1 while the process behind @pidfd runs, 0 once it exited */
        int (*alive)(void *userdata, int pidfd);
        /* cgroup.events populated: 1, 0, or -errno (-ENOENT: gone) */
        int (*populated)(void *userdata, int root_fd, const char *path);
        void *userdata;
};

struct supervisor_opts {
        const char *config_path;
        bool lock_memory; /* mlockall() after start-up */
        /* Embedded in another program (cgsentry run): no signal handlers, no
         * sd_notify; the host program owns both. */
        bool embedded;
        /* Called when a kill starts (not in dry runs). */
        void (*on_kill)(void *userdata, const struct supervisor_kill *k);
        void *userdata;
        /* NULL: the real ones. */
        const struct supervisor_kill_ops *kill_ops;
        /* Remember kills in StateDirectory= when not logging to the journal
         * (cgsentryd; not cgsentry run). */
        bool state_log;
};

/* Takes ownership of @cfg. */
int supervisor_new(uv_loop_t *loop, const struct supervisor_opts *opts,
                   struct cgsentry_config *cfg, struct supervisor **ret);
/* Scan the tree, watch what the rules match; then the loop runs it. */
int supervisor_start(struct supervisor *sv);
/* Re-read the configuration; on any error the old one stays in force. */
int supervisor_reload(struct supervisor *sv);
/* Release every watch and fd, restore the memory.high values we set. */
void supervisor_stop(struct supervisor *sv);
void supervisor_free(struct supervisor *sv);
size_t supervisor_n_groups(const struct supervisor *sv);
/* Kills started since start-up (dry runs and failed set-ups not counted). */
uint64_t supervisor_n_kills(const struct supervisor *sv);

/*
 * supervisor_trigger() - act on the supervised group @path (relative to the
 * cgroup root) as if @trig had fired now: the same decision and kill job as
 * a real event (cooldown included). 1 when a kill started (or was logged in
 * a dry run), 0 when nothing was done, -ENOENT when @path is not supervised,
 * other -errno when the kill could not be set up.
 */
int supervisor_trigger(struct supervisor *sv, const char *path, const struct sv_trigger *trig);

#endif
