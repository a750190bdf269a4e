#!/bin/sh
# Trains the shipped part-of-speech tagger (models/pos-tagger.safetensors)
# from the Brown corpus with the 12 universal tags, and measures it on
# held-out files next to the most-frequent-tag baseline (docs/models.md).
#
# usage: tools/train_tagger.sh [BROWN_DIR]
#   BROWN_DIR: the tagged Brown corpus files, cats.txt and
#   brown-universal.tsv (default ../shared/data/brown relative to the
#   repository; see ../shared/data/SOURCES.md). The corpus is not copied into
#   the repository: the converted files and the split live in the build
#   directory.
# Environment: BUILD (default build, configured), OUT (default
#   models/pos-tagger.safetensors), SEED (default 1).
# About 20 s of one core per epoch (6 epochs here) on an idle machine;
# OPENBLAS_NUM_THREADS=1.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
brown=${1:-$repo/../shared/data/brown}
build=${BUILD:-build}
out=${OUT:-models/pos-tagger.safetensors}
seed=${SEED:-1}
work=$build/tagger-work
# One thread: the same bytes on every run and machine.
export OPENBLAS_NUM_THREADS=1

ninja -C "$build" tools/rnn-train tools/rnn-eval >/dev/null
rm -rf "$work/train" "$work/test"
mkdir -p "$work"
# Universal tags; every tenth file of each genre held out (split.txt).
python3 tools/brown_universal.py split "$brown" "$work"

# The recipe (docs/models.md; rnn-train tag's defaults, written out): a
# 1x64 BiLSTM over embeddings of 64 for a case-kept vocabulary of 20,000
# with unknown-word classes, word dropout 0.25/(0.25 + count), Adam 2e-3,
# clip 5, batch 32, at most 10 epochs with patience 2 on 5% of the training
# sentences.
nice "$build/tools/rnn-train" tag --data "$work/train" --output "$out" \
  --seed "$seed" --embed-dim 64 --hidden 64 --layers 1 --vocab-size 20000 \
  --lowercase false --unk-classes shape-suffix --word-dropout 0.25 \
  --lr 0.002 --clip 5 --batch-size 32 --epochs 10 --patience 2 \
  --val-split 0.05 | tee "$work/train.log"

# Held-out files, tagged by the engine as texttagger tags them.
nice "$build/tools/rnn-eval" tag --model "$out" --data "$work/test" \
  > "$work/test-eval.tsv"
python3 tools/brown_universal.py score "$work/train" "$work/test" \
  "$work/test-eval.tsv" | tee "$work/score.txt"
