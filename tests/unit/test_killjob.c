/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The supervisor's kill job on a fixture tree, with the kill calls recorded
 * instead of made (struct supervisor_kill_ops): no signal is sent. A real
 * supervisor watches a copy of tests/fixtures/basic, and supervisor_trigger()
 * fires the same path a memory.events or PSI event would.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "supervisor-env.h"

static const struct sv_trigger tripwire = { .kind = SV_TRIGGER_TRIPWIRE,
                                            .memory_max = 268435456, .permyriad = 9000 };

/* OOMGroup= widens to the matched group; -1000 members are spared, so the
 * kill is per process (cgroup.kill spares nobody), and nothing is sent to
 * a spared one. */
static void test_oom_group_kill_spares_adj_min(void **state)
{
        struct env *e = env_new("[Rule app]\nMatch=work.slice/app\nOOMGroup=yes\n");
        static const int killed[] = { 100, 201, 300, 301, 302, 400 };

        assert_int_equal(supervisor_trigger(e->sv, "work.slice/app", &tripwire), 1);
        for (size_t i = 0; i < sizeof(killed) / sizeof(killed[0]); i++)
                assert_true(opened(&e->rec, killed[i]));
        assert_false(opened(&e->rec, 200));
        assert_false(opened(&e->rec, 303));
        assert_int_equal(count(&e->rec, "cgroup.kill", 0), 0);
        assert_int_equal(count(&e->rec, "signal", SIGKILL), 6);
        assert_int_equal(supervisor_n_kills(e->sv), 1);
        assert_non_null(strstr(e->rec.log, "4 tripwire: /work.slice/app "));
        assert_non_null(strstr(e->rec.log, "; killing 6 processes of /work.slice/app (rule app, "
                                           "policy kernel; OOMGroup=yes)"));
        assert_non_null(strstr(e->rec.log, "sparing pid 200 (postgres) in /work.slice/app/db: "
                                           "oom_score_adj -1000"));
        /* The pid identity check always reads this namespace's /proc, never
         * the ProcRoot= of the configuration. */
        assert_true(e->rec.proc_is_real);
        env_free(e);
}

/* Nobody to spare: one write of cgroup.kill; memory returned by pidfd. */
static void test_cgroup_kill_when_nobody_is_spared(void **state)
{
        struct env *e = env_new("[Rule w]\nMatch=work.slice/app/web/worker\nOOMGroup=yes\n");

        assert_int_equal(supervisor_trigger(e->sv, "work.slice/app/web/worker", &tripwire), 1);
        assert_int_equal(count(&e->rec, "cgroup.kill", 0), 1);
        assert_string_equal(e->rec.calls[1].path, "work.slice/app/web/worker");
        assert_int_equal(count(&e->rec, "signal", 0), 0);
        assert_int_equal(count(&e->rec, "mrelease", 0), 1);
        env_free(e);
}

/* cgroup.kill refused (EPERM): said, then done by hand, frozen meanwhile. */
static void test_cgroup_kill_failure_falls_back(void **state)
{
        struct env *e = env_new("[Rule w]\nMatch=work.slice/app/web/worker\nOOMGroup=yes\n");

        e->rec.kill_error = -EPERM;
        assert_int_equal(supervisor_trigger(e->sv, "work.slice/app/web/worker", &tripwire), 1);
        assert_int_equal(count(&e->rec, "cgroup.kill", 0), 1);
        assert_int_equal(count(&e->rec, "freeze", 0), 1);
        assert_int_equal(count(&e->rec, "signal", SIGKILL), 1);
        assert_int_equal(count(&e->rec, "thaw", 0), 1);
        assert_non_null(strstr(e->rec.log, "cannot write /work.slice/app/web/worker/cgroup.kill: "
                                           "Operation not permitted; killing process by process"));
        assert_int_equal(supervisor_n_kills(e->sv), 1);
        env_free(e);
}

/* Protect= spares exactly the protected group's processes. */
static void test_protect(void **state)
{
        struct env *e = env_new("[Rule app]\nMatch=work.slice/app\nOOMGroup=yes\n"
                                "Protect=work.slice/app/db\n");

        assert_int_equal(supervisor_trigger(e->sv, "work.slice/app", &tripwire), 1);
        assert_false(opened(&e->rec, 200));
        assert_false(opened(&e->rec, 201));
        assert_true(opened(&e->rec, 100));
        assert_true(opened(&e->rec, 301));
        assert_non_null(strstr(e->rec.log, "sparing pid 201 (postgres) in /work.slice/app/db: "
                                           "Protect="));
        env_free(e);
}

/* DryRun= decides and says so, and calls nothing. */
static void test_dry_run_kills_nothing(void **state)
{
        struct env *e = env_new("[Rule app]\nMatch=work.slice/app\nOOMGroup=yes\nDryRun=yes\n");

        assert_int_equal(supervisor_trigger(e->sv, "work.slice/app", &tripwire), 1);
        assert_int_equal(e->rec.n, 0);
        assert_non_null(strstr(e->rec.log, "dry run: tripwire: /work.slice/app "));
        assert_non_null(strstr(e->rec.log, "; would kill 6 processes of /work.slice/app"));
        assert_int_equal(supervisor_n_kills(e->sv), 0);
        env_free(e);
}

/* The memory.oom.group of web widens the kernel's victim, as the kernel does. */
static void test_memory_oom_group_widens(void **state)
{
        struct env *e = env_new("[Rule app]\nMatch=work.slice/app\n");

        assert_int_equal(supervisor_trigger(e->sv, "work.slice/app", &tripwire), 1);
        assert_true(opened(&e->rec, 300) && opened(&e->rec, 301) && opened(&e->rec, 302) &&
                    opened(&e->rec, 400));
        assert_false(opened(&e->rec, 100));
        assert_non_null(strstr(e->rec.log, "killing 4 processes of /work.slice/app/web (rule app, "
                                           "policy kernel; memory.oom.group is set)"));
        env_free(e);
}

/* After a kernel OOM kill: the rest of the group, sparing -1000. */
static void test_kernel_kill_completion(void **state)
{
        struct env *e = env_new("[Rule app]\nMatch=work.slice/app\nOnKernelOOMKill=group-kill\n");
        struct sv_trigger t = { .kind = SV_TRIGGER_KERNEL_OOM_KILL, .oom_kill = 1 };

        assert_int_equal(supervisor_trigger(e->sv, "work.slice/app", &t), 1);
        assert_false(opened(&e->rec, 200));
        assert_false(opened(&e->rec, 303));
        assert_int_equal(count(&e->rec, "open", 0), 6);
        assert_non_null(strstr(e->rec.log, "kernel-oom-kill: /work.slice/app the kernel's OOM "
                                           "killer killed a process in this group"));
        env_free(e);
}

/* KillSignal=SIGTERM:GRACE,SIGKILL: SIGTERM now, SIGKILL after the grace. */
static void test_grace_period(void **state)
{
        struct env *e = env_new("[Rule w]\nMatch=work.slice/app/web\nOOMGroup=yes\n"
                                "KillSignal=SIGTERM:50ms,SIGKILL\n");

        assert_int_equal(supervisor_trigger(e->sv, "work.slice/app/web", &tripwire), 1);
        assert_int_equal(count(&e->rec, "signal", SIGTERM), 4); /* web but its guard */
        assert_int_equal(count(&e->rec, "signal", SIGKILL), 0);
        run_for(e, 150);
        assert_int_equal(count(&e->rec, "signal", SIGKILL), 4);
        env_free(e);
}

static const struct sv_trigger pressure = { .kind = SV_TRIGGER_PRESSURE, .psi_full = true,
                                            .stall_usec = 200000, .window_usec = 1000000 };

/* Within Cooldown= a PSI trigger is ignored, and so is the tripwire while
 * the killed processes are still there; once they are gone the tripwire,
 * which decides on the memory charged now, acts again. */
static void test_cooldown(void **state)
{
        struct env *e = env_new("[Rule app]\nMatch=work.slice/app\nCooldown=10s\n");
        int n;

        assert_int_equal(supervisor_trigger(e->sv, "work.slice/app", &tripwire), 1);
        n = e->rec.n;
        assert_int_equal(supervisor_trigger(e->sv, "work.slice/app", &tripwire), 0);
        run_for(e, 60); /* the kill is confirmed */
        assert_int_equal(supervisor_trigger(e->sv, "work.slice/app", &pressure), 0);
        assert_int_equal(e->rec.n, n);
        assert_int_equal(supervisor_n_kills(e->sv), 1);
        assert_int_equal(supervisor_trigger(e->sv, "work.slice/app", &tripwire), 1);
        assert_int_equal(supervisor_n_kills(e->sv), 2);
        env_free(e);
}

/* Killed processes that do not go (D state): the tripwire waits too. */
static void test_cooldown_while_the_killed_stay(void **state)
{
        struct env *e = env_new("[Rule app]\nMatch=work.slice/app\nCooldown=10s\n");

        e->rec.stuck = true;
        assert_int_equal(supervisor_trigger(e->sv, "work.slice/app", &tripwire), 1);
        run_for(e, 60);
        assert_int_equal(supervisor_trigger(e->sv, "work.slice/app", &tripwire), 0);
        assert_int_equal(supervisor_n_kills(e->sv), 1);
        env_free(e);
}

/* process_mrelease() says EINVAL until the SIGKILL is delivered: retried
 * from the confirm timer, never by sleeping in the loop. */
static void test_mrelease_retried_from_the_timer(void **state)
{
        struct env *e = env_new("[Rule w]\nMatch=work.slice/app/web/worker\nOOMGroup=yes\n");

        e->rec.mrelease_einval = 1;
        assert_int_equal(supervisor_trigger(e->sv, "work.slice/app/web/worker", &tripwire), 1);
        assert_int_equal(count(&e->rec, "mrelease", 0), 1);
        run_for(e, 60);
        assert_int_equal(count(&e->rec, "mrelease", 0), 2);
        env_free(e);
}

/* Every process gone before it could be pinned: not a kill, not logged as
 * one. */
static void test_failed_setup_is_not_a_kill(void **state)
{
        struct env *e = env_new("[Rule app]\nMatch=work.slice/app\nOOMGroup=yes\n");

        e->rec.open_error = -ESRCH;
        assert_int_equal(supervisor_trigger(e->sv, "work.slice/app", &tripwire), -ESRCH);
        assert_int_equal(supervisor_n_kills(e->sv), 0);
        assert_int_equal(count(&e->rec, "signal", 0), 0);
        assert_non_null(strstr(e->rec.log, "could not start the kill of 6 processes"));
        assert_null(strstr(e->rec.log, "; killing"));
        /* and no cooldown: the next trigger is decided afresh */
        e->rec.open_error = 0;
        assert_int_equal(supervisor_trigger(e->sv, "work.slice/app", &tripwire), 1);
        env_free(e);
}

static void test_unknown_group(void **state)
{
        struct env *e = env_new("[Rule app]\nMatch=work.slice/app\n");

        assert_int_equal(supervisor_trigger(e->sv, "idle.slice", &tripwire), -ENOENT);
        env_free(e);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_oom_group_kill_spares_adj_min),
                cmocka_unit_test(test_cgroup_kill_when_nobody_is_spared),
                cmocka_unit_test(test_cgroup_kill_failure_falls_back),
                cmocka_unit_test(test_protect),
                cmocka_unit_test(test_dry_run_kills_nothing),
                cmocka_unit_test(test_memory_oom_group_widens),
                cmocka_unit_test(test_kernel_kill_completion),
                cmocka_unit_test(test_grace_period),
                cmocka_unit_test(test_cooldown),
                cmocka_unit_test(test_cooldown_while_the_killed_stay),
                cmocka_unit_test(test_mrelease_retried_from_the_timer),
                cmocka_unit_test(test_failed_setup_is_not_a_kill),
                cmocka_unit_test(test_unknown_group),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
