/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The I/O side of libsupervise: fill plain structs from cgroupfs and procfs. */
#ifndef SV_READERS_H
#define SV_READERS_H

#include "cgsentry/supervise.h"

/*
 * Read the files of one cgroup (an open directory fd) into @g: limits,
 * counters, events, pressure, stat, oom.group, subtree_control. Files a
 * kernel or configuration may lack (memory.peak, swap, PSI, the whole
 * memory controller) leave their SV_HAVE_* bit clear. @path names the
 * directory in errors. -ENOENT/-ENODEV: the group vanished.
 */
int sv__cgfs_read_group(int dfd, const char *path, bool minimal, struct sv_group *g,
                        struct sv_error *err);
/* cgroup.procs of an open cgroup directory; *ret is malloc'ed. */
int sv__cgfs_read_procs(int dfd, const char *path, int **ret, size_t *ret_n,
                        struct sv_error *err);

/*
 * Read /proc/PID/{stat,status,oom_score_adj} through one directory fd, so
 * all three describe the same task even if the pid is reused meanwhile
 * (reads then fail with ESRCH). -ESRCH/-ENOENT: the task is gone.
 */
int sv__proc_read_task(int proc_dfd, const char *proc_root, int pid, struct sv_task *ret,
                       struct sv_error *err);
/* MemTotal/SwapTotal from meminfo and vm.swappiness (60 when absent, the
 * kernel default, so minimal fixture trees need not carry it). */
int sv__proc_read_system(int proc_dfd, const char *proc_root, uint64_t page_size,
                         struct sv_snapshot *s, struct sv_error *err);

#endif
