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

static bool glob_rec(const char *pat, const char *path)
{
        const char *pe, *se;
        size_t plen;

        if (!*pat)
                return !*path;
        pe = strchrnul(pat, '/');
        plen = (size_t)(pe - pat);
        if (plen == 2 && pat[0] == '*' && pat[1] == '*') {
                const char *rest = *pe ? pe + 1 : pe;
                /* '**' eats zero or more whole components. */
                for (const char *p = path;; ) {
                        if (glob_rec(rest, p))
                                return true;
                        if (!*p)
                                return false;
                        p = strchrnul(p, '/');
                        if (*p)
                                p++;
                }
        }
        if (!*path)
                return false;
        se = strchrnul(path, '/');
        if (!component_match(pat, plen, path, (size_t)(se - path)))
                return false;
        if (!*pe)
                return !*se;
        if (!*se)
                return glob_rec(pe + 1, se);
        return glob_rec(pe + 1, se + 1);
}

bool sv_glob_match(const char *pattern, const char *path)
{
        while (*path == '/')
                path++;
        return glob_rec(pattern, path);
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

