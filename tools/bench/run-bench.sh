#!/bin/sh
# gst-rnn: run every benchmark and print the tables (docs/performance.md).
#
#   sh tools/bench/run-bench.sh [BUILD_DIR]
#
# BUILD_DIR (default: build) must be configured with meson
# (buildtype release or debugoptimized, the project default); the benchmark
# programs and the plugin are built in it first. Everything runs pinned to
# one CPU (BENCH_CPU, default 1) with one BLAS thread and one torch thread,
# timed by the thread's CPU time (BENCH_CLOCK=wall for the wall clock). The
# raw lines and the report are also written to BUILD_DIR/bench-results/.
# Takes about 6 minutes of CPU time (longer on a loaded machine).
#
# Environment: BENCH_MIN_TIME (seconds per timed run, default 0.2),
# BENCH_REPS (timed runs per figure, median taken, default 3), BENCH_FRAMES
# (frames per call, default 1,100), BENCH_FULL=1 (also the models with 64
# inputs, and T = 16), BENCH_ISA=avx2 (stand in for a CPU with AVX2 and
# FMA only: the engine runs RNN_KERNELS=avx2, the machine's bound is
# measured with AVX2 loops, the results go to BUILD_DIR/bench-results-avx2/).
set -eu

src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build}
case $build in /*) ;; *) build=$(pwd)/$build ;; esac
min_time=${BENCH_MIN_TIME:-0.2}
reps=${BENCH_REPS:-3}
cpu=${BENCH_CPU:-1}
torch_python=/usr/bin/python3
if [ "${BENCH_FULL:-0}" = 1 ]; then
  frames=${BENCH_FRAMES:-1,16,100}
else
  frames=${BENCH_FRAMES:-1,100}
fi

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
case ${BENCH_ISA:-} in
  '') ;;
  avx2) out=$build/bench-results-avx2
        export BENCH_ISA RNN_KERNELS=avx2 ;;
  *) echo "run-bench.sh: BENCH_ISA must be avx2 or unset" >&2; exit 1 ;;
esac
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
raw=$out/raw.tsv
: > "$raw"

export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
export GST_PLUGIN_PATH_1_0="$build/plugin"
export GST_REGISTRY_1_0="$work/registry.bin"
pin="taskset -c $cpu"

{
  echo "gst-rnn benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "host: $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)," \
       "$(getconf _NPROCESSORS_ONLN) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "cpu: $(lscpu | sed -n 's/^Model name: *//p'), flags:" \
       "$(grep -m1 -o -w -E 'avx2|fma|avx512f|avx512bw|avx512vl|avx512_vnni|avx512_bf16|avx_vnni' /proc/cpuinfo | sort -u | tr '\n' ' ')"
  if [ -n "${BENCH_ISA:-}" ]; then
    echo "standing in for an AVX2/FMA-only CPU: engine RNN_KERNELS=avx2," \
         "machine loops without AVX-512 or AVX-VNNI; PyTorch unchanged" \
         "($($torch_python -c 'import torch; print(torch.__config__.show())' 2>/dev/null \
            | sed -n 's/^ *- CPU capability usage: /ATen kernels /p'), OpenBLAS" \
         "core $(OPENBLAS_VERBOSE=2 $torch_python -c 'import torch' 2>&1 \
            | sed -n 's/^Core: //p'))"
  fi
  echo "build: $build ($buildtype); pinned to CPU $cpu; clock" \
       "${BENCH_CLOCK:-thread-cpu}; median of $reps runs of >= ${min_time}s"
  echo "versions: $(gcc -dumpfullversion 2>/dev/null | sed 's/^/gcc /')," \
       "OpenBLAS $(dpkg-query -W -f='${Version}' libopenblas0-pthread 2>/dev/null)," \
       "torch $($torch_python -c 'import torch; print(torch.__version__)' 2>/dev/null)"
} | tee "$out/header.txt"

echo "== models" >&2
$torch_python "$src/tools/bench/bench_torch.py" models "$work/models"
if [ "${BENCH_FULL:-0}" != 1 ]; then
  # the univariate models (what the signal elements run)
  awk -F '\t' '$5 == 1' "$work/models/models.tsv" > "$work/models/one.tsv"
  mv "$work/models/one.tsv" "$work/models/models.tsv"
fi
# every precision of the engine (rnn_model_set_precision)
precisions=f32,bf16,int8

echo "== roofline" >&2
$pin "$build/tools/bench/bench-roofline" "$work/models" "$frames" \
  "$min_time" "$reps" | tee -a "$raw" | grep '^#'

echo "== engine" >&2
$pin "$build/tools/bench/bench-engine" "$work/models" "$frames" \
  "$min_time" "$reps" batch "$precisions" >> "$raw"


echo "== torch" >&2
$pin $torch_python "$src/tools/bench/bench_torch.py" bench "$work/models" \
  "$frames" --min-time "$min_time" --reps "$reps" --int8 >> "$raw"

echo "== pipelines" >&2
# the reduced precisions through the elements only when they have the
# property (the engine table above has every precision either way)
pipe_precisions=$precisions
gst-inspect-1.0 lstmforecast 2>/dev/null | grep -q '^ *precision ' \
  || pipe_precisions=f32
for spb in 100 1; do
  for el in none control; do
    $pin "$build/tools/bench/bench-pipeline" $el none "$spb" 0.3 "$reps" \
      >> "$raw"
  done
  for prec in $(echo "$pipe_precisions" | tr ',' ' '); do
    for m in lstm-1x64-i1 lstm-1x128-i1 lstm-1x256-i1 lstm-1x512-i1 \
             lstm-2x256-i1 gru-1x256-i1; do
      BENCH_PRECISION=$prec $pin "$build/tools/bench/bench-pipeline" \
        lstmforecast "$work/models/$m.safetensors" "$spb" 0.3 "$reps" >> "$raw"
    done
    BENCH_PRECISION=$prec $pin "$build/tools/bench/bench-pipeline" gruanomaly \
      "$work/models/gru-1x256-i1-anomaly.safetensors" "$spb" 0.3 "$reps" \
      >> "$raw"
  done
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" \
  | tee -a "$out/header.txt"

echo
$torch_python "$src/tools/bench/report.py" "$raw" | tee "$out/report.txt"
