#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Host side of the real-kernel reader test (ctest: vm.readers).
#
# Usage: tests/integration/run.sh BUILD_DIR
#
# Boots the test VM once (tests/vm/sandbox.sh) and runs readers.py in it
# against BUILD_DIR/daemon/cgsentry. Exits with readers.py's status (0 = all
# checks passed), or 77 (ctest SKIP_RETURN_CODE) when the sandbox cannot run
# on this machine. Artifacts (console log, snapshots, the kernel's values)
# are kept in BUILD_DIR/vm-results/readers/.
#
# Environment: READERS_TIMEOUT (seconds, default 300), READERS_MEM (MB,
# default 2048); the sandbox's own variables (SANDBOX_DEBUG=1, ...) apply.
set -uo pipefail

readonly EX_SKIP=77
readonly EX_SANDBOX=125

skip() {
    {
        echo "======================================================================"
        echo "SKIPPED: vm.readers: $*"
        echo "======================================================================"
    } >&2
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
if [[ ! -x $BIN ]]; then
    echo "$0: $BIN: not built" >&2
    exit 2
fi
[[ -x $SANDBOX ]] || skip "$SANDBOX is missing"

if ! check_out=$("$SANDBOX" --check 2>&1); then
    skip "the test VM cannot run here ($SANDBOX --check):" \
         "$(printf '%s' "$check_out" | tr '\n' ';')"
fi

RESULTS=$BUILD/vm-results/readers
rm -rf "$RESULTS"
mkdir -p "$RESULTS" || { echo "$0: cannot create $RESULTS" >&2; exit 2; }

# The guest sees the host root read-only, with fresh tmpfs on /tmp, /run and
# /var/tmp: share the source tree (the working directory) and the build tree
# explicitly so that checkouts under those paths work too.
cd "$SRC" || exit 2
start=$SECONDS
"$SANDBOX" --timeout "${READERS_TIMEOUT:-300}" --mem "${READERS_MEM:-2048}" \
    --results "$RESULTS" --share "$BUILD" -- \
    python3 "$HERE/readers.py" --cgsentry "$BIN"
rc=$?
echo "vm.readers: sandbox exit $rc after $((SECONDS - start)) s (artifacts: $RESULTS)" >&2

if ((rc == EX_SANDBOX)); then
    skip "the test VM failed to start or run (exit $EX_SANDBOX);" \
         "see $RESULTS/console.log"
fi
exit "$rc"
