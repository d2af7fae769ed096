#!/usr/bin/env bash
# Self-test of the real-kernel sandbox (sandbox.sh next to this file).
#
# Boots the guest a few times and checks that it provides what cgsentry's
# tests rely on: pure cgroup v2 with the memory controller, PSI,
# cgroup.kill, real memcg OOM kills visible in memory.events and dmesg,
# writable shares at their host paths (also under /tmp), live output and
# exit-status propagation.
#
# Prints one "ok - ..." / "not ok - ..." line per check and a closing
# "selftest: N passed, N failed" line.
# Exit status: 0 all passed, 1 some check failed, 77 sandbox cannot run.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SB="$HERE/sandbox.sh"

PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); echo "ok - $*"; }
not_ok() { FAIL=$((FAIL + 1)); echo "not ok - $*"; }
# check DESCRIPTION COMMAND...: ok if COMMAND succeeds.
check() {
    local desc=$1
    shift
    if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/cgsentry-vm-selftest.XXXXXX")
KEEP=0
# shellcheck disable=SC2317  # invoked from the EXIT trap
cleanup() {
    if ((KEEP)); then
        echo "# kept for inspection: $TMP" >&2
    else
        rm -rf "$TMP"
    fi
}
trap cleanup EXIT

# 0. Can the sandbox run at all? --setup installs what is missing (as root)
# and builds the initramfs; failing that is a skip, not a failure.
if ! "$SB" --setup >"$TMP/setup.log" 2>&1; then
    {
        echo "SKIPPED: the real-kernel sandbox cannot run on this machine:"
        sed 's/^/    /' "$TMP/setup.log"
        "$SB" --check 2>&1 | sed 's/^/    /' || true
    } >&2
    exit 77
fi
"$SB" --check 2>&1 | sed 's/^/# /' || true

WORK="$TMP/work"       # the cwd for the main boot (under /tmp on purpose)
RESULTS="$TMP/results"
SHARE="$TMP/share"
mkdir -p "$WORK" "$RESULTS" "$SHARE"
WORK=$(cd "$WORK" && pwd -P)
RESULTS=$(cd "$RESULTS" && pwd -P)
SHARE=$(cd "$SHARE" && pwd -P)

# The checks that run inside the guest. They write TAP-like lines to
# $CGSENTRY_RESULTS/checks.txt, which this script reads back (which also
# proves that the results share is writable from the guest).
cat >"$RESULTS/guest-checks.sh" <<'GUEST'
#!/bin/bash
set -u
expect_cwd=$1
share=$2
out="$CGSENTRY_RESULTS/checks.txt"
: >"$out"
res() { echo "$1" | tee -a "$out"; }
chk() {
    local desc=$1
    shift
    if "$@" >/dev/null 2>&1; then res "ok - $desc"; else res "not ok - $desc"; fi
}
info() { echo "# $*" | tee -a "$out"; }

cg=/sys/fs/cgroup
info "guest kernel $(uname -r), $(nproc) cpus, $(awk '/MemTotal/ {print $2 " kB"}' /proc/meminfo)"
info "cgroup2 mount: $(grep ' /sys/fs/cgroup ' /proc/mounts)"
info "root cgroup.controllers: $(cat $cg/cgroup.controllers)"
info "root cgroup.subtree_control: $(cat $cg/cgroup.subtree_control)"
info "/proc/pressure: $(ls /proc/pressure 2>&1 | tr '\n' ' ')"

chk "CGSENTRY_SANDBOX=1 in the environment" test "${CGSENTRY_SANDBOX:-}" = 1
chk "runs as root" test "$(id -u)" = 0
chk "working directory is the host's ($expect_cwd)" test "$(pwd -P)" = "$expect_cwd"
chk "cgroup2 mounted at /sys/fs/cgroup" test "$(stat -f -c %T $cg)" = cgroup2fs
chk "no cgroup v1 hierarchy mounted" bash -c "! awk '\$3 == \"cgroup\"' /proc/mounts | grep -q ."
chk "memory in cgroup.controllers" grep -qw memory $cg/cgroup.controllers
chk "memory in cgroup.subtree_control" grep -qw memory $cg/cgroup.subtree_control

t=$cg/selftest
mkdir -p $t
chk "child cgroup created with memory.max = 32M" \
    bash -c "echo 32M > $t/memory.max && test \"\$(cat $t/memory.max)\" = 33554432"
chk "PSI: /proc/pressure/memory or memory.pressure exists" \
    bash -c "test -e /proc/pressure/memory || test -e $t/memory.pressure"
chk "memory.pressure exists in the child cgroup" test -e $t/memory.pressure
chk "cgroup.kill exists in the child cgroup" test -e $t/cgroup.kill
chk "memory.oom.group exists in the child cgroup" test -e $t/memory.oom.group

# Real memcg OOM: 100M in a cgroup limited to 32M (no swap in the guest).
o=$cg/selftest-oom
mkdir -p $o
echo 32M >$o/memory.max
echo 0 >$o/memory.swap.max 2>/dev/null
sh -c "echo \$\$ > $o/cgroup.procs && exec python3 -c 'b = b\"\\x01\" * (100<<20)'"
rc=$?
info "python3 in the 32M cgroup exited with status $rc"
info "memory.events: $(tr '\n' ' ' <$o/memory.events)"
chk "the allocating process was SIGKILLed (status 137)" test "$rc" = 137
chk "memory.events shows oom_kill 1" grep -qx 'oom_kill 1' $o/memory.events
chk "dmesg shows 'Memory cgroup out of memory: Killed process'" \
    bash -c "dmesg | grep -q 'Memory cgroup out of memory: Killed process'"

# cgroup.kill really kills.
k=$cg/selftest-kill
mkdir -p $k
sh -c "echo \$\$ > $k/cgroup.procs && exec sleep 1000" &
pid=$!
for _ in $(seq 50); do grep -q . $k/cgroup.procs && break; sleep 0.1; done
echo 1 >$k/cgroup.kill
wait $pid
rc=$?
chk "cgroup.kill kills the cgroup's processes (status 137)" test "$rc" = 137
chk "cgroup is unpopulated after cgroup.kill" grep -qx 'populated 0' $k/cgroup.events

# Mounts.
chk "host root is read-only" bash -c "! touch /usr/.cgsentry-sandbox-probe 2>/dev/null"
chk "/tmp is a writable tmpfs" bash -c "test \"\$(stat -f -c %T /tmp)\" = tmpfs && touch /tmp/x"
chk "results share writable" bash -c "echo guest-results > \"\$CGSENTRY_RESULTS/from-guest\""
chk "cwd writable" bash -c "echo guest-cwd > \"$expect_cwd/from-guest\""
chk "--share dir writable" bash -c "echo guest-share > \"$share/from-guest\""
GUEST

# 1. Main boot: cwd, results and the extra share all live under /tmp, which
# the guest covers with a tmpfs, so this also checks they are re-exported.
echo "# booting the guest (checks inside)"
start=$SECONDS
set +e
(cd "$WORK" && "$SB" --quiet --results "$RESULTS" --share "$SHARE" -- \
    bash "$RESULTS/guest-checks.sh" "$WORK" "$SHARE")
rc=$?
set -e
echo "# boot + guest checks took $((SECONDS - start)) s"
check "main boot exits 0 (got $rc)" test "$rc" = 0
if [[ -s $RESULTS/checks.txt ]]; then
    ok "guest wrote its check results into the results share"
    while IFS= read -r line; do
        case $line in
            "ok - "*) ok "guest: ${line#ok - }" ;;
            "not ok - "*) not_ok "guest: ${line#not ok - }" ;;
            *) echo "$line" ;;
        esac
    done <"$RESULTS/checks.txt"
else
    not_ok "guest wrote its check results into the results share"
fi
check "console log saved to the results dir" test -s "$RESULTS/console.log"
check "host sees the file the guest wrote in the results dir" \
    grep -qx guest-results "$RESULTS/from-guest"
check "host sees the file the guest wrote in the cwd" grep -qx guest-cwd "$WORK/from-guest"
check "host sees the file the guest wrote in the --share dir" grep -qx guest-share "$SHARE/from-guest"
if ((FAIL)) && [[ -s $RESULTS/console.log ]]; then
    echo "# last lines of the guest console:"
    tail -n 30 "$RESULTS/console.log" | sed 's/^/#   /'
fi

# 2. Exit status and output propagation; no boot chatter on stdout.
set +e
out=$("$SB" -- sh -c 'echo hello-from-guest; echo to-stderr >&2; exit 3' 2>"$TMP/err")
rc=$?
set -e
check "exit status propagates (sh -c 'exit 3' -> $rc)" test "$rc" = 3
check "command output reaches the host, without boot noise" \
    test "$out" = "hello-from-guest"$'\n'"to-stderr"
if [[ $out != "hello-from-guest"$'\n'"to-stderr" ]]; then
    printf '%s\n' "$out" | sed 's/^/#   stdout: /'
    sed 's/^/#   stderr: /' "$TMP/err"
fi

# 3. Timeout -> 124.
set +e
"$SB" --quiet --timeout 10 -- sleep 600 2>"$TMP/err"
rc=$?
set -e
check "--timeout kills the guest and returns 124 (got $rc)" test "$rc" = 124

((FAIL)) && KEEP=1
echo "selftest: $PASS passed, $FAIL failed"
((FAIL == 0)) || exit 1
exit 0
