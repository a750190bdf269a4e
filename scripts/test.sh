#!/bin/sh
# Install dependencies, build and run the whole test suite.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh
[ -d build ] || meson setup build
meson compile -C build
meson test -C build --print-errorlogs
