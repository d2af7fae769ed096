/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Containers and pods from cgroup paths: every engine's and both kubelet
 * drivers' layouts, and the names that only look like them. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "container.h"

#define ID "4f1e8c3a9b2d7e6f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071"
#define ID2 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define UID "1b2c3d4e-5f6a-7b8c-9d0e-1f2a3b4c5d6e"
#define UID_ "1b2c3d4e_5f6a_7b8c_9d0e_1f2a3b4c5d6e"

static struct sv_container_path parse_ok(const char *path)
{
        struct sv_container_path c;

        if (sv_container_parse(path, &c) != 0)
                fail_msg("%s: not recognised", path);
        return c;
}

static void assert_prefix(const char *path, size_t len, const char *want)
{
        assert_int_equal(len, strlen(want));
        assert_memory_equal(path, want, len);
}

static void test_podman_systemd(void **state)
{
        const char *p = "/machine.slice/libpod-" ID ".scope";
        struct sv_container_path c = parse_ok(p);

        assert_int_equal(c.engine, SV_ENGINE_PODMAN);
        assert_string_equal(c.container_id, ID);
        assert_false(c.monitor);
        assert_int_equal(c.qos, SV_QOS_NONE);
        assert_string_equal(c.pod_uid, "");
        assert_int_equal(c.pod_len, 0);
        assert_int_equal(c.container_len, strlen(p));
        assert_string_equal(sv_engine_name(c.engine), "podman");

        /* Rootless, below the user's manager; and what runs inside it. */
        c = parse_ok("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID
                     ".scope/container");
        assert_int_equal(c.engine, SV_ENGINE_PODMAN);
        assert_prefix("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID
                      ".scope/container", c.container_len,
                      "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID
                      ".scope");
        /* conmon: the engine's monitor, not the container. */
        c = parse_ok("machine.slice/libpod-conmon-" ID ".scope");
        assert_int_equal(c.engine, SV_ENGINE_PODMAN);
        assert_true(c.monitor);
        assert_string_equal(c.container_id, ID);
        /* cgroupfs manager */
        c = parse_ok("/libpod_parent/libpod-" ID);
        assert_int_equal(c.engine, SV_ENGINE_PODMAN);
        assert_string_equal(c.container_id, ID);
}

static void test_docker(void **state)
{
        struct sv_container_path c = parse_ok("/system.slice/docker-" ID ".scope");

        assert_int_equal(c.engine, SV_ENGINE_DOCKER);
        assert_string_equal(c.container_id, ID);
        c = parse_ok("/docker/" ID);
        assert_int_equal(c.engine, SV_ENGINE_DOCKER);
        assert_string_equal(c.container_id, ID);
        assert_int_equal(c.driver, SV_DRIVER_NONE);
}

static void test_kubelet_systemd_driver(void **state)
{
        const char *pod = "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_
                          ".slice";
        const char *p = "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_
                        ".slice/cri-containerd-" ID ".scope";
        struct sv_container_path c = parse_ok(p);

        assert_int_equal(c.driver, SV_DRIVER_SYSTEMD);
        assert_int_equal(c.qos, SV_QOS_BESTEFFORT);
        assert_string_equal(sv_pod_qos_name(c.qos), "BestEffort");
        assert_string_equal(c.pod_uid, UID); /* '_' back to '-' */
        assert_int_equal(c.engine, SV_ENGINE_CONTAINERD);
        assert_string_equal(c.container_id, ID);
        assert_prefix(p, c.kubepods_len, "/kubepods.slice");
        assert_prefix(p, c.pod_len, pod);
        assert_int_equal(c.container_len, strlen(p));

        c = parse_ok("kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
                     ".slice/crio-" ID ".scope");
        assert_int_equal(c.qos, SV_QOS_BURSTABLE);
        assert_int_equal(c.engine, SV_ENGINE_CRIO);
        assert_false(c.monitor);
        c = parse_ok("kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
                     ".slice/crio-conmon-" ID ".scope");
        assert_int_equal(c.engine, SV_ENGINE_CRIO);
        assert_true(c.monitor);

        /* Guaranteed pods sit directly below kubepods.slice. */
        c = parse_ok("/kubepods.slice/kubepods-pod" UID_ ".slice/cri-containerd-" ID2 ".scope");
        assert_int_equal(c.qos, SV_QOS_GUARANTEED);
        assert_string_equal(c.pod_uid, UID);
        assert_string_equal(c.container_id, ID2);

        /* The pod itself, a QoS slice, the tree's root. */
        c = parse_ok(pod);
        assert_int_equal(c.qos, SV_QOS_BESTEFFORT);
        assert_int_equal(c.pod_len, strlen(pod));
        assert_int_equal(c.container_len, 0);
        assert_int_equal(c.engine, SV_ENGINE_NONE);
        c = parse_ok("/kubepods.slice/kubepods-burstable.slice");
        assert_int_equal(c.qos, SV_QOS_NONE);
        assert_int_equal(c.pod_len, 0);
        assert_int_equal(c.kubepods_len, strlen("/kubepods.slice"));
        c = parse_ok("/kubepods.slice");
        assert_int_equal(c.driver, SV_DRIVER_SYSTEMD);

        /* kind and --cgroup-root: a prefix on every slice name. */
        c = parse_ok("/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/"
                     "kubelet-kubepods-besteffort-pod" UID_ ".slice/cri-containerd-" ID ".scope");
        assert_int_equal(c.qos, SV_QOS_BESTEFFORT);
        assert_string_equal(c.pod_uid, UID);
        assert_string_equal(c.container_id, ID);
        /* Static pods: the uid is a hash without dashes. */
        c = parse_ok("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod"
                     "0123456789abcdef0123456789abcdef.slice");
        assert_string_equal(c.pod_uid, "0123456789abcdef0123456789abcdef");
}

static void test_kubelet_cgroupfs_driver(void **state)
{
        const char *p = "/kubepods/besteffort/pod" UID "/" ID;
        struct sv_container_path c = parse_ok(p);

        assert_int_equal(c.driver, SV_DRIVER_CGROUPFS);
        assert_int_equal(c.qos, SV_QOS_BESTEFFORT);
        assert_string_equal(c.pod_uid, UID);
        assert_int_equal(c.engine, SV_ENGINE_CRI);
        assert_string_equal(sv_engine_name(c.engine), "cri");
        assert_string_equal(c.container_id, ID);
        assert_prefix(p, c.pod_len, "/kubepods/besteffort/pod" UID);
        assert_prefix(p, c.kubepods_len, "/kubepods");

        c = parse_ok("kubepods/burstable/pod" UID "/crio-" ID);
        assert_int_equal(c.qos, SV_QOS_BURSTABLE);
        assert_int_equal(c.engine, SV_ENGINE_CRIO);
        c = parse_ok("kubepods/pod" UID "/" ID2);
        assert_int_equal(c.qos, SV_QOS_GUARANTEED);
        assert_string_equal(c.container_id, ID2);
        /* A bare id is a container only right below a pod. */
        c = parse_ok("kubepods/" ID);
        assert_int_equal(c.engine, SV_ENGINE_NONE);
        assert_int_equal(c.pod_len, 0);
}

static void test_names_that_only_look_like_it(void **state)
{
        struct sv_container_path c;

        assert_int_equal(sv_container_parse("/system.slice/ssh.service", &c), -ENOENT);
        assert_int_equal(c.engine, SV_ENGINE_NONE);
        assert_int_equal(sv_container_parse("/", &c), -ENOENT);
        assert_int_equal(sv_container_parse("", &c), -ENOENT);
        /* Not hex, too short, too long, upper case. */
        assert_int_equal(sv_container_parse("/machine.slice/libpod-xyz.scope", &c), -ENOENT);
        assert_int_equal(sv_container_parse("/system.slice/docker-abc.scope", &c), -ENOENT);
        assert_int_equal(sv_container_parse("/system.slice/docker-" ID "0.scope", &c), -ENOENT);
        assert_int_equal(sv_container_parse("/system.slice/docker-4F1E8C3A9B2D.scope", &c),
                         -ENOENT);
        /* A bare id outside a pod or docker/ is nobody's container. */
        assert_int_equal(sv_container_parse("/batch.slice/" ID, &c), -ENOENT);
        /* A uid with other characters is not a pod; a newline is not a name. */
        c = parse_ok("/kubepods/besteffort/podxyz/" ID);
        assert_int_equal(c.pod_len, 0);
        assert_int_equal(c.qos, SV_QOS_NONE);
        assert_int_equal(c.engine, SV_ENGINE_NONE);
        c = parse_ok("/kubepods.slice/kubepods-pod1\n2.slice");
        assert_int_equal(c.pod_len, 0);
        assert_string_equal(c.pod_uid, "");
        /* A pod slice that does not carry its parent's name. */
        c = parse_ok("/kubepods.slice/kubepods-besteffort.slice/other-pod" UID_ ".slice");
        assert_int_equal(c.pod_len, 0);
        assert_int_equal(c.qos, SV_QOS_NONE);
        /* A container below a container is inside the first. */
        c = parse_ok("/system.slice/docker-" ID ".scope/libpod-" ID2 ".scope");
        assert_int_equal(c.engine, SV_ENGINE_DOCKER);
        assert_string_equal(c.container_id, ID);
        assert_string_equal(sv_engine_name(SV_ENGINE_NONE), "");
        assert_string_equal(sv_pod_qos_name(SV_QOS_NONE), "");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_podman_systemd),
                cmocka_unit_test(test_docker),
                cmocka_unit_test(test_kubelet_systemd_driver),
                cmocka_unit_test(test_kubelet_cgroupfs_driver),
                cmocka_unit_test(test_names_that_only_look_like_it),
        };
        return cmocka_run_group_tests_name("container", tests, NULL, NULL);
}
