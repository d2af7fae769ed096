/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A snapshot of a domain: plain data that the pure code (selection, policies,
 * formatting) works on, built from cgroupfs/procfs or from JSON. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <stdio.h>

#include "readers.h"
#include "syscalls.h"
#include "util.h"


struct sv_snapshot *sv_snapshot_new(const char *domain, uint64_t page_size)
{
        struct sv_snapshot *s;

        /* kB counters are divided by page_size / 1024: it must not be 0. */
        if (page_size && (page_size < 1024 || (page_size & (page_size - 1)))) {
                errno = EINVAL;
                return NULL;
        }
        s = calloc(1, sizeof(*s));
        if (!s)
                return NULL;
        s->domain = sv__path_normalize(domain ? domain : "/");
        if (!s->domain) {
                free(s);
                return NULL;
        }
        s->page_size = page_size ? page_size : 4096;
        s->swappiness = 60;
        sv__vm_sysctl_defaults(&s->vm);
        return s;
}

void sv_snapshot_free(struct sv_snapshot *s)
{
        if (!s)
                return;
        for (size_t i = 0; i < s->n_skipped; i++)
                free(s->skipped[i].path);
        free(s->skipped);
        for (size_t i = 0; i < s->n_groups; i++)
                free(s->groups[i].path);
        free(s->groups);
        free(s->tasks);
        free(s->domain);
        free(s);
}

/*
 * Arrays grow by doubling from 16, so their capacity follows from their
 * length and the public struct needs no capacity fields.
 */
static int reserve_one(void **arr, size_t n, size_t elem)
{
        size_t cap = 16;
        void *p;

        while (cap < n)
                cap *= 2;
        if (n != 0 && n < cap)
                return 0;
        p = realloc(*arr, (n ? cap * 2 : cap) * elem);
        if (!p)
                return -ENOMEM;
        *arr = p;
        return 0;
}

int sv_snapshot_add_group(struct sv_snapshot *s, const char *path, int parent,
                          const struct sv_group *tmpl)
{
        struct sv_group *g;
        char *p;
        int r;

        if (parent < -1 || parent >= (int)s->n_groups || (parent == -1) != (s->n_groups == 0))
                return -EINVAL;
        r = reserve_one((void **)&s->groups, s->n_groups, sizeof(*s->groups));
        if (r < 0)
                return r;
        p = sv__path_normalize(path);
        if (!p)
                return -ENOMEM;
        g = &s->groups[s->n_groups];
        if (tmpl)
                *g = *tmpl;
        else
                memset(g, 0, sizeof(*g));
        g->path = p;
        g->parent = parent;
        g->depth = parent < 0 ? 0 : s->groups[parent].depth + 1;
        g->first_task = s->n_tasks;
        g->n_tasks = 0;
        return (int)s->n_groups++;
}

int sv_snapshot_add_task(struct sv_snapshot *s, const struct sv_task *t)
{
        int r;

        if (s->n_groups == 0)
                return -EINVAL;
        r = reserve_one((void **)&s->tasks, s->n_tasks, sizeof(*s->tasks));
        if (r < 0)
                return r;
        s->tasks[s->n_tasks] = *t;
        s->tasks[s->n_tasks].group = (int)(s->n_groups - 1);
        s->groups[s->n_groups - 1].n_tasks++;
        return (int)s->n_tasks++;
}

int sv_snapshot_find_group(const struct sv_snapshot *s, const char *path)
{
        char *p = sv__path_normalize(path);
        int found = -ENOENT;

        if (!p)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_groups; i++)
                if (strcmp(s->groups[i].path, p) == 0) {
                        found = (int)i;
                        break;
                }
        free(p);
        return found;
}

bool sv_snapshot_group_is_descendant(const struct sv_snapshot *s, int g, int anc)
{
        while (g >= 0) {
                if (g == anc)
                        return true;
                g = s->groups[g].parent;
        }
        return false;
}

int sv_snapshot_memcg_of(const struct sv_snapshot *s, int group)
{
        int g = group;

        while (g >= 0 && !s->groups[g].memcg)
                g = s->groups[g].parent;
        /* Above the domain: the root memcg, or the domain's own ancestor. */
        return g >= 0 ? g : 0;
}

/* ---- reading a live (or fixture) tree ----------------------------------- */

struct child {
        char *name;
        uint64_t ino;
};

static int cmp_ino(const void *a, const void *b)
{
        const struct child *x = a, *y = b;
        return x->ino < y->ino ? -1 : x->ino > y->ino;
}

static int cmp_name(const void *a, const void *b)
{
        const struct child *x = a, *y = b;
        return strcmp(x->name, y->name);
}

struct walk {
        struct sv_snapshot *s;
        int proc_dfd;
        const char *proc_root;
        const char *cgroup_root;
        bool kernel_order;
        bool minimal;
        struct sv_error *err;
};

/* One directory of the walk's current path: its fd stays open while its
 * children are visited, so a walk holds (depth + 1) fds at most. */
struct frame {
        int dfd;
        int self; /* group index */
        char *path;
        struct child *kids;
        size_t n_kids, next;
};

static void free_kids(struct child *kids, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(kids[i].name);
        free(kids);
}

/* Remember what could not be read, so that callers can say so; the walk
 * goes on without it. */
static int skip(struct sv_snapshot *s, const char *path, int e, const char *what)
{
        struct sv_skipped *k;
        int r = reserve_one((void **)&s->skipped, s->n_skipped, sizeof(*s->skipped));

        if (r < 0)
                return r;
        k = &s->skipped[s->n_skipped];
        k->path = strdup(path);
        if (!k->path)
                return -ENOMEM;
        k->err = e;
        snprintf(k->what, sizeof(k->what), "%s", what ? what : strerror(e));
        s->n_skipped++;
        return 0;
}

/*
 * The kernel's memcg iterator (css_next_descendant_pre) visits children in
 * creation order. On cgroupfs the directory's inode number is the kernfs id,
 * allocated increasingly, so sorting by it recovers that order; readdir()
 * order is a hash order and would not. Fixture trees on ordinary file systems
 * have meaningless inode numbers: they are ordered by name instead.
 */
static int list_children(struct walk *w, int dfd, struct child **ret, size_t *ret_n)
{
        struct child *kids = NULL;
        size_t n = 0;
        struct dirent *de;
        int r = 0, dup;
        DIR *d;

        dup = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
        if (dup < 0)
                return -errno;
        d = fdopendir(dup);
        if (!d) {
                r = -errno;
                close(dup);
                return r;
        }
        while ((errno = 0, de = readdir(d))) {
                struct stat st;
                if (de->d_name[0] == '.')
                        continue;
                if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
                        continue;
                if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno == ENOENT)
                                continue; /* removed meanwhile */
                        r = -errno;
                        goto out;
                }
                if (!S_ISDIR(st.st_mode))
                        continue;
                if ((r = reserve_one((void **)&kids, n, sizeof(*kids))) < 0)
                        goto out;
                kids[n].name = strdup(de->d_name);
                if (!kids[n].name) {
                        r = -ENOMEM;
                        goto out;
                }
                kids[n++].ino = st.st_ino;
        }
        if (errno && errno != ENOENT && errno != ENODEV)
                r = -errno;
        if (n)
                qsort(kids, n, sizeof(*kids), w->kernel_order ? cmp_ino : cmp_name);
out:
        closedir(d);
        if (r < 0) {
                free_kids(kids, n);
                return r;
        }
        *ret = kids;
        *ret_n = n;
        return 0;
}

/* Undo a group whose directory vanished half-way through being read. */
static void drop_last_group(struct sv_snapshot *s, size_t n_groups, size_t n_tasks)
{
        for (size_t i = n_groups; i < s->n_groups; i++)
                free(s->groups[i].path);
        s->n_groups = n_groups;
        s->n_tasks = n_tasks;
}

/*
 * Read one group (files, processes, their tasks) and add it. Returns its
 * index, or -errno: gone (ENOENT, ENODEV, ESRCH: left out), or another error
 * with @w->err naming the file.
 */
static int read_one(struct walk *w, int dfd, const char *path, int parent, uint64_t ino)
{
        struct sv_snapshot *s = w->s;
        size_t n_groups = s->n_groups, n_tasks = s->n_tasks;
        struct sv_group g = { .ino = ino };
        char *errpath = NULL;
        int *pids = NULL;
        size_t n_pids = 0;
        int self, r;

        /* Errors name the real file: cgroup root + group path. */
        if (asprintf(&errpath, "%s%s", w->cgroup_root, strcmp(path, "/") ? path : "") < 0)
                return -ENOMEM;
        r = sv__cgfs_read_group(dfd, errpath, w->minimal, &g, w->err);
        if (r < 0)
                goto out;
        r = sv__cgfs_read_procs(dfd, errpath, &pids, &n_pids, w->err);
        if (r == -EOPNOTSUPP) {
                /* A threaded cgroup: its processes belong to (and are listed
                 * by) the threaded domain above it; only threads live here. */
                g.threaded = true;
                r = 0;
        }
        if (r < 0)
                goto out;
        self = sv_snapshot_add_group(s, path, parent, &g);
        if (self < 0) {
                r = self;
                goto out;
        }
        for (size_t i = 0; i < n_pids; i++) {
                struct sv_task t = { .group = self };
                struct sv_error terr = {};
                r = sv__proc_read_task(w->proc_dfd, w->proc_root, pids[i], &t, &terr);
                if (sv__is_gone(r))
                        continue; /* exited since cgroup.procs was read */
                if (r < 0) {
                        /* One task that cannot be read is left out, not the group. */
                        r = skip(s, terr.path[0] ? terr.path : errpath, -r,
                                 terr.what[0] ? terr.what : NULL);
                        if (r < 0)
                                goto out;
                        continue;
                }
                r = sv_snapshot_add_task(s, &t);
                if (r < 0)
                        goto out;
        }
        r = self;
out:
        if (r < 0)
                drop_last_group(s, n_groups, n_tasks);
        free(pids);
        free(errpath);
        return r;
}

static void frame_free(struct frame *f)
{
        if (f->dfd >= 0)
                close(f->dfd);
        free(f->path);
        free_kids(f->kids, f->n_kids);
}

/*
 * Pre-order over the domain's subtree, iteratively: a deep tree cannot run
 * the stack out, and a delegated user's 10,000 levels cannot take the fds:
 * below SV_SNAPSHOT_MAX_DEPTH the walk stops (cgroup.kill of an ancestor
 * still reaches what is there). A descendant that cannot be read is left
 * out and listed in s->skipped, not allowed to fail the whole snapshot:
 * one unreadable group must not disarm the supervision of the others.
 */
static int walk(struct walk *w, int domain_dfd, uint64_t ino)
{
        struct sv_snapshot *s = w->s;
        struct frame *stack = NULL;
        size_t depth = 0;
        int r;

        stack = calloc(SV_SNAPSHOT_MAX_DEPTH + 1, sizeof(*stack));
        if (!stack)
                return -ENOMEM;
        r = read_one(w, domain_dfd, s->domain, -1, ino);
        if (r < 0)
                goto out;
        stack[0] = (struct frame){ .dfd = -1, .self = r };
        stack[0].path = strdup(s->domain);
        r = stack[0].path ? list_children(w, domain_dfd, &stack[0].kids, &stack[0].n_kids)
                          : -ENOMEM;
        if (r < 0) {
                r = sv__error(w->err, -r, w->cgroup_root, s->domain + 1, NULL);
                goto out;
        }
        while (r >= 0) {
                struct frame *f = &stack[depth];
                const struct child *c;
                char *child_path;
                int cfd, self;

                if (f->next == f->n_kids) {
                        frame_free(f);
                        *f = (struct frame){ .dfd = -1 };
                        if (depth == 0)
                                break;
                        depth--;
                        continue;
                }
                c = &f->kids[f->next++];
                if (asprintf(&child_path, "%s/%s", strcmp(f->path, "/") ? f->path : "",
                             c->name) < 0) {
                        r = -ENOMEM;
                        break;
                }
                if (depth + 1 > SV_SNAPSHOT_MAX_DEPTH) {
                        r = skip(s, child_path, ELOOP, "deeper than the snapshot goes");
                        free(child_path);
                        continue;
                }
                cfd = openat(f->dfd >= 0 ? f->dfd : domain_dfd, c->name,
                             O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (cfd < 0) {
                        r = sv__is_gone(-errno) ? 0 : skip(s, child_path, errno, NULL);
                        free(child_path);
                        continue;
                }
                {
                        struct sv_error cerr = {};
                        struct sv_error *saved = w->err;

                        w->err = &cerr;
                        self = read_one(w, cfd, child_path, f->self, c->ino);
                        w->err = saved;
                        if (self < 0) {
                                r = sv__is_gone(self) || self == -ENOMEM
                                            ? (self == -ENOMEM ? self : 0)
                                            : skip(s, cerr.path[0] ? cerr.path : child_path,
                                                   -self, cerr.what[0] ? cerr.what : NULL);
                                close(cfd);
                                free(child_path);
                                continue;
                        }
                }
                stack[depth + 1] = (struct frame){ .dfd = cfd, .self = self,
                                                   .path = child_path };
                r = list_children(w, cfd, &stack[depth + 1].kids, &stack[depth + 1].n_kids);
                if (r < 0) {
                        /* Its own files were read; what is below it is not. */
                        r = sv__is_gone(r) ? 0 : skip(s, child_path, -r, NULL);
                        frame_free(&stack[depth + 1]);
                        stack[depth + 1] = (struct frame){ .dfd = -1 };
                        continue;
                }
                depth++;
        }
out:
        for (size_t i = 0; i <= SV_SNAPSHOT_MAX_DEPTH; i++)
                if (stack[i].path || stack[i].kids)
                        frame_free(&stack[i]);
        free(stack);
        return r < 0 ? r : 0;
}

int sv_snapshot_take(const struct sv_snapshot_opts *opts, const char *domain,
                     struct sv_snapshot **ret, struct sv_error *err)
{
        const char *cg_root = opts && opts->cgroup_root ? opts->cgroup_root : "/sys/fs/cgroup";
        const char *proc_root = opts && opts->proc_root ? opts->proc_root : "/proc";
        uint64_t page_size = opts && opts->page_size ? opts->page_size
                                                      : (uint64_t)sysconf(_SC_PAGESIZE);

        /* The readers convert kB counters to pages. */
        if (page_size < 1024 || (page_size & (page_size - 1)))
                return -EINVAL;
        struct walk w = { .proc_root = proc_root, .cgroup_root = cg_root, .err = err,
                          .minimal = opts && opts->minimal };
        struct sv_snapshot *s;
        struct statfs sfs;
        int rootfd = -1, dfd = -1, r;

        /* The domain is a path below the cgroup root, never above it. */
        if (!sv__path_is_plain(domain ? domain : ""))
                return sv__error(err, EINVAL, cg_root, domain,
                                 "not a cgroup path: '.' and '..' components are not allowed");
        s = sv_snapshot_new(domain, page_size);
        if (!s)
                return -ENOMEM;
        w.s = s;

        w.proc_dfd = open(proc_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (w.proc_dfd < 0) {
                r = sv__error(err, errno, proc_root, NULL, NULL);
                goto out;
        }
        r = sv__proc_read_system(w.proc_dfd, proc_root, page_size, s, err);
        if (r < 0)
                goto out;
        r = sv__sysctl_read_vm(w.proc_dfd, proc_root, opts ? opts->sys_root : NULL, s, err);
        if (r < 0)
                goto out;

        rootfd = open(cg_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0) {
                r = sv__error(err, errno, cg_root, NULL, NULL);
                goto out;
        }
        w.kernel_order = fstatfs(rootfd, &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC;

        if (strcmp(s->domain, "/") == 0) {
                dfd = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
        } else {
                dfd = openat(rootfd, s->domain + 1, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        }
        if (dfd < 0) {
                r = sv__error(err, errno, cg_root, s->domain + 1, NULL);
                goto out;
        }
        {
                struct stat st;
                uint64_t ino = fstat(dfd, &st) == 0 ? st.st_ino : 0;
                r = walk(&w, dfd, ino);
        }
        if (sv__is_gone(r) || (r == 0 && s->n_groups == 0))
                r = sv__error(err, ENOENT, cg_root, s->domain + 1, "cgroup vanished");
        if (r == 0 && !w.minimal) {
                uint64_t cap = s->swappiness ? s->free_swap_pages * page_size : 0;
                r = sv__swap_headroom_walk(rootfd, s->domain, cap, &s->swap_headroom);
                if (r < 0)
                        r = sv__error(err, -r, cg_root, s->domain + 1,
                                      "cannot read the swap limits");
        }
out:
        if (dfd >= 0)
                close(dfd);
        if (rootfd >= 0)
                close(rootfd);
        if (w.proc_dfd >= 0)
                close(w.proc_dfd);
        if (r < 0) {
                sv_snapshot_free(s);
                return r;
        }
        *ret = s;
        return 0;
}
