/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "cgsentry.h"
#include "cgsentry/supervise.h"

static void usage(FILE *out)
{
        fputs("Usage: cgsentry [--help] [--version] COMMAND [ARGS...]\n"
              "\n"
              "Supervise cgroup v2 memory limits the way the kernel's OOM killer would.\n"
              "\n"
              "Commands:\n"
              "  explain CGROUP   show which task and group the kernel would kill if CGROUP\n"
              "                   hit its memory limit now, in the kernel's own log format\n"
              "  run -- CMD...    run CMD in a cgroup of its own with memory limits; if it\n"
              "                   runs away, the whole tree is killed at once\n"
              "  policies         list the victim selection policies and their plugins\n"
              "  history          list past OOM kills, the kernel's and cgsentryd's, from\n"
              "                   the kernel log, the journal or a saved log; --follow\n"
              "  status [CGROUP]  ask the running cgsentryd what it supervises, what is\n"
              "                   armed and what it killed\n"
              "  metrics          the running cgsentryd's metrics, Prometheus text format\n"
              "\n"
              "Run 'cgsentry COMMAND --help' for a command's options; see cgsentry(1).\n",
              out);
}

int main(int argc, char **argv)
{
        /* Numbers in JSON and PSI parsing must not follow the user's locale. */
        setlocale(LC_ALL, "C");

        if (argc < 2) {
                usage(stderr);
                return CGSENTRY_EXIT_ERROR;
        }
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
            strcmp(argv[1], "help") == 0) {
                usage(stdout);
                return CGSENTRY_EXIT_OK;
        }
        if (strcmp(argv[1], "--version") == 0) {
                printf("cgsentry %s\n", sv_version());
                return CGSENTRY_EXIT_OK;
        }
        if (strcmp(argv[1], "explain") == 0)
                return cgsentry_cmd_explain(argc - 1, argv + 1);
        if (strcmp(argv[1], "run") == 0)
                return cgsentry_cmd_run(argc - 1, argv + 1);
        if (strcmp(argv[1], "history") == 0)
                return cgsentry_cmd_history(argc - 1, argv + 1);
        if (strcmp(argv[1], "policies") == 0)
                return cgsentry_cmd_policies(argc - 1, argv + 1);
        if (strcmp(argv[1], "status") == 0)
                return cgsentry_cmd_status(argc - 1, argv + 1);
        if (strcmp(argv[1], "metrics") == 0)
                return cgsentry_cmd_metrics(argc - 1, argv + 1);

        fprintf(stderr, "cgsentry: unknown command '%s'; try 'cgsentry --help'\n", argv[1]);
        return CGSENTRY_EXIT_ERROR;
}
