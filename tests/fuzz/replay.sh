#!/bin/sh
# Replay every seed and every regression through its fuzz target, built
# without libFuzzer (ctest: unit.fuzz-replay). Usage: replay.sh BIN_DIR TARGET...
set -e
bin=$1; shift
src=$(cd "$(dirname "$0")" && pwd)
for t in "$@"; do
        "$bin/fuzz-replay-$t" "$src/corpus/$t" "$src/regressions/$t"
done
