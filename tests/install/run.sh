#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# vm.install: the Debian packages in a VM booted with systemd as PID 1.
# Usage: tests/install/run.sh BUILD_DIR
#
# The packages are BUILD_DIR/deb/*.deb. tools/test.sh builds them there
# (with lintian) before the tests run; when they are missing or older than
# a file of the checkout, this script builds them first (tools/deb.sh
# --nocheck --no-lintian, about half a minute). The VM is the one of
# tests/systemd (run.sh boots it, with guest.sh of this directory as the
# test service); its root is an overlay of the host's, so dpkg can install
# and purge there without touching the host.
#
# Exit status: 0 all checks passed, 1 failures, 77 skipped, 2 usage.
set -uo pipefail

if (($# != 1)); then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
SRC=$(cd "$HERE/../.." && pwd -P)
BUILD=$(cd "$1" 2>/dev/null && pwd -P) || { echo "$0: $1: no such directory" >&2; exit 2; }
DEBS=$BUILD/deb

# Skip early where the VM cannot run: no package build for nothing.
if ! check_out=$("$SRC/tests/vm/sandbox.sh" --check 2>&1); then
    echo "SKIPPED: vm.install: the test VM cannot run here: $check_out"
    exit 77
fi

stale() {
    local deb
    deb=$(ls "$DEBS"/cgsentry_*.deb 2>/dev/null | head -n 1)
    [[ -n $deb && -e $(ls "$DEBS"/cgsentry-dev_*.deb 2>/dev/null | head -n 1) ]] || return 0
    # Any file of the checkout newer than the package, but for what does
    # not go into it (tests, benchmarks, build trees, VCS data).
    [[ -n $(find "$SRC" \( -path "$SRC/tests" -o -path "$SRC/bench" -o -name .git -o \
            -name build -o -name __pycache__ \) -prune -o -type f -newer "$deb" -print -quit) ]]
}
if stale; then
    echo "vm.install: building the packages into $DEBS (tools/deb.sh --nocheck --no-lintian)"
    bash "$SRC/tools/deb.sh" --nocheck --no-lintian "$DEBS" || {
        echo "vm.install: the packages do not build"
        exit 1
    }
fi

SYSTEMD_TEST_NAME=vm.install \
SYSTEMD_TEST_GUEST=$HERE/guest.sh \
SYSTEMD_TEST_RESULTS=${SYSTEMD_TEST_RESULTS:-$BUILD/vm-results/install} \
    exec "$SRC/tests/systemd/run.sh" "$BUILD"
