/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The procfs parsers: /proc/PID/status, /proc/PID/stat, /proc/meminfo. */
#include "fuzz.h"
#include "parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *buf = (const char *)data + 1;
        size_t len = size ? size - 1 : 0;
        struct sv_proc_status st;
        struct sv_proc_stat ps;
        struct sv_meminfo mi;

        if (!size)
                return 0;
        switch (data[0] % 3) {
        case 0: (void)sv_parse_proc_status(buf, len, &st); break;
        case 1: (void)sv_parse_proc_stat(buf, len, &ps); break;
        case 2: (void)sv_parse_meminfo_all(buf, len, &mi); break;
        }
        return 0;
}
