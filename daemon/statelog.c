/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "statelog.h"

static int mkdir_p(const char *dir)
{
        char *p = strdup(dir), *s;
        int r = 0;

        if (!p)
                return -ENOMEM;
        for (s = p + 1; r == 0 && (s = strchr(s, '/')); s++) {
                *s = '\0';
                if (mkdir(p, 0755) < 0 && errno != EEXIST)
                        r = -errno;
                *s = '/';
        }
        if (r == 0 && mkdir(p, 0755) < 0 && errno != EEXIST)
                r = -errno;
        free(p);
        return r;
}

int statelog_append(const char *dir, const char *line)
{
        struct iovec iov[2] = { { (void *)line, strlen(line) }, { "\n", 1 } };
        char path[4096], old[4096];
        struct stat st;
        ssize_t n;
        int fd, r;

        if ((size_t)snprintf(path, sizeof(path), "%s/" STATELOG_NAME, dir) >= sizeof(path) ||
            (size_t)snprintf(old, sizeof(old), "%s/" STATELOG_OLD_NAME, dir) >= sizeof(old))
                return -ENAMETOOLONG;
        r = mkdir_p(dir);
        if (r < 0)
                return r;
        if (stat(path, &st) == 0 && st.st_size >= STATELOG_ROTATE_BYTES && rename(path, old) < 0)
                return -errno;
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0640);
        if (fd < 0)
                return -errno;
        /* One write: readers never see half a line from us. */
        n = writev(fd, iov, 2);
        r = n < 0 ? -errno : (size_t)n != iov[0].iov_len + 1 ? -EIO : 0;
        close(fd);
        return r;
}
