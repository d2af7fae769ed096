#!/usr/bin/env bash
# The demo story, run as root on a machine (or sandbox) with a cgroup v2
# memory controller: a slice with two well-behaved services and a runaway
# batch service of four processes. First the kernel alone handles the
# runaway, then cgsentryd does. Usage: demo-scenario.sh BUILD_DIR
set -euo pipefail
BUILD=$(cd "$1" && pwd)
CG=/sys/fs/cgroup
SLICE=$CG/demo.slice
LIMIT=$((256 << 20))
work=$(mktemp -d)
daemon_pid=

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
note() { printf '   %s\n' "$*"; }

cleanup() {
        [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
        if [ -d "$SLICE" ]; then
                echo 1 > "$SLICE/cgroup.kill" 2>/dev/null || true
                sleep 0.3
                find "$SLICE" -depth -type d -exec rmdir {} \; 2>/dev/null || true
        fi
        mountpoint -q "$DATA" 2>/dev/null && umount "$DATA"
        rm -rf "$work"
}
trap cleanup EXIT

# Start "$@" inside cgroup $1 (moved there before it execs, so every byte it
# allocates is charged there), detached so the shell does not report its death.
spawn() {
        local cg=$1; shift
        (sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$cg" "$@" </dev/null &)
}

steady() { # a service that holds MiB of memory and sleeps
        spawn "$1" python3 -c "import time; b = b'\x01' * ($2 << 20); time.sleep(3600)"
}

runaway_service() {
        local svc=$SLICE/batch.service
        mkdir -p "$svc"
        echo "$LIMIT" > "$svc/memory.max"
        for _ in 1 2 3; do spawn "$svc" sleep 3600; done
        # The leak: 8 MiB at a time, touching every page.
        spawn "$svc" python3 -c "
import time
leak = []
while True:
    leak.append(b'\x02' * (8 << 20))
    time.sleep(0.02)"
}

# A healthy service that reads and writes files: its memory is page cache,
# which the kernel reclaims at the limit. It needs a real file system: where
# /var/tmp is tmpfs (the sandbox), an ext4 on a loop device is made for it.
DATA=/var/tmp/cgsentry-demo
make_data_dir() {
        mkdir -p "$DATA"
        if [ "$(stat -f -c %T "$DATA")" = tmpfs ]; then
                modprobe loop 2>/dev/null || true
                modprobe ext4 2>/dev/null || true
                # Written in full first: the loop driver charges new backing
                # pages to whoever writes through it.
                dd if=/dev/zero of="$work/disk.img" bs=1M count=640 status=none
                mkfs.ext4 -q -F "$work/disk.img"
                mount -o loop "$work/disk.img" "$DATA"
        fi
}

cache_service() {
        local svc=$SLICE/logs.service
        mkdir -p "$svc"
        echo "$LIMIT" > "$svc/memory.max"
        spawn "$svc" python3 -c "
import os
b = bytes(range(256)) * 4096
p = '$DATA/logs-%d' % os.getpid()
for r in range(2):
    with open(p, 'wb') as f:
        for i in range(512): f.write(b)
    with open(p, 'rb') as f:
        while f.read(1 << 20): pass
os.unlink(p)"
}

setup() {
        mkdir -p "$SLICE"
        echo "+memory +pids" > "$SLICE/cgroup.subtree_control"
        for s in web db; do mkdir -p "$SLICE/$s.service"; echo "$LIMIT" > "$SLICE/$s.service/memory.max"; done
        steady "$SLICE/web.service" 30
        steady "$SLICE/db.service" 60
}

procs() { tr '\n' ' ' < "$1/cgroup.procs"; }
ev() { awk -v k="$2" '$1 == k { print $2 }' "$1/memory.events"; }

show_state() {
        local s
        for s in web db logs batch; do
                [ -d "$SLICE/$s.service" ] || continue
                note "$(printf '%-14s processes: %-24s oom_kill=%s' "$s.service" "$(procs "$SLICE/$s.service")" "$(ev "$SLICE/$s.service" oom_kill)")"
        done
}

say "A slice with three services, each limited to 256 MiB"
setup
runaway_service
sleep 1
show_state
note "batch.service leaks memory 8 MiB at a time; memory.oom.group is not set."

say "What would the kernel do if batch.service hit its limit now? (cgsentry explain)"
"$BUILD/daemon/cgsentry" explain demo.slice/batch.service | sed 's/^/   /' || true

say "Act 1: the kernel alone"
note "Waiting for batch.service to reach memory.max ..."
for _ in $(seq 1 300); do
        [ "$(ev "$SLICE/batch.service" oom_kill)" -gt 0 ] && break
        sleep 0.1
done
sleep 0.5
dmesg | grep -E "Memory cgroup out of memory: Killed process" | tail -n 1 | sed 's/^/   kernel: /'
show_state
left=$(wc -l < "$SLICE/batch.service/cgroup.procs")
note "The kernel killed one process; $left of batch.service's processes are still running:"
note "the service is half-dead, and nobody noticed."

echo 1 > "$SLICE/batch.service/cgroup.kill"
sleep 0.5
rmdir "$SLICE/batch.service"

say "Act 2: the same runaway under cgsentryd"
cat > "$work/cgsentry.conf" <<EOC
# Each service of demo.slice is one unit: when it runs away, all of it goes.
[Rule demo-services]
Match=demo.slice/*.service
OOMGroup=yes
Tripwire=90%
OnKernelOOMKill=group-kill
EOC
sed 's/^/   | /' "$work/cgsentry.conf"
"$BUILD/daemon/cgsentryd" --no-mlock -c "$work/cgsentry.conf" 2> "$work/daemon.log" &
daemon_pid=$!
sleep 1
note "cgsentryd armed a tripwire: memory.high of each service is now 90% of memory.max;"
note "it kills when the memory the kernel cannot reclaim reaches that much."
make_data_dir
cache_service
note "logs.service writes and re-reads 512 MiB files at its 256 MiB limit: page cache."
runaway_service
for _ in $(seq 1 300); do
        grep -q "is empty" "$work/daemon.log" && break
        sleep 0.1
done
for _ in $(seq 1 600); do
        [ -s "$SLICE/logs.service/cgroup.procs" ] || break
        sleep 0.1
done
sleep 0.3
note "cgsentryd's log:"
sed 's/^/   | /' "$work/daemon.log"
show_state
logs_high=$(awk '$1 == "high" { print $2 }' "$SLICE/logs.service/memory.events")
if [ ! -s "$SLICE/batch.service/cgroup.procs" ] && [ "$(ev "$SLICE/batch.service" oom_kill)" = 0 ] &&
   ! grep -q "tripwire: /demo.slice/logs.service" "$work/daemon.log"; then
        note "All four processes of batch.service are gone, killed together by cgsentryd"
        note "before the kernel had to act (oom_kill=0); web and db kept running."
        note "logs.service crossed memory.high $logs_high times with page cache and finished"
        note "its work: cgsentryd left it alone."
        result=0
else
        note "Unexpected: batch.service was not killed whole before the kernel acted."
        result=1
fi
kill "$daemon_pid"; wait "$daemon_pid" || true
daemon_pid=
exit $result
