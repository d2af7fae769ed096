# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# What every host-side real-kernel test wrapper does around one boot of
# tests/vm/sandbox.sh: resolve the build tree, skip (exit 77, loudly) when
# the sandbox cannot run here, keep artifacts in BUILD_DIR/vm-results/NAME,
# and turn the sandbox's own failures into skips or failures. Sourced.
#
#   . "$(dirname "$0")/../vm/lib.sh"
#   vm_test_begin vm.NAME BUILD_DIR daemon/cgsentry   # sets VM_* below
#   "$VM_SANDBOX" ... --results "$VM_RESULTS" --share "$VM_BUILD" -- CMD
#   vm_test_end $?

readonly VM_EX_SKIP=77
readonly VM_EX_SANDBOX=125
readonly VM_EX_TIMEOUT=124

vm_skip() {
        {
                echo "======================================================================"
                echo "SKIPPED: $VM_NAME: $*"
                echo "======================================================================"
        } >&2
        exit "$VM_EX_SKIP"
}

# vm_test_begin NAME BUILD_DIR BINARY: sets VM_NAME, VM_SRC, VM_SANDBOX,
# VM_BUILD, VM_BIN (BUILD_DIR/BINARY), VM_CHECK (what --check said),
# VM_RESULTS (emptied) and VM_START, and changes to the source tree (the
# guest sees the working directory at its own path, also under /tmp).
vm_test_begin() {
        VM_NAME=$1
        VM_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
        VM_SANDBOX=$VM_SRC/tests/vm/sandbox.sh
        VM_BUILD=$(cd "${2:?usage: $0 BUILD_DIR}" 2>/dev/null && pwd -P) ||
                { echo "$0: $2: no such build directory" >&2; exit 2; }
        VM_BIN=$VM_BUILD/$3
        [[ -x $VM_BIN ]] || { echo "$0: $VM_BIN: not built" >&2; exit 2; }
        [[ -x $VM_SANDBOX ]] || vm_skip "$VM_SANDBOX is missing"
        VM_CHECK=$("$VM_SANDBOX" --check 2>&1) ||
                vm_skip "the test VM cannot run here ($VM_SANDBOX --check):" \
                        "$(printf '%s' "$VM_CHECK" | tr '\n' ';')"
        VM_RESULTS=$VM_BUILD/vm-results/${VM_NAME#vm.}
        rm -rf "$VM_RESULTS"
        mkdir -p "$VM_RESULTS" || { echo "$0: cannot create $VM_RESULTS" >&2; exit 2; }
        cd "$VM_SRC" || exit 2
        VM_START=$SECONDS
}

# vm_test_end RC: report and exit with the guest's status; a sandbox that
# failed to boot is a skip, a guest that timed out a failure.
vm_test_end() {
        local rc=$1
        echo "$VM_NAME: sandbox exit $rc after $((SECONDS - VM_START)) s" \
             "(artifacts: $VM_RESULTS)" >&2
        case $rc in
        "$VM_EX_SANDBOX")
                vm_skip "the test VM failed to start or run (exit $rc); see" \
                        "$VM_RESULTS/console.log" ;;
        "$VM_EX_TIMEOUT")
                echo "$VM_NAME: FAILED: the guest timed out" >&2
                exit 1 ;;
        esac
        exit "$rc"
}
