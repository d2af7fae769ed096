/* SPDX-License-Identifier: MIT */
/*
 * hello: a complete cgsentry policy plugin, built out of tree.
 *
 * It chooses the candidate group with the most processes (a fork bomb's
 * group, say); ties go to the first candidate in the view's order. Its one
 * option, greeting=WORD, shows how options and private state work.
 *
 *   make                       # uses `pkg-config cgsentry-policy`
 *   cgsentry explain --policy hello --policy-dir . system.slice
 *   sudo make install          # into `pkg-config --variable=policydir cgsentry-policy`
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cgsentry/policy.h>

struct hello {
        char greeting[32];
};

static int hello_init(const char *options, void **ret_state, char *err, size_t err_size)
{
        struct hello *h = calloc(1, sizeof(*h));
        const char *cur = options;
        char key[32], value[32];
        int r;

        if (!h)
                return -ENOMEM;
        snprintf(h->greeting, sizeof(h->greeting), "hello");
        while ((r = cgsentry_options_next(&cur, key, sizeof(key), value, sizeof(value))) > 0) {
                if (strcmp(key, "greeting") != 0) {
                        snprintf(err, err_size, "unknown option '%s' (known: greeting)", key);
                        free(h);
                        return -EINVAL;
                }
                snprintf(h->greeting, sizeof(h->greeting), "%s", value);
        }
        if (r < 0) {
                snprintf(err, err_size, "cannot parse options '%s'", options);
                free(h);
                return -EINVAL;
        }
        *ret_state = h;
        return 0;
}

static int hello_choose(const struct cgsentry_view *view, void *state,
                        struct cgsentry_decision *decision)
{
        const struct hello *h = state;
        int32_t best = -1;
        uint32_t best_n = 0;

        for (uint32_t i = 0; i < view->n_candidates; i++) {
                const struct cgsentry_group *g = cgsentry_view_group(view, view->candidates[i]);
                if (best < 0 || g->subtree_tasks > best_n) {
                        best = (int32_t)view->candidates[i];
                        best_n = g->subtree_tasks;
                }
        }
        if (best < 0) {
                snprintf(decision->explanation, decision->explanation_size,
                         "%s: nothing to kill in %s", h->greeting, view->domain);
                return 0;
        }
        decision->group = best;
        snprintf(decision->explanation, decision->explanation_size,
                 "%s: %s has %" PRIu32 " processes, the most of %" PRIu32 " candidates",
                 h->greeting, cgsentry_view_group(view, (uint32_t)best)->path, best_n,
                 view->n_candidates);
        return 0;
}

static void hello_destroy(void *state)
{
        free(state);
}

CGSENTRY_POLICY_DEFINE("hello", "1.0",
                       "example: the group with the most processes",
                       hello_init, hello_choose, hello_destroy)
