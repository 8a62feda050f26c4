#!/usr/bin/python3
"""The PyTorch peer of nnc's benchmark: trains the same MLP on the same CSV
with the same batch size, optimizer and thread count, and prints training
samples per second (the loop only: data already in tensors).

usage: torch_mlp.py DATA.csv SIZES LOSS BATCH EPOCHS THREADS [ACT]
  SIZES  e.g. 30-30-15-1 (input, hidden..., output)
  ACT    the hidden layers' activation: relu (default) or sigmoid
  LOSS   bce (sigmoid output) or sce (softmax output, class-index target)
"""
import sys
import time

import numpy as np
import torch


def load(path, n_inputs):
    data = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float32)
    x = data[:, :n_inputs]
    lo, hi = x.min(axis=0), x.max(axis=0)
    scale = np.where(hi > lo, hi - lo, 1)
    return torch.from_numpy((x - lo) / scale), torch.from_numpy(data[:, n_inputs])


def main():
    path, sizes, loss_name, batch, epochs, threads = sys.argv[1:7]
    act = torch.nn.Sigmoid if len(sys.argv) > 7 and sys.argv[7] == "sigmoid" else torch.nn.ReLU
    sizes = [int(s) for s in sizes.split("-")]
    batch, epochs, threads = int(batch), int(epochs), int(threads)
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    x, y = load(path, sizes[0])
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(act())
    model = torch.nn.Sequential(*layers)
    if loss_name == "bce":
        loss_fn, y = torch.nn.BCEWithLogitsLoss(), y.reshape(-1, 1)
    else:
        loss_fn, y = torch.nn.CrossEntropyLoss(), y.long()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    n = x.shape[0]
    start = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(n)
        for i in range(0, n, batch):
            idx = perm[i:i + batch]
            opt.zero_grad()
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
    elapsed = time.perf_counter() - start
    print("%.1f" % (epochs * n / elapsed))


if __name__ == "__main__":
    main()
