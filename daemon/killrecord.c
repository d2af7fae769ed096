/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "container.h"
#include "killrecord.h"
#include "oomlog.h"
#include "statelog.h"
#include "supervisor-internal.h"
#include "util.h"

/* This boot's id, read once. */
static void boot_id(char out[33])
{
        static char cached[33];
        static bool done;
        char buf[64];
        FILE *f;
        size_t n = 0;

        if (done) {
                memcpy(out, cached, sizeof(cached));
                return;
        }
        out[0] = '\0';
        f = fopen("/proc/sys/kernel/random/boot_id", "re");
        if (!f)
                return;
        if (fgets(buf, sizeof(buf), f))
                for (char *p = buf; *p && n < 32; p++)
                        if (*p != '-' && *p != '\n')
                                out[n++] = *p;
        out[n == 32 ? 32 : 0] = '\0';
        fclose(f);
        memcpy(cached, out, sizeof(cached));
        done = true;
}

static int field(struct killrecord *k, size_t *n, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static int field(struct killrecord *k, size_t *n, const char *fmt, ...)
{
        va_list ap;
        int r;

        if (*n == KILLRECORD_MAX_FIELDS)
                return -ENOBUFS;
        va_start(ap, fmt);
        r = vasprintf(&k->fields[*n], fmt, ap);
        va_end(ap);
        if (r < 0) {
                k->fields[*n] = NULL;
                return -ENOMEM;
        }
        (*n)++;
        return 0;
}

static const char *rel(const char *path)
{
        return path + strspn(path, "/");
}

int killrecord_build(const struct sv_snapshot *s, const struct sv_plan *plan,
                     const struct sv_trigger *trig, const char *rule, const char *policy,
                     struct killrecord *ret)
{
        struct killrecord k = { 0 };
        struct sv_oomrec *r = calloc(1, sizeof(*r));
        const struct sv_task *v;
        size_t n = 0;
        int e = -ENOMEM;

        if (!r || plan->n_kill_tasks == 0)
                goto fail;
        v = &s->tasks[plan->victim >= 0 ? plan->victim : plan->kill_tasks[0]];
        r->cgsentryd = true;
        r->realtime_usec = sv__clock_usec(CLOCK_REALTIME);
        r->monotonic_usec = sv__clock_usec(CLOCK_MONOTONIC);
        boot_id(r->boot_id);
        r->victim_pid = v->pid;
        snprintf(r->victim_comm, sizeof(r->victim_comm), "%s", v->comm);
        r->victim_uid = v->uid;
        r->anon_rss_kb = (int64_t)v->rss_anon_kb;
        r->file_rss_kb = (int64_t)v->rss_file_kb;
        r->shmem_rss_kb = (int64_t)v->rss_shmem_kb;
        r->total_vm_kb = (int64_t)v->vm_size_kb;
        r->pgtables_kb = (int64_t)v->vm_pte_kb;
        r->oom_score_adj = v->oom_score_adj;
        r->order = r->alloc_oom_score_adj = SV_OOMREC_UNKNOWN;
        if (!(r->constraint = strdup(sv_trigger_name(trig->kind))) ||
            !(r->domain = strdup(s->groups[0].path)) ||
            !(r->victim_cgroup = strdup(s->groups[v->group].path)) ||
            (plan->kill_group >= 0 && !(r->group = strdup(s->groups[plan->kill_group].path))) ||
            (rule && !(r->rule = strdup(rule))) || (policy && !(r->policy = strdup(policy))))
                goto fail;
        for (size_t i = 0; i < plan->n_kill_tasks; i++)
                if ((e = sv_oomrec_add_killed(r, s->tasks[plan->kill_tasks[i]].pid)) < 0)
                        goto fail;
        e = -ENOMEM;
        k.json = sv_oomrec_to_json_line(r);
        if (!k.json)
                goto fail;
        /* CGSENTRY_CGROUP, _TRIGGER, _RULE, _POLICY, _VICTIM_PID and
         * _KILLED_PIDS are the kill's own fields already (log.c). */
        if ((e = field(&k, &n, "CGSENTRY_RECORD=1")) < 0 ||
            (e = field(&k, &n, "CGSENTRY_DOMAIN=%s", rel(r->domain))) < 0 ||
            (e = field(&k, &n, "CGSENTRY_VICTIM_COMM=%s", v->comm)) < 0 ||
            (e = field(&k, &n, "CGSENTRY_VICTIM_UID=%u", v->uid)) < 0 ||
            (e = field(&k, &n, "CGSENTRY_VICTIM_CGROUP=%s", rel(r->victim_cgroup))) < 0 ||
            (e = field(&k, &n, "CGSENTRY_VICTIM_ANON_RSS_KB=%llu", (unsigned long long)v->rss_anon_kb)) < 0 ||
            (e = field(&k, &n, "CGSENTRY_VICTIM_FILE_RSS_KB=%llu", (unsigned long long)v->rss_file_kb)) < 0 ||
            (e = field(&k, &n, "CGSENTRY_VICTIM_SHMEM_RSS_KB=%llu", (unsigned long long)v->rss_shmem_kb)) < 0 ||
            (e = field(&k, &n, "CGSENTRY_VICTIM_TOTAL_VM_KB=%llu", (unsigned long long)v->vm_size_kb)) < 0 ||
            (e = field(&k, &n, "CGSENTRY_VICTIM_PGTABLES_KB=%llu", (unsigned long long)v->vm_pte_kb)) < 0 ||
            (e = field(&k, &n, "CGSENTRY_VICTIM_OOM_SCORE_ADJ=%d", v->oom_score_adj)) < 0 ||
            (r->group && (e = field(&k, &n, "CGSENTRY_KILL_GROUP=%s", rel(r->group))) < 0))
                goto fail;
        /* The container and pod by their own names, from the group killed
         * whole or else the victim's cgroup (history --json derives the same). */
        {
                struct sv_container_path c;
                if (sv_container_parse(r->group ? r->group : r->victim_cgroup, &c) == 0 &&
                    ((c.container_id[0] &&
                      ((e = field(&k, &n, "CGSENTRY_CONTAINER_ID=%s", c.container_id)) < 0 ||
                       (e = field(&k, &n, "CGSENTRY_CONTAINER_ENGINE=%s",
                                  sv_engine_name(c.engine))) < 0)) ||
                     (c.pod_uid[0] &&
                      ((e = field(&k, &n, "CGSENTRY_POD_UID=%s", c.pod_uid)) < 0 ||
                       (e = field(&k, &n, "CGSENTRY_POD_QOS=%s", sv_pod_qos_name(c.qos))) < 0))))
                        goto fail;
        }
        sv_oomrec_free(r);
        *ret = k;
        return 0;
fail:
        sv_oomrec_free(r);
        killrecord_done(&k);
        return e;
}

void killrecord_done(struct killrecord *k)
{
        for (size_t i = 0; i < KILLRECORD_MAX_FIELDS && k->fields[i]; i++) {
                free(k->fields[i]);
                k->fields[i] = NULL;
        }
        free(k->json);
        k->json = NULL;
}

void killrecord_remember(struct supervisor *sv, const char *json)
{
        const char *dir = sv->cfg->state_dir ? sv->cfg->state_dir : CGSENTRY_STATE_DIR_DEFAULT;
        int r;

        if (!sv->opts.state_log || cgsentry_log_to_journal())
                return;
        r = statelog_append(dir, json);
        if (r < 0 && !sv->statelog_failed) {
                sv->statelog_failed = true;
                cgsentry_log(LOG_WARNING, NULL, "cannot record kills in %s/%s: %s (said once; "
                             "kills go on)", dir, STATELOG_NAME, strerror(-r));
        } else if (r == 0) {
                sv->statelog_failed = false;
        }
}
