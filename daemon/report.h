/* SPDX-License-Identifier: GPL-2.0-or-later */
/* JSON pieces the front-ends share (cgsentry run's report, status, history). */
#ifndef CGSENTRY_REPORT_H
#define CGSENTRY_REPORT_H

#include <json-c/json.h>

#include "cgsentry/supervise.h"

/*
 * The figures a kill was decided on, as one object: for a tripwire
 * {"memory_max", "tripwire_percent", "memory_current", "nonreclaimable",
 * "anon", "shmem", "unevictable", "kernel", "file", "slab_reclaimable",
 * "swappable", "swap_headroom"} in bytes; for pressure {"psi_trigger",
 * "some_avg10", "full_avg10"}; for a kernel OOM kill {"oom_kill"}. NULL when
 * out of memory.
 */
json_object *cgsentry_trigger_json(const struct sv_trigger *t);

#endif
