"""Exports a tiny Mixtral-style MoE LM with the TorchScript ONNX exporter, plus PyTorch reference values.

Test input for checkpoint-probe's structural detection on a real exporter's graph: RMSNorm, SiLU experts
(whose Sigmoid must not be mistaken for a router), softmax -> top-k -> renormalise, one_hot/where/index_add
over ALL experts (optimum's patch; the "hit experts only" loop would drop experts at trace time).

Run from the repository root:
  /usr/bin/python3 checkpoint-probe/src/test/python/export_tiny_mixtral.py checkpoint-probe/src/test/resources/torch-export
Writes tiny-mixtral.onnx and tiny-mixtral.reference.json (input ids, per-layer router logits and top-k ids,
logits at k=2 and with k overridden to 1).
"""
import json
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

H, E, V, L, FF = 16, 8, 50, 2, 16
K = [2]  # mutable so the reference can be recomputed at another k


class RMSNorm(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(H) + 0.1 * torch.randn(H))

    def forward(self, x):
        return self.weight * x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6)


class Expert(nn.Module):
    def __init__(self):
        super().__init__()
        self.w1 = nn.Linear(H, FF, bias=False)
        self.w3 = nn.Linear(H, FF, bias=False)
        self.w2 = nn.Linear(FF, H, bias=False)

    def forward(self, x):
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class SparseMoe(nn.Module):
    def __init__(self):
        super().__init__()
        self.gate = nn.Linear(H, E, bias=False)
        self.experts = nn.ModuleList([Expert() for _ in range(E)])

    def forward(self, x):
        b, t, h = x.shape
        x = x.view(-1, h)
        logits = self.gate(x)
        w = F.softmax(logits, dim=1, dtype=torch.float)
        w, sel = torch.topk(w, K[0], dim=-1)
        w = w / w.sum(dim=-1, keepdim=True)
        out = torch.zeros_like(x)
        mask = F.one_hot(sel, num_classes=E).permute(2, 1, 0)
        for e in range(E):
            idx, top = torch.where(mask[e])
            out.index_add_(0, top, self.experts[e](x[top]) * w[top, idx, None])
        self.last = (logits.detach(), sel.detach())
        return out.view(b, t, h)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.input_norm = RMSNorm()
        self.attn = nn.Linear(H, H)  # stand-in for attention: per-token
        self.post_attention_norm = RMSNorm()
        self.moe = SparseMoe()

    def forward(self, h):
        h = h + self.attn(self.input_norm(h))
        return h + self.moe(self.post_attention_norm(h))


class TinyLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(V, H)
        self.layers = nn.ModuleList([Block() for _ in range(L)])
        self.norm = RMSNorm()
        self.lm_head = nn.Linear(H, V, bias=False)

    def forward(self, input_ids):
        h = self.embed(input_ids)
        for block in self.layers:
            h = block(h)
        return self.lm_head(self.norm(h))


def main(out_dir):
    torch.manual_seed(1234)
    model = TinyLM().eval()
    ids = torch.randint(0, V, (2, 7))
    with torch.no_grad():
        torch.onnx.export(model, (ids,), f"{out_dir}/tiny-mixtral.onnx", input_names=["input_ids"],
                          output_names=["logits"], opset_version=14,
                          dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "logits": {0: "batch", 1: "seq"}})
        logits = model(ids)
        layers = [{"router_logits": blk.moe.last[0].flatten().tolist(), "topk_ids": blk.moe.last[1].flatten().tolist()}
                  for blk in model.layers]
        K[0] = 1
        logits_k1 = model(ids)
    ref = {"input_ids": ids.flatten().tolist(), "batch": 2, "seq": 7, "num_experts": E, "top_k": 2,
           "layers": layers, "logits": logits.flatten().tolist(), "logits_top1": logits_k1.flatten().tolist()}
    with open(f"{out_dir}/tiny-mixtral.reference.json", "w") as f:
        json.dump(ref, f)


if __name__ == "__main__":
    main(sys.argv[1])
