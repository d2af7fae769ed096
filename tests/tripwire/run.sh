#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The tripwire against the real kernel: page cache is not danger (ctest:
# vm.tripwire). Usage: run.sh BUILD_DIR. Exit 77 (skipped) when the sandbox
# cannot run here. Environment: TRIPWIRE_ARGS (e.g. "--only cache").
set -uo pipefail
# shellcheck source=tests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../vm/lib.sh"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)

vm_test_begin vm.tripwire "${1:-}" daemon/cgsentryd
# shellcheck disable=SC2086  # TRIPWIRE_ARGS is a list of words
"$VM_SANDBOX" --timeout "${TRIPWIRE_TIMEOUT:-900}" --mem 2560 \
    --results "$VM_RESULTS" --share "$VM_BUILD" -- \
    python3 "$HERE/tripwire.py" --daemon "$VM_BIN" --cgsentry "$VM_BUILD/daemon/cgsentry" \
    --out "$VM_RESULTS/logs" ${TRIPWIRE_ARGS:-}
vm_test_end $?
