"""Benchmark peer (never part of the product): the same 1-D ResNet as CodeII.Experiments' ResNet1d, in PyTorch.

Usage: torch_resnet.py <shape.json> <threads> <train_batch> <infer_batch> <iterations>
Prints one JSON line: parameter count and training / inference samples per second, float32 on the CPU.
The architecture mirrors ResNet1d exactly: TensorFlow-style "same" padding (extra sample on the right), a first
conv -> BN -> ReLU, pre-activation residual units with max-pool (ceil mode) and 1x1-conv skips, a linear head on the
flattened last unit. One training step is forward, BCE-with-logits, backward and an Adam step.
Timing: two warm-up steps and at least 2 s, then at least `iterations` steps and at least 3 s.
"""
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class SameConv1d(nn.Module):
    def __init__(self, cin, cout, kernel, stride, length):
        super().__init__()
        out = (length + stride - 1) // stride
        total = max(0, (out - 1) * stride + kernel - length)
        self.pad = (total // 2, total - total // 2)
        self.conv = nn.Conv1d(cin, cout, kernel, stride=stride, bias=False)

    def forward(self, x):
        return self.conv(F.pad(x, self.pad) if any(self.pad) else x)


class Block(nn.Module):
    def __init__(self, cin, cout, down, kernel, dropout, length):
        super().__init__()
        self.conv1 = SameConv1d(cin, cout, kernel, 1, length)
        self.bn1 = nn.BatchNorm1d(cout)
        self.drop1 = nn.Dropout(dropout)
        self.conv2 = SameConv1d(cout, cout, kernel, down, length)
        self.bn2 = nn.BatchNorm1d(cout)
        self.drop2 = nn.Dropout(dropout)
        self.pool = nn.MaxPool1d(down, down, ceil_mode=True) if down > 1 else None
        self.widen = nn.Conv1d(cin, cout, 1, bias=False) if cin != cout else None

    def forward(self, x, skip):
        if self.pool is not None:
            skip = self.pool(skip)
        if self.widen is not None:
            skip = self.widen(skip)
        x = self.drop1(F.relu(self.bn1(self.conv1(x))))
        total = self.conv2(x) + skip
        return self.drop2(F.relu(self.bn2(total))), total


class ResNet1d(nn.Module):
    def __init__(self, s):
        super().__init__()
        length = s["InputSamples"]
        self.conv1 = SameConv1d(s["Leads"], s["FirstFilters"], s["KernelSize"], 1, length)
        self.bn1 = nn.BatchNorm1d(s["FirstFilters"])
        blocks, filters = [], s["FirstFilters"]
        for unit in s["Units"]:
            blocks.append(Block(filters, unit["Filters"], unit["Downsample"], s["KernelSize"], s["Dropout"], length))
            filters = unit["Filters"]
            length = (length + unit["Downsample"] - 1) // unit["Downsample"]
        self.blocks = nn.ModuleList(blocks)
        self.head = nn.Linear(filters * length, s["Classes"])

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        skip = x
        for block in self.blocks:
            x, skip = block(x, skip)
        return self.head(x.flatten(1))


shape_path, threads, train_batch, infer_batch, iterations = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
shape = json.load(open(shape_path))
torch.set_num_threads(threads)
torch.manual_seed(0)
model = ResNet1d(shape)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
x = torch.randn(train_batch, shape["Leads"], shape["InputSamples"])
y = (torch.rand(train_batch, shape["Classes"]) < 0.1).float()


def rate(step, iterations, batch):
    """Samples per second over at least `iterations` steps and at least three seconds, after a warm-up of two steps
    and at least two seconds: the same protocol as the C# side."""
    start = time.perf_counter()
    count = 0
    while count < 2 or time.perf_counter() - start < 2:
        step()
        count += 1
    start = time.perf_counter()
    count = 0
    while count < iterations or time.perf_counter() - start < 3:
        step()
        count += 1
    return count * batch / (time.perf_counter() - start)


def train_step():
    optimizer.zero_grad()
    loss = F.binary_cross_entropy_with_logits(model(x), y)
    loss.backward()
    optimizer.step()


model.train()
train_rate = rate(train_step, iterations, train_batch)

model.eval()
xi = torch.randn(infer_batch, shape["Leads"], shape["InputSamples"])
with torch.no_grad():
    infer_rate = rate(lambda: model(xi), iterations, infer_batch)

print(json.dumps({"torch": torch.__version__, "parameters": sum(p.numel() for p in model.parameters()),
                  "train_samples_per_s": train_rate, "infer_samples_per_s": infer_rate}))
