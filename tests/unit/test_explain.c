/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cgsentry explain as users and scripts see it: JSON contract, text, exit codes. */
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

#define ROOTS "--cgroup-root " SV_FIXTURES "/basic/cgroup --proc-root " SV_FIXTURES "/basic/proc "

static void test_explain_json_contract_on_basic_fixture(void **state)
{
        struct run r = run("explain --json " ROOTS "work.slice/app");
        json_object *o, *cands, *victim, *pids;
        static const int want[] = { 300, 301, 302, 400 };

        assert_int_equal(r.status, 0);
        o = json_tokener_parse(r.out);
        assert_non_null(o);
        assert_string_equal(json_object_get_string(get(o, "domain")), "/work.slice/app");
        assert_int_equal(json_object_get_int64(get(o, "totalpages")), 65536);

        cands = get(o, "candidates");
        /* every task of the domain, in scan order: app, db, web, web/worker, zombie */
        assert_int_equal(json_object_array_length(cands), 9);
        json_object *c0 = json_object_array_get_idx(cands, 0);
        assert_int_equal(json_object_get_int(get(c0, "pid")), 100);
        assert_string_equal(json_object_get_string(get(c0, "comm")), "bash");
        assert_string_equal(json_object_get_string(get(c0, "cgroup")), "/work.slice/app");
        assert_int_equal(json_object_get_int64(get(c0, "points")), 1000 + 12);
        assert_int_equal(json_object_get_int(get(c0, "oom_score_adj")), 0);
        assert_int_equal(json_object_get_int64(get(c0, "rss_pages")), 1000);
        assert_int_equal(json_object_get_int64(get(c0, "swap_pages")), 0);
        assert_int_equal(json_object_get_int64(get(c0, "pgtables_bytes")), 49152);
        /* postgres at -1000: listed, points null */
        json_object *c1 = json_object_array_get_idx(cands, 1);
        assert_int_equal(json_object_get_int(get(c1, "pid")), 200);
        assert_true(json_object_is_type(get(c1, "points"), json_type_null));
        /* worker: 5000 + 12 + 300 * (65536 / 1000) */
        json_object *c7 = json_object_array_get_idx(cands, 7);
        assert_int_equal(json_object_get_int(get(c7, "pid")), 400);
        assert_int_equal(json_object_get_int64(get(c7, "points")), 5012 + 300 * 65);

        victim = get(o, "victim");
        assert_int_equal(json_object_get_int(get(victim, "pid")), 301);
        assert_string_equal(json_object_get_string(get(victim, "comm")), "python3");
        assert_string_equal(json_object_get_string(get(victim, "cgroup")), "/work.slice/app/web");
        assert_int_equal(json_object_get_int64(get(victim, "points")), 30030);
        assert_string_equal(json_object_get_string(get(o, "kill_group")), "/work.slice/app/web");
        pids = get(o, "kill_pids");
        assert_int_equal(json_object_array_length(pids), 4);
        for (size_t i = 0; i < 4; i++)
                assert_int_equal(json_object_get_int(json_object_array_get_idx(pids, i)), want[i]);
        json_object_put(o);
        run_free(&r);
}

/* How close the group is to a tripwire kill: the split of its memory. */
static void test_explain_shows_the_memory_split(void **state)
{
        struct run r = run("explain --json " ROOTS "work.slice/app");
        json_object *o, *m;

        assert_int_equal(r.status, 0);
        o = json_tokener_parse(r.out);
        assert_non_null(o);
        m = get(o, "memory");
        assert_int_equal(json_object_get_int64(get(m, "current")), 4096000);
        assert_int_equal(json_object_get_int64(get(m, "max")), 268435456);
        assert_string_equal(json_object_get_string(get(m, "high")), "max");
        /* anon 4096000 + kernel 1 MiB (no reclaimable slab in the fixture) */
        assert_int_equal(json_object_get_int64(get(m, "nonreclaimable")), 4096000 + 1048576);
        assert_int_equal(json_object_get_int(get(m, "nonreclaimable_percent_of_max")), 1);
        assert_int_equal(json_object_get_int64(get(m, "anon")), 4096000);
        assert_int_equal(json_object_get_int64(get(m, "file")), 0);
        assert_int_equal(json_object_get_int64(get(m, "swap_headroom")), 0);
        json_object_put(o);
        run_free(&r);

        r = run("explain " ROOTS "work.slice/app");
        assert_non_null(strstr(r.out, "# Memory: usage 3.9 MiB, memory.high max, memory.max "
                                      "256 MiB\n#   not reclaimable 4.9 MiB = 1% of memory.max "
                                      "(anon 3.9 MiB, shmem 0 B, unevictable 0 B, kernel 1.0 "
                                      "MiB)\n#   reclaimable: page cache 0 B, slab 0 B, swappable "
                                      "0 B (swap headroom 0 B)\n"));
        run_free(&r);
}

/* A configuration file for the basic fixture, in a temporary file. */
static char *config_file(const char *rules)
{
        char *path = strdup("/tmp/cgsentry-explain-confXXXXXX");
        int fd = mkstemp(path);
        FILE *f = fdopen(fd, "w");

        assert_non_null(f);
        fprintf(f, "[Daemon]\nCgroupRoot=%s/basic/cgroup\nProcRoot=%s/basic/proc\n%s",
                SV_FIXTURES, SV_FIXTURES, rules);
        fclose(f);
        return path;
}

/* explain --config says what cgsentryd would do: the rule, its Protect=
 * and OOMGroup=, the spared processes and why. */
static void test_explain_config_json(void **state)
{
        static const int want[] = { 100, 300, 301, 302, 400 };
        char *conf = config_file("[Rule other]\nMatch=idle.slice\n"
                                 "[Rule app]\nMatch=work.slice/*\nOOMGroup=yes\nTripwire=90%\n"
                                 "Protect=work.slice/app/db\n");
        char *args;
        struct run r;
        json_object *o, *pids, *spared, *pol;

        assert_true(asprintf(&args, "explain --json --config %s work.slice/app", conf) > 0);
        r = run(args);
        assert_int_equal(r.status, 0);
        o = json_tokener_parse(r.out);
        assert_non_null(o);
        assert_string_equal(json_object_get_string(get(o, "rule")), "app");
        pol = get(o, "policy");
        assert_string_equal(json_object_get_string(get(pol, "name")), "kernel");
        assert_string_equal(json_object_get_string(get(o, "kill_group")), "/work.slice/app");
        assert_string_equal(json_object_get_string(get(o, "scope")), "OOMGroup=yes");
        assert_string_equal(json_object_get_string(get(get(o, "trigger"), "trigger")), "tripwire");
        assert_int_equal(json_object_get_int(get(get(o, "victim"), "pid")), 301);
        pids = get(o, "kill_pids");
        assert_int_equal(json_object_array_length(pids), 5);
        for (size_t i = 0; i < 5; i++)
                assert_int_equal(json_object_get_int(json_object_array_get_idx(pids, i)), want[i]);
        spared = get(o, "spared");
        assert_int_equal(json_object_array_length(spared), 4);
        assert_int_equal(json_object_get_int(get(json_object_array_get_idx(spared, 0), "pid")), 200);
        assert_string_equal(json_object_get_string(get(json_object_array_get_idx(spared, 0),
                                                       "reason")),
                            "Protect=");
        assert_string_equal(json_object_get_string(get(json_object_array_get_idx(spared, 2),
                                                       "reason")),
                            "oom_score_adj -1000");
        json_object_put(o);
        run_free(&r);
        free(args);

        /* The text: cgsentry's words for the kill, the kernel's for the dump. */
        assert_true(asprintf(&args, "explain --config %s --trigger kernel-oom-kill "
                                    "work.slice/app", conf) > 0);
        r = run(args);
        assert_int_equal(r.status, 0);
        assert_non_null(strstr(r.out, "# What cgsentryd would do on a kernel-oom-kill trigger in "
                                      "/work.slice/app now (rule app, policy kernel)\n"));
        assert_non_null(strstr(r.out, "# kernel-oom-kill: /work.slice/app the kernel's OOM killer "
                                      "killed a process in this group"));
        assert_non_null(strstr(r.out, "would kill 5 processes of /work.slice/app (rule app, policy "
                                      "kernel; OnKernelOOMKill=group-kill finishes the group)\n"));
        assert_non_null(strstr(r.out, "# sparing pid 201 (postgres) in /work.slice/app/db: "
                                      "Protect=\n"));
        assert_null(strstr(r.out, "Killed process"));
        run_free(&r);
        free(args);
        unlink(conf);
        free(conf);
}

/* Node pressure: the figures from ProcRoot=/meminfo, and with
 * Policy=kubernetes on a kubelet tree, the BestEffort pod whole. */
static void test_explain_node_pressure(void **state)
{
        char *conf = config_file("[Rule node]\nMatch=work.slice\nNodeMemoryAvailable=80%\n");
        char *args;
        struct run r;
        json_object *o, *t;

        /* MemAvailable 1500000 kB of 2000000 kB: below 80%. */
        assert_true(asprintf(&args, "explain --config %s work.slice", conf) > 0);
        r = run(args);
        assert_int_equal(r.status, 0);
        assert_non_null(strstr(r.out, "# node-pressure: /work.slice the node's MemAvailable 1.4 "
                                      "GiB = 75% of MemTotal 1.9 GiB is below "
                                      "NodeMemoryAvailable= 1.5 GiB; would kill"));
        assert_non_null(strstr(r.out, "# Node pressure WOULD FIRE now: MemAvailable 1.4 GiB"));
        run_free(&r);
        free(args);
        unlink(conf);
        free(conf);

        conf = config_file("[Daemon]\nPolicyDir=" CGSENTRY_POLICY_BUILD_DIR "\n"
                           "[Rule node]\nMatch=kubepods.slice\nNodeMemoryAvailable=5%\n"
                           "Policy=kubernetes\n");
        assert_true(asprintf(&args, "explain --json --config %s --snapshot %s/kubepods-systemd.json "
                                    "kubepods.slice",
                             conf, SV_FIXTURES) > 0);
        r = run(args);
        assert_int_equal(r.status, 0);
        o = json_tokener_parse(r.out);
        assert_non_null(o);
        t = get(o, "trigger");
        assert_string_equal(json_object_get_string(get(t, "trigger")), "node-pressure");
        assert_string_equal(json_object_get_string(get(t, "source")), "memavailable");
        assert_string_equal(json_object_get_string(get(get(o, "policy"), "name")), "kubernetes");
        assert_string_equal(json_object_get_string(get(o, "kill_group")),
                            "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod"
                            "1b2c3d4e_5f6a_7b8c_9d0e_1f2a3b4c5d6e.slice");
        assert_int_equal(json_object_array_length(get(o, "kill_pids")), 3);
        assert_string_equal(json_object_get_string(get(o, "scope")),
                            "the policy chose the whole group");
        json_object_put(o);
        run_free(&r);
        free(args);
        unlink(conf);
        free(conf);
}

static void test_explain_config_errors(void **state)
{
        char *conf = config_file("[Rule app]\nMatch=work.slice/app\n");
        char *args;
        struct run r;

        assert_true(asprintf(&args, "explain --config %s idle.slice", conf) > 0);
        r = run(args);
        assert_int_equal(r.status, 2);
        assert_non_null(strstr(r.err, "no rule of"));
        assert_non_null(strstr(r.err, "matches /idle.slice: cgsentryd would not supervise it"));
        run_free(&r);
        free(args);
        assert_true(asprintf(&args, "explain --config %s --rule nope work.slice/app", conf) > 0);
        r = run(args);
        assert_int_equal(r.status, 2);
        assert_non_null(strstr(r.err, "has no [Rule nope]"));
        run_free(&r);
        free(args);
        /* --rule picks a rule that does not match by its glob */
        assert_true(asprintf(&args, "explain --config %s --rule app idle.slice", conf) > 0);
        r = run(args);
        assert_int_equal(r.status, 0);
        run_free(&r);
        free(args);
        r = run("explain --rule app " ROOTS "work.slice/app");
        assert_int_equal(r.status, 2);
        assert_non_null(strstr(r.err, "--rule and --trigger need --config"));
        run_free(&r);
        unlink(conf);
        free(conf);
}

static void test_explain_text_uses_kernel_lines(void **state)
{
        struct run r = run("explain " ROOTS "/work.slice/app/");

        assert_int_equal(r.status, 0);
        assert_non_null(strstr(r.out, "[  pid  ]   uid  tgid total_vm      rss pgtables_bytes "
                                      "swapents oom_score_adj name\n"));
        assert_non_null(strstr(r.out, "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),"
                                      "oom_memcg=/work.slice/app,task_memcg=/work.slice/app/web,"
                                      "task=python3,pid=301,uid=0\n"));
        assert_non_null(strstr(r.out, "Memory cgroup out of memory: Killed process 301 (python3) "
                                      "total-vm:140000kB, anon-rss:112000kB, file-rss:6000kB, "
                                      "shmem-rss:2000kB, UID:0 pgtables:120kB oom_score_adj:0\n"));
        assert_non_null(strstr(r.out, "Tasks in /work.slice/app/web are going to be killed due "
                                      "to memory.oom.group set\n"));
        /* the -1000 guard is listed in the dump but never "Killed" */
        assert_non_null(strstr(r.out, " guard\n"));
        assert_null(strstr(r.out, "Killed process 303 "));
        /* the zombie has no mm: not in the kernel's dump */
        assert_null(strstr(r.out, "defunct\n"));
        run_free(&r);
}

static void test_explain_without_group_kills_victim_only(void **state)
{
        struct run r = run("explain --json " ROOTS "work.slice/app/db");
        json_object *o = json_tokener_parse(r.out);

        assert_int_equal(r.status, 0);
        assert_non_null(o);
        assert_int_equal(json_object_get_int(get(get(o, "victim"), "pid")), 201);
        assert_true(json_object_is_type(get(o, "kill_group"), json_type_null));
        assert_int_equal(json_object_array_length(get(o, "kill_pids")), 1);
        json_object_put(o);
        run_free(&r);
}

static void test_explain_nothing_killable_exits_1(void **state)
{
        struct run r = run("explain --json " ROOTS "work.slice/app/zombie");
        json_object *o = json_tokener_parse(r.out);

        assert_int_equal(r.status, 1);
        assert_non_null(o);
        assert_true(json_object_is_type(get(o, "victim"), json_type_null));
        assert_true(json_object_is_type(get(o, "kill_group"), json_type_null));
        assert_int_equal(json_object_array_length(get(o, "kill_pids")), 0);
        json_object_put(o);
        run_free(&r);
}

static void test_explain_missing_cgroup_exits_2_naming_path(void **state)
{
        struct run r = run("explain " ROOTS "work.slice/nope");

        assert_int_equal(r.status, 2);
        assert_string_equal(r.out, "");
        assert_non_null(strstr(r.err, "work.slice/nope"));
        run_free(&r);
}

static void test_explain_usage_errors_exit_2(void **state)
{
        struct run r = run("explain");
        assert_int_equal(r.status, 2);
        assert_non_null(strstr(r.err, "Usage: cgsentry explain"));
        run_free(&r);
        r = run("explain --bogus x");
        assert_int_equal(r.status, 2);
        run_free(&r);
        r = run("frobnicate");
        assert_int_equal(r.status, 2);
        assert_non_null(strstr(r.err, "unknown command"));
        run_free(&r);
}

static void test_explain_help_and_version(void **state)
{
        struct run r = run("explain --help");
        assert_int_equal(r.status, 0);
        assert_non_null(strstr(r.out, "--cgroup-root"));
        run_free(&r);
        r = run("--version");
        assert_int_equal(r.status, 0);
        assert_true(strncmp(r.out, "cgsentry ", 9) == 0);
        run_free(&r);
}

static void test_explain_snapshot_replay_gives_same_answer(void **state)
{
        char snap[] = "/tmp/cgsentry-test-snapXXXXXX";
        int fd = mkstemp(snap);
        char *args;
        struct run live, replay;

        assert_true(fd >= 0);
        close(fd);
        assert_true(asprintf(&args, "explain --json " ROOTS "--save-snapshot %s work.slice/app",
                             snap) > 0);
        live = run(args);
        free(args);
        assert_true(asprintf(&args, "explain --json --snapshot %s", snap) > 0);
        replay = run(args);
        free(args);
        assert_int_equal(live.status, 0);
        assert_int_equal(replay.status, 0);
        assert_string_equal(live.out, replay.out);
        run_free(&live);
        run_free(&replay);
        unlink(snap);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_explain_json_contract_on_basic_fixture),
                cmocka_unit_test(test_explain_text_uses_kernel_lines),
                cmocka_unit_test(test_explain_shows_the_memory_split),
                cmocka_unit_test(test_explain_config_json),
                cmocka_unit_test(test_explain_node_pressure),
                cmocka_unit_test(test_explain_config_errors),
                cmocka_unit_test(test_explain_without_group_kills_victim_only),
                cmocka_unit_test(test_explain_nothing_killable_exits_1),
                cmocka_unit_test(test_explain_missing_cgroup_exits_2_naming_path),
                cmocka_unit_test(test_explain_usage_errors_exit_2),
                cmocka_unit_test(test_explain_help_and_version),
                cmocka_unit_test(test_explain_snapshot_replay_gives_same_answer),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
