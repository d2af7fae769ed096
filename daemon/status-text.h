/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CGSENTRY_STATUS_TEXT_H
#define CGSENTRY_STATUS_TEXT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>

/* Print the status reply (cgsentry-status/1) for people: the daemon and a
 * table of groups, or (@one_group) the group in detail. -EINVAL when
 * @status is not a status reply. */
int cgsentry_status_print(FILE *out, json_object *status, bool one_group);

#endif
