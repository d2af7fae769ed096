#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The kernel as oracle for system-wide OOMs (ctest: vm.global-oracle).
#
# Usage: tests/oracle/run-global.sh BUILD_DIR
#
# Boots the sandbox with 512 MB and no limits and runs global.py in it:
# `cgsentry explain /` against real global OOMs (ties, oom_score_adj,
# memory.oom.group at several levels, vm.oom_kill_allocating_task=1), and
# a memcg OOM under vm.panic_on_oom=1. Prints "global oracle: N/M scenarios
# agree"; exit 0 only if all agree, 77 skipped. Artifacts (the kernel log of
# each OOM, each scenario's prediction) in BUILD_DIR/vm-results/global-oracle/.
set -uo pipefail
# shellcheck source=tests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../vm/lib.sh"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)

vm_test_begin vm.global-oracle "${1:-}" daemon/cgsentry
ghog=$VM_BUILD/tests/oracle-ghog
[[ -x $ghog ]] || { echo "$0: $ghog: not built" >&2; exit 2; }
# shellcheck disable=SC2086  # GLOBAL_ORACLE_ARGS is a list of words
"$VM_SANDBOX" --mem 512 --timeout "${GLOBAL_ORACLE_TIMEOUT:-420}" --results "$VM_RESULTS" \
    --share "$VM_BUILD" -- \
    python3 "$HERE/global.py" --cgsentry "$VM_BIN" --ghog "$ghog" --out "$VM_RESULTS/out" \
    ${GLOBAL_ORACLE_ARGS:-}
vm_test_end $?
