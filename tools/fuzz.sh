#!/usr/bin/env bash
# Fuzz every parser and the snapshot consumers with libFuzzer (clang).
# Usage: tools/fuzz.sh [SECONDS]   (per target, default 60)
# Prints, per target, executions, corpus growth and crashes; a crash is
# copied to tests/fuzz/regressions/TARGET/ (which unit.fuzz-replay then
# replays in every build) and the script fails. Installs clang if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=tools/deps.sh
. tools/deps.sh
cgsentry_install_deps "${CGSENTRY_BUILD_DEPS[@]}" "${CGSENTRY_FUZZ_DEPS[@]}"

secs=${1:-60}
targets=(cgfs procfs input config snapshot)
build=build/fuzz
CC=clang cmake -S . -B "$build" -DCGSENTRY_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc)" --target "${targets[@]/#/fuzz-}" >/dev/null

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
run() { # TARGET
        local t=$1 dir=$work/$1
        mkdir -p "$dir/corpus" "$dir/crashes"
        "$build/tests/fuzz/fuzz-$t" -max_total_time="$secs" -print_final_stats=1 \
                -artifact_prefix="$dir/crashes/" -rss_limit_mb=1024 -timeout=10 \
                "$dir/corpus" "tests/fuzz/corpus/$t" >"$dir/log" 2>&1 || true
}
# One target per core at a time.
jobs=$(nproc)
for t in "${targets[@]}"; do
        while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
        run "$t" &
done
wait

crashes=0
printf '%-10s %12s %10s %8s %8s\n' target executions exec/s corpus crashes
for t in "${targets[@]}"; do
        dir=$work/$t
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -n 1)
        rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/log" | tail -n 1)
        found=$(find "$dir/crashes" -type f | wc -l)
        printf '%-10s %12s %10s %8s %8s\n' "$t" "${execs:-?}" "${rate:-?}" \
                "$(find "$dir/corpus" -type f | wc -l)" "$found"
        if [ "$found" -gt 0 ]; then
                crashes=$((crashes + found))
                mkdir -p "tests/fuzz/regressions/$t"
                cp "$dir"/crashes/* "tests/fuzz/regressions/$t/"
                grep -m 1 -A 12 "ERROR:" "$dir/log" || tail -n 20 "$dir/log"
        fi
        [ -n "$execs" ] || { echo "$t: libFuzzer did not run:"; tail -n 20 "$dir/log"; crashes=$((crashes + 1)); }
done
echo "fuzz: ${#targets[@]} targets, ${secs} s each, $crashes crashes"
[ "$crashes" -eq 0 ]
