/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * priority: operator preferences first, then another ranking.
 *
 * Each candidate gets a weight:
 *   + prefer (default 100) when the cgroup directory has the extended
 *     attribute user.cgsentry.prefer (set to anything but "0"),
 *   - avoid  (default 100) when it has user.cgsentry.avoid,
 *   + W for every priority=PATH:W entry whose PATH is the candidate's path
 *     ("/system.slice/foo.service") or its last component ("foo.service").
 * The candidates with the highest weight are ranked by the fallback
 * (largest unless fallback= says swap or pressure); ties there go to the
 * first in pre-order. The host reads the xattrs while building the view
 * (CGSENTRY_GROUP_PREFER/AVOID).
 *
 * Options: prefer=N avoid=N priority=PATH:W[,PATH:W...]
 *          fallback=largest|swap|pressure   (N, W integers in +-1000000)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define PRIORITY_WEIGHT_LIMIT 1000000

struct rule {
        char *path;
        int64_t weight;
};

struct priority {
        int64_t prefer, avoid;
        enum policy_rank fallback;
        struct rule *rules;
        size_t n_rules;
};

static void priority_destroy(void *state)
{
        struct priority *p = state;

        if (!p)
                return;
        for (size_t i = 0; i < p->n_rules; i++)
                free(p->rules[i].path);
        free(p->rules);
        free(p);
}

static int parse_weight(const char *s, int64_t *ret)
{
        char *end;
        long long n;

        errno = 0;
        n = strtoll(s, &end, 10);
        if (errno || end == s || *end || n < -PRIORITY_WEIGHT_LIMIT || n > PRIORITY_WEIGHT_LIMIT)
                return -EINVAL;
        *ret = n;
        return 0;
}

/* "PATH:W,PATH:W": the weight follows the last ':' of each entry. */
static int parse_rules(struct priority *p, const char *text, char *err, size_t err_size)
{
        const char *e = text;

        while (*e) {
                const char *end = strchr(e, ',');
                size_t len = end ? (size_t)(end - e) : strlen(e);
                char *entry = strndup(e, len), *colon;
                struct rule *rules;
                int64_t w;

                if (!entry)
                        return -ENOMEM;
                colon = strrchr(entry, ':');
                if (!colon || colon == entry || parse_weight(colon + 1, &w) < 0) {
                        snprintf(err, err_size, "priority=%s: '%s' is not PATH:WEIGHT", text,
                                 entry);
                        free(entry);
                        return -EINVAL;
                }
                *colon = 0;
                rules = realloc(p->rules, (p->n_rules + 1) * sizeof(*rules));
                if (!rules) {
                        free(entry);
                        return -ENOMEM;
                }
                p->rules = rules;
                p->rules[p->n_rules++] = (struct rule){entry, w};
                e += len;
                if (*e == ',')
                        e++;
        }
        return 0;
}

static int priority_init(const char *options, void **ret_state, char *err, size_t err_size)
{
        struct priority *p = calloc(1, sizeof(*p));
        const char *cur = options;
        char key[32], value[1024];
        int r;

        if (!p)
                return -ENOMEM;
        p->prefer = 100;
        p->avoid = 100;
        p->fallback = POLICY_RANK_LARGEST;
        while ((r = cgsentry_options_next(&cur, key, sizeof(key), value, sizeof(value))) > 0) {
                if (strcmp(key, "prefer") == 0 || strcmp(key, "avoid") == 0) {
                        r = parse_weight(value, key[0] == 'p' ? &p->prefer : &p->avoid);
                        if (r < 0)
                                snprintf(err, err_size, "%s=%s: not an integer in +-%d", key, value,
                                         PRIORITY_WEIGHT_LIMIT);
                } else if (strcmp(key, "priority") == 0) {
                        r = parse_rules(p, value, err, err_size);
                } else if (strcmp(key, "fallback") == 0) {
                        r = policy_rank_from_string(value, &p->fallback);
                        if (r < 0)
                                snprintf(err, err_size,
                                         "fallback=%s: expected largest, swap or pressure", value);
                } else {
                        snprintf(err, err_size,
                                 "unknown option '%s' (known: prefer, avoid, priority, fallback)",
                                 key);
                        r = -EINVAL;
                }
                if (r < 0)
                        break;
        }
        if (r < 0) {
                if (!err[0])
                        snprintf(err, err_size, "cannot parse options '%s'", options);
                priority_destroy(p);
                return r == -ENOMEM ? r : -EINVAL;
        }
        *ret_state = p;
        return 0;
}

static const char *last_component(const char *path)
{
        const char *slash = strrchr(path, '/');
        return slash ? slash + 1 : path;
}

static int64_t weight_of(const struct priority *p, const struct cgsentry_group *g)
{
        int64_t w = 0;

        if (g->flags & CGSENTRY_GROUP_PREFER)
                w += p->prefer;
        if (g->flags & CGSENTRY_GROUP_AVOID)
                w -= p->avoid;
        for (size_t i = 0; i < p->n_rules; i++)
                if (strcmp(p->rules[i].path, g->path) == 0 ||
                    strcmp(p->rules[i].path, last_component(g->path)) == 0)
                        w += p->rules[i].weight;
        return w;
}

static int priority_choose(const struct cgsentry_view *v, void *state, struct cgsentry_decision *d)
{
        const struct priority *p = state;
        const struct cgsentry_group *g;
        uint32_t *top, n_top = 0;
        int64_t top_w = INT64_MIN;
        int32_t best;
        int len;

        if (v->n_candidates == 0) {
                snprintf(d->explanation, d->explanation_size, "no candidate in %s", v->domain);
                return 0;
        }
        top = malloc(v->n_candidates * sizeof(*top));
        if (!top)
                return -ENOMEM;
        for (uint32_t i = 0; i < v->n_candidates; i++) {
                int64_t w = weight_of(p, cgsentry_view_group(v, v->candidates[i]));
                if (w > top_w) {
                        top_w = w;
                        n_top = 0;
                }
                if (w == top_w)
                        top[n_top++] = v->candidates[i];
        }
        best = policy_rank_best(v, p->fallback, top, n_top);
        g = cgsentry_view_group(v, (uint32_t)best);
        d->group = best;
        len = snprintf(d->explanation, d->explanation_size,
                       "%s has priority %" PRId64 "%s%s, the highest of %" PRIu32
                       " candidate%s; %s decides among the %" PRIu32 " with that priority: ",
                       g->path, top_w, g->flags & CGSENTRY_GROUP_PREFER ? " (prefer)" : "",
                       g->flags & CGSENTRY_GROUP_AVOID ? " (avoid)" : "", v->n_candidates,
                       v->n_candidates == 1 ? "" : "s", policy_rank_to_string(p->fallback), n_top);
        if (len > 0 && (size_t)len < d->explanation_size)
                policy_explain_rank(v, p->fallback, top, n_top, (uint32_t)best,
                                    d->explanation + len, d->explanation_size - (size_t)len);
        free(top);
        return 0;
}

CGSENTRY_POLICY_DEFINE("priority", POLICY_VERSION,
                       "xattrs user.cgsentry.prefer/avoid and priority= weights, then largest",
                       priority_init, priority_choose, priority_destroy)
