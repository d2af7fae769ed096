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
# shellcheck source=tests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../vm/lib.sh"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)

vm_test_begin vm.policy "${1:-}" daemon/cgsentry
POLICIES=$VM_BUILD/policies
for p in largest growth priority; do
    [[ -e $POLICIES/cgsentry-policy-$p.so ]] ||
        { echo "$0: $POLICIES/cgsentry-policy-$p.so: not built" >&2; exit 2; }
done
# One short boot: 512 MB is plenty for ~130 MiB of test allocations.
"$VM_SANDBOX" --timeout "${POLICY_TIMEOUT:-300}" --mem 512 --results "$VM_RESULTS" \
    --share "$VM_BUILD" -- bash "$HERE/sandbox-guest.sh" "$VM_BIN" "$POLICIES"
vm_test_end $?
