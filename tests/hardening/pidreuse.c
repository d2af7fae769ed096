/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Pid reuse between a snapshot and a kill, made to happen: a child is seen
 * (pid, start time), exits, and forks go on until a new process holds the
 * same pid. sv_pidfd_open_checked() with the old start time must refuse it
 * (-ESRCH) and leave the newcomer alone; with the newcomer's own start time
 * it must pin it. Run with a small kernel.pid_max (the sandbox's hardening
 * test sets it). Prints one line; exit 0 when both hold.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgsentry/supervise.h"
#include "parse.h"
#include "util.h"

static uint64_t starttime(int proc, pid_t pid)
{
        char name[32], buf[1024];
        struct sv_proc_stat st;
        ssize_t n;

        snprintf(name, sizeof(name), "%d/stat", pid);
        n = sv__read_at(proc, name, buf, sizeof(buf));
        return n > 0 && sv_parse_proc_stat(buf, (size_t)n, &st) == 0 ? st.starttime : 0;
}

int main(void)
{
        int proc = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC), fd, forks = 0;
        pid_t old, pid = 0;
        uint64_t old_start, new_start;

        /* After the first wrap the kernel hands out pids from 300 up
         * (RESERVED_PIDS): a pid below that never comes round, so the child
         * watched is one above it. */
        do {
                old = fork();
                if (old == 0) {
                        if (getpid() < 300)
                                _exit(0);
                        pause();
                        _exit(0);
                }
                if (old < 0) {
                        perror("fork");
                        return 2;
                }
                if (old < 300)
                        waitpid(old, NULL, 0);
        } while (old < 300);
        usleep(10000);
        old_start = starttime(proc, old);
        kill(old, SIGKILL);
        waitpid(old, NULL, 0);
        /* Fork until the pid comes round again; the one that gets it stays. */
        for (;;) {
                pid = fork();
                if (pid == 0) {
                        if (getpid() == old) {
                                pause();
                        }
                        _exit(0);
                }
                if (pid < 0) {
                        perror("fork");
                        return 2;
                }
                forks++;
                if (pid == old)
                        break;
                waitpid(pid, NULL, 0);
                if (forks > 1000000) {
                        printf("pid %d did not come round in %d forks\n", old, forks);
                        return 2;
                }
        }
        usleep(10000);
        fd = sv_pidfd_open_checked(proc, pid, old_start);
        if (fd >= 0 || fd != -ESRCH || kill(pid, 0) != 0) {
                printf("pid %d reused after %d forks: the old start time %llu was NOT refused "
                       "(%d)\n", pid, forks, (unsigned long long)old_start, fd);
                return 1;
        }
        new_start = starttime(proc, pid);
        fd = sv_pidfd_open_checked(proc, pid, new_start);
        if (fd < 0) {
                printf("the newcomer's own start time was refused: %s\n", strerror(-fd));
                return 1;
        }
        close(fd);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        printf("pid %d reused after %d forks: the snapshot's start time %llu is refused, the "
               "newcomer (start time %llu) untouched\n",
               old, forks, (unsigned long long)old_start, (unsigned long long)new_start);
        return 0;
}
