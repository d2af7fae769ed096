/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cgsentry explain: what the kernel's memcg OOM killer would do right now. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cgsentry.h"
#include "cgsentry/supervise.h"

static void explain_usage(FILE *out)
{
        fputs("Usage: cgsentry explain [OPTIONS] CGROUP\n"
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
              "  -h, --help           show this help\n"
              "\n"
              "Exit status: 0 a victim exists, 1 nothing is killable, 2 error.\n",
              out);
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

int cgsentry_cmd_explain(int argc, char **argv)
{
        enum { OPT_CGROUP_ROOT = 256, OPT_PROC_ROOT, OPT_SNAPSHOT, OPT_SAVE };
        static const struct option options[] = {
                { "json", no_argument, NULL, 'j' },
                { "cgroup-root", required_argument, NULL, OPT_CGROUP_ROOT },
                { "proc-root", required_argument, NULL, OPT_PROC_ROOT },
                { "snapshot", required_argument, NULL, OPT_SNAPSHOT },
                { "save-snapshot", required_argument, NULL, OPT_SAVE },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        struct sv_snapshot_opts opts = {};
        const char *snapshot_path = NULL, *save_path = NULL;
        struct sv_error err = {};
        struct sv_snapshot *s = NULL;
        struct sv_oom_result *res = NULL;
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
        if (json) {
                r = sv_format_explain_json(stdout, s, res);
        } else {
                sv_format_explain_text(stdout, s, res);
                r = 0;
        }
        ret = r < 0 ? CGSENTRY_EXIT_ERROR
              : res->victim >= 0 ? CGSENTRY_EXIT_OK : CGSENTRY_EXIT_NONE;
        if (fflush(stdout) != 0)
                ret = CGSENTRY_EXIT_ERROR;
        sv_oom_result_free(res);
        sv_snapshot_free(s);
        return ret;
}
