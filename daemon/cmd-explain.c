/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cgsentry explain: what the kernel's memcg OOM killer would do right now,
 * and with --config, what cgsentryd would do: the same decision function
 * (cgsentry_decide()) over the same snapshot, so the two cannot disagree.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cgsentry.h"
#include "cgsentry/supervise.h"
#include "config.h"
#include "decide.h"
#include "format.h"
#include "outcome.h"
#include "parse.h"
#include "policy-host.h"
#include "util.h"

/* --history files fed to a policy before the current domain. */
#define EXPLAIN_HISTORY_MAX 16

static void explain_usage(FILE *out)
{
        fprintf(out,
                "Usage: cgsentry explain [OPTIONS] CGROUP\n"
                "\n"
                "Show which task the kernel's memcg OOM killer would choose, and which\n"
                "processes would die with it (memory.oom.group), if CGROUP hit its limit now.\n"
                "CGROUP is a path relative to the cgroupfs root, e.g. system.slice/foo.service;\n"
                "\"/\" is a system-wide OOM. The first line says the outcome the vm sysctls give:\n"
                "a panic, the allocating task killed, or the victim below.\n"
                "\n"
                "Options:\n"
                "  --json               print one JSON object instead of kernel-style text\n"
                "  --cgroup-root DIR    cgroup v2 mount point (default /sys/fs/cgroup)\n"
                "  --proc-root DIR      procfs mount point (default /proc)\n"
                "  --sys-root DIR       sysctl root for vm.panic_on_oom, vm.oom_kill_allocating_task,\n"
                "                       vm.oom_dump_tasks, vm.overcommit_* (default PROC_ROOT/sys)\n"
                "  --allocating-pid PID with vm.oom_kill_allocating_task=1: the task whose\n"
                "                       allocation fails in a system-wide OOM (explain /)\n"
                "  --snapshot FILE      read the domain from a saved snapshot (JSON) instead\n"
                "  --save-snapshot FILE write the snapshot that was read to FILE\n"
                "  --policy NAME        also show what policy NAME would choose, and why\n"
                "  --policy-dir DIR     where policy plugins live (default %s)\n"
                "  --policy-options OPTS\n"
                "                       the policy's options, e.g. \"window=10s\"\n"
                "  --history FILE       a snapshot saved earlier (--save-snapshot) to show the\n"
                "                       policy first, stamped with the file's modification time\n"
                "                       (repeatable, oldest first; for the growth policy)\n"
                "  --config FILE        say what cgsentryd with this configuration would do:\n"
                "                       the rule that matches CGROUP, its policy, Protect=,\n"
                "                       OOMGroup= (its roots too, unless given above)\n"
                "  --rule NAME          with --config: this rule rather than the first match\n"
                "  --trigger KIND       with --config: tripwire, pressure or kernel-oom-kill\n"
                "                       (default: the rule's first of these)\n"
                "  -h, --help           show this help\n"
                "\n"
                "Exit status: 0 a victim exists, 1 nothing is killable, 2 error.\n",
                sv_policy_default_dir());
}

static int report_error(const char *what, int r, const struct sv_error *err)
{
        if (err->path[0])
                fprintf(stderr, "cgsentry explain: %s: %s: %s\n", what, err->path,
                        err->what[0] ? err->what : strerror(-r));
        else
                fprintf(stderr, "cgsentry explain: %s: %s\n", what, strerror(-r));
        return CGSENTRY_EXIT_ERROR;
}

/* ---- --policy ----------------------------------------------------------- */

struct explain_policy {
        const char *name, *dir, *options;
        const char *history[EXPLAIN_HISTORY_MAX];
        int n_history;
        uint64_t now_usec;
        struct sv_policy_registry *reg;
        struct sv_policy_instance *inst;
        struct sv_policy_info info; /* of the policy that decided */
        struct sv_policy_decision decision;
};

/* When the snapshot was taken: now when read live; a saved one when it was
 * written, its mtime. */
static uint64_t snapshot_usec(const char *saved_path)
{
        struct stat st;

        if (!saved_path || stat(saved_path, &st) < 0)
                return (uint64_t)sv__clock_usec(CLOCK_REALTIME);
        return (uint64_t)st.st_mtim.tv_sec * 1000000 + (uint64_t)st.st_mtim.tv_nsec / 1000;
}

static void policy_done(struct explain_policy *pol)
{
        sv_policy_instance_free(pol->inst);
        pol->inst = NULL;
        sv_policy_registry_free(pol->reg);
        pol->reg = NULL;
}

static void say_fallback(const char *what, const struct sv_error *err)
{
        fprintf(stderr, "cgsentry explain: %s: %s%s%s; using the builtin %s policy instead\n",
                what, err->path, err->path[0] ? ": " : "", err->what, SV_POLICY_DEFAULT);
}

/* The default policy, when the requested one cannot be used. */
static int use_default(struct explain_policy *pol)
{
        const struct sv_policy *p;
        struct sv_error err = {};
        int r;

        sv_policy_instance_free(pol->inst);
        pol->inst = NULL;
        r = sv_policy_registry_get(pol->reg, SV_POLICY_DEFAULT, &p, &err);
        if (r >= 0)
                r = sv_policy_instance_new(p, NULL, &pol->inst, &err);
        if (r < 0)
                fprintf(stderr, "cgsentry explain: the builtin policy failed: %s\n", err.what);
        return r;
}

static int policy_choose_at(struct explain_policy *pol, const struct sv_snapshot *s, int domain,
                            uint64_t now_usec, struct sv_policy_decision *ret)
{
        struct sv_policy_view_opts vo = { .now_usec = now_usec };
        struct sv_policy_view *v = NULL;
        struct sv_error err = {};
        int r;

        r = sv_policy_view_new(s, domain, &vo, &v);
        if (r < 0) {
                fprintf(stderr, "cgsentry explain: cannot build the policy view: %s\n",
                        strerror(-r));
                return r;
        }
        r = sv_policy_choose(pol->inst, v, ret, &err);
        if (r < 0) {
                say_fallback("the policy failed", &err);
                r = use_default(pol);
                if (r >= 0)
                        r = sv_policy_choose(pol->inst, v, ret, &err);
        }
        sv_policy_view_free(v);
        return r;
}

/* Load the policy (falling back to the default), show it the history, then
 * the current domain. */
static int policy_run(struct explain_policy *pol, const struct sv_snapshot *s, int domain)
{
        const struct sv_policy *p;
        struct sv_error err = {};
        int r;

        r = sv_policy_registry_new(pol->dir, &pol->reg);
        if (r < 0) {
                fprintf(stderr, "cgsentry explain: %s\n", strerror(-r));
                return r;
        }
        r = sv_policy_registry_get(pol->reg, pol->name, &p, &err);
        if (r >= 0)
                r = sv_policy_instance_new(p, pol->options, &pol->inst, &err);
        if (r < 0) {
                char what[128];
                snprintf(what, sizeof(what), "cannot use policy '%s'", pol->name);
                say_fallback(what, &err);
                r = use_default(pol);
                if (r < 0)
                        return r;
        }

        for (int i = 0; i < pol->n_history; i++) {
                struct sv_snapshot *h = NULL;
                struct sv_policy_decision ignored;
                int hd;

                memset(&err, 0, sizeof(err));
                r = sv_snapshot_load_json(pol->history[i], &h, &err);
                if (r < 0) {
                        fprintf(stderr, "cgsentry explain: --history %s: %s\n", pol->history[i],
                                err.what[0] ? err.what : strerror(-r));
                        return r;
                }
                hd = sv_snapshot_find_group(h, s->groups[domain].path);
                if (hd < 0) {
                        fprintf(stderr, "cgsentry explain: --history %s: has no group %s\n",
                                pol->history[i], s->groups[domain].path);
                        sv_snapshot_free(h);
                        return -ENOENT;
                }
                r = policy_choose_at(pol, h, hd, snapshot_usec(pol->history[i]), &ignored);
                sv_snapshot_free(h);
                if (r < 0)
                        return r;
        }
        r = policy_choose_at(pol, s, domain, pol->now_usec, &pol->decision);
        if (r < 0)
                return r;
        sv_policy_get_info(sv_policy_instance_policy(pol->inst), &pol->info);
        return 0;
}

static void policy_print_text(const struct sv_snapshot *s, const struct explain_policy *pol)
{
        const struct sv_policy_decision *d = &pol->decision;

        printf("# Policy %s %s (%s)", pol->info.name, pol->info.version,
               pol->info.builtin ? "builtin" : pol->info.path);
        if (d->group < 0)
                printf(" would kill nothing\n");
        else if (d->task < 0)
                printf(" would kill group %s\n", s->groups[d->group].path);
        else
                printf(" would kill group %s, victim pid %d (%s)\n", s->groups[d->group].path,
                       s->tasks[d->task].pid, s->tasks[d->task].comm);
        printf("# %s: %s\n", pol->info.name, d->explanation);
}

/* explain's JSON with a "policy" member added. */
static int explain_json_with_policy(const struct sv_snapshot *s, const struct sv_oom_result *res,
                                    const struct explain_policy *pol,
                                    const struct sv_outcome *outcome)
{
        const struct sv_policy_decision *d = &pol->decision;
        json_object *root = sv__json_explain(s, res), *o;
        int r;

        if (!root)
                return -ENOMEM;
        o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(pol->info.name));
        json_object_object_add(o, "version", json_object_new_string(pol->info.version));
        json_object_object_add(o, "victim_group",
                               d->group < 0 ? NULL
                                            : json_object_new_string(s->groups[d->group].path));
        json_object_object_add(o, "victim_pid",
                               d->task < 0 ? NULL : json_object_new_int(s->tasks[d->task].pid));
        json_object_object_add(o, "explanation", json_object_new_string(d->explanation));
        json_object_object_add(root, "policy", o);
        json_object_object_add(root, "outcome", sv_outcome_json(s, outcome));
        r = sv__json_print(stdout, root);
        json_object_put(root);
        return r;
}

/* ---- --config: what cgsentryd would do -------------------------------- */

struct explain_config {
        const char *path, *rule_name, *trigger;
        const char *proc_root; /* where the node's figures are read; NULL: a saved snapshot */
        struct cgsentry_config *cfg;
        const struct cgsentry_rule *rule;
};

static int load_config(struct explain_config *ec, const char *cgroup)
{
        char *errs = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&errs, &len);
        int r = cgsentry_config_load(ec->path, f, &ec->cfg);

        if (f)
                fclose(f);
        if (r < 0) {
                fprintf(stderr, "cgsentry explain: %s is not a valid configuration:\n%s",
                        ec->path, errs ? errs : "");
                free(errs);
                return r;
        }
        free(errs);
        if (ec->rule_name) {
                for (size_t i = 0; i < ec->cfg->n_rules && !ec->rule; i++)
                        if (strcmp(ec->cfg->rules[i].name, ec->rule_name) == 0)
                                ec->rule = &ec->cfg->rules[i];
                if (!ec->rule) {
                        fprintf(stderr, "cgsentry explain: %s has no [Rule %s]\n", ec->path,
                                ec->rule_name);
                        return -ENOENT;
                }
        } else {
                while (*cgroup == '/')
                        cgroup++;
                ec->rule = cgsentry_config_match(ec->cfg, cgroup);
                if (!ec->rule) {
                        fprintf(stderr, "cgsentry explain: no rule of %s matches /%s: cgsentryd "
                                "would not supervise it (use --rule NAME to try one)\n",
                                ec->path, cgroup);
                        return -ENOENT;
                }
        }
        return 0;
}

/* A file of the proc root, read whole (the node's figures). */
static ssize_t read_proc(const char *root, const char *name, char *buf, size_t size)
{
        char path[4096];
        ssize_t n;
        int fd;

        snprintf(path, sizeof(path), "%s/%s", root, name);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        n = sv__read_fd(fd, buf, size);
        close(fd);
        return n;
}

/* node-pressure as cgsentryd would fire it now: MemAvailable against
 * NodeMemoryAvailable= (or, with NodePressureStall= alone, the node's PSI
 * trigger), from the proc root; a saved snapshot has MemTotal only. */
static void node_trigger(const struct explain_config *ec, const struct sv_snapshot *s,
                         struct sv_trigger *t)
{
        const struct cgsentry_node *node = &ec->rule->node;
        struct sv_meminfo mi = { 0 };
        char buf[8192];
        ssize_t n;

        *t = (struct sv_trigger){ .kind = SV_TRIGGER_NODE_PRESSURE,
                                  .mem_total = s->total_ram_pages * s->page_size };
        if (ec->proc_root && (n = read_proc(ec->proc_root, "meminfo", buf, sizeof(buf))) >= 0 &&
            sv_parse_meminfo_all(buf, (size_t)n, &mi) == 0) {
                t->mem_total = mi.mem_total_kb * 1024;
                t->mem_available = mi.mem_available_kb * 1024;
        }
        t->available_min = sv_node_threshold(t->mem_total, node->available_bytes,
                                             node->available_permyriad);
        if (!node->available_bytes && !node->available_permyriad && node->stall.enabled) {
                t->node_psi = true;
                t->psi_full = node->stall.full;
                t->stall_usec = node->stall.stall_usec;
                t->window_usec = node->stall.window_usec;
                if (ec->proc_root &&
                    (n = read_proc(ec->proc_root, "pressure/memory", buf, sizeof(buf))) >= 0)
                        (void)sv_parse_psi(buf, (size_t)n, &t->psi);
        }
}

/* The trigger as the daemon would see it now: the rule's settings and the
 * snapshot's figures. */
static int config_trigger(const struct explain_config *ec, const struct sv_snapshot *s,
                          struct sv_trigger *t)
{
        const struct cgsentry_rule *rule = ec->rule;
        const struct sv_group *g = &s->groups[0];
        const char *kind = ec->trigger;

        if (!kind)
                kind = rule->tripwire_permyriad ? "tripwire"
                       : rule->pressure.enabled ? "pressure"
                       : cgsentry_node_enabled(rule)     ? "node-pressure"
                       : rule->on_kernel_oom_kill ? "kernel-oom-kill"
                                                  : "tripwire";
        if (strcmp(kind, "tripwire") == 0) {
                *t = (struct sv_trigger){ .kind = SV_TRIGGER_TRIPWIRE, .memory_max = g->memory_max,
                                          .permyriad = rule->tripwire_permyriad };
                sv_reclaim_estimate(&g->stat, g->memory_current, s->swap_headroom, &t->reclaim);
        } else if (strcmp(kind, "pressure") == 0) {
                *t = (struct sv_trigger){ .kind = SV_TRIGGER_PRESSURE,
                                          .psi_full = rule->pressure.full,
                                          .stall_usec = rule->pressure.stall_usec,
                                          .window_usec = rule->pressure.window_usec,
                                          .psi = g->pressure };
        } else if (strcmp(kind, "node-pressure") == 0) {
                node_trigger(ec, s, t);
        } else if (strcmp(kind, "kernel-oom-kill") == 0) {
                *t = (struct sv_trigger){ .kind = SV_TRIGGER_KERNEL_OOM_KILL,
                                          .oom_kill_before = g->events.oom_kill,
                                          .oom_kill = g->events.oom_kill };
        } else {
                fprintf(stderr, "cgsentry explain: --trigger %s: expected tripwire, pressure, "
                        "node-pressure or kernel-oom-kill\n", kind);
                return -EINVAL;
        }
        return 0;
}

/* The rule's policy as cgsentryd loads it; NULL for the kernel's choice,
 * with the reason on stderr when the configured one cannot be used. */
static struct sv_policy_instance *config_policy(const struct explain_config *ec,
                                                const char *policy_dir,
                                                struct sv_policy_registry **reg)
{
        const struct cgsentry_rule *rule = ec->rule;
        struct sv_policy_instance *inst = NULL;
        const struct sv_policy *p;
        struct sv_error err = {};
        int r;

        if (!rule->policy || strcmp(rule->policy, SV_POLICY_DEFAULT) == 0)
                return NULL;
        r = sv_policy_registry_new(policy_dir ? policy_dir : ec->cfg->policy_dir, reg);
        if (r == 0)
                r = sv_policy_registry_get(*reg, rule->policy, &p, &err);
        if (r == 0)
                r = sv_policy_instance_new(p, rule->policy_options, &inst, &err);
        if (r < 0) {
                fprintf(stderr, "cgsentry explain: rule %s: policy %s cannot be used: %s%s%s; "
                        "cgsentryd uses the kernel's choice\n", rule->name, rule->policy,
                        err.path, err.path[0] ? ": " : "", err.what[0] ? err.what : strerror(-r));
                return NULL;
        }
        return inst;
}

static int explain_config(struct explain_config *ec, const struct sv_snapshot *s, bool json,
                          const char *policy_dir, uint64_t now_usec)
{
        struct sv_policy_registry *reg = NULL;
        struct sv_policy_instance *inst;
        struct sv_plan *plan = NULL;
        struct sv_kill_rule kr;
        struct sv_trigger t;
        char note[SV_POLICY_EXPLANATION_SIZE + 600];
        int r;

        r = config_trigger(ec, s, &t);
        if (r < 0)
                return CGSENTRY_EXIT_ERROR;
        inst = config_policy(ec, policy_dir, &reg);
        /* The daemon itself is not in the picture: no self pid to spare. */
        r = cgsentry_decide(s, &t, ec->rule, 0, inst, now_usec, &plan, note, sizeof(note));
        if (note[0])
                fprintf(stderr, "cgsentry explain: %s\n", note);
        if (r < 0) {
                fprintf(stderr, "cgsentry explain: %s\n", strerror(-r));
                r = CGSENTRY_EXIT_ERROR;
                goto out;
        }
        cgsentry_kill_rule(ec->rule, 0, &kr);
        if (json) {
                r = sv_format_plan_explain_json(stdout, s, &t, &kr, plan);
        } else {
                sv_format_plan_explain_text(stdout, s, &t, &kr, plan);
                if (t.kind == SV_TRIGGER_TRIPWIRE)
                        printf("# Tripwire %s now: %s\n",
                               sv_reclaim_over(&t.reclaim, t.memory_max, t.permyriad)
                                       ? "WOULD FIRE"
                                       : "would not fire",
                               t.permyriad == 0 ? "the rule has no Tripwire="
                               : t.memory_max == SV_LIMIT_MAX
                                       ? "no memory.max to be a fraction of"
                                       : "the non-reclaimable memory above is compared with it");
                if (t.kind == SV_TRIGGER_NODE_PRESSURE && !t.node_psi) {
                        char a[3][32];
                        printf("# Node pressure %s now: MemAvailable %s of MemTotal %s, "
                               "NodeMemoryAvailable= %s%s\n",
                               !ec->proc_root ? "unknown"
                               : t.available_min && t.mem_available < t.available_min
                                       ? "WOULD FIRE"
                                       : "would not fire",
                               sv_format_bytes(t.mem_available, a[0], sizeof(a[0])),
                               sv_format_bytes(t.mem_total, a[1], sizeof(a[1])),
                               sv_format_bytes(t.available_min, a[2], sizeof(a[2])),
                               ec->proc_root ? "" : " (a saved snapshot has no MemAvailable)");
                } else if (t.kind == SV_TRIGGER_NODE_PRESSURE) {
                        printf("# Node pressure: fires when the node's PSI trigger does "
                               "(NodePressureStall=); the kernel keeps that count\n");
                }
                r = 0;
        }
        r = r < 0 ? CGSENTRY_EXIT_ERROR : plan->n_kill_tasks ? CGSENTRY_EXIT_OK : CGSENTRY_EXIT_NONE;
out:
        sv_plan_free(plan);
        sv_policy_instance_free(inst);
        sv_policy_registry_free(reg);
        return r;
}

int cgsentry_cmd_explain(int argc, char **argv)
{
        enum {
                OPT_CGROUP_ROOT = 256,
                OPT_PROC_ROOT,
                OPT_SNAPSHOT,
                OPT_SAVE,
                OPT_POLICY,
                OPT_POLICY_DIR,
                OPT_POLICY_OPTIONS,
                OPT_HISTORY,
                OPT_CONFIG,
                OPT_RULE,
                OPT_TRIGGER,
                OPT_SYS_ROOT,
                OPT_ALLOCATING,
        };
        static const struct option options[] = {
                { "json", no_argument, NULL, 'j' },
                { "cgroup-root", required_argument, NULL, OPT_CGROUP_ROOT },
                { "proc-root", required_argument, NULL, OPT_PROC_ROOT },
                { "snapshot", required_argument, NULL, OPT_SNAPSHOT },
                { "save-snapshot", required_argument, NULL, OPT_SAVE },
                { "policy", required_argument, NULL, OPT_POLICY },
                { "policy-dir", required_argument, NULL, OPT_POLICY_DIR },
                { "policy-options", required_argument, NULL, OPT_POLICY_OPTIONS },
                { "history", required_argument, NULL, OPT_HISTORY },
                { "config", required_argument, NULL, OPT_CONFIG },
                { "rule", required_argument, NULL, OPT_RULE },
                { "trigger", required_argument, NULL, OPT_TRIGGER },
                { "sys-root", required_argument, NULL, OPT_SYS_ROOT },
                { "allocating-pid", required_argument, NULL, OPT_ALLOCATING },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        struct sv_snapshot_opts opts = {};
        const char *snapshot_path = NULL, *save_path = NULL;
        struct sv_error err = {};
        struct sv_snapshot *s = NULL;
        struct sv_oom_result *res = NULL;
        struct explain_policy pol = {};
        struct explain_config ec = {};
        bool json = false;
        int c, r, ret, allocating_pid = 0, allocating = -1;
        struct sv_outcome outcome;

        optind = 1;
        while ((c = getopt_long(argc, argv, "hj", options, NULL)) >= 0) {
                switch (c) {
                case 'j':
                        json = true;
                        break;
                case OPT_CGROUP_ROOT:
                        opts.cgroup_root = optarg;
                        break;
                case OPT_PROC_ROOT:
                        opts.proc_root = optarg;
                        break;
                case OPT_SNAPSHOT:
                        snapshot_path = optarg;
                        break;
                case OPT_SAVE:
                        save_path = optarg;
                        break;
                case OPT_POLICY:
                        pol.name = optarg;
                        break;
                case OPT_POLICY_DIR:
                        pol.dir = optarg;
                        break;
                case OPT_POLICY_OPTIONS:
                        pol.options = optarg;
                        break;
                case OPT_HISTORY:
                        if (pol.n_history == EXPLAIN_HISTORY_MAX) {
                                fprintf(stderr, "cgsentry explain: at most %d --history files\n",
                                        EXPLAIN_HISTORY_MAX);
                                return CGSENTRY_EXIT_ERROR;
                        }
                        pol.history[pol.n_history++] = optarg;
                        break;
                case OPT_CONFIG:
                        ec.path = optarg;
                        break;
                case OPT_RULE:
                        ec.rule_name = optarg;
                        break;
                case OPT_TRIGGER:
                        ec.trigger = optarg;
                        break;
                case OPT_SYS_ROOT:
                        opts.sys_root = optarg;
                        break;
                case OPT_ALLOCATING: {
                        char *end;
                        long v = strtol(optarg, &end, 10);
                        if (*end || v <= 0 || v > INT32_MAX) {
                                fprintf(stderr, "cgsentry explain: --allocating-pid %s: expected "
                                        "a pid\n", optarg);
                                return CGSENTRY_EXIT_ERROR;
                        }
                        allocating_pid = (int)v;
                        break;
                }
                case 'h':
                        explain_usage(stdout);
                        return CGSENTRY_EXIT_OK;
                default:
                        explain_usage(stderr);
                        return CGSENTRY_EXIT_ERROR;
                }
        }
        if (snapshot_path ? optind < argc - 1 : optind != argc - 1) {
                fputs("cgsentry explain: expected exactly one CGROUP\n", stderr);
                explain_usage(stderr);
                return CGSENTRY_EXIT_ERROR;
        }
        if (!pol.name && !ec.path && (pol.dir || pol.options || pol.n_history)) {
                fputs("cgsentry explain: --policy-options and --history need --policy; "
                      "--policy-dir needs --policy or --config\n", stderr);
                return CGSENTRY_EXIT_ERROR;
        }
        if (!ec.path && (ec.rule_name || ec.trigger)) {
                fputs("cgsentry explain: --rule and --trigger need --config\n", stderr);
                return CGSENTRY_EXIT_ERROR;
        }
        if (ec.path && (pol.name || pol.n_history)) {
                fputs("cgsentry explain: --config uses the rule's Policy=; it does not take "
                      "--policy or --history\n", stderr);
                return CGSENTRY_EXIT_ERROR;
        }
        if (ec.path) {
                r = load_config(&ec, snapshot_path ? (optind < argc ? argv[optind] : "")
                                                   : argv[optind]);
                if (r < 0) {
                        cgsentry_config_free(ec.cfg);
                        return CGSENTRY_EXIT_ERROR;
                }
                /* The daemon reads its own roots; the command line still wins. */
                if (!opts.cgroup_root)
                        opts.cgroup_root = ec.cfg->cgroup_root;
                if (!opts.proc_root)
                        opts.proc_root = ec.cfg->proc_root;
                if (!snapshot_path)
                        ec.proc_root = opts.proc_root;
        }

        if (snapshot_path)
                r = sv_snapshot_load_json(snapshot_path, &s, &err);
        else
                r = sv_snapshot_take(&opts, argv[optind], &s, &err);
        if (r < 0) {
                cgsentry_config_free(ec.cfg);
                return report_error("cannot read the domain", r, &err);
        }

        for (size_t i = 0; i < s->n_skipped; i++) {
                char *p = sv_escape_dup(s->skipped[i].path);
                fprintf(stderr, "cgsentry explain: warning: could not read %s: %s; left out\n",
                        p ? p : "?", s->skipped[i].what);
                free(p);
        }
        if (save_path) {
                FILE *f = fopen(save_path, "we");
                if (!f || sv_snapshot_to_json(s, f) < 0 || fclose(f) != 0) {
                        fprintf(stderr, "cgsentry explain: cannot write %s: %m\n", save_path);
                        sv_snapshot_free(s);
                        return CGSENTRY_EXIT_ERROR;
                }
        }

        /* With a snapshot, CGROUP (optional) names the OOMing group inside it. */
        c = 0;
        if (snapshot_path && optind < argc) {
                c = sv_snapshot_find_group(s, argv[optind]);
                if (c < 0) {
                        fprintf(stderr, "cgsentry explain: %s: no such group in %s\n",
                                argv[optind], snapshot_path);
                        sv_snapshot_free(s);
                        return CGSENTRY_EXIT_ERROR;
                }
        }

        if (ec.path) {
                struct sv_snapshot *sub = s;
                if (c != 0) {
                        fputs("cgsentry explain: --config with --snapshot: the CGROUP must be the "
                              "snapshot's domain\n", stderr);
                        ret = CGSENTRY_EXIT_ERROR;
                } else {
                        ret = explain_config(&ec, sub, json, pol.dir,
                                             snapshot_usec(snapshot_path));
                }
                cgsentry_config_free(ec.cfg);
                sv_snapshot_free(s);
                if (fflush(stdout) != 0)
                        ret = CGSENTRY_EXIT_ERROR;
                return ret;
        }

        r = sv_oom_select(s, c, &res);
        if (r < 0) {
                fprintf(stderr, "cgsentry explain: %s\n", strerror(-r));
                sv_snapshot_free(s);
                return CGSENTRY_EXIT_ERROR;
        }
        if (allocating_pid) {
                for (size_t i = 0; i < s->n_tasks && allocating < 0; i++)
                        if (s->tasks[i].pid == allocating_pid &&
                            sv_snapshot_group_is_descendant(s, s->tasks[i].group, c))
                                allocating = (int)i;
                if (allocating < 0) {
                        fprintf(stderr, "cgsentry explain: --allocating-pid %d: no such process "
                                "in %s\n", allocating_pid, s->groups[c].path);
                        sv_oom_result_free(res);
                        sv_snapshot_free(s);
                        return CGSENTRY_EXIT_ERROR;
                }
        }
        /* The sysctls decide first; with the allocating task known and
         * killable, it is the victim. */
        sv_oom_outcome(s, res, allocating, &outcome);
        if (outcome.kind == SV_OUTCOME_KILL_ALLOCATING && allocating >= 0)
                (void)sv_oom_apply_allocating(s, res, allocating);
        if (pol.name) {
                pol.now_usec = snapshot_usec(snapshot_path);
                r = policy_run(&pol, s, c);
                if (r < 0) {
                        sv_oom_result_free(res);
                        sv_snapshot_free(s);
                        policy_done(&pol);
                        return CGSENTRY_EXIT_ERROR;
                }
        }
        if (json && pol.name) {
                r = explain_json_with_policy(s, res, &pol, &outcome);
        } else if (json) {
                json_object *o = sv__json_explain(s, res);
                if (o)
                        json_object_object_add(o, "outcome", sv_outcome_json(s, &outcome));
                r = sv__json_print(stdout, o);
                json_object_put(o);
        } else {
                sv_outcome_format(stdout, s, res, &outcome);
                sv_format_explain_text(stdout, s, res);
                if (pol.name)
                        policy_print_text(s, &pol);
                r = 0;
        }
        policy_done(&pol);
        ret = r < 0 ? CGSENTRY_EXIT_ERROR
              : res->victim >= 0 ? CGSENTRY_EXIT_OK : CGSENTRY_EXIT_NONE;
        if (fflush(stdout) != 0)
                ret = CGSENTRY_EXIT_ERROR;
        sv_oom_result_free(res);
        sv_snapshot_free(s);
        return ret;
}
