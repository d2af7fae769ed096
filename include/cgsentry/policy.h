/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cgsentry policy plugins: the C ABI between cgsentry (the host) and a
 * shared object that decides which group dies. See cgsentry-policies(7).
 *
 * A plugin is a file named cgsentry-policy-NAME.so in the policy directory
 * (default <libdir>/cgsentry/policies). It exports ONE symbol,
 * cgsentry_policy_entry(), returning a constant descriptor. It needs no
 * library to link against: everything the host offers reaches it through
 * the structures below (this header is the whole ABI; `pkg-config
 * cgsentry-policy` gives only the include path).
 *
 * Versioning (the OBS / SQLite scheme):
 *  - CGSENTRY_POLICY_ABI_MAJOR changes when anything below changes
 *    incompatibly; the host refuses a plugin of another major.
 *  - CGSENTRY_POLICY_ABI_MINOR grows when fields are appended to the end of a
 *    structure. Every structure that crosses the boundary carries its size:
 *    the host copies min(its size, plugin's size) of the descriptor into a
 *    zero-filled copy, so an older plugin keeps loading (new fields read as
 *    zero/NULL); a plugin built against a newer minor must check a size
 *    (CGSENTRY_POLICY_HAS()) before reading a field that the running host
 *    may not have.
 *  - A descriptor smaller than the ABI 1.0 one is refused.
 *
 * Ownership and lifetimes:
 *  - The descriptor and its strings are the plugin's and must stay valid
 *    while the plugin is loaded; the host copies the strings at load time.
 *  - The view, and everything it points to (paths, arrays, the host table),
 *    is the host's and is valid only during the choose() call that received
 *    it. A plugin that wants to remember something (growth samples) copies it
 *    into its state.
 *  - The state is the plugin's: created by init(), passed back unchanged to
 *    every choose(), released by destroy(). The host never looks inside.
 *  - Text goes into buffers the host provides (the explanation, init()'s
 *    error); the host never keeps a pointer the plugin returned.
 *
 * Threading: one state is never used by two threads at once. A plugin keeps
 * no global mutable state (two instances with different options may live in
 * one process).
 */
#ifndef CGSENTRY_POLICY_H
#define CGSENTRY_POLICY_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CGSENTRY_POLICY_ABI_MAJOR 1
/* 1.1: cgsentry_host.kernel_choose(). */
#define CGSENTRY_POLICY_ABI_MINOR 1

/* The one symbol the host looks up. */
#define CGSENTRY_POLICY_ENTRY_SYMBOL "cgsentry_policy_entry"

#if defined(__GNUC__)
#define CGSENTRY_POLICY_EXPORT __attribute__((visibility("default")))
#else
#define CGSENTRY_POLICY_EXPORT
#endif

/* True when a structure of @size bytes (as the other side filled it) holds
 * @field of @type: use it for fields added after ABI x.0. */
#define CGSENTRY_POLICY_HAS(size, type, field)                                                     \
        ((size) >= offsetof(type, field) + sizeof(((type *)0)->field))

/* "max" in a cgroupfs limit file. */
#define CGSENTRY_LIMIT_MAX UINT64_MAX
/* oom_badness() of a task the kernel never selects (LONG_MIN). */
#define CGSENTRY_BADNESS_UNKILLABLE INT64_MIN

/* The host's explanation buffer is at least this large. */
#define CGSENTRY_POLICY_EXPLANATION_MIN 256

/* ---- the view: a read-only domain snapshot ------------------------------ */

/* cgsentry_group.flags */
enum {
        CGSENTRY_GROUP_MEMCG = 1u << 0,         /* has its own memory controller */
        CGSENTRY_GROUP_HAVE_MEMORY = 1u << 1,   /* memory.current/.max/... were read */
        CGSENTRY_GROUP_HAVE_SWAP = 1u << 2,     /* memory.swap.current/.max were read */
        CGSENTRY_GROUP_HAVE_PRESSURE = 1u << 3, /* memory.pressure was read */
        CGSENTRY_GROUP_HAVE_EVENTS = 1u << 4,   /* memory.events was read */
        CGSENTRY_GROUP_OOM_GROUP = 1u << 5,     /* memory.oom.group (or the daemon's OOMGroup=) */
        CGSENTRY_GROUP_CANDIDATE = 1u << 6,     /* listed in cgsentry_view.candidates */
        CGSENTRY_GROUP_PREFER = 1u << 7,        /* xattr user.cgsentry.prefer is set */
        CGSENTRY_GROUP_AVOID = 1u << 8,         /* xattr user.cgsentry.avoid is set */
};

/* A cgroup of the domain. Sizes in bytes; PSI averages in percent. */
struct cgsentry_group {
        const char *path;             /* "/a/b", relative to the cgroupfs root */
        uint64_t ino;                 /* cgroup id (directory inode); 0 when unknown */
        int32_t parent;               /* index in the view's groups, -1 for the domain */
        int32_t depth;                /* 0 for the domain */
        uint32_t flags;               /* CGSENTRY_GROUP_* */
        uint32_t first_task, n_tasks; /* this group's own processes in the view's tasks */
        uint32_t subtree_end;         /* groups [this, subtree_end) are this group's subtree */
        uint32_t subtree_tasks;       /* processes in the whole subtree */
        uint32_t reserved0;
        uint64_t memory_current, memory_peak;
        uint64_t memory_max, memory_high, memory_low, memory_min; /* CGSENTRY_LIMIT_MAX: "max" */
        uint64_t swap_current, swap_max;
        /* memory.events (hierarchical) */
        uint64_t events_high, events_max, events_oom, events_oom_kill;
        /* memory.pressure */
        double psi_some_avg10, psi_some_avg60, psi_some_avg300;
        double psi_full_avg10, psi_full_avg60, psi_full_avg300;
        uint64_t psi_some_total_usec, psi_full_total_usec;
        /* memory.stat */
        uint64_t stat_anon, stat_file, stat_shmem;
};

/* cgsentry_task.flags */
enum {
        CGSENTRY_TASK_KTHREAD = 1u << 0, /* PF_KTHREAD */
        CGSENTRY_TASK_NO_MM = 1u << 1,   /* zombie or exiting */
};

/* A process (thread-group leader). Sizes in kB as /proc/PID/status shows them. */
struct cgsentry_task {
        int32_t pid, ppid;
        uint32_t uid;
        int32_t group; /* index in the view's groups */
        int32_t oom_score_adj;
        uint32_t flags; /* CGSENTRY_TASK_* */
        char comm[16];
        uint64_t starttime; /* clock ticks since boot */
        uint64_t vm_size_kb, rss_anon_kb, rss_file_kb, rss_shmem_kb, vm_swap_kb, vm_pte_kb;
        /* oom_badness() with the domain's totalpages, as the kernel scores the
         * task in a memcg OOM of the domain; CGSENTRY_BADNESS_UNKILLABLE for
         * tasks it never selects. */
        int64_t badness;
};

struct cgsentry_view;
struct cgsentry_decision;

/* Functions the host offers. Valid only during the choose() call. */
struct cgsentry_host {
        uint32_t struct_size; /* sizeof(struct cgsentry_host) of the host */
        uint32_t reserved0;
        /*
         * kernel_choice() - what the kernel's memcg OOM killer would do if
         * the domain hit its limit now: the task select_bad_process() picks
         * (*ret_task, an index in the view's tasks) and the group
         * mem_cgroup_get_oom_group() widens the kill to (*ret_group, -1 if
         * none). Returns 0 (with *ret_task -1 when nothing is killable) or
         * -errno.
         */
        int (*kernel_choice)(const struct cgsentry_view *view, int32_t *ret_task,
                             int32_t *ret_group);
        /*
         * kernel_choose() (ABI 1.1) - the whole choose() of the default
         * policy: the kernel's victim and group with the host's explanation,
         * into @decision. The "kernel" plugin is this call; a policy that
         * falls back to the kernel's choice may call it too. Check
         * CGSENTRY_POLICY_HAS(host->struct_size, struct cgsentry_host,
         * kernel_choose) first: an ABI 1.0 host does not have it.
         */
        int (*kernel_choose)(const struct cgsentry_view *view, struct cgsentry_decision *decision);
};

struct cgsentry_view {
        uint32_t struct_size; /* sizeof(struct cgsentry_view) of the host */
        uint32_t group_size;  /* stride of groups[]: sizeof(struct cgsentry_group) of the host */
        uint32_t task_size;   /* stride of tasks[] */
        uint32_t reserved0;
        const struct cgsentry_host *host;
        /*
         * When the snapshot was taken, in microseconds on a clock chosen by
         * the host that never goes backwards while the plugin is loaded; only
         * differences mean something. Policies that look at change over time
         * (growth) keep samples keyed by path and inode in their state: the
         * host calls choose() whenever it acts on an event, it does not call
         * plugins on a timer.
         */
        uint64_t now_usec;
        uint64_t page_size;  /* bytes */
        uint64_t totalpages; /* the domain's mem_cgroup_get_max(), in pages */
        const char *domain;  /* == groups[0].path */
        /* groups[0] is the domain, then its descendants in pre-order (the
         * kernel's sibling order). Use cgsentry_view_group(). */
        const void *groups;
        uint32_t n_groups;
        uint32_t n_tasks;
        const void *tasks; /* grouped by group, in cgroup.procs order */
        /*
         * The groups a policy chooses among (indexes in groups, pre-order):
         * the domain's direct children that have at least one killable
         * process in their subtree; or, when there is none, the domain itself
         * if it has a killable process of its own. Empty: nothing to kill.
         */
        const uint32_t *candidates;
        uint32_t n_candidates;
        uint32_t reserved1;
};

static inline const struct cgsentry_group *cgsentry_view_group(const struct cgsentry_view *v,
                                                               uint32_t i)
{
        return (const struct cgsentry_group *)((const char *)v->groups + (size_t)i * v->group_size);
}

static inline const struct cgsentry_task *cgsentry_view_task(const struct cgsentry_view *v,
                                                             uint32_t i)
{
        return (const struct cgsentry_task *)((const char *)v->tasks + (size_t)i * v->task_size);
}

/* ---- the decision ------------------------------------------------------- */

struct cgsentry_decision {
        uint32_t struct_size; /* set by the host */
        /* Index in the view's groups of the group to kill (normally a
         * candidate), or -1 for "nothing". The host preset it to -1. */
        int32_t group;
        /* Optionally one task of that group's subtree (index in the view's
         * tasks) the policy singles out, e.g. the kernel's victim; -1 when the
         * whole group is meant. The host preset it to -1. */
        int32_t task;
        uint32_t reserved0;
        /* Host-provided buffer (at least CGSENTRY_POLICY_EXPLANATION_MIN
         * bytes, preset to ""): one line saying why, which cgsentry logs.
         * Write it with snprintf(); it is copied after choose() returns. */
        char *explanation;
        size_t explanation_size;
};

/* ---- the descriptor ----------------------------------------------------- */

struct cgsentry_policy {
        uint32_t abi_major;   /* CGSENTRY_POLICY_ABI_MAJOR the plugin was built with */
        uint32_t abi_minor;   /* CGSENTRY_POLICY_ABI_MINOR the plugin was built with */
        uint32_t struct_size; /* sizeof(struct cgsentry_policy) the plugin was built with */
        uint32_t reserved0;
        const char *name;        /* [a-z0-9_-]+, the NAME of cgsentry-policy-NAME.so */
        const char *version;     /* the plugin's own version, free form */
        const char *description; /* one line */
        /*
         * init() - parse @options (the text after the policy name in the
         * configuration, e.g. "window=10s"; "" when none, never NULL) and
         * create the state. On failure return -errno (-EINVAL for bad
         * options) and write a one-line reason into @err (@err_size bytes).
         * May be NULL: then the state is NULL and options must be empty.
         */
        int (*init)(const char *options, void **ret_state, char *err, size_t err_size);
        /*
         * choose() - pick a victim among view->candidates. Fill @decision and
         * return 0, also when choosing nothing (group -1); return -errno only
         * when the policy itself failed (then the host uses its default).
         * Must not block, sleep or do I/O: it runs while memory is short.
         */
        int (*choose)(const struct cgsentry_view *view, void *state,
                      struct cgsentry_decision *decision);
        /* destroy() - release the state from init(). May be NULL. */
        void (*destroy)(void *state);
};

/*
 * The entry point each plugin defines, e.g.
 *
 *   CGSENTRY_POLICY_EXPORT const struct cgsentry_policy *cgsentry_policy_entry(void)
 *   {
 *           static const struct cgsentry_policy p = {
 *                   .abi_major = CGSENTRY_POLICY_ABI_MAJOR,
 *                   .abi_minor = CGSENTRY_POLICY_ABI_MINOR,
 *                   .struct_size = sizeof(p),
 *                   .name = "hello", ...
 *           };
 *           return &p;
 *   }
 */
typedef const struct cgsentry_policy *(*cgsentry_policy_entry_fn)(void);
CGSENTRY_POLICY_EXPORT const struct cgsentry_policy *cgsentry_policy_entry(void);

/* The descriptor of the running ABI, as an initializer; init and destroy
 * may be NULL. */
#define CGSENTRY_POLICY_DESCRIPTOR(NAME, VERSION, DESCRIPTION, INIT, CHOOSE, DESTROY)             \
        {                                                                                          \
                .abi_major = CGSENTRY_POLICY_ABI_MAJOR,                                            \
                .abi_minor = CGSENTRY_POLICY_ABI_MINOR,                                            \
                .struct_size = sizeof(struct cgsentry_policy),                                     \
                .name = (NAME),                                                                    \
                .version = (VERSION),                                                              \
                .description = (DESCRIPTION),                                                      \
                .init = (INIT),                                                                    \
                .choose = (CHOOSE),                                                                \
                .destroy = (DESTROY),                                                              \
        }

/*
 * CGSENTRY_POLICY_DEFINE() - the entry point and its descriptor in one go:
 *
 *   CGSENTRY_POLICY_DEFINE("hello", "1.0", "the group with the most processes",
 *                          hello_init, hello_choose, hello_destroy)
 */
#define CGSENTRY_POLICY_DEFINE(NAME, VERSION, DESCRIPTION, INIT, CHOOSE, DESTROY)                 \
        CGSENTRY_POLICY_EXPORT const struct cgsentry_policy *cgsentry_policy_entry(void)           \
        {                                                                                          \
                static const struct cgsentry_policy cgsentry_policy_descriptor_ =                  \
                        CGSENTRY_POLICY_DESCRIPTOR(NAME, VERSION, DESCRIPTION, INIT, CHOOSE,       \
                                                   DESTROY);                                       \
                return &cgsentry_policy_descriptor_;                                               \
        }

/* ---- helpers for plugins (header-only) ---------------------------------- */

/*
 * cgsentry_options_next() - iterate over a "key=value key2=value2" list:
 * words separated by blanks (spaces, tabs, newlines), each split at its
 * first '=' (a value may contain '=' and ','). Copies the next key and value
 * into the caller's buffers and advances *@cursor. Returns 1 for a pair, 0
 * at the end, -EINVAL for a word without '=' or with an empty key (so that a
 * typo does not pass silently), -ENAMETOOLONG when a key or value does not
 * fit (the buffers are then undefined).
 *
 *   const char *cur = options;
 *   char k[32], v[128];
 *   int r;
 *   while ((r = cgsentry_options_next(&cur, k, sizeof(k), v, sizeof(v))) > 0) ...
 */
static inline int cgsentry_options_next(const char **cursor, char *key, size_t key_size,
                                        char *value, size_t value_size)
{
        const char *p = *cursor, *eq, *end;
        size_t kl, vl;

        while (*p == ' ' || *p == '\t' || *p == '\n')
                p++;
        if (!*p) {
                *cursor = p;
                return 0;
        }
        end = p;
        while (*end && *end != ' ' && *end != '\t' && *end != '\n')
                end++;
        for (eq = p; eq < end && *eq != '='; eq++)
                ;
        if (eq == end || eq == p)
                return -EINVAL;
        kl = (size_t)(eq - p);
        vl = (size_t)(end - eq - 1);
        if (kl >= key_size || vl >= value_size)
                return -ENAMETOOLONG;
        for (size_t i = 0; i < kl; i++)
                key[i] = p[i];
        key[kl] = 0;
        for (size_t i = 0; i < vl; i++)
                value[i] = eq[1 + i];
        value[vl] = 0;
        *cursor = end;
        return 1;
}

/*
 * cgsentry_parse_decimal() - "123", "1.5": digits with an optional fraction,
 * scaled by @scale (10^k) and rounded down, in integers only, so "nan",
 * "inf", "1e30", signs and blanks are not numbers at all. Stops at the
 * first character that is neither a digit nor the one '.', which it leaves
 * in *@end. At most @max_frac fraction digits. Returns 0, -EINVAL (no digits,
 * too many fraction digits) or -ERANGE (does not fit in 64 bits).
 */
static inline int cgsentry_parse_decimal(const char *s, uint64_t scale, unsigned max_frac,
                                         uint64_t *ret, const char **end)
{
        uint64_t n = 0, frac = 0, div = 1;
        unsigned nfrac = 0;
        const char *p = s;

        if (*p < '0' || *p > '9')
                return -EINVAL;
        for (; *p >= '0' && *p <= '9'; p++) {
                if (n > (UINT64_MAX - 9) / 10)
                        return -ERANGE;
                n = n * 10 + (uint64_t)(*p - '0');
        }
        if (*p == '.') {
                p++;
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                for (; *p >= '0' && *p <= '9'; p++) {
                        if (++nfrac > max_frac)
                                return -EINVAL;
                        frac = frac * 10 + (uint64_t)(*p - '0');
                        div *= 10;
                }
        }
        if (n > UINT64_MAX / scale)
                return -ERANGE;
        n *= scale;
        /* frac/div < 1, so frac * scale / div < scale: no overflow past n's room
         * for the scales used here (scale * 10^max_frac fits in 64 bits). */
        if (frac * scale / div > UINT64_MAX - n)
                return -ERANGE;
        *ret = n + frac * scale / div;
        *end = p;
        return 0;
}

/*
 * cgsentry_parse_duration_usec() - "10s", "1.5s", "500ms", "2min", "2m",
 * "1h", "250us" or a bare number of seconds, into microseconds (fractions
 * below 1 us are dropped). The one duration syntax of cgsentry: its
 * configuration, its command line and the shipped policies' options.
 * Returns 0 and *ret, -EINVAL (not a duration) or -ERANGE (too long).
 */
static inline int cgsentry_parse_duration_usec(const char *s, uint64_t *ret)
{
        static const struct {
                const char *suffix;
                uint64_t usec;
        } units[] = {
                { "", 1000000 },     { "s", 1000000 },        { "sec", 1000000 },
                { "ms", 1000 },      { "us", 1 },             { "m", 60000000 },
                { "min", 60000000 }, { "h", 3600000000ull },
        };
        const char *unit = s, *end;
        size_t i;

        while (*unit >= '0' && *unit <= '9')
                unit++;
        if (*unit == '.')
                for (unit++; *unit >= '0' && *unit <= '9'; unit++)
                        ;
        for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
                const char *a = unit, *b = units[i].suffix;
                while (*a && *a == *b)
                        a++, b++;
                if (!*a && !*b)
                        break;
        }
        if (i == sizeof(units) / sizeof(units[0]))
                return -EINVAL;
        /* 9 fraction digits at most: 1.000000001s is already below 1 us. */
        {
                uint64_t v;
                int r = cgsentry_parse_decimal(s, units[i].usec, 9, &v, &end);
                if (r < 0)
                        return r;
                if (end != unit)
                        return -EINVAL;
                *ret = v;
        }
        return 0;
}

/*
 * cgsentry_parse_percent() - "90%", "90.5%", "12.25" (the sign is optional)
 * into permyriad (9000 for 90%), from 0.01% to 100%. At most two decimals.
 * Returns 0 and *ret, -EINVAL (not a percentage) or -ERANGE (0, or above
 * 100%).
 */
static inline int cgsentry_parse_percent(const char *s, uint32_t *ret)
{
        const char *end = s;
        uint64_t v;
        int r = cgsentry_parse_decimal(s, 100, 2, &v, &end);

        if (r == -ERANGE)
                return -ERANGE;
        if (r < 0 || (*end && (end[0] != '%' || end[1])))
                return -EINVAL;
        if (v == 0 || v > 10000)
                return -ERANGE;
        *ret = (uint32_t)v;
        return 0;
}

#ifdef __cplusplus
}
#endif

#endif
