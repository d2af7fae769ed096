#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# `cmake --install` of BUILD_DIR, once with --prefix and once with DESTDIR:
# everything an installation needs is there (programs, policies, unit,
# default configuration, man pages in sections 1 5 7 8, bash completion,
# the plugin header and cgsentry-policy.pc) and below the prefix (but for
# the absolute /etc and unit directories of a distribution's build),
# libsupervise is not (no stable ABI before 1.0), and the Debian changelog
# names the project's version.
# Usage: install-tree.sh BUILD_DIR     (0 pass, 1 fail)
set -uo pipefail

BUILD=$(cd "${1:?usage: install-tree.sh BUILD_DIR}" && pwd)
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cgsentry-install-tree.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
fail=0
check() { # DESCRIPTION COMMAND...
    local what=$1
    shift
    if "$@"; then echo "ok - $what"; else echo "not ok - $what"; fail=1; fi
}

# The prefix the build was configured with, and where its files go.
cache() { sed -n "s/^$1:[A-Z]*=//p" "$BUILD/CMakeCache.txt"; }
PREFIX=$(cache CMAKE_INSTALL_PREFIX)
LIBDIR=$(cache CMAKE_INSTALL_LIBDIR)
LIBDIR=${LIBDIR:-lib}
SYSCONF=$(cache CMAKE_INSTALL_SYSCONFDIR)
UNITDIR=$(cache CGSENTRY_SYSTEMD_UNIT_DIR)
# A distribution's build installs some files to absolute paths (/etc,
# /lib/systemd/system) that no --prefix moves: every install below goes
# through DESTDIR too, so that nothing lands on this machine.
abs() { # PREFIX DIR: DIR as installed with that prefix
    case $2 in /*) echo "$2" ;; *) echo "$1/$2" ;; esac
}
etcdir() {
    if [[ $SYSCONF == /* ]]; then echo "$SYSCONF"
    elif [[ $PREFIX == /usr ]]; then echo /etc
    else echo "$1/${SYSCONF:-etc}"; fi
}

expected() { # PREFIX: the files an installation with that prefix has
    cat <<EOF
$1/bin/cgsentry
$1/sbin/cgsentryd
$(abs "$1" "$LIBDIR")/cgsentry/policies/cgsentry-policy-kernel.so
$(abs "$1" "$LIBDIR")/cgsentry/policies/cgsentry-policy-largest.so
$(abs "$1" "$LIBDIR")/pkgconfig/cgsentry-policy.pc
$1/include/cgsentry/policy.h
$(abs "$1" "${UNITDIR:-lib/systemd/system}")/cgsentryd.service
$(etcdir "$1")/cgsentry/cgsentry.conf
$1/share/man/man1/cgsentry.1
$1/share/man/man5/cgsentry.conf.5
$1/share/man/man7/cgsentry-policies.7
$1/share/man/man8/cgsentryd.8
$1/share/bash-completion/completions/cgsentry
$1/share/bash-completion/completions/cgsentryd
EOF
}

tree_ok() { # ROOT PREFIX: every expected file, nothing else, no libsupervise
    local root=$1 f ok=0
    expected "$2" | sort >"$WORK/want"
    (cd "$root" && find . -type f | sed 's|^\.||' | sort) >"$WORK/have"
    while read -r f; do
        [[ -f $root$f ]] || { echo "  missing: $f"; ok=1; }
    done <"$WORK/want"
    if grep -E '/libsupervise[^/]*$|/supervise\.h$' "$WORK/have"; then
        echo "  libsupervise is installed (it has no stable ABI before 1.0)"
        ok=1
    fi
    # Everything else belongs below the prefix (examples, docs).
    if grep -v -x -F -f "$WORK/want" "$WORK/have" | grep -v "^$2/"; then
        echo "  installed outside $2 (above)"
        ok=1
    fi
    return $ok
}

DESTDIR=$WORK/p cmake --install "$BUILD" --prefix /opt/cgsentry >"$WORK/prefix.log" 2>&1
check "cmake --install --prefix DIR succeeds" [ $? = 0 ]
check "--prefix: the installation is complete, and below DIR but for /etc and units" \
    tree_ok "$WORK/p" /opt/cgsentry
check "--prefix: the pkg-config file points into DIR" \
    env PKG_CONFIG_PATH="$WORK/p$(abs /opt/cgsentry "$LIBDIR")/pkgconfig" \
    bash -c "[[ \$(pkg-config --variable=includedir cgsentry-policy) -ef '$WORK/p/opt/cgsentry/include' ]]"

DESTDIR=$WORK/d cmake --install "$BUILD" >"$WORK/dest.log" 2>&1
check "DESTDIR=DIR cmake --install succeeds" [ $? = 0 ]
check "DESTDIR: the installation is complete below DIR" tree_ok "$WORK/d" "$PREFIX"
check "the unit starts $PREFIX/sbin/cgsentryd" \
    grep -qx "ExecStart=$PREFIX/sbin/cgsentryd" \
    "$WORK/d$(abs "$PREFIX" "${UNITDIR:-lib/systemd/system}")/cgsentryd.service"

version=$(sed -n 's/^project(cgsentry VERSION \([0-9.]*\).*/\1/p' "$SRC/CMakeLists.txt")
deb=$(sed -n '1s/^cgsentry (\([^)]*\)).*/\1/p' "$SRC/packaging/debian/changelog" 2>/dev/null)
check "packaging/debian/changelog names the project's version ($version; changelog: $deb)" \
    test -n "$version" -a "$deb" = "$version"
exit $fail
