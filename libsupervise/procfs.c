/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading the OOM killer's inputs for one task, and system-wide figures, from procfs. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "parse.h"
#include "readers.h"
#include "util.h"

/* /proc/PID/status is about 1.5 KiB; leave room for long Name/Cpus lines. */
#define SV_PROC_BUF_SIZE 8192

static int read_task_file(int tfd, const char *dir, const char *name, char *buf,
                          struct sv_error *err)
{
        ssize_t n = sv__read_at(tfd, name, buf, SV_PROC_BUF_SIZE);

        if (n < 0 && !sv__is_gone((int)n))
                return sv__error(err, (int)-n, dir, name, NULL);
        return (int)n;
}

/*
 * A thread-group leader that exited while other threads live on is a zombie
 * whose status has no memory lines, yet the kernel's find_lock_task_mm()
 * finds the mm through any live thread and scores it. Do the same: the
 * memory counters are per mm, so any live thread's status has them.
 */
static void read_live_thread_mm(int tfd, int pid, struct sv_proc_status *st)
{
        char buf[SV_PROC_BUF_SIZE], name[sizeof(((struct dirent *)0)->d_name) + 8];
        struct sv_proc_status ts;
        struct dirent *de;
        int dfd;
        DIR *d;

        dfd = openat(tfd, "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return;
        d = fdopendir(dfd);
        if (!d) {
                close(dfd);
                return;
        }
        while ((de = readdir(d))) {
                ssize_t n;
                if (de->d_name[0] == '.' || atoi(de->d_name) == pid)
                        continue;
                snprintf(name, sizeof(name), "%s/status", de->d_name);
                n = sv__read_at(dirfd(d), name, buf, sizeof(buf));
                if (n < 0 || sv_parse_proc_status(buf, (size_t)n, &ts) < 0 || !ts.has_mm)
                        continue;
                st->has_mm = true;
                st->vm_size_kb = ts.vm_size_kb;
                st->rss_anon_kb = ts.rss_anon_kb;
                st->rss_file_kb = ts.rss_file_kb;
                st->rss_shmem_kb = ts.rss_shmem_kb;
                st->vm_swap_kb = ts.vm_swap_kb;
                st->vm_pte_kb = ts.vm_pte_kb;
                break;
        }
        closedir(d);
}

int sv__proc_read_task(int proc_dfd, const char *proc_root, int pid, struct sv_task *ret,
                       struct sv_error *err)
{
        char name[32], dir[600], buf[SV_PROC_BUF_SIZE];
        struct sv_proc_status st;
        struct sv_proc_stat ps;
        struct sv_task t = { .pid = pid };
        int tfd, n, r;

        snprintf(name, sizeof(name), "%d", pid);
        snprintf(dir, sizeof(dir), "%s/%d", proc_root, pid);
        tfd = openat(proc_dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (tfd < 0) {
                r = -errno;
                return sv__is_gone(r) ? r : sv__error(err, -r, dir, NULL, NULL);
        }

        n = read_task_file(tfd, dir, "stat", buf, err);
        if (n < 0) {
                r = n;
                goto out;
        }
        r = sv_parse_proc_stat(buf, (size_t)n, &ps);
        if (r < 0) {
                r = sv__error(err, -r, dir, "stat", "malformed content");
                goto out;
        }

        n = read_task_file(tfd, dir, "status", buf, err);
        if (n < 0) {
                r = n;
                goto out;
        }
        r = sv_parse_proc_status(buf, (size_t)n, &st);
        if (r < 0) {
                r = sv__error(err, -r, dir, "status", "malformed content");
                goto out;
        }

        if (!st.has_mm && !(ps.flags & SV_PF_KTHREAD))
                read_live_thread_mm(tfd, pid, &st);

        n = read_task_file(tfd, dir, "oom_score_adj", buf, err);
        if (n < 0) {
                r = n;
                goto out;
        }
        r = sv_parse_int(buf, (size_t)n, &t.oom_score_adj);
        if (r < 0 || t.oom_score_adj < SV_OOM_SCORE_ADJ_MIN ||
            t.oom_score_adj > SV_OOM_SCORE_ADJ_MAX) {
                r = sv__error(err, EINVAL, dir, "oom_score_adj", "malformed content");
                goto out;
        }

        t.has_oom_adj = true;
        t.oom_adj = sv__oom_adj_of(t.oom_score_adj);
        t.ppid = st.ppid;
        t.uid = st.uid;
        /* The kernel prints task->comm; stat has it unescaped (status escapes
         * it). For kernel workqueue threads stat shows more than comm. */
        memcpy(t.comm, ps.comm, sizeof(t.comm));
        t.state = ps.state;
        t.flags = ps.flags;
        t.starttime = ps.starttime;
        t.has_mm = st.has_mm;
        t.vm_size_kb = st.vm_size_kb;
        t.rss_anon_kb = st.rss_anon_kb;
        t.rss_file_kb = st.rss_file_kb;
        t.rss_shmem_kb = st.rss_shmem_kb;
        t.vm_swap_kb = st.vm_swap_kb;
        t.vm_pte_kb = st.vm_pte_kb;
        t.group = ret->group;
        *ret = t;
        r = 0;
out:
        close(tfd);
        return r;
}

/* vm.swappiness: 60 (the kernel default) when the file is absent, so that
 * minimal fixture trees need not carry it. */
static int read_swappiness(int proc_dfd, const char *proc_root, int *ret, struct sv_error *err)
{
        char buf[64];
        ssize_t n;
        int r, v = 60;

        n = sv__read_at(proc_dfd, "sys/vm/swappiness", buf, sizeof(buf));
        if (n >= 0) {
                r = sv_parse_int(buf, (size_t)n, &v);
                if (r < 0 || v < 0)
                        return sv__error(err, EINVAL, proc_root, "sys/vm/swappiness",
                                         "malformed content");
        } else if (n != -ENOENT) {
                return sv__error(err, (int)-n, proc_root, "sys/vm/swappiness", NULL);
        }
        *ret = v;
        return 0;
}

static int read_meminfo(int proc_dfd, const char *proc_root, struct sv_meminfo *ret,
                        struct sv_error *err)
{
        char buf[SV_PROC_BUF_SIZE];
        ssize_t n;
        int r;

        n = sv__read_at(proc_dfd, "meminfo", buf, sizeof(buf));
        if (n < 0)
                return sv__error(err, (int)-n, proc_root, "meminfo", NULL);
        r = sv_parse_meminfo_all(buf, (size_t)n, ret);
        if (r < 0)
                return sv__error(err, -r, proc_root, "meminfo", "malformed content");
        /* Kernels without SwapFree have no swap to speak of. */
        if (!(ret->have & SV_MEMINFO_SWAP_FREE))
                ret->swap_free_kb = ret->swap_total_kb;
        return 0;
}

int sv__proc_read_system(int proc_dfd, const char *proc_root, uint64_t page_size,
                         struct sv_snapshot *s, struct sv_error *err)
{
        uint64_t page_kb = page_size / 1024;
        struct sv_meminfo mi;
        int r, swappiness = 60; /* set by read_swappiness(); -O2 cannot tell */

        r = read_meminfo(proc_dfd, proc_root, &mi, err);
        if (r < 0)
                return r;
        r = read_swappiness(proc_dfd, proc_root, &swappiness, err);
        if (r < 0)
                return r;
        s->total_ram_pages = mi.mem_total_kb / page_kb;
        s->total_swap_pages = mi.swap_total_kb / page_kb;
        s->free_swap_pages = mi.swap_free_kb / page_kb;
        s->swappiness = swappiness;
        s->have_commit = (mi.have & (SV_MEMINFO_COMMIT_LIMIT | SV_MEMINFO_COMMITTED_AS)) ==
                         (SV_MEMINFO_COMMIT_LIMIT | SV_MEMINFO_COMMITTED_AS);
        s->commit_limit_kb = mi.commit_limit_kb;
        s->committed_as_kb = mi.committed_as_kb;
        return 0;
}

int sv__proc_read_swap_free(int proc_dfd, uint64_t *ret_bytes)
{
        struct sv_meminfo mi;
        int r, swappiness = 60; /* set by read_swappiness(); -O2 cannot tell */

        r = read_meminfo(proc_dfd, "", &mi, NULL);
        if (r < 0)
                return r;
        r = read_swappiness(proc_dfd, "", &swappiness, NULL);
        if (r < 0)
                return r;
        /* get_scan_count(): cgroup reclaim without swappiness scans file only. */
        *ret_bytes = swappiness ? mi.swap_free_kb * 1024 : 0;
        return 0;
}
