/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading one cgroup v2 directory into a struct sv_group. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/xattr.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "parse.h"
#include "readers.h"
#include "util.h"

/* cgroup.procs of a cgroup with 2 million processes (pid_max is 4M at
 * most, 7 digits and a newline each): larger is not a cgroup.procs. */
#define SV_CGFS_PROCS_MAX (16u << 20)

/* Large enough for memory.stat of every 6.x kernel (about 1.5 KiB today). */
#define SV_CGFS_BUF_SIZE 8192

/* Read one file: its length, -ENOENT/-ENODEV when absent (the caller decides
 * whether that is fine), or another -errno with @err filled. */
static ssize_t read_file(int dfd, const char *dir, const char *name, char *buf,
                         struct sv_error *err)
{
        ssize_t n = sv__read_at(dfd, name, buf, SV_CGFS_BUF_SIZE);

        if (n < 0 && !sv__is_gone((int)n))
                return sv__error(err, (int)-n, dir, name, NULL);
        return n;
}

static int parsed(int r, const char *dir, const char *name, struct sv_error *err)
{
        return r < 0 ? sv__error(err, -r, dir, name, "malformed content") : 0;
}

/* user.cgsentry.prefer / .avoid: set unless absent, unreadable or "0". */
static bool xattr_set(int dfd, const char *name)
{
        char value[16];
        ssize_t n = fgetxattr(dfd, name, value, sizeof(value) - 1);

        /* ERANGE: a long value, still set. */
        if (n < 0)
                return errno == ERANGE;
        value[n] = 0;
        return strcmp(value, "0") != 0 && strcmp(value, "0\n") != 0;
}

/* Read @name and parse it with @fn into @ptr, naming the file on error. */
#define READ(name, fn, ptr)                                                     \
        ({                                                                      \
                ssize_t n_ = read_file(dfd, path, name, buf, err);              \
                n_ < 0 ? (int)n_ : parsed(fn(buf, (size_t)n_, ptr), path, name, err); \
        })

int sv__cgfs_read_group(int dfd, const char *path, bool minimal, struct sv_group *g,
                        struct sv_error *err)
{
        char *buf = malloc(SV_CGFS_BUF_SIZE);
        int r;

        if (!buf)
                return -ENOMEM;

        if (minimal) {
                /* What mem_cgroup_get_max() and mem_cgroup_get_oom_group() read;
                 * memory.max exists exactly when the cgroup has a memory css. */
                g->swap_max = SV_LIMIT_MAX;
                r = READ("memory.max", sv_parse_limit, &g->memory_max);
                if (r == -ENOENT) {
                        g->memory_max = g->memory_high = SV_LIMIT_MAX;
                        r = 0;
                        goto out;
                }
                if (r < 0 || (r = READ("memory.oom.group", sv_parse_bool01, &g->oom_group)) < 0)
                        goto out;
                g->memcg = true;
                g->memory_high = SV_LIMIT_MAX;
                r = READ("memory.swap.max", sv_parse_limit, &g->swap_max);
                if (r == -ENOENT)
                        g->swap_max = SV_LIMIT_MAX;
                else if (r < 0)
                        goto out;
                r = 0;
                goto out;
        }

        /* Every cgroup has these; the root lacks cgroup.events. */
        r = READ("cgroup.subtree_control", sv_parse_controllers, &g->subtree_control);
        if (r < 0)
                goto out;
        r = READ("cgroup.events", sv_parse_cgroup_events, &g->cgevents);
        if (r < 0 && r != -ENOENT)
                goto out;

        /* memory.current exists exactly when this cgroup has a memory css. */
        r = READ("memory.current", sv_parse_u64, &g->memory_current);
        if (r == 0) {
                g->memcg = true;
                g->have |= SV_HAVE_MEMORY | SV_HAVE_EVENTS;
                /* From here on ENOENT means the group went away under us. */
                if ((r = READ("memory.max", sv_parse_limit, &g->memory_max)) < 0 ||
                    (r = READ("memory.high", sv_parse_limit, &g->memory_high)) < 0 ||
                    (r = READ("memory.low", sv_parse_limit, &g->memory_low)) < 0 ||
                    (r = READ("memory.min", sv_parse_limit, &g->memory_min)) < 0 ||
                    (r = READ("memory.oom.group", sv_parse_bool01, &g->oom_group)) < 0 ||
                    (r = READ("memory.events", sv_parse_memory_events, &g->events)) < 0)
                        goto out;
                /* memory.events.local: 5.7+; memory.peak: 5.19+. */
                r = READ("memory.events.local", sv_parse_memory_events, &g->events_local);
                if (r < 0 && r != -ENOENT)
                        goto out;
                r = READ("memory.peak", sv_parse_u64, &g->memory_peak);
                if (r == 0)
                        g->have |= SV_HAVE_PEAK;
                else if (r != -ENOENT)
                        goto out;
                /* Swap files exist only with swap accounting (swapaccount=1). */
                r = READ("memory.swap.current", sv_parse_u64, &g->swap_current);
                if (r == 0) {
                        r = READ("memory.swap.max", sv_parse_limit, &g->swap_max);
                        if (r < 0)
                                goto out;
                        g->have |= SV_HAVE_SWAP;
                } else if (r != -ENOENT) {
                        goto out;
                }
        } else if (r != -ENOENT) {
                goto out;
        }
        if (!(g->have & SV_HAVE_SWAP))
                g->swap_max = SV_LIMIT_MAX;
        if (!g->memcg) {
                g->memory_max = SV_LIMIT_MAX;
                g->memory_high = SV_LIMIT_MAX;
        }

        /* Preferences for policies; ENODATA (unset) and ENOTSUP are "not set". */
        g->prefer = xattr_set(dfd, SV_XATTR_PREFER);
        g->avoid = xattr_set(dfd, SV_XATTR_AVOID);

        /* The root has memory.stat and memory.pressure without memory.current. */
        r = READ("memory.stat", sv_parse_memory_stat, &g->stat);
        if (r == 0)
                g->have |= SV_HAVE_STAT;
        else if (r != -ENOENT)
                goto out;
        /* PSI may be compiled out or disabled with psi=0. */
        r = READ("memory.pressure", sv_parse_psi, &g->pressure);
        if (r == 0)
                g->have |= SV_HAVE_PRESSURE;
        else if (r != -ENOENT && r != -EOPNOTSUPP)
                goto out;
        r = 0;
out:
        free(buf);
        return r;
}

int sv__cgfs_read_procs(int dfd, const char *path, int **ret, size_t *ret_n,
                        struct sv_error *err)
{
        char *buf = NULL;
        size_t len = 0;
        int r;

        r = sv__read_alloc_at(dfd, "cgroup.procs", SV_CGFS_PROCS_MAX, &buf, &len);
        if (r < 0) {
                if (sv__is_gone(r))
                        return r;
                return sv__error(err, -r, path, "cgroup.procs", NULL);
        }
        r = sv_parse_pids(buf, len, ret, ret_n);
        free(buf);
        if (r < 0)
                return sv__error(err, -r, path, "cgroup.procs", "malformed content");
        return 0;
}

/* memory.swap.max - memory.swap.current of one group, or SV_LIMIT_MAX when
 * it has no swap files (the root; no swap accounting). */
static int swap_room(int root_fd, const char *dir, uint64_t *ret)
{
        char name[PATH_MAX + 32], buf[64];
        uint64_t max, cur;
        ssize_t n;
        int r;

        snprintf(name, sizeof(name), "%s/memory.swap.max", dir);
        n = sv__read_at(root_fd, name, buf, sizeof(buf));
        if (n == -ENOENT) {
                /* No swap accounting, or the group itself is gone. */
                if (faccessat(root_fd, dir, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
                        return -errno;
                *ret = SV_LIMIT_MAX;
                return 0;
        }
        if (n < 0)
                return (int)n;
        r = sv_parse_limit(buf, (size_t)n, &max);
        if (r < 0)
                return r;
        if (max == SV_LIMIT_MAX) {
                *ret = SV_LIMIT_MAX;
                return 0;
        }
        snprintf(name, sizeof(name), "%s/memory.swap.current", dir);
        n = sv__read_at(root_fd, name, buf, sizeof(buf));
        if (n < 0)
                return (int)n;
        r = sv_parse_u64(buf, (size_t)n, &cur);
        if (r < 0)
                return r;
        *ret = max > cur ? max - cur : 0;
        return 0;
}

int sv__swap_headroom_walk(int root_fd, const char *path, uint64_t cap, uint64_t *ret)
{
        char dir[PATH_MAX];
        size_t len;

        while (*path == '/')
                path++;
        len = strlen(path);
        while (len && path[len - 1] == '/')
                len--;
        if (len >= sizeof(dir))
                return -ENAMETOOLONG;
        /* mem_cgroup_get_nr_swap_pages(): every level from the group up to
         * (not including) the root, which has no swap limit. */
        for (size_t i = 1; i <= len && cap; i++) {
                uint64_t room = SV_LIMIT_MAX;
                int r;

                if (i < len && path[i] != '/')
                        continue;
                memcpy(dir, path, i);
                dir[i] = '\0';
                r = swap_room(root_fd, dir, &room);
                if (r < 0)
                        return r;
                if (room < cap)
                        cap = room;
        }
        *ret = cap;
        return 0;
}

int sv_swap_headroom_read(int root_fd, int proc_fd, const char *path, uint64_t *ret)
{
        uint64_t free_bytes;
        int r = sv__proc_read_swap_free(proc_fd, &free_bytes);

        if (r < 0)
                return r;
        return sv__swap_headroom_walk(root_fd, path, free_bytes, ret);
}
