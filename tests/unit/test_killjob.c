/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The supervisor's kill job on a fixture tree, with the kill calls recorded
 * instead of made (struct supervisor_kill_ops): no signal is sent. A real
 * supervisor watches a copy of tests/fixtures/basic, and supervisor_trigger()
 * fires the same path a memory.events or PSI event would.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "config.h"
#include "log.h"
#include "supervisor.h"

#define MAX_CALLS 64

struct call {
        char what[16]; /* "cgroup.kill", "freeze", "thaw", "open", "signal", "mrelease" */
        char path[128];
        int pid, sig;
};

struct rec {
        struct call calls[MAX_CALLS];
        int n;
        int fd_pid[1024];     /* pid behind each fake pidfd */
        int open_error;       /* pidfd_open fails with this (negative) when set */
        int kill_error;       /* cgroup.kill fails with this when set */
        int mrelease_einval;  /* answer -EINVAL this many times per pidfd first */
        int mrelease_seen[1024];
        bool proc_is_real;    /* every pidfd_open got this namespace's /proc */
        char *log;
        size_t log_len;
        FILE *logf;
};

static struct call *add(struct rec *r, const char *what)
{
        struct call *c = &r->calls[r->n < MAX_CALLS ? r->n++ : MAX_CALLS - 1];
        memset(c, 0, sizeof(*c));
        snprintf(c->what, sizeof(c->what), "%s", what);
        return c;
}

static int rec_cgroup_kill(void *ud, int root_fd, const char *path)
{
        struct rec *r = ud;
        snprintf(add(r, "cgroup.kill")->path, 128, "%s", path);
        return r->kill_error;
}

static int rec_freeze(void *ud, int root_fd, const char *path, bool freeze)
{
        snprintf(add(ud, freeze ? "freeze" : "thaw")->path, 128, "%s", path);
        return 0;
}

static int rec_pidfd_open(void *ud, int proc_fd, int pid, uint64_t starttime)
{
        struct rec *r = ud;
        char link[64], target[64] = "";
        int fd;

        snprintf(link, sizeof(link), "/proc/self/fd/%d", proc_fd);
        if (readlink(link, target, sizeof(target) - 1) < 0 || strcmp(target, "/proc") != 0)
                r->proc_is_real = false;
        add(r, "open")->pid = pid;
        if (r->open_error)
                return r->open_error;
        fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0 && fd < 1024);
        r->fd_pid[fd] = pid;
        r->mrelease_seen[fd] = 0;
        return fd;
}

static int rec_pidfd_signal(void *ud, int pidfd, int sig)
{
        struct rec *r = ud;
        struct call *c = add(r, "signal");
        c->pid = r->fd_pid[pidfd];
        c->sig = sig;
        return 0;
}

static int rec_mrelease(void *ud, int pidfd)
{
        struct rec *r = ud;
        add(r, "mrelease")->pid = r->fd_pid[pidfd];
        return r->mrelease_seen[pidfd]++ < r->mrelease_einval ? -EINVAL : 0;
}

static int rec_alive(void *ud, int pidfd)
{
        return 0;
}

static int rec_populated(void *ud, int root_fd, const char *path)
{
        return 0;
}

static const struct supervisor_kill_ops rec_ops = {
        .cgroup_kill = rec_cgroup_kill,
        .freeze = rec_freeze,
        .pidfd_open = rec_pidfd_open,
        .pidfd_signal = rec_pidfd_signal,
        .mrelease = rec_mrelease,
        .alive = rec_alive,
        .populated = rec_populated,
};

static void sink(void *ud, int priority, const struct cgsentry_log_fields *f, const char *msg)
{
        struct rec *r = ud;
        fprintf(r->logf, "%d %s\n", priority, msg);
        fflush(r->logf);
}

struct env {
        char dir[64];
        uv_loop_t loop;
        struct supervisor *sv;
        struct rec rec;
        struct supervisor_kill_ops ops;
};

/* A copy of the basic fixture (the supervisor writes memory.high) and a
 * supervisor on it with @rule_text as its only rule. */
static struct env *env_new(const char *rule_text)
{
        struct env *e = calloc(1, sizeof(*e));
        struct supervisor_opts so = { .embedded = true };
        struct cgsentry_config *cfg = NULL;
        char *cmd, *text;

        assert_non_null(e);
        snprintf(e->dir, sizeof(e->dir), "/tmp/sv-killjob-XXXXXX");
        assert_non_null(mkdtemp(e->dir));
        assert_true(asprintf(&cmd, "cp -a %s/basic/. %s/", SV_FIXTURES, e->dir) > 0);
        assert_int_equal(system(cmd), 0);
        free(cmd);
        assert_true(asprintf(&text, "[Daemon]\nCgroupRoot=%s/cgroup\nProcRoot=%s/proc\n%s",
                             e->dir, e->dir, rule_text) > 0);
        assert_int_equal(cgsentry_config_load_string(text, "test.conf", stderr, &cfg), 0);
        free(text);
        e->rec.proc_is_real = true;
        e->rec.logf = open_memstream(&e->rec.log, &e->rec.log_len);
        cgsentry_log_set_sink(sink, &e->rec);
        cgsentry_log_set_max_priority(LOG_INFO);
        e->ops = rec_ops;
        e->ops.userdata = &e->rec;
        so.kill_ops = &e->ops;
        assert_int_equal(uv_loop_init(&e->loop), 0);
        assert_int_equal(supervisor_new(&e->loop, &so, cfg, &e->sv), 0);
        assert_int_equal(supervisor_start(e->sv), 0);
        return e;
}

static void env_free(struct env *e)
{
        char *cmd;

        supervisor_stop(e->sv);
        uv_run(&e->loop, UV_RUN_DEFAULT);
        supervisor_free(e->sv);
        assert_int_equal(uv_loop_close(&e->loop), 0);
        cgsentry_log_set_sink(NULL, NULL);
        fclose(e->rec.logf);
        free(e->rec.log);
        assert_true(asprintf(&cmd, "rm -rf %s", e->dir) > 0);
        assert_int_equal(system(cmd), 0);
        free(cmd);
        free(e);
}

/* Run the loop for about @ms milliseconds (timers: grace, confirm). */
static void run_for(struct env *e, unsigned ms)
{
        uint64_t end;

        uv_update_time(&e->loop);
        end = uv_now(&e->loop) + ms;
        while (uv_now(&e->loop) < end) {
                uv_run(&e->loop, UV_RUN_NOWAIT);
                usleep(2000);
                uv_update_time(&e->loop);
        }
}

static int count(const struct rec *r, const char *what, int sig)
{
        int n = 0;
        for (int i = 0; i < r->n; i++)
                if (strcmp(r->calls[i].what, what) == 0 && (!sig || r->calls[i].sig == sig))
                        n++;
        return n;
}

static bool opened(const struct rec *r, int pid)
{
        for (int i = 0; i < r->n; i++)
                if (strcmp(r->calls[i].what, "open") == 0 && r->calls[i].pid == pid)
                        return true;
        return false;
}

static const struct sv_trigger tripwire = { .kind = SV_TRIGGER_TRIPWIRE,
                                            .memory_max = 268435456, .permyriad = 9000 };

/* OOMGroup= widens to the matched group; -1000 members are spared, so the
 * kill is per process (cgroup.kill spares nobody), and nothing is sent to
 * a spared one. */
static void test_oom_group_kill_spares_adj_min(void **state)
{
        struct env *e = env_new("[Rule app]\nMatch=work.slice/app\nOOMGroup=yes\n");
        static const int killed[] = { 100, 201, 300, 301, 302, 400 };

        assert_int_equal(supervisor_trigger(e->sv, "work.slice/app", &tripwire), 1);
        for (size_t i = 0; i < sizeof(killed) / sizeof(killed[0]); i++)
                assert_true(opened(&e->rec, killed[i]));
        assert_false(opened(&e->rec, 200));
        assert_false(opened(&e->rec, 303));
        assert_int_equal(count(&e->rec, "cgroup.kill", 0), 0);
        assert_int_equal(count(&e->rec, "signal", SIGKILL), 6);
        assert_int_equal(supervisor_n_kills(e->sv), 1);
        assert_non_null(strstr(e->rec.log, "4 tripwire: /work.slice/app "));
        assert_non_null(strstr(e->rec.log, "; killing 6 processes of /work.slice/app (rule app, "
                                           "policy kernel; OOMGroup=yes)"));
        assert_non_null(strstr(e->rec.log, "sparing pid 200 (postgres) in /work.slice/app/db: "
                                           "oom_score_adj -1000"));
        /* The pid identity check always reads this namespace's /proc, never
         * the ProcRoot= of the configuration. */
        assert_true(e->rec.proc_is_real);
        env_free(e);
}

/* Nobody to spare: one write of cgroup.kill; memory returned by pidfd. */
static void test_cgroup_kill_when_nobody_is_spared(void **state)
{
        struct env *e = env_new("[Rule w]\nMatch=work.slice/app/web/worker\nOOMGroup=yes\n");

        assert_int_equal(supervisor_trigger(e->sv, "work.slice/app/web/worker", &tripwire), 1);
        assert_int_equal(count(&e->rec, "cgroup.kill", 0), 1);
        assert_string_equal(e->rec.calls[1].path, "work.slice/app/web/worker");
        assert_int_equal(count(&e->rec, "signal", 0), 0);
        assert_int_equal(count(&e->rec, "mrelease", 0), 1);
        env_free(e);
}

/* cgroup.kill refused (EPERM): said, then done by hand, frozen meanwhile. */
static void test_cgroup_kill_failure_falls_back(void **state)
{
        struct env *e = env_new("[Rule w]\nMatch=work.slice/app/web/worker\nOOMGroup=yes\n");

        e->rec.kill_error = -EPERM;
        assert_int_equal(supervisor_trigger(e->sv, "work.slice/app/web/worker", &tripwire), 1);
        assert_int_equal(count(&e->rec, "cgroup.kill", 0), 1);
        assert_int_equal(count(&e->rec, "freeze", 0), 1);
        assert_int_equal(count(&e->rec, "signal", SIGKILL), 1);
        assert_int_equal(count(&e->rec, "thaw", 0), 1);
        assert_non_null(strstr(e->rec.log, "cannot write /work.slice/app/web/worker/cgroup.kill: "
                                           "Operation not permitted; killing process by process"));
        assert_int_equal(supervisor_n_kills(e->sv), 1);
        env_free(e);
}

/* Protect= spares exactly the protected group's processes. */
static void test_protect(void **state)
{
        struct env *e = env_new("[Rule app]\nMatch=work.slice/app\nOOMGroup=yes\n"
                                "Protect=work.slice/app/db\n");

        assert_int_equal(supervisor_trigger(e->sv, "work.slice/app", &tripwire), 1);
        assert_false(opened(&e->rec, 200));
        assert_false(opened(&e->rec, 201));
        assert_true(opened(&e->rec, 100));
        assert_true(opened(&e->rec, 301));
        assert_non_null(strstr(e->rec.log, "sparing pid 201 (postgres) in /work.slice/app/db: "
                                           "Protect="));
        env_free(e);
}

/* DryRun= decides and says so, and calls nothing. */
static void test_dry_run_kills_nothing(void **state)
{
        struct env *e = env_new("[Rule app]\nMatch=work.slice/app\nOOMGroup=yes\nDryRun=yes\n");

        assert_int_equal(supervisor_trigger(e->sv, "work.slice/app", &tripwire), 1);
        assert_int_equal(e->rec.n, 0);
        assert_non_null(strstr(e->rec.log, "dry run: tripwire: /work.slice/app "));
        assert_non_null(strstr(e->rec.log, "; would kill 6 processes of /work.slice/app"));
        assert_int_equal(supervisor_n_kills(e->sv), 0);
        env_free(e);
}

/* The memory.oom.group of web widens the kernel's victim, as the kernel does. */
static void test_memory_oom_group_widens(void **state)
{
        struct env *e = env_new("[Rule app]\nMatch=work.slice/app\n");

        assert_int_equal(supervisor_trigger(e->sv, "work.slice/app", &tripwire), 1);
        assert_true(opened(&e->rec, 300) && opened(&e->rec, 301) && opened(&e->rec, 302) &&
                    opened(&e->rec, 400));
        assert_false(opened(&e->rec, 100));
        assert_non_null(strstr(e->rec.log, "killing 4 processes of /work.slice/app/web (rule app, "
                                           "policy kernel; memory.oom.group is set)"));
        env_free(e);
}

/* After a kernel OOM kill: the rest of the group, sparing -1000. */
static void test_kernel_kill_completion(void **state)
{
        struct env *e = env_new("[Rule app]\nMatch=work.slice/app\nOnKernelOOMKill=group-kill\n");
        struct sv_trigger t = { .kind = SV_TRIGGER_KERNEL_OOM_KILL, .oom_kill = 1 };

        assert_int_equal(supervisor_trigger(e->sv, "work.slice/app", &t), 1);
        assert_false(opened(&e->rec, 200));
        assert_false(opened(&e->rec, 303));
        assert_int_equal(count(&e->rec, "open", 0), 6);
        assert_non_null(strstr(e->rec.log, "kernel-oom-kill: /work.slice/app the kernel's OOM "
                                           "killer killed a process in this group"));
        env_free(e);
}

/* KillSignal=SIGTERM:GRACE,SIGKILL: SIGTERM now, SIGKILL after the grace. */
static void test_grace_period(void **state)
{
        struct env *e = env_new("[Rule w]\nMatch=work.slice/app/web\nOOMGroup=yes\n"
                                "KillSignal=SIGTERM:50ms,SIGKILL\n");

        assert_int_equal(supervisor_trigger(e->sv, "work.slice/app/web", &tripwire), 1);
        assert_int_equal(count(&e->rec, "signal", SIGTERM), 4); /* web but its guard */
        assert_int_equal(count(&e->rec, "signal", SIGKILL), 0);
        run_for(e, 150);
        assert_int_equal(count(&e->rec, "signal", SIGKILL), 4);
        env_free(e);
}

/* A second trigger within Cooldown= is ignored. */
static void test_cooldown(void **state)
{
        struct env *e = env_new("[Rule app]\nMatch=work.slice/app\nCooldown=10s\n");
        int n;

        assert_int_equal(supervisor_trigger(e->sv, "work.slice/app", &tripwire), 1);
        run_for(e, 60); /* the kill is confirmed; the cooldown goes on */
        n = e->rec.n;
        assert_int_equal(supervisor_trigger(e->sv, "work.slice/app", &tripwire), 0);
        assert_int_equal(e->rec.n, n);
        assert_int_equal(supervisor_n_kills(e->sv), 1);
        env_free(e);
}

/* process_mrelease() says EINVAL until the SIGKILL is delivered: retried
 * from the confirm timer, never by sleeping in the loop. */
static void test_mrelease_retried_from_the_timer(void **state)
{
        struct env *e = env_new("[Rule w]\nMatch=work.slice/app/web/worker\nOOMGroup=yes\n");

        e->rec.mrelease_einval = 1;
        assert_int_equal(supervisor_trigger(e->sv, "work.slice/app/web/worker", &tripwire), 1);
        assert_int_equal(count(&e->rec, "mrelease", 0), 1);
        run_for(e, 60);
        assert_int_equal(count(&e->rec, "mrelease", 0), 2);
        env_free(e);
}

/* Every process gone before it could be pinned: not a kill, not logged as
 * one. */
static void test_failed_setup_is_not_a_kill(void **state)
{
        struct env *e = env_new("[Rule app]\nMatch=work.slice/app\nOOMGroup=yes\n");

        e->rec.open_error = -ESRCH;
        assert_int_equal(supervisor_trigger(e->sv, "work.slice/app", &tripwire), -ESRCH);
        assert_int_equal(supervisor_n_kills(e->sv), 0);
        assert_int_equal(count(&e->rec, "signal", 0), 0);
        assert_non_null(strstr(e->rec.log, "could not start the kill of 6 processes"));
        assert_null(strstr(e->rec.log, "; killing"));
        /* and no cooldown: the next trigger is decided afresh */
        e->rec.open_error = 0;
        assert_int_equal(supervisor_trigger(e->sv, "work.slice/app", &tripwire), 1);
        env_free(e);
}

static void test_unknown_group(void **state)
{
        struct env *e = env_new("[Rule app]\nMatch=work.slice/app\n");

        assert_int_equal(supervisor_trigger(e->sv, "idle.slice", &tripwire), -ENOENT);
        env_free(e);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_oom_group_kill_spares_adj_min),
                cmocka_unit_test(test_cgroup_kill_when_nobody_is_spared),
                cmocka_unit_test(test_cgroup_kill_failure_falls_back),
                cmocka_unit_test(test_protect),
                cmocka_unit_test(test_dry_run_kills_nothing),
                cmocka_unit_test(test_memory_oom_group_widens),
                cmocka_unit_test(test_kernel_kill_completion),
                cmocka_unit_test(test_grace_period),
                cmocka_unit_test(test_cooldown),
                cmocka_unit_test(test_mrelease_retried_from_the_timer),
                cmocka_unit_test(test_failed_setup_is_not_a_kill),
                cmocka_unit_test(test_unknown_group),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
