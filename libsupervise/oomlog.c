/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The kernel's OOM report read back into one record per kill.
 *
 * The lines, from the kernel sources of the versions Debian 10-13 ship
 * (4.19, 5.10, 6.1, 6.12; mm/oom_kill.c, mm/memcontrol.c, kernel/cgroup/
 * cpuset.c):
 *
 *  dump_header():
 *   4.19  "%s invoked oom-killer: gfp_mask=%#x(%pGg), nodemask=%*pbl, order=%d, oom_score_adj=%hd"
 *   5.x+  "%s invoked oom-killer: gfp_mask=%#x(%pGg), order=%d, oom_score_adj=%hd"
 *  dump_tasks():
 *   "[  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name"
 *   "[%7d] %5d %5d %8lu %8lu %8ld %8lu         %5hd %s"
 *   6.9+ adds "rss_anon rss_file rss_shmem" after rss:
 *   "[%7d] %5d %5d %8lu %8lu %8lu %8lu %9lu %8ld %8lu         %5hd %s"
 *  mem_cgroup_print_oom_info() (4.19 only):
 *   "Task in " PATH " killed as a result of limit of " PATH
 *  dump_oom_summary() (5.0+), one line built from pr_cont() pieces:
 *   "oom-kill:constraint=%s,nodemask=%*pbl" then cpuset_print_current_mems_allowed()
 *   ",cpuset=" NAME ",mems_allowed=%*pbl", mem_cgroup_print_oom_context()
 *   ",oom_memcg=" PATH or ",global_oom", ",task_memcg=" PATH, then
 *   ",task=%s,pid=%d,uid=%d"
 *  oom_kill_process():
 *   4.19  "%s: Kill process %d (%s) score %u or sacrifice child"
 *  __oom_kill_process():
 *   4.19  "Killed process %d (%s) total-vm:%lukB, anon-rss:%lukB, file-rss:%lukB, shmem-rss:%lukB"
 *   5.10+ "%s: Killed process %d (%s) total-vm:%lukB, anon-rss:%lukB, file-rss:%lukB,
 *          shmem-rss:%lukB, UID:%u pgtables:%lukB oom_score_adj:%hd"
 *   where %s is "Memory cgroup out of memory", "Out of memory" or
 *   "Out of memory (oom_kill_allocating_task)"
 *   5.10+ "%s: OOM victim %d (%s) is already exiting. Skip killing the task"
 *  mem_cgroup_print_oom_group() (4.19+):
 *   "Tasks in " PATH " are going to be killed due to memory.oom.group set"
 *  oom_reap_task_mm():
 *   "oom_reaper: reaped process %d (%s), now anon-rss:%lukB, file-rss:%lukB, shmem-rss:%lukB"
 *  out_of_memory(): "Out of memory and no killable processes..."
 *
 * How lines become kills: the whole report runs under oom_lock, so two OOM
 * reports never interleave, but (1) dump_header() is rate limited (10 per
 * 5 s): a kill may come without header or summary; (2) oom_reaper lines
 * come from their own thread, after later reports may have started; (3) a
 * victim that is also a member of its memory.oom.group is logged twice;
 * (4) a second OOM can follow within milliseconds; (5) since 5.10 a
 * pr_cont() piece from another CPU's printk in between splits a line into
 * records. So a kill starts at a header, at a summary line that is not the
 * current kill's, or at a "Killed process" line that cannot belong to the
 * current kill (not its victim again, not after its "Tasks in" line, or
 * after a pause); reaper lines are matched by pid to the latest kill that
 * killed it; summary and "Tasks in" pieces are joined.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "format.h"
#include "oomlog.h"
#include "util.h"

/* Members of one memory.oom.group kill are logged back to back under
 * oom_lock; a "Killed process" line this long after the previous line of
 * the same kill is a new kill whose report was rate limited. */
#define GROUP_GAP_USEC 250000
/* A report (header to last member) never takes this long: a later line
 * belongs to something else. */
#define REPORT_SPAN_USEC (60ll * 1000000)
/* A timestamp this far before the previous one: the machine rebooted. */
#define REBOOT_BACKWARDS_USEC 1000000
/* Reaper lines are matched against this many recent kills. */
#define REAP_LOOKBACK 64

#define UNKNOWN SV_OOMREC_UNKNOWN

/* ---- records ------------------------------------------------------------ */

static struct sv_oomrec *rec_new(void)
{
        struct sv_oomrec *r = calloc(1, sizeof(*r));

        if (!r)
                return NULL;
        r->realtime_usec = r->monotonic_usec = UNKNOWN;
        r->victim_uid = r->anon_rss_kb = r->file_rss_kb = r->shmem_rss_kb = UNKNOWN;
        r->total_vm_kb = r->pgtables_kb = r->oom_score_adj = UNKNOWN;
        r->order = r->alloc_oom_score_adj = UNKNOWN;
        return r;
}

void sv_oomrec_free(struct sv_oomrec *r)
{
        if (!r)
                return;
        free(r->constraint);
        free(r->domain);
        free(r->victim_cgroup);
        free(r->group);
        free(r->killed);
        free(r->gfp_mask);
        free(r->rule);
        free(r->policy);
        free(r);
}

int sv_oomrec_add_killed(struct sv_oomrec *r, int pid)
{
        size_t i = 0;
        int *k;

        while (i < r->n_killed && r->killed[i] < pid)
                i++;
        if (i < r->n_killed && r->killed[i] == pid)
                return 0;
        k = realloc(r->killed, (r->n_killed + 1) * sizeof(*k));
        if (!k)
                return -ENOMEM;
        memmove(k + i + 1, k + i, (r->n_killed - i) * sizeof(*k));
        k[i] = pid;
        r->killed = k;
        r->n_killed++;
        return 0;
}

static bool has_killed(const struct sv_oomrec *r, int pid)
{
        for (size_t i = 0; i < r->n_killed; i++)
                if (r->killed[i] == pid)
                        return true;
        return false;
}

const char *sv_oomrec_source(const struct sv_oomrec *r)
{
        return r->cgsentryd ? "cgsentryd" : "kernel";
}

static int set_str(char **field, const char *s, size_t n)
{
        char *c = strndup(s, n);

        if (!c)
                return -ENOMEM;
        free(*field);
        *field = c;
        return 0;
}

static void set_comm(char *dst, size_t size, const char *s, size_t n)
{
        if (n >= size)
                n = size - 1;
        memcpy(dst, s, n);
        dst[n] = '\0';
}

const char *sv_oomrec_format_time(int64_t realtime_usec, char *buf, size_t size)
{
        time_t t = (time_t)(realtime_usec / 1000000);
        struct tm tm;
        char date[32];

        if (realtime_usec == UNKNOWN || !gmtime_r(&t, &tm) ||
            !strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm)) {
                snprintf(buf, size, "-");
                return buf;
        }
        snprintf(buf, size, "%s.%06dZ", date, (int)(realtime_usec % 1000000));
        return buf;
}

/* ---- JSON ---------------------------------------------------------------- */

static json_object *jname(const char *s)
{
        char *e;
        json_object *o;

        if (!s)
                return NULL;
        e = sv_escape_dup(s);
        o = e ? json_object_new_string(e) : NULL;
        free(e);
        return o;
}

static json_object *jnum(int64_t v)
{
        return v == UNKNOWN ? NULL : json_object_new_int64(v);
}

json_object *sv_oomrec_to_json(const struct sv_oomrec *r)
{
        json_object *o = json_object_new_object(), *v, *k, *a;
        char t[48];

        if (!o)
                return NULL;
        json_object_object_add(o, "time", r->realtime_usec == UNKNOWN ? NULL
                               : json_object_new_string(sv_oomrec_format_time(r->realtime_usec, t,
                                                                              sizeof(t))));
        json_object_object_add(o, "monotonic_usec", jnum(r->monotonic_usec));
        json_object_object_add(o, "boot_id", r->boot_id[0] ? json_object_new_string(r->boot_id)
                                                            : NULL);
        json_object_object_add(o, "source", json_object_new_string(sv_oomrec_source(r)));
        json_object_object_add(o, "constraint", jname(r->constraint));
        json_object_object_add(o, "domain", jname(r->domain));
        v = json_object_new_object();
        json_object_object_add(v, "pid", json_object_new_int(r->victim_pid));
        json_object_object_add(v, "comm", jname(r->victim_comm));
        json_object_object_add(v, "uid", jnum(r->victim_uid));
        json_object_object_add(v, "cgroup", jname(r->victim_cgroup));
        json_object_object_add(v, "anon_rss_kb", jnum(r->anon_rss_kb));
        json_object_object_add(v, "file_rss_kb", jnum(r->file_rss_kb));
        json_object_object_add(v, "shmem_rss_kb", jnum(r->shmem_rss_kb));
        json_object_object_add(v, "oom_score_adj", jnum(r->oom_score_adj));
        json_object_object_add(v, "total_vm_kb", jnum(r->total_vm_kb));
        json_object_object_add(v, "pgtables_kb", jnum(r->pgtables_kb));
        json_object_object_add(o, "victim", v);
        json_object_object_add(o, "group", jname(r->group));
        k = json_object_new_array();
        for (size_t i = 0; k && i < r->n_killed; i++)
                json_object_array_add(k, json_object_new_int(r->killed[i]));
        json_object_object_add(o, "killed", k);
        json_object_object_add(o, "reaped", json_object_new_boolean(r->reaped));
        json_object_object_add(o, "gfp_mask", jname(r->gfp_mask));
        json_object_object_add(o, "order", jnum(r->order));
        if (r->alloc_comm[0]) {
                a = json_object_new_object();
                json_object_object_add(a, "comm", jname(r->alloc_comm));
                json_object_object_add(a, "oom_score_adj", jnum(r->alloc_oom_score_adj));
                json_object_object_add(o, "allocating", a);
        } else {
                json_object_object_add(o, "allocating", NULL);
        }
        json_object_object_add(o, "allocating_task", json_object_new_boolean(r->allocating_task));
        json_object_object_add(o, "rule", jname(r->rule));
        json_object_object_add(o, "policy", jname(r->policy));
        /* Derived from the group killed whole (a container with
         * memory.oom.group, a pod) or else the victim's cgroup. */
        json_object_object_add(o, "container",
                               sv__json_container(r->group ? r->group : r->victim_cgroup));
        return o;
}

char *sv_oomrec_to_json_line(const struct sv_oomrec *r)
{
        json_object *o = sv_oomrec_to_json(r);
        const char *s;
        char *ret = NULL;

        if (!o)
                return NULL;
        s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                      JSON_C_TO_STRING_NOSLASHESCAPE);
        if (s)
                ret = strdup(s);
        json_object_put(o);
        return ret;
}

static const char *jget_str(json_object *o, const char *key)
{
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

static int64_t jget_num(json_object *o, const char *key)
{
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
                return UNKNOWN;
        return json_object_get_int64(v);
}

static int dup_opt(char **field, const char *s)
{
        return s ? set_str(field, s, strlen(s)) : 0;
}

/* "2024-03-05T11:34:56.123456Z" -> µs since the epoch. */
static int64_t parse_utc(const char *s)
{
        struct tm tm = { 0 };
        const char *end;
        long us = 0;

        if (!s || !(end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)))
                return UNKNOWN;
        if (*end == '.') {
                char *e;
                us = strtol(end + 1, &e, 10);
                end = e;
        }
        if (*end != 'Z')
                return UNKNOWN;
        return (int64_t)timegm(&tm) * 1000000 + us;
}

/* Escaped names come back as written: a name shown as "a\x0ab" stays so. */
int sv_oomrec_from_json(json_object *o, struct sv_oomrec **ret)
{
        struct sv_oomrec *r;
        json_object *v, *k, *a;
        const char *s;
        int e = 0;

        if (!json_object_is_type(o, json_type_object) || !(s = jget_str(o, "source")) ||
            (strcmp(s, "kernel") != 0 && strcmp(s, "cgsentryd") != 0) ||
            !json_object_object_get_ex(o, "victim", &v) || !json_object_is_type(v, json_type_object))
                return -EINVAL;
        r = rec_new();
        if (!r)
                return -ENOMEM;
        r->cgsentryd = strcmp(s, "cgsentryd") == 0;
        r->realtime_usec = parse_utc(jget_str(o, "time"));
        r->monotonic_usec = jget_num(o, "monotonic_usec");
        if ((s = jget_str(o, "boot_id")) && strlen(s) == 32)
                memcpy(r->boot_id, s, 33);
        r->victim_pid = (int)jget_num(v, "pid");
        if ((s = jget_str(v, "comm")))
                set_comm(r->victim_comm, sizeof(r->victim_comm), s, strlen(s));
        r->victim_uid = jget_num(v, "uid");
        r->anon_rss_kb = jget_num(v, "anon_rss_kb");
        r->file_rss_kb = jget_num(v, "file_rss_kb");
        r->shmem_rss_kb = jget_num(v, "shmem_rss_kb");
        r->oom_score_adj = jget_num(v, "oom_score_adj");
        r->total_vm_kb = jget_num(v, "total_vm_kb");
        r->pgtables_kb = jget_num(v, "pgtables_kb");
        r->order = jget_num(o, "order");
        if (json_object_object_get_ex(o, "allocating", &a) && json_object_is_type(a, json_type_object)) {
                if ((s = jget_str(a, "comm")))
                        set_comm(r->alloc_comm, sizeof(r->alloc_comm), s, strlen(s));
                r->alloc_oom_score_adj = jget_num(a, "oom_score_adj");
        }
        if (json_object_object_get_ex(o, "allocating_task", &a))
                r->allocating_task = json_object_get_boolean(a);
        if (json_object_object_get_ex(o, "reaped", &a))
                r->reaped = json_object_get_boolean(a);
        if ((e = dup_opt(&r->constraint, jget_str(o, "constraint"))) < 0 ||
            (e = dup_opt(&r->domain, jget_str(o, "domain"))) < 0 ||
            (e = dup_opt(&r->victim_cgroup, jget_str(v, "cgroup"))) < 0 ||
            (e = dup_opt(&r->group, jget_str(o, "group"))) < 0 ||
            (e = dup_opt(&r->gfp_mask, jget_str(o, "gfp_mask"))) < 0 ||
            (e = dup_opt(&r->rule, jget_str(o, "rule"))) < 0 ||
            (e = dup_opt(&r->policy, jget_str(o, "policy"))) < 0)
                goto fail;
        if (json_object_object_get_ex(o, "killed", &k) && json_object_is_type(k, json_type_array))
                for (size_t i = 0; i < json_object_array_length(k); i++)
                        if ((e = sv_oomrec_add_killed(
                                     r, json_object_get_int(json_object_array_get_idx(k, i)))) < 0)
                                goto fail;
        *ret = r;
        return 0;
fail:
        sv_oomrec_free(r);
        return e;
}

/* ---- cgsentryd's journal entries ---------------------------------------- */

static int64_t field_num(const char *s)
{
        char *end;
        long long v;

        if (!s || !*s)
                return UNKNOWN;
        errno = 0;
        v = strtoll(s, &end, 10);
        return errno || *end ? UNKNOWN : (int64_t)v;
}

/* A relative cgroup path from a CGSENTRY_* field, as "/a/b". */
static int field_path(char **field, const char *s)
{
        char *p;

        if (!s)
                return 0;
        p = sv__path_normalize(s);
        if (!p)
                return -ENOMEM;
        free(*field);
        *field = p;
        return 0;
}

int sv_oomrec_from_journal(const char *(*get)(void *userdata, const char *field), void *userdata,
                           struct sv_oomrec **ret)
{
        const char *mid = get(userdata, "MESSAGE_ID"), *rec = get(userdata, "CGSENTRY_RECORD");
        const char *s;
        struct sv_oomrec *r;
        int e;

        if (!mid || strcmp(mid, "5c8e0f7ad1a94a4f8d7b3f0c2e61a901") != 0 || !rec ||
            strcmp(rec, "1") != 0 || field_num(get(userdata, "CGSENTRY_VICTIM_PID")) <= 0)
                return -EINVAL;
        r = rec_new();
        if (!r)
                return -ENOMEM;
        r->cgsentryd = true;
        r->realtime_usec = field_num(get(userdata, "__REALTIME_TIMESTAMP"));
        r->monotonic_usec = field_num(get(userdata, "__MONOTONIC_TIMESTAMP"));
        if ((s = get(userdata, "_BOOT_ID")) && strlen(s) == 32)
                memcpy(r->boot_id, s, 33);
        r->victim_pid = (int)field_num(get(userdata, "CGSENTRY_VICTIM_PID"));
        if ((s = get(userdata, "CGSENTRY_VICTIM_COMM")))
                set_comm(r->victim_comm, sizeof(r->victim_comm), s, strlen(s));
        r->victim_uid = field_num(get(userdata, "CGSENTRY_VICTIM_UID"));
        r->anon_rss_kb = field_num(get(userdata, "CGSENTRY_VICTIM_ANON_RSS_KB"));
        r->file_rss_kb = field_num(get(userdata, "CGSENTRY_VICTIM_FILE_RSS_KB"));
        r->shmem_rss_kb = field_num(get(userdata, "CGSENTRY_VICTIM_SHMEM_RSS_KB"));
        r->oom_score_adj = field_num(get(userdata, "CGSENTRY_VICTIM_OOM_SCORE_ADJ"));
        r->total_vm_kb = field_num(get(userdata, "CGSENTRY_VICTIM_TOTAL_VM_KB"));
        r->pgtables_kb = field_num(get(userdata, "CGSENTRY_VICTIM_PGTABLES_KB"));
        if ((e = dup_opt(&r->constraint, get(userdata, "CGSENTRY_TRIGGER"))) < 0 ||
            (e = field_path(&r->domain, get(userdata, "CGSENTRY_DOMAIN"))) < 0 ||
            (e = field_path(&r->victim_cgroup, get(userdata, "CGSENTRY_VICTIM_CGROUP"))) < 0 ||
            (e = field_path(&r->group, get(userdata, "CGSENTRY_KILL_GROUP"))) < 0 ||
            (e = dup_opt(&r->rule, get(userdata, "CGSENTRY_RULE"))) < 0 ||
            (e = dup_opt(&r->policy, get(userdata, "CGSENTRY_POLICY"))) < 0)
                goto fail;
        if ((s = get(userdata, "CGSENTRY_KILLED_PIDS")))
                while (*s) {
                        char *end;
                        long pid = strtol(s, &end, 10);
                        if (end == s)
                                break;
                        if (pid > 0 && (e = sv_oomrec_add_killed(r, (int)pid)) < 0)
                                goto fail;
                        s = end;
                }
        if ((e = sv_oomrec_add_killed(r, r->victim_pid)) < 0)
                goto fail;
        *ret = r;
        return 0;
fail:
        sv_oomrec_free(r);
        return e;
}

/* ---- the parser ------------------------------------------------------------ */

struct sv_oomlog {
        struct sv_oomrec *cur;      /* the kill being read, or NULL */
        bool cur_header;            /* started by an "invoked oom-killer" header */
        bool cur_summary;           /* has its oom-kill: summary line */
        bool summary_partial;       /* the summary line lacks its end: join pieces */
        char *summary;              /* the partial summary line so far */
        bool group_partial;         /* "Tasks in " without its end */
        char *group_text;
        int selected_pid;           /* 4.19: "Kill process P ... or sacrifice child" */
        int64_t cur_first_mono, cur_last_mono;
        bool dump_wide;             /* 6.9+ task dump with rss_anon rss_file rss_shmem */
        /* the task dump of the current report: pid -> uid, oom_score_adj */
        struct dumped { int pid; int64_t uid, adj; } *dump;
        size_t n_dump;
        struct sv_oomrec **done;
        size_t n_done;
        size_t n_taken;             /* done[0 .. n_taken) handed out: NULL there */
        char boot_id[33];
        unsigned boot_seq;
        int64_t last_mono;
        bool error;
};

int sv_oomlog_new(struct sv_oomlog **ret)
{
        struct sv_oomlog *p = calloc(1, sizeof(*p));

        if (!p)
                return -ENOMEM;
        p->last_mono = UNKNOWN;
        *ret = p;
        return 0;
}

void sv_oomlog_free(struct sv_oomlog *p)
{
        if (!p)
                return;
        sv_oomrec_free(p->cur);
        free(p->summary);
        free(p->group_text);
        free(p->dump);
        for (size_t i = p->n_taken; i < p->n_done; i++)
                sv_oomrec_free(p->done[i]);
        free(p->done);
        free(p);
}

/* Fill what the Killed line lacked (4.19) from the task dump. */
static void from_dump(struct sv_oomlog *p, struct sv_oomrec *r)
{
        for (size_t i = 0; i < p->n_dump; i++)
                if (p->dump[i].pid == r->victim_pid) {
                        if (r->victim_uid == UNKNOWN)
                                r->victim_uid = p->dump[i].uid;
                        if (r->oom_score_adj == UNKNOWN)
                                r->oom_score_adj = p->dump[i].adj;
                }
}

static void finish(struct sv_oomlog *p)
{
        struct sv_oomrec *r = p->cur, **d;

        p->cur = NULL;
        free(p->summary);
        p->summary = NULL;
        free(p->group_text);
        p->group_text = NULL;
        p->summary_partial = p->group_partial = false;
        p->cur_header = p->cur_summary = false;
        p->selected_pid = 0;
        if (!r)
                goto out;
        /* A report without a kill ("no killable processes", an exiting
         * victim): not a kill. */
        if (r->victim_pid <= 0) {
                sv_oomrec_free(r);
                goto out;
        }
        from_dump(p, r);
        if (!r->constraint)
                r->constraint = strdup(r->domain && strcmp(r->domain, "/") != 0
                                               ? "CONSTRAINT_MEMCG"
                                               : "CONSTRAINT_NONE");
        d = realloc(p->done, (p->n_done + 1) * sizeof(*d));
        if (!d) {
                p->error = true;
                sv_oomrec_free(r);
                goto out;
        }
        p->done = d;
        p->done[p->n_done++] = r;
out:
        p->n_dump = 0;
}

static int start(struct sv_oomlog *p, int64_t mono, int64_t real)
{
        finish(p);
        p->cur = rec_new();
        if (!p->cur)
                return -ENOMEM;
        memcpy(p->cur->boot_id, p->boot_id, sizeof(p->boot_id));
        p->cur->boot_seq = p->boot_seq;
        p->cur->monotonic_usec = mono;
        p->cur->realtime_usec = real;
        p->cur_first_mono = p->cur_last_mono = mono;
        return 0;
}

static bool prefix(const char *s, const char *pre)
{
        return strncmp(s, pre, strlen(pre)) == 0;
}

/* The value after "@key" in @s, up to the next ", " or end; -> UNKNOWN. */
static int64_t kv_num(const char *s, const char *key)
{
        const char *v = strstr(s, key);
        char *end;
        long long n;

        if (!v)
                return UNKNOWN;
        v += strlen(key);
        errno = 0;
        n = strtoll(v, &end, 10);
        return errno || end == v ? UNKNOWN : (int64_t)n;
}

/*
 * "P (comm) REST" after @after: the pid, the comm (which may hold spaces
 * and parentheses: it ends at the last ")" before @end_mark, or at the last
 * ")" at all) and REST. false when it does not parse.
 */
static bool pid_comm(const char *s, const char *end_mark, int *ret_pid, char *comm, size_t size,
                     const char **ret_rest)
{
        const char *open, *close = NULL, *m;
        char *end;
        long pid;

        pid = strtol(s, &end, 10);
        if (end == s || pid <= 0 || pid > INT32_MAX || strncmp(end, " (", 2) != 0)
                return false;
        open = end + 2;
        if (end_mark && (m = strstr(open, end_mark)))
                close = m;
        if (!close) {
                /* the last ')' */
                for (m = open; (m = strchr(m, ')')); m++)
                        close = m;
        }
        if (!close || close < open)
                return false;
        *ret_pid = (int)pid;
        set_comm(comm, size, open, (size_t)(close - open));
        if (ret_rest)
                *ret_rest = close + 1;
        return true;
}

/* "Killed process ..." in any version; @msg is after "Killed process ". */
static int killed_line(struct sv_oomlog *p, const char *line, const char *msg, int64_t mono,
                       int64_t real)
{
        char comm[64];
        const char *rest;
        int pid, e;
        struct sv_oomrec *r;
        size_t plen = (size_t)(msg - line) - strlen("Killed process ");

        if (!pid_comm(msg, ") total-vm:", &pid, comm, sizeof(comm), &rest))
                return 0;
        r = p->cur;
        if (r && r->victim_pid > 0) {
                bool same = has_killed(r, pid);
                bool member = p->group_partial || r->group;
                bool recent = mono == UNKNOWN || p->cur_last_mono == UNKNOWN ||
                              mono - p->cur_last_mono <= GROUP_GAP_USEC;
                if (same || (member && recent)) {
                        p->cur_last_mono = mono;
                        return sv_oomrec_add_killed(r, pid);
                }
                r = NULL;
        }
        if (!r) {
                e = start(p, mono, real);
                if (e < 0)
                        return e;
                r = p->cur;
        }
        /* The victim. */
        r->victim_pid = pid;
        memcpy(r->victim_comm, comm, sizeof(comm));
        r->monotonic_usec = mono;
        r->realtime_usec = real;
        r->total_vm_kb = kv_num(rest, "total-vm:");
        r->anon_rss_kb = kv_num(rest, "anon-rss:");
        r->file_rss_kb = kv_num(rest, "file-rss:");
        r->shmem_rss_kb = kv_num(rest, "shmem-rss:");
        if (kv_num(rest, "UID:") != UNKNOWN)
                r->victim_uid = kv_num(rest, "UID:");
        r->pgtables_kb = kv_num(rest, "pgtables:");
        if (kv_num(rest, "oom_score_adj:") != UNKNOWN)
                r->oom_score_adj = kv_num(rest, "oom_score_adj:");
        /* The message says what kind of OOM it was. */
        if (plen >= 2 && line[plen - 2] == ':' && line[plen - 1] == ' ') {
                if (prefix(line, "Out of memory (oom_kill_allocating_task)"))
                        r->allocating_task = true;
                if (!r->domain && prefix(line, "Out of memory") &&
                    (e = set_str(&r->domain, "/", 1)) < 0)
                        return e;
                if (!r->constraint && prefix(line, "Memory cgroup out of memory") &&
                    (e = set_str(&r->constraint, "CONSTRAINT_MEMCG", 16)) < 0)
                        return e;
        }
        p->cur_last_mono = mono;
        return sv_oomrec_add_killed(r, pid);
}

/* Splits "oom-kill:..." into its fields, looking for the known keys in
 * their order (values may contain commas: cgroup names, node lists). */
static int summary_apply(struct sv_oomlog *p, const char *s)
{
        static const char *const keys[] = { "constraint=", ",nodemask=", ",cpuset=",
                                            ",mems_allowed=", ",oom_memcg=", ",global_oom",
                                            ",task_memcg=", ",task=", ",pid=", ",uid=" };
        enum { K_CONSTRAINT, K_NODEMASK, K_CPUSET, K_MEMS, K_OOM_MEMCG, K_GLOBAL, K_TASK_MEMCG,
               K_TASK, K_PID, K_UID, K_N };
        const char *at[K_N], *from;
        struct sv_oomrec *r = p->cur;
        size_t n = sizeof(keys) / sizeof(keys[0]);
        char comm[64];
        int e;

        from = s;
        for (size_t i = 0; i < n; i++) {
                /* task= is followed by ,pid=: search the last ",pid=" for the
                 * comm's sake (a comm may hold ",pid="). */
                const char *f = strstr(from, keys[i]);
                if (i == K_PID || i == K_UID) {
                        const char *last = NULL, *q = from;
                        while ((q = strstr(q, keys[i]))) {
                                last = q;
                                q++;
                        }
                        f = last;
                }
                at[i] = f;
                if (f)
                        from = f + strlen(keys[i]);
        }
#define VALUE_END(i)                                                                               \
        ({                                                                                         \
                const char *_e = NULL;                                                             \
                for (size_t _j = (i) + 1; _j < n && !_e; _j++)                                     \
                        _e = at[_j];                                                               \
                _e ? _e : s + strlen(s);                                                           \
        })
        if (at[K_CONSTRAINT]) {
                const char *v = at[K_CONSTRAINT] + strlen(keys[K_CONSTRAINT]);
                if ((e = set_str(&r->constraint, v, (size_t)(VALUE_END(K_CONSTRAINT) - v))) < 0)
                        return e;
        }
        if (at[K_OOM_MEMCG]) {
                const char *v = at[K_OOM_MEMCG] + strlen(keys[K_OOM_MEMCG]);
                if ((e = set_str(&r->domain, v, (size_t)(VALUE_END(K_OOM_MEMCG) - v))) < 0)
                        return e;
        } else if (at[K_GLOBAL]) {
                if ((e = set_str(&r->domain, "/", 1)) < 0)
                        return e;
        }
        if (at[K_TASK_MEMCG]) {
                const char *v = at[K_TASK_MEMCG] + strlen(keys[K_TASK_MEMCG]);
                if ((e = set_str(&r->victim_cgroup, v, (size_t)(VALUE_END(K_TASK_MEMCG) - v))) < 0)
                        return e;
        }
        if (at[K_TASK] && at[K_PID]) {
                const char *v = at[K_TASK] + strlen(keys[K_TASK]);
                set_comm(comm, sizeof(comm), v, (size_t)(at[K_PID] - v));
                if (r->victim_pid <= 0)
                        memcpy(r->victim_comm, comm, sizeof(comm));
        }
        if (at[K_UID])
                r->victim_uid = kv_num(at[K_UID], ",uid=");
#undef VALUE_END
        return 0;
}

static bool summary_complete(const char *s)
{
        return strstr(s, ",task=") && strstr(s, ",pid=") && strstr(s, ",uid=");
}

static int summary_line(struct sv_oomlog *p, const char *msg, int64_t mono, int64_t real)
{
        int e;

        /* A summary belongs to the report whose header came just before;
         * otherwise it starts a kill of its own (header rate limited). */
        if (!p->cur || p->cur_summary || p->cur->victim_pid > 0) {
                e = start(p, mono, real);
                if (e < 0)
                        return e;
        }
        p->cur_summary = true;
        p->cur_last_mono = mono;
        if (!summary_complete(msg)) {
                p->summary_partial = true;
                return set_str(&p->summary, msg, strlen(msg));
        }
        return summary_apply(p, msg + strlen("oom-kill:"));
}

/* A pr_cont() piece of a split summary or "Tasks in" line. */
static int join_piece(struct sv_oomlog *p, const char *msg, bool *used)
{
        char *s;
        int e = 0;

        *used = false;
        if (p->summary_partial && p->summary && msg[0] == ',') {
                if (asprintf(&s, "%s%s", p->summary, msg) < 0)
                        return -ENOMEM;
                free(p->summary);
                p->summary = s;
                *used = true;
                if (summary_complete(s)) {
                        p->summary_partial = false;
                        e = summary_apply(p, s + strlen("oom-kill:"));
                }
                return e;
        }
        if (p->group_partial && p->group_text) {
                const char *tail = " are going to be killed due to memory.oom.group set";
                const char *t;
                if (asprintf(&s, "%s%s", p->group_text, msg) < 0)
                        return -ENOMEM;
                free(p->group_text);
                p->group_text = s;
                *used = true;
                if ((t = strstr(s, tail))) {
                        p->group_partial = false;
                        if (p->cur)
                                e = set_str(&p->cur->group, s + strlen("Tasks in "),
                                            (size_t)(t - s) - strlen("Tasks in "));
                }
        }
        return e;
}

static int header_line(struct sv_oomlog *p, const char *msg, const char *at, int64_t mono,
                       int64_t real)
{
        const char *g;
        int e;

        e = start(p, mono, real);
        if (e < 0)
                return e;
        p->cur_header = true;
        set_comm(p->cur->alloc_comm, sizeof(p->cur->alloc_comm), msg, (size_t)(at - msg));
        if ((g = strstr(at, "gfp_mask="))) {
                size_t n;
                g += strlen("gfp_mask=");
                /* "0xcc0(GFP_KERNEL)": up to the ')' that closes the flags */
                n = strcspn(g, ",");
                if (memchr(g, '(', n)) {
                        const char *c = strchr(g, ')');
                        if (c)
                                n = (size_t)(c + 1 - g);
                }
                if ((e = set_str(&p->cur->gfp_mask, g, n)) < 0)
                        return e;
        }
        p->cur->order = kv_num(at, "order=");
        p->cur->alloc_oom_score_adj = kv_num(at, "oom_score_adj=");
        return 0;
}

/* A task dump line: "[%7d] %5d %5d ..." */
static void dump_line(struct sv_oomlog *p, const char *msg)
{
        long long v[11];
        int n = 0;
        const char *s = msg + 1;
        struct dumped *d;

        while (n < (p->dump_wide ? 11 : 8)) {
                char *end;
                while (*s == ' ' || *s == ']')
                        s++;
                v[n] = strtoll(s, &end, 10);
                if (end == s)
                        return;
                s = end;
                n++;
        }
        d = realloc(p->dump, (p->n_dump + 1) * sizeof(*d));
        if (!d)
                return;
        p->dump = d;
        d[p->n_dump++] = (struct dumped){ .pid = (int)v[0], .uid = v[1], .adj = v[n - 1] };
}

static void reaper_line(struct sv_oomlog *p, const char *msg)
{
        char comm[64];
        int pid;

        if (!pid_comm(msg, "), now ", &pid, comm, sizeof(comm), NULL))
                return;
        if (p->cur && has_killed(p->cur, pid)) {
                if (p->cur->victim_pid == pid)
                        p->cur->reaped = true;
                return;
        }
        for (size_t i = p->n_done; i > p->n_taken && p->n_done - i < REAP_LOOKBACK; i--) {
                struct sv_oomrec *r = p->done[i - 1];
                if (strcmp(r->boot_id, p->boot_id) != 0 || r->boot_seq != p->boot_seq)
                        break;
                if (has_killed(r, pid)) {
                        if (r->victim_pid == pid)
                                r->reaped = true;
                        return;
                }
        }
}

int sv_oomlog_feed(struct sv_oomlog *p, const char *msg, int64_t mono, int64_t real,
                   const char *boot_id)
{
        const char *k;
        bool used;
        int e = 0;

        if (!msg)
                return 0;
        /* A new boot ends whatever was being read. */
        if (boot_id && *boot_id && strcmp(boot_id, p->boot_id) != 0)
                sv_oomlog_new_boot(p, boot_id);
        else if (mono != UNKNOWN && p->last_mono != UNKNOWN &&
                 mono + REBOOT_BACKWARDS_USEC < p->last_mono)
                sv_oomlog_new_boot(p, "");
        if (mono != UNKNOWN)
                p->last_mono = mono;
        /* A report never spans this long. */
        if (p->cur && mono != UNKNOWN && p->cur_first_mono != UNKNOWN &&
            mono - p->cur_first_mono > REPORT_SPAN_USEC && p->cur->victim_pid <= 0)
                finish(p);

        e = join_piece(p, msg, &used);
        if (e < 0 || used)
                return e;

        if ((k = strstr(msg, " invoked oom-killer: "))) {
                e = header_line(p, msg, k, mono, real);
        } else if (prefix(msg, "oom-kill:")) {
                e = summary_line(p, msg, mono, real);
        } else if ((k = strstr(msg, "Killed process ")) &&
                   (k == msg || (k >= msg + 2 && k[-2] == ':' && k[-1] == ' '))) {
                e = killed_line(p, msg, k + strlen("Killed process "), mono, real);
        } else if (prefix(msg, "Tasks in ")) {
                const char *tail = strstr(msg, " are going to be killed due to memory.oom.group set");
                if (!p->cur)
                        return 0;
                if (tail) {
                        e = set_str(&p->cur->group, msg + 9, (size_t)(tail - msg - 9));
                } else {
                        p->group_partial = true;
                        e = set_str(&p->group_text, msg, strlen(msg));
                }
                p->cur_last_mono = mono;
        } else if (prefix(msg, "oom_reaper: reaped process ")) {
                reaper_line(p, msg + strlen("oom_reaper: reaped process "));
        } else if (prefix(msg, "Task in ") && (k = strstr(msg, " killed as a result of limit of "))) {
                /* 4.19: mem_cgroup_print_oom_info() */
                if (!p->cur && (e = start(p, mono, real)) < 0)
                        return e;
                if ((e = set_str(&p->cur->victim_cgroup, msg + 8, (size_t)(k - msg - 8))) < 0)
                        return e;
                k += strlen(" killed as a result of limit of ");
                e = set_str(&p->cur->domain, k, strlen(k));
        } else if ((k = strstr(msg, "Kill process ")) && strstr(msg, " or sacrifice child")) {
                /* 4.19: the selected task before the victim (maybe a child) */
                char comm[64];
                int pid;
                if (p->cur && p->cur->victim_pid > 0)
                        finish(p);
                if (!p->cur && (e = start(p, mono, real)) < 0)
                        return e;
                if (pid_comm(k + strlen("Kill process "), ") score ", &pid, comm, sizeof(comm),
                             NULL))
                        p->selected_pid = pid;
                if (prefix(msg, "Out of memory") && !p->cur->domain)
                        e = set_str(&p->cur->domain, "/", 1);
                if (prefix(msg, "Out of memory (oom_kill_allocating_task)"))
                        p->cur->allocating_task = true;
                if (!e && prefix(msg, "Memory cgroup out of memory") && !p->cur->constraint)
                        e = set_str(&p->cur->constraint, "CONSTRAINT_MEMCG", 16);
        } else if (prefix(msg, "[  pid  ]")) {
                p->dump_wide = strstr(msg, "rss_anon") != NULL;
                p->n_dump = 0;
        } else if (msg[0] == '[' && p->cur && p->cur->victim_pid <= 0 && isdigit((unsigned char)msg[strspn(msg + 1, " ") + 1])) {
                dump_line(p, msg);
        } else if (strstr(msg, "Out of memory and no killable processes")) {
                if (p->cur)
                        sv_oomrec_free(p->cur), p->cur = NULL;
                finish(p);
        }
        return e;
}

void sv_oomlog_new_boot(struct sv_oomlog *p, const char *boot_id)
{
        finish(p);
        p->boot_seq++;
        p->last_mono = UNKNOWN;
        snprintf(p->boot_id, sizeof(p->boot_id), "%s", boot_id ? boot_id : "");
}

void sv_oomlog_flush(struct sv_oomlog *p)
{
        if (p->cur && p->cur->victim_pid > 0)
                finish(p);
}

bool sv_oomlog_pending(const struct sv_oomlog *p)
{
        return p->cur && p->cur->victim_pid > 0;
}

size_t sv_oomlog_take(struct sv_oomlog *p, struct sv_oomrec ***ret)
{
        size_t n = p->n_done - p->n_taken;
        struct sv_oomrec **out = calloc(n ?: 1, sizeof(*out));

        if (!out) {
                *ret = NULL;
                return 0;
        }
        for (size_t i = 0; i < n; i++) {
                out[i] = p->done[p->n_taken + i];
                p->done[p->n_taken + i] = NULL;
        }
        /* Keep the last few for reaper lines that come late: they stay
         * reachable (read-only) through ->done until the next take. */
        p->n_taken = p->n_done;
        *ret = out;
        return n;
}
