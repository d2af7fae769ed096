#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Host side of the end-to-end daemon test (ctest: vm.daemon).
#
# Usage: tests/daemon/run.sh BUILD_DIR
#
# Boots the test VM once (tests/vm/sandbox.sh) and runs daemon.py in it
# against BUILD_DIR/daemon/cgsentryd. Exits with daemon.py's status (0 = all
# checks passed), or 77 (ctest SKIP_RETURN_CODE) when the sandbox cannot run
# on this machine. Daemon logs, their configurations and the console log are
# kept in BUILD_DIR/vm-results/daemon/.
#
# Environment: DAEMON_TIMEOUT (seconds, default 900), DAEMON_MEM (MB, default
# 2048), DAEMON_ARGS (extra daemon.py arguments, e.g. "--only reload,psi" or
# "--runs 5"); the sandbox's own variables (SANDBOX_DEBUG=1, ...) apply.
set -uo pipefail
# shellcheck source=tests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../vm/lib.sh"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)

vm_test_begin vm.daemon "${1:-}" daemon/cgsentryd
# shellcheck disable=SC2086  # DAEMON_ARGS is a list of words
"$VM_SANDBOX" --timeout "${DAEMON_TIMEOUT:-900}" --mem "${DAEMON_MEM:-2048}" \
    --results "$VM_RESULTS" --share "$VM_BUILD" -- \
    python3 "$HERE/daemon.py" --daemon "$VM_BIN" --out "$VM_RESULTS/logs" ${DAEMON_ARGS:-}
vm_test_end $?
