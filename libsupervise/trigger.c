/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What set off a kill, in cgsentry's own words and with the figures it
 * decided on. Pure. The kernel's OOM wording ("Memory cgroup out of memory:
 * Killed process …") is kept for what the kernel does (explain); a kill
 * cgsentry makes never borrows it, so nobody reading a log mistakes one for
 * an OOM that did not happen.
 */
#include <inttypes.h>
#include <stdio.h>

#include "cgsentry/supervise.h"

static const char *const trigger_names[] = {
        [SV_TRIGGER_TRIPWIRE] = "tripwire",
        [SV_TRIGGER_PRESSURE] = "pressure",
        [SV_TRIGGER_KERNEL_OOM_KILL] = "kernel-oom-kill",
        [SV_TRIGGER_NODE_PRESSURE] = "node-pressure",
};

const char *sv_trigger_name(enum sv_trigger_kind kind)
{
        if ((unsigned)kind >= sizeof(trigger_names) / sizeof(trigger_names[0]))
                return "unknown";
        return trigger_names[kind];
}

static void psi_share(char *buf, size_t size, double avg)
{
        snprintf(buf, size, "%.2f%%", avg);
}

int sv_trigger_describe(const struct sv_trigger *t, char *buf, size_t size)
{
        char a[6][32];
        const struct sv_reclaim *r = &t->reclaim;

        switch (t->kind) {
        case SV_TRIGGER_TRIPWIRE:
                sv_format_bytes(r->nonreclaimable, a[0], sizeof(a[0]));
                sv_format_bytes(t->memory_max, a[1], sizeof(a[1]));
                sv_format_bytes(r->anon, a[2], sizeof(a[2]));
                sv_format_bytes(r->shmem, a[3], sizeof(a[3]));
                sv_format_bytes(r->unevictable, a[4], sizeof(a[4]));
                sv_format_bytes(r->kernel, a[5], sizeof(a[5]));
                {
                        char use[32], cache[32], slab[32], swap[32], room[32];
                        return snprintf(buf, size,
                                        "non-reclaimable %s = %u%% of memory.max %s (anon %s, "
                                        "shmem %s, unevictable %s, kernel %s), tripwire at "
                                        "%u.%02u%%; usage %s, page cache %s, reclaimable slab "
                                        "%s, swappable %s, swap headroom %s",
                                        a[0], sv_reclaim_share(r, t->memory_max), a[1], a[2],
                                        a[3], a[4], a[5], t->permyriad / 100, t->permyriad % 100,
                                        sv_format_bytes(r->usage, use, sizeof(use)),
                                        sv_format_bytes(r->file, cache, sizeof(cache)),
                                        sv_format_bytes(r->slab_reclaimable, slab, sizeof(slab)),
                                        sv_format_bytes(r->swappable, swap, sizeof(swap)),
                                        sv_format_bytes(r->swap_headroom, room, sizeof(room)));
                }
        case SV_TRIGGER_PRESSURE:
                psi_share(a[0], sizeof(a[0]), t->psi.some.avg10);
                psi_share(a[1], sizeof(a[1]), t->psi.full.avg10);
                return snprintf(buf, size,
                                "memory.pressure trigger \"%s %" PRIu64 " %" PRIu64
                                "\" fired: tasks stalled on memory for %" PRIu64
                                " ms of a %" PRIu64 " ms window; some avg10 %s, full avg10 %s",
                                t->psi_full ? "full" : "some", t->stall_usec, t->window_usec,
                                t->stall_usec / 1000, t->window_usec / 1000, a[0],
                                t->psi.has_full ? a[1] : "n/a");
        case SV_TRIGGER_KERNEL_OOM_KILL:
                return snprintf(buf, size,
                                "the kernel's OOM killer killed a process in this group "
                                "(memory.events oom_kill %" PRIu64 " -> %" PRIu64 ")",
                                t->oom_kill_before, t->oom_kill);
        case SV_TRIGGER_NODE_PRESSURE:
                sv_format_bytes(t->mem_available, a[0], sizeof(a[0]));
                sv_format_bytes(t->mem_total, a[1], sizeof(a[1]));
                sv_format_bytes(t->available_min, a[2], sizeof(a[2]));
                if (t->node_psi) {
                        psi_share(a[3], sizeof(a[3]), t->psi.some.avg10);
                        psi_share(a[4], sizeof(a[4]), t->psi.full.avg10);
                        return snprintf(buf, size,
                                        "the node's memory pressure trigger \"%s %" PRIu64
                                        " %" PRIu64 "\" fired: tasks stalled on memory for %" PRIu64
                                        " ms of a %" PRIu64 " ms window node-wide; some avg10 %s, "
                                        "full avg10 %s; MemAvailable %s of MemTotal %s",
                                        t->psi_full ? "full" : "some", t->stall_usec,
                                        t->window_usec, t->stall_usec / 1000,
                                        t->window_usec / 1000, a[3],
                                        t->psi.has_full ? a[4] : "n/a", a[0], a[1]);
                }
                return snprintf(buf, size,
                                "the node's MemAvailable %s = %u%% of MemTotal %s is below "
                                "NodeMemoryAvailable= %s",
                                a[0], t->mem_total ? (unsigned)(t->mem_available * 100 / t->mem_total)
                                                   : 0,
                                a[1], a[2]);
        }
        return snprintf(buf, size, "unknown trigger");
}
