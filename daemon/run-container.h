/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What `cgsentry run` needs to wrap container runtimes: a cgroup a runtime
 * can create children in, a private cgroup namespace (--cgroupns), finding
 * the processes of the command's tree that left the wrapped cgroup, and
 * removing the whole tree afterwards.
 *
 * The wrapped cgroup W carries the limits and is what cgsentry supervises
 * and kills; the command starts in the leaf W/RUN_LEAF_NAME, so that W
 * itself holds no process and can enable controllers for the cgroups a
 * runtime creates beside the leaf (cgroup v2's no-internal-process rule).
 */
#ifndef CGSENTRY_RUN_CONTAINER_H
#define CGSENTRY_RUN_CONTAINER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define RUN_LEAF_NAME "command"

/*
 * run_enable_controllers() - enable in @cgfd's cgroup.subtree_control every
 * controller its cgroup.controllers offers (memory, pids, cpu, io, ...),
 * each on its own so that one refused controller does not cost the
 * others. 0 when memory is enabled (or was), else -errno.
 */
int run_enable_controllers(int cgfd);

/*
 * run_cgroupns_enter() - in the child, before exec: a new cgroup namespace
 * rooted at the wrapped cgroup (the child must be in it, not yet in the
 * leaf), then into the leaf (@leaf_fd), controllers for W's children
 * (@cgfd), and a new mount namespace with cgroup2 mounted again at @mnt,
 * so that the command sees W as the root of the hierarchy and a runtime's
 * "/c1" is W/c1. Mounts do not propagate back (MS_SLAVE). 0 or -errno,
 * with what failed in @what.
 */
int run_cgroupns_enter(int cgfd, int leaf_fd, const char *mnt, char *what, size_t what_size);

/*
 * run_remove_tree() - rmdir @path (relative to @root_fd) and every cgroup
 * below it, deepest first: a runtime killed with the command leaves its
 * cgroups behind. 0, or the first -errno other than ENOENT.
 */
int run_remove_tree(int root_fd, const char *path);

/* One process of the command's tree found outside the wrapped cgroup. */
struct run_escape {
        pid_t pid;
        char comm[16];
        /* Where it went: the outermost cgroup of its path that is not an
         * ancestor of the wrapped one ("/c1" for "/c1/init", and
         * "/system.slice/crun-c1.scope" for ".../crun-c1.scope/container"
         * next to "/system.slice/run.scope/w"), so that a runtime and the
         * container it nests below itself are one escape. Relative to our
         * cgroup namespace, as /proc/PID/cgroup says. */
        char cgroup[512];
};

/*
 * run_escapes_scan() - every descendant of @self (read through @proc_fd:
 * /proc/PID/task/TID/children, then /proc/PID/cgroup) whose cgroup is
 * neither @wrapped ("/a/b") nor below it; @cb is called for each. Processes
 * that exit during the walk are skipped. Returns the number found, or
 * -errno when @self cannot be read at all.
 */
int run_escapes_scan(int proc_fd, pid_t self, const char *wrapped,
                     void (*cb)(void *userdata, const struct run_escape *e), void *userdata);

/* The outermost cgroup of @path that is not an ancestor of @wrapped, into
 * @out (run_escape.cgroup); @path itself when @path is an ancestor. */
void run_escape_root(const char *path, const char *wrapped, char *out, size_t size);

/* True when @path is @ancestor or lies below it ("/a/b" in "/a"). */
bool run_path_within(const char *path, const char *ancestor);

/* Reap every exited child of ours but @keep (cgsentry run is the
 * subreaper of the command's tree: orphans are reparented to it). */
void run_reap_orphans(int proc_fd, pid_t keep);

#endif
