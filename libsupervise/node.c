/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Node pressure: the figures of NodeMemoryAvailable=. Pure. MemAvailable
 * (/proc/meminfo) has no kernel notification, so it is read on a timer
 * whose period follows how close the node is to the threshold; the node's
 * PSI trigger is the event-driven part (the daemon arms it).
 */
#include "cgsentry/supervise.h"

/* A runaway that fills memory this fast (bytes per millisecond, 1 GiB/s)
 * is about the fastest seen on real machines; under emulation it is slower. */
#define NODE_FILL_BYTES_PER_MSEC (1024ull * 1024)

uint64_t sv_node_threshold(uint64_t mem_total, uint64_t bytes, unsigned permyriad)
{
        if (bytes)
                return bytes;
        return permyriad ? sv_permyriad_of(mem_total, permyriad) : 0;
}

uint64_t sv_node_poll_msec(uint64_t available, uint64_t threshold)
{
        uint64_t ms;

        if (available <= threshold)
                return SV_NODE_POLL_MIN_MSEC;
        /* Half the time the headroom lasts: a read always comes before the
         * threshold is crossed, with room for the kill itself. */
        ms = (available - threshold) / NODE_FILL_BYTES_PER_MSEC / 2;
        if (ms < SV_NODE_POLL_MIN_MSEC)
                return SV_NODE_POLL_MIN_MSEC;
        return ms > SV_NODE_POLL_MAX_MSEC ? SV_NODE_POLL_MAX_MSEC : ms;
}
