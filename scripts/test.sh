#!/usr/bin/env bash
# The whole test suite: install what is missing, build, run every test, then
# rebuild under AddressSanitizer + UndefinedBehaviorSanitizer and run the
# unit, API and conformance tests again. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
scripts/install-deps.sh

echo "== format check"
scripts/check-format.sh

echo "== build (Release)"
scripts/build.sh build -DCMAKE_BUILD_TYPE=Release
echo "== tests (Release)"
ctest --test-dir build --output-on-failure -j"$(nproc)" --timeout 600
echo "== conformance matrix, cpu"
build/tools/conformance/tessera-conformance --device cpu

echo "== build (ASan + UBSan)"
scripts/build.sh build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTESSERA_SANITIZE=ON
echo "== tests (ASan + UBSan)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j"$(nproc)" --timeout 900 -LE install
echo "== all tests passed in $(( $(date +%s) - start )) s"
