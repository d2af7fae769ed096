/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * User input with ranges: durations and percentages as the configuration
 * and the command line take them. The syntax is policy.h's (one parser for
 * the host and the plugins); these add the range and a message that says
 * what is accepted, so "Cooldown=1e30" or "Tripwire=nan%" is an error with
 * the reason rather than undefined behaviour.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "cgsentry/policy.h"
#include "cgsentry/supervise.h"

const char *sv_format_duration(uint64_t usec, char *buf, size_t size)
{
        static const struct {
                const char *unit;
                uint64_t usec;
        } units[] = { { "h", 3600000000ull }, { "min", 60000000 }, { "s", 1000000 },
                      { "ms", 1000 },         { "us", 1 } };

        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
                if (usec >= units[i].usec && usec % units[i].usec == 0) {
                        snprintf(buf, size, "%" PRIu64 "%s", usec / units[i].usec, units[i].unit);
                        return buf;
                }
        snprintf(buf, size, "0s");
        return buf;
}

int sv_parse_duration(const char *s, uint64_t min_usec, uint64_t max_usec, uint64_t *ret,
                      char *msg, size_t msg_size)
{
        char lo[32], hi[32];
        uint64_t v;
        int r = s ? cgsentry_parse_duration_usec(s, &v) : -EINVAL;

        sv_format_duration(min_usec, lo, sizeof(lo));
        sv_format_duration(max_usec, hi, sizeof(hi));
        if (r == 0 && (v < min_usec || v > max_usec))
                r = -ERANGE;
        if (r < 0) {
                if (msg)
                        snprintf(msg, msg_size,
                                 "%s a duration such as 10s, 500ms, 1.5s or 2min, from %s to %s",
                                 r == -ERANGE ? "out of range: expected" : "expected", lo, hi);
                return r;
        }
        *ret = v;
        return 0;
}

int sv_parse_percent(const char *s, unsigned min_permyriad, unsigned max_permyriad,
                     unsigned *ret, char *msg, size_t msg_size)
{
        uint32_t v;
        int r = s ? cgsentry_parse_percent(s, &v) : -EINVAL;

        if (r == 0 && (v < min_permyriad || v > max_permyriad))
                r = -ERANGE;
        if (r < 0) {
                if (msg)
                        snprintf(msg, msg_size,
                                 "%s a percentage such as 90%% or 90.5%% (two decimals at most), "
                                 "from %u.%02u%% to %u.%02u%%",
                                 r == -ERANGE ? "out of range: expected" : "expected",
                                 min_permyriad / 100, min_permyriad % 100, max_permyriad / 100,
                                 max_permyriad % 100);
                return r;
        }
        *ret = v;
        return 0;
}
