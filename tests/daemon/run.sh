#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Host side of the end-to-end daemon test (ctest: vm.daemon).
#
# Usage: tests/daemon/run.sh BUILD_DIR
#
# Boots the test VM once (tests/vm/sandbox.sh) and runs daemon.py in it
# against BUILD_DIR/daemon/cgsentryd. Exits with daemon.py's status (0 = all
# checks passed), or 77 (ctest SKIP_RETURN_CODE) when the sandbox cannot run
# on this machine. Daemon logs, their configurations and the console log are
# kept in BUILD_DIR/vm-results/daemon/.
#
# Environment: DAEMON_TIMEOUT (seconds, default 900), DAEMON_MEM (MB, default
# 2048), DAEMON_ARGS (extra daemon.py arguments, e.g. "--only reload,psi" or
# "--runs 5"); the sandbox's own variables (SANDBOX_DEBUG=1, ...) apply.
set -uo pipefail

readonly EX_SKIP=77
readonly EX_SANDBOX=125

skip() {
    {
        echo "======================================================================"
        echo "SKIPPED: vm.daemon: $*"
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
BIN=$BUILD/daemon/cgsentryd
if [[ ! -x $BIN ]]; then
    echo "$0: $BIN: not built" >&2
    exit 2
fi
[[ -x $SANDBOX ]] || skip "$SANDBOX is missing"

if ! check_out=$("$SANDBOX" --check 2>&1); then
    skip "the test VM cannot run here ($SANDBOX --check):" \
         "$(printf '%s' "$check_out" | tr '\n' ';')"
fi

RESULTS=$BUILD/vm-results/daemon
rm -rf "$RESULTS"
mkdir -p "$RESULTS" || { echo "$0: cannot create $RESULTS" >&2; exit 2; }

# The guest sees the host root read-only, with fresh tmpfs on /tmp, /run and
# /var/tmp: share the source tree (the working directory) and the build tree
# explicitly so that checkouts under those paths work too.
cd "$SRC" || exit 2
start=$SECONDS
# shellcheck disable=SC2086  # DAEMON_ARGS is a list of words
"$SANDBOX" --timeout "${DAEMON_TIMEOUT:-900}" --mem "${DAEMON_MEM:-2048}" \
    --results "$RESULTS" --share "$BUILD" -- \
    python3 "$HERE/daemon.py" --daemon "$BIN" --out "$RESULTS/logs" ${DAEMON_ARGS:-}
rc=$?
echo "vm.daemon: sandbox exit $rc after $((SECONDS - start)) s (artifacts: $RESULTS)" >&2

case $rc in
    "$EX_SANDBOX")
        skip "the test VM failed to start or run (exit $EX_SANDBOX);" \
             "see $RESULTS/console.log" ;;
    124)
        echo "vm.daemon: FAILED: the guest timed out after ${DAEMON_TIMEOUT:-900} s" >&2
        exit 1 ;;
esac
exit "$rc"
