#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# libsupervise's boundary (ctest: unit.abi). Usage: exports.sh BUILD_DIR
#  - libsupervise.so exports exactly what supervise.h declares SV_EXPORT,
#    and the version script lists exactly that;
#  - no file of libsupervise includes anything from policies/;
#  - the syscall-number fallbacks and the plugin descriptor block exist once.
set -uo pipefail
BUILD=${1:?usage: $0 BUILD_DIR}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
lib=$(ls "$BUILD"/libsupervise/libsupervise.so.* 2>/dev/null | head -n 1)
fail=0
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
check() { # DESCRIPTION COMMAND...
        local what=$1; shift
        if "$@"; then echo "ok - $what"; else echo "not ok - $what"; fail=1; fi
}

[ -n "$lib" ] || { echo "not ok - $BUILD/libsupervise/libsupervise.so.* not built"; exit 1; }
nm -D --defined-only "$lib" | awk '$2 == "T" { sub(/@.*/, "", $3); print $3 }' | sort >"$t/exported"
python3 - "$SRC/include/cgsentry/supervise.h" >"$t/declared" <<'PY'
import re, sys
s = open(sys.argv[1]).read()
print("\n".join(sorted(set(re.findall(r"SV_EXPORT[^;(]*?\b(sv_[a-z0-9_]+)\s*\(", s, re.S)))))
PY
grep -Eo '^\s+sv_[a-z0-9_]+;' "$SRC/libsupervise/libsupervise.sym" | tr -d ' ;\t' | sort >"$t/listed"
check "libsupervise.so exports only the documented API ($(wc -l <"$t/exported") functions)" \
        diff -u "$t/declared" "$t/exported"
check "the version script lists exactly the documented API" diff -u "$t/declared" "$t/listed"
check "no other symbol is exported (data, weak)" \
        bash -c "! nm -D --defined-only '$lib' | awk '\$2 != \"T\" && \$2 != \"A\"' | grep -q ."
check "no file of libsupervise includes anything from policies/" \
        bash -c "! grep -rn 'include.*policies/' '$SRC/libsupervise'"
check "syscall-number fallbacks are defined once (libsupervise/syscalls.h)" \
        bash -c "[ \$(grep -rln --include='*.[ch]' 'define __NR_pidfd_open' '$SRC/libsupervise' '$SRC/daemon' '$SRC/policies') = '$SRC/libsupervise/syscalls.h' ]"
check "the plugin descriptor block is written once (CGSENTRY_POLICY_DEFINE)" \
        bash -c "[ \$(grep -rl --include='*.[ch]' '\\.abi_major = CGSENTRY_POLICY_ABI_MAJOR' '$SRC/policies' '$SRC/examples' '$SRC/include' '$SRC/libsupervise' | wc -l) = 1 ]"
check "the duration and percent parsers are written once (policy.h)" \
        bash -c "[ \$(grep -rl --include='*.[ch]' -e 'strtod' '$SRC/libsupervise/input.c' '$SRC/daemon/config.c' '$SRC/daemon/cmd-run.c' '$SRC/policies' | wc -l) = 0 ]"
exit $fail
