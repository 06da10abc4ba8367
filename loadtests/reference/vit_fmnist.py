"""Plain PyTorch reference for Actors' `model.type = transformer` run (what a user would otherwise write).

Same setting as `cluster-config/experiments/attention.hocon`: Fashion-MNIST, the small vision transformer (16 patches
of 7x7, 2 pre-norm layers, 4 heads, width 64, mean pooling), 10 workers with iid shards each taking a batch of 32 and
keeping worker momentum 0.9, the mean of their momenta applied by SGD at lr 0.1 with a cosine decay, evaluation on the
10,000 test images every 250 steps. `collaborative` swaps in collaborative attention of key dimension 16. Usage:
    python3 loadtests/reference/vit_fmnist.py [steps=1500] [threads=2] [standard|collaborative]
Prints the wall time of the whole script (data loading included) and the final test accuracy.
"""
import gzip
import math
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

t0 = time.perf_counter()
steps = int(sys.argv[1]) if len(sys.argv) > 1 else 1500
threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
attention = sys.argv[3] if len(sys.argv) > 3 else "standard"
torch.set_num_threads(threads)
torch.manual_seed(1)
root = "/usr/share/datasets/fashion-mnist/"


def idx(name, offset):
    with gzip.open(root + name) as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def images(name):
    x = torch.tensor(idx(name, 16).reshape(-1, 1, 28, 28), dtype=torch.float32) / 255
    return (x - 0.2860) / 0.3530


xtr, ytr = images("train-images-idx3-ubyte.gz"), torch.tensor(idx("train-labels-idx1-ubyte.gz", 8), dtype=torch.long)
xte, yte = images("t10k-images-idx3-ubyte.gz"), torch.tensor(idx("t10k-labels-idx1-ubyte.gz", 8), dtype=torch.long)


class Standard(nn.Module):
    def __init__(self, w, h):
        super().__init__()
        self.h, self.d = h, w // h
        self.query, self.key, self.value, self.output = (nn.Linear(w, w) for _ in range(4))

    def scores(self, x):
        n, t, _ = x.shape
        q = self.query(x).view(n, t, self.h, self.d).transpose(1, 2)
        k = self.key(x).view(n, t, self.h, self.d).transpose(1, 2)
        return q @ k.transpose(-1, -2) / math.sqrt(self.d)

    def forward(self, x):
        n, t, _ = x.shape
        v = self.value(x).view(n, t, self.h, self.d).transpose(1, 2)
        return self.output((F.softmax(self.scores(x), -1) @ v).transpose(1, 2).reshape(n, t, -1))


class Collaborative(Standard):
    def __init__(self, w, h, dk=16):
        super().__init__(w, h)
        self.query, self.key = nn.Linear(w, dk, bias=False), nn.Linear(w, dk, bias=False)
        self.mixing = nn.Parameter(torch.randn(h, dk) / math.sqrt(max(1.0, dk / self.d)))
        self.content_bias = nn.Parameter(torch.zeros(h, w))

    def scores(self, x):
        q = self.query(x).unsqueeze(1) * self.mixing.unsqueeze(1)
        k = self.key(x).unsqueeze(1)
        return q @ k.transpose(-1, -2) / math.sqrt(self.d) + (x @ self.content_bias.t()).transpose(1, 2).unsqueeze(2)


class Block(nn.Module):
    def __init__(self, w, h):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(w), nn.LayerNorm(w)
        self.attention = Standard(w, h) if attention == "standard" else Collaborative(w, h)
        self.fc1, self.fc2 = nn.Linear(w, 2 * w), nn.Linear(2 * w, w)

    def forward(self, x):
        x = x + self.attention(self.norm1(x))
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class ViT(nn.Module):
    def __init__(self, w=64, h=4, layers=2, p=7):
        super().__init__()
        self.p = p
        self.embed = nn.Linear(p * p, w)
        self.position = nn.Parameter(torch.randn(16, w) * 0.02)
        self.blocks = nn.ModuleList(Block(w, h) for _ in range(layers))
        self.norm, self.head = nn.LayerNorm(w), nn.Linear(w, 10)

    def forward(self, x):
        n = x.shape[0]
        t = x.reshape(n, 1, 4, 7, 4, 7).permute(0, 2, 4, 1, 3, 5).reshape(n, 16, 49)
        h = self.embed(t) + self.position
        for b in self.blocks:
            h = b(h)
        return self.head(self.norm(h).mean(1))


model = ViT()
params = list(model.parameters())
workers, batch, lr = 10, 32, 0.1
shards = torch.randperm(len(xtr)).chunk(workers)
momenta = [[torch.zeros_like(p) for p in params] for _ in range(workers)]
gens = [torch.Generator().manual_seed(100 + w) for w in range(workers)]


def evaluate():
    with torch.no_grad():
        return float((model(xte).argmax(1) == yte).float().mean())


for t in range(steps):
    step_lr = lr * 0.5 * (1 + math.cos(math.pi * t / steps))
    total = [torch.zeros_like(p) for p in params]
    for w in range(workers):
        i = shards[w][torch.randint(0, len(shards[w]), (batch,), generator=gens[w])]
        grads = torch.autograd.grad(F.cross_entropy(model(xtr[i]), ytr[i]), params)
        for m, g, s in zip(momenta[w], grads, total):
            m.mul_(0.9).add_(g)
            s.add_(m, alpha=1 / workers)
    with torch.no_grad():
        for p, s in zip(params, total):
            p.sub_(s, alpha=step_lr)
    if (t + 1) % 250 == 0:
        evaluate()
accuracy = evaluate()
print(f"plain PyTorch {torch.__version__}, {threads} thread(s), {attention}: {steps} steps, test accuracy {accuracy:.4f}, "
      f"{time.perf_counter() - t0:.1f} s wall (data loading included)")
