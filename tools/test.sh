#!/usr/bin/env bash
# The whole test suite: build with warnings as errors, the unit tests, the same
# unit tests under AddressSanitizer + UndefinedBehaviorSanitizer, the Debian
# packages with lintian, and the real-kernel tests in the qemu sandbox
# (tests/vm). Installs what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=tools/deps.sh
. tools/deps.sh
cgsentry_install_deps "${CGSENTRY_BUILD_DEPS[@]}" "${CGSENTRY_SANDBOX_DEPS[@]}" \
        "${CGSENTRY_FUZZ_DEPS[@]}" "${CGSENTRY_TEST_DEPS[@]}" "${CGSENTRY_DEB_DEPS[@]}" \
        "${CGSENTRY_CONTAINER_DEPS[@]}"

CGSENTRY_PROMTOOL=$(cgsentry_fetch_promtool "$PWD/build/tools/prometheus")
export CGSENTRY_PROMTOOL
echo "== promtool for the metrics test: ${CGSENTRY_PROMTOOL:-not available (format rules only)}"

jobs=$(nproc)
echo "== build (warnings are errors)"
cmake -S . -B build/ci -DCGSENTRY_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/ci -j "$jobs"

echo "== build with ASan + UBSan"
cmake -S . -B build/asan -DCGSENTRY_WERROR=ON -DCGSENTRY_SANITIZE=ON \
      -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build/asan -j "$jobs"

echo "== unit tests under ASan + UBSan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        ctest --test-dir build/asan -L unit --output-on-failure -j "$jobs"

echo "== fuzzing every parser for a short while (tools/fuzz.sh; longer runs by hand)"
bash tools/fuzz.sh "${CGSENTRY_FUZZ_SECONDS:-15}"

# Before the tests: vm.install installs these in the sandbox. The unit tests
# run above and below, so not again inside the package build.
echo "== Debian packages, lintian (tools/deb.sh)"
bash tools/deb.sh --nocheck build/ci/deb

echo "== all tests (unit and real kernel)"
ctest --test-dir build/ci --output-on-failure
