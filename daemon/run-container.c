/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Wrapping container runtimes in `cgsentry run` (run-container.h). Runtimes
 * make cgroups of their own: crun with its default cgroupfs manager puts a
 * container in /ID at the top of the hierarchy, out of every limit the
 * wrapper set. Either the runtime sees the wrapped cgroup as the root (a
 * private cgroup namespace with cgroup2 mounted again, as docker run
 * --cgroupns=private does), or the escape is said out loud.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgsentry/supervise.h"
#include "parse.h"
#include "run-container.h"
#include "util.h"

int run_enable_controllers(int cgfd)
{
        static const char *const names[] = { "cpuset", "cpu", "io", "memory", "hugetlb",
                                             "pids", "rdma", "misc" };
        unsigned have = 0, on = 0;
        char buf[256];
        ssize_t n;
        int r;

        n = sv__read_at(cgfd, "cgroup.controllers", buf, sizeof(buf));
        if (n < 0)
                return (int)n;
        r = sv_parse_controllers(buf, (size_t)n, &have);
        if (r < 0)
                return r;
        n = sv__read_at(cgfd, "cgroup.subtree_control", buf, sizeof(buf));
        if (n >= 0)
                (void)sv_parse_controllers(buf, (size_t)n, &on);
        for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
                char plus[16];
                if (!(have & (1u << i)) || (on & (1u << i)))
                        continue;
                snprintf(plus, sizeof(plus), "+%s", names[i]);
                r = sv_cgroup_write(cgfd, "cgroup.subtree_control", plus);
                if (r == 0)
                        on |= 1u << i;
                else if (i == 3) /* memory: the one the limits need */
                        return r;
        }
        return on & SV_CTRL_MEMORY ? 0 : -EOPNOTSUPP;
}

static int fail_what(int r, char *what, size_t size, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static int fail_what(int r, char *what, size_t size, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(what, size, fmt, ap);
        va_end(ap);
        return r;
}

int run_cgroupns_enter(int cgfd, int leaf_fd, const char *mnt, char *what, size_t what_size)
{
        int r;

        /* The namespace's root is the cgroup we are in now: the wrapped one. */
        if (unshare(CLONE_NEWCGROUP | CLONE_NEWNS) < 0)
                return fail_what(-errno, what, what_size, "unshare(CLONE_NEWCGROUP|CLONE_NEWNS)%s",
                                 errno == EPERM ? " (needs CAP_SYS_ADMIN)" : "");
        r = sv_cgroup_write(leaf_fd, "cgroup.procs", "0");
        if (r < 0)
                return fail_what(r, what, what_size, "moving into the %s leaf", RUN_LEAF_NAME);
        /* Only now is the wrapped cgroup empty, as controllers for its
         * children require. */
        r = run_enable_controllers(cgfd);
        if (r < 0)
                return fail_what(r, what, what_size, "enabling controllers for %s's children",
                                 "the wrapped cgroup");
        /* Nothing mounted here may show up outside. */
        if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
                return fail_what(-errno, what, what_size, "making %s's mounts private", "/");
        if (umount2(mnt, MNT_DETACH) < 0)
                return fail_what(-errno, what, what_size, "unmounting %s", mnt);
        if (mount("cgroup2", mnt, "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                return fail_what(-errno, what, what_size, "mounting cgroup2 again on %s", mnt);
        return 0;
}

/* Depth first: children before their parent. */
static int remove_below(int dfd)
{
        DIR *d = fdopendir(dfd);
        struct dirent *de;
        int ret = 0;

        if (!d) {
                close(dfd);
                return -errno;
        }
        while ((de = readdir(d))) {
                int sub, r;
                if (de->d_type != DT_DIR || de->d_name[0] == '.')
                        continue;
                sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                r = sub < 0 ? -errno : remove_below(sub);
                if (r == 0 && unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0)
                        r = -errno;
                if (r < 0 && r != -ENOENT && ret == 0)
                        ret = r;
        }
        closedir(d);
        return ret;
}

int run_remove_tree(int root_fd, const char *path)
{
        int fd = openat(root_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int r;

        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        r = remove_below(fd);
        if (unlinkat(root_fd, path, AT_REMOVEDIR) < 0 && errno != ENOENT && r == 0)
                r = -errno;
        return r;
}

void run_escape_root(const char *path, const char *wrapped, char *out, size_t size)
{
        size_t i = 0, keep;

        /* The common ancestor: whole components both paths start with. */
        for (keep = 0; path[i] && path[i] == wrapped[i]; i++)
                if (path[i] == '/')
                        keep = i;
        if (!path[i] && (wrapped[i] == '/' || !wrapped[i]))
                keep = i; /* @path is an ancestor of (or is) @wrapped */
        else
                keep += 1 + strcspn(path + keep + 1, "/"); /* one component past it */
        snprintf(out, size, "%.*s", (int)keep, path);
}

bool run_path_within(const char *path, const char *ancestor)
{
        size_t n = strlen(ancestor);

        while (n > 1 && ancestor[n - 1] == '/')
                n--;
        if (n == 1 && ancestor[0] == '/')
                return path[0] == '/';
        return strncmp(path, ancestor, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* The children of every thread of @pid: "/proc/PID/task/TID/children". */
static int children_of(int proc_fd, pid_t pid, pid_t **list, size_t *n, size_t *cap)
{
        char dir[64];
        DIR *d;
        struct dirent *de;
        int fd;

        snprintf(dir, sizeof(dir), "%d/task", (int)pid);
        fd = openat(proc_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -errno;
        }
        while ((de = readdir(d))) {
                char name[300], *buf = NULL, *p, *end;
                size_t len = 0;
                if (de->d_name[0] == '.')
                        continue;
                snprintf(name, sizeof(name), "%s/children", de->d_name);
                if (sv__read_alloc_at(dirfd(d), name, 1 << 20, &buf, &len) < 0)
                        continue;
                for (p = buf; *p; p = end) {
                        long c = strtol(p, &end, 10);
                        if (end == p)
                                break;
                        if (c <= 0)
                                continue;
                        if (*n == *cap) {
                                size_t nc = *cap ? *cap * 2 : 64;
                                pid_t *l = realloc(*list, nc * sizeof(*l));
                                if (!l) {
                                        free(buf);
                                        closedir(d);
                                        return -ENOMEM;
                                }
                                *list = l;
                                *cap = nc;
                        }
                        (*list)[(*n)++] = (pid_t)c;
                }
                free(buf);
        }
        closedir(d);
        return 0;
}

/* "0::/path" of /proc/PID/cgroup into @out. */
static int cgroup_of(int proc_fd, pid_t pid, char *out, size_t size)
{
        char name[64], buf[4096];
        ssize_t n;
        const char *line;

        snprintf(name, sizeof(name), "%d/cgroup", (int)pid);
        n = sv__read_at(proc_fd, name, buf, sizeof(buf));
        if (n < 0)
                return (int)n;
        for (line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
                if (strncmp(line, "0::", 3) == 0) {
                        size_t len = strcspn(line + 3, "\n");
                        if (len >= size)
                                return -ENAMETOOLONG;
                        memcpy(out, line + 3, len);
                        out[len] = '\0';
                        return 0;
                }
        return -ENOENT;
}

static void comm_of(int proc_fd, pid_t pid, char *out, size_t size)
{
        char name[64], buf[64];
        ssize_t n;

        snprintf(name, sizeof(name), "%d/comm", (int)pid);
        n = sv__read_at(proc_fd, name, buf, sizeof(buf));
        if (n <= 0) {
                snprintf(out, size, "?");
                return;
        }
        n = (ssize_t)strcspn(buf, "\n");
        if ((size_t)n >= size)
                n = (ssize_t)size - 1;
        memcpy(out, buf, (size_t)n);
        out[n] = '\0';
}

int run_escapes_scan(int proc_fd, pid_t self, const char *wrapped,
                     void (*cb)(void *userdata, const struct run_escape *e), void *userdata)
{
        pid_t *list = NULL;
        size_t n = 0, cap = 0;
        int found = 0, r;

        r = children_of(proc_fd, self, &list, &n, &cap);
        if (r < 0) {
                free(list);
                return r;
        }
        /* Breadth first; the list grows as it is walked. */
        for (size_t i = 0; i < n; i++) {
                struct run_escape e = { .pid = list[i] };
                if (children_of(proc_fd, list[i], &list, &n, &cap) == -ENOMEM) {
                        free(list);
                        return -ENOMEM;
                }
                if (cgroup_of(proc_fd, list[i], e.cgroup, sizeof(e.cgroup)) < 0)
                        continue; /* gone, or not on cgroup v2 */
                if (run_path_within(e.cgroup, wrapped))
                        continue;
                {
                        char where[sizeof(e.cgroup)];
                        run_escape_root(e.cgroup, wrapped, where, sizeof(where));
                        memcpy(e.cgroup, where, sizeof(where));
                }
                comm_of(proc_fd, list[i], e.comm, sizeof(e.comm));
                found++;
                cb(userdata, &e);
        }
        free(list);
        return found;
}

void run_reap_orphans(int proc_fd, pid_t keep)
{
        pid_t *list = NULL;
        size_t n = 0, cap = 0;

        if (children_of(proc_fd, getpid(), &list, &n, &cap) == 0)
                for (size_t i = 0; i < n; i++)
                        if (list[i] != keep)
                                (void)waitpid(list[i], NULL, WNOHANG);
        free(list);
}
