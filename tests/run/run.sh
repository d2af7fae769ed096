#!/usr/bin/env bash
# cgsentry run in the real-kernel sandbox. Usage: run.sh BUILD_DIR
# Exit 77 (skipped) when the sandbox cannot run here.
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?usage: run.sh BUILD_DIR}" && pwd)
if ! "$here/../vm/sandbox.sh" --check >/dev/null 2>&1; then
        echo "SKIPPED: the real-kernel sandbox cannot run here ($here/../vm/sandbox.sh --check)" >&2
        exit 77
fi
cd "$here/../.."
"$here/../vm/sandbox.sh" --timeout 600 --share "$build" -- bash tests/run/wrap.sh "$build"
rc=$?
if [ "$rc" = 125 ]; then
        echo "SKIPPED: the sandbox failed to boot (exit 125)" >&2
        exit 77
fi
exit "$rc"
