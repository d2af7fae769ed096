/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Gathering the figures of figures.h from the running supervisor: what is
 * armed comes from memory, the memory figures from each group's files
 * through the directory fd it already holds (no path lookups, no new
 * watches). A group that disappears while being read is left out.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "figures.h"
#include "parse.h"
#include "supervisor-internal.h"
#include "util.h"

void cgsentry_group_figures_done(struct cgsentry_group_figures *g)
{
        free(g->cgroup);
        free(g->rule);
        free(g->policy);
        memset(g, 0, sizeof(*g));
}

int figures_read_group(struct group *g, struct cgsentry_group_figures *out)
{
        const struct cgsentry_rule *rule = g->rule;
        struct supervisor *sv = g->sv;
        struct cgsentry_group_figures f = {
                .cgroup = strdup(g->dw->path),
                .rule = strdup(rule->name),
                .policy = strdup(rule->policy ? rule->policy : SV_POLICY_DEFAULT),
                .dry_run = rule->dry_run,
                .tripwire_permyriad = rule->tripwire_permyriad,
                .tripwire_armed = g->high_set,
                .tripwire_high = g->armed_high,
                .pressure = rule->pressure.enabled,
                .pressure_full = rule->pressure.full,
                .stall_usec = rule->pressure.stall_usec,
                .window_usec = rule->pressure.window_usec,
                .pressure_armed = g->psi != NULL,
                .kernel_oom_kill = rule->on_kernel_oom_kill,
                .events_polled = g->events_poll != NULL,
                .killing = g->kill != NULL,
        };
        uint64_t now = uv_now(sv->loop);
        char buf[512];
        ssize_t n;
        int r;

        f.node_available_bytes = rule->node.available_bytes;
        f.node_available_permyriad = rule->node.available_permyriad;
        f.node_pressure = rule->node.stall.enabled;
        f.node_pressure_full = rule->node.stall.full;
        f.node_stall_usec = rule->node.stall.stall_usec;
        f.node_window_usec = rule->node.stall.window_usec;
        node_armed(g, &f.node_memavailable_armed, &f.node_pressure_armed);
        if (!f.cgroup || !f.rule || !f.policy) {
                r = -ENOMEM;
                goto fail;
        }
        f.cooldown_msec = g->cooldown_until_ms > now ? g->cooldown_until_ms - now : 0;
        f.cooldown_tripwire_live = f.cooldown_msec && !g->kill && g->killed_gone && g->high_set;
        /* A supervised group has memory.events (group_new() checked), so it
         * has the memory controller; ENOENT below means it is going away. */
        f.memcg = true;
        if ((r = sv__read_value_at(g->dfd, "memory.current", sv_parse_u64,
                                   &f.memory_current)) < 0 ||
            (r = sv__read_value_at(g->dfd, "memory.max", sv_parse_limit, &f.memory_max)) < 0 ||
            (r = sv__read_value_at(g->dfd, "memory.high", sv_parse_limit, &f.memory_high)) < 0)
                goto fail;
        f.have_peak = sv__read_value_at(g->dfd, "memory.peak", sv_parse_u64, &f.memory_peak) == 0;
        f.have_swap = sv__read_value_at(g->dfd, "memory.swap.current", sv_parse_u64,
                                        &f.swap_current) == 0 &&
                      sv__read_value_at(g->dfd, "memory.swap.max", sv_parse_limit,
                                        &f.swap_max) == 0;
        n = sv__read_fd(g->events_fd, buf, sizeof(buf));
        if (n < 0 || (r = sv_parse_memory_events(buf, (size_t)n, &f.events)) < 0) {
                r = n < 0 ? (int)n : r;
                goto fail;
        }
        n = sv__read_at(g->dfd, "memory.pressure", buf, sizeof(buf));
        f.have_psi = n >= 0 && sv_parse_psi(buf, (size_t)n, &f.psi) == 0;
        *out = f;
        return 0;
fail:
        cgsentry_group_figures_done(&f);
        return r;
}

/* VmRSS and VmSize of /proc/self/status, in bytes. */
static void self_memory(uint64_t *rss, uint64_t *vm)
{
        char buf[4096];
        ssize_t n = sv__read_at(AT_FDCWD, "/proc/self/status", buf, sizeof(buf) - 1);
        struct sv_proc_status st = {};

        if (n > 0 && sv_parse_proc_status(buf, (size_t)n, &st) == 0) {
                *rss = (st.rss_anon_kb + st.rss_file_kb + st.rss_shmem_kb) * 1024;
                *vm = st.vm_size_kb * 1024;
        }
}

static unsigned open_fds(void)
{
        DIR *d = opendir("/proc/self/fd");
        unsigned n = 0;

        if (!d)
                return 0;
        for (struct dirent *de; (de = readdir(d));)
                n += de->d_name[0] != '.';
        closedir(d);
        return n ? n - 1 : 0; /* not the directory's own fd */
}

void figures_read_daemon(struct supervisor *sv, struct cgsentry_daemon_figures *d)
{
        struct timespec cpu;

        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
        *d = (struct cgsentry_daemon_figures){
                .version = sv_version(),
                .pid = (int)getpid(),
                .now_usec = sv__clock_usec(CLOCK_REALTIME),
                .started_usec = sv->started_usec,
                .uptime_usec = (uv_hrtime() - sv->started_ns) / 1000,
                .config_path = sv->opts.config_path,
                .config_loaded_usec = sv->config_loaded_usec,
                .n_rules = sv->cfg->n_rules,
                .n_groups = sv->n_groups,
                .n_watches = sv->n_watches,
                .n_polling = sv->n_polling,
                .stats = &sv->stats,
                .cpu_seconds = (double)cpu.tv_sec + (double)cpu.tv_nsec / 1e9,
                .open_fds = open_fds(),
                .control_group = sv->cfg->control_group,
        };
        self_memory(&d->rss_bytes, &d->vm_bytes);
}
