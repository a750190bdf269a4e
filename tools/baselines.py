#!/usr/bin/python3
"""Data preparation, simple baselines and metrics for the shipped models.

Run with Debian's /usr/bin/python3 (numpy). Used by tools/train_models.sh:

  baselines.py prepare DATA_DIR OUT_DIR   derive models/data/ from ../shared/data
  baselines.py forecast EVAL.csv --column C --test-from T --season S
  baselines.py anomaly TRAIN.csv TEST.csv EVAL.csv --threshold X
  baselines.py select OUT.json --sources a,b IN.json...
  baselines.py classify EVAL.csv [EVAL.csv ...] --name NAME

EVAL.csv files are what tools/rnn-eval prints: the model run through the C
engine exactly as the elements run it. Each metric command prints one or more
Markdown table rows (model next to baseline on the same rows).
"""
import argparse
import csv
import json
import os
import random
import sys

import numpy as np


# ------------------------------------------------------------------ prepare

def prepare(data_dir, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    # Sunspots: copied as is.
    with open(os.path.join(data_dir, "timeseries", "sunspots.csv")) as f:
        rows = list(csv.reader(f))
    with open(os.path.join(out_dir, "sunspots.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["year", "sunactivity"])
        for r in rows[1:]:
            w.writerow([r[0], r[1]])
    # Sensors: the motes without an event train, the motes with one test
    # (no row of a test mote is seen in training). One indoor and one
    # outdoor mote of each deployment on each side. Columns: sensor
    # (deployment/mote), humidity, temperature, label.
    parts = {"single-hop": ("s", {"2", "3"}), "multi-hop": ("m", {"2", "4"})}
    out = {"train": [], "test": []}
    for part, (tag, train_motes) in parts.items():
        src = os.path.join(data_dir, "sensors", "suthaharan-%s.csv" % part)
        with open(src) as f:
            for r in csv.DictReader(f):
                side = "train" if r["mote_id"] in train_motes else "test"
                out[side].append([tag + r["mote_id"], r["humidity"],
                                  r["temperature"], r["label"]])
    for side, rows in out.items():
        with open(os.path.join(out_dir, "sensors-%s.csv" % side), "w",
                  newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["sensor", "humidity", "temperature", "label"])
            w.writerows(rows)
    # Sentiment: per source, a seeded 80/20 split; train = the three 80%,
    # test = the three 20%; each record keeps its source.
    rng = random.Random(20151001)
    train, test = [], []
    for src in ("amazon", "imdb", "yelp"):
        with open(os.path.join(data_dir, "sentiment", src + ".json")) as f:
            items = json.load(f)
        # Each file ends with an empty, unlabelled record: left out.
        items = [{"text": it["text"], "class": int(it["class"]),
                  "source": src}
                 for it in items if it.get("class") is not None]
        idx = list(range(len(items)))
        rng.shuffle(idx)
        cut = int(0.8 * len(items))
        train += [items[i] for i in idx[:cut]]
        test += [items[i] for i in idx[cut:]]
    rng.shuffle(train)
    for name, items in (("train", train), ("test", test)):
        with open(os.path.join(out_dir, "sentiment-%s.json" % name), "w") as f:
            json.dump(items, f, ensure_ascii=False, indent=0)


def select(out, sources, inputs):
    """The records of the given sources from the input files."""
    items = []
    for p in inputs:
        with open(p) as f:
            items += [it for it in json.load(f) if it["source"] in sources]
    random.Random(7).shuffle(items)
    with open(out, "w") as f:
        json.dump(items, f, ensure_ascii=False, indent=0)


# ----------------------------------------------------------------- forecast

def read_eval(path):
    with open(path) as f:
        r = csv.reader(f)
        head = next(r)
        rows = [row for row in r]
    return head, rows


def forecast(args):
    head, rows = read_eval(args.eval)
    col = head.index(args.column)
    pcol = head.index("pred_" + args.column)
    t = np.array([float(r[0]) for r in rows])
    x = np.array([float(r[col]) for r in rows])
    p = np.array([float(r[pcol]) if r[pcol] else np.nan for r in rows])
    test = np.where(t >= args.test_from)[0]
    s = args.season
    assert test[0] >= s, "the test part needs a season of history"
    mae = lambda a: float(np.mean(np.abs(a)))
    m = mae(p[test] - x[test])
    pers = mae(x[test - 1] - x[test])
    seas = mae(x[test - s] - x[test])
    print("| %s | %d rows from %g | %.2f | %.2f | %.2f (period %d) |"
          % (args.name, len(test), args.test_from, m, pers, seas, s))


# ------------------------------------------------------------------ anomaly

def runs(flags):
    """[start, end) of the runs of True."""
    out, start = [], None
    for i, f in enumerate(flags):
        if f and start is None:
            start = i
        elif not f and start is not None:
            out.append((start, i))
            start = None
    if start is not None:
        out.append((start, len(flags)))
    return out


def event_scores(groups, labels, flags):
    """Event precision/recall/F1: a labelled event is found when a detected
    event overlaps it; a detected event is right when it overlaps a
    labelled one. Per group (sensor), then summed. Also point F1."""
    tp_l = n_l = tp_d = n_d = 0
    pt_tp = pt_fp = pt_fn = 0
    for g in np.unique(groups):
        sel = groups == g
        lab, fl = labels[sel].astype(bool), flags[sel].astype(bool)
        le, de = runs(lab), runs(fl)
        n_l += len(le)
        n_d += len(de)
        tp_l += sum(1 for a, b in le if fl[a:b].any())
        tp_d += sum(1 for a, b in de if lab[a:b].any())
        pt_tp += int((lab & fl).sum())
        pt_fp += int((~lab & fl).sum())
        pt_fn += int((lab & ~fl).sum())
    p = tp_d / n_d if n_d else 0.0
    r = tp_l / n_l if n_l else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    pp = pt_tp / (pt_tp + pt_fp) if pt_tp + pt_fp else 0.0
    pr = pt_tp / (pt_tp + pt_fn) if pt_tp + pt_fn else 0.0
    pf = 2 * pp * pr / (pp + pr) if pp + pr else 0.0
    return dict(p=p, r=r, f=f, n_det=n_d, n_lab=n_l, point_f=pf)


def zscore_flags(groups, x, window, k):
    """Rolling z-score detector: a frame is anomalous when any feature lies
    more than k standard deviations from the mean of the previous `window`
    frames of the same sensor."""
    flags = np.zeros(len(x), bool)
    for g in np.unique(groups):
        idx = np.where(groups == g)[0]
        v = x[idx]
        c = np.cumsum(np.vstack([np.zeros((1, v.shape[1])), v]), 0)
        c2 = np.cumsum(np.vstack([np.zeros((1, v.shape[1])), v * v]), 0)
        if len(v) <= window:
            continue
        n = window
        m = (c[n:len(v)] - c[:len(v) - n]) / n          # mean of v[i-n:i]
        var = np.maximum((c2[n:len(v)] - c2[:len(v) - n]) / n - m * m, 1e-6)
        z = np.abs(v[n:] - m) / np.sqrt(var)
        flags[idx[n:]] = (z >= k).any(axis=1)
    return flags


def load_sensor(path):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    g = np.array([r["sensor"] for r in rows])
    x = np.array([[float(r["humidity"]), float(r["temperature"])]
                  for r in rows])
    lab = np.array([int(r["label"]) for r in rows])
    return g, x, lab


def zscore_max(groups, x, window):
    """Largest |z| of the rolling detector over a (normal) file."""
    top = 0.0
    for g in np.unique(groups):
        v = x[groups == g]
        n = window
        c = np.cumsum(np.vstack([np.zeros((1, v.shape[1])), v]), 0)
        c2 = np.cumsum(np.vstack([np.zeros((1, v.shape[1])), v * v]), 0)
        m = (c[n:len(v)] - c[:len(v) - n]) / n
        var = np.maximum((c2[n:len(v)] - c2[:len(v) - n]) / n - m * m, 1e-6)
        top = max(top, float((np.abs(v[n:] - m) / np.sqrt(var)).max()))
    return top


def anomaly(args):
    g, x, lab = load_sensor(args.test)
    head, rows = read_eval(args.eval)
    score = np.array([float(r[-1]) for r in rows])
    assert len(score) == len(g), "evaluation rows differ from the test file"
    m = event_scores(g, lab, score >= args.threshold)
    # Baseline calibrated like the model, on normal data only: a 5-minute
    # window (60 frames) and k = 1.25 x the largest |z| seen on the normal
    # training file (the model: 1.25 x its largest normal score).
    gt, xt, _ = load_sensor(args.train)
    W = 60
    k = 1.25 * zscore_max(gt, xt, W)
    b = event_scores(g, lab, zscore_flags(g, x, W, k))
    # And the z-score detector at its best on the test labels themselves
    # (an upper bound no detector calibrated without labels can claim).
    best = None
    for w in (12, 60, 180, 720):
        for kk in (3, 4, 5, 6, 8, 10, 15, 20, 30):
            s = event_scores(g, lab, zscore_flags(g, x, w, kk))
            key = (s["f"], s["point_f"])
            if best is None or key > best[0]:
                best = (key, w, kk, s)
    _, bw, bk, bs = best
    for name, s in (("GRU one-step forecaster, threshold %.3g"
                     % args.threshold, m),
                    ("rolling z-score, window %d, k %.3g (same rule)"
                     % (W, k), b),
                    ("rolling z-score, window %d, k %g (best on the test "
                     "labels)" % (bw, bk), bs)):
        print("| %s | %s | %d / %d | %.2f | %.2f | %.2f | %.2f |"
              % (args.name, name, s["n_det"], s["n_lab"], s["p"], s["r"],
                 s["f"], s["point_f"]))


# ----------------------------------------------------------------- classify

def classify(args):
    n = ok = 0
    for p in args.eval:
        _, rows = read_eval(p)
        for r in rows:
            n += 1
            ok += r[1] == r[2]      # no prediction (no token) counts wrong
    print("| %s | %d | %.3f | %s |" % (args.name, n, ok / n, args.baseline))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("data_dir")
    p.add_argument("out_dir")
    p = sub.add_parser("select")
    p.add_argument("out")
    p.add_argument("--sources", required=True)
    p.add_argument("inputs", nargs="+")
    p = sub.add_parser("forecast")
    p.add_argument("eval")
    p.add_argument("--name", default="forecast")
    p.add_argument("--column", required=True)
    p.add_argument("--test-from", type=float, required=True)
    p.add_argument("--season", type=int, required=True)
    p = sub.add_parser("anomaly")
    p.add_argument("train")
    p.add_argument("test")
    p.add_argument("eval")
    p.add_argument("--name", default="anomaly")
    p.add_argument("--threshold", type=float, required=True)
    p = sub.add_parser("classify")
    p.add_argument("eval", nargs="+")
    p.add_argument("--name", default="classify")
    p.add_argument("--baseline", default="")
    a = ap.parse_args()
    if a.cmd == "prepare":
        prepare(a.data_dir, a.out_dir)
    elif a.cmd == "select":
        select(a.out, a.sources.split(","), a.inputs)
    elif a.cmd == "forecast":
        forecast(a)
    elif a.cmd == "anomaly":
        anomaly(a)
    else:
        classify(a)


if __name__ == "__main__":
    sys.exit(main())
