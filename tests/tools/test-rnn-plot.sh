#!/bin/sh
# rnn-plot on small csvenc files: a forecast over actuals (the mean absolute
# error it prints in the legend is checked by hand here: |11-10|, |19-20|,
# |33-30| -> 5/3), anomaly spans from a threshold (start at the first score
# >= threshold, end at the first one back below), and clear errors.
#   test-rnn-plot.sh RNN_PLOT
set -eu
plot=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
passes=0
ok () { echo "ok: $1"; passes=$((passes + 1)); }
bad () { echo "FAIL: $1"; fails=$((fails + 1)); }
png () { [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ]; }

printf 'x\n5\n10\n20\n30\n' >"$tmp/actual.csv"
printf 'time,f0\n1,11\n2,19\n3,33\n4,40\n' >"$tmp/forecast.csv"
if /usr/bin/python3 "$plot" "$tmp/forecast.csv" --actual "$tmp/actual.csv" --column x \
    -o "$tmp/f.png" >"$tmp/out" 2>&1 && png "$tmp/f.png"; then
  ok "forecast over actual: a PNG"
else
  bad "forecast over actual"; cat "$tmp/out"
fi
# the legend text is in the SVG output
if /usr/bin/python3 "$plot" "$tmp/forecast.csv" --actual "$tmp/actual.csv" --column x \
    -o "$tmp/f.svg" >"$tmp/out" 2>&1 && grep -q "mean absolute error 1.667 over 3 values" "$tmp/f.svg"; then
  ok "legend: mean absolute error 1.667 over the 3 matching times"
else
  bad "legend MAE"; cat "$tmp/out"
fi

printf 'time,score\n0,0\n1,12\n2,30\n3,2\n4,0\n5,15\n6,1\n7,11\n' >"$tmp/scores.csv"
if /usr/bin/python3 "$plot" "$tmp/scores.csv" --threshold 10 -o "$tmp/s.png" >"$tmp/out" 2>&1 \
    && png "$tmp/s.png" && grep -q "3 anomalies (score >= 10) 1-3 5-6 7-7" "$tmp/out"; then
  ok "scores: 3 anomalies shaded, 1-3, 5-6 and 7 (open at the end)"
else
  bad "scores spans"; cat "$tmp/out"
fi

if /usr/bin/python3 "$plot" "$tmp/actual.csv" -o "$tmp/x.png" >"$tmp/out" 2>&1; then
  bad "a file that is not csvenc output is refused"
elif grep -q "expected a csvenc file" "$tmp/out"; then
  ok "a file that is not csvenc output is refused with a reason"
else
  bad "refusal reason"; cat "$tmp/out"
fi
if /usr/bin/python3 "$plot" "$tmp/forecast.csv" --actual "$tmp/actual.csv" --column nope \
    -o "$tmp/x.png" >"$tmp/out" 2>&1; then
  bad "an unknown column is refused"
elif grep -q "has no column 'nope'" "$tmp/out"; then
  ok "an unknown column is refused, naming it"
else
  bad "unknown column reason"; cat "$tmp/out"
fi
echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
