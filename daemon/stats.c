/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdlib.h>
#include <string.h>

#include "stats.h"

const double cgsentry_reaction_bounds[CGSENTRY_REACTION_BUCKETS] = {
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};

const char *cgsentry_kill_outcome_name(enum cgsentry_kill_outcome o)
{
        switch (o) {
        case CGSENTRY_KILL_PENDING:
                return "pending";
        case CGSENTRY_KILL_EMPTIED:
                return "emptied";
        case CGSENTRY_KILL_STUCK:
                return "stuck";
        case CGSENTRY_KILL_DRY_RUN:
                return "dry-run";
        }
        return "unknown";
}

static bool same(const char *a, const char *b)
{
        return strcmp(a ? a : "", b ? b : "") == 0;
}

static struct cgsentry_kill_counter *counter(struct cgsentry_stats *st, const char *trigger,
                                             const char *rule, const char *policy, bool dry_run)
{
        struct cgsentry_kill_counter *c;

        for (size_t i = 0; i < st->n_counters; i++) {
                c = &st->counters[i];
                if (c->dry_run == dry_run && same(c->trigger, trigger) && same(c->rule, rule) &&
                    same(c->policy, policy))
                        return c;
        }
        c = realloc(st->counters, (st->n_counters + 1) * sizeof(*c));
        if (!c)
                return NULL;
        st->counters = c;
        c = &c[st->n_counters];
        *c = (struct cgsentry_kill_counter){ .trigger = strdup(trigger ? trigger : ""),
                                             .rule = strdup(rule ? rule : ""),
                                             .policy = strdup(policy ? policy : ""),
                                             .dry_run = dry_run };
        if (!c->trigger || !c->rule || !c->policy) {
                free(c->trigger);
                free(c->rule);
                free(c->policy);
                return NULL;
        }
        st->n_counters++;
        return c;
}

static void entry_done(struct cgsentry_kill_entry *e)
{
        free(e->cgroup);
        free(e->kill_cgroup);
        free(e->rule);
        free(e->policy);
        free(e->trigger);
        free(e->why);
        memset(e, 0, sizeof(*e));
}

static char *dup0(const char *s)
{
        return strdup(s ? s : "");
}

uint64_t cgsentry_stats_kill(struct cgsentry_stats *st, const struct cgsentry_kill_entry *e)
{
        struct cgsentry_kill_counter *c = counter(st, e->trigger, e->rule, e->policy, e->dry_run);
        struct cgsentry_kill_entry n = *e, *slot;

        if (!c)
                return 0;
        c->kills++;
        c->processes += e->processes;

        n.id = st->next_id + 1;
        n.outcome = e->dry_run ? CGSENTRY_KILL_DRY_RUN : CGSENTRY_KILL_PENDING;
        n.reaction_usec = -1;
        n.emptied_msec = -1;
        n.cgroup = dup0(e->cgroup);
        n.kill_cgroup = dup0(e->kill_cgroup);
        n.rule = dup0(e->rule);
        n.policy = dup0(e->policy);
        n.trigger = dup0(e->trigger);
        n.why = dup0(e->why);
        if (!n.cgroup || !n.kill_cgroup || !n.rule || !n.policy || !n.trigger || !n.why) {
                entry_done(&n);
                return 0;
        }
        st->next_id = n.id;
        slot = &st->recent[(n.id - 1) % CGSENTRY_RECENT_KILLS];
        entry_done(slot);
        *slot = n;
        if (st->n_recent < CGSENTRY_RECENT_KILLS)
                st->n_recent++;
        return n.id;
}

struct cgsentry_kill_entry *cgsentry_stats_find(struct cgsentry_stats *st, uint64_t id)
{
        struct cgsentry_kill_entry *e;

        if (id == 0)
                return NULL;
        e = &st->recent[(id - 1) % CGSENTRY_RECENT_KILLS];
        return e->id == id ? e : NULL;
}

void cgsentry_stats_reaction(struct cgsentry_stats *st, uint64_t id, uint64_t usec)
{
        struct cgsentry_kill_entry *e = cgsentry_stats_find(st, id);
        double sec = (double)usec / 1e6;
        size_t b = 0;

        if (e) {
                if (e->reaction_usec >= 0)
                        return; /* the first signal only */
                e->reaction_usec = (int64_t)usec;
        }
        while (b < CGSENTRY_REACTION_BUCKETS && sec > cgsentry_reaction_bounds[b])
                b++;
        st->reaction_buckets[b]++;
        st->reaction_count++;
        st->reaction_sum += sec;
}

void cgsentry_stats_outcome(struct cgsentry_stats *st, uint64_t id, bool emptied, uint64_t msec)
{
        struct cgsentry_kill_entry *e = cgsentry_stats_find(st, id);

        if (!e)
                return;
        e->outcome = emptied ? CGSENTRY_KILL_EMPTIED : CGSENTRY_KILL_STUCK;
        e->emptied_msec = emptied ? (int64_t)msec : -1;
}

const struct cgsentry_kill_entry *cgsentry_stats_recent(const struct cgsentry_stats *st, size_t i)
{
        uint64_t first = st->next_id - st->n_recent + 1;

        if (i >= st->n_recent)
                return NULL;
        return &st->recent[(first + i - 1) % CGSENTRY_RECENT_KILLS];
}

const struct cgsentry_kill_entry *cgsentry_stats_last_of(const struct cgsentry_stats *st,
                                                         const char *cgroup)
{
        for (size_t i = st->n_recent; i-- > 0;) {
                const struct cgsentry_kill_entry *e = cgsentry_stats_recent(st, i);
                if (strcmp(e->cgroup, cgroup) == 0)
                        return e;
        }
        return NULL;
}

void cgsentry_stats_done(struct cgsentry_stats *st)
{
        for (size_t i = 0; i < st->n_counters; i++) {
                free(st->counters[i].trigger);
                free(st->counters[i].rule);
                free(st->counters[i].policy);
        }
        free(st->counters);
        for (size_t i = 0; i < CGSENTRY_RECENT_KILLS; i++)
                entry_done(&st->recent[i]);
        memset(st, 0, sizeof(*st));
}
