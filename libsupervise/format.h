/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * JSON pieces shared by libsupervise's output and the front-ends that build
 * larger documents (explain --policy, cgsentry run's report, status). Not
 * part of the documented API: the front-ends link libsupervise statically.
 */
#ifndef SV_FORMAT_H
#define SV_FORMAT_H

#include <json-c/json.h>
#include <stdio.h>

#include "cgsentry/supervise.h"

/* explain's object for a kernel selection (sv_format_explain_json()). */
json_object *sv__json_explain(const struct sv_snapshot *s, const struct sv_oom_result *r);
/* The same for a plan: victim, kill_group, kill_pids of the plan, plus
 * rule, trigger, policy, scope, use_cgroup_kill and spared. */
json_object *sv__json_plan(const struct sv_snapshot *s, const struct sv_trigger *trig,
                           const struct sv_kill_rule *rule, const struct sv_plan *p);
/* {"pid", "comm", "cgroup", "points"} */
json_object *sv__json_task_ref(const struct sv_snapshot *s, int task, int64_t points);
/* A trigger's figures: {"trigger", then per kind ...} (cgsentry(1)). */
json_object *sv__json_trigger(const struct sv_trigger *t);
/* The container and pod a cgroup path names (container.h): {"engine",
 * "container_id", "pod_uid", "qos"} with null for what it does not name,
 * or NULL (JSON null) for a path that names neither. */
json_object *sv__json_container(const char *path);
/* Print pretty, as every cgsentry JSON output is; does not free @o. */
int sv__json_print(FILE *out, json_object *o);

#endif
