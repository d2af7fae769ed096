#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The checks of tests/systemd, run by cgsentry-test.service in a VM booted
# with systemd as PID 1 (see run.sh). Usage: guest.sh BUILD_DIR RESULTS_DIR
#
# Writes "ok - ..." / "not ok - ..." lines to RESULTS_DIR/guest.tap (and to
# stdout, i.e. the journal) and the exit status to RESULTS_DIR/guest.status.
# Evidence (reports, journal extracts, systemctl output) goes to
# RESULTS_DIR/evidence/.
set -u
BUILD=$(cd "${1:?usage: guest.sh BUILD_DIR RESULTS_DIR}" && pwd -P)
RES=${2:?usage: guest.sh BUILD_DIR RESULTS_DIR}
CGSENTRY=$BUILD/daemon/cgsentry
CG=/sys/fs/cgroup
EV=$RES/evidence
W=/run/cgsentry-test
CONF=$W/cgsentry.conf
MID_KILL=5c8e0f7ad1a94a4f8d7b3f0c2e61a901
mkdir -p "$EV" "$W"
: >"$RES/guest.tap"
touch "$RES/guest.started"
exec > >(tee -a "$RES/guest.log") 2>&1
# shellcheck source=tests/systemd/guest-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/guest-lib.sh"
T0=$SECONDS

# json FILE EXPR: evaluate a Python expression over the JSON document d.
json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {}, {"d": d}))' "$@"; }
unit_gone() { # no loaded unit, no cgroup
    [ "$(prop "$1" LoadState)" != loaded ] && [ "$(prop "$1" ActiveState)" = inactive ] &&
        [ ! -e "$CG/system.slice/$1" ]
}
oom_kills() { awk '$1 == "oom_kill" { print $2 }' "$CG/$1/memory.events" 2>/dev/null || echo 0; }
journal_sync() { journalctl --sync 2>/dev/null || sleep 1; }

HOG='l = []
while True: l.append(b"\x01" * (1 << 20))'

note "systemd $(systemctl --version | head -n 1 | cut -d' ' -f2), kernel $(uname -r), up $(cut -d' ' -f1 /proc/uptime)s at start"
check "systemd is PID 1 and the system is running" \
    bash -c '[ "$(cat /proc/1/comm)" = systemd ] && [ -d /run/systemd/system ]'
# cgsentry run reaches systemd through the D-Bus system bus (sd-bus's default
# system bus, not systemd's private socket): wait until systemd is on it.
check "systemd answers on the D-Bus system bus" \
    wait_for 60 busctl --system --timeout=5 call org.freedesktop.systemd1 /org/freedesktop/systemd1 \
        org.freedesktop.DBus.Peer Ping
check "cgsentry-test.service is a service (we run inside systemd's cgroup tree)" \
    grep -qx '0::/system.slice/cgsentry-test.service' /proc/self/cgroup

# ---------------------------------------------------------------------------
# (a) cgsentry run under systemd: transient scope with Delegate=yes
# ---------------------------------------------------------------------------
"$CGSENTRY" run --name cgt-ok --memory-max 64M --json-report "$EV/run-ok.json" -- \
    sh -c "cat /proc/self/cgroup >'$EV/run-ok.cgroup'
           cat $CG/system.slice/cgt-ok.scope/cgt-ok/memory.max >'$EV/run-ok.memory.max'
           systemctl show -p ActiveState -p Delegate -p Slice cgt-ok.scope >'$EV/run-ok.scope'
           exit 3" 2>"$EV/run-ok.err"
rc=$?
check "run: a well-behaved command keeps its exit code under systemd (3)" [ "$rc" = 3 ]
check "run: the command ran in the leaf system.slice/cgt-ok.scope/cgt-ok/command" \
    grep -qx '0::/system.slice/cgt-ok.scope/cgt-ok/command' "$EV/run-ok.cgroup"
check "run: the transient scope was active with Delegate=yes while it ran" \
    bash -c "grep -qx ActiveState=active '$EV/run-ok.scope' && grep -qx Delegate=yes '$EV/run-ok.scope'"
check "run: memory.max of the command's cgroup is 64M" \
    [ "$(cat "$EV/run-ok.memory.max" 2>/dev/null)" = 67108864 ]
check "run: the JSON report names the cgroup inside the scope" \
    [ "$(json "$EV/run-ok.json" 'd["cgroup"]' 2>/dev/null)" = /system.slice/cgt-ok.scope/cgt-ok ]
check "run: nothing on stderr" [ ! -s "$EV/run-ok.err" ]
check "run: the scope is gone afterwards (unit and cgroup)" wait_for 10 unit_gone cgt-ok.scope

"$CGSENTRY" run --memory-max 64M --json-report "$EV/run-default.json" -- true 2>"$EV/run-default.err"
rc=$?
check "run: default name, exit 0" [ "$rc" = 0 ]
cgdef=$(json "$EV/run-default.json" 'd["cgroup"]' 2>/dev/null)
check "run: default scope is system.slice/cgsentry-run-PID.scope ($cgdef)" \
    bash -c "[[ '$cgdef' =~ ^/system\\.slice/cgsentry-run-([0-9]+)\\.scope/cgsentry-run-([0-9]+)\$ ]] &&
             [ \"\${BASH_REMATCH[1]}\" = \"\${BASH_REMATCH[2]}\" ]"
check "run: no cgsentry-run-* unit or cgroup left" \
    wait_for 10 bash -c "[ -z \"\$(systemctl list-units --all --no-legend 'cgsentry-run-*')\" ] &&
                         ! ls $CG/system.slice | grep -q '^cgsentry-run-'"

# A tree of 4 processes (sh, 2 x sleep, one python hog) in 64M.
pids=$W/hog.pids
: >"$pids"
before=$(oom_kills system.slice)
(
    # While it runs: record that the scope exists (the kill may be quick).
    for _ in $(seq 1 300); do
        if [ "$(prop cgt-hog.scope ActiveState)" = active ]; then
            systemctl status --no-pager cgt-hog.scope >"$EV/run-hog.scope-status" 2>&1
            echo active >"$EV/run-hog.scope-seen"
            break
        fi
        sleep 0.1
    done
) &
watcher=$!
"$CGSENTRY" run --name cgt-hog --memory-max 64M --json-report "$EV/run-hog.json" -- \
    sh -c "echo \$\$ >>'$pids'
           sleep 300 & echo \$! >>'$pids'
           sleep 300 & echo \$! >>'$pids'
           python3 -c 'import os; open(\"$pids\", \"a\").write(\"%d\\n\" % os.getpid())
$HOG' &
           wait" 2>"$EV/run-hog.err"
rc=$?
wait "$watcher"
check "run: runaway tree under systemd: exit 137" [ "$rc" = 137 ]
check "run: runaway tree: one line on stderr, tripwire, 4 processes" \
    bash -c "[ \$(wc -l <'$EV/run-hog.err') = 1 ] && grep -q 'killed sh (4 processes) on tripwire' '$EV/run-hog.err'"
check "run: runaway tree: the transient scope existed while it ran" \
    bash -c "$(declare -f json); [ -s '$EV/run-hog.scope-seen' ] || json '$EV/run-hog.json' 'd[\"cgroup\"]' | grep -q '\.scope/'"
check "run: runaway tree: report cgroup is system.slice/cgt-hog.scope/cgt-hog" \
    [ "$(json "$EV/run-hog.json" 'd["cgroup"]' 2>/dev/null)" = /system.slice/cgt-hog.scope/cgt-hog ]
check "run: runaway tree: all 4 processes gone" \
    bash -c "[ \$(wc -l <'$pids') = 4 ] && for p in \$(cat '$pids'); do ! kill -0 \$p 2>/dev/null || exit 1; done"
check "run: runaway tree: killed before the kernel (memory_events.oom_kill 0)" \
    [ "$(json "$EV/run-hog.json" 'd["memory_events"]["oom_kill"]' 2>/dev/null)" = 0 ]
check "run: runaway tree: no kernel OOM kill in system.slice" [ "$(oom_kills system.slice)" = "$before" ]
check "run: runaway tree: report says cgsentry/tripwire" \
    [ "$(json "$EV/run-hog.json" 'd["killed_by"] + "/" + d["trigger"]' 2>/dev/null)" = cgsentry/tripwire ]
check "run: runaway tree: the scope is gone afterwards (unit and cgroup)" wait_for 10 unit_gone cgt-hog.scope

# systemctl stop of the scope: systemd SIGTERMs everything in it, cgsentry
# included; the command's status comes back and nothing is left.
"$CGSENTRY" run --name cgt-stop --memory-max 64M -- sleep 300 2>"$EV/run-stop.err" &
p=$!
wait_for 30 bash -c "[ \"\$(systemctl show -P ActiveState cgt-stop.scope)\" = active ] &&
                     [ -d $CG/system.slice/cgt-stop.scope/cgt-stop ]"
timeout 60 systemctl stop cgt-stop.scope
wait "$p"
rc=$?
check "run: systemctl stop of the scope: exit 143 (SIGTERM)" [ "$rc" = 143 ]
check "run: systemctl stop of the scope: the scope is gone (unit and cgroup)" \
    wait_for 10 unit_gone cgt-stop.scope

# ---------------------------------------------------------------------------
# (b) cgsentryd as a Type=notify service with WatchdogSec=5s
# ---------------------------------------------------------------------------
cat >"$CONF" <<'EOF'
# tests/systemd: the hog service, killed whole at 90% of its MemoryMax=.
[Rule hog]
Match=system.slice/hog.service
OOMGroup=yes
Tripwire=90%

# An idle service: its tripwire must survive systemd rewriting its limits.
[Rule idle]
Match=system.slice/idle.service
OOMGroup=yes
Tripwire=90%
EOF
systemctl cat cgsentryd.service >"$EV/cgsentryd.unit" 2>&1
timeout 60 systemctl start cgsentryd.service
rc=$?
tstart=$SECONDS
check "daemon: systemctl start returns 0 (READY=1 received)" [ "$rc" = 0 ]
check "daemon: active (running)" \
    [ "$(prop cgsentryd.service ActiveState)/$(prop cgsentryd.service SubState)" = active/running ]
mainpid=$(prop cgsentryd.service MainPID)
wd0=$(prop cgsentryd.service WatchdogTimestampMonotonic)
systemctl status --no-pager cgsentryd.service >"$EV/cgsentryd.status" 2>&1
check "daemon: systemctl status shows the STATUS= text" \
    grep -q 'Status: "Supervising [0-9]* cgroups' "$EV/cgsentryd.status"
check "daemon: WatchdogUSec is 5s" [ "$(prop cgsentryd.service WatchdogUSec)" = 5s ]

# A runaway service: 128M limit, the tripwire fires at 115M.
# (DefaultDependencies=no: do not pull in sysinit.target, i.e. the whole boot.)
timeout 60 systemd-run --quiet --unit=hog -p DefaultDependencies=no -p MemoryMax=128M -- \
    sh -c "sleep 300 & python3 -c '$HOG' & wait"
check "daemon: hog.service started" [ $? = 0 ]
check "daemon: hog.service is killed" \
    wait_for 90 bash -c "[ \"\$(systemctl show -P ActiveState hog.service)\" != active ]"
systemctl status --no-pager hog.service >"$EV/hog.status" 2>&1
check "daemon: hog.service died of SIGKILL (Result=signal)" \
    [ "$(prop hog.service Result)/$(prop hog.service ExecMainStatus)" = signal/9 ]
check "daemon: no kernel OOM kill in system.slice" [ "$(oom_kills system.slice)" = "$before" ]
journal_sync
kill_entry() {
    journalctl -o json --no-pager MESSAGE_ID=$MID_KILL >"$EV/kill.journal.json" 2>/dev/null
    python3 - "$EV/kill.journal.json" <<'EOF'
import json, sys
ok = False
for line in open(sys.argv[1]):
    e = json.loads(line)
    if (e.get("CGSENTRY_CGROUP") == "system.slice/hog.service"
            and e.get("CGSENTRY_TRIGGER") == "tripwire"
            and e.get("CGSENTRY_VICTIM_PID", "").isdigit()
            and e.get("_SYSTEMD_UNIT") == "cgsentryd.service"):
        ok = True
sys.exit(0 if ok else 1)
EOF
}
check "daemon: journal has MESSAGE_ID=$MID_KILL with CGSENTRY_CGROUP=system.slice/hog.service, TRIGGER=tripwire, VICTIM_PID" \
    wait_for 10 kill_entry
journalctl -o verbose --no-pager MESSAGE_ID=$MID_KILL >"$EV/kill.journal.txt" 2>&1
# cgsentry history finds that kill in the journal (CGSENTRY_RECORD=1 entry).
history_entry() {
    "$CGSENTRY" history --json --no-kmsg >"$EV/history.json" 2>"$EV/history.err"
    python3 - "$EV/history.json" <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
sys.exit(0 if sum(1 for r in recs if r["source"] == "cgsentryd"
                  and r["domain"] == "/system.slice/hog.service"
                  and r["group"] == "/system.slice/hog.service"
                  and r["constraint"] == "tripwire" and r["victim"]["comm"] == "python3"
                  and r["boot_id"] and len(r["killed"]) == 3) == 1 else 1)
EOF
}
check "history: lists cgsentryd's kill of hog.service once, read from the journal" \
    wait_for 10 history_entry
check "daemon: status text counts the kill" \
    wait_for 5 bash -c "systemctl show -P StatusText cgsentryd.service | grep -q ', [1-9][0-9]* kills'"

# The tripwire is the service's memory.high; systemd owns that file too and
# rewrites every memory.* limit of a unit whenever it re-applies the unit's
# cgroup settings (set-property, daemon-reload, ...).
high_of() { cat "$CG/system.slice/$1/memory.high" 2>/dev/null; }
armed() { # armed UNIT MAX: memory.high is at most 90% of MAX, and not far below
    local h
    h=$(high_of "$1")
    [[ $h =~ ^[0-9]+$ ]] && ((h <= $2 * 9 / 10 && h > $2 * 89 / 100))
}
timeout 60 systemd-run --quiet --unit=idle -p DefaultDependencies=no -p MemoryMax=128M -- sleep 600
check "daemon: tripwire armed on idle.service (memory.high at 90% of 128M)" \
    wait_for 20 armed idle.service 134217728
note "idle.service memory.high=$(high_of idle.service)"
timeout 60 systemctl set-property --runtime idle.service MemoryMax=256M
check "daemon: tripwire follows set-property MemoryMax=256M" wait_for 10 armed idle.service 268435456
note "idle.service memory.high=$(high_of idle.service) after set-property MemoryMax=256M"
timeout 60 systemctl set-property --runtime idle.service MemoryMax=256M
sleep 2
check "daemon: tripwire survives set-property with an unchanged MemoryMax=" \
    wait_for 5 armed idle.service 268435456
note "idle.service memory.high=$(high_of idle.service) after set-property MemoryMax=256M again"
# A new memory.max re-arms it in any case; then the same with daemon-reload.
timeout 60 systemctl set-property --runtime idle.service MemoryMax=192M
check "daemon: tripwire follows set-property MemoryMax=192M" wait_for 10 armed idle.service 201326592
timeout 120 systemctl daemon-reload
sleep 2
check "daemon: tripwire survives systemctl daemon-reload" wait_for 5 armed idle.service 201326592
note "idle.service memory.high=$(high_of idle.service) after daemon-reload"
# (idle.service stays: cgsentryd must give its memory.high back on stop.)
timeout 60 systemctl set-property --runtime idle.service MemoryMax=160M
check "daemon: tripwire follows set-property MemoryMax=160M" wait_for 10 armed idle.service 167772160

# Watchdog: alive and the same process well past 2 x WatchdogSec.
left=$((tstart + 13 - SECONDS))
((left > 0)) && sleep "$left"
check "daemon: still active after >12 s with WatchdogSec=5s, same PID, no restart" \
    [ "$(prop cgsentryd.service ActiveState)/$(prop cgsentryd.service MainPID)/$(prop cgsentryd.service NRestarts)" = "active/$mainpid/0" ]
wd1=$(prop cgsentryd.service WatchdogTimestampMonotonic)
check "daemon: WATCHDOG=1 pings arrive (watchdog timestamp moved: $wd0 -> $wd1)" \
    [ "${wd1:-0}" -gt "${wd0:-0}" ]

# Reload with a broken configuration: rejected, the daemon stays.
cp "$CONF" "$W/good.conf"
printf '[Rule hog]\nMatch=system.slice/hog.service\nTripwire=banana\n' >"$CONF"
journal_sync
cursor=$(journalctl -n 0 --show-cursor --no-pager 2>/dev/null | sed -n 's/^-- cursor: //p')
timeout 60 systemctl reload cgsentryd.service
rc=$?
check "daemon: systemctl reload with a broken config returns 0" [ "$rc" = 0 ]
sleep 1
check "daemon: still active after the broken reload, same PID" \
    [ "$(prop cgsentryd.service ActiveState)/$(prop cgsentryd.service MainPID)" = "active/$mainpid" ]
journal_sync
journalctl -u cgsentryd.service -o cat --no-pager ${cursor:+--after-cursor="$cursor"} \
    >"$EV/reload-broken.journal" 2>&1
check "daemon: the journal has the '$CONF:3:' error" grep -qF "$CONF:3:" "$EV/reload-broken.journal"
cp "$W/good.conf" "$CONF"
timeout 60 systemctl reload cgsentryd.service
check "daemon: reload with the good config again" \
    wait_for 10 bash -c "journalctl -u cgsentryd.service -o cat --no-pager | grep -q 'reloaded: 2 rules'"
check "daemon: still active after reloads" [ "$(prop cgsentryd.service ActiveState)" = active ]

# Stop: clean exit.
timeout 60 systemctl stop cgsentryd.service
rc=$?
check "daemon: systemctl stop returns 0" [ "$rc" = 0 ]
# (ExecStopPost= of the test unit records SERVICE_RESULT/EXIT_CODE/EXIT_STATUS:
# the unit itself is garbage-collected once inactive.)
check "daemon: clean exit on stop (success/exited/0: $(tail -n 1 "$W/cgsentryd.exit" 2>/dev/null))" \
    [ "$(tail -n 1 "$W/cgsentryd.exit" 2>/dev/null)" = success/exited/0 ]
journalctl -u cgsentryd.service -o short-monotonic --no-pager >"$EV/cgsentryd.journal" 2>&1
check "daemon: no watchdog timeout in the journal" \
    bash -c "! journalctl --no-pager -o cat | grep -qi 'watchdog timeout'"
check "daemon: memory.high of idle.service given back on stop ($(high_of idle.service))" \
    [ "$(high_of idle.service)" = max ]
systemctl stop idle.service

# Container runtimes under cgsentry run (tests/containers).
. "$(dirname "$0")/../containers/systemd-checks.sh"

# ---------------------------------------------------------------------------
# Observations, reported as "#" lines, not checks (design questions).
# ---------------------------------------------------------------------------
# cgsentry run as the main process of a service: the scope takes the command
# (and cgsentry) out of the service's cgroup, hence out of its MemoryMax=.
timeout 60 systemd-run --quiet --wait --unit=wrapped -p DefaultDependencies=no -p MemoryMax=256M -- \
    "$CGSENTRY" run --memory-max 64M -- sh -c "cat /proc/self/cgroup >'$EV/wrapped.cgroup'" \
    >/dev/null 2>&1
note "observation: 'cgsentry run' as ExecStart= of wrapped.service (MemoryMax=256M) runs the command in $(sed 's/^0:://' "$EV/wrapped.cgroup" 2>/dev/null), outside wrapped.service"
# Without dbus-daemon (systemd-run --scope still works there: private socket).
systemctl stop dbus.socket dbus.service
"$CGSENTRY" run --memory-max 64M -- true 2>"$EV/nodbus.err"
rc=$?
note "observation: without dbus-daemon, 'cgsentry run -- true' exits $rc $(head -n 1 "$EV/nodbus.err")"

note "guest checks took $((SECONDS - T0)) s"
journalctl -b --no-pager -o short-monotonic >"$EV/journal.txt" 2>&1
echo "$failed" >"$RES/guest.status.tmp"
sync
mv "$RES/guest.status.tmp" "$RES/guest.status"
sync
exit 0
