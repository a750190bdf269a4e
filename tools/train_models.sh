#!/bin/sh
# Trains the three shipped models from real data and measures them on
# held-out data next to simple baselines (docs/models.md has the results).
#
# usage: tools/train_models.sh [DATA_DIR]
#   DATA_DIR: the shared data sets (default ../shared/data relative to the
#   repository). When it exists, models/data/ is derived from it again;
#   otherwise the committed models/data/ is used as is.
# Environment: BUILD (default build, configured), OUT (default models),
#   REPORT (default $BUILD/models-report.md).
# Needs Debian's /usr/bin/python3 with numpy (tools/baselines.py).
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
data=${1:-$repo/../shared/data}
build=${BUILD:-build}
out=${OUT:-models}
report=${REPORT:-$build/models-report.md}
work=$build/models-work
py=/usr/bin/python3
# One thread: byte-identical models from run to run and machine to machine
# are easier to get, and these models are small.
export OPENBLAS_NUM_THREADS=1

ninja -C "$build" tools/rnn-train tools/rnn-eval >/dev/null
train=$build/tools/rnn-train
evaluate=$build/tools/rnn-eval
mkdir -p "$work" "$out" models/data
if [ -d "$data" ]; then
  echo "deriving models/data/ from $data"
  $py tools/baselines.py prepare "$data" models/data
else
  echo "$data not found: using the committed models/data/"
fi
d=models/data

# ---------------------------------------------------------------- forecast
# Yearly sunspot numbers: trained on 1700-1959, tested on 1960-2008.
echo "== forecast: sunspots"
awk -F, 'NR == 1 || $1 < 1960' $d/sunspots.csv > "$work/sunspots-train.csv"
$train forecast --data "$work/sunspots-train.csv" --columns sunactivity \
  --time-column year --window 32 --seed 1 --output "$out/forecast.safetensors"
$evaluate signal --model "$out/forecast.safetensors" --data $d/sunspots.csv \
  --time-column year > "$work/forecast-eval.csv"
# The same recipe trained statefully (truncated BPTT), for the comparison.
$train forecast --data "$work/sunspots-train.csv" --columns sunactivity \
  --time-column year --bptt 32 --seed 1 --quiet \
  --output "$work/forecast-bptt.safetensors"
$evaluate signal --model "$work/forecast-bptt.safetensors" \
  --data $d/sunspots.csv --time-column year > "$work/forecast-bptt-eval.csv"
# The window-trained model run with its state carried (window=0).
$evaluate signal --model "$out/forecast.safetensors" --data $d/sunspots.csv \
  --time-column year --window 0 > "$work/forecast-carried-eval.csv"

# ----------------------------------------------------------------- anomaly
# Sensor network: trained on the normal rows of the four motes without an
# event, tested on the four motes with one (never seen in training).
echo "== anomaly: sensors"
$train anomaly --data $d/sensors-train.csv --group-column sensor \
  --label-column label --seed 1 --output "$out/anomaly.safetensors"
$evaluate signal --model "$out/anomaly.safetensors" --data $d/sensors-test.csv \
  --group-column sensor --label-column label > "$work/anomaly-eval.csv"
threshold=$($py -c "import json,struct,sys; f=open(sys.argv[1],'rb'); \
n=struct.unpack('<Q',f.read(8))[0]; \
print(json.loads(f.read(n))['__metadata__']['anomaly.threshold'])" \
  "$out/anomaly.safetensors")

# --------------------------------------------------------------- sentiment
# Labelled sentences: trained on 80% of each source, tested on the other
# 20%; then trained on two sources and tested on all of the third.
echo "== classify: sentiment"
sentiment_opts="--seed 1"   # the classify defaults (docs/rnn-train.md)
# The UCI classes are 0 (negative) and 1 (positive): the models are trained
# on them and written with these names as their `labels`.
sentiment_names=negative,positive
# rnn-eval compares the predicted label with the class of the data, so the
# evaluations read copies of the data with the classes named the same way.
for part in train test; do
  $py -c "import json, sys; names = sys.argv[3].split(','); \
items = json.load(open(sys.argv[1])); \
[it.update({'class': names[int(it['class'])]}) for it in items]; \
json.dump(items, open(sys.argv[2], 'w'), ensure_ascii=False, indent=0)" \
    $d/sentiment-$part.json "$work/named-$part.json" $sentiment_names
done
$train classify --data $d/sentiment-train.json $sentiment_opts \
  --label-names $sentiment_names --output "$out/sentiment.safetensors"
$evaluate classify --model "$out/sentiment.safetensors" \
  --data "$work/named-test.json" > "$work/sentiment-eval.csv"
for src in amazon imdb yelp; do
  $py tools/baselines.py select "$work/only-$src.json" --sources $src \
    "$work/named-test.json"
  $evaluate classify --model "$out/sentiment.safetensors" \
    --data "$work/only-$src.json" > "$work/sentiment-eval-$src.csv"
  others=$(echo amazon imdb yelp | tr ' ' '\n' | grep -v $src | paste -sd,)
  $py tools/baselines.py select "$work/train-not-$src.json" --sources "$others" \
    $d/sentiment-train.json $d/sentiment-test.json
  $py tools/baselines.py select "$work/test-$src.json" --sources $src \
    "$work/named-train.json" "$work/named-test.json"
  $train classify --data "$work/train-not-$src.json" $sentiment_opts --quiet \
    --label-names $sentiment_names \
    --output "$work/sentiment-not-$src.safetensors"
  $evaluate classify --model "$work/sentiment-not-$src.safetensors" \
    --data "$work/test-$src.json" > "$work/sentiment-cross-$src.csv"
done

# ------------------------------------------------------------------ report
{
  echo "### Forecast: yearly sunspots (MAE, sunspot number; lower is better)"
  echo
  echo "| model | held-out rows | model MAE | persistence | seasonal naive |"
  echo "|---|---|---|---|---|"
  $py tools/baselines.py forecast "$work/forecast-eval.csv" \
    --column sunactivity --test-from 1960 --season 11 \
    --name "2x64 LSTM, window 32 (shipped)"
  $py tools/baselines.py forecast "$work/forecast-carried-eval.csv" \
    --column sunactivity --test-from 1960 --season 11 \
    --name "same model, state carried (window=0)"
  $py tools/baselines.py forecast "$work/forecast-bptt-eval.csv" \
    --column sunactivity --test-from 1960 --season 11 \
    --name "2x64 LSTM, truncated BPTT 32, state carried"
  echo
  echo "### Anomaly: sensor network, 4 motes never seen in training (4 events)"
  echo
  echo "| data | detector | detected / labelled events | event precision | event recall | event F1 | frame F1 |"
  echo "|---|---|---|---|---|---|---|"
  $py tools/baselines.py anomaly $d/sensors-train.csv $d/sensors-test.csv \
    "$work/anomaly-eval.csv" --threshold "$threshold" --name "test motes"
  echo
  echo "### Sentiment: labelled sentences (accuracy)"
  echo
  echo "| model, test data | texts | accuracy | word-list (AFINN) baseline |"
  echo "|---|---|---|---|"
  $py tools/baselines.py classify "$work/sentiment-eval.csv" \
    --name "shipped, held-out 20% of all three" \
    --baseline "0.729 (mean of the three)"
  for src in amazon imdb yelp; do
    case $src in amazon) b=0.726;; imdb) b=0.765;; yelp) b=0.696;; esac
    $py tools/baselines.py classify "$work/sentiment-eval-$src.csv" \
      --name "shipped, held-out 20% of $src" --baseline $b
  done
  for src in amazon imdb yelp; do
    case $src in amazon) b=0.726;; imdb) b=0.765;; yelp) b=0.696;; esac
    $py tools/baselines.py classify "$work/sentiment-cross-$src.csv" \
      --name "trained on the other two, all of $src" --baseline $b
  done
} > "$report"
cat "$report"
echo "report written to $report"
