/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The supervisor's parts, shared by its files (not by its users):
 *   supervisor.c  life cycle: start, reload, stop, signals, watchdog, status
 *   watch.c       directory watches and discovery of groups
 *   group.c       a supervised group: its fds and event sources
 *   tripwire.c    memory.high as an early warning, and the danger check
 *   killjob.c     decide (decide.c) and carry out a kill through kill ops
 *   node.c        node pressure: MemAvailable and the node's PSI
 */
#ifndef CGSENTRY_SUPERVISOR_INTERNAL_H
#define CGSENTRY_SUPERVISOR_INTERNAL_H

#include <sys/types.h>
#include <uv.h>

#include "cgsentry/supervise.h"
#include "log.h"
#include "policy-host.h"
#include "supervisor.h"

struct group;

/* One watched cgroup directory: discovery of children, and for supervised
 * groups the memory.events changes kernfs reports on the directory. */
struct dirwatch {
        struct supervisor *sv;
        uv_fs_event_t ev;
        char *path;  /* relative to the cgroup root, "" for the root */
        char *shown; /* path escaped (sv_escape()), for every message */
        struct group *group;
        struct dirwatch *next, *prev;
        struct dirwatch *hnext; /* in supervisor.hash, by path */
        ino_t ino;              /* of the directory watched: a re-created cgroup has another */
        bool no_inotify;        /* watch limit reached: the group polls memory.events */
};

/* A kill in progress (at most one per group). */
struct killjob {
        char *path;             /* cgroup being emptied, relative */
        char *shown;            /* the same, escaped for messages */
        int *pidfds;            /* one per process of the plan, -1 when it could not be pinned */
        bool *mrelease_pending; /* SIGKILL sent, memory not returned yet */
        size_t n_pidfds;
        bool use_cgroup_kill;
        bool grace_pending;     /* SIGTERM sent, SIGKILL not yet */
        unsigned confirm_left;
        uint64_t started_ms;
        uint64_t event_ns;      /* when the triggering event was read, for latency */
};

struct group {
        struct supervisor *sv;
        struct dirwatch *dw;
        const struct cgsentry_rule *rule;
        int dfd, events_fd, events_local_fd;
        int stat_fd; /* memory.stat, for Tripwire= only */
        struct sv_memory_events last, last_local;
        int psi_fd;
        uv_poll_t *psi;                      /* allocated only for PressureStall= */
        uv_timer_t timer;                    /* grace period, then confirming the kill */
        uv_poll_t *events_poll, *local_poll; /* only without inotify (ENOSPC) */
        int open_handles;                    /* libuv handles not yet closed; the last one frees g */
        /* Tripwire= */
        bool high_set;
        bool high_noted;    /* said once that a high event was below the tripwire */
        bool nothing_noted; /* said once that nothing in it may be killed */
        uint64_t orig_high;
        uint64_t armed_max;  /* memory.max the tripwire was computed from */
        uint64_t armed_high; /* what memory.high holds while we own it */
        uint64_t cooldown_until_ms;
        struct killjob *kill;
        struct sv_policy_instance *policy; /* Policy= other than the kernel's choice */
        struct nodewatch *node;             /* NodeMemoryAvailable=, NodePressureStall= */
};

struct supervisor {
        uv_loop_t *loop;
        struct supervisor_opts opts;
        struct supervisor_kill_ops ops;
        struct cgsentry_config *cfg;
        int root_fd;
        int proc_fd;      /* ProcRoot=: what snapshots read */
        int self_proc_fd; /* always this pid namespace's /proc: pid identity checks */
        pid_t self;
        struct dirwatch *watches;
        size_t n_groups, n_watches;
        /* Watches by path: discovery looks one up for every directory it
         * sees, which a list made quadratic with thousands of groups. */
        struct dirwatch **hash;
        size_t hash_size;      /* a power of two */
        size_t last_status[3]; /* what STATUS= said last: groups, watches, kills */
        uint64_t n_kills;
        struct sv_policy_registry *policies;
        uv_signal_t sighup, sigterm, sigint;
        uv_timer_t watchdog;
        bool watchdog_on, stopping;
        bool enospc_logged;
        bool statelog_failed; /* said once that the state log cannot be written */
};

static inline const char *sv_rel(const char *path)
{
        while (*path == '/')
                path++;
        return path;
}

/* supervisor.c */
void supervisor_notify_status(struct supervisor *sv);

/* watch.c */
struct dirwatch *watch_find(struct supervisor *sv, const char *path);
void watch_tree(struct supervisor *sv, const char *path);
void watch_remove(struct supervisor *sv, struct dirwatch *w);

/* group.c */
struct group *group_new(struct dirwatch *dw, const struct cgsentry_rule *rule);
void group_close(struct group *g);
void group_check_events(struct group *g, uint64_t event_ns);
struct group *supervisor_find_group(struct supervisor *sv, const char *path);

/* tripwire.c */
void tripwire_arm(struct group *g);
void tripwire_restore(struct group *g);
int tripwire_assess(struct group *g, struct sv_trigger *t);
void tripwire_event(struct group *g, uint64_t event_ns);

/* killjob.c */
bool group_cooling_down(struct group *g);
int group_act(struct group *g, const struct sv_trigger *trig, uint64_t event_ns);
void killjob_close(struct group *g);
/* Send the SIGKILL of a pending grace period now, then drop the job. */
void killjob_finish_now(struct group *g);
extern const struct supervisor_kill_ops supervisor_default_kill_ops;

/* node.c */
void node_arm(struct group *g);
void node_disarm(struct group *g);

/* killrecord.c: append a kill's record to the state log when the journal
 * does not keep it; never fails the kill, says once when it cannot. */
void killrecord_remember(struct supervisor *sv, const char *json);

#endif
