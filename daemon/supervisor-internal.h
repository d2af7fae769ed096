/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The supervisor's parts, shared by its files (not by its users):
 *   supervisor.c  life cycle: start, reload, stop, signals, watchdog, status
 *   watch.c       directory watches and discovery of groups
 *   group.c       a supervised group: its fds and event sources
 *   tripwire.c    memory.high as an early warning, and the danger check
 *   killjob.c     decide (decide.c) and carry out a kill through kill ops
 *   hook.c        ExecBeforeKill=/ExecAfterKill=
 *   collect.c     gather status and metrics figures without blocking the loop
 *   control.c     the control socket (cgsentry status, cgsentry metrics)
 *   textfile.c    the metrics textfile for node_exporter
 *   figures.c     read one group's figures, and the daemon's
 *   node.c        node pressure: MemAvailable and the node's PSI
 */
#ifndef CGSENTRY_SUPERVISOR_INTERNAL_H
#define CGSENTRY_SUPERVISOR_INTERNAL_H

#include <sys/types.h>
#include <uv.h>

#include "cgsentry/supervise.h"
#include "log.h"
#include "figures.h"
#include "policy-host.h"
#include "stats.h"
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
        uint64_t trigger_ns;      /* the event, for the reaction time */
        uint64_t first_signal_ns; /* 0 until the first signal went out */
        uint64_t stats_id;      /* its entry in supervisor.stats */
        /* ExecBeforeKill= runs first; SIGTERM when it is done (or at half the
         * grace period), SIGKILL at the end of the grace period regardless. */
        bool term_pending;
        uint64_t hook_id;
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
        bool killed_gone; /* every process of the last kill has exited */
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
        size_t n_polling;     /* groups whose memory.events is polled */
        struct cgsentry_stats stats;
        int64_t started_usec;       /* CLOCK_REALTIME */
        uint64_t started_ns;        /* uv_hrtime() */
        int64_t config_loaded_usec; /* CLOCK_REALTIME of the configuration in force */
        struct control *control;    /* NULL: no control socket */
        struct textfile *textfile;  /* NULL: no MetricsTextfile= */
        struct hook *hooks;         /* running hooks */
        size_t n_hooks;
        uint64_t next_hook_id;
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
bool group_cooling_down(struct group *g, enum sv_trigger_kind kind);
int group_act(struct group *g, const struct sv_trigger *trig, uint64_t event_ns);
void killjob_close(struct group *g);
/* Send the SIGKILL of a pending grace period now, then drop the job. */
void killjob_finish_now(struct group *g);
extern const struct supervisor_kill_ops supervisor_default_kill_ops;

/* figures.c */
int figures_read_group(struct group *g, struct cgsentry_group_figures *out);
void figures_read_daemon(struct supervisor *sv, struct cgsentry_daemon_figures *d);

/* collect.c: the figures of every supervised group (or one), read a few
 * groups per loop iteration so that a request never holds up an event;
 * @done gets them (and owns nothing: they are freed after it returns).
 * @only: a group path (raw or escaped, leading '/' optional), or NULL. */
struct collect;
typedef void (*collect_done_fn)(void *userdata, int error,
                                const struct cgsentry_daemon_figures *d,
                                const struct cgsentry_group_figures *groups, size_t n);
int collect_start(struct supervisor *sv, const char *only, collect_done_fn done, void *userdata,
                  struct collect **ret);
/* Stop without calling @done. */
void collect_cancel(struct collect *c);

/* control.c */
struct control;
int control_start(struct supervisor *sv, const char *path, struct control **ret);
/* May a peer with these credentials ask? (root, @self, or ControlGroup=) */
bool control_peer_allowed(uid_t uid, gid_t gid, const gid_t *groups, size_t n_groups,
                          const char *control_group, gid_t control_gid, uid_t self);
void control_stop(struct control *c);

/* textfile.c: MetricsTextfile=; kicked after every kill, and every
 * MetricsInterval= when set. */
struct textfile;
int textfile_start(struct supervisor *sv, struct textfile **ret);
void textfile_kick(struct textfile *t);
void textfile_stop(struct textfile *t);

/* hook.c: start @argv (ExecBeforeKill= or ExecAfterKill=) for kill @k with
 * the kill's facts in its environment; never waits. Returns the hook's id
 * (> 0), or 0 when it was refused or could not start (logged). @on_exit,
 * if set, runs when the hook exits or is killed at its deadline. */
struct hook_facts {
        const char *event; /* "before-kill", "after-kill" */
        const char *cgroup, *kill_cgroup, *rule, *policy, *trigger, *why;
        const char *killed_pids; /* "1 2 3" */
        int victim_pid;
        const char *victim_comm;
        size_t n_processes;
        uint64_t memory_current, memory_max, memory_high, swap_current;
        uint64_t kill_id;
};
typedef void (*hook_exit_fn)(struct supervisor *sv, uint64_t hook_id, void *userdata);
uint64_t hook_start(struct supervisor *sv, char *const *argv, const struct hook_facts *facts,
                    uint64_t timeout_usec, hook_exit_fn on_exit, void *userdata);
/* Forget @id's on_exit callback (its kill job is gone). */
void hook_forget(struct supervisor *sv, uint64_t id);
/* Kill every running hook (daemon stopping). */
void hook_stop_all(struct supervisor *sv);
/* The environment of a hook ("KEY=value" strings, NULL-terminated, owned). */
char **hook_environment(const struct hook_facts *f);

/* node.c */
void node_arm(struct group *g);
/* What of the rule's node watch is running: the MemAvailable timer, the
 * node's PSI trigger. */
void node_armed(const struct group *g, bool *memavailable, bool *psi);
void node_disarm(struct group *g);

/* killrecord.c: append a kill's record to the state log when the journal
 * does not keep it; never fails the kill, says once when it cannot. */
void killrecord_remember(struct supervisor *sv, const char *json);

#endif
