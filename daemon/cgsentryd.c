/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cgsentryd: supervise the cgroups that the configuration's rules match. */
#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <uv.h>

#include "cgsentry/supervise.h"
#include "config.h"
#include "log.h"
#include "supervisor.h"

static void usage(FILE *out)
{
        fputs("Usage: cgsentryd [OPTIONS]\n"
              "\n"
              "Watch the cgroups matched by the configuration's rules and kill runaway\n"
              "groups whole, choosing victims the way the kernel's OOM killer would.\n"
              "\n"
              "  -c, --config FILE   configuration (default " CGSENTRY_CONF_DEFAULT ");\n"
              "                      drop-ins are read from conf.d/*.conf beside it\n"
              "      --check-config  parse the configuration, report errors, and exit\n"
              "      --no-mlock      do not lock the daemon's memory (for debugging)\n"
              "  -v, --verbose       also log debug messages\n"
              "  -h, --help          show this help\n"
              "      --version       show the version\n"
              "\n"
              "Signals: SIGHUP reloads the configuration (a broken one is rejected and the\n"
              "old one stays in force); SIGTERM and SIGINT exit cleanly. See cgsentryd(8).\n",
              out);
}

/* Survive the very condition we handle: never an OOM victim ourselves. */
static void protect_self(void)
{
        FILE *f = fopen("/proc/self/oom_score_adj", "we");

        if (!f || fputs("-1000", f) < 0 || fclose(f) != 0)
                cgsentry_log(LOG_WARNING, NULL,
                             "cannot set our oom_score_adj to -1000: %m (not running as root?)");
}

/* Every supervised group holds a few fds; thousands of groups need more than
 * the soft default of 1024. */
static void raise_nofile(void)
{
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                (void)setrlimit(RLIMIT_NOFILE, &rl);
        }
}

int main(int argc, char **argv)
{
        enum { OPT_CHECK = 256, OPT_NO_MLOCK, OPT_VERSION };
        static const struct option options[] = {
                { "config", required_argument, NULL, 'c' },
                { "check-config", no_argument, NULL, OPT_CHECK },
                { "no-mlock", no_argument, NULL, OPT_NO_MLOCK },
                { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, OPT_VERSION },
                {},
        };
        struct supervisor_opts opts = { .config_path = CGSENTRY_CONF_DEFAULT, .lock_memory = true,
                                       .state_log = true };
        struct cgsentry_config *cfg = NULL;
        struct supervisor *sv = NULL;
        bool check = false;
        uv_loop_t *loop;
        int c, r;

        setlocale(LC_ALL, "C");
        while ((c = getopt_long(argc, argv, "c:hv", options, NULL)) >= 0) {
                switch (c) {
                case 'c':
                        opts.config_path = optarg;
                        break;
                case OPT_CHECK:
                        check = true;
                        break;
                case OPT_NO_MLOCK:
                        opts.lock_memory = false;
                        break;
                case 'v':
                        cgsentry_log_set_max_priority(LOG_DEBUG);
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                case OPT_VERSION:
                        printf("cgsentryd %s\n", sv_version());
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "cgsentryd: unexpected argument '%s'\n", argv[optind]);
                return 2;
        }

        cgsentry_log_init();
        r = cgsentry_config_load(opts.config_path, stderr, &cfg);
        if (r < 0) {
                fprintf(stderr, "cgsentryd: %s: configuration rejected\n", opts.config_path);
                return r == -EINVAL ? 1 : 2;
        }
        if (check) {
                printf("%s: %zu rules, OK\n", opts.config_path, cfg->n_rules);
                cgsentry_config_free(cfg);
                return 0;
        }

        protect_self();
        raise_nofile();
        loop = uv_default_loop();
        r = supervisor_new(loop, &opts, cfg, &sv);
        if (r < 0) {
                fprintf(stderr, "cgsentryd: cannot open %s or %s: %s\n", cfg->cgroup_root,
                        cfg->proc_root, strerror(-r));
                cgsentry_config_free(cfg);
                return 2;
        }
        supervisor_start(sv);
        r = uv_run(loop, UV_RUN_DEFAULT);
        supervisor_free(sv);
        uv_loop_close(loop);
        return 0;
}
