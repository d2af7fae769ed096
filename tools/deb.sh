#!/usr/bin/env bash
# Build the Debian packages cgsentry and cgsentry-dev from this checkout and
# check them with lintian. Installs the build dependencies (from
# packaging/debian/control) and lintian with apt-get when missing.
#
# Usage: tools/deb.sh [--nocheck] [--no-lintian] [OUT_DIR]
#   OUT_DIR      where the .deb, .changes, .buildinfo and lintian.txt go
#                (default build/deb)
#   --nocheck    skip the unit tests during the build (DEB_BUILD_OPTIONS)
#   --no-lintian skip lintian
#
# The build runs on a copy of the checkout's files (tracked and untracked,
# not ignored ones) in OUT_DIR/src, so the checkout gets no build products
# and uncommitted changes are built too. The same packaging builds in a
# clean clone with `dpkg-buildpackage -us -uc -b` (results in the parent
# directory).
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$(pwd)

check=1 lint=1 out=build/deb
while (($#)); do
    case $1 in
    --nocheck) check=0 ;;
    --no-lintian) lint=0 ;;
    -h | --help) sed -n '2,18s/^# \{0,1\}//p' "$0"; exit 0 ;;
    -*) echo "tools/deb.sh: unknown option $1" >&2; exit 2 ;;
    *) out=$1 ;;
    esac
    shift
done

# shellcheck source=tools/deps.sh
. tools/deps.sh
tools=()
for t in "${CGSENTRY_DEB_DEPS[@]}"; do
    [[ $t == lintian && $lint == 0 ]] || tools+=("$t")
done
cgsentry_install_deps "${tools[@]}"
profile=() apt_profile=()
((check)) || { profile=(-Pnocheck); apt_profile=(--build-profiles=nocheck); }
if ! dpkg-checkbuilddeps "${profile[@]}" debian/control >/dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ]; then
        dpkg-checkbuilddeps "${profile[@]}" debian/control || true
        echo "tools/deb.sh: build dependencies missing (run as root to install them)" >&2
        exit 1
    fi
    echo "installing the build dependencies of packaging/debian/control"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get build-dep -y -qq --no-install-recommends \
        "${apt_profile[@]}" ./
fi

version=$(dpkg-parsechangelog -l debian/changelog -S Version)
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$out/src
tree=$work/cgsentry-$version
rm -rf "$work"
mkdir -p "$tree"
# The files of the checkout (a tarball without .git: everything but build/).
if git -C "$SRC" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git -C "$SRC" ls-files -z --cached --others --exclude-standard |
        (cd "$SRC" && xargs -0 cp --parents -P -t "$tree" 2>/dev/null || true)
    # cp skips what was deleted but is still tracked; check the essentials.
    [[ -e $tree/debian/control && -e $tree/CMakeLists.txt ]] ||
        { echo "tools/deb.sh: copying the checkout failed" >&2; exit 1; }
else
    tar -C "$SRC" --exclude=./build -cf - . | tar -C "$tree" -xf -
fi

opts="parallel=$(nproc)"
((check)) || opts+=" nocheck"
echo "== dpkg-buildpackage -us -uc -b (DEB_BUILD_OPTIONS=$opts) in $tree"
(cd "$tree" && DEB_BUILD_OPTIONS=$opts dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1 || {
    tail -n 40 "$out/build.log" >&2
    echo "tools/deb.sh: the build failed; the whole log is $out/build.log" >&2
    exit 1
}
rm -f "$out"/*.deb "$out"/*.ddeb "$out"/*.changes "$out"/*.buildinfo
mv "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo "$out"/
mv "$work"/*.ddeb "$out"/ 2>/dev/null || true
rm -rf "$work"
changes=$(ls "$out"/cgsentry_"${version}"_*.changes)
ls -1 "$out"/*.deb

if ((lint)); then
    echo "== lintian"
    # Errors fail; other tags are printed. A tag is kept only with a reason,
    # in packaging/debian/*.lintian-overrides.
    if lintian --fail-on error --display-info "$changes" >"$out/lintian.txt" 2>&1; then
        rc=0
    else
        rc=$?
    fi
    # (lintian's advice not to run it as root is not about the packages)
    grep -v '^running with root privileges' "$out/lintian.txt" >"$out/lintian.tags" || true
    mv "$out/lintian.tags" "$out/lintian.txt"
    if [[ -s $out/lintian.txt ]]; then cat "$out/lintian.txt"; else echo "lintian: no tags"; fi
    ((rc == 0)) || { echo "tools/deb.sh: lintian reports errors" >&2; exit 1; }
fi
