#!/usr/bin/env bash
# cgsentryd beside the kernel alone and earlyoom, in the real-kernel sandbox.
#
# Usage: bench/run.sh [--quick] [BUILD_DIR]
#
# BUILD_DIR (default build/bench, relative to the checkout) must hold
# daemon/cgsentryd; it is configured and built (Release) when missing.
# Boots tests/vm/sandbox.sh twice: a 2 GiB guest (reaction at a memcg limit,
# latency, idle cost, memory) and a 1 GiB guest (runaway exhausting RAM).
# Prints the report and writes it to bench/results/LATEST.md; the raw JSON and
# console logs stay in bench/results/<date>/. Timings never fail the run:
# the exit status is non-zero only when the harness could not run.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=()
build=build/bench
while (($#)); do
        case $1 in
        --quick) quick=(--quick); shift ;;
        -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "bench/run.sh: unknown option $1" >&2; exit 2 ;;
        *) build=$1; shift ;;
        esac
done
case $build in
/*) ;;
*) build=./$build ;;
esac

# shellcheck source=tools/deps.sh
. tools/deps.sh
cgsentry_install_deps python3 earlyoom "${CGSENTRY_SANDBOX_DEPS[@]}"

if [ ! -x "$build/daemon/cgsentryd" ]; then
        cgsentry_install_deps "${CGSENTRY_BUILD_DEPS[@]}"
        echo "== building $build (Release)"
        cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
        cmake --build "$build" -j "$(nproc)" >/dev/null
fi

stamp=$(date +%Y%m%d-%H%M%S)
out=bench/results/$stamp
mkdir -p "$out"
# The guest sees the checkout at the same path, so relative paths work in it;
# a build directory elsewhere is shared explicitly (a host /tmp is not visible).
rel_build=$build
share=()
case $build in
"$PWD"/*) rel_build=./${build#"$PWD"/} ;;
/*) share=(--share "$build") ;;
esac

status=0
run_part() { # PART MEM_MB TIMEOUT
        local rc=0
        echo "== part $1: guest with $2 MiB"
        tests/vm/sandbox.sh --mem "$2" --smp 2 --timeout "$3" --results "$out/vm-$1" "${share[@]}" -- \
                python3 bench/arena.py guest "$1" --build "$rel_build" --out "$out" "${quick[@]}" || rc=$?
        if [ "$rc" -ne 0 ]; then
                echo "bench/run.sh: part $1 exited with status $rc (see $out/vm-$1/console.log)" >&2
                status=1
        fi
}
start=$(date +%s)
if [ ${#quick[@]} -gt 0 ]; then
        run_part main 2048 480
        run_part smallram 1024 240
else
        run_part main 2048 900
        run_part smallram 1024 600
fi

python3 bench/arena.py report "$out" > "$out/report.md"
echo "" >> "$out/report.md"
echo "Wall time of bench/run.sh: $(($(date +%s) - start)) s." >> "$out/report.md"
cp "$out/report.md" bench/results/LATEST.md
echo
cat bench/results/LATEST.md
echo
echo "(written to bench/results/LATEST.md; raw data in $out/)"
exit $status
