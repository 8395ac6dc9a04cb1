#!/usr/bin/env python3
"""Dense PyTorch reference of one BatchTopK SAE training step, written the usual way.

This is the baseline of `moescope bench sae`: the same step dictionary_learning's BatchTopKTrainer takes
(encoder matmul, top-k over the flattened B x F activations, scatter into a dense B x F code, dense decoder
matmul, squared-error loss, AuxK when latents are dead, autograd backward, removal of the decoder-gradient
component parallel to the unit decoder rows, global gradient-norm clipping at 1.0, Adam, decoder
renormalisation, threshold EMA). Synthetic data of the same kind moescope's --synthetic source makes (sparse
non-negative combinations of random unit directions plus noise) is generated up front and not timed.

Prints one JSON line: {"tokens_per_s": ..., "step_ms": ..., ...}.
Run with Debian's python3-torch (OpenBLAS): /usr/bin/python3 bench/sae/reference.py --threads 2
"""
import argparse
import json
import time

import torch


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--d", type=int, default=512)
    p.add_argument("--latents", type=int, default=8192)
    p.add_argument("--k", type=int, default=32)
    p.add_argument("--batch", type=int, default=4096)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--features", type=int, default=2048, help="true directions of the synthetic data")
    p.add_argument("--active", type=float, default=32, help="mean active true directions per row")
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    d, F, k, B = a.d, a.latents, a.k, a.batch

    truth = torch.nn.functional.normalize(torch.randn(a.features, d), dim=1)
    batches = []
    for _ in range(4):
        mask = torch.rand(B, a.features) < a.active / a.features
        mags = 0.5 + torch.rand(B, a.features)
        x = (mask * mags) @ truth + 0.01 * torch.randn(B, d)
        batches.append(x * (d / x.pow(2).sum(-1).mean()).sqrt())  # E|x|^2 = d, as moescope normalises

    w = torch.nn.functional.normalize(torch.rand(F, d) * 2 - 1, dim=1)
    W_dec = torch.nn.Parameter(w.clone())
    W_enc = torch.nn.Parameter(w.t().clone())
    b_enc = torch.nn.Parameter(torch.zeros(F))
    b_dec = torch.nn.Parameter(batches[0].median(dim=0).values.clone())
    params = [W_enc, b_enc, W_dec, b_dec]
    opt = torch.optim.Adam(params, lr=2e-4 / (F / 2 ** 14) ** 0.5, betas=(0.9, 0.999))
    since = torch.zeros(F, dtype=torch.long)
    dead_tokens, k_aux, alpha = 10_000_000, d // 2, 1 / 32
    theta = -1.0

    def step(x):
        nonlocal theta
        pre = torch.relu((x - b_dec) @ W_enc + b_enc)
        flat = pre.flatten()
        vals, idx = flat.topk(k * B, sorted=False)
        f = torch.zeros_like(flat).scatter(0, idx, vals).view(B, F)
        with torch.no_grad():
            fired = (f > 0).any(0)
            since.add_(B)
            since[fired] = 0
            dead = since >= dead_tokens
        e = x - (f @ W_dec + b_dec)
        loss = e.pow(2).sum(-1).mean()
        if dead.any():
            ka = min(k_aux, int(dead.sum()))
            cand = torch.where(dead[None], pre, torch.full_like(pre, -float("inf")))
            av, ai = cand.topk(ka, dim=-1, sorted=False)
            aux = torch.zeros_like(pre).scatter(-1, ai, av) @ W_dec
            r = e.detach()
            den = (r - r.mean(0, keepdim=True)).pow(2).sum(-1).mean()
            loss = loss + alpha * torch.nan_to_num((r - aux).pow(2).sum(-1).mean() / den, 0.0)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        with torch.no_grad():
            W_dec.grad -= (W_dec.grad * W_dec).sum(-1, keepdim=True) * W_dec
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        with torch.no_grad():
            W_dec.div_(W_dec.norm(dim=-1, keepdim=True))
            m = float(vals[vals > 0].min())
            theta = m if theta < 0 else 0.999 * theta + 0.001 * m
        return float(loss)

    for i in range(a.warmup):
        step(batches[i % 4])
    t0 = time.perf_counter()
    loss = 0.0
    for i in range(a.steps):
        loss = step(batches[i % 4])
    dt = time.perf_counter() - t0
    blas = [s for s in torch.__config__.show().replace(",", "\n").splitlines() if "BLAS_INFO" in s]
    print(json.dumps({
        "tokens_per_s": B * a.steps / dt,
        "step_ms": 1000 * dt / a.steps,
        "steps": a.steps,
        "loss": loss,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "blas_info": blas[0].strip() if blas else "unknown",
    }))


if __name__ == "__main__":
    main()
