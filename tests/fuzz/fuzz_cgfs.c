/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The cgroupfs parsers: the first byte picks which one reads the rest. */
#include "fuzz.h"
#include "parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *buf = (const char *)data + 1;
        size_t len = size ? size - 1 : 0;
        union {
                struct sv_memory_events ev;
                struct sv_psi psi;
                struct sv_memory_stat st;
                struct sv_cgroup_events cg;
                uint64_t u;
                int i;
                bool b;
                unsigned ctrl;
        } out;
        int *pids = NULL;
        size_t n;

        if (!size)
                return 0;
        switch (data[0] % 9) {
        case 0: (void)sv_parse_memory_events(buf, len, &out.ev); break;
        case 1: (void)sv_parse_psi(buf, len, &out.psi); break;
        case 2: (void)sv_parse_memory_stat(buf, len, &out.st); break;
        case 3: (void)sv_parse_cgroup_events(buf, len, &out.cg); break;
        case 4: (void)sv_parse_controllers(buf, len, &out.ctrl); break;
        case 5:
                if (sv_parse_pids(buf, len, &pids, &n) == 0)
                        free(pids);
                break;
        case 6: (void)sv_parse_limit(buf, len, &out.u); break;
        case 7: (void)sv_parse_int(buf, len, &out.i); break;
        case 8: (void)sv_parse_bool01(buf, len, &out.b); break;
        }
        return 0;
}
