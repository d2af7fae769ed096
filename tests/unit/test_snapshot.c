/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests for snapshots: reading the fixture trees (what they hold is
 * documented in tests/fixtures/mkfixtures.py), failing on malformed files,
 * skipping vanished ones, and the JSON round trip and its validation.
 * Tests that break a tree work on a copy of it in a temporary directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "cgsentry/supervise.h"

/* cmocka hands every test a state pointer that these tests have no use for. */
#pragma GCC diagnostic ignored "-Wunused-parameter"

#define BASIC SV_FIXTURES "/basic"
#define SWAP SV_FIXTURES "/swap"
#define MINIMAL_JSON SV_FIXTURES "/json/minimal.json"

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

/* ---- helpers ------------------------------------------------------------- */

/* Take @domain from the tree at @root (with cgroup/ and proc/ below it). */
static int take(const char *root, const char *domain, struct sv_snapshot **ret,
                struct sv_error *err)
{
        char cg[512], proc[512];
        struct sv_snapshot_opts opts = { .cgroup_root = cg, .proc_root = proc, .page_size = 4096 };

        snprintf(cg, sizeof(cg), "%s/cgroup", root);
        snprintf(proc, sizeof(proc), "%s/proc", root);
        return sv_snapshot_take(&opts, domain, ret, err);
}

/* take() that must succeed; prints the error otherwise. */
static struct sv_snapshot *take_ok(const char *root, const char *domain)
{
        struct sv_snapshot *s = NULL;
        struct sv_error err = { 0 };
        int r = take(root, domain, &s, &err);

        if (r < 0)
                print_message("take %s: %s: %s\n", domain, err.path, err.what);
        assert_int_equal(r, 0);
        assert_non_null(s);
        return s;
}

static bool ends_with(const char *s, const char *suffix)
{
        size_t n = strlen(s), k = strlen(suffix);

        return n >= k && strcmp(s + n - k, suffix) == 0;
}

static int group_index(const struct sv_snapshot *s, const char *path)
{
        int g = sv_snapshot_find_group(s, path);

        if (g < 0)
                print_message("no group %s\n", path);
        assert_true(g >= 0);
        return g;
}

static const struct sv_task *find_task(const struct sv_snapshot *s, int pid)
{
        for (size_t i = 0; i < s->n_tasks; i++)
                if (s->tasks[i].pid == pid)
                        return &s->tasks[i];
        return NULL;
}

/* The pids of group @g, in order, are exactly @pids. */
static void assert_group_pids(const struct sv_snapshot *s, int g, const int *pids, size_t n)
{
        const struct sv_group *grp = &s->groups[g];

        assert_int_equal(grp->n_tasks, n);
        assert_true(grp->first_task + grp->n_tasks <= s->n_tasks);
        for (size_t i = 0; i < n; i++) {
                assert_int_equal(s->tasks[grp->first_task + i].pid, pids[i]);
                assert_int_equal(s->tasks[grp->first_task + i].group, g);
        }
}

#define ASSERT_GROUP_PIDS(s, g, ...)                                      \
        do {                                                              \
                const int pids_[] = { __VA_ARGS__ };                      \
                assert_group_pids(s, g, pids_, ELEMENTSOF(pids_));        \
        } while (0)

static char *read_text(const char *path)
{
        FILE *f = fopen(path, "re");
        char *buf;
        long n;

        assert_non_null(f);
        assert_int_equal(fseek(f, 0, SEEK_END), 0);
        n = ftell(f);
        assert_true(n >= 0);
        rewind(f);
        buf = malloc((size_t)n + 1);
        assert_non_null(buf);
        assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
        buf[n] = '\0';
        fclose(f);
        return buf;
}

static void write_text(const char *root, const char *rel, const char *text, size_t len)
{
        char path[1024];
        int fd;

        snprintf(path, sizeof(path), "%s/%s", root, rel);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, len), (ssize_t)len);
        close(fd);
}

static void write_string(const char *root, const char *rel, const char *text)
{
        write_text(root, rel, text, strlen(text));
}

static void copy_dir(int src, int dst)
{
        int dup_fd = dup(src);
        struct dirent *de;
        DIR *d;

        assert_true(dup_fd >= 0);
        d = fdopendir(dup_fd);
        assert_non_null(d);
        while ((de = readdir(d))) {
                struct stat st;

                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                assert_int_equal(fstatat(src, de->d_name, &st, AT_SYMLINK_NOFOLLOW), 0);
                if (S_ISDIR(st.st_mode)) {
                        int s, t;

                        assert_int_equal(mkdirat(dst, de->d_name, 0755), 0);
                        s = openat(src, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        t = openat(dst, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        assert_true(s >= 0 && t >= 0);
                        copy_dir(s, t);
                        close(s);
                        close(t);
                } else {
                        char buf[8192];
                        ssize_t n;
                        int in = openat(src, de->d_name, O_RDONLY | O_CLOEXEC);
                        int out = openat(dst, de->d_name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                                         0644);

                        assert_true(in >= 0 && out >= 0);
                        while ((n = read(in, buf, sizeof(buf))) > 0)
                                assert_int_equal(write(out, buf, (size_t)n), n);
                        assert_int_equal(n, 0);
                        close(in);
                        close(out);
                }
        }
        closedir(d);
}

/* A private copy of the fixture tree at @src; free with remove_tree(). */
static char *copy_tree(const char *src)
{
        char tmpl[] = "/tmp/cgsentry-test-XXXXXX";
        int s, t;

        assert_non_null(mkdtemp(tmpl));
        s = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        t = open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(s >= 0 && t >= 0);
        copy_dir(s, t);
        close(s);
        close(t);
        return strdup(tmpl);
}

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
        return remove(path);
}

static void remove_tree(char *root)
{
        assert_int_equal(nftw(root, remove_one, 16, FTW_DEPTH | FTW_PHYS), 0);
        free(root);
}

/* Tests that break a tree get a copy of basic as their state. cmocka runs
 * the teardown after a failed assertion too, so no copy is left behind. */
static int setup_basic_copy(void **state)
{
        *state = copy_tree(BASIC);
        return 0;
}

static int teardown_basic_copy(void **state)
{
        remove_tree(*state);
        return 0;
}

static char *to_json_text(const struct sv_snapshot *s)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        assert_non_null(f);
        assert_int_equal(sv_snapshot_to_json(s, f), 0);
        assert_int_equal(fclose(f), 0);
        assert_non_null(buf);
        return buf;
}

static struct sv_snapshot *from_json_ok(const char *text)
{
        struct sv_snapshot *s = NULL;
        struct sv_error err = { 0 };
        int r = sv_snapshot_from_json(text, &s, &err);

        if (r < 0)
                print_message("from_json: %s: %s\n", err.path, err.what);
        assert_int_equal(r, 0);
        assert_non_null(s);
        return s;
}

/* Hand-written JSON in C strings is unreadable with \" everywhere: the tests
 * write ' and this turns them into ". */
static char *q(const char *text)
{
        char *out = strdup(text);

        assert_non_null(out);
        for (char *p = out; *p; p++)
                if (*p == '\'')
                        *p = '"';
        return out;
}

/* @text with the one occurrence of @from replaced by @to. */
static char *replace_once(const char *text, const char *from, const char *to)
{
        const char *at = strstr(text, from);
        size_t n = strlen(text), f = strlen(from), t = strlen(to);
        char *out;

        if (!at || strstr(at + 1, from))
                print_message("\"%s\" does not occur exactly once\n", from);
        assert_non_null(at);
        assert_null(strstr(at + 1, from));
        out = malloc(n - f + t + 1);
        assert_non_null(out);
        memcpy(out, text, (size_t)(at - text));
        memcpy(out + (at - text), to, t);
        strcpy(out + (at - text) + t, at + f);
        return out;
}

static void assert_psi_line_equal(const struct sv_psi_line *a, const struct sv_psi_line *b)
{
        assert_true(a->avg10 == b->avg10);
        assert_true(a->avg60 == b->avg60);
        assert_true(a->avg300 == b->avg300);
        assert_int_equal(a->total_usec, b->total_usec);
}

static void assert_groups_equal(const struct sv_group *a, const struct sv_group *b)
{
        assert_string_equal(a->path, b->path);
        assert_int_equal(a->parent, b->parent);
        assert_int_equal(a->depth, b->depth);
        assert_int_equal(a->ino, b->ino);
        assert_int_equal(a->have, b->have);
        assert_int_equal(a->subtree_control, b->subtree_control);
        assert_int_equal(a->memcg, b->memcg);
        assert_int_equal(a->memory_current, b->memory_current);
        assert_int_equal(a->memory_max, b->memory_max);
        assert_int_equal(a->memory_high, b->memory_high);
        assert_int_equal(a->memory_low, b->memory_low);
        assert_int_equal(a->memory_min, b->memory_min);
        assert_int_equal(a->memory_peak, b->memory_peak);
        assert_int_equal(a->swap_current, b->swap_current);
        assert_int_equal(a->swap_max, b->swap_max);
        assert_int_equal(a->oom_group, b->oom_group);
        /* Both are plain arrays of uint64_t: no padding to compare. */
        assert_memory_equal(&a->events, &b->events, sizeof(a->events));
        assert_memory_equal(&a->events_local, &b->events_local, sizeof(a->events_local));
        assert_memory_equal(&a->stat, &b->stat, sizeof(a->stat));
        assert_psi_line_equal(&a->pressure.some, &b->pressure.some);
        assert_int_equal(a->pressure.has_full, b->pressure.has_full);
        if (a->pressure.has_full)
                assert_psi_line_equal(&a->pressure.full, &b->pressure.full);
        assert_int_equal(a->cgevents.populated, b->cgevents.populated);
        assert_int_equal(a->cgevents.frozen, b->cgevents.frozen);
        assert_int_equal(a->first_task, b->first_task);
        assert_int_equal(a->n_tasks, b->n_tasks);
}

static void assert_tasks_equal(const struct sv_task *a, const struct sv_task *b)
{
        assert_int_equal(a->pid, b->pid);
        assert_int_equal(a->ppid, b->ppid);
        assert_int_equal(a->uid, b->uid);
        assert_string_equal(a->comm, b->comm);
        assert_int_equal(a->state, b->state);
        assert_int_equal(a->flags, b->flags);
        assert_int_equal(a->starttime, b->starttime);
        assert_int_equal(a->oom_score_adj, b->oom_score_adj);
        assert_int_equal(a->has_mm, b->has_mm);
        assert_int_equal(a->vm_size_kb, b->vm_size_kb);
        assert_int_equal(a->rss_anon_kb, b->rss_anon_kb);
        assert_int_equal(a->rss_file_kb, b->rss_file_kb);
        assert_int_equal(a->rss_shmem_kb, b->rss_shmem_kb);
        assert_int_equal(a->vm_swap_kb, b->vm_swap_kb);
        assert_int_equal(a->vm_pte_kb, b->vm_pte_kb);
        assert_int_equal(a->group, b->group);
}

static void assert_snapshots_equal(const struct sv_snapshot *a, const struct sv_snapshot *b)
{
        assert_string_equal(a->domain, b->domain);
        assert_int_equal(a->page_size, b->page_size);
        assert_int_equal(a->total_ram_pages, b->total_ram_pages);
        assert_int_equal(a->total_swap_pages, b->total_swap_pages);
        assert_int_equal(a->swappiness, b->swappiness);
        assert_int_equal(a->n_groups, b->n_groups);
        assert_int_equal(a->n_tasks, b->n_tasks);
        for (size_t i = 0; i < a->n_groups; i++)
                assert_groups_equal(&a->groups[i], &b->groups[i]);
        for (size_t i = 0; i < a->n_tasks; i++)
                assert_tasks_equal(&a->tasks[i], &b->tasks[i]);
}

/* to_json, from_json, compare; then to_json again must give the same text. */
static void assert_round_trip(const struct sv_snapshot *s)
{
        char *first = to_json_text(s), *second;
        struct sv_snapshot *back = from_json_ok(first);

        assert_snapshots_equal(s, back);
        second = to_json_text(back);
        assert_string_equal(first, second);
        free(first);
        free(second);
        sv_snapshot_free(back);
}

/* ---- reading the fixture trees ------------------------------------------- */

static void test_take_basic_domain(void **state)
{
        static const char *const paths[] = {
                "/work.slice/app",        "/work.slice/app/db",     "/work.slice/app/web",
                "/work.slice/app/web/worker", "/work.slice/app/zombie",
        };
        static const int parents[] = { -1, 0, 0, 2, 0 };
        static const int depths[] = { 0, 1, 1, 2, 1 };
        struct sv_snapshot *s = take_ok(BASIC, "work.slice/app");
        const struct sv_group *app = &s->groups[0];
        const struct sv_task *t;

        assert_string_equal(s->domain, "/work.slice/app");
        assert_int_equal(s->page_size, 4096);
        assert_int_equal(s->total_ram_pages, 2000000 / 4);
        assert_int_equal(s->total_swap_pages, 0);
        assert_int_equal(s->swappiness, 60);

        assert_int_equal(s->n_groups, ELEMENTSOF(paths));
        for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
                assert_string_equal(s->groups[i].path, paths[i]);
                assert_int_equal(s->groups[i].parent, parents[i]);
                assert_int_equal(s->groups[i].depth, depths[i]);
                assert_true(s->groups[i].memcg);
                /* Only web has memory.oom.group set. */
                assert_int_equal(s->groups[i].oom_group, i == 2);
                assert_int_equal(s->groups[i].memory_max, i == 0 ? 268435456 : SV_LIMIT_MAX);
                assert_int_equal(s->groups[i].memory_high, SV_LIMIT_MAX);
                /* No memory.swap.* files: no swap accounting. */
                assert_int_equal(s->groups[i].swap_max, SV_LIMIT_MAX);
                assert_false(s->groups[i].have & SV_HAVE_SWAP);
        }

        assert_int_equal(app->have, SV_HAVE_MEMORY | SV_HAVE_EVENTS | SV_HAVE_PRESSURE |
                                            SV_HAVE_STAT | SV_HAVE_PEAK);
        assert_int_equal(app->subtree_control, SV_CTRL_MEMORY | SV_CTRL_PIDS);
        assert_int_equal(s->groups[2].subtree_control, SV_CTRL_MEMORY);
        assert_int_equal(app->memory_current, 1000 * 4096);
        assert_int_equal(app->memory_peak, 1000 * 4096);
        assert_int_equal(app->stat.anon, 1000 * 4096);
        assert_int_equal(app->stat.kernel, 1048576);
        assert_int_equal(app->stat.slab, 524288);
        assert_int_equal(app->stat.pgfault, 100);
        assert_true(app->pressure.has_full);
        assert_true(app->cgevents.populated);
        assert_false(app->cgevents.frozen);

        /* Tasks per group, in cgroup.procs order. */
        assert_int_equal(s->n_tasks, 9);
        ASSERT_GROUP_PIDS(s, 0, 100);
        ASSERT_GROUP_PIDS(s, 1, 200, 201);
        ASSERT_GROUP_PIDS(s, 2, 300, 301, 302, 303);
        ASSERT_GROUP_PIDS(s, 3, 400);
        ASSERT_GROUP_PIDS(s, 4, 500);

        t = find_task(s, 301);
        assert_non_null(t);
        assert_string_equal(t->comm, "python3");
        assert_int_equal(t->ppid, 1);
        assert_int_equal(t->uid, 0);
        assert_int_equal(t->state, 'S');
        assert_int_equal(t->flags, 0x400100);
        assert_int_equal(t->starttime, 1301);
        assert_int_equal(t->oom_score_adj, 0);
        assert_true(t->has_mm);
        assert_int_equal(t->rss_anon_kb, 112000);
        assert_int_equal(t->rss_file_kb, 6000);
        assert_int_equal(t->rss_shmem_kb, 2000);
        assert_int_equal(t->vm_size_kb, (28000 + 1500 + 500 + 5000) * 4);
        assert_int_equal(t->vm_swap_kb, 0);
        assert_int_equal(t->vm_pte_kb, 120);

        t = find_task(s, 300);
        assert_non_null(t);
        assert_int_equal(t->uid, 33);
        assert_int_equal(find_task(s, 201)->uid, 105);
        assert_int_equal(find_task(s, 200)->oom_score_adj, -1000);
        assert_int_equal(find_task(s, 303)->oom_score_adj, -1000);
        assert_int_equal(find_task(s, 400)->oom_score_adj, 300);

        t = find_task(s, 500);
        assert_non_null(t);
        assert_false(t->has_mm);
        assert_int_equal(t->state, 'Z');
        assert_int_equal(t->rss_anon_kb, 0);

        /* Outside the domain. */
        assert_null(find_task(s, 1));
        assert_null(find_task(s, 600));
        sv_snapshot_free(s);
}

static void test_take_domain_spellings(void **state)
{
        static const char *const spellings[] = { "/work.slice/app/", "work.slice//app",
                                                 "//work.slice/app" };
        struct sv_snapshot *ref = take_ok(BASIC, "work.slice/app");

        for (size_t i = 0; i < ELEMENTSOF(spellings); i++) {
                struct sv_snapshot *s = take_ok(BASIC, spellings[i]);

                assert_snapshots_equal(ref, s);
                sv_snapshot_free(s);
        }
        sv_snapshot_free(ref);
}

static void test_take_root_domain(void **state)
{
        static const char *const paths[] = {
                "/",
                "/idle.slice",
                "/work.slice",
                "/work.slice/app",
                "/work.slice/app/db",
                "/work.slice/app/web",
                "/work.slice/app/web/worker",
                "/work.slice/app/zombie",
        };
        static const int parents[] = { -1, 0, 0, 2, 3, 3, 5, 3 };
        struct sv_snapshot *s = take_ok(BASIC, "");
        struct sv_snapshot *slash = take_ok(BASIC, "/");
        const struct sv_task *t;

        assert_string_equal(s->domain, "/");
        assert_int_equal(s->n_groups, ELEMENTSOF(paths));
        for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
                assert_string_equal(s->groups[i].path, paths[i]);
                assert_int_equal(s->groups[i].parent, parents[i]);
        }
        /* The root cgroup has no memory.current: it is not a memcg of its own. */
        assert_false(s->groups[0].memcg);
        assert_false(s->groups[0].have & SV_HAVE_MEMORY);
        assert_true(s->groups[0].have & SV_HAVE_STAT);
        assert_int_equal(s->groups[0].memory_max, SV_LIMIT_MAX);
        assert_int_equal(s->groups[0].subtree_control,
                         SV_CTRL_CPU | SV_CTRL_IO | SV_CTRL_MEMORY | SV_CTRL_PIDS);
        assert_int_equal(s->groups[1].memory_max, 1073741824);

        ASSERT_GROUP_PIDS(s, 0, 1, 2);
        ASSERT_GROUP_PIDS(s, 1, 600);
        assert_int_equal(s->groups[2].n_tasks, 0);
        t = find_task(s, 1);
        assert_non_null(t);
        assert_string_equal(t->comm, "systemd");
        assert_true(t->has_mm);
        assert_false(t->flags & SV_PF_KTHREAD);
        t = find_task(s, 2);
        assert_non_null(t);
        assert_string_equal(t->comm, "kthreadd");
        assert_true(t->flags & SV_PF_KTHREAD);
        assert_false(t->has_mm);
        assert_int_equal(s->n_tasks, 12);

        assert_snapshots_equal(s, slash);
        sv_snapshot_free(slash);
        sv_snapshot_free(s);
}

static void test_take_missing_domain(void **state)
{
        struct sv_snapshot *s = NULL;
        struct sv_error err = { 0 };

        assert_int_equal(take(BASIC, "work.slice/nope", &s, &err), -ENOENT);
        assert_null(s);
        assert_int_equal(err.err, ENOENT);
        assert_string_equal(err.path, BASIC "/cgroup/work.slice/nope");
}

static void test_take_missing_roots(void **state)
{
        struct sv_snapshot_opts opts = {
                .cgroup_root = BASIC "/cgroup",
                .proc_root = BASIC "/no-proc",
                .page_size = 4096,
        };
        struct sv_snapshot *s = NULL;
        struct sv_error err = { 0 };

        assert_int_equal(sv_snapshot_take(&opts, "work.slice/app", &s, &err), -ENOENT);
        assert_null(s);
        assert_int_equal(err.err, ENOENT);
        assert_string_equal(err.path, BASIC "/no-proc");

        memset(&err, 0, sizeof(err));
        opts.proc_root = BASIC "/proc";
        opts.cgroup_root = BASIC "/no-cgroup";
        assert_int_equal(sv_snapshot_take(&opts, "work.slice/app", &s, &err), -ENOENT);
        assert_null(s);
        assert_string_equal(err.path, BASIC "/no-cgroup");
}

/* Overwrite one file of the copy at @root; taking work.slice/app must then
 * leave out what it belongs to and list it as skipped, naming a path that
 * ends in @suffix: one bad descendant does not blind the reader to the rest. */
static void assert_corrupt_skipped(const char *root, const char *rel, const char *text,
                                   size_t len, const char *suffix, int missing_pid)
{
        struct sv_snapshot *s = NULL;
        struct sv_error err = { 0 };
        bool found = false;

        write_text(root, rel, text, len);
        assert_int_equal(take(root, "work.slice/app", &s, &err), 0);
        for (size_t i = 0; i < s->n_skipped; i++) {
                if (s->skipped[i].err == EINVAL && ends_with(s->skipped[i].path, suffix) &&
                    strncmp(s->skipped[i].path, root, strlen(root)) == 0 &&
                    strcmp(s->skipped[i].what, "malformed content") == 0)
                        found = true;
                else
                        print_message("skipped %s: %s\n", s->skipped[i].path, s->skipped[i].what);
        }
        assert_true(found);
        assert_null(find_task(s, missing_pid));
        /* The rest is there: the bash of the domain at least. */
        assert_non_null(find_task(s, 100));
        sv_snapshot_free(s);
}

static void test_take_malformed_memory_max(void **state)
{
        assert_corrupt_skipped(*state, "cgroup/work.slice/app/web/memory.max", "lots\n", 5,
                               "/work.slice/app/web/memory.max", 301);
}

/* The domain itself must be readable: nothing to act on otherwise. */
static void test_take_malformed_domain_fails(void **state)
{
        const char *root = *state;
        struct sv_snapshot *s = NULL;
        struct sv_error err = { 0 };

        write_text(root, "cgroup/work.slice/app/memory.max", "lots\n", 5);
        assert_int_equal(take(root, "work.slice/app", &s, &err), -EINVAL);
        assert_null(s);
        assert_int_equal(err.err, EINVAL);
        assert_true(ends_with(err.path, "/work.slice/app/memory.max"));
}

static void test_take_truncated_status(void **state)
{
        char *status = read_text(BASIC "/proc/301/status");
        const char *cut = strstr(status, "RssFile:");

        /* A short read that stops inside the Vm/Rss block, mid-key. */
        assert_non_null(cut);
        assert_corrupt_skipped(*state, "proc/301/status", status, (size_t)(cut - status) + 3,
                               "/301/status", 301);
        free(status);
}

static void test_take_bad_oom_score_adj(void **state)
{
        assert_corrupt_skipped(*state, "proc/303/oom_score_adj", "5000\n", 5,
                               "/303/oom_score_adj", 303);
        assert_corrupt_skipped(*state, "proc/303/oom_score_adj", "-1001\n", 6,
                               "/303/oom_score_adj", 303);
        assert_corrupt_skipped(*state, "proc/303/oom_score_adj", "zero\n", 5,
                               "/303/oom_score_adj", 303);
}

/* A FIFO where a file should be does not block the reader, and is not read. */
static void test_take_fifo_is_refused(void **state)
{
        const char *root = *state;
        char path[1024];
        struct sv_snapshot *s = NULL;
        struct sv_error err = { 0 };

        snprintf(path, sizeof(path), "%s/cgroup/work.slice/app/web/memory.events", root);
        assert_int_equal(unlink(path), 0);
        assert_int_equal(mkfifo(path, 0644), 0);
        assert_int_equal(take(root, "work.slice/app", &s, &err), 0);
        assert_int_equal(s->n_skipped, 1);
        assert_int_equal(s->skipped[0].err, EINVAL);
        assert_true(ends_with(s->skipped[0].path, "/work.slice/app/web/memory.events"));
        sv_snapshot_free(s);
}

/* Paths that climb out of the cgroup root are not cgroups. */
static void test_take_refuses_dot_dot(void **state)
{
        struct sv_snapshot *s = NULL;
        struct sv_error err = { 0 };

        assert_int_equal(take(BASIC, "work.slice/../../../proc", &s, &err), -EINVAL);
        assert_null(s);
        assert_int_equal(take(BASIC, "./work.slice", &s, &err), -EINVAL);
        assert_int_equal(take(BASIC, "..", &s, &err), -EINVAL);
}

/* A delegated user's deep nesting neither fails the snapshot nor takes an
 * fd per level beyond the limit: what is deeper is skipped, once. */
static void test_take_deep_nesting_is_bounded(void **state)
{
        const char *root = *state;
        char path[8192];
        struct sv_snapshot *s = NULL;
        struct sv_error err = { 0 };
        size_t n;

        n = (size_t)snprintf(path, sizeof(path), "%s/cgroup/work.slice/app/zombie", root);
        for (int i = 0; i < SV_SNAPSHOT_MAX_DEPTH + 5; i++) {
                char file[8300];
                n += (size_t)snprintf(path + n, sizeof(path) - n, "/d");
                assert_int_equal(mkdir(path, 0755), 0);
                /* the two files every cgroup has */
                snprintf(file, sizeof(file), "%s/cgroup.subtree_control", path);
                close(open(file, O_WRONLY | O_CREAT, 0644));
                snprintf(file, sizeof(file), "%s/cgroup.procs", path);
                close(open(file, O_WRONLY | O_CREAT, 0644));
        }
        assert_int_equal(take(root, "work.slice/app", &s, &err), 0);
        assert_int_equal(s->n_skipped, 1);
        assert_int_equal(s->skipped[0].err, ELOOP);
        for (size_t i = 0; i < s->n_groups; i++)
                assert_true(s->groups[i].depth <= SV_SNAPSHOT_MAX_DEPTH);
        sv_snapshot_free(s);
}

static void test_take_skips_vanished_pid(void **state)
{
        const char *root = *state;
        struct sv_snapshot *s;

        /* 999 exited between reading cgroup.procs and opening /proc/999. */
        write_string(root, "cgroup/work.slice/app/db/cgroup.procs", "200\n999\n201\n");
        s = take_ok(root, "work.slice/app");
        assert_int_equal(s->n_groups, 5);
        assert_int_equal(s->n_tasks, 9);
        ASSERT_GROUP_PIDS(s, 1, 200, 201);
        ASSERT_GROUP_PIDS(s, 2, 300, 301, 302, 303);
        assert_null(find_task(s, 999));
        sv_snapshot_free(s);
}

static void test_take_skips_vanished_group(void **state)
{
        const char *root = *state;
        char path[1024];
        struct sv_snapshot *s;

        /* rmdir between listing web/ and reading worker/: its files are gone. */
        snprintf(path, sizeof(path), "%s/cgroup/work.slice/app/web/worker/cgroup.subtree_control",
                 root);
        assert_int_equal(unlink(path), 0);
        s = take_ok(root, "work.slice/app");
        assert_int_equal(s->n_groups, 4);
        assert_int_equal(sv_snapshot_find_group(s, "/work.slice/app/web/worker"), -ENOENT);
        assert_string_equal(s->groups[3].path, "/work.slice/app/zombie");
        assert_int_equal(s->groups[3].parent, 0);
        assert_null(find_task(s, 400));
        assert_int_equal(s->n_tasks, 8);
        ASSERT_GROUP_PIDS(s, 2, 300, 301, 302, 303);
        ASSERT_GROUP_PIDS(s, 3, 500);
        sv_snapshot_free(s);
}

static void test_take_vanished_domain(void **state)
{
        const char *root = *state;
        char path[1024];
        struct sv_snapshot *s = NULL;
        struct sv_error err = { 0 };

        snprintf(path, sizeof(path), "%s/cgroup/work.slice/app/cgroup.subtree_control", root);
        assert_int_equal(unlink(path), 0);
        assert_int_equal(take(root, "work.slice/app", &s, &err), -ENOENT);
        assert_null(s);
}

/* ---- JSON ---------------------------------------------------------------- */

static void test_json_round_trip_basic(void **state)
{
        static const char *const domains[] = { "work.slice/app", "" };

        for (size_t i = 0; i < ELEMENTSOF(domains); i++) {
                struct sv_snapshot *s = take_ok(BASIC, domains[i]);

                assert_round_trip(s);
                sv_snapshot_free(s);
        }
}

static void test_json_round_trip_swap(void **state)
{
        static const char *const domains[] = { "batch", "" };

        for (size_t i = 0; i < ELEMENTSOF(domains); i++) {
                struct sv_snapshot *s = take_ok(SWAP, domains[i]);
                int b = group_index(s, "/batch");

                assert_int_equal(s->total_swap_pages, 1048576 / 4);
                assert_true(s->groups[b].have & SV_HAVE_SWAP);
                assert_int_equal(s->groups[b].swap_max, 536870912);
                assert_int_equal(find_task(s, 700)->vm_swap_kb, 80000);
                assert_round_trip(s);
                sv_snapshot_free(s);
        }
}

/* Values the fixtures do not have: extremes, "max" protections, PSI
 * fractions, a missing full line, and a comm that needs escaping. */
static void test_json_round_trip_edge_values(void **state)
{
        struct sv_snapshot *s = take_ok(BASIC, "work.slice/app");
        struct sv_group *g = &s->groups[2];
        struct sv_task *t = &s->tasks[0];
        char *text;

        s->page_size = 65536;
        s->total_ram_pages = UINT64_MAX / 65536;
        s->total_swap_pages = 1;
        s->swappiness = 200;

        g->ino = UINT64_MAX - 1;
        g->have = SV_HAVE_MEMORY | SV_HAVE_SWAP | SV_HAVE_EVENTS | SV_HAVE_PRESSURE |
                  SV_HAVE_STAT | SV_HAVE_PEAK;
        g->subtree_control = SV_CTRL_CPUSET | SV_CTRL_CPU | SV_CTRL_IO | SV_CTRL_MEMORY |
                             SV_CTRL_HUGETLB | SV_CTRL_PIDS | SV_CTRL_RDMA | SV_CTRL_MISC;
        g->memory_low = SV_LIMIT_MAX;
        g->memory_min = 1;
        g->swap_max = 0;
        g->swap_current = (uint64_t)INT64_MAX + 1;
        g->events.oom_kill = 7;
        g->events_local.max = UINT64_MAX - 1;
        g->stat.pgfault = 1ull << 63;
        g->pressure.some = (struct sv_psi_line){ 1.23, 0.1, 100, 123456789012ull };
        g->pressure.full = (struct sv_psi_line){ 0.01, 99.99, 33.33, 1 };
        g->cgevents.frozen = true;
        s->groups[1].pressure.has_full = false;

        t->uid = UINT32_MAX;
        t->flags = UINT32_MAX;
        t->starttime = UINT64_MAX - 1;
        t->ppid = 0;
        t->oom_score_adj = -1000;
        t->state = 'I';
        t->vm_size_kb = UINT64_MAX / 1024;
        strcpy(t->comm, "0123456789abcde");
        strcpy(s->tasks[1].comm, "a\"b\\c\td/\xc3\xa9\x01");
        s->tasks[2].state = '\0';
        s->tasks[3].comm[0] = '\0';

        text = to_json_text(s);
        /* Readable numbers and limits, not json-c's "%.17g". */
        assert_non_null(strstr(text, "\"avg10\": 1.23,"));
        assert_non_null(strstr(text, "\"avg60\": 0.1,"));
        assert_non_null(strstr(text, "\"avg300\": 100.0,"));
        assert_non_null(strstr(text, "\"memory_low\": \"max\""));
        assert_non_null(strstr(text, "\"full\": null"));
        assert_non_null(strstr(text, "\"schema\": \"cgsentry-snapshot/1\""));
        assert_non_null(strstr(text, "\"path\": \"/work.slice/app/web\""));
        free(text);

        assert_round_trip(s);
        sv_snapshot_free(s);
}

static void test_json_write_error(void **state)
{
        struct sv_snapshot *s;
        FILE *f = fopen("/dev/full", "we");

        if (!f)
                skip();
        s = take_ok(BASIC, "work.slice/app");
        assert_int_equal(sv_snapshot_to_json(s, f), -EIO);
        fclose(f);
        sv_snapshot_free(s);
}

/* What json-c lets through and the reader must not: a key given twice
 * (spelled the same or escaped), a raw control character in a string. */
static void test_json_duplicate_keys_and_control_characters(void **state)
{
        static const struct {
                const char *text, *says;
        } bad[] = {
                { "{\"schema\":\"cgsentry-snapshot/1\",\"groups\":[{\"path\":\"/d\","
                  "\"parent\":null,\"memcg\":true,\"memory_max\":1,\"oom_group\":false,"
                  "\"oom_group\":true,\"tasks\":[]}]}",
                  "line 1, column 116: a key given twice in one object" },
                { "{\"schema\":\"cgsentry-snapshot/1\",\"sch\\u0065ma\":\"x\",\"groups\":[]}",
                  "a key given twice in one object" },
                { "{\"schema\":\"cgsentry-snapshot/1\",\"groups\":[{\"path\":\"/d\nx\"}]}",
                  "a raw control character inside a string" },
        };

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                struct sv_snapshot *s = NULL;
                struct sv_error err = {};

                assert_int_equal(sv_snapshot_from_json(bad[i].text, &s, &err), -EINVAL);
                assert_null(s);
                if (!strstr(err.what, bad[i].says))
                        fail_msg("%zu: \"%s\" does not say \"%s\"", i, err.what, bad[i].says);
        }
}

/* Cgroup names may hold any byte but '/' and NUL: the JSON stays valid
 * UTF-8 without a raw control character, and the path comes back exactly. */
static void test_json_hostile_group_names_round_trip(void **state)
{
        static const char *const name = "/d/x\xff\ncgsentryd[1]: \x1b[31m";
        struct sv_snapshot *s = sv_snapshot_new("/d", 4096), *back = NULL;
        struct sv_group g = { .memcg = true, .memory_max = SV_LIMIT_MAX };
        struct sv_error err = {};
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);

        assert_int_equal(sv_snapshot_add_group(s, "/d", -1, &g), 0);
        assert_int_equal(sv_snapshot_add_group(s, name, 0, &g), 1);
        assert_int_equal(sv_snapshot_to_json(s, f), 0);
        fclose(f);
        for (size_t i = 0; i < len; i++)
                assert_true((unsigned char)text[i] >= 0x20 || text[i] == '\n' || text[i] == ' ');
        assert_null(strstr(text, "\xff"));
        assert_non_null(strstr(text, "\"path_hex\""));
        assert_int_equal(sv_snapshot_from_json(text, &back, &err), 0);
        assert_string_equal(back->groups[1].path, name);
        sv_snapshot_free(back);
        sv_snapshot_free(s);
        free(text);
}

/* Found by fuzzing: free swap above the total failed the load but returned
 * 0, with no snapshot. */
static void test_json_free_swap_above_total_is_an_error(void **state)
{
        struct sv_snapshot *s = NULL;
        struct sv_error err = {};

        assert_int_equal(sv_snapshot_from_json("{\"schema\":\"cgsentry-snapshot/1\","
                                               "\"total_swap_pages\":0,\"free_swap_pages\":1,"
                                               "\"groups\":[{\"path\":\"/d\",\"parent\":null,"
                                               "\"memcg\":true,\"memory_max\":1,"
                                               "\"oom_group\":false,\"tasks\":[]}]}",
                                               &s, &err),
                         -EINVAL);
        assert_null(s);
        assert_non_null(strstr(err.what, "free_swap_pages: out of range"));
}

/* Snapshots saved before free_swap_pages and swap_headroom existed: the
 * headroom follows from the domain's own swap limit and the swap. */
static void test_json_swap_headroom_default(void **state)
{
        static const char *const text =
                "{\"schema\":\"cgsentry-snapshot/1\",\"total_swap_pages\":1024,"
                "\"groups\":[{\"path\":\"/d\",\"parent\":null,\"memcg\":true,"
                "\"memory_max\":1048576,\"oom_group\":false,\"swap_max\":2097152,"
                "\"swap_current\":1048576,\"tasks\":[]}]}";
        struct sv_snapshot *s = from_json_ok(text);

        assert_int_equal(s->free_swap_pages, 1024);
        assert_int_equal(s->swap_headroom, 1048576); /* 2 MiB max - 1 MiB used < 4 MiB free */
        sv_snapshot_free(s);
}

static void test_json_minimal(void **state)
{
        char *text = read_text(MINIMAL_JSON);
        struct sv_snapshot *s = from_json_ok(text);
        static const int parents[] = { -1, 0, 0, 2, 0 };
        static const int depths[] = { 0, 1, 1, 2, 1 };
        const struct sv_task *t;

        assert_string_equal(s->domain, "/app");
        assert_int_equal(s->page_size, 4096);
        assert_int_equal(s->total_ram_pages, 0);
        assert_int_equal(s->total_swap_pages, 0);
        assert_int_equal(s->swappiness, 60);
        assert_int_equal(s->n_groups, 5);
        for (size_t i = 0; i < 5; i++) {
                const struct sv_group *g = &s->groups[i];

                assert_int_equal(g->parent, parents[i]);
                assert_int_equal(g->depth, depths[i]);
                assert_int_equal(g->oom_group, i == 2);
                assert_int_equal(g->memory_max, i == 0 ? 268435456 : SV_LIMIT_MAX);
                assert_int_equal(g->memory_high, SV_LIMIT_MAX);
                assert_int_equal(g->swap_max, SV_LIMIT_MAX);
                assert_int_equal(g->memory_low, 0);
                assert_int_equal(g->memory_min, 0);
                assert_int_equal(g->memory_current, 0);
                assert_int_equal(g->subtree_control, 0);
                assert_false(g->pressure.has_full);
                assert_false(g->cgevents.populated);
                /* "have" left out: it says what was given. */
                assert_int_equal(g->have, g->memcg ? SV_HAVE_MEMORY | SV_HAVE_EVENTS : 0);
        }
        assert_string_equal(s->groups[3].path, "/app/web/worker");
        assert_false(s->groups[4].memcg);

        assert_int_equal(s->n_tasks, 7);
        ASSERT_GROUP_PIDS(s, 0, 100);
        ASSERT_GROUP_PIDS(s, 1, 200, 201);
        ASSERT_GROUP_PIDS(s, 2, 300, 301);
        ASSERT_GROUP_PIDS(s, 3, 400, 401);
        assert_int_equal(s->groups[4].n_tasks, 0);

        t = find_task(s, 401);
        assert_non_null(t);
        assert_string_equal(t->comm, "worker");
        assert_int_equal(t->oom_score_adj, 500);
        assert_int_equal(t->rss_anon_kb, 1000);
        assert_true(t->has_mm);
        assert_int_equal(t->state, '\0');
        assert_int_equal(t->ppid, 0);
        assert_int_equal(t->uid, 0);
        assert_int_equal(t->flags, 0);
        assert_int_equal(t->vm_pte_kb, 0);
        assert_int_equal(find_task(s, 200)->oom_score_adj, -1000);

        /* What the writer makes of it reads back the same. */
        assert_round_trip(s);
        sv_snapshot_free(s);
        free(text);
}

static void test_json_optional_keys_set_have(void **state)
{
        char *text = q("{'schema': 'cgsentry-snapshot/1', 'domain': 'a//b/', 'page_size': 16384,"
                       " 'total_ram_pages': 1000, 'total_swap_pages': 10, 'swappiness': 0,"
                       " 'groups': [ { 'path': '/a/b', 'parent': null, 'memcg': true,"
                       " 'memory_max': 1048576, 'memory_high': 524288, 'memory_low': 'max',"
                       " 'memory_peak': 7, 'swap_max': 0, 'oom_group': false,"
                       " 'stat': { 'anon': 4096 }, 'events_local': { 'oom_kill': 2 },"
                       " 'pressure': { 'some': { 'avg10': 5, 'avg60': 0.5 }, 'full': null },"
                       " 'subtree_control': [ 'memory', 'memory', 'cpuset' ],"
                       " 'cgroup_events': { 'frozen': true },"
                       " 'tasks': [ { 'pid': 1, 'comm': '', 'oom_score_adj': 0,"
                       " 'rss_anon_kb': 0, 'has_mm': false, 'state': 'Z' } ] } ] }");
        struct sv_snapshot *s = from_json_ok(text);
        const struct sv_group *g = &s->groups[0];

        assert_string_equal(s->domain, "/a/b");
        assert_int_equal(s->page_size, 16384);
        assert_int_equal(s->total_ram_pages, 1000);
        assert_int_equal(s->total_swap_pages, 10);
        assert_int_equal(s->swappiness, 0);
        assert_int_equal(g->have, SV_HAVE_MEMORY | SV_HAVE_EVENTS | SV_HAVE_SWAP | SV_HAVE_PEAK |
                                          SV_HAVE_STAT | SV_HAVE_PRESSURE);
        assert_int_equal(g->memory_high, 524288);
        assert_int_equal(g->memory_low, SV_LIMIT_MAX);
        assert_int_equal(g->swap_max, 0);
        assert_int_equal(g->memory_peak, 7);
        assert_int_equal(g->stat.anon, 4096);
        assert_int_equal(g->stat.file, 0);
        assert_int_equal(g->events_local.oom_kill, 2);
        assert_true(g->pressure.some.avg10 == 5.0);
        assert_true(g->pressure.some.avg60 == 0.5);
        assert_false(g->pressure.has_full);
        assert_int_equal(g->subtree_control, SV_CTRL_MEMORY | SV_CTRL_CPUSET);
        assert_true(g->cgevents.frozen);
        assert_false(g->cgevents.populated);
        assert_false(s->tasks[0].has_mm);
        assert_int_equal(s->tasks[0].state, 'Z');
        assert_string_equal(s->tasks[0].comm, "");
        assert_round_trip(s);
        sv_snapshot_free(s);
        free(text);

        /* An explicit "have" wins over what is given. */
        text = q("{'schema': 'cgsentry-snapshot/1', 'groups': [ { 'path': '/', 'parent': null,"
                 " 'memcg': false, 'memory_max': 'max', 'oom_group': false, 'memory_peak': 1,"
                 " 'have': { 'stat': true, 'pressure': false }, 'tasks': [] } ] }");
        s = from_json_ok(text);
        assert_int_equal(s->groups[0].have, SV_HAVE_STAT);
        assert_string_equal(s->domain, "/");
        sv_snapshot_free(s);
        free(text);
}

struct bad_case {
        const char *from, *to; /* applied to minimal.json */
        const char *what;      /* expected in err.what */
};

static const struct bad_case bad_cases[] = {
        /* The top level. */
        { "\"schema\": \"cgsentry-snapshot/1\"", "\"schema\": \"cgsentry-snapshot/2\"",
          "schema: \"cgsentry-snapshot/2\" is not \"cgsentry-snapshot/1\"" },
        { "\"schema\": \"cgsentry-snapshot/1\",", "", "schema: missing" },
        { "\"schema\": \"cgsentry-snapshot/1\"", "\"schema\": 1", "schema: expected a string" },
        { "\"groups\": [", "\"group\": 1, \"groups\": [", "group: unknown key" },
        { "\"groups\": [", "\"swappiness\": 201, \"groups\": [", "swappiness: out of range" },
        { "\"groups\": [", "\"swappiness\": -1, \"groups\": [", "swappiness: out of range" },
        { "\"groups\": [", "\"page_size\": 1000, \"groups\": [", "page_size: not a power of two" },
        { "\"groups\": [", "\"total_ram_pages\": 4503599627370496, \"groups\": [",
          "total_ram_pages: out of range" },
        { "\"groups\": [", "\"domain\": \"/other\", \"groups\": [",
          "domain: not the same as groups[0].path" },

        /* Required group keys and their types. */
        { "\"path\": \"/app/db\", ", "", "groups[1].path: missing" },
        { "\"parent\": 2, ", "", "groups[3].parent: missing" },
        { "\"parent\": 0, \"memcg\": false,", "\"parent\": 0,", "groups[4].memcg: missing" },
        { "\"memory_max\": \"max\", \"oom_group\": true,", "\"oom_group\": true,",
          "groups[2].memory_max: missing" },
        { "\"oom_group\": true,", "", "groups[2].oom_group: missing" },
        { "\"oom_group\": false, \"tasks\": [] }", "\"oom_group\": false }",
          "groups[4].tasks: missing" },
        { "\"memcg\": false", "\"memcg\": 0", "groups[4].memcg: expected true or false, got int" },
        { "\"oom_group\": true", "\"oom_group\": \"yes\"",
          "groups[2].oom_group: expected true or false, got string" },
        { "\"tasks\": [] }", "\"tasks\": {} }", "groups[4].tasks: expected an array, got object" },
        { "\"tasks\": [] }", "\"tasks\": [ 7 ] }",
          "groups[4].tasks[0]: expected an object, got int" },
        { "\"path\": \"/app/batch\"", "\"path\": 5", "groups[4].path: expected a string, got int" },

        /* Limits and numbers. */
        { "\"memory_max\": 268435456", "\"memory_max\": -1",
          "groups[0].memory_max: must not be negative" },
        { "\"memory_max\": 268435456", "\"memory_max\": 99999999999999999999999",
          "groups[0].memory_max: out of range" },
        { "\"memory_max\": 268435456", "\"memory_max\": 18446744073709551615",
          "groups[0].memory_max: out of range" },
        { "\"memory_max\": 268435456", "\"memory_max\": \"lots\"",
          "groups[0].memory_max: expected a byte count or \"max\"" },
        { "\"memory_max\": 268435456", "\"memory_max\": 2.5e8",
          "groups[0].memory_max: expected a byte count or \"max\", got double" },
        { "\"memory_max\": 268435456", "\"memory_max\": null",
          "groups[0].memory_max: expected a byte count or \"max\", got null" },
        { "\"memcg\": false,", "\"memcg\": false, \"memory_current\": -3,",
          "groups[4].memory_current: must not be negative" },
        { "\"memcg\": false,", "\"memcg\": false, \"ino\": 1.0,",
          "groups[4].ino: expected a non-negative integer, got double" },

        /* Group structure: pre-order, paths. */
        { "\"parent\": null", "\"parent\": 0", "groups[0].parent: must be null" },
        { "\"path\": \"/app/db\", \"parent\": 0", "\"path\": \"/app/db\", \"parent\": null",
          "groups[1].parent: is null, but only groups[0] has no parent" },
        { "\"parent\": 2", "\"parent\": 3",
          "groups[3].parent: must be the index of an earlier group" },
        { "\"parent\": 2", "\"parent\": -1",
          "groups[3].parent: must be the index of an earlier group" },
        { "\"parent\": 2", "\"parent\": \"2\"", "groups[3].parent: expected a group index" },
        { "\"path\": \"/app/web/worker\", \"parent\": 2",
          "\"path\": \"/app/db/worker\", \"parent\": 1",
          "groups[3].parent: not in pre-order: groups[1] is not groups[2] or above it" },
        { "\"path\": \"/app/web/worker\"", "\"path\": \"/app/worker\"",
          "groups[3].path: not a direct child of groups[2].path" },
        { "\"path\": \"/app/web/worker\"", "\"path\": \"/app/web/x/worker\"",
          "groups[3].path: not a direct child of groups[2].path" },
        { "\"path\": \"/app/batch\"", "\"path\": \"/app/db\"",
          "groups[4].path: same as groups[1].path" },
        { "\"path\": \"/app/batch\"", "\"path\": \"/app/batch/\"",
          "groups[4].path: not a normalized cgroup path" },
        { "\"path\": \"/app/batch\"", "\"path\": \"/app/..\"",
          "groups[4].path: not a normalized cgroup path" },
        { "\"path\": \"/app\"", "\"path\": \"app\"", "groups[0].path: not a normalized" },

        /* Optional group objects. */
        { "\"memcg\": false,", "\"memcg\": false, \"subtree_control\": [ \"memory\", \"bogus\" ],",
          "groups[4].subtree_control[1]: unknown controller \"bogus\"" },
        { "\"memcg\": false,", "\"memcg\": false, \"subtree_control\": \"memory\",",
          "groups[4].subtree_control: expected an array, got string" },
        { "\"memcg\": false,", "\"memcg\": false, \"pressure\": { \"some\": { \"avg10\": 101 } },",
          "groups[4].pressure.some.avg10: out of range" },
        { "\"memcg\": false,", "\"memcg\": false, \"pressure\": { \"some\": { \"avg10\": NaN } },",
          "groups[4].pressure.some.avg10: out of range" },
        { "\"memcg\": false,", "\"memcg\": false, \"pressure\": { \"full\": 3 },",
          "groups[4].pressure.full: expected an object or null, got int" },
        { "\"memcg\": false,", "\"memcg\": false, \"pressure\": { \"partial\": null },",
          "groups[4].pressure.partial: unknown key" },
        { "\"memcg\": false,", "\"memcg\": false, \"events\": { \"oom\": -1 },",
          "groups[4].events.oom: must not be negative" },
        { "\"memcg\": false,", "\"memcg\": false, \"stat\": { \"anonymous\": 1 },",
          "groups[4].stat.anonymous: unknown key" },
        { "\"memcg\": false,", "\"memcg\": false, \"have\": { \"memory\": 1 },",
          "groups[4].have.memory: expected true or false, got int" },
        { "\"memcg\": false,", "\"memcg\": false, \"cgroup_events\": { \"populated\": null },",
          "groups[4].cgroup_events.populated: expected true or false, got null" },
        { "\"memcg\": false,", "\"memcg\": false, \"events_local\": [],",
          "groups[4].events_local: expected an object, got array" },

        /* Tasks. */
        { "\"oom_score_adj\": 500", "\"oom_score_adj\": 1001",
          "groups[3].tasks[1].oom_score_adj: out of range" },
        { "\"oom_score_adj\": -1000", "\"oom_score_adj\": -1001",
          "groups[1].tasks[0].oom_score_adj: out of range" },
        /* oom_score_adj 942..999 show as 16 in /proc/PID/oom_adj, 17 never */
        { "\"oom_score_adj\": 500", "\"oom_score_adj\": 999, \"oom_adj\": 17",
          "groups[3].tasks[1].oom_adj: out of range" },
        { "\"comm\": \"python3\"", "\"comm\": \"0123456789abcdef\"",
          "groups[2].tasks[1].comm: longer than 15 bytes" },
        { "\"comm\": \"nginx\"", "\"comm\": \"ngi\\u0000nx\"",
          "groups[2].tasks[0].comm: contains a NUL character" },
        { "\"rss_anon_kb\": 1000 }", "\"rss_anon_kb\": -5 }",
          "groups[3].tasks[1].rss_anon_kb: must not be negative" },
        { "\"rss_anon_kb\": 1000 }", "\"rss_anon_kb\": 18014398509481984 }",
          "groups[3].tasks[1].rss_anon_kb: out of range" },
        { "\"pid\": 301", "\"pid\": 2147483648", "groups[2].tasks[1].pid: out of range" },
        { "\"pid\": 301", "\"pid\": 0", "groups[2].tasks[1].pid: out of range" },
        { "\"pid\": 301", "\"pid\": \"301\"",
          "groups[2].tasks[1].pid: expected an integer, got string" },
        { "\"pid\": 301, ", "", "groups[2].tasks[1].pid: missing" },
        { "\"comm\": \"bash\", ", "", "groups[0].tasks[0].comm: missing" },
        { "\"comm\": \"bash\", \"oom_score_adj\": 0", "\"comm\": \"bash\"",
          "groups[0].tasks[0].oom_score_adj: missing" },
        { ", \"rss_anon_kb\": 4000", "", "groups[0].tasks[0].rss_anon_kb: missing" },
        { "\"rss_anon_kb\": 4000", "\"rss_anon_kb\": 4000, \"rss_anon\": 1",
          "groups[0].tasks[0].rss_anon: unknown key" },
        { "\"comm\": \"bash\",", "\"comm\": \"bash\", \"uid\": 4294967296,",
          "groups[0].tasks[0].uid: out of range" },
        { "\"comm\": \"bash\",", "\"comm\": \"bash\", \"ppid\": -1,",
          "groups[0].tasks[0].ppid: out of range" },
        { "\"comm\": \"bash\",", "\"comm\": \"bash\", \"state\": \"SS\",",
          "groups[0].tasks[0].state: longer than 1 byte" },
        { "\"comm\": \"bash\",", "\"comm\": \"bash\", \"state\": \"1\",",
          "groups[0].tasks[0].state: expected a letter" },
        { "\"comm\": \"bash\",", "\"comm\": \"bash\", \"has_mm\": \"no\",",
          "groups[0].tasks[0].has_mm: expected true or false, got string" },
};

static void test_json_validation_errors(void **state)
{
        char *base = read_text(MINIMAL_JSON);

        for (size_t i = 0; i < ELEMENTSOF(bad_cases); i++) {
                const struct bad_case *c = &bad_cases[i];
                char *text = replace_once(base, c->from, c->to);
                struct sv_snapshot *s = NULL;
                struct sv_error err = { 0 };
                int r = sv_snapshot_from_json(text, &s, &err);

                if (r != -EINVAL || !strstr(err.what, c->what))
                        print_message("case %zu: got %d \"%s\", expected \"%s\"\n", i, r, err.what,
                                      c->what);
                assert_int_equal(r, -EINVAL);
                assert_null(s);
                assert_int_equal(err.err, EINVAL);
                assert_string_equal(err.path, "<json>");
                assert_non_null(strstr(err.what, c->what));
                free(text);
        }
        free(base);
}

/* The exact message, as the front-end shows it. */
static void test_json_error_message(void **state)
{
        char *base = read_text(MINIMAL_JSON);
        char *text = replace_once(base, "\"oom_score_adj\": 500", "\"oom_score_adj\": 5000");
        struct sv_snapshot *s = NULL;
        struct sv_error err = { 0 };

        assert_int_equal(sv_snapshot_from_json(text, &s, &err), -EINVAL);
        assert_string_equal(err.what, "groups[3].tasks[1].oom_score_adj: out of range");
        free(text);
        free(base);
}

static void test_json_whole_document_errors(void **state)
{
        static const struct {
                const char *text, *what;
        } cases[] = {
                { "[]", "expected an object at the top level, got array" },
                { "\"cgsentry-snapshot/1\"", "expected an object at the top level, got string" },
                { "{'schema': 'cgsentry-snapshot/1', 'groups': []}", "groups: empty" },
                { "{'schema': 'cgsentry-snapshot/1', 'groups': {}}",
                  "groups: expected an array, got object" },
                { "{'schema': 'cgsentry-snapshot/1'}", "groups: missing" },
                { "{'schema': 'cgsentry-snapshot/1', 'groups': [ 1 ]}",
                  "groups[0]: expected an object, got int" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char *text = q(cases[i].text);
                struct sv_snapshot *s = NULL;
                struct sv_error err = { 0 };

                assert_int_equal(sv_snapshot_from_json(text, &s, &err), -EINVAL);
                assert_null(s);
                if (!strstr(err.what, cases[i].what))
                        print_message("got \"%s\", expected \"%s\"\n", err.what, cases[i].what);
                assert_non_null(strstr(err.what, cases[i].what));
                free(text);
        }
}

static void test_json_syntax_errors(void **state)
{
        static const struct {
                const char *text, *what;
        } cases[] = {
                { "", "JSON syntax error at line 1, column 1: unexpected end of data" },
                { "  \n", "JSON syntax error at line 2, column 1: unexpected end of data" },
                { "{\n  \"schema\": \"cgsentry-snapshot/1\",\n  \"groups\": [ tru ]\n}",
                  "JSON syntax error at line 3, column 18: boolean expected" },
                { "{ \"schema\": 'x' }", "JSON syntax error at line 1, column 13" },
                { "{ schema: 1 }", "line 1, column 3: quoted object property name expected" },
                { "{ \"groups\": [ 1, ] }", "JSON syntax error at line 1, column 18" },
                { "{ \"groups\": [ 01 ] }", "JSON syntax error at line 1, column 17" },
                { "{ \"groups\": [ 1 ] } x",
                  "line 1, column 21: trailing characters after the snapshot" },
                { "{ \"a\": 1 }\n{ \"a\": 2 }\n",
                  "line 2, column 1: trailing characters after the snapshot" },
                { "{ \"schema\": \"x", "line 1, column 15: unexpected end of data" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct sv_snapshot *s = NULL;
                struct sv_error err = { 0 };

                assert_int_equal(sv_snapshot_from_json(cases[i].text, &s, &err), -EINVAL);
                assert_null(s);
                assert_int_equal(err.err, EINVAL);
                assert_string_equal(err.path, "<json>");
                if (!strstr(err.what, cases[i].what))
                        print_message("case %zu: got \"%s\", expected \"%s\"\n", i, err.what,
                                      cases[i].what);
                assert_non_null(strstr(err.what, cases[i].what));
        }
}

static void test_json_load(void **state)
{
        char *text = read_text(MINIMAL_JSON);
        struct sv_snapshot *a = from_json_ok(text), *b = NULL;
        struct sv_error err = { 0 };
        int r = sv_snapshot_load_json(MINIMAL_JSON, &b, &err);

        if (r < 0)
                print_message("%s: %s\n", err.path, err.what);
        assert_int_equal(r, 0);
        assert_snapshots_equal(a, b);
        sv_snapshot_free(a);
        sv_snapshot_free(b);
        free(text);
}

static void test_json_load_missing(void **state)
{
        struct sv_snapshot *s = NULL;
        struct sv_error err = { 0 };

        assert_int_equal(sv_snapshot_load_json(SV_FIXTURES "/json/no-such.json", &s, &err),
                         -ENOENT);
        assert_null(s);
        assert_int_equal(err.err, ENOENT);
        assert_string_equal(err.path, SV_FIXTURES "/json/no-such.json");
}

static void test_json_load_errors_name_the_file(void **state)
{
        const char *dir = *state; /* any scratch directory will do */
        char *base = read_text(MINIMAL_JSON), *bad, path[512];
        struct sv_snapshot *s = NULL;
        struct sv_error err = { 0 };

        snprintf(path, sizeof(path), "%s/bad.json", dir);
        bad = replace_once(base, "\"comm\": \"python3\"", "\"comm\": 3");
        write_string(dir, "bad.json", bad);
        assert_int_equal(sv_snapshot_load_json(path, &s, &err), -EINVAL);
        assert_null(s);
        assert_string_equal(err.path, path);
        assert_string_equal(err.what, "groups[2].tasks[1].comm: expected a string, got int");
        free(bad);

        /* A NUL byte would end the text early and hide what follows it. */
        write_text(dir, "bad.json", base, strlen(base) + 1);
        memset(&err, 0, sizeof(err));
        assert_int_equal(sv_snapshot_load_json(path, &s, &err), -EINVAL);
        assert_null(s);
        assert_string_equal(err.path, path);
        assert_non_null(strstr(err.what, "NUL byte at line 21, column 1"));

        /* A directory is not a snapshot. */
        memset(&err, 0, sizeof(err));
        assert_int_equal(sv_snapshot_load_json(dir, &s, &err), -EISDIR);
        assert_null(s);
        assert_string_equal(err.path, dir);
        free(base);
}

/* prctl(PR_SET_NAME) accepts any bytes; JSON must stay valid UTF-8 and the
 * round trip exact. */
static void test_json_comm_that_is_not_utf8(void **state)
{
        struct sv_snapshot *s = sv_snapshot_new("/d", 4096), *back = NULL;
        struct sv_group g = { .memcg = true, .memory_max = SV_LIMIT_MAX, .swap_max = SV_LIMIT_MAX };
        struct sv_task t = { .pid = 5, .has_mm = true, .comm = "\xffnl\nbin\x01" };
        struct sv_error err = {};
        char *text;

        assert_int_equal(sv_snapshot_add_group(s, "/d", -1, &g), 0);
        assert_int_equal(sv_snapshot_add_task(s, &t), 0);
        text = to_json_text(s);
        assert_non_null(strstr(text, "\"comm\": \"\xef\xbf\xbdnl\\nbin\\u0001\""));
        assert_non_null(strstr(text, "\"comm_hex\": \"ff6e6c0a62696e01\""));
        assert_int_equal(sv_snapshot_from_json(text, &back, &err), 0);
        assert_memory_equal(back->tasks[0].comm, t.comm, sizeof(t.comm));
        free(text);
        sv_snapshot_free(back);
        sv_snapshot_free(s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_take_basic_domain),
                cmocka_unit_test(test_take_domain_spellings),
                cmocka_unit_test(test_take_root_domain),
                cmocka_unit_test(test_take_missing_domain),
                cmocka_unit_test(test_take_missing_roots),
                cmocka_unit_test_setup_teardown(test_take_malformed_domain_fails, setup_basic_copy,
                                                teardown_basic_copy),
                cmocka_unit_test_setup_teardown(test_take_fifo_is_refused, setup_basic_copy,
                                                teardown_basic_copy),
                cmocka_unit_test_setup_teardown(test_take_deep_nesting_is_bounded, setup_basic_copy,
                                                teardown_basic_copy),
                cmocka_unit_test(test_take_refuses_dot_dot),
                cmocka_unit_test_setup_teardown(test_take_malformed_memory_max, setup_basic_copy,
                                                teardown_basic_copy),
                cmocka_unit_test_setup_teardown(test_take_truncated_status, setup_basic_copy,
                                                teardown_basic_copy),
                cmocka_unit_test_setup_teardown(test_take_bad_oom_score_adj, setup_basic_copy,
                                                teardown_basic_copy),
                cmocka_unit_test_setup_teardown(test_take_skips_vanished_pid, setup_basic_copy,
                                                teardown_basic_copy),
                cmocka_unit_test_setup_teardown(test_take_skips_vanished_group, setup_basic_copy,
                                                teardown_basic_copy),
                cmocka_unit_test_setup_teardown(test_take_vanished_domain, setup_basic_copy,
                                                teardown_basic_copy),

                cmocka_unit_test(test_json_round_trip_basic),
                cmocka_unit_test(test_json_round_trip_swap),
                cmocka_unit_test(test_json_round_trip_edge_values),
                cmocka_unit_test(test_json_write_error),
                cmocka_unit_test(test_json_minimal),
                cmocka_unit_test(test_json_swap_headroom_default),
                cmocka_unit_test(test_json_free_swap_above_total_is_an_error),
                cmocka_unit_test(test_json_hostile_group_names_round_trip),
                cmocka_unit_test(test_json_duplicate_keys_and_control_characters),
                cmocka_unit_test(test_json_optional_keys_set_have),
                cmocka_unit_test(test_json_validation_errors),
                cmocka_unit_test(test_json_error_message),
                cmocka_unit_test(test_json_whole_document_errors),
                cmocka_unit_test(test_json_syntax_errors),
                cmocka_unit_test(test_json_load),
                cmocka_unit_test(test_json_load_missing),
                cmocka_unit_test(test_json_comm_that_is_not_utf8),
                cmocka_unit_test_setup_teardown(test_json_load_errors_name_the_file,
                                                setup_basic_copy, teardown_basic_copy),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
