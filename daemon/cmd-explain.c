/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cgsentry explain: what the kernel's memcg OOM killer would do right now. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <json-c/json.h>

#include "cgsentry.h"
#include "cgsentry/supervise.h"
#include "policy-host.h"

/* --history files fed to a policy before the current domain. */
#define EXPLAIN_HISTORY_MAX 16

static void explain_usage(FILE *out)
{
        fprintf(out,
                "Usage: cgsentry explain [OPTIONS] CGROUP\n"
                "\n"
                "Show which task the kernel's memcg OOM killer would choose, and which\n"
                "processes would die with it (memory.oom.group), if CGROUP hit its limit now.\n"
                "CGROUP is a path relative to the cgroupfs root, e.g. system.slice/foo.service.\n"
                "\n"
                "Options:\n"
                "  --json               print one JSON object instead of kernel-style text\n"
                "  --cgroup-root DIR    cgroup v2 mount point (default /sys/fs/cgroup)\n"
                "  --proc-root DIR      procfs mount point (default /proc)\n"
                "  --snapshot FILE      read the domain from a saved snapshot (JSON) instead\n"
                "  --save-snapshot FILE write the snapshot that was read to FILE\n"
                "  --policy NAME        also show what policy NAME would choose, and why\n"
                "  --policy-dir DIR     where policy plugins live (default %s)\n"
                "  --policy-options OPTS\n"
                "                       the policy's options, e.g. \"window=10s\"\n"
                "  --history FILE       a snapshot saved earlier (--save-snapshot) to show the\n"
                "                       policy first, stamped with the file's modification time\n"
                "                       (repeatable, oldest first; for the growth policy)\n"
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
        const char *cgroup_root; /* for xattrs, or NULL */
        uint64_t now_usec;
        struct sv_policy_registry *reg;
        struct sv_policy_instance *inst;
        struct sv_policy_info info; /* of the policy that decided */
        struct sv_policy_decision decision;
};

static uint64_t realtime_usec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* A saved snapshot was taken when it was written: its mtime is its time. */
static uint64_t mtime_usec(const char *path)
{
        struct stat st;

        if (stat(path, &st) < 0)
                return realtime_usec();
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
        struct sv_policy_view_opts vo = { .now_usec = now_usec, .cgroup_root = pol->cgroup_root };
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
                r = policy_choose_at(pol, h, hd, mtime_usec(pol->history[i]), &ignored);
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

/* explain's JSON with a "policy" member added; without --policy the
 * library's text is printed untouched. */
static int explain_json_with_policy(const struct sv_snapshot *s, const struct sv_oom_result *res,
                                    const struct explain_policy *pol)
{
        const struct sv_policy_decision *d = &pol->decision;
        json_object *root, *o;
        const char *out;
        char *text = NULL;
        size_t len = 0;
        FILE *m;
        int r;

        m = open_memstream(&text, &len);
        if (!m)
                return -ENOMEM;
        r = sv_format_explain_json(m, s, res);
        if (fclose(m) != 0 && r >= 0)
                r = -ENOMEM;
        root = r < 0 ? NULL : json_tokener_parse(text);
        free(text);
        if (!root)
                return r < 0 ? r : -EIO;
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
        /* The flags sv_format_explain_json() prints with, so only "policy" differs. */
        out = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
                                                           JSON_C_TO_STRING_SPACED |
                                                           JSON_C_TO_STRING_NOSLASHESCAPE);
        r = out && printf("%s\n", out) >= 0 ? 0 : -EIO;
        json_object_put(root);
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
                { "help", no_argument, NULL, 'h' },
                {},
        };
        struct sv_snapshot_opts opts = {};
        const char *snapshot_path = NULL, *save_path = NULL;
        struct sv_error err = {};
        struct sv_snapshot *s = NULL;
        struct sv_oom_result *res = NULL;
        struct explain_policy pol = {};
        bool json = false;
        int c, r, ret;

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
        if (!pol.name && (pol.dir || pol.options || pol.n_history)) {
                fputs("cgsentry explain: --policy-dir, --policy-options and --history need "
                      "--policy\n", stderr);
                return CGSENTRY_EXIT_ERROR;
        }

        if (snapshot_path)
                r = sv_snapshot_load_json(snapshot_path, &s, &err);
        else
                r = sv_snapshot_take(&opts, argv[optind], &s, &err);
        if (r < 0)
                return report_error("cannot read the domain", r, &err);

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

        r = sv_oom_select(s, c, &res);
        if (r < 0) {
                fprintf(stderr, "cgsentry explain: %s\n", strerror(-r));
                sv_snapshot_free(s);
                return CGSENTRY_EXIT_ERROR;
        }
        if (pol.name) {
                /* The xattrs policies read live beside the groups: read them from
                 * the live tree, or from a snapshot's tree only when told where. */
                pol.cgroup_root = opts.cgroup_root ? opts.cgroup_root
                                  : snapshot_path  ? NULL
                                                   : "/sys/fs/cgroup";
                pol.now_usec = snapshot_path ? mtime_usec(snapshot_path) : realtime_usec();
                r = policy_run(&pol, s, c);
                if (r < 0) {
                        sv_oom_result_free(res);
                        sv_snapshot_free(s);
                        policy_done(&pol);
                        return CGSENTRY_EXIT_ERROR;
                }
        }
        if (json && pol.name) {
                r = explain_json_with_policy(s, res, &pol);
        } else if (json) {
                r = sv_format_explain_json(stdout, s, res);
        } else {
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
