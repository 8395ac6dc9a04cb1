#!/usr/bin/env python3
"""Dense PyTorch reference of one BatchTopK crosscoder training step over two sources, written the usual way.

This is the baseline of `moescope bench crosscoder`: the step the crosscoder paper's code
(BatchTopKCrossCoderTrainer with Marmik's shared-feature additions) takes, in its layout: x (B, M, d),
W_enc (M, d, F), W_dec (M, F, d). Encoder einsum plus b_enc, ReLU, selection ranked by pre * sum_m |W_dec[m, i]|
with a top-k over the flattened B x F scores (unscaled values kept) scattered into a dense B x F code, dense
decoder einsum, squared-error loss summed over sources, the decoder-norm-weighted L1 term (lambda_f on standard
latents' summed norms, lambda_s on the designated shared latents' tied decoder), AuxK when latents are dead,
autograd backward, global gradient-norm clipping at 1.0, Adam, re-tying of the shared latents' decoders by
averaging, threshold EMA. Synthetic two-source data (shared and source-specific random unit directions, as
moescope's SyntheticPairSource makes) is generated up front and not timed.

Prints one JSON line: {"tokens_per_s": ..., "step_ms": ..., "phases_ms": {...}, ...}.
Run with Debian's python3-torch (OpenBLAS): /usr/bin/python3 bench/crosscoder/reference.py --threads 2
"""
import argparse
import json
import time

import torch


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--d", type=int, default=256, help="width of each source")
    p.add_argument("--latents", type=int, default=8192)
    p.add_argument("--k", type=int, default=32)
    p.add_argument("--shared", type=int, default=256)
    p.add_argument("--batch", type=int, default=4096)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--sparsity-penalty", type=float, default=1 / 32)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    d, F, k, B, N, M = a.d, a.latents, a.k, a.batch, a.shared, 2
    lam_f, lam_s = a.sparsity_penalty, 0.15 * a.sparsity_penalty

    # shared features in both sources (different directions), then A-only, then B-only
    n_shared, n_a, n_b = d // 2, d // 4, d // 4
    n_feat = n_shared + n_a + n_b
    dirs = torch.nn.functional.normalize(torch.randn(M, n_feat, d), dim=-1)
    dirs[0, n_shared + n_a:] = 0
    dirs[1, n_shared:n_shared + n_a] = 0
    batches = []
    for _ in range(4):
        on = torch.rand(B, n_feat) < min(0.25, 32.0 / d)
        mags = (0.5 + torch.rand(B, n_feat)) * on
        x = torch.einsum("bf,mfd->bmd", mags, dirs)
        x = x * (d / x.pow(2).sum(-1).mean(0, keepdim=True)).sqrt().unsqueeze(-1)  # E|x_m|^2 = d per source, as moescope does
        batches.append(x)

    w = torch.nn.functional.normalize(torch.rand(M, F, d) * 2 - 1, dim=-1)
    w[1, :N] = w[0, :N]
    W_dec = torch.nn.Parameter(w.clone())
    W_enc = torch.nn.Parameter(w.transpose(1, 2).clone())
    b_enc = torch.nn.Parameter(torch.zeros(F))
    b_dec = torch.nn.Parameter(batches[0].median(dim=0).values.clone())
    params = [W_enc, b_enc, W_dec, b_dec]
    opt = torch.optim.Adam(params, lr=1e-3, betas=(0.9, 0.999))
    since = torch.zeros(F, dtype=torch.long)
    dead_tokens, k_aux, alpha = 10_000_000, d // 2, 1 / 32
    theta = -1.0
    phases = {}

    def mark(name, t):
        now = time.perf_counter()
        phases[name] = phases.get(name, 0.0) + now - t
        return now

    def step(x):
        nonlocal theta
        t = time.perf_counter()
        pre = torch.relu(torch.einsum("bmd,mdf->bf", x, W_enc) + b_enc)
        t = mark("encoder matmul", t)
        norms = W_dec.norm(dim=-1)  # (M, F)
        wsel = norms.sum(0).detach()
        scores = (pre * wsel).flatten()
        vals, idx = scores.topk(k * B, sorted=False)
        f = torch.zeros_like(scores).scatter(0, idx, pre.flatten()[idx]).view(B, F)
        t = mark("select", t)
        with torch.no_grad():
            fired = (f > 0).any(0)
            since.add_(B)
            since[fired] = 0
            dead = since >= dead_tokens
        e = x - (torch.einsum("bf,mfd->bmd", f, W_dec) + b_dec)
        loss = e.pow(2).sum(-1).sum(-1).mean()
        if lam_f > 0 or lam_s > 0:
            shared_norm = (W_dec[:, :N].mean(0).pow(2).sum(-1) + 1e-12).sqrt()
            std_norm = (W_dec[:, N:].pow(2).sum(-1) + 1e-12).sqrt().sum(0)
            loss = loss + lam_s * (f[:, :N] * shared_norm).sum(-1).mean() + lam_f * (f[:, N:] * std_norm).sum(-1).mean()
        if dead.any():
            ka = min(k_aux, int(dead.sum()))
            cand = torch.where(dead[None], pre * wsel, torch.full_like(pre, -float("inf")))
            av, ai = cand.topk(ka, dim=-1, sorted=False)
            aux = torch.einsum("bf,mfd->bmd", torch.zeros_like(pre).scatter(-1, ai, pre.gather(-1, ai)), W_dec)
            r = e.detach()
            den = (r - r.mean(0, keepdim=True)).pow(2).sum((-1, -2)).mean()
            loss = loss + alpha * torch.nan_to_num((r - aux).pow(2).sum((-1, -2)).mean() / den, 0.0)
        t = mark("decode + loss", t)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        t = mark("backward", t)
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        with torch.no_grad():
            W_dec[:, :N] = W_dec[:, :N].mean(0, keepdim=True)
            m = float(vals[vals > 0].min())
            theta = m if theta < 0 else 0.999 * theta + 0.001 * m
        mark("clip + Adam + tie", t)
        return float(loss)

    for i in range(a.warmup):
        step(batches[i % 4])
    phases.clear()
    t0 = time.perf_counter()
    loss = 0.0
    for i in range(a.steps):
        loss = step(batches[i % 4])
    dt = time.perf_counter() - t0
    blas = [s for s in torch.__config__.show().replace(",", "\n").splitlines() if "BLAS_INFO" in s]
    print(json.dumps({
        "tokens_per_s": B * a.steps / dt,
        "step_ms": 1000 * dt / a.steps,
        "phases_ms": {name: 1000 * v / a.steps for name, v in phases.items()},
        "steps": a.steps,
        "loss": loss,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "blas_info": blas[0].strip() if blas else "unknown",
    }))


if __name__ == "__main__":
    main()
