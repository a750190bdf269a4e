#!/usr/bin/python3
"""gst-rnn benchmarks, PyTorch side (run with Debian's /usr/bin/python3,
torch 1.13).

  bench_torch.py models DIR
      Writes the benchmark models (random, seeded, so every run uses the same
      weights) as safetensors files into DIR, plus DIR/models.tsv, the
      manifest every benchmark program reads:
          name  cell  layers  hidden  input  task

  bench_torch.py bench DIR T[,T...] [--min-time S] [--reps N] [--int8]
      Times PyTorch on each model of the manifest, the way a streaming
      caller would use it: batch 1, T frames per call, state (h, c) carried
      from call to call, eval mode, no_grad, one thread. The head runs on
      every frame, as in the engine. Prints one tab-separated line per
      model and T:
          torch  name  T  steps_per_s
      (median of --reps timed runs, each at least --min-time seconds,
      after a warm-up). With --int8, also PyTorch's dynamic int8 on the
      same models (torch.quantization.quantize_dynamic on the recurrent
      module and the head: int8 weights, activations quantised at run
      time), with each quantized engine this torch has (qnnpack, onednn);
      the faster one is reported:
          torch-int8  name  T  steps_per_s  engine
      (vanilla RNN modules have no dynamic quantized version: skipped).

Times are the calling thread's CPU time (torch runs on that one thread),
as the C benchmarks measure, unless BENCH_CLOCK=wall.
"""
import os
import sys
import time

# qnnpack warns on every call that it ignores reduce_range
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TORCH_CPP_LOG_LEVEL", "ERROR")
import torch  # noqa: E402

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


CLOCK = time.perf_counter if os.environ.get("BENCH_CLOCK") == "wall" \
    else time.thread_time


def time_calls(net, xs, state, calls):
    t0 = CLOCK()
    for k in range(calls):
        _, state = net(xs[k % len(xs)], state)
    return CLOCK() - t0, state


def rate(net, t, inp, min_time, reps):
    """Median steps/s of `net` on calls of t frames, state carried."""
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
    return rates[len(rates) // 2]


def quantized(net, engine):
    """PyTorch's dynamic int8 version of `net` with quantized engine
    `engine` (None for a vanilla RNN, which has none)."""
    if net.cell == "rnn":
        return None
    torch.backends.quantized.engine = engine
    return torch.quantization.quantize_dynamic(
        net, {torch.nn.LSTM, torch.nn.GRU, torch.nn.Linear},
        dtype=torch.qint8)


def bench(d, ts, min_time, reps, int8):
    torch.set_num_threads(1)
    engines = [e for e in ("qnnpack", "onednn", "fbgemm")
               if e in torch.backends.quantized.supported_engines]
    for name, cell, layers, hidden, inp, task in read_manifest(d):
        if task != "forecast":
            continue
        net = load_net(d, name, cell, layers, hidden, inp)
        for t in ts:
            print("torch\t%s\t%d\t%.1f" % (name, t,
                                             rate(net, t, inp, min_time, reps)),
                  flush=True)
        if not int8 or cell == "rnn":
            continue
        for t in ts:
            best = None
            for e in engines:
                q = quantized(net, e)
                # the engine must stay selected while the module runs
                r = rate(q, t, inp, min_time, reps)
                if best is None or r > best[0]:
                    best = (r, e)
            if best is not None:
                print("torch-int8\t%s\t%d\t%.1f\t%s" % (name, t, best[0],
                                                         best[1]), flush=True)


def main(argv):
    if len(argv) >= 3 and argv[1] == "models":
        make_models(argv[2])
        return 0
    if len(argv) >= 4 and argv[1] == "bench":
        min_time, reps, int8 = 0.2, 3, False
        rest = argv[4:]
        while rest:
            if rest[0] == "--int8":
                int8 = True
                rest = rest[1:]
                continue
            if rest[0] == "--min-time":
                min_time = float(rest[1])
            elif rest[0] == "--reps":
                reps = int(rest[1])
            else:
                sys.stderr.write("unknown option %s\n" % rest[0])
                return 2
            rest = rest[2:]
        bench(argv[2], [int(v) for v in argv[3].split(",")], min_time, reps,
              int8)
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
