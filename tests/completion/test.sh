#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The bash completion of packaging/completion/cgsentry, sourced into a
# non-interactive bash with bash-completion's helpers, against the built
# programs and the fixture cgroup tree.
# Usage: test.sh BUILD_DIR     (0 pass, 1 fail, 77 skipped)
set -uo pipefail

BUILD=$(cd "${1:?usage: test.sh BUILD_DIR}" && pwd)
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BC=/usr/share/bash-completion/bash_completion
if [[ ! -r $BC ]]; then
    echo "SKIPPED: $BC is missing (apt-get install bash-completion)"
    exit 77
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/cgsentry-completion.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
printf '[Rule web]\nMatch=system.slice/web.service\n\n[Rule batch jobs]\nMatch=batch.slice/*\n' \
    >"$WORK/c.conf"

exec bash --norc --noprofile -s -- "$BUILD" "$SRC" "$BC" "$WORK" <<'EOF'
BUILD=$1 SRC=$2 BC=$3 WORK=$4
# bash_completion expects an interactive shell's settings.
shopt -s extglob progcomp
. "$BC"
. "$SRC/packaging/completion/cgsentry"
PATH=$BUILD/daemon:$PATH
FIX=$SRC/tests/fixtures/basic/cgroup
fail=0

# comp WORD...: the completions of the last word, one per line, sorted.
comp() {
    local fn=_cgsentry
    [[ $1 == cgsentryd ]] && fn=_cgsentryd
    COMP_WORDS=("$@")
    COMP_CWORD=$(($# - 1))
    COMP_LINE="$*"
    COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    # (compopt complains outside a real completion; harmless here)
    "$fn" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}" 2>/dev/null
    printf '%s\n' "${COMPREPLY[@]}" | LC_ALL=C sort
}
# expect "WANTED (space separated, all present)" WORD...
expect() {
    local want=$1 got w
    shift
    got=$(comp "$@")
    for w in $want; do
        if ! grep -qxF -- "$w" <<<"$got"; then
            echo "not ok - '$*' offers $w (got: $(echo $got))"
            fail=1
            return
        fi
    done
    echo "ok - '$*' -> $(echo $got)"
}
# exactly "WANTED" WORD...
exactly() {
    local want=$1 got
    shift
    got=$(comp "$@" | tr '\n' ' ')
    if [[ ${got% } == "$want" ]]; then
        echo "ok - '$*' -> $want"
    else
        echo "not ok - '$*': expected '$want', got '${got% }'"
        fail=1
    fi
}

expect "explain run history policies" cgsentry ""
exactly "explain" cgsentry ex
exactly "--help --version" cgsentry --
exactly "--policy --policy-dir --policy-options" cgsentry explain --pol
expect "--json --config --rule --trigger --cgroup-root --help" cgsentry explain -
exactly "kernel-oom-kill pressure tripwire" cgsentry explain --trigger ""
exactly "work.slice/" cgsentry explain --cgroup-root "$FIX" wo
exactly "work.slice/app/" cgsentry explain --cgroup-root "$FIX" work.slice/
expect "idle.slice/ work.slice/" cgsentry explain --cgroup-root="$FIX" ""
exactly "web" cgsentry explain --config "$WORK/c.conf" --rule w
expect "kernel" cgsentry explain --policy ""
exactly "--memory-high --memory-max" cgsentry run --memory-
expect "--" cgsentry run --memory-max 1G -
exactly "off" cgsentry run --tripwire o
expect "echo" cgsentry run --memory-max 1G -- ech
expect "-b --boot -f --follow --kmsg --no-journal" cgsentry history -
exactly "$WORK/c.conf" cgsentry history --kmsg "$WORK/c."
expect "--json --policy-dir" cgsentry policies --
exactly "--check-config --config" cgsentryd --c
exit $fail
EOF
