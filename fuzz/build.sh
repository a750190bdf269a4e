#!/bin/sh
# Configure and build the libFuzzer targets with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer in build-fuzz/ (or the directory given as $1).
# Run one with e.g.
#   build-fuzz/fuzz/fuzz-model -max_total_time=600 -jobs=1 \
#     /tmp/corpus-model fuzz/corpus/fuzz-model
# (new inputs go to the first directory; see fuzz/README.md).
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-"$src/build-fuzz"}
san='-fsanitize=fuzzer-no-link,address,undefined'
if [ ! -d "$dir" ]; then
  CC=clang meson setup "$dir" "$src" --buildtype=debugoptimized \
    -Dc_args="$san -fno-sanitize-recover=undefined -fno-omit-frame-pointer" \
    -Dc_link_args='-fsanitize=address,undefined'
fi
ninja -C "$dir" fuzz/fuzz-model fuzz/fuzz-tokenizer fuzz/fuzz-csv
