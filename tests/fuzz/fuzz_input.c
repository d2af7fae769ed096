/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What users type: sizes, durations, percentages, globs, escaping. */
#include <stdio.h>

#include "cgsentry/policy.h"
#include "cgsentry/supervise.h"
#include "fuzz.h"
#include "parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *s = fuzz_text(data, size), msg[256], *e;
        const char *slash;
        uint64_t u;
        uint32_t p32;
        unsigned p;

        if (!s)
                return 0;
        (void)sv_parse_size(s, &u);
        (void)sv_parse_duration(s, 0, UINT64_MAX, &u, msg, sizeof(msg));
        (void)sv_parse_percent(s, 1, 10000, &p, msg, sizeof(msg));
        (void)cgsentry_parse_duration_usec(s, &u);
        (void)cgsentry_parse_percent(s, &p32);
        e = sv_escape_dup(s);
        free(e);
        /* the input as "pattern\npath" */
        slash = strchr(s, '\n');
        if (slash) {
                char *pat = strndup(s, (size_t)(slash - s));
                if (pat) {
                        (void)sv_glob_match(pat, slash + 1);
                        (void)sv_glob_could_contain(pat, slash + 1);
                        free(pat);
                }
        }
        free(s);
        return 0;
}
