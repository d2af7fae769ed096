/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What operators ask and what they get: the kill statistics, the status
 * reply and its text, the Prometheus exposition (checked against the
 * format's rules, and by promtool when it is installed), the control
 * socket end to end with the real cgsentry binary, the peer check, and the
 * ExecBeforeKill=/ExecAfterKill= hooks on a fixture tree with the kill
 * calls recorded.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <math.h>
#include <sys/stat.h>

#include "cli.h"
#include "figures.h"
#include "stats.h"
#include "status-text.h"
#include "supervisor-env.h"
#include "supervisor-internal.h"

static const struct sv_trigger tripwire = { .kind = SV_TRIGGER_TRIPWIRE,
                                            .memory_max = 268435456, .permyriad = 9000 };

static struct cgsentry_kill_entry entry(const char *cgroup, const char *trigger, bool dry)
{
        return (struct cgsentry_kill_entry){ .time_usec = 1700000000000000, .cgroup = (char *)cgroup,
                                             .kill_cgroup = (char *)cgroup, .rule = "r",
                                             .policy = "kernel", .trigger = (char *)trigger,
                                             .why = "why", .processes = 3, .victim_pid = 42,
                                             .victim_comm = "hog", .dry_run = dry };
}

/* ---- stats ---------------------------------------------------------------- */

static void test_stats(void **state)
{
        struct cgsentry_stats st = {};
        struct cgsentry_kill_entry e = entry("a", "tripwire", false);
        uint64_t id = 0;

        for (int i = 0; i < 40; i++) {
                e.cgroup = (char *)(i % 2 ? "a" : "b");
                id = cgsentry_stats_kill(&st, &e);
                assert_int_equal(id, (uint64_t)i + 1);
        }
        /* The ring keeps the last 32, oldest first. */
        assert_int_equal(st.n_recent, CGSENTRY_RECENT_KILLS);
        assert_int_equal(cgsentry_stats_recent(&st, 0)->id, 9);
        assert_int_equal(cgsentry_stats_recent(&st, 31)->id, 40);
        assert_null(cgsentry_stats_recent(&st, 32));
        assert_null(cgsentry_stats_find(&st, 8));
        assert_non_null(cgsentry_stats_find(&st, 9));
        assert_int_equal(cgsentry_stats_last_of(&st, "a")->id, 40);
        assert_int_equal(cgsentry_stats_last_of(&st, "b")->id, 39);
        assert_null(cgsentry_stats_last_of(&st, "c"));
        /* One counter per (trigger, rule, policy, dry run). */
        e.dry_run = true;
        cgsentry_stats_kill(&st, &e);
        e.dry_run = false;
        e.trigger = "pressure";
        cgsentry_stats_kill(&st, &e);
        assert_int_equal(st.n_counters, 3);
        assert_int_equal(st.counters[0].kills, 40);
        assert_int_equal(st.counters[0].processes, 120);
        assert_int_equal(cgsentry_stats_find(&st, 41)->outcome, CGSENTRY_KILL_DRY_RUN);

        /* Buckets are "less or equal"; the first signal only is counted. */
        cgsentry_stats_reaction(&st, 40, 300);
        cgsentry_stats_reaction(&st, 40, 900);
        cgsentry_stats_reaction(&st, 39, 500);
        cgsentry_stats_reaction(&st, 1, 20000000); /* gone from the ring: still counted */
        assert_int_equal(st.reaction_count, 3);
        assert_int_equal(st.reaction_buckets[0], 2);
        assert_int_equal(st.reaction_buckets[CGSENTRY_REACTION_BUCKETS], 1);
        assert_int_equal(cgsentry_stats_find(&st, 40)->reaction_usec, 300);
        assert_true(fabs(st.reaction_sum - 20.0008) < 1e-9);

        cgsentry_stats_outcome(&st, 40, true, 12);
        cgsentry_stats_outcome(&st, 39, false, 5000);
        assert_int_equal(cgsentry_stats_find(&st, 40)->outcome, CGSENTRY_KILL_EMPTIED);
        assert_int_equal(cgsentry_stats_find(&st, 40)->emptied_msec, 12);
        assert_int_equal(cgsentry_stats_find(&st, 39)->outcome, CGSENTRY_KILL_STUCK);
        assert_int_equal(cgsentry_stats_find(&st, 39)->emptied_msec, -1);
        cgsentry_stats_done(&st);
}

/* ---- figures for the renderers -------------------------------------------- */

/* A name with everything a hostile tenant can put in a cgroup name. */
#define HOSTILE "evil\"name\\x\n\x1b[31m\xff"

struct fixture {
        struct cgsentry_stats st;
        struct cgsentry_daemon_figures d;
        struct cgsentry_group_figures g[3];
};

static void fixture_init(struct fixture *f)
{
        struct cgsentry_kill_entry e = entry("system.slice/web.service", "tripwire", false);

        memset(f, 0, sizeof(*f));
        cgsentry_stats_reaction(&f->st, cgsentry_stats_kill(&f->st, &e), 1500);
        e.cgroup = e.kill_cgroup = HOSTILE;
        e.rule = HOSTILE;
        cgsentry_stats_kill(&f->st, &e);
        f->d = (struct cgsentry_daemon_figures){
                .version = "1.2.3", .pid = 7, .now_usec = 1700000100000000,
                .started_usec = 1700000000000000, .uptime_usec = 100000000,
                .config_path = "/etc/cgsentry/cgsentry.conf", .config_loaded_usec = 1700000000500000,
                .n_rules = 2, .n_groups = 3, .n_watches = 9, .stats = &f->st,
                .rss_bytes = 3 << 20, .vm_bytes = 9 << 20, .cpu_seconds = 0.25, .open_fds = 12,
        };
        f->g[0] = (struct cgsentry_group_figures){
                .cgroup = strdup("system.slice/web.service"), .rule = strdup("svc"),
                .policy = strdup("kernel"), .tripwire_permyriad = 9000, .tripwire_armed = true,
                .tripwire_high = 241590272, .kernel_oom_kill = true, .memcg = true,
                .memory_current = 123456789, .memory_max = 268435456, .memory_high = 241590272,
                .have_peak = true, .memory_peak = 200000000, .have_swap = true,
                .swap_max = SV_LIMIT_MAX, .events = { .high = 12, .oom_kill = 1 }, .have_psi = true,
                .psi = { .some = { 1.25, 0.5, 0.1, 123456 }, .full = { 0.5, 0, 0, 6543 },
                         .has_full = true },
                .cooldown_msec = 8200, .cooldown_tripwire_live = true,
        };
        f->g[1] = (struct cgsentry_group_figures){
                .cgroup = strdup(HOSTILE), .rule = strdup(HOSTILE), .policy = strdup("largest"),
                .pressure = true, .stall_usec = 100000, .window_usec = 1000000, .memcg = true,
                .memory_max = SV_LIMIT_MAX, .memory_high = SV_LIMIT_MAX, .dry_run = true,
                .events_polled = true, .node_available_permyriad = 1000,
                .node_memavailable_armed = true,
        };
        f->g[2] = (struct cgsentry_group_figures){ .cgroup = strdup("nomem"), .rule = strdup("r"),
                                                   .policy = strdup("kernel"),
                                                   .tripwire_permyriad = 9000 };
}

static void fixture_done(struct fixture *f)
{
        for (size_t i = 0; i < 3; i++)
                cgsentry_group_figures_done(&f->g[i]);
        cgsentry_stats_done(&f->st);
}

static json_object *path_get(json_object *o, const char *path)
{
        char *copy = strdup(path), *save = NULL;

        for (char *k = strtok_r(copy, ".", &save); k && o; k = strtok_r(NULL, ".", &save)) {
                if (isdigit((unsigned char)*k))
                        o = json_object_array_get_idx(o, (size_t)atoi(k));
                else if (!json_object_object_get_ex(o, k, &o))
                        o = (json_object *)-1;
                if (o == (json_object *)-1) {
                        free(copy);
                        fail_msg("no key %s in %s", k, path);
                }
        }
        free(copy);
        return o;
}

static void test_status_json(void **state)
{
        struct fixture f;
        json_object *o = NULL, *again;
        const char *text;

        fixture_init(&f);
        assert_int_equal(cgsentry_status_json(&f.d, f.g, 3, NULL, &o), 0);
        /* Valid JSON whatever the names: printed and parsed back strictly. */
        text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        again = json_tokener_parse(text);
        assert_non_null(again);
        json_object_put(again);
        assert_null(strchr(text, '\x1b'));
        assert_null(strstr(text, "\xff"));

        assert_string_equal(json_object_get_string(path_get(o, "schema")), "cgsentry-status/1");
        assert_int_equal(json_object_get_int(path_get(o, "daemon.kills.total")), 2);
        assert_int_equal(json_object_get_int(path_get(o, "daemon.kills.by_trigger.tripwire")), 2);
        assert_null(path_get(o, "daemon.control_group"));
        assert_string_equal(json_object_get_string(path_get(o, "groups.0.cgroup")),
                            "system.slice/web.service");
        assert_int_equal(json_object_get_int64(path_get(o, "groups.0.armed.tripwire.memory_high")),
                         241590272);
        assert_null(path_get(o, "groups.0.armed.pressure"));
        assert_string_equal(json_object_get_string(path_get(o, "groups.0.memory.swap_max")), "max");
        assert_string_equal(json_object_get_string(path_get(o, "groups.0.pressure.some.avg10")),
                            "1.25");
        assert_int_equal(json_object_get_int(path_get(o, "groups.0.last_kill.reaction_usec")),
                         1500);
        assert_string_equal(json_object_get_string(path_get(o, "groups.0.last_kill.outcome")),
                            "pending");
        /* The hostile name, shown the way every message shows it. */
        assert_string_equal(json_object_get_string(path_get(o, "groups.1.cgroup")),
                            "evil\"name\\\\x\\x0a\\x1b[31m\\xff");
        assert_string_equal(json_object_get_string(path_get(o, "groups.1.armed.pressure.kind")),
                            "some");
        assert_false(json_object_get_boolean(path_get(o, "groups.1.armed.pressure.registered")));
        assert_string_equal(json_object_get_string(path_get(o, "groups.1.armed.memory_events")),
                            "poll");
        assert_null(path_get(o, "groups.1.pressure"));
        assert_true(json_object_get_double(path_get(o, "groups.1.armed.node.memory_available."
                                                       "percent")) == 10.0);
        assert_true(json_object_get_boolean(path_get(o, "groups.1.armed.node.memory_available."
                                                        "watching")));
        assert_null(path_get(o, "groups.1.armed.node.pressure"));
        assert_null(path_get(o, "groups.0.armed.node"));
        assert_null(path_get(o, "groups.2.memory"));
        assert_null(path_get(o, "groups.2.armed.tripwire.memory_high"));
        assert_null(path_get(o, "groups.2.events"));
        assert_null(path_get(o, "groups.2.last_kill"));
        assert_int_equal(json_object_array_length(path_get(o, "recent_kills")), 2);
        json_object_put(o);

        /* One group: its kills only. */
        assert_int_equal(cgsentry_status_json(&f.d, f.g, 1, f.g[0].cgroup, &o), 0);
        assert_int_equal(json_object_array_length(path_get(o, "recent_kills")), 1);
        json_object_put(o);
        fixture_done(&f);
}

static void test_status_text(void **state)
{
        struct fixture f;
        json_object *o = NULL;
        char *out = NULL;
        size_t len = 0;
        FILE *mf;

        fixture_init(&f);
        assert_int_equal(cgsentry_status_json(&f.d, f.g, 3, NULL, &o), 0);
        mf = open_memstream(&out, &len);
        assert_int_equal(cgsentry_status_print(mf, o, false), 0);
        fclose(mf);
        assert_non_null(strstr(out, "cgsentryd 1.2.3 (pid 7), up 1min 40s, 3.0M resident\n"));
        assert_non_null(strstr(out, "Supervising 3 cgroups (9 watched directories); 2 kills "
                                    "(tripwire 2)\n"));
        assert_non_null(strstr(out, "/system.slice/web.service"));
        assert_non_null(strstr(out, "117.7M"));
        assert_non_null(strstr(out, "tripwire 90%, kernel-oom-kill; last kill"));
        assert_non_null(strstr(out, "pressure some 100ms/1000ms, node MemAvailable < 10% (dry run)"));
        /* configured, but nothing to take 90% of: not shown as armed */
        assert_non_null(strstr(out, "  no tripwire (no memory.max)\n"));
        assert_non_null(strstr(out, "Recent kills:\n"));
        /* No raw control byte from a name reaches the terminal. */
        assert_null(strchr(out, '\x1b'));
        free(out);
        out = NULL;

        mf = open_memstream(&out, &len);
        assert_int_equal(cgsentry_status_print(mf, o, true), 0);
        fclose(mf);
        assert_non_null(strstr(out, "● /system.slice/web.service\n"));
        assert_non_null(strstr(out, "      Armed: tripwire 90% (memory.high 230.4M), "
                                    "kernel-oom-kill; memory.events by inotify\n"));
        assert_non_null(strstr(out, "     Memory: 117.7M of max 256.0M (high 230.4M, peak "
                                    "190.7M, swap 0B of max)\n"));
        assert_non_null(strstr(out, "   Pressure: some 1.25 0.50 0.10, full 0.50 0.00 0.00"));
        assert_non_null(strstr(out, "      State: cooling down after a kill, 8.2s left (the "
                                    "killed processes are gone: the tripwire acts again)\n"));
        assert_non_null(strstr(out, "killed 3 processes of /system.slice/web.service (victim 42 "
                                    "hog), rule r, policy kernel; first signal 1500 us after "
                                    "the event; not confirmed yet\n"));
        free(out);
        json_object_put(o);
        assert_int_equal(cgsentry_status_print(stdout, NULL, false), -EINVAL);
        fixture_done(&f);
}

/* ---- the Prometheus text format ------------------------------------------- */

struct family {
        char name[128], type[16];
        bool help;
};

static bool metric_name_ok(const char *s, size_t n)
{
        if (!n || !(isalpha((unsigned char)s[0]) || s[0] == '_' || s[0] == ':'))
                return false;
        for (size_t i = 1; i < n; i++)
                if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == ':'))
                        return false;
        return true;
}

/* Parse "{a="x",b="y"}" at *p; -1 on a violation. */
static int parse_labels(const char **p, char *le, size_t le_size)
{
        const char *s = *p;

        if (*s != '{')
                return 0;
        s++;
        while (*s != '}') {
                const char *name = s;
                size_t n = 0;
                char *v = NULL;
                while (isalnum((unsigned char)s[n]) || s[n] == '_')
                        n++;
                if (!n || s[n] != '=' || s[n + 1] != '"')
                        return -1;
                s += n + 2;
                if (n == 2 && strncmp(name, "le", 2) == 0)
                        v = le;
                while (*s != '"') {
                        if (!*s || *s == '\n')
                                return -1;
                        if (*s == '\\') {
                                s++;
                                if (*s != '\\' && *s != '"' && *s != 'n')
                                        return -1;
                        }
                        if (v && (size_t)(v - le) < le_size - 1)
                                *v++ = *s;
                        s++;
                }
                if (v)
                        *v = '\0';
                s++;
                if (*s == ',')
                        s++;
                else if (*s != '}')
                        return -1;
        }
        *p = s + 1;
        return 0;
}

/*
 * The rules of the text format 0.0.4 that a scraper enforces, plus the
 * naming conventions promtool lints: HELP and TYPE before a family's
 * samples, each family once and contiguous, valid names, label escapes,
 * numeric values, counters named _total, cumulative histogram buckets
 * ending with +Inf equal to _count, no duplicate series.
 */
static void check_exposition(const char *text)
{
        struct family fam[128];
        size_t n_fam = 0;
        char *copy = strdup(text), *save = NULL, *series[1024];
        size_t n_series = 0;
        double last_bucket = -1, inf_bucket = -1;

        assert_true(text[strlen(text) - 1] == '\n');
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                struct family *cur = n_fam ? &fam[n_fam - 1] : NULL;
                if (strncmp(line, "# HELP ", 7) == 0 || strncmp(line, "# TYPE ", 7) == 0) {
                        const char *name = line + 7;
                        size_t n = strcspn(name, " ");
                        assert_true(metric_name_ok(name, n));
                        if (!cur || strlen(cur->name) != n || strncmp(cur->name, name, n) != 0) {
                                for (size_t i = 0; i < n_fam; i++)
                                        if (strlen(fam[i].name) == n &&
                                            strncmp(fam[i].name, name, n) == 0)
                                                fail_msg("family %s appears twice", fam[i].name);
                                assert_true(n_fam < 128);
                                cur = &fam[n_fam++];
                                memset(cur, 0, sizeof(*cur));
                                memcpy(cur->name, name, n);
                        }
                        if (line[2] == 'H') {
                                assert_false(cur->help);
                                assert_true(strlen(name + n) > 1); /* some help text */
                                cur->help = true;
                        } else {
                                const char *type = name + n + 1;
                                assert_true(strcmp(type, "counter") == 0 ||
                                            strcmp(type, "gauge") == 0 ||
                                            strcmp(type, "histogram") == 0);
                                snprintf(cur->type, sizeof(cur->type), "%s", type);
                                if (strcmp(type, "counter") == 0 &&
                                    strcmp(cur->name + strlen(cur->name) - 6, "_total") != 0)
                                        fail_msg("counter %s is not named _total", cur->name);
                        }
                        continue;
                }
                assert_true(line[0] != '#');
                {
                        const char *p = line, *base;
                        size_t n = strcspn(p, "{ "), blen;
                        char le[32] = "", *end;
                        double v;
                        assert_true(metric_name_ok(p, n));
                        assert_non_null(cur);
                        assert_true(cur->help && cur->type[0]);
                        /* the sample belongs to the family just declared */
                        base = cur->name;
                        blen = strlen(base);
                        if (strcmp(cur->type, "histogram") == 0) {
                                assert_true(strncmp(p, base, blen) == 0);
                                assert_true(strncmp(p + blen, "_bucket", 7) == 0 ||
                                            strncmp(p + blen, "_sum", 4) == 0 ||
                                            strncmp(p + blen, "_count", 6) == 0);
                        } else {
                                assert_int_equal(n, blen);
                                assert_true(strncmp(p, base, n) == 0);
                        }
                        p += n;
                        assert_int_equal(parse_labels(&p, le, sizeof(le)), 0);
                        assert_true(*p == ' ');
                        p++;
                        if (strcmp(p, "+Inf") == 0)
                                v = INFINITY;
                        else {
                                v = strtod(p, &end);
                                assert_true(end != p && *end == '\0');
                        }
                        /* no duplicate series */
                        {
                                size_t key = (size_t)(p - 1 - line);
                                for (size_t i = 0; i < n_series; i++)
                                        if (strlen(series[i]) == key &&
                                            strncmp(series[i], line, key) == 0)
                                                fail_msg("duplicate series %s", series[i]);
                                assert_true(n_series < 1024);
                                series[n_series++] = strndup(line, key);
                        }
                        if (le[0]) {
                                assert_true(v >= last_bucket);
                                last_bucket = v;
                                if (strcmp(le, "+Inf") == 0)
                                        inf_bucket = v;
                        }
                        if (strstr(line, "_count ") && inf_bucket >= 0) {
                                assert_true(v == inf_bucket);
                                last_bucket = inf_bucket = -1;
                        }
                }
        }
        for (size_t i = 0; i < n_series; i++)
                free(series[i]);
        free(copy);
}

/* promtool (Debian's prometheus package) lints what a real server would
 * complain about; used when it is installed (tools/deps.sh fetches it). */
static void promtool_check(const char *text)
{
        const char *tool = getenv("CGSENTRY_PROMTOOL");
        char *cmd = NULL;
        FILE *p;

        if (!tool || !*tool || access(tool, X_OK) != 0) {
                print_message("promtool not available (CGSENTRY_PROMTOOL): format rules only\n");
                return;
        }
        assert_true(asprintf(&cmd, "%s check metrics", tool) > 0);
        p = popen(cmd, "w");
        assert_non_null(p);
        fputs(text, p);
        assert_int_equal(pclose(p), 0);
        free(cmd);
}

static void test_metrics(void **state)
{
        struct fixture f;
        char *out = NULL;
        size_t len = 0;
        FILE *mf;

        fixture_init(&f);
        mf = open_memstream(&out, &len);
        assert_int_equal(cgsentry_metrics_render(mf, &f.d, f.g, 3), 0);
        fclose(mf);
        check_exposition(out);
        promtool_check(out);
        assert_non_null(strstr(out, "cgsentry_kills_total{trigger=\"tripwire\",rule=\"r\","
                                    "policy=\"kernel\"} 1\n"));
        /* The hostile rule name: escaped twice, once as every name is
         * shown, once by the format (\\ and \"). */
        assert_non_null(strstr(out, "rule=\"evil\\\"name\\\\\\\\x\\\\x0a\\\\x1b[31m\\\\xff\""));
        assert_non_null(strstr(out, "cgsentry_kill_reaction_seconds_bucket{le=\"0.001\"} 0\n"
                                    "cgsentry_kill_reaction_seconds_bucket{le=\"0.0025\"} 1\n"));
        assert_non_null(strstr(out, "cgsentry_kill_reaction_seconds_count 1\n"));
        assert_non_null(strstr(out, "cgsentry_kill_reaction_seconds_sum 0.001500\n"));
        assert_non_null(strstr(out, "cgsentry_group_memory_max_bytes{cgroup=\"system.slice/"
                                    "web.service\",rule=\"svc\"} 268435456\n"));
        assert_non_null(strstr(out, "rule=\"evil\\\"name\\\\\\\\x\\\\x0a\\\\x1b[31m\\\\xff\"} "
                                    "+Inf\n"));
        assert_non_null(strstr(out, "cgsentry_group_memory_pressure_stalled_seconds_total{cgroup="
                                    "\"system.slice/web.service\",rule=\"svc\",kind=\"some\"} "
                                    "0.123456\n"));
        assert_non_null(strstr(out, "cgsentry_group_tripwire_bytes{cgroup=\"system.slice/"
                                    "web.service\",rule=\"svc\"} 241590272\n"));
        /* No per-group sample for the group without a memory controller. */
        assert_null(strstr(out, "cgroup=\"nomem\""));
        assert_non_null(strstr(out, "process_resident_memory_bytes 3145728\n"));
        free(out);
        fixture_done(&f);

        /* Nothing supervised, nothing killed yet: still valid. */
        out = NULL;
        mf = open_memstream(&out, &len);
        f.d.stats = NULL;
        assert_int_equal(cgsentry_metrics_render(mf, &f.d, NULL, 0), 0);
        fclose(mf);
        check_exposition(out);
        promtool_check(out);
        free(out);
}

/* ---- who may ask ------------------------------------------------------------ */

static void test_peer_allowed(void **state)
{
        const gid_t groups[] = { 10, 20, 1234 };

        assert_true(control_peer_allowed(0, 0, NULL, 0, NULL, 0, 0));
        assert_true(control_peer_allowed(1000, 1000, NULL, 0, NULL, 0, 1000)); /* our own user */
        assert_false(control_peer_allowed(1000, 1000, groups, 3, NULL, 0, 0));
        assert_true(control_peer_allowed(1000, 1000, groups, 3, "ops", 1234, 0));
        assert_true(control_peer_allowed(1000, 1234, NULL, 0, "ops", 1234, 0));
        assert_false(control_peer_allowed(1000, 1000, groups, 2, "ops", 1234, 0));
        /* gid 0 of a control group that is not configured means nothing */
        assert_false(control_peer_allowed(1000, 0, NULL, 0, NULL, 0, 0));
}

/* ---- the socket, end to end --------------------------------------------------- */

struct child {
        bool done;
        int64_t status;
};

static void child_exit(uv_process_t *p, int64_t status, int sig)
{
        struct child *c = p->data;

        c->done = true;
        c->status = status;
        uv_close((uv_handle_t *)p, NULL);
}

/* Run "sh -c @cmd" while the loop serves the daemon's side; its exit status. */
static int64_t run_client(struct env *e, const char *cmd)
{
        char *args[] = { "/bin/sh", "-c", (char *)cmd, NULL };
        uv_stdio_container_t stdio[3] = { { .flags = UV_IGNORE },
                                          { .flags = UV_INHERIT_FD, .data.fd = 1 },
                                          { .flags = UV_INHERIT_FD, .data.fd = 2 } };
        uv_process_options_t o = { .file = args[0], .args = args, .exit_cb = child_exit,
                                   .stdio = stdio, .stdio_count = 3 };
        uv_process_t p;
        struct child c = {};

        p.data = &c;
        assert_int_equal(uv_spawn(&e->loop, &p, &o), 0);
        while (!c.done)
                uv_run(&e->loop, UV_RUN_ONCE);
        return c.status;
}

static void test_socket_end_to_end(void **state)
{
        struct env *e = env_new("[Rule app]\nMatch=work.slice/app\nTripwire=90%\n"
                                "OnKernelOOMKill=group-kill\n");
        struct control *ctl = NULL;
        char *sock, *cmd, *out;
        json_object *o;

        assert_true(asprintf(&sock, "%s/run/control.sock", e->dir) > 0);
        assert_int_equal(control_start(e->sv, sock, &ctl), 0);
        assert_int_equal(supervisor_trigger(e->sv, "work.slice/app", &tripwire), 1);

        assert_true(asprintf(&cmd, "%s status --json --socket %s > %s/status.json", CGSENTRY_BIN,
                             sock, e->dir) > 0);
        assert_int_equal(run_client(e, cmd), 0);
        free(cmd);
        assert_true(asprintf(&cmd, "%s/status.json", e->dir) > 0);
        out = slurp(cmd);
        free(cmd);
        o = json_tokener_parse(out);
        assert_non_null(o);
        assert_int_equal(json_object_get_int(path_get(o, "daemon.supervised_groups")), 1);
        assert_int_equal(json_object_get_int(path_get(o, "daemon.kills.by_trigger.tripwire")), 1);
        assert_string_equal(json_object_get_string(path_get(o, "groups.0.cgroup")),
                            "work.slice/app");
        assert_string_equal(json_object_get_string(path_get(o, "groups.0.last_kill.trigger")),
                            "tripwire");
        /* read from the fixture's files */
        assert_int_equal(json_object_get_int64(path_get(o, "groups.0.memory.max")), 268435456);
        assert_int_equal(json_object_get_int64(path_get(o, "groups.0.armed.tripwire.memory_high")),
                         241590272);
        json_object_put(o);
        free(out);

        /* One group, by the path users type; an unknown one is exit 1. */
        assert_true(asprintf(&cmd, "%s status --socket %s /sys/fs/cgroup/work.slice/app > "
                                   "%s/one.txt", CGSENTRY_BIN, sock, e->dir) > 0);
        assert_int_equal(run_client(e, cmd), 0);
        free(cmd);
        assert_true(asprintf(&cmd, "%s status --socket %s work.slice/nope 2>/dev/null",
                             CGSENTRY_BIN, sock) > 0);
        assert_int_equal(run_client(e, cmd), 1);
        free(cmd);

        assert_true(asprintf(&cmd, "%s metrics --socket %s > %s/metrics.txt", CGSENTRY_BIN, sock,
                             e->dir) > 0);
        assert_int_equal(run_client(e, cmd), 0);
        free(cmd);
        assert_true(asprintf(&cmd, "%s/metrics.txt", e->dir) > 0);
        out = slurp(cmd);
        free(cmd);
        check_exposition(out);
        assert_non_null(strstr(out, "cgsentry_kills_total{trigger=\"tripwire\",rule=\"app\","
                                    "policy=\"kernel\"} 1\n"));
        assert_non_null(strstr(out, "cgsentry_kill_reaction_seconds_count 1\n"));
        free(out);

        /* A request that is not ours gets an answer, not silence. */
        assert_true(asprintf(&cmd, "printf 'GET / HTTP/1.0\\n' | python3 -c 'import socket,sys;"
                                   "s=socket.socket(socket.AF_UNIX);s.connect(sys.argv[1]);"
                                   "s.sendall(sys.stdin.buffer.read());print(s.recv(4096).decode())'"
                                   " %s > %s/bad.txt", sock, e->dir) > 0);
        if (access("/usr/bin/python3", X_OK) == 0) {
                assert_int_equal(run_client(e, cmd), 0);
                free(cmd);
                assert_true(asprintf(&cmd, "%s/bad.txt", e->dir) > 0);
                out = slurp(cmd);
                assert_non_null(strstr(out, "\"error\":\"EINVAL\""));
                free(out);
        }
        free(cmd);

        /* Anyone else gets the reason, not a reset connection (the daemon
         * reads the request before it refuses). */
        if (geteuid() == 0 && access("/usr/bin/setpriv", X_OK) == 0) {
                assert_int_equal(chmod(e->dir, 0755), 0);
                assert_true(asprintf(&cmd, "setpriv --reuid=65534 --regid=65534 --clear-groups "
                                           "%s status --socket %s 2> %s/refused.txt",
                                     CGSENTRY_BIN, sock, e->dir) > 0);
                assert_int_equal(run_client(e, cmd), 2);
                free(cmd);
                assert_true(asprintf(&cmd, "%s/refused.txt", e->dir) > 0);
                out = slurp(cmd);
                assert_non_null(strstr(out, "cgsentry status: permission denied: cgsentryd "
                                            "answers root only"));
                free(out);
                free(cmd);
        }

        /* Not running: exit 3. */
        control_stop(ctl);
        assert_int_equal(access(sock, F_OK), -1);
        assert_true(asprintf(&cmd, "%s status --socket %s 2>/dev/null", CGSENTRY_BIN, sock) > 0);
        assert_int_equal(run_client(e, cmd), 3);
        free(cmd);
        free(sock);
        env_free(e);
}

/* ---- hooks -------------------------------------------------------------------- */

static void write_script(const char *dir, const char *name, const char *body, mode_t mode)
{
        char *path, *text;
        FILE *f;

        assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
        assert_true(asprintf(&text, "#!/bin/sh\n%s\n", body) > 0);
        f = fopen(path, "we");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
        assert_int_equal(chmod(path, mode), 0);
        free(path);
        free(text);
}

static int index_of(const struct rec *r, const char *what, int sig)
{
        for (int i = 0; i < r->n; i++)
                if (strcmp(r->calls[i].what, what) == 0 && (!sig || r->calls[i].sig == sig))
                        return i;
        return -1;
}

static void test_after_kill_hook(void **state)
{
        struct env *e = env_new("[Rule app]\nMatch=work.slice/app\nOOMGroup=yes\n"
                                "ExecAfterKill=@DIR@/after.sh one two\n");
        char *path, *env;

        write_script(e->dir, "after.sh",
                     "env | sort > \"$(dirname \"$0\")/after.env\"; echo \"args $*\"; "
                     "printf 'no newline at the end'", 0755);
        assert_int_equal(supervisor_trigger(e->sv, "work.slice/app", &tripwire), 1);
        /* The kill went out first; the hook is running or about to. */
        assert_true(index_of(&e->rec, "signal", SIGKILL) >= 0);
        run_for(e, 1500);
        assert_true(asprintf(&path, "%s/after.env", e->dir) > 0);
        env = slurp(path);
        assert_non_null(strstr(env, "CGSENTRY_EVENT=after-kill\n"));
        assert_non_null(strstr(env, "CGSENTRY_CGROUP=work.slice/app\n"));
        assert_non_null(strstr(env, "CGSENTRY_KILL_CGROUP=work.slice/app\n"));
        assert_non_null(strstr(env, "CGSENTRY_TRIGGER=tripwire\n"));
        assert_non_null(strstr(env, "CGSENTRY_RULE=app\n"));
        assert_non_null(strstr(env, "CGSENTRY_POLICY=kernel\n"));
        assert_non_null(strstr(env, "CGSENTRY_KILLED_PIDS=100 201 300 301 302 400\n"));
        assert_non_null(strstr(env, "CGSENTRY_PROCESSES=6\n"));
        assert_non_null(strstr(env, "CGSENTRY_MEMORY_MAX=268435456\n"));
        assert_non_null(strstr(env, "CGSENTRY_KILL_ID=1\n"));
        assert_non_null(strstr(env, "CGSENTRY_VICTIM_PID="));
        /* none of the daemon's own environment */
        assert_null(strstr(env, "NOTIFY_SOCKET"));
        assert_null(strstr(env, "HOME="));
        free(env);
        free(path);
        assert_non_null(strstr(e->rec.log, "/after.sh: args one two\n"));
        assert_non_null(strstr(e->rec.log, "/after.sh: no newline at the end\n"));
        assert_non_null(strstr(e->rec.log, "/after.sh for /work.slice/app done in "));
        assert_int_equal(e->sv->stats.hooks_started, 1);
        env_free(e);
}

static void test_hook_refused(void **state)
{
        struct env *e = env_new("[Rule app]\nMatch=work.slice/app\n"
                                "ExecAfterKill=@DIR@/after.sh\n");

        write_script(e->dir, "after.sh", "touch \"$(dirname \"$0\")/ran\"", 0777);
        assert_int_equal(supervisor_trigger(e->sv, "work.slice/app", &tripwire), 1);
        run_for(e, 300);
        assert_non_null(strstr(e->rec.log, "refusing to run a world-writable hook"));
        assert_int_equal(e->sv->stats.hooks_refused, 1);
        assert_int_equal(e->sv->stats.hooks_started, 0);
        env_free(e);
}

/* ExecBeforeKill= runs first; SIGTERM waits for it; SIGKILL ends the grace. */
static void test_before_kill_hook(void **state)
{
        struct env *e = env_new("[Rule app]\nMatch=work.slice/app\nOOMGroup=yes\n"
                                "KillSignal=SIGTERM:1s,SIGKILL\n"
                                "ExecBeforeKill=@DIR@/before.sh\n");
        char *path;

        write_script(e->dir, "before.sh", "sleep 0.2; env > \"$(dirname \"$0\")/before.env\"",
                     0755);
        assert_int_equal(supervisor_trigger(e->sv, "work.slice/app", &tripwire), 1);
        assert_int_equal(index_of(&e->rec, "signal", SIGTERM), -1);
        run_for(e, 100);
        assert_int_equal(index_of(&e->rec, "signal", SIGTERM), -1);
        run_for(e, 400);
        assert_true(index_of(&e->rec, "signal", SIGTERM) >= 0);
        assert_int_equal(index_of(&e->rec, "signal", SIGKILL), -1);
        assert_true(asprintf(&path, "%s/before.env", e->dir) > 0);
        assert_int_equal(access(path, F_OK), 0);
        free(path);
        run_for(e, 800);
        assert_true(index_of(&e->rec, "signal", SIGKILL) >= 0);
        env_free(e);
}

/* A hook that hangs gets half the grace period, then SIGTERM goes out. */
static void test_before_kill_hook_deadline(void **state)
{
        struct env *e = env_new("[Rule app]\nMatch=work.slice/app\nOOMGroup=yes\n"
                                "KillSignal=SIGTERM:600ms,SIGKILL\n"
                                "ExecBeforeKill=@DIR@/hang.sh\n");

        write_script(e->dir, "hang.sh", "exec sleep 30", 0755);
        assert_int_equal(supervisor_trigger(e->sv, "work.slice/app", &tripwire), 1);
        run_for(e, 150);
        assert_int_equal(index_of(&e->rec, "signal", SIGTERM), -1);
        run_for(e, 350);
        assert_true(index_of(&e->rec, "signal", SIGTERM) >= 0);
        assert_non_null(strstr(e->rec.log, "killed at its deadline"));
        assert_int_equal(e->sv->stats.hooks_timed_out, 1);
        run_for(e, 300);
        assert_true(index_of(&e->rec, "signal", SIGKILL) >= 0);
        env_free(e);
}

/* A service's manager removes its emptied cgroup before the confirm timer
 * looks: the kill still counts as emptied, not as pending forever. */
static void test_outcome_when_the_group_goes(void **state)
{
        struct env *e = env_new("[Rule app]\nMatch=work.slice/app\nOOMGroup=yes\n");
        const struct cgsentry_kill_entry *k;

        assert_int_equal(supervisor_trigger(e->sv, "work.slice/app", &tripwire), 1);
        k = cgsentry_stats_recent(&e->sv->stats, 0);
        assert_int_equal(k->outcome, CGSENTRY_KILL_PENDING);
        supervisor_stop(e->sv); /* closes the group as a removal would */
        assert_int_equal(k->outcome, CGSENTRY_KILL_EMPTIED);
        assert_true(k->emptied_msec >= 0);
        assert_true(k->reaction_usec >= 0);
        env_free(e);
}

/* ---- configuration -------------------------------------------------------------- */

static void test_config_keys(void **state)
{
        struct cgsentry_config *c = NULL;
        char *errs = NULL;
        size_t len = 0;
        FILE *f;

        assert_int_equal(cgsentry_config_load_string(
                                 "[Daemon]\nControlSocket=/run/x.sock\nControlGroup=root\n"
                                 "MetricsTextfile=/var/lib/node/cgsentry.prom\n"
                                 "MetricsInterval=15s\n"
                                 "[Rule r]\nMatch=a/*\nKillSignal=SIGTERM:5s,SIGKILL\n"
                                 "ExecBeforeKill=/usr/bin/logger  -t  cgsentry\n"
                                 "ExecAfterKill=/bin/true\nHookTimeout=2s\n",
                                 "t.conf", stderr, &c),
                         0);
        assert_string_equal(c->control_socket, "/run/x.sock");
        assert_string_equal(c->control_group, "root");
        assert_int_equal(c->control_gid, 0);
        assert_string_equal(c->metrics_textfile, "/var/lib/node/cgsentry.prom");
        assert_int_equal(c->metrics_interval_usec, 15000000);
        assert_string_equal(c->rules[0].exec_before_kill[0], "/usr/bin/logger");
        assert_string_equal(c->rules[0].exec_before_kill[1], "-t");
        assert_string_equal(c->rules[0].exec_before_kill[2], "cgsentry");
        assert_null(c->rules[0].exec_before_kill[3]);
        assert_int_equal(c->rules[0].hook_timeout_usec, 2000000);
        cgsentry_config_free(c);

        assert_int_equal(cgsentry_config_load_string("[Daemon]\nControlSocket=no\n", "t.conf",
                                                     stderr, &c),
                         0);
        assert_true(c->control_socket_off);
        cgsentry_config_free(c);

        f = open_memstream(&errs, &len);
        assert_int_equal(cgsentry_config_load_string(
                                 "[Daemon]\nControlSocket=relative.sock\n"
                                 "ControlGroup=no-such-group-cgsentry\nMetricsTextfile=x.prom\n"
                                 "MetricsInterval=10ms\n"
                                 "[Rule r]\nMatch=a/*\nExecBeforeKill=/bin/true\n"
                                 "ExecAfterKill=true\nHookTimeout=1h\n"
                                 "[Rule q]\nMatch=b\nExecAfterKill=/bin/sh -c \"echo x\"\n",
                                 "t.conf", f, &c),
                         -EINVAL);
        fclose(f);
        assert_non_null(strstr(errs, "t.conf:2: ControlSocket=relative.sock: expected an "
                                     "absolute path, or no\n"));
        assert_non_null(strstr(errs, "t.conf:3: ControlGroup=no-such-group-cgsentry: no such "
                                     "group\n"));
        assert_non_null(strstr(errs, "t.conf:4: MetricsTextfile=x.prom: expected an absolute "
                                     "file path\n"));
        assert_non_null(strstr(errs, "t.conf:5: MetricsInterval=10ms: "));
        assert_non_null(strstr(errs, "t.conf:9: ExecAfterKill=true: expected an absolute path"));
        assert_non_null(strstr(errs, "t.conf:10: HookTimeout=1h: "));
        assert_non_null(strstr(errs, "t.conf:13: ExecAfterKill=/bin/sh -c \"echo x\": quotes and "
                                     "backslashes are not supported"));
        assert_non_null(strstr(errs, "t.conf:6: [Rule r] has ExecBeforeKill= but no grace "
                                     "period"));
        free(errs);
}

static void test_hook_environment(void **state)
{
        struct hook_facts f = { .event = "after-kill", .cgroup = "a/\nb", .kill_cgroup = "a",
                                .rule = "r", .policy = "kernel", .trigger = "pressure",
                                .why = "some 12%", .killed_pids = "1 2", .victim_pid = 0,
                                .victim_comm = "x\x1b", .n_processes = 2,
                                .memory_current = 5, .memory_max = SV_LIMIT_MAX,
                                .memory_high = SV_LIMIT_MAX, .swap_current = 0, .kill_id = 9 };
        char **env = hook_environment(&f);
        char *all = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&all, &len);

        assert_non_null(env);
        for (char **p = env; *p; p++)
                fprintf(m, "%s\n", *p);
        fclose(m);
        assert_non_null(strstr(all, "CGSENTRY_CGROUP=a/\\x0ab\n"));
        assert_non_null(strstr(all, "CGSENTRY_VICTIM_PID=\n"));
        assert_non_null(strstr(all, "CGSENTRY_VICTIM_COMM=x\\x1b\n"));
        assert_non_null(strstr(all, "CGSENTRY_MEMORY_MAX=max\n"));
        assert_non_null(strstr(all, "CGSENTRY_REASON=some 12%\n"));
        assert_non_null(strstr(all, "PATH=/usr/local/sbin:"));
        free(all);
        cgsentry_strv_free(env);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_stats),
                cmocka_unit_test(test_status_json),
                cmocka_unit_test(test_status_text),
                cmocka_unit_test(test_metrics),
                cmocka_unit_test(test_peer_allowed),
                cmocka_unit_test(test_socket_end_to_end),
                cmocka_unit_test(test_after_kill_hook),
                cmocka_unit_test(test_hook_refused),
                cmocka_unit_test(test_before_kill_hook),
                cmocka_unit_test(test_before_kill_hook_deadline),
                cmocka_unit_test(test_outcome_when_the_group_goes),
                cmocka_unit_test(test_config_keys),
                cmocka_unit_test(test_hook_environment),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
