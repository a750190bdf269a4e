#!/bin/sh
# Training speed, rnn-train's engine against PyTorch 1.13 on the same task
# (the tutorial's forecaster, see bench-train.c), side by side.
# usage: tools/bench/run-train-bench.sh [BUILD_DIR] [EPOCHS] [ROUNDS]
# Each round runs both programs one after the other (each prints its median
# epoch time); the fastest round of each is compared, which is the figure
# least disturbed by other load. Single-threaded unless THREADS is set.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
epochs=${2:-5}
rounds=${3:-3}
threads=${THREADS:-1}
ninja -C "$build" tools/bench/bench-train >/dev/null
best_c= ; best_p=
i=0
while [ $i -lt "$rounds" ]; do
  c=$(OPENBLAS_NUM_THREADS=$threads "$build/tools/bench/bench-train" "$epochs")
  p=$(cd "$here" && /usr/bin/python3 bench_train_torch.py "$epochs" "$threads")
  echo "round $((i + 1)): $c"
  echo "round $((i + 1)): $p"
  ct=$(echo "$c" | sed -n 's/.*epoch-seconds \([0-9.]*\).*/\1/p')
  pt=$(echo "$p" | sed -n 's/.*epoch-seconds \([0-9.]*\).*/\1/p')
  best_c=$(echo "$ct $best_c" | awk '{ print ($2 == "" || $1 < $2) ? $1 : $2 }')
  best_p=$(echo "$pt $best_p" | awk '{ print ($2 == "" || $1 < $2) ? $1 : $2 }')
  i=$((i + 1))
done
echo "$best_c $best_p" | awk -v th="$threads" '{ printf "threads %s, best of the rounds: rnn-train %.3f s/epoch, torch %.3f s/epoch, speed-up %.2fx\n", th, $1, $2, $2 / $1 }'
