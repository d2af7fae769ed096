/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cgsentryd's configuration: keys, errors with file:line, drop-ins, globs. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgsentry/supervise.h"
#include "config.h"

static int load(const char *text, char **errors, struct cgsentry_config **ret)
{
        size_t len;
        FILE *f = open_memstream(errors, &len);
        int r = cgsentry_config_load_string(text, "test.conf", f, ret);
        fclose(f);
        return r;
}

static void test_full_rule(void **state)
{
        struct cgsentry_config *c = NULL;
        char *errors = NULL;
        const struct cgsentry_rule *r;

        assert_int_equal(load("# comment\n"
                              "[Daemon]\nCgroupRoot=/tmp/cg\n\n"
                              "[Rule services]\n"
                              "Match=system.slice/*.service\n"
                              "OOMGroup=yes\n"
                              "OnKernelOOMKill=group-kill\n"
                              "Tripwire=92.5%\n"
                              "PressureStall=full 10% 2s\n"
                              "Policy=kernel\n"
                              "Protect=system.slice/sshd.service\n"
                              "Protect=system.slice/systemd-*.service\n"
                              "DryRun=no\n"
                              "Cooldown=30s\n"
                              "KillSignal=SIGTERM:5s,SIGKILL\n",
                              &errors, &c),
                         0);
        assert_string_equal(errors, "");
        assert_string_equal(c->cgroup_root, "/tmp/cg");
        assert_int_equal(c->n_rules, 1);
        r = &c->rules[0];
        assert_string_equal(r->name, "services");
        assert_true(r->oom_group);
        assert_true(r->on_kernel_oom_kill);
        assert_int_equal(r->tripwire_permyriad, 9250);
        assert_true(r->pressure.enabled && r->pressure.full);
        assert_int_equal(r->pressure.window_usec, 2000000);
        assert_int_equal(r->pressure.stall_usec, 200000);
        assert_int_equal(r->n_protect, 2);
        assert_int_equal(r->cooldown_usec, 30000000);
        assert_int_equal(r->term_grace_usec, 5000000);
        assert_int_equal(r->line, 5);
        assert_true(sv_glob_match(r->protect[1], "system.slice/systemd-journald.service"));
        assert_false(sv_glob_match(r->protect[1], "system.slice/nginx.service"));
        cgsentry_config_free(c);
        free(errors);
}

static void test_policy_name_and_options(void **state)
{
        struct cgsentry_config *c = NULL;
        char *errors = NULL;

        assert_int_equal(load("[Daemon]\nPolicyDir=/opt/p\n[Rule a]\nMatch=x\n"
                              "Policy=growth window=10s  min=1M\n",
                              &errors, &c),
                         0);
        assert_string_equal(c->policy_dir, "/opt/p");
        assert_string_equal(c->rules[0].policy, "growth");
        assert_string_equal(c->rules[0].policy_options, "window=10s  min=1M");
        cgsentry_config_free(c);
        free(errors);
        assert_int_equal(load("[Rule a]\nMatch=x\nPolicy=../evil\n", &errors, &c), -EINVAL);
        assert_non_null(strstr(errors, "test.conf:3: Policy=../evil"));
        free(errors);
}

static void test_defaults(void **state)
{
        struct cgsentry_config *c = NULL;
        char *errors = NULL;

        assert_int_equal(load("[Rule a]\nMatch=work.slice\n", &errors, &c), 0);
        assert_string_equal(c->cgroup_root, "/sys/fs/cgroup");
        assert_false(c->rules[0].oom_group);
        assert_int_equal(c->rules[0].tripwire_permyriad, 0);
        assert_false(c->rules[0].pressure.enabled);
        assert_int_equal(c->rules[0].cooldown_usec, CGSENTRY_COOLDOWN_DEFAULT_USEC);
        assert_int_equal(c->rules[0].term_grace_usec, 0);
        cgsentry_config_free(c);
        free(errors);
}

static void test_every_bad_line_is_reported_with_file_and_line(void **state)
{
        struct cgsentry_config *c = NULL;
        char *errors = NULL;

        assert_int_equal(load("[Rule a]\n"                /* 1 */
                              "Match=/abs\n"              /* 2 */
                              "Tripwire=120%\n"           /* 3 */
                              "PressureStall=some 20%\n"  /* 4 */
                              "Bogus=1\n"                 /* 5 */
                              "Cooldown=soon\n"           /* 6 */
                              "[Nope]\nX=1\n"             /* 7, 8 */
                              "[Rule b]\nOOMGroup=maybe\n", /* 9, 10 */
                              &errors, &c),
                         -EINVAL);
        assert_null(c);
        assert_non_null(strstr(errors, "test.conf:2: Match=/abs"));
        assert_non_null(strstr(errors, "test.conf:3: Tripwire=120%"));
        assert_non_null(strstr(errors, "test.conf:4: PressureStall=some 20%"));
        assert_non_null(strstr(errors, "test.conf:5: unknown key Bogus="));
        assert_non_null(strstr(errors, "test.conf:6: Cooldown=soon"));
        assert_non_null(strstr(errors, "test.conf:8: unknown section [Nope]"));
        assert_non_null(strstr(errors, "test.conf:10: OOMGroup=maybe"));
        /* rule a has a bad Match= and rule b none */
        assert_non_null(strstr(errors, "test.conf:9: [Rule b] has no Match="));
        free(errors);
}

static void test_pressure_window_bounds(void **state)
{
        struct cgsentry_config *c = NULL;
        char *errors = NULL;

        assert_int_equal(load("[Rule a]\nMatch=x\nPressureStall=some 20% 20s\n", &errors, &c),
                         -EINVAL);
        assert_non_null(strstr(errors, "WINDOW 20s: out of range: expected a duration such as 10s, 500ms, 1.5s or 2min, from 500ms to 10s"));
        free(errors);
}

static void test_node_pressure_keys(void **state)
{
        struct cgsentry_config *c = NULL;
        char *errors = NULL;
        const struct cgsentry_rule *r;

        assert_int_equal(load("[Rule pct]\nMatch=kubepods.slice\nNodeMemoryAvailable=10%\n"
                              "NodePressureStall=some 10% 1s\n"
                              "[Rule size]\nMatch=kubepods\nNodeMemoryAvailable=512M\n"
                              "[Rule off]\nMatch=x\nNodeMemoryAvailable=1G\n"
                              "NodeMemoryAvailable=off\n",
                              &errors, &c),
                         0);
        assert_string_equal(errors, "");
        r = &c->rules[0];
        assert_int_equal(r->node.available_permyriad, 1000);
        assert_int_equal(r->node.available_bytes, 0);
        assert_true(r->node.stall.enabled && !r->node.stall.full);
        assert_int_equal(r->node.stall.window_usec, 1000000);
        assert_int_equal(r->node.stall.stall_usec, 100000);
        assert_true(cgsentry_node_enabled(r));
        r = &c->rules[1];
        assert_int_equal(r->node.available_bytes, 512ull << 20);
        assert_int_equal(r->node.available_permyriad, 0);
        assert_true(cgsentry_node_enabled(r));
        assert_false(cgsentry_node_enabled(&c->rules[2]));
        cgsentry_config_free(c);
        free(errors);

        assert_int_equal(load("[Rule a]\nMatch=x\nNodeMemoryAvailable=95%\n"
                              "NodeMemoryAvailable=lots\nNodeMemoryAvailable=0\n"
                              "NodePressureStall=some 10%\n",
                              &errors, &c),
                         -EINVAL);
        assert_non_null(strstr(errors, "test.conf:3: NodeMemoryAvailable=95%: "));
        assert_non_null(strstr(errors, "of MemTotal"));
        assert_non_null(strstr(errors, "test.conf:4: NodeMemoryAvailable=lots: expected a size"));
        assert_non_null(strstr(errors, "test.conf:5: NodeMemoryAvailable=0: expected a size"));
        assert_non_null(strstr(errors, "test.conf:6: NodePressureStall=some 10%: expected"));
        free(errors);
}

/* The engine-aware rules shipped as examples: each engine's container
 * cgroup meets its rule, monitors and pod slices meet none, the pod tree
 * the node rule. */
static void test_shipped_container_rules(void **state)
{
#define ID "4f1e8c3a9b2d7e6f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071"
#define POD "kubepods-besteffort-pod1b2c3d4e_5f6a_7b8c_9d0e_1f2a3b4c5d6e.slice"
        static const struct {
                const char *path, *rule;
        } engines[] = {
                { "machine.slice/libpod-" ID ".scope", "podman" },
                { "machine.slice/libpod-conmon-" ID ".scope", NULL },
                { "user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID ".scope",
                  "podman-rootless" },
                { "system.slice/docker-" ID ".scope", "docker" },
                { "system.slice/docker.service", NULL },
        }, kube[] = {
                { "kubepods.slice/kubepods-besteffort.slice/" POD "/cri-containerd-" ID ".scope",
                  "kube-containers" },
                { "kubepods.slice/kubepods-pod1b2c3d4e_5f6a.slice/cri-containerd-" ID ".scope",
                  "kube-containers" },
                { "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1b2c.slice/crio-"
                  ID ".scope", "kube-containers-crio" },
                { "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1b2c.slice/"
                  "crio-conmon-" ID ".scope", NULL },
                { "kubepods.slice/kubepods-besteffort.slice/" POD, NULL },
                { "kubepods.slice/kubepods-besteffort.slice", NULL },
                { "kubepods.slice", "kube-node" },
                { "kubepods/besteffort/pod1b2c3d4e-5f6a/" ID, "kube-containers-cgroupfs" },
                { "kubepods/pod1b2c3d4e-5f6a/" ID, "kube-containers-cgroupfs" },
                { "kubepods/burstable/pod1b2c3d4e-5f6a/crio-" ID, "kube-containers-crio-cgroupfs" },
                { "kubepods/burstable/pod1b2c3d4e-5f6a/crio-conmon-" ID, NULL },
                { "kubepods/burstable/pod1b2c3d4e-5f6a", NULL },
                { "kubepods", "kube-node-cgroupfs" },
        };
#undef ID
#undef POD
        struct cgsentry_config *c = NULL;
        const struct cgsentry_rule *r;

        assert_int_equal(cgsentry_config_load(SV_FIXTURES "/../../examples/containers.conf", stderr,
                                              &c), 0);
        for (size_t i = 0; i < sizeof(engines) / sizeof(engines[0]); i++) {
                r = cgsentry_config_match(c, engines[i].path);
                if (engines[i].rule ? !r || strcmp(r->name, engines[i].rule) : r != NULL)
                        fail_msg("%s: rule %s, expected %s", engines[i].path, r ? r->name : "none",
                                 engines[i].rule ? engines[i].rule : "none");
        }
        cgsentry_config_free(c);
        assert_int_equal(cgsentry_config_load(SV_FIXTURES "/../../packaging/kubernetes/cgsentry.conf",
                                              stderr, &c), 0);
        for (size_t i = 0; i < sizeof(kube) / sizeof(kube[0]); i++) {
                r = cgsentry_config_match(c, kube[i].path);
                if (kube[i].rule ? !r || strcmp(r->name, kube[i].rule) : r != NULL)
                        fail_msg("%s: rule %s, expected %s", kube[i].path, r ? r->name : "none",
                                 kube[i].rule ? kube[i].rule : "none");
        }
        r = cgsentry_config_match(c, "kubepods.slice");
        assert_string_equal(r->policy, "kubernetes");
        assert_true(cgsentry_node_enabled(r));
        cgsentry_config_free(c);
}

static void test_syntax_error_reported(void **state)
{
        struct cgsentry_config *c = NULL;
        char *errors = NULL;

        assert_int_equal(load("[Rule a]\nMatch=x\nthis is not ini\n", &errors, &c), -EINVAL);
        assert_non_null(strstr(errors, "test.conf:3: syntax error"));
        free(errors);
}

static void test_dropins_in_lexical_order_override(void **state)
{
        char dir[] = "/tmp/cgsentry-conf-XXXXXX", path[256], *errors = NULL;
        struct cgsentry_config *c = NULL;
        size_t len;
        FILE *f, *e;

        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/conf.d", dir);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof(path), "%s/conf.d/20-late.conf", dir);
        f = fopen(path, "w");
        fputs("[Rule a]\nCooldown=3s\n", f);
        fclose(f);
        snprintf(path, sizeof(path), "%s/conf.d/10-early.conf", dir);
        f = fopen(path, "w");
        fputs("[Rule a]\nCooldown=2s\n[Rule b]\nMatch=b.slice\n", f);
        fclose(f);
        snprintf(path, sizeof(path), "%s/conf.d/ignored.txt", dir);
        f = fopen(path, "w");
        fputs("garbage\n", f);
        fclose(f);
        snprintf(path, sizeof(path), "%s/cgsentry.conf", dir);
        f = fopen(path, "w");
        fputs("[Rule a]\nMatch=a.slice\nCooldown=1s\n", f);
        fclose(f);

        e = open_memstream(&errors, &len);
        assert_int_equal(cgsentry_config_load(path, e, &c), 0);
        fclose(e);
        assert_int_equal(c->n_rules, 2);
        assert_int_equal(c->rules[0].cooldown_usec, 3000000);
        assert_string_equal(c->rules[1].match, "b.slice");
        cgsentry_config_free(c);
        free(errors);
        assert_int_equal(system(NULL) != 0, 1);
        snprintf(path, sizeof(path), "rm -rf %s", dir);
        assert_int_equal(system(path), 0);
}

static void test_missing_file(void **state)
{
        struct cgsentry_config *c = NULL;
        char *errors = NULL;
        size_t len;
        FILE *e = open_memstream(&errors, &len);

        assert_int_equal(cgsentry_config_load("/nonexistent/cgsentry.conf", e, &c), -ENOENT);
        fclose(e);
        assert_non_null(strstr(errors, "/nonexistent/cgsentry.conf"));
        free(errors);
}

static void test_glob(void **state)
{
        assert_true(sv_glob_match("system.slice/*.service", "system.slice/nginx.service"));
        assert_true(sv_glob_match("system.slice/*.service", "/system.slice/nginx.service"));
        assert_false(sv_glob_match("system.slice/*.service", "system.slice/a/b.service"));
        assert_false(sv_glob_match("system.slice/*.service", "system.slice/nginx.socket"));
        assert_false(sv_glob_match("system.slice/*.service", "system.slice"));
        assert_true(sv_glob_match("machine.slice/**", "machine.slice/a"));
        assert_true(sv_glob_match("machine.slice/**", "machine.slice/a/b/c"));
        assert_true(sv_glob_match("machine.slice/**", "machine.slice"));
        assert_true(sv_glob_match("**/*.scope", "user.slice/user-1000.slice/a.scope"));
        assert_false(sv_glob_match("**/*.scope", "user.slice/user-1000.slice"));
        assert_true(sv_glob_match("work.slice/app", "work.slice/app"));
        assert_false(sv_glob_match("work.slice/app", "work.slice/app/x"));
}

/* Values whose conversion was undefined behaviour, or that silently
 * switched a trigger off, are refused with file:line and the accepted range. */
static void test_values_out_of_range_are_refused(void **state)
{
        static const struct {
                const char *line, *says;
        } bad[] = {
                { "Tripwire=nan%", "Tripwire=nan%: expected a percentage" },
                { "Tripwire=inf%", "Tripwire=inf%: expected a percentage" },
                { "Tripwire=0.001%", "from 0.01% to 99.99%" },
                { "Tripwire=-5%", "Tripwire=-5%: expected" },
                { "Tripwire=100%", "out of range: expected a percentage" },
                { "Tripwire=1e30%", "Tripwire=1e30%: expected" },
                { "Cooldown=inf", "Cooldown=inf: expected a duration" },
                { "Cooldown=nan", "Cooldown=nan: expected a duration" },
                { "Cooldown=1e30", "Cooldown=1e30: expected a duration" },
                { "Cooldown=99999999999999999999", "out of range" },
                { "Cooldown=2d", "Cooldown=2d: expected a duration" },
                { "Cooldown=25h", "out of range: expected a duration such as 10s, 500ms, 1.5s "
                                  "or 2min, from 0s to 24h" },
                { "KillSignal=SIGTERM:1e30,SIGKILL", "grace period 1e30: expected" },
                { "KillSignal=SIGTERM:11min,SIGKILL", "grace period 11min: out of range" },
                { "KillSignal=SIGTERM:0,SIGKILL", "from 1ms to 10min" },
                { "PressureStall=some nan% 2s", "PERCENT nan%: expected" },
                { "PressureStall=some 20% 11s", "WINDOW 11s: out of range" },
                { "PressureStall=some 20% 100ms", "from 500ms to 10s" },
                { "PressureStall=some 0% 2s", "PERCENT 0%: out of range" },
                { "Match=./x", "without '.' or '..' components" },
                { "Match=a/../b", "without '.' or '..' components" },
        };

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                struct cgsentry_config *c = NULL;
                char *errors = NULL, *text;

                assert_true(asprintf(&text, "[Rule r]\nMatch=a/*\n%s\n", bad[i].line) > 0);
                assert_int_equal(load(text, &errors, &c), -EINVAL);
                assert_null(c);
                if (!strstr(errors, "test.conf:3: ") || !strstr(errors, bad[i].says))
                        fail_msg("%s: got \"%s\", want test.conf:3 and \"%s\"", bad[i].line,
                                 errors, bad[i].says);
                free(errors);
                free(text);
        }
}

/* What inih would have silently changed is an error with file:line. */
static void test_ini_limits_are_errors(void **state)
{
        char text[1024], name[64];
        struct cgsentry_config *c = NULL;
        char *errors = NULL;

        /* A 228-byte comment ending in DryRun=yes: its tail used to become a key. */
        snprintf(text, sizeof(text), "[Rule r]\nMatch=a/*\n# %0*d DryRun=yes\n", 215, 0);
        assert_int_equal(load(text, &errors, &c), -EINVAL);
        assert_non_null(strstr(errors, "test.conf:3: line too long (228 bytes, at most 198)"));
        free(errors);

        /* Two rule names that agree in their first 50 bytes used to merge. */
        memset(name, 'x', 55);
        name[55] = '\0';
        snprintf(text, sizeof(text), "[Rule %s1]\nMatch=a/*\n[Rule %s2]\nMatch=b/*\n", name,
                 name);
        assert_int_equal(load(text, &errors, &c), -EINVAL);
        assert_non_null(strstr(errors, "test.conf:1: section name too long (at most 49 bytes)"));
        assert_non_null(strstr(errors, "test.conf:3: section name too long"));
        free(errors);

        /* An indented line used to continue the value above it. */
        assert_int_equal(load("[Rule r]\nMatch=a/*\n  DryRun=yes\n", &errors, &c), -EINVAL);
        assert_non_null(strstr(errors, "test.conf:3: indented line: continuation lines are not "
                                       "supported"));
        free(errors);
        /* Blank and indented comment lines are fine. */
        assert_int_equal(load("[Rule r]\n   \n  # indented comment\nMatch=a/*\n", &errors, &c),
                         0);
        cgsentry_config_free(c);
        free(errors);
}

/* -c DIRECTORY used to load as an empty configuration: "0 rules, OK". */
static void test_directory_is_not_a_configuration(void **state)
{
        struct cgsentry_config *c = NULL;
        char *errors = NULL, dir[] = "/tmp/cgsentry-confdirXXXXXX";
        size_t len;
        FILE *f = open_memstream(&errors, &len);

        assert_non_null(mkdtemp(dir));
        assert_int_equal(cgsentry_config_load(dir, f, &c), -EISDIR);
        fclose(f);
        assert_null(c);
        assert_non_null(strstr(errors, "is a directory, not a configuration file"));
        free(errors);
        rmdir(dir);
}

/* Found by fuzzing: many '**' took exponential time (the daemon matches
 * every directory event against every Match=). */
static void test_glob_many_globstars_is_fast(void **state)
{
        char pat[512] = "", path[512] = "";

        for (int i = 0; i < 60; i++)
                strcat(pat, "**/");
        strcat(pat, "x");
        for (int i = 0; i < 60; i++)
                strcat(path, "a/");
        strcat(path, "y");
        assert_false(sv_glob_match(pat, path)); /* returns at once */
        path[strlen(path) - 1] = 'x';
        assert_true(sv_glob_match(pat, path));
        assert_true(sv_glob_match("a/**/**", "a"));
        assert_true(sv_glob_match("**/b/**", "a/b/c/d"));
        assert_false(sv_glob_match("a/*", "a"));
}

static void test_values_in_range(void **state)
{
        struct cgsentry_config *c = NULL;
        char *errors = NULL;
        const struct cgsentry_rule *r;

        assert_int_equal(load("[Rule r]\nMatch=a/*\nTripwire=0.01%\nCooldown=1.5s\n"
                              "KillSignal=SIGTERM:250ms,SIGKILL\nPressureStall=full 100% 500ms\n",
                              &errors, &c),
                         0);
        r = &c->rules[0];
        assert_int_equal(r->tripwire_permyriad, 1);
        assert_int_equal(r->cooldown_usec, 1500000);
        assert_int_equal(r->term_grace_usec, 250000);
        assert_int_equal(r->pressure.window_usec, 500000);
        assert_int_equal(r->pressure.stall_usec, 500000);
        cgsentry_config_free(c);
        free(errors);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_full_rule),
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_policy_name_and_options),
                cmocka_unit_test(test_every_bad_line_is_reported_with_file_and_line),
                cmocka_unit_test(test_pressure_window_bounds),
                cmocka_unit_test(test_node_pressure_keys),
                cmocka_unit_test(test_shipped_container_rules),
                cmocka_unit_test(test_syntax_error_reported),
                cmocka_unit_test(test_dropins_in_lexical_order_override),
                cmocka_unit_test(test_missing_file),
                cmocka_unit_test(test_glob),
                cmocka_unit_test(test_values_out_of_range_are_refused),
                cmocka_unit_test(test_values_in_range),
                cmocka_unit_test(test_glob_many_globstars_is_fast),
                cmocka_unit_test(test_ini_limits_are_errors),
                cmocka_unit_test(test_directory_is_not_a_configuration),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
