/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Snapshots as JSON, schema "cgsentry-snapshot/1": a domain saved on one
 * machine can be explained later, elsewhere, or in a test.
 *
 * sv_snapshot_to_json() writes every field of every group and task, so that
 * reading it back gives the same snapshot and writing that gives the same
 * text. sv_snapshot_from_json() reads that, and also a short hand-written
 * form in which only these keys are required:
 *
 *   {
 *     "schema": "cgsentry-snapshot/1",
 *     "groups": [
 *       { "path": "/app", "parent": null, "memcg": true,
 *         "memory_max": 268435456, "oom_group": false,
 *         "tasks": [ { "pid": 100, "comm": "bash", "oom_score_adj": 0,
 *                      "rss_anon_kb": 4000 } ] },
 *       { "path": "/app/web", "parent": 0, "memcg": true,
 *         "memory_max": "max", "oom_group": true, "tasks": [] }
 *     ]
 *   }
 *
 * What is left out defaults to:
 *  - top level: domain = groups[0].path, page_size 4096, total_ram_pages and
 *    total_swap_pages 0, swappiness 60, free_swap_pages = total_swap_pages,
 *    swap_headroom what the domain's own memory.swap.max and the free swap
 *    allow (0 when swappiness is 0);
 *  - group: prefer, avoid false; memory_high, swap_max "max"; memory_low, memory_min, every
 *    counter, ino, events, stat, pressure 0; no "full" pressure line;
 *    subtree_control empty; cgroup_events false; and when "have" itself is
 *    absent, its bits say what was given: memory and events follow memcg,
 *    swap is set by swap_current or swap_max, pressure by pressure, stat by
 *    stat, peak by memory_peak;
 *  - task: has_mm true, state "" (unknown), oom_adj absent (the legacy
 *    /proc/PID/oom_adj, -17..16), every other number 0;
 *  - "vm": the sysctls that decide an OOM's outcome, each optional with the
 *    kernel's default: panic_on_oom 0 (0..2), oom_kill_allocating_task 0,
 *    oom_dump_tasks 1 (0..1), overcommit_memory 0 (0..2), overcommit_ratio
 *    50, overcommit_kbytes 0; commit_limit_kb and committed_as_kb (from
 *    meminfo) come together or not at all.
 *
 * Limits (memory_max, memory_high, memory_low, memory_min, swap_max) are a
 * byte count or "max". Groups come in pre-order, as the snapshot stores them:
 * each parent is an earlier group and every subtree is contiguous.
 *
 * Reading is strict: a lenient reader would turn a typo in a hand-written
 * file into a silent zero. Unknown keys, wrong types, negative or
 * overflowing numbers, and values the kernel cannot have are errors whose
 * message names the key, as in "groups[3].tasks[1].oom_score_adj: out of
 * range". json-c turns integers beyond 64 bits into UINT64_MAX, which is
 * therefore refused as out of range everywhere (limits spell it "max").
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "util.h"

#define SV_SNAPSHOT_SCHEMA "cgsentry-snapshot/1"
/* A snapshot of 10,000 groups and 100,000 tasks is about 60 MiB. */
#define SV_SNAPSHOT_FILE_MAX (256u << 20)

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

/* ---- field tables shared by the writer and the reader -------------------- */

/* A uint64_t member written under its own name. */
struct u64_field {
        const char *name; /* first: check_keys() reads tables through it */
        size_t offset;
        bool required;
        uint64_t max;
};

#define EVENT(f) { #f, offsetof(struct sv_memory_events, f), false, UINT64_MAX }
static const struct u64_field event_fields[] = {
        EVENT(low), EVENT(high), EVENT(max), EVENT(oom), EVENT(oom_kill), EVENT(oom_group_kill),
};

#define STAT(f) { #f, offsetof(struct sv_memory_stat, f), false, UINT64_MAX }
static const struct u64_field stat_fields[] = {
        STAT(anon),          STAT(file),
        STAT(kernel),        STAT(kernel_stack),
        STAT(pagetables),    STAT(sock),
        STAT(shmem),         STAT(file_mapped),
        STAT(file_dirty),    STAT(file_writeback),
        STAT(swapcached),    STAT(active_anon),
        STAT(inactive_anon), STAT(active_file),
        STAT(inactive_file), STAT(unevictable),
        STAT(slab),          STAT(workingset_refault_anon),
        STAT(workingset_refault_file), STAT(pgscan),
        STAT(pgsteal),       STAT(pgfault),
        STAT(pgmajfault),    STAT(slab_reclaimable),
        STAT(slab_unreclaimable), STAT(sec_pagetables),
        STAT(percpu),        STAT(vmalloc),
        STAT(zswap),
};

/* A field added to these structs must be added to the tables too, or the
 * round trip would silently drop it. */
_Static_assert(sizeof(struct sv_memory_events) == ELEMENTSOF(event_fields) * sizeof(uint64_t),
               "event_fields does not cover struct sv_memory_events");
_Static_assert(sizeof(struct sv_memory_stat) == ELEMENTSOF(stat_fields) * sizeof(uint64_t),
               "stat_fields does not cover struct sv_memory_stat");

/* Sizes in kB: the byte count must fit in 64 bits, as callers multiply by 1024. */
#define TASK_KB(f, req) { #f, offsetof(struct sv_task, f), req, UINT64_MAX / 1024 }
static const struct u64_field task_kb_fields[] = {
        TASK_KB(vm_size_kb, false),   TASK_KB(rss_anon_kb, true), TASK_KB(rss_file_kb, false),
        TASK_KB(rss_shmem_kb, false), TASK_KB(vm_swap_kb, false), TASK_KB(vm_pte_kb, false),
};

struct bit_name {
        const char *name; /* first: check_keys() reads tables through it */
        unsigned bit;
};

static const struct bit_name have_bits[] = {
        { "memory", SV_HAVE_MEMORY }, { "swap", SV_HAVE_SWAP },  { "events", SV_HAVE_EVENTS },
        { "pressure", SV_HAVE_PRESSURE }, { "stat", SV_HAVE_STAT }, { "peak", SV_HAVE_PEAK },
};

/* Spelled as in cgroup.controllers. */
static const struct bit_name controllers[] = {
        { "cpuset", SV_CTRL_CPUSET }, { "cpu", SV_CTRL_CPU },       { "io", SV_CTRL_IO },
        { "memory", SV_CTRL_MEMORY }, { "hugetlb", SV_CTRL_HUGETLB }, { "pids", SV_CTRL_PIDS },
        { "rdma", SV_CTRL_RDMA },     { "misc", SV_CTRL_MISC },
};

static const char *const top_keys[] = {
        "schema",           "domain",     "page_size", "total_ram_pages",
        "total_swap_pages", "swappiness", "groups",
        "free_swap_pages",  "swap_headroom",
        "vm",               "commit_limit_kb", "committed_as_kb",
};

static const char *const vm_keys[] = {
        "panic_on_oom",      "oom_kill_allocating_task", "oom_dump_tasks",
        "overcommit_memory", "overcommit_ratio",         "overcommit_kbytes",
};

static const char *const group_keys[] = {
        "path",          "parent",       "ino",          "memcg",        "have",
        "subtree_control", "memory_current", "memory_max", "memory_high", "memory_low",
        "memory_min",    "memory_peak",  "swap_current", "swap_max",     "oom_group",
        "prefer",        "avoid",        "threaded",     "path_hex",
        "events",        "events_local", "pressure",     "stat",         "cgroup_events",
        "tasks",
};

static const char *const task_keys[] = {
        "pid",         "ppid",        "uid",          "comm",         "state",
        "flags",       "starttime",   "oom_score_adj", "has_mm",      "vm_size_kb",
        "rss_anon_kb", "rss_file_kb", "rss_shmem_kb", "vm_swap_kb",   "vm_pte_kb",
        "comm_hex",    "oom_adj",
};

static const char *const pressure_keys[] = { "some", "full" };
static const char *const psi_keys[] = { "avg10", "avg60", "avg300", "total_usec" };
static const char *const cgevents_keys[] = { "populated", "frozen" };

static uint64_t *u64_at(void *base, const struct u64_field *f)
{
        return (uint64_t *)((char *)base + f->offset);
}

/* ---- writing ------------------------------------------------------------- */

static char *hex_encode(const char *s)
{
        size_t n = strlen(s);
        char *hex = malloc(2 * n + 1);

        for (size_t i = 0; hex && i < n; i++)
                snprintf(hex + 2 * i, 3, "%02x", (unsigned char)s[i]);
        if (hex)
                hex[2 * n] = '\0';
        return hex;
}

/*
 * json-c constructors return NULL when out of memory. Rather than checking
 * every call, the helpers below take NULL anywhere, free what could not be
 * attached, and remember the first error; the caller checks once at the end.
 */
struct enc {
        int r;
};

static void enc_fail(struct enc *e, int r)
{
        if (e->r == 0)
                e->r = r;
}

/* Attach @v (NULL for JSON null when @null_ok) to @o; returns @v or NULL. */
static json_object *enc_add_ex(struct enc *e, json_object *o, const char *key, json_object *v,
                               bool null_ok)
{
        if (!o || (!v && !null_ok) ||
            json_object_object_add_ex(o, key, v, JSON_C_OBJECT_ADD_KEY_IS_NEW |
                                                         JSON_C_OBJECT_KEY_IS_CONSTANT) < 0) {
                json_object_put(v);
                enc_fail(e, -ENOMEM);
                return NULL;
        }
        return v;
}

static json_object *enc_add(struct enc *e, json_object *o, const char *key, json_object *v)
{
        return enc_add_ex(e, o, key, v, false);
}

static json_object *enc_push(struct enc *e, json_object *arr, json_object *v)
{
        if (!arr || !v || json_object_array_add(arr, v) < 0) {
                json_object_put(v);
                enc_fail(e, -ENOMEM);
                return NULL;
        }
        return v;
}

static json_object *enc_limit(uint64_t v)
{
        return v == SV_LIMIT_MAX ? json_object_new_string("max") : json_object_new_uint64(v);
}

/*
 * json-c prints doubles with "%.17g", so the kernel's 0.10 would come out as
 * 0.10000000000000001. Print the fewest decimals that read back as the same
 * value instead (PSI averages are 0.00 to 100.00), with at least one so the
 * number stays a JSON double; far out of that range "%.17g" is fine.
 */
static json_object *enc_double(struct enc *e, double v)
{
        char buf[40];
        bool done = false;

        if (!isfinite(v)) {
                /* JSON has no spelling for it; neither reader can produce one. */
                enc_fail(e, -EINVAL);
                return NULL;
        }
        if (fabs(v) < 1e15)
                for (int prec = 1; prec <= 17 && !done; prec++) {
                        snprintf(buf, sizeof(buf), "%.*f", prec, v);
                        done = strtod(buf, NULL) == v;
                }
        if (!done)
                snprintf(buf, sizeof(buf), "%.17g", v);
        /* A locale may have set a decimal comma; JSON wants a point. */
        for (char *p = buf; *p; p++)
                if (*p == ',')
                        *p = '.';
        if (!strpbrk(buf, ".eE"))
                strcat(buf, ".0");
        return json_object_new_double_s(v, buf);
}

static json_object *enc_u64_fields(struct enc *e, const void *base, const struct u64_field *f,
                                   size_t n)
{
        json_object *o = json_object_new_object();

        for (size_t i = 0; i < n; i++)
                enc_add(e, o, f[i].name,
                        json_object_new_uint64(*u64_at((void *)base, &f[i])));
        return o;
}

static json_object *enc_bits(struct enc *e, unsigned bits, const struct bit_name *b, size_t n)
{
        json_object *o = json_object_new_object();

        for (size_t i = 0; i < n; i++)
                enc_add(e, o, b[i].name, json_object_new_boolean(!!(bits & b[i].bit)));
        return o;
}

static json_object *enc_psi_line(struct enc *e, const struct sv_psi_line *l)
{
        json_object *o = json_object_new_object();

        enc_add(e, o, "avg10", enc_double(e, l->avg10));
        enc_add(e, o, "avg60", enc_double(e, l->avg60));
        enc_add(e, o, "avg300", enc_double(e, l->avg300));
        enc_add(e, o, "total_usec", json_object_new_uint64(l->total_usec));
        return o;
}

static json_object *enc_task(struct enc *e, const struct sv_task *t)
{
        json_object *o = json_object_new_object();
        char state[2] = { t->state, '\0' };

        enc_add(e, o, "pid", json_object_new_int(t->pid));
        enc_add(e, o, "ppid", json_object_new_int(t->ppid));
        enc_add(e, o, "uid", json_object_new_uint64(t->uid));
        /* Names are bytes (prctl(PR_SET_NAME) takes anything); JSON is UTF-8.
         * A name that is not valid UTF-8 is shown with U+FFFD and kept exactly
         * in comm_hex, which the loader prefers. */
        if (sv__utf8_valid(t->comm)) {
                enc_add(e, o, "comm",
                        json_object_new_string_len(t->comm,
                                                   (int)strnlen(t->comm, SV_COMM_LEN - 1)));
        } else {
                char shown[SV_COMM_UTF8_SIZE], hex[2 * SV_COMM_LEN + 1] = "";
                sv__utf8_sanitize(t->comm, shown, sizeof(shown));
                for (size_t i = 0; t->comm[i] && i < SV_COMM_LEN - 1; i++)
                        snprintf(hex + 2 * i, 3, "%02x", (unsigned char)t->comm[i]);
                enc_add(e, o, "comm", json_object_new_string(shown));
                enc_add(e, o, "comm_hex", json_object_new_string(hex));
        }
        enc_add(e, o, "state", json_object_new_string(state));
        enc_add(e, o, "flags", json_object_new_uint64(t->flags));
        enc_add(e, o, "starttime", json_object_new_uint64(t->starttime));
        enc_add(e, o, "oom_score_adj", json_object_new_int(t->oom_score_adj));
        enc_add(e, o, "has_mm", json_object_new_boolean(t->has_mm));
        if (t->has_oom_adj)
                enc_add(e, o, "oom_adj", json_object_new_int(t->oom_adj));
        for (size_t i = 0; i < ELEMENTSOF(task_kb_fields); i++)
                enc_add(e, o, task_kb_fields[i].name,
                        json_object_new_uint64(*u64_at((void *)t, &task_kb_fields[i])));
        return o;
}

static json_object *enc_group(struct enc *e, const struct sv_snapshot *s, const struct sv_group *g)
{
        json_object *o = json_object_new_object(), *ctrl, *pressure, *cgev, *tasks;

        /* Cgroup names are bytes too (anything but '/' and NUL): a path that
         * is not UTF-8 is shown escaped and kept exactly in path_hex. */
        if (sv__utf8_valid(g->path)) {
                enc_add(e, o, "path", json_object_new_string(g->path));
        } else {
                char *shown = sv_escape_dup(g->path), *hex = hex_encode(g->path);
                enc_add(e, o, "path", shown ? json_object_new_string(shown) : NULL);
                enc_add(e, o, "path_hex", hex ? json_object_new_string(hex) : NULL);
                free(shown);
                free(hex);
        }
        enc_add_ex(e, o, "parent", g->parent < 0 ? NULL : json_object_new_int(g->parent), true);
        enc_add(e, o, "ino", json_object_new_uint64(g->ino));
        enc_add(e, o, "memcg", json_object_new_boolean(g->memcg));
        enc_add(e, o, "have", enc_bits(e, g->have, have_bits, ELEMENTSOF(have_bits)));

        ctrl = enc_add(e, o, "subtree_control", json_object_new_array());
        for (size_t i = 0; i < ELEMENTSOF(controllers); i++)
                if (g->subtree_control & controllers[i].bit)
                        enc_push(e, ctrl, json_object_new_string(controllers[i].name));

        enc_add(e, o, "memory_current", json_object_new_uint64(g->memory_current));
        enc_add(e, o, "memory_max", enc_limit(g->memory_max));
        enc_add(e, o, "memory_high", enc_limit(g->memory_high));
        enc_add(e, o, "memory_low", enc_limit(g->memory_low));
        enc_add(e, o, "memory_min", enc_limit(g->memory_min));
        enc_add(e, o, "memory_peak", json_object_new_uint64(g->memory_peak));
        enc_add(e, o, "swap_current", json_object_new_uint64(g->swap_current));
        enc_add(e, o, "swap_max", enc_limit(g->swap_max));
        enc_add(e, o, "oom_group", json_object_new_boolean(g->oom_group));
        enc_add(e, o, "prefer", json_object_new_boolean(g->prefer));
        enc_add(e, o, "avoid", json_object_new_boolean(g->avoid));
        enc_add(e, o, "threaded", json_object_new_boolean(g->threaded));
        enc_add(e, o, "events",
                enc_u64_fields(e, &g->events, event_fields, ELEMENTSOF(event_fields)));
        enc_add(e, o, "events_local",
                enc_u64_fields(e, &g->events_local, event_fields, ELEMENTSOF(event_fields)));

        pressure = enc_add(e, o, "pressure", json_object_new_object());
        enc_add(e, pressure, "some", enc_psi_line(e, &g->pressure.some));
        enc_add_ex(e, pressure, "full",
                   g->pressure.has_full ? enc_psi_line(e, &g->pressure.full) : NULL, true);

        enc_add(e, o, "stat", enc_u64_fields(e, &g->stat, stat_fields, ELEMENTSOF(stat_fields)));

        cgev = enc_add(e, o, "cgroup_events", json_object_new_object());
        enc_add(e, cgev, "populated", json_object_new_boolean(g->cgevents.populated));
        enc_add(e, cgev, "frozen", json_object_new_boolean(g->cgevents.frozen));

        tasks = enc_add(e, o, "tasks", json_object_new_array());
        for (size_t i = g->first_task; i < g->first_task + g->n_tasks && i < s->n_tasks; i++)
                enc_push(e, tasks, enc_task(e, &s->tasks[i]));
        return o;
}

int sv_snapshot_to_json(const struct sv_snapshot *s, FILE *out)
{
        struct enc e = { 0 };
        json_object *root = json_object_new_object(), *groups;
        const char *text;
        int r;

        enc_add(&e, root, "schema", json_object_new_string(SV_SNAPSHOT_SCHEMA));
        enc_add(&e, root, "domain", json_object_new_string(s->domain));
        enc_add(&e, root, "page_size", json_object_new_uint64(s->page_size));
        enc_add(&e, root, "total_ram_pages", json_object_new_uint64(s->total_ram_pages));
        enc_add(&e, root, "total_swap_pages", json_object_new_uint64(s->total_swap_pages));
        enc_add(&e, root, "swappiness", json_object_new_int(s->swappiness));
        enc_add(&e, root, "free_swap_pages", json_object_new_uint64(s->free_swap_pages));
        enc_add(&e, root, "swap_headroom", json_object_new_uint64(s->swap_headroom));
        {
                json_object *vm = enc_add(&e, root, "vm", json_object_new_object());
                enc_add(&e, vm, "panic_on_oom", json_object_new_int(s->vm.panic_on_oom));
                enc_add(&e, vm, "oom_kill_allocating_task",
                        json_object_new_int(s->vm.oom_kill_allocating_task));
                enc_add(&e, vm, "oom_dump_tasks", json_object_new_int(s->vm.oom_dump_tasks));
                enc_add(&e, vm, "overcommit_memory", json_object_new_int(s->vm.overcommit_memory));
                enc_add(&e, vm, "overcommit_ratio", json_object_new_int(s->vm.overcommit_ratio));
                enc_add(&e, vm, "overcommit_kbytes", json_object_new_uint64(s->vm.overcommit_kbytes));
        }
        if (s->have_commit) {
                enc_add(&e, root, "commit_limit_kb", json_object_new_uint64(s->commit_limit_kb));
                enc_add(&e, root, "committed_as_kb", json_object_new_uint64(s->committed_as_kb));
        }
        groups = enc_add(&e, root, "groups", json_object_new_array());
        for (size_t i = 0; i < s->n_groups; i++)
                enc_push(&e, groups, enc_group(&e, s, &s->groups[i]));

        r = e.r;
        if (r == 0) {
                text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
                                                                    JSON_C_TO_STRING_SPACED |
                                                                    JSON_C_TO_STRING_NOSLASHESCAPE);
                if (!text)
                        r = -ENOMEM;
                /* Flush so that a full disk is reported here, not lost in fclose(). */
                else if (fputs(text, out) == EOF || fputc('\n', out) == EOF || fflush(out) == EOF)
                        r = -EIO;
        }
        json_object_put(root);
        return r;
}

/* ---- reading ------------------------------------------------------------- */

struct dec {
        struct sv_error *err;
        const char *name; /* the input, for err->path */
};

/* "@where.@key: message", e.g. "groups[3].tasks[1].oom_score_adj: out of range". */
__attribute__((format(printf, 4, 5)))
static int fail(struct dec *d, const char *where, const char *key, const char *fmt, ...)
{
        char what[sizeof(d->err->what)];
        size_t n = 0;
        va_list ap;

        if (*where || key) {
                int k = snprintf(what, sizeof(what), "%s%s%s: ", where, *where && key ? "." : "",
                                 key ? key : "");
                n = k < 0 ? 0 : (size_t)k < sizeof(what) ? (size_t)k : sizeof(what) - 1;
        }
        va_start(ap, fmt);
        vsnprintf(what + n, sizeof(what) - n, fmt, ap);
        va_end(ap);
        return sv__error(d->err, EINVAL, d->name, NULL, what);
}

static int wrong_type(struct dec *d, const char *where, const char *key, const char *expected,
                      json_object *v)
{
        return fail(d, where, key, "expected %s, got %s", expected,
                    json_type_to_name(json_object_get_type(v)));
}

/* Every key of @o must be a name in @table (an array of structs whose first
 * member is the name). */
static int check_keys(struct dec *d, json_object *o, const char *where, const void *table,
                      size_t n, size_t stride)
{
        struct json_object_iterator it = json_object_iter_begin(o), end = json_object_iter_end(o);

        for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
                const char *key = json_object_iter_peek_name(&it);
                size_t i;

                for (i = 0; i < n; i++) {
                        const char *name = *(const char *const *)((const char *)table + i * stride);
                        if (strcmp(key, name) == 0)
                                break;
                }
                if (i == n)
                        return fail(d, where, key, "unknown key");
        }
        return 0;
}

#define CHECK_KEYS(d, o, where, table) \
        check_keys(d, o, where, table, ELEMENTSOF(table), sizeof((table)[0]))

/* 1 and *ret (NULL for JSON null) when @key is present; 0 when it is absent
 * and optional; an error when absent and required. */
static int member(struct dec *d, json_object *o, const char *where, const char *key, bool required,
                  json_object **ret)
{
        *ret = NULL;
        if (json_object_object_get_ex(o, key, ret))
                return 1;
        return required ? fail(d, where, key, "missing") : 0;
}

static int node_u64(struct dec *d, const char *where, const char *key, json_object *v,
                    uint64_t max, uint64_t *ret)
{
        int64_t i;
        uint64_t u;

        if (!json_object_is_type(v, json_type_int))
                return wrong_type(d, where, key, "a non-negative integer", v);
        i = json_object_get_int64(v);
        if (i < 0)
                return fail(d, where, key, "must not be negative");
        /* json-c keeps values above INT64_MAX unsigned and clamps get_int64(). */
        u = i == INT64_MAX ? json_object_get_uint64(v) : (uint64_t)i;
        if (u == UINT64_MAX || u > max)
                return fail(d, where, key, "out of range");
        *ret = u;
        return 0;
}

/* The get_*() functions: 1 when @key was present and valid (*ret set), 0
 * when absent and optional (*ret untouched), or -EINVAL. */
static int get_u64(struct dec *d, json_object *o, const char *where, const char *key,
                   bool required, uint64_t max, uint64_t *ret)
{
        json_object *v;
        int r = member(d, o, where, key, required, &v);

        if (r <= 0)
                return r;
        r = node_u64(d, where, key, v, max, ret);
        return r < 0 ? r : 1;
}

static int get_u32(struct dec *d, json_object *o, const char *where, const char *key,
                   uint32_t *ret)
{
        uint64_t v;
        int r = get_u64(d, o, where, key, false, UINT32_MAX, &v);

        if (r > 0)
                *ret = (uint32_t)v;
        return r;
}

static int get_limit(struct dec *d, json_object *o, const char *where, const char *key,
                     bool required, uint64_t *ret)
{
        json_object *v;
        int r = member(d, o, where, key, required, &v);

        if (r <= 0)
                return r;
        if (json_object_is_type(v, json_type_string)) {
                if (strcmp(json_object_get_string(v), "max") != 0)
                        return fail(d, where, key, "expected a byte count or \"max\"");
                *ret = SV_LIMIT_MAX;
                return 1;
        }
        if (!json_object_is_type(v, json_type_int))
                return wrong_type(d, where, key, "a byte count or \"max\"", v);
        r = node_u64(d, where, key, v, UINT64_MAX, ret);
        return r < 0 ? r : 1;
}

static int get_int(struct dec *d, json_object *o, const char *where, const char *key,
                   bool required, int min, int max, int *ret)
{
        json_object *v;
        int64_t i;
        int r = member(d, o, where, key, required, &v);

        if (r <= 0)
                return r;
        if (!json_object_is_type(v, json_type_int))
                return wrong_type(d, where, key, "an integer", v);
        /* Out-of-range values read as INT64_MIN/INT64_MAX: outside any int range. */
        i = json_object_get_int64(v);
        if (i < min || i > max)
                return fail(d, where, key, "out of range");
        *ret = (int)i;
        return 1;
}

static int get_bool(struct dec *d, json_object *o, const char *where, const char *key,
                    bool required, bool *ret)
{
        json_object *v;
        int r = member(d, o, where, key, required, &v);

        if (r <= 0)
                return r;
        if (!json_object_is_type(v, json_type_boolean))
                return wrong_type(d, where, key, "true or false", v);
        *ret = json_object_get_boolean(v);
        return 1;
}

static int get_double(struct dec *d, json_object *o, const char *where, const char *key,
                      double min, double max, double *ret)
{
        json_object *v;
        double x;
        int r = member(d, o, where, key, false, &v);

        if (r <= 0)
                return r;
        if (!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int))
                return wrong_type(d, where, key, "a number", v);
        /* json-c reads NaN, Infinity and 1e400 too. */
        x = json_object_get_double(v);
        if (!isfinite(x) || x < min || x > max)
                return fail(d, where, key, "out of range");
        *ret = x;
        return 1;
}

static int get_string(struct dec *d, json_object *o, const char *where, const char *key,
                      bool required, size_t max_len, const char **ret)
{
        json_object *v;
        const char *str;
        size_t len;
        int r = member(d, o, where, key, required, &v);

        if (r <= 0)
                return r;
        if (!json_object_is_type(v, json_type_string))
                return wrong_type(d, where, key, "a string", v);
        str = json_object_get_string(v);
        len = (size_t)json_object_get_string_len(v);
        /* "\u0000" is valid JSON but would cut a C string short. */
        if (memchr(str, '\0', len))
                return fail(d, where, key, "contains a NUL character");
        if (len > max_len)
                return fail(d, where, key, "longer than %zu byte%s", max_len,
                            max_len == 1 ? "" : "s");
        *ret = str;
        return 1;
}

static int get_typed(struct dec *d, json_object *o, const char *where, const char *key,
                     bool required, json_type type, json_object **ret)
{
        json_object *v;
        int r = member(d, o, where, key, required, &v);

        if (r <= 0)
                return r;
        if (!json_object_is_type(v, type))
                return wrong_type(d, where, key,
                                  type == json_type_object ? "an object" : "an array", v);
        *ret = v;
        return 1;
}

static int get_object(struct dec *d, json_object *o, const char *where, const char *key,
                      bool required, json_object **ret)
{
        return get_typed(d, o, where, key, required, json_type_object, ret);
}

static int get_array(struct dec *d, json_object *o, const char *where, const char *key,
                     bool required, json_object **ret)
{
        return get_typed(d, o, where, key, required, json_type_array, ret);
}

/* An object of optional uint64 fields, e.g. "events" or "stat". 1 if present. */
static int get_u64_fields(struct dec *d, json_object *o, const char *where, const char *key,
                          const struct u64_field *f, size_t n, void *base)
{
        char sub[96];
        json_object *v;
        int r = get_object(d, o, where, key, false, &v);

        if (r <= 0)
                return r;
        snprintf(sub, sizeof(sub), "%s.%s", where, key);
        r = check_keys(d, v, sub, f, n, sizeof(*f));
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = get_u64(d, v, sub, f[i].name, f[i].required, f[i].max, u64_at(base, &f[i]));
        return r < 0 ? r : 1;
}

static int get_psi_line(struct dec *d, json_object *v, const char *where,
                        struct sv_psi_line *ret)
{
        struct sv_psi_line l = { 0 };
        int r;

        /* PSI averages are percentages of wall time. */
        if ((r = CHECK_KEYS(d, v, where, psi_keys)) < 0 ||
            (r = get_double(d, v, where, "avg10", 0, 100, &l.avg10)) < 0 ||
            (r = get_double(d, v, where, "avg60", 0, 100, &l.avg60)) < 0 ||
            (r = get_double(d, v, where, "avg300", 0, 100, &l.avg300)) < 0 ||
            (r = get_u64(d, v, where, "total_usec", false, UINT64_MAX, &l.total_usec)) < 0)
                return r;
        *ret = l;
        return 0;
}

static int get_pressure(struct dec *d, json_object *o, const char *where, struct sv_psi *ret)
{
        char sub[96], line[112];
        json_object *v, *l;
        int r = get_object(d, o, where, "pressure", false, &v);

        if (r <= 0)
                return r;
        snprintf(sub, sizeof(sub), "%s.pressure", where);
        r = CHECK_KEYS(d, v, sub, pressure_keys);
        if (r < 0)
                return r;
        r = get_object(d, v, sub, "some", false, &l);
        if (r > 0) {
                snprintf(line, sizeof(line), "%s.some", sub);
                r = get_psi_line(d, l, line, &ret->some);
        }
        if (r < 0)
                return r;
        /* "full": null is how the writer says the line is missing. */
        r = member(d, v, sub, "full", false, &l);
        if (r > 0 && l) {
                if (!json_object_is_type(l, json_type_object))
                        return wrong_type(d, sub, "full", "an object or null", l);
                snprintf(line, sizeof(line), "%s.full", sub);
                r = get_psi_line(d, l, line, &ret->full);
                if (r < 0)
                        return r;
                ret->has_full = true;
        }
        return 1;
}

/* An object of bools named by @b, e.g. "have". */
static int get_bits(struct dec *d, json_object *o, const char *where, const char *key,
                    const struct bit_name *b, size_t n, unsigned *ret)
{
        char sub[96];
        unsigned bits = 0;
        json_object *v;
        int r = get_object(d, o, where, key, false, &v);

        if (r <= 0)
                return r;
        snprintf(sub, sizeof(sub), "%s.%s", where, key);
        r = check_keys(d, v, sub, b, n, sizeof(*b));
        for (size_t i = 0; r >= 0 && i < n; i++) {
                bool on = false;
                r = get_bool(d, v, sub, b[i].name, false, &on);
                if (on)
                        bits |= b[i].bit;
        }
        if (r < 0)
                return r;
        *ret = bits;
        return 1;
}

static int get_controllers(struct dec *d, json_object *o, const char *where, unsigned *ret)
{
        unsigned bits = 0;
        json_object *v;
        int r = get_array(d, o, where, "subtree_control", false, &v);

        if (r <= 0)
                return r;
        for (size_t i = 0; i < json_object_array_length(v); i++) {
                json_object *c = json_object_array_get_idx(v, i);
                char sub[112];
                size_t k;

                snprintf(sub, sizeof(sub), "%s.subtree_control[%zu]", where, i);
                if (!json_object_is_type(c, json_type_string))
                        return wrong_type(d, sub, NULL, "a controller name", c);
                for (k = 0; k < ELEMENTSOF(controllers); k++)
                        if (strcmp(json_object_get_string(c), controllers[k].name) == 0)
                                break;
                if (k == ELEMENTSOF(controllers))
                        return fail(d, sub, NULL, "unknown controller \"%.32s\"",
                                    json_object_get_string(c));
                bits |= controllers[k].bit;
        }
        *ret = bits;
        return 1;
}

static int get_cgevents(struct dec *d, json_object *o, const char *where,
                        struct sv_cgroup_events *ret)
{
        char sub[96];
        json_object *v;
        int r = get_object(d, o, where, "cgroup_events", false, &v);

        if (r <= 0)
                return r;
        snprintf(sub, sizeof(sub), "%s.cgroup_events", where);
        if ((r = CHECK_KEYS(d, v, sub, cgevents_keys)) < 0 ||
            (r = get_bool(d, v, sub, "populated", false, &ret->populated)) < 0 ||
            (r = get_bool(d, v, sub, "frozen", false, &ret->frozen)) < 0)
                return r;
        return 1;
}

/* "/" or "/a/b": absolute, no empty, "." or ".." components, no trailing slash. */
static bool path_is_normal(const char *p)
{
        if (p[0] != '/')
                return false;
        if (p[1] == '\0')
                return true;
        for (const char *c = p + 1;;) {
                const char *e = strchrnul(c, '/');
                size_t n = (size_t)(e - c);

                if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
                        return false;
                if (*e == '\0')
                        return true;
                c = e + 1;
        }
}

/* @child is @parent plus exactly one component (both normal). */
static bool path_is_child(const char *parent, const char *child)
{
        size_t n = strcmp(parent, "/") == 0 ? 0 : strlen(parent);

        return strncmp(child, parent, n) == 0 && child[n] == '/' && child[n + 1] != '\0' &&
               !strchr(child + n + 1, '/');
}

static int get_task(struct dec *d, json_object *v, const char *where, struct sv_task *ret)
{
        struct sv_task t = { .has_mm = true };
        const char *comm = NULL, *state = NULL, *hex = NULL;
        int r;

        if (!json_object_is_type(v, json_type_object))
                return wrong_type(d, where, NULL, "an object", v);
        if ((r = CHECK_KEYS(d, v, where, task_keys)) < 0 ||
            (r = get_int(d, v, where, "pid", true, 1, INT_MAX, &t.pid)) < 0 ||
            (r = get_int(d, v, where, "ppid", false, 0, INT_MAX, &t.ppid)) < 0 ||
            (r = get_u32(d, v, where, "uid", &t.uid)) < 0 ||
            (r = get_string(d, v, where, "comm_hex", false, 2 * (SV_COMM_LEN - 1), &hex)) < 0 ||
            (r = get_string(d, v, where, "comm", true,
                            hex ? SV_COMM_UTF8_SIZE - 1 : SV_COMM_LEN - 1, &comm)) < 0 ||
            (r = get_string(d, v, where, "state", false, 1, &state)) < 0 ||
            (r = get_u32(d, v, where, "flags", &t.flags)) < 0 ||
            (r = get_u64(d, v, where, "starttime", false, UINT64_MAX, &t.starttime)) < 0 ||
            (r = get_int(d, v, where, "oom_score_adj", true, SV_OOM_SCORE_ADJ_MIN,
                         SV_OOM_SCORE_ADJ_MAX, &t.oom_score_adj)) < 0 ||
            (r = get_bool(d, v, where, "has_mm", false, &t.has_mm)) < 0 ||
            (r = get_int(d, v, where, "oom_adj", false, -17, 16, &t.oom_adj)) < 0)
                return r;
        t.has_oom_adj = r > 0;
        for (size_t i = 0; i < ELEMENTSOF(task_kb_fields); i++) {
                const struct u64_field *f = &task_kb_fields[i];
                r = get_u64(d, v, where, f->name, f->required, f->max, u64_at(&t, f));
                if (r < 0)
                        return r;
        }
        if (hex) {
                size_t n = strlen(hex);
                if (n % 2)
                        return fail(d, where, "comm_hex", "odd number of hex digits");
                for (size_t i = 0; i < n / 2; i++) {
                        unsigned byte;
                        if (sscanf(hex + 2 * i, "%2x", &byte) != 1 || byte == 0 ||
                            !isxdigit((unsigned char)hex[2 * i]) ||
                            !isxdigit((unsigned char)hex[2 * i + 1]))
                                return fail(d, where, "comm_hex", "expected hex digits");
                        t.comm[i] = (char)byte;
                }
                t.comm[n / 2] = '\0';
        } else {
                strcpy(t.comm, comm);
        }
        /* One letter of the kernel's task_state_array[], or "" when unknown. */
        if (state && state[0]) {
                if (!((state[0] >= 'A' && state[0] <= 'Z') || (state[0] >= 'a' && state[0] <= 'z')))
                        return fail(d, where, "state", "expected a letter");
                t.state = state[0];
        }
        *ret = t;
        return 0;
}

static void free_charp(char **p)
{
        free(*p);
}

/* Decode groups[@i] and its tasks and append them to @s. */
static int get_group(struct dec *d, json_object *v, size_t i, struct sv_snapshot *s)
{
        struct sv_group g = {
                .memory_max = SV_LIMIT_MAX,
                .memory_high = SV_LIMIT_MAX,
                .swap_max = SV_LIMIT_MAX,
        };
        bool have_given, swap_given = false, pressure_given, stat_given, peak_given;
        json_object *jp, *tasks;
        const char *path = NULL, *path_hex = NULL;
        /* path decoded from path_hex, freed on every way out */
        char *raw __attribute__((cleanup(free_charp))) = NULL;
        char where[48];
        int parent = -1, r;

        snprintf(where, sizeof(where), "groups[%zu]", i);
        if (!json_object_is_type(v, json_type_object))
                return wrong_type(d, where, NULL, "an object", v);
        r = CHECK_KEYS(d, v, where, group_keys);
        if (r < 0)
                return r;

        r = get_string(d, v, where, "path", true, SIZE_MAX, &path);
        if (r < 0)
                return r;
        r = get_string(d, v, where, "path_hex", false, 2 * PATH_MAX, &path_hex);
        if (r < 0)
                return r;
        if (path_hex) {
                size_t n = strlen(path_hex);
                if (n % 2)
                        return fail(d, where, "path_hex", "odd number of hex digits");
                raw = malloc(n / 2 + 1);
                if (!raw)
                        return -ENOMEM;
                for (size_t k = 0; k < n / 2; k++) {
                        unsigned byte;
                        if (!isxdigit((unsigned char)path_hex[2 * k]) ||
                            !isxdigit((unsigned char)path_hex[2 * k + 1]) ||
                            sscanf(path_hex + 2 * k, "%2x", &byte) != 1 || byte == 0)
                                return fail(d, where, "path_hex", "expected hex digits");
                        raw[k] = (char)byte;
                }
                raw[n / 2] = '\0';
                path = raw;
        }
        if (!path_is_normal(path))
                return fail(d, where, "path", "not a normalized cgroup path like \"/a/b\"");

        r = member(d, v, where, "parent", true, &jp);
        if (r < 0)
                return r;
        if (i == 0) {
                if (jp)
                        return fail(d, where, "parent", "must be null: groups[0] is the domain");
        } else {
                int64_t p;

                if (!jp)
                        return fail(d, where, "parent",
                                    "is null, but only groups[0] has no parent");
                if (!json_object_is_type(jp, json_type_int))
                        return wrong_type(d, where, "parent", "a group index", jp);
                p = json_object_get_int64(jp);
                if (p < 0 || (uint64_t)p >= i)
                        return fail(d, where, "parent", "must be the index of an earlier group");
                parent = (int)p;
                /* Pre-order: the previous group is the parent or lies below it. */
                if (!sv_snapshot_group_is_descendant(s, (int)i - 1, parent))
                        return fail(d, where, "parent",
                                    "not in pre-order: groups[%d] is not groups[%zu] or above it",
                                    parent, i - 1);
                if (!path_is_child(s->groups[parent].path, path))
                        return fail(d, where, "path", "not a direct child of groups[%d].path",
                                    parent);
        }

        if ((r = get_bool(d, v, where, "memcg", true, &g.memcg)) < 0 ||
            (r = get_u64(d, v, where, "ino", false, UINT64_MAX, &g.ino)) < 0 ||
            (r = get_bits(d, v, where, "have", have_bits, ELEMENTSOF(have_bits), &g.have)) < 0)
                return r;
        have_given = r > 0;
        if ((r = get_controllers(d, v, where, &g.subtree_control)) < 0 ||
            (r = get_u64(d, v, where, "memory_current", false, UINT64_MAX,
                         &g.memory_current)) < 0 ||
            (r = get_limit(d, v, where, "memory_max", true, &g.memory_max)) < 0 ||
            (r = get_limit(d, v, where, "memory_high", false, &g.memory_high)) < 0 ||
            (r = get_limit(d, v, where, "memory_low", false, &g.memory_low)) < 0 ||
            (r = get_limit(d, v, where, "memory_min", false, &g.memory_min)) < 0 ||
            (r = get_u64(d, v, where, "memory_peak", false, UINT64_MAX, &g.memory_peak)) < 0)
                return r;
        peak_given = r > 0;
        if ((r = get_u64(d, v, where, "swap_current", false, UINT64_MAX, &g.swap_current)) < 0)
                return r;
        swap_given = r > 0;
        if ((r = get_limit(d, v, where, "swap_max", false, &g.swap_max)) < 0)
                return r;
        swap_given = swap_given || r > 0;
        if ((r = get_bool(d, v, where, "oom_group", true, &g.oom_group)) < 0 ||
            (r = get_bool(d, v, where, "prefer", false, &g.prefer)) < 0 ||
            (r = get_bool(d, v, where, "avoid", false, &g.avoid)) < 0 ||
            (r = get_bool(d, v, where, "threaded", false, &g.threaded)) < 0 ||
            (r = get_u64_fields(d, v, where, "events", event_fields, ELEMENTSOF(event_fields),
                                &g.events)) < 0 ||
            (r = get_u64_fields(d, v, where, "events_local", event_fields,
                                ELEMENTSOF(event_fields), &g.events_local)) < 0 ||
            (r = get_pressure(d, v, where, &g.pressure)) < 0)
                return r;
        pressure_given = r > 0;
        if ((r = get_u64_fields(d, v, where, "stat", stat_fields, ELEMENTSOF(stat_fields),
                                &g.stat)) < 0)
                return r;
        stat_given = r > 0;
        if ((r = get_cgevents(d, v, where, &g.cgevents)) < 0)
                return r;
        if (!have_given)
                g.have = (g.memcg ? SV_HAVE_MEMORY | SV_HAVE_EVENTS : 0) |
                         (swap_given ? SV_HAVE_SWAP : 0) | (pressure_given ? SV_HAVE_PRESSURE : 0) |
                         (stat_given ? SV_HAVE_STAT : 0) | (peak_given ? SV_HAVE_PEAK : 0);

        r = get_array(d, v, where, "tasks", true, &tasks);
        if (r < 0)
                return r;

        /* sv_snapshot_add_task() appends to the last added group: add the
         * group, then its tasks, before the next group. */
        r = sv_snapshot_add_group(s, path, parent, &g);
        if (r < 0)
                return r;
        for (size_t k = 0; k < json_object_array_length(tasks); k++) {
                char tw[96];
                struct sv_task t;

                snprintf(tw, sizeof(tw), "%s.tasks[%zu]", where, k);
                r = get_task(d, json_object_array_get_idx(tasks, k), tw, &t);
                if (r < 0)
                        return r;
                r = sv_snapshot_add_task(s, &t);
                if (r < 0)
                        return r;
        }
        return 0;
}

struct path_index {
        const char *path;
        size_t index;
};

static int cmp_path_index(const void *a, const void *b)
{
        const struct path_index *x = a, *y = b;
        int c = strcmp(x->path, y->path);

        return c ? c : (x->index > y->index) - (x->index < y->index);
}

/* Two siblings with one name would make sv_snapshot_find_group() ambiguous. */
static int check_duplicates(struct dec *d, const struct sv_snapshot *s)
{
        struct path_index *v = calloc(s->n_groups, sizeof(*v));
        int r = 0;

        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_groups; i++)
                v[i] = (struct path_index){ s->groups[i].path, i };
        qsort(v, s->n_groups, sizeof(*v), cmp_path_index);
        for (size_t i = 1; i < s->n_groups && r == 0; i++)
                if (strcmp(v[i - 1].path, v[i].path) == 0) {
                        char where[48];
                        snprintf(where, sizeof(where), "groups[%zu]", v[i].index);
                        r = fail(d, where, "path", "same as groups[%zu].path", v[i - 1].index);
                }
        free(v);
        return r;
}

/* "vm" and the commit figures at the top level; defaults when absent. */
static int get_vm(struct dec *d, json_object *root, struct sv_snapshot *s)
{
        json_object *vm;
        int r, lim, as;
        uint64_t u;

        r = get_object(d, root, "", "vm", false, &vm);
        if (r > 0) {
                if ((r = CHECK_KEYS(d, vm, "vm", vm_keys)) < 0 ||
                    (r = get_int(d, vm, "vm", "panic_on_oom", false, 0, 2, &s->vm.panic_on_oom)) < 0 ||
                    (r = get_int(d, vm, "vm", "oom_kill_allocating_task", false, 0, 1,
                                 &s->vm.oom_kill_allocating_task)) < 0 ||
                    (r = get_int(d, vm, "vm", "oom_dump_tasks", false, 0, 1,
                                 &s->vm.oom_dump_tasks)) < 0 ||
                    (r = get_int(d, vm, "vm", "overcommit_memory", false, 0, 2,
                                 &s->vm.overcommit_memory)) < 0 ||
                    (r = get_int(d, vm, "vm", "overcommit_ratio", false, 0, INT32_MAX,
                                 &s->vm.overcommit_ratio)) < 0 ||
                    (r = get_u64(d, vm, "vm", "overcommit_kbytes", false, UINT64_MAX / 1024,
                                 &s->vm.overcommit_kbytes)) < 0)
                        return r;
        } else if (r < 0) {
                return r;
        }
        if ((lim = get_u64(d, root, "", "commit_limit_kb", false, UINT64_MAX / 1024, &u)) < 0)
                return lim;
        if (lim)
                s->commit_limit_kb = u;
        if ((as = get_u64(d, root, "", "committed_as_kb", false, UINT64_MAX / 1024, &u)) < 0)
                return as;
        if (as)
                s->committed_as_kb = u;
        if (lim != as)
                return fail(d, "", lim ? "committed_as_kb" : "commit_limit_kb",
                            "missing: commit_limit_kb and committed_as_kb come together");
        s->have_commit = lim > 0;
        return 0;
}

static int get_snapshot(struct dec *d, json_object *root, struct sv_snapshot **ret)
{
        const char *schema = NULL, *domain = NULL;
        uint64_t page_size = 4096;
        json_object *groups;
        struct sv_snapshot *s;
        int r, have_headroom = 0;
        size_t n;

        if (!json_object_is_type(root, json_type_object))
                return wrong_type(d, "", NULL, "an object at the top level", root);
        if ((r = CHECK_KEYS(d, root, "", top_keys)) < 0 ||
            (r = get_string(d, root, "", "schema", true, SIZE_MAX, &schema)) < 0)
                return r;
        if (strcmp(schema, SV_SNAPSHOT_SCHEMA) != 0)
                return fail(d, "", "schema", "\"%.40s\" is not \"" SV_SNAPSHOT_SCHEMA "\"", schema);
        if ((r = get_string(d, root, "", "domain", false, SIZE_MAX, &domain)) < 0 ||
            (r = get_u64(d, root, "", "page_size", false, UINT64_MAX, &page_size)) < 0)
                return r;
        /* Callers divide it by 1024 to turn kB into pages. */
        if (page_size < 1024 || page_size > (1u << 30) || (page_size & (page_size - 1)))
                return fail(d, "", "page_size", "not a power of two from 1024 to 1 GiB");
        r = get_array(d, root, "", "groups", true, &groups);
        if (r < 0)
                return r;
        n = json_object_array_length(groups);
        if (n == 0)
                return fail(d, "", "groups", "empty: groups[0] must be the domain");
        if (n > INT_MAX)
                return fail(d, "", "groups", "too many groups");

        s = sv_snapshot_new("/", page_size);
        if (!s)
                return -ENOMEM;
        /* Page counts whose byte count does not fit in 64 bits are nonsense. */
        if ((r = get_u64(d, root, "", "total_ram_pages", false, UINT64_MAX / page_size,
                         &s->total_ram_pages)) < 0 ||
            (r = get_u64(d, root, "", "total_swap_pages", false, UINT64_MAX / page_size,
                         &s->total_swap_pages)) < 0 ||
            /* 200 is the kernel's maximum since 5.8, 100 before. */
            (r = get_int(d, root, "", "swappiness", false, 0, 200, &s->swappiness)) < 0)
                goto fail;
        s->free_swap_pages = s->total_swap_pages;
        r = get_u64(d, root, "", "free_swap_pages", false, s->total_swap_pages,
                    &s->free_swap_pages);
        if (r < 0)
                goto fail;
        r = have_headroom = get_u64(d, root, "", "swap_headroom", false, UINT64_MAX - 1,
                                    &s->swap_headroom);
        if (r < 0)
                goto fail;
        r = get_vm(d, root, s);
        if (r < 0)
                goto fail;
        for (size_t i = 0; i < n; i++) {
                r = get_group(d, json_object_array_get_idx(groups, i), i, s);
                if (r < 0)
                        goto fail;
        }
        if (!have_headroom) {
                /* Older snapshots: what the domain's own swap limit and the
                 * free swap allow (ancestors' limits were not recorded). */
                const struct sv_group *g = &s->groups[0];
                uint64_t cap = s->swappiness ? s->free_swap_pages * page_size : 0;
                uint64_t room = g->swap_max == SV_LIMIT_MAX ? SV_LIMIT_MAX
                                : g->swap_max > g->swap_current ? g->swap_max - g->swap_current
                                                                : 0;
                s->swap_headroom = room < cap ? room : cap;
        }
        r = check_duplicates(d, s);
        if (r < 0)
                goto fail;
        if (domain) {
                char *p = sv__path_normalize(domain);
                if (!p) {
                        r = -ENOMEM;
                        goto fail;
                }
                r = strcmp(p, s->groups[0].path) == 0
                            ? 0
                            : fail(d, "", "domain", "not the same as groups[0].path");
                free(p);
                if (r < 0)
                        goto fail;
        }
        free(s->domain);
        s->domain = strdup(s->groups[0].path);
        if (!s->domain) {
                r = -ENOMEM;
                goto fail;
        }
        *ret = s;
        return 0;
fail:
        sv_snapshot_free(s);
        return r;
}

/* 1-based line and column of byte @off of @text, for syntax errors. */
static void line_column(const char *text, size_t off, size_t *ret_line, size_t *ret_col)
{
        size_t line = 1, bol = 0;

        for (size_t i = 0; i < off; i++)
                if (text[i] == '\n') {
                        line++;
                        bol = i + 1;
                }
        *ret_line = line;
        *ret_col = off - bol + 1;
}

static int syntax_error(struct dec *d, const char *text, size_t off, const char *desc)
{
        size_t line, col;

        line_column(text, off, &line, &col);
        return fail(d, "", NULL, "JSON syntax error at line %zu, column %zu: %s", line, col, desc);
}

/*
 * What json-c lets through even in strict mode and a careful reader must
 * not: a raw control character inside a string (RFC 8259 requires it
 * escaped; it would reach names and messages) and a key given twice in one
 * object (json-c keeps the last, so a second "oom_score_adj" could hide
 * behind the first when a person reads the file). Keys are compared
 * decoded, so "a" and "\u0061" are the same key. Returns the offset of the
 * first offence and what it is, or SIZE_MAX when there is none; syntax
 * errors are json-c's to report.
 */
struct scan_obj {
        char **keys;
        size_t n;
};

static size_t decode_string(const char *text, size_t len, size_t i, char **ret, const char **why)
{
        /* @i is just past the opening quote; returns the index of the closing one. */
        char *out = malloc(len - i + 1);
        size_t o = 0;

        *ret = NULL;
        if (!out)
                return SIZE_MAX;
        for (; i < len && text[i] != '"'; i++) {
                unsigned char c = (unsigned char)text[i];
                if (c < 0x20) {
                        *why = "a raw control character inside a string";
                        free(out);
                        return i;
                }
                if (c != '\\') {
                        out[o++] = (char)c;
                        continue;
                }
                if (++i >= len)
                        break;
                switch (text[i]) {
                case 'u': {
                        unsigned cp = 0;
                        for (int k = 1; k <= 4 && i + (size_t)k < len; k++) {
                                char h = text[i + (size_t)k];
                                cp = cp * 16 + (unsigned)(isdigit((unsigned char)h) ? h - '0'
                                                         : (tolower((unsigned char)h) - 'a' + 10));
                        }
                        i += 4;
                        /* Enough to compare keys: code points as bytes (surrogates
                         * included, unpaired or not, each stays distinct). */
                        if (cp < 0x80) {
                                out[o++] = (char)cp;
                        } else if (cp < 0x800) {
                                out[o++] = (char)(0xc0 | (cp >> 6));
                                out[o++] = (char)(0x80 | (cp & 0x3f));
                        } else {
                                out[o++] = (char)(0xe0 | (cp >> 12));
                                out[o++] = (char)(0x80 | ((cp >> 6) & 0x3f));
                                out[o++] = (char)(0x80 | (cp & 0x3f));
                        }
                        break;
                }
                default:
                        out[o++] = text[i];
                }
        }
        out[o] = '\0';
        *ret = out;
        return i;
}

static size_t scan_json(const char *text, size_t len, const char **why)
{
        struct scan_obj stack[64];
        bool is_obj[64], expect_key = false;
        int depth = -1;
        size_t bad = SIZE_MAX;

        for (size_t i = 0; i < len && bad == SIZE_MAX; i++) {
                char c = text[i];
                if (c == '{' || c == '[') {
                        if (depth + 1 >= (int)(sizeof(stack) / sizeof(stack[0]))) {
                                *why = "nested too deeply";
                                bad = i;
                                break;
                        }
                        depth++;
                        is_obj[depth] = c == '{';
                        stack[depth] = (struct scan_obj){ 0 };
                        expect_key = c == '{';
                } else if (c == '}' || c == ']') {
                        if (depth >= 0) {
                                for (size_t k = 0; k < stack[depth].n; k++)
                                        free(stack[depth].keys[k]);
                                free(stack[depth].keys);
                                depth--;
                        }
                        expect_key = false;
                } else if (c == ',') {
                        expect_key = depth >= 0 && is_obj[depth];
                } else if (c == '"') {
                        char *str;
                        size_t end = decode_string(text, len, i + 1, &str, why);
                        if (!str) {
                                bad = end == SIZE_MAX ? 0 : end;
                                if (end == SIZE_MAX)
                                        *why = "out of memory";
                                break;
                        }
                        if (expect_key && depth >= 0) {
                                struct scan_obj *o = &stack[depth];
                                char **k;
                                for (size_t j = 0; j < o->n && bad == SIZE_MAX; j++)
                                        if (strcmp(o->keys[j], str) == 0) {
                                                *why = "a key given twice in one object";
                                                bad = i;
                                        }
                                k = bad == SIZE_MAX ? realloc(o->keys, (o->n + 1) * sizeof(*k))
                                                    : NULL;
                                if (k) {
                                        o->keys = k;
                                        o->keys[o->n++] = str;
                                        str = NULL;
                                }
                                expect_key = false;
                        }
                        free(str);
                        i = end;
                }
        }
        for (; depth >= 0; depth--) {
                for (size_t k = 0; k < stack[depth].n; k++)
                        free(stack[depth].keys[k]);
                free(stack[depth].keys);
        }
        return bad;
}

static int parse_text(const char *text, size_t len, const char *name, struct sv_snapshot **ret,
                      struct sv_error *err)
{
        struct dec d = { .err = err, .name = name };
        enum json_tokener_error jerr;
        struct json_tokener *tok;
        json_object *root = NULL;
        size_t off = 0, end;
        int r;

        tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        /* Strict: no single quotes, comments, trailing commas or leading zeros. */
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS);
        /* The tokener takes an int length: feed large inputs piecewise. The
         * final NUL goes in too, so the end of the input is seen as such. */
        for (;;) {
                size_t left = len + 1 - off;
                int n = left > INT_MAX ? INT_MAX : (int)left;

                root = json_tokener_parse_ex(tok, text + off, n);
                jerr = json_tokener_get_error(tok);
                if (root || jerr != json_tokener_continue || off + (size_t)n > len) {
                        end = off + json_tokener_get_parse_end(tok);
                        break;
                }
                off += (size_t)n;
        }
        json_tokener_free(tok);

        if (!root) {
                if (jerr == json_tokener_success || jerr == json_tokener_continue)
                        jerr = json_tokener_error_parse_eof;
                return syntax_error(&d, text, end > len ? len : end,
                                    json_tokener_error_desc(jerr));
        }
        while (end < len && strchr(" \t\r\n", text[end]))
                end++;
        if (end < len) {
                json_object_put(root);
                return syntax_error(&d, text, end, "trailing characters after the snapshot");
        }
        {
                const char *why = NULL;
                size_t at = scan_json(text, len, &why);
                if (at != SIZE_MAX) {
                        json_object_put(root);
                        return syntax_error(&d, text, at, why);
                }
        }
        r = get_snapshot(&d, root, ret);
        json_object_put(root);
        return r;
}

int sv_snapshot_from_json(const char *text, struct sv_snapshot **ret, struct sv_error *err)
{
        if (!text)
                return sv__error(err, EINVAL, "<json>", NULL, "no text");
        return parse_text(text, strlen(text), "<json>", ret, err);
}

int sv_snapshot_load_json(const char *path, struct sv_snapshot **ret, struct sv_error *err)
{
        struct dec d = { .err = err, .name = path };
        char *text;
        size_t len;
        int r;

        r = sv__read_alloc_at(AT_FDCWD, path, SV_SNAPSHOT_FILE_MAX, &text, &len);
        if (r < 0)
                return sv__error(err, -r, path, NULL, NULL);
        /* The parser stops at a NUL: do not let it hide the rest of the file. */
        if (memchr(text, '\0', len)) {
                size_t line, col;
                line_column(text, (size_t)((char *)memchr(text, '\0', len) - text), &line, &col);
                r = fail(&d, "", NULL, "NUL byte at line %zu, column %zu", line, col);
        } else {
                r = parse_text(text, len, path, ret, err);
        }
        free(text);
        return r;
}
