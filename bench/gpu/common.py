"""What the GPU check's PyTorch and JAX scripts share: aelab's course presets and the command line.

The presets are aelib's: vanilla 784-256-128-32-128-256-784, deep 784-128-64-32-64-128-784, the
conv denoiser with 32 filters; batch 256 (dense) or 128 (conv); Adam lr 1e-3, beta 0.9/0.999,
eps 1e-7; the denoiser's noise factor 0.5.
"""

import argparse
import math
import statistics

MODELS = ("vanilla", "deep", "denoise")
WIDTHS = {"vanilla": (256, 128, 32), "deep": (128, 64, 32)}
BATCH = {"vanilla": 256, "deep": 256, "denoise": 128}
NOISE, LR, FILTERS = 0.5, 1e-3, 32
BETA1, BETA2, EPS = 0.9, 0.999, 1e-7


def parse_args(argv, description, threads=False):
    """The scripts' command line; threads adds --threads (CPU threads for a dry run)."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--data", required=True, help="folder of MNIST's IDX .gz files (aelab's)")
    p.add_argument("--models", default=",".join(MODELS), help="comma-separated: " + ", ".join(MODELS))
    p.add_argument("--epochs", type=int, default=6, help="epochs per model, >= 2 (the first is not timed)")
    p.add_argument("--device", default="cuda", choices=("cuda", "cpu"))
    p.add_argument("--steps", type=int, default=0, help="dry run: N steps an epoch on N*batch images, extrapolated")
    p.add_argument("--test-subset", type=int, default=10000, help="test images for the final validation")
    if threads:
        p.add_argument("--threads", type=int, default=1, help="CPU threads (--device cpu)")
    p.add_argument("--seed", type=int, default=42)
    a = p.parse_args(argv)
    a.models = [m for m in a.models.split(",") if m]
    bad = [m for m in a.models if m not in MODELS]
    if bad or not a.models:
        p.error(f"unknown model(s) {bad} (known: {', '.join(MODELS)})")
    if a.epochs < 2:
        p.error("--epochs must be >= 2: the first epoch is not timed")
    if a.steps < 0 or not 1 <= a.test_subset <= 10000:
        p.error("--steps must be >= 0 and --test-subset in 1..10000")
    return a


def timing(framework, version, device, model, batch, n, n_full, steps, epochs, times):
    """The result fields both scripts report: seconds per epoch is the median of the epochs after
    the first, scaled from steps to a full epoch of n_full images when the run used n of them."""
    full_steps = math.ceil(n_full / batch)
    return {
        "framework": framework, "version": version, "device": device, "model": model,
        "batch_size": batch, "train_examples": n, "steps_per_epoch": steps, "full_epoch_steps": full_steps,
        "epochs": epochs, "epoch_seconds": times, "first_epoch_seconds": times[0],
        "seconds_per_epoch": statistics.median(times[1:]) / steps * full_steps, "extrapolated": n != n_full,
    }
