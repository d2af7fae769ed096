/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host side of the policy plugin ABI (include/cgsentry/policy.h): a
 * registry of policies (the builtin kernel mirror plus plugins dlopen()ed
 * from a directory), policy instances (a policy with its options and private
 * state), and views (the read-only picture of a snapshot a plugin sees).
 *
 * Used by the cgsentry front-ends; not installed (plugins see only
 * policy.h). Conventions as in supervise.h: 0 or -errno, ret_* last and
 * untouched on failure, destructors accept NULL, never logs; load errors name
 * the file in sv_error.path and say why in sv_error.what.
 *
 * Lifetimes: instances must be freed before the registry that loaded their
 * policy (freeing the registry unloads the plugins); a view must not outlive
 * the snapshot it was built from (it points into it).
 */
#ifndef SV_POLICY_HOST_H
#define SV_POLICY_HOST_H

#include "cgsentry/policy.h"
#include "cgsentry/supervise.h"

/* The policy cgsentry uses when none is configured or one fails to load. */
#define SV_POLICY_DEFAULT "kernel"

/* File name of a plugin: SV_POLICY_FILE_PREFIX NAME SV_POLICY_FILE_SUFFIX */
#define SV_POLICY_FILE_PREFIX "cgsentry-policy-"
#define SV_POLICY_FILE_SUFFIX ".so"

/* Size of the explanation buffer given to choose(). */
#define SV_POLICY_EXPLANATION_SIZE 512

struct sv_policy;
struct sv_policy_registry;
struct sv_policy_instance;
struct sv_policy_view;

/* What a registry knows about one policy or one broken plugin file. */
struct sv_policy_info {
        const char *name; /* NULL for a file that failed to load */
        const char *version;
        const char *description;
        const char *path; /* NULL for builtin policies */
        unsigned abi_major, abi_minor;
        bool builtin;
        const char *error; /* why the file at path was refused, or NULL */
};

/* The default directory: <libdir>/cgsentry/policies. */
const char *sv_policy_default_dir(void);

/**
 * sv_policy_registry_new() - a registry with the builtin policies, loading
 * plugins from @dir (NULL: sv_policy_default_dir()) on demand.
 */
int sv_policy_registry_new(const char *dir, struct sv_policy_registry **ret);
/* Destroys nothing the caller still uses: free instances first. */
void sv_policy_registry_free(struct sv_policy_registry *reg);

/**
 * sv_policy_registry_get() - the policy called @name: an already loaded or
 * builtin one (the builtin "kernel" shadows a kernel plugin file), else the
 * plugin dir/cgsentry-policy-NAME.so, loaded now with RTLD_NOW|RTLD_LOCAL.
 * Refused (with the path in @err): names outside [a-z0-9_-], missing files
 * (-ENOENT), files that are not regular (-EINVAL), world-writable or, when
 * running as root, not owned by root (-EPERM), that dlopen() rejects
 * (-ELIBBAD), without the entry symbol or with a too small or otherwise
 * invalid descriptor (-ENOEXEC), of another ABI major (-EPROTONOSUPPORT).
 * The policy stays owned by the registry.
 */
int sv_policy_registry_get(struct sv_policy_registry *reg, const char *name,
                                     const struct sv_policy **ret, struct sv_error *err);

/**
 * sv_policy_registry_load_file() - load one plugin file by path (any name),
 * with the checks above. For tests and for listing.
 */
int sv_policy_registry_load_file(struct sv_policy_registry *reg, const char *path,
                                           const struct sv_policy **ret, struct sv_error *err);

/**
 * sv_policy_registry_scan() - try to load every cgsentry-policy-*.so of the
 * directory, so that sv_policy_registry_info() lists them; files that fail
 * are listed with their error. Returns the number of files that failed, or
 * -errno if the directory cannot be read (-ENOENT: it does not exist).
 */
int sv_policy_registry_scan(struct sv_policy_registry *reg);

/* Number of entries (builtin, loaded and broken), in the order they came. */
size_t sv_policy_registry_size(const struct sv_policy_registry *reg);
/* Entry @i; the strings live as long as the registry. */
int sv_policy_registry_info(const struct sv_policy_registry *reg, size_t i,
                                      struct sv_policy_info *ret);
const char *sv_policy_registry_dir(const struct sv_policy_registry *reg);

void sv_policy_get_info(const struct sv_policy *p, struct sv_policy_info *ret);

/**
 * sv_policy_instance_new() - run the policy's init() with @options (NULL or
 * "" for none). A policy's own complaint about the options is in err->what
 * (and err->path names the policy).
 */
int sv_policy_instance_new(const struct sv_policy *p, const char *options,
                                     struct sv_policy_instance **ret, struct sv_error *err);
void sv_policy_instance_free(struct sv_policy_instance *inst);
const struct sv_policy *sv_policy_instance_policy(const struct sv_policy_instance *inst);

struct sv_policy_view_opts {
        uint64_t now_usec; /* cgsentry_view.now_usec */
        /* n_groups bools OR-ed into memory.oom.group (the daemon's
         * OOMGroup=), indexed like the snapshot; may be NULL. */
        const bool *extra_oom_group;
        /* n_tasks bools: tasks the rule spares (Protect=, cgsentry itself);
         * the view shows them unkillable. May be NULL. */
        const bool *exclude;
};

/**
 * sv_policy_view_new() - the view of @domain (a group index of @s) and its
 * subtree that plugins see. Pure: everything is copied from @s (the
 * prefer/avoid xattrs too, which the snapshot reader read), and paths point
 * into @s.
 */
int sv_policy_view_new(const struct sv_snapshot *s, int domain,
                                 const struct sv_policy_view_opts *opts,
                                 struct sv_policy_view **ret);
void sv_policy_view_free(struct sv_policy_view *v);
const struct cgsentry_view *sv_policy_view_get(const struct sv_policy_view *v);
/* Set group flags after building, for tests and for hosts that learn
 * preferences elsewhere (CGSENTRY_GROUP_PREFER/AVOID only). */
int sv_policy_view_set_group_flags(struct sv_policy_view *v, int view_group, uint32_t set,
                                             uint32_t clear);

/* A decision mapped back to the snapshot. */
struct sv_policy_decision {
        int group; /* snapshot group index, -1: nothing */
        int task;  /* snapshot task index, -1: the whole group */
        char explanation[SV_POLICY_EXPLANATION_SIZE];
};

/**
 * sv_policy_choose() - call the instance's choose() on @v and map its answer
 * back to snapshot indexes. The plugin's answer is checked: an index out of
 * range, or a task outside the chosen group's subtree, is -EBADMSG; a
 * failing choose() passes its -errno on. Either way @err says which policy
 * and why (the caller then falls back to its default).
 */
int sv_policy_choose(struct sv_policy_instance *inst, const struct sv_policy_view *v,
                               struct sv_policy_decision *ret, struct sv_error *err);

#endif
