#!/bin/sh
# Soak run (not part of `meson test`): builds the plugin and tests/soak/soak
# in build-soak/ (or $BUILD_DIR) and runs it: 10^7 frames through
# lstmforecast and through gruanomaly, 10^5 texts through textsentiment,
# sampling VmRSS. Arguments are passed on: soak.sh [FRAMES [TEXTS]].
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-"$src/build-soak"}
[ -d "$build" ] || meson setup "$build" "$src" --buildtype=debugoptimized >/dev/null
ninja -C "$build" plugin/libgstrnn.so tests/soak/soak >/dev/null
export GST_PLUGIN_PATH_1_0="$build/plugin"
export GST_REGISTRY_1_0="$build/soak-registry.bin"
export RNN_FIXTURES="$src/tests/fixtures"
export GST_DEBUG="${GST_DEBUG:-rnn*:1,textsentiment:1,lstmforecast:1,gruanomaly:1}"
exec "$build/tests/soak/soak" "$@"
