#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# cgsentry run around real OCI runtimes, inside the sandbox (as root):
# crun with its default cgroup manager (cgroupfs here: no systemd), with and
# without --cgroupns, and podman --rootfs when it is installed.
# Usage: wrap.sh BUILD_DIR
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
CGSENTRY=$(cd "$1" && pwd)/daemon/cgsentry
CG=/sys/fs/cgroup
work=$(mktemp -d)
pass=0 failed=0

check() { # check DESCRIPTION COMMAND...
        local what=$1; shift
        if "$@"; then echo "ok - $what"; pass=$((pass + 1))
        else echo "not ok - $what"; failed=$((failed + 1)); fi
}
json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {}, {"d": d}))' "$@"; }
# Every cgroup below the root but the sandbox's own: nothing may be left.
cgroups_left() { find "$CG" -mindepth 1 -type d | grep -v '^$' ; }
nothing_left() { [ -z "$(cgroups_left)" ] && ! pgrep -x sleep >/dev/null && ! pgrep -f 'l[.]append' >/dev/null; }
kernel_ooms() { dmesg | grep -c -E 'invoked oom-killer|Killed process' ; }
bundle() { python3 "$SRC/tests/containers/bundle.py" "$@"; }
one_line() { [ "$(wc -l < "$1")" = 1 ]; }

HOG='l = []
while True: l.append(b"\x01" * (1 << 20))'
TREE="sleep 300 & sleep 300 & python3 -c '$HOG'"

# 1. --cgroupns around plain `crun run`: the runaway container is held to
#    the limit and killed whole by the tripwire, before the kernel.
bundle "$work/b1" -- sh -c "cat /proc/self/cgroup > /tmp/cg; $TREE"
t0=$(date +%s.%N)
(cd "$work/b1" && "$CGSENTRY" run --cgroupns --memory-max 96M --json-report "$work/r1.json" \
        -- crun run c1) > "$work/out1" 2> "$work/err1"
rc=$?
t1=$(date +%s.%N)
check "crun --cgroupns runaway: exit 137" [ "$rc" = 137 ]
check "crun --cgroupns runaway: one line on stderr, killed by the tripwire" \
        bash -c "[ \$(wc -l < '$work/err1') = 1 ] && grep -q '^cgsentry run: killed crun ([0-9]* processes) on tripwire' '$work/err1'"
check "crun --cgroupns runaway: crun, sh, 2 sleeps and the hog died together (5 processes)" \
        [ "$(json "$work/r1.json" 'd["processes_killed"]')" = 5 ]
check "crun --cgroupns runaway: held to the limit (memory.peak <= 96M)" \
        [ "$(json "$work/r1.json" 'd["memory_peak"] <= 96 << 20')" = True ]
check "crun --cgroupns runaway: no OOM kill of any kind in the kernel log" [ "$(kernel_ooms)" = 0 ]
check "crun --cgroupns runaway: report: cgsentry, tripwire, oom_kill 0, nothing escaped" \
        [ "$(json "$work/r1.json" 'd["killed_by"], d["trigger"], d["memory_events"]["oom_kill"], d["escaped"], d["cgroupns"]')" = "('cgsentry', 'tripwire', 0, [], True)" ]
check "crun --cgroupns runaway: nothing left behind (cgroups, processes)" nothing_left
echo "# runaway container: killed $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s after start," \
     "peak $(( $(json "$work/r1.json" 'd["memory_peak"]') >> 20 )) MiB of 96 MiB"
crun delete -f c1 2>/dev/null

# 2. A well-behaved container's exit code comes back; the container saw
#    the wrapped cgroup as its root's child.
bundle "$work/b2" -- sh -c 'cat /proc/self/cgroup; sleep 0.2; exit 7'
(cd "$work/b2" && "$CGSENTRY" run --cgroupns --memory-max 96M -- crun run c2) \
        > "$work/out2" 2> "$work/err2"
rc=$?
check "crun --cgroupns well-behaved: its exit code (7) comes back" [ "$rc" = 7 ]
check "crun --cgroupns well-behaved: nothing on stderr" [ ! -s "$work/err2" ]
check "crun --cgroupns well-behaved: the container was in /c2 of the namespace" \
        grep -qx '0::/c2' "$work/out2"
check "crun --cgroupns well-behaved: nothing left behind" nothing_left

# 3. Without --cgroupns crun moves the container to /c3, outside the limits:
#    said in one line, with where it went and the fix; its exit code still
#    comes back, and nothing outside the wrapped cgroup is killed.
bundle "$work/b3" -- sh -c 'sleep 1; exit 5'
(cd "$work/b3" && "$CGSENTRY" run --memory-max 96M --json-report "$work/r3.json" -- crun run c3) \
        > "$work/out3" 2> "$work/err3"
rc=$?
check "crun escape: the container's exit code (5) comes back" [ "$rc" = 5 ]
check "crun escape: one line on stderr" one_line "$work/err3"
check "crun escape: it names where the container went and the fix" \
        grep -q "left /cgsentry-run-[0-9]* for /c3: .*run with --cgroupns" "$work/err3"
check "crun escape: --json-report lists it" \
        [ "$(json "$work/r3.json" '[e["cgroup"] for e in d["escaped"]]')" = "['/c3']" ]
check "crun escape: nothing left behind" nothing_left
cat "$work/err3" | sed 's/^/# /'

# 4. The runtime kept in place (--cgroup-manager=disabled): no escape, the
#    runaway dies whole with crun.
bundle "$work/b4" -- sh -c "$TREE"
(cd "$work/b4" && "$CGSENTRY" run --memory-max 96M --json-report "$work/r4.json" \
        -- crun --cgroup-manager=disabled run c4) > /dev/null 2> "$work/err4"
rc=$?
check "crun --cgroup-manager=disabled runaway: exit 137, one line, nothing escaped" \
        bash -c "[ $rc = 137 ] && [ \$(wc -l < '$work/err4') = 1 ] && [ \"\$(python3 -c 'import json; print(json.load(open(\"$work/r4.json\"))[\"escaped\"])')\" = '[]' ]"
check "crun --cgroup-manager=disabled: nothing left behind" nothing_left
crun delete -f c4 2>/dev/null
check "no OOM kill of any kind in the kernel log so far" [ "$(kernel_ooms)" = 0 ]

# 5. podman with an image-less root file system (--rootfs), offline.
if command -v podman >/dev/null; then
        P=(podman --root "$work/pm" --runroot /run/pm --cgroup-manager=cgroupfs
           --events-backend=none run --rm --network=none -v /usr:/usr:ro --rootfs "$work/b1/rootfs")
        "$CGSENTRY" run --cgroupns --memory-max 96M --json-report "$work/r5.json" -- \
                "${P[@]}" sh -c "$TREE" > /dev/null 2> "$work/err5"
        rc=$?
        check "podman --rootfs --cgroupns runaway: exit 137, one line, killed by the tripwire" \
                bash -c "[ $rc = 137 ] && [ \$(wc -l < '$work/err5') = 1 ] && grep -q 'on tripwire' '$work/err5'"
        check "podman --rootfs --cgroupns runaway: no kernel OOM kill, nothing escaped" \
                bash -c "[ \$(dmesg | grep -c -E 'invoked oom-killer|Killed process') = 0 ] && [ \"\$(python3 -c 'import json; print(json.load(open(\"$work/r5.json\"))[\"escaped\"])')\" = '[]' ]"
        no_conmon() { nothing_left && ! pgrep -x conmon >/dev/null; }
        check "podman --rootfs --cgroupns runaway: nothing left behind (conmon included)" no_conmon
        "$CGSENTRY" run --cgroupns --memory-max 96M -- "${P[@]}" sh -c 'exit 9' > /dev/null 2> "$work/err6"
        rc=$?
        check "podman --rootfs --cgroupns well-behaved: exit code 9 comes back, nothing on stderr" \
                bash -c "[ $rc = 9 ] && [ ! -s '$work/err6' ]"
        check "podman: nothing left behind" nothing_left
else
        echo "# SKIPPED podman: not installed (tools/deps.sh installs it)"
fi

if [ "$failed" != 0 ]; then
        echo "# kernel log:"; dmesg | tail -n 30 | sed 's/^/#   /'
        echo "# cgroups:"; cgroups_left | sed 's/^/#   /'
        for f in "$work"/err*; do echo "# $f:"; sed 's/^/#   /' "$f"; done
fi
rm -rf "$work"
echo "containers: $pass passed, $failed failed"
[ "$failed" = 0 ]
