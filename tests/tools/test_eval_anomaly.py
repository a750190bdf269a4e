#!/usr/bin/env python3
"""Tests of `rnn-eval anomaly` (python3 standard library only).

    test_eval_anomaly.py RNN_EVAL FIXTURES_DIR NAB_DIR WORK_DIR

- NAB scores of the rolling z-score's start events on two NAB series against expected.json
  (written from the reference Python scorer by tools/nab_check.py --fixture).
- gruanomaly run through the element: with scoring=fixed the start events are the
  up-crossings of the threshold in the element's own score output, and every figure of the
  report is recomputed here from the per-frame output.
- Windows from a label column and a windows file (merged), and clear errors on bad input.
"""
import csv, json, math, os, subprocess, sys

failures = []


def check(cond, what):
    print("%s - %s" % ("ok" if cond else "FAIL", what))
    if not cond:
        failures.append(what)


def run(args, expect_ok=True):
    p = subprocess.run([RNN_EVAL, "anomaly"] + args, capture_output=True, text=True)
    if expect_ok and p.returncode != 0:
        print(p.stderr)
    return p


def load(work, name):
    with open(os.path.join(work, name + ".json")) as f:
        res = json.load(f)
    with open(os.path.join(work, name + ".csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    return res, rows


def test_nab():
    with open(os.path.join(NAB, "expected.json")) as f:
        expected = json.load(f)["series"]
    for rel, runs in sorted(expected.items()):
        for setting, exp in sorted(runs.items()):
            w, z = setting.split(",")
            js = os.path.join(WORK, "nab.json")
            p = run(["--data", os.path.join(NAB, rel), "--time-column", "timestamp",
                     "--windows", os.path.join(NAB, "windows.json"), "--probation", "nab",
                     "--baseline-window", w, "--baseline-threshold", z, "--json", js])
            check(p.returncode == 0, "%s %s runs" % (rel, setting))
            if p.returncode:
                continue
            with open(js) as f:
                det = json.load(f)["detectors"][0]
            check(det["starts"] == exp["starts"], "%s %s: %d starts (expected %d)" % (
                rel, setting, det["starts"], exp["starts"]))
            for prof, v in sorted(exp["nab"].items()):
                got = det["nab_best"][prof]
                check(abs(got - v) < 1e-9, "%s %s NAB %s %.12g (reference %.12g)" % (
                    rel, setting, prof, got, v))


def write_series(path, n=1200, labelled=((600, 609), (900, 904))):
    """A sine with a spike at 605 and a step in 900..904; label rows 600-609 only (the
    second window comes from the windows file)."""
    with open(path, "w") as f:
        f.write("t,value,label\n")
        for i in range(n):
            v = math.sin(2 * math.pi * i / 50.0) + 0.05 * math.sin(i * 1.7)
            if i == 605:
                v += 6
            if 900 <= i <= 904:
                v += 3
            lab = int(labelled[0][0] <= i <= labelled[0][1])
            f.write("%d,%.6f,%d\n" % (i, v, lab))


def recompute(res, rows, key, prob):
    """The report's figures from the per-frame CSV."""
    wins = res["windows"]
    inwin = lambda i: any(a <= i <= b for a, b in wins)
    starts = [i for i, r in enumerate(rows) if r[key + "_start"] == "1" and i >= prob]
    hits = [i for i in starts if inwin(i)]
    clean = sum(1 for i in range(prob, len(rows)) if not inwin(i))
    firsts = []
    for a, b in wins:
        s = [i for i in starts if a <= i <= b]
        firsts.append(s[0] if s else -1)
    found = [(f, max(a, prob)) for f, (a, b) in zip(firsts, wins) if f >= 0]
    return {
        "starts": len(starts), "true_starts": len(hits), "false_alarms": len(starts) - len(hits),
        "false_alarms_per_1000": 1000.0 * (len(starts) - len(hits)) / clean,
        "precision": len(hits) / len(starts) if starts else None,
        "windows_found": len(found),
        "recall": len(found) / sum(1 for a, b in wins if b >= prob),
        "delay_frames": sum(f - a for f, a in found) / len(found) if found else None,
        "first_start": firsts,
    }


def test_element():
    data = os.path.join(WORK, "series.csv")
    write_series(data)
    wfile = os.path.join(WORK, "windows.txt")
    with open(wfile, "w") as f:
        f.write("# start,end (times of the t column)\n900,910\n")
    model = os.path.join(FIXTURES, "elements", "an_uni.safetensors")
    out, js = os.path.join(WORK, "el.csv"), os.path.join(WORK, "el.json")
    thr = 2.0
    p = run(["--model", model, "--data", data, "--columns", "value", "--time-column", "t",
             "--label-column", "label", "--windows", wfile, "--probation", "100",
             "--element-args", "scoring=fixed threshold=%g" % thr, "--baseline-window", "100",
             "--output", out, "--json", js])
    check(p.returncode == 0, "gruanomaly scoring=fixed runs")
    if p.returncode:
        return
    res, rows = load(WORK, "el")
    check(res["windows"] == [[600, 609], [900, 910]],
          "windows from the label column and the file: %s" % res["windows"])
    check(len(rows) == 1200, "one output row per frame")
    names = [d["name"] for d in res["detectors"]]
    check(names[0].startswith("gruanomaly scoring=fixed threshold=2 "), "element settings: %s"
          % names[0])
    # fixed scoring: an anomaly starts at each up-crossing of the threshold in the output
    score = [float(r["gruanomaly_score"]) for r in rows]
    ups = [i for i in range(len(score)) if score[i] >= thr and (i == 0 or score[i - 1] < thr)]
    starts = [i for i, r in enumerate(rows) if r["gruanomaly_start"] == "1"]
    check(starts == ups and len(starts) > 0, "start messages at the %d up-crossings" % len(ups))
    check(any(600 <= i <= 609 for i in starts), "the spike is detected")
    for d, key in zip(res["detectors"], ["gruanomaly", "baseline"]):
        exp = recompute(res, rows, key, 100)
        for k, v in exp.items():
            got = d[k]
            same = (got is None and v is None) or (
                got is not None and v is not None and (
                    got == v if isinstance(v, (int, list)) else abs(got - v) < 1e-9))
            check(same, "%s %s: %s (recomputed %s)" % (key, k, got, v))
        # t is a number of seconds: the delay in seconds equals the delay in frames
        if d["delay_frames"] is not None:
            check(abs(d["delay_seconds"] - d["delay_frames"]) < 1e-9, "%s delay in seconds" % key)
    # the default (adaptive) mode runs too, and its report names it
    p = run(["--model", model, "--data", data, "--columns", "value", "--label-column", "label",
             "--json", js])
    check(p.returncode == 0 and "gruanomaly scoring=adaptive" in p.stdout,
          "default scoring runs and is named")


def test_errors():
    data = os.path.join(WORK, "series.csv")
    model = os.path.join(FIXTURES, "elements", "an_uni.safetensors")
    base = ["--model", model, "--data", data, "--columns", "value", "--label-column", "label"]
    cases = [
        (base + ["--element-args", "no-such=1"], "no property 'no-such'"),
        (base + ["--element-args", "threshold=abc"], "not a valid value of threshold"),
        (base + ["--element-args", "scoring=magic"], "not a valid value of scoring"),
        (base + ["--element-args", "threshold"], "not name=value"),
        (["--model", model, "--data", data, "--columns", "value"], "--label-column"),
        (base + ["--probation", "x"], "--probation"),
        (base + ["--windows", os.path.join(WORK, "missing.txt")], "missing.txt"),
    ]
    bad = os.path.join(WORK, "badwin.txt")
    with open(bad, "w") as f:
        f.write("5000,5001\n")
    cases.append((base + ["--windows", bad], "not a frame number"))
    badt = os.path.join(WORK, "badwin.json")
    with open(badt, "w") as f:
        f.write('[["2020-01-01", "2020-01-02"]]')
    cases.append((base + ["--time-column", "t", "--windows", badt], "is not a time of"))
    rev = os.path.join(WORK, "rev.txt")
    with open(rev, "w") as f:
        f.write("20,10\n")
    cases.append((base + ["--windows", rev], "ends before it starts"))
    fc = os.path.join(FIXTURES, "elements", "fc_uni.safetensors")
    cases.append((["--model", fc] + base[2:], "not an anomaly model"))
    for args, msg in cases:
        p = run(args, expect_ok=False)
        check(p.returncode == 1 and msg in p.stderr and "rnn-eval" in p.stderr,
              "error naming %r (got %d: %s)" % (msg, p.returncode, p.stderr.strip()[:160]))


if __name__ == "__main__":
    RNN_EVAL, FIXTURES, NAB, WORK = sys.argv[1:5]
    os.makedirs(WORK, exist_ok=True)
    test_nab()
    test_element()
    test_errors()
    print("%d failures" % len(failures))
    sys.exit(1 if failures else 0)
