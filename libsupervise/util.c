/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

int sv__read_value_at(int dirfd, const char *name,
                      int (*parse)(const char *buf, size_t len, uint64_t *ret), uint64_t *ret)
{
        char buf[64]; /* a u64 and a newline */
        ssize_t n = sv__read_at(dirfd, name, buf, sizeof(buf));

        return n < 0 ? (int)n : parse(buf, (size_t)n, ret);
}

ssize_t sv__read_fd(int fd, char *buf, size_t size)
{
        size_t off = 0;

        if (size == 0)
                return -EINVAL;
        for (;;) {
                ssize_t n = pread(fd, buf + off, size - 1 - off, (off_t)off);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                off += (size_t)n;
                if (off == size - 1) {
                        /* Full buffer: only fine if the file ends right here. */
                        char c;
                        n = pread(fd, &c, 1, (off_t)off);
                        if (n > 0)
                                return -EFBIG;
                        break;
                }
        }
        buf[off] = '\0';
        return (ssize_t)off;
}

/*
 * Open a file cgsentry only reads: never a FIFO or a device (a FIFO planted
 * in a fixture tree or a ProcRoot= would block the daemon forever, so the
 * open does not block and anything but a regular file is -EINVAL), and no
 * symbolic link at the last component.
 */
int sv__open_regular(int dirfd, const char *name)
{
        struct stat st;
        int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);

        if (fd < 0)
                return errno == ELOOP ? -EINVAL : -errno;
        if (fstat(fd, &st) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        if (!S_ISREG(st.st_mode)) {
                close(fd);
                return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
        }
        return fd;
}

ssize_t sv__read_at(int dirfd, const char *name, char *buf, size_t size)
{
        int fd = sv__open_regular(dirfd, name);
        ssize_t r;

        if (fd < 0)
                return fd;
        r = sv__read_fd(fd, buf, size);
        close(fd);
        return r;
}

int sv__read_alloc_at(int dirfd, const char *name, size_t max, char **ret, size_t *ret_len)
{
        size_t size = 4096, len = 0;
        char *buf = NULL;
        int fd, r = 0;

        fd = sv__open_regular(dirfd, name);
        if (fd < 0)
                return fd;
        for (;;) {
                ssize_t n;
                if (!buf || len + 1 >= size) {
                        char *nb;
                        if (buf && size >= max) {
                                r = -EFBIG;
                                break;
                        }
                        if (buf)
                                size *= 2;
                        nb = realloc(buf, size);
                        if (!nb) {
                                r = -ENOMEM;
                                break;
                        }
                        buf = nb;
                }
                /* cgroupfs seq files: plain read(), offsets are not byte offsets. */
                n = read(fd, buf + len, size - 1 - len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        break;
                }
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        close(fd);
        if (r < 0) {
                free(buf);
                return r;
        }
        buf[len] = '\0';
        *ret = buf;
        *ret_len = len;
        return 0;
}

int sv__errorf(struct sv_error *err, int e, const char *path, const char *fmt, ...)
{
        va_list ap;

        if (err) {
                err->err = e;
                snprintf(err->path, sizeof(err->path), "%s", path ? path : "");
                va_start(ap, fmt);
                vsnprintf(err->what, sizeof(err->what), fmt, ap);
                va_end(ap);
        }
        return -e;
}

int sv__error(struct sv_error *err, int e, const char *dir, const char *name, const char *what)
{
        if (err) {
                err->err = e;
                snprintf(err->path, sizeof(err->path), "%s%s%s", dir ? dir : "",
                         dir && name && *dir && dir[strlen(dir) - 1] != '/' ? "/" : "",
                         name ? name : "");
                snprintf(err->what, sizeof(err->what), "%s", what ? what : strerror(e));
        }
        return -e;
}

char *sv__path_normalize(const char *path)
{
        size_t n = strlen(path);
        char *out = malloc(n + 2), *o = out;

        if (!out)
                return NULL;
        *o++ = '/';
        for (const char *p = path; *p; p++) {
                if (*p == '/' && o[-1] == '/')
                        continue;
                *o++ = *p;
        }
        if (o - out > 1 && o[-1] == '/')
                o--;
        *o = '\0';
        return out;
}

/* Length of the valid UTF-8 sequence at @s (at most @n bytes), 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
        size_t len;
        uint32_t cp;

        if (s[0] < 0x80)
                return 1;
        if ((s[0] & 0xe0) == 0xc0)
                len = 2, cp = s[0] & 0x1f;
        else if ((s[0] & 0xf0) == 0xe0)
                len = 3, cp = s[0] & 0x0f;
        else if ((s[0] & 0xf8) == 0xf0)
                len = 4, cp = s[0] & 0x07;
        else
                return 0;
        if (len > n)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = cp << 6 | (s[i] & 0x3f);
        }
        /* Overlong forms, surrogates and values past U+10FFFF are invalid. */
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
                return 0;
        return len;
}

bool sv__utf8_valid(const char *s)
{
        size_t n = strlen(s);

        for (size_t i = 0; i < n;) {
                size_t l = utf8_seq((const unsigned char *)s + i, n - i);
                if (!l)
                        return false;
                i += l;
        }
        return true;
}

void sv__utf8_sanitize(const char *s, char *out, size_t size)
{
        size_t n = strlen(s), o = 0;

        for (size_t i = 0; i < n && o + 4 <= size;) {
                size_t l = utf8_seq((const unsigned char *)s + i, n - i);
                if (l) {
                        memcpy(out + o, s + i, l);
                        o += l;
                        i += l;
                } else {
                        memcpy(out + o, "\xef\xbf\xbd", 3); /* U+FFFD */
                        o += 3;
                        i++;
                }
        }
        out[o] = '\0';
}

/*
 * The one escaping of names for people and parsers (see supervise.h):
 * printable ASCII but '\' stays, valid UTF-8 outside the C1 range stays,
 * '\' becomes "\\" and every other byte "\xNN".
 */
static const char *escape(const char *s, char *out, size_t size, bool backslash)
{
        static const char hex[] = "0123456789abcdef";
        size_t n = strlen(s), o = 0;

        if (size == 0)
                return out;
        for (size_t i = 0; i < n;) {
                const unsigned char *u = (const unsigned char *)s + i;
                size_t l = utf8_seq(u, n - i);
                /* U+0080..U+009F (C1 controls) are "\xc2\x80".."\xc2\x9f". */
                bool keep = l > 1 ? !(l == 2 && u[0] == 0xc2 && u[1] < 0xa0)
                                  : l == 1 && u[0] >= 0x20 && u[0] < 0x7f &&
                                            (u[0] != '\\' || !backslash);

                if (keep) {
                        if (o + l >= size)
                                break;
                        memcpy(out + o, u, l);
                        o += l;
                        i += l;
                } else if (u[0] == '\\' && backslash) {
                        if (o + 2 >= size)
                                break;
                        out[o++] = '\\';
                        out[o++] = '\\';
                        i++;
                } else {
                        if (o + 4 >= size)
                                break;
                        out[o++] = '\\';
                        out[o++] = 'x';
                        out[o++] = hex[u[0] >> 4];
                        out[o++] = hex[u[0] & 15];
                        i++;
                }
        }
        out[o] = '\0';
        return out;
}

const char *sv_escape(const char *s, char *out, size_t size)
{
        return escape(s, out, size, true);
}

const char *sv__escape_text(const char *s, char *out, size_t size)
{
        return escape(s, out, size, false);
}

char *sv_escape_dup(const char *s)
{
        size_t size = 4 * strlen(s) + 1;
        char *out = malloc(size);

        return out ? (char *)sv_escape(s, out, size) : NULL;
}

int sv_cgroup_write(int dirfd, const char *name, const char *value)
{
        size_t len = strlen(value);
        int fd, r = 0;
        ssize_t n;

        fd = openat(dirfd, name, O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        /* kernfs takes a value in one write(); a short write is an error. */
        n = write(fd, value, len);
        if (n < 0)
                r = -errno;
        else if ((size_t)n != len)
                r = -EIO;
        close(fd);
        return r;
}

bool sv__path_is_plain(const char *path)
{
        for (const char *p = path; *p;) {
                const char *e = strchrnul(p, '/');
                size_t n = (size_t)(e - p);
                if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
                        return false;
                p = *e ? e + 1 : e;
        }
        return true;
}
