#!/usr/bin/env bash
# cgsentry run in the real-kernel sandbox (ctest: vm.run).
# Usage: run.sh BUILD_DIR. Exit 77 (skipped) when the sandbox cannot run here.
set -uo pipefail
# shellcheck source=tests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../vm/lib.sh"

vm_test_begin vm.run "${1:-}" daemon/cgsentry
"$VM_SANDBOX" --timeout 600 --results "$VM_RESULTS" --share "$VM_BUILD" -- \
    bash tests/run/wrap.sh "$VM_BUILD"
vm_test_end $?
