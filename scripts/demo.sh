#!/bin/sh
# Install dependencies, build, and run the demo pipeline on shipped data.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh
[ -d build ] || meson setup build
meson compile -C build
sh examples/demo.sh
