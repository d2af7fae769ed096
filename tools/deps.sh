# shellcheck shell=bash
# Install the Debian packages a step needs, only when some are missing.
# Sourced by tools/test.sh and tools/demo.sh; the lists are the project's
# whole set of build, test and sandbox dependencies.

CGSENTRY_BUILD_DEPS=(cmake gcc make pkg-config libjson-c-dev libcmocka-dev libuv1-dev
                     libcgroup-dev libsystemd-dev libinih-dev python3)
CGSENTRY_SANDBOX_DEPS=(qemu-system-x86 linux-image-amd64 busybox-static)
# bench/run.sh: the peers it compares with (all in Debian 12), the tools its
# scenarios use in the guest (ext4 on a loop device, zram swap) and the plotter.
CGSENTRY_BENCH_DEPS=(python3 earlyoom oomd systemd-oomd dbus e2fsprogs util-linux gnuplot-nox)
# libFuzzer comes with clang's runtime (tools/fuzz.sh).
CGSENTRY_FUZZ_DEPS=(clang libclang-rt-14-dev)

cgsentry_install_deps() {
        local missing=() p
        for p in "$@"; do
                dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
                        missing+=("$p")
        done
        [ ${#missing[@]} -eq 0 ] && return 0
        if [ "$(id -u)" -ne 0 ]; then
                echo "missing Debian packages: ${missing[*]} (run as root to install them)" >&2
                return 1
        fi
        echo "installing: ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}
