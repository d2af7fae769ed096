#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The checks of vm.install, run by tests/systemd/run.sh's test service in a
# VM booted with systemd as PID 1 on a writable overlay of the host's root
# (see tests/install/run.sh). Usage: guest.sh BUILD_DIR RESULTS_DIR
#
# The packages of BUILD_DIR/deb are installed with dpkg, the hardened unit
# runs as installed, with the shipped configuration, and the packages are
# purged at the end. Writes "ok - ..." / "not ok - ..." lines to
# RESULTS_DIR/guest.tap and the number of failures to RESULTS_DIR/guest.status;
# evidence goes to RESULTS_DIR/evidence/.
set -u
BUILD=$(cd "${1:?usage: guest.sh BUILD_DIR RESULTS_DIR}" && pwd -P)
RES=${2:?usage: guest.sh BUILD_DIR RESULTS_DIR}
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
DEBS=$BUILD/deb
CG=/sys/fs/cgroup
EV=$RES/evidence
W=/run/cgsentry-install
MID_KILL=5c8e0f7ad1a94a4f8d7b3f0c2e61a901
UNIT=cgsentryd.service
mkdir -p "$EV" "$W"
: >"$RES/guest.tap"
touch "$RES/guest.started"
exec > >(tee -a "$RES/guest.log") 2>&1
# shellcheck source=tests/systemd/guest-lib.sh
. "$SRC/tests/systemd/guest-lib.sh"
T0=$SECONDS

oom_kills() { awk '$1 == "oom_kill" { print $2 }' "$CG/$1/memory.events" 2>/dev/null || echo 0; }
journal_sync() { journalctl --sync 2>/dev/null || sleep 1; }
high_of() { cat "$CG/system.slice/$1/memory.high" 2>/dev/null; }
xattr_of() { # the operator's memory.high that cgsentryd keeps on the cgroup
    python3 -c 'import os, sys; print(os.getxattr(sys.argv[1], "trusted.cgsentry.memory_high").decode())' \
        "$CG/system.slice/$1" 2>/dev/null
}
armed() { # armed UNIT MAX: memory.high is at most 90% of MAX, and not far below
    local h
    h=$(high_of "$1")
    [[ $h =~ ^[0-9]+$ ]] && ((h <= $2 * 9 / 10 && h > $2 * 89 / 100))
}
journal_since() { journalctl -u $UNIT -o cat --no-pager ${1:+--after-cursor="$1"} 2>/dev/null; }
cursor() { journal_sync; journalctl -n 0 --show-cursor --no-pager 2>/dev/null | sed -n 's/^-- cursor: //p'; }

HOG='l = []
while True: l.append(b"\x01" * (1 << 20))'

note "systemd $(systemctl --version | head -n 1 | cut -d' ' -f2), kernel $(uname -r), up $(cut -d' ' -f1 /proc/uptime)s at start"
check "systemd is PID 1" bash -c '[ "$(cat /proc/1/comm)" = systemd ] && [ -d /run/systemd/system ]'
shopt -s nullglob
debs=("$DEBS"/cgsentry_*.deb "$DEBS"/cgsentry-dev_*.deb)
shopt -u nullglob
check "the packages were built (${debs[*]##*/})" [ ${#debs[@]} = 2 ]

# ---------------------------------------------------------------------------
# Install
# ---------------------------------------------------------------------------
# tests/systemd/run.sh installs a cgsentryd.service of its own for vm.systemd
# in /etc/systemd/system, which would hide the package's (the package's
# postinst reloads systemd).
rm -f /etc/systemd/system/$UNIT
check "cgsentry is not installed before" bash -c '! dpkg -s cgsentry >/dev/null 2>&1'
# Nobody reads man pages here: skip man-db's index update, slow under TCG.
rm -f /var/lib/man-db/auto-update
# A host root built as a container image may forbid maintainer scripts to
# start services (policy-rc.d exit 101); this guest is a whole system.
rm -f /usr/sbin/policy-rc.d
find /etc /var/lib -xdev -iname '*cgsentry*' 2>/dev/null | sort >"$W/before.names"
t=$SECONDS
timeout 300 env DEBIAN_FRONTEND=noninteractive dpkg -i "${debs[@]}" >"$EV/dpkg-install.log" 2>&1
rc=$?
note "dpkg -i took $((SECONDS - t)) s"
check "dpkg -i cgsentry cgsentry-dev succeeds" [ "$rc" = 0 ]
check "both packages are installed" \
    bash -c '[ "$(dpkg-query -W -f="\${Status}\n" cgsentry cgsentry-dev | sort -u)" = "install ok installed" ]'
check "/etc/cgsentry/cgsentry.conf is a conffile" \
    bash -c 'dpkg-query -W -f="\${Conffiles}\n" cgsentry | grep -q "^ /etc/cgsentry/cgsentry.conf "'
check "the shipped configuration is valid" cgsentryd --check-config
check "man finds cgsentry(1), cgsentry.conf(5), cgsentry-policies(7), cgsentryd(8)" \
    bash -c 'man -w 1 cgsentry && man -w 5 cgsentry.conf && man -w 7 cgsentry-policies && man -w 8 cgsentryd' \
    >/dev/null
check "bash completion is installed for both programs" \
    test -f /usr/share/bash-completion/completions/cgsentry -a -f /usr/share/bash-completion/completions/cgsentryd
check "pkg-config finds cgsentry-policy, with the installed policy directory" \
    bash -c '[ -d "$(pkg-config --variable=policydir cgsentry-policy)" ] &&
             [ -f "$(pkg-config --variable=includedir cgsentry-policy)/cgsentry/policy.h" ]'
check "cgsentry policies lists the installed plugins" \
    bash -c 'cgsentry policies | grep -q "^largest .*cgsentry-policy-largest.so"'
check "libsupervise is not installed" bash -c '! ls /usr/lib/*/libsupervise* /usr/include/cgsentry/supervise.h 2>/dev/null'

# ---------------------------------------------------------------------------
# The unit, started by the package
# ---------------------------------------------------------------------------
check "the unit is enabled" [ "$(systemctl is-enabled $UNIT 2>/dev/null)" = enabled ]
check "the package started it: active (running), so READY=1 arrived (Type=notify)" \
    wait_for 60 bash -c "[ \"\$(systemctl show -P ActiveState $UNIT)/\$(systemctl show -P SubState $UNIT)\" = active/running ]"
tstart=$SECONDS
mainpid=$(prop $UNIT MainPID)
wd0=$(prop $UNIT WatchdogTimestampMonotonic)
systemctl status --no-pager $UNIT >"$EV/cgsentryd.status" 2>&1
systemctl cat $UNIT >"$EV/cgsentryd.unit" 2>&1
check "it runs the installed /usr/sbin/cgsentryd" \
    [ "$(readlink "/proc/$mainpid/exe" 2>/dev/null)" = /usr/sbin/cgsentryd ]
check "systemctl status shows its STATUS= text" grep -q 'Status: "Supervising [0-9]* cgroups' "$EV/cgsentryd.status"
check "WatchdogUSec is the unit's 30s" [ "$(prop $UNIT WatchdogUSec)" = 30s ]
grep -E '^(Cap|NoNewPrivs|Seccomp)' "/proc/$mainpid/status" >"$EV/cgsentryd.proc-status" 2>&1
check "the daemon runs with NoNewPrivs and a seccomp filter" \
    bash -c "grep -qx 'NoNewPrivs:	1' '$EV/cgsentryd.proc-status' && grep -qx 'Seccomp:	2' '$EV/cgsentryd.proc-status'"

# Exposure as systemd rates the loaded unit (slow under TCG: meanwhile, the
# next checks run; the figure is checked after the runaway).
systemd-analyze security --no-pager $UNIT >"$EV/security.txt" 2>&1 &
security_job=$!

# ---------------------------------------------------------------------------
# Capabilities: each primitive of the daemon in a transient copy of the unit
# (same sandbox and filter), with its bounding set and without each of it.
# ---------------------------------------------------------------------------
CAPS=$(sed -n 's/^CapabilityBoundingSet=//p' /lib/systemd/system/$UNIT)
note "CapabilityBoundingSet=$CAPS"
python3 "$SRC/tests/install/capsprobe.py" setup "$W/caps" >"$EV/caps-setup.json" 2>&1
check "capability probe: cgroups and victims set up" test -s "$W/caps/state.json"
# The unit's [Service] settings as systemd-run properties, without what
# makes it the daemon (a transient unit needs no daemon-reload, slow here).
mapfile -t sandbox < <(sed -n '/^\[Service\]/,/^\[/p' /lib/systemd/system/$UNIT |
    grep -Ev '^(#|\[|$|Type=|ExecStart=|ExecReload=|Restart=|WatchdogSec=|StateDirectory=|RuntimeDirectory=|CapabilityBoundingSet=)' |
    sed 's/^/--property=/')
variants=(unit)
for c in $CAPS; do variants+=("no-$c"); done
n=0 jobs=()
for v in "${variants[@]}"; do # all at once: each has a victim of its own
    set=$CAPS
    [[ $v == no-* ]] && set=$(tr ' ' '\n' <<<"$CAPS" | grep -vx "${v#no-}" | tr '\n' ' ')
    timeout 120 systemd-run --quiet --wait --unit="capsprobe-$v" -p Type=oneshot \
        -p DefaultDependencies=no "${sandbox[@]}" -p "CapabilityBoundingSet=$set" \
        -p StandardOutput="file:$EV/caps-$v.json" -p StandardError=journal \
        /usr/bin/python3 "$SRC/tests/install/capsprobe.py" probe "$W/caps" "$n" &
    jobs+=($!)
    n=$((n + 1))
done
wait "${jobs[@]}"
cp "$W/caps/state.json" "$EV/caps-state.json" 2>/dev/null
# Expectations: with the set, everything; without one capability, the
# primitive that needs it fails and nothing else does.
python3 - "$EV" "$CAPS" "$(uname -r)" >"$EV/caps-table.txt" 2>&1 <<'EOF'
import json, os, re, sys
ev, caps, kver = sys.argv[1], sys.argv[2].split(), sys.argv[3]
major, minor = (int(x) for x in re.match(r"(\d+)\.(\d+)", kver).groups())
needs = {"CAP_KILL": ["signal_other"],
         "CAP_DAC_OVERRIDE": ["write_high_deleg", "kill_deleg"],
         "CAP_SYS_ADMIN": ["xattr_trusted"],
         # psi.c: only CAP_SYS_RESOURCE may use windows that are not a
         # multiple of 2s, from 6.4 on and in stable kernels that took the
         # change (Debian 12's 6.1 did); older kernels do not ask.
         "CAP_SYS_RESOURCE": ["psi_trigger_1s"]}
may_not_ask = {"CAP_SYS_RESOURCE": (major, minor) < (6, 4)}
res = {}
for v in ["unit"] + ["no-" + c for c in caps]:
    try:
        res[v] = json.load(open(os.path.join(ev, "caps-%s.json" % v)))
    except (OSError, ValueError):
        res[v] = None
prims = sorted(k for k in (res["unit"] or {}) if k != "status")
fails = 0
print("%-18s" % "primitive" + "".join("%-20s" % v for v in res))
for p in prims:
    print("%-18s" % p + "".join("%-20s" % ((r or {}).get(p, "-")) for r in res.values()))
def bad(msg):
    global fails
    fails += 1
    print("FAIL: " + msg)
if not res["unit"]:
    bad("the probe did not run under the unit's bounding set")
else:
    for p in prims:
        if res["unit"][p] != "ok":
            bad("with the unit's set, %s: %s" % (p, res["unit"][p]))
for c in caps:
    r = res["no-" + c]
    if r is None:
        bad("the probe did not run without " + c)
        continue
    if c not in needs:
        bad("%s is in the set but no primitive is known to need it" % c)
        continue
    expect_fail = set(needs[c]) | ({"mrelease"} if "signal_other" in needs[c] else set())
    for p in prims:
        ok = r[p] in ("ok", "n/a")
        if p in needs[c] and ok:
            if may_not_ask.get(c):
                print("note: without %s, %s works: this kernel (%s) does not ask for it"
                      % (c, p, kver))
            else:
                bad("without %s, %s still works: %s is not needed for it" % (c, p, c))
        if p not in expect_fail and not ok:
            bad("without %s, %s fails (%s): it needs more than the table says" % (c, p, r[p]))
print("capabilities: %d problem(s)" % fails)
sys.exit(1 if fails else 0)
EOF
rc=$?
sed 's/^/# /' "$EV/caps-table.txt" | tee -a "$RES/guest.tap"
check "capabilities: the unit's set is enough, and each one is needed (table above)" [ "$rc" = 0 ]
python3 "$SRC/tests/install/capsprobe.py" cleanup "$W/caps"

# ---------------------------------------------------------------------------
# Policy plugins load under MemoryDenyWriteExecute=: a drop-in rule with
# Policy=largest for a test slice, and a service there to supervise.
# ---------------------------------------------------------------------------
mkdir -p /etc/cgsentry/conf.d
cat >/etc/cgsentry/conf.d/50-install-test.conf <<'EOF'
[Rule installtest]
Match=installtest.slice/*.service
Policy=largest
Tripwire=90%
EOF
c=$(cursor)
timeout 60 systemctl reload $UNIT
timeout 60 systemd-run --quiet --unit=tw-plugin --slice=installtest.slice \
    -p DefaultDependencies=no -p MemoryMax=64M -- sleep 600
plugin_loaded() {
    journal_since "$c" | grep -q 'supervising /installtest.slice/tw-plugin.service (rule installtest, policy largest'
}
check "a drop-in rule with Policy=largest supervises its service (plugin loaded in the sandbox)" \
    wait_for 20 plugin_loaded
check "no policy failed to load" bash -c "! journalctl -u $UNIT -o cat --no-pager | grep -q 'cannot be used'"

# ---------------------------------------------------------------------------
# The tripwire on an idle service: memory.high at 90% of MemoryMax=, the
# operator's value kept in a trusted.* xattr (CAP_SYS_ADMIN in the sandbox)
# ---------------------------------------------------------------------------
timeout 60 systemd-run --quiet --unit=tw-idle -p DefaultDependencies=no -p MemoryMax=128M -- sleep 600
check "tripwire armed on a service by the shipped rule (memory.high at 90% of 128M)" \
    wait_for 20 armed tw-idle.service 134217728
check "the operator's memory.high (max) is kept in trusted.cgsentry.memory_high" \
    [ "$(xattr_of tw-idle.service)" = max ]

# ---------------------------------------------------------------------------
# An ExecAfterKill= hook for the shipped [Rule services] (a drop-in). The
# hook inherits the unit's read-only file system: it prints its environment,
# which cgsentryd logs line by line, and the journal is checked.
# ---------------------------------------------------------------------------
HOOK=/usr/local/lib/cgsentry-install-test/after-kill
install -d -m 0755 "${HOOK%/*}"
printf '#!/bin/sh\nenv | grep "^CGSENTRY_" | sort\necho "args: $*"\n' >"$HOOK"
chmod 0755 "$HOOK"
cat >/etc/cgsentry/conf.d/60-hook.conf <<EOF
[Rule services]
ExecAfterKill=$HOOK --from-install-test
EOF
c=$(cursor)
timeout 60 systemctl reload $UNIT
check "hook: the drop-in with ExecAfterKill= is loaded (reload)" \
    wait_for 10 bash -c "journalctl -u $UNIT -o cat --no-pager --after-cursor='$c' | grep -q 'reloaded: 2 rules'"

# ---------------------------------------------------------------------------
# A runaway service, matched by the shipped [Rule services]: killed whole
# ---------------------------------------------------------------------------
before=$(oom_kills system.slice)
pids=$W/hog.pids
: >"$pids"
chmod 0666 "$pids"
timeout 60 systemd-run --quiet --unit=tw-hog -p DefaultDependencies=no -p MemoryMax=128M -- \
    sh -c "echo \$\$\$\$ >>'$pids'
           sleep 300 & echo \$! >>'$pids'
           sleep 300 & echo \$! >>'$pids'
           python3 -c 'import os; open(\"$pids\", \"a\").write(\"%d\\n\" % os.getpid())
$HOG' &
           wait"
check "runaway: tw-hog.service started" [ $? = 0 ]
check "runaway: the service is killed" \
    wait_for 90 bash -c "[ \"\$(systemctl show -P ActiveState tw-hog.service)\" != active ]"
systemctl status --no-pager tw-hog.service >"$EV/hog.status" 2>&1
check "runaway: it died of SIGKILL (Result=signal)" \
    [ "$(prop tw-hog.service Result)/$(prop tw-hog.service ExecMainStatus)" = signal/9 ]
check "runaway: all 4 processes are gone (group kill, not one process)" \
    bash -c "[ \$(wc -l <'$pids') = 4 ] && for p in \$(cat '$pids'); do ! kill -0 \$p 2>/dev/null || exit 1; done"
check "runaway: no kernel OOM kill in system.slice" [ "$(oom_kills system.slice)" = "$before" ]
journal_sync
kill_entry() {
    journalctl -o json --no-pager MESSAGE_ID=$MID_KILL >"$EV/kill.journal.json" 2>/dev/null
    python3 - "$EV/kill.journal.json" "$pids" >"$EV/kill.check.txt" 2>&1 <<'EOF'
import json, sys
pids = sorted(open(sys.argv[2]).read().split())
want = {"_SYSTEMD_UNIT": "cgsentryd.service",
        "CGSENTRY_CGROUP": "system.slice/tw-hog.service",
        "CGSENTRY_TRIGGER": "tripwire", "CGSENTRY_RULE": "services",
        "CGSENTRY_POLICY": "kernel", "CGSENTRY_MEMORY_MAX_BYTES": "134217728"}
print("hog pids:", pids)
for line in open(sys.argv[1]):
    e = json.loads(line)
    got = {k: e.get(k) for k in want}
    killed = sorted(str(e.get("CGSENTRY_KILLED_PIDS", "")).split())
    print(got, e.get("CGSENTRY_VICTIM_PID"), killed)
    if got == want and e.get("CGSENTRY_VICTIM_PID") in pids and killed == pids:
        sys.exit(0)
sys.exit(1)
EOF
}
check "journal: MESSAGE_ID=$MID_KILL from cgsentryd.service with CGSENTRY_CGROUP, TRIGGER=tripwire, RULE=services, POLICY=kernel, VICTIM_PID, KILLED_PIDS (all 4), MEMORY_MAX_BYTES" \
    wait_for 10 kill_entry
journalctl -o verbose --no-pager MESSAGE_ID=$MID_KILL >"$EV/kill.journal.txt" 2>&1
hook_ran() {
    journal_sync
    journalctl -u $UNIT -o cat --no-pager >"$EV/hook.journal" 2>/dev/null
    python3 - "$EV/hook.journal" "$pids" "$HOOK" >"$EV/hook.check.txt" 2>&1 <<'EOF'
import sys
log, pids, hook = open(sys.argv[1]).read(), sorted(open(sys.argv[2]).read().split()), sys.argv[3]
pre = f"after-kill hook {hook}: "
env = {}
for line in log.splitlines():
    if pre in line:
        k, _, v = line.split(pre, 1)[1].partition("=")
        env[k] = v
print(env)
ok = (env.get("CGSENTRY_CGROUP") == "system.slice/tw-hog.service" and
      env.get("CGSENTRY_TRIGGER") == "tripwire" and env.get("CGSENTRY_RULE") == "services" and
      env.get("CGSENTRY_VICTIM_PID") in pids and
      sorted(env.get("CGSENTRY_KILLED_PIDS", "").split()) == pids and
      env.get("CGSENTRY_MEMORY_MAX") == "134217728" and
      int(env.get("CGSENTRY_MEMORY_CURRENT", "0")) > 64 << 20 and
      pre + "args: --from-install-test" in log)
done = f"after-kill hook {hook} for /system.slice/tw-hog.service done in" in log
sys.exit(0 if ok and done else 1)
EOF
}
check "hook: ExecAfterKill= ran under the unit's sandbox with CGSENTRY_CGROUP, TRIGGER, RULE, VICTIM_PID, KILLED_PIDS (all 4), MEMORY_MAX/CURRENT and its argument, and exited 0" \
    wait_for 15 hook_ran
check "cgsentry history reads the kill back from the journal" \
    bash -c "cgsentry history --json --no-kmsg 2>/dev/null | grep -q '\"domain\": *\"/system.slice/tw-hog.service\"'"

wait "$security_job"
exposure=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$EV/security.txt")
note "systemd-analyze security $UNIT: exposure ${exposure:-?}"
check "systemd-analyze security: exposure ${exposure:-?} <= 2.0" \
    python3 -c "import sys; sys.exit(0 if 0 <= float('${exposure:-99}') <= 2.0 else 1)"

# ---------------------------------------------------------------------------
# The control socket of the hardened unit: status, metrics, a refusal
# ---------------------------------------------------------------------------
cgsentry status >"$EV/status.txt" 2>&1
check "status: answers (exit 0) and names tw-idle.service" \
    grep -q '^/system.slice/tw-idle.service ' "$EV/status.txt"
cgsentry status --json >"$EV/status.json" 2>&1
check "status --json: the installed version, tw-idle.service under rule services with its tripwire's memory.high, the kill counted under tripwire and emptied, the hook run" \
    python3 - "$EV/status.json" "$(dpkg-query -W -f='${Version}' cgsentry | sed 's/-[^-]*$//')" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
d = s["daemon"]
g = [g for g in s["groups"] if g["cgroup"] == "system.slice/tw-idle.service"]
high = int(open("/sys/fs/cgroup/system.slice/tw-idle.service/memory.high").read())
k = [k for k in s["recent_kills"] if k["cgroup"] == "system.slice/tw-hog.service"]
sys.exit(0 if d["version"] == sys.argv[2] and g and g[0]["rule"] == "services" and
         g[0]["armed"]["tripwire"]["memory_high"] == high and
         d["kills"]["by_trigger"].get("tripwire", 0) >= 1 and k and
         k[-1]["outcome"] == "emptied" and d["hooks"]["started"] >= 1 else 1)
EOF
cgsentry status system.slice/tw-idle.service >"$EV/status-one.txt" 2>&1
check "status CGROUP: the group in detail (rule, armed tripwire, memory)" \
    bash -c "grep -q '^● /system.slice/tw-idle.service' '$EV/status-one.txt' && grep -q 'Armed: tripwire 90%' '$EV/status-one.txt'"
cgsentry metrics >"$EV/metrics.txt" 2>&1
check "metrics: Prometheus text with the kill (cgsentry_kills_total{trigger=tripwire,rule=services,policy=kernel} 1)" \
    grep -q '^cgsentry_kills_total{trigger="tripwire",rule="services",policy="kernel"} 1$' "$EV/metrics.txt"
PROMTOOL=$SRC/build/tools/prometheus/usr/bin/promtool
if [ -x "$PROMTOOL" ]; then
    check "metrics: promtool check metrics passes" bash -c "'$PROMTOOL' check metrics <'$EV/metrics.txt'"
fi
setpriv --reuid=65534 --regid=65534 --clear-groups cgsentry status >"$EV/refused.txt" 2>&1
rc=$?
check "status as nobody: refused with exit 2 and 'permission denied' (got $rc)" \
    bash -c "[ $rc = 2 ] && grep -q 'permission denied' '$EV/refused.txt'"

# ---------------------------------------------------------------------------
# Reload with a broken configuration: rejected, the old one stays in force
# ---------------------------------------------------------------------------
printf '[Rule services]\nTripwire=banana\n' >/etc/cgsentry/conf.d/90-broken.conf
c=$(cursor)
timeout 60 systemctl reload $UNIT
rc=$?
check "reload with a broken drop-in: systemctl reload returns 0" [ "$rc" = 0 ]
sleep 1
check "reload with a broken drop-in: still active, same PID" \
    [ "$(prop $UNIT ActiveState)/$(prop $UNIT MainPID)" = "active/$mainpid" ]
journal_sync
journal_since "$c" >"$EV/reload-broken.journal"
check "reload with a broken drop-in: the journal names /etc/cgsentry/conf.d/90-broken.conf:2:" \
    grep -qF /etc/cgsentry/conf.d/90-broken.conf:2: "$EV/reload-broken.journal"
check "reload with a broken drop-in: the old rules stay (tripwire still armed)" \
    armed tw-idle.service 134217728
rm -f /etc/cgsentry/conf.d/90-broken.conf
c=$(cursor)
timeout 60 systemctl reload $UNIT
check "reload with the drop-in removed: 2 rules" \
    wait_for 10 bash -c "journalctl -u $UNIT -o cat --no-pager --after-cursor='$c' | grep -q 'reloaded: 2 rules'"

# Watchdog: the same process well after WatchdogSec/2, and its pings arrive.
left=$((tstart + 17 - SECONDS))
((left > 0)) && sleep "$left"
wd1=$(prop $UNIT WatchdogTimestampMonotonic)
check "watchdog: WATCHDOG=1 pings arrive (timestamp $wd0 -> $wd1), no restart" \
    bash -c "[ '${wd1:-0}' -gt '${wd0:-0}' ] && [ \"\$(systemctl show -P NRestarts $UNIT)/\$(systemctl show -P MainPID $UNIT)\" = '0/$mainpid' ]"

# ---------------------------------------------------------------------------
# Stop: memory.high and the xattr given back
# ---------------------------------------------------------------------------
timeout 60 systemctl stop $UNIT
check "systemctl stop returns 0" [ $? = 0 ]
check "stop: memory.high of tw-idle.service is max again ($(high_of tw-idle.service))" \
    [ "$(high_of tw-idle.service)" = max ]
check "stop: the trusted.cgsentry.memory_high xattr is gone" [ -z "$(xattr_of tw-idle.service)" ]
check "stop: no watchdog timeout in the journal" \
    bash -c "! journalctl --no-pager -o cat -u $UNIT | grep -qi 'watchdog timeout'"
journalctl -u $UNIT -o short-monotonic --no-pager >"$EV/cgsentryd.journal" 2>&1

# ---------------------------------------------------------------------------
# Purge: nothing left behind
# ---------------------------------------------------------------------------
rm -f /etc/cgsentry/conf.d/50-install-test.conf /etc/cgsentry/conf.d/60-hook.conf
rmdir /etc/cgsentry/conf.d 2>/dev/null
rm -rf "${HOOK%/*}"
cat /var/lib/dpkg/info/cgsentry.list /var/lib/dpkg/info/cgsentry-dev:*.list 2>/dev/null |
    sort -u >"$EV/package.files"
t=$SECONDS
timeout 300 env DEBIAN_FRONTEND=noninteractive dpkg --purge cgsentry cgsentry-dev \
    >"$EV/dpkg-purge.log" 2>&1
rc=$?
note "dpkg --purge took $((SECONDS - t)) s"
check "dpkg --purge cgsentry cgsentry-dev succeeds" [ "$rc" = 0 ]
check "purge: dpkg knows neither package any more" \
    bash -c '! dpkg-query -W -f="\${Status}\n" cgsentry cgsentry-dev 2>/dev/null | grep -q installed'
left_files() { # the packages' files, and their own directories, that still exist
    while read -r f; do
        [ -e "$f" ] || continue
        [ -d "$f" ] && [[ $f != *cgsentry* ]] && continue # shared: /usr/bin, /usr/share/man, ...
        echo "$f"
    done <"$EV/package.files"
}
left_files >"$EV/purge.left"
check "purge: none of the packages' files is left ($(wc -l <"$EV/purge.left") left)" [ ! -s "$EV/purge.left" ]
find /etc /var/lib -xdev -iname '*cgsentry*' 2>/dev/null | sort >"$W/after.names"
comm -13 "$W/before.names" "$W/after.names" >"$EV/purge.new-names"
check "purge: nothing named cgsentry is new in /etc or /var/lib ($(tr '\n' ' ' <"$EV/purge.new-names"))" \
    [ ! -s "$EV/purge.new-names" ]
check "purge: /var/lib/cgsentry and /run/cgsentry are gone" test ! -e /var/lib/cgsentry -a ! -e /run/cgsentry
check "purge: the unit is gone" [ "$(prop $UNIT LoadState)" = not-found ]
check "purge: no cgsentryd process" bash -c '! pgrep -x cgsentryd >/dev/null'
check "purge: memory.high of the service stays max" [ "$(high_of tw-idle.service)" = max ]
systemctl stop tw-idle.service tw-plugin.service 2>/dev/null

note "guest checks took $((SECONDS - T0)) s"
journalctl -b --no-pager -o short-monotonic >"$EV/journal.txt" 2>&1
echo "$failed" >"$RES/guest.status.tmp"
sync
mv "$RES/guest.status.tmp" "$RES/guest.status"
sync
exit 0
