#!/usr/bin/env bash
# Differential test of `cgsentry explain` against the real kernel OOM killer.
#
# Usage: tests/oracle/run.sh BUILD_DIR [SEED]
#
# Builds nothing: BUILD_DIR/daemon/cgsentry must exist. Boots the test sandbox
# (tests/vm/sandbox.sh) once and runs tests/oracle/oracle.py in it. The exit
# status is the oracle's (0 = every scenario agrees with the kernel, 1 = not);
# 77 = SKIPPED, the sandbox cannot run here.
#
# Environment: ORACLE_COUNT (scenarios, hand-made included), ORACLE_ARGS
# (more oracle.py options), ORACLE_RESULTS (artifacts directory, default
# BUILD_DIR/vm-results/oracle).
set -euo pipefail

# shellcheck source=tests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../vm/lib.sh"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)

if (($# < 1 || $# > 2)); then
    echo "usage: $0 BUILD_DIR [SEED]" >&2
    exit 2
fi
if (($# == 2)); then
    [[ $2 =~ ^[0-9]+$ ]] || { echo "$0: SEED must be a non-negative integer" >&2; exit 2; }
    seed=$2
else
    seed=$(( ($(date +%s) * 1000 + $$ + RANDOM) % 1000000 ))
fi
echo "oracle seed: $seed"
vm_test_begin vm.oracle "$1" daemon/cgsentry

# Under TCG (no usable KVM) everything is several times slower: run fewer.
count=${ORACLE_COUNT:-}
if [[ -z $count ]]; then
    if grep -q "^accel:.*kvm" <<<"$VM_CHECK"; then count=54; else count=44; fi
fi

results=${ORACLE_RESULTS:-$VM_RESULTS}
mkdir -p "$results"
rm -rf "$results/oracle"

rc=0
# shellcheck disable=SC2086  # ORACLE_ARGS is split on purpose
"$VM_SANDBOX" --timeout 900 --results "$results" --share "$VM_BUILD" -- \
    python3 "$here/oracle.py" --cgsentry "$VM_BIN" --seed "$seed" --count "$count" \
    --out "$results/oracle" ${ORACLE_ARGS:-} || rc=$?
if ((rc != 0 && rc != VM_EX_SANDBOX)); then
    echo "vm.oracle: FAILED (exit $rc); rerun with: $0 $1 $seed" >&2
fi
vm_test_end "$rc"
