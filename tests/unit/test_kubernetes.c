/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The kubernetes policy on kubelet-style snapshots of both drivers
 * (tests/fixtures/mkkubepods.py says what is in them), and what the one
 * kill decision makes of its choice. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgsentry/policy.h"
#include "cgsentry/supervise.h"
#include "policy-host.h"

#define FIX(name) SV_FIXTURES "/" name
#define UID_A "1b2c3d4e-5f6a-7b8c-9d0e-1f2a3b4c5d6e"
#define UID_C "3b2c3d4e-5f6a-7b8c-9d0e-1f2a3b4c5d6e"

static const char *const layouts[] = { FIX("kubepods-systemd.json"), FIX("kubepods-cgroupfs.json") };

struct pick {
        char group[512]; /* "" for nothing */
        int pid;         /* -1: the whole group */
        char text[SV_POLICY_EXPLANATION_SIZE];
        struct sv_plan *plan;
        struct sv_snapshot *s;
};

static void assert_contains(const char *haystack, const char *needle)
{
        if (!strstr(haystack, needle))
                fail_msg("\"%s\" does not contain \"%s\"", haystack, needle);
}

/* The policy's choice on @fixture, and the plan sv_plan_kill() makes of it
 * (the daemon's path: cgsentry_decide() does the same). */
static struct pick pick(const char *options, const char *fixture, int *ret_r)
{
        struct sv_policy_registry *reg = NULL;
        const struct sv_policy *p = NULL;
        struct sv_policy_instance *inst = NULL;
        struct sv_policy_view *v = NULL;
        struct sv_policy_view_opts vo = { 0 };
        struct sv_policy_decision d;
        struct sv_policy_info info;
        struct sv_error err = {};
        struct pick k = { .pid = -1 };
        struct sv_plan_choice choice;
        struct sv_trigger trig = { .kind = SV_TRIGGER_TRIPWIRE };
        int r;

        if (sv_snapshot_load_json(fixture, &k.s, &err) < 0)
                fail_msg("%s: %s", fixture, err.what);
        assert_int_equal(sv_policy_registry_new(CGSENTRY_POLICY_BUILD_DIR, &reg), 0);
        if (sv_policy_registry_get(reg, "kubernetes", &p, &err) < 0)
                fail_msg("kubernetes: %s: %s", err.path, err.what);
        r = sv_policy_instance_new(p, options, &inst, &err);
        if (ret_r) {
                *ret_r = r;
                snprintf(k.text, sizeof(k.text), "%s", err.what);
                sv_policy_registry_free(reg);
                return k;
        }
        if (r < 0)
                fail_msg("init: %s", err.what);
        assert_int_equal(sv_policy_view_new(k.s, 0, &vo, &v), 0);
        if (sv_policy_choose(inst, v, &d, &err) < 0)
                fail_msg("choose: %s", err.what);
        if (d.group >= 0)
                snprintf(k.group, sizeof(k.group), "%s", k.s->groups[d.group].path);
        if (d.task >= 0)
                k.pid = k.s->tasks[d.task].pid;
        snprintf(k.text, sizeof(k.text), "%s", d.explanation);
        sv_policy_get_info(p, &info);
        choice = (struct sv_plan_choice){ .group = d.group, .task = d.task,
                                          .policy = info.name, .explanation = d.explanation };
        assert_int_equal(sv_plan_kill(k.s, &trig, NULL, &choice, &k.plan), 0);
        sv_policy_view_free(v);
        sv_policy_instance_free(inst);
        sv_policy_registry_free(reg);
        return k;
}

static void done(struct pick *k)
{
        sv_plan_free(k->plan);
        sv_snapshot_free(k->s);
}

static void assert_kills(const struct pick *k, const int *pids, size_t n)
{
        assert_int_equal(k->plan->n_kill_tasks, n);
        for (size_t i = 0; i < n; i++)
                assert_int_equal(k->s->tasks[k->plan->kill_tasks[i]].pid, pids[i]);
}

static void test_besteffort_pod_first_and_whole(void **state)
{
        for (size_t i = 0; i < 2; i++) {
                struct pick k = pick(NULL, layouts[i], NULL);
                /* The Guaranteed db (500 MB) is the kernel's victim; the
                 * BestEffort pod A goes first, pause and all. */
                assert_non_null(strstr(k.group, UID_A) ? k.group
                                : strstr(k.group, "1b2c3d4e_5f6a") ? k.group : NULL);
                assert_int_equal(k.pid, -1);
                assert_contains(k.text, "BestEffort pod " UID_A);
                assert_contains(k.text, "pid 103 (app)");
                assert_contains(k.text, "in container a1a1a1a1a1a1");
                assert_contains(k.text, "of 5 pods (2 BestEffort, 2 Burstable, 1 Guaranteed)");
                assert_int_equal(k.plan->scope, SV_SCOPE_POLICY_GROUP);
                assert_true(k.plan->use_cgroup_kill);
                assert_kills(&k, (const int[]){ 101, 102, 103 }, 3);
                done(&k);
        }
}

static void test_pause_is_never_the_reason(void **state)
{
        /* B's pause (12 MB, oom_score_adj 0) outscores A's app (8 MB), but
         * pause does not count: A is chosen. Named "pause" and past
         * pause-max-rss, it counts again. */
        struct pick k = pick(NULL, layouts[0], NULL);
        assert_contains(k.group, "1b2c3d4e_5f6a");
        done(&k);
        k = pick("pause-max-rss=8M", layouts[0], NULL);
        assert_contains(k.group, "2b2c3d4e_5f6a");
        assert_contains(k.text, "pid 201 (pause)");
        done(&k);
        /* Another name for it. */
        k = pick("pause=sandbox", layouts[1], NULL);
        assert_contains(k.group, "pod2b2c3d4e-5f6a");
        done(&k);
}

static void test_classes_in_order_and_spare(void **state)
{
        for (size_t i = 0; i < 2; i++) {
                /* BestEffort spared: Burstable C (web); D has only its pause. */
                struct pick k = pick("spare=besteffort", layouts[i], NULL);
                assert_contains(k.text, "Burstable pod " UID_C);
                assert_contains(k.text, "spared classes left out");
                assert_kills(&k, (const int[]){ 301, 302 }, 2);
                done(&k);
                /* Only Guaranteed left. */
                k = pick("spare=besteffort,burstable", layouts[i], NULL);
                assert_contains(k.text, "Guaranteed pod 5b2c3d4e");
                assert_kills(&k, (const int[]){ 501, 502 }, 2);
                done(&k);
                /* Nothing left: nothing chosen, and the plan kills nobody. */
                k = pick("spare=besteffort,burstable,guaranteed", layouts[i], NULL);
                assert_string_equal(k.group, "");
                assert_contains(k.text, "none of the 5 pods");
                assert_int_equal(k.plan->n_kill_tasks, 0);
                done(&k);
        }
}

static void test_unit_container_respects_oom_group(void **state)
{
        for (size_t i = 0; i < 2; i++) {
                struct pick k = pick("unit=container", layouts[i], NULL);
                /* The worst process of pod A, widened by the kubelet's
                 * memory.oom.group=1 on its container: sh and app, not pause. */
                assert_int_equal(k.pid, 103);
                assert_contains(k.group, "a1a1a1a1a1a1");
                assert_int_equal(k.plan->scope, SV_SCOPE_OOM_GROUP);
                assert_kills(&k, (const int[]){ 102, 103 }, 2);
                done(&k);
        }
}

static void test_not_a_pod_tree_gets_the_kernel(void **state)
{
        struct pick k = pick(NULL, FIX("policy-flat.json"), NULL);

        assert_string_equal(k.group, "/flat");
        assert_int_equal(k.pid, 6);
        assert_contains(k.text, "no pod of the kubelet in /flat; the kernel's choice");
        done(&k);
}

static void test_bad_options(void **state)
{
        static const char *const bad[] = { "unit=node", "spare=gold", "pause=,",
                                           "pause=a,b,c,d,e,f,g,h,i", "pause-max-rss=lots",
                                           "pause-max-rss=1X", "colour=blue", "unit" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                int r = 0;
                struct pick k = pick(bad[i], layouts[0], &r);
                if (r != -EINVAL)
                        fail_msg("%s: accepted", bad[i]);
                assert_true(k.text[0] != '\0');
                sv_snapshot_free(k.s);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_besteffort_pod_first_and_whole),
                cmocka_unit_test(test_pause_is_never_the_reason),
                cmocka_unit_test(test_classes_in_order_and_spare),
                cmocka_unit_test(test_unit_container_respects_oom_group),
                cmocka_unit_test(test_not_a_pod_tree_gets_the_kernel),
                cmocka_unit_test(test_bad_options),
        };
        return cmocka_run_group_tests_name("kubernetes", tests, NULL, NULL);
}
