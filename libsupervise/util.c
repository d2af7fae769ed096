/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

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

ssize_t sv__read_at(int dirfd, const char *name, char *buf, size_t size)
{
        int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        ssize_t r;

        if (fd < 0)
                return -errno;
        r = sv__read_fd(fd, buf, size);
        close(fd);
        return r;
}

int sv__read_alloc_at(int dirfd, const char *name, char **ret, size_t *ret_len)
{
        size_t size = 4096, len = 0;
        char *buf = NULL;
        int fd, r = 0;

        fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        for (;;) {
                ssize_t n;
                if (!buf || len + 1 >= size) {
                        char *nb;
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
