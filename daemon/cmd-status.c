/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cgsentry status and cgsentry metrics: ask the running daemon over its
 * control socket (control.c has the protocol). The text of `status` is
 * rendered here from the JSON reply; --json prints the reply itself.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cgsentry.h"
#include "config.h"
#include "status-text.h"
#include "util.h"

/* Replies are a few hundred bytes per group: allow for 100,000 groups. */
#define MAX_REPLY (256u << 20)
/* The daemon answers within one loop pass per 64 groups; a dead or wedged
 * one must not hang a script. */
#define TIMEOUT_MSEC 30000

static void status_usage(FILE *out)
{
        fputs("Usage: cgsentry status [OPTIONS] [CGROUP]\n"
              "\n"
              "Ask the running cgsentryd what it supervises and what it did: the daemon\n"
              "(version, uptime, configuration, kills by trigger), each supervised group\n"
              "(rule, policy, armed triggers, memory.current / max / peak, PSI, memory.events\n"
              "counters, last kill) and the recent kills. With CGROUP (\"system.slice/x\",\n"
              "a leading / or the /sys/fs/cgroup prefix allowed), that group in detail.\n"
              "\n"
              "Options:\n"
              "  --json          print the daemon's reply (one JSON object, cgsentry-status/1)\n"
              "  --socket PATH   control socket (default " CGSENTRY_CONTROL_SOCKET_DEFAULT ")\n"
              "  -h, --help      show this help\n"
              "\n"
              "Exit status: 0 answered; 1 CGROUP is not supervised; 2 error (refused, bad\n"
              "usage); 3 cgsentryd is not running (no socket, or nobody answers).\n",
              out);
}

static void metrics_usage(FILE *out)
{
        fputs("Usage: cgsentry metrics [OPTIONS]\n"
              "\n"
              "Print the running cgsentryd's metrics in the Prometheus text format: kills by\n"
              "trigger, rule and policy, the reaction-time histogram, supervised groups,\n"
              "per-group memory and pressure, and the daemon's own memory and CPU. For\n"
              "node_exporter's textfile collector, see MetricsTextfile= in cgsentry.conf(5).\n"
              "\n"
              "Options:\n"
              "  --socket PATH   control socket (default " CGSENTRY_CONTROL_SOCKET_DEFAULT ")\n"
              "  -h, --help      show this help\n"
              "\n"
              "Exit status: 0 answered; 2 error (refused, bad usage); 3 cgsentryd is not\n"
              "running.\n",
              out);
}

static int64_t now_msec(void)
{
        return sv__clock_usec(CLOCK_MONOTONIC) / 1000;
}

/* Send @request, read the whole reply into *ret. -errno; the caller
 * explains ENOENT/ECONNREFUSED (not running) and the rest. */
static int ask(const char *path, const char *request, char **ret)
{
        struct sockaddr_un a = { .sun_family = AF_UNIX };
        size_t len = 0, cap = 0, sent = 0, n = strlen(request);
        int64_t deadline = now_msec() + TIMEOUT_MSEC;
        char *buf = NULL;
        int fd, r = 0;

        if (strlen(path) >= sizeof(a.sun_path))
                return -ENAMETOOLONG;
        snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
                r = -errno;
                goto out;
        }
        while (sent < n) {
                ssize_t w = send(fd, request + sent, n - sent, MSG_NOSIGNAL);
                if (w < 0) {
                        r = -errno;
                        goto out;
                }
                sent += (size_t)w;
        }
        (void)shutdown(fd, SHUT_WR);
        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                int64_t left = deadline - now_msec();
                ssize_t got;

                if (left <= 0 || poll(&p, 1, (int)left) == 0) {
                        r = -ETIMEDOUT;
                        goto out;
                }
                if (len + 65536 + 1 > cap) {
                        char *nb;
                        cap = cap ? cap * 2 : 65536 * 2;
                        if (cap > MAX_REPLY || !(nb = realloc(buf, cap))) {
                                r = cap > MAX_REPLY ? -EMSGSIZE : -ENOMEM;
                                goto out;
                        }
                        buf = nb;
                }
                got = read(fd, buf + len, cap - len - 1);
                if (got < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        goto out;
                }
                if (got == 0)
                        break;
                len += (size_t)got;
        }
        if (!buf) {
                r = -ECONNRESET;
                goto out;
        }
        buf[len] = '\0';
        *ret = buf;
        buf = NULL;
out:
        free(buf);
        close(fd);
        return r;
}

/* Ask and parse; on failure, say why on stderr and return the exit status. */
static int request(const char *cmd, const char *path, json_object *req, json_object **ret)
{
        const char *text = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
        char *line = NULL, *reply = NULL;
        json_object *o, *err;
        int r;

        if (asprintf(&line, "%s\n", text) < 0)
                return CGSENTRY_EXIT_ERROR;
        r = ask(path, line, &reply);
        free(line);
        if (r == -ENOENT || r == -ECONNREFUSED) {
                fprintf(stderr, "cgsentry %s: cgsentryd is not running: nothing answers on %s "
                                "(%s)\n",
                        cmd, path, strerror(-r));
                return CGSENTRY_EXIT_NOT_RUNNING;
        }
        if (r == -EACCES) {
                fprintf(stderr, "cgsentry %s: %s: permission denied (run as root, or as a "
                                "member of the daemon's ControlGroup=)\n",
                        cmd, path);
                return CGSENTRY_EXIT_ERROR;
        }
        if (r < 0) {
                fprintf(stderr, "cgsentry %s: %s: %s\n", cmd, path,
                        r == -ETIMEDOUT ? "cgsentryd did not answer in time" : strerror(-r));
                return CGSENTRY_EXIT_ERROR;
        }
        o = json_tokener_parse(reply);
        free(reply);
        if (!o || !json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                fprintf(stderr, "cgsentry %s: %s: the reply is not a JSON object\n", cmd, path);
                return CGSENTRY_EXIT_ERROR;
        }
        if (json_object_object_get_ex(o, "error", &err)) {
                json_object *msg = NULL;
                bool not_supervised = strcmp(json_object_get_string(err), "ENOENT") == 0;
                json_object_object_get_ex(o, "message", &msg);
                fprintf(stderr, "cgsentry %s: %s\n", cmd,
                        msg ? json_object_get_string(msg) : json_object_get_string(err));
                json_object_put(o);
                return not_supervised ? CGSENTRY_EXIT_NONE : CGSENTRY_EXIT_ERROR;
        }
        *ret = o;
        return CGSENTRY_EXIT_OK;
}

/* "/sys/fs/cgroup/a/b", "/a/b" or "a/b" -> "a/b" */
static const char *relative(const char *cgroup)
{
        static const char root[] = "/sys/fs/cgroup";
        size_t n = strlen(root);

        if (strncmp(cgroup, root, n) == 0 && (cgroup[n] == '/' || !cgroup[n]))
                cgroup += n;
        while (*cgroup == '/')
                cgroup++;
        return cgroup;
}

int cgsentry_cmd_status(int argc, char **argv)
{
        enum { OPT_JSON = 256, OPT_SOCKET };
        static const struct option options[] = {
                { "json", no_argument, NULL, OPT_JSON },
                { "socket", required_argument, NULL, OPT_SOCKET },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *path = CGSENTRY_CONTROL_SOCKET_DEFAULT, *cgroup = NULL;
        json_object *req, *reply = NULL;
        bool json = false;
        int c, r;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (c) {
                case OPT_JSON:
                        json = true;
                        break;
                case OPT_SOCKET:
                        path = optarg;
                        break;
                case 'h':
                        status_usage(stdout);
                        return CGSENTRY_EXIT_OK;
                default:
                        status_usage(stderr);
                        return CGSENTRY_EXIT_ERROR;
                }
        }
        if (argc - optind > 1) {
                fprintf(stderr, "cgsentry status: at most one CGROUP\n");
                return CGSENTRY_EXIT_ERROR;
        }
        if (optind < argc)
                cgroup = relative(argv[optind]);
        req = json_object_new_object();
        json_object_object_add(req, "method", json_object_new_string("status"));
        if (cgroup)
                json_object_object_add(req, "cgroup", json_object_new_string(cgroup));
        r = request("status", path, req, &reply);
        json_object_put(req);
        if (r != CGSENTRY_EXIT_OK)
                return r;
        if (json)
                printf("%s\n", json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PRETTY |
                                                                         JSON_C_TO_STRING_SPACED |
                                                                         JSON_C_TO_STRING_NOSLASHESCAPE));
        else if (cgsentry_status_print(stdout, reply, cgroup != NULL) < 0) {
                fprintf(stderr, "cgsentry status: %s: not a status reply\n", path);
                r = CGSENTRY_EXIT_ERROR;
        }
        json_object_put(reply);
        if (fflush(stdout) != 0)
                r = CGSENTRY_EXIT_ERROR;
        return r;
}

int cgsentry_cmd_metrics(int argc, char **argv)
{
        enum { OPT_SOCKET = 256 };
        static const struct option options[] = {
                { "socket", required_argument, NULL, OPT_SOCKET },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *path = CGSENTRY_CONTROL_SOCKET_DEFAULT;
        json_object *req, *reply = NULL, *text;
        int c, r;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (c) {
                case OPT_SOCKET:
                        path = optarg;
                        break;
                case 'h':
                        metrics_usage(stdout);
                        return CGSENTRY_EXIT_OK;
                default:
                        metrics_usage(stderr);
                        return CGSENTRY_EXIT_ERROR;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "cgsentry metrics: unexpected argument '%s'\n", argv[optind]);
                return CGSENTRY_EXIT_ERROR;
        }
        req = json_object_new_object();
        json_object_object_add(req, "method", json_object_new_string("metrics"));
        r = request("metrics", path, req, &reply);
        json_object_put(req);
        if (r != CGSENTRY_EXIT_OK)
                return r;
        if (!json_object_object_get_ex(reply, "text", &text) ||
            !json_object_is_type(text, json_type_string)) {
                fprintf(stderr, "cgsentry metrics: %s: the reply has no metrics text\n", path);
                json_object_put(reply);
                return CGSENTRY_EXIT_ERROR;
        }
        fwrite(json_object_get_string(text), 1, (size_t)json_object_get_string_len(text), stdout);
        json_object_put(reply);
        return fflush(stdout) == 0 ? CGSENTRY_EXIT_OK : CGSENTRY_EXIT_ERROR;
}
