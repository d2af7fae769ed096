#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Guest side of vm.policy (run by tests/policy/sandbox.sh inside the VM, as
# root, in the root cgroup of a pure cgroup v2 hierarchy).
#
# Domain /policy-test with three groups of one process each:
#   A holds 96 MiB                       -> largest chooses A
#   B holds 16 MiB, then grows to 72 MiB -> growth (B's growth between the
#                                           saved snapshot and now) chooses B
#   C holds 8 MiB, user.cgsentry.prefer  -> priority chooses C
# Usage: sandbox-guest.sh CGSENTRY_BIN POLICY_DIR
set -uo pipefail

BIN=$1
POLDIR=$2
CG=/sys/fs/cgroup
DOM=policy-test
RES=${CGSENTRY_RESULTS:-/tmp}
fails=0
pids=()

cleanup() {
    for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
    wait 2>/dev/null
}
trap cleanup EXIT

# A process in GROUP that touches MIB MiB (bytes objects: every page is
# written), writes ready-GROUP, grows to GROW MiB once FLAG exists, writes
# ready-GROUP.grown and sleeps. It joins its cgroup before allocating: pages
# stay charged to the cgroup they were faulted in.
hog() { # GROUP MIB [GROW FLAG]
    local group=$1 mib=$2 grow=${3:-0} flag=${4:-/nonexistent}
    sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec python3 -c "$@"' sh "$CG/$DOM/$group" '
import os, sys, time
mib, grow, flag, ready = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
held = [b"\x01" * (mib << 20)]
open(ready, "w").close()
while grow and not os.path.exists(flag):
    time.sleep(0.05)
if grow:
    held.append(b"\x02" * ((grow - mib) << 20))
    open(ready + ".grown", "w").close()
time.sleep(3600)
' "$mib" "$grow" "$flag" "$RES/ready-$group" &
    pids+=("$!")
}

wait_file() { # PATH
    for _ in $(seq 1 200); do [[ -e $1 ]] && return 0; sleep 0.05; done
    echo "timed out waiting for $1" >&2
    return 1
}

victim() { # JSON -> policy.victim_group
    python3 -c 'import json, sys; print(json.load(sys.stdin)["policy"]["victim_group"])'
}

check() { # NAME WANT GOT
    if [[ $2 == "$3" ]]; then
        echo "PASS: $1 chose $3"
    else
        echo "FAIL: $1 chose $3, expected $2"
        fails=$((fails + 1))
    fi
}

mkdir "$CG/$DOM" || exit 1
echo "+memory" >"$CG/$DOM/cgroup.subtree_control" || exit 1
for g in A B C; do mkdir "$CG/$DOM/$g" || exit 1; done
python3 -c 'import os; os.setxattr("/sys/fs/cgroup/policy-test/C", "user.cgsentry.prefer", b"1")' ||
    { echo "FAIL: cannot set user.cgsentry.prefer on cgroupfs"; exit 1; }

hog A 96
hog B 16 72 "$RES/grow-B"
hog C 8
for g in A B C; do wait_file "$RES/ready-$g" || exit 1; done
sleep 0.5 # let the counters settle

# 1. The first snapshot, for growth's history.
"$BIN" explain --save-snapshot "$RES/before.json" "$DOM" >"$RES/explain-before.txt" ||
    echo "note: kernel explain exit $? (not an error by itself)"
# 2. B grows by 56 MiB.
sleep 1
touch "$RES/grow-B"
wait_file "$RES/ready-B.grown" || exit 1
sleep 0.5

for p in largest growth priority; do
    extra=()
    # A wide window: TCG is slow, and the point is the choice, not the timing.
    [[ $p == growth ]] && extra=(--history "$RES/before.json" --policy-options window=60s)
    "$BIN" explain --json --policy "$p" --policy-dir "$POLDIR" "${extra[@]}" "$DOM" \
        >"$RES/$p.json" 2>"$RES/$p.err"
    why=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["policy"]["explanation"])' \
        <"$RES/$p.json")
    echo "== $p: $why"
    cat "$RES/$p.err"
done
check largest "/$DOM/A" "$(victim <"$RES/largest.json")"
check growth "/$DOM/B" "$(victim <"$RES/growth.json")"
check priority "/$DOM/C" "$(victim <"$RES/priority.json")"

# Text: the policy's lines follow the kernel's view; without --policy there
# are none (the live counters move, so the two runs are not compared byte
# for byte here; unit.policy does that on a fixture).
"$BIN" explain "$DOM" >"$RES/plain.txt"
"$BIN" explain --policy largest --policy-dir "$POLDIR" "$DOM" >"$RES/with-policy.txt"
if ! grep -q "^# Policy" "$RES/plain.txt" &&
   grep -q "^# Policy largest .* would kill group /$DOM/A$" "$RES/with-policy.txt"; then
    echo "PASS: explain --policy appends the policy's choice"
else
    echo "FAIL: explain --policy text output"
    fails=$((fails + 1))
fi

echo "vm.policy: $fails failure(s)"
((fails == 0))
