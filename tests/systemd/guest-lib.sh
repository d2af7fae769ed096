# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# What the guest scripts of the systemd VM (tests/systemd/guest.sh,
# tests/install/guest.sh) share: TAP-style checks written to
# $RES/guest.tap, and polling. Sourced; expects RES to be set.
pass=0 failed=0

check() { # check DESCRIPTION COMMAND...
    local what=$1 line
    shift
    if "$@"; then line="ok - $what"; pass=$((pass + 1))
    else line="not ok - $what"; failed=$((failed + 1)); fi
    echo "$line"
    echo "$line" >>"$RES/guest.tap"
}
note() { echo "# $*"; echo "# $*" >>"$RES/guest.tap"; }
prop() { systemctl show -P "$2" "$1" 2>/dev/null; }
wait_for() { # wait_for SECONDS COMMAND...: poll every 0.2 s
    local end=$((SECONDS + $1))
    shift
    until "$@"; do
        ((SECONDS < end)) || return 1
        sleep 0.2
    done
}
