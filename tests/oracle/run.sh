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
# BUILD_DIR/oracle-results).
set -euo pipefail

readonly EX_SKIP=77
readonly EX_SANDBOX=125

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo=$(cd "$here/../.." && pwd -P)
sandbox="$repo/tests/vm/sandbox.sh"

skip() {
    {
        echo "======================================================================"
        echo "SKIPPED: vm.oracle: $*"
        echo "======================================================================"
    } >&2
    exit "$EX_SKIP"
}

if (($# < 1 || $# > 2)); then
    echo "usage: $0 BUILD_DIR [SEED]" >&2
    exit 2
fi
[[ -d $1 ]] || { echo "$0: $1: no such build directory" >&2; exit 2; }
build=$(cd "$1" && pwd -P)
bin="$build/daemon/cgsentry"
[[ -x $bin ]] || { echo "$0: $bin not found: build first" >&2; exit 2; }

if (($# == 2)); then
    [[ $2 =~ ^[0-9]+$ ]] || { echo "$0: SEED must be a non-negative integer" >&2; exit 2; }
    seed=$2
else
    seed=$(( ($(date +%s) * 1000 + $$ + RANDOM) % 1000000 ))
fi
echo "oracle seed: $seed"

[[ -x $sandbox ]] || skip "$sandbox is missing"
if ! check=$("$sandbox" --check 2>&1); then
    printf '%s\n' "$check" >&2
    skip "the sandbox cannot run on this machine (tests/vm/sandbox.sh --check failed)"
fi

# Under TCG (no usable KVM) everything is several times slower: run fewer.
count=${ORACLE_COUNT:-}
if [[ -z $count ]]; then
    if grep -q "^accel:.*kvm" <<<"$check"; then count=54; else count=44; fi
fi

results=${ORACLE_RESULTS:-$build/oracle-results}
mkdir -p "$results"
rm -rf "$results/oracle"

# The guest mounts tmpfs on /tmp, /run and /var/tmp: a checkout or build
# tree below those must be shared explicitly to stay visible there.
rc=0
# shellcheck disable=SC2086  # ORACLE_ARGS is split on purpose
"$sandbox" --timeout 900 --results "$results" --share "$repo" --share "$build" -- \
    python3 "$here/oracle.py" --cgsentry "$bin" --seed "$seed" --count "$count" \
    --out "$results/oracle" ${ORACLE_ARGS:-} || rc=$?

if ((rc == EX_SANDBOX)); then
    skip "the sandbox failed to boot or run the oracle (exit $rc; console log in $results)"
fi
if ((rc != 0)); then
    echo "vm.oracle: FAILED (exit $rc); rerun with: $0 $1 $seed; artifacts in $results" >&2
fi
exit "$rc"
