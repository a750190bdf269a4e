#!/usr/bin/python3
"""Training benchmark, PyTorch side: the tutorial's forecaster (2x64 LSTM,
dropout 0.2, windows of 50 frames, batch 64, input 1, Adam lr 1e-3, gradient
clipping 1.0) on the series that tools/bench/bench-train.c builds. Prints the
median seconds per epoch. Run with Debian's /usr/bin/python3 (torch 1.13).

usage: bench_train_torch.py [EPOCHS] [THREADS]
"""
import sys
import time

import numpy as np
import torch
import torch.nn as nn

from bench_series import series, WINDOW, BATCH, N_FRAMES


class LSTMForecaster(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(1, 64, 2, batch_first=True, dropout=0.2)
        self.fc = nn.Linear(64, 1)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.fc(out[:, -1, :]).squeeze(-1)


def main():
    epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    s = series(N_FRAMES)
    s = (s - s.mean()) / s.std()
    n = len(s) - WINDOW
    X = torch.tensor(np.stack([s[i:i + WINDOW] for i in range(n)]),
                     dtype=torch.float32).unsqueeze(-1)
    Y = torch.tensor(s[WINDOW:], dtype=torch.float32)
    model = LSTMForecaster()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.MSELoss()
    g = torch.Generator().manual_seed(0)
    times, loss = [], float("nan")
    for ep in range(epochs + 1):           # epoch 0 warms up
        t0 = time.perf_counter()
        model.train()
        perm = torch.randperm(n, generator=g)
        for i in range(0, n, BATCH):
            idx = perm[i:i + BATCH]
            opt.zero_grad()
            l = loss_fn(model(X[idx]), Y[idx])
            l.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            loss = l.item()
        if ep:
            times.append(time.perf_counter() - t0)
    print("torch %s threads=%d windows=%d epoch-seconds %.4f last-loss %.4f"
          % (torch.__version__, threads, n, float(np.median(times)), loss))


if __name__ == "__main__":
    main()
