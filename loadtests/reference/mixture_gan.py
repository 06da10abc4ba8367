"""Plain PyTorch reference for Actors' `game.type = mixture` run (the speed anchor a user would otherwise write).

Same setting as `cluster-config/experiments/games-mixture.hocon` (sync): 8 Gaussians on a ring of radius 2 (std 0.02),
MLP generator 2-128-128-2 and discriminator 2-128-128-1, non-saturating losses, 5 workers each drawing its own batch of
128 per step, the mean of their gradients applied with Adam (beta1 0, beta2 0.9, lr 0.001) to both players, evaluation
(2,000 samples: modes covered, high-quality fraction) every 250 steps. Usage:
    python3 loadtests/reference/mixture_gan.py [steps=2000] [threads=1] [lookahead_k=0]
Prints the wall time of the training loop and the final figures.
"""
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

steps = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
threads = int(sys.argv[2]) if len(sys.argv) > 2 else 1
k = int(sys.argv[3]) if len(sys.argv) > 3 else 0
torch.set_num_threads(threads)
torch.manual_seed(1)
workers, batch, std = 5, 128, 0.02
modes = torch.tensor([[2 * math.cos(2 * math.pi * i / 8), 2 * math.sin(2 * math.pi * i / 8)] for i in range(8)])
G = nn.Sequential(nn.Linear(2, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 2))
D = nn.Sequential(nn.Linear(2, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 1))
params = list(G.parameters()) + list(D.parameters())
opt = torch.optim.Adam(params, lr=0.001, betas=(0.0, 0.9))
slow = [p.detach().clone() for p in params]
gens = [torch.Generator().manual_seed(100 + w) for w in range(workers)]
noise_eval = torch.randn(2000, 2, generator=torch.Generator().manual_seed(7))


def field(g):
    real = modes[torch.randint(0, 8, (batch,), generator=g)] + std * torch.randn(batch, 2, generator=g)
    z = torch.randn(batch, 2, generator=g)
    fake = G(z)
    d_loss = F.binary_cross_entropy_with_logits(D(real), torch.ones(batch, 1)) + \
        F.binary_cross_entropy_with_logits(D(fake.detach()), torch.zeros(batch, 1))
    d_grads = torch.autograd.grad(d_loss, list(D.parameters()))
    g_loss = F.binary_cross_entropy_with_logits(D(fake), torch.ones(batch, 1))
    g_grads = torch.autograd.grad(g_loss, list(G.parameters()))
    return list(g_grads) + list(d_grads)


def evaluate():
    with torch.no_grad():
        s = G(noise_eval)
        dist, nearest = torch.cdist(s, modes).min(1)
        good = dist <= 3 * std
        covered = int((torch.bincount(nearest[good], minlength=8) >= 20).sum())
        return covered, float(good.float().mean())


start = time.perf_counter()
for t in range(1, steps + 1):
    grads = [field(g) for g in gens]
    for i, p in enumerate(params):
        p.grad = torch.stack([gr[i] for gr in grads]).mean(0)
    opt.step()
    if k and t % k == 0:
        with torch.no_grad():
            for p, s in zip(params, slow):
                s.add_(p - s, alpha=0.5)
                p.copy_(s)
    if t % 250 == 0:
        evaluate()
elapsed = time.perf_counter() - start
covered, quality = evaluate()
print(f"plain PyTorch {torch.__version__}, {threads} thread(s): {steps} steps in {elapsed:.1f} s; modes {covered}, high-quality {quality:.3f}")
