#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# cgsentry history against real kills (ctest: vm.history).
#
# Usage: tests/history/run.sh BUILD_DIR
#
# Boots the test VM once and runs history.py in it: kernel memcg OOM kills
# (with and without memory.oom.group, with the task dump on and off) and a
# cgsentryd kill recorded in its state directory, read back by
# `cgsentry history` (--follow included). Exit 0 all passed, 1 failures,
# 77 skipped. Artifacts (the saved kernel logs among them) go to
# BUILD_DIR/vm-results/history/.
set -uo pipefail
# shellcheck source=tests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../vm/lib.sh"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)

vm_test_begin vm.history "${1:-}" daemon/cgsentry
"$VM_SANDBOX" --timeout "${HISTORY_TIMEOUT:-300}" --results "$VM_RESULTS" --share "$VM_BUILD" -- \
    python3 "$HERE/history.py" --cgsentry "$VM_BIN" --cgsentryd "$VM_BUILD/daemon/cgsentryd" \
    --out "$VM_RESULTS/out"
vm_test_end $?
