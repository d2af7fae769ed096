/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Globs over cgroup paths, for Match= and Protect= and for discovery. */
#include <fnmatch.h>
#include <limits.h>
#include <string.h>

#include "cgsentry/supervise.h"

/* Match one path component by fnmatch() on a NUL-terminated copy. */
static bool component_match(const char *pat, size_t plen, const char *s, size_t slen)
{
        char p[NAME_MAX + 1], c[NAME_MAX + 1];

        if (plen > NAME_MAX || slen > NAME_MAX)
                return false;
        memcpy(p, pat, plen);
        p[plen] = '\0';
        memcpy(c, s, slen);
        c[slen] = '\0';
        return fnmatch(p, c, FNM_PERIOD) == 0;
}

static bool is_globstar(const char *p)
{
        return p[0] == '*' && p[1] == '*' && (p[2] == '/' || p[2] == '\0');
}

/* Nothing but "**" components left: they match no component at all. */
static bool only_globstars(const char *p)
{
        for (; *p; p += p[2] ? 3 : 2)
                if (!is_globstar(p))
                        return false;
        return true;
}

/*
 * '**' matches any run of whole components (none included), so matching is
 * that of '*' over a string of components: greedy, going back only to the
 * last '**' seen. (The recursive matcher this replaces took exponential time
 * on a pattern of many '**': found by fuzzing; a configuration could have
 * hung the daemon on every directory event with it.)
 */
bool sv_glob_match(const char *pattern, const char *path)
{
        const char *p = pattern, *s = path, *star_p = NULL, *star_s = NULL;

        while (*s == '/')
                s++;
        for (;;) {
                if (is_globstar(p)) {
                        p += p[2] ? 3 : 2;
                        star_p = p;
                        star_s = s;
                        continue;
                }
                if (!*p && !*s)
                        return true;
                if (*p && *s) {
                        const char *pe = strchrnul(p, '/'), *se = strchrnul(s, '/');
                        if (component_match(p, (size_t)(pe - p), s, (size_t)(se - s))) {
                                p = *pe ? pe + 1 : pe;
                                s = *se ? se + 1 : se;
                                /* The path ended with this component: only a final
                                 * "**" (none of the components) may remain. */
                                if (!*se && !only_globstars(p))
                                        goto mismatch;
                                /* The pattern ended, the path goes on. */
                                if (!*pe && *se)
                                        goto mismatch;
                                continue;
                        }
                }
mismatch:
                /* Let the last '**' eat one more component, if there is one. */
                if (!star_p || !*star_s)
                        return false;
                star_s = strchrnul(star_s, '/');
                if (*star_s)
                        star_s++;
                s = star_s;
                p = star_p;
        }
}

/* Could @pattern match @path or something below it? Then its directory is
 * watched for new children. */
bool sv_glob_could_contain(const char *pattern, const char *path)
{
        while (*path) {
                const char *pe = strchrnul(pattern, '/'), *se = strchrnul(path, '/');
                char pc[256], sc[256];
                size_t pl = (size_t)(pe - pattern), sl = (size_t)(se - path);

                if (!*pattern)
                        return false;
                if (pl == 2 && pattern[0] == '*' && pattern[1] == '*')
                        return true;
                if (pl >= sizeof(pc) || sl >= sizeof(sc))
                        return false;
                memcpy(pc, pattern, pl);
                pc[pl] = '\0';
                memcpy(sc, path, sl);
                sc[sl] = '\0';
                if (!sv_glob_match(pc, sc))
                        return false;
                pattern = *pe ? pe + 1 : pe;
                path = *se ? se + 1 : se;
        }
        return *pattern != '\0';
}

