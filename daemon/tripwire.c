/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tripwire=: memory.high at a fraction of memory.max gives an event within
 * milliseconds of usage crossing it (the early warning that exists without
 * swap); each event then asks whether the memory reclaim cannot give back
 * has reached the fraction (libsupervise/reclaim.c, docs/tripwire.md).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "parse.h"
#include "supervisor-internal.h"
#include "util.h"

/* The operator's memory.high, kept on the cgroup itself while a tripwire
 * replaces it, so that a daemon restarted after a crash gives back that
 * value rather than the tripwire it finds in memory.high. */
#define ORIG_HIGH_XATTR "trusted.cgsentry.memory_high"

static void limit_text(uint64_t v, char *buf, size_t size)
{
        if (v == SV_LIMIT_MAX)
                snprintf(buf, size, "max");
        else
                snprintf(buf, size, "%" PRIu64, v);
}

void tripwire_restore(struct group *g)
{
        char buf[32];

        limit_text(g->orig_high, buf, sizeof(buf));
        if (sv_cgroup_write(g->dfd, "memory.high", buf) == 0)
                (void)fremovexattr(g->dfd, ORIG_HIGH_XATTR);
}

static void save_orig_high(struct group *g)
{
        char buf[32];

        limit_text(g->orig_high, buf, sizeof(buf));
        /* Best effort: trusted.* xattrs on cgroupfs need CAP_SYS_ADMIN. */
        (void)fsetxattr(g->dfd, ORIG_HIGH_XATTR, buf, strlen(buf), 0);
}

static void read_orig_high(struct group *g)
{
        char buf[32];
        ssize_t n = fgetxattr(g->dfd, ORIG_HIGH_XATTR, buf, sizeof(buf) - 1);
        uint64_t v;

        if (n > 0 && sv_parse_limit(buf, (size_t)n, &v) == 0)
                g->orig_high = v;
}

/*
 * Tripwire=: memory.high at a fraction of memory.max. Re-run whenever
 * memory.max is written (the directory watch sees the write's IN_MODIFY),
 * because managers such as systemd create the cgroup first and set its
 * limits after, and operators change limits at run time.
 */
void tripwire_arm(struct group *g)
{
        struct cgsentry_log_fields f = { .cgroup = g->dw->shown };
        uint64_t max, high, cur;
        char buf[32];
        int r;

        if (sv__read_value_at(g->dfd, "memory.max", sv_parse_limit, &max) < 0)
                return;
        /*
         * memory.high changed under us: systemd writes every memory.* limit
         * of a unit again (MemoryHigh=, "max" by default) whenever it
         * re-applies the unit's cgroup settings (daemon-reload,
         * set-property), and an operator may write it too. That value is
         * the operator's from now on; the tripwire goes back on top of it.
         */
        if (g->high_set && sv__read_value_at(g->dfd, "memory.high", sv_parse_limit, &cur) == 0 &&
            cur != g->armed_high) {
                g->orig_high = cur;
                save_orig_high(g);
        } else if (max == g->armed_max) {
                return;
        }
        if (!g->high_set) {
                if (sv__read_value_at(g->dfd, "memory.high", sv_parse_limit, &g->orig_high) < 0)
                        return;
                read_orig_high(g); /* a previous daemon's record wins */
        }
        g->armed_max = max;
        if (max == SV_LIMIT_MAX) {
                /* No limit (yet): nothing to be a fraction of. */
                if (g->high_set) {
                        tripwire_restore(g);
                        g->high_set = false;
                }
                cgsentry_log(LOG_DEBUG, &f, "/%s: no memory.max, tripwire waits for one",
                             g->dw->shown);
                return;
        }
        high = max / 10000 * g->rule->tripwire_permyriad +
               max % 10000 * g->rule->tripwire_permyriad / 10000;
        /* The kernel keeps limits in pages; so do we, so that re-arming can
         * tell an unchanged memory.high from one somebody else wrote. */
        high -= high % (uint64_t)sysconf(_SC_PAGESIZE);
        if (g->orig_high != SV_LIMIT_MAX && g->orig_high <= high)
                high = g->orig_high; /* an operator's lower memory.high stays */
        if (!g->high_set)
                save_orig_high(g);
        g->armed_high = high;
        if (sv__read_value_at(g->dfd, "memory.high", sv_parse_limit, &cur) == 0 && cur == high) {
                g->high_set = true;
                return;
        }
        snprintf(buf, sizeof(buf), "%" PRIu64, high);
        r = sv_cgroup_write(g->dfd, "memory.high", buf);
        if (r < 0) {
                cgsentry_log(LOG_WARNING, &f, "/%s: cannot set memory.high: %s", g->dw->shown,
                             strerror(-r));
                return;
        }
        g->high_set = true;
        cgsentry_log(LOG_INFO, &f, "/%s: tripwire armed at memory.high=%" PRIu64
                     " (%u.%02u%% of memory.max=%" PRIu64 ")", g->dw->shown, high,
                     g->rule->tripwire_permyriad / 100, g->rule->tripwire_permyriad % 100, max);
}

/*
 * A "high" event only says that usage went above memory.high and the
 * kernel started reclaiming (reclaim_high()). Whether the group is in
 * danger depends on what that reclaim cannot take back: see reclaim.c.
 * Returns 1 when the tripwire fires (with the figures in @t), 0 when the
 * memory above memory.high is reclaimable, -errno when the group could not
 * be read (it is going away).
 */
int tripwire_assess(struct group *g, struct sv_trigger *t)
{
        struct supervisor *sv = g->sv;
        struct sv_memory_stat st;
        uint64_t usage = 0, headroom = 0;
        char buf[8192];
        ssize_t n;
        int r;

        n = sv__read_fd(g->stat_fd, buf, sizeof(buf));
        if (n < 0)
                return (int)n;
        r = sv_parse_memory_stat(buf, (size_t)n, &st);
        if (r < 0)
                return r;
        n = sv__read_at(g->dfd, "memory.current", buf, sizeof(buf));
        if (n >= 0)
                (void)sv_parse_u64(buf, (size_t)n, &usage);
        r = sv_swap_headroom_read(sv->root_fd, sv->proc_fd, g->dw->path, &headroom);
        if (r < 0 && !sv__is_gone(r))
                headroom = 0; /* unknown: count swap-backed memory as stuck */
        *t = (struct sv_trigger){ .kind = SV_TRIGGER_TRIPWIRE, .memory_max = g->armed_max,
                                  .permyriad = g->rule->tripwire_permyriad };
        sv_reclaim_estimate(&st, usage, headroom, &t->reclaim);
        return sv_reclaim_over(&t->reclaim, t->memory_max, t->permyriad);
}

void tripwire_event(struct group *g, uint64_t event_ns)
{
        struct cgsentry_log_fields f = { .cgroup = g->dw->shown, .trigger = "tripwire",
                                         .rule = g->rule->name };
        struct sv_trigger t;
        char why[1024];
        int r;

        if (group_cooling_down(g, SV_TRIGGER_TRIPWIRE))
                return;
        r = tripwire_assess(g, &t);
        if (r > 0) {
                (void)group_act(g, &t, event_ns);
                return;
        }
        if (r < 0)
                return; /* the group is going away; the directory event follows */
        /* Reclaim is doing its job: say so once at info level, then only in
         * debug output (a cache-heavy service raises this many times a second). */
        sv_trigger_describe(&t, why, sizeof(why));
        cgsentry_log(g->high_noted ? LOG_DEBUG : LOG_INFO, &f,
                     "/%s is above memory.high but below the tripwire: %s; not killing%s",
                     g->dw->path, why,
                     g->high_noted ? "" : " (further such events are logged at debug level)");
        g->high_noted = true;
}

