#!/usr/bin/env bash
# cgsentryd beside every peer a user would pick instead, in the real-kernel
# sandbox with systemd as PID 1.
#
# Usage: bench/run.sh [--quick] [--only SCENARIO,...] [BUILD_DIR]
#
# BUILD_DIR (default build/bench, relative to the checkout): a CMake build
# tree is brought up to date first, a missing one configured (Release) and
# built; any other directory must hold daemon/cgsentryd.
# Scenarios: fast forkhogs leak thrash swap squeeze scale, one boot each
# (tests/systemd/run.sh boots systemd; every contender runs on that boot).
# Prints the report and writes it with its plots to bench/results/<date>/;
# bench/results/LATEST.md is a copy of the report. Timings never fail the
# run: the exit status is non-zero only when a part could not run.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
build=build/bench
scenarios=(fast forkhogs leak thrash swap squeeze scale)
while (($#)); do
        case $1 in
        --quick) quick=1; shift ;;
        --only) IFS=, read -r -a scenarios <<<"$2"; shift 2 ;;
        --only=*) IFS=, read -r -a scenarios <<<"${1#*=}"; shift ;;
        -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "bench/run.sh: unknown option $1" >&2; exit 2 ;;
        *) build=$1; shift ;;
        esac
done

# shellcheck source=tools/deps.sh
. tools/deps.sh
cgsentry_install_deps "${CGSENTRY_BENCH_DEPS[@]}" "${CGSENTRY_SANDBOX_DEPS[@]}"

# A build tree is brought up to date (a stale cgsentryd would be measured
# as this checkout's); a bare directory with a cgsentryd is taken as it is.
if [ -f "$build/CMakeCache.txt" ] || [ ! -x "$build/daemon/cgsentryd" ]; then
        cgsentry_install_deps "${CGSENTRY_BUILD_DEPS[@]}"
        echo "== building $build (Release)"
        [ -f "$build/CMakeCache.txt" ] ||
                cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
        cmake --build "$build" -j "$(nproc)" >/dev/null
fi
build=$(cd "$build" && pwd -P)

stamp=$(date +%Y%m%d-%H%M%S)
out=bench/results/$stamp
mkdir -p "$out"
out=$(cd "$out" && pwd -P)

# Guest memory per scenario: the squeeze is about the whole guest running out.
mem_of() { case $1 in squeeze) echo 1024 ;; *) echo 2048 ;; esac; }
timeout_of() {
        case $1 in
        scale) echo $((quick ? 900 : 1800)) ;;
        *) echo $((quick ? 600 : 1200)) ;;
        esac
}

status=0
start=$(date +%s)
load_before=$(cut -d" " -f1-3 /proc/loadavg 2>/dev/null || true)
for s in "${scenarios[@]}"; do
        case $s in
        fast|forkhogs|leak|thrash|swap|squeeze|scale) ;;
        *) echo "bench/run.sh: unknown scenario $s" >&2; exit 2 ;;
        esac
        printf 'SCENARIO=%s\nQUICK=%s\n' "$s" "$quick" >"$out/part.env"
        res=$out/vm-$s
        echo "== $s: systemd as PID 1, $(mem_of "$s") MiB guest"
        t0=$(date +%s)
        rc=0
        SYSTEMD_TEST_GUEST=bench/guest.sh SYSTEMD_TEST_RESULTS=$res \
                SYSTEMD_TEST_MEM=$(mem_of "$s") SYSTEMD_TEST_TIMEOUT=$(timeout_of "$s") \
                tests/systemd/run.sh "$build" >"$out/vm-$s.out" 2>&1 &
        boot=$!
        # The guest writes its progress over 9p as it goes: show it live.
        tail -n +1 -F --pid=$boot "$res/arena.log" 2>/dev/null &
        tailer=$!
        wait "$boot" || rc=$?
        wait "$tailer" 2>/dev/null || true
        echo "   ($s: $(($(date +%s) - t0)) s)"
        if [ "$rc" -ne 0 ] || [ ! -s "$out/$s.json" ]; then
                echo "bench/run.sh: scenario $s failed (status $rc); see $out/vm-$s.out and $res/" >&2
                tail -n 20 "$out/vm-$s.out" >&2 || true
                status=1
        fi
done
rm -f "$out/part.env"

python3 bench/arena.py report "$out" --plots >"$out/report.md"
{
        echo ""
        echo "Wall time of bench/run.sh$([ "$quick" = 1 ] && echo " --quick"): $(($(date +%s) - start)) s;" \
                "host load average (1, 5, 15 min) at the start: $load_before."
} >>"$out/report.md"
cp "$out/report.md" bench/results/LATEST.md
echo
cat bench/results/LATEST.md
echo
echo "(written to bench/results/LATEST.md; plots and raw data in $out/)"
exit $status
