#!/usr/bin/env python3
"""The benchmark's training step in plain PyTorch.

The CIFAR-10 student of Polino et al.: 5x5 convolutions with 75-50-50-25 channels (padding 2),
each followed by BatchNorm and ReLU, max-pool after conv 1 and conv 3, then FC 500 and FC 10.
One step = forward, cross-entropy, backward, SGD (momentum 0.9) on random 3x32x32 input.

Prints one line per configuration: `<config> samples_per_s=<value>`.
"""
import argparse
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from blas import loaded_blas  # noqa: E402


class Student(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 75, 5, padding=2)
        self.bn1 = nn.BatchNorm2d(75)
        self.conv2 = nn.Conv2d(75, 50, 5, padding=2)
        self.bn2 = nn.BatchNorm2d(50)
        self.conv3 = nn.Conv2d(50, 50, 5, padding=2)
        self.bn3 = nn.BatchNorm2d(50)
        self.conv4 = nn.Conv2d(50, 25, 5, padding=2)
        self.bn4 = nn.BatchNorm2d(25)
        self.fc1 = nn.Linear(25 * 8 * 8, 500)
        self.fc2 = nn.Linear(500, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.relu(self.bn2(self.conv2(x)))
        x = F.max_pool2d(F.relu(self.bn3(self.conv3(x))), 2)
        x = F.relu(self.bn4(self.conv4(x)))
        x = F.relu(self.fc1(torch.flatten(x, 1)))
        return self.fc2(x)


def run(config, batch, warmup, steps):
    channels_last = "channels_last" in config
    bf16 = "bf16" in config
    torch.manual_seed(0)
    model = Student().train()
    x = torch.randn(batch, 3, 32, 32)
    y = torch.randint(0, 10, (batch,))
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    for _ in range(warmup):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        loss = step()
    elapsed = time.perf_counter() - start
    if not torch.isfinite(loss):
        raise SystemExit(f"{config}: loss is not finite")
    return batch * steps / elapsed


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--configs", default="fp32,channels_last,bf16,bf16_channels_last")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    for config in a.configs.split(","):
        print(f"{config} samples_per_s={run(config, a.batch, a.warmup, a.steps):.1f}", flush=True)
    print(f"pytorch {torch.__version__}, intra-op threads {torch.get_num_threads()}", file=sys.stderr)
    print("blas: " + ", ".join(loaded_blas()), file=sys.stderr)


if __name__ == "__main__":
    main()
