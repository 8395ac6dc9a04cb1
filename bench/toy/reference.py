#!/usr/bin/env python3
"""PyTorch reference of moescope's batched toy-model training loop (the benchmark's other side).

Same model, data and optimizer as moescope's fused Java trainer, written the way a PyTorch user would batch it:
every instance's parameters stacked into one tensor (instances, E, n, m), data drawn on the device with one
torch.rand call per step for all instances, every expert computed densely then masked by the top-k router
(as the MoE paper's code does), the loss summed over instances, one torch.optim.AdamW over the stacked tensors
(elementwise, so each instance is optimised independently). Prints one JSON line with the throughput.

Workloads (same as `moescope bench toy --workload ...`):
  fig3  n=100 at 30 densities for dense m=20, E4k1 m5, E10k2 m2, E20k5 m1 (batch 1024, loss mean over features)
  fig4  configuration C.E3 (n=3, m=2, E=3, k=1) on the 39x58 grid, batch 512, LB loss 0.01
"""
import argparse
import json
import math
import time

import torch


def densities_fig3():
    return [round(1 - i * 0.9 / 29, 2) for i in range(30)]


def grid_fig4():
    sparsity = [round((i + 1) * 0.025, 3) for i in range(39)]
    importance = [round(0.1 + i * 0.05, 3) for i in range(58)]
    return [(s, r) for s in sparsity for r in importance]


def xavier(shape, fan_in, fan_out, gen):
    return torch.randn(shape, generator=gen) * math.sqrt(2.0 / (fan_in + fan_out))


class Batched:
    def __init__(self, instances, n, m, experts, k, density, importance, lb_alpha, gen, sum_features=False,
                 zero_bias=False):
        self.N, self.n, self.m, self.E, self.k = instances, n, m, experts, k
        self.W = xavier((instances, experts, n, m), n * m, experts * m, gen).requires_grad_()
        self.b = xavier((instances, experts, n), n, experts, gen)
        if zero_bias:
            self.b.zero_()
        self.b.requires_grad_()
        self.sum_features = sum_features
        self.gate = xavier((instances, experts, n), n, experts, gen).requires_grad_()
        self.density = density.view(instances, 1, n)
        self.importance = importance.view(instances, 1, n)
        self.lb_alpha = lb_alpha
        self.opt = torch.optim.AdamW([self.W, self.b, self.gate], lr=1e-3, weight_decay=0.01)

    def step(self, batch, gen):
        N, n = self.N, self.n
        x = torch.where(torch.rand((N, batch, n), generator=gen) < self.density,
                        torch.rand((N, batch, n), generator=gen), torch.zeros(()))
        scores = torch.einsum('nbi,nei->nbe', x, self.gate)
        p = torch.softmax(scores, dim=-1)
        idx = torch.topk(p, self.k, dim=-1).indices
        mask = torch.zeros_like(p).scatter(-1, idx, 1.0)
        mp = p * mask
        g = mp / mp.sum(-1, keepdim=True)
        h = torch.einsum('nbi,neim->nbem', x, self.W)
        z = torch.einsum('nbem,neim->nbei', h, self.W) + self.b.unsqueeze(1)
        xr = torch.einsum('nbe,nbei->nbi', g, torch.relu(z))
        per_instance = (self.importance * (xr - x) ** 2).mean(dim=(1, 2))
        if self.sum_features:  # the MoE paper's single-model `optimize`: mean over the batch, sum over features
            per_instance = per_instance * n
        if self.lb_alpha > 0:
            f = mask.mean(dim=1)
            P = p.mean(dim=1)
            per_instance = per_instance + self.lb_alpha * self.E * (f * P).sum(-1)
        loss = per_instance.sum()
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return loss.item()


def run(workload, steps, threads, seed, instances=8, zero_bias=False, dump=None):
    torch.set_num_threads(threads)
    gen = torch.Generator().manual_seed(seed)
    groups = []
    if workload == 'fig3':
        dens = densities_fig3()
        for (m, E, k) in [(20, 1, 1), (5, 4, 1), (2, 10, 2), (1, 20, 5)]:
            d = torch.tensor(dens).view(-1, 1).expand(len(dens), 100).contiguous()
            groups.append((Batched(len(dens), 100, m, E, k, d, torch.ones(len(dens), 100), 0.0, gen), 1024))
    elif workload == 'fig4':
        cells = grid_fig4()
        d = torch.tensor([1 - s for s, _ in cells]).view(-1, 1).expand(len(cells), 3).contiguous()
        imp = torch.ones(len(cells), 3)
        imp[:, 2] = torch.tensor([r for _, r in cells])
        groups.append((Batched(len(cells), 3, 2, 3, 1, d, imp, 0.01, gen), 512))
    elif workload == 'fig2':
        # the MoE paper's Fig 2 model, one instance per seed: a cross-check of the figure's seed statistics
        n = 20
        groups.append((Batched(instances, n, 5, 4, 1, torch.full((instances, n), 0.1),
                               (0.7 ** torch.arange(n, dtype=torch.float32)).expand(instances, n).contiguous(),
                               0.0, gen, sum_features=True, zero_bias=zero_bias), 1024))
    else:
        raise SystemExit(f'unknown workload {workload}')
    model_steps = 0
    start = time.perf_counter()
    last = None
    for model, batch in groups:
        for _ in range(steps):
            last = model.step(batch, gen)
        model_steps += model.N * steps
    seconds = time.perf_counter() - start
    if dump:
        model = groups[0][0]
        with open(dump, 'w') as f:
            json.dump({'W': model.W.detach().tolist(), 'b': model.b.detach().tolist(),
                       'gate': model.gate.detach().tolist()}, f)
    return {'impl': 'pytorch', 'torch': torch.__version__, 'threads': threads, 'workload': workload,
            'steps': steps, 'model_steps': model_steps, 'seconds': seconds,
            'model_steps_per_second': model_steps / seconds, 'last_loss': last,
            'blas': torch.__config__.show().split('BLAS_INFO=')[1].split(',')[0] if 'BLAS_INFO=' in torch.__config__.show() else 'unknown'}


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--workload', choices=['fig3', 'fig4', 'fig2'], required=True)
    ap.add_argument('--steps', type=int, default=100)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--instances', type=int, default=8, help='fig2: seeds trained side by side')
    ap.add_argument('--zero-bias', action='store_true', help='fig2: output biases start at 0 (default Xavier)')
    ap.add_argument('--dump', help='write the trained W, b, gate of the first workload group as JSON')
    a = ap.parse_args()
    print(json.dumps(run(a.workload, a.steps, a.threads, a.seed, a.instances, a.zero_bias, a.dump)))
