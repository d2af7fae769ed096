/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Gathering status and metrics figures: with thousands of supervised
 * groups, reading every group's files at once would hold the loop for a
 * good part of a second, while a runaway grows. Instead the groups' paths
 * are listed when the request arrives and read CHUNK at a time from an
 * idle handle, so inotify and PSI events are served between chunks. A
 * group removed in between is looked up by path, not pointer, and skipped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor-internal.h"

#define CHUNK 64

struct collect {
        struct supervisor *sv;
        uv_idle_t idle;
        char **paths;
        size_t n_paths, next;
        struct cgsentry_group_figures *figs;
        size_t n_figs;
        collect_done_fn done;
        void *userdata;
};

static void closed(uv_handle_t *h)
{
        struct collect *c = h->data;

        for (size_t i = c->next; i < c->n_paths; i++)
                free(c->paths[i]);
        free(c->paths);
        for (size_t i = 0; i < c->n_figs; i++)
                cgsentry_group_figures_done(&c->figs[i]);
        free(c->figs);
        free(c);
}

void collect_cancel(struct collect *c)
{
        if (!c)
                return;
        uv_idle_stop(&c->idle);
        uv_close((uv_handle_t *)&c->idle, closed);
}

static int by_cgroup(const void *a, const void *b)
{
        return strcmp(((const struct cgsentry_group_figures *)a)->cgroup,
                      ((const struct cgsentry_group_figures *)b)->cgroup);
}

static void finish(struct collect *c, int error)
{
        struct cgsentry_daemon_figures d;

        /* In path order, as people read a tree. */
        qsort(c->figs, c->n_figs, sizeof(*c->figs), by_cgroup);
        figures_read_daemon(c->sv, &d);
        c->done(c->userdata, error, &d, c->figs, c->n_figs);
        collect_cancel(c);
}

static void step(uv_idle_t *h)
{
        struct collect *c = h->data;

        for (size_t k = 0; k < CHUNK && c->next < c->n_paths; k++) {
                char *path = c->paths[c->next++];
                struct dirwatch *w = watch_find(c->sv, path);
                int r;

                free(path);
                if (!w || !w->group)
                        continue; /* gone since the request came */
                r = figures_read_group(w->group, &c->figs[c->n_figs]);
                if (r == -ENOMEM) {
                        finish(c, r);
                        return;
                }
                if (r == 0)
                        c->n_figs++;
        }
        if (c->next == c->n_paths)
                finish(c, 0);
}

/* @only as the user wrote it: "/a/b", "a/b", or the escaped form every
 * message shows. */
static struct dirwatch *find_only(struct supervisor *sv, const char *only)
{
        const char *rel = sv_rel(only);
        struct dirwatch *w = watch_find(sv, rel);

        if (w && w->group)
                return w;
        for (w = sv->watches; w; w = w->next)
                if (w->group && strcmp(w->shown, rel) == 0)
                        return w;
        return NULL;
}

int collect_start(struct supervisor *sv, const char *only, collect_done_fn done, void *userdata,
                  struct collect **ret)
{
        struct collect *c = calloc(1, sizeof(*c));
        size_t n = 0;

        if (!c)
                return -ENOMEM;
        c->sv = sv;
        c->done = done;
        c->userdata = userdata;
        if (only) {
                struct dirwatch *w = find_only(sv, only);
                if (!w) {
                        free(c);
                        return -ENOENT;
                }
                c->paths = calloc(1, sizeof(*c->paths));
                if (c->paths && (c->paths[0] = strdup(w->path)))
                        n = 1;
        } else {
                c->paths = calloc(sv->n_groups ? sv->n_groups : 1, sizeof(*c->paths));
                for (struct dirwatch *w = sv->watches; c->paths && w && n < sv->n_groups;
                     w = w->next) {
                        if (!w->group)
                                continue;
                        if (!(c->paths[n] = strdup(w->path)))
                                break;
                        n++;
                }
        }
        c->n_paths = n;
        c->figs = calloc(n ? n : 1, sizeof(*c->figs));
        if (!c->paths || !c->figs || n < (only ? 1 : sv->n_groups)) {
                for (size_t i = 0; i < n; i++)
                        free(c->paths ? c->paths[i] : NULL);
                free(c->paths);
                free(c->figs);
                free(c);
                return -ENOMEM;
        }
        uv_idle_init(sv->loop, &c->idle);
        c->idle.data = c;
        uv_idle_start(&c->idle, step);
        *ret = c;
        return 0;
}
