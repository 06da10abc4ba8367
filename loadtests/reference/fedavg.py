"""Plain PyTorch FedAvg loop: the reference for Actors' `experiment.kind = federated` (what a user would otherwise write).

Same setting as `cluster-config/experiments/federated-drift.hocon` with federated.algorithm = fedavg: Fashion-MNIST,
the 784-256-10 MLP, 100 clients with Dirichlet(0.1) label shares, 10 sampled per round, K = 10 local SGD steps of
batch 32 at lr 0.1, the server averaging the clients' models (server lr 1), evaluation on the 10,000 test images every
20 rounds. Usage:
    python3 loadtests/reference/fedavg.py [rounds=200] [threads=2] [alpha=0.1]
Prints the wall time of the whole script (data loading included) and the final test accuracy.
"""
import gzip
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

t0 = time.perf_counter()
rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 200
threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
alpha = float(sys.argv[3]) if len(sys.argv) > 3 else 0.1
torch.set_num_threads(threads)
torch.manual_seed(1)
rng = np.random.default_rng(1)
root = "/usr/share/datasets/fashion-mnist/"


def idx(name, offset):
    with gzip.open(root + name) as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def images(name):
    x = torch.tensor(idx(name, 16).reshape(-1, 784), dtype=torch.float32) / 255
    return (x - 0.2860) / 0.3530


xtr, ytr = images("train-images-idx3-ubyte.gz"), torch.tensor(idx("train-labels-idx1-ubyte.gz", 8), dtype=torch.long)
xte, yte = images("t10k-images-idx3-ubyte.gz"), torch.tensor(idx("t10k-labels-idx1-ubyte.gz", 8), dtype=torch.long)

# Dirichlet label shares: for each class, its examples split over the clients by a Dirichlet(alpha) draw.
clients, per_round, local_steps, batch, lr = 100, 10, 10, 32, 0.1
shards = [[] for _ in range(clients)]
for k in range(10):
    members = rng.permutation(np.nonzero(ytr.numpy() == k)[0])
    cuts = (np.cumsum(rng.dirichlet([alpha] * clients)) * len(members)).astype(int)[:-1]
    for c, part in enumerate(np.split(members, cuts)):
        shards[c].extend(part.tolist())
shards = [torch.tensor(s if s else [0], dtype=torch.long) for s in shards]

model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
local = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))


def evaluate():
    with torch.no_grad():
        return float((model(xte).argmax(1) == yte).float().mean())


for r in range(rounds):
    cohort = rng.choice(clients, per_round, replace=False)
    total = [torch.zeros_like(p) for p in model.parameters()]
    for c in cohort:
        local.load_state_dict(model.state_dict())
        shard = shards[c]
        for _ in range(local_steps):
            i = shard[torch.randint(0, len(shard), (min(batch, len(shard)),))]
            local.zero_grad()
            F.cross_entropy(local(xtr[i]), ytr[i]).backward()
            with torch.no_grad():
                for p in local.parameters():
                    p.sub_(p.grad, alpha=lr)
        with torch.no_grad():
            for t, p in zip(total, local.parameters()):
                t.add_(p, alpha=1 / per_round)
    with torch.no_grad():
        for p, t in zip(model.parameters(), total):
            p.copy_(t)
    if (r + 1) % 20 == 0:
        evaluate()
print(f"plain PyTorch {torch.__version__}, {threads} thread(s): FedAvg {rounds} rounds, alpha {alpha}, test accuracy {evaluate():.4f}, "
      f"{time.perf_counter() - t0:.1f} s wall (data loading included)")
