#!/usr/bin/env python3
"""Quantized distillation (Polino et al. 2018) in plain PyTorch: the baseline of bench/training.

The same work as a QuantStudio run with method `quantized_distillation`:
- teacher: the paper's CIFAR-10 net, eight 3x3 convs 76-76-126-126-148-148-148-148 (no bias),
  each followed by BatchNorm and ReLU, max-pool after convs 1, 3 and 7, then FC 1200, FC 1200
  (ReLU) and FC 10. It is frozen, in eval mode, and computes its logits for every batch, as a
  plain PyTorch script does;
- student: 5x5 convs 75-50-50-25 (no bias) with BatchNorm and ReLU, max-pool after convs 1 and 3,
  FC 500 (ReLU) and FC 10;
- before each forward pass every conv and linear weight of the student except the first and the
  last layer's is replaced by its 4-bit bucketed uniform quantization (buckets of 256 consecutive
  weights, min-max per bucket, round half to even); the forward and backward passes run on the
  quantized weights, then the full-precision copies are put back and SGD updates them;
- loss alpha*T^2*KL(softmax(t/T) || softmax(s/T)) + (1-alpha)*CE with T=2, alpha=0.7;
- SGD lr 0.05, momentum 0.9, Nesterov, weight decay 5e-4, cosine schedule stepped per batch;
- batch 64; data from a CIFAR-10 binary folder (make_data.py), normalized with CIFAR-10's mean
  and std, served by a DataLoader (shuffled; with --augment, a 4-pixel-padded random crop and a
  horizontal flip per image).

Whole epochs are timed, data loading included; --warmup-epochs run first and are not timed.
Prints `epoch=<k> seconds=<s> samples_per_s=<r>` per timed epoch, then
`samples_per_s=<r>` over all timed epochs (timed samples / timed seconds) and the test accuracy
of the quantized student.
"""
import argparse
import math
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from blas import loaded_blas  # noqa: E402

CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)


class CifarConvNet(nn.Module):
    """conv -> BatchNorm -> ReLU blocks, 2x2 max-pools after the listed (1-based) convs, FC layers."""

    def __init__(self, filters, kernel, pool_after, hidden, classes=10):
        super().__init__()
        layers = []
        channels = 3
        for i, out in enumerate(filters):
            layers += [nn.Conv2d(channels, out, kernel, padding=kernel // 2, bias=False), nn.BatchNorm2d(out), nn.ReLU()]
            if i + 1 in pool_after:
                layers.append(nn.MaxPool2d(2))
            channels = out
        self.features = nn.Sequential(*layers)
        side = 32 // 2 ** len(pool_after)
        fc = [nn.Flatten()]
        width = channels * side * side
        for h in hidden:
            fc += [nn.Linear(width, h), nn.ReLU()]
            width = h
        fc.append(nn.Linear(width, classes))
        self.classifier = nn.Sequential(*fc)

    def forward(self, x):
        return self.classifier(self.features(x))


def teacher():
    return CifarConvNet([76, 76, 126, 126, 148, 148, 148, 148], 3, [1, 3, 7], [1200, 1200])


def student():
    return CifarConvNet([75, 50, 50, 25], 5, [1, 3], [500])


def quantize_bucketed(w, bits=4, bucket=256):
    """Uniform min-max quantization of the flattened tensor in buckets of `bucket` consecutive values."""
    flat = w.detach().reshape(-1)
    n = flat.numel()
    pad = (-n) % bucket
    if pad:
        # Repeating the last value leaves the last bucket's min and max unchanged.
        flat = torch.cat([flat, flat[-1:].expand(pad)])
    b = flat.view(-1, bucket)
    lo = b.min(dim=1, keepdim=True).values
    alpha = b.max(dim=1, keepdim=True).values - lo
    alpha = torch.where(alpha < 1e-10, torch.ones_like(alpha), alpha)
    steps = 2 ** bits - 1
    q = torch.round(((b - lo) / alpha * steps).clamp_(0, steps))  # round half to even
    deq = q * (alpha / steps) + lo
    return deq.reshape(-1)[:n].view(w.shape)


def quantized_weights(model):
    """Conv and linear weights in module order, without the first and the last layer's."""
    layers = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    return [m.weight for m in layers[1:-1]]


def read_cifar_folder(root):
    """(train_x, train_y, test_x, test_y) from a CIFAR-10 binary folder, as uint8 / int64 tensors."""
    folder = os.path.join(root, "cifar-10-batches-bin")
    if not os.path.isdir(folder):
        folder = root

    def read(names):
        xs, ys = [], []
        for name in names:
            path = os.path.join(folder, name)
            raw = torch.frombuffer(bytearray(open(path, "rb").read()), dtype=torch.uint8)
            if raw.numel() % 3073:
                raise SystemExit(f"{path}: not a whole number of 3073-byte CIFAR-10 records")
            records = raw.view(-1, 3073)
            ys.append(records[:, 0].long())
            xs.append(records[:, 1:].reshape(-1, 3, 32, 32))
        return torch.cat(xs), torch.cat(ys)

    train = read([f"data_batch_{i}.bin" for i in range(1, 6)])
    test = read(["test_batch.bin"])
    return train + test


class ImageDataset(Dataset):
    """Normalized float images; with augment, a random crop after 4-pixel zero padding and a random flip."""

    def __init__(self, pixels, labels, augment):
        mean = torch.tensor(CIFAR10_MEAN).view(3, 1, 1)
        std = torch.tensor(CIFAR10_STD).view(3, 1, 1)
        self.x = (pixels.float() / 255 - mean) / std
        self.y = labels
        self.augment = augment

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        x = self.x[i]
        if self.augment:
            x = F.pad(x, (4, 4, 4, 4))
            top, left = torch.randint(0, 9, (2,)).tolist()
            x = x[:, top:top + 32, left:left + 32]
            if torch.rand(()) < 0.5:
                x = x.flip(-1)
        return x, self.y[i]


def distillation_loss(s, t, y, temperature, alpha):
    s, t = s.float(), t.float()
    kl = F.kl_div(F.log_softmax(s / temperature, 1), F.softmax(t / temperature, 1), reduction="batchmean")
    return alpha * temperature ** 2 * kl + (1 - alpha) * F.cross_entropy(s, y)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="CIFAR-10 binary folder written by make_data.py")
    p.add_argument("--epochs", type=int, default=10, help="timed epochs")
    p.add_argument("--warmup-epochs", type=int, default=1, help="untimed epochs run first")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    p.add_argument("--channels-last", action="store_true")
    p.add_argument("--augment", action="store_true")
    p.add_argument("--bits", type=int, default=4)
    p.add_argument("--bucket", type=int, default=256)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    bf16 = a.precision == "bf16"
    memory_format = torch.channels_last if a.channels_last else torch.contiguous_format

    train_x, train_y, test_x, test_y = read_cifar_folder(a.data)
    train = ImageDataset(train_x, train_y, a.augment)
    test = ImageDataset(test_x, test_y, False)
    loader = DataLoader(train, batch_size=a.batch, shuffle=True, num_workers=0)

    t_net = teacher().to(memory_format=memory_format).eval()
    for q in t_net.parameters():
        q.requires_grad_(False)
    s_net = student().to(memory_format=memory_format).train()
    quantized = quantized_weights(s_net)

    total_steps = (a.warmup_epochs + a.epochs) * len(loader)
    opt = torch.optim.SGD(s_net.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 0.5 * (1 + math.cos(math.pi * min(step, total_steps) / total_steps)))

    def train_epoch():
        samples = 0
        for x, y in loader:
            x = x.contiguous(memory_format=memory_format)
            with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                t_logits = t_net(x)
            # Quantized forward and backward; the gradients land on the parameters, which then get
            # their full-precision values back before the optimizer steps.
            shadow = [w.detach().clone() for w in quantized]
            with torch.no_grad():
                for w in quantized:
                    w.copy_(quantize_bucketed(w, a.bits, a.bucket))
            opt.zero_grad(set_to_none=True)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                s_logits = s_net(x)
            loss = distillation_loss(s_logits, t_logits, y, 2.0, 0.7)
            loss.backward()
            with torch.no_grad():
                for w, fp in zip(quantized, shadow):
                    w.copy_(fp)
            opt.step()
            sched.step()
            if not torch.isfinite(loss):
                raise SystemExit(f"the loss became {loss.item()}")
            samples += len(y)
        return samples

    for _ in range(a.warmup_epochs):
        train_epoch()
    timed_samples, timed_seconds = 0, 0.0
    for epoch in range(1, a.epochs + 1):
        start = time.perf_counter()
        n = train_epoch()
        seconds = time.perf_counter() - start
        timed_samples += n
        timed_seconds += seconds
        print(f"epoch={epoch} seconds={seconds:.3f} samples_per_s={n / seconds:.1f}", flush=True)
    if a.epochs > 0:
        print(f"samples_per_s={timed_samples / timed_seconds:.1f}", flush=True)

    # The final quantization, evaluated in fp32 like QuantStudio's evaluation.
    s_net.eval()
    with torch.no_grad():
        for w in quantized:
            w.copy_(quantize_bucketed(w, a.bits, a.bucket))
        correct = 0
        for x, y in DataLoader(test, batch_size=a.batch):
            correct += (s_net(x.contiguous(memory_format=memory_format)).argmax(1) == y).sum().item()
    print(f"test_accuracy={correct / len(test):.4f}")
    print(f"pytorch {torch.__version__}, intra-op threads {torch.get_num_threads()}, precision {a.precision}, "
          f"channels_last {a.channels_last}, augment {a.augment}, train examples {len(train)}", file=sys.stderr)
    print("blas: " + ", ".join(loaded_blas()), file=sys.stderr)


if __name__ == "__main__":
    main()
