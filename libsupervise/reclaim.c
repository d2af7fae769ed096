/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What reclaim can give back: the estimate behind Tripwire=. Pure: it works
 * on memory.stat figures and a swap headroom the caller read.
 *
 * Why this and not usage: memory.current counts page cache, which memcg
 * reclaim takes back whenever a charge needs room. A service that reads
 * and writes files sits at its limit forever without being in danger, and
 * every allocation above memory.high raises a "high" event while the
 * kernel simply reclaims cache (mm/memcontrol.c: reclaim_high() calls
 * memcg_memory_event(MEMCG_HIGH) and then try_to_free_mem_cgroup_pages()).
 * The kernel OOMs a memcg only when reclaim at memory.max finds nothing
 * more to take, so what brings a group towards an OOM is the memory reclaim
 * cannot take:
 *
 *  - swap-backed pages (anon and shmem/tmpfs, the anon LRU lists) beyond
 *    what swap can take. Memcg reclaim swaps only while
 *    mem_cgroup_get_nr_swap_pages() > 0 — free swap, capped by
 *    memory.swap.max - memory.swap.current of the group and every
 *    ancestor — and never when vm.swappiness is 0 (get_scan_count():
 *    SCAN_FILE for cgroup reclaim without swappiness). The caller passes
 *    that headroom in bytes.
 *  - unevictable pages (mlock, SHM_LOCK, ramfs);
 *  - kernel memory reclaim cannot shrink: stacks, page tables, percpu,
 *    vmalloc, unreclaimable slab, socket buffers.
 *
 * Everything else — the file LRU lists (clean, dirty and under writeback:
 * writeback makes dirty pages reclaimable, it does not pin them; pages
 * freed with MADV_FREE also sit there) and reclaimable slab (dentries,
 * inodes) — is what reclaim takes first, so it does not count.
 */
#include <stdio.h>

#include "cgsentry/supervise.h"

static uint64_t sat_sub(uint64_t a, uint64_t b)
{
        return a > b ? a - b : 0;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
        return a < b ? a : b;
}

uint64_t sv_permyriad_of(uint64_t value, unsigned permyriad)
{
        /* value * p / 10000 without the 77-bit intermediate. */
        return value / 10000 * permyriad + value % 10000 * permyriad / 10000;
}

void sv_reclaim_estimate(const struct sv_memory_stat *st, uint64_t usage, uint64_t swap_headroom,
                         struct sv_reclaim *ret)
{
        struct sv_reclaim r = { .usage = usage, .swap_headroom = swap_headroom };
        uint64_t swap_backed, shmem, anon, parts, from_total, swap_left;

        /*
         * The anon LRU lists hold anon and shmem pages alike (both are swap
         * backed); mlocked ones moved to the unevictable list. Kernels
         * without the LRU breakdown (none since 4.5) fall back to anon+shmem.
         */
        swap_backed = st->active_anon + st->inactive_anon;
        if (!swap_backed && !st->active_file && !st->inactive_file && !st->unevictable)
                swap_backed = st->anon + st->shmem;
        shmem = min_u64(st->shmem, swap_backed);
        anon = swap_backed - shmem;

        /* Swap takes anon first, then shmem: the split is only for the
         * message, the sum is what matters. */
        r.swappable = min_u64(swap_backed, swap_headroom);
        swap_left = swap_headroom;
        r.anon = sat_sub(anon, swap_left);
        swap_left = sat_sub(swap_left, anon);
        r.shmem = sat_sub(shmem, swap_left);
        r.unevictable = st->unevictable;

        /*
         * "kernel" (5.18+) is every kernel charge of the group (MEMCG_KMEM):
         * slab, stacks, page tables, percpu, vmalloc. Older kernels list
         * only the parts; take whichever is larger, so an unknown part is
         * not lost. Socket buffers are charged apart from it on cgroup v2.
         */
        parts = st->kernel_stack + st->pagetables + st->sec_pagetables + st->percpu +
                st->vmalloc + st->slab_unreclaimable;
        from_total = sat_sub(st->kernel, st->slab_reclaimable);
        r.kernel = (parts > from_total ? parts : from_total) + st->sock;

        r.file = st->active_file + st->inactive_file;
        r.slab_reclaimable = st->slab_reclaimable;
        r.nonreclaimable = r.anon + r.shmem + r.unevictable + r.kernel;
        *ret = r;
}

bool sv_reclaim_over(const struct sv_reclaim *r, uint64_t memory_max, unsigned permyriad)
{
        if (memory_max == SV_LIMIT_MAX || permyriad == 0)
                return false;
        return r->nonreclaimable >= sv_permyriad_of(memory_max, permyriad);
}

unsigned sv_reclaim_share(const struct sv_reclaim *r, uint64_t memory_max)
{
        if (memory_max == SV_LIMIT_MAX || memory_max == 0)
                return 0;
        /* Whole percent, rounded down, saturating at 999 for the message. */
        if (r->nonreclaimable / 10 >= memory_max)
                return 999;
        return (unsigned)(r->nonreclaimable * 100 / memory_max);
}

const char *sv_format_bytes(uint64_t bytes, char *buf, size_t size)
{
        static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
        unsigned u = 0;
        uint64_t whole = bytes;

        if (bytes == SV_LIMIT_MAX) {
                snprintf(buf, size, "max");
                return buf;
        }
        while (whole >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
                whole /= 1024;
                u++;
        }
        if (u == 0 || whole >= 100) {
                snprintf(buf, size, "%llu %s", (unsigned long long)whole, units[u]);
        } else {
                /* One decimal below 100 units: "1.5 GiB", "12.3 MiB". */
                uint64_t unit = (uint64_t)1 << (10 * u);
                uint64_t tenths = (bytes % unit) * 10 / unit;
                snprintf(buf, size, "%llu.%llu %s", (unsigned long long)whole,
                         (unsigned long long)tenths, units[u]);
        }
        return buf;
}
