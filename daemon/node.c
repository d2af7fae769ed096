/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Node pressure: a rule on the node's pod tree (kubepods.slice, kubepods)
 * that acts when the whole node runs short, before the kernel's global OOM
 * killer picks one process anywhere and long before the kubelet's eviction
 * manager, which polls every 10 s, gets round to it.
 *
 *   NodeMemoryAvailable=SIZE|PERCENT  MemAvailable below it (PERCENT of
 *       MemTotal). The kernel has no event for MemAvailable: /proc/meminfo
 *       is read on a timer whose period follows the headroom left
 *       (sv_node_poll_msec(): 1 s with room to spare, 100 ms near the line).
 *   NodePressureStall=some|full PERCENT WINDOW  a PSI trigger on the node's
 *       memory pressure (ProcRoot=/pressure/memory): event driven.
 *   (PressureStall= on the same rule is the pod tree's own PSI.)
 *
 * Either fires the rule on its group like any other trigger: the same
 * cooldown, and the same decision (cgsentry_decide(): with Policy=kubernetes,
 * one pod whole), so `cgsentry explain --trigger node-pressure` shows it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parse.h"
#include "supervisor-internal.h"
#include "util.h"

/* NodeMemoryAvailable=PERCENT: above 90% of MemTotal would fire at rest. */
#define NODE_AVAILABLE_MAX_PERMYRIAD 9000u

int cgsentry_node_rule_key(struct cgsentry_node *n, const char *key, const char *v, char *msg,
                           size_t msg_size)
{
        char sub[192];
        int r;

        if (strcmp(key, "NodeMemoryAvailable") == 0) {
                uint64_t bytes;
                unsigned permyriad;
                if (strcmp(v, "off") == 0) {
                        n->available_bytes = 0;
                        n->available_permyriad = 0;
                        return 1;
                }
                if (v[0] && v[strlen(v) - 1] == '%') {
                        r = sv_parse_percent(v, 1, NODE_AVAILABLE_MAX_PERMYRIAD, &permyriad, sub,
                                             sizeof(sub));
                        if (r < 0) {
                                snprintf(msg, msg_size, "%s of MemTotal", sub);
                                return r;
                        }
                        n->available_permyriad = permyriad;
                        n->available_bytes = 0;
                        return 1;
                }
                if (sv_parse_size(v, &bytes) < 0 || bytes == 0 || bytes == SV_LIMIT_MAX) {
                        snprintf(msg, msg_size, "expected a size (e.g. 512M, 2G), a percentage "
                                                "of MemTotal (e.g. 10%%), or off");
                        return -EINVAL;
                }
                n->available_bytes = bytes;
                n->available_permyriad = 0;
                return 1;
        }
        if (strcmp(key, "NodePressureStall") == 0) {
                r = cgsentry_parse_pressure(v, &n->stall, msg, msg_size);
                return r < 0 ? r : 1;
        }
        return 0;
}

bool cgsentry_node_enabled(const struct cgsentry_rule *rule)
{
        return rule->node.available_bytes || rule->node.available_permyriad ||
               rule->node.stall.enabled;
}

struct nodewatch {
        int meminfo_fd; /* ProcRoot=/meminfo, kept open and pread() each time */
        uv_timer_t *timer;
        int psi_fd;     /* ProcRoot=/pressure/memory, holding our trigger */
        uv_poll_t *psi;
        bool read_noted; /* said once that MemAvailable cannot be read */
};

static void handle_closed(uv_handle_t *h)
{
        struct group *g = h->data;

        free(h);
        if (--g->open_handles == 0)
                free(g);
}

static int read_meminfo(struct group *g, struct sv_meminfo *mi)
{
        char buf[8192];
        ssize_t n = sv__read_fd(g->node->meminfo_fd, buf, sizeof(buf));

        if (n < 0)
                return (int)n;
        if (sv_parse_meminfo_all(buf, (size_t)n, mi) < 0 ||
            !(mi->have & SV_MEMINFO_MEM_AVAILABLE))
                return -EINVAL;
        return 0;
}

static void timer_cb(uv_timer_t *t)
{
        struct group *g = t->data;
        struct nodewatch *n = g->node;
        const struct cgsentry_node *cfg = &g->rule->node;
        struct cgsentry_log_fields f = { .cgroup = g->dw->shown, .trigger = "node-pressure",
                                         .rule = g->rule->name };
        struct sv_meminfo mi;
        uint64_t total, avail, min, next = SV_NODE_POLL_MAX_MSEC;
        int r = read_meminfo(g, &mi);

        if (r < 0) {
                if (!n->read_noted)
                        cgsentry_log(LOG_ERR, &f, "/%s: NodeMemoryAvailable= cannot read "
                                     "MemAvailable from %s/meminfo: %s", g->dw->shown,
                                     g->sv->cfg->proc_root, strerror(-r));
                n->read_noted = true;
        } else {
                n->read_noted = false;
                total = mi.mem_total_kb * 1024;
                avail = mi.mem_available_kb * 1024;
                min = sv_node_threshold(total, cfg->available_bytes, cfg->available_permyriad);
                if (avail < min) {
                        struct sv_trigger trig = { .kind = SV_TRIGGER_NODE_PRESSURE,
                                                   .mem_total = total, .mem_available = avail,
                                                   .available_min = min };
                        (void)group_act(g, &trig, uv_hrtime());
                }
                next = sv_node_poll_msec(avail, min);
        }
        /* group_act() never closes the group, so the timer is still ours. */
        uv_timer_start(t, timer_cb, next, 0);
}

static void psi_cb(uv_poll_t *h, int status, int events)
{
        struct group *g = h->data;
        const struct cgsentry_pressure *p = &g->rule->node.stall;
        struct sv_trigger t = { .kind = SV_TRIGGER_NODE_PRESSURE, .node_psi = true,
                                .psi_full = p->full, .stall_usec = p->stall_usec,
                                .window_usec = p->window_usec };
        struct sv_meminfo mi;
        char buf[512];
        ssize_t n;

        if (status < 0 || (events & UV_DISCONNECT)) {
                uv_poll_stop(h);
                return;
        }
        if (group_cooling_down(g, SV_TRIGGER_NODE_PRESSURE))
                return;
        /* The averages and MemAvailable for the message; the trigger decided. */
        n = sv__read_fd(g->node->psi_fd, buf, sizeof(buf));
        if (n >= 0)
                (void)sv_parse_psi(buf, (size_t)n, &t.psi);
        if (g->node->meminfo_fd >= 0 && read_meminfo(g, &mi) == 0) {
                t.mem_total = mi.mem_total_kb * 1024;
                t.mem_available = mi.mem_available_kb * 1024;
        }
        (void)group_act(g, &t, uv_hrtime());
}

static void arm_psi(struct group *g)
{
        struct nodewatch *n = g->node;
        const struct cgsentry_pressure *p = &g->rule->node.stall;
        struct cgsentry_log_fields f = { .cgroup = g->dw->shown };
        char trig[64];
        int len;

        n->psi_fd = openat(g->sv->proc_fd, "pressure/memory", O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (n->psi_fd < 0) {
                cgsentry_log(LOG_WARNING, &f, "/%s: NodePressureStall= unavailable: %s/pressure/"
                             "memory: %m%s", g->dw->shown, g->sv->cfg->proc_root,
                             errno == ENOENT || errno == EOPNOTSUPP
                                     ? " (is PSI off? psi=0, or a kernel without CONFIG_PSI)"
                                     : "");
                return;
        }
        /* psi.rst: the trigger is written with its terminating NUL. */
        len = snprintf(trig, sizeof(trig), "%s %" PRIu64 " %" PRIu64, p->full ? "full" : "some",
                       p->stall_usec, p->window_usec);
        n->psi = malloc(sizeof(*n->psi));
        if (write(n->psi_fd, trig, (size_t)len + 1) < 0 || !n->psi ||
            uv_poll_init(g->sv->loop, n->psi, n->psi_fd) < 0) {
                cgsentry_log(LOG_WARNING, &f, "/%s: cannot arm the node's PSI trigger \"%s\": %m",
                             g->dw->shown, trig);
                free(n->psi);
                n->psi = NULL;
                close(n->psi_fd);
                n->psi_fd = -1;
                return;
        }
        n->psi->data = g;
        g->open_handles++;
        uv_poll_start(n->psi, UV_PRIORITIZED | UV_DISCONNECT, psi_cb);
}

void node_arm(struct group *g)
{
        const struct cgsentry_node *cfg = &g->rule->node;
        struct cgsentry_log_fields f = { .cgroup = g->dw->shown,
                                         .message_id = CGSENTRY_MID_SUPERVISE };
        struct nodewatch *n;
        struct sv_meminfo mi;
        char what[160] = "", min[32];

        if (!cgsentry_node_enabled(g->rule))
                return;
        n = calloc(1, sizeof(*n));
        if (!n) {
                cgsentry_log(LOG_ERR, &f, "/%s: cannot watch the node: out of memory",
                             g->dw->shown);
                return;
        }
        n->meminfo_fd = n->psi_fd = -1;
        g->node = n;
        n->meminfo_fd = sv__open_regular(g->sv->proc_fd, "meminfo");
        if (n->meminfo_fd < 0)
                n->meminfo_fd = -1;
        if ((cfg->available_bytes || cfg->available_permyriad) && n->meminfo_fd >= 0 &&
            (n->timer = malloc(sizeof(*n->timer)))) {
                uv_timer_init(g->sv->loop, n->timer);
                n->timer->data = g;
                g->open_handles++;
                uv_timer_start(n->timer, timer_cb, 0, 0);
                if (read_meminfo(g, &mi) == 0)
                        snprintf(what, sizeof(what), "MemAvailable below %s",
                                 sv_format_bytes(sv_node_threshold(mi.mem_total_kb * 1024,
                                                                   cfg->available_bytes,
                                                                   cfg->available_permyriad),
                                                 min, sizeof(min)));
        } else if (cfg->available_bytes || cfg->available_permyriad) {
                cgsentry_log(LOG_WARNING, &f, "/%s: NodeMemoryAvailable= unavailable: cannot "
                             "open %s/meminfo", g->dw->shown, g->sv->cfg->proc_root);
        }
        if (cfg->stall.enabled)
                arm_psi(g);
        if (n->timer || n->psi)
                cgsentry_log(LOG_INFO, &f, "/%s: watching the node: %s%s%s", g->dw->shown, what,
                             what[0] && n->psi ? ", " : "",
                             n->psi ? "a PSI trigger on the node's memory pressure" : "");
}

void node_disarm(struct group *g)
{
        struct nodewatch *n = g->node;

        if (!n)
                return;
        if (n->timer)
                uv_close((uv_handle_t *)n->timer, handle_closed);
        if (n->psi)
                uv_close((uv_handle_t *)n->psi, handle_closed);
        if (n->psi_fd >= 0)
                close(n->psi_fd); /* after uv_close: libuv stopped polling it */
        if (n->meminfo_fd >= 0)
                close(n->meminfo_fd);
        free(n);
        g->node = NULL;
}

void node_armed(const struct group *g, bool *memavailable, bool *psi)
{
        *memavailable = g->node && g->node->timer;
        *psi = g->node && g->node->psi;
}
