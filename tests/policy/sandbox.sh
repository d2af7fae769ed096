#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Policies on a live domain in the real-kernel sandbox (ctest: vm.policy).
#
# Usage: tests/policy/sandbox.sh BUILD_DIR
#
# Boots the test VM once (tests/vm/sandbox.sh) and runs sandbox-guest.sh in
# it: one domain with three groups where a different one is the victim under
# largest (A holds the most memory), growth (B grows fastest between two
# snapshots) and priority (C carries the user.cgsentry.prefer xattr). Exits
# with the guest's status, or 77 (ctest SKIP_RETURN_CODE) with "SKIPPED: ..."
# when the sandbox cannot run here. Artifacts: BUILD_DIR/vm-results/policy/.
set -uo pipefail

readonly EX_SKIP=77
readonly EX_SANDBOX=125

skip() {
    echo "SKIPPED: vm.policy: $*" >&2
    exit "$EX_SKIP"
}

if (($# != 1)) || [[ $1 == -h || $1 == --help ]]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
SRC=$(cd "$HERE/../.." && pwd -P)
SANDBOX=$SRC/tests/vm/sandbox.sh

BUILD=$(cd "$1" 2>/dev/null && pwd -P) || { echo "$0: $1: no such directory" >&2; exit 2; }
BIN=$BUILD/daemon/cgsentry
POLICIES=$BUILD/policies
for f in "$BIN" "$POLICIES/cgsentry-policy-largest.so" "$POLICIES/cgsentry-policy-growth.so" \
         "$POLICIES/cgsentry-policy-priority.so"; do
    [[ -e $f ]] || { echo "$0: $f: not built" >&2; exit 2; }
done
[[ -x $SANDBOX ]] || skip "$SANDBOX is missing"
if ! check_out=$("$SANDBOX" --check 2>&1); then
    skip "the test VM cannot run here: $(printf '%s' "$check_out" | tr '\n' ';')"
fi

RESULTS=$BUILD/vm-results/policy
rm -rf "$RESULTS"
mkdir -p "$RESULTS" || { echo "$0: cannot create $RESULTS" >&2; exit 2; }

cd "$SRC" || exit 2
start=$SECONDS
# One short boot: 512 MB is plenty for ~130 MiB of test allocations.
"$SANDBOX" --timeout "${POLICY_TIMEOUT:-300}" --mem 512 --results "$RESULTS" --share "$BUILD" -- \
    bash "$HERE/sandbox-guest.sh" "$BIN" "$POLICIES"
rc=$?
echo "vm.policy: sandbox exit $rc after $((SECONDS - start)) s (artifacts: $RESULTS)" >&2
if ((rc == EX_SANDBOX)); then
    skip "the test VM failed to start or run (exit $EX_SANDBOX); see $RESULTS/console.log"
fi
exit "$rc"
