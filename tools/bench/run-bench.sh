#!/bin/sh
# gst-rnn: run every benchmark and print the tables (docs/performance.md).
#
#   sh tools/bench/run-bench.sh [BUILD_DIR]
#
# BUILD_DIR (default: build) must be configured with meson
# (buildtype release or debugoptimized, the project default); the benchmark
# programs and the plugin are built in it first. Everything runs pinned to
# CPU 0 with one BLAS thread. The raw lines and the report are also written
# to BUILD_DIR/bench-results/. Takes about 7 minutes on an idle 2-CPU machine.
#
# Environment: BENCH_MIN_TIME (seconds per timed run, default 0.2),
# BENCH_REPS (timed runs per figure, median taken, default 3).
set -eu

src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build}
case $build in /*) ;; *) build=$(pwd)/$build ;; esac
min_time=${BENCH_MIN_TIME:-0.2}
reps=${BENCH_REPS:-3}
torch_python=/usr/bin/python3
frames=1,16,100

if [ ! -f "$build/build.ninja" ]; then
  echo "run-bench.sh: $build is not a meson build directory" \
       "(meson setup $build --buildtype=release)" >&2
  exit 1
fi
buildtype=$(sed -n 's/^buildtype = //p' "$build/meson-private/cmd_line.txt" \
  2>/dev/null || true)
buildtype=${buildtype:-debugoptimized}
case $buildtype in
  release|debugoptimized) ;;
  *) echo "run-bench.sh: warning: buildtype is '$buildtype';" \
          "figures are meaningless without optimisation" >&2 ;;
esac

ninja -C "$build" tools/bench/bench-engine tools/bench/bench-roofline \
  tools/bench/bench-pipeline plugin/libgstrnn.so >/dev/null

out=$build/bench-results
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
raw=$out/raw.tsv
: > "$raw"

export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
export GST_PLUGIN_PATH_1_0="$build/plugin"
export GST_REGISTRY_1_0="$work/registry.bin"
pin="taskset -c 0"

{
  echo "gst-rnn benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "host: $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)," \
       "$(getconf _NPROCESSORS_ONLN) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "build: $build ($buildtype); pinned to CPU 0; median of $reps runs" \
       "of >= ${min_time}s"
} | tee "$out/header.txt"

echo "== models" >&2
$torch_python "$src/tools/bench/bench_torch.py" models "$work/models"

echo "== roofline" >&2
$pin "$build/tools/bench/bench-roofline" "$work/models" "$frames" \
  "$min_time" "$reps" | tee -a "$raw" | grep '^#'

echo "== engine" >&2
$pin "$build/tools/bench/bench-engine" "$work/models" "$frames" \
  "$min_time" "$reps" batch >> "$raw"

echo "== torch" >&2
$pin $torch_python "$src/tools/bench/bench_torch.py" bench "$work/models" \
  "$frames" --min-time "$min_time" --reps "$reps" >> "$raw"

echo "== pipelines" >&2
for spb in 100 1; do
  for el in none control; do
    $pin "$build/tools/bench/bench-pipeline" $el none "$spb" 0.3 "$reps" \
      >> "$raw"
  done
  for m in lstm-1x64-i1 lstm-1x128-i1 lstm-1x256-i1 lstm-1x512-i1 \
           lstm-2x256-i1 gru-1x256-i1; do
    $pin "$build/tools/bench/bench-pipeline" lstmforecast \
      "$work/models/$m.safetensors" "$spb" 0.3 "$reps" >> "$raw"
  done
  $pin "$build/tools/bench/bench-pipeline" gruanomaly \
    "$work/models/gru-1x256-i1-anomaly.safetensors" "$spb" 0.3 "$reps" \
    >> "$raw"
done

echo
$torch_python "$src/tools/bench/report.py" "$raw" | tee "$out/report.txt"
