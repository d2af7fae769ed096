/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The tripwire's estimate of what reclaim cannot give back (reclaim.c), the
 * swap headroom reader, the trigger lines and the one escaping of names.
 * Each rule of mm/memcontrol.c and mm/vmscan.c the estimate follows has a
 * test named after it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgsentry/supervise.h"

#define MIB (1024ull * 1024)

/* memory.stat of a group whose page cache fills its 128 MiB limit, as a
 * file-writing service looks (seen in the sandbox: file ~115 MB, anon ~0). */
static const struct sv_memory_stat page_cache_at_limit = {
        .anon = 300 * 1024, .file = 115 * MIB, .active_anon = 300 * 1024,
        .inactive_file = 80 * MIB, .active_file = 35 * MIB, .file_dirty = 20 * MIB,
        .file_writeback = 5 * MIB, .kernel = 2 * MIB, .slab_reclaimable = 1 * MIB,
        .slab_unreclaimable = 512 * 1024, .kernel_stack = 64 * 1024,
};

static void test_page_cache_is_reclaimable(void **state)
{
        struct sv_reclaim r;

        sv_reclaim_estimate(&page_cache_at_limit, 120 * MIB, 0, &r);
        assert_int_equal(r.file, 115 * MIB);
        assert_int_equal(r.anon, 300 * 1024);
        assert_int_equal(r.kernel, 1 * MIB); /* kernel - slab_reclaimable */
        assert_int_equal(r.nonreclaimable, 300 * 1024 + 1 * MIB);
        assert_false(sv_reclaim_over(&r, 128 * MIB, 9000));
        assert_int_equal(sv_reclaim_share(&r, 128 * MIB), 1);
}

/* Dirty pages and pages under writeback are on the file LRU: reclaim waits
 * for writeback, it does not OOM for them. */
static void test_dirty_and_writeback_page_cache_is_reclaimable(void **state)
{
        struct sv_memory_stat st = { .file = 100 * MIB, .file_dirty = 60 * MIB,
                                     .file_writeback = 40 * MIB, .inactive_file = 100 * MIB };
        struct sv_reclaim r;

        sv_reclaim_estimate(&st, 100 * MIB, 0, &r);
        assert_int_equal(r.nonreclaimable, 0);
        assert_false(sv_reclaim_over(&r, 100 * MIB, 1));
}

static void test_anon_without_swap_is_not_reclaimable(void **state)
{
        struct sv_memory_stat st = { .anon = 118 * MIB, .active_anon = 100 * MIB,
                                     .inactive_anon = 18 * MIB, .file = 1 * MIB,
                                     .inactive_file = 1 * MIB };
        struct sv_reclaim r;

        sv_reclaim_estimate(&st, 119 * MIB, 0, &r);
        assert_int_equal(r.anon, 118 * MIB);
        assert_int_equal(r.nonreclaimable, 118 * MIB);
        assert_true(sv_reclaim_over(&r, 128 * MIB, 9000));
        assert_int_equal(sv_reclaim_share(&r, 128 * MIB), 92);
}

/* A runaway on top of a full page cache: the cache goes first, the anon
 * decides, at the same threshold as without the cache. */
static void test_anon_runaway_on_top_of_page_cache(void **state)
{
        struct sv_memory_stat st = { .active_anon = 60 * MIB, .anon = 60 * MIB,
                                     .inactive_file = 60 * MIB, .file = 60 * MIB };
        struct sv_reclaim r;
        uint64_t threshold = sv_permyriad_of(128 * MIB, 9000);

        sv_reclaim_estimate(&st, 120 * MIB, 0, &r);
        assert_false(sv_reclaim_over(&r, 128 * MIB, 9000));
        st.active_anon = st.anon = threshold - 1;
        sv_reclaim_estimate(&st, 127 * MIB, 0, &r);
        assert_false(sv_reclaim_over(&r, 128 * MIB, 9000));
        st.active_anon = st.anon = threshold;
        sv_reclaim_estimate(&st, 127 * MIB, 0, &r);
        assert_true(sv_reclaim_over(&r, 128 * MIB, 9000));
}

/* tmpfs/shmem pages are swap backed: without swap nothing frees them. */
static void test_shmem_without_swap_is_not_reclaimable(void **state)
{
        struct sv_memory_stat st = { .shmem = 100 * MIB, .file = 100 * MIB,
                                     .inactive_anon = 100 * MIB };
        struct sv_reclaim r;

        sv_reclaim_estimate(&st, 100 * MIB, 0, &r);
        assert_int_equal(r.shmem, 100 * MIB);
        assert_int_equal(r.anon, 0);
        assert_int_equal(r.file, 0);
        assert_int_equal(r.nonreclaimable, 100 * MIB);
}

/* mem_cgroup_get_nr_swap_pages(): anon (then shmem) up to the headroom can
 * be swapped; the rest is stuck. */
static void test_swap_headroom_makes_anon_reclaimable(void **state)
{
        struct sv_memory_stat st = { .anon = 120 * MIB, .active_anon = 120 * MIB,
                                     .shmem = 10 * MIB, .inactive_anon = 10 * MIB };
        struct sv_reclaim r;

        sv_reclaim_estimate(&st, 130 * MIB, 64 * MIB, &r);
        assert_int_equal(r.swappable, 64 * MIB);
        assert_int_equal(r.anon, 56 * MIB);
        assert_int_equal(r.shmem, 10 * MIB);
        assert_int_equal(r.nonreclaimable, 66 * MIB);
        assert_false(sv_reclaim_over(&r, 128 * MIB, 9000));

        sv_reclaim_estimate(&st, 130 * MIB, 125 * MIB, &r);
        assert_int_equal(r.anon, 0);
        assert_int_equal(r.shmem, 5 * MIB);

        /* swap full (memory.swap.max reached): all of it counts again */
        sv_reclaim_estimate(&st, 130 * MIB, 0, &r);
        assert_int_equal(r.nonreclaimable, 130 * MIB);
        assert_true(sv_reclaim_over(&r, 128 * MIB, 9000));
}

/* mlock, SHM_LOCK and ramfs pages sit on the unevictable list. */
static void test_unevictable_is_not_reclaimable(void **state)
{
        struct sv_memory_stat st = { .anon = 50 * MIB, .unevictable = 50 * MIB,
                                     .file = 10 * MIB, .inactive_file = 10 * MIB };
        struct sv_reclaim r;

        sv_reclaim_estimate(&st, 60 * MIB, 1024 * MIB, &r);
        assert_int_equal(r.unevictable, 50 * MIB);
        assert_int_equal(r.anon, 0); /* the mlocked anon is not on the anon LRU */
        assert_int_equal(r.nonreclaimable, 50 * MIB);
}

/* "kernel" (5.18+) holds every kernel charge; older kernels list parts.
 * Socket buffers are charged apart on cgroup v2. */
static void test_kernel_memory_from_total_or_parts(void **state)
{
        struct sv_memory_stat st = { .kernel = 10 * MIB, .slab_reclaimable = 4 * MIB,
                                     .slab_unreclaimable = 3 * MIB, .kernel_stack = 1 * MIB,
                                     .pagetables = 1 * MIB, .sock = 2 * MIB };
        struct sv_reclaim r;

        sv_reclaim_estimate(&st, 20 * MIB, 0, &r);
        assert_int_equal(r.kernel, 6 * MIB + 2 * MIB);
        assert_int_equal(r.slab_reclaimable, 4 * MIB);

        st.kernel = 0; /* 5.4: no "kernel" line */
        st.percpu = 1 * MIB;
        st.vmalloc = 1 * MIB;
        sv_reclaim_estimate(&st, 20 * MIB, 0, &r);
        assert_int_equal(r.kernel, 7 * MIB + 2 * MIB);
}

/* Pages freed with MADV_FREE move to the file LRU: reclaimable although
 * memory.stat still counts them as anon. */
static void test_lazyfree_anon_on_file_lru_is_reclaimable(void **state)
{
        struct sv_memory_stat st = { .anon = 100 * MIB, .active_anon = 10 * MIB,
                                     .inactive_file = 90 * MIB };
        struct sv_reclaim r;

        sv_reclaim_estimate(&st, 100 * MIB, 0, &r);
        assert_int_equal(r.anon, 10 * MIB);
        assert_int_equal(r.file, 90 * MIB);
}

static void test_no_limit_never_fires(void **state)
{
        struct sv_memory_stat st = { .anon = 100 * MIB, .active_anon = 100 * MIB };
        struct sv_reclaim r;

        sv_reclaim_estimate(&st, 100 * MIB, 0, &r);
        assert_false(sv_reclaim_over(&r, SV_LIMIT_MAX, 9000));
        assert_false(sv_reclaim_over(&r, 100 * MIB, 0));
        assert_int_equal(sv_reclaim_share(&r, SV_LIMIT_MAX), 0);
        assert_int_equal(sv_reclaim_share(&r, 1), 999);
}

static void test_permyriad_of_does_not_overflow(void **state)
{
        assert_int_equal(sv_permyriad_of(128 * MIB, 9000), 120795955);
        assert_int_equal(sv_permyriad_of(UINT64_MAX - 1, 10000), UINT64_MAX - 1);
        assert_int_equal(sv_permyriad_of(UINT64_MAX - 1, 5000), (UINT64_MAX - 1) / 2);
        assert_int_equal(sv_permyriad_of(9999, 1), 0);
}

static void test_format_bytes(void **state)
{
        char b[32];

        assert_string_equal(sv_format_bytes(0, b, sizeof(b)), "0 B");
        assert_string_equal(sv_format_bytes(1023, b, sizeof(b)), "1023 B");
        assert_string_equal(sv_format_bytes(1536, b, sizeof(b)), "1.5 KiB");
        assert_string_equal(sv_format_bytes(118 * MIB, b, sizeof(b)), "118 MiB");
        assert_string_equal(sv_format_bytes(12 * MIB + MIB / 2, b, sizeof(b)), "12.5 MiB");
        assert_string_equal(sv_format_bytes(SV_LIMIT_MAX, b, sizeof(b)), "max");
}

/* ---- trigger lines ------------------------------------------------------ */

static void test_tripwire_line_carries_the_figures(void **state)
{
        struct sv_memory_stat st = { .anon = 110 * MIB, .active_anon = 116 * MIB,
                                     .shmem = 6 * MIB, .kernel = 2 * MIB,
                                     .inactive_file = 4 * MIB };
        struct sv_trigger t = { .kind = SV_TRIGGER_TRIPWIRE, .memory_max = 128 * MIB,
                                .permyriad = 9000 };
        char buf[1024];

        sv_reclaim_estimate(&st, 122 * MIB, 0, &t.reclaim);
        sv_trigger_describe(&t, buf, sizeof(buf));
        assert_string_equal(buf, "non-reclaimable 118 MiB = 92% of memory.max 128 MiB (anon 110 "
                                 "MiB, shmem 6.0 MiB, unevictable 0 B, kernel 2.0 MiB), tripwire "
                                 "at 90.00%; usage 122 MiB, page cache 4.0 MiB, reclaimable slab "
                                 "0 B, swappable 0 B, swap headroom 0 B");
        assert_string_equal(sv_trigger_name(t.kind), "tripwire");
}

static void test_trigger_lines_never_use_the_kernel_oom_wording(void **state)
{
        struct sv_trigger t[] = {
                { .kind = SV_TRIGGER_TRIPWIRE, .memory_max = 1 * MIB, .permyriad = 5000 },
                { .kind = SV_TRIGGER_PRESSURE, .stall_usec = 150000, .window_usec = 1000000,
                  .psi = { .some = { .avg10 = 23.5 }, .has_full = true } },
                { .kind = SV_TRIGGER_KERNEL_OOM_KILL, .oom_kill_before = 3, .oom_kill = 4 },
        };
        char buf[1024];

        for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
                sv_trigger_describe(&t[i], buf, sizeof(buf));
                assert_null(strstr(buf, "out of memory"));
                assert_null(strstr(buf, "Killed process"));
        }
        sv_trigger_describe(&t[1], buf, sizeof(buf));
        assert_string_equal(buf, "memory.pressure trigger \"some 150000 1000000\" fired: tasks "
                                 "stalled on memory for 150 ms of a 1000 ms window; some avg10 "
                                 "23.50%, full avg10 0.00%");
        sv_trigger_describe(&t[2], buf, sizeof(buf));
        assert_string_equal(buf, "the kernel's OOM killer killed a process in this group "
                                 "(memory.events oom_kill 3 -> 4)");
}

/* ---- the swap headroom reader, on a fixture tree ------------------------- */

static void put(int dfd, const char *name, const char *text)
{
        int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        close(fd);
}

struct tree {
        char dir[64];
        int cg, proc;
};

static void tree_make(struct tree *t, const char *swap_free_kb, const char *swappiness)
{
        char meminfo[256];

        snprintf(t->dir, sizeof(t->dir), "/tmp/sv-reclaim-XXXXXX");
        assert_non_null(mkdtemp(t->dir));
        t->cg = open(t->dir, O_RDONLY | O_DIRECTORY);
        assert_true(t->cg >= 0);
        assert_int_equal(mkdirat(t->cg, "proc", 0755), 0);
        assert_int_equal(mkdirat(t->cg, "proc/sys", 0755), 0);
        assert_int_equal(mkdirat(t->cg, "proc/sys/vm", 0755), 0);
        t->proc = openat(t->cg, "proc", O_RDONLY | O_DIRECTORY);
        snprintf(meminfo, sizeof(meminfo),
                 "MemTotal:        2000000 kB\nSwapTotal:        %s kB\nSwapFree:        %s kB\n",
                 swap_free_kb, swap_free_kb);
        put(t->proc, "meminfo", meminfo);
        put(t->proc, "sys/vm/swappiness", swappiness);
        assert_int_equal(mkdirat(t->cg, "a", 0755), 0);
        assert_int_equal(mkdirat(t->cg, "a/b", 0755), 0);
        put(t->cg, "a/memory.swap.max", "max\n");
        put(t->cg, "a/memory.swap.current", "0\n");
        put(t->cg, "a/b/memory.swap.max", "67108864\n");
        put(t->cg, "a/b/memory.swap.current", "16777216\n");
}

static void tree_free(struct tree *t)
{
        char cmd[128];

        close(t->proc);
        close(t->cg);
        snprintf(cmd, sizeof(cmd), "rm -rf %s", t->dir);
        assert_int_equal(system(cmd), 0);
}

/* mem_cgroup_get_nr_swap_pages(): free swap, capped at every level. */
static void test_swap_headroom_read_caps_at_each_level(void **state)
{
        struct tree t;
        uint64_t h = 0;

        tree_make(&t, "1048576", "60\n"); /* 1 GiB free */
        assert_int_equal(sv_swap_headroom_read(t.cg, t.proc, "a/b", &h), 0);
        assert_int_equal(h, 48 * MIB); /* b: 64 MiB max - 16 MiB used */
        assert_int_equal(sv_swap_headroom_read(t.cg, t.proc, "/a", &h), 0);
        assert_int_equal(h, 1024 * MIB);
        /* an ancestor's limit binds its children too */
        put(t.cg, "a/memory.swap.max", "33554432\n");
        put(t.cg, "a/memory.swap.current", "25165824\n");
        assert_int_equal(sv_swap_headroom_read(t.cg, t.proc, "a/b/", &h), 0);
        assert_int_equal(h, 8 * MIB);
        /* over the limit (swap.max lowered below usage): no room, not wrap-around */
        put(t.cg, "a/memory.swap.current", "50331648\n");
        assert_int_equal(sv_swap_headroom_read(t.cg, t.proc, "a/b", &h), 0);
        assert_int_equal(h, 0);
        tree_free(&t);
}

static void test_swap_headroom_read_free_swap_caps(void **state)
{
        struct tree t;
        uint64_t h = 0;

        tree_make(&t, "4096", "60\n"); /* 4 MiB free */
        assert_int_equal(sv_swap_headroom_read(t.cg, t.proc, "a/b", &h), 0);
        assert_int_equal(h, 4 * MIB);
        tree_free(&t);
}

/* get_scan_count(): cgroup reclaim with swappiness 0 scans file pages only. */
static void test_swap_headroom_read_swappiness_zero(void **state)
{
        struct tree t;
        uint64_t h = 1;

        tree_make(&t, "1048576", "0\n");
        assert_int_equal(sv_swap_headroom_read(t.cg, t.proc, "a/b", &h), 0);
        assert_int_equal(h, 0);
        tree_free(&t);
}

static void test_swap_headroom_read_no_swap(void **state)
{
        struct tree t;
        uint64_t h = 1;

        tree_make(&t, "0", "60\n");
        assert_int_equal(sv_swap_headroom_read(t.cg, t.proc, "a/b", &h), 0);
        assert_int_equal(h, 0);
        tree_free(&t);
}

static void test_swap_headroom_read_gone(void **state)
{
        struct tree t;
        uint64_t h = 7;

        tree_make(&t, "1048576", "60\n");
        assert_int_equal(sv_swap_headroom_read(t.cg, t.proc, "a/gone", &h), -ENOENT);
        assert_int_equal(h, 7); /* untouched on failure */
        /* a group without swap files (no swap accounting): no cap of its own */
        assert_int_equal(mkdirat(t.cg, "a/plain", 0755), 0);
        assert_int_equal(sv_swap_headroom_read(t.cg, t.proc, "a/plain", &h), 0);
        assert_int_equal(h, 1024 * MIB);
        put(t.cg, "a/b/memory.swap.max", "bogus\n");
        assert_int_equal(sv_swap_headroom_read(t.cg, t.proc, "a/b", &h), -EINVAL);
        tree_free(&t);
}

/* ---- escaping ----------------------------------------------------------- */

static void test_escape(void **state)
{
        char out[128];

        assert_string_equal(sv_escape("hog", out, sizeof(out)), "hog");
        /* a newline would forge a second log line */
        assert_string_equal(sv_escape("a\ncgsentryd[1]: x", out, sizeof(out)),
                            "a\\x0acgsentryd[1]: x");
        /* terminal escape sequences */
        assert_string_equal(sv_escape("\x1b[31mred", out, sizeof(out)), "\\x1b[31mred");
        assert_string_equal(sv_escape("back\\slash", out, sizeof(out)), "back\\\\slash");
        assert_string_equal(sv_escape("del\x7f", out, sizeof(out)), "del\\x7f");
        /* valid UTF-8 stays, invalid bytes and C1 controls do not */
        assert_string_equal(sv_escape("caf\xc3\xa9", out, sizeof(out)), "caf\xc3\xa9");
        assert_string_equal(sv_escape("bad\xff\xc3", out, sizeof(out)), "bad\\xff\\xc3");
        assert_string_equal(sv_escape("c1\xc2\x9b", out, sizeof(out)), "c1\\xc2\\x9b");
        /* a short buffer ends at a whole escape */
        assert_string_equal(sv_escape("ab\ncd", out, 6), "ab");
        assert_string_equal(sv_escape("ab\ncd", out, 7), "ab\\x0a");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_page_cache_is_reclaimable),
                cmocka_unit_test(test_dirty_and_writeback_page_cache_is_reclaimable),
                cmocka_unit_test(test_anon_without_swap_is_not_reclaimable),
                cmocka_unit_test(test_anon_runaway_on_top_of_page_cache),
                cmocka_unit_test(test_shmem_without_swap_is_not_reclaimable),
                cmocka_unit_test(test_swap_headroom_makes_anon_reclaimable),
                cmocka_unit_test(test_unevictable_is_not_reclaimable),
                cmocka_unit_test(test_kernel_memory_from_total_or_parts),
                cmocka_unit_test(test_lazyfree_anon_on_file_lru_is_reclaimable),
                cmocka_unit_test(test_no_limit_never_fires),
                cmocka_unit_test(test_permyriad_of_does_not_overflow),
                cmocka_unit_test(test_format_bytes),
                cmocka_unit_test(test_tripwire_line_carries_the_figures),
                cmocka_unit_test(test_trigger_lines_never_use_the_kernel_oom_wording),
                cmocka_unit_test(test_swap_headroom_read_caps_at_each_level),
                cmocka_unit_test(test_swap_headroom_read_free_swap_caps),
                cmocka_unit_test(test_swap_headroom_read_swappiness_zero),
                cmocka_unit_test(test_swap_headroom_read_no_swap),
                cmocka_unit_test(test_swap_headroom_read_gone),
                cmocka_unit_test(test_escape),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
