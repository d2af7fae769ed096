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

#endif
