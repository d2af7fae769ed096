/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cgsentry run's container support on fixture trees: which processes of
 * the command's tree left the wrapped cgroup, and removing a cgroup tree. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run-container.h"

static void put(const char *root, const char *rel, const char *text)
{
        char path[512], *slash;
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", root, rel);
        for (slash = strchr(path + strlen(root) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
                *slash = '\0';
                mkdir(path, 0755);
                *slash = '/';
        }
        f = fopen(path, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

static void test_path_within(void **state)
{
        assert_true(run_path_within("/w", "/w"));
        assert_true(run_path_within("/w/command", "/w"));
        assert_true(run_path_within("/w/c1/x", "/w/"));
        assert_false(run_path_within("/wx", "/w"));
        assert_false(run_path_within("/c1", "/w"));
        assert_false(run_path_within("/", "/w"));
        assert_true(run_path_within("/anything", "/"));
}

static void test_escape_root(void **state)
{
        char out[64];

        run_escape_root("/c1", "/cgsentry-run-7", out, sizeof(out));
        assert_string_equal(out, "/c1");
        run_escape_root("/c1/init/x", "/cgsentry-run-7", out, sizeof(out));
        assert_string_equal(out, "/c1");
        /* A runtime's scope and the container below it: one escape. */
        run_escape_root("/system.slice/crun-sd.scope/container", "/system.slice/r.scope/r", out,
                        sizeof(out));
        assert_string_equal(out, "/system.slice/crun-sd.scope");
        run_escape_root("/system.slice/crun-sd.scope", "/system.slice/r.scope/r", out, sizeof(out));
        assert_string_equal(out, "/system.slice/crun-sd.scope");
        /* Names that share a prefix are not a common component. */
        run_escape_root("/system.slice/r.scope-x/y", "/system.slice/r.scope/r", out, sizeof(out));
        assert_string_equal(out, "/system.slice/r.scope-x");
        /* Up to an ancestor (a runtime moved itself out, to its parent). */
        run_escape_root("/system.slice/r.scope", "/system.slice/r.scope/r", out, sizeof(out));
        assert_string_equal(out, "/system.slice/r.scope");
        run_escape_root("/", "/w", out, sizeof(out));
        assert_string_equal(out, "/");
        run_escape_root("/w2/a", "/w/x", out, sizeof(out));
        assert_string_equal(out, "/w2");
}

struct seen {
        int n;
        struct run_escape e[4];
};

static void record(void *userdata, const struct run_escape *e)
{
        struct seen *s = userdata;

        if (s->n < 4)
                s->e[s->n] = *e;
        s->n++;
}

static void test_escapes_scan(void **state)
{
        char dir[] = "/tmp/cgsentry-test-runXXXXXX";
        struct seen s = { 0 };
        int fd;

        assert_non_null(mkdtemp(dir));
        /* cgsentry (100) -> crun (101, in the leaf) -> container (103, moved
         * to /c1) -> its child (104, /c1 too); 102 in a child cgroup of W;
         * 105 a double fork reparented to us, in /elsewhere. Thread 106 of
         * cgsentry has a child too (children are per thread). */
        put(dir, "100/task/100/children", "101 102 105 ");
        put(dir, "100/task/106/children", "107 ");
        put(dir, "101/task/101/children", "103 ");
        put(dir, "102/task/102/children", "");
        put(dir, "103/task/103/children", "104 ");
        put(dir, "104/task/104/children", "");
        put(dir, "105/task/105/children", "");
        put(dir, "107/task/107/children", "");
        put(dir, "101/cgroup", "0::/w/command\n");
        put(dir, "102/cgroup", "0::/w/c2\n");
        put(dir, "103/cgroup", "0::/c1\n");
        put(dir, "104/cgroup", "0::/c1\n");
        put(dir, "105/cgroup", "1:name=systemd:/x\n0::/elsewhere\n");
        put(dir, "107/cgroup", "0::/w\n");
        put(dir, "103/comm", "sh\n");
        put(dir, "105/comm", "conmon\n");
        fd = open(dir, O_RDONLY | O_DIRECTORY);
        assert_true(fd >= 0);
        assert_int_equal(run_escapes_scan(fd, 100, "/w", record, &s), 3);
        assert_int_equal(s.n, 3);
        /* Breadth first: 105 before the grandchildren. */
        assert_int_equal(s.e[0].pid, 105);
        assert_string_equal(s.e[0].cgroup, "/elsewhere");
        assert_string_equal(s.e[0].comm, "conmon");
        assert_int_equal(s.e[1].pid, 103);
        assert_string_equal(s.e[1].cgroup, "/c1");
        assert_string_equal(s.e[1].comm, "sh");
        assert_int_equal(s.e[2].pid, 104);
        assert_string_equal(s.e[2].comm, "?"); /* exited before its comm was read */
        /* A process that is gone is not an escape; nor is a missing self. */
        assert_int_equal(run_escapes_scan(fd, 999, "/w", record, &s), -ENOENT);
        close(fd);
        {
                char cmd[128];
                snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
                assert_int_equal(system(cmd), 0);
        }
}

static void test_remove_tree(void **state)
{
        char dir[] = "/tmp/cgsentry-test-rmXXXXXX";
        char p[256];
        int fd;

        assert_non_null(mkdtemp(dir));
        snprintf(p, sizeof(p), "mkdir -p %s/w/command %s/w/c1/init %s/keep", dir, dir, dir);
        assert_int_equal(system(p), 0);
        fd = open(dir, O_RDONLY | O_DIRECTORY);
        assert_int_equal(run_remove_tree(fd, "w"), 0);
        assert_int_equal(faccessat(fd, "w", F_OK, 0), -1);
        assert_int_equal(faccessat(fd, "keep", F_OK, 0), 0);
        /* Already gone: nothing to do. */
        assert_int_equal(run_remove_tree(fd, "w"), 0);
        close(fd);
        snprintf(p, sizeof(p), "rm -rf %s", dir);
        assert_int_equal(system(p), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_path_within),
                cmocka_unit_test(test_escape_root),
                cmocka_unit_test(test_escapes_scan),
                cmocka_unit_test(test_remove_tree),
        };
        return cmocka_run_group_tests_name("run", tests, NULL, NULL);
}
