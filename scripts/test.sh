#!/bin/sh
# Install dependencies, build and run the whole test suite:
#   1. the normal build (debugoptimized) and `meson test`;
#   2. the same suite built with AddressSanitizer + UndefinedBehaviorSanitizer;
#   3. the engine and element tests under valgrind, failing on any definite leak.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh

echo "== build and test"
[ -d build ] || meson setup build
meson compile -C build
meson test -C build --print-errorlogs

echo "== sanitizers (address, undefined)"
[ -d build-asan ] || meson setup build-asan --buildtype=debug \
  -Db_sanitize=address,undefined -Db_lundef=false
meson compile -C build-asan
# Plugins are scanned in-process so the sanitizer runtime comes first.
GST_REGISTRY_FORK=no \
ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  meson test -C build-asan --print-errorlogs --timeout-multiplier 4

echo "== leaks (valgrind: engine and element tests)"
CK_FORK=no GST_REGISTRY_FORK=no RNN_UNDER_VALGRIND=1 \
  meson test -C build --suite core --suite elements --print-errorlogs --timeout-multiplier 10 \
  --wrap="valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 --suppressions=$PWD/scripts/valgrind.supp"
echo "== all tests passed"
