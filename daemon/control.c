/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The control socket (default /run/cgsentry/control.sock): what
 * `cgsentry status` and `cgsentry metrics` ask the daemon. One request
 * per connection, one line of JSON each way, then the daemon closes:
 *
 *   -> {"method": "status"}            <- the status object (status.c)
 *   -> {"method": "status", "cgroup": "system.slice/web.service"}
 *   -> {"method": "metrics"}           <- {"schema": "cgsentry-metrics/1",
 *                                          "text": "<Prometheus text>"}
 *   <- on error: {"error": "EACCES", "message": "..."}
 *
 * Anyone may connect; only root, the daemon's own user and members of
 * ControlGroup= are answered (SO_PEERCRED, SO_PEERGROUPS), because the
 * answer names every supervised cgroup and what was killed in it. Nothing
 * here runs while nobody asks: a request's deadline timer exists only as
 * long as its connection.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "supervisor-internal.h"

/* Requests are tiny; anything longer is not ours. */
#define MAX_REQUEST 4096
/* Connections served at once; more are told to come back. */
#define MAX_CONNECTIONS 16
/* A client that does not send its request (or read its answer) in time
 * is dropped, so that it cannot hold a slot forever. */
#define DEADLINE_MSEC 10000

struct control {
        struct supervisor *sv;
        uv_pipe_t server;
        char *path;
        struct conn *conns;
        size_t n_conns;
        bool closing;
};

struct conn {
        struct control *ctl;
        struct conn *next, *prev;
        uv_pipe_t pipe;
        uv_timer_t deadline;
        int open_handles;
        char req[MAX_REQUEST];
        size_t len;
        bool answered; /* a reply is queued: ignore further input */
        bool one;      /* status of one group */
        struct collect *collect;
        uid_t uid;
};

bool control_peer_allowed(uid_t uid, gid_t gid, const gid_t *groups, size_t n_groups,
                          const char *control_group, gid_t control_gid, uid_t self)
{
        if (uid == 0 || uid == self)
                return true;
        if (!control_group)
                return false;
        if (gid == control_gid)
                return true;
        for (size_t i = 0; i < n_groups; i++)
                if (groups[i] == control_gid)
                        return true;
        return false;
}

static void conn_closed(uv_handle_t *h)
{
        struct conn *c = h->data;

        if (--c->open_handles == 0)
                free(c);
}

static void conn_close(struct conn *c)
{
        struct control *ctl = c->ctl;

        if (uv_is_closing((uv_handle_t *)&c->pipe))
                return;
        collect_cancel(c->collect);
        c->collect = NULL;
        if (c->prev)
                c->prev->next = c->next;
        else
                ctl->conns = c->next;
        if (c->next)
                c->next->prev = c->prev;
        ctl->n_conns--;
        uv_close((uv_handle_t *)&c->deadline, conn_closed);
        uv_close((uv_handle_t *)&c->pipe, conn_closed);
}

/* A reply on its way out; the connection closes once it is written. */
struct reply {
        uv_write_t w;
        char *text;
};

static void written(uv_write_t *w, int status)
{
        struct reply *rp = (struct reply *)w;
        struct conn *c = w->data;

        free(rp->text);
        free(rp);
        conn_close(c);
}

/* Queue @text (taken) as the reply. */
static void reply_text(struct conn *c, char *text)
{
        struct reply *rp = text ? malloc(sizeof(*rp)) : NULL;
        uv_buf_t buf;

        c->answered = true;
        uv_read_stop((uv_stream_t *)&c->pipe);
        if (!rp) {
                free(text);
                conn_close(c);
                return;
        }
        rp->text = text;
        rp->w.data = c;
        buf = uv_buf_init(text, (unsigned)strlen(text));
        if (uv_write(&rp->w, (uv_stream_t *)&c->pipe, &buf, 1, written) < 0) {
                free(text);
                free(rp);
                conn_close(c);
        }
}

static void reply_json(struct conn *c, json_object *o)
{
        const char *s = o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                                  JSON_C_TO_STRING_NOSLASHESCAPE)
                          : NULL;
        char *text = NULL;

        if (s && asprintf(&text, "%s\n", s) < 0)
                text = NULL;
        json_object_put(o);
        reply_text(c, text);
}

static void reply_error(struct conn *c, int e, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static void reply_error(struct conn *c, int e, const char *fmt, ...)
{
        json_object *o = json_object_new_object();
        const char *name = strerrorname_np(e);
        char msg[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        json_object_object_add(o, "error", json_object_new_string(name ? name : "EIO"));
        json_object_object_add(o, "message", json_object_new_string(msg));
        reply_json(c, o);
}

static void status_done(void *userdata, int error, const struct cgsentry_daemon_figures *d,
                        const struct cgsentry_group_figures *groups, size_t n)
{
        struct conn *c = userdata;
        json_object *o = NULL;

        c->collect = NULL; /* freed by the caller after this returns */
        if (c->one && n == 0) {
                reply_error(c, ENOENT, "the group went away while its status was read");
                return;
        }
        if (error < 0 || cgsentry_status_json(d, groups, n, c->one ? groups[0].cgroup : NULL,
                                              &o) < 0) {
                reply_error(c, ENOMEM, "out of memory");
                return;
        }
        reply_json(c, o);
}

static void metrics_done(void *userdata, int error, const struct cgsentry_daemon_figures *d,
                         const struct cgsentry_group_figures *groups, size_t n)
{
        struct conn *c = userdata;
        char *text = NULL;
        size_t len = 0;
        FILE *f;
        json_object *o;

        int r = error;

        c->collect = NULL;
        if (r == 0) {
                f = open_memstream(&text, &len);
                r = f ? cgsentry_metrics_render(f, d, groups, n) : -ENOMEM;
                if (f && fclose(f) != 0 && r == 0)
                        r = -ENOMEM;
        }
        if (r < 0) {
                free(text);
                reply_error(c, ENOMEM, "out of memory");
                return;
        }
        o = json_object_new_object();
        json_object_object_add(o, "schema", json_object_new_string("cgsentry-metrics/1"));
        json_object_object_add(o, "text", json_object_new_string_len(text, (int)len));
        free(text);
        reply_json(c, o);
}

static void handle_request(struct conn *c)
{
        struct supervisor *sv = c->ctl->sv;
        json_tokener *tok = json_tokener_new();
        json_object *req = NULL, *m = NULL, *cg = NULL;
        const char *method, *cgroup = NULL;
        int r;

        if (tok) {
                json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
                req = json_tokener_parse_ex(tok, c->req, (int)c->len);
                if (json_tokener_get_error(tok) != json_tokener_success)
                        req = NULL;
                json_tokener_free(tok);
        }
        if (!req || !json_object_is_type(req, json_type_object) ||
            !json_object_object_get_ex(req, "method", &m) ||
            !json_object_is_type(m, json_type_string)) {
                json_object_put(req);
                reply_error(c, EINVAL, "expected one line of JSON: {\"method\": \"status\"} or "
                                       "{\"method\": \"metrics\"}");
                return;
        }
        method = json_object_get_string(m);
        if (json_object_object_get_ex(req, "cgroup", &cg) && cg) {
                if (!json_object_is_type(cg, json_type_string)) {
                        json_object_put(req);
                        reply_error(c, EINVAL, "\"cgroup\" must be a string");
                        return;
                }
                cgroup = json_object_get_string(cg);
        }
        if (strcmp(method, "status") == 0) {
                char *shown = cgroup ? sv_escape_dup(cgroup) : NULL;
                c->one = cgroup != NULL;
                r = collect_start(sv, cgroup, status_done, c, &c->collect);
                if (r == -ENOENT)
                        reply_error(c, ENOENT, "/%s is not supervised by cgsentryd (no rule "
                                               "matches it, or it does not exist)",
                                    shown ? sv_rel(shown) : "?");
                else if (r < 0)
                        reply_error(c, -r, "cannot collect the status: %s", strerror(-r));
                free(shown);
        } else if (strcmp(method, "metrics") == 0) {
                r = collect_start(sv, NULL, metrics_done, c, &c->collect);
                if (r < 0)
                        reply_error(c, -r, "cannot collect the metrics: %s", strerror(-r));
        } else {
                char *shown = sv_escape_dup(method);
                reply_error(c, EOPNOTSUPP, "unknown method \"%s\"; expected status or metrics",
                            shown ? shown : "?");
                free(shown);
        }
        json_object_put(req);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
        struct conn *c = h->data;

        /* Read straight into the request buffer; one byte kept for the NUL. */
        *buf = uv_buf_init(c->req + c->len, (unsigned)(MAX_REQUEST - 1 - c->len));
}

static void read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
        struct conn *c = s->data;
        char *nl;

        if (c->answered)
                return;
        if (n == UV_EOF) {
                c->req[c->len] = '\0';
                handle_request(c);
                return;
        }
        if (n < 0) {
                conn_close(c);
                return;
        }
        c->len += (size_t)n;
        c->req[c->len] = '\0';
        nl = memchr(c->req, '\n', c->len);
        if (nl) {
                c->len = (size_t)(nl - c->req);
                *nl = '\0';
                uv_read_stop(s);
                handle_request(c);
        } else if (c->len >= MAX_REQUEST - 1) {
                reply_error(c, EMSGSIZE, "request longer than %d bytes", MAX_REQUEST - 1);
        }
}

static void deadline_cb(uv_timer_t *t)
{
        conn_close(t->data);
}

/* The peer's uid, gid and supplementary groups; -errno. */
static int peer(int fd, struct ucred *cred, gid_t *groups, size_t *n)
{
        socklen_t len = sizeof(*cred);
        socklen_t glen = (socklen_t)(*n * sizeof(*groups));

        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, &len) < 0)
                return -errno;
        /* SO_PEERGROUPS: 4.13+; without it, the primary group only. */
        if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &glen) < 0)
                glen = 0;
        *n = glen / sizeof(*groups);
        return 0;
}

static void on_connection(uv_stream_t *server, int status)
{
        struct control *ctl = server->data;
        struct supervisor *sv = ctl->sv;
        struct conn *c;
        struct ucred cred = {};
        gid_t groups[256];
        size_t n_groups = sizeof(groups) / sizeof(groups[0]);
        uv_os_fd_t fd;

        if (status < 0 || ctl->closing)
                return;
        c = calloc(1, sizeof(*c));
        if (!c)
                return;
        c->ctl = ctl;
        uv_pipe_init(sv->loop, &c->pipe, 0);
        uv_timer_init(sv->loop, &c->deadline);
        c->pipe.data = c->deadline.data = c;
        c->open_handles = 2;
        c->next = ctl->conns;
        if (ctl->conns)
                ctl->conns->prev = c;
        ctl->conns = c;
        ctl->n_conns++;
        if (uv_accept(server, (uv_stream_t *)&c->pipe) < 0) {
                conn_close(c);
                return;
        }
        uv_timer_start(&c->deadline, deadline_cb, DEADLINE_MSEC, 0);
        if (uv_fileno((uv_handle_t *)&c->pipe, &fd) < 0 ||
            peer(fd, &cred, groups, &n_groups) < 0) {
                conn_close(c);
                return;
        }
        c->uid = cred.uid;
        if (!control_peer_allowed(cred.uid, cred.gid, groups, n_groups, sv->cfg->control_group,
                                  sv->cfg->control_gid, geteuid())) {
                cgsentry_log(LOG_DEBUG, NULL, "control socket: refused uid %u (pid %d)",
                             (unsigned)cred.uid, (int)cred.pid);
                if (sv->cfg->control_group)
                        reply_error(c, EACCES, "permission denied: cgsentryd answers root and "
                                               "members of group %s only",
                                    sv->cfg->control_group);
                else
                        reply_error(c, EACCES, "permission denied: cgsentryd answers root only "
                                               "(ControlGroup= in its configuration names a "
                                               "group that may ask too)");
                return;
        }
        if (ctl->n_conns > MAX_CONNECTIONS) {
                reply_error(c, EBUSY, "busy: %d requests are running; try again",
                            MAX_CONNECTIONS);
                return;
        }
        uv_read_start((uv_stream_t *)&c->pipe, alloc_cb, read_cb);
}

/*
 * A socket file left by a daemon that died is removed; one another daemon
 * still answers on is not (two supervisors of one tree would fight over
 * memory.high): start without the socket and say why.
 */
static int clear_stale(const char *path)
{
        struct sockaddr_un a = { .sun_family = AF_UNIX };
        struct stat st;
        int fd, r;

        if (lstat(path, &st) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISSOCK(st.st_mode))
                return -EEXIST;
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
        r = connect(fd, (struct sockaddr *)&a, sizeof(a));
        close(fd);
        if (r == 0)
                return -EADDRINUSE;
        if (errno != ECONNREFUSED)
                return -errno;
        return unlink(path) < 0 ? -errno : 0;
}

static void server_closed(uv_handle_t *h)
{
        struct control *ctl = h->data;

        free(ctl->path);
        free(ctl);
}

int control_start(struct supervisor *sv, const char *path, struct control **ret)
{
        struct cgsentry_log_fields f = {};
        struct control *ctl;
        char *dir;
        int r;

        if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
                cgsentry_log(LOG_ERR, &f, "ControlSocket=%s: path too long for a socket", path);
                return -ENAMETOOLONG;
        }
        /* /run/cgsentry comes from RuntimeDirectory= under systemd; create it
         * (one level) when run otherwise. */
        dir = strdup(path);
        if (dir && strrchr(dir, '/') != dir) {
                *strrchr(dir, '/') = '\0';
                if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                        cgsentry_log(LOG_WARNING, &f, "cannot create %s: %m", dir);
        }
        free(dir);
        r = clear_stale(path);
        if (r < 0) {
                cgsentry_log(LOG_ERR, &f, "control socket %s: %s; cgsentry status and metrics "
                             "will not answer",
                             path, r == -EADDRINUSE ? "another cgsentryd answers on it"
                                   : r == -EEXIST   ? "exists and is not a socket"
                                                    : strerror(-r));
                return r;
        }
        ctl = calloc(1, sizeof(*ctl));
        if (!ctl || !(ctl->path = strdup(path))) {
                free(ctl);
                return -ENOMEM;
        }
        ctl->sv = sv;
        uv_pipe_init(sv->loop, &ctl->server, 0);
        ctl->server.data = ctl;
        r = uv_pipe_bind(&ctl->server, path);
        /* Everyone may connect: refusals are answered, not silent. */
        if (r == 0)
                r = uv_pipe_chmod(&ctl->server, UV_READABLE | UV_WRITABLE);
        if (r == 0)
                r = uv_listen((uv_stream_t *)&ctl->server, MAX_CONNECTIONS, on_connection);
        if (r < 0) {
                cgsentry_log(LOG_ERR, &f, "control socket %s: %s; cgsentry status and metrics "
                             "will not answer", path, uv_strerror(r));
                ctl->closing = true;
                uv_close((uv_handle_t *)&ctl->server, server_closed);
                return r;
        }
        *ret = ctl;
        return 0;
}

void control_stop(struct control *ctl)
{
        if (!ctl)
                return;
        ctl->closing = true;
        while (ctl->conns)
                conn_close(ctl->conns);
        (void)unlink(ctl->path);
        uv_close((uv_handle_t *)&ctl->server, server_closed);
}
