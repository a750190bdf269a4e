#!/usr/bin/python3
"""Train the demo forecaster: models/co2-forecast.safetensors.

Run from the repository root with Debian's Python (torch 1.13, CPU):
    /usr/bin/python3 tools/train_demo_forecaster.py

Data: the weekly Mauna Loa CO2 series (1958-2001, ppm), /work/shared/data
(or --data). The first 80% of the weeks train the model, the last 20% are
held out. Training fills the 59 blank weeks by linear interpolation; the
evaluation feeds the model exactly what the demo pipeline feeds it
(`csvparse missing=previous`: a blank week repeats the previous value) and
scores only weeks with a measured value.

The model forecasts next week's value after each week: an nn.LSTM named
`lstm` and an nn.Linear named `fc` applied to every frame. Two ways of
running it are trained and measured on the held-out part, and the better one
is saved:
  - stateful: truncated BPTT over the continuous series, the state carried
    for ever at run time (no `window` metadata);
  - windowed: each forecast from a zero state over the last WINDOW weeks
    (`window` metadata, which lstmforecast uses by default).
Inputs and outputs are normalised with the training mean and standard
deviation. The held-out years lie above the training range (the trend), so
one hidden unit is set up as a residual path that copies the input to the
head (see residual_init): the rest of the network learns next week's change.

Also writes examples/co2.csv (the shared file with an attribution comment)
and prints the held-out MAE next to persistence (repeat last week) and the
seasonal naive forecast (the value 52 weeks before).
Deterministic: fixed seeds, one thread.
"""
import argparse
import csv
import importlib.util
import json
import os
import time

import numpy as np
import torch
import torch.nn as nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = "/work/shared/data/timeseries/co2.csv"
HIDDEN = 32
WINDOW = 52
WARMUP = 12
SEED = 1958


def load_stio():
    path = os.path.join(ROOT, "tests", "fixtures", "stio.py")
    spec = importlib.util.spec_from_file_location("stio", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def read_series(path):
    dates, vals = [], []
    with open(path, newline="") as f:
        rows = [r for r in csv.reader(f) if r and not r[0].startswith("#")]
    for r in rows[1:]:
        dates.append(r[0])
        vals.append(float(r[1]) if r[1].strip() else np.nan)
    return dates, np.array(vals, dtype=np.float64)


def interpolate(v):
    idx = np.arange(len(v))
    ok = ~np.isnan(v)
    return np.interp(idx, idx[ok], v[ok])


def previous_fill(v):
    out = v.copy()
    for i in range(1, len(out)):
        if np.isnan(out[i]):
            out[i] = out[i - 1]
    return out


# The residual unit: hidden unit 0 of the LSTM is set up to copy its input
# (input and output gates open, forget gate shut, g = tanh(A * z) with a
# small A, so h0 = tanh(tanh(A z)) = A z to within 1e-4 relative for
# |z| < 4; the held-out weeks reach z = 3.2) and the head reads it back with weight 1/A. The other units then
# only have to learn next week's change, not the level, which keeps the
# model right where the level leaves the training range (the trend). The
# unit's parameters are kept fixed during training. PyTorch LSTM gate rows:
# i, f, g, o (each HIDDEN rows).
A = 0.005
GATE_BIAS = 20.0


def residual_init(model):
    H = model.lstm.hidden_size
    with torch.no_grad():
        for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"):
            p = getattr(model.lstm, name)
            for gate in range(4):
                p[gate * H] = 0.0
        model.lstm.weight_hh_l0[:, 0] = 0.0     # nobody reads unit 0's state
        model.lstm.bias_ih_l0[0] = GATE_BIAS     # i open
        model.lstm.bias_ih_l0[H] = -GATE_BIAS    # f shut
        model.lstm.weight_ih_l0[2 * H, 0] = A    # g = tanh(A z)
        model.lstm.bias_ih_l0[3 * H] = GATE_BIAS  # o open
        model.fc.weight[0, 0] = 1.0 / A
        model.fc.bias.zero_()
    masks = {}
    for name, p in model.named_parameters():
        m = torch.ones_like(p)
        if name.startswith("lstm.") and name.endswith("_l0"):
            for gate in range(4):
                m[gate * H] = 0.0
            if name == "lstm.weight_hh_l0":
                m[:, 0] = 0.0
        if name == "fc.weight":
            m[0, 0] = 0.0
        masks[name] = m
    for name, p in model.named_parameters():
        p.register_hook(lambda g, m=masks[name]: g * m)


class Forecaster(nn.Module):
    def __init__(self, hidden=HIDDEN, layers=1):
        super().__init__()
        self.lstm = nn.LSTM(1, hidden, layers, batch_first=True)
        self.fc = nn.Linear(hidden, 1)
        residual_init(self)

    def forward(self, x, state=None):
        out, state = self.lstm(x, state)
        return self.fc(out), state


def step(model, opt, loss):
    """One optimiser step on `loss`, the gradient norm clipped to 1."""
    opt.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()


def train_stateful(z, epochs=300, seed=SEED, streams=16, chunk=26, lr=5e-3):
    """Truncated BPTT: the training series cut into `streams` contiguous
    parts run side by side in chunks of `chunk` weeks, the state carried
    from chunk to chunk (detached)."""
    torch.manual_seed(seed)
    model = Forecaster()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    n = (len(z) - 1) // streams
    x = torch.tensor(z[:n * streams], dtype=torch.float32).view(streams, n, 1)
    y = torch.tensor(z[1:n * streams + 1], dtype=torch.float32).view(streams, n, 1)
    for _ in range(epochs):
        state = None
        for s in range(0, n, chunk):
            pred, state = model(x[:, s:s + chunk], state)
            state = tuple(t.detach() for t in state)
            # the first chunk starts from a zero state: skip its warm-up
            w = WARMUP if s == 0 else 0
            loss = nn.functional.mse_loss(pred[:, w:], y[:, s + w:s + chunk])
            step(model, opt, loss)
        sched.step()
    return model.eval()


def train_windowed(z, epochs=12, seed=SEED, window=WINDOW, batch=32, lr=5e-3):
    """Every window of `window` weeks, from a zero state (lstmforecast's
    sliding window); the loss covers the forecasts after week WARMUP of each
    window on (so the short windows of a stream start are trained too)."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    model = Forecaster()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    starts = np.arange(0, len(z) - window)
    zt = torch.tensor(z, dtype=torch.float32)
    xs = torch.stack([zt[s:s + window] for s in starts]).unsqueeze(-1)
    ys = torch.stack([zt[s + 1:s + window + 1] for s in starts]).unsqueeze(-1)
    for _ in range(epochs):
        perm = torch.randperm(len(starts), generator=g)
        for b in range(0, len(perm), batch):
            i = perm[b:b + batch]
            pred, _ = model(xs[i])
            loss = nn.functional.mse_loss(pred[:, WARMUP:], ys[i][:, WARMUP:])
            step(model, opt, loss)
        sched.step()
    return model.eval()


@torch.no_grad()
def forecasts_stateful(model, z):
    """pred[t] = forecast of z[t+1] after frames 0..t, state carried."""
    out, _ = model(torch.tensor(z, dtype=torch.float32).view(1, -1, 1))
    return out.view(-1).numpy().astype(np.float64)


@torch.no_grad()
def forecasts_windowed(model, z, window, first):
    """pred[t] for t >= first from a zero state over z[t-window+1..t]."""
    pred = np.full(len(z), np.nan)
    zt = torch.tensor(z, dtype=torch.float32)
    ts = list(range(max(first, window - 1), len(z)))
    xs = torch.stack([zt[t - window + 1:t + 1] for t in ts]).unsqueeze(-1)
    out, _ = model(xs)
    pred[ts] = out[:, -1, 0].numpy()
    for t in range(first, min(window - 1, len(z))):  # short windows
        o, _ = model(zt[:t + 1].view(1, -1, 1))
        pred[t] = o[0, -1, 0].item()
    return pred


def mae(pred, actual, targets):
    """MAE of pred[t-1] against actual[t] for t in targets with a value."""
    t = np.array([i for i in targets if not np.isnan(actual[i])])
    return float(np.mean(np.abs(pred[t - 1] - actual[t])))


def evaluate(kind, model, x_feed, actual, mean, std, targets):
    z = (x_feed - mean) / std
    if kind == "stateful":
        p = forecasts_stateful(model, z)
    else:
        p = forecasts_windowed(model, z, WINDOW, targets[0] - 1)
    return mae(p * std + mean, actual, targets), p * std + mean


def write_example(dates, raw, path):
    with open(path, "w", newline="\n") as f:
        f.write("# Mauna Loa atmospheric CO2 (ppm), weekly, 1958-2001.\n")
        f.write("# Public domain; as shipped in Debian python3-statsmodels "
                "0.13.5 datasets (see models/SOURCES.md).\n")
        f.write("date,co2\n")
        for d, v in zip(dates, raw):
            f.write("%s,%s\n" % (d, "" if np.isnan(v) else ("%.1f" % v)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=DATA)
    ap.add_argument("--output", default=os.path.join(ROOT, "models", "co2-forecast.safetensors"))
    ap.add_argument("--example", default=os.path.join(ROOT, "examples", "co2.csv"))
    args = ap.parse_args()

    torch.set_num_threads(1)
    np.random.seed(SEED)
    t0 = time.time()
    stio = load_stio()
    dates, raw = read_series(args.data)
    n = len(raw)
    n_train = int(0.8 * n)
    filled = interpolate(raw)           # training input
    fed = previous_fill(raw)            # what csvparse missing=previous gives
    targets = list(range(n_train, n))   # held-out weeks
    mean = float(np.mean(filled[:n_train]))
    sd = float(np.std(filled[:n_train]))

    std = sd

    # both ways on the whole training part, measured on the held-out weeks
    z = (filled[:n_train] - mean) / std
    results = {}
    for kind in ("stateful", "windowed"):
        train = train_stateful if kind == "stateful" else train_windowed
        m = train(z)
        results[kind] = (evaluate(kind, m, fed, raw, mean, std, targets)[0], m)

    persistence = mae(fed, raw, targets)
    seasonal = float(np.nanmean([abs(fed[t - 52] - raw[t]) for t in targets
                                 if not np.isnan(raw[t])]))
    kind = min(results, key=lambda k: results[k][0])
    model = results[kind][1]
    print("held-out weeks %d-%d (%s .. %s), %d with a value"
          % (n_train + 1, n, dates[n_train], dates[-1],
             sum(1 for t in targets if not np.isnan(raw[t]))))
    for k, (v, _) in results.items():
        print("  LSTM %-8s MAE %.3f ppm" % (k, v))
    print("  persistence   MAE %.3f ppm (repeat last week)" % persistence)
    print("  seasonal      MAE %.3f ppm (value 52 weeks before)" % seasonal)
    print("saved: %s (%s)" % (os.path.relpath(args.output, ROOT), kind))

    meta = {
        "task": "forecast",
        "input.mean": [mean], "input.std": [std],
        "output.mean": [mean], "output.std": [std],
        "description": "Weekly Mauna Loa CO2 (ppm): forecast of next week's "
                       "value, trained by tools/train_demo_forecaster.py",
        "eval.heldout_first_row": str(n_train + 1),
        "eval.mae": "%.4f" % results[kind][0],
        "eval.mae_persistence": "%.4f" % persistence,
        "eval.mae_seasonal_naive": "%.4f" % seasonal,
    }
    if kind == "windowed":
        meta["window"] = str(WINDOW)
    tensors = {k: v.detach().float().contiguous() for k, v in model.state_dict().items()}
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    stio.save(tensors, args.output, meta)
    os.makedirs(os.path.dirname(args.example), exist_ok=True)
    write_example(dates, raw, args.example)
    print("%.0f s" % (time.time() - t0))


if __name__ == "__main__":
    main()
