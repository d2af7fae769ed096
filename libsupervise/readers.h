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
/* vm.panic_on_oom, vm.oom_kill_allocating_task, vm.oom_dump_tasks and the
 * overcommit sysctls from @sys_root/vm (NULL: @proc_root/sys, read through
 * @proc_dfd); absent files keep the kernel defaults. With @sys_root given,
 * vm.swappiness comes from there too. (sysctl.c) */
int sv__sysctl_read_vm(int proc_dfd, const char *proc_root, const char *sys_root,
                       struct sv_snapshot *s, struct sv_error *err);
void sv__vm_sysctl_defaults(struct sv_vm_sysctl *vm);
/* /proc/PID/oom_adj as the kernel derives it from oom_score_adj. */
int sv__oom_adj_of(int oom_score_adj);
/* What swap can take at all: SwapFree in bytes, 0 when vm.swappiness is 0. */
int sv__proc_read_swap_free(int proc_dfd, uint64_t *ret_bytes);
/* min(@cap, memory.swap.max - memory.swap.current) over @path (relative to
 * @root_fd) and its ancestors: mem_cgroup_get_nr_swap_pages() in bytes. */
int sv__swap_headroom_walk(int root_fd, const char *path, uint64_t cap, uint64_t *ret);

#endif
