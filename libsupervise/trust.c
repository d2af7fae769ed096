/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Files cgsentry loads or runs as root (policy plugins, hooks) must be
 * writable by nobody but root, and so must every directory above them:
 * whoever can write any of them could replace the code that runs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

/* Who may own what we execute: root when we are root (the daemon), else
 * root or ourselves. */
static bool trusted_owner(uid_t uid)
{
        return uid == 0 || uid == geteuid();
}

/* Is the file behind @fd one we may execute? */
static int check_file(int fd, const char *path, const char *verb, const char *noun,
                      struct sv_error *err)
{
        struct stat st;

        if (fstat(fd, &st) < 0)
                return sv__errorf(err, errno, path, "cannot stat the %s: %s", noun, strerror(errno));
        if (!S_ISREG(st.st_mode))
                return sv__errorf(err, EINVAL, path, "%s is not a regular file", noun);
        /* Anyone who can write it could replace its code, which runs as root. */
        if (st.st_mode & S_IWOTH)
                return sv__errorf(err, EPERM, path, "refusing to %s a world-writable %s", verb, noun);
        if (st.st_mode & S_IWGRP)
                return sv__errorf(err, EPERM, path, "refusing to %s a group-writable %s", verb, noun);
        if (!trusted_owner(st.st_uid))
                return sv__errorf(err, EPERM, path, "refusing to %s a %s not owned by %s (owner uid %u)",
                            verb, noun, geteuid() == 0 ? "root" : "root or us",
                            (unsigned)st.st_uid);
        return 0;
}

/*
 * Open the directory @dir, checking every directory from "/" down to it as
 * sshd checks the path of its keys: each must be owned by root (or us) and
 * writable by nobody else, or whoever can write one could swap what lies
 * below. The one exception is a sticky directory such as /tmp, through an
 * entry that is ours: the sticky bit keeps others from renaming or removing
 * it. Symbolic links are resolved first (realpath()), then the walk follows
 * none, so the directory opened is the one checked. Returns an O_PATH fd.
 */
static int open_trusted_dir(const char *dir, const char *path, const char *verb,
                            const char *noun, struct sv_error *err)
{
        char *real = realpath(dir, NULL), *p, *next;
        struct stat st, parent = { 0 };
        int fd = -1, r;

        if (!real)
                return sv__errorf(err, errno, path, "cannot resolve its directory: %s", strerror(errno));
        fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        for (p = real; fd >= 0; p = next) {
                if (fstat(fd, &st) < 0) {
                        r = sv__errorf(err, errno, path, "cannot stat %s: %s", real, strerror(errno));
                        goto out;
                }
                /* What we reached through a sticky, others-writable parent must be
                 * ours; everything else must be writable by nobody but its owner. */
                if (!trusted_owner(st.st_uid) ||
                    ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)) ||
                    ((parent.st_mode & S_ISVTX) && (parent.st_mode & (S_IWGRP | S_IWOTH)) &&
                     !trusted_owner(st.st_uid))) {
                        *p = '\0';
                        r = sv__errorf(err, EPERM, path,
                                 "refusing to %s a %s from %s: %s (owner uid %u, mode %04o)",
                                 verb, noun, *real ? real : "/",
                                 !trusted_owner(st.st_uid) ? "owned by another user"
                                 : (st.st_mode & S_IWOTH)  ? "a world-writable directory"
                                                           : "a group-writable directory",
                                 (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
                        goto out;
                }
                while (*p == '/')
                        p++;
                if (!*p)
                        break;
                next = strchrnul(p, '/');
                {
                        char saved = *next;
                        int child;

                        *next = '\0';
                        child = openat(fd, p, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        *next = saved;
                        if (child < 0) {
                                r = sv__errorf(err, errno, path, "cannot open its directory: %s",
                                         strerror(errno));
                                goto out;
                        }
                        parent = st;
                        close(fd);
                        fd = child;
                }
        }
        if (fd < 0) {
                r = sv__errorf(err, errno, path, "cannot open /: %s", strerror(errno));
                goto out;
        }
        free(real);
        return fd;
out:
        if (fd >= 0)
                close(fd);
        free(real);
        return r;
}

int sv__open_trusted(const char *dir, const char *base, const char *path, const char *verb,
                     const char *noun, struct sv_error *err)
{
        int dfd = open_trusted_dir(dir, path, verb, noun, err), fd, r;

        if (dfd < 0)
                return dfd == -ENOENT ? sv__errorf(err, ENOENT, path, "no such %s", noun) : dfd;
        /* The file itself: no symbolic link, checked through the fd that is
         * then loaded, so what was checked is what runs. */
        fd = openat(dfd, base, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
        r = fd < 0 ? -errno : 0;
        close(dfd);
        if (r == -ENOENT)
                return sv__errorf(err, ENOENT, path, "no such %s", noun);
        if (r == -ELOOP)
                return sv__errorf(err, ELOOP, path, "refusing to %s a %s that is a symbolic link", verb,
                            noun);
        if (r < 0)
                return sv__errorf(err, -r, path, "cannot open the %s: %s", noun, strerror(-r));
        r = check_file(fd, path, verb, noun, err);
        if (r < 0) {
                close(fd);
                return r;
        }
        return fd;
}
