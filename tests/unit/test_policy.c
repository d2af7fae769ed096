/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Policy plugins: the ABI helpers, views, the loader's refusals, and every
 * shipped policy on fixture snapshots (ties and empty domains included). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cgsentry/policy.h"
#include "cgsentry/supervise.h"
#include "policy-host.h"

#define FIX(name) SV_FIXTURES "/" name
#define MIB (1024ull * 1024)
#define SEC 1000000ull

/* ---- helpers ------------------------------------------------------------ */

static struct sv_snapshot *load(const char *path)
{
        struct sv_snapshot *s = NULL;
        struct sv_error err = {};
        int r = sv_snapshot_load_json(path, &s, &err);

        if (r < 0)
                fail_msg("%s: %s", path, err.what);
        return s;
}

static struct sv_policy_registry *registry(void)
{
        struct sv_policy_registry *reg = NULL;

        assert_int_equal(sv_policy_registry_new(CGSENTRY_POLICY_BUILD_DIR, &reg), 0);
        return reg;
}

static struct sv_policy_instance *instance(struct sv_policy_registry *reg, const char *name,
                                           const char *options)
{
        const struct sv_policy *p = NULL;
        struct sv_policy_instance *inst = NULL;
        struct sv_error err = {};

        if (sv_policy_registry_get(reg, name, &p, &err) < 0)
                fail_msg("%s: %s: %s", name, err.path, err.what);
        if (sv_policy_instance_new(p, options, &inst, &err) < 0)
                fail_msg("%s: %s", name, err.what);
        return inst;
}

struct choice {
        char group[64]; /* "" for nothing */
        int pid;        /* -1: whole group */
        char text[SV_POLICY_EXPLANATION_SIZE];
};

static struct choice choose_at(struct sv_policy_instance *inst, const struct sv_snapshot *s,
                               uint64_t now, struct sv_policy_view **keep)
{
        struct sv_policy_view_opts o = {.now_usec = now};
        struct sv_policy_view *v = NULL;
        struct sv_policy_decision d;
        struct sv_error err = {};
        struct choice c = {.pid = -1};

        assert_int_equal(sv_policy_view_new(s, 0, &o, &v), 0);
        if (keep && *keep) {
                /* Carry over flags set by the caller on an earlier view. */
                const struct cgsentry_view *old = sv_policy_view_get(*keep);
                for (uint32_t i = 0; i < old->n_groups; i++)
                        sv_policy_view_set_group_flags(
                                v, (int)i,
                                cgsentry_view_group(old, i)->flags &
                                        (CGSENTRY_GROUP_PREFER | CGSENTRY_GROUP_AVOID),
                                0);
        }
        if (sv_policy_choose(inst, v, &d, &err) < 0)
                fail_msg("choose: %s", err.what);
        if (d.group >= 0)
                snprintf(c.group, sizeof(c.group), "%s", s->groups[d.group].path);
        if (d.task >= 0)
                c.pid = s->tasks[d.task].pid;
        snprintf(c.text, sizeof(c.text), "%s", d.explanation);
        sv_policy_view_free(v);
        return c;
}

static struct choice run_policy(const char *name, const char *options, const char *fixture)
{
        struct sv_policy_registry *reg = registry();
        struct sv_policy_instance *inst = instance(reg, name, options);
        struct sv_snapshot *s = load(fixture);
        struct choice c = choose_at(inst, s, 0, NULL);

        sv_snapshot_free(s);
        sv_policy_instance_free(inst);
        sv_policy_registry_free(reg);
        return c;
}

static void assert_contains(const char *haystack, const char *needle)
{
        if (!strstr(haystack, needle))
                fail_msg("\"%s\" does not contain \"%s\"", haystack, needle);
}

/* ---- header helpers ----------------------------------------------------- */

static void test_options_parse(void **state)
{
        const char *cur = "window=10s  fallback=none\tpriority=/a:1,b:2=x";
        char k[16], v[32];

        assert_int_equal(cgsentry_options_next(&cur, k, sizeof(k), v, sizeof(v)), 1);
        assert_string_equal(k, "window");
        assert_string_equal(v, "10s");
        assert_int_equal(cgsentry_options_next(&cur, k, sizeof(k), v, sizeof(v)), 1);
        assert_string_equal(k, "fallback");
        assert_string_equal(v, "none");
        assert_int_equal(cgsentry_options_next(&cur, k, sizeof(k), v, sizeof(v)), 1);
        assert_string_equal(k, "priority");
        assert_string_equal(v, "/a:1,b:2=x");
        assert_int_equal(cgsentry_options_next(&cur, k, sizeof(k), v, sizeof(v)), 0);

        cur = "typo";
        assert_int_equal(cgsentry_options_next(&cur, k, sizeof(k), v, sizeof(v)), -EINVAL);
        cur = "=1";
        assert_int_equal(cgsentry_options_next(&cur, k, sizeof(k), v, sizeof(v)), -EINVAL);
        cur = "averyveryverylongkey=1";
        assert_int_equal(cgsentry_options_next(&cur, k, sizeof(k), v, sizeof(v)), -ENAMETOOLONG);
        cur = "";
        assert_int_equal(cgsentry_options_next(&cur, k, sizeof(k), v, sizeof(v)), 0);
}

static void test_duration_parse(void **state)
{
        uint64_t u = 0;

        assert_int_equal(cgsentry_parse_duration_usec("10s", &u), 0);
        assert_true(u == 10 * SEC);
        assert_int_equal(cgsentry_parse_duration_usec("10", &u), 0);
        assert_true(u == 10 * SEC);
        assert_int_equal(cgsentry_parse_duration_usec("500ms", &u), 0);
        assert_true(u == 500000);
        assert_int_equal(cgsentry_parse_duration_usec("2m", &u), 0);
        assert_true(u == 120 * SEC);
        assert_int_equal(cgsentry_parse_duration_usec("7us", &u), 0);
        assert_true(u == 7);
        assert_int_equal(cgsentry_parse_duration_usec("1.5s", &u), 0);
        assert_true(u == 1500000);
        assert_int_equal(cgsentry_parse_duration_usec("2min", &u), 0);
        assert_true(u == 120 * SEC);
        assert_int_equal(cgsentry_parse_duration_usec("1h", &u), 0);
        assert_true(u == 3600 * SEC);
        assert_int_equal(cgsentry_parse_duration_usec("0.0000001s", &u), 0);
        assert_true(u == 0);
        assert_int_equal(cgsentry_parse_duration_usec("10d", &u), -EINVAL);
        assert_int_equal(cgsentry_parse_duration_usec("s", &u), -EINVAL);
        assert_int_equal(cgsentry_parse_duration_usec("", &u), -EINVAL);
        assert_int_equal(cgsentry_parse_duration_usec("-1s", &u), -EINVAL);
        assert_int_equal(cgsentry_parse_duration_usec("+1s", &u), -EINVAL);
        assert_int_equal(cgsentry_parse_duration_usec(" 1s", &u), -EINVAL);
        assert_int_equal(cgsentry_parse_duration_usec("1 s", &u), -EINVAL);
        assert_int_equal(cgsentry_parse_duration_usec("1.s", &u), -EINVAL);
        assert_int_equal(cgsentry_parse_duration_usec(".5s", &u), -EINVAL);
        assert_int_equal(cgsentry_parse_duration_usec("1.2.3s", &u), -EINVAL);
        assert_int_equal(cgsentry_parse_duration_usec("nan", &u), -EINVAL);
        assert_int_equal(cgsentry_parse_duration_usec("inf", &u), -EINVAL);
        assert_int_equal(cgsentry_parse_duration_usec("1e30", &u), -EINVAL);
        assert_int_equal(cgsentry_parse_duration_usec("0x10", &u), -EINVAL);
        assert_int_equal(cgsentry_parse_duration_usec("1.0000000001s", &u), -EINVAL);
        assert_int_equal(cgsentry_parse_duration_usec("99999999999999999999", &u), -ERANGE);
        /* 2^64 us is about 584,942 years */
        assert_int_equal(cgsentry_parse_duration_usec("5124096h", &u), 0);
        assert_int_equal(cgsentry_parse_duration_usec("5124096000h", &u), -ERANGE);
        assert_true(u == 5124096ull * 3600 * SEC); /* untouched on failure */
}

static void test_percent_parse(void **state)
{
        uint32_t p = 0;

        assert_int_equal(cgsentry_parse_percent("90%", &p), 0);
        assert_int_equal(p, 9000);
        assert_int_equal(cgsentry_parse_percent("90.5%", &p), 0);
        assert_int_equal(p, 9050);
        assert_int_equal(cgsentry_parse_percent("12.25", &p), 0);
        assert_int_equal(p, 1225);
        assert_int_equal(cgsentry_parse_percent("100%", &p), 0);
        assert_int_equal(p, 10000);
        assert_int_equal(cgsentry_parse_percent("0.01%", &p), 0);
        assert_int_equal(p, 1);
        assert_int_equal(cgsentry_parse_percent("0.001%", &p), -EINVAL);
        assert_int_equal(cgsentry_parse_percent("0%", &p), -ERANGE);
        assert_int_equal(cgsentry_parse_percent("100.01%", &p), -ERANGE);
        assert_int_equal(cgsentry_parse_percent("1e30%", &p), -EINVAL);
        assert_int_equal(cgsentry_parse_percent("nan%", &p), -EINVAL);
        assert_int_equal(cgsentry_parse_percent("inf%", &p), -EINVAL);
        assert_int_equal(cgsentry_parse_percent("-5%", &p), -EINVAL);
        assert_int_equal(cgsentry_parse_percent("5%%", &p), -EINVAL);
        assert_int_equal(cgsentry_parse_percent("5 %", &p), -EINVAL);
        assert_int_equal(cgsentry_parse_percent("99999999999999999999%", &p), -ERANGE);
        assert_int_equal(p, 1); /* untouched on failure */
}

/* ---- views -------------------------------------------------------------- */

static void test_view_candidates_are_children_with_killable_tasks(void **state)
{
        struct sv_snapshot *s = load(FIX("policy-pool.json"));
        struct sv_policy_view *pv = NULL;
        const struct cgsentry_view *v;
        static const char *const want[] = {"/pool/a", "/pool/b", "/pool/c", "/pool/f"};

        assert_int_equal(sv_policy_view_new(s, 0, NULL, &pv), 0);
        v = sv_policy_view_get(pv);
        assert_int_equal(v->struct_size, sizeof(struct cgsentry_view));
        assert_int_equal(v->group_size, sizeof(struct cgsentry_group));
        assert_int_equal(v->task_size, sizeof(struct cgsentry_task));
        assert_string_equal(v->domain, "/pool");
        assert_int_equal(v->n_groups, 8);
        assert_int_equal(v->n_tasks, 6);
        /* d has only a -1000 task, e has none: not candidates. */
        assert_int_equal(v->n_candidates, 4);
        for (uint32_t i = 0; i < 4; i++) {
                const struct cgsentry_group *g = cgsentry_view_group(v, v->candidates[i]);
                assert_string_equal(g->path, want[i]);
                assert_true(g->flags & CGSENTRY_GROUP_CANDIDATE);
        }
        /* /pool/c's subtree holds /pool/c/sub and both processes. */
        assert_int_equal(cgsentry_view_group(v, 3)->subtree_end, 5);
        assert_int_equal(cgsentry_view_group(v, 3)->subtree_tasks, 2);
        assert_int_equal(cgsentry_view_group(v, 0)->subtree_end, 8);
        assert_int_equal(cgsentry_view_group(v, 0)->subtree_tasks, 6);
        assert_int_equal(cgsentry_view_group(v, 4)->parent, 3);
        assert_true(cgsentry_view_group(v, 3)->flags & CGSENTRY_GROUP_OOM_GROUP);
        /* The badness the plugin sees is the kernel mirror's. */
        for (uint32_t i = 0; i < v->n_tasks; i++)
                assert_true(cgsentry_view_task(v, i)->badness ==
                            sv_oom_badness(s, &s->tasks[i], v->totalpages, NULL));
        assert_true(cgsentry_view_task(v, 4)->badness == CGSENTRY_BADNESS_UNKILLABLE);
        sv_policy_view_free(pv);
        sv_snapshot_free(s);
}

static void test_view_of_a_subtree_rebases_indexes(void **state)
{
        struct sv_snapshot *s = load(FIX("policy-pool.json"));
        struct sv_policy_view *pv = NULL;
        const struct cgsentry_view *v;

        assert_int_equal(sv_policy_view_new(s, 3, NULL, &pv), 0);
        v = sv_policy_view_get(pv);
        assert_string_equal(v->domain, "/pool/c");
        assert_int_equal(v->n_groups, 2);
        assert_int_equal(v->n_tasks, 2);
        assert_int_equal(cgsentry_view_group(v, 0)->parent, -1);
        assert_int_equal(cgsentry_view_group(v, 1)->parent, 0);
        assert_int_equal(cgsentry_view_group(v, 1)->depth, 1);
        assert_int_equal(cgsentry_view_task(v, 1)->pid, 31);
        assert_int_equal(cgsentry_view_task(v, 1)->group, 1);
        assert_int_equal(v->n_candidates, 1);
        assert_int_equal(v->candidates[0], 1);
        sv_policy_view_free(pv);
        sv_snapshot_free(s);
}

static void test_view_domain_itself_when_no_child_has_tasks(void **state)
{
        struct sv_snapshot *s = load(FIX("policy-flat.json"));
        struct sv_policy_view *pv = NULL;

        assert_int_equal(sv_policy_view_new(s, 0, NULL, &pv), 0);
        assert_int_equal(sv_policy_view_get(pv)->n_candidates, 1);
        assert_int_equal(sv_policy_view_get(pv)->candidates[0], 0);
        sv_policy_view_free(pv);
        sv_snapshot_free(s);
}

/* The prefer/avoid xattrs come from the snapshot (its reader read them):
 * building a view does no I/O. */
static void test_view_carries_xattr_flags(void **state)
{
        struct sv_snapshot *s = load(FIX("policy-pool.json"));
        struct sv_policy_view *pv = NULL;
        const struct cgsentry_view *v;

        s->groups[7].prefer = true;
        s->groups[2].avoid = true;
        assert_int_equal(sv_policy_view_new(s, 0, NULL, &pv), 0);
        v = sv_policy_view_get(pv);
        assert_true(cgsentry_view_group(v, 7)->flags & CGSENTRY_GROUP_PREFER);
        assert_false(cgsentry_view_group(v, 7)->flags & CGSENTRY_GROUP_AVOID);
        assert_true(cgsentry_view_group(v, 2)->flags & CGSENTRY_GROUP_AVOID);
        assert_false(cgsentry_view_group(v, 2)->flags & CGSENTRY_GROUP_PREFER);
        assert_false(cgsentry_view_group(v, 1)->flags &
                     (CGSENTRY_GROUP_PREFER | CGSENTRY_GROUP_AVOID));
        sv_policy_view_free(pv);
        sv_snapshot_free(s);
}

/* ---- kernel ------------------------------------------------------------- */

static void check_kernel_matches_mirror(const char *name, bool plugin, const char *fixture)
{
        struct sv_policy_registry *reg = registry();
        struct sv_snapshot *s = load(fixture);
        struct sv_oom_result *r = NULL;
        const struct sv_policy *p = NULL;
        struct sv_policy_instance *inst = NULL;
        struct sv_error err = {};
        struct choice c;

        if (plugin)
                assert_int_equal(sv_policy_registry_load_file(reg,
                                                              CGSENTRY_POLICY_BUILD_DIR
                                                              "/cgsentry-policy-kernel.so",
                                                              &p, &err),
                                 0);
        else
                assert_int_equal(sv_policy_registry_get(reg, name, &p, &err), 0);
        assert_int_equal(sv_policy_instance_new(p, NULL, &inst, &err), 0);
        c = choose_at(inst, s, 0, NULL);
        assert_int_equal(sv_oom_select(s, 0, &r), 0);
        if (r->victim < 0) {
                assert_string_equal(c.group, "");
                assert_int_equal(c.pid, -1);
        } else {
                int g = r->kill_group >= 0 ? r->kill_group : s->tasks[r->victim].group;
                assert_int_equal(c.pid, s->tasks[r->victim].pid);
                assert_string_equal(c.group, s->groups[g].path);
        }
        sv_oom_result_free(r);
        sv_policy_instance_free(inst);
        sv_policy_registry_free(reg);
        sv_snapshot_free(s);
}

static void test_kernel_builtin_and_plugin_are_the_mirror(void **state)
{
        static const char *const fixtures[] = {
                FIX("policy-pool.json"), FIX("policy-ties.json"),  FIX("policy-empty.json"),
                FIX("policy-flat.json"), FIX("json/minimal.json"),
        };
        for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
                check_kernel_matches_mirror("kernel", false, fixtures[i]);
                check_kernel_matches_mirror("kernel", true, fixtures[i]);
        }
}

static void test_kernel_names_victim_and_oom_group(void **state)
{
        struct choice c = run_policy("kernel", NULL, FIX("policy-pool.json"));

        /* c-hog (400000 kB) outscores a-big; /pool/c has memory.oom.group. */
        assert_string_equal(c.group, "/pool/c");
        assert_int_equal(c.pid, 31);
        assert_contains(c.text, "memory.oom.group widens the kill to /pool/c");

        /* Without oom.group the victim's own cgroup is named. */
        c = run_policy("kernel", NULL, FIX("policy-flat.json"));
        assert_string_equal(c.group, "/flat");
        assert_int_equal(c.pid, 6);
        assert_contains(c.text, "no memory.oom.group");
}

static void test_builtin_kernel_is_not_loaded_from_disk(void **state)
{
        struct sv_policy_registry *reg = NULL;
        const struct sv_policy *p = NULL;
        struct sv_policy_info info;
        struct sv_error err = {};

        assert_int_equal(sv_policy_registry_new("/nonexistent-policy-dir", &reg), 0);
        assert_int_equal(sv_policy_registry_get(reg, "kernel", &p, &err), 0);
        sv_policy_get_info(p, &info);
        assert_true(info.builtin);
        assert_null(info.path);
        assert_int_equal(info.abi_major, CGSENTRY_POLICY_ABI_MAJOR);
        assert_int_equal(sv_policy_registry_scan(reg), -ENOENT);
        sv_policy_registry_free(reg);
        assert_non_null(strstr(sv_policy_default_dir(), "/cgsentry/policies"));
}

/* ---- largest, swap, pressure -------------------------------------------- */

static void test_largest(void **state)
{
        struct choice c = run_policy("largest", NULL, FIX("policy-pool.json"));

        /* d (500 MiB) is larger but has nothing killable. */
        assert_string_equal(c.group, "/pool/a");
        assert_int_equal(c.pid, -1);
        assert_contains(c.text, "/pool/a uses 300.0 MiB of memory");
        assert_contains(c.text, "the most of 4 candidates");
}

static void test_largest_tie_goes_to_swap_then_preorder(void **state)
{
        /* x, y, z use 100 MiB each; y and z 20 MiB of swap: y, the first. */
        struct choice c = run_policy("largest", NULL, FIX("policy-ties.json"));

        assert_string_equal(c.group, "/t/y");
        assert_contains(c.text, "tied with 1 other, the first in pre-order wins");
}

static void test_largest_without_memory_files_counts_rss(void **state)
{
        struct sv_snapshot *s = load(FIX("policy-pool.json"));
        struct sv_policy_registry *reg = registry();
        struct sv_policy_instance *inst = instance(reg, "largest", "");
        struct choice c;

        /* Without memory.current, /pool/c counts its processes: 420000 kB. */
        for (size_t i = 0; i < s->n_groups; i++)
                s->groups[i].have &= ~SV_HAVE_MEMORY;
        c = choose_at(inst, s, 0, NULL);
        assert_string_equal(c.group, "/pool/c");
        sv_policy_instance_free(inst);
        sv_policy_registry_free(reg);
        sv_snapshot_free(s);
}

static void test_swap(void **state)
{
        struct choice c = run_policy("swap", NULL, FIX("policy-pool.json"));

        assert_string_equal(c.group, "/pool/b");
        assert_contains(c.text, "/pool/b uses 80.0 MiB of swap");

        /* y and z tie on swap and memory: the first in pre-order. */
        c = run_policy("swap", NULL, FIX("policy-ties.json"));
        assert_string_equal(c.group, "/t/y");
        assert_contains(c.text, "tied with 1 other");

        /* Nobody swaps: nothing. */
        c = run_policy("swap", NULL, FIX("policy-flat.json"));
        assert_string_equal(c.group, "");
        assert_contains(c.text, "uses swap");
}

static void test_pressure(void **state)
{
        struct choice c = run_policy("pressure", NULL, FIX("policy-pool.json"));

        /* f: full 30 beats b's full 20, although c has the highest "some". */
        assert_string_equal(c.group, "/pool/f");
        assert_contains(c.text, "full avg10=30.00");

        /* Equal on full, some and memory: the first in pre-order. */
        c = run_policy("pressure", NULL, FIX("policy-ties.json"));
        assert_string_equal(c.group, "/t/x");
        assert_contains(c.text, "tied with 2 others");
}

static void test_pressure_some_breaks_full_tie(void **state)
{
        struct sv_snapshot *s = load(FIX("policy-ties.json"));
        struct sv_policy_registry *reg = registry();
        struct sv_policy_instance *inst = instance(reg, "pressure", NULL);
        struct choice c;

        s->groups[3].pressure.some.avg10 = 10.5;
        c = choose_at(inst, s, 0, NULL);
        assert_string_equal(c.group, "/t/z");
        sv_policy_instance_free(inst);
        sv_policy_registry_free(reg);
        sv_snapshot_free(s);
}

static void test_every_policy_on_an_empty_domain(void **state)
{
        static const char *const names[] = {"kernel",   "largest", "growth",
                                            "pressure", "swap",    "priority"};
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
                struct choice c = run_policy(names[i], NULL, FIX("policy-empty.json"));
                assert_string_equal(c.group, "");
                assert_int_equal(c.pid, -1);
                assert_true(c.text[0]);
        }
}

/* ---- growth ------------------------------------------------------------- */

static void test_growth_picks_fastest_over_window(void **state)
{
        struct sv_snapshot *s = load(FIX("policy-pool.json"));
        struct sv_policy_registry *reg = registry();
        struct sv_policy_instance *inst = instance(reg, "growth", "window=10s");
        struct choice c;

        /* First sight: no history, so largest decides. */
        c = choose_at(inst, s, 100 * SEC, NULL);
        assert_string_equal(c.group, "/pool/a");
        assert_contains(c.text, "no candidate grew within the 10.0 s window, so largest decides");

        /* 2 s later b grew by 40 MiB, f by 10 MiB, a shrank. */
        s->groups[2].memory_current += 40 * MIB;
        s->groups[7].memory_current += 10 * MIB;
        s->groups[1].memory_current -= 50 * MIB;
        c = choose_at(inst, s, 102 * SEC, NULL);
        assert_string_equal(c.group, "/pool/b");
        assert_contains(c.text, "/pool/b grew by 40.0 MiB in 2.0 s (20.0 MiB/s)");

        /* f then grows by 100 MiB in 2 s: from its oldest sample in the window
         * (100 s), 110 MiB in 4 s beats b's 40 MiB in 4 s. */
        s->groups[7].memory_current += 100 * MIB;
        c = choose_at(inst, s, 104 * SEC, NULL);
        assert_string_equal(c.group, "/pool/f");

        /* 30 s later everything older fell out of the window: largest again. */
        c = choose_at(inst, s, 134 * SEC, NULL);
        assert_contains(c.text, "no candidate grew");
        sv_policy_instance_free(inst);
        sv_policy_registry_free(reg);
        sv_snapshot_free(s);
}

/* Two calls in the same microsecond, or a clock that went back, give no
 * rate (no division by zero, no infinite rate cast to an integer); a huge
 * jump in a tiny time gives a finite figure. */
static void test_growth_without_time_passing(void **state)
{
        struct sv_snapshot *s = load(FIX("policy-pool.json"));
        struct sv_policy_registry *reg = registry();
        struct sv_policy_instance *inst = instance(reg, "growth", "fallback=none");
        struct choice c;

        c = choose_at(inst, s, 10 * SEC, NULL);
        s->groups[2].memory_current += 40 * MIB;
        c = choose_at(inst, s, 10 * SEC, NULL);
        assert_string_equal(c.group, "");
        c = choose_at(inst, s, 9 * SEC, NULL);
        assert_string_equal(c.group, "");
        s->groups[2].memory_current = UINT64_MAX / 2;
        c = choose_at(inst, s, 10 * SEC + 1, NULL);
        assert_string_equal(c.group, "/pool/b");
        assert_contains(c.text, "/s)");
        sv_policy_instance_free(inst);
        sv_policy_registry_free(reg);
        sv_snapshot_free(s);
}

static void test_growth_tie_and_recreated_group(void **state)
{
        struct sv_snapshot *s = load(FIX("policy-ties.json"));
        struct sv_policy_registry *reg = registry();
        struct sv_policy_instance *inst = instance(reg, "growth", "fallback=none");
        struct choice c;

        c = choose_at(inst, s, 1 * SEC, NULL);
        assert_string_equal(c.group, "");
        assert_contains(c.text, "fallback=none");

        /* y and z grow equally: y, the first in pre-order. */
        s->groups[2].memory_current += 8 * MIB;
        s->groups[3].memory_current += 8 * MIB;
        c = choose_at(inst, s, 2 * SEC, NULL);
        assert_string_equal(c.group, "/t/y");

        /* z is deleted and re-created (new inode) at a higher usage: it has no
         * history, so its jump is not growth; y still wins. */
        s->groups[3].ino = 99;
        s->groups[3].memory_current += 500 * MIB;
        s->groups[2].memory_current += 1 * MIB;
        c = choose_at(inst, s, 3 * SEC, NULL);
        assert_string_equal(c.group, "/t/y");
        sv_policy_instance_free(inst);
        sv_policy_registry_free(reg);
        sv_snapshot_free(s);
}

static void test_growth_rejects_bad_options(void **state)
{
        struct sv_policy_registry *reg = registry();
        const struct sv_policy *p = NULL;
        struct sv_policy_instance *inst = NULL;
        struct sv_error err = {};

        assert_int_equal(sv_policy_registry_get(reg, "growth", &p, &err), 0);
        assert_int_equal(sv_policy_instance_new(p, "window=0s", &inst, &err), -EINVAL);
        assert_contains(err.what, "window=0s: not a positive duration");
        assert_int_equal(sv_policy_instance_new(p, "windw=1s", &inst, &err), -EINVAL);
        assert_contains(err.what, "unknown option 'windw'");
        assert_int_equal(sv_policy_instance_new(p, "fallback=kernel", &inst, &err), -EINVAL);
        assert_contains(err.what, "fallback=kernel");
        assert_null(inst);
        sv_policy_registry_free(reg);
}

/* ---- priority ----------------------------------------------------------- */

static struct choice priority_with_flags(const char *options, int prefer, int avoid)
{
        struct sv_snapshot *s = load(FIX("policy-pool.json"));
        struct sv_policy_registry *reg = registry();
        struct sv_policy_instance *inst = instance(reg, "priority", options);
        struct sv_policy_view *flags = NULL;
        struct choice c;

        assert_int_equal(sv_policy_view_new(s, 0, NULL, &flags), 0);
        if (prefer >= 0)
                assert_int_equal(
                        sv_policy_view_set_group_flags(flags, prefer, CGSENTRY_GROUP_PREFER, 0), 0);
        if (avoid >= 0)
                assert_int_equal(
                        sv_policy_view_set_group_flags(flags, avoid, CGSENTRY_GROUP_AVOID, 0), 0);
        c = choose_at(inst, s, 0, &flags);
        sv_policy_view_free(flags);
        sv_policy_instance_free(inst);
        sv_policy_registry_free(reg);
        sv_snapshot_free(s);
        return c;
}

static void test_priority(void **state)
{
        struct choice c;

        /* Nothing marked: largest among all. */
        c = priority_with_flags(NULL, -1, -1);
        assert_string_equal(c.group, "/pool/a");
        assert_contains(c.text, "priority 0");

        /* f (the smallest) is preferred. */
        c = priority_with_flags(NULL, 7, -1);
        assert_string_equal(c.group, "/pool/f");
        assert_contains(c.text, "/pool/f has priority 100 (prefer)");

        /* a is avoided: the largest of the rest, c. */
        c = priority_with_flags(NULL, -1, 1);
        assert_string_equal(c.group, "/pool/c");

        /* priority= outweighs the xattr; by last component or full path. */
        c = priority_with_flags("priority=b:150", 7, -1);
        assert_string_equal(c.group, "/pool/b");
        c = priority_with_flags("priority=/pool/b:150,/pool/f:60", 7, -1);
        assert_string_equal(c.group, "/pool/f");

        /* Equal weights: the fallback ranks them. */
        c = priority_with_flags("priority=b:100 fallback=pressure", 7, -1);
        assert_string_equal(c.group, "/pool/f");
        c = priority_with_flags("priority=b:100 fallback=swap", 7, -1);
        assert_string_equal(c.group, "/pool/b");
        assert_contains(c.text, "swap decides among the 2 with that priority");

        /* A smaller prefer weight no longer beats an avoid on the others. */
        c = priority_with_flags("prefer=5 avoid=1000", 7, 1);
        assert_string_equal(c.group, "/pool/f");
}

static void test_priority_tie_and_bad_options(void **state)
{
        struct sv_policy_registry *reg = registry();
        const struct sv_policy *p = NULL;
        struct sv_policy_instance *inst = NULL;
        struct sv_error err = {};
        struct choice c = run_policy("priority", "priority=x:1,z:1", FIX("policy-ties.json"));

        /* x and z weigh 1; largest: z has more swap. */
        assert_string_equal(c.group, "/t/z");

        assert_int_equal(sv_policy_registry_get(reg, "priority", &p, &err), 0);
        assert_int_equal(sv_policy_instance_new(p, "priority=web", &inst, &err), -EINVAL);
        assert_contains(err.what, "'web' is not PATH:WEIGHT");
        assert_int_equal(sv_policy_instance_new(p, "prefer=lots", &inst, &err), -EINVAL);
        assert_contains(err.what, "prefer=lots");
        assert_int_equal(sv_policy_instance_new(p, "fallback=growth", &inst, &err), -EINVAL);
        assert_contains(err.what, "fallback=growth");
        sv_policy_registry_free(reg);
}

/* ---- the loader ----------------------------------------------------------- */

static int load_test_plugin(const char *file, struct sv_error *err)
{
        struct sv_policy_registry *reg = registry();
        const struct sv_policy *p = NULL;
        int r;

        r = sv_policy_registry_load_file(reg, file, &p, err);
        sv_policy_registry_free(reg);
        return r;
}

#define BAD(name) SV_TEST_POLICY_DIR "/cgsentry-policy-" name ".so"

static void test_loader_refuses_other_abi_major(void **state)
{
        struct sv_error err = {};

        assert_int_equal(load_test_plugin(BAD("bad-abi"), &err), -EPROTONOSUPPORT);
        assert_string_equal(err.path, BAD("bad-abi"));
        assert_string_equal(err.what, "policy ABI 2.0 is not supported (this cgsentry speaks "
                                      "ABI 1.x)");
}

static void test_loader_refuses_missing_entry_symbol(void **state)
{
        struct sv_error err = {};

        assert_int_equal(load_test_plugin(BAD("bad-nosym"), &err), -ENOEXEC);
        assert_string_equal(err.path, BAD("bad-nosym"));
        assert_string_equal(err.what,
                            "not a cgsentry policy plugin: no symbol cgsentry_policy_entry");
}

static void test_loader_refuses_small_descriptor(void **state)
{
        struct sv_error err = {};
        char want[128];

        assert_int_equal(load_test_plugin(BAD("bad-size"), &err), -ENOEXEC);
        snprintf(want, sizeof(want), "policy descriptor is 16 bytes, ABI 1.0 needs at least %zu",
                 offsetof(struct cgsentry_policy, destroy) + sizeof(void *));
        assert_string_equal(err.what, want);
}

static void test_loader_accepts_newer_minor(void **state)
{
        struct sv_policy_registry *reg = registry();
        const struct sv_policy *p = NULL;
        struct sv_policy_instance *inst = NULL;
        struct sv_policy_info info;
        struct sv_error err = {};
        struct sv_snapshot *s = load(FIX("policy-pool.json"));
        struct choice c;

        assert_int_equal(sv_policy_registry_load_file(reg, BAD("newer-minor"), &p, &err), 0);
        sv_policy_get_info(p, &info);
        assert_string_equal(info.name, "newer-minor");
        assert_string_equal(info.version, "9.9");
        assert_int_equal(info.abi_minor, CGSENTRY_POLICY_ABI_MINOR + 7);
        assert_int_equal(sv_policy_instance_new(p, "", &inst, &err), 0);
        c = choose_at(inst, s, 0, NULL);
        assert_string_equal(c.group, "/pool/f");
        sv_policy_instance_free(inst);
        sv_policy_registry_free(reg);
        sv_snapshot_free(s);
}

/* Copy a plugin into a fresh directory so its mode and owner can change. */
static void copy_plugin(const char *from, char *dir, char *to, size_t to_size)
{
        char buf[65536];
        ssize_t n;
        int in, out;

        assert_non_null(mkdtemp(dir));
        snprintf(to, to_size, "%s/cgsentry-policy-largest.so", dir);
        in = open(from, O_RDONLY | O_CLOEXEC);
        out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        assert_true(in >= 0 && out >= 0);
        while ((n = read(in, buf, sizeof(buf))) > 0)
                assert_int_equal(write(out, buf, (size_t)n), n);
        close(in);
        close(out);
}

static void test_loader_refuses_world_writable(void **state)
{
        char dir[] = "/tmp/cgsentry-policy-wwXXXXXX", path[256];
        struct sv_error err = {};

        copy_plugin(CGSENTRY_POLICY_BUILD_DIR "/cgsentry-policy-largest.so", dir, path,
                    sizeof(path));
        assert_int_equal(load_test_plugin(path, &err), 0);
        assert_int_equal(chmod(path, 0666), 0);
        assert_int_equal(load_test_plugin(path, &err), -EPERM);
        assert_string_equal(err.path, path);
        assert_string_equal(err.what, "refusing to load a world-writable policy plugin");

        /* The same through a lookup by name, as the daemon does. */
        {
                struct sv_policy_registry *reg = NULL;
                const struct sv_policy *p = NULL;
                assert_int_equal(sv_policy_registry_new(dir, &reg), 0);
                memset(&err, 0, sizeof(err));
                assert_int_equal(sv_policy_registry_get(reg, "largest", &p, &err), -EPERM);
                assert_string_equal(err.path, path);
                /* A scan lists it as broken, with the reason. */
                assert_int_equal(sv_policy_registry_scan(reg), 1);
                {
                        struct sv_policy_info info;
                        assert_int_equal(sv_policy_registry_info(reg, 1, &info), 0);
                        assert_null(info.name);
                        assert_string_equal(info.path, path);
                        assert_string_equal(info.error,
                                            "refusing to load a world-writable policy plugin");
                }
                sv_policy_registry_free(reg);
        }

        /* A world-writable directory without the sticky bit is refused too. */
        assert_int_equal(chmod(path, 0644), 0);
        assert_int_equal(chmod(dir, 0777), 0);
        assert_int_equal(load_test_plugin(path, &err), -EPERM);
        assert_true(strncmp(err.what, "refusing to load a policy plugin from /tmp/cgsentry-policy-ww",
                            61) == 0);
        assert_non_null(strstr(err.what, ": a world-writable directory (owner uid 0, mode 0777)"));
        unlink(path);
        rmdir(dir);
}

/* Group write access is as good as ownership to whoever is in the group:
 * the plugin, its directory and every directory above it must not have it
 * (sshd's rule for its keys). */
static void test_loader_refuses_group_writable_chain(void **state)
{
        char top[] = "/tmp/cgsentry-policy-gwXXXXXX", dir[300], path[400], link[400];
        struct sv_error err = {};

        assert_non_null(mkdtemp(top));
        snprintf(dir, sizeof(dir), "%s/lib", top);
        assert_int_equal(mkdir(dir, 0755), 0);
        {
                char d2[] = "/tmp/cgsentry-policy-tmpXXXXXX", tmp[256];
                copy_plugin(CGSENTRY_POLICY_BUILD_DIR "/cgsentry-policy-largest.so", d2, tmp,
                            sizeof(tmp));
                snprintf(path, sizeof(path), "%s/cgsentry-policy-largest.so", dir);
                assert_int_equal(rename(tmp, path), 0);
                rmdir(d2);
        }
        assert_int_equal(load_test_plugin(path, &err), 0);

        assert_int_equal(chmod(path, 0664), 0);
        assert_int_equal(load_test_plugin(path, &err), -EPERM);
        assert_string_equal(err.what, "refusing to load a group-writable policy plugin");
        assert_int_equal(chmod(path, 0644), 0);

        assert_int_equal(chmod(dir, 0775), 0);
        assert_int_equal(load_test_plugin(path, &err), -EPERM);
        assert_non_null(strstr(err.what, "/lib: a group-writable directory (owner uid 0, mode "
                                         "0775)"));
        assert_int_equal(chmod(dir, 0755), 0);

        /* A directory higher up, not only the plugin's own. */
        assert_int_equal(chmod(top, 0775), 0);
        assert_int_equal(load_test_plugin(path, &err), -EPERM);
        assert_non_null(strstr(err.what, ": a group-writable directory"));
        assert_null(strstr(err.what, "/lib:"));
        assert_int_equal(chmod(top, 0700), 0);

        if (geteuid() == 0) {
                /* An ancestor owned by someone else can be re-linked by them. */
                assert_int_equal(chown(top, 4321, 4321), 0);
                assert_int_equal(load_test_plugin(path, &err), -EPERM);
                assert_non_null(strstr(err.what, ": owned by another user (owner uid 4321"));
                assert_int_equal(chown(top, 0, 0), 0);
        }

        /* The plugin itself may not be a symbolic link (what it points to
         * could be swapped after the check)... */
        snprintf(link, sizeof(link), "%s/cgsentry-policy-linked.so", dir);
        assert_int_equal(symlink(path, link), 0);
        assert_int_equal(load_test_plugin(link, &err), -ELOOP);
        assert_string_equal(err.what,
                            "refusing to load a policy plugin that is a symbolic link");
        unlink(link);
        /* ...but a directory reached through a link is checked where it
         * really is, and loads when that is safe. */
        snprintf(link, sizeof(link), "%s/via", top);
        assert_int_equal(symlink("lib", link), 0);
        snprintf(link, sizeof(link), "%s/via/cgsentry-policy-largest.so", top);
        assert_int_equal(load_test_plugin(link, &err), 0);
        snprintf(link, sizeof(link), "%s/via", top);
        unlink(link);

        unlink(path);
        rmdir(dir);
        rmdir(top);
}

static void test_loader_refuses_non_root_owner_when_root(void **state)
{
        char dir[] = "/tmp/cgsentry-policy-ownXXXXXX", path[256];
        struct sv_error err = {};

        if (geteuid() != 0)
                skip(); /* the check applies to root only */
        copy_plugin(CGSENTRY_POLICY_BUILD_DIR "/cgsentry-policy-largest.so", dir, path,
                    sizeof(path));
        assert_int_equal(chown(path, 4321, 4321), 0);
        assert_int_equal(load_test_plugin(path, &err), -EPERM);
        assert_string_equal(err.path, path);
        assert_string_equal(err.what,
                            "refusing to load a policy plugin not owned by root (owner uid 4321)");
        unlink(path);
        rmdir(dir);
}

static void test_loader_missing_file_and_bad_names(void **state)
{
        struct sv_policy_registry *reg = registry();
        const struct sv_policy *p = NULL;
        struct sv_error err = {};

        assert_int_equal(sv_policy_registry_get(reg, "nosuch", &p, &err), -ENOENT);
        assert_string_equal(err.path, CGSENTRY_POLICY_BUILD_DIR "/cgsentry-policy-nosuch.so");
        assert_string_equal(err.what, "no such policy plugin");
        assert_int_equal(sv_policy_registry_get(reg, "../etc/x", &p, &err), -EINVAL);
        assert_int_equal(sv_policy_registry_get(reg, "", &p, &err), -EINVAL);
        assert_null(p);
        sv_policy_registry_free(reg);
}

static void test_loader_name_must_match_file(void **state)
{
        struct sv_policy_registry *reg = NULL;
        const struct sv_policy *p = NULL;
        struct sv_error err = {};

        /* The test plugins are built under names that do not match them. */
        assert_int_equal(sv_policy_registry_new(SV_TEST_POLICY_DIR, &reg), 0);
        assert_int_equal(sv_policy_registry_get(reg, "renamed", &p, &err), -ENOEXEC);
        assert_string_equal(err.what, "file declares the policy 'largest', not 'renamed'");
        sv_policy_registry_free(reg);
}

static void test_options_to_a_policy_without_init(void **state)
{
        struct sv_policy_registry *reg = registry();
        const struct sv_policy *p = NULL;
        struct sv_policy_instance *inst = NULL;
        struct sv_error err = {};

        assert_int_equal(sv_policy_registry_get(reg, "largest", &p, &err), 0);
        assert_int_equal(sv_policy_instance_new(p, "window=1s", &inst, &err), -EINVAL);
        assert_string_equal(err.what, "policy 'largest' takes no options");
        assert_int_equal(sv_policy_instance_new(p, "  ", &inst, &err), 0);
        sv_policy_instance_free(inst);
        sv_policy_registry_free(reg);
}

static void test_bad_decision_is_refused(void **state)
{
        struct sv_policy_registry *reg = registry();
        const struct sv_policy *p = NULL;
        struct sv_policy_instance *inst = NULL;
        struct sv_policy_view *v = NULL;
        struct sv_policy_decision d = {.group = 12345};
        struct sv_error err = {};
        struct sv_snapshot *s = load(FIX("policy-pool.json"));

        assert_int_equal(sv_policy_registry_load_file(reg, BAD("bad-choice"), &p, &err), 0);
        assert_int_equal(sv_policy_instance_new(p, "fail=1", &inst, &err), -EINVAL);
        assert_string_equal(err.what, "policy 'bad-choice': fail=1: asked to fail");
        assert_int_equal(sv_policy_instance_new(p, NULL, &inst, &err), 0);
        assert_int_equal(sv_policy_view_new(s, 0, NULL, &v), 0);
        assert_int_equal(sv_policy_choose(inst, v, &d, &err), -EBADMSG);
        assert_contains(err.what, "policy 'bad-choice' returned an invalid decision");
        assert_int_equal(d.group, 12345); /* untouched on failure */
        sv_policy_view_free(v);
        sv_policy_instance_free(inst);
        sv_policy_registry_free(reg);
        sv_snapshot_free(s);
}

static void test_scan_lists_shipped_policies(void **state)
{
        static const char *const want[] = {"growth",   "kernel",   "kubernetes", "largest",
                                           "pressure", "priority", "swap"};
        struct sv_policy_registry *reg = registry();
        size_t found = 0;

        assert_int_equal(sv_policy_registry_scan(reg), 0);
        for (size_t i = 0; i < sv_policy_registry_size(reg); i++) {
                struct sv_policy_info info;
                assert_int_equal(sv_policy_registry_info(reg, i, &info), 0);
                assert_non_null(info.name);
                if (i == 0) {
                        assert_true(info.builtin); /* the builtin kernel comes first */
                        continue;
                }
                assert_string_equal(info.name, want[found]);
                assert_non_null(info.path);
                found++;
        }
        assert_int_equal(found, 7);
        sv_policy_registry_free(reg);
}

/* ---- the command line --------------------------------------------------- */

static char *run_cmd(const char *args, int *ret_status)
{
        char out[] = "/tmp/cgsentry-test-polXXXXXX";
        char *cmd, *text = NULL;
        size_t len = 0;
        int fd = mkstemp(out), st;
        FILE *f, *m;
        char buf[4096];
        size_t n;

        assert_true(fd >= 0);
        assert_true(asprintf(&cmd, "%s %s >%s 2>&1", CGSENTRY_BIN, args, out) > 0);
        st = system(cmd);
        assert_true(WIFEXITED(st));
        *ret_status = WEXITSTATUS(st);
        f = fdopen(fd, "r");
        m = open_memstream(&text, &len);
        assert_non_null(f);
        assert_non_null(m);
        while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
                fwrite(buf, 1, n, m);
        fclose(f);
        fclose(m);
        unlink(out);
        free(cmd);
        return text;
}

#define POLDIR " --policy-dir " CGSENTRY_POLICY_BUILD_DIR " "

static void test_cli_explain_policy_text_appends_only(void **state)
{
        int st1, st2;
        char *plain = run_cmd("explain --snapshot " FIX("policy-pool.json"), &st1);
        char *pol = run_cmd(
                "explain --snapshot " FIX("policy-pool.json") " --policy largest" POLDIR, &st2);

        assert_int_equal(st1, 0);
        assert_int_equal(st2, 0);
        /* The kernel's view comes first, unchanged. */
        assert_memory_equal(pol, plain, strlen(plain));
        assert_contains(pol + strlen(plain), "# Policy largest " CGSENTRY_VERSION " (");
        assert_contains(pol + strlen(plain), "would kill group /pool/a\n");
        assert_contains(pol + strlen(plain), "# largest: /pool/a uses 300.0 MiB");
        free(plain);
        free(pol);
}

static void test_cli_explain_policy_json(void **state)
{
        int st;
        char *out = run_cmd(
                "explain --json --snapshot " FIX("policy-pool.json") " --policy kernel" POLDIR,
                &st);
        json_object *root = json_tokener_parse(out), *p, *x;

        assert_int_equal(st, 0);
        assert_non_null(root);
        assert_true(json_object_object_get_ex(root, "kill_group", &x));
        assert_string_equal(json_object_get_string(x), "/pool/c");
        assert_true(json_object_object_get_ex(root, "policy", &p));
        assert_true(json_object_object_get_ex(p, "name", &x));
        assert_string_equal(json_object_get_string(x), "kernel");
        assert_true(json_object_object_get_ex(p, "version", &x));
        assert_string_equal(json_object_get_string(x), CGSENTRY_VERSION);
        assert_true(json_object_object_get_ex(p, "victim_group", &x));
        assert_string_equal(json_object_get_string(x), "/pool/c");
        assert_true(json_object_object_get_ex(p, "victim_pid", &x));
        assert_int_equal(json_object_get_int(x), 31);
        assert_true(json_object_object_get_ex(p, "explanation", &x));
        assert_contains(json_object_get_string(x), "highest badness");
        json_object_put(root);
        free(out);

        /* A group-only choice, and "nothing". */
        out = run_cmd("explain --json --snapshot " FIX("policy-pool.json") " --policy swap" POLDIR,
                      &st);
        root = json_tokener_parse(out);
        assert_non_null(root);
        assert_true(json_object_object_get_ex(root, "policy", &p));
        assert_true(json_object_object_get_ex(p, "victim_group", &x));
        assert_string_equal(json_object_get_string(x), "/pool/b");
        assert_true(json_object_object_get_ex(p, "victim_pid", &x));
        assert_null(x);
        json_object_put(root);
        free(out);

        out = run_cmd(
                "explain --json --snapshot " FIX("policy-empty.json") " --policy largest" POLDIR,
                &st);
        assert_int_equal(st, 1);
        root = json_tokener_parse(out);
        assert_non_null(root);
        assert_true(json_object_object_get_ex(root, "policy", &p));
        assert_true(json_object_object_get_ex(p, "victim_group", &x));
        assert_null(x);
        json_object_put(root);
        free(out);
}

static void test_cli_broken_policy_falls_back_to_kernel(void **state)
{
        int st;
        char *out = run_cmd(
                "explain --snapshot " FIX(
                        "policy-pool.json") " --policy bad-abi --policy-dir " SV_TEST_POLICY_DIR,
                &st);

        assert_int_equal(st, 0);
        assert_contains(out, "cannot use policy 'bad-abi': " BAD(
                                     "bad-abi") ": policy ABI 2.0 is not supported");
        assert_contains(out, "using the builtin kernel policy instead");
        assert_contains(out, "# Policy kernel " CGSENTRY_VERSION " (builtin) would kill group "
                             "/pool/c, victim pid 31 (c-hog)");
        free(out);
}

static void test_cli_growth_with_history(void **state)
{
        char dir[] = "/tmp/cgsentry-test-histXXXXXX", before[256], cmd[1024];
        struct sv_snapshot *s = load(FIX("policy-pool.json"));
        struct timespec times[2] = {{.tv_sec = 1000000}, {.tv_sec = 1000000}};
        FILE *f;
        int st;
        char *out;

        /* The earlier snapshot: b was 60 MiB smaller, f 5 MiB; taken 4 s before. */
        assert_non_null(mkdtemp(dir));
        snprintf(before, sizeof(before), "%s/before.json", dir);
        s->groups[2].memory_current -= 60 * MIB;
        s->groups[7].memory_current -= 5 * MIB;
        f = fopen(before, "we");
        assert_non_null(f);
        assert_int_equal(sv_snapshot_to_json(s, f), 0);
        fclose(f);
        assert_int_equal(utimensat(AT_FDCWD, before, times, 0), 0);
        times[0].tv_sec = times[1].tv_sec = 1000004;
        /* The current one is the fixture, stamped by its own copy's mtime. */
        snprintf(cmd, sizeof(cmd), "cp %s %s/now.json", FIX("policy-pool.json"), dir);
        assert_int_equal(system(cmd), 0);
        snprintf(cmd, sizeof(cmd), "%s/now.json", dir);
        assert_int_equal(utimensat(AT_FDCWD, cmd, times, 0), 0);

        snprintf(cmd, sizeof(cmd),
                 "explain --snapshot %s/now.json --policy growth --policy-options window=10s "
                 "--history %s" POLDIR,
                 dir, before);
        out = run_cmd(cmd, &st);
        assert_int_equal(st, 0);
        assert_contains(out, "would kill group /pool/b\n");
        assert_contains(out, "/pool/b grew by 60.0 MiB in 4.0 s (15.0 MiB/s)");
        free(out);

        /* Without history growth falls back to largest. */
        snprintf(cmd, sizeof(cmd), "explain --snapshot %s/now.json --policy growth" POLDIR, dir);
        out = run_cmd(cmd, &st);
        assert_contains(out, "would kill group /pool/a\n");
        free(out);

        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        assert_int_equal(system(cmd), 0);
        sv_snapshot_free(s);
}

static void test_cli_policies(void **state)
{
        int st;
        char *out = run_cmd("policies --json --policy-dir " SV_TEST_POLICY_DIR, &st);
        json_object *root = json_tokener_parse(out), *list, *broken, *x;
        size_t n_bad = 0;

        assert_int_equal(st, 0);
        assert_non_null(root);
        assert_true(json_object_object_get_ex(root, "policies", &list));
        assert_true(json_object_object_get_ex(root, "broken", &broken));
        /* builtin kernel, newer-minor and bad-choice load; bad-abi, bad-nosym,
         * bad-size and renamed do not. */
        assert_int_equal(json_object_array_length(list), 3);
        x = json_object_object_get(json_object_array_get_idx(list, 0), "builtin");
        assert_true(json_object_get_boolean(x));
        for (size_t i = 0; i < json_object_array_length(broken); i++) {
                json_object *e = json_object_array_get_idx(broken, i);
                const char *path = json_object_get_string(json_object_object_get(e, "path"));
                const char *err = json_object_get_string(json_object_object_get(e, "error"));
                if (strstr(path, "bad-abi"))
                        assert_contains(err, "policy ABI 2.0 is not supported");
                n_bad++;
        }
        assert_int_equal(n_bad, 4);
        json_object_put(root);
        free(out);

        out = run_cmd("policies" POLDIR, &st);
        assert_int_equal(st, 0);
        assert_contains(out, "kernel       " CGSENTRY_VERSION);
        assert_contains(out, "builtin");
        assert_contains(out, "priority     " CGSENTRY_VERSION);
        assert_contains(out, "(shadowed by the builtin)");
        free(out);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_options_parse),
                cmocka_unit_test(test_duration_parse),
                cmocka_unit_test(test_percent_parse),
                cmocka_unit_test(test_view_candidates_are_children_with_killable_tasks),
                cmocka_unit_test(test_view_of_a_subtree_rebases_indexes),
                cmocka_unit_test(test_view_domain_itself_when_no_child_has_tasks),
                cmocka_unit_test(test_view_carries_xattr_flags),
                cmocka_unit_test(test_kernel_builtin_and_plugin_are_the_mirror),
                cmocka_unit_test(test_kernel_names_victim_and_oom_group),
                cmocka_unit_test(test_builtin_kernel_is_not_loaded_from_disk),
                cmocka_unit_test(test_largest),
                cmocka_unit_test(test_largest_tie_goes_to_swap_then_preorder),
                cmocka_unit_test(test_largest_without_memory_files_counts_rss),
                cmocka_unit_test(test_swap),
                cmocka_unit_test(test_pressure),
                cmocka_unit_test(test_pressure_some_breaks_full_tie),
                cmocka_unit_test(test_every_policy_on_an_empty_domain),
                cmocka_unit_test(test_growth_picks_fastest_over_window),
                cmocka_unit_test(test_growth_tie_and_recreated_group),
                cmocka_unit_test(test_growth_without_time_passing),
                cmocka_unit_test(test_growth_rejects_bad_options),
                cmocka_unit_test(test_priority),
                cmocka_unit_test(test_priority_tie_and_bad_options),
                cmocka_unit_test(test_loader_refuses_other_abi_major),
                cmocka_unit_test(test_loader_refuses_missing_entry_symbol),
                cmocka_unit_test(test_loader_refuses_small_descriptor),
                cmocka_unit_test(test_loader_accepts_newer_minor),
                cmocka_unit_test(test_loader_refuses_world_writable),
                cmocka_unit_test(test_loader_refuses_group_writable_chain),
                cmocka_unit_test(test_loader_refuses_non_root_owner_when_root),
                cmocka_unit_test(test_loader_missing_file_and_bad_names),
                cmocka_unit_test(test_loader_name_must_match_file),
                cmocka_unit_test(test_options_to_a_policy_without_init),
                cmocka_unit_test(test_bad_decision_is_refused),
                cmocka_unit_test(test_scan_lists_shipped_policies),
                cmocka_unit_test(test_cli_explain_policy_text_appends_only),
                cmocka_unit_test(test_cli_explain_policy_json),
                cmocka_unit_test(test_cli_broken_policy_falls_back_to_kernel),
                cmocka_unit_test(test_cli_growth_with_history),
                cmocka_unit_test(test_cli_policies),
        };
        return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
