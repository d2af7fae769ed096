#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Host side of the real-kernel reader test (ctest: vm.readers).
#
# Usage: tests/integration/run.sh BUILD_DIR
#
# Boots the test VM once (tests/vm/sandbox.sh) and runs readers.py in it
# against BUILD_DIR/daemon/cgsentry. Exits with readers.py's status (0 = all
# checks passed), or 77 (ctest SKIP_RETURN_CODE) when the sandbox cannot run
# on this machine. Artifacts (console log, snapshots, the kernel's values)
# are kept in BUILD_DIR/vm-results/readers/.
#
# Environment: READERS_TIMEOUT (seconds, default 300), READERS_MEM (MB,
# default 2048); the sandbox's own variables (SANDBOX_DEBUG=1, ...) apply.
set -uo pipefail
# shellcheck source=tests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../vm/lib.sh"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)

vm_test_begin vm.readers "${1:-}" daemon/cgsentry
"$VM_SANDBOX" --timeout "${READERS_TIMEOUT:-300}" --mem "${READERS_MEM:-2048}" \
    --results "$VM_RESULTS" --share "$VM_BUILD" -- \
    python3 "$HERE/readers.py" --cgsentry "$VM_BIN"
vm_test_end $?
