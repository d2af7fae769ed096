/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Discovery: one inotify watch per cgroup directory a rule could match (or
 * lead to), set before the directory is read so that no child created in
 * between is missed. A new directory a rule matches becomes a supervised
 * group; a removed one goes, with everything below it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "supervisor-internal.h"

/* ---- discovery ------------------------------------------------------------ */

static size_t path_hash(const char *path)
{
        size_t h = 14695981039346656037ull; /* FNV-1a */

        for (; *path; path++)
                h = (h ^ (unsigned char)*path) * 1099511628211ull;
        return h;
}

struct dirwatch *watch_find(struct supervisor *sv, const char *path)
{
        if (!sv->hash)
                return NULL;
        for (struct dirwatch *w = sv->hash[path_hash(path) & (sv->hash_size - 1)]; w; w = w->hnext)
                if (strcmp(w->path, path) == 0)
                        return w;
        return NULL;
}

/* Keep the table at most 1 entry per bucket on average. */
static int hash_add(struct supervisor *sv, struct dirwatch *w)
{
        if (sv->n_watches + 1 > sv->hash_size) {
                size_t n = sv->hash_size ? sv->hash_size * 2 : 64;
                struct dirwatch **t = calloc(n, sizeof(*t));
                if (!t)
                        return -ENOMEM;
                for (size_t i = 0; i < sv->hash_size; i++)
                        for (struct dirwatch *x = sv->hash[i], *nx; x; x = nx) {
                                nx = x->hnext;
                                x->hnext = t[path_hash(x->path) & (n - 1)];
                                t[path_hash(x->path) & (n - 1)] = x;
                        }
                free(sv->hash);
                sv->hash = t;
                sv->hash_size = n;
        }
        w->hnext = sv->hash[path_hash(w->path) & (sv->hash_size - 1)];
        sv->hash[path_hash(w->path) & (sv->hash_size - 1)] = w;
        return 0;
}

static void hash_del(struct supervisor *sv, struct dirwatch *w)
{
        struct dirwatch **p = &sv->hash[path_hash(w->path) & (sv->hash_size - 1)];

        for (; *p; p = &(*p)->hnext)
                if (*p == w) {
                        *p = w->hnext;
                        return;
                }
}

static bool interesting(const struct supervisor *sv, const char *path)
{
        for (size_t i = 0; i < sv->cfg->n_rules; i++)
                if (sv_glob_could_contain(sv->cfg->rules[i].match, path))
                        return true;
        return false;
}

static void unwatch_tree(struct supervisor *sv, const char *path);

static void dir_cb(uv_fs_event_t *h, const char *name, int events, int status)
{
        struct dirwatch *w = h->data;
        struct supervisor *sv = w->sv;
        char *child;
        struct stat st;

        if (status < 0 || !name || sv->stopping)
                return;
        if (w->group && (events & UV_CHANGE) &&
            (strcmp(name, "memory.events") == 0 || strcmp(name, "memory.events.local") == 0)) {
                group_check_events(w->group, uv_hrtime());
                return;
        }
        if (w->group && (events & UV_CHANGE) &&
            (strcmp(name, "memory.max") == 0 || strcmp(name, "memory.high") == 0)) {
                if (w->group->rule->tripwire_permyriad)
                        tripwire_arm(w->group);
                return;
        }
        if (!(events & UV_RENAME))
                return;
        if (asprintf(&child, "%s%s%s", w->path, *w->path ? "/" : "", name) < 0)
                return;
        if (fstatat(sv->root_fd, child, &st, AT_SYMLINK_NOFOLLOW) == 0) {
                struct dirwatch *old = S_ISDIR(st.st_mode) ? watch_find(sv, child) : NULL;
                /* Removed and created again (a service restart) before we
                 * handled the removal: what we hold is the old cgroup's. */
                if (old && old->ino != st.st_ino) {
                        unwatch_tree(sv, child);
                        old = NULL;
                }
                if (S_ISDIR(st.st_mode) && !old)
                        watch_tree(sv, child);
        } else if (errno == ENOENT) {
                /* A child went away, or (IN_DELETE_SELF) this directory did. */
                if (watch_find(sv, child))
                        unwatch_tree(sv, child);
                else if (*w->path && faccessat(sv->root_fd, w->path, F_OK, 0) < 0)
                        unwatch_tree(sv, w->path);
        }
        free(child);
        supervisor_notify_status(sv);
}

static void watch_closed(uv_handle_t *h)
{
        struct dirwatch *w = h->data;
        free(w->path);
        free(w->shown);
        free(w);
}

void watch_remove(struct supervisor *sv, struct dirwatch *w)
{
        if (w->prev)
                w->prev->next = w->next;
        else
                sv->watches = w->next;
        if (w->next)
                w->next->prev = w->prev;
        hash_del(sv, w);
        sv->n_watches--;
        if (w->group)
                group_close(w->group);
        w->group = NULL;
        uv_close((uv_handle_t *)&w->ev, watch_closed);
}

static void watch_one(struct supervisor *sv, const char *path)
{
        const struct cgsentry_rule *rule = cgsentry_config_match(sv->cfg, path);
        struct cgsentry_log_fields f = { 0 };
        struct dirwatch *w;
        struct stat st;
        char *full;
        int r;

        if (!rule && !interesting(sv, path))
                return;
        if (fstatat(sv->root_fd, *path ? path : ".", &st, AT_SYMLINK_NOFOLLOW) < 0)
                return; /* gone already */
        w = calloc(1, sizeof(*w));
        if (!w || !(w->path = strdup(path)) || !(w->shown = sv_escape_dup(path))) {
                if (w)
                        free(w->path);
                free(w);
                return;
        }
        f.cgroup = w->shown;
        w->sv = sv;
        w->ino = st.st_ino;
        if (asprintf(&full, "%s/%s", sv->cfg->cgroup_root, path) < 0) {
                free(w->path);
                free(w->shown);
                free(w);
                return;
        }
        uv_fs_event_init(sv->loop, &w->ev);
        w->ev.data = w;
        r = uv_fs_event_start(&w->ev, dir_cb, full, 0);
        free(full);
        if (r == UV_ENOSPC) {
                /* Documented fallback: keep walking the tree, and supervise the
                 * groups found by polling their memory.events for POLLPRI. What
                 * is lost below such a directory: discovery of cgroups created
                 * later and the re-arming of Tripwire= when memory.max changes. */
                if (!sv->enospc_logged)
                        cgsentry_log(LOG_ERR, &f,
                                     "inotify watch limit reached (fs.inotify.max_user_watches) "
                                     "at /%s: groups from here on are supervised by polling "
                                     "memory.events, and cgroups created below them are not "
                                     "discovered until the limit is raised and cgsentryd "
                                     "reloaded (SIGHUP)", w->shown);
                sv->enospc_logged = true;
                w->no_inotify = true;
        } else if (r < 0) {
                if (r != UV_ENOENT) /* gone before we looked: not an error */
                        cgsentry_log(LOG_ERR, &f, "cannot watch /%s: %s", w->shown, uv_strerror(r));
                uv_close((uv_handle_t *)&w->ev, watch_closed);
                return;
        }
        if (hash_add(sv, w) < 0) {
                cgsentry_log(LOG_ERR, &f, "cannot watch /%s: out of memory", w->shown);
                uv_close((uv_handle_t *)&w->ev, watch_closed);
                return;
        }
        w->next = sv->watches;
        if (w->next)
                w->next->prev = w;
        sv->watches = w;
        sv->n_watches++;
        if (rule)
                w->group = group_new(w, rule);
}

/* Watch @path and, recursively, its subdirectories that rules may match.
 * The watch is set before reading the directory so no child created in
 * between is missed. */
void watch_tree(struct supervisor *sv, const char *path)
{
        DIR *d;
        struct dirent *de;
        int fd;

        watch_one(sv, path);
        if (!watch_find(sv, path))
                return;
        fd = openat(sv->root_fd, *path ? path : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || !(d = fdopendir(fd))) {
                if (fd >= 0)
                        close(fd);
                return;
        }
        while ((de = readdir(d))) {
                char *child;
                if (de->d_name[0] == '.' || de->d_type != DT_DIR)
                        continue;
                if (asprintf(&child, "%s%s%s", path, *path ? "/" : "", de->d_name) < 0)
                        break;
                if (!watch_find(sv, child))
                        watch_tree(sv, child);
                free(child);
        }
        closedir(d);
}

static void unwatch_tree(struct supervisor *sv, const char *path)
{
        size_t n = strlen(path);
        struct dirwatch *w = sv->watches, *next;

        for (; w; w = next) {
                next = w->next;
                if (strncmp(w->path, path, n) == 0 && (w->path[n] == '\0' || w->path[n] == '/' || n == 0)) {
                        if (w->group) {
                                struct cgsentry_log_fields f = { .cgroup = w->shown };
                                cgsentry_log(LOG_INFO, &f, "/%s is gone", w->shown);
                        }
                        watch_remove(sv, w);
                }
        }
}

