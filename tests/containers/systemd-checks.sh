# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# cgsentry run around crun with systemd as PID 1: sourced by
# tests/systemd/guest.sh (its check, note, json, wait_for, unit_gone,
# oom_kills, CGSENTRY, EV, W and HOG).
if ! command -v crun >/dev/null; then
    note "SKIPPED containers: crun is not installed (tools/deps.sh lists it)"
    return 0
fi
CT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
B=$W/bundles

# The systemd cgroup manager: crun asks systemd for a scope of its own, which
# cannot be inside cgsentry's (a scope holds no units): the escape is
# reported in one line with the fix, and the exit code still comes back.
python3 "$CT/bundle.py" "$B/sd" -- sh -c 'cat /proc/self/cgroup; sleep 1; exit 6'
(cd "$B/sd" && "$CGSENTRY" run --name cgt-crun-sd --memory-max 96M \
    --json-report "$EV/crun-sd.json" -- crun --systemd-cgroup run sd) \
    >"$EV/crun-sd.out" 2>"$EV/crun-sd.err"
rc=$?
check "containers: crun --systemd-cgroup under cgsentry run: the container's exit code (6) comes back" \
    [ "$rc" = 6 ]
check "containers: ... systemd put the container outside the wrapped cgroup ($(sed 's/^0:://' "$EV/crun-sd.out"))" \
    bash -c "grep -q '^0::/' '$EV/crun-sd.out' && ! grep -q 'cgt-crun-sd' '$EV/crun-sd.out'"
check "containers: ... the escape is said in one line, with where it went and the fix" \
    bash -c "[ \$(wc -l <'$EV/crun-sd.err') = 1 ] &&
             grep -q 'left /system.slice/cgt-crun-sd.scope/cgt-crun-sd for /.*scope: run it with its cgroupfs manager and --cgroupns' '$EV/crun-sd.err'"
check "containers: ... and listed in the report" \
    [ "$(json "$EV/crun-sd.json" 'len(d["escaped"]) >= 1' 2>/dev/null)" = True ]
check "containers: ... the scope is gone afterwards" wait_for 10 unit_gone cgt-crun-sd.scope
crun delete -f sd >/dev/null 2>&1
sed 's/^/# /' "$EV/crun-sd.err"

# --cgroupns with crun's cgroupfs manager, inside cgsentry run's delegated
# scope: the runaway container dies whole, before the kernel.
python3 "$CT/bundle.py" "$B/ns" -- sh -c "sleep 300 & sleep 300 & python3 -c '$HOG'"
before=$(oom_kills system.slice)
(cd "$B/ns" && "$CGSENTRY" run --cgroupns --name cgt-crun-ns --memory-max 96M \
    --json-report "$EV/crun-ns.json" -- crun --cgroup-manager=cgroupfs run ns) \
    >/dev/null 2>"$EV/crun-ns.err"
rc=$?
check "containers: crun --cgroupns runaway in a systemd scope: exit 137, one line, the tripwire" \
    bash -c "[ $rc = 137 ] && [ \$(wc -l <'$EV/crun-ns.err') = 1 ] && grep -q 'killed crun (5 processes) on tripwire' '$EV/crun-ns.err'"
check "containers: ... no kernel OOM kill in system.slice" [ "$(oom_kills system.slice)" = "$before" ]
check "containers: ... nothing escaped" [ "$(json "$EV/crun-ns.json" 'd["escaped"]' 2>/dev/null)" = "[]" ]
check "containers: ... the scope is gone afterwards" wait_for 10 unit_gone cgt-crun-ns.scope
crun delete -f ns >/dev/null 2>&1
