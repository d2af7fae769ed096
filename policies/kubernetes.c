/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kubernetes: the pod is the unit. Pods are found by the kubelet's cgroup
 * names (both drivers, libsupervise/container.h); the kubelet's eviction
 * order decides first, the kernel's badness second:
 *
 *   1. QoS class: BestEffort before Burstable before Guaranteed (classes
 *      named in spare= are never chosen);
 *   2. within a class, the pod whose worst process has the highest
 *      oom_badness (as the kernel scores it in the domain); ties to the
 *      first in pre-order, as for every shipped policy.
 *
 * The pause (sandbox) container is never the reason a pod is chosen: its
 * processes, and the engines' monitors (conmon), do not count. A process
 * counts as pause when its comm is in pause= (default "pause") and its
 * resident memory is at most pause-max-rss= (default 16M): the real pause
 * binary uses well under 1 MiB, and a runaway that names itself "pause" is
 * past the limit long before it matters. A pod with nothing else that
 * counts is not a candidate.
 *
 * unit=pod (default) names the pod's cgroup: every container of the pod
 * dies, sandbox included, as when the kubelet evicts it. unit=container
 * names the worst process of the chosen pod; the host then widens the kill
 * by memory.oom.group exactly as the kernel would, so the kubelet's
 * memory.oom.group=1 on container cgroups (1.28+) kills that container
 * whole, and singleProcessOOMKill (oom.group 0) kills the process alone.
 *
 * A domain without pods (not the kubelet's tree) gets the kernel's choice.
 *
 * Options: unit=pod|container, spare=CLASS[,CLASS...] (guaranteed,
 * burstable, besteffort), pause=COMM[,COMM...], pause-max-rss=SIZE.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "container.h"

#define PAUSE_MAX_RSS_DEFAULT_KB (16 * 1024)
#define PAUSE_NAMES_MAX 8

struct kubernetes {
        bool unit_container;
        bool spare[SV_QOS_BESTEFFORT + 1];
        char pause[PAUSE_NAMES_MAX][16];
        unsigned n_pause;
        uint64_t pause_max_rss_kb;
};

/* "guaranteed,burstable" into @k->spare. */
static int parse_spare(struct kubernetes *k, const char *v)
{
        while (*v) {
                size_t n = strcspn(v, ",");
                if (n == 10 && strncmp(v, "guaranteed", n) == 0)
                        k->spare[SV_QOS_GUARANTEED] = true;
                else if (n == 9 && strncmp(v, "burstable", n) == 0)
                        k->spare[SV_QOS_BURSTABLE] = true;
                else if (n == 10 && strncmp(v, "besteffort", n) == 0)
                        k->spare[SV_QOS_BESTEFFORT] = true;
                else
                        return -EINVAL;
                v += n + (v[n] == ',');
        }
        return 0;
}

static int parse_pause(struct kubernetes *k, const char *v)
{
        k->n_pause = 0;
        while (*v) {
                size_t n = strcspn(v, ",");
                if (n == 0 || n > 15 || k->n_pause == PAUSE_NAMES_MAX)
                        return -EINVAL;
                memcpy(k->pause[k->n_pause], v, n);
                k->pause[k->n_pause++][n] = '\0';
                v += n + (v[n] == ',');
        }
        return 0;
}

/* "16M", "512K", "1G" or bytes, into kB. */
static int parse_size_kb(const char *v, uint64_t *ret)
{
        static const char units[] = "KMGT";
        const char *end;
        uint64_t n, mult = 1;
        int r = cgsentry_parse_decimal(v, 1, 0, &n, &end);

        if (r < 0)
                return r;
        if (*end) {
                const char *u = strchr(units, *end);
                if (!u || end[1])
                        return -EINVAL;
                for (const char *x = units; x <= u; x++)
                        mult *= 1024;
        }
        if (n > UINT64_MAX / mult)
                return -ERANGE;
        *ret = n * mult / 1024;
        return 0;
}

static int kubernetes_init(const char *options, void **ret_state, char *err, size_t err_size)
{
        struct kubernetes *k = calloc(1, sizeof(*k));
        const char *cur = options;
        char key[32], value[128];
        int r;

        if (!k)
                return -ENOMEM;
        strcpy(k->pause[0], "pause");
        k->n_pause = 1;
        k->pause_max_rss_kb = PAUSE_MAX_RSS_DEFAULT_KB;
        while ((r = cgsentry_options_next(&cur, key, sizeof(key), value, sizeof(value))) > 0) {
                if (strcmp(key, "unit") == 0) {
                        if (strcmp(value, "pod") == 0)
                                k->unit_container = false;
                        else if (strcmp(value, "container") == 0)
                                k->unit_container = true;
                        else
                                r = -EINVAL;
                        if (r < 0)
                                snprintf(err, err_size, "unit=%s: expected pod or container",
                                         value);
                } else if (strcmp(key, "spare") == 0) {
                        r = parse_spare(k, value);
                        if (r < 0)
                                snprintf(err, err_size, "spare=%s: expected guaranteed, "
                                         "burstable and/or besteffort, separated by ','", value);
                } else if (strcmp(key, "pause") == 0) {
                        r = parse_pause(k, value);
                        if (r < 0)
                                snprintf(err, err_size, "pause=%s: expected up to %d process "
                                         "names (1 to 15 bytes) separated by ','", value,
                                         PAUSE_NAMES_MAX);
                } else if (strcmp(key, "pause-max-rss") == 0) {
                        r = parse_size_kb(value, &k->pause_max_rss_kb);
                        if (r < 0)
                                snprintf(err, err_size, "pause-max-rss=%s: expected a size "
                                         "(bytes, or K, M, G suffixes)", value);
                } else {
                        snprintf(err, err_size, "unknown option '%s' (known: unit, spare, "
                                 "pause, pause-max-rss)", key);
                        r = -EINVAL;
                }
                if (r < 0)
                        break;
        }
        if (r < 0) {
                if (!err[0])
                        snprintf(err, err_size, "cannot parse options '%s'", options);
                free(k);
                return -EINVAL;
        }
        *ret_state = k;
        return 0;
}

static void kubernetes_destroy(void *state)
{
        free(state);
}

/* Does task @t count for its pod? Not when it is pause or a monitor. */
static bool counts(const struct kubernetes *k, const struct cgsentry_task *t, bool monitor)
{
        if (monitor || t->badness == CGSENTRY_BADNESS_UNKILLABLE)
                return false;
        if (t->rss_anon_kb + t->rss_file_kb + t->rss_shmem_kb > k->pause_max_rss_kb)
                return true;
        for (unsigned i = 0; i < k->n_pause; i++)
                if (strncmp(t->comm, k->pause[i], sizeof(t->comm)) == 0)
                        return false;
        return true;
}

struct pod {
        uint32_t group;
        enum sv_pod_qos qos;
        int32_t task;     /* its worst process that counts, -1: none */
        int64_t badness;
        uint32_t n_tasks; /* processes that count */
};

/* Class order: the lower, the sooner chosen. */
static int qos_rank(enum sv_pod_qos q)
{
        return q == SV_QOS_BESTEFFORT ? 0 : q == SV_QOS_BURSTABLE ? 1 : 2;
}

/* The pod of view group @g's subtree: its worst process that counts. */
static void score_pod(const struct kubernetes *k, const struct cgsentry_view *v, struct pod *p)
{
        const struct cgsentry_group *pg = cgsentry_view_group(v, p->group);

        p->task = -1;
        p->badness = CGSENTRY_BADNESS_UNKILLABLE;
        for (uint32_t i = p->group; i < pg->subtree_end; i++) {
                const struct cgsentry_group *g = cgsentry_view_group(v, i);
                struct sv_container_path c;
                bool monitor = sv_container_parse(g->path, &c) == 0 && c.monitor;

                for (uint32_t t = g->first_task; t < g->first_task + g->n_tasks; t++) {
                        const struct cgsentry_task *task = cgsentry_view_task(v, t);
                        if (!counts(k, task, monitor))
                                continue;
                        p->n_tasks++;
                        /* Strictly higher: equal badness goes to the earlier. */
                        if (p->task < 0 || task->badness > p->badness) {
                                p->task = (int32_t)t;
                                p->badness = task->badness;
                        }
                }
        }
}

/* The container cgroup of task @t (its group or the container above it). */
static uint32_t container_of(const struct cgsentry_view *v, uint32_t pod, int32_t t)
{
        uint32_t g = (uint32_t)cgsentry_view_task(v, (uint32_t)t)->group;

        while (g != pod) {
                struct sv_container_path c;
                const struct cgsentry_group *grp = cgsentry_view_group(v, g);
                if (sv_container_parse(grp->path, &c) == 0 &&
                    c.container_len == strlen(grp->path))
                        return g;
                if (grp->parent < 0)
                        break;
                g = (uint32_t)grp->parent;
        }
        return g;
}

/* Not the kubelet's tree: the kernel's own choice (ABI 1.1 hosts). */
static int fallback(const struct cgsentry_view *v, struct cgsentry_decision *d)
{
        char kernel[512];
        int r;

        if (!v->host ||
            !CGSENTRY_POLICY_HAS(v->host->struct_size, struct cgsentry_host, kernel_choose)) {
                snprintf(d->explanation, d->explanation_size, "no pod of the kubelet in %s",
                         v->domain);
                return 0;
        }
        r = v->host->kernel_choose(v, d);
        if (r < 0)
                return r;
        snprintf(kernel, sizeof(kernel), "%s", d->explanation);
        snprintf(d->explanation, d->explanation_size,
                 "no pod of the kubelet in %s; the kernel's choice: %s", v->domain, kernel);
        return 0;
}

static int kubernetes_choose(const struct cgsentry_view *v, void *state,
                             struct cgsentry_decision *d)
{
        const struct kubernetes *k = state;
        struct pod *pods = calloc(v->n_groups ?: 1, sizeof(*pods));
        uint32_t n_pods = 0, per_class[3] = { 0 }, spared = 0;
        int32_t best = -1;
        char id[16] = "";

        if (!pods)
                return -ENOMEM;
        for (uint32_t i = 0; i < v->n_groups; i++) {
                const struct cgsentry_group *g = cgsentry_view_group(v, i);
                struct sv_container_path c;

                /* A pod's own cgroup: the whole path is the pod. */
                if (sv_container_parse(g->path, &c) < 0 || !c.pod_len ||
                    c.pod_len != strlen(g->path))
                        continue;
                pods[n_pods] = (struct pod){ .group = i, .qos = c.qos };
                score_pod(k, v, &pods[n_pods]);
                per_class[qos_rank(c.qos)]++;
                n_pods++;
        }
        if (n_pods == 0) {
                free(pods);
                return fallback(v, d);
        }
        for (uint32_t i = 0; i < n_pods; i++) {
                const struct pod *p = &pods[i];
                if (p->task < 0)
                        continue;
                if (k->spare[p->qos]) {
                        spared++;
                        continue;
                }
                if (best < 0 || qos_rank(p->qos) < qos_rank(pods[best].qos) ||
                    (qos_rank(p->qos) == qos_rank(pods[best].qos) &&
                     p->badness > pods[best].badness))
                        best = (int32_t)i;
        }
        if (best < 0) {
                snprintf(d->explanation, d->explanation_size,
                         "none of the %u pods in %s has a process that counts%s (pause and "
                         "conmon do not)", n_pods, v->domain,
                         spared ? " outside the spared classes" : "");
                free(pods);
                return 0;
        }
        {
                const struct pod *p = &pods[best];
                const struct cgsentry_group *pg = cgsentry_view_group(v, p->group);
                const struct cgsentry_task *t = cgsentry_view_task(v, (uint32_t)p->task);
                uint32_t cg = container_of(v, p->group, p->task);
                struct sv_container_path c;

                if (sv_container_parse(cgsentry_view_group(v, cg)->path, &c) == 0 &&
                    c.container_id[0])
                        snprintf(id, sizeof(id), "%.12s", c.container_id);
                sv_container_parse(pg->path, &c);
                if (k->unit_container) {
                        d->group = (int32_t)cg;
                        d->task = p->task;
                } else {
                        d->group = (int32_t)p->group;
                }
                snprintf(d->explanation, d->explanation_size,
                         "%s pod %s: its worst process pid %d (%.16s)%s%s has badness %" PRId64
                         "; %s first by QoS class (BestEffort, Burstable, Guaranteed), then "
                         "badness, of %u pods (%u BestEffort, %u Burstable, %u Guaranteed%s); "
                         "%s",
                         sv_pod_qos_name(p->qos), c.pod_uid, t->pid, t->comm,
                         id[0] ? " in container " : "", id, p->badness,
                         k->unit_container ? "its container chosen" : "the pod chosen whole",
                         n_pods, per_class[0], per_class[1], per_class[2],
                         spared ? ", spared classes left out" : "",
                         "pause and conmon do not count");
        }
        free(pods);
        return 0;
}

CGSENTRY_POLICY_DEFINE("kubernetes", POLICY_VERSION,
                       "the pod as the unit: BestEffort, then Burstable, then Guaranteed; "
                       "the kernel's badness within a class",
                       kubernetes_init, kubernetes_choose, kubernetes_destroy)
