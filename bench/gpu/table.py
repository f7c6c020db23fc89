#!/usr/bin/env python3
"""The table of `make gpu-check`: reads what gpu-check.sh collected in its work folder and prints
one table (model, aelab s/epoch and compile s, PyTorch s/epoch, JAX s/epoch and compile s, the
ratios) under the machine's line, then writes the same as gpu-check.json in the output folder.
Standard library only: it runs with any python3 3.6+.

Work folder: machine.txt (key=value lines), aelab-<model>.json (`aelab bench --json` output),
pytorch.jsonl and jax.jsonl (one object per model from torch_bench.py / jax_bench.py), notes.txt
(one line per thing not measured and why).
"""

import argparse
import json
import os
import sys

MODELS = ("vanilla", "deep", "denoise", "sparse", "contractive", "vae")
COLUMNS = ("model", "aelab s/epoch", "aelab compile s", "PyTorch s/epoch", "JAX s/epoch", "JAX compile s",
           "aelab/PyTorch", "aelab/JAX")
MACHINE_KEYS = ("mode", "gpu", "cuda", "plugin", "backend", "pytorch", "jax", "aelab", "cpu", "load", "epochs", "date")


def read_lines(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f if line.strip()]


def read_machine(work):
    machine = {}
    for line in read_lines(os.path.join(work, "machine.txt")):
        key, _, value = line.partition("=")
        machine[key.strip()] = value.strip()
    return machine


def read_aelab(work, notes):
    """model → the bench result of aelab-<model>.json (a one-element JSON array)."""
    out = {}
    for model in MODELS:
        path = os.path.join(work, f"aelab-{model}.json")
        if not os.path.exists(path) or os.path.getsize(path) == 0:
            continue
        try:
            with open(path, encoding="utf-8") as f:
                results = json.load(f)
            out[model] = next(r for r in results if r.get("model") == model)
        except (ValueError, StopIteration) as e:
            notes.append(f"aelab {model}: unreadable bench output {path}: {e}")
    return out


def read_jsonl(work, name, notes):
    out = {}
    for i, line in enumerate(read_lines(os.path.join(work, name + ".jsonl"))):
        try:
            r = json.loads(line)
            out[r["model"]] = r
        except (ValueError, KeyError, TypeError) as e:
            notes.append(f"{name}: line {i + 1} is not a result ({e}): {line[:120]}")
    return out


def seconds(r, key="seconds_per_epoch"):
    v = (r or {}).get(key)
    return v if isinstance(v, (int, float)) and v > 0 else None


def fmt(v, extrapolated=False, spec=".4g"):
    """A cell: 4 significant digits (seconds per epoch) or spec; * marks an extrapolated figure."""
    if v is None:
        return "—"
    return format(v, spec) + ("*" if extrapolated else "")


def ratio(a, b):
    return a / b if a is not None and b is not None else None


def build_rows(aelab, torch, jax):
    rows = []
    for model in MODELS:
        a, t, j = aelab.get(model), torch.get(model), jax.get(model)
        if not (a or t or j):
            continue
        sa, st, sj = seconds(a), seconds(t), seconds(j)
        rows.append({
            "model": model,
            "aelab_seconds_per_epoch": sa, "aelab_compile_seconds": (a or {}).get("compile_seconds"),
            "aelab_loop": (a or {}).get("loop"), "aelab_backend": (a or {}).get("backend_config"),
            "aelab_device": (a or {}).get("device"),
            "aelab_final_loss": (a or {}).get("final_loss"), "aelab_final_val_loss": (a or {}).get("final_val_loss"),
            "pytorch_seconds_per_epoch": st, "pytorch_final_loss": (t or {}).get("final_loss"),
            "jax_seconds_per_epoch": sj, "jax_compile_seconds": (j or {}).get("compile_seconds"),
            "jax_final_loss": (j or {}).get("final_loss"),
            "aelab_over_pytorch": ratio(sa, st), "aelab_over_jax": ratio(sa, sj),
            "extrapolated": any(bool((r or {}).get("extrapolated")) for r in (a, t, j)),
            "aelab": a, "pytorch": t, "jax": j,
        })
    return rows


def render(rows, machine, notes):
    lines = ["gpu-check: " + "; ".join(f"{k} {machine[k]}" for k in MACHINE_KEYS if machine.get(k))]
    if not machine.get("mode", "cuda").startswith("cuda"):
        lines.append("DRY RUN on the CPU: checks the plumbing; these timings are not GPU figures.")
    cells = [list(COLUMNS)]
    for r in rows:
        cells.append([
            r["model"],
            fmt(r["aelab_seconds_per_epoch"], (r["aelab"] or {}).get("extrapolated")),
            fmt(r["aelab_compile_seconds"], spec=".2f"),
            fmt(r["pytorch_seconds_per_epoch"], (r["pytorch"] or {}).get("extrapolated")),
            fmt(r["jax_seconds_per_epoch"], (r["jax"] or {}).get("extrapolated")),
            fmt(r["jax_compile_seconds"], spec=".2f"),
            "—" if r["aelab_over_pytorch"] is None else f"{r['aelab_over_pytorch']:.2f}",
            "—" if r["aelab_over_jax"] is None else f"{r['aelab_over_jax']:.2f}",
        ])
    widths = [max(len(row[i]) for row in cells) for i in range(len(COLUMNS))]
    for i, row in enumerate(cells):
        lines.append("| " + " | ".join(c.ljust(w) if k == 0 else c.rjust(w) for k, (c, w) in enumerate(zip(row, widths))) + " |")
        if i == 0:
            lines.append("|" + "|".join("-" * (w + 1) + (":" if k else "-") for k, w in enumerate(widths)) + "|")
    if not rows:
        lines.append("(nothing was measured)")
    loops = sorted({r["aelab_loop"] for r in rows if r["aelab_loop"]})
    lines.append("s/epoch: training only, over the epochs after the first (which compiles or warms up): aelab bench's "
                 "figure, the median for PyTorch and JAX; aelab loop: " + (", ".join(loops) or "—") + "; ratio < 1: aelab faster")
    if any(r["extrapolated"] for r in rows):
        lines.append("*: measured on a few steps and extrapolated to a full 60,000-image epoch")
    lines += ["note: " + n for n in notes]
    return "\n".join(lines)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--work", required=True, help="gpu-check.sh's work folder")
    p.add_argument("--out", required=True, help="folder for gpu-check.json")
    a = p.parse_args(argv)
    notes = read_lines(os.path.join(a.work, "notes.txt"))
    machine = read_machine(a.work)
    rows = build_rows(read_aelab(a.work, notes), read_jsonl(a.work, "pytorch", notes), read_jsonl(a.work, "jax", notes))
    print(render(rows, machine, notes))
    os.makedirs(a.out, exist_ok=True)
    path = os.path.join(a.out, "gpu-check.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"machine": machine, "rows": rows, "notes": notes}, f, indent=1)
        f.write("\n")
    print(f"gpu-check: wrote {path}")
    return 0 if rows else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
