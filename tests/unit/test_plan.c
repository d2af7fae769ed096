/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The one kill decision (sv_plan_kill(), cgsentry_decide()): what the daemon,
 * explain --config and cgsentry run kill, on fixture snapshots. Pure.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgsentry/supervise.h"
#include "config.h"
#include "decide.h"
#include "policy-host.h"

#define FIX(name) SV_FIXTURES "/" name

static const struct sv_trigger tripwire = { .kind = SV_TRIGGER_TRIPWIRE, .memory_max = 1 << 30,
                                            .permyriad = 9000 };
static const struct sv_trigger kernel_kill = { .kind = SV_TRIGGER_KERNEL_OOM_KILL,
                                               .oom_kill_before = 0, .oom_kill = 1 };

static struct sv_snapshot *basic(void)
{
        struct sv_snapshot_opts o = { .cgroup_root = FIX("basic/cgroup"),
                                      .proc_root = FIX("basic/proc") };
        struct sv_snapshot *s = NULL;

        assert_int_equal(sv_snapshot_take(&o, "work.slice/app", &s, NULL), 0);
        return s;
}

static struct sv_snapshot *pool(void)
{
        struct sv_snapshot *s = NULL;
        struct sv_error err = {};

        assert_int_equal(sv_snapshot_load_json(FIX("policy-pool.json"), &s, &err), 0);
        return s;
}

static int pid_of(const struct sv_snapshot *s, int task)
{
        return task < 0 ? -1 : s->tasks[task].pid;
}

/* The plan's kill set as pids, for comparing. */
static void assert_kills(const struct sv_snapshot *s, const struct sv_plan *p, const int *pids,
                         size_t n)
{
        if (p->n_kill_tasks != n) {
                for (size_t i = 0; i < p->n_kill_tasks; i++)
                        print_message("kill %d\n", pid_of(s, p->kill_tasks[i]));
                fail_msg("%zu processes killed, expected %zu", p->n_kill_tasks, n);
        }
        for (size_t i = 0; i < n; i++)
                assert_int_equal(pid_of(s, p->kill_tasks[i]), pids[i]);
}

static const struct sv_spared *spared_pid(const struct sv_snapshot *s, const struct sv_plan *p,
                                          int pid)
{
        for (size_t i = 0; i < p->n_spared; i++)
                if (s->tasks[p->spared[i].task].pid == pid)
                        return &p->spared[i];
        return NULL;
}

/* Without a rule or a policy the plan is the kernel mirror. */
static void test_default_plan_is_the_kernel_mirror(void **state)
{
        struct sv_snapshot *s = basic();
        struct sv_oom_result *k = NULL;
        struct sv_plan *p = NULL;

        assert_int_equal(sv_oom_select(s, 0, &k), 0);
        assert_int_equal(sv_plan_kill(s, &tripwire, NULL, NULL, &p), 0);
        assert_int_equal(p->victim, k->victim);
        assert_int_equal(p->victim_points, k->victim_points);
        assert_int_equal(p->kill_group, k->kill_group);
        assert_int_equal(p->n_kill_tasks, k->n_kill_tasks);
        assert_memory_equal(p->kill_tasks, k->kill_tasks, k->n_kill_tasks * sizeof(int));
        assert_int_equal(p->scope, SV_SCOPE_OOM_GROUP); /* web has memory.oom.group */
        assert_string_equal(p->policy, "kernel");
        /* the -1000 guard of web is spared, so no cgroup.kill */
        assert_non_null(spared_pid(s, p, 303));
        assert_int_equal(spared_pid(s, p, 303)->why, SV_SPARE_ADJ_MIN);
        assert_true(p->keeps_someone);
        assert_false(p->use_cgroup_kill);
        sv_plan_free(p);
        sv_oom_result_free(k);
        sv_snapshot_free(s);
}

/* There is one default: the builtin "kernel" policy of the registry, asked
 * through cgsentry_decide(), kills exactly what the plan without a policy
 * kills, on every domain of the pool fixture. */
static void test_builtin_kernel_policy_is_the_default(void **state)
{
        struct sv_snapshot *s = pool();
        struct sv_policy_registry *reg = NULL;
        const struct sv_policy *pk;
        struct sv_policy_instance *inst = NULL;
        struct cgsentry_rule rule = { .name = (char *)"r" };

        assert_int_equal(sv_policy_registry_new(NULL, &reg), 0);
        assert_int_equal(sv_policy_registry_get(reg, "kernel", &pk, NULL), 0);
        assert_int_equal(sv_policy_instance_new(pk, NULL, &inst, NULL), 0);
        for (int oom_group = 0; oom_group < 2; oom_group++) {
                struct sv_plan *a = NULL, *b = NULL;
                char note[256];

                rule.oom_group = oom_group;
                assert_int_equal(cgsentry_decide(s, &tripwire, &rule, 0, NULL, 0, &a, note,
                                                 sizeof(note)),
                                 0);
                assert_int_equal(cgsentry_decide(s, &tripwire, &rule, 0, inst, 0, &b, note,
                                                 sizeof(note)),
                                 0);
                assert_string_equal(note, "");
                assert_int_equal(a->victim, b->victim);
                assert_int_equal(a->kill_group, b->kill_group);
                assert_int_equal(a->n_kill_tasks, b->n_kill_tasks);
                assert_memory_equal(a->kill_tasks, b->kill_tasks, a->n_kill_tasks * sizeof(int));
                assert_non_null(b->policy_explanation);
                sv_plan_free(a);
                sv_plan_free(b);
        }
        sv_policy_instance_free(inst);
        sv_policy_registry_free(reg);
        sv_snapshot_free(s);
}

/* OOMGroup= counts as memory.oom.group on the domain: everything goes but
 * what the kernel spares (init, -1000, zombies). */
static void test_rule_oom_group_widens_to_the_domain(void **state)
{
        static const int want[] = { 100, 201, 300, 301, 302, 400 };
        struct sv_snapshot *s = basic();
        struct sv_kill_rule r = { .name = "app", .oom_group = true };
        struct sv_plan *p = NULL;

        assert_int_equal(sv_plan_kill(s, &tripwire, &r, NULL, &p), 0);
        /* memory.oom.group on web is lower than the domain: the highest wins */
        assert_int_equal(p->kill_group, 0);
        assert_int_equal(p->scope, SV_SCOPE_RULE_OOM_GROUP);
        assert_kills(s, p, want, sizeof(want) / sizeof(want[0]));
        assert_int_equal(pid_of(s, p->victim), 301);
        assert_int_equal(spared_pid(s, p, 200)->why, SV_SPARE_ADJ_MIN);
        assert_int_equal(spared_pid(s, p, 303)->why, SV_SPARE_ADJ_MIN);
        assert_int_equal(spared_pid(s, p, 500)->why, SV_SPARE_NO_MM);
        sv_plan_free(p);
        sv_snapshot_free(s);
}

/* Protect= spares exactly the protected groups' processes (as victims and
 * in group kills), says so, and rules out cgroup.kill. */
static void test_protect_spares_exactly_the_protected(void **state)
{
        static const char *const protect[] = { "work.slice/app/web/worker", "work.slice/app/db" };
        static const int want[] = { 100, 300, 301, 302 };
        struct sv_snapshot *s = basic();
        struct sv_kill_rule r = { .name = "app", .oom_group = true, .protect = protect,
                                  .n_protect = 2 };
        struct sv_plan *p = NULL;

        assert_int_equal(sv_plan_kill(s, &tripwire, &r, NULL, &p), 0);
        assert_kills(s, p, want, sizeof(want) / sizeof(want[0]));
        assert_int_equal(spared_pid(s, p, 400)->why, SV_SPARE_PROTECT);
        assert_int_equal(spared_pid(s, p, 201)->why, SV_SPARE_PROTECT);
        /* -1000 in a protected group: Protect= is the reason given */
        assert_int_equal(spared_pid(s, p, 200)->why, SV_SPARE_PROTECT);
        assert_false(p->use_cgroup_kill);
        sv_plan_free(p);

        /* Protecting the kernel's victim moves the choice to the next one. */
        static const char *const web[] = { "work.slice/app/web" };
        r = (struct sv_kill_rule){ .name = "app", .protect = web, .n_protect = 1 };
        assert_int_equal(sv_plan_kill(s, &tripwire, &r, NULL, &p), 0);
        assert_int_equal(pid_of(s, p->victim), 201); /* the next largest, in db */
        assert_int_equal(p->scope, SV_SCOPE_TASK);
        sv_plan_free(p);
        sv_snapshot_free(s);
}

/* The supervisor never kills itself, whatever group it sits in. */
static void test_self_is_spared(void **state)
{
        struct sv_snapshot *s = basic();
        struct sv_kill_rule r = { .name = "app", .oom_group = true, .self_pid = 100 };
        struct sv_plan *p = NULL;

        assert_int_equal(sv_plan_kill(s, &tripwire, &r, NULL, &p), 0);
        assert_int_equal(spared_pid(s, p, 100)->why, SV_SPARE_SELF);
        for (size_t i = 0; i < p->n_kill_tasks; i++)
                assert_int_not_equal(pid_of(s, p->kill_tasks[i]), 100);
        sv_plan_free(p);
        sv_snapshot_free(s);
}

/* After a kernel OOM kill the rest of the domain goes, sparing -1000. */
static void test_kernel_kill_completion_spares_adj_min(void **state)
{
        static const int want[] = { 100, 201, 300, 301, 302, 400 };
        struct sv_snapshot *s = basic();
        struct sv_kill_rule r = { .name = "app" };
        struct sv_plan *p = NULL;

        assert_int_equal(sv_plan_kill(s, &kernel_kill, &r, NULL, &p), 0);
        assert_int_equal(p->scope, SV_SCOPE_KERNEL_KILL);
        assert_int_equal(p->kill_group, 0);
        assert_int_equal(p->victim, -1);
        assert_kills(s, p, want, sizeof(want) / sizeof(want[0]));
        assert_int_equal(spared_pid(s, p, 200)->why, SV_SPARE_ADJ_MIN);
        assert_int_equal(spared_pid(s, p, 303)->why, SV_SPARE_ADJ_MIN);
        sv_plan_free(p);
        sv_snapshot_free(s);
}

/* The case: a policy names /pool/c/sub while /pool/c has
 * memory.oom.group: the kill widens to /pool/c, as the kernel would. */
static void test_policy_choice_is_widened_like_the_kernel(void **state)
{
        struct sv_snapshot *s = pool();
        int sub = sv_snapshot_find_group(s, "/pool/c/sub"), c = sv_snapshot_find_group(s, "/pool/c");
        struct sv_plan_choice ch = { .group = sub, .task = -1, .policy = "largest",
                                     .explanation = "c/sub is the largest" };
        static const int want[] = { 30, 31 };
        struct sv_plan *p = NULL;

        assert_int_equal(sv_plan_kill(s, &tripwire, NULL, &ch, &p), 0);
        assert_int_equal(p->kill_group, c);
        assert_int_equal(p->scope, SV_SCOPE_OOM_GROUP);
        assert_kills(s, p, want, 2);
        assert_true(p->use_cgroup_kill);
        assert_string_equal(p->policy, "largest");
        assert_string_equal(p->policy_explanation, "c/sub is the largest");
        sv_plan_free(p);

        /* Without widening the named group dies whole. */
        ch.group = sv_snapshot_find_group(s, "/pool/a");
        assert_int_equal(sv_plan_kill(s, &tripwire, NULL, &ch, &p), 0);
        assert_int_equal(p->kill_group, ch.group);
        assert_int_equal(p->scope, SV_SCOPE_POLICY_GROUP);
        sv_plan_free(p);

        /* OOMGroup= widens a policy's choice to the domain too. */
        struct sv_kill_rule r = { .oom_group = true };
        assert_int_equal(sv_plan_kill(s, &tripwire, &r, &ch, &p), 0);
        assert_int_equal(p->kill_group, 0);
        assert_int_equal(p->scope, SV_SCOPE_RULE_OOM_GROUP);
        sv_plan_free(p);
        sv_snapshot_free(s);
}

/* A policy that names a task: that task, widened as the kernel widens its
 * victim, alone when nothing does. */
static void test_policy_task_choice(void **state)
{
        struct sv_snapshot *s = pool();
        int a = sv_snapshot_find_group(s, "/pool/a");
        struct sv_plan_choice ch = { .group = a, .task = (int)s->groups[a].first_task };
        static const int want[] = { 10 };
        struct sv_plan *p = NULL;

        assert_int_equal(sv_plan_kill(s, &tripwire, NULL, &ch, &p), 0);
        assert_int_equal(p->scope, SV_SCOPE_TASK);
        assert_int_equal(p->kill_group, -1);
        assert_kills(s, p, want, 1);
        assert_false(p->use_cgroup_kill);
        sv_plan_free(p);

        /* Naming a spared task does not make it the victim: the group goes. */
        int d = sv_snapshot_find_group(s, "/pool/d");
        ch = (struct sv_plan_choice){ .group = d, .task = (int)s->groups[d].first_task };
        assert_int_equal(sv_plan_kill(s, &tripwire, NULL, &ch, &p), 0);
        assert_int_equal(p->n_kill_tasks, 0); /* d holds only a -1000 task */
        assert_int_equal(p->scope, SV_SCOPE_NONE);
        sv_plan_free(p);

        /* Nothing chosen: nothing killed (not the kernel's choice instead). */
        ch = (struct sv_plan_choice){ .group = -1, .task = -1, .policy = "swap" };
        assert_int_equal(sv_plan_kill(s, &tripwire, NULL, &ch, &p), 0);
        assert_int_equal(p->n_kill_tasks, 0);
        sv_plan_free(p);

        ch = (struct sv_plan_choice){ .group = 99, .task = -1 };
        assert_int_equal(sv_plan_kill(s, &tripwire, NULL, &ch, &p), -EINVAL);
        sv_snapshot_free(s);
}

/* A policy that fails: the kernel's choice, and the note says why. */
static void test_failing_policy_falls_back_to_the_kernel(void **state)
{
        struct sv_snapshot *s = pool();
        struct sv_policy_registry *reg = NULL;
        const struct sv_policy *bad;
        struct sv_policy_instance *inst = NULL;
        struct cgsentry_rule rule = { .name = (char *)"r" };
        struct sv_plan *p = NULL, *k = NULL;
        char note[512];

        assert_int_equal(sv_policy_registry_new(SV_TEST_POLICY_DIR, &reg), 0);
        assert_int_equal(sv_policy_registry_get(reg, "bad-choice", &bad, NULL), 0);
        assert_int_equal(sv_policy_instance_new(bad, NULL, &inst, NULL), 0);
        assert_int_equal(cgsentry_decide(s, &tripwire, &rule, 0, inst, 0, &p, note, sizeof(note)),
                         0);
        assert_non_null(strstr(note, "policy bad-choice failed"));
        assert_non_null(strstr(note, "using the kernel's choice"));
        assert_int_equal(sv_plan_kill(s, &tripwire, NULL, NULL, &k), 0);
        assert_int_equal(p->victim, k->victim);
        assert_string_equal(p->policy, "kernel");
        sv_plan_free(k);
        sv_plan_free(p);
        sv_policy_instance_free(inst);
        sv_policy_registry_free(reg);
        sv_snapshot_free(s);
}

/* The plan in words: cgsentry's, with the figures, and never the kernel's. */
static void test_plan_text(void **state)
{
        static const char *const protect[] = { "work.slice/app/db" };
        struct sv_snapshot *s = basic();
        struct sv_kill_rule r = { .name = "app", .oom_group = true, .protect = protect,
                                  .n_protect = 1 };
        struct sv_trigger t = tripwire;
        struct sv_plan *p = NULL;
        char *text;

        t.reclaim.nonreclaimable = 1000 << 20;
        assert_int_equal(sv_plan_kill(s, &t, &r, NULL, &p), 0);
        text = sv_plan_text(s, &t, &r, p, false);
        assert_non_null(text);
        assert_true(strncmp(text, "tripwire: /work.slice/app non-reclaimable 1000 MiB = 97% of "
                                  "memory.max 1.0 GiB",
                            strlen("tripwire: /work.slice/app non-reclaimable 1000 MiB = 97% of "
                                   "memory.max 1.0 GiB")) == 0);
        assert_non_null(strstr(text, "; killing 5 processes of /work.slice/app (rule app, policy "
                                     "kernel; OOMGroup=yes)\n"));
        assert_non_null(strstr(text, "\npid 301 (python3) uid 0 in /work.slice/app/web: anon-rss "
                                     "109 MiB, file-rss 5.8 MiB, shmem-rss 1.9 MiB, swap 0 B, "
                                     "oom_score_adj 0, the victim\n"));
        assert_non_null(strstr(text, "\nsparing pid 201 (postgres) in /work.slice/app/db: "
                                     "Protect=\n"));
        assert_non_null(strstr(text, "\nsparing pid 303 (guard) in /work.slice/app/web: "
                                     "oom_score_adj -1000\n"));
        assert_null(strstr(text, "out of memory"));
        assert_null(strstr(text, "Killed process"));
        free(text);
        text = sv_plan_text(s, &t, &r, p, true);
        assert_true(strncmp(text, "dry run: tripwire: ", 19) == 0);
        assert_non_null(strstr(text, "; would kill 5 processes of"));
        free(text);
        sv_plan_free(p);
        sv_snapshot_free(s);
}

/* A hostile process name cannot forge a line of the plan's text. */
static void test_plan_text_escapes_names(void **state)
{
        struct sv_snapshot *s = basic();
        struct sv_plan *p = NULL;
        char *text;
        int n = 0;

        for (size_t i = 0; i < s->n_tasks; i++)
                if (s->tasks[i].pid == 301)
                        memcpy(s->tasks[i].comm, "x\ncgsentryd: \x1b", 15);
        assert_int_equal(sv_plan_kill(s, &tripwire, NULL, NULL, &p), 0);
        text = sv_plan_text(s, &tripwire, NULL, p, false);
        assert_non_null(strstr(text, "pid 301 (x\\x0acgsentryd: \\x1b) uid 0"));
        for (const char *c = text; *c; c++)
                n += *c == '\n';
        assert_int_equal(n, 1 + (int)p->n_kill_tasks + (int)p->n_spared);
        free(text);
        sv_plan_free(p);
        sv_snapshot_free(s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_default_plan_is_the_kernel_mirror),
                cmocka_unit_test(test_builtin_kernel_policy_is_the_default),
                cmocka_unit_test(test_rule_oom_group_widens_to_the_domain),
                cmocka_unit_test(test_protect_spares_exactly_the_protected),
                cmocka_unit_test(test_self_is_spared),
                cmocka_unit_test(test_kernel_kill_completion_spares_adj_min),
                cmocka_unit_test(test_policy_choice_is_widened_like_the_kernel),
                cmocka_unit_test(test_policy_task_choice),
                cmocka_unit_test(test_failing_policy_falls_back_to_the_kernel),
                cmocka_unit_test(test_plan_text),
                cmocka_unit_test(test_plan_text_escapes_names),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
