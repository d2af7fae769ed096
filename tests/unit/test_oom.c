/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The kernel mirror: one test per rule of mm/oom_kill.c and mm/memcontrol.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "cgsentry/supervise.h"

#define MIB (1024ull * 1024)

/* A domain of @max_bytes with no swap on the machine. */
static struct sv_snapshot *domain(uint64_t max_bytes)
{
        struct sv_snapshot *s = sv_snapshot_new("/d", 4096);
        struct sv_group g = { .memcg = true, .memory_max = max_bytes, .swap_max = SV_LIMIT_MAX };

        assert_non_null(s);
        s->total_ram_pages = 1000000;
        assert_int_equal(sv_snapshot_add_group(s, "/d", -1, &g), 0);
        return s;
}

static int child(struct sv_snapshot *s, const char *path, int parent, bool oom_group)
{
        struct sv_group g = { .memcg = true, .memory_max = SV_LIMIT_MAX,
                              .swap_max = SV_LIMIT_MAX, .oom_group = oom_group };
        int r = sv_snapshot_add_group(s, path, parent, &g);
        assert_true(r > 0);
        return r;
}

/* A task of @pages resident anonymous pages in the last added group. */
static int task(struct sv_snapshot *s, int pid, uint64_t pages, int adj)
{
        struct sv_task t = { .pid = pid, .has_mm = true, .oom_score_adj = adj,
                             .rss_anon_kb = pages * 4, .vm_size_kb = pages * 8 };
        snprintf(t.comm, sizeof(t.comm), "t%d", pid);
        int r = sv_snapshot_add_task(s, &t);
        assert_true(r >= 0);
        return r;
}

static struct sv_oom_result *select0(struct sv_snapshot *s)
{
        struct sv_oom_result *r = NULL;
        assert_int_equal(sv_oom_select(s, 0, &r), 0);
        assert_non_null(r);
        return r;
}

static int victim_pid(const struct sv_snapshot *s, const struct sv_oom_result *r)
{
        return r->victim < 0 ? -1 : s->tasks[r->victim].pid;
}

/* ---- oom_badness() ---------------------------------------------------- */

static void test_badness_adj_min_is_unkillable(void **state)
{
        struct sv_snapshot *s = domain(100 * MIB);
        enum sv_unkillable why;
        int t = task(s, 10, 5000, SV_OOM_SCORE_ADJ_MIN);

        assert_true(sv_oom_badness(s, &s->tasks[t], 25600, &why) == SV_POINTS_UNKILLABLE);
        assert_int_equal(why, SV_UNKILLABLE_ADJ_MIN);
        sv_snapshot_free(s);
}

static void test_badness_kernel_thread_is_unkillable(void **state)
{
        struct sv_snapshot *s = domain(100 * MIB);
        enum sv_unkillable why;
        int t = task(s, 10, 5000, 0);

        s->tasks[t].flags = SV_PF_KTHREAD;
        assert_true(sv_oom_badness(s, &s->tasks[t], 25600, &why) == SV_POINTS_UNKILLABLE);
        assert_int_equal(why, SV_UNKILLABLE_KTHREAD);
        sv_snapshot_free(s);
}

static void test_badness_global_init_is_unkillable(void **state)
{
        struct sv_snapshot *s = domain(100 * MIB);
        enum sv_unkillable why;
        int t = task(s, 1, 5000, 1000);

        assert_true(sv_oom_badness(s, &s->tasks[t], 25600, &why) == SV_POINTS_UNKILLABLE);
        assert_int_equal(why, SV_UNKILLABLE_INIT);
        sv_snapshot_free(s);
}

static void test_badness_task_without_mm_is_unkillable(void **state)
{
        struct sv_snapshot *s = domain(100 * MIB);
        enum sv_unkillable why;
        int t = task(s, 10, 0, 0);

        s->tasks[t].has_mm = false;
        assert_true(sv_oom_badness(s, &s->tasks[t], 25600, &why) == SV_POINTS_UNKILLABLE);
        assert_int_equal(why, SV_UNKILLABLE_NO_MM);
        sv_snapshot_free(s);
}

static void test_badness_counts_rss_swap_and_pgtables(void **state)
{
        struct sv_snapshot *s = domain(100 * MIB);
        enum sv_unkillable why;
        int t = task(s, 10, 0, 0);

        s->tasks[t].rss_anon_kb = 400;  /* 100 pages */
        s->tasks[t].rss_file_kb = 80;   /* 20 */
        s->tasks[t].rss_shmem_kb = 40;  /* 10 */
        s->tasks[t].vm_swap_kb = 4000;  /* 1000 */
        s->tasks[t].vm_pte_kb = 48;     /* 49152 bytes = 12 pages */
        assert_int_equal(sv_oom_badness(s, &s->tasks[t], 25600, &why), 100 + 20 + 10 + 1000 + 12);
        assert_int_equal(why, SV_KILLABLE);
        sv_snapshot_free(s);
}

static void test_badness_adj_scales_with_integer_division_first(void **state)
{
        struct sv_snapshot *s = domain(100 * MIB);
        int t = task(s, 10, 100, 500);

        /* 1999 / 1000 = 1, so +500 points, not +999.5 */
        assert_int_equal(sv_oom_badness(s, &s->tasks[t], 1999, NULL), 100 + 500);
        /* below 1000 pages the adjustment vanishes entirely */
        assert_int_equal(sv_oom_badness(s, &s->tasks[t], 999, NULL), 100);
        assert_int_equal(sv_oom_badness(s, &s->tasks[t], 25600, NULL), 100 + 500 * 25);
        sv_snapshot_free(s);
}

static void test_badness_negative_adj_is_not_clamped(void **state)
{
        struct sv_snapshot *s = domain(100 * MIB);
        int t = task(s, 10, 100, -500);

        /* since 5.9 no clamp to 1: the score goes negative and stays killable */
        assert_int_equal(sv_oom_badness(s, &s->tasks[t], 25600, NULL), 100 - 500 * 25);
        sv_snapshot_free(s);
}

/* ---- totalpages: mem_cgroup_get_max() --------------------------------- */

static void test_totalpages_is_memory_max_in_pages(void **state)
{
        struct sv_snapshot *s = domain(100 * MIB);

        assert_int_equal(sv_oom_totalpages(s, 0), 25600);
        sv_snapshot_free(s);
}

static void test_totalpages_adds_swap_max_capped_by_total_swap(void **state)
{
        struct sv_snapshot *s = domain(100 * MIB);

        s->total_swap_pages = 1000;
        s->groups[0].swap_max = 50 * MIB; /* 12800 pages > total swap */
        assert_int_equal(sv_oom_totalpages(s, 0), 25600 + 1000);
        s->groups[0].swap_max = 2 * MIB; /* 512 pages */
        assert_int_equal(sv_oom_totalpages(s, 0), 25600 + 512);
        sv_snapshot_free(s);
}

static void test_totalpages_swappiness_zero_ignores_swap(void **state)
{
        struct sv_snapshot *s = domain(100 * MIB);

        s->total_swap_pages = 1000;
        s->swappiness = 0;
        assert_int_equal(sv_oom_totalpages(s, 0), 25600);
        sv_snapshot_free(s);
}

static void test_totalpages_max_is_page_counter_max(void **state)
{
        struct sv_snapshot *s = domain(SV_LIMIT_MAX);

        assert_true(sv_oom_totalpages(s, 0) == (uint64_t)INT64_MAX / 4096);
        sv_snapshot_free(s);
}

static void test_totalpages_zero_limit_is_one(void **state)
{
        struct sv_snapshot *s = domain(0);

        assert_int_equal(sv_oom_totalpages(s, 0), 1);
        sv_snapshot_free(s);
}

static void test_totalpages_root_is_ram_plus_swap(void **state)
{
        struct sv_snapshot *s = sv_snapshot_new("/", 4096);

        s->total_ram_pages = 5000;
        s->total_swap_pages = 700;
        assert_int_equal(sv_snapshot_add_group(s, "/", -1, NULL), 0);
        assert_int_equal(sv_oom_totalpages(s, 0), 5700);
        sv_snapshot_free(s);
}

/* ---- the victim scan: select_bad_process() ----------------------------- */

static void test_scan_picks_highest_points(void **state)
{
        struct sv_snapshot *s = domain(100 * MIB);
        task(s, 10, 100, 0);
        task(s, 11, 9000, 0);
        task(s, 12, 500, 0);
        struct sv_oom_result *r = select0(s);

        assert_int_equal(victim_pid(s, r), 11);
        assert_int_equal(r->victim_points, 9000);
        assert_int_equal(r->n_candidates, 3);
        sv_oom_result_free(r);
        sv_snapshot_free(s);
}

static void test_scan_tie_goes_to_task_scanned_later(void **state)
{
        struct sv_snapshot *s = domain(100 * MIB);
        task(s, 20, 700, 0);
        task(s, 10, 700, 0);
        struct sv_oom_result *r = select0(s);

        /* "points < chosen_points" skips, so an equal score replaces the pick */
        assert_int_equal(victim_pid(s, r), 10);
        sv_oom_result_free(r);
        sv_snapshot_free(s);
}

static void test_scan_is_preorder_parent_then_children(void **state)
{
        struct sv_snapshot *s = domain(100 * MIB);
        task(s, 10, 700, 0);
        int a = child(s, "/d/a", 0, false);
        task(s, 11, 700, 0);
        child(s, "/d/a/x", a, false);
        task(s, 12, 700, 0);
        child(s, "/d/b", 0, false);
        task(s, 13, 100, 0);
        struct sv_oom_result *r = select0(s);

        /* order d, a, a/x, b: the last of the tied three is in a/x */
        assert_int_equal(s->tasks[r->candidates[0].task].pid, 10);
        assert_int_equal(s->tasks[r->candidates[2].task].pid, 12);
        assert_int_equal(victim_pid(s, r), 12);
        sv_oom_result_free(r);
        sv_snapshot_free(s);
}

static void test_scan_skips_unkillable_even_if_largest(void **state)
{
        struct sv_snapshot *s = domain(100 * MIB);
        task(s, 10, 90000, SV_OOM_SCORE_ADJ_MIN);
        task(s, 11, 10, 0);
        struct sv_oom_result *r = select0(s);

        assert_int_equal(victim_pid(s, r), 11);
        assert_true(r->candidates[0].points == SV_POINTS_UNKILLABLE);
        sv_oom_result_free(r);
        sv_snapshot_free(s);
}

static void test_scan_negative_points_still_selected(void **state)
{
        struct sv_snapshot *s = domain(100 * MIB);
        task(s, 10, 100, -999);
        struct sv_oom_result *r = select0(s);

        assert_int_equal(victim_pid(s, r), 10);
        assert_true(r->victim_points < 0);
        sv_oom_result_free(r);
        sv_snapshot_free(s);
}

static void test_scan_nothing_killable(void **state)
{
        struct sv_snapshot *s = domain(100 * MIB);
        task(s, 10, 100, SV_OOM_SCORE_ADJ_MIN);
        struct sv_oom_result *r = select0(s);

        assert_int_equal(r->victim, -1);
        assert_int_equal(r->kill_group, -1);
        assert_int_equal(r->n_kill_tasks, 0);
        sv_oom_result_free(r);
        sv_snapshot_free(s);
}

static void test_scan_empty_domain(void **state)
{
        struct sv_snapshot *s = domain(100 * MIB);
        struct sv_oom_result *r = select0(s);

        assert_int_equal(r->victim, -1);
        assert_int_equal(r->n_candidates, 0);
        sv_oom_result_free(r);
        sv_snapshot_free(s);
}

static void test_scan_only_within_oom_domain(void **state)
{
        struct sv_snapshot *s = domain(100 * MIB);
        task(s, 10, 90000, 0);
        int a = child(s, "/d/a", 0, false);
        task(s, 11, 100, 0);
        struct sv_oom_result *r = NULL;

        /* an OOM in /d/a never looks at its parent's tasks */
        assert_int_equal(sv_oom_select(s, a, &r), 0);
        assert_int_equal(victim_pid(s, r), 11);
        assert_int_equal(r->n_candidates, 1);
        sv_oom_result_free(r);
        sv_snapshot_free(s);
}

/* ---- mem_cgroup_get_oom_group() ---------------------------------------- */

static void test_oom_group_none_set(void **state)
{
        struct sv_snapshot *s = domain(100 * MIB);
        child(s, "/d/a", 0, false);
        int t = task(s, 10, 100, 0);

        assert_int_equal(sv_oom_group(s, t, 0, NULL), -1);
        sv_snapshot_free(s);
}

static void test_oom_group_on_victims_own_memcg(void **state)
{
        struct sv_snapshot *s = domain(100 * MIB);
        int a = child(s, "/d/a", 0, true);
        int t = task(s, 10, 100, 0);

        assert_int_equal(sv_oom_group(s, t, 0, NULL), a);
        sv_snapshot_free(s);
}

static void test_oom_group_highest_ancestor_wins(void **state)
{
        struct sv_snapshot *s = domain(100 * MIB);
        int a = child(s, "/d/a", 0, true);
        int b = child(s, "/d/a/b", a, false);
        child(s, "/d/a/b/c", b, true);
        int t = task(s, 10, 100, 0);

        assert_int_equal(sv_oom_group(s, t, 0, NULL), a);
        sv_snapshot_free(s);
}

static void test_oom_group_flag_on_domain_itself(void **state)
{
        struct sv_snapshot *s = domain(100 * MIB);
        s->groups[0].oom_group = true;
        child(s, "/d/a", 0, true);
        int t = task(s, 10, 100, 0);

        assert_int_equal(sv_oom_group(s, t, 0, NULL), 0);
        sv_snapshot_free(s);
}

static void test_oom_group_walk_stops_at_oom_domain(void **state)
{
        struct sv_snapshot *s = domain(100 * MIB);
        s->groups[0].oom_group = true; /* above the OOMing memcg /d/a */
        int a = child(s, "/d/a", 0, false);
        int b = child(s, "/d/a/b", a, false);
        int t = task(s, 10, 100, 0);

        assert_int_equal(sv_oom_group(s, t, a, NULL), -1);
        s->groups[b].oom_group = true;
        assert_int_equal(sv_oom_group(s, t, a, NULL), b);
        sv_snapshot_free(s);
}

static void test_oom_group_victim_outside_domain(void **state)
{
        struct sv_snapshot *s = domain(100 * MIB);
        int a = child(s, "/d/a", 0, true);
        int b = child(s, "/d/b", 0, true);
        int t = task(s, 10, 100, 0);

        /* a victim that moved out of the OOM domain: the kernel ignores oom.group */
        assert_int_equal(sv_oom_group(s, t, a, NULL), -1);
        assert_int_equal(sv_oom_group(s, t, 0, NULL), b);
        sv_snapshot_free(s);
}

static void test_oom_group_victim_in_root_memcg(void **state)
{
        struct sv_snapshot *s = sv_snapshot_new("/", 4096);
        assert_int_equal(sv_snapshot_add_group(s, "/", -1, NULL), 0);
        int t = task(s, 10, 100, 0);

        s->groups[0].oom_group = true; /* cannot be set on the root; prove it is ignored */
        assert_int_equal(sv_oom_group(s, t, 0, NULL), -1);
        sv_snapshot_free(s);
}

static void test_oom_group_memoryless_child_uses_parent_memcg(void **state)
{
        struct sv_snapshot *s = domain(100 * MIB);
        int a = child(s, "/d/a", 0, true);
        int b = child(s, "/d/a/b", a, false);
        int t = task(s, 10, 100, 0);

        s->groups[b].memcg = false; /* no +memory in a's subtree_control */
        assert_int_equal(sv_snapshot_memcg_of(s, b), a);
        assert_int_equal(sv_oom_group(s, t, 0, NULL), a);
        sv_snapshot_free(s);
}

static void test_oom_group_extra_flags_act_like_oom_group(void **state)
{
        struct sv_snapshot *s = domain(100 * MIB);
        int a = child(s, "/d/a", 0, false);
        child(s, "/d/a/b", a, false);
        int t = task(s, 10, 100, 0);
        bool extra[3] = { false, true, false };

        assert_int_equal(sv_oom_group(s, t, 0, extra), a);
        sv_snapshot_free(s);
}

/* ---- the kill set: oom_kill_memcg_member() ----------------------------- */

static void test_kill_set_spares_adj_min_init_and_no_mm(void **state)
{
        struct sv_snapshot *s = domain(100 * MIB);
        task(s, 5, 50, 0); /* outside the group */
        child(s, "/d/g", 0, true);
        task(s, 40, 100, 0);
        task(s, 30, 9000, 0);
        task(s, 20, 100, SV_OOM_SCORE_ADJ_MIN);
        int z = task(s, 10, 0, 0);
        s->tasks[z].has_mm = false;
        task(s, 1, 10, 0);
        struct sv_oom_result *r = select0(s);

        assert_int_equal(victim_pid(s, r), 30);
        assert_string_equal(s->groups[r->kill_group].path, "/d/g");
        assert_int_equal(r->n_kill_tasks, 2);
        /* sorted by pid */
        assert_int_equal(s->tasks[r->kill_tasks[0]].pid, 30);
        assert_int_equal(s->tasks[r->kill_tasks[1]].pid, 40);
        sv_oom_result_free(r);
        sv_snapshot_free(s);
}

static void test_kill_set_without_group_is_victim_only(void **state)
{
        struct sv_snapshot *s = domain(100 * MIB);
        child(s, "/d/g", 0, false);
        task(s, 40, 100, 0);
        task(s, 30, 9000, 0);
        struct sv_oom_result *r = select0(s);

        assert_int_equal(r->kill_group, -1);
        assert_int_equal(r->n_kill_tasks, 1);
        assert_int_equal(s->tasks[r->kill_tasks[0]].pid, 30);
        sv_oom_result_free(r);
        sv_snapshot_free(s);
}

/* ---- the shipped fixture, end to end ---------------------------------- */

static void test_select_on_basic_fixture(void **state)
{
        struct sv_snapshot_opts o = { .cgroup_root = SV_FIXTURES "/basic/cgroup",
                                      .proc_root = SV_FIXTURES "/basic/proc", .page_size = 4096 };
        struct sv_snapshot *s = NULL;
        struct sv_error err = {};
        struct sv_oom_result *r;
        static const int want[] = { 300, 301, 302, 400 };

        assert_int_equal(sv_snapshot_take(&o, "work.slice/app", &s, &err), 0);
        r = select0(s);
        assert_int_equal(r->totalpages, 65536);
        /* python3: 28000 + 1500 + 500 rss + 120 kB of page tables = 30 pages */
        assert_int_equal(victim_pid(s, r), 301);
        assert_int_equal(r->victim_points, 30030);
        assert_string_equal(s->groups[r->kill_group].path, "/work.slice/app/web");
        assert_int_equal(r->n_kill_tasks, 4);
        for (size_t i = 0; i < 4; i++)
                assert_int_equal(s->tasks[r->kill_tasks[i]].pid, want[i]);
        sv_oom_result_free(r);
        sv_snapshot_free(s);
}

/* The daemon's kill-path snapshot reads only what the mirror needs, and
 * must reach the same decision. */
static void test_minimal_snapshot_same_decision(void **state)
{
        struct sv_snapshot_opts o = { .cgroup_root = SV_FIXTURES "/basic/cgroup",
                                      .proc_root = SV_FIXTURES "/basic/proc", .page_size = 4096,
                                      .minimal = true };
        struct sv_snapshot *s = NULL;
        struct sv_error err = {};
        struct sv_oom_result *r;

        assert_int_equal(sv_snapshot_take(&o, "work.slice/app", &s, &err), 0);
        assert_false(s->groups[0].have & SV_HAVE_STAT);
        assert_int_equal(s->groups[0].memory_max, 268435456);
        assert_true(s->groups[2].oom_group);
        r = select0(s);
        assert_int_equal(r->totalpages, 65536);
        assert_int_equal(victim_pid(s, r), 301);
        assert_string_equal(s->groups[r->kill_group].path, "/work.slice/app/web");
        assert_int_equal(r->n_kill_tasks, 4);
        sv_oom_result_free(r);
        sv_snapshot_free(s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_badness_adj_min_is_unkillable),
                cmocka_unit_test(test_badness_kernel_thread_is_unkillable),
                cmocka_unit_test(test_badness_global_init_is_unkillable),
                cmocka_unit_test(test_badness_task_without_mm_is_unkillable),
                cmocka_unit_test(test_badness_counts_rss_swap_and_pgtables),
                cmocka_unit_test(test_badness_adj_scales_with_integer_division_first),
                cmocka_unit_test(test_badness_negative_adj_is_not_clamped),
                cmocka_unit_test(test_totalpages_is_memory_max_in_pages),
                cmocka_unit_test(test_totalpages_adds_swap_max_capped_by_total_swap),
                cmocka_unit_test(test_totalpages_swappiness_zero_ignores_swap),
                cmocka_unit_test(test_totalpages_max_is_page_counter_max),
                cmocka_unit_test(test_totalpages_zero_limit_is_one),
                cmocka_unit_test(test_totalpages_root_is_ram_plus_swap),
                cmocka_unit_test(test_scan_picks_highest_points),
                cmocka_unit_test(test_scan_tie_goes_to_task_scanned_later),
                cmocka_unit_test(test_scan_is_preorder_parent_then_children),
                cmocka_unit_test(test_scan_skips_unkillable_even_if_largest),
                cmocka_unit_test(test_scan_negative_points_still_selected),
                cmocka_unit_test(test_scan_nothing_killable),
                cmocka_unit_test(test_scan_empty_domain),
                cmocka_unit_test(test_scan_only_within_oom_domain),
                cmocka_unit_test(test_oom_group_none_set),
                cmocka_unit_test(test_oom_group_on_victims_own_memcg),
                cmocka_unit_test(test_oom_group_highest_ancestor_wins),
                cmocka_unit_test(test_oom_group_flag_on_domain_itself),
                cmocka_unit_test(test_oom_group_walk_stops_at_oom_domain),
                cmocka_unit_test(test_oom_group_victim_outside_domain),
                cmocka_unit_test(test_oom_group_victim_in_root_memcg),
                cmocka_unit_test(test_oom_group_memoryless_child_uses_parent_memcg),
                cmocka_unit_test(test_oom_group_extra_flags_act_like_oom_group),
                cmocka_unit_test(test_kill_set_spares_adj_min_init_and_no_mm),
                cmocka_unit_test(test_kill_set_without_group_is_victim_only),
                cmocka_unit_test(test_select_on_basic_fixture),
                cmocka_unit_test(test_minimal_snapshot_same_decision),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
