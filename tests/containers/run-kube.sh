#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A kubelet-style node in the real-kernel sandbox (ctest: vm.kubepods):
# cgsentryd with the rules packaging/kubernetes ships, against containers
# crun starts in both kubelet drivers' cgroup layouts. Usage: run-kube.sh
# BUILD_DIR. Exit 77 (skipped) when the sandbox cannot run here or crun is
# not installed (tools/deps.sh).
set -uo pipefail
# shellcheck source=tests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../vm/lib.sh"

vm_test_begin vm.kubepods "${1:-}" daemon/cgsentryd
command -v crun >/dev/null || vm_skip "crun is not installed (apt-get install crun; tools/deps.sh lists it)"
# 1 GiB: the node squeeze takes a few seconds under emulation.
"$VM_SANDBOX" --mem 1024 --timeout 600 --results "$VM_RESULTS" --share "$VM_BUILD" -- \
    bash tests/containers/kube.sh "$VM_BUILD"
vm_test_end $?
