#!/usr/bin/env python3
"""Writes the benchmark's training data once, as a CIFAR-10 binary folder.

Both sides read the same files: our trainer through its `cifar10` reader (dataset.root), the
PyTorch script through `read_cifar_folder` in pytorch_qd.py. The images are random bytes from a
fixed seed (speed does not depend on what the pixels show); labels are uniform over 10 classes.

Layout (what the official archive extracts to): <out>/cifar-10-batches-bin/data_batch_1..5.bin
holding the N training records split as evenly as possible, and test_batch.bin holding the test
records. Each record is 1 label byte followed by 3072 pixel bytes (1024 R, 1024 G, 1024 B).
"""
import argparse
import os

import numpy as np

RECORD = 1 + 3 * 32 * 32


def write_records(path, labels, pixels):
    records = np.empty((len(labels), RECORD), dtype=np.uint8)
    records[:, 0] = labels
    records[:, 1:] = pixels.reshape(len(labels), -1)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(records.tobytes())
    os.replace(tmp, path)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="folder to create (the dataset root)")
    p.add_argument("--train", type=int, default=2048, help="training examples (N)")
    p.add_argument("--test", type=int, default=256, help="test examples")
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    if a.train < 5 or a.test < 1:
        raise SystemExit("--train must be at least 5 (one record per batch file) and --test at least 1")

    rng = np.random.default_rng(a.seed)
    total = a.train + a.test
    labels = rng.integers(0, 10, size=total, dtype=np.uint8)
    pixels = rng.integers(0, 256, size=(total, 3, 32, 32), dtype=np.uint8)

    folder = os.path.join(a.out, "cifar-10-batches-bin")
    os.makedirs(folder, exist_ok=True)
    bounds = np.linspace(0, a.train, 6).round().astype(int)
    for i in range(5):
        lo, hi = bounds[i], bounds[i + 1]
        write_records(os.path.join(folder, f"data_batch_{i + 1}.bin"), labels[lo:hi], pixels[lo:hi])
    write_records(os.path.join(folder, "test_batch.bin"), labels[a.train:], pixels[a.train:])
    print(f"wrote {a.train} training and {a.test} test records to {folder}")


if __name__ == "__main__":
    main()
