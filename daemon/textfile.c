/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * MetricsTextfile=: the metrics written to a file for node_exporter's
 * textfile collector, for hosts where nothing scrapes cgsentryd itself.
 * Written after every kill and, only when MetricsInterval= is set, on that
 * interval (no timer otherwise). Written whole to "FILE.tmp" and renamed
 * over FILE, so the collector never reads half a file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "supervisor-internal.h"

struct textfile {
        struct supervisor *sv;
        uv_timer_t timer;
        struct collect *collect;
        bool again;       /* kicked while a collection ran */
        bool failed_said; /* said once that the file cannot be written */
};

static int write_file(const char *path, const struct cgsentry_daemon_figures *d,
                      const struct cgsentry_group_figures *groups, size_t n)
{
        char *tmp = NULL;
        FILE *f = NULL;
        int fd, r;

        if (asprintf(&tmp, "%s.tmp", path) < 0)
                return -ENOMEM;
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0 || !(f = fdopen(fd, "w"))) {
                r = -errno;
                if (fd >= 0)
                        close(fd);
                goto out;
        }
        r = cgsentry_metrics_render(f, d, groups, n);
        if (fclose(f) != 0 && r == 0)
                r = -errno;
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0)
                (void)unlink(tmp);
out:
        free(tmp);
        return r;
}

static void start(struct textfile *t);

static void collected(void *userdata, int error, const struct cgsentry_daemon_figures *d,
                      const struct cgsentry_group_figures *groups, size_t n)
{
        struct textfile *t = userdata;
        const char *path = t->sv->cfg->metrics_textfile;
        int r = error;

        t->collect = NULL;
        if (!path)
                return; /* a reload turned it off meanwhile */
        if (r == 0)
                r = write_file(path, d, groups, n);
        if (r < 0 && !t->failed_said)
                cgsentry_log(LOG_WARNING, NULL, "cannot write MetricsTextfile=%s: %s (said once)",
                             path, strerror(-r));
        t->failed_said = r < 0;
        if (t->again) {
                t->again = false;
                start(t);
        }
}

static void start(struct textfile *t)
{
        if (t->collect) {
                t->again = true;
                return;
        }
        if (collect_start(t->sv, NULL, collected, t, &t->collect) < 0)
                t->collect = NULL;
}

static void tick(uv_timer_t *h)
{
        start(h->data);
}

int textfile_start(struct supervisor *sv, struct textfile **ret)
{
        struct textfile *t = calloc(1, sizeof(*t));
        uint64_t ms = sv->cfg->metrics_interval_usec / 1000;

        if (!t)
                return -ENOMEM;
        t->sv = sv;
        uv_timer_init(sv->loop, &t->timer);
        t->timer.data = t;
        /* The first file at once, so that the collector finds one. */
        if (ms)
                uv_timer_start(&t->timer, tick, 0, ms);
        else
                start(t);
        *ret = t;
        return 0;
}

void textfile_kick(struct textfile *t)
{
        if (t)
                start(t);
}

static void closed(uv_handle_t *h)
{
        free(h->data);
}

void textfile_stop(struct textfile *t)
{
        if (!t)
                return;
        collect_cancel(t->collect);
        uv_close((uv_handle_t *)&t->timer, closed);
}
