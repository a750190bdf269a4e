#!/usr/bin/python3
"""Joins the tab-separated lines printed by bench-engine, bench_torch.py,
bench-roofline and bench-pipeline (read from the files given, or stdin) and
prints the tables and the target check of docs/performance.md.
"""
import math
import os
import sys


def fnum(v, digits=0):
    if v is None:
        return "-"
    if digits == 0:
        return "{:,.0f}".format(v)
    return "{:.{}f}".format(v, digits)


def table(headers, rows):
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) if rows
              else len(str(h)) for i, h in enumerate(headers)]
    out = ["  ".join(str(h).rjust(w) for h, w in zip(headers, widths)),
           "  ".join("-" * w for w in widths)]
    for r in rows:
        out.append("  ".join(str(c).rjust(w) for c, w in zip(r, widths)))
    return "\n".join(out)


def model_key(path):
    base = os.path.basename(path)
    return base[:-len(".safetensors")] if base.endswith(".safetensors") else base


def main(paths):
    engine, torch, roof, pipe, batch = {}, {}, {}, [], []
    pipe_engine = {}  # engine alone, timed between the pipeline runs
    pipe_over = {}    # median of per-run engine/element ratios, minus 1
    lines = []
    for p in paths or ["-"]:
        f = sys.stdin if p == "-" else open(p)
        lines.extend(f.read().splitlines())
    for line in lines:
        c = line.split("\t")
        if c[0] == "engine" and len(c) >= 5:
            engine[(c[1], int(c[2]))] = (float(c[3]), float(c[4]))
        elif c[0] == "torch" and len(c) >= 4:
            torch[(c[1], int(c[2]))] = float(c[3])
        elif c[0] == "roof" and len(c) >= 7:
            roof[(c[1], int(c[2]))] = float(c[3])
        elif c[0] == "batch" and len(c) >= 6:
            batch.append((c[1], int(c[2]), int(c[3]), float(c[4]),
                          float(c[5])))
        elif c[0] == "pipe" and len(c) >= 9:
            pipe.append((c[1], model_key(c[2]), int(c[3]), float(c[4]),
                         float(c[5]), float(c[6]), float(c[7]), int(c[8])))
            if len(c) >= 10 and float(c[9]) > 0:
                pipe_engine[(c[1], model_key(c[2]), int(c[3]))] = float(c[9])
            if len(c) >= 11 and float(c[9]) > 0:
                pipe_over[(c[1], model_key(c[2]), int(c[3]))] = float(c[10])

    # ---------------------------------------------- engine vs torch vs roof
    print("Engine alone vs PyTorch 1.13 (steps/s = frames/s, batch 1, state "
          "carried, 1 thread)\nand vs the measured roofline bound")
    rows = []
    keys = sorted(set(engine) | set(torch),
                  key=lambda k: (k[0].split("-")[0], k[0], k[1]))
    for k in keys:
        e = engine.get(k, (None, None))
        t = torch.get(k)
        b = roof.get(k)
        rows.append((k[0], k[1], fnum(e[0]), fnum(t),
                     fnum(e[0] / t, 1) + "x" if e[0] and t else "-",
                     fnum(b), fnum(100 * e[0] / b, 0) + "%" if e[0] and b
                     else "-", fnum(e[1], 2) if e[1] is not None else "-"))
    print(table(("model", "T", "engine", "torch", "ratio", "bound",
                 "of bound", "allocs/call"), rows))

    # ------------------------------------------------------------- batch
    if batch:
        print("\nPer-stream batching (rnn_batch_state_forward, T = 100): "
              "frames/s summed over N streams,\nagainst one rnn_state "
              "(N = 1, from the table above)")
        rows = []
        for name, t, n, rate, allocs in batch:
            single = engine.get((name, t), (None, None))[0]
            rows.append((name, n, fnum(rate), fnum(single),
                         fnum(rate / single, 2) + "x" if single else "-",
                         fnum(allocs, 2)))
        print(table(("model", "N", "batched", "single", "gain",
                     "allocs/call"), rows))

    # ------------------------------------------------------------ pipeline
    base = {r[2]: r[3] for r in pipe if r[0] == "none"}
    print("\nThrough a pipeline: audiotestsrc ! ELEMENT ! fakesink, "
          "channels=1 (frames/s)")
    if base:
        print("audiotestsrc ! identity ! fakesink alone: "
              + ", ".join("%s frames/s at %d frames/buffer" % (fnum(v), s)
                          for s, v in sorted(base.items(), reverse=True)))
    ctl = [r for r in pipe if r[0] == "control"]
    if ctl:
        print("control, audioconvert to S16LE (allocates its output): "
              + ", ".join("%.2f allocs/buffer at %d frames/buffer" % (r[5], r[2])
                          for r in ctl))
    rows = []
    for el, m, spb, pfps, efps, ea, ta, rss in pipe:
        if el in ("none", "control"):
            continue
        key = (m[:-len("-anomaly")] if m.endswith("-anomaly") else m, spb)
        e = pipe_engine.get((el, m, spb), engine.get(key, (None, None))[0])
        t = torch.get(key)
        over = (e / efps - 1) * 100 if e else None
        if (el, m, spb) in pipe_over:
            over = 100 * pipe_over[(el, m, spb)]
        rows.append((el, m, spb, fnum(pfps), fnum(efps), fnum(e),
                     fnum(over, 1) + "%" if over is not None else "-",
                     fnum(pfps / t, 1) + "x" if t else "-",
                     fnum(ea, 2), fnum(ta, 2), fnum(rss / 1024.0, 1)))
    print(table(("element", "model", "frames/buf", "pipeline", "in element",
                 "engine", "overhead", "vs torch", "allocs/buf elem",
                 "allocs/buf thread", "peak MiB"), rows))

    # -------------------------------------------------------------- targets
    print("\nTargets")
    six = ["lstm-1x64-i1", "lstm-1x128-i1", "lstm-1x256-i1", "lstm-1x512-i1",
           "lstm-2x256-i1", "gru-1x256-i1"]
    fc = {(m, spb): (pfps, efps, ea) for el, m, spb, pfps, efps, ea, ta, rss
          in pipe if el == "lstmforecast"}

    def verdict(ok):
        return "MET" if ok else "NOT MET"

    ratios, small_ok, have = [], True, True
    for m in six:
        p, t = fc.get((m, 100)), torch.get((m, 100))
        if p is None or t is None:
            have = False
            continue
        r = p[0] / t
        ratios.append(r)
        if int(m.split("x")[1].split("-")[0]) <= 128 and r < 10:
            small_ok = False
    if have and ratios:
        gm = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
        print("- lstmforecast at 100 frames/buffer vs torch T=100: %s; "
              ">= 10x at H <= 128: %s; geometric mean %.1fx (>= 8x): %s"
              % (", ".join("%.1fx" % r for r in ratios), verdict(small_ok),
                 gm, verdict(gm >= 8)))
    else:
        print("- lstmforecast at 100 frames/buffer: missing measurements")
    r1 = []
    for m in six:
        p, t = fc.get((m, 1)), torch.get((m, 1))
        if p and t:
            r1.append(p[0] / t)
    if r1:
        print("- lstmforecast at 1 frame/buffer vs torch T=1: %s; >= 5x: %s"
              % (", ".join("%.1fx" % r for r in r1),
                 verdict(min(r1) >= 5)))
    fr = [(engine[k][0] / roof[k], k) for k in engine if k in roof]
    if fr:
        for t in sorted({k[1] for _, k in fr}):
            sub = [f for f in fr if f[1][1] == t]
            lo = min(sub)
            print("- engine / roofline bound at T=%d: min %.0f%% (%s), "
                  "median %.0f%%; >= 60%%: %s"
                  % (t, 100 * lo[0], lo[1][0],
                     100 * sorted(f[0] for f in sub)[len(sub) // 2],
                     verdict(lo[0] >= 0.6)))
    ov = []
    for el, m, spb, pfps, efps, ea, ta, rss in pipe:
        key = (m[:-len("-anomaly")] if m.endswith("-anomaly") else m, spb)
        e = pipe_engine.get((el, m, spb), engine.get(key, (None, None))[0])
        if el not in ("none", "control") and spb == 100 and e:
            ov.append((pipe_over.get((el, m, spb), e / efps - 1), el, m))
    if ov:
        worst = max(ov)
        print("- element overhead at 100 frames/buffer: worst %.1f%% (%s %s); "
              "< 10%%: %s" % (100 * worst[0], worst[1], worst[2],
                              verdict(worst[0] < 0.10)))
    allocs = [(ea, el, m, spb) for el, m, spb, pfps, efps, ea, ta, rss in pipe
              if el not in ("none", "control")]
    eng_allocs = [v[1] for v in engine.values()] + [b[4] for b in batch]
    if allocs or eng_allocs:
        worst = max(allocs) if allocs else (0, "-", "-", 0)
        print("- allocations in steady state: engine max %.2f per call, "
              "element max %.2f per buffer (%s %s, %d frames/buffer); zero: %s"
              % (max(eng_allocs) if eng_allocs else 0, worst[0], worst[1],
                 worst[2], worst[3],
                 verdict(worst[0] == 0 and
                         (not eng_allocs or max(eng_allocs) == 0))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
