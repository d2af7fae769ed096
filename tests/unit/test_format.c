/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The kernel's log formats, byte for byte (Linux 6.1 mm/oom_kill.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgsentry/supervise.h"

struct buf {
        char *text;
        size_t len;
        FILE *f;
};

static FILE *buf_open(struct buf *b)
{
        b->f = open_memstream(&b->text, &b->len);
        assert_non_null(b->f);
        return b->f;
}

static const char *buf_done(struct buf *b)
{
        assert_int_equal(fclose(b->f), 0);
        return b->text;
}

/* A task as a real kernel printed it:
 * "[  69258]     0 69258     2240      998    57344        0             0 bash" */
static struct sv_snapshot *one_task(struct sv_task **ret)
{
        struct sv_snapshot *s = sv_snapshot_new("/mem_test", 4096);
        struct sv_group g = { .memcg = true, .memory_max = 64 << 20, .swap_max = SV_LIMIT_MAX };
        struct sv_task t = { .pid = 69258, .uid = 0, .has_mm = true, .vm_size_kb = 2240 * 4,
                             .rss_anon_kb = 900 * 4, .rss_file_kb = 98 * 4, .vm_pte_kb = 56,
                             .comm = "bash" };

        assert_int_equal(sv_snapshot_add_group(s, "/mem_test", -1, &g), 0);
        assert_int_equal(sv_snapshot_add_task(s, &t), 0);
        *ret = &s->tasks[0];
        return s;
}

static void test_dump_header_is_the_kernels(void **state)
{
        struct buf b;

        sv_format_dump_header(buf_open(&b));
        assert_string_equal(buf_done(&b),
                            "Tasks state (memory values in pages):\n"
                            "[  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents "
                            "oom_score_adj name\n");
        free(b.text);
}

static void test_dump_task_matches_kernel_line(void **state)
{
        struct sv_task *t;
        struct sv_snapshot *s = one_task(&t);
        struct buf b;

        sv_format_dump_task(buf_open(&b), s, t);
        assert_string_equal(buf_done(&b), "[  69258]     0 69258     2240      998    57344"
                                          "        0             0 bash\n");
        free(b.text);
        t->oom_score_adj = -1000;
        t->uid = 65535;
        sv_format_dump_task(buf_open(&b), s, t);
        assert_string_equal(buf_done(&b), "[  69258] 65535 69258     2240      998    57344"
                                          "        0         -1000 bash\n");
        free(b.text);
        sv_snapshot_free(s);
}

static void test_killed_line_matches_kernel(void **state)
{
        struct sv_task *t;
        struct sv_snapshot *s = one_task(&t);
        struct buf b;

        sv_format_killed(buf_open(&b), s, t);
        assert_string_equal(buf_done(&b),
                            "Memory cgroup out of memory: Killed process 69258 (bash) "
                            "total-vm:8960kB, anon-rss:3600kB, file-rss:392kB, shmem-rss:0kB, "
                            "UID:0 pgtables:56kB oom_score_adj:0\n");
        free(b.text);
        sv_snapshot_free(s);
}

static void test_oom_group_line_matches_kernel(void **state)
{
        struct sv_task *t;
        struct sv_snapshot *s = one_task(&t);
        struct buf b;

        sv_format_oom_group(buf_open(&b), s, 0);
        assert_string_equal(buf_done(&b),
                            "Tasks in /mem_test are going to be killed due to memory.oom.group set\n");
        free(b.text);
        sv_snapshot_free(s);
}

static void test_oom_summary_names_memcgs_and_victim(void **state)
{
        struct sv_task *t;
        struct sv_snapshot *s = one_task(&t);
        struct sv_oom_result *r;
        struct buf b;

        assert_int_equal(sv_oom_select(s, 0, &r), 0);
        sv_format_oom_summary(buf_open(&b), s, r);
        assert_string_equal(buf_done(&b),
                            "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),"
                            "oom_memcg=/mem_test,task_memcg=/mem_test,task=bash,pid=69258,uid=0\n");
        free(b.text);
        sv_oom_result_free(r);
        sv_snapshot_free(s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_dump_header_is_the_kernels),
                cmocka_unit_test(test_dump_task_matches_kernel_line),
                cmocka_unit_test(test_killed_line_matches_kernel),
                cmocka_unit_test(test_oom_group_line_matches_kernel),
                cmocka_unit_test(test_oom_summary_names_memcgs_and_victim),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
