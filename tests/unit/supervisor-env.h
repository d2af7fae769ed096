/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A real supervisor on a copy of tests/fixtures/basic, with its kill calls
 * recorded instead of made (struct supervisor_kill_ops): shared by the
 * tests of the kill job and of the control socket. Include after cmocka.
 */
#ifndef CGSENTRY_TEST_SUPERVISOR_ENV_H
#define CGSENTRY_TEST_SUPERVISOR_ENV_H

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
        bool stuck;           /* the killed processes never go (D state) */
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
        return ((struct rec *)ud)->stuck;
}

static int rec_populated(void *ud, int root_fd, const char *path)
{
        return ((struct rec *)ud)->stuck;
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

/* @text with every "@DIR@" replaced by @dir (malloc'ed). */
static char *with_dir(const char *text, const char *dir)
{
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        const char *p;

        assert_non_null(f);
        while ((p = strstr(text, "@DIR@"))) {
                fwrite(text, 1, (size_t)(p - text), f);
                fputs(dir, f);
                text = p + 5;
        }
        fputs(text, f);
        fclose(f);
        return out;
}

/* A copy of the basic fixture (the supervisor writes memory.high) and a
 * supervisor on it with @rule_text as its only rule ("@DIR@" in it stands
 * for the copy's directory). */
static struct env *env_new(const char *rule_text)
{
        struct env *e = calloc(1, sizeof(*e));
        struct supervisor_opts so = { .embedded = true };
        struct cgsentry_config *cfg = NULL;
        char *cmd, *text;

        assert_non_null(e);
        snprintf(e->dir, sizeof(e->dir), "/tmp/sv-test-XXXXXX");
        assert_non_null(mkdtemp(e->dir));
        assert_true(asprintf(&cmd, "cp -a %s/basic/. %s/", SV_FIXTURES, e->dir) > 0);
        assert_int_equal(system(cmd), 0);
        free(cmd);
        cmd = with_dir(rule_text, e->dir);
        assert_true(asprintf(&text, "[Daemon]\nCgroupRoot=%s/cgroup\nProcRoot=%s/proc\n%s",
                             e->dir, e->dir, cmd) > 0);
        free(cmd);
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

static inline int count(const struct rec *r, const char *what, int sig)
{
        int n = 0;
        for (int i = 0; i < r->n; i++)
                if (strcmp(r->calls[i].what, what) == 0 && (!sig || r->calls[i].sig == sig))
                        n++;
        return n;
}

static inline bool opened(const struct rec *r, int pid)
{
        for (int i = 0; i < r->n; i++)
                if (strcmp(r->calls[i].what, "open") == 0 && r->calls[i].pid == pid)
                        return true;
        return false;
}

#endif
