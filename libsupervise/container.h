/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Containers and pods from cgroup paths: which engine made a cgroup, the
 * container id, the pod uid and its QoS class, read from the names that
 * container engines and the kubelet give their cgroups. Pure: a path in,
 * plain data out, no I/O.
 *
 * Layouts recognised (any prefix above them, e.g. kind's kubelet.slice):
 *   podman   machine.slice/libpod-ID.scope, user.slice/.../libpod-ID.scope,
 *            libpod_parent/libpod-ID (cgroupfs); libpod-conmon-ID.scope is
 *            podman's monitor, not the container
 *   docker   system.slice/docker-ID.scope, docker/ID (cgroupfs)
 *   kubelet, systemd driver
 *            kubepods.slice/kubepods-QOS.slice/kubepods-QOS-podUID.slice/C
 *            kubepods.slice/kubepods-podUID.slice/C (Guaranteed)
 *            with C = cri-containerd-ID.scope, crio-ID.scope (crio-conmon-ID.scope:
 *            CRI-O's monitor), docker-ID.scope (cri-dockerd); the uid's '-'
 *            are '_' in slice names (systemd's escaping), given back here
 *   kubelet, cgroupfs driver
 *            kubepods/QOS/podUID/ID, kubepods/podUID/ID (Guaranteed), with
 *            ID bare (containerd, cri-dockerd) or crio-ID
 * QOS is besteffort or burstable. Not part of the documented API (like
 * parse.h): cgsentry, cgsentryd and the kubernetes policy compile it in.
 */
#ifndef SV_CONTAINER_H
#define SV_CONTAINER_H

#include <stdbool.h>
#include <stddef.h>

/* Who made a container's cgroup. */
enum sv_engine {
        SV_ENGINE_NONE,       /* not in a container */
        SV_ENGINE_PODMAN,     /* libpod-ID */
        SV_ENGINE_DOCKER,     /* docker-ID.scope, docker/ID */
        SV_ENGINE_CONTAINERD, /* cri-containerd-ID.scope */
        SV_ENGINE_CRIO,       /* crio-ID.scope, crio-ID */
        SV_ENGINE_CRI,        /* a bare ID below a pod (cgroupfs driver): the runtime is not in the name */
};

/* A pod's QoS class, as the kubelet places the pod. */
enum sv_pod_qos {
        SV_QOS_NONE,       /* not in a pod */
        SV_QOS_GUARANTEED, /* directly below kubepods */
        SV_QOS_BURSTABLE,
        SV_QOS_BESTEFFORT,
};

/* Who made the pod cgroups. */
enum sv_cgroup_driver {
        SV_DRIVER_NONE,
        SV_DRIVER_SYSTEMD,  /* kubepods.slice/... */
        SV_DRIVER_CGROUPFS, /* kubepods/... */
};

#define SV_CONTAINER_ID_MAX 64
#define SV_POD_UID_MAX 64

struct sv_container_path {
        enum sv_engine engine;
        enum sv_cgroup_driver driver;
        enum sv_pod_qos qos;
        /* The engine's monitor (conmon), not the container's own processes. */
        bool monitor;
        char container_id[SV_CONTAINER_ID_MAX + 1]; /* "" outside a container */
        char pod_uid[SV_POD_UID_MAX + 1];           /* "" outside a pod */
        /* Prefix lengths of the path given: the node's pod tree
         * ("/kubepods.slice"), the pod's cgroup and the container's; 0 when
         * the path is not inside one. A path below a container's cgroup
         * (a nested runtime, systemd inside) is inside that container. */
        size_t kubepods_len, pod_len, container_len;
};

/*
 * sv_container_parse() - what @path ("/a/b" or "a/b", relative to the
 * cgroup root) says about containers and pods. 0 when it lies in the pod
 * tree, a pod or a container (*@ret filled), -ENOENT when it says nothing
 * (*@ret zeroed all the same). Names that do not have the exact shape
 * (ids of hex digits, uids of hex digits and dashes) are not taken: names
 * are the cgroup creator's to choose.
 */
int sv_container_parse(const char *path, struct sv_container_path *ret);

/* "podman", "docker", "containerd", "cri-o", "cri", or "" for none. */
const char *sv_engine_name(enum sv_engine e);
/* "Guaranteed", "Burstable", "BestEffort", or "" for none. */
const char *sv_pod_qos_name(enum sv_pod_qos q);

#endif
