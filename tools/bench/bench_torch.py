#!/usr/bin/python3
"""gst-rnn benchmarks, PyTorch side (run with Debian's /usr/bin/python3,
torch 1.13).

  bench_torch.py models DIR
      Writes the benchmark models (random, seeded, so every run uses the same
      weights) as safetensors files into DIR, plus DIR/models.tsv, the
      manifest every benchmark program reads:
          name  cell  layers  hidden  input  task

  bench_torch.py bench DIR T[,T...] [--min-time S] [--reps N]
      Times PyTorch on each model of the manifest, the way a streaming
      caller would use it: batch 1, T frames per call, state (h, c) carried
      from call to call, eval mode, no_grad, one thread. The head runs on
      every frame, as in the engine. Prints one tab-separated line per
      model and T:
          torch  name  T  steps_per_s
      (median of --reps timed runs, each at least --min-time seconds,
      after a warm-up).
"""
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "tests", "fixtures"))
import stio  # noqa: E402

CELLS = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}


class Net(torch.nn.Module):
    """A recurrent stack and a linear head read at every frame: the shape of
    the tutorial's forecaster, saved under `<cell>.*` and `fc.*`."""

    def __init__(self, cell, layers, hidden, inp, out):
        super().__init__()
        self.cell = cell
        setattr(self, cell, CELLS[cell](inp, hidden, num_layers=layers,
                                        batch_first=True))
        self.fc = torch.nn.Linear(hidden, out)

    def forward(self, x, state):
        y, state = getattr(self, self.cell)(x, state)
        return self.fc(y), state


def model_list():
    """(name, cell, layers, hidden, input, task) of every benchmark model."""
    out = []
    for cell in ("lstm", "gru", "rnn"):
        for hidden in (64, 128, 256, 512):
            for inp in (1, 64):
                out.append(("%s-1x%d-i%d" % (cell, hidden, inp), cell, 1,
                            hidden, inp, "forecast"))
        for inp in (1, 64):
            out.append(("%s-2x256-i%d" % (cell, inp), cell, 2, 256, inp,
                        "forecast"))
    # gruanomaly refuses a model whose task is not `anomaly`.
    out.append(("gru-1x256-i1-anomaly", "gru", 1, 256, 1, "anomaly"))
    return out


def make_models(d):
    os.makedirs(d, exist_ok=True)
    lines = []
    for i, (name, cell, layers, hidden, inp, task) in enumerate(model_list()):
        torch.manual_seed(1000 + i)
        net = Net(cell, layers, hidden, inp, inp if task == "anomaly" else 1)
        stio.save(dict(net.state_dict()), os.path.join(d, name + ".safetensors"),
                  {"task": task, "head.input": "output"})
        lines.append("\t".join(str(v) for v in
                               (name, cell, layers, hidden, inp, task)))
    with open(os.path.join(d, "models.tsv"), "w") as f:
        f.write("\n".join(lines) + "\n")


def read_manifest(d):
    out = []
    with open(os.path.join(d, "models.tsv")) as f:
        for line in f:
            name, cell, layers, hidden, inp, task = line.split()
            out.append((name, cell, int(layers), int(hidden), int(inp), task))
    return out


def load_net(d, name, cell, layers, hidden, inp):
    tensors, _ = stio.load(os.path.join(d, name + ".safetensors"))
    out = tensors["fc.weight"].shape[0]
    net = Net(cell, layers, hidden, inp, out)
    net.load_state_dict(tensors)
    return net.eval()


def time_calls(net, xs, state, calls):
    t0 = time.perf_counter()
    for k in range(calls):
        _, state = net(xs[k % len(xs)], state)
    return time.perf_counter() - t0, state


def bench(d, ts, min_time, reps):
    torch.set_num_threads(1)
    for name, cell, layers, hidden, inp, task in read_manifest(d):
        if task != "forecast":
            continue
        net = load_net(d, name, cell, layers, hidden, inp)
        for t in ts:
            g = torch.Generator().manual_seed(7)
            xs = [torch.randn(1, t, inp, generator=g) for _ in range(8)]
            with torch.no_grad():
                state = None
                # Warm-up and calibration: grow the call count until one run
                # lasts min_time / 4.
                calls = 1
                while True:
                    dt, state = time_calls(net, xs, state, calls)
                    if dt >= min_time / 4 or calls >= 1 << 22:
                        break
                    calls *= 2
                calls = max(1, int(calls * min_time / max(dt, 1e-9)))
                rates = []
                for _ in range(reps):
                    dt, state = time_calls(net, xs, state, calls)
                    rates.append(calls * t / dt)
            rates.sort()
            print("torch\t%s\t%d\t%.1f" % (name, t, rates[len(rates) // 2]),
                  flush=True)


def main(argv):
    if len(argv) >= 3 and argv[1] == "models":
        make_models(argv[2])
        return 0
    if len(argv) >= 4 and argv[1] == "bench":
        min_time, reps = 0.2, 3
        rest = argv[4:]
        while rest:
            if rest[0] == "--min-time":
                min_time = float(rest[1])
            elif rest[0] == "--reps":
                reps = int(rest[1])
            else:
                sys.stderr.write("unknown option %s\n" % rest[0])
                return 2
            rest = rest[2:]
        bench(argv[2], [int(v) for v in argv[3].split(",")], min_time, reps)
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
