#!/usr/bin/env bash
# Wrapping containers and container-like process trees with cgsentry.
#
# 1. Any process tree, in new namespaces: the whole tree shares one cgroup,
#    so when it runs away it dies at once, PID namespace and all.
#
#      cgsentry run --memory-max 1G -- \
#              unshare --fork --pid --mount-proc --uts -- ./my-workload
#
# 2. Daemonless runtimes that run the container as a child of the command
#    (podman run without --detach, crun/runc run, bwrap, systemd-nspawn): put
#    the runtime itself in the cgroup and tell it not to create its own, so
#    the container's processes stay under cgsentry's limit.
#
#      cgsentry run --memory-max 2G -- podman run --rm --cgroups=disabled \
#              docker.io/library/python:3 python -c 'x = b"x" * (4 << 30)'
#      cgsentry run --memory-max 2G -- systemd-nspawn --keep-unit -D /srv/box
#
# 3. Daemon-managed runtimes (docker, containerd, podman --detach, libvirt)
#    start containers in cgroups of their own (machine.slice/..., system.slice/
#    docker-ID.scope, kubepods.slice/...). Wrapping the client command would
#    not cover them: let cgsentryd supervise those cgroups with a rule instead.
#
#      # /etc/cgsentry/conf.d/containers.conf
#      [Rule docker]
#      Match=system.slice/docker-*.scope
#      OOMGroup=yes
#      Tripwire=90%
#      OnKernelOOMKill=group-kill
#
#      [Rule pods]
#      Match=kubepods.slice/**/*.scope
#      OOMGroup=yes
#      OnKernelOOMKill=group-kill
#
# This script runs example 1 with a deliberately leaking workload.
set -euo pipefail
exec cgsentry run --memory-max "${1:-128M}" -- \
        unshare --fork --pid --mount-proc sh -c '
                sleep 600 &
                python3 -c "l = []
while True: l.append(b\"x\" * (1 << 20))"'
