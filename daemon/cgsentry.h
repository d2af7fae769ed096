/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The cgsentry command line tool: one file per subcommand. */
#ifndef CGSENTRY_CLI_H
#define CGSENTRY_CLI_H

/* Exit statuses shared by the subcommands (documented in cgsentry(1)). */
enum {
        CGSENTRY_EXIT_OK = 0,
        CGSENTRY_EXIT_NONE = 1,  /* explain: nothing killable; history: no kill */
        CGSENTRY_EXIT_ERROR = 2, /* bad usage or an error, message on stderr */
        CGSENTRY_EXIT_NOT_RUNNING = 3, /* status, metrics: cgsentryd does not answer */
};

int cgsentry_cmd_explain(int argc, char **argv);
int cgsentry_cmd_run(int argc, char **argv);
int cgsentry_cmd_policies(int argc, char **argv);
int cgsentry_cmd_history(int argc, char **argv);
int cgsentry_cmd_status(int argc, char **argv);
int cgsentry_cmd_metrics(int argc, char **argv);

#endif
