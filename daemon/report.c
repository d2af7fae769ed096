/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>
#include <stdio.h>

#include "report.h"

static void add_u64(json_object *o, const char *key, uint64_t v)
{
        json_object_object_add(o, key, json_object_new_uint64(v));
}

json_object *cgsentry_trigger_json(const struct sv_trigger *t)
{
        json_object *o = json_object_new_object();
        const struct sv_reclaim *r = &t->reclaim;
        char buf[96];

        if (!o)
                return NULL;
        json_object_object_add(o, "trigger", json_object_new_string(sv_trigger_name(t->kind)));
        switch (t->kind) {
        case SV_TRIGGER_TRIPWIRE:
                add_u64(o, "memory_max", t->memory_max);
                json_object_object_add(o, "tripwire_percent",
                                       json_object_new_double(t->permyriad / 100.0));
                add_u64(o, "memory_current", r->usage);
                add_u64(o, "nonreclaimable", r->nonreclaimable);
                add_u64(o, "anon", r->anon);
                add_u64(o, "shmem", r->shmem);
                add_u64(o, "unevictable", r->unevictable);
                add_u64(o, "kernel", r->kernel);
                add_u64(o, "file", r->file);
                add_u64(o, "slab_reclaimable", r->slab_reclaimable);
                add_u64(o, "swappable", r->swappable);
                add_u64(o, "swap_headroom", r->swap_headroom);
                break;
        case SV_TRIGGER_PRESSURE:
                snprintf(buf, sizeof(buf), "%s %" PRIu64 " %" PRIu64, t->psi_full ? "full" : "some",
                         t->stall_usec, t->window_usec);
                json_object_object_add(o, "psi_trigger", json_object_new_string(buf));
                json_object_object_add(o, "some_avg10", json_object_new_double(t->psi.some.avg10));
                json_object_object_add(o, "full_avg10", t->psi.has_full
                                                                ? json_object_new_double(t->psi.full.avg10)
                                                                : NULL);
                break;
        case SV_TRIGGER_KERNEL_OOM_KILL:
                add_u64(o, "oom_kill", t->oom_kill);
                break;
        }
        return o;
}
