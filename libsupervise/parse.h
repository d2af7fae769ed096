/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Pure parsers for cgroupfs and procfs files. Every function takes a buffer
 * and its length (the buffer need not be NUL-terminated), never touches the
 * file system, and returns 0 or -EINVAL (malformed or truncated content;
 * -ERANGE for numbers that overflow). ret_* are untouched on failure.
 *
 * Key/value files (memory.events, memory.stat, cgroup.events, status,
 * meminfo) ignore keys they do not know, so newer kernels keep working, but
 * fail when a key that every supported kernel writes is missing: that is a
 * truncated read, not a kernel difference.
 */
#ifndef SV_PARSE_H
#define SV_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "cgsentry/supervise.h"

/* "123\n" */
int sv_parse_u64(const char *buf, size_t len, uint64_t *ret);
/* "-1000\n", "0\n" */
int sv_parse_int(const char *buf, size_t len, int *ret);
/* memory.max style: "max\n" -> SV_LIMIT_MAX, else bytes */
int sv_parse_limit(const char *buf, size_t len, uint64_t *ret);
/* memory.oom.group: "0\n" or "1\n" */
int sv_parse_bool01(const char *buf, size_t len, bool *ret);

/* memory.events / memory.events.local; requires low high max oom oom_kill */
int sv_parse_memory_events(const char *buf, size_t len, struct sv_memory_events *ret);
/* memory.pressure / /proc/pressure/memory; requires the "some" line */
int sv_parse_psi(const char *buf, size_t len, struct sv_psi *ret);
/* memory.stat; requires anon and file */
int sv_parse_memory_stat(const char *buf, size_t len, struct sv_memory_stat *ret);
/* cgroup.events; requires populated */
int sv_parse_cgroup_events(const char *buf, size_t len, struct sv_cgroup_events *ret);
/* cgroup.controllers / cgroup.subtree_control: space-separated names, may be empty;
 * unknown controller names are ignored */
int sv_parse_controllers(const char *buf, size_t len, unsigned *ret);
/* cgroup.procs: one pid per line, may be empty. *ret is malloc'ed (NULL when
 * empty); -ENOMEM possible. */
int sv_parse_pids(const char *buf, size_t len, int **ret, size_t *ret_n);

/* /proc/PID/status; requires Name, Tgid, Pid, PPid, Uid. The Vm and Rss
 * lines are absent for kernel threads and zombies: has_mm = false then. */
int sv_parse_proc_status(const char *buf, size_t len, struct sv_proc_status *ret);
/* /proc/PID/stat: "pid (comm) state ppid … flags …"; comm may contain
 * spaces and parentheses, so it ends at the LAST ')'. */
int sv_parse_proc_stat(const char *buf, size_t len, struct sv_proc_stat *ret);
/* /proc/meminfo: MemTotal and SwapTotal in kB (both required) */
int sv_parse_meminfo(const char *buf, size_t len, uint64_t *ret_mem_total_kb,
                     uint64_t *ret_swap_total_kb);
/* /proc/meminfo: every line of struct sv_meminfo; MemTotal and SwapTotal
 * required, the others flagged in ->have when present. */
int sv_parse_meminfo_all(const char *buf, size_t len, struct sv_meminfo *ret);

/* A size given by a user (command line, config): "512", "64K", "1.5G",
 * "max"; K M G T are powers of 1024 as in cgroupfs and systemd. */
int sv_parse_size(const char *s, uint64_t *ret);

#endif
