#!/usr/bin/env bash
# Wrapping containers and container-like process trees with cgsentry.
#
# 1. Any process tree, in new namespaces: the whole tree shares one cgroup,
#    so when it runs away it dies at once, PID namespace and all.
#
#      cgsentry run --memory-max 1G -- \
#              unshare --fork --pid --mount-proc --uts -- ./my-workload
#
# 2. Daemonless runtimes that run the container below the command (crun/runc
#    run, podman run without --detach, bwrap, systemd-nspawn). Their default
#    cgroup manager moves the container into a cgroup of its own (crun: /ID at
#    the top), out of the limit; cgsentry run says so on stderr. Either give
#    the command a private cgroup namespace, so the runtime's cgroup is
#    created inside cgsentry's ...
#
#      cgsentry run --cgroupns --memory-max 2G -- crun run --bundle /srv/c1 c1
#      cgsentry run --cgroupns --memory-max 2G -- podman --cgroup-manager=cgroupfs \
#              run --rm --network=none --rootfs /srv/rootfs sh -c ./job
#
#    ... or tell the runtime to stay where it is started:
#
#      cgsentry run --memory-max 2G -- crun --cgroup-manager=disabled run c1
#      cgsentry run --memory-max 2G -- systemd-nspawn --keep-unit -D /srv/box
#
# 3. Daemon-managed runtimes (docker, containerd, podman --detach, libvirt,
#    the kubelet) start containers in cgroups of their own (machine.slice/...,
#    system.slice/docker-ID.scope, kubepods.slice/...). Wrapping the client
#    command would not cover them: let cgsentryd supervise those cgroups with
#    the rules of examples/containers.conf, and on Kubernetes nodes with the
#    DaemonSet of packaging/kubernetes.
#
# This script runs example 1 with a deliberately leaking workload.
set -euo pipefail
exec cgsentry run --memory-max "${1:-128M}" -- \
        unshare --fork --pid --mount-proc sh -c '
                sleep 600 &
                python3 -c "l = []
while True: l.append(b\"x\" * (1 << 20))"'
