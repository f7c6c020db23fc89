#!/usr/bin/python3
"""A plain PyTorch training script of aelab's three course models: the yardstick the reference is
checked against.

It shares no code with pytorch_reference.py on purpose: it reads MNIST's IDX files itself, adds
the denoiser's noise itself and trains with the shortest loop PyTorch allows, the way a PyTorch
user would write it. `aelab bench --check-peer` runs it and the reference one after the other,
each on its own, and says whether the reference is as fast.

Usage: pytorch_plain.py MODEL EPOCHS THREADS MNIST_DIR [knob ...]
Knobs, each a measured lever (the defaults are the fastest found on a 2-core AVX2 machine):
  item-each-step   read the loss back (loss.item()) after every step
  no-flush         leave denormal numbers on (torch.set_flush_denormal(False))
  channels-first   run the convolutions in PyTorch's default NCHW memory format, not NHWC
                   (channels_last, which oneDNN's convolutions run faster)
  copy-each-epoch  slice each batch from a shuffled copy of the data made once an epoch, not
                   gather it with the epoch's permutation
  images=N         train on the first N images only (a shorter epoch)
Prints one JSON line per epoch: {"epoch": N, "seconds": S, "loss": L, "params": P}.
"""

import gzip
import json
import os
import sys
import time

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F


def read_images(path):
    with gzip.open(path) as f:
        raw = f.read()
    n = int.from_bytes(raw[4:8], "big")
    return np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(n, 784).astype(np.float32) / 255


def mlp(widths):
    sizes = [784] + widths + widths[-2::-1] + [784]
    layers = []
    for a, b in zip(sizes, sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def conv(f=32):
    return nn.Sequential(
        nn.Unflatten(1, (1, 28, 28)),
        nn.Conv2d(1, f, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(f, f, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(f, f, 3, padding=1), nn.ReLU(), nn.Upsample(scale_factor=2),
        nn.Conv2d(f, f, 3, padding=1), nn.ReLU(), nn.Upsample(scale_factor=2),
        nn.Conv2d(f, 1, 3, padding=1), nn.Flatten())


MODELS = {  # the course's models and batch sizes (aelab's presets)
    "vanilla": (lambda: mlp([256, 128, 32]), 256),
    "deep": (lambda: mlp([128, 64, 32]), 256),
    "denoise": (conv, 128),
}


def main():
    model_name, epochs, threads, mnist = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    knobs = set(sys.argv[5:])
    torch.set_num_threads(threads)
    torch.set_flush_denormal("no-flush" not in knobs)
    torch.manual_seed(1)
    build, batch = MODELS[model_name]
    x = torch.from_numpy(read_images(os.path.join(mnist, "train-images-idx3-ubyte.gz")))
    for k in knobs:
        if k.startswith("images="):
            x = x[:int(k[len("images="):])]
    y = x
    if model_name == "denoise":
        x = (x + 0.5 * torch.randn_like(x)).clamp_(0, 1)
    model = build()
    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    if "channels-first" not in knobs:
        model = model.to(memory_format=torch.channels_last)
    params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    n = len(x)
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        perm = torch.randperm(n)
        if "copy-each-epoch" in knobs:
            xs, ys = x[perm], y[perm]
        total = torch.zeros(())
        for i in range(0, n, batch):
            if "copy-each-epoch" in knobs:
                xb, yb = xs[i:i + batch], ys[i:i + batch]
            else:
                idx = perm[i:i + batch]
                xb, yb = x[idx], y[idx]
            loss = F.binary_cross_entropy_with_logits(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if "item-each-step" in knobs:
                total += loss.item() * len(xb)
            else:
                total += loss.detach() * len(xb)
        seconds = time.perf_counter() - start
        print(json.dumps({"epoch": epoch, "seconds": seconds, "loss": total.item() / n, "params": params}), flush=True)


if __name__ == "__main__":
    main()
