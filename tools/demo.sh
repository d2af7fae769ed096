#!/usr/bin/env bash
# The main demo: a runaway service caught whole. Runs directly on a host with
# a cgroup v2 memory controller, otherwise inside the real-kernel sandbox.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=tools/deps.sh
. tools/deps.sh
cgsentry_install_deps "${CGSENTRY_BUILD_DEPS[@]}"

echo "== building"
cmake -S . -B build/demo -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF >/dev/null
cmake --build build/demo -j "$(nproc)" >/dev/null

if [ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ] &&
   grep -qw memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
        echo "== this host has a cgroup v2 memory controller: running here"
        exec bash tools/demo-scenario.sh build/demo
fi
cgsentry_install_deps "${CGSENTRY_SANDBOX_DEPS[@]}"
echo "== this host has no cgroup v2 memory controller: booting a real Debian kernel in qemu"
exec tests/vm/sandbox.sh --timeout 600 -- bash tools/demo-scenario.sh build/demo
