/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `cgsentry status` for people: rendered from the status reply (status.c),
 * the same object --json prints, so the two never disagree. Pure: JSON in,
 * text out.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "status-text.h"

static json_object *get(json_object *o, const char *key)
{
        json_object *v = NULL;

        return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static const char *get_str(json_object *o, const char *key, const char *def)
{
        json_object *v = get(o, key);

        return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : def;
}

static uint64_t get_u64(json_object *o, const char *key)
{
        json_object *v = get(o, key);

        return v && json_object_is_type(v, json_type_int) ? json_object_get_uint64(v) : 0;
}

static int64_t get_i64(json_object *o, const char *key, int64_t def)
{
        json_object *v = get(o, key);

        return v && json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : def;
}

static bool get_bool(json_object *o, const char *key)
{
        json_object *v = get(o, key);

        return v && json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

/* 1536 -> "1.5K", as systemctl status shows sizes. */
static const char *size(uint64_t v, char *buf, size_t n)
{
        static const char units[] = "BKMGTPE";
        double d = (double)v;
        int u = 0;

        while (d >= 1024 && u < 6) {
                d /= 1024;
                u++;
        }
        if (u == 0)
                snprintf(buf, n, "%" PRIu64 "B", v);
        else
                snprintf(buf, n, "%.1f%c", d, units[u]);
        return buf;
}

/* A byte count or "max". */
static const char *limit(json_object *o, const char *key, char *buf, size_t n)
{
        json_object *v = get(o, key);

        if (!v)
                return "-";
        if (json_object_is_type(v, json_type_string))
                return json_object_get_string(v);
        return size(json_object_get_uint64(v), buf, n);
}

static const char *when(int64_t usec, char *buf, size_t n)
{
        time_t t = (time_t)(usec / 1000000);
        struct tm tm;

        if (!localtime_r(&t, &tm) || !strftime(buf, n, "%Y-%m-%d %H:%M:%S %Z", &tm))
                snprintf(buf, n, "@%" PRId64, usec / 1000000);
        return buf;
}

static const char *duration(uint64_t usec, char *buf, size_t n)
{
        uint64_t s = usec / 1000000;

        if (s >= 86400)
                snprintf(buf, n, "%" PRIu64 "d %" PRIu64 "h", s / 86400, s % 86400 / 3600);
        else if (s >= 3600)
                snprintf(buf, n, "%" PRIu64 "h %02" PRIu64 "min", s / 3600, s % 3600 / 60);
        else if (s >= 60)
                snprintf(buf, n, "%" PRIu64 "min %02" PRIu64 "s", s / 60, s % 60);
        else
                snprintf(buf, n, "%" PRIu64 ".%01" PRIu64 "s", s, usec % 1000000 / 100000);
        return buf;
}

/* "tripwire 90%, pressure some 10% 1s, oom-kill" */
static void armed_text(json_object *g, char *buf, size_t n, bool long_form)
{
        json_object *a = get(g, "armed"), *tw = get(a, "tripwire"), *pr = get(a, "pressure");
        size_t len = 0;
        char sz[32];

        buf[0] = '\0';
#define ADD(...) (len += (size_t)snprintf(buf + len, len < n ? n - len : 0, __VA_ARGS__))
        if (tw && !get(tw, "memory_high") && !long_form) {
                /* Configured, but there is no memory.max to take it of. */
                ADD("no tripwire (no memory.max)");
        } else if (tw) {
                json_object *pct = get(tw, "percent");
                ADD("tripwire %g%%", pct ? json_object_get_double(pct) : 0.0);
                if (long_form) {
                        json_object *h = get(tw, "memory_high");
                        if (h)
                                ADD(" (memory.high %s)", size(json_object_get_uint64(h), sz,
                                                              sizeof(sz)));
                        else
                                ADD(" (not armed: no memory.max)");
                }
        }
        if (pr) {
                uint64_t stall = get_u64(pr, "stall_usec"), window = get_u64(pr, "window_usec");
                ADD("%spressure %s %gms/%gms", len ? ", " : "", get_str(pr, "kind", "some"),
                    (double)stall / 1000, (double)window / 1000);
                if (long_form && !get_bool(pr, "registered"))
                        ADD(" (not registered: no PSI)");
        }
        {
                json_object *node = get(a, "node"), *ma = get(node, "memory_available"),
                            *np = get(node, "pressure");
                if (ma && get(ma, "bytes"))
                        ADD("%snode MemAvailable < %s", len ? ", " : "",
                            size(get_u64(ma, "bytes"), sz, sizeof(sz)));
                else if (ma)
                        ADD("%snode MemAvailable < %g%%", len ? ", " : "",
                            json_object_get_double(get(ma, "percent")));
                if (np)
                        ADD("%snode pressure %s %gms/%gms", len ? ", " : "",
                            get_str(np, "kind", "some"),
                            (double)get_u64(np, "stall_usec") / 1000,
                            (double)get_u64(np, "window_usec") / 1000);
                if (long_form && np && !get_bool(np, "registered"))
                        ADD(" (not registered: no PSI)");
        }
        if (get_bool(a, "kernel_oom_kill"))
                ADD("%skernel-oom-kill", len ? ", " : "");
        if (long_form)
                ADD("%smemory.events by %s", len ? "; " : "", get_str(a, "memory_events", "?"));
        if (!len)
                ADD("-");
#undef ADD
        if (len >= n && n > 4)
                strcpy(buf + n - 4, "...");
}

static void kill_line(FILE *out, json_object *k, const char *indent)
{
        char t[64];
        int64_t emptied = get_i64(k, "emptied_msec", -1), reaction = get_i64(k, "reaction_usec", -1);
        const char *outcome = get_str(k, "outcome", "?");

        fprintf(out, "%s%s  %s  /%s: %s\n", indent, when(get_i64(k, "time_usec", 0), t, sizeof(t)),
                get_str(k, "trigger", "?"), get_str(k, "cgroup", "?"), get_str(k, "why", ""));
        fprintf(out, "%s    %s %" PRIu64 " process%s of /%s", indent,
                get_bool(k, "dry_run") ? "would have killed" : "killed", get_u64(k, "processes"),
                get_u64(k, "processes") == 1 ? "" : "es", get_str(k, "kill_cgroup", "?"));
        if (get(k, "victim_pid"))
                fprintf(out, " (victim %" PRId64 " %s)", get_i64(k, "victim_pid", 0),
                        get_str(k, "victim_comm", "?"));
        fprintf(out, ", rule %s, policy %s", get_str(k, "rule", "?"), get_str(k, "policy", "?"));
        if (reaction >= 0)
                fprintf(out, "; first signal %" PRId64 " us after the event", reaction);
        if (strcmp(outcome, "emptied") == 0 && emptied >= 0)
                fprintf(out, "; all gone %" PRId64 " ms after the kill started", emptied);
        else if (strcmp(outcome, "stuck") == 0)
                fprintf(out, "; processes were still there when confirming gave up");
        else if (strcmp(outcome, "pending") == 0)
                fprintf(out, "; not confirmed yet");
        fputc('\n', out);
}

static void daemon_text(FILE *out, json_object *d)
{
        json_object *cfg = get(d, "config"), *kills = get(d, "kills"), *by = get(kills, "by_trigger");
        char t[64], up[32], rss[32];
        bool first = true;

        fprintf(out, "cgsentryd %s (pid %" PRId64 "), up %s, %s resident\n",
                get_str(d, "version", "?"), get_i64(d, "pid", 0),
                duration(get_u64(d, "uptime_usec"), up, sizeof(up)),
                size(get_u64(d, "rss_bytes"), rss, sizeof(rss)));
        fprintf(out, "Config: %s, %" PRIu64 " rule%s, loaded %s (%" PRIu64 " reloads, %" PRIu64
                     " rejected)\n",
                get_str(cfg, "path", "?"), get_u64(cfg, "rules"),
                get_u64(cfg, "rules") == 1 ? "" : "s", when(get_i64(cfg, "loaded_usec", 0), t,
                                                            sizeof(t)),
                get_u64(cfg, "reloads"), get_u64(cfg, "reload_failures"));
        fprintf(out, "Supervising %" PRIu64 " cgroup%s (%" PRIu64 " watched directories",
                get_u64(d, "supervised_groups"), get_u64(d, "supervised_groups") == 1 ? "" : "s",
                get_u64(d, "watches"));
        if (get_u64(d, "polling_groups"))
                fprintf(out, ", %" PRIu64 " polled: inotify watches ran out",
                        get_u64(d, "polling_groups"));
        fprintf(out, "); %" PRIu64 " kill%s", get_u64(kills, "total"),
                get_u64(kills, "total") == 1 ? "" : "s");
        if (by && json_object_is_type(by, json_type_object)) {
                json_object_object_foreach(by, name, v) {
                        fprintf(out, "%s%s %" PRIu64, first ? " (" : ", ", name,
                                json_object_get_uint64(v));
                        first = false;
                }
        }
        fprintf(out, "%s", first ? "" : ")");
        if (get_u64(kills, "dry_runs"))
                fprintf(out, ", %" PRIu64 " dry runs", get_u64(kills, "dry_runs"));
        fputc('\n', out);
}

static void group_text(FILE *out, json_object *g)
{
        json_object *mem = get(g, "memory"), *ev = get(g, "events"), *pr = get(g, "pressure"),
                    *last = get(g, "last_kill");
        char armed[512], a[32], b[32], c[32];

        fprintf(out, "● /%s\n", get_str(g, "cgroup", "?"));
        fprintf(out, "       Rule: %s (policy %s%s)\n", get_str(g, "rule", "?"),
                get_str(g, "policy", "?"), get_bool(g, "dry_run") ? ", dry run" : "");
        armed_text(g, armed, sizeof(armed), true);
        fprintf(out, "      Armed: %s\n", armed);
        if (mem) {
                fprintf(out, "     Memory: %s of max %s (high %s", limit(mem, "current", a, sizeof(a)),
                        limit(mem, "max", b, sizeof(b)), limit(mem, "high", c, sizeof(c)));
                if (get(mem, "peak"))
                        fprintf(out, ", peak %s", limit(mem, "peak", a, sizeof(a)));
                if (get(mem, "swap_current"))
                        fprintf(out, ", swap %s of %s", limit(mem, "swap_current", a, sizeof(a)),
                                limit(mem, "swap_max", b, sizeof(b)));
                fprintf(out, ")\n");
        } else {
                fprintf(out, "     Memory: no memory controller\n");
        }
        if (pr) {
                json_object *lines[2] = { get(pr, "some"), get(pr, "full") };
                const char *names[2] = { "some", "full" };
                fprintf(out, "   Pressure:");
                for (int i = 0; i < 2; i++)
                        if (lines[i])
                                fprintf(out, "%s %s %.2f %.2f %.2f", i ? "," : "", names[i],
                                        json_object_get_double(get(lines[i], "avg10")),
                                        json_object_get_double(get(lines[i], "avg60")),
                                        json_object_get_double(get(lines[i], "avg300")));
                fprintf(out, " (avg10 avg60 avg300, %%)\n");
        }
        if (ev)
                fprintf(out, "     Events: high %" PRIu64 ", max %" PRIu64 ", oom %" PRIu64
                             ", oom_kill %" PRIu64 ", oom_group_kill %" PRIu64 "\n",
                        get_u64(ev, "high"), get_u64(ev, "max"), get_u64(ev, "oom"),
                        get_u64(ev, "oom_kill"), get_u64(ev, "oom_group_kill"));
        if (get_bool(g, "killing"))
                fprintf(out, "      State: a kill is under way\n");
        else if (get_u64(g, "cooldown_msec"))
                fprintf(out, "      State: cooling down after a kill, %.1fs left%s\n",
                        (double)get_u64(g, "cooldown_msec") / 1000,
                        get_bool(g, "cooldown_tripwire_live")
                                ? " (the killed processes are gone: the tripwire acts again)"
                                : "");
        else
                fprintf(out, "      State: watching\n");
        if (last) {
                fprintf(out, "  Last kill:\n");
                kill_line(out, last, "    ");
        }
}

/* The overview: one line per group. */
static void table_text(FILE *out, json_object *groups)
{
        size_t n = json_object_array_length(groups), w = strlen("CGROUP");

        for (size_t i = 0; i < n; i++) {
                size_t l = strlen(get_str(json_object_array_get_idx(groups, i), "cgroup", "")) + 1;
                w = l > w ? l : w;
        }
        if (w > 60)
                w = 60;
        fprintf(out, "%-*s %-12s %8s %8s %8s %6s  %s\n", (int)w, "CGROUP", "RULE", "CURRENT",
                "MAX", "PEAK", "SOME10", "ARMED / LAST KILL");
        for (size_t i = 0; i < n; i++) {
                json_object *g = json_object_array_get_idx(groups, i), *mem = get(g, "memory"),
                            *pr = get(g, "pressure"), *last = get(g, "last_kill");
                char path[4096], armed[256], a[32], b[32], c[32], t[64];
                snprintf(path, sizeof(path), "/%s", get_str(g, "cgroup", "?"));
                armed_text(g, armed, sizeof(armed), false);
                fprintf(out, "%-*s %-12s %8s %8s %8s ", (int)w, path, get_str(g, "rule", "?"),
                        limit(mem, "current", a, sizeof(a)), limit(mem, "max", b, sizeof(b)),
                        limit(mem, "peak", c, sizeof(c)));
                if (pr)
                        fprintf(out, "%6.2f", json_object_get_double(get(get(pr, "some"), "avg10")));
                else
                        fprintf(out, "%6s", "-");
                fprintf(out, "  %s%s", armed, get_bool(g, "dry_run") ? " (dry run)" : "");
                if (last)
                        fprintf(out, "; last kill %s (%s)",
                                when(get_i64(last, "time_usec", 0), t, sizeof(t)),
                                get_str(last, "trigger", "?"));
                fputc('\n', out);
        }
}

int cgsentry_status_print(FILE *out, json_object *status, bool one_group)
{
        json_object *d = get(status, "daemon"), *groups = get(status, "groups"),
                    *recent = get(status, "recent_kills");
        size_t n;

        if (!d || !groups || !json_object_is_type(groups, json_type_array))
                return -EINVAL;
        n = json_object_array_length(groups);
        if (one_group) {
                for (size_t i = 0; i < n; i++)
                        group_text(out, json_object_array_get_idx(groups, i));
        } else {
                daemon_text(out, d);
                if (n) {
                        fputc('\n', out);
                        table_text(out, groups);
                }
        }
        if (recent && json_object_array_length(recent) > (one_group ? 1u : 0u)) {
                fprintf(out, "\n%s:\n", one_group ? "Its recent kills" : "Recent kills");
                for (size_t i = 0; i < json_object_array_length(recent); i++)
                        kill_line(out, json_object_array_get_idx(recent, i), "  ");
        }
        return ferror(out) ? -EIO : 0;
}
