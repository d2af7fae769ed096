#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# cgsentry under a real systemd (PID 1) in the test VM.
#
# Usage: tests/systemd/run.sh BUILD_DIR
#
# Boots the kernel and the busybox initramfs that tests/vm/sandbox.sh builds
# and caches, with one extra cpio archive appended: its init builds a
# writable root (overlay: the host root read-only over 9p below, a tmpfs
# above), installs the test units and switch_roots into /lib/systemd/systemd
# with systemd.unit=cgsentry-test.target. That target starts journald, D-Bus
# and cgsentry-test.service, which runs tests/systemd/guest.sh BUILD_DIR and
# powers the VM off when it ends. See README.md next to this script.
#
# Exit status: 0 all checks passed, 1 failures, 77 (SKIPPED) when the VM or
# the systemd boot cannot run here, 2 usage errors.
#
# Environment: SYSTEMD_TEST_TIMEOUT (seconds, default 600),
# SYSTEMD_TEST_MEM (MB, default 2048), SYSTEMD_TEST_RESULTS (keep the
# results there instead of BUILD_DIR/vm-results/systemd), SYSTEMD_TEST_DEBUG=1
# (systemd's boot messages on the console, console shown live),
# SYSTEMD_TEST_GUEST=SCRIPT (run SCRIPT BUILD_DIR RESULTS_DIR instead of
# guest.sh: it must be under the source, build or results tree, or on the
# host root outside /tmp; tests/install uses it), SYSTEMD_TEST_NAME (the
# test's name in messages, default vm.systemd), and the sandbox's
# SANDBOX_NO_KVM=1 / SANDBOX_KVER=... .
set -uo pipefail

readonly EX_SKIP=77
readonly MSIZE=262144

if (($# != 1)) || [[ $1 == -h || $1 == --help ]]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
SRC=$(cd "$HERE/../.." && pwd -P)
SANDBOX=$SRC/tests/vm/sandbox.sh
BUILD=$(cd "$1" 2>/dev/null && pwd -P) || { echo "$0: $1: no such directory" >&2; exit 2; }
for b in cgsentry cgsentryd; do
    [[ -x $BUILD/daemon/$b ]] || { echo "$0: $BUILD/daemon/$b: not built" >&2; exit 2; }
done
GUEST=$SRC/tests/systemd/guest.sh
if [[ -n ${SYSTEMD_TEST_GUEST:-} ]]; then
    GUEST=$(cd "$(dirname "$SYSTEMD_TEST_GUEST")" && pwd -P)/$(basename "$SYSTEMD_TEST_GUEST") ||
        { echo "$0: $SYSTEMD_TEST_GUEST: not found" >&2; exit 2; }
fi
TIMEOUT=${SYSTEMD_TEST_TIMEOUT:-600}
MEM=${SYSTEMD_TEST_MEM:-2048}
DEBUG=${SYSTEMD_TEST_DEBUG:-0}
[[ $TIMEOUT =~ ^[1-9][0-9]*$ ]] || TIMEOUT=600
[[ $MEM =~ ^[1-9][0-9]*$ ]] || MEM=2048

skip() {
    {
        echo "======================================================================"
        printf 'SKIPPED: %s: %s\n' "${SYSTEMD_TEST_NAME:-vm.systemd}" "$1"
        shift
        (($#)) && printf '%s\n' "$@" | sed 's/^/  /'
        echo "======================================================================"
    } >&2
    exit "$EX_SKIP"
}
msg() { printf 'systemd-test: %s\n' "$*" >&2; }

# POSIX single quotes (the guest init is busybox sh).
shq() { local s=$1; printf "'%s'" "${s//\'/\'\\\'\'}"; }
qesc() { printf '%s' "${1//,/,,}"; }

# ---------------------------------------------------------------------------
# Prerequisites: the sandbox's kernel + initramfs, systemd and D-Bus on the
# host root (which is the guest's root).
# ---------------------------------------------------------------------------
[[ -x $SANDBOX ]] || skip "$SANDBOX is missing"
if ! check_out=$("$SANDBOX" --check 2>&1); then
    skip "the test VM cannot run here ($SANDBOX --check):" "$check_out"
fi
[[ -x /lib/systemd/systemd ]] || skip "/lib/systemd/systemd is missing (systemd not installed)"
if [[ ! -x /usr/bin/dbus-daemon || ! -e /lib/systemd/system/dbus.service ]]; then
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
        msg "installing dbus (the system bus cgsentry run talks to systemd over)"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends dbus >&2 ||
            skip "dbus is not installed and apt-get install dbus failed"
    fi
    [[ -x /usr/bin/dbus-daemon && -e /lib/systemd/system/dbus.service ]] ||
        skip "dbus (dbus-daemon, dbus.service) is not installed: apt-get install dbus"
fi
command -v python3 >/dev/null || skip "python3 is needed in the guest"

setup_out=$("$SANDBOX" --setup 2>&1) || skip "$SANDBOX --setup failed:" "$setup_out"
re='sandbox ready: kernel ([^ ]+) \((.*)\), initramfs (.*)$'
line=$(printf '%s\n' "$setup_out" | grep '^sandbox ready: ' | tail -n 1)
[[ $line =~ $re ]] || skip "cannot parse the output of $SANDBOX --setup:" "$setup_out"
KVER=${BASH_REMATCH[1]}
KERNEL=${BASH_REMATCH[2]}
BASE_INITRD=${BASH_REMATCH[3]}
[[ -r $KERNEL && -r $BASE_INITRD ]] || skip "kernel $KERNEL or initramfs $BASE_INITRD not readable"
QEMU=$(command -v qemu-system-x86_64) || skip "qemu-system-x86_64 missing"
ACCEL=(-accel tcg -cpu max)
accel_re='accel: +kvm \(-cpu ([^)]+)\)'
if [[ $check_out =~ $accel_re ]]; then
    ACCEL=(-accel kvm -cpu "${BASH_REMATCH[1]}")
fi

# ---------------------------------------------------------------------------
# Work and results directories
# ---------------------------------------------------------------------------
RES=${SYSTEMD_TEST_RESULTS:-$BUILD/vm-results/systemd}
rm -rf "$RES"
mkdir -p "$RES" || { echo "$0: cannot create $RES" >&2; exit 2; }
RES=$(cd "$RES" && pwd -P)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cgsentry-systemd.XXXXXX") || exit 2
QEMU_PID=""
cleanup() {
    [[ -n $QEMU_PID ]] && kill "$QEMU_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'msg interrupted; exit 130' INT
trap 'msg terminated; exit 143' TERM

# Read-write 9p shares at their host paths: results, sources, build tree
# (a checkout under /tmp is hidden by the guest's tmpfs otherwise). Nested
# paths are shared once, parents are mounted first.
cand=("$RES" "$SRC" "$BUILD")
shares=()
for p in "${cand[@]}"; do
    [[ $p == / || $p == *$'\n'* ]] && { echo "$0: cannot share $p" >&2; exit 2; }
    covered=0
    for q in "${cand[@]}"; do
        [[ $q != "$p" && $p == "$q"/* ]] && covered=1
    done
    for q in "${shares[@]}"; do [[ $q == "$p" ]] && covered=1; done
    ((covered)) || shares+=("$p")
done
mapfile -t shares < <(for p in "${shares[@]}"; do printf '%d\t%s\n' "${#p}" "$p"; done |
    sort -n -k1,1 | cut -f2-)

# ---------------------------------------------------------------------------
# The appended archive: /cgsentry-systemd/{init,config,shares,units/}
# ---------------------------------------------------------------------------
STAGE=$WORK/stage/cgsentry-systemd
mkdir -p "$STAGE/units"
{
    echo "RES=$(shq "$RES")"
    echo "MSIZE=$MSIZE"
    echo "KVER=$(shq "$KVER")"
} >"$STAGE/config"
: >"$STAGE/shares"
qshares=()
i=0
for p in "${shares[@]}"; do
    qshares+=(-fsdev "local,id=sdw$i,path=$(qesc "$p"),security_model=none,multidevs=remap"
              -device "virtio-9p-pci,fsdev=sdw$i,mount_tag=sdw$i")
    printf 'sdw%d %s\n' "$i" "$p" >>"$STAGE/shares"
    i=$((i + 1))
done

cat >"$STAGE/init" <<'INIT'
#!/bin/busybox sh
# Guest init for tests/systemd: overlay root, test units, switch_root into
# systemd. Runs from the initramfs that tests/vm/sandbox.sh builds.
/bin/busybox mkdir -p /proc /sys /dev /bin /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/null >/dev/console 2>&1
D=/cgsentry-systemd
. $D/config
log() { echo "systemd-test-init: $*"; }
die() { log "FATAL: $*"; [ -d "$RES" ] && echo "$*" >"$R$RES/init.error"; sync; poweroff -f; sleep 5; }
grep -qw quiet /proc/cmdline && echo 1 >/proc/sys/kernel/printk

for m in $(cat /modules/load); do insmod "/modules/$m" || log "insmod $m failed"; done
O="trans=virtio,version=9p2000.L,msize=$MSIZE"
L=/lower R=/newroot
mkdir -p $L /rw $R
mount -t 9p -o "$O,ro,cache=loose" hostroot $L || die "cannot mount the host root"
# overlayfs is a module on Debian kernels; it is not in the initramfs.
if ! grep -qw overlay /proc/filesystems; then
    for f in $L/lib/modules/$KVER/kernel/fs/overlayfs/overlay.ko*; do
        case $f in
            *.xz) xz -dc "$f" >/overlay.ko && insmod /overlay.ko ;;
            *.zst) zstd -dc "$f" >/overlay.ko && insmod /overlay.ko ;;
            *) insmod "$f" ;;
        esac
    done
fi
mount -t tmpfs -o mode=0755 tmpfs /rw || die "tmpfs for the overlay"
mkdir -p /rw/upper /rw/work
mount -t overlay -o lowerdir=$L,upperdir=/rw/upper,workdir=/rw/work overlay $R ||
    die "cannot mount the overlay root (overlayfs over 9p)"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs $R/tmp || die "tmpfs /tmp"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs $R/var/tmp || die "tmpfs /var/tmp"
while read -r tag path; do
    [ -n "$tag" ] || continue
    mkdir -p "$R$path" && mount -t 9p -o "$O,cache=mmap" "$tag" "$R$path" ||
        die "cannot mount share $path"
done <$D/shares

# The host may itself be a container: its markers would make systemd think
# it runs in one (and then ignore the kernel command line, systemd.unit=).
rm -f $R/.dockerenv $R/run/.containerenv $R/run/systemd/container

# The test units, and nothing of the host's boot but what they pull in.
E=$R/etc/systemd/system
cp $D/units/*.service $D/units/*.target $E/ || die "cannot install the units"
for u in dbus.service dbus.socket; do
    mkdir -p "$E/$u.d" && cp $D/units/no-default-deps.conf "$E/$u.d/" || die "drop-in $u"
done
hostname cgsentry-systemd
cut -d' ' -f1 /proc/uptime >"$R$RES/init.uptime"
for d in dev proc sys; do mount --move /$d $R/$d || die "cannot move /$d"; done
exec switch_root $R /lib/systemd/systemd --unit=cgsentry-test.target
INIT
chmod 0755 "$STAGE/init"

# Pulled in by systemd.unit=cgsentry-test.target, and nothing else: no
# sysinit.target, no basic.target (DefaultDependencies=no throughout).
cat >"$STAGE/units/cgsentry-test.target" <<EOF
[Unit]
Description=cgsentry systemd test
Wants=cgsentry-test.service
AllowIsolate=yes
EOF
cat >"$STAGE/units/cgsentry-test.service" <<EOF
[Unit]
Description=cgsentry systemd checks (tests/systemd/guest.sh)
DefaultDependencies=no
Wants=systemd-journald.service dbus.socket dbus.service
After=systemd-journald.service dbus.socket dbus.service
SuccessAction=poweroff-immediate
FailureAction=poweroff-immediate

[Service]
Type=exec
ExecStart=/bin/bash "$GUEST" "$BUILD" "$RES"
WorkingDirectory=$SRC
StandardOutput=journal
StandardError=journal
TimeoutStartSec=infinity
EOF
cat >"$STAGE/units/no-default-deps.conf" <<EOF
# tests/systemd: start without sysinit.target/basic.target.
[Unit]
DefaultDependencies=no
EOF
# The shipped unit, pointing at the build tree, with a short watchdog.
sed -e "s|^ExecStart=.*|ExecStart=\"$BUILD/daemon/cgsentryd\" -c /run/cgsentry-test/cgsentry.conf|" \
    -e 's|^WatchdogSec=.*|WatchdogSec=5s|' \
    "$SRC/packaging/systemd/cgsentryd.service.in" >"$STAGE/units/cgsentryd.service"
# How it ended (the unit is unloaded once inactive, taking that with it);
# "+": outside the unit's sandbox, which makes /run read-only.
sed -i '/^\[Service\]/a ExecStopPost=+/bin/sh -c '"'"'echo "$$SERVICE_RESULT/$$EXIT_CODE/$$EXIT_STATUS" >>/run/cgsentry-test/cgsentryd.exit'"'"'' \
    "$STAGE/units/cgsentryd.service"
grep -q '^WatchdogSec=5s$' "$STAGE/units/cgsentryd.service" ||
    { echo "$0: packaging/systemd/cgsentryd.service.in has no WatchdogSec= line" >&2; exit 2; }

INITRD=$WORK/initrd.cpio
cp "$BASE_INITRD" "$INITRD" || exit 2
if command -v cpio >/dev/null; then
    (cd "$WORK/stage" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet) >>"$INITRD"
else
    (cd "$WORK/stage" && find . | LC_ALL=C sort | busybox cpio -o -H newc 2>/dev/null) >>"$INITRD"
fi || { echo "$0: cannot build the initramfs" >&2; exit 2; }

# ---------------------------------------------------------------------------
# Boot
# ---------------------------------------------------------------------------
append="console=ttyS0 panic=-1 rdinit=/cgsentry-systemd/init psi=1"
append+=" systemd.unit=cgsentry-test.target"
if [[ $DEBUG == 1 ]]; then
    append+=" loglevel=6 systemd.show_status=1"
else
    append+=" quiet loglevel=0 systemd.show_status=0"
fi
# shellcheck disable=SC2054  # commas are QEMU syntax
qargs=(
    -nodefaults -no-user-config -display none -monitor none -no-reboot
    -m "$MEM" -smp 2 -net none
    -chardev stdio,id=con0,signal=off -serial chardev:con0
    -kernel "$KERNEL" -initrd "$INITRD"
    -fsdev local,id=fsroot,path=/,security_model=none,readonly=on,multidevs=remap
    -device virtio-9p-pci,fsdev=fsroot,mount_tag=hostroot
    "${qshares[@]}"
    -append "$append"
)

boot() {
    local start=$SECONDS
    rm -f "$RES/init.uptime" "$RES/init.error"
    msg "booting systemd in the VM (${ACCEL[*]}, kernel $KVER); results in $RES"
    if [[ $DEBUG == 1 ]]; then
        timeout -k 10 "$TIMEOUT" "$QEMU" "${qargs[@]}" "$@" </dev/null 2>"$WORK/qemu.err" |
            tr -d '\r' | tee "$RES/console.log"
    else
        timeout -k 10 "$TIMEOUT" "$QEMU" "${qargs[@]}" "$@" </dev/null 2>"$WORK/qemu.err" |
            tr -d '\r' >"$RES/console.log"
    fi
    QRC=${PIPESTATUS[0]}
    ELAPSED=$((SECONDS - start))
}
QRC=0 ELAPSED=0
boot "${ACCEL[@]}"
if [[ ${ACCEL[1]} == kvm && ! -e $RES/init.uptime ]]; then
    msg "no guest boot under KVM; retrying with TCG"
    ACCEL=(-accel tcg -cpu max)
    boot "${ACCEL[@]}"
fi

tail_console() {
    echo "--- last lines of $RES/console.log (SYSTEMD_TEST_DEBUG=1 shows the boot) ---" >&2
    tail -n 40 "$RES/console.log" | sed 's/^/  | /' >&2
    [[ -s $WORK/qemu.err ]] && sed 's/^/  qemu: /' "$WORK/qemu.err" >&2
}

if [[ ! -e $RES/guest.started ]]; then
    why="the test service never started (QEMU exit $QRC after ${ELAPSED}s)"
    [[ -s $RES/init.error ]] && why="guest init failed: $(cat "$RES/init.error")"
    ((QRC == 124 || QRC == 137)) && why+="; timed out after ${TIMEOUT}s"
    tail_console
    skip "systemd did not boot into cgsentry-test.target here: $why"
fi

grep -E '^((not )?ok - |# )' "$RES/guest.tap" 2>/dev/null
pass=$(grep -c '^ok - ' "$RES/guest.tap" 2>/dev/null)
fail=$(grep -c '^not ok - ' "$RES/guest.tap" 2>/dev/null)
status=$(cat "$RES/guest.status" 2>/dev/null)
if [[ ! $status =~ ^[0-9]+$ ]]; then
    echo "not ok - guest.sh finished (no status after ${ELAPSED}s, QEMU exit $QRC)"
    fail=$((fail + 1))
    tail_console
elif ((status != 0 && fail == 0)); then
    echo "not ok - guest.sh exit status $status"
    fail=$((fail + 1))
fi
echo "systemd: $pass passed, $fail failed (${ELAPSED}s; logs in $RES)"
((fail == 0)) && exit 0
exit 1
