#!/usr/bin/python3
"""PyTorch reference of aelab's three course models, for `aelab bench --peer pytorch`.

aelab starts this script with Debian's /usr/bin/python3 (python3-torch), hands it the data it
trains on as raw float32 files, and steps it one epoch at a time, interleaved with its own
epochs, so both are timed on the same machine under the same load. The models match aelib's
exactly: the same layers and parameter counts, Glorot-uniform weights and zero biases (Keras'
defaults), Adam with beta1 0.9, beta2 0.999, eps 1e-7, binary cross-entropy on logits.

It is written to be as fast as a plain PyTorch training script of the same model
(pytorch_plain.py; `aelab bench --check-peer` compares them): its convolutions run in the
channels-last layout (NHWC), which oneDNN runs faster than PyTorch's default; denormal numbers
are flushed; the loss is summed on the tensor side and read back once an epoch; each batch is
gathered from the data by the epoch's permutation, which holds no second copy of the data; and
aelab starts it with glibc's malloc told to keep the memory it frees (bench.PeerEnv):
PyTorch's CPU tuning guide asks for an allocator that does.

Protocol: argv[1] is a JSON config (see main). The script prints one JSON object per line on
stdout: {"event": "ready", ...} once the model is built, then reads commands from stdin, one a
line: "epoch" trains one epoch and validates on the test split ({"event": "epoch", ...});
"finish" writes the reconstructions of the test inputs to config["recon_path"] as float32 and
prints {"event": "done", ...}. Anything else on stderr is for people.
"""

import json
import os
import resource
import sys
import time

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F


def dense(widths, inputs=784):
    """inputs → widths (encoder, the last the bottleneck) → widths reversed → inputs."""
    sizes = [inputs] + list(widths) + list(reversed(widths[:-1])) + [inputs]
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)  # logits: the loss applies the sigmoid


class ConvDenoising(nn.Module):
    """Conv(f)-MaxPool-Conv(f)-MaxPool | Conv(f)-Up-Conv(f)-Up-Conv(1), 3x3 'same'."""

    def __init__(self, filters):
        super().__init__()
        f = filters
        self.enc1 = nn.Conv2d(1, f, 3, padding=1)
        self.enc2 = nn.Conv2d(f, f, 3, padding=1)
        self.dec1 = nn.Conv2d(f, f, 3, padding=1)
        self.dec2 = nn.Conv2d(f, f, 3, padding=1)
        self.out = nn.Conv2d(f, 1, 3, padding=1)

    def forward(self, x):
        x = x.view(-1, 1, 28, 28)
        x = F.max_pool2d(F.relu(self.enc1(x)), 2)
        x = F.max_pool2d(F.relu(self.enc2(x)), 2)
        x = F.interpolate(F.relu(self.dec1(x)), scale_factor=2, mode="nearest")
        x = F.interpolate(F.relu(self.dec2(x)), scale_factor=2, mode="nearest")
        return self.out(x).view(-1, 784)


def keras_init(model):
    """Glorot-uniform weights, zero biases: Keras' defaults, which aelib uses."""
    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)


def build(cfg):
    if cfg["model"] in ("vanilla", "deep"):
        return dense(cfg["widths"])
    if cfg["model"] == "denoise":
        return ConvDenoising(cfg["filters"])
    raise SystemExit(f"pytorch_reference: unknown model {cfg['model']!r}")


def load(path, n):
    return torch.from_numpy(np.fromfile(path, dtype="<f4").reshape(n, 784))


def rss_mib():
    """Current resident memory (VmRSS) in MiB."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mib():
    """Peak resident memory in MiB: getrusage's maximum, which the kernel updates lazily, or the
    current resident memory where that is higher."""
    return max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, rss_mib())  # KiB on Linux


def blas():
    """The BLAS library torch's matrix products go through (Debian's alternatives pick it)."""
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1]
            if os.path.basename(path).startswith(("libblas.so", "libopenblas", "libmkl_rt")):
                return os.path.realpath(path)
    return "unknown"


def emit(**fields):
    print(json.dumps(fields), flush=True)


def main():
    cfg = json.loads(sys.argv[1])
    torch.set_num_threads(cfg["threads"])
    torch.set_flush_denormal(True)
    torch.manual_seed(cfg["seed"])
    n_train, n_test, batch = cfg["n_train"], cfg["n_test"], cfg["batch_size"]
    files = {}  # inputs that are their own targets (no noise) are loaded once, as aelab holds them once
    def data(key, n):
        if cfg[key] not in files:
            files[cfg[key]] = load(cfg[key], n)
        return files[cfg[key]]
    train_x, train_y = data("train_inputs", n_train), data("train_targets", n_train)
    test_x, test_y = data("test_inputs", n_test), data("test_targets", n_test)

    model = build(cfg)
    keras_init(model)
    model = model.to(memory_format=torch.channels_last)  # oneDNN's fastest convolutions
    opt = torch.optim.Adam(model.parameters(), lr=cfg["learning_rate"], betas=(0.9, 0.999), eps=1e-7)
    emit(event="ready", version=torch.__version__, threads=torch.get_num_threads(), blas=blas(),
         params=sum(p.numel() for p in model.parameters()))

    gen = torch.Generator().manual_seed(cfg["seed"])
    epoch = 0
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == "epoch":
            epoch += 1
            start = time.perf_counter()
            model.train()
            perm = torch.randperm(n_train, generator=gen)
            loss_sum = torch.zeros((), dtype=torch.float64)
            for i in range(0, n_train, batch):
                idx = perm[i:i + batch]
                x, y = train_x[idx], train_y[idx]
                opt.zero_grad(set_to_none=True)
                loss = F.binary_cross_entropy_with_logits(model(x), y)
                loss.backward()
                opt.step()
                loss_sum += loss.detach() * len(x)
            loss_sum = loss_sum.item()
            train_seconds = time.perf_counter() - start
            bce = mse = mae = 0.0
            model.eval()
            with torch.inference_mode():
                for i in range(0, n_test, batch):
                    logits, y = model(test_x[i:i + batch]), test_y[i:i + batch]
                    diff = torch.sigmoid(logits) - y
                    bce += F.binary_cross_entropy_with_logits(logits, y, reduction="sum").item()
                    mse += diff.square().sum().item()
                    mae += diff.abs().sum().item()
            count = n_test * 784
            rss = rss_mib()
            # The keys are aelib.EpochMetrics' JSON names, aelab's metric names (experiments' schema).
            emit(event="epoch", epoch=epoch, train_loss=loss_sum / n_train, val_bce=bce / count,
                 val_mse=mse / count, val_mae=mae / count, epoch_train_seconds=train_seconds,
                 epoch_seconds=time.perf_counter() - start, rss_mib=rss, peak_rss_mib=max(peak_rss_mib(), rss))
        elif cmd == "finish":
            model.eval()
            with torch.inference_mode():
                recon = torch.cat([torch.sigmoid(model(test_x[i:i + batch])) for i in range(0, n_test, batch)])
            recon.numpy().astype("<f4").tofile(cfg["recon_path"])
            emit(event="done", peak_rss_mib=peak_rss_mib())
            return
        elif cmd:
            raise SystemExit(f"pytorch_reference: unknown command {cmd!r}")


if __name__ == "__main__":
    main()
