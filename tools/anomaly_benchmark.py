#!/usr/bin/env python3
"""Hourly-temperature anomaly benchmark for gruanomaly (python3 standard library only).

    python3 tools/anomaly_benchmark.py --rnn-train build/tools/rnn-train \
        --rnn-eval build/tools/rnn-eval [--data models/data/seattle-temperature-hourly.csv] \
        [--work /tmp/anomaly-benchmark] [--check]

A year of clean hourly temperatures (Seattle, NOAA 1981-2010 hourly normals, 8,759 hours;
models/SOURCES.md). `rnn-train anomaly` trains on the first 60% (5,255 hours, January to
early August) with its defaults and seed 1. Five anomalies are then injected into the
remaining 40% (3,504 hours; positions are hours after the training part, sizes against the
series' hour-to-hour change, whose standard deviation is 0.64 degC):

| anomaly | hours | what is done to the temperature |
|---|---|---|
| spike | 300 | +5 degC for one hour |
| dip | 900 | -5 degC for one hour |
| level shift | 1500-1511 | +3 degC for 12 hours |
| flatline | 2100-2123 | held at hour 2099's value for 24 hours |
| noise burst | 2700-2723 | plus Gaussian noise, standard deviation 1.5 degC (random.Random(9)) for 24 hours |

Each anomaly's labelled window runs from its first hour to 6 hours after its last (the
return from a shift or a flatline is part of it). The whole year runs through the element
(`rnn-eval anomaly`, the training part as its probation: not scored), once with the
element's defaults and once with scoring=fixed (the normative score with the model's
calibrated threshold), next to a rolling z-score of the previous week (168 hours, |z| >= 4)
on the same frames. A start outside the windows is a false alarm; a window with a start is
an anomaly found.

--check exits 1 unless the default mode has at most 3 false alarms and finds at least 4 of
the 5 anomalies.
"""
import argparse, csv, json, os, random, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
ANOMALIES = [  # (name, first hour after the training part, hours)
    ("spike", 300, 1),
    ("dip", 900, 1),
    ("12-hour level shift", 1500, 12),
    ("24-hour flatline", 2100, 24),
    ("24-hour noise burst", 2700, 24),
]
AFTER = 6           # hours after an anomaly still in its window
TRAIN_FRACTION = 0.6
BASELINE = ("168", "4")
MAX_FALSE, MIN_FOUND = 3, 4


def inject(values, n_train):
    v = list(values)
    rng = random.Random(9)
    for name, at, hours in ANOMALIES:
        a = n_train + at
        if name == "spike":
            v[a] += 5.0
        elif name == "dip":
            v[a] -= 5.0
        elif "shift" in name:
            for i in range(a, a + hours):
                v[i] += 3.0
        elif "flatline" in name:
            for i in range(a, a + hours):
                v[i] = v[a - 1]
        else:
            for i in range(a, a + hours):
                v[i] += rng.gauss(0.0, 1.5)
    return v


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rnn-train", required=True)
    ap.add_argument("--rnn-eval", required=True)
    ap.add_argument("--data", default=os.path.join(HERE, "..", "models", "data",
                                                   "seattle-temperature-hourly.csv"))
    ap.add_argument("--work", default="/tmp/anomaly-benchmark")
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)

    with open(args.data, newline="") as f:
        rows = list(csv.DictReader(f))
    times = [r["date"] for r in rows]
    temps = [float(r["temperature"]) for r in rows]
    n = len(rows)
    n_train = int(TRAIN_FRACTION * n)

    train = os.path.join(args.work, "train.csv")
    with open(train, "w") as f:
        f.write("date,temperature\n")
        for t, v in zip(times[:n_train], temps[:n_train]):
            f.write("%s,%s\n" % (t, repr(v)))
    model = os.path.join(args.work, "temperature.safetensors")
    t0 = time.time()
    subprocess.run([args.rnn_train, "anomaly", "--data", train, "--columns", "temperature",
                    "--time-column", "date", "--seed", "1", "--quiet", "--output", model],
                   check=True)
    t_train = time.time() - t0

    year = os.path.join(args.work, "year.csv")
    with open(year, "w") as f:
        f.write("date,temperature\n")
        for t, v in zip(times, inject(temps, n_train)):
            f.write("%s,%.4f\n" % (t, v))
    windows = os.path.join(args.work, "windows.txt")
    with open(windows, "w") as f:
        f.write("# injected anomalies: first hour, last hour + %d\n" % AFTER)
        for name, at, hours in ANOMALIES:
            a = n_train + at
            f.write("%s,%s\n" % (times[a], times[min(a + hours - 1 + AFTER, n - 1)]))

    results = {}
    t0 = time.time()
    for mode, extra in (("default", []), ("fixed", ["--element-args", "scoring=fixed"])):
        js = os.path.join(args.work, "%s.json" % mode)
        out = subprocess.run([args.rnn_eval, "anomaly", "--model", model, "--data", year,
                              "--time-column", "date", "--windows", windows,
                              "--probation", str(n_train), "--baseline-window", BASELINE[0],
                              "--baseline-threshold", BASELINE[1], "--json", js,
                              "--output", os.path.join(args.work, "%s.csv" % mode)] + extra,
                             check=True, capture_output=True, text=True).stdout
        print(out)
        with open(js) as f:
            results[mode] = json.load(f)
    t_eval = time.time() - t0

    dets = [("gruanomaly, default settings", results["default"]["detectors"][0]),
            ("gruanomaly, scoring=fixed", results["fixed"]["detectors"][0]),
            ("rolling z-score, previous 168 h, |z| >= 4", results["default"]["detectors"][1])]
    clean = results["default"]["clean_frames"]
    print("Hourly temperatures: trained on hours 0-%d, scored on %d-%d (%d clean hours, "
          "5 injected anomalies)\n" % (n_train - 1, n_train, n - 1, clean))
    print("| detector | false alarms | per 1,000 clean hours | anomalies found | missed |"
          " mean delay (h) | NAB standard |")
    print("|---|---|---|---|---|---|---|")
    for label, d in dets:
        missed = [ANOMALIES[k][0] for k, f in enumerate(d["first_start"]) if f < 0]
        delay = "%.1f" % (d["delay_seconds"] / 3600) if d["delay_seconds"] is not None else "-"
        print("| %s (%s) | %d | %.2f | %d / 5 | %s | %s | %.1f |" % (
            label, d["name"], d["false_alarms"], d["false_alarms_per_1000"],
            d["windows_found"], ", ".join(missed) or "none", delay, d["nab"]["standard"]))
    print("\n(training %.1f s, evaluation %.1f s; files in %s)" % (t_train, t_eval, args.work))

    d = dets[0][1]
    ok = d["false_alarms"] <= MAX_FALSE and d["windows_found"] >= MIN_FOUND
    print("target (default mode: at most %d false alarms, at least %d of 5 found): %s"
          % (MAX_FALSE, MIN_FOUND, "met" if ok else "MISSED (%d false alarms, %d found)"
             % (d["false_alarms"], d["windows_found"])))
    if args.check and not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
