#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# One scenario of the arena, in a VM booted with systemd as PID 1 by
# tests/systemd/run.sh (SYSTEMD_TEST_GUEST=bench/guest.sh).
# Usage: guest.sh BUILD_DIR RESULTS_DIR
#
# bench/run.sh writes the part to run into RESULTS_DIR/../part.env
# (SCENARIO=, QUICK=) before each boot, since run.sh passes only these two
# arguments. The status protocol is tests/systemd's: guest.started first,
# "ok -"/"not ok -" lines in guest.tap, guest.status last.
set -u
BUILD=$1
RES=$2
touch "$RES/guest.started"
OUT=$(dirname "$RES")
# shellcheck source=/dev/null
. "$OUT/part.env"
quick=()
[ "${QUICK:-0}" = 1 ] && quick=(--quick)
python3 bench/arena.py guest "$SCENARIO" --build "$BUILD" --out "$OUT" "${quick[@]}" \
    >"$RES/arena.log" 2>&1
rc=$?
if [ "$rc" = 0 ]; then
    echo "ok - arena $SCENARIO" >"$RES/guest.tap"
else
    echo "not ok - arena $SCENARIO (exit $rc)" >"$RES/guest.tap"
fi
journalctl -b --no-pager -o short-monotonic >"$RES/journal.txt" 2>&1
echo "$rc" >"$RES/guest.status.tmp"
sync
mv "$RES/guest.status.tmp" "$RES/guest.status"
sync
exit 0
