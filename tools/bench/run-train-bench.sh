#!/bin/sh
# Training speed, rnn-train's engine against PyTorch 1.13 on the same task
# (the tutorial's forecaster, see bench-train.c), one run, side by side.
# usage: tools/bench/run-train-bench.sh [BUILD_DIR] [EPOCHS]
# Both sides single-threaded unless THREADS is set.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
epochs=${2:-5}
threads=${THREADS:-1}
ninja -C "$build" tools/bench/bench-train >/dev/null
c=$(OPENBLAS_NUM_THREADS=$threads "$build/tools/bench/bench-train" "$epochs")
py=$(cd "$here" && /usr/bin/python3 bench_train_torch.py "$epochs" "$threads")
echo "$c"
echo "$py"
ct=$(echo "$c" | sed -n 's/.*epoch-seconds \([0-9.]*\).*/\1/p')
pt=$(echo "$py" | sed -n 's/.*epoch-seconds \([0-9.]*\).*/\1/p')
echo "$ct $pt" | awk -v th="$threads" '{ printf "threads %s: rnn-train %.3f s/epoch, torch %.3f s/epoch, speed-up %.2fx\n", th, $1, $2, $2 / $1 }'
