#!/usr/bin/env bash
# Install cgsentry from BUILD_DIR into a scratch prefix, build
# examples/policy-hello against it with pkg-config only, and load the result
# with `cgsentry explain --policy hello` on a fixture snapshot.
# Usage: example.sh BUILD_DIR     (0 pass, 1 fail, 77 skipped)
set -euo pipefail

BUILD=$(cd "${1:?usage: example.sh BUILD_DIR}" && pwd)
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

for tool in pkg-config make cc cmake; do
        if ! command -v "$tool" >/dev/null; then
                echo "SKIPPED: $tool is not installed"
                exit 77
        fi
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/cgsentry-policy-example.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
# Through DESTDIR as well: a distribution's build installs some files to
# absolute paths (/etc, /lib/systemd/system) that --prefix does not move.
DESTDIR=$WORK/root cmake --install "$BUILD" --prefix /inst >"$WORK/install.log" 2>&1 || {
        cat "$WORK/install.log"
        exit 1
}
INST=$WORK/root/inst
PC=$(find "$INST" -name cgsentry-policy.pc -print -quit)
[[ -n $PC ]] || { echo "FAIL: cgsentry-policy.pc was not installed"; exit 1; }
export PKG_CONFIG_PATH=$(dirname "$PC")

# The include path must point into the scratch prefix, not the source tree.
CFLAGS_PC=$(pkg-config --cflags cgsentry-policy)
[[ $CFLAGS_PC == *"$INST"* || $CFLAGS_PC == *"$(dirname "$PC")"* ]] || {
        echo "FAIL: pkg-config --cflags gave '$CFLAGS_PC'"
        exit 1
}

# Out of tree: a copy of the example, nothing else from the sources.
cp -r "$SRC/examples/policy-hello" "$WORK/hello"
make -C "$WORK/hello" CFLAGS="-O2 -Wall -Wextra -Werror" >"$WORK/make.log" 2>&1 || {
        cat "$WORK/make.log"
        exit 1
}

# The installed binary finds the installed libsupervise (no RPATH on install).
export LD_LIBRARY_PATH=$(dirname "$(dirname "$PC")")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
OUT=$("$INST/bin/cgsentry" explain --snapshot "$SRC/tests/fixtures/policy-pool.json" \
        --policy hello --policy-dir "$WORK/hello" --policy-options greeting=hi 2>&1) || true
echo "$OUT" | tail -n 2
grep -q "^# Policy hello 1.0 ($WORK/hello/cgsentry-policy-hello.so) would kill group /pool/c$" \
        <<<"$OUT" || { echo "FAIL: hello was not used"; exit 1; }
grep -q "^# hello: hi: /pool/c has 2 processes, the most of 4 candidates$" <<<"$OUT" || {
        echo "FAIL: unexpected explanation"
        exit 1
}

LIST=$("$INST/bin/cgsentry" policies --policy-dir "$WORK/hello")
grep -q "^hello .*1.0 .*cgsentry-policy-hello.so" <<<"$LIST" || {
        echo "FAIL: cgsentry policies does not list hello"
        echo "$LIST"
        exit 1
}
echo "PASS: the out-of-tree example builds with pkg-config and loads"

# The daemon loads it too: a rule with Policy=hello over the fixture tree
# (cgsentryd only needs directories with memory.events to supervise).
CONF=$WORK/cgsentry.conf
cat > "$CONF" <<EOC
[Daemon]
CgroupRoot=$SRC/tests/fixtures/basic/cgroup
ProcRoot=$SRC/tests/fixtures/basic/proc
PolicyDir=$WORK/hello
[Rule app]
Match=work.slice/app
Policy=hello greeting=hi
EOC
"$INST/sbin/cgsentryd" --no-mlock -c "$CONF" 2> "$WORK/daemon.log" &
DPID=$!
for _ in $(seq 1 100); do
        grep -q "supervising" "$WORK/daemon.log" && break
        sleep 0.05
done
kill -TERM "$DPID"
wait "$DPID" || { echo "FAIL: cgsentryd did not exit cleanly"; cat "$WORK/daemon.log"; exit 1; }
grep -q "supervising /work.slice/app (rule app, policy hello 1.0 from $WORK/hello/cgsentry-policy-hello.so" \
        "$WORK/daemon.log" || {
        echo "FAIL: cgsentryd did not load hello"
        cat "$WORK/daemon.log"
        exit 1
}
echo "PASS: cgsentryd loads the out-of-tree policy"
