/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What an OOM ends in (libsupervise/outcome.c) as explain says it, on
 * fixture trees: the vm sysctls of tests/fixtures/sysctl/ over the basic
 * tree (memcg OOMs) and the global tree (explain /, a system-wide OOM
 * scanned in task-list order).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

#define BASIC "--cgroup-root " SV_FIXTURES "/basic/cgroup --proc-root " SV_FIXTURES "/basic/proc "
#define GLOBAL "--cgroup-root " SV_FIXTURES "/global/cgroup --proc-root " SV_FIXTURES "/global/proc "
#define SYS(name) "--sys-root " SV_FIXTURES "/sysctl/" name " "

static json_object *explain_json(const char *args, int want_status)
{
        struct run r = run(args);
        json_object *o;

        assert_int_equal(r.status, want_status);
        o = json_tokener_parse(r.out);
        assert_non_null(o);
        run_free(&r);
        return o;
}

static const char *outcome_kind(json_object *o)
{
        return json_object_get_string(get(get(o, "outcome"), "kind"));
}

static int victim_pid(json_object *o)
{
        json_object *v = get(o, "victim");
        return v ? json_object_get_int(get(v, "pid")) : 0;
}

/* Text: the outcome is the first line. */
static void assert_first_line(const char *args, const char *prefix)
{
        struct run r = run(args);

        assert_int_equal(r.status, 0);
        if (strncmp(r.out, prefix, strlen(prefix)) != 0)
                fail_msg("first line of `cgsentry %s` is not \"%s...\":\n%s", args, prefix, r.out);
        run_free(&r);
}

/* select_bad_process() without a memcg: for_each_process(), fork order;
 * 40 and 50 tie and the later of the task list (50) wins, although the
 * cgroup walk ends with 40. Its memory.oom.group (/a) is widened to the
 * root: 50 and 51 die. */
static void test_global_oom_scans_task_list_ties_to_later_forked(void **state)
{
        json_object *o = explain_json("explain --json " GLOBAL SYS("default") "/", 0), *c;
        static const int order[] = { 1, 70, 60, 40, 50, 51 };

        assert_string_equal(outcome_kind(o), "kill");
        assert_true(json_object_get_boolean(get(get(o, "outcome"), "global")));
        assert_string_equal(json_object_get_string(get(o, "constraint")), "CONSTRAINT_NONE");
        assert_int_equal(victim_pid(o), 50);
        assert_string_equal(json_object_get_string(get(o, "kill_group")), "/a");
        c = get(o, "kill_pids");
        assert_int_equal(json_object_array_length(c), 2);
        assert_int_equal(json_object_get_int(json_object_array_get_idx(c, 0)), 50);
        assert_int_equal(json_object_get_int(json_object_array_get_idx(c, 1)), 51);
        c = get(o, "candidates");
        assert_int_equal(json_object_array_length(c), 6);
        for (size_t i = 0; i < 6; i++)
                assert_int_equal(json_object_get_int(get(json_object_array_get_idx(c, i), "pid")),
                                 order[i]);
        /* RAM + swap */
        assert_int_equal(json_object_get_int(get(o, "totalpages")), 500000);
        json_object_put(o);
}

/* The same tree as a memcg domain (/b alone) keeps the cgroup walk. */
static void test_memcg_oom_keeps_cgroup_walk(void **state)
{
        json_object *o = explain_json("explain --json " GLOBAL "b", 0);

        assert_int_equal(victim_pid(o), 40);
        assert_string_equal(outcome_kind(o), "kill");
        json_object_put(o);
}

/* check_panic_on_oom(): 1 panics on a system-wide OOM only, 2 on every one. */
static void test_panic_on_oom(void **state)
{
        json_object *o;

        o = explain_json("explain --json " GLOBAL SYS("panic1") "/", 0);
        assert_string_equal(outcome_kind(o), "panic");
        assert_int_equal(json_object_get_int(get(get(o, "outcome"), "panic_on_oom")), 1);
        json_object_put(o);

        o = explain_json("explain --json " BASIC SYS("panic1") "work.slice/app", 0);
        assert_string_equal(outcome_kind(o), "kill");
        assert_int_equal(victim_pid(o), 301);
        json_object_put(o);

        o = explain_json("explain --json " BASIC SYS("panic2") "work.slice/app", 0);
        assert_string_equal(outcome_kind(o), "panic");
        json_object_put(o);

        o = explain_json("explain --json " GLOBAL SYS("panic2") "/", 0);
        assert_string_equal(outcome_kind(o), "panic");
        json_object_put(o);

        assert_first_line("explain " GLOBAL SYS("panic1") "/", "# Outcome: PANIC (vm.panic_on_oom=1");
        assert_first_line("explain " BASIC SYS("panic2") "work.slice/app",
                          "# Outcome: PANIC (vm.panic_on_oom=2");
        assert_first_line("explain " BASIC SYS("panic1") "work.slice/app",
                          "# Outcome: kill pid 301 (python3)");
}

/* out_of_memory(): with vm.oom_kill_allocating_task a system-wide OOM kills
 * the allocating task when it is killable (with its memory.oom.group), the
 * scan being the fallback; memcg OOMs ignore the sysctl. */
static void test_oom_kill_allocating_task(void **state)
{
        json_object *o;

        o = explain_json("explain --json " GLOBAL SYS("alloc") "/", 0);
        assert_string_equal(outcome_kind(o), "kill-allocating-task");
        assert_int_equal(victim_pid(o), 50); /* the fallback scan's */
        json_object_put(o);
        assert_first_line("explain " GLOBAL SYS("alloc") "/", "# Outcome: kill the allocating task (");

        o = explain_json("explain --json " GLOBAL SYS("alloc") "--allocating-pid 40 /", 0);
        assert_string_equal(outcome_kind(o), "kill-allocating-task");
        assert_int_equal(json_object_get_int(get(get(o, "outcome"), "allocating_pid")), 40);
        assert_int_equal(victim_pid(o), 40);
        assert_null(get(o, "kill_group"));
        json_object_put(o);

        /* in an oom.group: the group dies with it */
        o = explain_json("explain --json " GLOBAL SYS("alloc") "--allocating-pid 51 /", 0);
        assert_int_equal(victim_pid(o), 51);
        assert_string_equal(json_object_get_string(get(o, "kill_group")), "/a");
        json_object_put(o);

        /* -1000: not killable, the scan chooses */
        o = explain_json("explain --json " GLOBAL SYS("alloc") "--allocating-pid 70 /", 0);
        assert_string_equal(outcome_kind(o), "kill");
        assert_int_equal(victim_pid(o), 50);
        json_object_put(o);
        assert_first_line("explain " GLOBAL SYS("alloc") "--allocating-pid 70 /",
                          "# Outcome: kill pid 50 (late) and its memory.oom.group "
                          "(vm.oom_kill_allocating_task=1, but the allocating task cannot");

        /* a memcg OOM does not look at it */
        o = explain_json("explain --json " BASIC SYS("alloc") "work.slice/app", 0);
        assert_string_equal(outcome_kind(o), "kill");
        assert_int_equal(victim_pid(o), 301);
        json_object_put(o);
}

/* vm.oom_dump_tasks and vm.overcommit_memory=2 (CommitLimit, Committed_AS). */
static void test_dump_tasks_and_overcommit(void **state)
{
        struct run r = run("explain " GLOBAL SYS("nodump-overcommit2") "/");
        json_object *o;

        assert_int_equal(r.status, 0);
        assert_non_null(strstr(r.out, "vm.oom_dump_tasks=0 (the kernel's report would have no task table)"));
        assert_non_null(strstr(r.out, "# vm.overcommit_memory=2 (never overcommit): CommitLimit 1000000 kB, "
                                      "Committed_AS 1200000 kB"));
        assert_non_null(strstr(r.out, "allocations fail with ENOMEM once Committed_AS reaches "
                                      "CommitLimit"));
        assert_non_null(strstr(r.out, ": it is reached now"));
        /* the legacy oom_adj where it misleads */
        assert_non_null(strstr(r.out, "# pid 70 (sshd): oom_score_adj -1000; legacy /proc/70/oom_adj "
                                      "shows -17 (OOM_DISABLE: never killed)"));
        run_free(&r);

        o = explain_json("explain --json " GLOBAL SYS("nodump-overcommit2") "/", 0);
        assert_int_equal(json_object_get_int(get(get(o, "outcome"), "overcommit_memory")), 2);
        assert_int_equal(json_object_get_int(get(get(o, "outcome"), "commit_limit_kb")), 1000000);
        assert_int_equal(json_object_get_int(get(get(o, "outcome"), "committed_as_kb")), 1200000);
        assert_int_equal(json_object_get_int(get(get(o, "outcome"), "oom_dump_tasks")), 0);
        json_object_put(o);
}

/* The sysctls travel with a saved snapshot; --allocating-pid must exist. */
static void test_snapshot_keeps_sysctls(void **state)
{
        char snap[] = "/tmp/cgsentry-test-snapXXXXXX", args[1024];
        int fd = mkstemp(snap);
        struct run r;
        json_object *o;

        assert_true(fd >= 0);
        close(fd);
        snprintf(args, sizeof(args), "explain " GLOBAL SYS("panic1") "--save-snapshot %s /", snap);
        r = run(args);
        assert_int_equal(r.status, 0);
        run_free(&r);
        snprintf(args, sizeof(args), "explain --json --snapshot %s", snap);
        o = explain_json(args, 0);
        assert_string_equal(outcome_kind(o), "panic");
        assert_int_equal(victim_pid(o), 50);
        json_object_put(o);
        unlink(snap);

        r = run("explain " GLOBAL "--allocating-pid 4242 /");
        assert_int_equal(r.status, 2);
        assert_non_null(strstr(r.err, "--allocating-pid 4242: no such process"));
        run_free(&r);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_global_oom_scans_task_list_ties_to_later_forked),
                cmocka_unit_test(test_memcg_oom_keeps_cgroup_walk),
                cmocka_unit_test(test_panic_on_oom),
                cmocka_unit_test(test_oom_kill_allocating_task),
                cmocka_unit_test(test_dump_tasks_and_overcommit),
                cmocka_unit_test(test_snapshot_keeps_sysctls),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
