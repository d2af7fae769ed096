#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# cgsentry run around crun and podman in the real-kernel sandbox
# (ctest: vm.containers). Usage: run.sh BUILD_DIR. Exit 77 (skipped) when
# the sandbox cannot run here or crun is not installed (tools/deps.sh).
set -uo pipefail
# shellcheck source=tests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../vm/lib.sh"

vm_test_begin vm.containers "${1:-}" daemon/cgsentry
command -v crun >/dev/null || vm_skip "crun is not installed (apt-get install crun; tools/deps.sh lists it)"
"$VM_SANDBOX" --timeout 600 --results "$VM_RESULTS" --share "$VM_BUILD" -- \
    bash tests/containers/wrap.sh "$VM_BUILD"
vm_test_end $?
