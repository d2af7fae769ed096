/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A snapshot file, and everything that then works on it: the JSON round
 * trip, the kernel mirror, the plan under a rule with OOMGroup= and
 * Protect=, the policy view with the builtin policy, and every output.
 */
#include <stdio.h>

#include "config.h"
#include "decide.h"
#include "fuzz.h"
#include "policy-host.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char *const protect[] = { "**/keep", "a/*" };
        char *text = fuzz_text(data, size);
        struct sv_snapshot *s = NULL, *back = NULL;
        struct sv_oom_result *res = NULL;
        struct sv_plan *plan = NULL;
        struct sv_error err;
        FILE *null = fopen("/dev/null", "w");
        struct sv_kill_rule kr = { .name = "fuzz", .oom_group = size & 1, .protect = protect,
                                   .n_protect = 2, .self_pid = 100 };
        struct sv_trigger trig = { .kind = (enum sv_trigger_kind)(size % 3), .memory_max = 1 << 30,
                                   .permyriad = 9000 };

        if (!text || !null || sv_snapshot_from_json(text, &s, &err) < 0)
                goto out;
        {
                char *out = NULL;
                size_t len = 0;
                FILE *m = open_memstream(&out, &len);
                if (m && sv_snapshot_to_json(s, m) == 0) {
                        fclose(m);
                        m = NULL;
                        /* What was written reads back. */
                        if (sv_snapshot_from_json(out, &back, &err) < 0)
                                abort();
                }
                if (m)
                        fclose(m);
                free(out);
        }
        for (size_t d = 0; d < s->n_groups && d < 4; d++)
                if (sv_oom_select(s, (int)d, &res) == 0) {
                        sv_format_explain_text(null, s, res);
                        (void)sv_format_explain_json(null, s, res);
                        sv_oom_result_free(res);
                        res = NULL;
                }
        if (sv_plan_kill(s, &trig, &kr, NULL, &plan) == 0) {
                free(sv_plan_text(s, &trig, &kr, plan, size & 2));
                sv_format_plan_explain_text(null, s, &trig, &kr, plan);
                (void)sv_format_plan_explain_json(null, s, &trig, &kr, plan);
                sv_plan_free(plan);
                plan = NULL;
        }
        {
                struct sv_policy_registry *reg = NULL;
                const struct sv_policy *p;
                struct sv_policy_instance *inst = NULL;
                struct cgsentry_rule rule = { .name = (char *)"fuzz", .oom_group = size & 1 };

                if (sv_policy_registry_new("/nonexistent", &reg) == 0 &&
                    sv_policy_registry_get(reg, "kernel", &p, NULL) == 0 &&
                    sv_policy_instance_new(p, NULL, &inst, NULL) == 0 &&
                    cgsentry_decide(s, &trig, &rule, 0, inst, 1, &plan, NULL, 0) == 0)
                        sv_plan_free(plan);
                sv_policy_instance_free(inst);
                sv_policy_registry_free(reg);
        }
out:
        sv_snapshot_free(back);
        sv_snapshot_free(s);
        if (null)
                fclose(null);
        free(text);
        return 0;
}
