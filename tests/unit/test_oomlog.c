/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The kernel's OOM reports read back into kills (libsupervise/oomlog.c),
 * on the logs of tests/fixtures/kmsg/. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oomlog.h"

#define KMSG SV_FIXTURES "/kmsg/"
#define U SV_OOMREC_UNKNOWN
/* 2024-06-01: "now" for logs without a year. */
#define NOW_USEC 1717200000000000ll

struct recs {
        struct sv_oomrec **r;
        size_t n;
};

static struct recs load(const char *name)
{
        char path[512];
        struct recs rs;
        FILE *f;

        snprintf(path, sizeof(path), KMSG "%s", name);
        f = fopen(path, "re");
        assert_non_null(f);
        assert_int_equal(sv_oomlog_read_file(f, NOW_USEC, &rs.r, &rs.n), 0);
        fclose(f);
        return rs;
}

static struct recs load_text(const char *text)
{
        FILE *f = fmemopen((void *)text, strlen(text), "r");
        struct recs rs;

        assert_non_null(f);
        assert_int_equal(sv_oomlog_read_file(f, NOW_USEC, &rs.r, &rs.n), 0);
        fclose(f);
        return rs;
}

static void recs_free(struct recs *rs)
{
        for (size_t i = 0; i < rs->n; i++)
                sv_oomrec_free(rs->r[i]);
        free(rs->r);
}

static void assert_killed(const struct sv_oomrec *r, size_t n, ...)
{
        va_list ap;

        assert_int_equal(r->n_killed, n);
        va_start(ap, n);
        for (size_t i = 0; i < n; i++)
                assert_int_equal(r->killed[i], va_arg(ap, int));
        va_end(ap);
}

static void assert_str(const char *got, const char *want)
{
        if (!want) {
                assert_null(got);
                return;
        }
        assert_non_null(got);
        assert_string_equal(got, want);
}

/* 4.19: no summary line; the memcg from "Task in ... limit of ...", uid and
 * oom_score_adj from the task dump, the victim from "Killed process". */
static void test_v4_19_memcg_kill(void **state)
{
        struct recs rs = load("v4.19-memcg.dmesg");
        const struct sv_oomrec *r;

        assert_int_equal(rs.n, 3);
        r = rs.r[0];
        assert_false(r->cgsentryd);
        assert_int_equal(r->victim_pid, 4242);
        assert_string_equal(r->victim_comm, "stress");
        assert_str(r->constraint, "CONSTRAINT_MEMCG");
        assert_str(r->domain, "/system.slice/app.service");
        assert_str(r->victim_cgroup, "/system.slice/app.service");
        assert_int_equal(r->victim_uid, 1000);
        assert_int_equal(r->oom_score_adj, 300);
        assert_int_equal(r->anon_rss_kb, 99000);
        assert_int_equal(r->file_rss_kb, 1000);
        assert_int_equal(r->shmem_rss_kb, 0);
        assert_int_equal(r->pgtables_kb, U);
        assert_int_equal(r->monotonic_usec, 100000020);
        assert_int_equal(r->realtime_usec, U);
        assert_true(r->reaped);
        assert_null(r->group);
        assert_killed(r, 1, 4242);
        assert_str(r->gfp_mask, "0x6000c0(GFP_KERNEL)");
        assert_int_equal(r->order, 0);
        assert_string_equal(r->alloc_comm, "stress");
        recs_free(&rs);
}

/* 4.19 "or sacrifice child": the child that was killed is the victim; a
 * comm with parentheses; a system-wide OOM. */
static void test_v4_19_sacrificed_child_is_the_victim(void **state)
{
        struct recs rs = load("v4.19-memcg.dmesg");
        const struct sv_oomrec *r = rs.r[1];

        assert_int_equal(r->victim_pid, 501);
        assert_string_equal(r->victim_comm, "ld");
        assert_str(r->domain, "/");
        assert_str(r->constraint, "CONSTRAINT_NONE");
        assert_int_equal(r->oom_score_adj, 100);
        assert_int_equal(r->victim_uid, 0);
        assert_false(r->reaped);
        assert_killed(r, 1, 501);
        recs_free(&rs);
}

/* 4.19 memory.oom.group: the victim logged again among the members. */
static void test_v4_19_oom_group(void **state)
{
        struct recs rs = load("v4.19-memcg.dmesg");
        const struct sv_oomrec *r = rs.r[2];

        assert_int_equal(r->victim_pid, 700);
        assert_str(r->group, "/work.slice/job");
        assert_str(r->domain, "/work.slice/job");
        assert_str(r->victim_cgroup, "/work.slice/job/a");
        assert_killed(r, 3, 699, 700, 701);
        recs_free(&rs);
}

/* 5.10 in journalctl -o short-iso: wall-clock seconds, no kernel stamps;
 * lines of other programs in between. */
static void test_v5_10_group_kill_journal(void **state)
{
        struct recs rs = load("v5.10-group.journal");
        const struct sv_oomrec *r;
        char t[48];

        assert_int_equal(rs.n, 1);
        r = rs.r[0];
        assert_int_equal(r->victim_pid, 301);
        assert_string_equal(r->victim_comm, "python3");
        assert_str(r->constraint, "CONSTRAINT_MEMCG");
        assert_str(r->domain, "/work.slice/app");
        assert_str(r->victim_cgroup, "/work.slice/app/web");
        assert_str(r->group, "/work.slice/app/web");
        assert_killed(r, 3, 300, 301, 302);
        assert_int_equal(r->victim_uid, 0);
        assert_int_equal(r->anon_rss_kb, 112000);
        assert_int_equal(r->file_rss_kb, 6000);
        assert_int_equal(r->shmem_rss_kb, 2000);
        assert_int_equal(r->pgtables_kb, 120);
        assert_int_equal(r->oom_score_adj, 0);
        assert_true(r->reaped);
        assert_int_equal(r->monotonic_usec, U);
        assert_string_equal(sv_oomrec_format_time(r->realtime_usec, t, sizeof(t)),
                            "2024-03-05T11:00:00.000000Z");
        recs_free(&rs);
}

/* Raw /dev/kmsg: a summary split by another CPU's record, a cgroup name
 * with a comma, a second OOM 2 ms later without header, reaper lines after
 * it, a comm with an escaped newline. */
static void test_v5_10_interleaved_is_two_kills(void **state)
{
        struct recs rs = load("v5.10-interleaved.kmsg");
        const struct sv_oomrec *a, *b;

        assert_int_equal(rs.n, 2);
        a = rs.r[0];
        b = rs.r[1];
        assert_int_equal(a->victim_pid, 900);
        assert_str(a->domain, "/user.slice/user-1000.slice/a,b");
        assert_str(a->victim_cgroup, "/user.slice/user-1000.slice/a,b/x");
        assert_int_equal(a->victim_uid, 1000);
        assert_killed(a, 1, 900);
        assert_true(a->reaped);
        assert_int_equal(a->monotonic_usec, 5000000800);

        assert_int_equal(b->victim_pid, 901);
        assert_string_equal(b->victim_comm, "evil\nname");
        assert_int_equal(b->oom_score_adj, 500);
        assert_killed(b, 1, 901);
        assert_true(b->reaped);
        assert_str(b->constraint, "CONSTRAINT_MEMCG");
        assert_null(b->group);
        recs_free(&rs);
}

/* 6.12: the wide task dump; vm.oom_kill_allocating_task; a report without
 * a kill is not a kill. */
static void test_v6_12_allocating_task(void **state)
{
        struct recs rs = load("v6.12-global.kmsg");
        const struct sv_oomrec *r;

        assert_int_equal(rs.n, 1);
        r = rs.r[0];
        assert_int_equal(r->victim_pid, 1888);
        assert_true(r->allocating_task);
        assert_str(r->domain, "/");
        assert_str(r->constraint, "CONSTRAINT_NONE");
        assert_str(r->victim_cgroup, "/user.slice/user-1001.slice/session-3.scope");
        assert_int_equal(r->victim_uid, 1001);
        assert_string_equal(r->alloc_comm, "hog");
        assert_str(r->gfp_mask, "0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP)");
        recs_free(&rs);
}

/* Lines that are not OOM lines never fail and never make kills. */
static void test_noise_is_ignored(void **state)
{
        struct recs rs = load_text("garbage\n\n[ 1.0] x\n{not json\n6,1,2,-;\n"
                                   "Killed process\nKilled process x (y) total-vm:1kB\n"
                                   "oom-kill:\nTasks in \noom_reaper: reaped process 5 (x)\n"
                                   "[  pid  ]\n[   12] 1\n-- Boot zz --\n");

        assert_int_equal(rs.n, 0);
        recs_free(&rs);
}

/* A summary line of a later OOM that lost its header to the rate limit is
 * a new kill, not a member of the previous group. */
static void test_rate_limited_second_report(void **state)
{
        struct recs rs = load_text(
                "[   10.000000] oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/a,task_memcg=/a/g,task=x,pid=10,uid=0\n"
                "[   10.000100] Memory cgroup out of memory: Killed process 10 (x) total-vm:1kB, anon-rss:1kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0\n"
                "[   10.000200] Tasks in /a/g are going to be killed due to memory.oom.group set\n"
                "[   10.000300] Memory cgroup out of memory: Killed process 11 (y) total-vm:1kB, anon-rss:1kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0\n"
                "[   10.001000] oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/b,task_memcg=/b,task=z,pid=20,uid=0\n"
                "[   10.001100] Memory cgroup out of memory: Killed process 20 (z) total-vm:1kB, anon-rss:1kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0\n"
                "[   12.000000] Memory cgroup out of memory: Killed process 30 (w) total-vm:1kB, anon-rss:1kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0\n");

        assert_int_equal(rs.n, 3);
        assert_killed(rs.r[0], 2, 10, 11);
        assert_str(rs.r[0]->group, "/a/g");
        assert_int_equal(rs.r[1]->victim_pid, 20);
        assert_str(rs.r[1]->domain, "/b");
        assert_killed(rs.r[1], 1, 20);
        /* no header, no summary: a kill all the same */
        assert_int_equal(rs.r[2]->victim_pid, 30);
        assert_str(rs.r[2]->constraint, "CONSTRAINT_MEMCG");
        recs_free(&rs);
}

/* journalctl "-- Boot --" lines and a clock that goes back split boots. */
static void test_boots(void **state)
{
        struct recs rs = load_text(
                "-- Boot 0123456789abcdef0123456789abcdef --\n"
                "[  500.000000] Out of memory: Killed process 1 (a) total-vm:1kB, anon-rss:1kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0\n"
                "-- Boot fedcba9876543210fedcba9876543210 --\n"
                "[  400.000000] Out of memory: Killed process 2 (b) total-vm:1kB, anon-rss:1kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0\n"
                "[    4.000000] Out of memory: Killed process 3 (c) total-vm:1kB, anon-rss:1kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0\n");

        assert_int_equal(rs.n, 3);
        assert_string_equal(rs.r[0]->boot_id, "0123456789abcdef0123456789abcdef");
        assert_string_equal(rs.r[1]->boot_id, "fedcba9876543210fedcba9876543210");
        assert_string_equal(rs.r[2]->boot_id, "");
        assert_true(rs.r[2]->boot_seq > rs.r[1]->boot_seq);
        recs_free(&rs);
}

/* Line formats: the same kill in each. */
static void test_line_formats(void **state)
{
        static const char *const lines[] = {
                "[  12.345678] Out of memory: Killed process 7 (a b) total-vm:1kB, anon-rss:2kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0",
                "kern  :err   : [  12.345678] Out of memory: Killed process 7 (a b) total-vm:1kB, anon-rss:2kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0",
                "6,5,12345678,-;Out of memory: Killed process 7 (a b) total-vm:1kB, anon-rss:2kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0",
                "2024-03-05T12:34:56,123456+00:00 Out of memory: Killed process 7 (a b) total-vm:1kB, anon-rss:2kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0",
                "2024-03-05T12:34:56.123456+0000 host kernel: Out of memory: Killed process 7 (a b) total-vm:1kB, anon-rss:2kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0",
                "[  12.345678] host kernel: Out of memory: Killed process 7 (a b) total-vm:1kB, anon-rss:2kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0",
                "Mar  5 12:34:56 host kernel: [   12.345678] Out of memory: Killed process 7 (a b) total-vm:1kB, anon-rss:2kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0",
                "Out of memory: Killed process 7 (a b) total-vm:1kB, anon-rss:2kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0",
        };
        for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
                struct recs rs = load_text(lines[i]);
                assert_int_equal(rs.n, 1);
                assert_int_equal(rs.r[0]->victim_pid, 7);
                assert_string_equal(rs.r[0]->victim_comm, "a b");
                assert_int_equal(rs.r[0]->anon_rss_kb, 2);
                if (i < 3 || i == 5 || i == 6)
                        assert_int_equal(rs.r[0]->monotonic_usec, 12345678);
                if (i == 3 || i == 4)
                        assert_int_equal(rs.r[0]->realtime_usec, 1709642096123456ll);
                recs_free(&rs);
        }
        /* another program's line is not the kernel's */
        {
                struct recs rs = load_text("Mar  5 12:34:56 host evil[1]: Out of memory: Killed process 7 (a) total-vm:1kB, anon-rss:2kB\n");
                assert_int_equal(rs.n, 0);
                recs_free(&rs);
        }
}

/* The JSON record round trip (what the state log holds) and
 * journalctl -o json input with cgsentryd's entries. */
static void test_json_round_trip_and_journal_export(void **state)
{
        struct recs rs = load("v5.10-group.journal");
        char *line = sv_oomrec_to_json_line(rs.r[0]), *again;
        json_object *o = json_tokener_parse(line);
        struct sv_oomrec *back = NULL;

        assert_non_null(o);
        assert_int_equal(sv_oomrec_from_json(o, &back), 0);
        again = sv_oomrec_to_json_line(back);
        assert_string_equal(line, again);
        free(again);
        free(line);
        json_object_put(o);
        sv_oomrec_free(back);
        recs_free(&rs);

        rs = load_text(
                "{\"__REALTIME_TIMESTAMP\":\"1709642096000000\",\"_BOOT_ID\":\"0123456789abcdef0123456789abcdef\",\"_TRANSPORT\":\"kernel\",\"_SOURCE_MONOTONIC_TIMESTAMP\":\"12000000\",\"MESSAGE\":\"Out of memory: Killed process 7 (a) total-vm:1kB, anon-rss:2kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0\"}\n"
                "{\"__REALTIME_TIMESTAMP\":\"1709642097000000\",\"_BOOT_ID\":\"0123456789abcdef0123456789abcdef\",\"MESSAGE_ID\":\"5c8e0f7ad1a94a4f8d7b3f0c2e61a901\",\"CGSENTRY_RECORD\":\"1\",\"CGSENTRY_TRIGGER\":\"tripwire\",\"CGSENTRY_DOMAIN\":\"work.slice/app\",\"CGSENTRY_CGROUP\":\"work.slice/app\",\"CGSENTRY_KILL_GROUP\":\"work.slice/app\",\"CGSENTRY_VICTIM_PID\":\"42\",\"CGSENTRY_VICTIM_COMM\":\"hog\",\"CGSENTRY_VICTIM_UID\":\"0\",\"CGSENTRY_VICTIM_CGROUP\":\"work.slice/app/x\",\"CGSENTRY_KILLED_PIDS\":\"41 42 43\",\"CGSENTRY_RULE\":\"r\",\"CGSENTRY_POLICY\":\"kernel\"}\n"
                "{\"MESSAGE_ID\":\"5c8e0f7ad1a94a4f8d7b3f0c2e61a901\",\"CGSENTRY_VICTIM_PID\":\"42\",\"MESSAGE\":\"a detail line, not the record\"}\n");
        assert_int_equal(rs.n, 2);
        {
                const struct sv_oomrec *c = rs.r[0]->cgsentryd ? rs.r[0] : rs.r[1];
                const struct sv_oomrec *k = rs.r[0]->cgsentryd ? rs.r[1] : rs.r[0];
                assert_true(c->cgsentryd);
                assert_int_equal(c->victim_pid, 42);
                assert_str(c->constraint, "tripwire");
                assert_str(c->domain, "/work.slice/app");
                assert_str(c->group, "/work.slice/app");
                assert_str(c->victim_cgroup, "/work.slice/app/x");
                assert_killed(c, 3, 41, 42, 43);
                assert_string_equal(c->boot_id, "0123456789abcdef0123456789abcdef");
                assert_false(k->cgsentryd);
                assert_int_equal(k->monotonic_usec, 12000000);
                assert_int_equal(k->realtime_usec, 1709642096000000ll);
                assert_string_equal(k->boot_id, "0123456789abcdef0123456789abcdef");
        }
        recs_free(&rs);
}

/* Captured in the sandbox (6.1): what `cgsentry history --kmsg` must make
 * of real reports. */
static void test_v6_1_captured(void **state)
{
        struct recs rs;
        const struct sv_oomrec *r;

        rs = load("v6.1-memcg-group.kmsg");
        assert_int_equal(rs.n, 1);
        r = rs.r[0];
        assert_int_equal(r->victim_pid, 130);
        assert_string_equal(r->victim_comm, "python3");
        assert_str(r->constraint, "CONSTRAINT_MEMCG");
        assert_str(r->domain, "/hist-group");
        assert_str(r->victim_cgroup, "/hist-group");
        assert_str(r->group, "/hist-group");
        assert_killed(r, 2, 129, 130);
        assert_int_equal(r->victim_uid, 0);
        recs_free(&rs);

        rs = load("v6.1-memcg-nodump.kmsg");
        assert_int_equal(rs.n, 1);
        r = rs.r[0];
        assert_int_equal(r->victim_pid, 132);
        assert_str(r->domain, "/hist-single");
        assert_null(r->group);
        assert_killed(r, 1, 132);
        recs_free(&rs);

        rs = load("v6.1-global-group.kmsg");
        assert_int_equal(rs.n, 1);
        r = rs.r[0];
        assert_int_equal(r->victim_pid, 163);
        assert_str(r->constraint, "CONSTRAINT_NONE");
        assert_str(r->domain, "/");
        assert_str(r->victim_cgroup, "/goracle-8/x/y/z");
        assert_str(r->group, "/goracle-8/x");
        assert_killed(r, 2, 163, 164);
        assert_false(r->allocating_task);
        assert_int_equal(r->alloc_oom_score_adj, -1000);
        recs_free(&rs);

        rs = load("v6.1-global-allocating.kmsg");
        assert_int_equal(rs.n, 1);
        r = rs.r[0];
        assert_int_equal(r->victim_pid, 185);
        assert_true(r->allocating_task);
        assert_str(r->domain, "/");
        assert_str(r->victim_cgroup, "/goracle-12/trig");
        assert_killed(r, 1, 185);
        recs_free(&rs);

        rs = load("v6.1-global-tie.kmsg");
        assert_int_equal(rs.n, 1);
        assert_int_equal(rs.r[0]->victim_pid, 174);
        assert_str(rs.r[0]->victim_cgroup, "/goracle-10/a");
        recs_free(&rs);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_v4_19_memcg_kill),
                cmocka_unit_test(test_v4_19_sacrificed_child_is_the_victim),
                cmocka_unit_test(test_v4_19_oom_group),
                cmocka_unit_test(test_v5_10_group_kill_journal),
                cmocka_unit_test(test_v5_10_interleaved_is_two_kills),
                cmocka_unit_test(test_v6_12_allocating_task),
                cmocka_unit_test(test_noise_is_ignored),
                cmocka_unit_test(test_rate_limited_second_report),
                cmocka_unit_test(test_boots),
                cmocka_unit_test(test_line_formats),
                cmocka_unit_test(test_json_round_trip_and_journal_export),
                cmocka_unit_test(test_v6_1_captured),
        };
        setenv("TZ", "UTC", 1);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
