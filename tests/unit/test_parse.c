/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests for the cgroupfs/procfs parsers. The samples are the text the
 * kernel writes (6.x unless a name says otherwise); truncated inputs are
 * those samples cut at a given place, as a short read would leave them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

/* cmocka hands every test a state pointer that these tests have no use for. */
#pragma GCC diagnostic ignored "-Wunused-parameter"

/*
 * Every parser gets an exact-size heap copy with no NUL after it, so the
 * address sanitizer reports any read past len.
 */
static char *exact_copy(const char *s, size_t n)
{
        char *b = malloc(n > 0 ? n : 1);

        assert_non_null(b);
        memcpy(b, s, n);
        return b;
}

#define PARSE_N(fn, s, n, ...)                                  \
        ({                                                      \
                size_t n_ = (n);                                \
                char *b_ = exact_copy((s), n_);                 \
                int r_ = fn(b_, n_, __VA_ARGS__);               \
                free(b_);                                       \
                r_;                                             \
        })

#define PARSE(fn, s, ...) PARSE_N(fn, s, strlen(s), __VA_ARGS__)

/* Length of @s up to (not including) @marker: where a short read stopped. */
static size_t upto(const char *s, const char *marker)
{
        const char *m = strstr(s, marker);

        assert_non_null(m);
        return (size_t)(m - s);
}

/* ---- samples ------------------------------------------------------------- */

#define MEMORY_EVENTS_6X "low 0\nhigh 17\nmax 342\noom 3\noom_kill 2\noom_group_kill 1\n"
/* Before 5.17 there is no oom_group_kill. */
#define MEMORY_EVENTS_5X "low 5\nhigh 0\nmax 12\noom 1\noom_kill 1\n"

#define PSI_SAMPLE                                                       \
        "some avg10=1.53 avg60=0.87 avg300=0.21 total=1234567\n"         \
        "full avg10=0.50 avg60=0.25 avg300=0.07 total=456789\n"

#define MEMORY_STAT_6X                                                            \
        "anon 123904000\nfile 456704000\nkernel 24117248\nkernel_stack 1654784\n" \
        "pagetables 3514368\nsec_pagetables 0\npercpu 1120\nsock 8192\n"          \
        "vmalloc 16384\nshmem 2297856\nzswap 0\nzswapped 0\nfile_mapped 98304000\n" \
        "file_dirty 135168\nfile_writeback 4096\nswapcached 65536\nanon_thp 0\n"  \
        "file_thp 0\nshmem_thp 0\ninactive_anon 120000000\nactive_anon 6201856\n" \
        "inactive_file 300000000\nactive_file 156704000\nunevictable 12288\n"     \
        "slab_reclaimable 15000000\nslab_unreclaimable 3500000\nslab 18500000\n"  \
        "workingset_refault_anon 17\nworkingset_refault_file 2345\n"              \
        "workingset_activate_anon 3\nworkingset_activate_file 456\n"              \
        "workingset_restore_anon 1\nworkingset_restore_file 78\n"                 \
        "workingset_nodereclaim 0\npgscan 98765\npgsteal 87654\n"                 \
        "pgscan_kswapd 90000\npgscan_direct 8765\npgscan_khugepaged 0\n"          \
        "pgsteal_kswapd 80000\npgsteal_direct 7654\npgsteal_khugepaged 0\n"       \
        "pgfault 3456789\npgmajfault 1234\npgrefill 5678\npgactivate 91011\n"     \
        "pgdeactivate 1213\npglazyfree 0\npglazyfreed 0\nzswpin 0\nzswpout 0\n"   \
        "zswpwb 0\nthp_fault_alloc 0\nthp_collapse_alloc 0\nthp_swpout 0\n"       \
        "thp_swpout_fallback 0\n"

/* 5.4: no "kernel", a single workingset_refault, pgfault before pgscan. */
#define MEMORY_STAT_5_4                                                           \
        "anon 8192000\nfile 4096000\nkernel_stack 73728\nslab 1835008\nsock 0\n"  \
        "shmem 0\nfile_mapped 1024000\nfile_dirty 0\nfile_writeback 0\n"          \
        "anon_thp 0\ninactive_anon 0\nactive_anon 8110080\ninactive_file 2048000\n" \
        "active_file 2048000\nunevictable 0\nslab_reclaimable 1048576\n"          \
        "slab_unreclaimable 786432\npgfault 4620\npgmajfault 3\n"                 \
        "workingset_refault 0\nworkingset_activate 0\nworkingset_nodereclaim 0\n" \
        "pgrefill 0\npgscan 0\npgsteal 0\npgactivate 0\npgdeactivate 0\n"         \
        "pglazyfree 0\npglazyfreed 0\nthp_fault_alloc 0\nthp_collapse_alloc 0\n"

#define STATUS_IDS                                                          \
        "Umask:\t0022\nState:\tS (sleeping)\nTgid:\t4242\nNgid:\t0\n"       \
        "Pid:\t4242\nPPid:\t4200\nTracerPid:\t0\n"                          \
        "Uid:\t1000\t1001\t1002\t1003\nGid:\t100\t100\t100\t100\n"          \
        "FDSize:\t256\nGroups:\t4 24 27 1000 \nNStgid:\t4242\nNSpid:\t4242\n" \
        "NSpgid:\t4242\nNSsid:\t4200\nKthread:\t0\n"

#define STATUS_MM                                                           \
        "VmPeak:\t   12648 kB\nVmSize:\t   12584 kB\nVmLck:\t       0 kB\n"  \
        "VmPin:\t       0 kB\nVmHWM:\t    5120 kB\nVmRSS:\t    5120 kB\n"    \
        "RssAnon:\t    1792 kB\nRssFile:\t    3200 kB\nRssShmem:\t     128 kB\n" \
        "VmData:\t    2048 kB\nVmStk:\t     132 kB\nVmExe:\t     924 kB\n"   \
        "VmLib:\t    1800 kB\nVmPTE:\t      60 kB\nVmSwap:\t      16 kB\n"   \
        "HugetlbPages:\t       0 kB\nCoreDumping:\t0\nTHP_enabled:\t1\n"    \
        "untag_mask:\t0xffffffffffffffff\n"

#define STATUS_TAIL                                                         \
        "Threads:\t1\nSigQ:\t0/96365\nSigPnd:\t0000000000000000\n"           \
        "ShdPnd:\t0000000000000000\nSigBlk:\t0000000000010000\n"            \
        "SigIgn:\t0000000000380004\nSigCgt:\t000000004b817efb\n"            \
        "CapInh:\t0000000000000000\nCapPrm:\t0000000000000000\n"            \
        "CapEff:\t0000000000000000\nCapBnd:\t000001ffffffffff\n"            \
        "CapAmb:\t0000000000000000\nNoNewPrivs:\t0\nSeccomp:\t0\n"          \
        "Seccomp_filters:\t0\nSpeculation_Store_Bypass:\tthread vulnerable\n" \
        "SpeculationIndirectBranch:\tconditional enabled\nCpus_allowed:\tff\n" \
        "Cpus_allowed_list:\t0-7\nMems_allowed:\t00000000,00000001\n"       \
        "Mems_allowed_list:\t0\nvoluntary_ctxt_switches:\t150\n"            \
        "nonvoluntary_ctxt_switches:\t4\n"

#define STATUS_BASH "Name:\tbash\n" STATUS_IDS STATUS_MM STATUS_TAIL

/* A 6.x workqueue worker: no mm, and a name longer than TASK_COMM_LEN. */
#define STATUS_KWORKER                                                      \
        "Name:\tkworker/u16:3-events_unbound\nUmask:\t0000\nState:\tI (idle)\n" \
        "Tgid:\t311\nNgid:\t0\nPid:\t311\nPPid:\t2\nTracerPid:\t0\n"        \
        "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nFDSize:\t64\nGroups:\t \n"      \
        "NStgid:\t311\nNSpid:\t311\nNSpgid:\t0\nNSsid:\t0\nKthread:\t1\n"   \
        "Threads:\t1\nSigQ:\t0/96365\nSigPnd:\t0000000000000000\n"           \
        "Cpus_allowed:\tff\nCpus_allowed_list:\t0-7\n"                      \
        "voluntary_ctxt_switches:\t2\nnonvoluntary_ctxt_switches:\t0\n"

#define STATUS_ZOMBIE                                                       \
        "Name:\tdefunct\nUmask:\t0022\nState:\tZ (zombie)\nTgid:\t777\n"    \
        "Ngid:\t0\nPid:\t777\nPPid:\t4242\nTracerPid:\t0\n"                 \
        "Uid:\t1000\t1000\t1000\t1000\nGid:\t1000\t1000\t1000\t1000\n"      \
        "FDSize:\t0\nGroups:\t \nNStgid:\t777\nNSpid:\t777\nNSpgid:\t4242\n" \
        "NSsid:\t4200\nThreads:\t1\nSigQ:\t0/96365\n"

#define STAT_CAT                                                                  \
        "30688 (cat) R 30683 30683 29735 34816 30688 4194304 99 0 0 0 0 0 0 0 20 0 1 0 " \
        "116964 3133440 358 18446744073709551615 94029454344192 94029454364073 "  \
        "140725357052320 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 94029454380080 "        \
        "94029454381696 94030365069312 140725357054603 140725357054623 "          \
        "140725357054623 140725357055979 0\n"

/* Fields 4..22 of an ordinary task, after "(comm) S". */
#define STAT_REST                                                                 \
        " 1 1234 1234 0 -1 4194560 500 0 2 0 10 5 0 0 20 0 1 0 98765 "            \
        "10000000 100 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n"

#define STAT_KTHREADD                                                             \
        "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 3 0 0 20 0 1 0 3 0 0 "       \
        "18446744073709551615 0 0 0 0 0 0 0 2147483647 0 0 0 0 17 1 0 0 0 0 0 "   \
        "0 0 0 0 0 0 0 0\n"

#define MEMINFO_6X                                                                \
        "MemTotal:       24684084 kB\nMemFree:        24475976 kB\n"               \
        "MemAvailable:   24405904 kB\nBuffers:             404 kB\n"              \
        "Cached:            51416 kB\nSwapCached:            0 kB\n"              \
        "Active:             9544 kB\nInactive:          38708 kB\n"              \
        "Active(anon):       1520 kB\nInactive(anon):     3800 kB\n"              \
        "Active(file):       8024 kB\nInactive(file):    34908 kB\n"              \
        "Unevictable:       12248 kB\nMlocked:           11340 kB\n"              \
        "SwapTotal:        2097148 kB\nSwapFree:         2097148 kB\n"            \
        "Zswap:                 0 kB\nZswapped:              0 kB\n"              \
        "Dirty:               104 kB\nWriteback:             0 kB\n"              \
        "AnonPages:          8796 kB\nMapped:            10836 kB\n"              \
        "Shmem:              8872 kB\nKReclaimable:      67188 kB\n"              \
        "Slab:              89388 kB\nSReclaimable:      67188 kB\n"              \
        "SUnreclaim:        22200 kB\nKernelStack:        1316 kB\n"              \
        "PageTables:         1452 kB\nSecPageTables:         0 kB\n"              \
        "NFS_Unstable:          0 kB\nBounce:                0 kB\n"              \
        "WritebackTmp:          0 kB\nCommitLimit:    12342040 kB\n"              \
        "Committed_AS:      52380 kB\nVmallocTotal:   34359738367 kB\n"           \
        "VmallocUsed:       14108 kB\nVmallocChunk:          0 kB\n"              \
        "Percpu:              688 kB\nAnonHugePages:         0 kB\n"              \
        "HugePages_Total:       0\nHugePages_Free:        0\n"                    \
        "HugePages_Rsvd:        0\nHugePages_Surp:        0\n"                    \
        "Hugepagesize:       2048 kB\nHugetlb:               0 kB\n"              \
        "DirectMap4k:       28672 kB\nDirectMap2M:     2068480 kB\n"              \
        "DirectMap1G:    25165824 kB\n"

#define OVERFLOW "99999999999999999999999"

/* ---- sv_parse_u64 -------------------------------------------------------- */

static void test_u64_with_newline(void **state)
{
        uint64_t v = 0;

        assert_int_equal(PARSE(sv_parse_u64, "123\n", &v), 0);
        assert_int_equal(v, 123);
}

static void test_u64_without_newline(void **state)
{
        uint64_t v = 0;

        assert_int_equal(PARSE(sv_parse_u64, "4096", &v), 0);
        assert_int_equal(v, 4096);
}

static void test_u64_zero(void **state)
{
        uint64_t v = 7;

        assert_int_equal(PARSE(sv_parse_u64, "0\n", &v), 0);
        assert_int_equal(v, 0);
}

static void test_u64_largest_value(void **state)
{
        uint64_t v = 0;

        assert_int_equal(PARSE(sv_parse_u64, "18446744073709551615\n", &v), 0);
        assert_true(v == UINT64_MAX);
}

static void test_u64_overflow_is_erange(void **state)
{
        uint64_t v = 0;

        assert_int_equal(PARSE(sv_parse_u64, "18446744073709551616\n", &v), -ERANGE);
        assert_int_equal(PARSE(sv_parse_u64, OVERFLOW "\n", &v), -ERANGE);
}

static void test_u64_overflow_with_garbage_is_einval(void **state)
{
        uint64_t v = 0;

        assert_int_equal(PARSE(sv_parse_u64, OVERFLOW "x\n", &v), -EINVAL);
}

static void test_u64_empty_is_einval(void **state)
{
        uint64_t v = 0;

        assert_int_equal(PARSE(sv_parse_u64, "", &v), -EINVAL);
        assert_int_equal(PARSE(sv_parse_u64, "\n", &v), -EINVAL);
        assert_int_equal(sv_parse_u64(NULL, 0, &v), -EINVAL);
}

static void test_u64_garbage_is_einval(void **state)
{
        uint64_t v = 0;

        assert_int_equal(PARSE(sv_parse_u64, "12abc\n", &v), -EINVAL);
        assert_int_equal(PARSE(sv_parse_u64, "abc\n", &v), -EINVAL);
        assert_int_equal(PARSE(sv_parse_u64, "1 2\n", &v), -EINVAL);
        assert_int_equal(PARSE(sv_parse_u64, "0x10\n", &v), -EINVAL);
        assert_int_equal(PARSE(sv_parse_u64, "max\n", &v), -EINVAL);
}

static void test_u64_signs_are_einval(void **state)
{
        uint64_t v = 0;

        assert_int_equal(PARSE(sv_parse_u64, "-1\n", &v), -EINVAL);
        assert_int_equal(PARSE(sv_parse_u64, "+1\n", &v), -EINVAL);
}

static void test_u64_whitespace_beyond_one_newline_is_einval(void **state)
{
        uint64_t v = 0;

        assert_int_equal(PARSE(sv_parse_u64, " 12\n", &v), -EINVAL);
        assert_int_equal(PARSE(sv_parse_u64, "12 \n", &v), -EINVAL);
        assert_int_equal(PARSE(sv_parse_u64, "\t12\n", &v), -EINVAL);
        assert_int_equal(PARSE(sv_parse_u64, "12\n\n", &v), -EINVAL);
        assert_int_equal(PARSE(sv_parse_u64, "\n12", &v), -EINVAL);
        assert_int_equal(PARSE(sv_parse_u64, "12\r\n", &v), -EINVAL);
}

static void test_u64_reads_only_len_bytes(void **state)
{
        uint64_t v = 0;

        assert_int_equal(PARSE_N(sv_parse_u64, "123456", 3, &v), 0);
        assert_int_equal(v, 123);
        assert_int_equal(PARSE_N(sv_parse_u64, "77\nxyz", 3, &v), 0);
        assert_int_equal(v, 77);
}

static void test_u64_failure_leaves_output_untouched(void **state)
{
        uint64_t v = 42;

        assert_int_equal(PARSE(sv_parse_u64, "12abc", &v), -EINVAL);
        assert_int_equal(PARSE(sv_parse_u64, OVERFLOW, &v), -ERANGE);
        assert_int_equal(v, 42);
}

/* ---- sv_parse_int -------------------------------------------------------- */

static void test_int_oom_score_adj_minimum(void **state)
{
        int v = 0;

        assert_int_equal(PARSE(sv_parse_int, "-1000\n", &v), 0);
        assert_int_equal(v, -1000);
}

static void test_int_positive_and_zero(void **state)
{
        int v = -1;

        assert_int_equal(PARSE(sv_parse_int, "0\n", &v), 0);
        assert_int_equal(v, 0);
        assert_int_equal(PARSE(sv_parse_int, "1000\n", &v), 0);
        assert_int_equal(v, 1000);
        assert_int_equal(PARSE(sv_parse_int, "60", &v), 0);
        assert_int_equal(v, 60);
}

/* sv_parse_int also reads vm.swappiness; the oom_score_adj range is the caller's. */
static void test_int_does_not_apply_oom_score_adj_range(void **state)
{
        int v = 0;

        assert_int_equal(PARSE(sv_parse_int, "1001\n", &v), 0);
        assert_int_equal(v, 1001);
        assert_int_equal(PARSE(sv_parse_int, "-1001\n", &v), 0);
        assert_int_equal(v, -1001);
}

static void test_int_limits(void **state)
{
        int v = 0;

        assert_int_equal(PARSE(sv_parse_int, "2147483647\n", &v), 0);
        assert_true(v == 2147483647);
        assert_int_equal(PARSE(sv_parse_int, "-2147483648\n", &v), 0);
        assert_true(v == -2147483647 - 1);
}

static void test_int_overflow_is_erange(void **state)
{
        int v = 5;

        assert_int_equal(PARSE(sv_parse_int, "2147483648\n", &v), -ERANGE);
        assert_int_equal(PARSE(sv_parse_int, "-2147483649\n", &v), -ERANGE);
        assert_int_equal(PARSE(sv_parse_int, OVERFLOW "\n", &v), -ERANGE);
        assert_int_equal(PARSE(sv_parse_int, "-" OVERFLOW "\n", &v), -ERANGE);
        assert_int_equal(v, 5);
}

static void test_int_garbage_is_einval(void **state)
{
        int v = 5;

        assert_int_equal(PARSE(sv_parse_int, "-\n", &v), -EINVAL);
        assert_int_equal(PARSE(sv_parse_int, "--1\n", &v), -EINVAL);
        assert_int_equal(PARSE(sv_parse_int, "1-\n", &v), -EINVAL);
        assert_int_equal(PARSE(sv_parse_int, "+1\n", &v), -EINVAL);
        assert_int_equal(PARSE(sv_parse_int, "12abc\n", &v), -EINVAL);
        assert_int_equal(PARSE(sv_parse_int, " -1\n", &v), -EINVAL);
        assert_int_equal(PARSE(sv_parse_int, "- 1\n", &v), -EINVAL);
        assert_int_equal(PARSE(sv_parse_int, "-1\n\n", &v), -EINVAL);
        assert_int_equal(v, 5);
}

static void test_int_empty_is_einval(void **state)
{
        int v = 5;

        assert_int_equal(PARSE(sv_parse_int, "", &v), -EINVAL);
        assert_int_equal(PARSE(sv_parse_int, "\n", &v), -EINVAL);
        assert_int_equal(v, 5);
}

static void test_int_reads_only_len_bytes(void **state)
{
        int v = 0;

        assert_int_equal(PARSE_N(sv_parse_int, "-100099", 5, &v), 0);
        assert_int_equal(v, -1000);
        assert_int_equal(PARSE_N(sv_parse_int, "-12", 1, &v), -EINVAL);
}

/* ---- sv_parse_limit ------------------------------------------------------ */

static void test_limit_max_is_limit_max(void **state)
{
        uint64_t v = 0;

        assert_int_equal(PARSE(sv_parse_limit, "max\n", &v), 0);
        assert_true(v == SV_LIMIT_MAX);
}

static void test_limit_max_without_newline(void **state)
{
        uint64_t v = 0;

        assert_int_equal(PARSE(sv_parse_limit, "max", &v), 0);
        assert_true(v == SV_LIMIT_MAX);
}

static void test_limit_bytes(void **state)
{
        uint64_t v = 0;

        assert_int_equal(PARSE(sv_parse_limit, "268435456\n", &v), 0);
        assert_int_equal(v, 268435456);
        assert_int_equal(PARSE(sv_parse_limit, "0\n", &v), 0);
        assert_int_equal(v, 0);
}

static void test_limit_garbage_is_einval(void **state)
{
        uint64_t v = 9;

        assert_int_equal(PARSE(sv_parse_limit, "Max\n", &v), -EINVAL);
        assert_int_equal(PARSE(sv_parse_limit, "maximum\n", &v), -EINVAL);
        assert_int_equal(PARSE(sv_parse_limit, "max \n", &v), -EINVAL);
        assert_int_equal(PARSE(sv_parse_limit, " max\n", &v), -EINVAL);
        assert_int_equal(PARSE(sv_parse_limit, "max\n\n", &v), -EINVAL);
        assert_int_equal(PARSE(sv_parse_limit, "12abc\n", &v), -EINVAL);
        assert_int_equal(PARSE(sv_parse_limit, "-1\n", &v), -EINVAL);
        assert_int_equal(PARSE(sv_parse_limit, "", &v), -EINVAL);
        assert_int_equal(PARSE(sv_parse_limit, "\n", &v), -EINVAL);
        assert_int_equal(v, 9);
}

static void test_limit_overflow_is_erange(void **state)
{
        uint64_t v = 9;

        assert_int_equal(PARSE(sv_parse_limit, OVERFLOW "\n", &v), -ERANGE);
        assert_int_equal(v, 9);
}

static void test_limit_max_cut_short_is_einval(void **state)
{
        uint64_t v = 9;

        assert_int_equal(PARSE_N(sv_parse_limit, "max\n", 2, &v), -EINVAL);
        assert_int_equal(v, 9);
}

static void test_limit_reads_only_len_bytes(void **state)
{
        uint64_t v = 0;

        assert_int_equal(PARSE_N(sv_parse_limit, "max\nimum", 4, &v), 0);
        assert_true(v == SV_LIMIT_MAX);
        assert_int_equal(PARSE_N(sv_parse_limit, "4096000", 4, &v), 0);
        assert_int_equal(v, 4096);
}

/* ---- sv_parse_bool01 ----------------------------------------------------- */

static void test_bool01_zero_and_one(void **state)
{
        bool b = true;

        assert_int_equal(PARSE(sv_parse_bool01, "0\n", &b), 0);
        assert_false(b);
        assert_int_equal(PARSE(sv_parse_bool01, "1\n", &b), 0);
        assert_true(b);
}

static void test_bool01_without_newline(void **state)
{
        bool b = false;

        assert_int_equal(PARSE(sv_parse_bool01, "1", &b), 0);
        assert_true(b);
}

static void test_bool01_other_values_are_einval(void **state)
{
        bool b = true;

        assert_int_equal(PARSE(sv_parse_bool01, "2\n", &b), -EINVAL);
        assert_int_equal(PARSE(sv_parse_bool01, "01\n", &b), -EINVAL);
        assert_int_equal(PARSE(sv_parse_bool01, "-1\n", &b), -EINVAL);
        assert_int_equal(PARSE(sv_parse_bool01, "true\n", &b), -EINVAL);
        assert_int_equal(PARSE(sv_parse_bool01, " 1\n", &b), -EINVAL);
        assert_int_equal(PARSE(sv_parse_bool01, "1\n\n", &b), -EINVAL);
        assert_int_equal(PARSE(sv_parse_bool01, "", &b), -EINVAL);
        assert_int_equal(PARSE(sv_parse_bool01, "\n", &b), -EINVAL);
        assert_true(b);
}

static void test_bool01_reads_only_len_bytes(void **state)
{
        bool b = true;

        assert_int_equal(PARSE_N(sv_parse_bool01, "0\n1", 2, &b), 0);
        assert_false(b);
        assert_int_equal(PARSE_N(sv_parse_bool01, "10", 1, &b), 0);
        assert_true(b);
}

/* ---- sv_parse_memory_events ---------------------------------------------- */

static void test_memory_events_6x(void **state)
{
        struct sv_memory_events ev = {};

        assert_int_equal(PARSE(sv_parse_memory_events, MEMORY_EVENTS_6X, &ev), 0);
        assert_int_equal(ev.low, 0);
        assert_int_equal(ev.high, 17);
        assert_int_equal(ev.max, 342);
        assert_int_equal(ev.oom, 3);
        assert_int_equal(ev.oom_kill, 2);
        assert_int_equal(ev.oom_group_kill, 1);
}

static void test_memory_events_without_oom_group_kill_is_pre_5_17(void **state)
{
        struct sv_memory_events ev;

        memset(&ev, 0xff, sizeof(ev));
        assert_int_equal(PARSE(sv_parse_memory_events, MEMORY_EVENTS_5X, &ev), 0);
        assert_int_equal(ev.low, 5);
        assert_int_equal(ev.max, 12);
        assert_int_equal(ev.oom, 1);
        assert_int_equal(ev.oom_kill, 1);
        assert_int_equal(ev.oom_group_kill, 0);
}

static void test_memory_events_without_trailing_newline(void **state)
{
        struct sv_memory_events ev = {};

        assert_int_equal(PARSE(sv_parse_memory_events,
                               "low 0\nhigh 0\nmax 0\noom 4\noom_kill 4\noom_group_kill 9", &ev),
                         0);
        assert_int_equal(ev.oom_group_kill, 9);
}

static void test_memory_events_unknown_keys_ignored(void **state)
{
        struct sv_memory_events ev = {};

        assert_int_equal(PARSE(sv_parse_memory_events,
                               "low 0\nhigh 1\nmax 2\nsock_throttled 99\noom 3\noom_kill 4\n"
                               "oom_group_kill 5\nfuture_event 18446744073709551615\n",
                               &ev),
                         0);
        assert_int_equal(ev.high, 1);
        assert_int_equal(ev.max, 2);
        assert_int_equal(ev.oom, 3);
        assert_int_equal(ev.oom_kill, 4);
        assert_int_equal(ev.oom_group_kill, 5);
}

static void test_memory_events_order_does_not_matter(void **state)
{
        struct sv_memory_events ev = {};

        assert_int_equal(PARSE(sv_parse_memory_events,
                               "oom_kill 4\noom 3\nmax 2\nhigh 1\nlow 7\n", &ev),
                         0);
        assert_int_equal(ev.low, 7);
        assert_int_equal(ev.oom_kill, 4);
}

static void test_memory_events_missing_oom_kill_is_truncated(void **state)
{
        struct sv_memory_events ev = {};

        assert_int_equal(PARSE_N(sv_parse_memory_events, MEMORY_EVENTS_6X,
                                 upto(MEMORY_EVENTS_6X, "oom_kill"), &ev),
                         -EINVAL);
}

static void test_memory_events_missing_each_required_key_is_einval(void **state)
{
        static const char *const samples[] = {
                "high 0\nmax 0\noom 0\noom_kill 0\n",
                "low 0\nmax 0\noom 0\noom_kill 0\n",
                "low 0\nhigh 0\noom 0\noom_kill 0\n",
                "low 0\nhigh 0\nmax 0\noom_kill 0\n",
                "low 0\nhigh 0\nmax 0\noom 0\noom_group_kill 0\n",
        };
        struct sv_memory_events ev = {};

        for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++)
                assert_int_equal(PARSE(sv_parse_memory_events, samples[i], &ev), -EINVAL);
}

static void test_memory_events_cut_inside_a_line_is_einval(void **state)
{
        struct sv_memory_events ev = {};
        size_t at = upto(MEMORY_EVENTS_6X, "oom_group_kill");

        /* "oom_gr": a key without a value */
        assert_int_equal(PARSE_N(sv_parse_memory_events, MEMORY_EVENTS_6X, at + 6, &ev),
                         -EINVAL);
        /* "oom_group_kill ": the value is missing */
        assert_int_equal(PARSE_N(sv_parse_memory_events, MEMORY_EVENTS_6X, at + 15, &ev),
                         -EINVAL);
}

static void test_memory_events_garbage_value_is_einval(void **state)
{
        struct sv_memory_events ev = {};

        assert_int_equal(PARSE(sv_parse_memory_events,
                               "low 0\nhigh 0\nmax 0\noom abc\noom_kill 0\n", &ev),
                         -EINVAL);
        assert_int_equal(PARSE(sv_parse_memory_events,
                               "low 0\nhigh 0\nmax 0\noom 12abc\noom_kill 0\n", &ev),
                         -EINVAL);
}

static void test_memory_events_negative_value_is_einval(void **state)
{
        struct sv_memory_events ev = {};

        assert_int_equal(PARSE(sv_parse_memory_events,
                               "low 0\nhigh 0\nmax -1\noom 0\noom_kill 0\n", &ev),
                         -EINVAL);
}

static void test_memory_events_overflow_is_erange(void **state)
{
        struct sv_memory_events ev = {};

        assert_int_equal(PARSE(sv_parse_memory_events,
                               "low 0\nhigh 0\nmax 0\noom " OVERFLOW "\noom_kill 0\n", &ev),
                         -ERANGE);
}

static void test_memory_events_malformed_unknown_line_is_einval(void **state)
{
        struct sv_memory_events ev = {};

        assert_int_equal(PARSE(sv_parse_memory_events,
                               "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\nnonsense\n", &ev),
                         -EINVAL);
        assert_int_equal(PARSE(sv_parse_memory_events,
                               "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\nnew_key x\n", &ev),
                         -EINVAL);
}

static void test_memory_events_separator_must_be_one_space(void **state)
{
        struct sv_memory_events ev = {};

        assert_int_equal(PARSE(sv_parse_memory_events,
                               "low 0\nhigh 0\nmax  0\noom 0\noom_kill 0\n", &ev),
                         -EINVAL);
        assert_int_equal(PARSE(sv_parse_memory_events,
                               "low 0\nhigh 0\nmax\t0\noom 0\noom_kill 0\n", &ev),
                         -EINVAL);
        assert_int_equal(PARSE(sv_parse_memory_events,
                               "low 0\nhigh 0\n max 0\noom 0\noom_kill 0\n", &ev),
                         -EINVAL);
        assert_int_equal(PARSE(sv_parse_memory_events,
                               "low 0\nhigh 0\nmax 0 \noom 0\noom_kill 0\n", &ev),
                         -EINVAL);
}

static void test_memory_events_empty_line_is_einval(void **state)
{
        struct sv_memory_events ev = {};

        assert_int_equal(PARSE(sv_parse_memory_events,
                               "low 0\nhigh 0\n\nmax 0\noom 0\noom_kill 0\n", &ev),
                         -EINVAL);
        assert_int_equal(PARSE(sv_parse_memory_events, MEMORY_EVENTS_6X "\n", &ev), -EINVAL);
}

static void test_memory_events_duplicate_key_is_einval(void **state)
{
        struct sv_memory_events ev = {};

        assert_int_equal(PARSE(sv_parse_memory_events, MEMORY_EVENTS_6X "oom 5\n", &ev),
                         -EINVAL);
}

static void test_memory_events_empty_is_einval(void **state)
{
        struct sv_memory_events ev = {};

        assert_int_equal(PARSE(sv_parse_memory_events, "", &ev), -EINVAL);
        assert_int_equal(PARSE(sv_parse_memory_events, "\n", &ev), -EINVAL);
        assert_int_equal(sv_parse_memory_events(NULL, 0, &ev), -EINVAL);
}

static void test_memory_events_reads_only_len_bytes(void **state)
{
        struct sv_memory_events ev = {};
        const char *s = MEMORY_EVENTS_5X "oom_group_kill 8\n";

        assert_int_equal(PARSE_N(sv_parse_memory_events, s, strlen(MEMORY_EVENTS_5X), &ev), 0);
        assert_int_equal(ev.oom_group_kill, 0);
        /* "oom_kill 1" cut to "oom_kill " */
        assert_int_equal(PARSE_N(sv_parse_memory_events, s, strlen(MEMORY_EVENTS_5X) - 2, &ev),
                         -EINVAL);
}

static void test_memory_events_failure_leaves_output_untouched(void **state)
{
        struct sv_memory_events ev, before;

        memset(&ev, 0xa5, sizeof(ev));
        before = ev;
        assert_int_equal(PARSE(sv_parse_memory_events, "low 1\nhigh 2\nmax 3\noom 4\n", &ev),
                         -EINVAL);
        assert_memory_equal(&ev, &before, sizeof(ev));
}

/* ---- sv_parse_psi -------------------------------------------------------- */

static void test_psi_some_and_full(void **state)
{
        struct sv_psi psi = {};

        assert_int_equal(PARSE(sv_parse_psi, PSI_SAMPLE, &psi), 0);
        assert_true(psi.some.avg10 == 1.53);
        assert_true(psi.some.avg60 == 0.87);
        assert_true(psi.some.avg300 == 0.21);
        assert_int_equal(psi.some.total_usec, 1234567);
        assert_true(psi.has_full);
        assert_true(psi.full.avg10 == 0.50);
        assert_true(psi.full.avg60 == 0.25);
        assert_true(psi.full.avg300 == 0.07);
        assert_int_equal(psi.full.total_usec, 456789);
}

static void test_psi_idle_group(void **state)
{
        struct sv_psi psi;

        memset(&psi, 0xff, sizeof(psi));
        assert_int_equal(PARSE(sv_parse_psi,
                               "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
                               "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
                               &psi),
                         0);
        assert_true(psi.some.avg10 == 0.0 && psi.some.avg60 == 0.0 && psi.some.avg300 == 0.0);
        assert_int_equal(psi.some.total_usec, 0);
        assert_true(psi.has_full);
        assert_int_equal(psi.full.total_usec, 0);
}

static void test_psi_full_pressure_and_large_total(void **state)
{
        struct sv_psi psi = {};

        assert_int_equal(PARSE(sv_parse_psi,
                               "some avg10=100.00 avg60=99.99 avg300=42.10 "
                               "total=18446744073709551615\n"
                               "full avg10=100.00 avg60=98.00 avg300=40.00 total=9876543210\n",
                               &psi),
                         0);
        assert_true(psi.some.avg10 == 100.0);
        assert_true(psi.some.avg60 == 99.99);
        assert_true(psi.some.total_usec == UINT64_MAX);
        assert_int_equal(psi.full.total_usec, 9876543210ULL);
}

static void test_psi_without_full_line(void **state)
{
        struct sv_psi psi;

        memset(&psi, 0xff, sizeof(psi));
        assert_int_equal(PARSE(sv_parse_psi, "some avg10=2.00 avg60=1.00 avg300=0.50 total=77\n",
                               &psi),
                         0);
        assert_true(psi.some.avg10 == 2.0);
        assert_int_equal(psi.some.total_usec, 77);
        assert_false(psi.has_full);
        assert_true(psi.full.avg10 == 0.0 && psi.full.avg60 == 0.0 && psi.full.avg300 == 0.0);
        assert_int_equal(psi.full.total_usec, 0);
}

static void test_psi_without_trailing_newline(void **state)
{
        struct sv_psi psi = {};

        assert_int_equal(PARSE_N(sv_parse_psi, PSI_SAMPLE, strlen(PSI_SAMPLE) - 1, &psi), 0);
        assert_true(psi.has_full);
        assert_int_equal(psi.full.total_usec, 456789);
}

static void test_psi_integer_averages_accepted(void **state)
{
        struct sv_psi psi = {};

        assert_int_equal(PARSE(sv_parse_psi, "some avg10=1 avg60=2 avg300=3 total=4\n", &psi), 0);
        assert_true(psi.some.avg10 == 1.0 && psi.some.avg60 == 2.0 && psi.some.avg300 == 3.0);
}

static void test_psi_missing_some_is_einval(void **state)
{
        struct sv_psi psi = {};

        assert_int_equal(PARSE(sv_parse_psi, "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
                               &psi),
                         -EINVAL);
}

static void test_psi_full_before_some_accepted(void **state)
{
        struct sv_psi psi = {};

        assert_int_equal(PARSE(sv_parse_psi,
                               "full avg10=0.50 avg60=0.25 avg300=0.07 total=456789\n"
                               "some avg10=1.53 avg60=0.87 avg300=0.21 total=1234567\n",
                               &psi),
                         0);
        assert_true(psi.has_full);
        assert_int_equal(psi.some.total_usec, 1234567);
        assert_int_equal(psi.full.total_usec, 456789);
}

static void test_psi_cut_inside_some_line_is_einval(void **state)
{
        struct sv_psi psi = {};

        /* "some avg10=1.53 avg60=0.8": avg300 and total missing */
        assert_int_equal(PARSE_N(sv_parse_psi, PSI_SAMPLE, upto(PSI_SAMPLE, "7 avg300"), &psi),
                         -EINVAL);
        /* "some": no fields at all */
        assert_int_equal(PARSE_N(sv_parse_psi, PSI_SAMPLE, 4, &psi), -EINVAL);
        /* "some ": an empty field */
        assert_int_equal(PARSE_N(sv_parse_psi, PSI_SAMPLE, 5, &psi), -EINVAL);
}

static void test_psi_cut_inside_full_line_is_einval(void **state)
{
        struct sv_psi psi = {};
        size_t full = upto(PSI_SAMPLE, "full");

        /* "full avg6": a field without '=' */
        assert_int_equal(PARSE_N(sv_parse_psi, PSI_SAMPLE, full + 9, &psi), -EINVAL);
        /* "full avg10=0.50 avg60=0.25 avg300=0.07 total=": an empty total */
        assert_int_equal(PARSE_N(sv_parse_psi, PSI_SAMPLE, upto(PSI_SAMPLE, "456789"), &psi),
                         -EINVAL);
        /* "full": a line with just the kind */
        assert_int_equal(PARSE_N(sv_parse_psi, PSI_SAMPLE, full + 4, &psi), -EINVAL);
}

static void test_psi_cut_after_some_line_has_no_full(void **state)
{
        struct sv_psi psi = {};

        assert_int_equal(PARSE_N(sv_parse_psi, PSI_SAMPLE, upto(PSI_SAMPLE, "full"), &psi), 0);
        assert_false(psi.has_full);
        assert_int_equal(psi.some.total_usec, 1234567);
}

static void test_psi_garbage_averages_are_einval(void **state)
{
        static const char *const bad[] = {
                "some avg10=abc avg60=0.00 avg300=0.00 total=0\n",
                "some avg10=-1.00 avg60=0.00 avg300=0.00 total=0\n",
                "some avg10=+1.00 avg60=0.00 avg300=0.00 total=0\n",
                "some avg10=1e3 avg60=0.00 avg300=0.00 total=0\n",
                "some avg10=inf avg60=0.00 avg300=0.00 total=0\n",
                "some avg10=nan avg60=0.00 avg300=0.00 total=0\n",
                "some avg10=0x10 avg60=0.00 avg300=0.00 total=0\n",
                "some avg10=1. avg60=0.00 avg300=0.00 total=0\n",
                "some avg10=.5 avg60=0.00 avg300=0.00 total=0\n",
                "some avg10=1.2.3 avg60=0.00 avg300=0.00 total=0\n",
                "some avg10=1,50 avg60=0.00 avg300=0.00 total=0\n",
                "some avg10= avg60=0.00 avg300=0.00 total=0\n",
        };
        struct sv_psi psi = {};

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                assert_int_equal(PARSE(sv_parse_psi, bad[i], &psi), -EINVAL);
}

/* psi_show() prints at most "100.00"; a number that long is not PSI. */
static void test_psi_overlong_average_is_einval(void **state)
{
        struct sv_psi psi = {};

        assert_int_equal(PARSE(sv_parse_psi,
                               "some avg10=000000000000000000000000000000001.00 avg60=0.00 "
                               "avg300=0.00 total=0\n",
                               &psi),
                         -EINVAL);
}

static void test_psi_garbage_total_is_einval(void **state)
{
        struct sv_psi psi = {};

        assert_int_equal(PARSE(sv_parse_psi, "some avg10=0.00 avg60=0.00 avg300=0.00 total=1.5\n",
                               &psi),
                         -EINVAL);
        assert_int_equal(PARSE(sv_parse_psi, "some avg10=0.00 avg60=0.00 avg300=0.00 total=-1\n",
                               &psi),
                         -EINVAL);
}

static void test_psi_total_overflow_is_erange(void **state)
{
        struct sv_psi psi = {};

        assert_int_equal(PARSE(sv_parse_psi,
                               "some avg10=0.00 avg60=0.00 avg300=0.00 total=" OVERFLOW "\n",
                               &psi),
                         -ERANGE);
}

static void test_psi_missing_field_is_einval(void **state)
{
        struct sv_psi psi = {};

        assert_int_equal(PARSE(sv_parse_psi, "some avg10=0.00 avg60=0.00 total=0\n", &psi),
                         -EINVAL);
        assert_int_equal(PARSE(sv_parse_psi, "some avg10=0.00 avg60=0.00 avg300=0.00\n", &psi),
                         -EINVAL);
}

static void test_psi_duplicate_field_or_line_is_einval(void **state)
{
        struct sv_psi psi = {};

        assert_int_equal(PARSE(sv_parse_psi,
                               "some avg10=0.00 avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
                               &psi),
                         -EINVAL);
        assert_int_equal(PARSE(sv_parse_psi, PSI_SAMPLE "some avg10=0.00 avg60=0.00 "
                                             "avg300=0.00 total=0\n",
                               &psi),
                         -EINVAL);
}

static void test_psi_unknown_fields_and_lines_ignored(void **state)
{
        struct sv_psi psi = {};

        assert_int_equal(PARSE(sv_parse_psi,
                               "some avg10=0.10 avg60=0.20 avg300=0.30 total=40 avg900=0.40\n"
                               "other avg10=9.99 avg60=9.99 avg300=9.99 total=9\n",
                               &psi),
                         0);
        assert_true(psi.some.avg300 == 0.30);
        assert_int_equal(psi.some.total_usec, 40);
        assert_false(psi.has_full);
}

static void test_psi_spacing_must_be_single_spaces(void **state)
{
        struct sv_psi psi = {};

        assert_int_equal(PARSE(sv_parse_psi, "some  avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
                               &psi),
                         -EINVAL);
        assert_int_equal(PARSE(sv_parse_psi, "some avg10=0.00 avg60=0.00 avg300=0.00 total=0 \n",
                               &psi),
                         -EINVAL);
        assert_int_equal(PARSE(sv_parse_psi, "some\tavg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
                               &psi),
                         -EINVAL);
        assert_int_equal(PARSE(sv_parse_psi, "some avg10 = 0.00 avg60=0.00 avg300=0.00 total=0\n",
                               &psi),
                         -EINVAL);
}

static void test_psi_empty_or_blank_line_is_einval(void **state)
{
        struct sv_psi psi = {};

        assert_int_equal(PARSE(sv_parse_psi, "", &psi), -EINVAL);
        assert_int_equal(PARSE(sv_parse_psi, "\n", &psi), -EINVAL);
        assert_int_equal(PARSE(sv_parse_psi, PSI_SAMPLE "\n", &psi), -EINVAL);
}

static void test_psi_reads_only_len_bytes(void **state)
{
        static const char s[] = "some avg10=1.25 avg60=0.50 avg300=0.25 total=1000999";
        struct sv_psi psi = {};

        /* The digits after the length must not become part of total or avg300. */
        assert_int_equal(PARSE_N(sv_parse_psi, s, sizeof(s) - 1 - 3, &psi), 0);
        assert_int_equal(psi.some.total_usec, 1000);
        assert_int_equal(PARSE_N(sv_parse_psi, s, upto(s, " total"), &psi), -EINVAL);
}

static void test_psi_failure_leaves_output_untouched(void **state)
{
        struct sv_psi psi, before;

        memset(&psi, 0x5a, sizeof(psi));
        before = psi;
        assert_int_equal(PARSE(sv_parse_psi,
                               "some avg10=1.00 avg60=1.00 avg300=1.00 total=1\n"
                               "full avg10=x avg60=0.00 avg300=0.00 total=0\n",
                               &psi),
                         -EINVAL);
        assert_memory_equal(&psi, &before, sizeof(psi));
}

/* ---- sv_parse_memory_stat ------------------------------------------------ */

static void test_memory_stat_6x(void **state)
{
        struct sv_memory_stat st = {};

        assert_int_equal(PARSE(sv_parse_memory_stat, MEMORY_STAT_6X, &st), 0);
        assert_int_equal(st.anon, 123904000);
        assert_int_equal(st.file, 456704000);
        assert_int_equal(st.kernel, 24117248);
        assert_int_equal(st.kernel_stack, 1654784);
        assert_int_equal(st.pagetables, 3514368);
        assert_int_equal(st.sock, 8192);
        assert_int_equal(st.shmem, 2297856);
        assert_int_equal(st.file_mapped, 98304000);
        assert_int_equal(st.file_dirty, 135168);
        assert_int_equal(st.file_writeback, 4096);
        assert_int_equal(st.swapcached, 65536);
        assert_int_equal(st.active_anon, 6201856);
        assert_int_equal(st.inactive_anon, 120000000);
        assert_int_equal(st.active_file, 156704000);
        assert_int_equal(st.inactive_file, 300000000);
        assert_int_equal(st.unevictable, 12288);
        assert_int_equal(st.slab, 18500000);
        assert_int_equal(st.workingset_refault_anon, 17);
        assert_int_equal(st.workingset_refault_file, 2345);
        assert_int_equal(st.pgscan, 98765);
        assert_int_equal(st.pgsteal, 87654);
        assert_int_equal(st.pgfault, 3456789);
        assert_int_equal(st.pgmajfault, 1234);
}

/* "kernel" is 5.18+, workingset_refault_{anon,file} 5.9+. */
static void test_memory_stat_5_4_without_kernel_key(void **state)
{
        struct sv_memory_stat st;

        memset(&st, 0xff, sizeof(st));
        assert_int_equal(PARSE(sv_parse_memory_stat, MEMORY_STAT_5_4, &st), 0);
        assert_int_equal(st.anon, 8192000);
        assert_int_equal(st.file, 4096000);
        assert_int_equal(st.kernel, 0);
        assert_int_equal(st.kernel_stack, 73728);
        assert_int_equal(st.slab, 1835008);
        assert_int_equal(st.active_anon, 8110080);
        assert_int_equal(st.workingset_refault_anon, 0);
        assert_int_equal(st.workingset_refault_file, 0);
        assert_int_equal(st.pgfault, 4620);
        assert_int_equal(st.pgmajfault, 3);
}

static void test_memory_stat_only_anon_and_file(void **state)
{
        struct sv_memory_stat st, zero = {};

        memset(&st, 0xff, sizeof(st));
        assert_int_equal(PARSE(sv_parse_memory_stat, "anon 4096\nfile 8192\n", &st), 0);
        assert_int_equal(st.anon, 4096);
        assert_int_equal(st.file, 8192);
        st.anon = st.file = 0;
        assert_memory_equal(&st, &zero, sizeof(st));
}

static void test_memory_stat_without_trailing_newline(void **state)
{
        struct sv_memory_stat st = {};

        assert_int_equal(PARSE_N(sv_parse_memory_stat, MEMORY_STAT_6X, strlen(MEMORY_STAT_6X) - 1,
                                 &st),
                         0);
        assert_int_equal(st.pgmajfault, 1234);
}

static void test_memory_stat_unknown_keys_ignored(void **state)
{
        struct sv_memory_stat st = {};

        assert_int_equal(PARSE(sv_parse_memory_stat,
                               "anon 1\nzswap 2\nfile 3\nsec_pagetables 4\nhugetlb 5\n"
                               "thp_swpout 6\nsome_7_0_counter 18446744073709551615\n",
                               &st),
                         0);
        assert_int_equal(st.anon, 1);
        assert_int_equal(st.file, 3);
}

static void test_memory_stat_prefix_keys_not_confused(void **state)
{
        struct sv_memory_stat st = {};

        /* "slab_reclaimable" is not "slab", "pgscan_kswapd" not "pgscan". */
        assert_int_equal(PARSE(sv_parse_memory_stat,
                               "anon 1\nfile 2\nslab_reclaimable 30\npgscan_kswapd 40\n"
                               "anon_thp 50\nfile_thp 60\nkernel_stack 70\n",
                               &st),
                         0);
        assert_int_equal(st.anon, 1);
        assert_int_equal(st.file, 2);
        assert_int_equal(st.slab, 0);
        assert_int_equal(st.pgscan, 0);
        assert_int_equal(st.kernel, 0);
        assert_int_equal(st.kernel_stack, 70);
}

static void test_memory_stat_missing_anon_is_einval(void **state)
{
        struct sv_memory_stat st = {};

        assert_int_equal(PARSE(sv_parse_memory_stat, "file 8192\nkernel 4096\n", &st), -EINVAL);
}

static void test_memory_stat_missing_file_is_einval(void **state)
{
        struct sv_memory_stat st = {};

        assert_int_equal(PARSE(sv_parse_memory_stat, "anon 8192\nkernel 4096\n", &st), -EINVAL);
        /* cut right after the first line */
        assert_int_equal(PARSE_N(sv_parse_memory_stat, MEMORY_STAT_6X,
                                 upto(MEMORY_STAT_6X, "file"), &st),
                         -EINVAL);
}

static void test_memory_stat_cut_inside_a_line_is_einval(void **state)
{
        struct sv_memory_stat st = {};
        size_t at = upto(MEMORY_STAT_6X, "pgmajfault");

        /* "pgma" */
        assert_int_equal(PARSE_N(sv_parse_memory_stat, MEMORY_STAT_6X, at + 4, &st), -EINVAL);
        /* "pgmajfault " */
        assert_int_equal(PARSE_N(sv_parse_memory_stat, MEMORY_STAT_6X, at + 11, &st), -EINVAL);
}

/* Past anon and file a cut at a line boundary is indistinguishable from an older kernel. */
static void test_memory_stat_cut_after_required_keys_is_accepted(void **state)
{
        struct sv_memory_stat st = {};

        assert_int_equal(PARSE_N(sv_parse_memory_stat, MEMORY_STAT_6X,
                                 upto(MEMORY_STAT_6X, "slab_reclaimable"), &st),
                         0);
        assert_int_equal(st.unevictable, 12288);
        assert_int_equal(st.slab, 0);
}

static void test_memory_stat_garbage_value_is_einval(void **state)
{
        struct sv_memory_stat st = {};

        assert_int_equal(PARSE(sv_parse_memory_stat, "anon 12k\nfile 0\n", &st), -EINVAL);
        assert_int_equal(PARSE(sv_parse_memory_stat, "anon 1\nfile 0\nslab -5\n", &st), -EINVAL);
        assert_int_equal(PARSE(sv_parse_memory_stat, "anon 1\nfile 0\nnonsense\n", &st),
                         -EINVAL);
        assert_int_equal(PARSE(sv_parse_memory_stat, "anon 1\nfile 0\n\nslab 5\n", &st),
                         -EINVAL);
        assert_int_equal(PARSE(sv_parse_memory_stat, "anon 1\nfile 0\nslab  5\n", &st),
                         -EINVAL);
}

static void test_memory_stat_overflow_is_erange(void **state)
{
        struct sv_memory_stat st = {};

        assert_int_equal(PARSE(sv_parse_memory_stat, "anon " OVERFLOW "\nfile 0\n", &st),
                         -ERANGE);
}

static void test_memory_stat_duplicate_key_is_einval(void **state)
{
        struct sv_memory_stat st = {};

        assert_int_equal(PARSE(sv_parse_memory_stat, MEMORY_STAT_6X MEMORY_STAT_6X, &st),
                         -EINVAL);
}

static void test_memory_stat_empty_is_einval(void **state)
{
        struct sv_memory_stat st = {};

        assert_int_equal(PARSE(sv_parse_memory_stat, "", &st), -EINVAL);
        assert_int_equal(PARSE(sv_parse_memory_stat, "\n", &st), -EINVAL);
}

static void test_memory_stat_reads_only_len_bytes(void **state)
{
        static const char s[] = "anon 4096\nfile 123456";
        struct sv_memory_stat st = {};

        assert_int_equal(PARSE_N(sv_parse_memory_stat, s, sizeof(s) - 1 - 3, &st), 0);
        assert_int_equal(st.file, 123);
}

static void test_memory_stat_failure_leaves_output_untouched(void **state)
{
        struct sv_memory_stat st, before;

        memset(&st, 0x3c, sizeof(st));
        before = st;
        assert_int_equal(PARSE(sv_parse_memory_stat, "anon 1\nkernel 2\n", &st), -EINVAL);
        assert_memory_equal(&st, &before, sizeof(st));
}

/* ---- sv_parse_cgroup_events ---------------------------------------------- */

static void test_cgroup_events_populated(void **state)
{
        struct sv_cgroup_events ev = {};

        assert_int_equal(PARSE(sv_parse_cgroup_events, "populated 1\nfrozen 0\n", &ev), 0);
        assert_true(ev.populated);
        assert_false(ev.frozen);
}

static void test_cgroup_events_frozen_and_empty(void **state)
{
        struct sv_cgroup_events ev = { .populated = true };

        assert_int_equal(PARSE(sv_parse_cgroup_events, "populated 0\nfrozen 1\n", &ev), 0);
        assert_false(ev.populated);
        assert_true(ev.frozen);
}

/* frozen arrived in 5.2 */
static void test_cgroup_events_without_frozen(void **state)
{
        struct sv_cgroup_events ev = { .frozen = true };

        assert_int_equal(PARSE(sv_parse_cgroup_events, "populated 1\n", &ev), 0);
        assert_true(ev.populated);
        assert_false(ev.frozen);
}

static void test_cgroup_events_without_trailing_newline(void **state)
{
        struct sv_cgroup_events ev = {};

        assert_int_equal(PARSE(sv_parse_cgroup_events, "populated 1\nfrozen 1", &ev), 0);
        assert_true(ev.populated);
        assert_true(ev.frozen);
}

static void test_cgroup_events_unknown_keys_ignored(void **state)
{
        struct sv_cgroup_events ev = {};

        assert_int_equal(PARSE(sv_parse_cgroup_events, "populated 1\nfrozen 0\nthawing 5\n", &ev),
                         0);
        assert_true(ev.populated);
}

static void test_cgroup_events_missing_populated_is_einval(void **state)
{
        struct sv_cgroup_events ev = {};

        assert_int_equal(PARSE(sv_parse_cgroup_events, "frozen 0\n", &ev), -EINVAL);
}

static void test_cgroup_events_cut_inside_a_line_is_einval(void **state)
{
        struct sv_cgroup_events ev = {};

        assert_int_equal(PARSE_N(sv_parse_cgroup_events, "populated 1\n", 5, &ev), -EINVAL);
        assert_int_equal(PARSE_N(sv_parse_cgroup_events, "populated 1\nfrozen 0\n", 19, &ev),
                         -EINVAL);
}

static void test_cgroup_events_value_not_0_or_1_is_einval(void **state)
{
        struct sv_cgroup_events ev = {};

        assert_int_equal(PARSE(sv_parse_cgroup_events, "populated 2\nfrozen 0\n", &ev), -EINVAL);
        assert_int_equal(PARSE(sv_parse_cgroup_events, "populated 1\nfrozen 7\n", &ev), -EINVAL);
        assert_int_equal(PARSE(sv_parse_cgroup_events, "populated yes\n", &ev), -EINVAL);
        assert_int_equal(PARSE(sv_parse_cgroup_events, "populated -1\n", &ev), -EINVAL);
        assert_int_equal(PARSE(sv_parse_cgroup_events, "populated " OVERFLOW "\n", &ev),
                         -ERANGE);
}

static void test_cgroup_events_empty_is_einval(void **state)
{
        struct sv_cgroup_events ev = {};

        assert_int_equal(PARSE(sv_parse_cgroup_events, "", &ev), -EINVAL);
        assert_int_equal(PARSE(sv_parse_cgroup_events, "\n", &ev), -EINVAL);
}

static void test_cgroup_events_reads_only_len_bytes(void **state)
{
        struct sv_cgroup_events ev = {};

        assert_int_equal(PARSE_N(sv_parse_cgroup_events, "populated 10", 11, &ev), 0);
        assert_true(ev.populated);
}

static void test_cgroup_events_failure_leaves_output_untouched(void **state)
{
        struct sv_cgroup_events ev = { .populated = true, .frozen = true };

        assert_int_equal(PARSE(sv_parse_cgroup_events, "populated 0\nfrozen 2\n", &ev), -EINVAL);
        assert_true(ev.populated);
        assert_true(ev.frozen);
}

/* ---- sv_parse_controllers ------------------------------------------------ */

static void test_controllers_all_known(void **state)
{
        unsigned m = 0;

        assert_int_equal(PARSE(sv_parse_controllers,
                               "cpuset cpu io memory hugetlb pids rdma misc\n", &m),
                         0);
        assert_int_equal(m, SV_CTRL_CPUSET | SV_CTRL_CPU | SV_CTRL_IO | SV_CTRL_MEMORY |
                                    SV_CTRL_HUGETLB | SV_CTRL_PIDS | SV_CTRL_RDMA | SV_CTRL_MISC);
}

static void test_controllers_subset(void **state)
{
        unsigned m = 0;

        assert_int_equal(PARSE(sv_parse_controllers, "cpu io memory pids\n", &m), 0);
        assert_int_equal(m, SV_CTRL_CPU | SV_CTRL_IO | SV_CTRL_MEMORY | SV_CTRL_PIDS);
        assert_int_equal(PARSE(sv_parse_controllers, "memory\n", &m), 0);
        assert_int_equal(m, SV_CTRL_MEMORY);
}

static void test_controllers_empty_is_zero(void **state)
{
        unsigned m = 99;

        assert_int_equal(PARSE(sv_parse_controllers, "", &m), 0);
        assert_int_equal(m, 0);
        m = 99;
        assert_int_equal(PARSE(sv_parse_controllers, "\n", &m), 0);
        assert_int_equal(m, 0);
        m = 99;
        assert_int_equal(sv_parse_controllers(NULL, 0, &m), 0);
        assert_int_equal(m, 0);
}

static void test_controllers_without_trailing_newline(void **state)
{
        unsigned m = 0;

        assert_int_equal(PARSE(sv_parse_controllers, "memory pids", &m), 0);
        assert_int_equal(m, SV_CTRL_MEMORY | SV_CTRL_PIDS);
}

static void test_controllers_unknown_names_ignored(void **state)
{
        unsigned m = 0;

        assert_int_equal(PARSE(sv_parse_controllers, "cpu dmem memory perf_event\n", &m), 0);
        assert_int_equal(m, SV_CTRL_CPU | SV_CTRL_MEMORY);
        assert_int_equal(PARSE(sv_parse_controllers, "dmem\n", &m), 0);
        assert_int_equal(m, 0);
}

static void test_controllers_names_match_whole_words(void **state)
{
        unsigned m = 0;

        assert_int_equal(PARSE(sv_parse_controllers, "cpuset\n", &m), 0);
        assert_int_equal(m, SV_CTRL_CPUSET);
        assert_int_equal(PARSE(sv_parse_controllers, "memoryx cp MEMORY\n", &m), 0);
        assert_int_equal(m, 0);
}

static void test_controllers_bad_spacing_is_einval(void **state)
{
        unsigned m = 7;

        assert_int_equal(PARSE(sv_parse_controllers, "cpu  memory\n", &m), -EINVAL);
        assert_int_equal(PARSE(sv_parse_controllers, " cpu memory\n", &m), -EINVAL);
        assert_int_equal(PARSE(sv_parse_controllers, "cpu memory \n", &m), -EINVAL);
        assert_int_equal(PARSE(sv_parse_controllers, " \n", &m), -EINVAL);
        assert_int_equal(m, 7);
}

static void test_controllers_several_lines_are_einval(void **state)
{
        unsigned m = 7;

        assert_int_equal(PARSE(sv_parse_controllers, "cpu\nmemory\n", &m), -EINVAL);
        assert_int_equal(PARSE(sv_parse_controllers, "cpu memory\n\n", &m), -EINVAL);
        assert_int_equal(PARSE(sv_parse_controllers, "\n\n", &m), -EINVAL);
        assert_int_equal(m, 7);
}

static void test_controllers_reads_only_len_bytes(void **state)
{
        unsigned m = 0;

        assert_int_equal(PARSE_N(sv_parse_controllers, "cpu memory", 3, &m), 0);
        assert_int_equal(m, SV_CTRL_CPU);
        /* "cpuset" cut to "cpu" */
        assert_int_equal(PARSE_N(sv_parse_controllers, "cpuset", 3, &m), 0);
        assert_int_equal(m, SV_CTRL_CPU);
}

/* ---- sv_parse_pids ------------------------------------------------------- */

static void test_pids_list(void **state)
{
        int *pids = NULL;
        size_t n = 0;

        assert_int_equal(PARSE(sv_parse_pids, "1\n22\n333\n2147483647\n", &pids, &n), 0);
        assert_int_equal(n, 4);
        assert_non_null(pids);
        assert_int_equal(pids[0], 1);
        assert_int_equal(pids[1], 22);
        assert_int_equal(pids[2], 333);
        assert_int_equal(pids[3], 2147483647);
        free(pids);
}

static void test_pids_empty_is_null(void **state)
{
        int dummy, *pids = &dummy;
        size_t n = 5;

        assert_int_equal(PARSE(sv_parse_pids, "", &pids, &n), 0);
        assert_null(pids);
        assert_int_equal(n, 0);

        pids = &dummy;
        n = 5;
        assert_int_equal(sv_parse_pids(NULL, 0, &pids, &n), 0);
        assert_null(pids);
        assert_int_equal(n, 0);
}

static void test_pids_without_trailing_newline(void **state)
{
        int *pids = NULL;
        size_t n = 0;

        assert_int_equal(PARSE(sv_parse_pids, "10\n20", &pids, &n), 0);
        assert_int_equal(n, 2);
        assert_int_equal(pids[0], 10);
        assert_int_equal(pids[1], 20);
        free(pids);
}

static void test_pids_single(void **state)
{
        int *pids = NULL;
        size_t n = 0;

        assert_int_equal(PARSE(sv_parse_pids, "600\n", &pids, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(pids[0], 600);
        free(pids);
}

static void test_pids_many(void **state)
{
        char buf[8 * 5000 + 1], *p = buf;
        int *pids = NULL;
        size_t n = 0;

        for (int i = 1; i <= 5000; i++)
                p += sprintf(p, "%d\n", i * 7);
        assert_int_equal(PARSE(sv_parse_pids, buf, &pids, &n), 0);
        assert_int_equal(n, 5000);
        for (size_t i = 0; i < n; i++)
                assert_int_equal(pids[i], (int)(i + 1) * 7);
        free(pids);
}

static void test_pids_zero_is_einval(void **state)
{
        int *pids = NULL;
        size_t n = 0;

        assert_int_equal(PARSE(sv_parse_pids, "1\n0\n", &pids, &n), -EINVAL);
        assert_null(pids);
}

static void test_pids_negative_is_einval(void **state)
{
        int *pids = NULL;
        size_t n = 0;

        assert_int_equal(PARSE(sv_parse_pids, "1\n-5\n", &pids, &n), -EINVAL);
}

static void test_pids_garbage_is_einval(void **state)
{
        int *pids = NULL;
        size_t n = 0;

        assert_int_equal(PARSE(sv_parse_pids, "1\n2x\n", &pids, &n), -EINVAL);
        assert_int_equal(PARSE(sv_parse_pids, "1 2\n", &pids, &n), -EINVAL);
        assert_int_equal(PARSE(sv_parse_pids, " 1\n", &pids, &n), -EINVAL);
        assert_int_equal(PARSE(sv_parse_pids, "+1\n", &pids, &n), -EINVAL);
        assert_null(pids);
}

static void test_pids_empty_line_is_einval(void **state)
{
        int *pids = NULL;
        size_t n = 0;

        assert_int_equal(PARSE(sv_parse_pids, "\n", &pids, &n), -EINVAL);
        assert_int_equal(PARSE(sv_parse_pids, "1\n\n2\n", &pids, &n), -EINVAL);
        assert_int_equal(PARSE(sv_parse_pids, "1\n2\n\n", &pids, &n), -EINVAL);
        assert_null(pids);
}

static void test_pids_overflow_is_erange(void **state)
{
        int *pids = NULL;
        size_t n = 0;

        assert_int_equal(PARSE(sv_parse_pids, "1\n2147483648\n", &pids, &n), -ERANGE);
        assert_int_equal(PARSE(sv_parse_pids, OVERFLOW "\n", &pids, &n), -ERANGE);
        assert_null(pids);
}

static void test_pids_reads_only_len_bytes(void **state)
{
        int *pids = NULL;
        size_t n = 0;

        assert_int_equal(PARSE_N(sv_parse_pids, "100\n2009", 7, &pids, &n), 0);
        assert_int_equal(n, 2);
        assert_int_equal(pids[0], 100);
        assert_int_equal(pids[1], 200);
        free(pids);
}

static void test_pids_failure_leaves_output_untouched(void **state)
{
        int dummy, *pids = &dummy;
        size_t n = 42;

        assert_int_equal(PARSE(sv_parse_pids, "1\n2\nthree\n", &pids, &n), -EINVAL);
        assert_ptr_equal(pids, &dummy);
        assert_int_equal(n, 42);
}

/* ---- sv_parse_proc_status ------------------------------------------------ */

static void test_proc_status_user_task(void **state)
{
        struct sv_proc_status st = {};

        assert_int_equal(PARSE(sv_parse_proc_status, STATUS_BASH, &st), 0);
        assert_string_equal(st.name, "bash");
        assert_int_equal(st.tgid, 4242);
        assert_int_equal(st.pid, 4242);
        assert_int_equal(st.ppid, 4200);
        assert_int_equal(st.uid, 1000);
        assert_true(st.has_mm);
        assert_int_equal(st.vm_size_kb, 12584);
        assert_int_equal(st.rss_anon_kb, 1792);
        assert_int_equal(st.rss_file_kb, 3200);
        assert_int_equal(st.rss_shmem_kb, 128);
        assert_int_equal(st.vm_swap_kb, 16);
        assert_int_equal(st.vm_pte_kb, 60);
}

static void test_proc_status_kthread_has_no_mm(void **state)
{
        struct sv_proc_status st;

        memset(&st, 0xff, sizeof(st));
        assert_int_equal(PARSE(sv_parse_proc_status, STATUS_KWORKER, &st), 0);
        assert_false(st.has_mm);
        assert_int_equal(st.pid, 311);
        assert_int_equal(st.ppid, 2);
        assert_int_equal(st.uid, 0);
        assert_int_equal(st.vm_size_kb, 0);
        assert_int_equal(st.rss_anon_kb, 0);
        assert_int_equal(st.vm_swap_kb, 0);
        assert_int_equal(st.vm_pte_kb, 0);
}

static void test_proc_status_long_name_truncated_to_comm_len(void **state)
{
        struct sv_proc_status st = {};

        assert_int_equal(PARSE(sv_parse_proc_status, STATUS_KWORKER, &st), 0);
        assert_string_equal(st.name, "kworker/u16:3-e");
        assert_int_equal(strlen(st.name), SV_COMM_LEN - 1);
}

static void test_proc_status_zombie_has_no_mm(void **state)
{
        struct sv_proc_status st = {};

        assert_int_equal(PARSE(sv_parse_proc_status, STATUS_ZOMBIE, &st), 0);
        assert_false(st.has_mm);
        assert_string_equal(st.name, "defunct");
        assert_int_equal(st.pid, 777);
        assert_int_equal(st.ppid, 4242);
}

static void test_proc_status_without_trailing_newline(void **state)
{
        struct sv_proc_status st = {};

        assert_int_equal(PARSE_N(sv_parse_proc_status, STATUS_BASH, strlen(STATUS_BASH) - 1, &st),
                         0);
        assert_true(st.has_mm);
}

static void test_proc_status_minimal(void **state)
{
        struct sv_proc_status st = {};

        assert_int_equal(PARSE(sv_parse_proc_status,
                               "Name:\tx\nTgid:\t5\nPid:\t6\nPPid:\t0\nUid:\t0\t0\t0\t0", &st),
                         0);
        assert_string_equal(st.name, "x");
        assert_int_equal(st.tgid, 5);
        assert_int_equal(st.pid, 6);
        assert_int_equal(st.ppid, 0);
        assert_false(st.has_mm);
}

static void test_proc_status_name_with_spaces(void **state)
{
        struct sv_proc_status st = {};

        assert_int_equal(PARSE(sv_parse_proc_status, "Name:\tWeb Content\n" STATUS_IDS, &st), 0);
        assert_string_equal(st.name, "Web Content");
}

static void test_proc_status_name_keeps_kernel_escapes(void **state)
{
        struct sv_proc_status st = {};

        /* comm "a\nb\\c" is shown as "a\\nb\\\\c" */
        assert_int_equal(PARSE(sv_parse_proc_status, "Name:\ta\\nb\\\\c\n" STATUS_IDS, &st), 0);
        assert_string_equal(st.name, "a\\nb\\\\c");
}

static void test_proc_status_name_with_colon_and_tab(void **state)
{
        struct sv_proc_status st = {};

        assert_int_equal(PARSE(sv_parse_proc_status, "Name:\tUid: 0\tx\n" STATUS_IDS, &st), 0);
        assert_string_equal(st.name, "Uid: 0\tx");
        assert_int_equal(st.uid, 1000);
}

static void test_proc_status_empty_name(void **state)
{
        struct sv_proc_status st;

        memset(&st, 'z', sizeof(st));
        assert_int_equal(PARSE(sv_parse_proc_status, "Name:\t\n" STATUS_IDS, &st), 0);
        assert_string_equal(st.name, "");
}

static void test_proc_status_uid_is_the_real_one(void **state)
{
        struct sv_proc_status st = {};

        assert_int_equal(PARSE(sv_parse_proc_status, STATUS_BASH, &st), 0);
        assert_int_equal(st.uid, 1000);
        assert_int_equal(PARSE(sv_parse_proc_status,
                               "Name:\tsu\nTgid:\t9\nPid:\t9\nPPid:\t1\n"
                               "Uid:\t4294967294\t0\t0\t0\n",
                               &st),
                         0);
        assert_int_equal(st.uid, 4294967294U);
}

static void test_proc_status_uid_overflow_is_erange(void **state)
{
        struct sv_proc_status st = {};

        assert_int_equal(PARSE(sv_parse_proc_status,
                               "Name:\tx\nTgid:\t9\nPid:\t9\nPPid:\t1\nUid:\t4294967296\t0\t0\t0\n",
                               &st),
                         -ERANGE);
}

static void test_proc_status_uid_malformed_is_einval(void **state)
{
        static const char *const bad[] = {
                "Name:\tx\nTgid:\t9\nPid:\t9\nPPid:\t1\nUid:\t1000\t1000\t1000\n",
                "Name:\tx\nTgid:\t9\nPid:\t9\nPPid:\t1\nUid:\t1000\t1000\t1000\t1000\t1\n",
                "Name:\tx\nTgid:\t9\nPid:\t9\nPPid:\t1\nUid:\t-1\t0\t0\t0\n",
                "Name:\tx\nTgid:\t9\nPid:\t9\nPPid:\t1\nUid:\troot\t0\t0\t0\n",
                "Name:\tx\nTgid:\t9\nPid:\t9\nPPid:\t1\nUid: 1000 1000 1000 1000\n",
                "Name:\tx\nTgid:\t9\nPid:\t9\nPPid:\t1\nUid:\t1000\t1000\t1000\t1000\t\n",
                "Name:\tx\nTgid:\t9\nPid:\t9\nPPid:\t1\nUid:\n",
        };
        struct sv_proc_status st = {};

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                assert_int_equal(PARSE(sv_parse_proc_status, bad[i], &st), -EINVAL);
}

static void test_proc_status_thread_tgid_differs_from_pid(void **state)
{
        struct sv_proc_status st = {};

        assert_int_equal(PARSE(sv_parse_proc_status,
                               "Name:\tworker\nTgid:\t100\nPid:\t105\nPPid:\t1\nUid:\t0\t0\t0\t0\n",
                               &st),
                         0);
        assert_int_equal(st.tgid, 100);
        assert_int_equal(st.pid, 105);
}

static void test_proc_status_missing_required_key_is_einval(void **state)
{
        static const char *const bad[] = {
                "Tgid:\t9\nPid:\t9\nPPid:\t1\nUid:\t0\t0\t0\t0\n",
                "Name:\tx\nPid:\t9\nPPid:\t1\nUid:\t0\t0\t0\t0\n",
                "Name:\tx\nTgid:\t9\nPPid:\t1\nUid:\t0\t0\t0\t0\n",
                "Name:\tx\nTgid:\t9\nPid:\t9\nUid:\t0\t0\t0\t0\n",
                "Name:\tx\nTgid:\t9\nPid:\t9\nPPid:\t1\n",
        };
        struct sv_proc_status st = {};

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                assert_int_equal(PARSE(sv_parse_proc_status, bad[i], &st), -EINVAL);
}

static void test_proc_status_cut_before_uid_is_truncated(void **state)
{
        struct sv_proc_status st = {};

        assert_int_equal(PARSE_N(sv_parse_proc_status, STATUS_BASH, upto(STATUS_BASH, "Uid:"),
                                 &st),
                         -EINVAL);
        assert_int_equal(PARSE_N(sv_parse_proc_status, STATUS_BASH, upto(STATUS_BASH, "PPid:"),
                                 &st),
                         -EINVAL);
}

static void test_proc_status_cut_inside_uid_line_is_truncated(void **state)
{
        struct sv_proc_status st = {};

        /* "Uid:\t1000\t1001" */
        assert_int_equal(PARSE_N(sv_parse_proc_status, STATUS_BASH,
                                 upto(STATUS_BASH, "\t1002"), &st),
                         -EINVAL);
}

static void test_proc_status_half_the_vm_lines_is_truncated(void **state)
{
        struct sv_proc_status st = {};

        /* VmSize present, RssAnon… missing */
        assert_int_equal(PARSE_N(sv_parse_proc_status, STATUS_BASH, upto(STATUS_BASH, "VmLck:"),
                                 &st),
                         -EINVAL);
        /* everything up to RssShmem, VmPTE and VmSwap missing */
        assert_int_equal(PARSE_N(sv_parse_proc_status, STATUS_BASH, upto(STATUS_BASH, "VmData:"),
                                 &st),
                         -EINVAL);
        /* all but VmSwap */
        assert_int_equal(PARSE_N(sv_parse_proc_status, STATUS_BASH, upto(STATUS_BASH, "VmSwap:"),
                                 &st),
                         -EINVAL);
}

static void test_proc_status_cut_inside_a_vm_line_is_truncated(void **state)
{
        struct sv_proc_status st = {};
        size_t at = upto(STATUS_BASH, "VmSwap:");

        /* "VmSwap:\t      1" */
        assert_int_equal(PARSE_N(sv_parse_proc_status, STATUS_BASH, at + 15, &st), -EINVAL);
        /* "VmSwap:\t      16 k" */
        assert_int_equal(PARSE_N(sv_parse_proc_status, STATUS_BASH, at + 18, &st), -EINVAL);
        /* "VmSw": no colon */
        assert_int_equal(PARSE_N(sv_parse_proc_status, STATUS_BASH, at + 4, &st), -EINVAL);
}

static void test_proc_status_cut_right_after_vm_block_is_complete(void **state)
{
        struct sv_proc_status st = {};

        assert_int_equal(PARSE_N(sv_parse_proc_status, STATUS_BASH,
                                 upto(STATUS_BASH, "HugetlbPages:"), &st),
                         0);
        assert_true(st.has_mm);
        assert_int_equal(st.vm_swap_kb, 16);
}

/* A read that stops before the first Vm line looks just like a kernel thread. */
static void test_proc_status_cut_before_any_vm_line_reads_as_no_mm(void **state)
{
        struct sv_proc_status st = {};

        assert_int_equal(PARSE_N(sv_parse_proc_status, STATUS_BASH, upto(STATUS_BASH, "VmPeak:"),
                                 &st),
                         0);
        assert_false(st.has_mm);
}

static void test_proc_status_missing_vm_swap_is_einval(void **state)
{
        struct sv_proc_status st = {};

        assert_int_equal(PARSE(sv_parse_proc_status,
                               "Name:\tx\nTgid:\t9\nPid:\t9\nPPid:\t1\nUid:\t0\t0\t0\t0\n"
                               "VmSize:\t 100 kB\nRssAnon:\t 1 kB\nRssFile:\t 2 kB\n"
                               "RssShmem:\t 3 kB\nVmPTE:\t 4 kB\n",
                               &st),
                         -EINVAL);
}

static void test_proc_status_lone_mm_line_is_einval(void **state)
{
        struct sv_proc_status st = {};

        assert_int_equal(PARSE(sv_parse_proc_status,
                               "Name:\tx\nTgid:\t9\nPid:\t9\nPPid:\t1\nUid:\t0\t0\t0\t0\n"
                               "VmSwap:\t       0 kB\n",
                               &st),
                         -EINVAL);
}

static void test_proc_status_vm_value_without_unit_is_einval(void **state)
{
        struct sv_proc_status st = {};

        assert_int_equal(PARSE(sv_parse_proc_status,
                               "Name:\tx\nTgid:\t9\nPid:\t9\nPPid:\t1\nUid:\t0\t0\t0\t0\n"
                               "VmSize:\t 100\nRssAnon:\t 1 kB\nRssFile:\t 2 kB\n"
                               "RssShmem:\t 3 kB\nVmPTE:\t 4 kB\nVmSwap:\t 5 kB\n",
                               &st),
                         -EINVAL);
        assert_int_equal(PARSE(sv_parse_proc_status,
                               "Name:\tx\nTgid:\t9\nPid:\t9\nPPid:\t1\nUid:\t0\t0\t0\t0\n"
                               "VmSize:\t 100 MB\nRssAnon:\t 1 kB\nRssFile:\t 2 kB\n"
                               "RssShmem:\t 3 kB\nVmPTE:\t 4 kB\nVmSwap:\t 5 kB\n",
                               &st),
                         -EINVAL);
}

static void test_proc_status_vm_value_garbage_is_einval(void **state)
{
        struct sv_proc_status st = {};

        assert_int_equal(PARSE(sv_parse_proc_status,
                               "Name:\tx\nTgid:\t9\nPid:\t9\nPPid:\t1\nUid:\t0\t0\t0\t0\n"
                               "VmSize:\t -100 kB\nRssAnon:\t 1 kB\nRssFile:\t 2 kB\n"
                               "RssShmem:\t 3 kB\nVmPTE:\t 4 kB\nVmSwap:\t 5 kB\n",
                               &st),
                         -EINVAL);
        assert_int_equal(PARSE(sv_parse_proc_status,
                               "Name:\tx\nTgid:\t9\nPid:\t9\nPPid:\t1\nUid:\t0\t0\t0\t0\n"
                               "VmSize:\t kB\nRssAnon:\t 1 kB\nRssFile:\t 2 kB\n"
                               "RssShmem:\t 3 kB\nVmPTE:\t 4 kB\nVmSwap:\t 5 kB\n",
                               &st),
                         -EINVAL);
}

static void test_proc_status_vm_value_overflow_is_erange(void **state)
{
        struct sv_proc_status st = {};

        assert_int_equal(PARSE(sv_parse_proc_status,
                               "Name:\tx\nTgid:\t9\nPid:\t9\nPPid:\t1\nUid:\t0\t0\t0\t0\n"
                               "VmSize:\t " OVERFLOW " kB\nRssAnon:\t 1 kB\nRssFile:\t 2 kB\n"
                               "RssShmem:\t 3 kB\nVmPTE:\t 4 kB\nVmSwap:\t 5 kB\n",
                               &st),
                         -ERANGE);
}

static void test_proc_status_bad_ids_are_rejected(void **state)
{
        struct sv_proc_status st = {};

        assert_int_equal(PARSE(sv_parse_proc_status,
                               "Name:\tx\nTgid:\tabc\nPid:\t9\nPPid:\t1\nUid:\t0\t0\t0\t0\n", &st),
                         -EINVAL);
        assert_int_equal(PARSE(sv_parse_proc_status,
                               "Name:\tx\nTgid:\t9\nPid:\t0\nPPid:\t1\nUid:\t0\t0\t0\t0\n", &st),
                         -EINVAL);
        assert_int_equal(PARSE(sv_parse_proc_status,
                               "Name:\tx\nTgid:\t9\nPid:\t9\nPPid:\t-1\nUid:\t0\t0\t0\t0\n", &st),
                         -EINVAL);
        assert_int_equal(PARSE(sv_parse_proc_status,
                               "Name:\tx\nTgid:\t9\nPid:\t9 \nPPid:\t1\nUid:\t0\t0\t0\t0\n", &st),
                         -EINVAL);
        assert_int_equal(PARSE(sv_parse_proc_status,
                               "Name:\tx\nTgid:\t9\nPid:\t2147483648\nPPid:\t1\nUid:\t0\t0\t0\t0\n",
                               &st),
                         -ERANGE);
}

static void test_proc_status_line_without_colon_is_einval(void **state)
{
        struct sv_proc_status st = {};

        assert_int_equal(PARSE(sv_parse_proc_status, STATUS_BASH "garbage\n", &st), -EINVAL);
        assert_int_equal(PARSE(sv_parse_proc_status, "Name:\tbash\n\n" STATUS_IDS, &st), -EINVAL);
        assert_int_equal(PARSE(sv_parse_proc_status, ":\tx\n" STATUS_BASH, &st), -EINVAL);
}

static void test_proc_status_duplicate_key_is_einval(void **state)
{
        struct sv_proc_status st = {};

        assert_int_equal(PARSE(sv_parse_proc_status, STATUS_BASH "Pid:\t4242\n", &st), -EINVAL);
        assert_int_equal(PARSE(sv_parse_proc_status, STATUS_BASH STATUS_MM, &st), -EINVAL);
}

static void test_proc_status_empty_is_einval(void **state)
{
        struct sv_proc_status st = {};

        assert_int_equal(PARSE(sv_parse_proc_status, "", &st), -EINVAL);
        assert_int_equal(PARSE(sv_parse_proc_status, "\n", &st), -EINVAL);
}

static void test_proc_status_reads_only_len_bytes(void **state)
{
        static const char s[] = "Name:\tx\nTgid:\t9\nPid:\t9\nPPid:\t1\nUid:\t7\t7\t7\t7000";
        struct sv_proc_status st = {};

        assert_int_equal(PARSE_N(sv_parse_proc_status, s, sizeof(s) - 1 - 3, &st), 0);
        assert_int_equal(st.uid, 7);
}

static void test_proc_status_name_ends_at_len(void **state)
{
        static const char s[] = "Tgid:\t9\nPid:\t9\nPPid:\t1\nUid:\t7\t7\t7\t7\nName:\tbashrc";
        struct sv_proc_status st = {};

        assert_int_equal(PARSE_N(sv_parse_proc_status, s, sizeof(s) - 1 - 2, &st), 0);
        assert_string_equal(st.name, "bash");
}

static void test_proc_status_failure_leaves_output_untouched(void **state)
{
        struct sv_proc_status st, before;

        memset(&st, 0x77, sizeof(st));
        before = st;
        assert_int_equal(PARSE_N(sv_parse_proc_status, STATUS_BASH, upto(STATUS_BASH, "VmPTE:"),
                                 &st),
                         -EINVAL);
        assert_memory_equal(&st, &before, sizeof(st));
}

/* ---- sv_parse_proc_stat -------------------------------------------------- */

static void test_proc_stat_user_task(void **state)
{
        struct sv_proc_stat st = {};

        assert_int_equal(PARSE(sv_parse_proc_stat, STAT_CAT, &st), 0);
        assert_int_equal(st.pid, 30688);
        assert_string_equal(st.comm, "cat");
        assert_int_equal(st.state, 'R');
        assert_int_equal(st.ppid, 30683);
        assert_int_equal(st.flags, 4194304);
        assert_false(st.flags & SV_PF_KTHREAD);
        assert_int_equal(st.starttime, 116964);
}

static void test_proc_stat_kthread_flag(void **state)
{
        struct sv_proc_stat st = {};

        assert_int_equal(PARSE(sv_parse_proc_stat, STAT_KTHREADD, &st), 0);
        assert_int_equal(st.pid, 2);
        assert_string_equal(st.comm, "kthreadd");
        assert_int_equal(st.ppid, 0);
        assert_true(st.flags & SV_PF_KTHREAD);
        assert_int_equal(st.starttime, 3);
}

static void test_proc_stat_comm_with_spaces_and_parentheses(void **state)
{
        struct sv_proc_stat st = {};

        assert_int_equal(PARSE(sv_parse_proc_stat, "1234 (a) b) c) S" STAT_REST, &st), 0);
        assert_int_equal(st.pid, 1234);
        assert_string_equal(st.comm, "a) b) c");
        assert_int_equal(st.state, 'S');
        assert_int_equal(st.ppid, 1);
        assert_int_equal(st.flags, 4194560);
        assert_int_equal(st.starttime, 98765);
}

static void test_proc_stat_comm_that_looks_like_fields(void **state)
{
        struct sv_proc_stat st = {};

        assert_int_equal(PARSE(sv_parse_proc_stat, "1234 (x) R 9 9 9) S" STAT_REST, &st), 0);
        assert_string_equal(st.comm, "x) R 9 9 9");
        assert_int_equal(st.state, 'S');
        assert_int_equal(st.ppid, 1);
}

static void test_proc_stat_comm_with_open_parenthesis(void **state)
{
        struct sv_proc_stat st = {};

        assert_int_equal(PARSE(sv_parse_proc_stat, "1234 ((sd-pam)) S" STAT_REST, &st), 0);
        assert_string_equal(st.comm, "(sd-pam)");
        assert_int_equal(PARSE(sv_parse_proc_stat, "1234 (a(b) S" STAT_REST, &st), 0);
        assert_string_equal(st.comm, "a(b");
}

static void test_proc_stat_comm_with_newline_is_raw(void **state)
{
        struct sv_proc_stat st = {};

        assert_int_equal(PARSE(sv_parse_proc_stat, "1234 (a\nb) S" STAT_REST, &st), 0);
        assert_string_equal(st.comm, "a\nb");
}

static void test_proc_stat_empty_comm(void **state)
{
        struct sv_proc_stat st;

        memset(&st, 'q', sizeof(st));
        assert_int_equal(PARSE(sv_parse_proc_stat, "1234 () S" STAT_REST, &st), 0);
        assert_string_equal(st.comm, "");
}

/* 6.x shows workqueue workers with their work item appended, beyond TASK_COMM_LEN. */
static void test_proc_stat_long_comm_truncated_to_comm_len(void **state)
{
        struct sv_proc_stat st = {};

        assert_int_equal(PARSE(sv_parse_proc_stat, "311 (kworker/u16:3-events_unbound) I" STAT_REST,
                               &st),
                         0);
        assert_string_equal(st.comm, "kworker/u16:3-e");
        assert_int_equal(st.state, 'I');
}

static void test_proc_stat_without_trailing_newline(void **state)
{
        struct sv_proc_stat st = {};

        assert_int_equal(PARSE_N(sv_parse_proc_stat, STAT_CAT, strlen(STAT_CAT) - 1, &st), 0);
        assert_int_equal(st.starttime, 116964);
}

static void test_proc_stat_ending_at_starttime(void **state)
{
        struct sv_proc_stat st = {};

        assert_int_equal(PARSE(sv_parse_proc_stat,
                               "5 (x) S 1 5 5 0 -1 64 0 0 0 0 0 0 0 0 20 0 1 0 424242\n", &st),
                         0);
        assert_int_equal(st.starttime, 424242);
        assert_int_equal(st.flags, 64);
}

static void test_proc_stat_negative_fields_where_the_kernel_prints_them(void **state)
{
        struct sv_proc_stat st = {};

        /* tpgid -1, cutime/cstime, priority -100 (SCHED_FIFO 99), nice -20 */
        assert_int_equal(PARSE(sv_parse_proc_stat,
                               "77 (rt) S 1 77 77 0 -1 64 0 0 0 0 0 0 -3 -4 -100 -20 1 0 5 0\n",
                               &st),
                         0);
        assert_int_equal(st.starttime, 5);
}

static void test_proc_stat_large_starttime_and_flags(void **state)
{
        struct sv_proc_stat st = {};

        assert_int_equal(PARSE(sv_parse_proc_stat,
                               "5 (x) S 1 5 5 0 -1 4294967295 0 0 0 0 0 0 0 0 20 0 1 0 "
                               "18446744073709551615 0\n",
                               &st),
                         0);
        assert_true(st.flags == UINT32_MAX);
        assert_true(st.starttime == UINT64_MAX);
}

static void test_proc_stat_flags_overflow_is_erange(void **state)
{
        struct sv_proc_stat st = {};

        assert_int_equal(PARSE(sv_parse_proc_stat,
                               "5 (x) S 1 5 5 0 -1 4294967296 0 0 0 0 0 0 0 0 20 0 1 0 7 0\n", &st),
                         -ERANGE);
}

static void test_proc_stat_starttime_overflow_is_erange(void **state)
{
        struct sv_proc_stat st = {};

        assert_int_equal(PARSE(sv_parse_proc_stat,
                               "5 (x) S 1 5 5 0 -1 64 0 0 0 0 0 0 0 0 20 0 1 0 " OVERFLOW " 0\n",
                               &st),
                         -ERANGE);
}

static void test_proc_stat_fewer_fields_is_truncated(void **state)
{
        struct sv_proc_stat st = {};

        /* through itrealvalue, starttime missing */
        assert_int_equal(PARSE_N(sv_parse_proc_stat, STAT_CAT, upto(STAT_CAT, " 116964"), &st),
                         -EINVAL);
        /* "30688 (cat) R 30683 30683 29735 34816 30688 4194" */
        assert_int_equal(PARSE_N(sv_parse_proc_stat, STAT_CAT, upto(STAT_CAT, "304 99"), &st),
                         -EINVAL);
        /* "30688 (cat) R" */
        assert_int_equal(PARSE_N(sv_parse_proc_stat, STAT_CAT, 13, &st), -EINVAL);
        /* "30688 (cat)" */
        assert_int_equal(PARSE_N(sv_parse_proc_stat, STAT_CAT, 11, &st), -EINVAL);
}

static void test_proc_stat_cut_inside_comm_is_einval(void **state)
{
        struct sv_proc_stat st = {};

        assert_int_equal(PARSE_N(sv_parse_proc_stat, STAT_CAT, 9, &st), -EINVAL);
        /* "1234 (a) b" of a comm "a) b) c": the last ')' in the buffer ends it early */
        assert_int_equal(PARSE_N(sv_parse_proc_stat, "1234 (a) b) c) S" STAT_REST, 10, &st),
                         -EINVAL);
}

static void test_proc_stat_missing_parentheses_is_einval(void **state)
{
        struct sv_proc_stat st = {};

        assert_int_equal(PARSE(sv_parse_proc_stat, "1234 cat S" STAT_REST, &st), -EINVAL);
        assert_int_equal(PARSE(sv_parse_proc_stat, "1234 (cat S" STAT_REST, &st), -EINVAL);
        assert_int_equal(PARSE(sv_parse_proc_stat, "1234 cat) S" STAT_REST, &st), -EINVAL);
        assert_int_equal(PARSE(sv_parse_proc_stat, "1234 )cat( S" STAT_REST, &st), -EINVAL);
}

static void test_proc_stat_bad_pid_is_einval(void **state)
{
        struct sv_proc_stat st = {};

        assert_int_equal(PARSE(sv_parse_proc_stat, "abc (x) S" STAT_REST, &st), -EINVAL);
        assert_int_equal(PARSE(sv_parse_proc_stat, "0 (x) S" STAT_REST, &st), -EINVAL);
        assert_int_equal(PARSE(sv_parse_proc_stat, "-1 (x) S" STAT_REST, &st), -EINVAL);
        assert_int_equal(PARSE(sv_parse_proc_stat, "(x) S" STAT_REST, &st), -EINVAL);
        assert_int_equal(PARSE(sv_parse_proc_stat, " (x) S" STAT_REST, &st), -EINVAL);
        assert_int_equal(PARSE(sv_parse_proc_stat, "12(x) S" STAT_REST, &st), -EINVAL);
        assert_int_equal(PARSE(sv_parse_proc_stat, "12  (x) S" STAT_REST, &st), -EINVAL);
        assert_int_equal(PARSE(sv_parse_proc_stat, "2147483648 (x) S" STAT_REST, &st), -ERANGE);
}

static void test_proc_stat_bad_state_is_einval(void **state)
{
        struct sv_proc_stat st = {};

        assert_int_equal(PARSE(sv_parse_proc_stat, "5 (x) SS" STAT_REST, &st), -EINVAL);
        assert_int_equal(PARSE(sv_parse_proc_stat, "5 (x) 1" STAT_REST, &st), -EINVAL);
        assert_int_equal(PARSE(sv_parse_proc_stat, "5 (x)" STAT_REST, &st), -EINVAL);
}

static void test_proc_stat_bad_ppid_is_einval(void **state)
{
        struct sv_proc_stat st = {};

        assert_int_equal(PARSE(sv_parse_proc_stat,
                               "5 (x) S -1 5 5 0 -1 64 0 0 0 0 0 0 0 0 20 0 1 0 7 0\n", &st),
                         -EINVAL);
        assert_int_equal(PARSE(sv_parse_proc_stat,
                               "5 (x) S one 5 5 0 -1 64 0 0 0 0 0 0 0 0 20 0 1 0 7 0\n", &st),
                         -EINVAL);
}

static void test_proc_stat_garbage_field_is_einval(void **state)
{
        struct sv_proc_stat st = {};

        /* minflt */
        assert_int_equal(PARSE(sv_parse_proc_stat,
                               "5 (x) S 1 5 5 0 -1 64 x 0 0 0 0 0 0 0 20 0 1 0 7 0\n", &st),
                         -EINVAL);
        /* flags */
        assert_int_equal(PARSE(sv_parse_proc_stat,
                               "5 (x) S 1 5 5 0 -1 -64 0 0 0 0 0 0 0 0 20 0 1 0 7 0\n", &st),
                         -EINVAL);
        /* starttime */
        assert_int_equal(PARSE(sv_parse_proc_stat,
                               "5 (x) S 1 5 5 0 -1 64 0 0 0 0 0 0 0 0 20 0 1 0 7x 0\n", &st),
                         -EINVAL);
        /* a lone '-' */
        assert_int_equal(PARSE(sv_parse_proc_stat,
                               "5 (x) S 1 5 5 0 - 64 0 0 0 0 0 0 0 0 20 0 1 0 7 0\n", &st),
                         -EINVAL);
}

static void test_proc_stat_bad_spacing_is_einval(void **state)
{
        struct sv_proc_stat st = {};

        assert_int_equal(PARSE(sv_parse_proc_stat,
                               "5 (x) S 1 5 5 0 -1 64  0 0 0 0 0 0 0 0 20 0 1 0 7 0\n", &st),
                         -EINVAL);
        assert_int_equal(PARSE(sv_parse_proc_stat,
                               "5 (x)S 1 5 5 0 -1 64 0 0 0 0 0 0 0 0 20 0 1 0 7 0\n", &st),
                         -EINVAL);
        assert_int_equal(PARSE(sv_parse_proc_stat,
                               "5 (x) S 1 5 5 0 -1 64 0 0 0 0 0 0 0 0 20 0 1 0 7 \n", &st),
                         -EINVAL);
        assert_int_equal(PARSE(sv_parse_proc_stat,
                               "5 (x) S 1 5 5 0 -1 64 0 0 0 0 0 0 0 0 20 0 1 0 7\n\n", &st),
                         -EINVAL);
}

static void test_proc_stat_empty_is_einval(void **state)
{
        struct sv_proc_stat st = {};

        assert_int_equal(PARSE(sv_parse_proc_stat, "", &st), -EINVAL);
        assert_int_equal(PARSE(sv_parse_proc_stat, "\n", &st), -EINVAL);
}

static void test_proc_stat_reads_only_len_bytes(void **state)
{
        static const char s[] = "5 (x) S 1 5 5 0 -1 64 0 0 0 0 0 0 0 0 20 0 1 0 123999) X";
        struct sv_proc_stat st = {};

        /* The ')' beyond len must not be taken as the end of comm. */
        assert_int_equal(PARSE_N(sv_parse_proc_stat, s, upto(s, "999)"), &st), 0);
        assert_string_equal(st.comm, "x");
        assert_int_equal(st.starttime, 123);
}

static void test_proc_stat_failure_leaves_output_untouched(void **state)
{
        struct sv_proc_stat st, before;

        memset(&st, 0x11, sizeof(st));
        before = st;
        assert_int_equal(PARSE_N(sv_parse_proc_stat, STAT_CAT, upto(STAT_CAT, " 116964"), &st),
                         -EINVAL);
        assert_memory_equal(&st, &before, sizeof(st));
}

/* ---- sv_parse_meminfo ---------------------------------------------------- */

static void test_meminfo_all_6x(void **state)
{
        struct sv_meminfo mi = {};

        assert_int_equal(PARSE(sv_parse_meminfo_all, MEMINFO_6X, &mi), 0);
        assert_int_equal(mi.mem_total_kb, 24684084);
        assert_int_equal(mi.mem_free_kb, 24475976);
        assert_int_equal(mi.mem_available_kb, 24405904);
        assert_int_equal(mi.swap_total_kb, 2097148);
        assert_int_equal(mi.swap_free_kb, 2097148);
        assert_true(mi.have & SV_MEMINFO_SWAP_FREE);
        assert_true(mi.have & SV_MEMINFO_MEM_AVAILABLE);
}

/* Lines a kernel may lack are flagged absent; a line seen twice is a
 * spliced read. */
static void test_meminfo_all_optional_and_duplicate(void **state)
{
        struct sv_meminfo mi = { .swap_free_kb = 99 };

        assert_int_equal(PARSE(sv_parse_meminfo_all, "MemTotal: 16 kB\nSwapTotal: 8 kB\n", &mi),
                         0);
        assert_false(mi.have & (SV_MEMINFO_SWAP_FREE | SV_MEMINFO_MEM_AVAILABLE |
                                SV_MEMINFO_COMMIT_LIMIT | SV_MEMINFO_COMMITTED_AS));
        assert_int_equal(mi.swap_free_kb, 0);
        mi.swap_free_kb = 99;
        assert_int_equal(PARSE(sv_parse_meminfo_all,
                               "MemTotal: 16 kB\nSwapFree: 1 kB\nSwapTotal: 8 kB\nSwapFree: 2 kB\n",
                               &mi),
                         -EINVAL);
        assert_int_equal(mi.swap_free_kb, 99); /* untouched on failure */
        assert_int_equal(PARSE(sv_parse_meminfo_all,
                               "MemTotal: 16 kB\nCommitLimit: 4 kB\nCommitted_AS: 5 kB\n"
                               "SwapTotal: 8 kB\n",
                               &mi),
                         0);
        assert_int_equal(mi.commit_limit_kb, 4);
        assert_int_equal(mi.committed_as_kb, 5);
}

static void test_meminfo_6x(void **state)
{
        uint64_t mem = 0, swap = 0;

        assert_int_equal(PARSE(sv_parse_meminfo, MEMINFO_6X, &mem, &swap), 0);
        assert_int_equal(mem, 24684084);
        assert_int_equal(swap, 2097148);
}

static void test_meminfo_without_swap(void **state)
{
        uint64_t mem = 0, swap = 1;

        assert_int_equal(PARSE(sv_parse_meminfo,
                               "MemTotal:        2000000 kB\nSwapTotal:             0 kB\n", &mem,
                               &swap),
                         0);
        assert_int_equal(mem, 2000000);
        assert_int_equal(swap, 0);
}

static void test_meminfo_without_trailing_newline(void **state)
{
        uint64_t mem = 0, swap = 0;

        assert_int_equal(PARSE(sv_parse_meminfo, "SwapTotal: 8 kB\nMemTotal: 16 kB", &mem, &swap),
                         0);
        assert_int_equal(mem, 16);
        assert_int_equal(swap, 8);
}

static void test_meminfo_lines_without_unit_ignored(void **state)
{
        uint64_t mem = 0, swap = 0;

        assert_int_equal(PARSE(sv_parse_meminfo,
                               "MemTotal: 16 kB\nHugePages_Total:       0\nSwapTotal: 8 kB\n"
                               "Weird:\n",
                               &mem, &swap),
                         0);
        assert_int_equal(mem, 16);
}

static void test_meminfo_missing_swap_total_is_truncated(void **state)
{
        uint64_t mem = 0, swap = 0;

        assert_int_equal(PARSE_N(sv_parse_meminfo, MEMINFO_6X, upto(MEMINFO_6X, "SwapTotal"),
                                 &mem, &swap),
                         -EINVAL);
}

static void test_meminfo_missing_mem_total_is_einval(void **state)
{
        uint64_t mem = 0, swap = 0;

        assert_int_equal(PARSE(sv_parse_meminfo, &MEMINFO_6X[upto(MEMINFO_6X, "MemFree")], &mem,
                               &swap),
                         -EINVAL);
}

static void test_meminfo_cut_inside_a_line_is_einval(void **state)
{
        uint64_t mem = 0, swap = 0;
        size_t at = upto(MEMINFO_6X, "SwapTotal");

        /* "SwapTot" */
        assert_int_equal(PARSE_N(sv_parse_meminfo, MEMINFO_6X, at + 7, &mem, &swap), -EINVAL);
        /* "SwapTotal:      " */
        assert_int_equal(PARSE_N(sv_parse_meminfo, MEMINFO_6X, at + 16, &mem, &swap), -EINVAL);
        /* "SwapTotal:        2097148 k" */
        assert_int_equal(PARSE_N(sv_parse_meminfo, MEMINFO_6X, at + 27, &mem, &swap), -EINVAL);
        /* "SwapCa", before SwapTotal */
        assert_int_equal(PARSE_N(sv_parse_meminfo, MEMINFO_6X, upto(MEMINFO_6X, "SwapCached") + 6,
                                 &mem, &swap),
                         -EINVAL);
}

/* kB counts are turned into bytes and summed (oom_badness()): one whose
 * byte value does not fit in 64 bits is refused, not wrapped. */
static void test_kb_values_bounded(void **state)
{
        uint64_t mem = 0, swap = 0;

        assert_int_equal(PARSE(sv_parse_meminfo,
                               "MemTotal: 18014398509481983 kB\nSwapTotal: 0 kB\n", &mem, &swap),
                         0);
        assert_int_equal(PARSE(sv_parse_meminfo,
                               "MemTotal: 18014398509481984 kB\nSwapTotal: 0 kB\n", &mem, &swap),
                         -ERANGE);
}

static void test_meminfo_garbage_is_einval(void **state)
{
        uint64_t mem = 0, swap = 0;

        assert_int_equal(PARSE(sv_parse_meminfo, "MemTotal: lots kB\nSwapTotal: 0 kB\n", &mem,
                               &swap),
                         -EINVAL);
        assert_int_equal(PARSE(sv_parse_meminfo, "MemTotal: -5 kB\nSwapTotal: 0 kB\n", &mem,
                               &swap),
                         -EINVAL);
        assert_int_equal(PARSE(sv_parse_meminfo, "MemTotal: 5\nSwapTotal: 0 kB\n", &mem, &swap),
                         -EINVAL);
        assert_int_equal(PARSE(sv_parse_meminfo, "MemTotal: 5 kB \nSwapTotal: 0 kB\n", &mem,
                               &swap),
                         -EINVAL);
        assert_int_equal(PARSE(sv_parse_meminfo, "MemTotal: 5 kB\nno colon\nSwapTotal: 0 kB\n",
                               &mem, &swap),
                         -EINVAL);
        assert_int_equal(PARSE(sv_parse_meminfo, "MemTotal: 5 kB\n\nSwapTotal: 0 kB\n", &mem,
                               &swap),
                         -EINVAL);
}

static void test_meminfo_overflow_is_erange(void **state)
{
        uint64_t mem = 0, swap = 0;

        assert_int_equal(PARSE(sv_parse_meminfo, "MemTotal: " OVERFLOW " kB\nSwapTotal: 0 kB\n",
                               &mem, &swap),
                         -ERANGE);
}

static void test_meminfo_duplicate_key_is_einval(void **state)
{
        uint64_t mem = 0, swap = 0;

        assert_int_equal(PARSE(sv_parse_meminfo, MEMINFO_6X "MemTotal: 1 kB\n", &mem, &swap),
                         -EINVAL);
}

static void test_meminfo_empty_is_einval(void **state)
{
        uint64_t mem = 0, swap = 0;

        assert_int_equal(PARSE(sv_parse_meminfo, "", &mem, &swap), -EINVAL);
        assert_int_equal(PARSE(sv_parse_meminfo, "\n", &mem, &swap), -EINVAL);
}

static void test_meminfo_reads_only_len_bytes(void **state)
{
        static const char s[] = "MemTotal: 16 kB\nSwapTotal: 8 kB\nMemTotal: 1 kB\n";
        uint64_t mem = 0, swap = 0;

        assert_int_equal(PARSE_N(sv_parse_meminfo, s, upto(s, "\nMemTotal: 1 "), &mem, &swap), 0);
        assert_int_equal(mem, 16);
        assert_int_equal(swap, 8);
}

static void test_meminfo_failure_leaves_outputs_untouched(void **state)
{
        uint64_t mem = 11, swap = 22;

        assert_int_equal(PARSE(sv_parse_meminfo, "MemTotal: 16 kB\n", &mem, &swap), -EINVAL);
        assert_int_equal(mem, 11);
        assert_int_equal(swap, 22);
}

/* ---- sv_parse_size ------------------------------------------------------- */

static void test_size_plain_bytes(void **state)
{
        uint64_t v = 1;

        assert_int_equal(sv_parse_size("512", &v), 0);
        assert_int_equal(v, 512);
        assert_int_equal(sv_parse_size("0", &v), 0);
        assert_int_equal(v, 0);
}

static void test_size_units_are_powers_of_1024(void **state)
{
        uint64_t v = 0;

        assert_int_equal(sv_parse_size("64K", &v), 0);
        assert_int_equal(v, 64 * 1024);
        assert_int_equal(sv_parse_size("64M", &v), 0);
        assert_int_equal(v, 64ULL << 20);
        assert_int_equal(sv_parse_size("1G", &v), 0);
        assert_int_equal(v, 1ULL << 30);
        assert_int_equal(sv_parse_size("2T", &v), 0);
        assert_int_equal(v, 2ULL << 40);
}

static void test_size_lowercase_units(void **state)
{
        uint64_t v = 0;

        assert_int_equal(sv_parse_size("64k", &v), 0);
        assert_int_equal(v, 64 * 1024);
        assert_int_equal(sv_parse_size("3m", &v), 0);
        assert_int_equal(v, 3ULL << 20);
        assert_int_equal(sv_parse_size("1g", &v), 0);
        assert_int_equal(v, 1ULL << 30);
        assert_int_equal(sv_parse_size("1t", &v), 0);
        assert_int_equal(v, 1ULL << 40);
}

static void test_size_fraction_with_unit(void **state)
{
        uint64_t v = 0;

        assert_int_equal(sv_parse_size("1.5G", &v), 0);
        assert_int_equal(v, 1610612736);
        assert_int_equal(sv_parse_size("0.5K", &v), 0);
        assert_int_equal(v, 512);
        assert_int_equal(sv_parse_size("2.25M", &v), 0);
        assert_int_equal(v, 2359296);
        assert_int_equal(sv_parse_size("1.0T", &v), 0);
        assert_int_equal(v, 1ULL << 40);
}

static void test_size_fraction_rounds_down_to_a_byte(void **state)
{
        uint64_t v = 0;

        /* 1.0001 KiB = 1024.1024 bytes */
        assert_int_equal(sv_parse_size("1.0001K", &v), 0);
        assert_int_equal(v, 1024);
        /* 0.999 KiB = 1022.976 bytes */
        assert_int_equal(sv_parse_size("0.999K", &v), 0);
        assert_int_equal(v, 1022);
        /* 0.1 GiB = 107374182.4 bytes */
        assert_int_equal(sv_parse_size("0.1G", &v), 0);
        assert_int_equal(v, 107374182);
        /* many digits, never quite 2 KiB */
        assert_int_equal(sv_parse_size("1.99999999999999999999999999999999K", &v), 0);
        assert_int_equal(v, 2047);
        assert_int_equal(sv_parse_size("0.99999999999999999999999999999999T", &v), 0);
        assert_int_equal(v, (1ULL << 40) - 1);
}

static void test_size_max(void **state)
{
        uint64_t v = 0;

        assert_int_equal(sv_parse_size("max", &v), 0);
        assert_true(v == SV_LIMIT_MAX);
}

static void test_size_largest_values(void **state)
{
        uint64_t v = 0;

        assert_int_equal(sv_parse_size("18446744073709551615", &v), 0);
        assert_true(v == UINT64_MAX);
        assert_int_equal(sv_parse_size("16777215T", &v), 0);
        assert_true(v == 16777215ULL << 40);
        assert_int_equal(sv_parse_size("16777215.99999999999999999999T", &v), 0);
        assert_true(v == UINT64_MAX);
}

static void test_size_overflow_is_erange(void **state)
{
        uint64_t v = 3;

        assert_int_equal(sv_parse_size("18446744073709551616", &v), -ERANGE);
        assert_int_equal(sv_parse_size(OVERFLOW, &v), -ERANGE);
        assert_int_equal(sv_parse_size("16777216T", &v), -ERANGE);
        assert_int_equal(sv_parse_size("17179869184G", &v), -ERANGE);
        assert_int_equal(sv_parse_size(OVERFLOW ".5K", &v), -ERANGE);
        assert_int_equal(v, 3);
}

static void test_size_empty_is_einval(void **state)
{
        uint64_t v = 3;

        assert_int_equal(sv_parse_size("", &v), -EINVAL);
        assert_int_equal(sv_parse_size(NULL, &v), -EINVAL);
        assert_int_equal(v, 3);
}

static void test_size_negative_is_einval(void **state)
{
        uint64_t v = 3;

        assert_int_equal(sv_parse_size("-1", &v), -EINVAL);
        assert_int_equal(sv_parse_size("-1G", &v), -EINVAL);
        assert_int_equal(sv_parse_size("+1G", &v), -EINVAL);
        assert_int_equal(v, 3);
}

static void test_size_fraction_without_unit_is_einval(void **state)
{
        uint64_t v = 3;

        assert_int_equal(sv_parse_size("1.5", &v), -EINVAL);
        assert_int_equal(sv_parse_size("0.0", &v), -EINVAL);
        assert_int_equal(v, 3);
}

static void test_size_malformed_number_is_einval(void **state)
{
        static const char *const bad[] = {
                "K", ".5K", "1.K", "1..5K", "1.5.5G", "1,5G", "0x10", "1e3", "12abc",
                "inf", "nan", "G1",
        };
        uint64_t v = 3;

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                assert_int_equal(sv_parse_size(bad[i], &v), -EINVAL);
        assert_int_equal(v, 3);
}

static void test_size_unknown_or_extra_suffix_is_einval(void **state)
{
        static const char *const bad[] = {
                "1P", "1E", "1B", "1KB", "1KiB", "1kb", "1GG", "1 G", "1G ", " 1G", "1\tK",
                "1K\n", "64X",
        };
        uint64_t v = 3;

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                assert_int_equal(sv_parse_size(bad[i], &v), -EINVAL);
        assert_int_equal(v, 3);
}

static void test_size_max_is_exact(void **state)
{
        uint64_t v = 3;

        assert_int_equal(sv_parse_size("MAX", &v), -EINVAL);
        assert_int_equal(sv_parse_size("Max", &v), -EINVAL);
        assert_int_equal(sv_parse_size("maxx", &v), -EINVAL);
        assert_int_equal(sv_parse_size("max ", &v), -EINVAL);
        assert_int_equal(sv_parse_size("ma", &v), -EINVAL);
        assert_int_equal(sv_parse_size("maxK", &v), -EINVAL);
        assert_int_equal(v, 3);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_u64_with_newline),
                cmocka_unit_test(test_u64_without_newline),
                cmocka_unit_test(test_u64_zero),
                cmocka_unit_test(test_u64_largest_value),
                cmocka_unit_test(test_u64_overflow_is_erange),
                cmocka_unit_test(test_u64_overflow_with_garbage_is_einval),
                cmocka_unit_test(test_u64_empty_is_einval),
                cmocka_unit_test(test_u64_garbage_is_einval),
                cmocka_unit_test(test_u64_signs_are_einval),
                cmocka_unit_test(test_u64_whitespace_beyond_one_newline_is_einval),
                cmocka_unit_test(test_u64_reads_only_len_bytes),
                cmocka_unit_test(test_u64_failure_leaves_output_untouched),

                cmocka_unit_test(test_int_oom_score_adj_minimum),
                cmocka_unit_test(test_int_positive_and_zero),
                cmocka_unit_test(test_int_does_not_apply_oom_score_adj_range),
                cmocka_unit_test(test_int_limits),
                cmocka_unit_test(test_int_overflow_is_erange),
                cmocka_unit_test(test_int_garbage_is_einval),
                cmocka_unit_test(test_int_empty_is_einval),
                cmocka_unit_test(test_int_reads_only_len_bytes),

                cmocka_unit_test(test_limit_max_is_limit_max),
                cmocka_unit_test(test_limit_max_without_newline),
                cmocka_unit_test(test_limit_bytes),
                cmocka_unit_test(test_limit_garbage_is_einval),
                cmocka_unit_test(test_limit_overflow_is_erange),
                cmocka_unit_test(test_limit_max_cut_short_is_einval),
                cmocka_unit_test(test_limit_reads_only_len_bytes),

                cmocka_unit_test(test_bool01_zero_and_one),
                cmocka_unit_test(test_bool01_without_newline),
                cmocka_unit_test(test_bool01_other_values_are_einval),
                cmocka_unit_test(test_bool01_reads_only_len_bytes),

                cmocka_unit_test(test_memory_events_6x),
                cmocka_unit_test(test_memory_events_without_oom_group_kill_is_pre_5_17),
                cmocka_unit_test(test_memory_events_without_trailing_newline),
                cmocka_unit_test(test_memory_events_unknown_keys_ignored),
                cmocka_unit_test(test_memory_events_order_does_not_matter),
                cmocka_unit_test(test_memory_events_missing_oom_kill_is_truncated),
                cmocka_unit_test(test_memory_events_missing_each_required_key_is_einval),
                cmocka_unit_test(test_memory_events_cut_inside_a_line_is_einval),
                cmocka_unit_test(test_memory_events_garbage_value_is_einval),
                cmocka_unit_test(test_memory_events_negative_value_is_einval),
                cmocka_unit_test(test_memory_events_overflow_is_erange),
                cmocka_unit_test(test_memory_events_malformed_unknown_line_is_einval),
                cmocka_unit_test(test_memory_events_separator_must_be_one_space),
                cmocka_unit_test(test_memory_events_empty_line_is_einval),
                cmocka_unit_test(test_memory_events_duplicate_key_is_einval),
                cmocka_unit_test(test_memory_events_empty_is_einval),
                cmocka_unit_test(test_memory_events_reads_only_len_bytes),
                cmocka_unit_test(test_memory_events_failure_leaves_output_untouched),

                cmocka_unit_test(test_psi_some_and_full),
                cmocka_unit_test(test_psi_idle_group),
                cmocka_unit_test(test_psi_full_pressure_and_large_total),
                cmocka_unit_test(test_psi_without_full_line),
                cmocka_unit_test(test_psi_without_trailing_newline),
                cmocka_unit_test(test_psi_integer_averages_accepted),
                cmocka_unit_test(test_psi_missing_some_is_einval),
                cmocka_unit_test(test_psi_full_before_some_accepted),
                cmocka_unit_test(test_psi_cut_inside_some_line_is_einval),
                cmocka_unit_test(test_psi_cut_inside_full_line_is_einval),
                cmocka_unit_test(test_psi_cut_after_some_line_has_no_full),
                cmocka_unit_test(test_psi_garbage_averages_are_einval),
                cmocka_unit_test(test_psi_overlong_average_is_einval),
                cmocka_unit_test(test_psi_garbage_total_is_einval),
                cmocka_unit_test(test_psi_total_overflow_is_erange),
                cmocka_unit_test(test_psi_missing_field_is_einval),
                cmocka_unit_test(test_psi_duplicate_field_or_line_is_einval),
                cmocka_unit_test(test_psi_unknown_fields_and_lines_ignored),
                cmocka_unit_test(test_psi_spacing_must_be_single_spaces),
                cmocka_unit_test(test_psi_empty_or_blank_line_is_einval),
                cmocka_unit_test(test_psi_reads_only_len_bytes),
                cmocka_unit_test(test_psi_failure_leaves_output_untouched),

                cmocka_unit_test(test_memory_stat_6x),
                cmocka_unit_test(test_memory_stat_5_4_without_kernel_key),
                cmocka_unit_test(test_memory_stat_only_anon_and_file),
                cmocka_unit_test(test_memory_stat_without_trailing_newline),
                cmocka_unit_test(test_memory_stat_unknown_keys_ignored),
                cmocka_unit_test(test_memory_stat_prefix_keys_not_confused),
                cmocka_unit_test(test_memory_stat_missing_anon_is_einval),
                cmocka_unit_test(test_memory_stat_missing_file_is_einval),
                cmocka_unit_test(test_memory_stat_cut_inside_a_line_is_einval),
                cmocka_unit_test(test_memory_stat_cut_after_required_keys_is_accepted),
                cmocka_unit_test(test_memory_stat_garbage_value_is_einval),
                cmocka_unit_test(test_memory_stat_overflow_is_erange),
                cmocka_unit_test(test_memory_stat_duplicate_key_is_einval),
                cmocka_unit_test(test_memory_stat_empty_is_einval),
                cmocka_unit_test(test_memory_stat_reads_only_len_bytes),
                cmocka_unit_test(test_memory_stat_failure_leaves_output_untouched),

                cmocka_unit_test(test_cgroup_events_populated),
                cmocka_unit_test(test_cgroup_events_frozen_and_empty),
                cmocka_unit_test(test_cgroup_events_without_frozen),
                cmocka_unit_test(test_cgroup_events_without_trailing_newline),
                cmocka_unit_test(test_cgroup_events_unknown_keys_ignored),
                cmocka_unit_test(test_cgroup_events_missing_populated_is_einval),
                cmocka_unit_test(test_cgroup_events_cut_inside_a_line_is_einval),
                cmocka_unit_test(test_cgroup_events_value_not_0_or_1_is_einval),
                cmocka_unit_test(test_cgroup_events_empty_is_einval),
                cmocka_unit_test(test_cgroup_events_reads_only_len_bytes),
                cmocka_unit_test(test_cgroup_events_failure_leaves_output_untouched),

                cmocka_unit_test(test_controllers_all_known),
                cmocka_unit_test(test_controllers_subset),
                cmocka_unit_test(test_controllers_empty_is_zero),
                cmocka_unit_test(test_controllers_without_trailing_newline),
                cmocka_unit_test(test_controllers_unknown_names_ignored),
                cmocka_unit_test(test_controllers_names_match_whole_words),
                cmocka_unit_test(test_controllers_bad_spacing_is_einval),
                cmocka_unit_test(test_controllers_several_lines_are_einval),
                cmocka_unit_test(test_controllers_reads_only_len_bytes),

                cmocka_unit_test(test_pids_list),
                cmocka_unit_test(test_pids_empty_is_null),
                cmocka_unit_test(test_pids_without_trailing_newline),
                cmocka_unit_test(test_pids_single),
                cmocka_unit_test(test_pids_many),
                cmocka_unit_test(test_pids_zero_is_einval),
                cmocka_unit_test(test_pids_negative_is_einval),
                cmocka_unit_test(test_pids_garbage_is_einval),
                cmocka_unit_test(test_pids_empty_line_is_einval),
                cmocka_unit_test(test_pids_overflow_is_erange),
                cmocka_unit_test(test_pids_reads_only_len_bytes),
                cmocka_unit_test(test_pids_failure_leaves_output_untouched),

                cmocka_unit_test(test_proc_status_user_task),
                cmocka_unit_test(test_proc_status_kthread_has_no_mm),
                cmocka_unit_test(test_proc_status_long_name_truncated_to_comm_len),
                cmocka_unit_test(test_proc_status_zombie_has_no_mm),
                cmocka_unit_test(test_proc_status_without_trailing_newline),
                cmocka_unit_test(test_proc_status_minimal),
                cmocka_unit_test(test_proc_status_name_with_spaces),
                cmocka_unit_test(test_proc_status_name_keeps_kernel_escapes),
                cmocka_unit_test(test_proc_status_name_with_colon_and_tab),
                cmocka_unit_test(test_proc_status_empty_name),
                cmocka_unit_test(test_proc_status_uid_is_the_real_one),
                cmocka_unit_test(test_proc_status_uid_overflow_is_erange),
                cmocka_unit_test(test_proc_status_uid_malformed_is_einval),
                cmocka_unit_test(test_proc_status_thread_tgid_differs_from_pid),
                cmocka_unit_test(test_proc_status_missing_required_key_is_einval),
                cmocka_unit_test(test_proc_status_cut_before_uid_is_truncated),
                cmocka_unit_test(test_proc_status_cut_inside_uid_line_is_truncated),
                cmocka_unit_test(test_proc_status_half_the_vm_lines_is_truncated),
                cmocka_unit_test(test_proc_status_cut_inside_a_vm_line_is_truncated),
                cmocka_unit_test(test_proc_status_cut_right_after_vm_block_is_complete),
                cmocka_unit_test(test_proc_status_cut_before_any_vm_line_reads_as_no_mm),
                cmocka_unit_test(test_proc_status_missing_vm_swap_is_einval),
                cmocka_unit_test(test_proc_status_lone_mm_line_is_einval),
                cmocka_unit_test(test_proc_status_vm_value_without_unit_is_einval),
                cmocka_unit_test(test_proc_status_vm_value_garbage_is_einval),
                cmocka_unit_test(test_proc_status_vm_value_overflow_is_erange),
                cmocka_unit_test(test_proc_status_bad_ids_are_rejected),
                cmocka_unit_test(test_proc_status_line_without_colon_is_einval),
                cmocka_unit_test(test_proc_status_duplicate_key_is_einval),
                cmocka_unit_test(test_proc_status_empty_is_einval),
                cmocka_unit_test(test_proc_status_reads_only_len_bytes),
                cmocka_unit_test(test_proc_status_name_ends_at_len),
                cmocka_unit_test(test_proc_status_failure_leaves_output_untouched),

                cmocka_unit_test(test_proc_stat_user_task),
                cmocka_unit_test(test_proc_stat_kthread_flag),
                cmocka_unit_test(test_proc_stat_comm_with_spaces_and_parentheses),
                cmocka_unit_test(test_proc_stat_comm_that_looks_like_fields),
                cmocka_unit_test(test_proc_stat_comm_with_open_parenthesis),
                cmocka_unit_test(test_proc_stat_comm_with_newline_is_raw),
                cmocka_unit_test(test_proc_stat_empty_comm),
                cmocka_unit_test(test_proc_stat_long_comm_truncated_to_comm_len),
                cmocka_unit_test(test_proc_stat_without_trailing_newline),
                cmocka_unit_test(test_proc_stat_ending_at_starttime),
                cmocka_unit_test(test_proc_stat_negative_fields_where_the_kernel_prints_them),
                cmocka_unit_test(test_proc_stat_large_starttime_and_flags),
                cmocka_unit_test(test_proc_stat_flags_overflow_is_erange),
                cmocka_unit_test(test_proc_stat_starttime_overflow_is_erange),
                cmocka_unit_test(test_proc_stat_fewer_fields_is_truncated),
                cmocka_unit_test(test_proc_stat_cut_inside_comm_is_einval),
                cmocka_unit_test(test_proc_stat_missing_parentheses_is_einval),
                cmocka_unit_test(test_proc_stat_bad_pid_is_einval),
                cmocka_unit_test(test_proc_stat_bad_state_is_einval),
                cmocka_unit_test(test_proc_stat_bad_ppid_is_einval),
                cmocka_unit_test(test_proc_stat_garbage_field_is_einval),
                cmocka_unit_test(test_proc_stat_bad_spacing_is_einval),
                cmocka_unit_test(test_proc_stat_empty_is_einval),
                cmocka_unit_test(test_proc_stat_reads_only_len_bytes),
                cmocka_unit_test(test_proc_stat_failure_leaves_output_untouched),

                cmocka_unit_test(test_meminfo_6x),
                cmocka_unit_test(test_meminfo_without_swap),
                cmocka_unit_test(test_meminfo_without_trailing_newline),
                cmocka_unit_test(test_meminfo_lines_without_unit_ignored),
                cmocka_unit_test(test_meminfo_missing_swap_total_is_truncated),
                cmocka_unit_test(test_meminfo_missing_mem_total_is_einval),
                cmocka_unit_test(test_meminfo_cut_inside_a_line_is_einval),
                cmocka_unit_test(test_meminfo_garbage_is_einval),
                cmocka_unit_test(test_kb_values_bounded),
                cmocka_unit_test(test_meminfo_all_6x),
                cmocka_unit_test(test_meminfo_all_optional_and_duplicate),
                cmocka_unit_test(test_meminfo_overflow_is_erange),
                cmocka_unit_test(test_meminfo_duplicate_key_is_einval),
                cmocka_unit_test(test_meminfo_empty_is_einval),
                cmocka_unit_test(test_meminfo_reads_only_len_bytes),
                cmocka_unit_test(test_meminfo_failure_leaves_outputs_untouched),

                cmocka_unit_test(test_size_plain_bytes),
                cmocka_unit_test(test_size_units_are_powers_of_1024),
                cmocka_unit_test(test_size_lowercase_units),
                cmocka_unit_test(test_size_fraction_with_unit),
                cmocka_unit_test(test_size_fraction_rounds_down_to_a_byte),
                cmocka_unit_test(test_size_max),
                cmocka_unit_test(test_size_largest_values),
                cmocka_unit_test(test_size_overflow_is_erange),
                cmocka_unit_test(test_size_empty_is_einval),
                cmocka_unit_test(test_size_negative_is_einval),
                cmocka_unit_test(test_size_fraction_without_unit_is_einval),
                cmocka_unit_test(test_size_malformed_number_is_einval),
                cmocka_unit_test(test_size_unknown_or_extra_suffix_is_einval),
                cmocka_unit_test(test_size_max_is_exact),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
