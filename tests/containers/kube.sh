#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A kubelet-style node inside the sandbox (as root): pod and container
# cgroups in both drivers' layouts, containers started by crun with the
# cgroupsPath, memory.oom.group and oom_score_adj the kubelet would give
# them, and cgsentryd with the configuration packaging/kubernetes ships:
#  - a per-container runaway is killed whole by the tripwire (the
#    container's memory.oom.group=1 widens the kill), its pod lives on;
#  - a node squeeze (a BestEffort container leaking without a limit) kills
#    the BestEffort pod whole, by the kubernetes policy, before the
#    kernel's global OOM killer; the Burstable and Guaranteed pods live.
# Usage: kube.sh BUILD_DIR
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "$1" && pwd)
CG=/sys/fs/cgroup
work=$(mktemp -d)
pass=0 failed=0
LOG=$work/cgsentryd.log

check() { # check DESCRIPTION COMMAND...
        local what=$1; shift
        if "$@"; then echo "ok - $what"; pass=$((pass + 1))
        else echo "not ok - $what"; failed=$((failed + 1)); fi
}
wait_for() { # wait_for SECONDS COMMAND...: poll every 0.1 s
        local n=$(($1 * 10)); shift
        while ((n-- > 0)); do "$@" && return 0; sleep 0.1; done
        return 1
}
empty() { [ "$(sed -n 's/^populated //p' "$CG/$1/cgroup.events" 2>/dev/null)" = 0 ]; }
populated() { [ "$(sed -n 's/^populated //p' "$CG/$1/cgroup.events" 2>/dev/null)" = 1 ]; }
global_ooms() { dmesg | grep -c -E 'invoked oom-killer|Killed process'; }
cid() { printf '%s' "$1" | sha256sum | cut -c1-64; }
puid() { python3 -c 'import uuid, sys; print(uuid.uuid5(uuid.NAMESPACE_DNS, sys.argv[1]))' "$1"; }
logged() { grep -q -- "$1" "$LOG"; }

HOLD() { echo "import time; x = b'\\x01' * ($1 << 20); time.sleep(100000)"; }
HOG='l = []
while True: l.append(b"\x01" * (1 << 20))'
LEAK='l = []
while True: l.append(b"\x01" * (8 << 20))'

# Cgroups as the kubelet makes them: every level enables memory and pids
# for the next.
mkcg() {
        local p=$1 part acc=""
        for part in ${p//\// }; do
                acc=${acc:+$acc/}$part
                mkdir -p "$CG/$acc"
                echo "+memory +pids" > "$CG/$acc/cgroup.subtree_control" 2>/dev/null
        done
}

CONTAINERS=()
# ctr POD NAME OOM_SCORE_ADJ [--unified K=V]... -- ARGS...: a container of
# POD started by crun in the background, in POD/<the layout's name for it>.
ctr() {
        local pod=$1 name=$2 adj=$3; shift 3
        local id b path
        id=$(cid "$LAYOUT-$name")
        b=$work/$LAYOUT-$name
        path=$pod/$(ctr_name "$id")
        python3 "$SRC/tests/containers/bundle.py" "$b" --cgroups-path "/$path" \
                --oom-score-adj "$adj" --unified memory.oom.group=1 "$@"
        ln -s /usr/bin/sleep "$b/rootfs/pause"
        (cd "$b" && crun --cgroup-manager=cgroupfs run -d "$id" < /dev/null > /dev/null 2>&1) ||
                echo "# crun run $name failed"
        CONTAINERS+=("$id")
        eval "C_$name=\$path"
}
pause() { ctr "$1" "$2" -998 -- /pause 100000; }

phase() { # phase systemd|cgroupfs
        LAYOUT=$1
        local A C G uA uC uG
        uA=$(puid "$LAYOUT-besteffort") uC=$(puid "$LAYOUT-burstable") uG=$(puid "$LAYOUT-guaranteed")
        if [ "$LAYOUT" = systemd ]; then
                ROOT=kubepods.slice
                A=$ROOT/kubepods-besteffort.slice/kubepods-besteffort-pod${uA//-/_}.slice
                C=$ROOT/kubepods-burstable.slice/kubepods-burstable-pod${uC//-/_}.slice
                G=$ROOT/kubepods-pod${uG//-/_}.slice
                ctr_name() { echo "cri-containerd-$1.scope"; }
                CRULE=kube-containers NRULE=kube-node
        else
                ROOT=kubepods
                A=$ROOT/besteffort/pod$uA
                C=$ROOT/burstable/pod$uC
                G=$ROOT/pod$uG
                ctr_name() { echo "$1"; }
                CRULE=kube-containers-cgroupfs NRULE=kube-node-cgroupfs
        fi
        echo "# $LAYOUT driver: BestEffort $A, Burstable $C, Guaranteed $G"
        mkcg "$A"; mkcg "$C"; mkcg "$G"
        pause "$A" a_pause
        ctr "$A" a_sleepers 1000 -- sh -c 'sleep 100000 & sleep 100000 & wait'
        pause "$C" c_pause
        ctr "$C" c_web 500 --unified memory.max=300M -- python3 -c "$(HOLD 60)"
        pause "$G" g_pause
        ctr "$G" g_db -997 --unified memory.max=400M -- python3 -c "$(HOLD 150)"
        wait_for 20 logged "/$ROOT: watching the node"
        check "$LAYOUT: cgsentryd watches the node from /$ROOT" logged "/$ROOT: watching the node"
        [ "$LAYOUT" = systemd ] &&
                check "$LAYOUT: ... MemAvailable and the node's PSI trigger" \
                        logged "/$ROOT: watching the node: MemAvailable below .*, a PSI trigger on the node's memory pressure"
        check "$LAYOUT: cgsentryd supervises the containers it finds (c_web)" \
                wait_for 20 logged "supervising /$C_c_web (rule $CRULE"
        check "$LAYOUT: ... and names its container and pod" \
                logged "supervising /$C_c_web (rule $CRULE, .*container $(cid "$LAYOUT-c_web" | cut -c1-12) of pod $uC (Burstable)"
        sleep 1 # the holders allocate

        # A runaway container with a limit: the tripwire, the container whole.
        local before_ooms; before_ooms=$(global_ooms)
        ctr "$C" c_runaway 500 --unified memory.max=96M -- sh -c "sleep 100000 & sleep 100000 & python3 -c '$HOG'"
        check "$LAYOUT: runaway container killed (its cgroup empty)" wait_for 30 empty "$C_c_runaway"
        check "$LAYOUT: ... by the tripwire, whole by the kubelet's memory.oom.group" \
                logged "tripwire: /$C_c_runaway .*killing 4 processes of /$C_c_runaway (rule $CRULE, policy kernel; memory.oom.group is set)"
        check "$LAYOUT: ... its pod lives on (pause and web)" \
                bash -c "[ \"\$(sed -n 's/^populated //p' $CG/$C_c_pause/cgroup.events)\" = 1 ] && [ \"\$(sed -n 's/^populated //p' $CG/$C_c_web/cgroup.events)\" = 1 ]"
        check "$LAYOUT: ... no kernel OOM kill" [ "$(global_ooms)" = "$before_ooms" ]

        # The node squeeze: a BestEffort container leaks, no limit anywhere.
        local t0 t1
        t0=$(date +%s.%N)
        ctr "$A" a_leak 1000 -- python3 -c "$LEAK"
        check "$LAYOUT: node squeeze: the BestEffort pod dies whole (its cgroup empty)" \
                wait_for 60 empty "$A"
        t1=$(date +%s.%N)
        check "$LAYOUT: ... on node pressure, by the kubernetes policy, the pod whole" \
                logged "node-pressure: /$ROOT the node's MemAvailable .* is below NodeMemoryAvailable= .*; killing [0-9]* processes of /$A (rule $NRULE, policy kubernetes; the policy chose the whole group)"
        check "$LAYOUT: ... the policy says why: BestEffort first" \
                logged "policy kubernetes: BestEffort pod $uA: its worst process pid [0-9]* (python3) in container $(cid "$LAYOUT-a_leak" | cut -c1-12)"
        check "$LAYOUT: ... the Guaranteed pod survives" populated "$C_g_db"
        check "$LAYOUT: ... the Burstable pod survives" populated "$C_c_web"
        check "$LAYOUT: ... the kernel's OOM killer never fired" [ "$(global_ooms)" = "$before_ooms" ]
        echo "# $LAYOUT: squeeze to dead pod $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s;" \
             "$(grep "SIGKILL sent to /$A " "$LOG" | sed 's/.*SIGKILL/SIGKILL/' | head -n 1)"
        grep "node-pressure: /$ROOT " "$LOG" | head -n 1 | sed 's/.*node-pressure:/# node-pressure:/' | cut -c1-220

        # Tear down, as the kubelet would.
        for id in "${CONTAINERS[@]}"; do
                crun kill -a "$id" KILL 2>/dev/null
                wait_for 5 bash -c "! crun state $id 2>/dev/null | grep -q '\"running\"'"
                crun delete -f "$id" 2>/dev/null
        done
        CONTAINERS=()
        find "$CG/$ROOT" -depth -type d -exec rmdir {} + 2>/dev/null
        check "$LAYOUT: torn down" bash -c "[ ! -e $CG/$ROOT ]"
}

# The DaemonSet's configuration as shipped, with a drop-in for the sandbox:
# its node has 1 GiB, so the node rule acts at 25% to keep the squeeze
# short, on MemAvailable (the PSI trigger is armed, well out of reach).
cp "$SRC/packaging/kubernetes/cgsentry.conf" "$work/cgsentry.conf"
mkdir -p "$work/conf.d"
cat > "$work/conf.d/sandbox.conf" <<EOF
[Daemon]
CgroupRoot=$CG
PolicyDir=$BUILD/policies
StateDirectory=$work/state

[Rule kube-node]
NodeMemoryAvailable=25%
NodePressureStall=full 50% 2s

[Rule kube-node-cgroupfs]
NodeMemoryAvailable=25%
NodePressureStall=off
EOF
"$BUILD/daemon/cgsentryd" -c "$work/cgsentry.conf" 2> "$LOG" &
daemon=$!
wait_for 10 logged "supervising 0 cgroups"
echo "# MemTotal $(sed -n 's/MemTotal: *//p' /proc/meminfo), MemAvailable $(sed -n 's/MemAvailable: *//p' /proc/meminfo) before the pods"

phase systemd
phase cgroupfs

check "explain --config shows the node rule's plan (node-pressure, kubernetes)" \
        bash -c "mkdir -p $CG/kubepods.slice && '$BUILD/daemon/cgsentry' explain --config '$work/cgsentry.conf' kubepods.slice | grep -q '^# What cgsentryd would do on a node-pressure trigger in /kubepods.slice now (rule kube-node, policy kubernetes)'; r=\$?; rmdir $CG/kubepods.slice; exit \$r"
hist_has_pod() { "$BUILD/daemon/cgsentry" history --json --state-dir "$work/state" 2>/dev/null |
                 grep -Eq "\"pod_uid\": ?\"$1\""; }
check "cgsentry history lists the daemon's kills with container and pod" \
        hist_has_pod "$(puid systemd-besteffort)"
kill "$daemon"
wait "$daemon"
check "cgsentryd exits cleanly on SIGTERM" [ $? = 0 ]
check "no kernel OOM kill of any kind in the whole run" [ "$(global_ooms)" = 0 ]

if [ "$failed" != 0 ]; then
        echo "# cgsentryd's log:"; tail -n 60 "$LOG" | cut -c1-300 | sed 's/^/#   /'
        echo "# kernel log:"; dmesg | tail -n 20 | sed 's/^/#   /'
fi
rm -rf "$work"
echo "kubepods: $pass passed, $failed failed"
[ "$failed" = 0 ]
