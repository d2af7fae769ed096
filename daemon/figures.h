/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What `cgsentry status` and `cgsentry metrics` show, gathered once and
 * rendered twice: the daemon's own figures and, per supervised group, its
 * rule and armed triggers (from memory) and its memory figures (read from
 * the cgroup when asked). The renderers (status.c, metrics.c) are pure, so
 * the unit tests feed them hand-made figures.
 */
#ifndef CGSENTRY_FIGURES_H
#define CGSENTRY_FIGURES_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cgsentry/supervise.h"
#include "stats.h"

struct cgsentry_group_figures {
        /* owned copies: a reload may free the rule while a request runs */
        char *cgroup; /* relative to the cgroup root, raw bytes */
        char *rule, *policy;
        bool dry_run;
        /* what is armed */
        unsigned tripwire_permyriad; /* 0: no Tripwire= */
        bool tripwire_armed;         /* memory.high is ours */
        uint64_t tripwire_high;      /* what it holds then */
        bool pressure;               /* PressureStall= */
        bool pressure_full;
        uint64_t stall_usec, window_usec;
        bool pressure_armed; /* the PSI trigger is registered */
        bool kernel_oom_kill;
        /* NodeMemoryAvailable= (bytes, or permyriad of MemTotal), and
         * NodePressureStall=, with what of them runs */
        uint64_t node_available_bytes;
        unsigned node_available_permyriad;
        bool node_memavailable_armed;
        bool node_pressure, node_pressure_full, node_pressure_armed;
        uint64_t node_stall_usec, node_window_usec;
        bool events_polled; /* no inotify watch left: memory.events is polled */
        uint64_t cooldown_msec; /* left, 0 when none */
        bool cooldown_tripwire_live; /* the killed are gone: the tripwire acts again */
        bool killing;           /* a kill job is running (grace period or confirming) */
        /* read from the group when asked */
        bool memcg;
        uint64_t memory_current, memory_max, memory_high;
        bool have_peak, have_swap;
        uint64_t memory_peak, swap_current, swap_max;
        struct sv_memory_events events;
        bool have_psi;
        struct sv_psi psi;
};

struct cgsentry_daemon_figures {
        const char *version;
        int pid;
        int64_t now_usec, started_usec; /* CLOCK_REALTIME */
        uint64_t uptime_usec;
        const char *config_path;
        int64_t config_loaded_usec; /* CLOCK_REALTIME of the configuration in force */
        size_t n_rules, n_groups, n_watches, n_polling;
        const struct cgsentry_stats *stats;
        /* the process, from /proc/self; 0 when unknown */
        uint64_t rss_bytes, vm_bytes;
        double cpu_seconds;
        unsigned open_fds;
        const char *control_group; /* who may ask besides root, or NULL */
};

void cgsentry_group_figures_done(struct cgsentry_group_figures *g);

/* ---- status.c ----------------------------------------------------------- */

/*
 * The status reply ("schema": "cgsentry-status/1"): the daemon, every group
 * of @groups, and the recent kills (all of them, or only @only_cgroup's
 * when non-NULL). Names are escaped with sv_escape(). -ENOMEM or 0.
 */
int cgsentry_status_json(const struct cgsentry_daemon_figures *d,
                         const struct cgsentry_group_figures *groups, size_t n,
                         const char *only_cgroup, json_object **ret);

/* ---- metrics.c ---------------------------------------------------------- */

/* Prometheus text exposition format 0.0.4 of the same figures. */
int cgsentry_metrics_render(FILE *out, const struct cgsentry_daemon_figures *d,
                            const struct cgsentry_group_figures *groups, size_t n);

#endif
