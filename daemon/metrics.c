/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Prometheus text exposition (format 0.0.4) of the figures: pure, no I/O.
 * Names follow the Prometheus conventions: a cgsentry_ prefix, base units
 * in the name (_bytes, _seconds), _total on counters; the standard
 * process_* names for the daemon's own resources, so existing dashboards
 * read them. Every sample of a family is written together, after its HELP
 * and TYPE lines, as the format requires.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "figures.h"

/* A label value: the name as every message shows it (sv_escape(): valid
 * UTF-8, no control bytes), then the format's own escapes. */
static void label_value(FILE *out, const char *raw)
{
        char *shown = sv_escape_dup(raw ? raw : "");
        const char *p = shown ? shown : "";

        fputc('"', out);
        for (; *p; p++) {
                if (*p == '\\' || *p == '"')
                        fputc('\\', out);
                if (*p == '\n')
                        fputs("\\n", out);
                else
                        fputc(*p, out);
        }
        fputc('"', out);
        free(shown);
}

static void family(FILE *out, const char *name, const char *type, const char *help)
{
        fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void value_double(FILE *out, double v)
{
        if (isinf(v))
                fputs(v > 0 ? "+Inf" : "-Inf", out);
        else if (isnan(v))
                fputs("NaN", out);
        else if (v == floor(v) && fabs(v) < 1e15)
                fprintf(out, "%.0f", v); /* byte counts: exact, no exponent */
        else
                fprintf(out, "%.6f", v); /* seconds: to the microsecond they are kept in */
}

/* One sample without labels. */
static void sample_u64(FILE *out, const char *name, uint64_t v)
{
        fprintf(out, "%s %" PRIu64 "\n", name, v);
}

static void sample_double(FILE *out, const char *name, double v)
{
        fprintf(out, "%s ", name);
        value_double(out, v);
        fputc('\n', out);
}

static void gauge_u64(FILE *out, const char *name, const char *help, uint64_t v)
{
        family(out, name, "gauge", help);
        sample_u64(out, name, v);
}

static void counter_u64(FILE *out, const char *name, const char *help, uint64_t v)
{
        family(out, name, "counter", help);
        sample_u64(out, name, v);
}

/* name{cgroup="...",rule="..."[,EXTRA="..."]} */
static void group_labels(FILE *out, const char *name, const struct cgsentry_group_figures *g,
                         const char *extra_key, const char *extra_value)
{
        fprintf(out, "%s{cgroup=", name);
        label_value(out, g->cgroup);
        fputs(",rule=", out);
        label_value(out, g->rule);
        if (extra_key) {
                fprintf(out, ",%s=", extra_key);
                label_value(out, extra_value);
        }
        fputs("} ", out);
}

static double limit(uint64_t v)
{
        return v == SV_LIMIT_MAX ? INFINITY : (double)v;
}

/* The per-group gauges that exist for every group with a memory controller. */
enum group_gauge { CURRENT, MAX, HIGH, PEAK, SWAP };

static void group_gauge(FILE *out, const struct cgsentry_group_figures *groups, size_t n,
                        enum group_gauge which, const char *name, const char *help)
{
        bool any = false;

        for (size_t i = 0; i < n; i++) {
                const struct cgsentry_group_figures *g = &groups[i];
                double v;
                if (!g->memcg || (which == PEAK && !g->have_peak) || (which == SWAP && !g->have_swap))
                        continue;
                if (!any)
                        family(out, name, "gauge", help);
                any = true;
                v = which == CURRENT ? (double)g->memory_current
                    : which == MAX   ? limit(g->memory_max)
                    : which == HIGH  ? limit(g->memory_high)
                    : which == PEAK  ? (double)g->memory_peak
                                     : (double)g->swap_current;
                group_labels(out, name, g, NULL, NULL);
                value_double(out, v);
                fputc('\n', out);
        }
}

static void kill_counters(FILE *out, const struct cgsentry_stats *st, const char *name,
                          const char *help, bool dry_run, bool processes)
{
        family(out, name, "counter", help);
        for (size_t i = 0; st && i < st->n_counters; i++) {
                const struct cgsentry_kill_counter *c = &st->counters[i];
                if (c->dry_run != dry_run)
                        continue;
                fprintf(out, "%s{trigger=", name);
                label_value(out, c->trigger);
                fputs(",rule=", out);
                label_value(out, c->rule);
                fputs(",policy=", out);
                label_value(out, c->policy);
                fprintf(out, "} %" PRIu64 "\n", processes ? c->processes : c->kills);
        }
}

static void reaction_histogram(FILE *out, const struct cgsentry_stats *st)
{
        static const char name[] = "cgsentry_kill_reaction_seconds";
        uint64_t cum = 0;

        family(out, name, "histogram",
               "Time from the event that triggered a kill to its first signal.");
        for (size_t b = 0; b <= CGSENTRY_REACTION_BUCKETS; b++) {
                cum += st ? st->reaction_buckets[b] : 0;
                if (b < CGSENTRY_REACTION_BUCKETS)
                        fprintf(out, "%s_bucket{le=\"%g\"} %" PRIu64 "\n", name,
                                cgsentry_reaction_bounds[b], cum);
                else
                        fprintf(out, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", name, cum);
        }
        fprintf(out, "%s_sum ", name);
        value_double(out, st ? st->reaction_sum : 0);
        fprintf(out, "\n%s_count %" PRIu64 "\n", name, st ? st->reaction_count : 0);
}

int cgsentry_metrics_render(FILE *out, const struct cgsentry_daemon_figures *d,
                            const struct cgsentry_group_figures *groups, size_t n)
{
        static const char *const event_names[] = { "low", "high", "max", "oom", "oom_kill",
                                                   "oom_group_kill" };
        const struct cgsentry_stats *st = d->stats;
        bool any;

        family(out, "cgsentry_build_info", "gauge", "cgsentryd's version, always 1.");
        fputs("cgsentry_build_info{version=", out);
        label_value(out, d->version);
        fputs("} 1\n", out);
        family(out, "cgsentry_start_time_seconds", "gauge",
               "When cgsentryd started, in seconds since the epoch.");
        sample_double(out, "cgsentry_start_time_seconds", (double)d->started_usec / 1e6);
        family(out, "cgsentry_config_load_time_seconds", "gauge",
               "When the configuration in force was loaded, in seconds since the epoch.");
        sample_double(out, "cgsentry_config_load_time_seconds",
                      (double)d->config_loaded_usec / 1e6);
        counter_u64(out, "cgsentry_config_reloads_total", "Configuration reloads that took effect.",
                    st ? st->reloads : 0);
        counter_u64(out, "cgsentry_config_reload_failures_total",
                    "Configuration reloads rejected (the previous one stayed in force).",
                    st ? st->reload_failures : 0);
        gauge_u64(out, "cgsentry_rules", "Rules in the configuration.", d->n_rules);
        gauge_u64(out, "cgsentry_supervised_groups", "Cgroups supervised by a rule.", d->n_groups);
        gauge_u64(out, "cgsentry_watched_directories",
                  "Cgroup directories watched for new groups and events.", d->n_watches);
        gauge_u64(out, "cgsentry_polling_groups",
                  "Supervised groups whose memory.events is polled (no inotify watch left).",
                  d->n_polling);

        kill_counters(out, st, "cgsentry_kills_total",
                      "Kills started, by trigger, rule and policy.", false, false);
        kill_counters(out, st, "cgsentry_killed_processes_total",
                      "Processes signalled by kills, by trigger, rule and policy.", false, true);
        kill_counters(out, st, "cgsentry_dry_run_kills_total",
                      "Kills a DryRun= rule logged instead of carrying out.", true, false);
        reaction_histogram(out, st);
        counter_u64(out, "cgsentry_hooks_started_total", "ExecBeforeKill=/ExecAfterKill= runs.",
                    st ? st->hooks_started : 0);
        family(out, "cgsentry_hook_failures_total", "counter",
               "Hooks that failed (non-zero exit or signal), timed out, or were refused "
               "(an untrusted or missing file, too many running).");
        fprintf(out, "cgsentry_hook_failures_total{reason=\"failed\"} %" PRIu64 "\n",
                st ? st->hooks_failed : 0);
        fprintf(out, "cgsentry_hook_failures_total{reason=\"timeout\"} %" PRIu64 "\n",
                st ? st->hooks_timed_out : 0);
        fprintf(out, "cgsentry_hook_failures_total{reason=\"refused\"} %" PRIu64 "\n",
                st ? st->hooks_refused : 0);

        group_gauge(out, groups, n, CURRENT, "cgsentry_group_memory_current_bytes",
                    "memory.current of a supervised group.");
        group_gauge(out, groups, n, MAX, "cgsentry_group_memory_max_bytes",
                    "memory.max of a supervised group (+Inf: no limit).");
        group_gauge(out, groups, n, HIGH, "cgsentry_group_memory_high_bytes",
                    "memory.high of a supervised group (+Inf: none; the tripwire sets it).");
        group_gauge(out, groups, n, PEAK, "cgsentry_group_memory_peak_bytes",
                    "memory.peak of a supervised group.");
        group_gauge(out, groups, n, SWAP, "cgsentry_group_swap_current_bytes",
                    "memory.swap.current of a supervised group.");
        any = false;
        for (size_t i = 0; i < n; i++) {
                const struct cgsentry_group_figures *g = &groups[i];
                const uint64_t v[] = { g->events.low, g->events.high, g->events.max,
                                       g->events.oom, g->events.oom_kill,
                                       g->events.oom_group_kill };
                if (!g->memcg)
                        continue;
                if (!any)
                        family(out, "cgsentry_group_memory_events_total", "counter",
                               "memory.events counters of a supervised group (its subtree).");
                any = true;
                for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
                        group_labels(out, "cgsentry_group_memory_events_total", g, "event",
                                     event_names[k]);
                        fprintf(out, "%" PRIu64 "\n", v[k]);
                }
        }
        any = false;
        for (size_t i = 0; i < n; i++) {
                const struct cgsentry_group_figures *g = &groups[i];
                if (!g->have_psi)
                        continue;
                if (!any)
                        family(out, "cgsentry_group_memory_pressure_stalled_seconds_total",
                               "counter",
                               "Time some or all tasks of a supervised group stalled on memory "
                               "(memory.pressure total).");
                any = true;
                group_labels(out, "cgsentry_group_memory_pressure_stalled_seconds_total", g,
                             "kind", "some");
                value_double(out, (double)g->psi.some.total_usec / 1e6);
                fputc('\n', out);
                if (g->psi.has_full) {
                        group_labels(out, "cgsentry_group_memory_pressure_stalled_seconds_total",
                                     g, "kind", "full");
                        value_double(out, (double)g->psi.full.total_usec / 1e6);
                        fputc('\n', out);
                }
        }
        any = false;
        for (size_t i = 0; i < n; i++) {
                const struct cgsentry_group_figures *g = &groups[i];
                if (!g->tripwire_armed)
                        continue;
                if (!any)
                        family(out, "cgsentry_group_tripwire_bytes", "gauge",
                               "The memory.high the tripwire holds on a supervised group.");
                any = true;
                group_labels(out, "cgsentry_group_tripwire_bytes", g, NULL, NULL);
                fprintf(out, "%" PRIu64 "\n", g->tripwire_high);
        }

        family(out, "process_resident_memory_bytes", "gauge", "Resident memory of cgsentryd.");
        sample_u64(out, "process_resident_memory_bytes", d->rss_bytes);
        family(out, "process_virtual_memory_bytes", "gauge", "Virtual memory of cgsentryd.");
        sample_u64(out, "process_virtual_memory_bytes", d->vm_bytes);
        family(out, "process_cpu_seconds_total", "counter",
               "User and system CPU time of cgsentryd.");
        sample_double(out, "process_cpu_seconds_total", d->cpu_seconds);
        family(out, "process_open_fds", "gauge", "Open file descriptors of cgsentryd.");
        sample_u64(out, "process_open_fds", d->open_fds);
        family(out, "process_start_time_seconds", "gauge",
               "When cgsentryd started, in seconds since the epoch.");
        sample_double(out, "process_start_time_seconds", (double)d->started_usec / 1e6);
        return ferror(out) ? -EIO : 0;
}
