#!/usr/bin/env bash
# Real-kernel test sandbox for cgsentry.
#
# Boots Debian's stock kernel under QEMU with a tiny busybox initramfs, shares
# the host root file system read-only over 9p, mounts a pure cgroup v2
# hierarchy with the memory controller, runs one command as root inside the
# guest and exits with that command's exit status.
#
# The host's own memory cgroup is v1, so this is the only way to exercise a
# real memcg (memory.max, memory.oom.group, cgroup.kill, PSI, OOM kills).
#
# Usage: sandbox.sh [--mem MB] [--smp N] [--timeout SEC] [--results DIR]
#                   [--share DIR]... [--quiet] -- COMMAND [ARGS...]
#        sandbox.sh --check     report whether the sandbox can run (0/1)
#        sandbox.sh --setup     install missing packages, build the initramfs
#
# Exit status: that of COMMAND; 124 = timeout; 125 = the sandbox itself failed.
# See README.md next to this script.
set -euo pipefail

readonly EX_TIMEOUT=124
readonly EX_SANDBOX=125
readonly GUEST_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# Modules the guest needs to reach the host over virtio-9p. Their
# dependencies (netfs, fscache, virtio_ring, ...) are resolved from
# modules.dep, so the list survives kernel updates that move things around.
readonly WANT_MODULES="virtio_pci 9pnet_virtio 9p"
readonly MSIZE=262144

SELF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SELF="$SELF_DIR/$(basename "${BASH_SOURCE[0]}")"
DEBUG=${SANDBOX_DEBUG:-0}
[[ $DEBUG == 1 ]] || DEBUG=0
CACHE_DIR="${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/cgsentry-vm"
# A KVM guest reaches the command in a few seconds; one that has not after
# this long is taken as a KVM that cannot run the guest (TCG retry).
KVM_BOOT_TIMEOUT=${SANDBOX_KVM_BOOT_TIMEOUT:-30}
[[ $KVM_BOOT_TIMEOUT =~ ^[0-9]+$ ]] || KVM_BOOT_TIMEOUT=30
# 9p cache mode of the read-only host root in the guest ("none" = uncached:
# use it if the host changes files outside the cwd/--share dirs mid-run).
ROOT_CACHE=${SANDBOX_ROOT_CACHE:-loose}
[[ $ROOT_CACHE =~ ^(none|loose|fscache|mmap)$ ]] || ROOT_CACHE=loose
[[ $ROOT_CACHE == none ]] && ROOT_CACHE=""

msg() { printf 'sandbox: %s\n' "$*" >&2; }
dbg() { if [[ $DEBUG == 1 ]]; then msg "$@"; fi; }
die() { msg "error: $*"; exit "$EX_SANDBOX"; }
loud() {
    {
        echo "======================================================================"
        printf 'sandbox: %s\n' "$@"
        echo "======================================================================"
    } >&2
}

usage() {
    cat >&2 <<'EOF'
usage: sandbox.sh [--mem MB] [--smp N] [--timeout SEC] [--results DIR]
                  [--share DIR]... [--append KERNEL_ARGS] [--quiet] -- COMMAND [ARGS...]
       sandbox.sh --check | --setup
EOF
    exit "$EX_SANDBOX"
}

# POSIX single-quote quoting (the guest side is busybox sh / dash, so bash's
# printf %q, which may emit $'...', is not safe there).
shq() {
    local s=$1
    printf "'%s'" "${s//\'/\'\\\'\'}"
}

# QEMU option values escape ',' by doubling it.
qesc() { printf '%s' "${1//,/,,}"; }

# (No leading zeros: bash arithmetic would read them as octal.)
is_uint() { [[ $1 =~ ^(0|[1-9][0-9]{0,8})$ ]]; }

# --------------------------------------------------------------------------
# Host prerequisites
# --------------------------------------------------------------------------

QEMU=""
KVER=""
BUSYBOX=""

find_qemu() { QEMU=$(command -v qemu-system-x86_64 || true); [[ -n $QEMU ]]; }

# Newest installed kernel that has both an image and a module tree. The
# running kernel is deliberately not preferred: it may be a custom build
# without modules (as on CI machines that are themselves VMs).
find_kernel() {
    KVER=""
    if [[ -n ${SANDBOX_KVER:-} ]]; then
        [[ -r /boot/vmlinuz-$SANDBOX_KVER && -r /lib/modules/$SANDBOX_KVER/modules.dep ]] || return 1
        KVER=$SANDBOX_KVER
        return 0
    fi
    local f v best=""
    for f in /boot/vmlinuz-*; do
        [[ -e $f ]] || continue
        v=${f#/boot/vmlinuz-}
        [[ -r $f && -r /lib/modules/$v/modules.dep ]] || continue
        best+="$v"$'\n'
    done
    KVER=$(printf '%s' "$best" | sort -V | tail -n 1)
    [[ -n $KVER ]]
}

# The initramfs has no libc, so busybox must be the static build.
find_busybox() {
    BUSYBOX=""
    local b
    for b in /bin/busybox /usr/bin/busybox /sbin/busybox /usr/sbin/busybox; do
        [[ -x $b ]] || continue
        # ldd exits non-zero for static binaries, hence no pipe (pipefail).
        if [[ $(LC_ALL=C ldd "$b" 2>&1 || true) == *"not a dynamic executable"* ]]; then
            BUSYBOX=$b
            return 0
        fi
    done
    return 1
}

# KVM is used only if the device exists and QEMU can actually start a vCPU
# with it (a present but unusable /dev/kvm is common in nested setups). Some
# nested hosts reject the IA32_ARCH_CAPABILITIES MSR that "-cpu host" sets
# ("failed to set MSR 0x10a"), so that feature is dropped when needed.
#
# KVM_NOTE says why KVM is not used. Two cases are known to leave a stock
# kernel hanging during early boot even though QEMU starts fine:
#  - PVM ("kvm_pvm" module, software nested virtualisation in some cloud
#    sandboxes) only runs specially built PVM guest kernels;
#  - any other KVM that failed a previous boot (see run()); marked in the
#    cache per host kernel release.
# SANDBOX_FORCE_KVM=1 skips both checks.
KVM_CPU=""
KVM_NOTE=""
kvm_usable() {
    KVM_CPU=""
    KVM_NOTE=""
    if [[ ${SANDBOX_NO_KVM:-0} == 1 ]]; then KVM_NOTE="SANDBOX_NO_KVM=1"; return 1; fi
    if [[ ! -c /dev/kvm || ! -r /dev/kvm || ! -w /dev/kvm ]]; then
        KVM_NOTE="no usable /dev/kvm"; return 1
    fi
    [[ -n $QEMU ]] || return 1
    if [[ ${SANDBOX_FORCE_KVM:-0} != 1 ]]; then
        if [[ -d /sys/module/kvm_pvm ]]; then
            KVM_NOTE="host KVM is PVM (kvm_pvm), which cannot boot a stock kernel"; return 1
        fi
        if [[ -e $CACHE_DIR/kvm-broken-$(uname -r) ]]; then
            KVM_NOTE="KVM failed to boot the guest before ($CACHE_DIR/kvm-broken-$(uname -r))"; return 1
        fi
    fi
    local cpu
    for cpu in host host,-arch-capabilities; do
        # -S stops before the guest runs, but after the vCPU registers
        # (including MSRs) have been loaded, which is where it fails.
        # (Subshell: silences bash's "Aborted" notice when QEMU asserts.)
        if (echo quit | timeout 20 "$QEMU" -accel kvm -cpu "$cpu" -S -m 64 \
            -nodefaults -no-user-config -display none -monitor stdio \
            -serial none >/dev/null 2>&1) 2>/dev/null; then
            KVM_CPU=$cpu
            return 0
        fi
    done
    KVM_NOTE="QEMU cannot start a KVM vCPU"
    return 1
}

install_missing() {
    local pkgs=()
    find_qemu || pkgs+=(qemu-system-x86)
    find_kernel || pkgs+=(linux-image-amd64)
    find_busybox || pkgs+=(busybox-static)
    command -v cpio >/dev/null || [[ -n $BUSYBOX ]] || pkgs+=(cpio)
    ((${#pkgs[@]} == 0)) && return 0

    if [[ $(id -u) != 0 ]]; then
        loud "CANNOT RUN: missing Debian packages: ${pkgs[*]}" \
             "and not running as root, so they cannot be installed." \
             "Run as root, or: apt-get install ${pkgs[*]}"
        exit "$EX_SANDBOX"
    fi
    if ! command -v apt-get >/dev/null; then
        loud "CANNOT RUN: missing packages ${pkgs[*]} and apt-get is not available."
        exit "$EX_SANDBOX"
    fi
    msg "installing missing packages: ${pkgs[*]}"
    if ! apt-get update -qq >&2 ||
       ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            --no-install-recommends "${pkgs[@]}" >&2; then
        loud "CANNOT RUN: installing ${pkgs[*]} failed (see apt-get output above)."
        exit "$EX_SANDBOX"
    fi
    find_qemu || { loud "CANNOT RUN: qemu-system-x86_64 still missing after install"; exit "$EX_SANDBOX"; }
    find_kernel || { loud "CANNOT RUN: no kernel with modules in /boot + /lib/modules after install"; exit "$EX_SANDBOX"; }
    find_busybox || { loud "CANNOT RUN: static busybox still missing after install"; exit "$EX_SANDBOX"; }
}

do_check() {
    local ok=0
    if find_qemu; then echo "qemu:    $QEMU ($("$QEMU" --version | head -n 1))"
    else echo "qemu:    MISSING (package qemu-system-x86)"; ok=1; fi
    if find_kernel; then echo "kernel:  /boot/vmlinuz-$KVER (modules in /lib/modules/$KVER)"
    else echo "kernel:  MISSING (package linux-image-amd64; needs /boot/vmlinuz-V and /lib/modules/V, readable)"; ok=1; fi
    if find_busybox; then echo "busybox: $BUSYBOX (static)"
    else echo "busybox: MISSING (package busybox-static)"; ok=1; fi
    if [[ -n $QEMU ]]; then
        if kvm_usable; then echo "accel:   kvm (-cpu $KVM_CPU)"
        else echo "accel:   tcg, slower ($KVM_NOTE)"; fi
    else
        echo "accel:   unknown (no qemu)"
    fi
    [[ $(id -u) == 0 ]] || echo "note:    not root; the sandbox is meant to run as root"
    if ((ok == 0)); then echo "sandbox: can run"
    else echo "sandbox: cannot run (run '$0 --setup' as root to install what is missing)"; fi
    return "$ok"
}

# --------------------------------------------------------------------------
# Initramfs
# --------------------------------------------------------------------------

# Path of a module file (relative to /lib/modules/$KVER) from modules.dep,
# or nothing if the module is built in or absent.
mod_path() {
    local name=${1//-/_}
    awk -F: -v n="$name" '{
        b = $1; sub(/.*\//, "", b); sub(/\.ko(\.(xz|zst|gz))?$/, "", b); gsub(/-/, "_", b)
        if (b == n) { print $1; exit }
    }' "/lib/modules/$KVER/modules.dep"
}

mod_deps() {
    awk -F: -v p="$1" '$1 == p { print $2; exit }' "/lib/modules/$KVER/modules.dep"
}

# Depth-first walk of modules.dep: every module is emitted after its
# dependencies, i.e. in a valid insmod order.
declare -A MOD_SEEN=()
MOD_ORDER=()
mod_resolve() {
    local path=$1 d
    [[ -n ${MOD_SEEN[$path]:-} ]] && return 0
    MOD_SEEN[$path]=1
    for d in $(mod_deps "$path"); do
        mod_resolve "$d"
    done
    MOD_ORDER+=("$path")
}

# The guest's /init. Runs as PID 1 under busybox sh and stays PID 1 (so it
# is never OOM-killed and reaps orphans); the command runs chrooted into the
# host root. Talks to the host only through the "ctl" 9p share:
#   ctl/config  shell assignments (SB_TOKEN, SB_RESULTS, SB_DEBUG,
#               SB_ROOT_CACHE)
#   ctl/mounts  "TAG PATH" per writable share, in mount order
#   ctl/cmd.sh  the command (POSIX sh)
#   ctl/status  written by the guest: the command's exit status
#   ctl/error   written by the guest when setup fails
write_init() {
    cat >"$1" <<'INIT'
#!/bin/busybox sh
# cgsentry sandbox guest init (generated by tests/vm/sandbox.sh).
/bin/busybox mkdir -p /proc /sys /dev /bin /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/null >/dev/console 2>&1

CTL=/ctl
R=/newroot
log() { echo "sandbox-init: $*"; }
halt() { sync; poweroff -f; sleep 5; }
die() {
    log "FATAL: $*"
    [ -d "$CTL" ] && echo "$*" >"$CTL/error" 2>/dev/null
    halt
}

for m in $(cat /modules/load); do
    insmod "/modules/$m" || log "insmod $m failed"
done

O="trans=virtio,version=9p2000.L,msize=@MSIZE@"
mkdir -p "$CTL" "$R"
mount -t 9p -o "$O" ctl "$CTL" || die "cannot mount the ctl share (9p modules missing?)"
. "$CTL/config" || die "cannot read ctl/config"
[ "$SB_DEBUG" = 1 ] || echo 1 >/proc/sys/kernel/printk
log "kernel $(uname -r), $(nproc) cpus, uptime $(cut -d' ' -f1 /proc/uptime)s"

# The read-only root is cached (cache=loose by default): program start-up
# is several times faster. Writable shares stay uncached (see below).
mount -t 9p -o "$O,ro${SB_ROOT_CACHE:+,cache=$SB_ROOT_CACHE}" hostroot "$R" ||
    die "cannot mount the host root"
for d in proc sys dev; do
    mount --move "/$d" "$R/$d" || die "cannot move /$d into the new root"
done

mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$R/tmp" || die "tmpfs /tmp"
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs "$R/run" || die "tmpfs /run"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$R/var/tmp" || die "tmpfs /var/tmp"
mkdir -p "$R/dev/shm" "$R/dev/pts"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$R/dev/shm" || die "tmpfs /dev/shm"
mount -t devpts -o mode=0620,ptmxmode=0666 devpts "$R/dev/pts" || log "devpts failed"

# Pure cgroup v2, with the options systemd uses on Debian 12 hosts.
CG="$R/sys/fs/cgroup"
mount -t cgroup2 -o nsdelegate,memory_recursiveprot cgroup2 "$CG" ||
    mount -t cgroup2 cgroup2 "$CG" || die "cannot mount cgroup2"
for c in memory pids cpu io; do
    echo "+$c" >"$CG/cgroup.subtree_control" || log "cannot enable controller $c"
done

# Writable shares, after the tmpfs mounts so paths under /tmp stay visible.
# cache=mmap: reads and writes go straight to the host (coherent with it),
# and shared writable mmap works.
while read -r tag path; do
    [ -n "$tag" ] || continue
    mkdir -p "$R$path" || die "cannot create mount point $path"
    mount -t 9p -o "$O,cache=mmap" "$tag" "$R$path" || die "cannot mount share $path"
done <"$CTL/mounts"

mkdir -p "$R/run/cgsentry-sandbox"
cp "$CTL/cmd.sh" "$R/run/cgsentry-sandbox/cmd.sh" || die "cannot copy the command"
hostname cgsentry-sandbox
ip link set lo up 2>/dev/null || log "cannot bring up lo"

cut -d' ' -f1 "$R/proc/uptime" >"$CTL/uptime"
log "running the command"
echo "$SB_TOKEN-BEGIN"
env -i PATH="@GUEST_PATH@" HOME=/root USER=root LOGNAME=root SHELL=/bin/sh \
    TERM=dumb LANG=C.UTF-8 CGSENTRY_SANDBOX=1 CGSENTRY_RESULTS="$SB_RESULTS" \
    chroot "$R" /bin/sh /run/cgsentry-sandbox/cmd.sh </dev/null
rc=$?
# Flush the command's writes before the status makes the run count.
sync
echo "$rc" >"$CTL/status.tmp" && mv "$CTL/status.tmp" "$CTL/status"
sync
echo "$SB_TOKEN-END rc=$rc"
halt
INIT
    sed -i -e "s|@MSIZE@|$MSIZE|g" -e "s|@GUEST_PATH@|$GUEST_PATH|g" "$1"
    chmod 0755 "$1"
}

INITRD=""
build_initramfs() {
    local key stage m src dst
    mkdir -p "$CACHE_DIR" || die "cannot create cache dir $CACHE_DIR"
    # Rebuild whenever this script (which embeds /init), the kernel or
    # busybox change.
    key=$({
        sha256sum "$SELF"
        echo "$KVER"
        stat -L -c '%s %Y' "/boot/vmlinuz-$KVER" "/lib/modules/$KVER/modules.dep" "$BUSYBOX"
    } | sha256sum | cut -c1-16)
    INITRD="$CACHE_DIR/initramfs-$KVER-$key.cpio"
    if [[ -s $INITRD ]]; then
        touch "$INITRD" 2>/dev/null || true
        return 0
    fi
    msg "building initramfs for $KVER -> $INITRD"

    stage=$(mktemp -d "${TMPDIR:-/tmp}/cgsentry-vm-initramfs.XXXXXX")
    mkdir -p "$stage/bin" "$stage/modules" "$stage/dev"
    cp "$BUSYBOX" "$stage/bin/busybox"
    write_init "$stage/init"
    # The kernel's built-in initramfs normally provides /dev/console; add it
    # anyway when possible so early output is never lost.
    mknod -m 0600 "$stage/dev/console" c 5 1 2>/dev/null || true

    MOD_SEEN=()
    MOD_ORDER=()
    for m in $WANT_MODULES; do
        src=$(mod_path "$m")
        if [[ -z $src ]]; then
            if grep -qE "/${m//_/[-_]}\.ko$" "/lib/modules/$KVER/modules.builtin" 2>/dev/null; then
                dbg "module $m is built in"
            else
                msg "warning: module $m not found for $KVER (guest may fail to mount 9p)"
            fi
            continue
        fi
        mod_resolve "$src"
    done
    : >"$stage/modules/load"
    for src in "${MOD_ORDER[@]}"; do
        dst=$(basename "$src")
        # busybox insmod cannot read compressed modules: decompress here.
        case $dst in
            *.ko.xz) xz -dc "/lib/modules/$KVER/$src" >"$stage/modules/${dst%.xz}"; dst=${dst%.xz} ;;
            *.ko.zst) zstd -qdc "/lib/modules/$KVER/$src" >"$stage/modules/${dst%.zst}"; dst=${dst%.zst} ;;
            *.ko.gz) gzip -dc "/lib/modules/$KVER/$src" >"$stage/modules/${dst%.gz}"; dst=${dst%.gz} ;;
            *) cp "/lib/modules/$KVER/$src" "$stage/modules/$dst" ;;
        esac
        echo "$dst" >>"$stage/modules/load"
    done
    dbg "modules: $(tr '\n' ' ' <"$stage/modules/load")"

    local tmp="$INITRD.tmp.$$"
    if command -v cpio >/dev/null; then
        (cd "$stage" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet) >"$tmp"
    else
        (cd "$stage" && find . | LC_ALL=C sort | "$BUSYBOX" cpio -o -H newc) >"$tmp" 2>/dev/null
    fi || { rm -rf "$stage" "$tmp"; die "cannot create the initramfs archive"; }
    rm -rf "$stage"
    mv -f "$tmp" "$INITRD"
    # Drop stale images (other kernels / script versions) not used for a week.
    find "$CACHE_DIR" -maxdepth 1 -name 'initramfs-*.cpio' -mtime +7 -delete 2>/dev/null || true
}

# Uncompressed kernel for QEMU's PVH entry point. Booting the compressed
# bzImage makes the guest decompress ~8 MB of xz first, which takes several
# seconds under TCG; the ELF vmlinux with a PVH note (CONFIG_PVH=y, true for
# Debian's kernels) starts in well under a second. Falls back to the bzImage.
KERNEL_IMAGE=""
extract_vmlinux() {
    local img="/boot/vmlinuz-$KVER" key out tmp magic off
    KERNEL_IMAGE=$img
    [[ ${SANDBOX_NO_PVH:-0} == 1 ]] && return 0
    grep -qx 'CONFIG_PVH=y' "/boot/config-$KVER" 2>/dev/null || return 0
    key=$(stat -L -c '%s %Y' "$img" | sha256sum | cut -c1-16)
    out="$CACHE_DIR/vmlinux-$KVER-$key"
    if [[ -s $out ]]; then
        touch "$out" 2>/dev/null || true
        KERNEL_IMAGE=$out
        return 0
    fi
    tmp="$out.tmp.$$"
    # Like the kernel's scripts/extract-vmlinux: try every compressed-stream
    # signature until one decompresses to an ELF file.
    for magic in $'\xfd7zXZ' $'\x28\xb5\x2f\xfd' $'\x1f\x8b\x08'; do
        for off in $(LC_ALL=C grep -abo "$magic" "$img" 2>/dev/null | cut -d: -f1 | head -n 5 || true); do
            # The decompressors complain about the trailing data: ignore
            # their status, the ELF check below decides.
            case $magic in
                $'\xfd7zXZ') tail -c +$((off + 1)) "$img" | xz -dc >"$tmp" 2>/dev/null || true ;;
                $'\x1f\x8b\x08') tail -c +$((off + 1)) "$img" | gzip -dc >"$tmp" 2>/dev/null || true ;;
                *) tail -c +$((off + 1)) "$img" | zstd -qdc >"$tmp" 2>/dev/null || true ;;
            esac
            if [[ $(head -c 4 "$tmp" 2>/dev/null) == $'\x7fELF' ]]; then
                mv -f "$tmp" "$out"
                KERNEL_IMAGE=$out
                find "$CACHE_DIR" -maxdepth 1 -name 'vmlinux-*' -mtime +7 -delete 2>/dev/null || true
                return 0
            fi
        done
    done
    rm -f "$tmp"
    dbg "could not extract vmlinux from $img; booting the bzImage"
}

prepare() {
    install_missing
    if ! find_qemu || ! find_kernel || ! find_busybox; then
        die "prerequisites missing (see --check)"
    fi
    [[ -r /boot/vmlinuz-$KVER ]] || die "/boot/vmlinuz-$KVER is not readable (run as root)"
    build_initramfs
    extract_vmlinux
}

# --------------------------------------------------------------------------
# Run
# --------------------------------------------------------------------------

MEM=2048
SMP=2
TIMEOUT=600
RESULTS=""
QUIET=0
SHARES=()
CMD=()
APPEND=""

parse_args() {
    while (($#)); do
        case $1 in
            --mem) (($# >= 2)) || usage; MEM=$2; shift 2 ;;
            --smp) (($# >= 2)) || usage; SMP=$2; shift 2 ;;
            --timeout) (($# >= 2)) || usage; TIMEOUT=$2; shift 2 ;;
            --results) (($# >= 2)) || usage; RESULTS=$2; shift 2 ;;
            --share) (($# >= 2)) || usage; SHARES+=("$2"); shift 2 ;;
            --append) (($# >= 2)) || usage; APPEND=$2; shift 2 ;;
            --mem=*) MEM=${1#*=}; shift ;;
            --smp=*) SMP=${1#*=}; shift ;;
            --timeout=*) TIMEOUT=${1#*=}; shift ;;
            --results=*) RESULTS=${1#*=}; shift ;;
            --share=*) SHARES+=("${1#*=}"); shift ;;
            --quiet) QUIET=1; shift ;;
            --) shift; break ;;
            -h|--help) usage ;;
            -*) msg "unknown option: $1"; usage ;;
            *) break ;;
        esac
    done
    (($#)) || { msg "no command given"; usage; }
    CMD=("$@")
    if ! is_uint "$MEM" || ((MEM < 128)); then die "--mem must be an integer >= 128 (MB)"; fi
    if ! is_uint "$SMP" || ((SMP < 1)); then die "--smp must be a positive integer"; fi
    if ! is_uint "$TIMEOUT" || ((TIMEOUT < 1)); then die "--timeout must be a positive integer (seconds)"; fi
}

CTL_DIR=""
TMP_RESULTS=""
CONSOLE=""
token=""
qargs=()
QEMU_PIDFILE=""
# shellcheck disable=SC2317  # invoked from traps
cleanup() {
    local pid
    if [[ -n $QEMU_PIDFILE && -s $QEMU_PIDFILE ]]; then
        pid=$(cat "$QEMU_PIDFILE" 2>/dev/null || true)
        if [[ -n $pid ]]; then kill "$pid" 2>/dev/null || true; fi
    fi
    [[ -n $CTL_DIR ]] && rm -rf "$CTL_DIR"
    [[ -n $TMP_RESULTS ]] && rm -rf "$TMP_RESULTS"
    return 0
}
# shellcheck disable=SC2317  # invoked from traps
on_signal() {
    msg "interrupted"
    cleanup
    trap - EXIT
    exit "$1"
}

# Physical absolute path of an existing directory.
abs_dir() { (cd "$1" 2>/dev/null && pwd -P); }

run() {
    parse_args "$@"
    prepare

    trap cleanup EXIT
    trap 'on_signal 130' INT
    trap 'on_signal 143' TERM
    CTL_DIR=$(mktemp -d "${TMPDIR:-/tmp}/cgsentry-vm-ctl.XXXXXX")
    QEMU_PIDFILE="$CTL_DIR/qemu.pid"

    if [[ -n $RESULTS ]]; then
        mkdir -p "$RESULTS" || die "cannot create results dir $RESULTS"
        RESULTS=$(abs_dir "$RESULTS") || die "bad results dir"
        CONSOLE="$RESULTS/console.log"
    else
        TMP_RESULTS=$(mktemp -d "${TMPDIR:-/tmp}/cgsentry-vm-results.XXXXXX")
        RESULTS=$(abs_dir "$TMP_RESULTS")
        CONSOLE="$CTL_DIR/console.log"
    fi
    : >"$CONSOLE"

    local cwd
    cwd=$(pwd -P)

    # Writable shares: results, every --share, and the cwd. A path already
    # covered by another share (equal or nested) is not exported twice; the
    # rest are mounted shortest path first so parents never hide children.
    local cand=("$RESULTS") s p q covered
    for s in "${SHARES[@]}"; do
        [[ -d $s ]] || die "--share $s: not a directory"
        cand+=("$(abs_dir "$s")")
    done
    [[ $cwd != / ]] && cand+=("$cwd")
    local shares=()
    for p in "${cand[@]}"; do
        [[ $p == / ]] && die "cannot share / read-write"
        [[ $p == *$'\n'* ]] && die "path with a newline cannot be shared: $p"
        covered=0
        for q in "${cand[@]}"; do
            [[ $q == "$p" ]] && continue
            if [[ $p == "$q"/* ]]; then covered=1; break; fi
        done
        ((covered)) && continue
        for q in "${shares[@]}"; do [[ $q == "$p" ]] && covered=1; done
        ((covered)) || shares+=("$p")
    done
    mapfile -t shares < <(for p in "${shares[@]}"; do printf '%d\t%s\n' "${#p}" "$p"; done |
        sort -n -k1,1 | cut -f2-)

    token="@@cgsentry-sandbox-$$-$RANDOM$RANDOM"
    {
        echo "SB_TOKEN=$(shq "$token")"
        echo "SB_RESULTS=$(shq "$RESULTS")"
        echo "SB_DEBUG=$DEBUG"
        echo "SB_ROOT_CACHE=$(shq "$ROOT_CACHE")"
    } >"$CTL_DIR/config"
    {
        echo "cd -- $(shq "$cwd") || exit $EX_SANDBOX"
        printf 'exec'
        for p in "${CMD[@]}"; do printf ' %s' "$(shq "$p")"; done
        printf '\n'
    } >"$CTL_DIR/cmd.sh"

    # shellcheck disable=SC2054  # commas are QEMU syntax
    qargs=(
        -nodefaults -no-user-config -display none -monitor none -no-reboot
        -m "$MEM" -smp "$SMP" -net none
        -pidfile "$QEMU_PIDFILE"
        -chardev stdio,id=con0,signal=off -serial chardev:con0
        -kernel "$KERNEL_IMAGE" -initrd "$INITRD"
        -fsdev local,id=fsroot,path=/,security_model=none,readonly=on,multidevs=remap
        -device virtio-9p-pci,fsdev=fsroot,mount_tag=hostroot
        -fsdev "local,id=fsctl,path=$(qesc "$CTL_DIR"),security_model=none,multidevs=remap"
        -device virtio-9p-pci,fsdev=fsctl,mount_tag=ctl
    )
    local append i=0
    : >"$CTL_DIR/mounts"
    for p in "${shares[@]}"; do
        qargs+=(-fsdev "local,id=fsw$i,path=$(qesc "$p"),security_model=none,multidevs=remap"
                -device "virtio-9p-pci,fsdev=fsw$i,mount_tag=w$i")
        printf 'w%d %s\n' "$i" "$p" >>"$CTL_DIR/mounts"
        i=$((i + 1))
    done
    # psi=1 is harmless where PSI is already on, and required where the
    # kernel was built with CONFIG_PSI_DEFAULT_DISABLED. --append comes last
    # so that it wins (psi=0 for the tests of a kernel without PSI).
    append="console=ttyS0 panic=-1 rdinit=/init psi=1"
    if [[ $DEBUG == 1 ]]; then
        append+=" loglevel=7"
    else
        append+=" quiet loglevel=0"
    fi
    [[ -n $APPEND ]] && append+=" $APPEND"
    qargs+=(-append "$append")

    dbg "kernel $KVER, ${MEM} MB, $SMP cpus, timeout ${TIMEOUT}s"
    dbg "shares: ${shares[*]}"
    dbg "kernel image $KERNEL_IMAGE, initrd $INITRD"

    local start=$SECONDS
    if kvm_usable; then
        dbg "accel kvm (-cpu $KVM_CPU)"
        boot "$TIMEOUT" "$KVM_BOOT_TIMEOUT" -accel kvm -cpu "$KVM_CPU"
        if [[ -e $CTL_DIR/boot-timeout ]]; then
            # KVM that cannot run a stock kernel: remember it for this host
            # kernel so later runs go straight to TCG, and retry now.
            msg "warning: no guest boot within ${KVM_BOOT_TIMEOUT}s under KVM; retrying with TCG" \
                "(remembered in $CACHE_DIR/kvm-broken-$(uname -r))"
            touch "$CACHE_DIR/kvm-broken-$(uname -r)" 2>/dev/null || true
            local left=$((TIMEOUT - (SECONDS - start)))
            ((left > 0)) || left=1
            boot "$left" 0 -accel tcg -cpu max
        fi
    else
        dbg "accel tcg"
        boot "$TIMEOUT" 0 -accel tcg -cpu max
    fi
    local elapsed=$((SECONDS - start))

    local qrc status
    qrc=$(cat "$CTL_DIR/qemu.rc" 2>/dev/null || echo 255)
    status=$(cat "$CTL_DIR/status" 2>/dev/null || true)
    dbg "qemu exit $qrc after ${elapsed}s; command started at guest uptime $(cat "$CTL_DIR/uptime" 2>/dev/null || echo '?')s"
    if [[ $DEBUG == 1 || ( -s $CTL_DIR/qemu.err && ! $status =~ ^[0-9]+$ ) ]]; then
        [[ -s $CTL_DIR/qemu.err ]] && sed 's/^/qemu: /' "$CTL_DIR/qemu.err" >&2
    fi
    if [[ $status =~ ^[0-9]+$ ]] && ((status <= 255)); then
        ((qrc == 124)) && msg "warning: the command finished (status $status) but the guest did not power off in time"
        exit "$status"
    fi
    if ((qrc == 124 || qrc == 137)); then
        msg "TIMEOUT: the guest did not finish within ${TIMEOUT}s; QEMU was killed"
        tail_console "$CONSOLE"
        exit "$EX_TIMEOUT"
    fi
    local panic
    panic=$(grep -m1 'Kernel panic' "$CONSOLE" 2>/dev/null || true)
    if [[ -s $CTL_DIR/error ]]; then
        msg "error: guest setup failed: $(cat "$CTL_DIR/error")"
    elif [[ -n $panic ]]; then
        msg "error: the guest kernel panicked: ${panic#*] }"
    else
        msg "error: the command did not report an exit status (QEMU exit $qrc after ${elapsed}s)"
    fi
    tail_console "$CONSOLE"
    exit "$EX_SANDBOX"
}

# boot TIMEOUT BOOT_TIMEOUT QEMU_ACCEL_ARGS...
# One QEMU run with the arguments prepared in run() (qargs, token, CONSOLE).
# With BOOT_TIMEOUT > 0, QEMU is killed (and ctl/boot-timeout created) if the
# guest has not started the command within that many seconds.
boot() {
    local timeout=$1 boot_timeout=$2
    shift 2
    rm -f "$CTL_DIR/status" "$CTL_DIR/error" "$CTL_DIR/uptime" "$CTL_DIR/qemu.rc" \
        "$CTL_DIR/qemu.pid" "$CTL_DIR/boot-timeout"

    # Serial console -> awk: saves the raw log and shows the command's output
    # (the lines between the guest's begin/end markers) unless --quiet.
    local mode=filter
    ((QUIET)) && mode=quiet
    [[ $DEBUG == 1 ]] && mode=all
    # mawk (Debian's default awk) block-buffers pipes unless told otherwise.
    local awk=(awk)
    if [[ $(awk -W version 2>&1 || true) == *mawk* ]]; then awk=(awk -W interactive); fi
    # timeout(1) runs QEMU in its own process group, so a terminal ^C does
    # not reach it directly: the INT/TERM traps kill it via the pidfile.
    # shellcheck disable=SC2016  # the awk program is single-quoted on purpose
    {
        set +e
        timeout -k 10 "$timeout" "$QEMU" "${qargs[@]}" "$@" </dev/null 2>"$CTL_DIR/qemu.err"
        { echo $? >"$CTL_DIR/qemu.rc"; } 2>/dev/null  # ctl may be gone after ^C
    } | "${awk[@]}" -v tok="$token" -v logf="$CONSOLE" -v mode="$mode" '
        {
            sub(/\r+$/, "")
            print > logf; fflush(logf)
            if (mode == "all") { print; fflush(); next }
            if (mode == "quiet") next
            if (!on) { if (index($0, tok "-BEGIN") == 1) on = 1; next }
            p = index($0, tok "-END")
            if (p) { if (p > 1) { print substr($0, 1, p - 1); fflush() } on = 0; next }
            print; fflush()
        }' &
    local pipe=$! watchdog=""
    if ((boot_timeout > 0)); then
        (
            for ((t = 0; t < boot_timeout; t++)); do
                sleep 1
                [[ -e $CTL_DIR/uptime || -e $CTL_DIR/qemu.rc ]] && exit 0
            done
            touch "$CTL_DIR/boot-timeout"
            kill "$(cat "$CTL_DIR/qemu.pid" 2>/dev/null)" 2>/dev/null
        ) &
        watchdog=$!
    fi
    wait "$pipe" || true
    if [[ -n $watchdog ]]; then
        kill "$watchdog" 2>/dev/null || true
        wait "$watchdog" 2>/dev/null || true
    fi
}

# Show the end of the console log after a failure, unless it was already
# streamed (debug mode, or the command had started and --quiet is off).
tail_console() {
    [[ $DEBUG == 1 ]] && return 0
    [[ -s $1 ]] || return 0
    if ((!QUIET)) && [[ -e $CTL_DIR/uptime ]]; then return 0; fi
    local where=""
    [[ -z $TMP_RESULTS ]] && where=" (all of it: $1)"
    msg "last lines of the guest console$where; SANDBOX_DEBUG=1 shows everything:"
    tail -n 40 "$1" | sed 's/^/  | /' >&2
}

main() {
    case ${1:-} in
        --check) do_check; exit $? ;;
        --setup)
            prepare
            echo "sandbox ready: kernel $KVER ($KERNEL_IMAGE), initramfs $INITRD"
            exit 0
            ;;
    esac
    run "$@"   # exits with the command's (or the sandbox's) status
}

main "$@"
