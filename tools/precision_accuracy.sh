#!/bin/sh
# Accuracy of the shipped models in each precision of their recurrent weights
# (f32, bf16, int8), run through the C engine as the elements run them
# (rnn-eval --precision), on the held-out data of docs/models.md, next to
# the same baselines. Usage: sh tools/precision_accuracy.sh [builddir]
# Needs Debian's /usr/bin/python3 with numpy (tools/baselines.py).
set -eu
build=${1:-build}
py=/usr/bin/python3
d=models/data
evaluate=$build/tools/rnn-eval
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ninja -C "$build" tools/rnn-eval >/dev/null

threshold=$($py -c "import json,struct,sys; f=open(sys.argv[1],'rb'); \
n=struct.unpack('<Q',f.read(8))[0]; \
print(json.loads(f.read(n))['__metadata__']['anomaly.threshold'])" \
  models/anomaly.safetensors)
$py -c "import json, sys; names = ['negative', 'positive']; \
items = json.load(open(sys.argv[1])); \
[it.update({'class': names[int(it['class'])]}) for it in items]; \
json.dump(items, open(sys.argv[2], 'w'), ensure_ascii=False, indent=0)" \
  $d/sentiment-test.json "$work/named-test.json"

for p in f32 bf16 int8; do
  $evaluate signal --precision $p --model models/forecast.safetensors \
    --data $d/sunspots.csv --time-column year > "$work/forecast-$p.csv"
  $evaluate signal --precision $p --model models/anomaly.safetensors \
    --data $d/sensors-test.csv --group-column sensor --label-column label \
    > "$work/anomaly-$p.csv"
  $evaluate classify --precision $p --model models/sentiment.safetensors \
    --data "$work/named-test.json" > "$work/sentiment-$p.csv"
done

echo "### Forecast: yearly sunspots 1960-2008 (MAE, sunspot number)"
echo
echo "| precision | held-out rows | model MAE | persistence | seasonal naive |"
echo "|---|---|---|---|---|"
for p in f32 bf16 int8; do
  $py tools/baselines.py forecast "$work/forecast-$p.csv" \
    --column sunactivity --test-from 1960 --season 11 --name "$p"
done
echo
$py - "$work" <<'PY'
import csv, sys
w = sys.argv[1]
def col(path, name):
    with open(path) as f:
        return [float(r[name]) for r in csv.DictReader(f)]
for kind, names in (("forecast", None), ("anomaly", None)):
    ref = list(csv.DictReader(open(f"{w}/{kind}-f32.csv")))
    cols = [c for c in ref[0] if c not in ("time", "label", "sensor", "group")]
    for p in ("bf16", "int8"):
        other = list(csv.DictReader(open(f"{w}/{kind}-{p}.csv")))
        diff = max(abs(float(a[c]) - float(b[c])) for a, b in zip(ref, other)
                   for c in cols if a[c] not in ("", "nan") and b[c] not in ("", "nan"))
        print(f"- {kind}: largest difference of any output, {p} vs f32: {diff:.4g}")
PY
echo
echo "### Anomaly: sensor network, 4 held-out motes (4 events)"
echo
echo "| precision | detector | detected / labelled events | event precision | event recall | event F1 | frame F1 |"
echo "|---|---|---|---|---|---|---|"
for p in f32 bf16 int8; do
  $py tools/baselines.py anomaly $d/sensors-train.csv $d/sensors-test.csv \
    "$work/anomaly-$p.csv" --threshold "$threshold" --name "$p"
done
echo
echo "### Sentiment: held-out 20% of the labelled sentences (accuracy)"
echo
echo "| precision | texts | accuracy | word-list (AFINN) baseline |"
echo "|---|---|---|---|"
for p in f32 bf16 int8; do
  $py tools/baselines.py classify "$work/sentiment-$p.csv" --name "$p" \
    --baseline "0.729 (mean of the three)"
done
