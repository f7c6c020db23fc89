#!/usr/bin/env python3
"""JAX side of `make gpu-check`: aelab's three course models with the whole epoch as one
jit-compiled `lax.scan` (shuffle, batch gather, forward, gradient and Adam all inside one
executable call), the bar aelab's device loop on XLA is measured against.

Same models and settings as torch_bench.py (aelib's presets; Glorot-uniform weights, zero
biases, Adam lr 1e-3 beta 0.9/0.999 eps 1e-7 in aelib's form, BCE on logits, batch 256 dense /
128 conv; the last, partial batch is padded and masked, as aelab's device loop does). The
training images live on the device; each epoch's permutation is drawn there from the epoch
number. The epoch is compiled ahead of time (lower + compile, timed on its own as
compile_seconds); then the first epoch runs untimed and seconds_per_epoch is the median of
the others.

Prints one JSON object per model on stdout; progress on stderr. Exit 3 when --device cuda finds
no GPU, 4 when JAX is not installed.
"""

import json
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mnist  # noqa: E402
from common import BATCH, BETA1, BETA2, EPS, FILTERS, LR, NOISE, WIDTHS, parse_args, timing  # noqa: E402


def glorot(rng, shape, fan_in, fan_out):
    import numpy as np
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape).astype(np.float32)


def init_params(model, seed):
    """Weights as numpy arrays: dense [in, out] + bias, conv HWIO [3, 3, in, out] + bias."""
    import numpy as np
    rng = np.random.default_rng(seed)
    if model in WIDTHS:
        w = WIDTHS[model]
        sizes = [784, *w, *reversed(w[:-1]), 784]
        return [(glorot(rng, (i, o), i, o), np.zeros(o, np.float32)) for i, o in zip(sizes, sizes[1:])]
    f = FILTERS
    return [(glorot(rng, (3, 3, i, o), 9 * i, 9 * o), np.zeros(o, np.float32))
            for i, o in ((1, f), (f, f), (f, f), (f, f), (f, 1))]


def make_forward(jax, jnp, lax, model):
    """The model's forward pass: params, x [B, 784] → logits [B, 784]."""
    relu = jax.nn.relu
    if model in WIDTHS:
        def dense(params, x):
            for i, (w, b) in enumerate(params):
                x = x @ w + b
                if i < len(params) - 1:
                    x = relu(x)
            return x
        return dense

    def conv(x, wb):
        w, b = wb
        return lax.conv_general_dilated(x, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")) + b

    def pool(x):
        return lax.reduce_window(x, -jnp.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")

    def up(x):
        return jnp.repeat(jnp.repeat(x, 2, axis=1), 2, axis=2)

    def denoiser(params, x):
        x = x.reshape(-1, 28, 28, 1)
        x = pool(relu(conv(x, params[0])))
        x = pool(relu(conv(x, params[1])))
        x = up(relu(conv(x, params[2])))
        x = up(relu(conv(x, params[3])))
        return conv(x, params[4]).reshape(-1, 784)
    return denoiser


def bce_sum(jnp, logits, y):
    """Per-row sums of binary cross-entropy on logits, the numerically stable form."""
    return (jnp.maximum(logits, 0) - logits * y + jnp.log1p(jnp.exp(-jnp.abs(logits)))).sum(axis=1)


def make_epoch(jax, jnp, lax, model, n, batch, steps, seed, noisy):
    """The whole epoch as one function of (state, epoch, x_train[, y_train]) → (state, mean loss)."""
    forward = make_forward(jax, jnp, lax, model)
    tree_map = jax.tree_util.tree_map
    pad = steps * batch - n

    def loss_fn(params, x, y, mask):
        return (bce_sum(jnp, forward(params, x), y) * mask).sum() / (mask.sum() * 784)

    grad_fn = jax.value_and_grad(loss_fn)

    def epoch(state, epoch_num, x_all, y_all):
        new_key = getattr(jax.random, "key", None) or jax.random.PRNGKey  # typed keys where this jax has them
        key = jax.random.fold_in(new_key(seed), epoch_num)
        perm = jax.random.permutation(key, n).astype(jnp.int32)
        perm = jnp.concatenate([perm, jnp.zeros((pad,), jnp.int32)]).reshape(steps, batch)
        mask = jnp.concatenate([jnp.ones((n,), jnp.float32), jnp.zeros((pad,), jnp.float32)]).reshape(steps, batch)

        def step(carry, xs):
            params, m1, m2, t = carry
            idx, mk = xs
            x = jnp.take(x_all, idx, axis=0)
            y = jnp.take(y_all, idx, axis=0) if noisy else x
            loss, grads = grad_fn(params, x, y, mk)
            t = t + 1.0
            m1 = tree_map(lambda m, g: BETA1 * m + (1 - BETA1) * g, m1, grads)
            m2 = tree_map(lambda v, g: BETA2 * v + (1 - BETA2) * g * g, m2, grads)
            d1, d2 = 1.0 / (1.0 - BETA1 ** t), 1.0 / (1.0 - BETA2 ** t)
            params = tree_map(lambda p, m, v: p - LR * (m * d1) / (jnp.sqrt(v * d2) + EPS), params, m1, m2)
            return (params, m1, m2, t), loss * mk.sum()

        state, losses = lax.scan(step, state, (perm, mask))
        return state, losses.sum() / n
    return epoch, forward


def train_model(jax, jnp, lax, a, model, train_np, test_np, name):
    import numpy as np
    batch = BATCH[model]
    n = min(a.steps * batch, len(train_np)) if a.steps else len(train_np)
    steps = math.ceil(n / batch)
    noisy = model == "denoise"
    clean = train_np[:n]
    test_y = test_np[: a.test_subset]
    test_x = test_y
    rng = np.random.default_rng(a.seed)
    inputs = clean
    if noisy:  # drawn once, as the course and aelab do
        inputs = np.clip(clean + NOISE * rng.standard_normal(clean.shape, dtype=np.float32), 0, 1)
        test_x = np.clip(test_y + NOISE * rng.standard_normal(test_y.shape, dtype=np.float32), 0, 1)
    x_all = jax.device_put(inputs)
    y_all = jax.device_put(clean) if noisy else x_all
    params = [(jnp.asarray(w), jnp.asarray(b)) for w, b in init_params(model, a.seed)]
    zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
    state = (params, zeros, jax.tree_util.tree_map(jnp.zeros_like, params), jnp.zeros((), jnp.float32))
    epoch_fn, forward = make_epoch(jax, jnp, lax, model, n, batch, steps, a.seed, noisy)
    donate = (0,) if a.device == "cuda" else ()  # the CPU client does not donate buffers
    start = time.perf_counter()
    compiled = jax.jit(epoch_fn, donate_argnums=donate).lower(state, jnp.int32(0), x_all, y_all).compile()
    compile_s = time.perf_counter() - start
    print(f"jax {model}: compiled in {compile_s:.2f} s", file=sys.stderr, flush=True)
    times, loss = [], None
    for epoch in range(a.epochs):
        start = time.perf_counter()
        state, loss = compiled(state, jnp.int32(epoch), x_all, y_all)
        loss.block_until_ready()
        times.append(time.perf_counter() - start)
        print(f"jax {model} epoch {epoch + 1}: {times[-1]:.4f} s", file=sys.stderr, flush=True)
    val_fn = jax.jit(lambda p, x, y: bce_sum(jnp, forward(p, x), y).sum())
    val = sum(float(val_fn(state[0], test_x[i:i + 1000], test_y[i:i + 1000])) for i in range(0, len(test_x), 1000))
    return {
        **timing("jax", jax.__version__, name, model, batch, n, len(train_np), steps, a.epochs, times),
        "compile_seconds": compile_s, "final_loss": float(loss), "final_val_loss": val / (len(test_x) * 784),
    }


def main(argv):
    a = parse_args(argv, __doc__.split("\n\n")[0])
    if a.device == "cpu":
        os.environ["JAX_PLATFORMS"] = "cpu"
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    try:
        import jax
        import jax.numpy as jnp
        from jax import lax
    except ImportError as e:
        print(f"jax_bench: JAX not installed ({e})", file=sys.stderr)
        return 4

    devices = jax.devices()
    if a.device == "cuda" and not any(d.platform in ("gpu", "cuda") for d in devices):
        print(f"jax_bench: jax {jax.__version__} sees no GPU (devices: {devices})", file=sys.stderr)
        return 3
    name = getattr(devices[0], "device_kind", str(devices[0]))
    train_np, test_np = mnist.images(a.data, "train"), mnist.images(a.data, "test")
    for model in a.models:
        print(json.dumps(train_model(jax, jnp, lax, a, model, train_np, test_np, name)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
