/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cgsentryd's configuration: /etc/cgsentry/cgsentry.conf plus conf.d/NAME.conf
 * drop-ins, INI like systemd units (parsed by inih). Loading is all or
 * nothing: a config with any bad line is rejected whole, so a reload never
 * leaves a half-applied rule set.
 */
#ifndef CGSENTRY_CONFIG_H
#define CGSENTRY_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define CGSENTRY_CONF_DEFAULT "/etc/cgsentry/cgsentry.conf"
/* inih keeps section and key names in 50-byte buffers: longer ones would be
 * cut (and two rules merged), so they are refused. */
#define CGSENTRY_CONF_NAME_MAX 50

/* Default cooldown after a kill: long enough for the group's memory to be
 * uncharged and for cgroup.events to report it empty, short enough to catch
 * a respawned runaway quickly. */
#define CGSENTRY_COOLDOWN_DEFAULT_USEC (10ull * 1000000)
/* Longer would leave a group unguarded for most of a day after a kill. */
#define CGSENTRY_COOLDOWN_MAX_USEC (24ull * 3600 * 1000000)
/* KillSignal=SIGTERM:GRACE,SIGKILL: memory is short while the grace runs,
 * so minutes at most. */
#define CGSENTRY_GRACE_MIN_USEC 1000ull
#define CGSENTRY_GRACE_MAX_USEC (10ull * 60 * 1000000)
/* ExecBeforeKill=/ExecAfterKill=: a hook that outlives this is killed. */
#define CGSENTRY_HOOK_TIMEOUT_DEFAULT_USEC (10ull * 1000000)
#define CGSENTRY_HOOK_TIMEOUT_MIN_USEC 100000ull
#define CGSENTRY_HOOK_TIMEOUT_MAX_USEC (10ull * 60 * 1000000)
/* MetricsInterval=: off by default (no timer while idle); when on, at
 * least a second apart. */
#define CGSENTRY_METRICS_INTERVAL_MIN_USEC 1000000ull
#define CGSENTRY_METRICS_INTERVAL_MAX_USEC (24ull * 3600 * 1000000)
#define CGSENTRY_CONTROL_SOCKET_DEFAULT "/run/cgsentry/control.sock"
/* Documentation/accounting/psi.rst: a trigger window of 500ms to 10s. */
#define CGSENTRY_PSI_WINDOW_MIN_USEC 500000ull
#define CGSENTRY_PSI_WINDOW_MAX_USEC 10000000ull
/* Tripwire=: 0.01% .. 99.99% of memory.max. */
#define CGSENTRY_TRIPWIRE_MIN_PERMYRIAD 1u
#define CGSENTRY_TRIPWIRE_MAX_PERMYRIAD 9999u

struct cgsentry_pressure {
        bool enabled;
        bool full;          /* "full" instead of "some" */
        uint64_t stall_usec; /* within each window */
        uint64_t window_usec;
};

/* What a rule on the node's pod tree watches beyond its own group: the
 * whole node (node.c). */
struct cgsentry_node {
        uint64_t available_bytes;       /* NodeMemoryAvailable=SIZE; 0: off */
        unsigned available_permyriad;   /* NodeMemoryAvailable=PERCENT of MemTotal; 0: off */
        struct cgsentry_pressure stall; /* NodePressureStall=: the node's memory PSI */
};

struct cgsentry_rule {
        char *name;         /* from [Rule NAME] */
        char *match;        /* glob relative to the cgroup root; '*' within a component, '**' any */
        bool oom_group;     /* OOMGroup=: each matched group dies whole */
        bool on_kernel_oom_kill; /* OnKernelOOMKill=group-kill */
        unsigned tripwire_permyriad; /* Tripwire=90% -> 9000; 0 = off */
        struct cgsentry_pressure pressure; /* PressureStall= */
        struct cgsentry_node node; /* NodeMemoryAvailable=, NodePressureStall= */
        char *policy;       /* Policy=NAME, NULL = the kernel mirror */
        char *policy_options; /* the rest of the Policy= line ("window=10s"), or NULL */
        char **protect;     /* Protect= globs (never killed) */
        size_t n_protect;
        bool dry_run;
        uint64_t cooldown_usec;
        uint64_t term_grace_usec; /* KillSignal=SIGTERM:5s,SIGKILL; 0 = SIGKILL at once */
        /* ExecBeforeKill=, ExecAfterKill=: argv (NULL-terminated) or NULL */
        char **exec_before_kill, **exec_after_kill;
        uint64_t hook_timeout_usec; /* HookTimeout= */
        char *file;         /* where the rule was defined, for messages */
        unsigned line;
};

struct cgsentry_config {
        char *cgroup_root;  /* [Daemon] CgroupRoot=, default /sys/fs/cgroup */
        char *proc_root;    /* [Daemon] ProcRoot=, default /proc */
        char *policy_dir;   /* [Daemon] PolicyDir=, NULL = <libdir>/cgsentry/policies */
        char *state_dir;    /* [Daemon] StateDirectory=, NULL = /var/lib/cgsentry (kill log) */
        /* [Daemon] ControlSocket=: NULL = CGSENTRY_CONTROL_SOCKET_DEFAULT */
        char *control_socket;
        bool control_socket_off; /* ControlSocket=no */
        char *control_group;     /* [Daemon] ControlGroup=: may ask besides root, or NULL */
        gid_t control_gid;
        char *metrics_textfile;  /* [Daemon] MetricsTextfile=, or NULL */
        uint64_t metrics_interval_usec; /* [Daemon] MetricsInterval=, 0 = after kills only */
        struct cgsentry_rule *rules;
        size_t n_rules;
};

/*
 * Load @path and, if it exists, the *.conf files of @path's directory's
 * conf.d/ in lexical order. Every bad line is reported to @errors as
 * "FILE:LINE: message"; returns -EINVAL if there was any, -errno if a file
 * could not be read, 0 and *ret on success.
 */
int cgsentry_config_load(const char *path, FILE *errors, struct cgsentry_config **ret);
/* Same, from a string (tests): @name is used in messages. */
int cgsentry_config_load_string(const char *text, const char *name, FILE *errors,
                                struct cgsentry_config **ret);
void cgsentry_config_free(struct cgsentry_config *c);

/* The rule that supervises @path ("a/b", no leading slash), or NULL. The
 * first matching rule wins, in file order. */
const struct cgsentry_rule *cgsentry_config_match(const struct cgsentry_config *c,
                                                  const char *path);

/* An empty configuration ([Daemon] defaults, no rule), for programs that
 * build their rules directly (cgsentry run). NULL when out of memory. */
struct cgsentry_config *cgsentry_config_new(void);
/* Appends a rule with the defaults; @file and @line say where it came from
 * in messages. NULL when out of memory. */
struct cgsentry_rule *cgsentry_config_add_rule(struct cgsentry_config *c, const char *name,
                                               const char *file, unsigned line);
int cgsentry_rule_set_match(struct cgsentry_rule *r, const char *glob);
int cgsentry_rule_add_protect(struct cgsentry_rule *r, const char *glob);

/*
 * A hook's command line, "/ABSOLUTE/PATH [ARG...]", split at blanks into a
 * NULL-terminated argv. No quoting and no shell: a command that needs
 * either belongs in a script. -EINVAL (with @msg) or -ENOMEM.
 */
int cgsentry_parse_command(const char *v, char ***ret, char *msg, size_t msg_size);
void cgsentry_strv_free(char **v);

/*
 * The value syntaxes of the configuration, shared with cgsentry run's
 * options: 0, or -EINVAL/-ERANGE (-ENOMEM for the policy) with what is
 * accepted in @msg.
 *  - Tripwire=: a percentage from 0.01% to 99.99%, or off (0);
 *  - PressureStall=: "some|full PERCENT WINDOW" (0.01%..100%, 500ms..10s),
 *    or off;
 *  - Policy=: "NAME [OPTIONS]"; *ret_name and *ret_options are replaced.
 */
int cgsentry_parse_tripwire(const char *v, unsigned *ret_permyriad, char *msg, size_t msg_size);
int cgsentry_parse_pressure(const char *v, struct cgsentry_pressure *ret, char *msg,
                            size_t msg_size);
int cgsentry_parse_policy(const char *v, char **ret_name, char **ret_options, char *msg,
                          size_t msg_size);
/* NodeMemoryAvailable= and NodePressureStall= (node.c): 1 when @key is one
 * of them and @v is good, 0 when @key is not theirs, -EINVAL/-ERANGE with
 * what is accepted in @msg. */
int cgsentry_node_rule_key(struct cgsentry_node *n, const char *key, const char *v, char *msg,
                           size_t msg_size);
/* Does @rule watch the node (NodeMemoryAvailable= or NodePressureStall=)? */
bool cgsentry_node_enabled(const struct cgsentry_rule *rule);

#endif
