/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libsupervise: read cgroup v2 memory domains, mirror the kernel's memcg OOM
 * victim selection over a snapshot of them, and (in later layers) act on it.
 *
 * Conventions (see DESIGN.md):
 *  - functions return 0 (or a count) on success and -errno on failure;
 *  - ret_* out-parameters come last and are untouched on failure;
 *  - destructors accept NULL;
 *  - the library never logs; errors that concern a file carry its path in a
 *    caller-provided struct sv_error.
 */
#ifndef CGSENTRY_SUPERVISE_H
#define CGSENTRY_SUPERVISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define SV_EXPORT __attribute__((visibility("default")))
#else
#define SV_EXPORT
#endif

#define SV_VERSION_MAJOR 0
#define SV_VERSION_MINOR 1
#define SV_VERSION_PATCH 0

/* "max" in a cgroupfs limit file. */
#define SV_LIMIT_MAX UINT64_MAX

/* Extended attributes an operator sets on a cgroup for the policies. */
#define SV_XATTR_PREFER "user.cgsentry.prefer"
#define SV_XATTR_AVOID "user.cgsentry.avoid"

/* Linux TASK_COMM_LEN is 16 including the NUL. */
#define SV_COMM_LEN 16

/* oom_score_adj range, include/uapi/linux/oom.h */
#define SV_OOM_SCORE_ADJ_MIN (-1000)
#define SV_OOM_SCORE_ADJ_MAX 1000

/* PF_KTHREAD from include/linux/sched.h; exposed as field 9 of /proc/PID/stat. */
#define SV_PF_KTHREAD 0x00200000u

/*
 * Where an error happened: the library fills this (when the caller passes
 * one) so the front-end can name the offending file. err is a positive errno.
 */
struct sv_error {
        int err;
        char path[512];
        char what[128];
};

/* ---- plain data read from cgroupfs ------------------------------------ */

/* memory.events / memory.events.local */
struct sv_memory_events {
        uint64_t low, high, max, oom, oom_kill, oom_group_kill;
};

/* One line of a PSI file: "some avg10=0.00 avg60=0.00 avg300=0.00 total=0" */
struct sv_psi_line {
        double avg10, avg60, avg300;
        uint64_t total_usec;
};

struct sv_psi {
        struct sv_psi_line some, full;
        bool has_full; /* the system-wide cpu file has no "full" line on old kernels */
};

/* The memory.stat fields policies and the reclaim estimate need, in bytes
 * (counters are event counts). Fields a kernel does not have stay 0. */
struct sv_memory_stat {
        uint64_t anon, file, kernel, kernel_stack, pagetables, sock, shmem;
        uint64_t file_mapped, file_dirty, file_writeback, swapcached;
        uint64_t active_anon, inactive_anon, active_file, inactive_file, unevictable;
        uint64_t slab;
        uint64_t slab_reclaimable, slab_unreclaimable;
        uint64_t sec_pagetables, percpu, vmalloc, zswap;
        uint64_t workingset_refault_anon, workingset_refault_file;
        uint64_t pgscan, pgsteal, pgfault, pgmajfault;
};

/* cgroup.events */
struct sv_cgroup_events {
        bool populated, frozen;
};

/* Controller bits for cgroup.controllers / cgroup.subtree_control. */
enum {
        SV_CTRL_CPUSET = 1u << 0,
        SV_CTRL_CPU = 1u << 1,
        SV_CTRL_IO = 1u << 2,
        SV_CTRL_MEMORY = 1u << 3,
        SV_CTRL_HUGETLB = 1u << 4,
        SV_CTRL_PIDS = 1u << 5,
        SV_CTRL_RDMA = 1u << 6,
        SV_CTRL_MISC = 1u << 7,
};

/* ---- plain data read from procfs -------------------------------------- */

/* What /proc/PID/status says that the OOM killer looks at (sizes in kB). */
struct sv_proc_status {
        char name[SV_COMM_LEN];
        int tgid, pid, ppid;
        uint32_t uid; /* real uid, as the kernel's task dump prints */
        bool has_mm;  /* Vm* lines present: not a kernel thread or zombie */
        uint64_t vm_size_kb, rss_anon_kb, rss_file_kb, rss_shmem_kb, vm_swap_kb, vm_pte_kb;
};

/* What /proc/PID/stat says. */
struct sv_proc_stat {
        int pid, ppid;
        char comm[SV_COMM_LEN];
        char state;
        uint32_t flags; /* task->flags, PF_* */
        uint64_t starttime; /* clock ticks since boot: detects pid reuse */
};

/* What /proc/meminfo says, in kB; ->have flags the lines that were present
 * (MemTotal and SwapTotal always are). */
enum {
        SV_MEMINFO_MEM_TOTAL = 1u << 0,
        SV_MEMINFO_MEM_FREE = 1u << 1,
        SV_MEMINFO_MEM_AVAILABLE = 1u << 2,
        SV_MEMINFO_SWAP_TOTAL = 1u << 3,
        SV_MEMINFO_SWAP_FREE = 1u << 4,
        SV_MEMINFO_COMMIT_LIMIT = 1u << 5,
        SV_MEMINFO_COMMITTED_AS = 1u << 6,
};

struct sv_meminfo {
        uint64_t mem_total_kb, mem_free_kb, mem_available_kb;
        uint64_t swap_total_kb, swap_free_kb;
        uint64_t commit_limit_kb, committed_as_kb;
        unsigned have;
};

/* ---- snapshot of a domain --------------------------------------------- */

/* Which of a group's files were readable (absent files stay zero/unset). */
enum {
        SV_HAVE_MEMORY = 1u << 0, /* memory.current, .max, … (memory controller on) */
        SV_HAVE_SWAP = 1u << 1,   /* memory.swap.current / .max */
        SV_HAVE_EVENTS = 1u << 2,
        SV_HAVE_PRESSURE = 1u << 3,
        SV_HAVE_STAT = 1u << 4,
        SV_HAVE_PEAK = 1u << 5,
};

struct sv_group {
        char *path;   /* "/a/b" relative to the cgroupfs root; "/" for the root */
        int parent;   /* index in sv_snapshot.groups, -1 for the domain itself */
        int depth;    /* 0 for the domain */
        uint64_t ino; /* cgroup id (inode); orders siblings like the kernel */
        unsigned have;
        unsigned subtree_control; /* SV_CTRL_* enabled for the children */
        bool memcg;   /* this cgroup has its own memory controller css */
        uint64_t memory_current, memory_max, memory_high, memory_low, memory_min, memory_peak;
        uint64_t swap_current, swap_max;
        bool oom_group; /* memory.oom.group */
        bool threaded;  /* a threaded cgroup: its processes are listed by its threaded domain */
        /* xattrs user.cgsentry.prefer / user.cgsentry.avoid: set unless absent
         * or "0" (read with everything else; policies may rank by them). */
        bool prefer, avoid;
        struct sv_memory_events events, events_local;
        struct sv_psi pressure;
        struct sv_memory_stat stat;
        struct sv_cgroup_events cgevents;
        size_t first_task, n_tasks; /* this group's tasks in sv_snapshot.tasks */
};

struct sv_task {
        int pid; /* thread-group leader (tgid) */
        int ppid;
        uint32_t uid;
        char comm[SV_COMM_LEN];
        char state;
        uint32_t flags;
        uint64_t starttime;
        int oom_score_adj;
        bool has_mm;
        uint64_t vm_size_kb, rss_anon_kb, rss_file_kb, rss_shmem_kb, vm_swap_kb, vm_pte_kb;
        int group; /* index in sv_snapshot.groups */
        /* /proc/PID/oom_adj, the legacy view the kernel derives from
         * oom_score_adj (-17..16: 942..999 show 16); optional in saved snapshots. */
        bool has_oom_adj;
        int oom_adj;
};

/* A part of the domain the reader could not read (and left out). */
struct sv_skipped {
        char *path; /* the file or group */
        int err;    /* positive errno */
        char what[128];
};

/* How deep below the domain a snapshot reads (cgroup.max.depth is
 * unlimited by default; a walk must not be). */
#define SV_SNAPSHOT_MAX_DEPTH 64

struct sv_snapshot {
        char *domain;          /* path of groups[0], "/a/b" */
        uint64_t page_size;    /* bytes */
        uint64_t total_ram_pages;  /* MemTotal */
        uint64_t total_swap_pages; /* SwapTotal */
        uint64_t free_swap_pages;  /* SwapFree */
        /* What swap can still take from the domain (bytes, as
         * sv_swap_headroom_read() says); 0 without swap or swappiness. */
        uint64_t swap_headroom;
        int swappiness;        /* vm.swappiness: cgroup v2 has no per-memcg value */
        struct sv_group *groups; /* pre-order, kernel sibling order; [0] = domain */
        size_t n_groups;
        struct sv_task *tasks;   /* grouped by group, in cgroup.procs order */
        size_t n_tasks;
        /* What sv_snapshot_take() could not read below the domain, left
         * out rather than failing the whole snapshot (not saved in JSON). */
        struct sv_skipped *skipped;
        size_t n_skipped;
        /* What decides an OOM's outcome before any scan (vm.* sysctls,
         * kernel defaults when absent) and the overcommit figures. */
        struct sv_vm_sysctl {
                int panic_on_oom;             /* 0, 1, 2 */
                int oom_kill_allocating_task; /* 0, 1 */
                int oom_dump_tasks;           /* 0, 1 (default 1) */
                int overcommit_memory;        /* 0 heuristic, 1 always, 2 never */
                int overcommit_ratio;         /* percent, default 50 */
                uint64_t overcommit_kbytes;
        } vm;
        bool have_commit;                 /* CommitLimit / Committed_AS known */
        uint64_t commit_limit_kb, committed_as_kb;
};

struct sv_snapshot_opts {
        const char *cgroup_root; /* default "/sys/fs/cgroup" */
        const char *proc_root;   /* default "/proc" */
        uint64_t page_size;      /* 0: sysconf(_SC_PAGESIZE) */
        /* Read only what the kernel mirror needs (limits, oom.group, procs and
         * the tasks): the kill path's snapshot, where every file read is time
         * the runaway keeps allocating. Counters, PSI and memory.stat stay
         * zero and their SV_HAVE_* bits clear. */
        bool minimal;
        /* sysctl root for vm.*: default PROC_ROOT/sys (/proc/sys) */
        const char *sys_root;
};

/**
 * sv_snapshot_take() - read a domain (a cgroup subtree) and its processes.
 * @opts:   roots to read from (NULL for the live system)
 * @domain: cgroup path relative to the cgroupfs root ("work.slice/app",
 *          leading/trailing slashes ignored, "" or "/" for the root)
 *
 * Groups and tasks that vanish while being read (ENOENT, ENODEV, ESRCH) are
 * left out: that is normal. A descendant group or task that cannot be read
 * otherwise (malformed, unreadable, deeper than SV_SNAPSHOT_MAX_DEPTH) is
 * left out too and listed in s->skipped: one bad group must not blind the
 * caller to the rest. A threaded cgroup (cgroup.procs: EOPNOTSUPP) is read
 * without processes. The domain itself must be readable: otherwise -errno
 * and @err names the file; a missing domain is -ENOENT.
 */
SV_EXPORT int sv_snapshot_take(const struct sv_snapshot_opts *opts, const char *domain,
                               struct sv_snapshot **ret, struct sv_error *err);
SV_EXPORT void sv_snapshot_free(struct sv_snapshot *s);

/* Builders, used by the readers, the JSON loader and tests. @page_size: 0
 * for 4096, else a power of two of at least 1024 (else NULL, errno EINVAL). */
SV_EXPORT struct sv_snapshot *sv_snapshot_new(const char *domain, uint64_t page_size);
/* Appends a group; returns its index or -ENOMEM. Copies @path. */
SV_EXPORT int sv_snapshot_add_group(struct sv_snapshot *s, const char *path, int parent,
                                    const struct sv_group *tmpl);
/* Appends a task to the last added group; returns its index or -errno. */
SV_EXPORT int sv_snapshot_add_task(struct sv_snapshot *s, const struct sv_task *t);
SV_EXPORT int sv_snapshot_find_group(const struct sv_snapshot *s, const char *path);
/* true if @g is @anc or lies below it */
SV_EXPORT bool sv_snapshot_group_is_descendant(const struct sv_snapshot *s, int g, int anc);

/* JSON round trip (schema "cgsentry-snapshot/1"). */
SV_EXPORT int sv_snapshot_to_json(const struct sv_snapshot *s, FILE *out);
SV_EXPORT int sv_snapshot_from_json(const char *text, struct sv_snapshot **ret,
                                    struct sv_error *err);
SV_EXPORT int sv_snapshot_load_json(const char *path, struct sv_snapshot **ret,
                                    struct sv_error *err);

/* ---- the kernel mirror (pure) ----------------------------------------- */

/* LONG_MIN in oom_badness(): never selected. */
#define SV_POINTS_UNKILLABLE INT64_MIN

/* Why a task was not a candidate. */
enum sv_unkillable {
        SV_KILLABLE = 0,
        SV_UNKILLABLE_INIT,       /* global init: is_global_init() */
        SV_UNKILLABLE_KTHREAD,    /* PF_KTHREAD */
        SV_UNKILLABLE_NO_MM,      /* zombie / exiting: find_lock_task_mm() == NULL */
        SV_UNKILLABLE_ADJ_MIN,    /* oom_score_adj == -1000 */
        SV_UNKILLABLE_EXCLUDED,   /* not the kernel's rule: excluded by sv_oom_opts */
};

SV_EXPORT const char *sv_unkillable_to_string(enum sv_unkillable u);

/**
 * sv_oom_totalpages() - oc->totalpages for a memcg OOM in @group:
 * mem_cgroup_get_max() ?: 1, i.e. memory.max + min(swap.max, total swap)
 * when swappiness != 0 (cgroup v2: vm.swappiness). For the root it is the
 * global OOM figure, totalram + total swap.
 */
SV_EXPORT uint64_t sv_oom_totalpages(const struct sv_snapshot *s, int group);

/**
 * sv_oom_badness() - oom_badness(): SV_POINTS_UNKILLABLE for unkillable
 * tasks (reason in @ret_why when non-NULL), else rss + swapents +
 * pgtables_bytes / PAGE_SIZE + oom_score_adj * (totalpages / 1000).
 */
SV_EXPORT int64_t sv_oom_badness(const struct sv_snapshot *s, const struct sv_task *t,
                                 uint64_t totalpages, enum sv_unkillable *ret_why);

struct sv_candidate {
        int task;       /* index in snapshot tasks */
        int64_t points; /* SV_POINTS_UNKILLABLE when not eligible */
        enum sv_unkillable why;
};

struct sv_oom_result {
        int domain;            /* OOMing memcg (group index) */
        uint64_t totalpages;
        struct sv_candidate *candidates; /* every task of the domain, scan order */
        size_t n_candidates;
        int victim;            /* task index, -1 when nothing is killable */
        int64_t victim_points;
        int kill_group;        /* group index from mem_cgroup_get_oom_group(), or -1 */
        int *kill_tasks;       /* task indexes that die: victim + group members */
        size_t n_kill_tasks;   /* sorted by pid */
};

/**
 * sv_oom_select() - what the kernel's memcg OOM killer would do if @domain
 * (a group index, normally 0) hit its limit now: select_bad_process() over
 * mem_cgroup_scan_tasks() (pre-order, ties to the task scanned later),
 * mem_cgroup_get_oom_group() and oom_kill_memcg_member().
 * Free the result with sv_oom_result_free().
 */
SV_EXPORT int sv_oom_select(const struct sv_snapshot *s, int domain, struct sv_oom_result **ret);
SV_EXPORT void sv_oom_result_free(struct sv_oom_result *r);

/**
 * sv_oom_group() - mem_cgroup_get_oom_group(victim, oom_domain): from the
 * victim's memcg up to @domain (inclusive), the highest group with
 * memory.oom.group set; -1 if none, if the victim is in the root memcg or
 * outside @domain. @extra_flags (may be NULL) is an array of n_groups bools
 * OR-ed with memory.oom.group (the daemon's OOMGroup= rules).
 */
SV_EXPORT int sv_oom_group(const struct sv_snapshot *s, int victim_task, int domain,
                           const bool *extra_flags);

/**
 * sv_oom_group_members() - the tasks of @group's subtree that the kernel
 * kills in a group kill (oom_kill_memcg_member(): all but -1000 and init;
 * tasks without an mm are skipped), as indexes sorted by pid, into
 * @ret_tasks (room for n_tasks). Returns how many.
 */
SV_EXPORT size_t sv_oom_group_members(const struct sv_snapshot *s, int group, int *ret_tasks);

/* The same walk starting from a group rather than a task (a policy's
 * chosen group): -1 when nothing widens it. */
SV_EXPORT int sv_oom_group_of(const struct sv_snapshot *s, int group, int domain,
                              const bool *extra_flags);

/* The memcg a group's tasks are charged to: the group itself when it has a
 * memory css, else its nearest ancestor that has one. */
SV_EXPORT int sv_snapshot_memcg_of(const struct sv_snapshot *s, int group);

/* What cgsentry's rules add to the kernel's selection. */
struct sv_oom_opts {
        /* n_groups bools OR-ed into memory.oom.group for the group walk (a
         * rule's OOMGroup=), or NULL. */
        const bool *extra_oom_group;
        /* n_tasks bools: tasks that are never the victim and never killed
         * (Protect=, the supervisor itself), as the kernel treats -1000, or
         * NULL. Their candidates say SV_UNKILLABLE_EXCLUDED. */
        const bool *exclude;
};

/* sv_oom_select() with @opts (may be NULL: the kernel's own selection). */
SV_EXPORT int sv_oom_select_opts(const struct sv_snapshot *s, int domain,
                                 const struct sv_oom_opts *opts, struct sv_oom_result **ret);
/* sv_oom_group_members() that also leaves out the @exclude'd tasks. */
SV_EXPORT size_t sv_oom_group_members_opts(const struct sv_snapshot *s, int group,
                                           const bool *exclude, int *ret_tasks);

/* ---- user input (input.c, glob.c) ---------------------------------------- */

/*
 * sv_parse_duration() - "10s", "500ms", "1.5s", "2min", "1h", "250us" or
 * bare seconds (the syntax of cgsentry_parse_duration_usec() in policy.h),
 * within [@min_usec, @max_usec]. On failure returns -EINVAL or -ERANGE and,
 * when @msg is non-NULL, says what is accepted, range included.
 */
SV_EXPORT int sv_parse_duration(const char *s, uint64_t min_usec, uint64_t max_usec,
                                uint64_t *ret, char *msg, size_t msg_size);
/* sv_parse_percent() - "90%", "90.5%" into permyriad within the range. */
SV_EXPORT int sv_parse_percent(const char *s, unsigned min_permyriad, unsigned max_permyriad,
                               unsigned *ret, char *msg, size_t msg_size);
/* "10s", "500ms", "2min": the largest unit that divides @usec exactly. */
SV_EXPORT const char *sv_format_duration(uint64_t usec, char *buf, size_t size);

/*
 * sv_glob_match() - a cgroup path ("a/b", leading slashes ignored) against
 * a glob: '*' '?' '[...]' within one component, '**' any number of whole
 * components (none included). What Match= and Protect= use.
 */
SV_EXPORT bool sv_glob_match(const char *pattern, const char *path);
/* Could @pattern match @path or a cgroup below it? (discovery) */
SV_EXPORT bool sv_glob_could_contain(const char *pattern, const char *path);

/* ---- what reclaim can give back (reclaim.c, pure) ---------------------- */

/*
 * A group's memory split by what memcg reclaim can take back (see
 * reclaim.c for the kernel behaviour it follows). Bytes.
 */
struct sv_reclaim {
        uint64_t usage;            /* memory.current, as given */
        uint64_t swap_headroom;    /* as given: what swap can still take */
        /* reclaimable */
        uint64_t file;             /* page cache on the file LRU (dirty and writeback included) */
        uint64_t slab_reclaimable; /* dentries, inodes */
        uint64_t swappable;        /* anon + shmem that swap can take now */
        /* not reclaimable */
        uint64_t anon;             /* anon beyond the swap headroom */
        uint64_t shmem;            /* shmem/tmpfs beyond the swap headroom */
        uint64_t unevictable;      /* mlocked, SHM_LOCK, ramfs */
        uint64_t kernel;           /* stacks, page tables, percpu, vmalloc, unreclaimable slab, sockets */
        uint64_t nonreclaimable;   /* anon + shmem + unevictable + kernel */
};

/**
 * sv_reclaim_estimate() - split @st (the group's memory.stat) into what
 * reclaim can and cannot take back, given @swap_headroom (bytes swap can
 * still take from this group: sv_swap_headroom_read(); 0 without swap or
 * with vm.swappiness 0). @usage is memory.current, carried for messages.
 */
SV_EXPORT void sv_reclaim_estimate(const struct sv_memory_stat *st, uint64_t usage,
                                   uint64_t swap_headroom, struct sv_reclaim *ret);

/* True when the non-reclaimable memory has reached @permyriad (9000 = 90%)
 * of @memory_max: the tripwire's kill condition. Never for "max". */
SV_EXPORT bool sv_reclaim_over(const struct sv_reclaim *r, uint64_t memory_max,
                               unsigned permyriad);

/* Non-reclaimable memory as whole percent of @memory_max (0 for "max"). */
SV_EXPORT unsigned sv_reclaim_share(const struct sv_reclaim *r, uint64_t memory_max);

/* @value * @permyriad / 10000 without overflow (Tripwire=, thresholds). */
SV_EXPORT uint64_t sv_permyriad_of(uint64_t value, unsigned permyriad);

/* "118 MiB", "1.5 GiB", "512 B", "max" into @buf; returns @buf. */
SV_EXPORT const char *sv_format_bytes(uint64_t bytes, char *buf, size_t size);

/**
 * sv_swap_headroom_read() - how much more of @path's memory swap can take
 * now, as memcg reclaim sees it (mem_cgroup_get_nr_swap_pages()): SwapFree,
 * capped by memory.swap.max - memory.swap.current of @path and each of its
 * ancestors; 0 when vm.swappiness is 0. @root_fd is the cgroupfs root,
 * @proc_fd the procfs root. Returns 0 and bytes in *@ret, or -errno
 * (-ENOENT: the group is gone).
 */
SV_EXPORT int sv_swap_headroom_read(int root_fd, int proc_fd, const char *path, uint64_t *ret);

/* ---- what set off a kill (trigger.c, pure) ------------------------------ */

enum sv_trigger_kind {
        SV_TRIGGER_TRIPWIRE,        /* non-reclaimable memory reached Tripwire= of memory.max */
        SV_TRIGGER_PRESSURE,        /* a PSI trigger on memory.pressure fired */
        SV_TRIGGER_KERNEL_OOM_KILL, /* the kernel OOM-killed a member: finish the group */
        SV_TRIGGER_NODE_PRESSURE,   /* the whole node is short: MemAvailable or its PSI */
};

/* The trigger and the figures it was decided on. */
struct sv_trigger {
        enum sv_trigger_kind kind;
        /* tripwire */
        uint64_t memory_max;
        unsigned permyriad;
        struct sv_reclaim reclaim;
        /* pressure: the trigger as written, and memory.pressure when it fired */
        bool psi_full;
        uint64_t stall_usec, window_usec;
        struct sv_psi psi;
        /* kernel-oom-kill: memory.events oom_kill before and after */
        uint64_t oom_kill_before, oom_kill;
        /* node-pressure: from the node's PSI trigger (node_psi; the psi_*,
         * stall and window fields above say which) or from MemAvailable
         * below the threshold (bytes, /proc/meminfo) */
        bool node_psi;
        uint64_t mem_total, mem_available, available_min;
};

/* "tripwire", "pressure", "kernel-oom-kill", "node-pressure" */
SV_EXPORT const char *sv_trigger_name(enum sv_trigger_kind kind);

/* One line saying what fired and with which figures ("non-reclaimable 118
 * MiB = 92% of memory.max 128 MiB (anon …)"), snprintf()-style. */
SV_EXPORT int sv_trigger_describe(const struct sv_trigger *t, char *buf, size_t size);

/* ---- node pressure (node.c, pure) -------------------------------------- */

/*
 * sv_node_threshold() - NodeMemoryAvailable= in bytes: @bytes when set,
 * else @permyriad of @mem_total (bytes); 0 when neither is set.
 */
SV_EXPORT uint64_t sv_node_threshold(uint64_t mem_total, uint64_t bytes, unsigned permyriad);

/* When to read MemAvailable again (the kernel has no event for it). */
#define SV_NODE_POLL_MIN_MSEC 100
#define SV_NODE_POLL_MAX_MSEC 1000
/*
 * sv_node_poll_msec() - milliseconds until the next read of MemAvailable:
 * half the time the headroom above @threshold lasts against a runaway
 * filling memory at 1 GiB/s, between SV_NODE_POLL_MIN_MSEC (at or below
 * the threshold) and SV_NODE_POLL_MAX_MSEC (plenty of room).
 */
SV_EXPORT uint64_t sv_node_poll_msec(uint64_t available, uint64_t threshold);

/* ---- the one kill decision (plan.c, pure) ------------------------------- */

/* Why a process within a kill's reach is not killed. */
enum sv_spare_reason {
        SV_SPARE_ADJ_MIN,  /* oom_score_adj -1000: the kernel spares it too */
        SV_SPARE_PROTECT,  /* the rule's Protect= */
        SV_SPARE_SELF,     /* the supervisor itself */
        SV_SPARE_INIT,     /* global init */
        SV_SPARE_KTHREAD,  /* a kernel thread */
        SV_SPARE_NO_MM,    /* exiting or a zombie: nothing to free */
};
SV_EXPORT const char *sv_spare_reason_to_string(enum sv_spare_reason why);

/* How far a kill reaches. */
enum sv_plan_scope {
        SV_SCOPE_NONE,           /* nothing killable */
        SV_SCOPE_TASK,           /* the victim alone */
        SV_SCOPE_OOM_GROUP,      /* widened by memory.oom.group */
        SV_SCOPE_RULE_OOM_GROUP, /* widened by the rule's OOMGroup= */
        SV_SCOPE_POLICY_GROUP,   /* the group a policy named, whole */
        SV_SCOPE_KERNEL_KILL,    /* the rest of the domain after a kernel OOM kill */
};
SV_EXPORT const char *sv_plan_scope_to_string(enum sv_plan_scope scope);

/* What a rule adds to the kernel's rules. */
struct sv_kill_rule {
        const char *name;           /* for the text; may be NULL */
        bool oom_group;             /* OOMGroup=: the domain counts as memory.oom.group */
        /* Protect= globs, relative to the cgroup root; a matching cgroup
         * protects its whole subtree */
        const char *const *protect;
        size_t n_protect;
        int self_pid;               /* never killed (the supervisor); 0: none */
};

/* A policy's answer, in snapshot indexes (sv_policy_choose() gives it). */
struct sv_plan_choice {
        int group;               /* -1: nothing chosen */
        int task;                /* -1: the whole group */
        const char *policy;      /* its name; NULL: "kernel" */
        const char *explanation; /* its one line, or NULL */
};

struct sv_spared {
        int task; /* snapshot index */
        enum sv_spare_reason why;
};

struct sv_plan {
        enum sv_trigger_kind trigger;
        char *policy;             /* who decided: "kernel" or a policy's name */
        char *policy_explanation; /* the policy's own line, or NULL */
        int victim;               /* task index, -1 when a group was named or none */
        int64_t victim_points;    /* its oom_badness */
        int kill_group;           /* the group emptied, -1: the victim alone */
        enum sv_plan_scope scope;
        int *kill_tasks;          /* task indexes, sorted by pid */
        size_t n_kill_tasks;
        struct sv_spared *spared; /* within the kill group, sorted like the snapshot */
        size_t n_spared;
        bool keeps_someone;       /* a spared task must survive (not just exiting ones) */
        bool use_cgroup_kill;     /* a whole group and nobody to keep: cgroup.kill */
        /* The kernel mirror under the rule (its spared tasks unkillable,
         * OOMGroup= on the domain): candidates and badness, in scan order. */
        struct sv_oom_result *selection;
};

/**
 * sv_plan_kill() - the one decision: what dies when @trig fires on the
 * domain of @s (group 0) under @rule (NULL: the kernel's rules alone), with
 * @choice (NULL: the kernel's choice). No I/O. Free with sv_plan_free().
 * -EINVAL when @choice is out of range.
 */
SV_EXPORT int sv_plan_kill(const struct sv_snapshot *s, const struct sv_trigger *trig,
                           const struct sv_kill_rule *rule, const struct sv_plan_choice *choice,
                           struct sv_plan **ret);
SV_EXPORT void sv_plan_free(struct sv_plan *p);

/* The tasks @rule spares (Protect=, the supervisor), n_tasks bools for
 * sv_oom_opts and policy views; malloc'ed into *@ret. */
SV_EXPORT int sv_plan_exclusions(const struct sv_snapshot *s, const struct sv_kill_rule *rule,
                                 bool **ret);

/*
 * sv_plan_format() - the plan in cgsentry's own words: one summary line
 * ("tripwire: /a non-reclaimable … ; killing 3 processes of /a (rule R,
 * policy P; OOMGroup=yes)"), the policy's line, one line per process killed
 * and one per process spared ("sparing pid 7 (sshd) in /a/keep:
 * Protect="). Names escaped. sv_plan_text() returns it malloc'ed.
 */
SV_EXPORT int sv_plan_format(FILE *out, const struct sv_snapshot *s,
                             const struct sv_trigger *trig, const struct sv_kill_rule *rule,
                             const struct sv_plan *p, bool dry_run);
SV_EXPORT char *sv_plan_text(const struct sv_snapshot *s, const struct sv_trigger *trig,
                             const struct sv_kill_rule *rule, const struct sv_plan *p,
                             bool dry_run);
/* How the summary line speaks: a kill that starts ("killing"), a dry run
 * ("dry run: … would kill") or a prediction ("would kill"). */
enum sv_plan_mode {
        SV_PLAN_KILLING,
        SV_PLAN_DRY_RUN,
        SV_PLAN_WOULD,
};
/* sv_plan_format() in @mode, every line starting with @prefix ("# "). */
SV_EXPORT int sv_plan_format_mode(FILE *out, const struct sv_snapshot *s,
                                  const struct sv_trigger *trig, const struct sv_kill_rule *rule,
                                  const struct sv_plan *p, enum sv_plan_mode mode,
                                  const char *prefix);
/* explain --config's text: the kernel-format header and task dump, the
 * plan in cgsentry's words, the badness table under the rule. */
SV_EXPORT void sv_format_plan_explain_text(FILE *out, const struct sv_snapshot *s,
                                           const struct sv_trigger *trig,
                                           const struct sv_kill_rule *rule,
                                           const struct sv_plan *p);

/* ---- acting (kill.c) -------------------------------------------------- */

/*
 * sv_kill_cgroup() - write "1" to @path/cgroup.kill (Linux 5.14+): SIGKILL to
 * every process of the subtree, forks racing with it included. @path is
 * relative to @root_fd. -ENOENT when the kernel lacks cgroup.kill,
 * -EOPNOTSUPP in threaded cgroups: the caller falls back to sv_kill_pid().
 */
SV_EXPORT int sv_kill_cgroup(int root_fd, const char *path);

/*
 * sv_cgroup_write() - write @value to the cgroupfs file @name relative to
 * @dirfd, in one write() as kernfs expects (no trailing newline needed).
 * The one helper cgsentry writes cgroup files with. 0 or -errno.
 */
SV_EXPORT int sv_cgroup_write(int dirfd, const char *name, const char *value);

/* sv_freeze_cgroup() - cgroup.freeze 1/0 (5.2+), for the fallback kill. */
SV_EXPORT int sv_freeze_cgroup(int root_fd, const char *path, bool freeze);

/*
 * sv_pidfd_open_checked() - a pidfd for @pid that is guaranteed to be the
 * task the snapshot saw: after pidfd_open() the task's starttime is read
 * again through @proc_dfd and compared with @starttime (0 skips the check).
 * -ESRCH when it exited or the pid was reused.
 */
SV_EXPORT int sv_pidfd_open_checked(int proc_dfd, int pid, uint64_t starttime);

/* sv_pidfd_kill() - pidfd_send_signal(); then, for SIGKILL and when
 * @mrelease, process_mrelease() (5.15+) so the memory returns now rather
 * than when the task gets to run its exit path. */
SV_EXPORT int sv_pidfd_kill(int pidfd, int sig, bool mrelease);

/*
 * sv_mrelease() - one process_mrelease() (5.15+): 0 when the memory was
 * reaped or the process is gone; -EINVAL while the SIGKILL has not been
 * delivered yet (the task is not dying yet) and -EAGAIN when reaping failed
 * for now: retry both later (from a timer, not by sleeping); -ENOSYS before
 * 5.15.
 */
SV_EXPORT int sv_mrelease(int pidfd);

/* sv_cgroup_populated() - 1/0 from cgroup.events, or -errno (-ENOENT: gone). */
SV_EXPORT int sv_cgroup_populated(int root_fd, const char *path);

/* ---- kernel-format text (format.c) ------------------------------------ */

/* "[  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name" */
SV_EXPORT void sv_format_dump_header(FILE *out);
SV_EXPORT void sv_format_dump_task(FILE *out, const struct sv_snapshot *s, const struct sv_task *t);
/* "Memory cgroup out of memory: Killed process …" */
SV_EXPORT void sv_format_killed(FILE *out, const struct sv_snapshot *s, const struct sv_task *t);
/* "oom-kill:constraint=CONSTRAINT_MEMCG,…" */
SV_EXPORT void sv_format_oom_summary(FILE *out, const struct sv_snapshot *s,
                                     const struct sv_oom_result *r);
/* "Tasks in /a/b are going to be killed due to memory.oom.group set" */
SV_EXPORT void sv_format_oom_group(FILE *out, const struct sv_snapshot *s, int group);
/*
 * cgsentry's own line for a process it kills (never the kernel's words):
 * "pid 123 (hog) uid 0 in /a/b: anon-rss 110.2 MiB, file-rss 1.2 MiB,
 * shmem-rss 0 B, swap 0 B, oom_score_adj 0" plus @note when non-NULL.
 * Names are escaped with sv_escape().
 */
SV_EXPORT void sv_format_kill_task(FILE *out, const struct sv_snapshot *s, const struct sv_task *t,
                                   const char *note);
/* "# Memory: usage …" / "#   not reclaimable …" / "#   reclaimable: …":
 * @group's memory split as the tripwire counts it; nothing without
 * memory.stat in the snapshot. */
SV_EXPORT void sv_format_memory_split(FILE *out, const struct sv_snapshot *s, int group);
/* The whole explain text / JSON. */
SV_EXPORT void sv_format_explain_text(FILE *out, const struct sv_snapshot *s,
                                      const struct sv_oom_result *r);
SV_EXPORT int sv_format_explain_json(FILE *out, const struct sv_snapshot *s,
                                     const struct sv_oom_result *r);
/* explain --config --json: sv_format_explain_json() of the plan's selection
 * with the plan's victim, kill_group, kill_pids, and rule, trigger, policy,
 * scope, use_cgroup_kill, spared [{pid, reason}]. */
SV_EXPORT int sv_format_plan_explain_json(FILE *out, const struct sv_snapshot *s,
                                          const struct sv_trigger *trig,
                                          const struct sv_kill_rule *rule,
                                          const struct sv_plan *p);

/*
 * sv_escape() - a process or cgroup name made safe for a log line, a
 * terminal and JSON: printable ASCII and valid UTF-8 are kept, a backslash
 * becomes "\\", every control byte (newline, ESC, C1 controls included)
 * and every byte that is not valid UTF-8 becomes "\xNN". Used for every
 * name cgsentry prints. @size >= 4 * strlen(@s) + 1 keeps everything;
 * a smaller buffer cuts the output at a whole escape. Returns @out.
 */
SV_EXPORT const char *sv_escape(const char *s, char *out, size_t size);
/* sv_escape() into a malloc'ed string (NULL when out of memory). */
SV_EXPORT char *sv_escape_dup(const char *s);
/* Room for an escaped comm. */
#define SV_COMM_ESCAPED_SIZE (4 * SV_COMM_LEN + 1)

SV_EXPORT const char *sv_version(void);

#ifdef __cplusplus
}
#endif

#endif
