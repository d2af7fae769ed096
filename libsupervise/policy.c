/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host side of the policy plugin ABI: loader, registry, the builtin
 * kernel policy, and the views plugins read. See policy-host.h for the
 * contract and include/cgsentry/policy.h for the ABI itself.
 *
 * Loading is the only place that trusts a file with code execution, so the
 * file it opened is checked (fstat: regular, not world-writable, owned by
 * root when we are root), so is its directory (nobody else may swap the file
 * before dlopen() opens it again), and after dlopen() the path must still
 * be the file that was checked.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "policy-host.h"
#include "util.h"

#ifndef CGSENTRY_POLICY_DIR
#define CGSENTRY_POLICY_DIR "/usr/local/lib/cgsentry/policies"
#endif

/* The part of the descriptor every ABI 1.x plugin has: up to destroy(). */
#define DESCRIPTOR_SIZE_1_0                                                                        \
        (offsetof(struct cgsentry_policy, destroy) + sizeof(((struct cgsentry_policy *)0)->destroy))

struct sv_policy {
        struct cgsentry_policy desc; /* zero-filled copy of what the plugin gave */
        char *name, *version, *description;
        char *path; /* NULL: builtin */
        void *dl;
        int fd;     /* the file dlopen() loaded through /proc/self/fd, -1: builtin */
        bool builtin;
};

struct entry {
        struct sv_policy *policy; /* NULL: a file that failed to load */
        char *path;
        char *error;
};

struct sv_policy_registry {
        char *dir;
        struct entry *entries;
        size_t n_entries;
};

struct sv_policy_instance {
        const struct sv_policy *policy;
        void *state;
};

struct sv_policy_view {
        struct cgsentry_view view; /* first: the host helpers get back here from it */
        struct cgsentry_host host;
        struct cgsentry_group *groups;
        struct cgsentry_task *tasks;
        uint32_t *candidates;
        const struct sv_snapshot *s;
        int domain;        /* snapshot index of groups[0] */
        size_t first_task; /* snapshot index of tasks[0] */
        bool *extra;       /* snapshot-indexed OOMGroup= flags, or NULL */
        bool *exclude;     /* snapshot-indexed tasks the rule spares, or NULL */
};

const char *sv_policy_default_dir(void)
{
        return CGSENTRY_POLICY_DIR;
}

/* ---- the builtin kernel policy ------------------------------------------ */

static int host_kernel_choose(const struct cgsentry_view *view, struct cgsentry_decision *d);

static int builtin_kernel_choose(const struct cgsentry_view *view, void *state,
                                 struct cgsentry_decision *d)
{
        return host_kernel_choose(view, d);
}

/* The default policy: the one place the kernel's choice becomes a decision
 * (the "kernel" plugin calls the same code through the host table). */
static const struct cgsentry_policy builtin_kernel = CGSENTRY_POLICY_DESCRIPTOR(
        SV_POLICY_DEFAULT, CGSENTRY_VERSION,
        "the kernel's own choice: the task with the highest oom_badness, widened to its "
        "memory.oom.group",
        NULL, builtin_kernel_choose, NULL);

/* ---- registry ----------------------------------------------------------- */

static void policy_free(struct sv_policy *p)
{
        if (!p)
                return;
        free(p->name);
        free(p->version);
        free(p->description);
        free(p->path);
        if (p->dl)
                dlclose(p->dl);
        if (p->fd >= 0)
                close(p->fd);
        free(p);
}

static int add_entry(struct sv_policy_registry *reg, struct sv_policy *p, const char *path,
                     const char *error)
{
        struct entry *e = realloc(reg->entries, (reg->n_entries + 1) * sizeof(*e));

        if (!e)
                return -ENOMEM;
        reg->entries = e;
        e = &reg->entries[reg->n_entries];
        *e = (struct entry){.policy = p};
        if ((path && !(e->path = strdup(path))) || (error && !(e->error = strdup(error)))) {
                free(e->path);
                return -ENOMEM;
        }
        reg->n_entries++;
        return 0;
}

static int copy_descriptor(struct sv_policy *p, const struct cgsentry_policy *d, size_t size)
{
        memset(&p->desc, 0, sizeof(p->desc));
        memcpy(&p->desc, d, size < sizeof(p->desc) ? size : sizeof(p->desc));
        p->desc.struct_size = sizeof(p->desc);
        p->name = strdup(d->name);
        p->version = strdup(d->version ? d->version : "");
        p->description = strdup(d->description ? d->description : "");
        if (!p->name || !p->version || !p->description)
                return -ENOMEM;
        /* The host's copy points at the host's strings only. */
        p->desc.name = p->name;
        p->desc.version = p->version;
        p->desc.description = p->description;
        return 0;
}

int sv_policy_registry_new(const char *dir, struct sv_policy_registry **ret)
{
        struct sv_policy_registry *reg = calloc(1, sizeof(*reg));
        struct sv_policy *k = NULL;
        int r = -ENOMEM;

        if (!reg)
                return -ENOMEM;
        reg->dir = strdup(dir ? dir : sv_policy_default_dir());
        k = calloc(1, sizeof(*k));
        if (!reg->dir || !k)
                goto fail;
        k->builtin = true;
        k->fd = -1;
        r = copy_descriptor(k, &builtin_kernel, sizeof(builtin_kernel));
        if (r < 0)
                goto fail;
        r = add_entry(reg, k, NULL, NULL);
        if (r < 0)
                goto fail;
        *ret = reg;
        return 0;
fail:
        policy_free(k);
        sv_policy_registry_free(reg);
        return r;
}

void sv_policy_registry_free(struct sv_policy_registry *reg)
{
        if (!reg)
                return;
        for (size_t i = 0; i < reg->n_entries; i++) {
                policy_free(reg->entries[i].policy);
                free(reg->entries[i].path);
                free(reg->entries[i].error);
        }
        free(reg->entries);
        free(reg->dir);
        free(reg);
}

const char *sv_policy_registry_dir(const struct sv_policy_registry *reg)
{
        return reg->dir;
}

static bool valid_name(const char *name)
{
        if (!name || !*name || strlen(name) > 64)
                return false;
        for (const char *c = name; *c; c++)
                if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' ||
                      *c == '-'))
                        return false;
        return true;
}

static const struct sv_policy *find_loaded(const struct sv_policy_registry *reg, const char *name)
{
        for (size_t i = 0; i < reg->n_entries; i++)
                if (reg->entries[i].policy && strcmp(reg->entries[i].policy->name, name) == 0)
                        return reg->entries[i].policy;
        return NULL;
}

/* Validate what cgsentry_policy_entry() returned. */
static int check_descriptor(const struct cgsentry_policy *d, const char *path,
                            const char *expect_name, struct sv_error *err)
{
        if (!d)
                return sv__errorf(err, ENOEXEC, path, "%s() returned NULL", CGSENTRY_POLICY_ENTRY_SYMBOL);
        /* abi_major, abi_minor and struct_size come first in every ABI version. */
        if (d->abi_major != CGSENTRY_POLICY_ABI_MAJOR)
                return sv__errorf(err, EPROTONOSUPPORT, path,
                            "policy ABI %" PRIu32 ".%" PRIu32 " is not supported (this cgsentry "
                            "speaks ABI %d.x)",
                            d->abi_major, d->abi_minor, CGSENTRY_POLICY_ABI_MAJOR);
        if (d->struct_size < DESCRIPTOR_SIZE_1_0)
                return sv__errorf(err, ENOEXEC, path,
                            "policy descriptor is %" PRIu32 " bytes, ABI %d.0 needs at least %zu",
                            d->struct_size, CGSENTRY_POLICY_ABI_MAJOR, DESCRIPTOR_SIZE_1_0);
        if (!valid_name(d->name))
                return sv__errorf(err, ENOEXEC, path, "policy name missing or not [a-z0-9_-]");
        if (!d->choose)
                return sv__errorf(err, ENOEXEC, path, "policy '%s' has no choose()", d->name);
        if (expect_name && strcmp(d->name, expect_name) != 0)
                return sv__errorf(err, ENOEXEC, path, "file declares the policy '%s', not '%s'", d->name,
                            expect_name);
        return 0;
}

static int load_file(struct sv_policy_registry *reg, const char *path, const char *expect_name,
                     const struct sv_policy **ret, struct sv_error *err)
{
        const struct cgsentry_policy *d;
        struct sv_policy *p = NULL;
        cgsentry_policy_entry_fn entry;
        char *copy = strdup(path), *slash, fdpath[64];
        const char *dir, *base;
        void *dl, *sym;
        int fd, r;

        if (!copy)
                return sv__errorf(err, ENOMEM, path, "out of memory");
        slash = strrchr(copy, '/');
        if (!slash) {
                dir = ".";
                base = copy;
        } else {
                *slash = '\0';
                dir = slash == copy ? "/" : copy;
                base = slash + 1;
        }
        fd = sv__open_trusted(dir, base, path, "load", "policy plugin", err);
        free(copy);
        if (fd < 0)
                return fd;
        /*
         * dlopen() the very file descriptor that was checked. The loader
         * recognises objects it already has by name and by inode: the fd
         * stays open as long as the object is loaded, so that its number
         * (and so the name) cannot stand for another file meanwhile.
         */
        snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
        dl = dlopen(fdpath, RTLD_NOW | RTLD_LOCAL);
        if (!dl) {
                close(fd);
                return sv__errorf(err, ELIBBAD, path, "dlopen failed: %s", dlerror());
        }

        sym = dlsym(dl, CGSENTRY_POLICY_ENTRY_SYMBOL);
        if (!sym) {
                dlclose(dl);
                close(fd);
                return sv__errorf(err, ENOEXEC, path, "not a cgsentry policy plugin: no symbol %s",
                            CGSENTRY_POLICY_ENTRY_SYMBOL);
        }
        /* POSIX guarantees dlsym() results convert to function pointers. */
        memcpy(&entry, &sym, sizeof(entry));
        d = entry();
        r = check_descriptor(d, path, expect_name, err);
        if (r < 0) {
                dlclose(dl);
                close(fd);
                return r;
        }
        p = calloc(1, sizeof(*p));
        if (p)
                p->fd = -1; /* closed below on failure */
        if (!p || copy_descriptor(p, d, d->struct_size) < 0 || !(p->path = strdup(path)) ||
            add_entry(reg, p, path, NULL) < 0) {
                policy_free(p); /* p->dl is still NULL: closed below */
                dlclose(dl);
                close(fd);
                return sv__errorf(err, ENOMEM, path, "out of memory");
        }
        p->dl = dl;
        p->fd = fd;
        *ret = p;
        return 0;
}

int sv_policy_registry_load_file(struct sv_policy_registry *reg, const char *path,
                                 const struct sv_policy **ret, struct sv_error *err)
{
        char *rel;
        int r;

        if (strchr(path, '/'))
                return load_file(reg, path, NULL, ret, err);
        /* A bare name would make dlopen() search the library path. */
        if (asprintf(&rel, "./%s", path) < 0)
                return sv__errorf(err, ENOMEM, path, "out of memory");
        r = load_file(reg, rel, NULL, ret, err);
        free(rel);
        return r;
}

int sv_policy_registry_get(struct sv_policy_registry *reg, const char *name,
                           const struct sv_policy **ret, struct sv_error *err)
{
        const struct sv_policy *p;
        char *path;
        int r;

        if (!valid_name(name))
                return sv__errorf(err, EINVAL, name, "invalid policy name (expected [a-z0-9_-]+)");
        p = find_loaded(reg, name);
        if (p) {
                *ret = p;
                return 0;
        }
        if (asprintf(&path, "%s/" SV_POLICY_FILE_PREFIX "%s" SV_POLICY_FILE_SUFFIX, reg->dir,
                     name) < 0)
                return sv__errorf(err, ENOMEM, name, "out of memory");
        r = load_file(reg, path, name, ret, err);
        free(path);
        return r;
}

static bool known_path(const struct sv_policy_registry *reg, const char *path)
{
        for (size_t i = 0; i < reg->n_entries; i++)
                if (reg->entries[i].path && strcmp(reg->entries[i].path, path) == 0)
                        return true;
        return false;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int sv_policy_registry_scan(struct sv_policy_registry *reg)
{
        const size_t plen = strlen(SV_POLICY_FILE_PREFIX), slen = strlen(SV_POLICY_FILE_SUFFIX);
        char **names = NULL;
        size_t n = 0;
        struct dirent *de;
        int failed = 0, r = 0;
        DIR *d;

        d = opendir(reg->dir);
        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                size_t len = strlen(de->d_name);
                char **nn;
                if (len <= plen + slen || strncmp(de->d_name, SV_POLICY_FILE_PREFIX, plen) != 0 ||
                    strcmp(de->d_name + len - slen, SV_POLICY_FILE_SUFFIX) != 0)
                        continue;
                nn = realloc(names, (n + 1) * sizeof(*names));
                if (!nn || !(nn[n] = strdup(de->d_name))) {
                        names = nn ? nn : names;
                        r = -ENOMEM;
                        break;
                }
                names = nn;
                n++;
        }
        closedir(d);
        /* Directory order is arbitrary: list in name order. */
        if (n)
                qsort(names, n, sizeof(*names), cmp_str);
        for (size_t i = 0; i < n && r == 0; i++) {
                struct sv_error err = {};
                const struct sv_policy *p;
                char *path, *name;

                if (asprintf(&path, "%s/%s", reg->dir, names[i]) < 0) {
                        r = -ENOMEM;
                        break;
                }
                name = strndup(names[i] + plen, strlen(names[i]) - plen - slen);
                if (!name) {
                        free(path);
                        r = -ENOMEM;
                        break;
                }
                /* A second file of an already loaded name (the kernel plugin
                 * beside the builtin) is loaded and listed too; lookups by name
                 * return the first. */
                if (!known_path(reg, path) && load_file(reg, path, name, &p, &err) < 0) {
                        failed++;
                        if (add_entry(reg, NULL, path, err.what) < 0)
                                r = -ENOMEM;
                }
                free(name);
                free(path);
        }
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
        return r < 0 ? r : failed;
}

size_t sv_policy_registry_size(const struct sv_policy_registry *reg)
{
        return reg->n_entries;
}

void sv_policy_get_info(const struct sv_policy *p, struct sv_policy_info *ret)
{
        *ret = (struct sv_policy_info){
                .name = p->name,
                .version = p->version,
                .description = p->description,
                .path = p->path,
                .abi_major = p->desc.abi_major,
                .abi_minor = p->desc.abi_minor,
                .builtin = p->builtin,
        };
}

int sv_policy_registry_info(const struct sv_policy_registry *reg, size_t i,
                            struct sv_policy_info *ret)
{
        const struct entry *e;

        if (i >= reg->n_entries)
                return -ERANGE;
        e = &reg->entries[i];
        if (e->policy) {
                sv_policy_get_info(e->policy, ret);
        } else {
                *ret = (struct sv_policy_info){.path = e->path, .error = e->error};
        }
        return 0;
}

/* ---- instances ---------------------------------------------------------- */

static const char *policy_where(const struct sv_policy *p)
{
        return p->path ? p->path : "builtin";
}

int sv_policy_instance_new(const struct sv_policy *p, const char *options,
                           struct sv_policy_instance **ret, struct sv_error *err)
{
        struct sv_policy_instance *inst;
        char msg[sizeof(err->what)] = "";
        int r;

        if (!options)
                options = "";
        if (!p->desc.init && options[strspn(options, " \t\n")])
                return sv__errorf(err, EINVAL, policy_where(p), "policy '%s' takes no options", p->name);
        inst = calloc(1, sizeof(*inst));
        if (!inst)
                return sv__errorf(err, ENOMEM, policy_where(p), "out of memory");
        inst->policy = p;
        if (p->desc.init) {
                r = p->desc.init(options, &inst->state, msg, sizeof(msg));
                if (r < 0) {
                        /* A positive or zero "error" would be a plugin bug; keep it -errno. */
                        free(inst);
                        msg[sizeof(msg) - 1] = 0;
                        return sv__errorf(err, -r, policy_where(p), "policy '%s': %s", p->name,
                                    msg[0] ? msg : strerror(-r));
                }
        }
        *ret = inst;
        return 0;
}

void sv_policy_instance_free(struct sv_policy_instance *inst)
{
        if (!inst)
                return;
        if (inst->policy->desc.destroy)
                inst->policy->desc.destroy(inst->state);
        free(inst);
}

const struct sv_policy *sv_policy_instance_policy(const struct sv_policy_instance *inst)
{
        return inst->policy;
}

/* ---- views -------------------------------------------------------------- */

/* The host's kernel_choice(): the kernel mirror over the view's snapshot,
 * with the rule's OOMGroup= and spared tasks. */
static int host_kernel_choice(const struct cgsentry_view *view, int32_t *ret_task,
                              int32_t *ret_group)
{
        /* view is the first member of struct sv_policy_view. */
        const struct sv_policy_view *v = (const struct sv_policy_view *)view;
        struct sv_oom_opts o = { .extra_oom_group = v->extra, .exclude = v->exclude };
        struct sv_oom_result *res = NULL;
        int r;

        r = sv_oom_select_opts(v->s, v->domain, &o, &res);
        if (r < 0)
                return r;
        *ret_task = res->victim < 0 ? -1 : (int32_t)((size_t)res->victim - v->first_task);
        *ret_group = res->kill_group < 0 ? -1 : (int32_t)(res->kill_group - v->domain);
        sv_oom_result_free(res);
        return 0;
}

static int host_kernel_choose(const struct cgsentry_view *view, struct cgsentry_decision *d)
{
        const struct cgsentry_task *t;
        int32_t task = -1, group = -1;
        char comm[SV_COMM_ESCAPED_SIZE];
        int r;

        r = host_kernel_choice(view, &task, &group);
        if (r < 0)
                return r;
        if (task < 0) {
                snprintf(d->explanation, d->explanation_size,
                         "no killable task in %s: the kernel would kill nothing", view->domain);
                return 0;
        }
        t = cgsentry_view_task(view, (uint32_t)task);
        sv_escape(t->comm, comm, sizeof(comm));
        d->task = task;
        /* The group is where the victim is, or what memory.oom.group widens
         * the kill to; the host kills the task alone when nothing widens it. */
        d->group = group >= 0 ? group : t->group;
        if (group >= 0)
                snprintf(d->explanation, d->explanation_size,
                         "pid %" PRId32 " (%s) has the highest badness, %" PRId64
                         " points of totalpages %" PRIu64 "; memory.oom.group widens the kill "
                         "to %s",
                         t->pid, comm, t->badness, view->totalpages,
                         cgsentry_view_group(view, (uint32_t)group)->path);
        else
                snprintf(d->explanation, d->explanation_size,
                         "pid %" PRId32 " (%s) in %s has the highest badness, %" PRId64
                         " points of totalpages %" PRIu64 "; no memory.oom.group, so the kernel "
                         "kills that task alone",
                         t->pid, comm, cgsentry_view_group(view, (uint32_t)t->group)->path,
                         t->badness, view->totalpages);
        return 0;
}

static uint32_t group_flags(const struct sv_group *g, bool extra_oom_group)
{
        uint32_t f = 0;

        if (g->prefer)
                f |= CGSENTRY_GROUP_PREFER;
        if (g->avoid)
                f |= CGSENTRY_GROUP_AVOID;
        if (g->memcg)
                f |= CGSENTRY_GROUP_MEMCG;
        if (g->have & SV_HAVE_MEMORY)
                f |= CGSENTRY_GROUP_HAVE_MEMORY;
        if (g->have & SV_HAVE_SWAP)
                f |= CGSENTRY_GROUP_HAVE_SWAP;
        if (g->have & SV_HAVE_PRESSURE)
                f |= CGSENTRY_GROUP_HAVE_PRESSURE;
        if (g->have & SV_HAVE_EVENTS)
                f |= CGSENTRY_GROUP_HAVE_EVENTS;
        if (g->oom_group || extra_oom_group)
                f |= CGSENTRY_GROUP_OOM_GROUP;
        return f;
}

static void fill_task(struct cgsentry_task *o, const struct sv_snapshot *s, const struct sv_task *t,
                      int view_group, uint64_t totalpages, bool excluded)
{
        *o = (struct cgsentry_task){
                .pid = t->pid,
                .ppid = t->ppid,
                .uid = t->uid,
                .group = view_group,
                .oom_score_adj = t->oom_score_adj,
                .flags = ((t->flags & SV_PF_KTHREAD) ? CGSENTRY_TASK_KTHREAD : 0) |
                         (t->has_mm ? 0 : CGSENTRY_TASK_NO_MM),
                .starttime = t->starttime,
                .vm_size_kb = t->vm_size_kb,
                .rss_anon_kb = t->rss_anon_kb,
                .rss_file_kb = t->rss_file_kb,
                .rss_shmem_kb = t->rss_shmem_kb,
                .vm_swap_kb = t->vm_swap_kb,
                .vm_pte_kb = t->vm_pte_kb,
                /* Spared by the rule: as unkillable to a policy as -1000. */
                .badness = excluded ? CGSENTRY_BADNESS_UNKILLABLE
                                    : sv_oom_badness(s, t, totalpages, NULL),
        };
        memcpy(o->comm, t->comm, sizeof(o->comm));
        o->comm[sizeof(o->comm) - 1] = 0;
}

static void fill_group(struct cgsentry_group *o, const struct sv_group *g, int view_parent,
                       uint32_t flags)
{
        *o = (struct cgsentry_group){
                .path = g->path,
                .ino = g->ino,
                .parent = view_parent,
                .flags = flags,
                .memory_current = g->memory_current,
                .memory_peak = g->memory_peak,
                .memory_max = g->memory_max,
                .memory_high = g->memory_high,
                .memory_low = g->memory_low,
                .memory_min = g->memory_min,
                .swap_current = g->swap_current,
                .swap_max = g->swap_max,
                .events_high = g->events.high,
                .events_max = g->events.max,
                .events_oom = g->events.oom,
                .events_oom_kill = g->events.oom_kill,
                .psi_some_avg10 = g->pressure.some.avg10,
                .psi_some_avg60 = g->pressure.some.avg60,
                .psi_some_avg300 = g->pressure.some.avg300,
                .psi_full_avg10 = g->pressure.full.avg10,
                .psi_full_avg60 = g->pressure.full.avg60,
                .psi_full_avg300 = g->pressure.full.avg300,
                .psi_some_total_usec = g->pressure.some.total_usec,
                .psi_full_total_usec = g->pressure.full.total_usec,
                .stat_anon = g->stat.anon,
                .stat_file = g->stat.file,
                .stat_shmem = g->stat.shmem,
        };
}

/* Does the subtree of view group @g have a killable process? */
static bool subtree_killable(const struct sv_policy_view *v, uint32_t g, bool own_only)
{
        const struct cgsentry_group *grp = &v->groups[g];
        uint32_t end = own_only ? g + 1 : grp->subtree_end;

        for (uint32_t i = g; i < end; i++)
                for (uint32_t k = 0; k < v->groups[i].n_tasks; k++)
                        if (v->tasks[v->groups[i].first_task + k].badness !=
                            CGSENTRY_BADNESS_UNKILLABLE)
                                return true;
        return false;
}

int sv_policy_view_new(const struct sv_snapshot *s, int domain,
                       const struct sv_policy_view_opts *opts, struct sv_policy_view **ret)
{
        static const struct sv_policy_view_opts no_opts = {};
        struct sv_policy_view *v;
        size_t end, n_groups, last_task;
        uint64_t totalpages;
        int r = -ENOMEM;

        if (!opts)
                opts = &no_opts;
        if (domain < 0 || (size_t)domain >= s->n_groups)
                return -EINVAL;
        /* Pre-order: the subtree is the run of groups deeper than the domain. */
        for (end = (size_t)domain + 1; end < s->n_groups; end++)
                if (s->groups[end].depth <= s->groups[domain].depth)
                        break;
        n_groups = end - (size_t)domain;
        last_task = end < s->n_groups ? s->groups[end].first_task : s->n_tasks;
        if (n_groups > UINT32_MAX / 2 || s->n_tasks > UINT32_MAX / 2)
                return -E2BIG;

        v = calloc(1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        v->s = s;
        v->domain = domain;
        v->first_task = s->groups[domain].first_task;
        v->groups = calloc(n_groups, sizeof(*v->groups));
        v->tasks = calloc(last_task - v->first_task ?: 1, sizeof(*v->tasks));
        v->candidates = calloc(n_groups, sizeof(*v->candidates));
        if (!v->groups || !v->tasks || !v->candidates)
                goto fail;
        if (opts->extra_oom_group) {
                v->extra = malloc(s->n_groups * sizeof(*v->extra));
                if (!v->extra)
                        goto fail;
                memcpy(v->extra, opts->extra_oom_group, s->n_groups * sizeof(*v->extra));
        }
        if (opts->exclude) {
                v->exclude = malloc((s->n_tasks ?: 1) * sizeof(*v->exclude));
                if (!v->exclude)
                        goto fail;
                memcpy(v->exclude, opts->exclude, s->n_tasks * sizeof(*v->exclude));
        }

        totalpages = sv_oom_totalpages(s, domain);
        for (size_t i = 0; i < n_groups; i++) {
                const struct sv_group *g = &s->groups[(size_t)domain + i];
                struct cgsentry_group *o = &v->groups[i];
                uint32_t flags = group_flags(g, v->extra && v->extra[(size_t)domain + i]);

                fill_group(o, g, i == 0 ? -1 : g->parent - domain, flags);
                o->depth = g->depth - s->groups[domain].depth;
                o->first_task = (uint32_t)(g->first_task - v->first_task);
                o->n_tasks = (uint32_t)g->n_tasks;
                for (size_t k = 0; k < g->n_tasks; k++)
                        fill_task(&v->tasks[o->first_task + k], s, &s->tasks[g->first_task + k],
                                  (int)i, totalpages,
                                  v->exclude && v->exclude[g->first_task + k]);
        }
        /* Subtree extents, children before parents (reverse pre-order). */
        for (size_t i = n_groups; i-- > 0;) {
                struct cgsentry_group *o = &v->groups[i];
                size_t e = i + 1;
                while (e < n_groups && v->groups[e].depth > o->depth)
                        e = v->groups[e].subtree_end;
                o->subtree_end = (uint32_t)e;
                o->subtree_tasks = (uint32_t)((e < n_groups ? v->groups[e].first_task
                                                            : last_task - v->first_task) -
                                              o->first_task);
        }

        /* Candidates: the domain's children with a killable process below
         * them; else the domain itself if it has one of its own. */
        for (size_t i = 1; i < n_groups; i = v->groups[i].subtree_end)
                if (subtree_killable(v, (uint32_t)i, false))
                        v->candidates[v->view.n_candidates++] = (uint32_t)i;
        if (v->view.n_candidates == 0 && subtree_killable(v, 0, true))
                v->candidates[v->view.n_candidates++] = 0;
        for (uint32_t i = 0; i < v->view.n_candidates; i++)
                v->groups[v->candidates[i]].flags |= CGSENTRY_GROUP_CANDIDATE;

        v->host = (struct cgsentry_host){
                .struct_size = sizeof(struct cgsentry_host),
                .kernel_choice = host_kernel_choice,
                .kernel_choose = host_kernel_choose,
        };
        v->view.struct_size = sizeof(struct cgsentry_view);
        v->view.group_size = sizeof(struct cgsentry_group);
        v->view.task_size = sizeof(struct cgsentry_task);
        v->view.host = &v->host;
        v->view.now_usec = opts->now_usec;
        v->view.page_size = s->page_size;
        v->view.totalpages = totalpages;
        v->view.domain = s->groups[domain].path;
        v->view.groups = v->groups;
        v->view.n_groups = (uint32_t)n_groups;
        v->view.tasks = v->tasks;
        v->view.n_tasks = (uint32_t)(last_task - v->first_task);
        v->view.candidates = v->candidates;
        *ret = v;
        return 0;
fail:
        sv_policy_view_free(v);
        return r;
}

void sv_policy_view_free(struct sv_policy_view *v)
{
        if (!v)
                return;
        free(v->groups);
        free(v->tasks);
        free(v->candidates);
        free(v->extra);
        free(v->exclude);
        free(v);
}

const struct cgsentry_view *sv_policy_view_get(const struct sv_policy_view *v)
{
        return &v->view;
}

int sv_policy_view_set_group_flags(struct sv_policy_view *v, int view_group, uint32_t set,
                                   uint32_t clear)
{
        const uint32_t allowed = CGSENTRY_GROUP_PREFER | CGSENTRY_GROUP_AVOID;

        if (view_group < 0 || (uint32_t)view_group >= v->view.n_groups ||
            ((set | clear) & ~allowed))
                return -EINVAL;
        v->groups[view_group].flags = (v->groups[view_group].flags & ~clear) | set;
        return 0;
}

/* ---- choosing ----------------------------------------------------------- */

int sv_policy_choose(struct sv_policy_instance *inst, const struct sv_policy_view *v,
                     struct sv_policy_decision *ret, struct sv_error *err)
{
        const struct sv_policy *p = inst->policy;
        char text[SV_POLICY_EXPLANATION_SIZE] = "";
        struct cgsentry_decision d = {
                .struct_size = sizeof(d),
                .group = -1,
                .task = -1,
                .explanation = text,
                .explanation_size = sizeof(text),
        };
        int r;

        r = p->desc.choose(&v->view, inst->state, &d);
        text[sizeof(text) - 1] = 0;
        if (r < 0)
                return sv__errorf(err, -r, policy_where(p), "policy '%s' failed: %s", p->name,
                            text[0] ? text : strerror(-r));
        if (r > 0 || d.group < -1 || d.group >= (int32_t)v->view.n_groups || d.task < -1 ||
            d.task >= (int32_t)v->view.n_tasks || (d.group < 0 && d.task >= 0))
                return sv__errorf(err, EBADMSG, policy_where(p),
                            "policy '%s' returned an invalid decision (%d, group %" PRId32
                            ", task %" PRId32 ")",
                            p->name, r, d.group, d.task);
        if (d.task >= 0) {
                uint32_t tg = (uint32_t)v->tasks[d.task].group;
                if (tg < (uint32_t)d.group || tg >= v->groups[d.group].subtree_end)
                        return sv__errorf(err, EBADMSG, policy_where(p),
                                    "policy '%s' named a task outside the group it chose", p->name);
        }
        ret->group = d.group < 0 ? -1 : d.group + v->domain;
        ret->task = d.task < 0 ? -1 : (int)((size_t)d.task + v->first_task);
        memcpy(ret->explanation, text, sizeof(ret->explanation));
        return 0;
}
