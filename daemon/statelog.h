/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cgsentryd's own record of its kills when there is no journal: one JSON
 * line per kill (the object `cgsentry history --json` prints) in
 * STATE_DIR/history.jsonl, rotated to history.jsonl.1 once it passes
 * STATELOG_ROTATE_BYTES, so the two files hold the last 512 KiB to 1 MiB.
 * Written by cgsentryd, read by cgsentry history.
 */
#ifndef CGSENTRY_STATELOG_H
#define CGSENTRY_STATELOG_H

#include <stdbool.h>

#define CGSENTRY_STATE_DIR_DEFAULT "/var/lib/cgsentry"
#define STATELOG_NAME "history.jsonl"
#define STATELOG_OLD_NAME "history.jsonl.1"
/* Half the budget per file: with the rotated one, at most 1 MiB in all and
 * never less than the last 512 KiB. */
#define STATELOG_ROTATE_BYTES (512 * 1024)

/*
 * Append @line (no newline) to @dir's log, creating @dir when missing and
 * rotating when due. Never blocks on anything but the local file system.
 * 0 or -errno (the caller logs the first failure and goes on).
 */
int statelog_append(const char *dir, const char *line);

#endif
