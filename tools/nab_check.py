#!/usr/bin/python3
"""Check rnn-eval anomaly's NAB score against the reference scorer.

    python3 tools/nab_check.py --rnn-eval build/tools/rnn-eval \
        --nab-dev ../shared/tools/nab-dev [--trainer build/tools/rnn-train] [FILE ...]
    python3 tools/nab_check.py --rnn-eval build/tools/rnn-eval \
        --nab-dev ../shared/tools/nab-dev --fixture tests/tools/nab

For each nab-dev series (default: a few small ones) it runs `rnn-eval anomaly` with the
series' windows and NAB's probation period, writes the start events of each detector as a
NAB results file, scores that file alone with nab-dev's score.py (a one-file corpus) and
compares score.py's normalised scores with rnn-eval's `nab_best` (the start events, or no
detection when that scores better, which is the choice NAB's threshold optimiser makes for
a 0/1 detector). Detectors: the rolling z-score at two settings and, with --trainer, gruanomaly
with a model trained on the probation rows as nab-dev's run.py trains it (default scoring and
scoring=fixed).

--fixture DIR writes DIR/expected.json: score.py's figures for the rolling z-score on the
series in DIR (DIR/windows.json names them), which tests/tools/test_eval_anomaly.py compares
rnn-eval's figures with.
"""
import argparse, csv, importlib.util, json, os, subprocess, sys, tempfile

DEFAULT_FILES = ["realAdExchange/exchange-3_cpc_results.csv",
                 "realKnownCause/rogue_agent_key_hold.csv",
                 "realTraffic/TravelTime_451.csv",
                 "artificialWithAnomaly/art_daily_jumpsdown.csv"]
BASELINES = [(100, 3.0), (500, 4.0)]
PROFILES = {"standard": "standard", "lowFP": "low_fp", "lowFN": "low_fn"}


def load_score_py(nab_dev):
    spec = importlib.util.spec_from_file_location("nab_score", os.path.join(nab_dev, "score.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def rnn_eval(exe, data, windows, work, extra):
    out, js = os.path.join(work, "out.csv"), os.path.join(work, "out.json")
    cmd = [exe, "anomaly", "--data", data, "--time-column", "timestamp", "--windows", windows,
           "--probation", "nab", "--output", out, "--json", js] + extra
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    with open(js) as f:
        res = json.load(f)
    with open(out, newline="") as f:
        rows = list(csv.DictReader(f))
    return res, rows


def reference(score_py, data_dir, windows, rel, rows, key, work):
    """score.py's normalised scores of the 0/1 column `key`_start on a one-file corpus."""
    res_dir = os.path.join(work, "results")
    os.makedirs(os.path.dirname(os.path.join(res_dir, rel)), exist_ok=True)
    with open(os.path.join(res_dir, rel), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["timestamp", "value", "anomaly_score"])
        for r in rows:
            w.writerow([r["timestamp"], r["value"], r[key + "_start"]])
    fig = score_py.score_dir(res_dir, data_dir, windows, None, quiet=True, out=lambda s: None)
    return fig["nab"]


def one_file_windows(windows_file, rel, work):
    with open(windows_file) as f:
        allw = json.load(f)
    path = os.path.join(work, "windows.json")
    with open(path, "w") as f:
        json.dump({rel: allw[rel]}, f)
    return path


def check(args, score_py, data_dir, rel, windows, work):
    data = os.path.join(data_dir, rel)
    runs = [("baseline", ["--baseline-window", str(w), "--baseline-threshold", str(z)])
            for w, z in BASELINES]
    if args.trainer:
        n = sum(1 for _ in open(data)) - 1
        prob = min(int(0.15 * n), 750)
        train = os.path.join(work, "train.csv")
        with open(data) as f, open(train, "w") as g:
            for i, line in enumerate(f):
                if i > prob:
                    break
                g.write(",".join(line.rstrip("\n").split(",")[1:2]) + "\n")
        model = os.path.join(work, "model.safetensors")
        subprocess.run([args.trainer, "anomaly", "--data", train, "--columns", "value",
                        "--output", model], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        runs += [("gruanomaly", ["--model", model]),
                 ("gruanomaly", ["--model", model, "--element-args", "scoring=fixed"])]
    worst, out = 0.0, []
    for key, extra in runs:
        res, rows = rnn_eval(args.rnn_eval, data, windows, work, extra)
        det = next(d for d in res["detectors"] if d["name"].startswith(
            "gruanomaly" if key == "gruanomaly" else "rolling"))
        ref = reference(score_py, data_dir, windows, rel, rows, key, work)
        for short, long in PROFILES.items():
            worst = max(worst, abs(ref[short] - det["nab_best"][long]))
        out.append((det["name"], det["starts"], det["nab"], det["nab_best"], ref))
    return worst, out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rnn-eval", required=True)
    ap.add_argument("--nab-dev", required=True)
    ap.add_argument("--trainer")
    ap.add_argument("--fixture")
    ap.add_argument("files", nargs="*")
    args = ap.parse_args()
    score_py = load_score_py(args.nab_dev)
    worst_all = 0.0
    with tempfile.TemporaryDirectory() as work:
        if args.fixture:
            windows = os.path.join(args.fixture, "windows.json")
            with open(windows) as f:
                files = sorted(json.load(f))
            expected = {}
            for rel in files:
                one = one_file_windows(windows, rel, work)
                expected[rel] = {}
                for w, z in BASELINES:
                    res, rows = rnn_eval(args.rnn_eval, os.path.join(args.fixture, rel), windows,
                                         work, ["--baseline-window", str(w),
                                                "--baseline-threshold", str(z)])
                    ref = reference(score_py, args.fixture, one, rel, rows, "baseline", work)
                    expected[rel]["%d,%g" % (w, z)] = {
                        "starts": res["detectors"][0]["starts"],
                        "nab": {PROFILES[k]: v for k, v in ref.items()}}
            with open(os.path.join(args.fixture, "expected.json"), "w") as f:
                json.dump({"generator": "tools/nab_check.py --fixture (score.py of nab-dev)",
                           "series": expected}, f, indent=1, sort_keys=True)
                f.write("\n")
            print("wrote %s" % os.path.join(args.fixture, "expected.json"))
            return
        for rel in args.files or DEFAULT_FILES:
            windows = one_file_windows(os.path.join(args.nab_dev, "labels", "windows.json"),
                                       rel, work)
            worst, out = check(args, score_py, os.path.join(args.nab_dev, "data"), rel, windows, work)
            worst_all = max(worst_all, worst)
            for name, starts, nab, best, ref in out:
                print("%-48s %-52s starts %4d  rnn-eval %7.3f/%7.3f/%7.3f (as posted %7.2f)"
                      "  score.py %7.3f/%7.3f/%7.3f" % (
                          rel, name, starts, best["standard"], best["low_fp"], best["low_fn"],
                          nab["standard"], ref["standard"], ref["lowFP"], ref["lowFN"]))
    print("largest difference from score.py: %.3g" % worst_all)
    sys.exit(0 if worst_all < 1e-9 else 1)


if __name__ == "__main__":
    main()
