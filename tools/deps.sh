# shellcheck shell=bash
# Install the Debian packages a step needs, only when some are missing.
# Sourced by tools/test.sh and tools/demo.sh; the lists are the project's
# whole set of build, test and sandbox dependencies.

CGSENTRY_BUILD_DEPS=(cmake gcc make pkg-config libjson-c-dev libcmocka-dev libuv1-dev
                     libcgroup-dev libsystemd-dev libinih-dev python3)
# The tests of the man pages (man --warnings) and of the bash completion.
CGSENTRY_TEST_DEPS=(man-db bash-completion)
# tools/deb.sh; the packages' own build dependencies come from
# packaging/debian/control.
CGSENTRY_DEB_DEPS=(dpkg-dev debhelper lintian)
CGSENTRY_SANDBOX_DEPS=(qemu-system-x86 linux-image-amd64 busybox-static)
# Container runtimes the sandbox runs (the guest sees the host's root), and
# the YAML parser the Kubernetes manifests are checked with.
CGSENTRY_CONTAINER_DEPS=(crun podman python3-yaml)
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

# promtool, the linter Prometheus ships (Debian's prometheus package), for the
# metrics test (CGSENTRY_PROMTOOL). Extracted from the package into DIR rather
# than installed, so that no Prometheus server is set up on the machine that
# runs the tests. Prints its path; prints nothing when it cannot be had
# (offline), and the test then checks the format's rules alone.
cgsentry_fetch_promtool() { # DIR
        local dir=$1 deb
        if command -v promtool >/dev/null; then
                command -v promtool
                return 0
        fi
        if [ ! -x "$dir/usr/bin/promtool" ]; then
                mkdir -p "$dir"
                (cd "$dir" && { apt-get download -qq prometheus ||
                        { apt-get update -qq && apt-get download -qq prometheus; }; }) \
                        >/dev/null 2>&1 || return 0
                deb=$(find "$dir" -maxdepth 1 -name 'prometheus_*.deb' | head -n 1)
                [ -n "$deb" ] && dpkg-deb -x "$deb" "$dir" && rm -f "$deb"
        fi
        [ -x "$dir/usr/bin/promtool" ] && echo "$dir/usr/bin/promtool"
        return 0
}
