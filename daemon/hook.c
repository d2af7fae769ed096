/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ExecBeforeKill= and ExecAfterKill=: an operator's program run with a
 * kill's facts in its environment (a page to the on-call, a desktop
 * notification, a Kubernetes Event). A hook never delays a kill: it is
 * started with uv_spawn() and forgotten until it exits; ExecAfterKill=
 * starts after the signals went out, and ExecBeforeKill= only exists with
 * a grace period, whose end sends SIGKILL whatever the hook is doing.
 *
 * What runs as root must be trusted as a policy plugin is (root-owned,
 * nobody else can write it or a directory above it); anything else is
 * refused with a message. The hook gets a clean environment (no
 * NOTIFY_SOCKET or JOURNAL_STREAM of ours), /dev/null as stdin, its
 * output line by line in our log, its own session (so a timeout kills
 * whatever it started), and oom_score_adj 0 rather than our -1000.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "supervisor-internal.h"
#include "util.h"

/* Hooks running at once: a kill storm must not become a fork storm. */
#define MAX_HOOKS 16
/* Output lines logged per run; the rest is counted, not logged. */
#define MAX_LINES 64
#define LINE_MAX_BYTES 1024

struct hook {
        struct supervisor *sv;
        struct hook *next, *prev;
        uint64_t id;
        uv_process_t proc;
        uv_pipe_t out;
        uv_timer_t timer;
        int open_handles;
        bool out_open;
        bool exited, timed_out, stopped;
        int64_t status;
        int term_signal;
        uint64_t started_ms;
        char *name;   /* argv[0], escaped */
        char *event;  /* "before-kill", "after-kill" */
        char *cgroup; /* escaped */
        char *rule;
        char line[LINE_MAX_BYTES];
        size_t len;
        unsigned lines, dropped;
        hook_exit_fn on_exit;
        void *userdata;
};

static char *env_entry(const char *key, const char *value)
{
        char *s = NULL;

        return asprintf(&s, "%s=%s", key, value ? value : "") < 0 ? NULL : s;
}

static char *env_u64(const char *key, uint64_t v)
{
        char buf[32];

        if (v == SV_LIMIT_MAX)
                return env_entry(key, "max");
        snprintf(buf, sizeof(buf), "%" PRIu64, v);
        return env_entry(key, buf);
}

char **hook_environment(const struct hook_facts *f)
{
        char *cg = sv_escape_dup(f->cgroup ? f->cgroup : "");
        char *kcg = sv_escape_dup(f->kill_cgroup ? f->kill_cgroup : "");
        char *comm = sv_escape_dup(f->victim_comm ? f->victim_comm : "");
        char buf[32];
        char *e[] = {
                env_entry("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
                env_entry("LANG", "C.UTF-8"),
                env_entry("CGSENTRY_EVENT", f->event),
                env_entry("CGSENTRY_CGROUP", cg),
                env_entry("CGSENTRY_KILL_CGROUP", kcg),
                env_entry("CGSENTRY_RULE", f->rule),
                env_entry("CGSENTRY_POLICY", f->policy),
                env_entry("CGSENTRY_TRIGGER", f->trigger),
                env_entry("CGSENTRY_REASON", f->why),
                (snprintf(buf, sizeof(buf), "%d", f->victim_pid), env_entry("CGSENTRY_VICTIM_PID",
                                                                            f->victim_pid > 0
                                                                                    ? buf
                                                                                    : "")),
                env_entry("CGSENTRY_VICTIM_COMM", comm),
                env_entry("CGSENTRY_KILLED_PIDS", f->killed_pids),
                env_u64("CGSENTRY_PROCESSES", f->n_processes),
                env_u64("CGSENTRY_MEMORY_CURRENT", f->memory_current),
                env_u64("CGSENTRY_MEMORY_MAX", f->memory_max),
                env_u64("CGSENTRY_MEMORY_HIGH", f->memory_high),
                env_u64("CGSENTRY_SWAP_CURRENT", f->swap_current),
                env_u64("CGSENTRY_KILL_ID", f->kill_id),
        };
        size_t n = sizeof(e) / sizeof(e[0]);
        char **v = calloc(n + 1, sizeof(*v));
        bool ok = v && cg && kcg && comm;

        for (size_t i = 0; i < n; i++)
                ok = ok && e[i];
        if (!ok) {
                for (size_t i = 0; i < n; i++)
                        free(e[i]);
                free(v);
                v = NULL;
        } else {
                memcpy(v, e, n * sizeof(*v));
        }
        free(cg);
        free(kcg);
        free(comm);
        return v;
}

static void log_fields(struct hook *h, struct cgsentry_log_fields *f)
{
        *f = (struct cgsentry_log_fields){ .cgroup = h->cgroup, .rule = h->rule };
}

static void hook_closed(uv_handle_t *handle)
{
        struct hook *h = handle->data;

        if (--h->open_handles > 0)
                return;
        free(h->name);
        free(h->event);
        free(h->cgroup);
        free(h->rule);
        free(h);
}

/* Unlink and close once the process exited and its output ended. */
static void maybe_done(struct hook *h)
{
        struct supervisor *sv = h->sv;
        struct cgsentry_log_fields f;
        uint64_t took;

        if (!h->exited || h->out_open)
                return;
        log_fields(h, &f);
        if (h->dropped)
                cgsentry_log(LOG_INFO, &f, "%s hook %s: %u more lines of output not logged",
                             h->event, h->name, h->dropped);
        took = uv_now(sv->loop) - h->started_ms;
        if (h->stopped) {
                cgsentry_log(LOG_NOTICE, &f, "%s hook %s for /%s stopped with cgsentryd after "
                             "%" PRIu64 " ms", h->event, h->name, h->cgroup, took);
        } else if (h->timed_out) {
                sv->stats.hooks_timed_out++;
                cgsentry_log(LOG_WARNING, &f, "%s hook %s for /%s killed at its deadline after "
                             "%" PRIu64 " ms", h->event, h->name, h->cgroup, took);
        } else if (h->term_signal) {
                sv->stats.hooks_failed++;
                cgsentry_log(LOG_WARNING, &f, "%s hook %s for /%s killed by %s after %" PRIu64
                             " ms", h->event, h->name, h->cgroup, strsignal(h->term_signal),
                             took);
        } else if (h->status) {
                sv->stats.hooks_failed++;
                cgsentry_log(LOG_WARNING, &f, "%s hook %s for /%s failed with status %" PRId64
                             " after %" PRIu64 " ms", h->event, h->name, h->cgroup, h->status,
                             took);
        } else {
                cgsentry_log(LOG_INFO, &f, "%s hook %s for /%s done in %" PRIu64 " ms", h->event,
                             h->name, h->cgroup, took);
        }
        if (h->prev)
                h->prev->next = h->next;
        else
                sv->hooks = h->next;
        if (h->next)
                h->next->prev = h->prev;
        sv->n_hooks--;
        if (h->on_exit)
                h->on_exit(sv, h->id, h->userdata);
        uv_close((uv_handle_t *)&h->proc, hook_closed);
        uv_close((uv_handle_t *)&h->timer, hook_closed);
}

static void flush_line(struct hook *h)
{
        struct cgsentry_log_fields f;

        if (!h->len)
                return;
        h->line[h->len] = '\0';
        h->len = 0;
        if (h->lines >= MAX_LINES) {
                h->dropped++;
                return;
        }
        h->lines++;
        log_fields(h, &f);
        /* The log escapes control bytes and invalid UTF-8 (log.c). */
        cgsentry_log(LOG_INFO, &f, "%s hook %s: %s", h->event, h->name, h->line);
}

static void out_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
        static char scratch[4096];

        /* Copied into the line buffer in out_read(), never kept. */
        *buf = uv_buf_init(scratch, sizeof(scratch));
}

static void out_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
        struct hook *h = s->data;

        if (n < 0) {
                flush_line(h);
                h->out_open = false;
                uv_close((uv_handle_t *)&h->out, hook_closed);
                maybe_done(h);
                return;
        }
        for (ssize_t i = 0; i < n; i++) {
                char ch = buf->base[i];
                if (ch == '\n') {
                        flush_line(h);
                        continue;
                }
                if (h->len == sizeof(h->line) - 1)
                        flush_line(h); /* an over-long line is logged in pieces */
                h->line[h->len++] = ch;
        }
}

static void on_exit_cb(uv_process_t *p, int64_t status, int term_signal)
{
        struct hook *h = p->data;

        h->exited = true;
        h->status = status;
        h->term_signal = h->timed_out ? 0 : term_signal;
        uv_timer_stop(&h->timer);
        maybe_done(h);
}

static void deadline(uv_timer_t *t)
{
        struct hook *h = t->data;

        h->timed_out = true;
        /* Its own session: the group id is its pid; take what it started too. */
        (void)kill(-h->proc.pid, SIGKILL);
        (void)kill(h->proc.pid, SIGKILL);
}

/* Not our -1000: a hook that leaks memory must be killable. */
static void reset_oom_score_adj(int pid)
{
        char path[64];
        int fd;

        snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", pid);
        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
                (void)!write(fd, "0", 1);
                close(fd);
        }
}

static char *dir_of(const char *path, const char **base)
{
        char *copy = strdup(path), *slash;

        if (!copy)
                return NULL;
        slash = strrchr(copy, '/');
        *base = path + (slash - copy) + 1;
        if (slash == copy)
                slash[1] = '\0';
        else
                *slash = '\0';
        return copy;
}

uint64_t hook_start(struct supervisor *sv, char *const *argv, const struct hook_facts *facts,
                    uint64_t timeout_usec, hook_exit_fn on_exit, void *userdata)
{
        struct cgsentry_log_fields f = { .cgroup = NULL, .rule = facts->rule };
        uv_process_options_t o = {};
        uv_stdio_container_t stdio[3];
        struct sv_error err = {};
        struct hook *h = NULL;
        char **env = NULL, *dir = NULL, *shown = sv_escape_dup(facts->cgroup ? facts->cgroup : "");
        const char *base = NULL;
        int pipefd[2] = { -1, -1 }, fd, r;
        uint64_t id = 0;

        f.cgroup = shown;
        if (sv->n_hooks >= MAX_HOOKS) {
                sv->stats.hooks_refused++;
                cgsentry_log(LOG_WARNING, &f, "%s hook %s for /%s not started: %d hooks are "
                             "still running", facts->event, argv[0], shown ? shown : "?",
                             MAX_HOOKS);
                goto out;
        }
        dir = dir_of(argv[0], &base);
        fd = dir ? sv__open_trusted(dir, base, argv[0], "run", "hook", &err) : -ENOMEM;
        if (fd < 0) {
                sv->stats.hooks_refused++;
                cgsentry_log(LOG_ERR, &f, "%s hook for /%s not started: %s: %s", facts->event,
                             shown ? shown : "?", argv[0], err.what[0] ? err.what : strerror(-fd));
                goto out;
        }
        close(fd);
        h = calloc(1, sizeof(*h));
        env = hook_environment(facts);
        if (!h || !env || !shown || !(h->name = sv_escape_dup(argv[0])) ||
            !(h->event = strdup(facts->event)) || !(h->rule = strdup(facts->rule ?: "")) ||
            pipe2(pipefd, O_CLOEXEC) < 0) {
                cgsentry_log(LOG_ERR, &f, "%s hook %s not started: %s", facts->event, argv[0],
                             strerror(errno ? errno : ENOMEM));
                goto fail;
        }
        h->cgroup = shown;
        shown = NULL;
        h->sv = sv;
        h->on_exit = on_exit;
        h->userdata = userdata;
        stdio[0].flags = UV_IGNORE;
        stdio[1].flags = stdio[2].flags = UV_INHERIT_FD;
        stdio[1].data.fd = stdio[2].data.fd = pipefd[1];
        o.file = argv[0];
        o.args = (char **)argv;
        o.env = env;
        o.cwd = "/";
        o.stdio = stdio;
        o.stdio_count = 3;
        o.flags = UV_PROCESS_DETACHED;
        o.exit_cb = on_exit_cb;
        h->proc.data = h;
        r = uv_spawn(sv->loop, &h->proc, &o);
        close(pipefd[1]);
        pipefd[1] = -1;
        if (r < 0) {
                sv->stats.hooks_failed++;
                cgsentry_log(LOG_ERR, &f, "%s hook %s for /%s could not start: %s", facts->event,
                             h->name, h->cgroup, uv_strerror(r));
                /* libuv needs the handle closed even when spawning failed. */
                h->open_handles = 1;
                uv_close((uv_handle_t *)&h->proc, hook_closed);
                h = NULL;
                goto fail;
        }
        reset_oom_score_adj(h->proc.pid);
        h->open_handles = 3;
        h->out_open = true;
        uv_pipe_init(sv->loop, &h->out, 0);
        h->out.data = h;
        uv_pipe_open(&h->out, pipefd[0]);
        pipefd[0] = -1;
        uv_read_start((uv_stream_t *)&h->out, out_alloc, out_read);
        uv_timer_init(sv->loop, &h->timer);
        h->timer.data = h;
        uv_timer_start(&h->timer, deadline, timeout_usec / 1000 ? timeout_usec / 1000 : 1, 0);
        h->started_ms = uv_now(sv->loop);
        h->id = id = ++sv->next_hook_id;
        h->next = sv->hooks;
        if (sv->hooks)
                sv->hooks->prev = h;
        sv->hooks = h;
        sv->n_hooks++;
        sv->stats.hooks_started++;
        cgsentry_log(LOG_INFO, &f, "%s hook %s started for /%s (pid %d)", facts->event, h->name,
                     h->cgroup, h->proc.pid);
        h = NULL;
fail:
        if (pipefd[0] >= 0)
                close(pipefd[0]);
        if (pipefd[1] >= 0)
                close(pipefd[1]);
        if (h) {
                free(h->name);
                free(h->event);
                free(h->rule);
                free(h->cgroup);
                free(h);
        }
out:
        cgsentry_strv_free(env);
        free(dir);
        free(shown);
        return id;
}

void hook_forget(struct supervisor *sv, uint64_t id)
{
        for (struct hook *h = sv->hooks; h; h = h->next)
                if (h->id == id) {
                        h->on_exit = NULL;
                        return;
                }
}

void hook_stop_all(struct supervisor *sv)
{
        for (struct hook *h = sv->hooks; h; h = h->next) {
                h->on_exit = NULL;
                if (!h->exited) {
                        deadline(&h->timer);
                        h->stopped = true;
                }
        }
}
