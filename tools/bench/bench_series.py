"""The benchmark series, the same numbers as bench-train.c makes: the
tutorial's sin(0.1 t) + 0.5 sin(0.05 t) over t in [0, 100] plus noise from a
32-bit LCG (uniform in [-0.15, 0.15]), so both sides train on the same data
without sharing a file."""
import numpy as np

WINDOW = 50
BATCH = 64
N_FRAMES = 1000


def series(n):
    state = 12345
    out = np.empty(n, np.float64)
    for i in range(n):
        state = (1664525 * state + 1013904223) & 0xFFFFFFFF
        u = state / 4294967296.0
        t = 100.0 * i / (n - 1)
        out[i] = np.sin(0.1 * t) + 0.5 * np.sin(0.05 * t) + 0.3 * (u - 0.5)
    return out.astype(np.float32)
