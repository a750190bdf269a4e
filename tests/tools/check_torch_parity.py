#!/usr/bin/python3
"""Models written by rnn-train load in PyTorch and give the outputs the C
engine gives (printed by rnn-eval, which runs them as the elements do).

usage: check_torch_parity.py RNN_TRAIN RNN_EVAL DATA_DIR WORK_DIR FIXTURES_DIR
Run with Debian's /usr/bin/python3 (torch 1.13).
"""
import csv
import json
import math
import os
import subprocess
import sys

import numpy as np
import torch
import torch.nn as nn

train, evaluate, data_dir, work, fixtures = sys.argv[1:6]
sys.path.insert(0, fixtures)
import stio  # noqa: E402

os.makedirs(work, exist_ok=True)
ATOL, RTOL = 1e-5, 1e-4
failed = 0


def check(ok, msg):
    global failed
    print("%s: %s" % ("ok" if ok else "FAIL", msg))
    failed += not ok


def run(*args):
    r = subprocess.run(list(args), capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stderr)
        raise SystemExit("command failed: %s" % " ".join(args))
    return r.stdout


def build(tensors, meta):
    """PyTorch modules from the state_dict names (SPEC section 4)."""
    prefix = [k[:-len(".weight_ih_l0")] for k in tensors
              if k.endswith(".weight_ih_l0")][0]
    layers = 1 + max(int(k.split("_l")[-1].split("_")[0]) for k in tensors
                     if k.startswith(prefix + ".weight_ih_l"))
    bidir = any(k.endswith("_reverse") for k in tensors)
    w = tensors[prefix + ".weight_ih_l0"]
    whh = tensors[prefix + ".weight_hh_l0"]
    H = whh.shape[1]
    G = whh.shape[0] // H
    cls = {4: nn.LSTM, 3: nn.GRU, 1: nn.RNN}[G]
    rnn = cls(w.shape[1], H, layers, batch_first=True, bidirectional=bidir)
    rnn.load_state_dict({k[len(prefix) + 1:]: v for k, v in tensors.items()
                         if k.startswith(prefix + ".")})
    fc = nn.Linear(tensors["fc.weight"].shape[1], tensors["fc.weight"].shape[0])
    fc.load_state_dict({"weight": tensors["fc.weight"],
                        "bias": tensors["fc.bias"]})
    emb = None
    if "embedding.weight" in tensors:
        e = tensors["embedding.weight"]
        emb = nn.Embedding(e.shape[0], e.shape[1], padding_idx=0)
        emb.load_state_dict({"weight": e})
    return rnn.eval(), fc.eval(), emb


def signal_case(task, extra, name, shipped=None):
    """Train a small model (or take @shipped = (model, data, eval options))
    and compare rnn-eval's output with PyTorch's."""
    log = None
    if shipped:
        model, data, ev_cols = shipped
    else:
        model = os.path.join(work, name + ".safetensors")
        data = os.path.join(data_dir, "tiny-forecast.csv"
                            if task == "forecast" else "tiny-anomaly.csv")
        cols = (["--columns", "value,other", "--time-column", "t"]
                if task == "forecast" else
                ["--group-column", "sensor", "--label-column", "label"])
        log = run(train, task, "--data", data, "--output", model, "--epochs",
                  "3", "--hidden", "12", "--seed", "2", *cols, *extra)
        ev_cols = (["--time-column", "t"] if task == "forecast" else
                   ["--group-column", "sensor", "--label-column", "label"])
    tensors, meta = stio.load(model)
    rnn, fc, _ = build(tensors, meta)
    mean = np.array(json.loads(meta["input.mean"]), np.float32)
    std = np.array(json.loads(meta["input.std"]), np.float32)
    omean = np.array(json.loads(meta["output.mean"]), np.float32)
    ostd = np.array(json.loads(meta["output.std"]), np.float32)
    window = int(meta.get("window", "0"))
    out = run(evaluate, "signal", "--model", model, "--data", data, *ev_cols)
    rows = list(csv.reader(out.splitlines()))
    head, rows = rows[0], rows[1:]
    F = len(mean)
    x = np.array([[float(v) for v in r[3:3 + F]] for r in rows], np.float32)
    groups = np.array([int(r[1]) for r in rows])
    wanted = 100 if not shipped else len(rows) - len(np.unique(groups))
    worst = 0.0
    ok = True
    n = 0
    with torch.no_grad():
        for g in np.unique(groups):
            idx = np.where(groups == g)[0]
            xn = torch.tensor((x[idx] - mean) / std).unsqueeze(0)
            if window == 0:
                y, _ = rnn(xn)
                pred = fc(y)[0].numpy() * ostd + omean   # pred of row t+1
                pairs = [(i, pred[i - 1]) for i in range(1, len(idx))]
            else:
                pairs = []
                for i in range(1, len(idx)):
                    lo = max(0, i - window)
                    y, _ = rnn(xn[:, lo:i])
                    pairs.append((i, fc(y)[0, -1].numpy() * ostd + omean))
            for i, p in pairs:
                c = np.array([float(v) for v in rows[idx[i]][3 + F:3 + 2 * F]])
                err = np.abs(c - p)
                worst = max(worst, float(err.max()))
                ok &= bool((err <= ATOL + RTOL * np.abs(p)).all())
                n += 1
    check(ok and n >= wanted, "%s (%s): %d C predictions match PyTorch, largest "
          "error %.3g" % (name, " ".join(extra) or "defaults", n, worst))
    if task == "anomaly" and not shipped:
        # The score of SPEC section 5 from the PyTorch predictions.
        em = np.array(json.loads(meta["anomaly.error_mean"]))
        es = np.array(json.loads(meta["anomaly.error_std"]))
        worst_s = 0.0
        with torch.no_grad():
            for g in np.unique(groups):
                idx = np.where(groups == g)[0]
                xn = (x[idx] - mean) / std
                y, _ = rnn(torch.tensor(xn).unsqueeze(0))
                pn = fc(y)[0].numpy()        # normalised prediction
                for i in range(1, len(idx)):
                    e = xn[i] - pn[i - 1]
                    s = math.sqrt(np.mean(((e - em) / es) ** 2))
                    c = float(rows[idx[i]][-1])
                    worst_s = max(worst_s, abs(c - s) / max(1.0, abs(s)))
        check(worst_s < 1e-3, "%s: anomaly scores match the SPEC formula on "
              "PyTorch predictions (largest relative error %.3g)"
              % (name, worst_s))
        # The calibration (docs/rnn-train.md) recomputed with PyTorch: the
        # normal runs (labelled rows cut a sensor's rows), the last 20% of
        # each as validation, errors of the validation frames with the state
        # carried from the run's start.
        labels = np.array([int(r[2]) for r in rows])
        errs = []
        with torch.no_grad():
            for g in np.unique(groups):
                idx = np.where(groups == g)[0]
                a = 0
                while a < len(idx):
                    while a < len(idx) and labels[idx[a]]:
                        a += 1
                    b = a
                    while b < len(idx) and not labels[idx[b]]:
                        b += 1
                    n = b - a
                    if n >= 4:
                        n_val = int(math.floor(n * 0.2))
                        xn = (x[idx[a:b]] - mean) / std
                        y, _ = rnn(torch.tensor(xn).unsqueeze(0))
                        pn = fc(y)[0].numpy()
                        for t in range(max(1, n - n_val), n):
                            errs.append(xn[t] - pn[t - 1])
                    a = b
        errs = np.array(errs, np.float64)
        em_t = errs.mean(0)
        es_t = errs.std(0, ddof=1)
        sc = np.sqrt((((errs - em_t) / es_t) ** 2).mean(1))
        thr_t = max(4.0, 1.25 * sc.max())
        thr = float(meta["anomaly.threshold"])
        import re
        m = re.search(r"calibration on (\d+) validation frames: max score "
                      r"([0-9.]+)", log)
        ok = (m is not None and int(m.group(1)) == len(errs)
              and abs(float(m.group(2)) - sc.max()) <= 2e-3 * sc.max()
              and np.allclose(em, em_t, rtol=1e-3, atol=1e-5)
              and np.allclose(es, es_t, rtol=1e-3, atol=1e-6)
              and abs(thr - thr_t) <= 1e-3 * thr_t + 1e-3)
        check(ok, "%s: anomaly.error_mean/std, largest normal score and "
              "threshold recomputed with PyTorch over %d validation frames "
              "(C: %s; PyTorch: max score %.4g, threshold %.4g)"
              % (name, len(errs), m.group(0) if m else "no calibration line",
                 sc.max(), thr_t))


def classify_case(extra, name, shipped=None):
    if shipped:
        model, data = shipped
    else:
        model = os.path.join(work, name + ".safetensors")
        data = os.path.join(data_dir, "tiny-texts.json")
        run(train, "classify", "--data", data, "--output", model, "--epochs",
            "3", "--hidden", "12", "--embed-dim", "6", "--quiet", "--seed",
            "4", *extra)
    tensors, meta = stio.load(model)
    rnn, fc, emb = build(tensors, meta)
    vocab = {t: i for i, t in enumerate(json.loads(meta["tokenizer.vocab"]))}
    labels = json.loads(meta["labels"])
    head = meta.get("head.input", "final_hidden")
    out = run(evaluate, "classify", "--model", model, "--data", data)
    rows = list(csv.reader(out.splitlines()))[1:]
    with open(data) as f:
        items = [it for it in json.load(f) if it["class"] is not None]
    import re
    worst, ok, n = 0.0, True, 0
    with torch.no_grad():
        for it, r in zip(items, rows):
            toks = re.findall(r"[^\W_]+", it["text"].lower())
            if not toks:
                continue
            ids = torch.tensor([[vocab.get(t, 1) for t in toks]])
            y, h = rnn(emb(ids))
            if isinstance(h, tuple):
                h = h[0]
            if head == "mean":
                feat = y[0].mean(0)
            elif head == "final_hidden_both":
                feat = torch.cat([h[-2, 0], h[-1, 0]])
            else:
                feat = h[-1, 0]
            p = torch.softmax(fc(feat), 0).numpy()
            k = int(p.argmax())
            conf = float(r[3])
            err = abs(conf - p[k])
            worst = max(worst, err)
            ok &= r[2] == labels[k] and err <= ATOL + RTOL * p[k]
            n += 1
    check(ok and n >= (50 if not shipped else len(items)), "%s (%s): %d C classifications match PyTorch, "
          "largest probability error %.3g" % (name, " ".join(extra), n, worst))


def unk_keys(tok):
    """The unknown-word class keys of docs/model-format.md, written again
    from the description (not from the C code)."""
    import unicodedata
    cats = [unicodedata.category(c) for c in tok]
    digits = sum(c.startswith("N") for c in cats)
    upper = sum(c in ("Lu", "Lt") for c in cats)
    n = len(tok)
    if digits == n:
        shape = "d"
    elif digits:
        shape = "dA"
    elif n >= 2 and upper == n:
        shape = "A"
    elif cats[0] in ("Lu", "Lt"):
        shape = "Aa"
    else:
        shape = "a"
    keys = []
    if not shape.startswith("d"):
        keys = ["<unk:%s:%s>" % (shape, tok[-k:].lower()) for k in (3, 2, 1)
                if n > k]
    return keys + ["<unk:%s>" % shape]


def token_id(tok, vocab, meta):
    if tok in vocab:
        return vocab[tok]
    if meta.get("tokenizer.unk_classes") == "shape-suffix":
        if meta.get("tokenizer.lowercase") == "false" and tok.lower() in vocab:
            return vocab[tok.lower()]
        for k in unk_keys(tok):
            if k in vocab:
                return vocab[k]
    return int(meta.get("tokenizer.unk_id", "1"))


def tag_case(extra, name, shipped=None, data=None):
    """The tutorial's BiLSTMTagger (embedding, recurrent stack, a linear
    layer at every token) loaded with the file's tensors tags each text as
    rnn-eval tag (the engine, as texttagger runs it) does."""
    import re
    if shipped:
        model = shipped
    else:
        model = os.path.join(work, name + ".safetensors")
        run(train, "tag", "--data", os.path.join(data_dir, "tiny-tagged.txt"),
            "--output", model, "--epochs", "3", "--hidden", "10",
            "--embed-dim", "6", "--quiet", "--seed", "4", *extra)
    tensors, meta = stio.load(model)
    rnn, fc, emb = build(tensors, meta)
    vocab = {t: i for i, t in enumerate(json.loads(meta["tokenizer.vocab"]))}
    labels = json.loads(meta["labels"])
    lower = meta.get("tokenizer.lowercase", "true") != "false"
    worst, ok, n, classes = 0.0, True, 0, 0
    for d in data:
        out = run(evaluate, "tag", "--model", model, "--data", d)
        rows = [r.split("\t") for r in out.splitlines()[1:]]
        rows = [r for r in rows if r[2]]
        with open(d) as f:
            sents = [ln.split() for ln in f if ln.strip()]
        k = 0
        with torch.no_grad():
            for s in sents:
                text = " ".join(it.rpartition("/")[0] for it in s)
                toks = re.findall(r"[^\W_]+", text.lower() if lower else text)
                if not toks:
                    continue
                ids = [token_id(t, vocab, meta) for t in toks]
                classes += sum(1 for t, i in zip(toks, ids)
                               if t not in vocab and i != 1)
                y, _ = rnn(emb(torch.tensor([ids])))
                p = torch.softmax(fc(y[0]), 1).numpy()
                for j, t in enumerate(toks):
                    r = rows[k]
                    k += 1
                    c = int(p[j].argmax())
                    err = abs(float(r[5]) - p[j, c])
                    worst = max(worst, err)
                    # rnn-eval prints the token as written
                    ok &= (r[2].lower() if lower else r[2]) == t and \
                        r[4] == labels[c] and err <= ATOL + RTOL * p[j, c]
                    n += 1
        ok &= k == len(rows)
    check(ok and n > 20, "%s (%s): %d C token tags match PyTorch's "
          "BiLSTMTagger (%d unseen tokens through their classes), largest "
          "probability error %.3g" % (name, " ".join(extra), n, classes,
                                      worst))


signal_case("forecast", [], "forecast-lstm-bptt")
signal_case("forecast", ["--cell", "gru", "--layers", "2", "--window", "10"],
            "forecast-gru-window")
signal_case("forecast", ["--cell", "rnn", "--layers", "1"], "forecast-rnn")
signal_case("anomaly", [], "anomaly-gru")
classify_case(["--pooling", "last"], "classify-lstm-last")
classify_case(["--pooling", "mean", "--cell", "gru"], "classify-gru-mean")
classify_case(["--bidirectional", "--layers", "2"], "classify-bilstm")
tag_data = [os.path.join(data_dir, "tiny-tagged.txt"),
            os.path.join(data_dir, "tiny-tagged-unseen.txt")]
tag_case([], "tag-bilstm", data=tag_data)
tag_case(["--cell", "gru", "--layers", "2", "--lowercase", "true"],
         "tag-bigru-l2-lower", data=tag_data)
tag_case(["--unk-classes", "none"], "tag-bilstm-plain", data=tag_data)
# The shipped models (models/), on their data, as tools/train_models.sh runs
# them.
models = os.path.join(fixtures, "..", "..", "models")
signal_case("forecast", ["shipped"], "models/forecast.safetensors",
            (os.path.join(models, "forecast.safetensors"),
             os.path.join(models, "data", "sunspots.csv"),
             ["--time-column", "year"]))
signal_case("anomaly", ["shipped"], "models/anomaly.safetensors",
            (os.path.join(models, "anomaly.safetensors"),
             os.path.join(models, "data", "sensors-test.csv"),
             ["--group-column", "sensor", "--label-column", "label"]))
classify_case(["shipped"], "models/sentiment.safetensors",
              (os.path.join(models, "sentiment.safetensors"),
               os.path.join(models, "data", "sentiment-test.json")))
if os.path.exists(os.path.join(models, "pos-tagger.safetensors")):
    tag_case(["shipped"], "models/pos-tagger.safetensors",
             os.path.join(models, "pos-tagger.safetensors"), tag_data)
print("%s" % ("all passed" if not failed else "%d failed" % failed))
sys.exit(1 if failed else 0)
