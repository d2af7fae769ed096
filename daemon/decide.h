/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What cgsentryd does when a rule's trigger fires: the one function the
 * daemon, `cgsentry explain --config` and `cgsentry run` call. It runs the
 * rule's policy (if any) on a view that knows the rule, falls back to the
 * kernel's choice when the policy fails, and hands both to sv_plan_kill().
 */
#ifndef CGSENTRY_DECIDE_H
#define CGSENTRY_DECIDE_H

#include "cgsentry/supervise.h"
#include "config.h"
#include "policy-host.h"

/* The libsupervise view of @rule; valid while @rule lives. */
void cgsentry_kill_rule(const struct cgsentry_rule *rule, int self_pid, struct sv_kill_rule *ret);

/*
 * cgsentry_decide() - the plan for @trig on the domain of @s (group 0) under
 * @rule, with @policy (the rule's policy instance; NULL: the kernel's
 * choice) stamped @now_usec. When the policy fails or answers nonsense, the
 * kernel's choice is used and @note (may be NULL) says why; otherwise @note
 * is "". 0 and *@ret, or -errno.
 */
int cgsentry_decide(const struct sv_snapshot *s, const struct sv_trigger *trig,
                    const struct cgsentry_rule *rule, int self_pid,
                    struct sv_policy_instance *policy, uint64_t now_usec, struct sv_plan **ret,
                    char *note, size_t note_size);

#endif
