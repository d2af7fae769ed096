/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * growth: the candidate whose memory grew fastest over a window.
 *
 * The host does not poll plugins: it calls choose() with a fresh snapshot
 * whenever it acts (a memory.events or PSI event, or an explain run), and
 * stamps it with view->now_usec. Each call records one sample per candidate,
 * (now_usec, memory), in this policy's state, keyed by cgroup path AND inode
 * (a group deleted and re-created under the same name starts afresh). The
 * rate of a candidate is
 *
 *     (memory now - memory at its oldest sample within the window)
 *     / (now - that sample's time)
 *
 * so it needs at least two calls whose times differ and lie within the
 * window. The highest positive rate wins; ties to the first in pre-order.
 * When no candidate has a positive rate yet (first call, or nothing grew)
 * the fallback ranking decides (largest unless fallback= says otherwise).
 *
 * Options: window=DURATION (default 10s; 500ms, 2m, ... accepted),
 * fallback=largest|swap|pressure|none.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

/* Samples kept per group: enough for an event every ~0.3 s over the default
 * window; when full the oldest goes, which only shortens the window. */
#define GROWTH_SAMPLES 32
#define GROWTH_WINDOW_DEFAULT_USEC (10 * 1000000ull)

struct sample {
        uint64_t t_usec, bytes;
};

struct series {
        char *path;
        uint64_t ino;
        struct sample s[GROWTH_SAMPLES]; /* oldest first */
        unsigned n;
};

struct growth {
        uint64_t window_usec;
        bool fallback_none;
        enum policy_rank fallback;
        struct series *series;
        size_t n_series;
};

static int growth_init(const char *options, void **ret_state, char *err, size_t err_size)
{
        struct growth *g = calloc(1, sizeof(*g));
        const char *cur = options;
        char key[32], value[64];
        int r;

        if (!g)
                return -ENOMEM;
        g->window_usec = GROWTH_WINDOW_DEFAULT_USEC;
        g->fallback = POLICY_RANK_LARGEST;
        while ((r = cgsentry_options_next(&cur, key, sizeof(key), value, sizeof(value))) > 0) {
                if (strcmp(key, "window") == 0) {
                        if (cgsentry_parse_duration_usec(value, &g->window_usec) < 0 ||
                            g->window_usec == 0) {
                                snprintf(err, err_size, "window=%s: not a positive duration",
                                         value);
                                r = -EINVAL;
                                break;
                        }
                } else if (strcmp(key, "fallback") == 0) {
                        if (strcmp(value, "none") == 0) {
                                g->fallback_none = true;
                        } else if (policy_rank_from_string(value, &g->fallback) < 0) {
                                snprintf(err, err_size,
                                         "fallback=%s: expected largest, swap, pressure or none",
                                         value);
                                r = -EINVAL;
                                break;
                        }
                } else {
                        snprintf(err, err_size, "unknown option '%s' (known: window, fallback)",
                                 key);
                        r = -EINVAL;
                        break;
                }
        }
        if (r < 0) {
                if (r != -EINVAL || !err[0])
                        snprintf(err, err_size, "cannot parse options '%s'", options);
                free(g);
                return -EINVAL;
        }
        *ret_state = g;
        return 0;
}

static void growth_destroy(void *state)
{
        struct growth *g = state;

        if (!g)
                return;
        for (size_t i = 0; i < g->n_series; i++)
                free(g->series[i].path);
        free(g->series);
        free(g);
}

static struct series *series_get(struct growth *g, const char *path, uint64_t ino)
{
        struct series *s;

        for (size_t i = 0; i < g->n_series; i++)
                if (g->series[i].ino == ino && strcmp(g->series[i].path, path) == 0)
                        return &g->series[i];
        s = realloc(g->series, (g->n_series + 1) * sizeof(*s));
        if (!s)
                return NULL;
        g->series = s;
        s = &g->series[g->n_series];
        memset(s, 0, sizeof(*s));
        s->path = strdup(path);
        if (!s->path)
                return NULL;
        s->ino = ino;
        g->n_series++;
        return s;
}

/* Drop samples outside [now - window, now]; a clock that went backwards
 * (not expected: the host promises a monotonic one) invalidates them. */
static void series_prune(struct series *s, uint64_t now, uint64_t window)
{
        unsigned keep = 0;

        for (unsigned i = 0; i < s->n; i++)
                if (s->s[i].t_usec <= now && now - s->s[i].t_usec <= window)
                        s->s[keep++] = s->s[i];
        s->n = keep;
}

static void series_add(struct series *s, uint64_t now, uint64_t bytes)
{
        if (s->n && s->s[s->n - 1].t_usec == now) {
                s->s[s->n - 1].bytes = bytes;
                return;
        }
        if (s->n == GROWTH_SAMPLES) {
                memmove(&s->s[0], &s->s[1], (GROWTH_SAMPLES - 1) * sizeof(s->s[0]));
                s->n--;
        }
        s->s[s->n++] = (struct sample){now, bytes};
}

/* Forget groups that have no sample left in the window. */
static void growth_forget(struct growth *g)
{
        size_t keep = 0;

        for (size_t i = 0; i < g->n_series; i++) {
                if (g->series[i].n == 0) {
                        free(g->series[i].path);
                        continue;
                }
                g->series[keep++] = g->series[i];
        }
        g->n_series = keep;
}

static int growth_choose(const struct cgsentry_view *v, void *state, struct cgsentry_decision *d)
{
        struct growth *g = state;
        int32_t best = -1;
        double best_rate = 0, best_dt = 0;
        uint64_t best_delta = 0;
        char rate_s[32], delta_s[32], win_s[32];

        for (size_t i = 0; i < g->n_series; i++)
                series_prune(&g->series[i], v->now_usec, g->window_usec);

        for (uint32_t i = 0; i < v->n_candidates; i++) {
                const struct cgsentry_group *grp = cgsentry_view_group(v, v->candidates[i]);
                uint64_t bytes = policy_group_memory(v, v->candidates[i]);
                struct series *s = series_get(g, grp->path, grp->ino);
                double rate, dt;

                if (!s)
                        return -ENOMEM;
                series_add(s, v->now_usec, bytes);
                /* No rate without time passing (two calls in the same
                 * microsecond, or a clock that went back). */
                if (s->n < 2 || bytes <= s->s[0].bytes || v->now_usec <= s->s[0].t_usec)
                        continue;
                dt = (double)(v->now_usec - s->s[0].t_usec) / 1e6;
                rate = (double)(bytes - s->s[0].bytes) / dt;
                /* Strictly faster only: equal rates go to the earlier in pre-order. */
                if (best < 0 || rate > best_rate) {
                        best = (int32_t)v->candidates[i];
                        best_rate = rate;
                        best_dt = dt;
                        best_delta = bytes - s->s[0].bytes;
                }
        }
        growth_forget(g);

        snprintf(win_s, sizeof(win_s), "%.1f s", (double)g->window_usec / 1e6);
        if (best >= 0) {
                d->group = best;
                /* A double at or past 2^64 has no uint64_t: the cast would be
                 * undefined behaviour. */
                policy_format_bytes(best_rate >= 18446744073709551615.0 ? UINT64_MAX
                                                                         : (uint64_t)best_rate,
                                    rate_s, sizeof(rate_s));
                policy_format_bytes(best_delta, delta_s, sizeof(delta_s));
                snprintf(d->explanation, d->explanation_size,
                         "%s grew by %s in %.1f s (%s/s), the fastest of %" PRIu32
                         " candidate%s within the %s window",
                         cgsentry_view_group(v, (uint32_t)best)->path, delta_s, best_dt, rate_s,
                         v->n_candidates, v->n_candidates == 1 ? "" : "s", win_s);
                return 0;
        }
        if (v->n_candidates == 0) {
                snprintf(d->explanation, d->explanation_size, "no candidate in %s", v->domain);
                return 0;
        }
        if (g->fallback_none) {
                snprintf(d->explanation, d->explanation_size,
                         "no candidate grew within the %s window (fallback=none)", win_s);
                return 0;
        }
        best = policy_rank_best(v, g->fallback, v->candidates, v->n_candidates);
        d->group = best;
        {
                int len = snprintf(d->explanation, d->explanation_size,
                                   "no candidate grew within the %s window, so %s decides: ", win_s,
                                   policy_rank_to_string(g->fallback));
                if (len > 0 && (size_t)len < d->explanation_size)
                        policy_explain_rank(v, g->fallback, v->candidates, v->n_candidates,
                                            (uint32_t)best, d->explanation + len,
                                            d->explanation_size - (size_t)len);
        }
        return 0;
}

CGSENTRY_POLICY_DEFINE("growth", POLICY_VERSION,
                       "the group whose memory.current grew fastest over a window (window=10s)",
                       growth_init, growth_choose, growth_destroy)
