/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small internal helpers shared by the readers (sv__ = internal, non-static). */
#ifndef SV_UTIL_H
#define SV_UTIL_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "cgsentry/supervise.h"

/*
 * Read a whole small file relative to @dirfd into @buf (NUL-terminated, at
 * most @size - 1 bytes). pread() from 0 so the same fd can be re-read.
 * Returns the length or -errno; a file larger than the buffer is -EFBIG
 * (the caller uses a buffer that fits every kernel's output).
 */
ssize_t sv__read_at(int dirfd, const char *name, char *buf, size_t size);
/* Same, reading from an already open fd. */
ssize_t sv__read_fd(int fd, char *buf, size_t size);
/* Like sv__read_at, but allocates, up to @max bytes (then -EFBIG): for
 * files without a fixed bound (cgroup.procs). */
int sv__read_alloc_at(int dirfd, const char *name, size_t max, char **ret, size_t *ret_len);
/* Open @name for reading: a regular file (else -EINVAL), no symlink, never
 * blocking on open. Returns the fd or -errno. */
int sv__open_regular(int dirfd, const char *name);
/* Read a one-value file relative to @dirfd (memory.current, memory.max)
 * and parse it with @parse (sv_parse_u64, or sv_parse_limit where "max"
 * is allowed). 0, or the read's or the parser's -errno. */
int sv__read_value_at(int dirfd, const char *name,
                      int (*parse)(const char *buf, size_t len, uint64_t *ret), uint64_t *ret);

/* @id's clock (CLOCK_REALTIME, CLOCK_MONOTONIC) in microseconds. */
static inline int64_t sv__clock_usec(clockid_t id)
{
        struct timespec ts;

        clock_gettime(id, &ts);
        return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Record an error (when @err is non-NULL) and return -@e. @e is positive. */
int sv__error(struct sv_error *err, int e, const char *dir, const char *name, const char *what);
/* @err (when non-NULL) says @path and the formatted reason; returns -@e. */
int sv__errorf(struct sv_error *err, int e, const char *path, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/* ENOENT, ENODEV, ESRCH: the object went away while we looked. */
static inline int sv__is_gone(int r)
{
        return r == -ENOENT || r == -ENODEV || r == -ESRCH;
}

/* Process names are bytes; JSON wants UTF-8. */
bool sv__utf8_valid(const char *s);
/* Copy @s with each invalid byte replaced by U+FFFD; @size >= 4 * strlen + 1
 * keeps everything. */
void sv__utf8_sanitize(const char *s, char *out, size_t size);
/* Room for a sanitized comm: every byte may become three. */
#define SV_COMM_UTF8_SIZE (3 * SV_COMM_LEN + 1)

/* A whole message made safe for one log line: sv_escape() but for the
 * backslash, which stays (names in it were escaped with sv_escape()). */
const char *sv__escape_text(const char *s, char *out, size_t size);

/* No "." or ".." component: a path that stays below where it starts. */
bool sv__path_is_plain(const char *path);

/*
 * sv__open_trusted() - open @base in @dir (@path names it in messages) for
 * cgsentry to @verb ("load", "run") as a @noun ("policy plugin", "hook"),
 * only if root (or we) owns it and every directory from / down to it, and
 * nobody else can write any of them (a sticky /tmp through our own entry
 * excepted). No symbolic link is followed after realpath(@dir). Returns an
 * O_RDONLY fd of the file, or -errno with the reason in @err.
 */
int sv__open_trusted(const char *dir, const char *base, const char *path, const char *verb,
                     const char *noun, struct sv_error *err);
/* strdup of "/" + path with duplicate and trailing slashes removed. */
char *sv__path_normalize(const char *path);

#endif
