/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The status reply, built from figures (figures.h): pure, no I/O. The keys
 * are a contract for scripts (documented in cgsentry(1)); new ones may be
 * added, none renamed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "figures.h"

/* Builds objects, remembering whether any allocation failed, so that the
 * code reads as the structure it builds. */
struct enc {
        bool failed;
};

static json_object *add(struct enc *e, json_object *o, const char *key, json_object *v)
{
        if (!v || !o || json_object_object_add(o, key, v) < 0) {
                json_object_put(v);
                e->failed = true;
                return NULL;
        }
        return v;
}

static json_object *append(struct enc *e, json_object *a, json_object *v)
{
        if (!v || !a || json_object_array_add(a, v) < 0) {
                json_object_put(v);
                e->failed = true;
                return NULL;
        }
        return v;
}

/* An explicit null: the key is there, with no value. */
static void null(struct enc *e, json_object *o, const char *key)
{
        if (!o || json_object_object_add(o, key, NULL) < 0)
                e->failed = true;
}

/* @v, or null when @have is false. */
static void add_if(struct enc *e, json_object *o, const char *key, bool have, json_object *v)
{
        if (have) {
                add(e, o, key, v);
        } else {
                json_object_put(v);
                null(e, o, key);
        }
}

static json_object *str(const char *s)
{
        return json_object_new_string(s ? s : "");
}

/* A name as every message shows it: valid UTF-8 whatever its bytes. */
static json_object *name(const char *raw)
{
        char *shown = sv_escape_dup(raw ? raw : "");
        json_object *o = shown ? json_object_new_string(shown) : NULL;

        free(shown);
        return o;
}

static json_object *limit(uint64_t v)
{
        return v == SV_LIMIT_MAX ? json_object_new_string("max") : json_object_new_uint64(v);
}

/* PSI averages as the kernel prints them (two decimals), not as %.17g. */
static json_object *avg(double v)
{
        char buf[32];

        snprintf(buf, sizeof(buf), "%.2f", v);
        return json_object_new_double_s(v, buf);
}

static json_object *psi_line(struct enc *e, const struct sv_psi_line *l)
{
        json_object *o = json_object_new_object();

        add(e, o, "avg10", avg(l->avg10));
        add(e, o, "avg60", avg(l->avg60));
        add(e, o, "avg300", avg(l->avg300));
        add(e, o, "total_usec", json_object_new_uint64(l->total_usec));
        return o;
}

static json_object *events(struct enc *e, const struct sv_memory_events *ev)
{
        json_object *o = json_object_new_object();

        add(e, o, "low", json_object_new_uint64(ev->low));
        add(e, o, "high", json_object_new_uint64(ev->high));
        add(e, o, "max", json_object_new_uint64(ev->max));
        add(e, o, "oom", json_object_new_uint64(ev->oom));
        add(e, o, "oom_kill", json_object_new_uint64(ev->oom_kill));
        add(e, o, "oom_group_kill", json_object_new_uint64(ev->oom_group_kill));
        return o;
}

static json_object *kill_entry(struct enc *e, const struct cgsentry_kill_entry *k)
{
        json_object *o = json_object_new_object();

        add(e, o, "id", json_object_new_uint64(k->id));
        add(e, o, "time_usec", json_object_new_int64(k->time_usec));
        add(e, o, "cgroup", name(k->cgroup));
        add(e, o, "kill_cgroup", name(k->kill_cgroup));
        add(e, o, "rule", name(k->rule));
        add(e, o, "policy", name(k->policy));
        add(e, o, "trigger", str(k->trigger));
        add(e, o, "why", name(k->why));
        add(e, o, "processes", json_object_new_uint64(k->processes));
        add_if(e, o, "victim_pid", k->victim_pid > 0, json_object_new_int(k->victim_pid));
        add(e, o, "victim_comm", name(k->victim_comm));
        add(e, o, "dry_run", json_object_new_boolean(k->dry_run));
        add(e, o, "outcome", str(cgsentry_kill_outcome_name(k->outcome)));
        add_if(e, o, "reaction_usec", k->reaction_usec >= 0,
               json_object_new_int64(k->reaction_usec));
        add_if(e, o, "emptied_msec", k->emptied_msec >= 0, json_object_new_int64(k->emptied_msec));
        return o;
}

static json_object *group(struct enc *e, const struct cgsentry_group_figures *g,
                          const struct cgsentry_stats *st)
{
        json_object *o = json_object_new_object(), *armed, *mem, *x;
        const struct cgsentry_kill_entry *last = st ? cgsentry_stats_last_of(st, g->cgroup) : NULL;

        add(e, o, "cgroup", name(g->cgroup));
        add(e, o, "rule", name(g->rule));
        add(e, o, "policy", name(g->policy));
        add(e, o, "dry_run", json_object_new_boolean(g->dry_run));

        armed = add(e, o, "armed", json_object_new_object());
        if (g->tripwire_permyriad) {
                x = add(e, armed, "tripwire", json_object_new_object());
                add(e, x, "percent", json_object_new_double(g->tripwire_permyriad / 100.0));
                add_if(e, x, "memory_high", g->tripwire_armed,
                       json_object_new_uint64(g->tripwire_high));
        } else {
                null(e, armed, "tripwire");
        }
        if (g->pressure) {
                x = add(e, armed, "pressure", json_object_new_object());
                add(e, x, "kind", str(g->pressure_full ? "full" : "some"));
                add(e, x, "stall_usec", json_object_new_uint64(g->stall_usec));
                add(e, x, "window_usec", json_object_new_uint64(g->window_usec));
                add(e, x, "registered", json_object_new_boolean(g->pressure_armed));
        } else {
                null(e, armed, "pressure");
        }
        if (g->node_available_bytes || g->node_available_permyriad || g->node_pressure) {
                json_object *n = add(e, armed, "node", json_object_new_object());
                if (g->node_available_bytes || g->node_available_permyriad) {
                        x = add(e, n, "memory_available", json_object_new_object());
                        if (g->node_available_bytes)
                                add(e, x, "bytes", json_object_new_uint64(g->node_available_bytes));
                        else
                                add(e, x, "percent",
                                    json_object_new_double(g->node_available_permyriad / 100.0));
                        add(e, x, "watching", json_object_new_boolean(g->node_memavailable_armed));
                } else {
                        null(e, n, "memory_available");
                }
                if (g->node_pressure) {
                        x = add(e, n, "pressure", json_object_new_object());
                        add(e, x, "kind", str(g->node_pressure_full ? "full" : "some"));
                        add(e, x, "stall_usec", json_object_new_uint64(g->node_stall_usec));
                        add(e, x, "window_usec", json_object_new_uint64(g->node_window_usec));
                        add(e, x, "registered", json_object_new_boolean(g->node_pressure_armed));
                } else {
                        null(e, n, "pressure");
                }
        } else {
                null(e, armed, "node");
        }
        add(e, armed, "kernel_oom_kill", json_object_new_boolean(g->kernel_oom_kill));
        add(e, armed, "memory_events", str(g->events_polled ? "poll" : "inotify"));

        if (g->memcg) {
                mem = add(e, o, "memory", json_object_new_object());
                add(e, mem, "current", json_object_new_uint64(g->memory_current));
                add(e, mem, "max", limit(g->memory_max));
                add(e, mem, "high", limit(g->memory_high));
                if (g->have_peak)
                        add(e, mem, "peak", json_object_new_uint64(g->memory_peak));
                if (g->have_swap) {
                        add(e, mem, "swap_current", json_object_new_uint64(g->swap_current));
                        add(e, mem, "swap_max", limit(g->swap_max));
                }
                add(e, o, "events", events(e, &g->events));
        } else {
                /* no memory controller: nothing to show, nothing to trip */
                null(e, o, "memory");
                null(e, o, "events");
        }
        if (g->have_psi) {
                x = add(e, o, "pressure", json_object_new_object());
                add(e, x, "some", psi_line(e, &g->psi.some));
                if (g->psi.has_full)
                        add(e, x, "full", psi_line(e, &g->psi.full));
        } else {
                null(e, o, "pressure");
        }
        add(e, o, "cooldown_msec", json_object_new_uint64(g->cooldown_msec));
        add(e, o, "cooldown_tripwire_live", json_object_new_boolean(g->cooldown_tripwire_live));
        add(e, o, "killing", json_object_new_boolean(g->killing));
        if (last)
                add(e, o, "last_kill", kill_entry(e, last));
        else
                null(e, o, "last_kill");
        return o;
}

static json_object *daemon_obj(struct enc *e, const struct cgsentry_daemon_figures *d)
{
        json_object *o = json_object_new_object(), *cfg, *kills, *by, *hooks;
        const struct cgsentry_stats *st = d->stats;
        uint64_t total = 0, dry = 0;

        add(e, o, "version", str(d->version));
        add(e, o, "pid", json_object_new_int(d->pid));
        add(e, o, "started_usec", json_object_new_int64(d->started_usec));
        add(e, o, "now_usec", json_object_new_int64(d->now_usec));
        add(e, o, "uptime_usec", json_object_new_uint64(d->uptime_usec));
        cfg = add(e, o, "config", json_object_new_object());
        add(e, cfg, "path", name(d->config_path));
        add(e, cfg, "loaded_usec", json_object_new_int64(d->config_loaded_usec));
        add(e, cfg, "rules", json_object_new_uint64(d->n_rules));
        add(e, cfg, "reloads", json_object_new_uint64(st ? st->reloads : 0));
        add(e, cfg, "reload_failures", json_object_new_uint64(st ? st->reload_failures : 0));
        add(e, o, "supervised_groups", json_object_new_uint64(d->n_groups));
        add(e, o, "watches", json_object_new_uint64(d->n_watches));
        add(e, o, "polling_groups", json_object_new_uint64(d->n_polling));
        kills = add(e, o, "kills", json_object_new_object());
        by = json_object_new_object();
        for (size_t i = 0; st && i < st->n_counters; i++) {
                const struct cgsentry_kill_counter *c = &st->counters[i];
                json_object *n;
                if (c->dry_run) {
                        dry += c->kills;
                        continue;
                }
                total += c->kills;
                /* Several rules may count the same trigger: add them up. */
                n = json_object_object_get(by, c->trigger);
                add(e, by, c->trigger,
                    json_object_new_uint64((n ? json_object_get_uint64(n) : 0) + c->kills));
        }
        add(e, kills, "total", json_object_new_uint64(total));
        add(e, kills, "dry_runs", json_object_new_uint64(dry));
        add(e, kills, "by_trigger", by);
        hooks = add(e, o, "hooks", json_object_new_object());
        add(e, hooks, "started", json_object_new_uint64(st ? st->hooks_started : 0));
        add(e, hooks, "failed", json_object_new_uint64(st ? st->hooks_failed : 0));
        add(e, hooks, "timed_out", json_object_new_uint64(st ? st->hooks_timed_out : 0));
        add(e, hooks, "refused", json_object_new_uint64(st ? st->hooks_refused : 0));
        add(e, o, "rss_bytes", json_object_new_uint64(d->rss_bytes));
        if (d->control_group)
                add(e, o, "control_group", name(d->control_group));
        else
                null(e, o, "control_group");
        return o;
}

int cgsentry_status_json(const struct cgsentry_daemon_figures *d,
                         const struct cgsentry_group_figures *groups, size_t n,
                         const char *only_cgroup, json_object **ret)
{
        struct enc e = {};
        json_object *root = json_object_new_object(), *arr, *recent;
        const struct cgsentry_stats *st = d->stats;

        add(&e, root, "schema", str("cgsentry-status/1"));
        add(&e, root, "daemon", daemon_obj(&e, d));
        arr = add(&e, root, "groups", json_object_new_array());
        for (size_t i = 0; i < n; i++)
                append(&e, arr, group(&e, &groups[i], st));
        recent = add(&e, root, "recent_kills", json_object_new_array());
        for (size_t i = 0; st && i < st->n_recent; i++) {
                const struct cgsentry_kill_entry *k = cgsentry_stats_recent(st, i);
                if (!only_cgroup || strcmp(k->cgroup, only_cgroup) == 0)
                        append(&e, recent, kill_entry(&e, k));
        }
        if (e.failed) {
                json_object_put(root);
                return -ENOMEM;
        }
        *ret = root;
        return 0;
}
