#!/usr/bin/env python3
"""PyTorch side of `make gpu-check`: aelab's three course models trained on a GPU (or the CPU for
a dry run), the fastest plain way: the training images live on the device, each epoch's shuffle
is a permutation drawn there, the loss is summed there (no host sync per step), cuDNN picks its
convolution algorithms (benchmark mode), Adam is the fused CUDA kernel where this torch has it,
and float32 matrix products may use TF32, as XLA's default precision does on the GPU.

The models are aelib's presets: vanilla 784-256-128-32-128-256-784 and deep 784-128-64-32-64-128-784
(ReLU, logits out), the conv denoiser Conv32-Pool-Conv32-Pool | Conv32-Up-Conv32-Up-Conv1, 3x3
'same'; Glorot-uniform weights, zero biases, Adam lr 1e-3 beta 0.9/0.999 eps 1e-7, binary
cross-entropy on logits, batch 256 (dense) or 128 (conv), the denoiser's inputs
clip(x + 0.5 N(0,1), 0, 1) drawn once.

Prints one JSON object per model on stdout (see result()); the first epoch (cuDNN's search,
allocator warm-up) is not timed, as aelab bench leaves out its compiling epoch; seconds_per_epoch
is the median of the others. Progress goes to
stderr. Exit 3 when --device cuda finds no GPU, 4 when torch is not installed.
"""

import inspect
import json
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mnist  # noqa: E402
from common import BATCH, BETA1, BETA2, EPS, FILTERS, LR, NOISE, WIDTHS, parse_args, timing  # noqa: E402


def build(torch, nn, F, model):
    """aelib's preset as a torch module that returns logits."""
    if model in WIDTHS:
        w = WIDTHS[model]
        sizes = [784, *w, *reversed(w[:-1]), 784]
        layers = []
        for i in range(len(sizes) - 1):
            layers.append(nn.Linear(sizes[i], sizes[i + 1]))
            if i < len(sizes) - 2:
                layers.append(nn.ReLU())
        net = nn.Sequential(*layers)
    else:
        class Conv(nn.Module):
            def __init__(self):
                super().__init__()
                f = FILTERS
                self.c = nn.ModuleList([nn.Conv2d(i, o, 3, padding=1) for i, o in ((1, f), (f, f), (f, f), (f, f), (f, 1))])

            def forward(self, x):
                c = self.c
                x = x.view(-1, 1, 28, 28)
                x = F.max_pool2d(F.relu(c[0](x)), 2)
                x = F.max_pool2d(F.relu(c[1](x)), 2)
                x = F.interpolate(F.relu(c[2](x)), scale_factor=2, mode="nearest")
                x = F.interpolate(F.relu(c[3](x)), scale_factor=2, mode="nearest")
                return c[4](x).reshape(-1, 784)
        net = Conv()
    for m in net.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    return net


def adam(torch, params, device):
    """Adam with Keras' constants; the fused CUDA kernel (or foreach) where this torch has it."""
    kw, sig = {}, inspect.signature(torch.optim.Adam).parameters
    kind = "default"
    if device == "cuda" and "fused" in sig:
        kw, kind = {"fused": True}, "fused"
    elif device == "cuda" and "foreach" in sig:
        kw, kind = {"foreach": True}, "foreach"
    return torch.optim.Adam(params, lr=LR, betas=(BETA1, BETA2), eps=EPS, **kw), kind


def train_model(torch, nn, F, a, model, train_all, test_all, dev, name):
    batch = BATCH[model]
    n = min(a.steps * batch, len(train_all)) if a.steps else len(train_all)
    gen = torch.Generator(device=dev).manual_seed(a.seed)
    torch.manual_seed(a.seed)
    x_train = train_all[:n]
    y_train = x_train
    x_test = y_test = test_all[: a.test_subset]
    if model == "denoise":
        x_train = (x_train + NOISE * torch.randn(x_train.shape, device=dev, generator=gen)).clamp_(0, 1)
        x_test = (y_test + NOISE * torch.randn(y_test.shape, device=dev, generator=gen)).clamp_(0, 1)
    net = build(torch, nn, F, model).to(dev)
    opt, opt_kind = adam(torch, net.parameters(), dev)
    steps = math.ceil(n / batch)

    def sync():
        if dev == "cuda":
            torch.cuda.synchronize()

    times, loss_sum = [], None
    for epoch in range(a.epochs):
        sync()
        start = time.perf_counter()
        perm = torch.randperm(n, device=dev, generator=gen)
        loss_sum = torch.zeros((), device=dev)
        for i in range(0, n, batch):
            idx = perm[i:i + batch]
            x = x_train.index_select(0, idx)
            y = x if y_train is x_train else y_train.index_select(0, idx)
            loss = F.binary_cross_entropy_with_logits(net(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += loss.detach() * idx.numel()
        sync()
        times.append(time.perf_counter() - start)
        print(f"torch {model} epoch {epoch + 1}: {times[-1]:.4f} s", file=sys.stderr, flush=True)
    with torch.no_grad():
        val = sum(F.binary_cross_entropy_with_logits(net(x_test[i:i + 1000]), y_test[i:i + 1000], reduction="sum")
                  for i in range(0, len(x_test), 1000))
    return {
        **timing("pytorch", torch.__version__, name, model, batch, n, len(train_all), steps, a.epochs, times),
        "final_loss": float(loss_sum) / n, "final_val_loss": float(val) / (len(x_test) * 784),
        "optimizer": opt_kind, "tf32": bool(dev == "cuda" and torch.backends.cuda.matmul.allow_tf32),
    }


def main(argv):
    a = parse_args(argv, __doc__.split("\n\n")[0], threads=True)
    try:
        import torch
        from torch import nn
        import torch.nn.functional as F
    except ImportError as e:
        print(f"torch_bench: PyTorch not installed ({e})", file=sys.stderr)
        return 4

    if a.device == "cuda":
        if not torch.cuda.is_available():
            print(f"torch_bench: torch {torch.__version__} sees no CUDA GPU", file=sys.stderr)
            return 3
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        name = torch.cuda.get_device_name(0)
    else:
        torch.set_num_threads(a.threads)
        name = f"cpu ({torch.get_num_threads()} threads)"
    train_all = torch.from_numpy(mnist.images(a.data, "train")).to(a.device)
    test_all = torch.from_numpy(mnist.images(a.data, "test")).to(a.device)
    for model in a.models:
        print(json.dumps(train_model(torch, nn, F, a, model, train_all, test_all, a.device, name)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
