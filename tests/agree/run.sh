#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# explain --config against what cgsentryd does, on the real kernel (ctest:
# vm.agree). Usage: run.sh BUILD_DIR. Exit 77 (skipped) when the sandbox
# cannot run here. Environment: AGREE_ARGS (e.g. "--only tripwire,pool").
set -uo pipefail
# shellcheck source=tests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../vm/lib.sh"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)

vm_test_begin vm.agree "${1:-}" daemon/cgsentryd
# shellcheck disable=SC2086  # AGREE_ARGS is a list of words
"$VM_SANDBOX" --timeout "${AGREE_TIMEOUT:-600}" --results "$VM_RESULTS" --share "$VM_BUILD" -- \
    python3 "$HERE/agree.py" --daemon "$VM_BIN" --cgsentry "$VM_BUILD/daemon/cgsentry" \
    --policy-dir "$VM_BUILD/policies" --out "$VM_RESULTS/logs" ${AGREE_ARGS:-}
vm_test_end $?
