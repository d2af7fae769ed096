/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Containers and pods from cgroup paths (container.h says which layouts).
 * One pass over the components, top down: the node's pod tree, a QoS
 * slice, the pod, then the first component that names a container; what
 * lies below a container is inside it.
 */
#include <errno.h>
#include <string.h>

#include "container.h"

/* Container ids are 64 hex digits (docker prints the first 12). */
#define ID_MIN 12

const char *sv_engine_name(enum sv_engine e)
{
        switch (e) {
        case SV_ENGINE_PODMAN:
                return "podman";
        case SV_ENGINE_DOCKER:
                return "docker";
        case SV_ENGINE_CONTAINERD:
                return "containerd";
        case SV_ENGINE_CRIO:
                return "cri-o";
        case SV_ENGINE_CRI:
                return "cri";
        case SV_ENGINE_NONE:
                break;
        }
        return "";
}

const char *sv_pod_qos_name(enum sv_pod_qos q)
{
        switch (q) {
        case SV_QOS_GUARANTEED:
                return "Guaranteed";
        case SV_QOS_BURSTABLE:
                return "Burstable";
        case SV_QOS_BESTEFFORT:
                return "BestEffort";
        case SV_QOS_NONE:
                break;
        }
        return "";
}

/* A component: @n bytes at @p. */
struct comp {
        const char *p;
        size_t n;
};

static bool is_hex(const char *p, size_t n)
{
        if (n < ID_MIN || n > SV_CONTAINER_ID_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
                        return false;
        return true;
}

static bool eq(struct comp c, const char *s)
{
        return c.n == strlen(s) && memcmp(c.p, s, c.n) == 0;
}

static bool starts(struct comp c, const char *s)
{
        size_t n = strlen(s);
        return c.n >= n && memcmp(c.p, s, n) == 0;
}

static bool ends(struct comp c, const char *s)
{
        size_t n = strlen(s);
        return c.n >= n && memcmp(c.p + c.n - n, s, n) == 0;
}

/* PREFIX HEX SUFFIX: the id into @id. */
static bool id_between(struct comp c, const char *prefix, const char *suffix, char *id)
{
        size_t a = strlen(prefix), b = strlen(suffix);

        if (!starts(c, prefix) || !ends(c, suffix) || c.n < a + b || !is_hex(c.p + a, c.n - a - b))
                return false;
        memcpy(id, c.p + a, c.n - a - b);
        id[c.n - a - b] = '\0';
        return true;
}

/* A pod uid as the kubelet names it: hex digits and dashes (systemd's
 * escaping turns the dashes into '_', given back as dashes). */
static bool pod_uid(const char *p, size_t n, char *uid)
{
        uid[0] = '\0';
        if (n == 0 || n > SV_POD_UID_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f') ||
                      p[i] == '-' || p[i] == '_'))
                        return false;
        for (size_t i = 0; i < n; i++)
                uid[i] = p[i] == '_' ? '-' : p[i];
        uid[n] = '\0';
        return true;
}

/* The container named by @c, if any. @parent is the component above it,
 * @in_pod_cgroupfs says that @c lies right below a pod of the cgroupfs
 * driver, where the bare id is the container. */
static bool container_comp(struct comp c, struct comp parent, bool in_pod_cgroupfs,
                           struct sv_container_path *ret)
{
        static const struct {
                const char *prefix, *suffix;
                enum sv_engine engine;
                bool monitor;
        } forms[] = {
                /* Longer prefixes first: crio-conmon- before crio-. */
                { "cri-containerd-", ".scope", SV_ENGINE_CONTAINERD, false },
                { "crio-conmon-", ".scope", SV_ENGINE_CRIO, true },
                { "crio-", ".scope", SV_ENGINE_CRIO, false },
                { "docker-", ".scope", SV_ENGINE_DOCKER, false },
                { "libpod-conmon-", ".scope", SV_ENGINE_PODMAN, true },
                { "libpod-", ".scope", SV_ENGINE_PODMAN, false },
                { "libpod-", "", SV_ENGINE_PODMAN, false },
        };
        char *id = ret->container_id;

        for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
                if (id_between(c, forms[i].prefix, forms[i].suffix, id)) {
                        ret->engine = forms[i].engine;
                        ret->monitor = forms[i].monitor;
                        return true;
                }
        if (in_pod_cgroupfs && id_between(c, "crio-conmon-", "", id)) {
                ret->engine = SV_ENGINE_CRIO;
                ret->monitor = true;
                return true;
        }
        if (in_pod_cgroupfs && id_between(c, "crio-", "", id)) {
                ret->engine = SV_ENGINE_CRIO;
                return true;
        }
        if ((in_pod_cgroupfs || eq(parent, "docker")) && id_between(c, "", "", id)) {
                ret->engine = in_pod_cgroupfs ? SV_ENGINE_CRI : SV_ENGINE_DOCKER;
                return true;
        }
        id[0] = '\0';
        return false;
}

/* The pod component below @parent: "<parent minus .slice>-pod<UID>.slice"
 * (systemd driver) or "pod<UID>" (cgroupfs driver). */
static bool pod_comp(struct comp c, struct comp parent, enum sv_cgroup_driver driver, char *uid)
{
        if (driver == SV_DRIVER_CGROUPFS)
                return starts(c, "pod") && pod_uid(c.p + 3, c.n - 3, uid);
        /* systemd: the parent's name without ".slice", then "-pod". */
        size_t base = parent.n - strlen(".slice");
        if (c.n < base + strlen("-pod") + strlen(".slice") || memcmp(c.p, parent.p, base) != 0 ||
            memcmp(c.p + base, "-pod", 4) != 0 || !ends(c, ".slice"))
                return false;
        return pod_uid(c.p + base + 4, c.n - base - 4 - strlen(".slice"), uid);
}

/* The QoS slice below the pod tree's root @parent. */
static enum sv_pod_qos qos_comp(struct comp c, struct comp parent, enum sv_cgroup_driver driver)
{
        if (driver == SV_DRIVER_CGROUPFS)
                return eq(c, "besteffort") ? SV_QOS_BESTEFFORT
                       : eq(c, "burstable") ? SV_QOS_BURSTABLE
                                            : SV_QOS_NONE;
        size_t base = parent.n - strlen(".slice");
        if (c.n <= base || memcmp(c.p, parent.p, base) != 0)
                return SV_QOS_NONE;
        struct comp rest = { c.p + base, c.n - base };
        return eq(rest, "-besteffort.slice") ? SV_QOS_BESTEFFORT
               : eq(rest, "-burstable.slice") ? SV_QOS_BURSTABLE
                                              : SV_QOS_NONE;
}

int sv_container_parse(const char *path, struct sv_container_path *ret)
{
        struct sv_container_path r = { 0 };
        struct comp parent = { "", 0 }, kube = { "", 0 }, qos_slice = { "", 0 };
        /* 0: outside the pod tree; 1: at its root; 2: in a QoS slice; 3: in a pod */
        int level = 0;
        const char *p = path;

        for (;;) {
                struct comp c;
                size_t end;

                while (*p == '/')
                        p++;
                if (!*p)
                        break;
                c.p = p;
                c.n = strcspn(p, "/");
                p += c.n;
                end = (size_t)(p - path);

                if (level == 0 && (eq(c, "kubepods.slice") || ends(c, "-kubepods.slice"))) {
                        r.driver = SV_DRIVER_SYSTEMD;
                        r.kubepods_len = end;
                        kube = c;
                        level = 1;
                } else if (level == 0 && eq(c, "kubepods")) {
                        r.driver = SV_DRIVER_CGROUPFS;
                        r.kubepods_len = end;
                        kube = c;
                        level = 1;
                } else if (level == 1 && (r.qos = qos_comp(c, kube, r.driver)) != SV_QOS_NONE) {
                        qos_slice = c;
                        level = 2;
                } else if ((level == 1 || level == 2) &&
                           pod_comp(c, level == 1 ? kube : qos_slice, r.driver, r.pod_uid)) {
                        if (level == 1)
                                r.qos = SV_QOS_GUARANTEED;
                        r.pod_len = end;
                        level = 3;
                } else if (container_comp(c, parent,
                                          level == 3 && r.driver == SV_DRIVER_CGROUPFS &&
                                                  end - c.n - 1 == r.pod_len,
                                          &r)) {
                        r.container_len = end;
                        break; /* what lies below is inside the container */
                } else if (level == 1 || level == 2) {
                        /* Something else in the pod tree: not a pod of it. */
                        if (level == 2)
                                r.qos = SV_QOS_NONE;
                        r.pod_uid[0] = '\0';
                        level = 4;
                }
                parent = c;
        }
        if (!r.pod_len)
                r.qos = SV_QOS_NONE;
        *ret = r;
        return r.kubepods_len || r.pod_len || r.container_len ? 0 : -ENOENT;
}
