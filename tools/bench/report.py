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


PRECS = ("f32", "bf16", "int8")


def prec_order(p):
    return PRECS.index(p) if p in PRECS else len(PRECS)


def gmean(v):
    return math.exp(sum(math.log(x) for x in v) / len(v)) if v else None


def hidden_of(name):
    """64 from 'lstm-1x64-i1'."""
    return int(name.split("x")[1].split("-")[0])


def main(paths):
    engine, torch, tint8, roof, pipe, batch = {}, {}, {}, {}, [], []
    peaks, reads, kernels = {}, [], None
    lines = []
    for p in paths or ["-"]:
        f = sys.stdin if p == "-" else open(p)
        lines.extend(f.read().splitlines())
    for line in lines:
        c = line.split("\t")
        if c[0] == "engine" and len(c) >= 5:
            prec = c[5] if len(c) >= 6 else "f32"
            engine[(c[1], int(c[2]), prec)] = (float(c[3]), float(c[4]))
        elif c[0] == "torch" and len(c) >= 4:
            torch[(c[1], int(c[2]))] = float(c[3])
        elif c[0] == "torch-int8" and len(c) >= 5:
            tint8[(c[1], int(c[2]))] = (float(c[3]), c[4])
        elif c[0] == "roof" and len(c) >= 8:
            roof[(c[1], int(c[2]), c[3])] = (float(c[4]), float(c[5]),
                                              float(c[6]), float(c[7]))
        elif c[0] == "kernels" and len(c) >= 2:
            kernels = c[1]
        elif c[0] == "mach" and len(c) >= 4 and c[1] == "peak":
            peaks[c[2]] = float(c[3])
        elif c[0] == "mach" and len(c) >= 4 and c[1] == "read":
            reads.append((int(c[2]), float(c[3])))
        elif c[0] == "batch" and len(c) >= 6:
            batch.append((c[1], int(c[2]), int(c[3]), float(c[4]),
                          float(c[5]),
                          float(c[6]) if len(c) >= 7 else None,
                          c[7] if len(c) >= 8 else "f32"))
        elif c[0] == "pipe" and len(c) >= 11:
            pipe.append(dict(el=c[1], model=model_key(c[2]), spb=int(c[3]),
                             pfps=float(c[4]), efps=float(c[5]),
                             ea=float(c[6]), ta=float(c[7]), rss=int(c[8]),
                             eng=float(c[9]), over=float(c[10]),
                             prec=c[11] if len(c) >= 12 else "f32"))

    # ------------------------------------------------------------ machine
    if peaks or reads:
        print("The machine, one core, measured by tools/bench/machine.c "
              "(not the engine's kernels)")
        for k, label in (("f32", "fp32 multiply-add (vfmadd231ps)"),
                         ("bf16", "bf16 pair dot product (vdpbf16ps)"),
                         ("int8", "u8 x s8 quad dot product (vpdpbusd)")):
            if k in peaks:
                print("- peak %s: %s" % (label, "%.0f G op/s" % peaks[k]
                                         if peaks[k] > 0 else "not on this CPU"))
        if reads:
            print("- read bandwidth: " + ", ".join(
                "%s %.0f GB/s" % (("%d KiB" % (b >> 10)) if b < 1 << 20
                                  else ("%d MiB" % (b >> 20)), g)
                for b, g in sorted(reads)))
        print()
    if kernels:
        print("The engine's kernel set: %s (RNN_KERNELS)" % kernels)
        print()

    # ---------------------------------------------- engine vs torch vs roof
    print("Engine alone vs PyTorch 1.13 fp32 and dynamic int8 (steps/s = "
          "frames/s, batch 1,\nstate carried, 1 thread) and vs the machine's "
          "roofline bound for the precision")
    rows = []
    keys = sorted(set(engine), key=lambda k: (k[0].split("-")[0],
                                              hidden_of(k[0]), k[0], k[1],
                                              prec_order(k[2])))
    for k in keys:
        name, t, prec = k
        e, allocs = engine[k]
        tf, ti = torch.get((name, t)), tint8.get((name, t))
        r = roof.get(k)
        rows.append((name, t, prec, fnum(e),
                     fnum(tf), fnum(ti[0]) if ti else "-",
                     fnum(e / tf, 1) + "x" if tf else "-",
                     fnum(e / ti[0], 1) + "x" if ti else "-",
                     fnum(r[0]) if r else "-",
                     fnum(100 * e / r[0], 0) + "%" if r else "-",
                     fnum(r[1]) if r and r[1] > 0 else "-",
                     fnum(allocs, 2)))
    print(table(("model", "T", "prec", "engine", "torch", "torch int8",
                 "vs torch", "vs int8", "bound", "of bound", "sgemv line",
                 "allocs/call"), rows))
    print("(bound: weights read once per step at the measured bandwidth of "
          "their size, products at the\ninstruction's peak, nonlinearities "
          "left out; sgemv line: the step at OpenBLAS sgemv/sgemm rates)")

    # ------------------------------------------------------------- batch
    def batch_peak(prec):
        """The peak the batch's products of @prec run at: vdpbf16ps or
        vpdpbusd when the kernel set uses it (its 'ops' count 2 per
        multiply-add, as flops do), the FMA for bf16 widened to fp32, none
        for int8 without VNNI."""
        k = kernels or ""
        if prec == "bf16":
            return peaks.get("bf16" if "bf16" in k else "f32", 0)
        if prec == "int8":
            return peaks.get("int8", 0) if "vnni" in k else 0
        return peaks.get("f32", 0)

    def batch_ceiling(name, t, rate, flops, prec):
        """(gain, ceiling, share of it) of a batched rate against the
        single state at the same precision: ceiling = t_single / (flops /
        peak), the gain if the batch's products ran at the machine's peak
        (batch_peak) and its cells cost nothing; share = gain / ceiling =
        rate * flops / peak."""
        single = engine.get((name, t, prec), (None, None))[0]
        gain = rate / single if single else None
        peak = batch_peak(prec) * 1e9
        if not flops or peak <= 0:
            return gain, None, None
        share = rate * flops / peak
        return gain, (peak / (flops * single) if single else None), share

    if batch:
        print("\nPer-stream batching (rnn_batch_state_forward, T = 100): "
              "frames/s summed over N\nstreams, against one rnn_state at "
              "the same precision (N = 1, from the table above)")
        rows = []
        for name, t, n, rate, allocs, flops, prec in sorted(
                batch, key=lambda b: (b[0].split("-")[0], hidden_of(b[0]),
                                      b[0], prec_order(b[6]), b[2])):
            single = engine.get((name, t, prec), (None, None))[0]
            gain, ceil, share = batch_ceiling(name, t, rate, flops, prec)
            rows.append((name, prec, n, fnum(rate), fnum(single),
                         fnum(gain, 2) + "x" if gain else "-",
                         fnum(flops / 1e3, 1) if flops else "-",
                         fnum(ceil, 2) + "x" if ceil else "-",
                         fnum(100 * share, 0) + "%" if share else "-",
                         fnum(allocs, 2)))
        print(table(("model", "prec", "N", "batched", "single", "gain",
                     "kflop/step", "ceiling", "of ceiling", "allocs/call"),
                    rows))
        print("(kflop/step: the products of one stream's frame, 2 per "
              "multiply-add; ceiling = the single\nstate's time per frame "
              "/ (kflop/step / peak): the gain with the products at the\n"
              "machine's peak for the precision (fp32 FMA; bf16 vdpbf16ps "
              "when the kernel set uses it,\nelse the FMA; int8 vpdpbusd "
              "with a VNNI set, else none) and the cells free; of ceiling ="
              "\ngain / ceiling = batched x kflop/step / peak)")

    # ------------------------------------------------------------ pipeline
    base = {r["spb"]: r["pfps"] for r in pipe if r["el"] == "none"}
    print("\nThrough a pipeline: audiotestsrc ! ELEMENT ! fakesink, "
          "channels=1 (frames/s)")
    if base:
        print("audiotestsrc ! identity ! fakesink alone: "
              + ", ".join("%s frames/s at %d frames/buffer" % (fnum(v), s)
                          for s, v in sorted(base.items(), reverse=True)))
    ctl = [r for r in pipe if r["el"] == "control"]
    if ctl:
        print("control, audioconvert to S16LE (allocates its output): "
              + ", ".join("%.2f allocs/buffer at %d frames/buffer"
                          % (r["ea"], r["spb"]) for r in ctl))
    rows = []
    for r in pipe:
        if r["el"] in ("none", "control"):
            continue
        m = r["model"]
        key = (m[:-len("-anomaly")] if m.endswith("-anomaly") else m, r["spb"])
        t, ti = torch.get(key), tint8.get(key)
        rows.append((r["el"], m, r["spb"], r["prec"], fnum(r["pfps"]),
                     fnum(r["efps"]), fnum(r["eng"]),
                     fnum(100 * r["over"], 1) + "%",
                     fnum(r["pfps"] / t, 1) + "x" if t else "-",
                     fnum(r["pfps"] / ti[0], 1) + "x" if ti else "-",
                     fnum(r["ea"], 2), fnum(r["ta"], 2),
                     fnum(r["rss"] / 1024.0, 1)))
    print(table(("element", "model", "frames/buf", "prec", "pipeline",
                 "in element", "engine", "overhead", "vs torch", "vs int8",
                 "allocs/buf elem", "allocs/buf thread", "peak MiB"), rows))

    # -------------------------------------------------------------- targets
    print("\nTargets")
    six = ["lstm-1x64-i1", "lstm-1x128-i1", "lstm-1x256-i1", "lstm-1x512-i1",
           "lstm-2x256-i1", "gru-1x256-i1"]
    fc = {(r["model"], r["spb"], r["prec"]): r for r in pipe
          if r["el"] == "lstmforecast"}

    def verdict(ok):
        return "MET" if ok else "NOT MET"

    def ratios(spb, prec, ref, engine_ok=False):
        """Pipeline rate / reference for the six configurations; with
        engine_ok, the engine alone at T = spb where the pipeline has no
        row for that precision (said in the line)."""
        out = []
        for m in six:
            p, t = fc.get((m, spb, prec)), ref.get((m, spb))
            v = p["pfps"] if p else None
            if v is None and engine_ok and (m, spb, prec) in engine:
                v = engine[(m, spb, prec)][0]
                used_engine.add(prec)
            if v is None or t is None:
                return None
            out.append((m, v / (t[0] if isinstance(t, tuple) else t)))
        return out

    used_engine = set()

    r = ratios(100, "f32", torch)
    if r:
        small = [v for m, v in r if hidden_of(m) <= 128]
        gm = gmean([v for _, v in r])
        print("- f32, lstmforecast at 100 frames/buffer vs torch fp32 T=100: "
              "%s; geometric mean %.1fx (>= 8x): %s; H <= 128 %s (>= 10x): %s"
              % (", ".join("%.1fx" % v for _, v in r), gm, verdict(gm >= 8),
                 ", ".join("%.1fx" % v for v in small),
                 verdict(min(small) >= 10)))
    else:
        print("- f32 pipelines at 100 frames/buffer: missing measurements")
    r1 = ratios(1, "f32", torch)
    if r1:
        print("- f32, lstmforecast at 1 frame/buffer vs torch fp32 T=1: %s; "
              ">= 5x: %s" % (", ".join("%.1fx" % v for _, v in r1),
                             verdict(min(v for _, v in r1) >= 5)))
    for prec in ("bf16", "int8"):
        rf = ratios(100, prec, torch, True)
        ri = ratios(100, prec, tint8, True)
        if rf and ri:
            gf, gi = gmean([v for _, v in rf]), gmean([v for _, v in ri])
            goal = (" (>= 20x): %s" % verdict(gf >= 20)) if prec == "int8" \
                else ""
            goal_i = (" (>= 12x): %s" % verdict(gi >= 12)) if prec == "int8" \
                else ""
            print("- %s, %s at 100 frames/buffer: vs torch fp32 %s, "
                  "geometric mean %.1fx%s; vs torch dynamic int8 %s, "
                  "geometric mean %.1fx%s"
                  % (prec, "the engine alone (T=100)" if prec in used_engine
                     else "lstmforecast",
                     ", ".join("%.1fx" % v for _, v in rf), gf, goal,
                     ", ".join("%.1fx" % v for _, v in ri), gi, goal_i))
    for prec in PRECS:
        share = [(engine[k][0] / roof[k][0], k) for k in engine
                 if k in roof and k[2] == prec and hidden_of(k[0]) >= 256]
        if not share:
            continue
        for t in sorted({k[1] for _, k in share}):
            sub = sorted(f for f in share if f[1][1] == t)
            line = ("- %s engine / machine roofline at H >= 256, T=%d: min "
                    "%.0f%% (%s), median %.0f%%"
                    % (prec, t, 100 * sub[0][0], sub[0][1][0],
                       100 * sub[len(sub) // 2][0]))
            if prec == "f32":
                line += "; >= 75%%: %s" % verdict(sub[0][0] >= 0.75)
            print(line)
    for prec in sorted({b[6] for b in batch}, key=prec_order):
        sel = [(name, t, rate, fl) for name, t, n, rate, a, fl, p in batch
               if n == 16 and p == prec and (name, t, p) in engine]
        if not sel:
            continue
        gains = [(rate / engine[(name, t, prec)][0], name)
                 for name, t, rate, fl in sel]
        print("- per-channel 16 streams vs 16 single states, %s: %s; >= 3x: %s"
              % (prec, ", ".join("%s %.2fx" % (n, g) for g, n in gains),
                 verdict(min(g for g, _ in gains) >= 3)))
        ceils = [(name,) + batch_ceiling(name, t, rate, fl, prec)
                 for name, t, rate, fl in sel]
        ceils = [c for c in ceils if c[2] is not None]
        if ceils:
            sh = sorted(c[3] for c in ceils)
            below = [c for c in ceils if c[2] < 3]
            print("- per-channel 16 streams, %s, against the machine's "
                  "ceiling (products at the peak, cells free): %s; share "
                  "min %.0f%%, median %.0f%%; ceiling below 3x: %s"
                  % (prec, ", ".join("%s %.2fx of %.2fx (%.0f%%)"
                                     % (c[0], c[1], c[2], 100 * c[3])
                                     for c in ceils),
                     100 * sh[0], 100 * sh[len(sh) // 2],
                     ", ".join(c[0] for c in below) if below else "none"))
    ov = [(r["over"], r["el"], r["model"], r["prec"]) for r in pipe
          if r["el"] not in ("none", "control") and r["spb"] == 100]
    if ov:
        worst = max(ov)
        print("- element overhead at 100 frames/buffer: worst %.1f%% (%s %s "
              "%s); < 10%%: %s" % (100 * worst[0], worst[1], worst[2],
                                    worst[3], verdict(worst[0] < 0.10)))
    allocs = [(r["ea"], r["el"], r["model"], r["spb"]) for r in pipe
              if r["el"] not in ("none", "control")]
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
