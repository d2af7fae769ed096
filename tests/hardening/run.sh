#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Churn, races, delegated users, faults and a global squeeze on the real
# kernel (ctest: vm.hardening): two boots, the second with psi=0 and 768 MB.
# Usage: run.sh BUILD_DIR. Exit 77 (skipped) when the sandbox cannot run
# here. Environment: HARDENING_ARGS (e.g. "--only faults --churn 1000").
set -uo pipefail
# shellcheck source=tests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../vm/lib.sh"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)

vm_test_begin vm.hardening "${1:-}" daemon/cgsentryd
args=(--daemon "$VM_BIN" --test-policies "$VM_BUILD/tests/test-policies"
      --pidreuse "$VM_BUILD/tests/test-pidreuse")
# shellcheck disable=SC2086  # HARDENING_ARGS is a list of words
"$VM_SANDBOX" --timeout "${HARDENING_TIMEOUT:-900}" --results "$VM_RESULTS" --share "$VM_BUILD" -- \
    python3 "$HERE/hardening.py" "${args[@]}" --boot main --out "$VM_RESULTS/main" \
    ${HARDENING_ARGS:-}
rc=$?
if [ "$rc" = 0 ]; then
        mkdir -p "$VM_RESULTS/small"
        # shellcheck disable=SC2086
        "$VM_SANDBOX" --timeout 600 --mem 768 --append psi=0 --results "$VM_RESULTS/small" \
            --share "$VM_BUILD" -- \
            python3 "$HERE/hardening.py" "${args[@]}" --boot small --out "$VM_RESULTS/small/logs" \
            ${HARDENING_ARGS:-}
        rc=$?
fi
vm_test_end $rc
