/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What cgsentryd has done since it started, for `cgsentry status` and the
 * metrics: kills by trigger, rule and policy, a histogram of reaction
 * times, and the last kills with their outcome. Pure bookkeeping (no I/O,
 * no clock): the caller passes the times. Survives reloads: counters are
 * keyed by name, not by rule pointer.
 */
#ifndef CGSENTRY_STATS_H
#define CGSENTRY_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Upper bounds of the reaction histogram, in seconds (a +Inf bucket
 * follows): from the sub-millisecond kills an inotify event allows to the
 * seconds a grace period or a slow snapshot takes. */
#define CGSENTRY_REACTION_BUCKETS 14
extern const double cgsentry_reaction_bounds[CGSENTRY_REACTION_BUCKETS];

/* The last kills kept for `cgsentry status`. */
#define CGSENTRY_RECENT_KILLS 32

/* One (trigger, rule, policy, dry run) combination. */
struct cgsentry_kill_counter {
        char *trigger, *rule, *policy;
        bool dry_run;
        uint64_t kills;     /* kills started (or logged, in a dry run) */
        uint64_t processes; /* processes they signalled (or would have) */
};

enum cgsentry_kill_outcome {
        CGSENTRY_KILL_PENDING, /* signalled, not confirmed yet */
        CGSENTRY_KILL_EMPTIED, /* the group is empty, or every signalled process gone */
        CGSENTRY_KILL_STUCK,   /* processes left when confirming gave up */
        CGSENTRY_KILL_DRY_RUN, /* logged only */
};
const char *cgsentry_kill_outcome_name(enum cgsentry_kill_outcome o);

/* A kill as `cgsentry status` shows it; the strings are owned. */
struct cgsentry_kill_entry {
        uint64_t id;          /* 1, 2, ... in order; 0 never */
        int64_t time_usec;    /* CLOCK_REALTIME when it was decided */
        char *cgroup;         /* the supervised group, relative, raw */
        char *kill_cgroup;    /* the group emptied, or the victim's group */
        char *rule, *policy, *trigger;
        char *why;            /* sv_trigger_describe() */
        size_t processes;
        int victim_pid;
        char victim_comm[16];
        bool dry_run;
        enum cgsentry_kill_outcome outcome;
        int64_t reaction_usec; /* event to first signal; -1 unknown */
        int64_t emptied_msec;  /* first signal to empty; -1 not yet */
};

struct cgsentry_stats {
        struct cgsentry_kill_counter *counters;
        size_t n_counters;
        uint64_t reaction_buckets[CGSENTRY_REACTION_BUCKETS + 1]; /* not cumulative */
        uint64_t reaction_count;
        double reaction_sum; /* seconds */
        struct cgsentry_kill_entry recent[CGSENTRY_RECENT_KILLS]; /* a ring */
        size_t n_recent;     /* valid entries, at most CGSENTRY_RECENT_KILLS */
        uint64_t next_id;
        uint64_t reloads, reload_failures;
        uint64_t hooks_started, hooks_failed, hooks_timed_out, hooks_refused;
};

/*
 * Count a kill that started (or a dry run) and keep its entry; @e's
 * strings are copied, its id and outcome set. Returns the id (> 0), or 0
 * when out of memory (the kill still happened; it is just not counted).
 */
uint64_t cgsentry_stats_kill(struct cgsentry_stats *st, const struct cgsentry_kill_entry *e);
/* The entry of kill @id if it is still among the recent ones, else NULL. */
struct cgsentry_kill_entry *cgsentry_stats_find(struct cgsentry_stats *st, uint64_t id);
/* The first signal of kill @id went out @usec after the event. */
void cgsentry_stats_reaction(struct cgsentry_stats *st, uint64_t id, uint64_t usec);
/* Kill @id is confirmed (@emptied) or gave up, @msec after its first signal. */
void cgsentry_stats_outcome(struct cgsentry_stats *st, uint64_t id, bool emptied, uint64_t msec);
/* The recent kills, oldest first: i from 0 to n_recent - 1. */
const struct cgsentry_kill_entry *cgsentry_stats_recent(const struct cgsentry_stats *st, size_t i);
/* The newest kill of supervised group @cgroup, or NULL. */
const struct cgsentry_kill_entry *cgsentry_stats_last_of(const struct cgsentry_stats *st,
                                                         const char *cgroup);
void cgsentry_stats_done(struct cgsentry_stats *st);

#endif
