#!/bin/sh
# gst-rnn demo: forecast the weekly Mauna Loa CO2 series with the shipped
# LSTM, one week ahead, in a real GStreamer pipeline, then print the
# forecasts next to the measured values and the held-out error next to two
# simple baselines.
#
#   sh examples/demo.sh            (after: meson setup build && meson compile -C build)
#
# Environment: BUILD (build directory, default build), OUT (forecast CSV,
# default $BUILD/co2-forecast.csv), ROWS (rows shown, default 12), PNG (plot
# of the held-out weeks, default $BUILD/co2-forecast.png).
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
OUT=${OUT:-$BUILD/co2-forecast.csv}
ROWS=${ROWS:-12}
PNG=${PNG:-$BUILD/co2-forecast.png}
DATA=examples/co2.csv
MODEL=models/co2-forecast.safetensors

if [ ! -f "$BUILD/plugin/libgstrnn.so" ]; then
  echo "demo: $BUILD/plugin/libgstrnn.so not found; build first:" >&2
  echo "  meson setup $BUILD && meson compile -C $BUILD" >&2
  exit 1
fi
GST_PLUGIN_PATH_1_0="$(pwd)/$BUILD/plugin${GST_PLUGIN_PATH_1_0:+:$GST_PLUGIN_PATH_1_0}"
export GST_PLUGIN_PATH_1_0

# One row = one week = one frame; csvparse's default rate=1 makes a week
# last one second of stream time, so the forecast written at time k is the
# forecast of data row k (lstmforecast stamps it one frame ahead).
# Blank weeks repeat the previous value (csvparse missing=previous).
PIPELINE="filesrc location=$DATA ! csvparse columns=co2 missing=previous ! lstmforecast model-file=$MODEL ! csvenc column-names=co2_forecast ! filesink location=$OUT"
echo "gst-launch-1.0 $PIPELINE"
# shellcheck disable=SC2086
gst-launch-1.0 -q $PIPELINE

awk -F, -v rows="$ROWS" -v out="$OUT" '
  FNR == 1 { file++ }
  # the data: skip comments and the header; k counts data rows from 0
  file == 1 && /^#/ { next }
  file == 1 && !seen_header { seen_header = 1; next }
  file == 1 {
    date[n] = $1; have[n] = ($2 != "")
    if (have[n]) last = $2
    act[n] = $2; filled[n] = last      # previous-filled, as the pipeline saw it
    n++; next
  }
  # the forecasts: time (s) = row index, value
  file == 2 && FNR > 1 { fc[$1 + 0] = $2; nf++ }
  END {
    if (nf == 0) { print "demo: no forecasts in " out > "/dev/stderr"; exit 1 }
    first = int(0.8 * n)     # the held-out part the model never saw
    printf "\nLast %d weeks (ppm):\n", rows
    printf "%-10s %9s %9s %9s %12s\n", "week", "measured", "forecast", "error", "last week"
    for (k = n - rows; k < n; k++)
      printf "%-10s %9s %9.2f %9s %12.1f\n", date[k], have[k] ? act[k] : "(blank)", fc[k],
        have[k] ? sprintf("%+.2f", fc[k] - act[k]) : "", filled[k - 1]
    m = 0; e = 0; p = 0; s = 0
    for (k = first; k < n; k++) {
      if (!have[k]) continue
      m++
      e += abs(fc[k] - act[k])
      p += abs(filled[k - 1] - act[k])
      s += abs(filled[k - 52] - act[k])
    }
    printf "\nHeld-out weeks %s..%s (%d measured), mean absolute error of the one-week forecast:\n",
      date[first], date[n - 1], m
    printf "  LSTM (lstmforecast)            %.3f ppm\n", e / m
    printf "  persistence (repeat last week) %.3f ppm\n", p / m
    printf "  seasonal naive (52 weeks ago)  %.3f ppm\n", s / m
    printf "Forecasts for all %d weeks: %s\n", nf, out
  }
  function abs(x) { return x < 0 ? -x : x }
' "$DATA" "$OUT"

# Forecast against measured for the held-out weeks (the last 20% of the data
# rows, as above) as a picture, with tools/rnn-plot (python3-matplotlib).
rows=$(grep -v '^#' "$DATA" | tail -n +2 | wc -l)
first=$((rows * 8 / 10))
if /usr/bin/python3 -c 'import matplotlib' 2>/dev/null; then
  /usr/bin/python3 tools/rnn-plot "$OUT" --actual "$DATA" --column co2 --dates date \
    --from "$first" --labels "LSTM forecast, one week ahead (lstmforecast)" \
    --ylabel "CO2 (ppm)" -o "$PNG" \
    --title "Mauna Loa weekly CO2, held-out weeks: forecast against measured"
else
  echo "demo: python3-matplotlib not installed: no plot (sh scripts/install-deps.sh)"
fi
