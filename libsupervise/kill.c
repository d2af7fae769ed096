/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Acting on a decision: cgroup.kill, freeze, pidfd signals, process_mrelease. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "parse.h"
#include "syscalls.h"
#include "util.h"


static int write_at(int root_fd, const char *path, const char *file, const char *value)
{
        char name[PATH_MAX + 32];

        while (*path == '/')
                path++;
        if (snprintf(name, sizeof(name), "%s%s%s", path, *path ? "/" : "", file) >=
            (int)sizeof(name))
                return -ENAMETOOLONG;
        return sv_cgroup_write(root_fd, name, value);
}

int sv_kill_cgroup(int root_fd, const char *path)
{
        return write_at(root_fd, path, "cgroup.kill", "1");
}

int sv_freeze_cgroup(int root_fd, const char *path, bool freeze)
{
        return write_at(root_fd, path, "cgroup.freeze", freeze ? "1" : "0");
}

int sv_pidfd_open_checked(int proc_dfd, int pid, uint64_t starttime)
{
        struct sv_proc_stat st;
        char name[32], buf[1024];
        ssize_t n;
        int pidfd;

        pidfd = (int)syscall(__NR_pidfd_open, pid, 0);
        if (pidfd < 0)
                return -errno;
        if (starttime == 0)
                return pidfd;
        /* The pidfd pins whatever task has @pid now; make sure it is ours. */
        snprintf(name, sizeof(name), "%d/stat", pid);
        n = sv__read_at(proc_dfd, name, buf, sizeof(buf));
        if (n < 0 || sv_parse_proc_stat(buf, (size_t)n, &st) < 0 || st.starttime != starttime) {
                close(pidfd);
                return -ESRCH;
        }
        return pidfd;
}

int sv_mrelease(int pidfd)
{
        return syscall(__NR_process_mrelease, pidfd, 0) == 0 ? 0 : -errno;
}

int sv_pidfd_kill(int pidfd, int sig, bool mrelease)
{
        if (syscall(__NR_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
                return -errno;
        if (sig == SIGKILL && mrelease)
                (void)sv_mrelease(pidfd); /* best effort: the kill itself succeeded */
        return 0;
}

int sv_cgroup_populated(int root_fd, const char *path)
{
        struct sv_cgroup_events ev;
        char name[4096], buf[256];
        ssize_t n;

        while (*path == '/')
                path++;
        snprintf(name, sizeof(name), "%s%scgroup.events", path, *path ? "/" : "");
        n = sv__read_at(root_fd, name, buf, sizeof(buf));
        if (n < 0)
                return (int)n;
        if (sv_parse_cgroup_events(buf, (size_t)n, &ev) < 0)
                return -EINVAL;
        return ev.populated;
}
