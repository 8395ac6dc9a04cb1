"""Plain-PyTorch mirror models of the MoE families, for testing the exporter without transformers.

Each mirror copies its family's *module layout* (attribute names, weight shapes, what the block's forward
returns) and implements the family's routing in its own, deliberately naive way: an explicit per-token loop over
the experts the token selected, as the transformers "hit experts only" forwards do. That code is independent of
``moescope_export.gating``, so agreement between the two is evidence that the gating table is right. Each block
records its last selections in ``last_selected`` [tokens, k].

The decoder around the blocks is minimal (learned positions indexed by ``position_ids``, one-head causal
attention masked by ``attention_mask``, RMSNorm); the exporter only needs ``model.model.layers``, a block per
layer and ``model(...).logits``.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import torch
import torch.nn.functional as F
from torch import nn

HIDDEN = 16
INNER = 12
VOCAB = 50
LAYERS = 2


class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.variance_epsilon = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.variance_epsilon) * self.weight


class Mlp(nn.Module):
    def __init__(self, names=("gate_proj", "up_proj", "down_proj"), inner=INNER):
        super().__init__()
        self.names = names
        setattr(self, names[0], nn.Linear(HIDDEN, inner, bias=False))
        setattr(self, names[1], nn.Linear(HIDDEN, inner, bias=False))
        setattr(self, names[2], nn.Linear(inner, HIDDEN, bias=False))
        self.act_fn = F.silu

    def forward(self, x):
        g, u, d = (getattr(self, n) for n in self.names)
        return d(self.act_fn(g(x)) * u(x))


def _combine(x2d, selected, weights, expert_fn):
    """The naive sparse combination: for each token, its selected experts only."""
    out = torch.zeros_like(x2d)
    for t in range(x2d.shape[0]):
        for j in range(selected.shape[1]):
            e = int(selected[t, j])
            out[t] += weights[t, j] * expert_fn(e, x2d[t:t + 1])[0]
    return out


class SoftmaxTopKMoe(nn.Module):
    """Mixtral (renorm, w1/w3/w2, returns (out, logits)), OLMoE / Qwen3 / DeepSeek-v1 / Qwen2-MoE layouts."""

    def __init__(self, experts, top_k, renorm, names=("gate_proj", "up_proj", "down_proj"), returns_tuple=False,
                 shared=None, shared_gate=False):
        super().__init__()
        self.top_k, self.renorm, self.returns_tuple = top_k, renorm, returns_tuple
        self.gate = nn.Linear(HIDDEN, experts, bias=False)
        self.experts = nn.ModuleList(Mlp(names) for _ in range(experts))
        if shared == "qwen":
            self.shared_expert = Mlp(inner=2 * INNER)
            self.shared_expert_gate = nn.Linear(HIDDEN, 1, bias=False)
        elif shared == "deepseek":
            self.shared_experts = Mlp(inner=2 * INNER)   # two shared experts fused, as DeepSeek does
        self.last_selected = None

    def forward(self, hidden):
        b, s, h = hidden.shape
        x = hidden.reshape(-1, h)
        logits = self.gate(x)
        probs = F.softmax(logits, dim=1, dtype=torch.float)
        weights, selected = torch.topk(probs, self.top_k, dim=-1)
        if self.renorm:
            weights = weights / weights.sum(dim=-1, keepdim=True)
        self.last_selected = selected
        out = _combine(x, selected, weights.to(x.dtype), lambda e, v: self.experts[e](v))
        if hasattr(self, "shared_expert"):
            out = out + torch.sigmoid(self.shared_expert_gate(x)) * self.shared_expert(x)
        if hasattr(self, "shared_experts"):
            out = out + self.shared_experts(x)
        out = out.reshape(b, s, h)
        return (out, logits) if self.returns_tuple else out


class FusedExperts(nn.Module):
    """Recent transformers layout: gate_up_proj [E, 2I, H] (gate rows first), down_proj [E, H, I]."""

    def __init__(self, experts):
        super().__init__()
        self.gate_up_proj = nn.Parameter(torch.randn(experts, 2 * INNER, HIDDEN) * 0.2)
        self.down_proj = nn.Parameter(torch.randn(experts, HIDDEN, INNER) * 0.2)
        self.act_fn = F.silu

    def one(self, e, x):
        g, u = F.linear(x, self.gate_up_proj[e]).chunk(2, dim=-1)
        return F.linear(self.act_fn(g) * u, self.down_proj[e])


class FusedSoftmaxMoe(nn.Module):
    """Qwen3-MoE with fused 3-D expert parameters and renormalised top-k."""

    def __init__(self, experts, top_k):
        super().__init__()
        self.top_k = top_k
        self.gate = nn.Linear(HIDDEN, experts, bias=False)
        self.experts = FusedExperts(experts)
        self.last_selected = None

    def forward(self, hidden):
        b, s, h = hidden.shape
        x = hidden.reshape(-1, h)
        probs = F.softmax(self.gate(x), dim=-1, dtype=torch.float)
        w, sel = torch.topk(probs, self.top_k, dim=-1)
        w = w / w.sum(-1, keepdim=True)
        self.last_selected = sel
        return _combine(x, sel, w, self.experts.one).reshape(b, s, h)


class V3Gate(nn.Module):
    def __init__(self, experts):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(experts, HIDDEN) * 0.3)
        # non-negative, so no kept expert scores below the 0.0 of masked ones (ties there would be order-dependent)
        self.e_score_correction_bias = nn.Parameter(torch.rand(experts) * 0.3, requires_grad=False)


class DeepseekV3Moe(nn.Module):
    """Sigmoid scores, selection bias, group-limited (sum of top-2 per group), renorm, scaling, shared expert."""

    def __init__(self, experts, top_k, n_group, topk_group, scale):
        super().__init__()
        self.top_k, self.n_group, self.topk_group, self.scale = top_k, n_group, topk_group, scale
        self.gate = V3Gate(experts)
        self.experts = nn.ModuleList(Mlp() for _ in range(experts))
        self.shared_experts = Mlp()
        self.last_selected = None

    def forward(self, hidden):
        b, s, h = hidden.shape
        x = hidden.reshape(-1, h)
        scores = torch.sigmoid(F.linear(x.float(), self.gate.weight.float()))
        per_group = scores.shape[1] // self.n_group
        sel_all, w_all = [], []
        for t in range(x.shape[0]):           # one token at a time, plain Python ranking
            biased = (scores[t] + self.gate.e_score_correction_bias).tolist()
            groups = [sum(sorted(biased[g * per_group:(g + 1) * per_group], reverse=True)[:2])
                      for g in range(self.n_group)]
            keep = sorted(range(self.n_group), key=lambda g: -groups[g])[:self.topk_group]
            masked = [biased[e] if e // per_group in keep else 0.0 for e in range(len(biased))]
            chosen = sorted(range(len(masked)), key=lambda e: -masked[e])[:self.top_k]
            w = scores[t, chosen]
            w = w / w.sum() * self.scale
            sel_all.append(chosen)
            w_all.append(w)
        sel = torch.tensor(sel_all)
        self.last_selected = sel
        out = _combine(x, sel, torch.stack(w_all).to(x.dtype), lambda e, v: self.experts[e](v))
        return (out + self.shared_experts(x)).reshape(b, s, h)


class DeepseekV2Moe(nn.Module):
    """Softmax scores, group-limited by each group's best score, raw weights x scaling, shared experts."""

    def __init__(self, experts, top_k, n_group, topk_group, scale):
        super().__init__()
        self.top_k, self.n_group, self.topk_group, self.scale = top_k, n_group, topk_group, scale
        self.gate = V3Gate(experts)
        del self.gate.e_score_correction_bias
        self.experts = nn.ModuleList(Mlp() for _ in range(experts))
        self.shared_experts = Mlp(inner=2 * INNER)
        self.last_selected = None

    def forward(self, hidden):
        b, s, h = hidden.shape
        x = hidden.reshape(-1, h)
        scores = F.linear(x, self.gate.weight).softmax(dim=-1, dtype=torch.float32)
        per_group = scores.shape[1] // self.n_group
        sel_all, w_all = [], []
        for t in range(x.shape[0]):
            row = scores[t].tolist()
            best = [max(row[g * per_group:(g + 1) * per_group]) for g in range(self.n_group)]
            keep = sorted(range(self.n_group), key=lambda g: -best[g])[:self.topk_group]
            masked = [row[e] if e // per_group in keep else 0.0 for e in range(len(row))]
            chosen = sorted(range(len(masked)), key=lambda e: -masked[e])[:self.top_k]
            sel_all.append(chosen)
            w_all.append(scores[t, chosen] * self.scale)
        sel = torch.tensor(sel_all)
        self.last_selected = sel
        out = _combine(x, sel, torch.stack(w_all).to(x.dtype), lambda e, v: self.experts[e](v))
        return (out + self.shared_experts(x)).reshape(b, s, h)


class PhiMoe(nn.Module):
    """PhiMoE: Mixtral layout (gate, w1/w3/w2 experts) routed by the sparsemixer, written token by token."""

    def __init__(self, experts, jitter_eps):
        super().__init__()
        self.jitter_eps = jitter_eps
        self.gate = nn.Linear(HIDDEN, experts, bias=False)
        self.experts = nn.ModuleList(Mlp(("w1", "w3", "w2")) for _ in range(experts))
        self.last_selected = None

    def _round(self, row, allowed):
        """One sparsemixer round over the allowed experts: argmax, then softmax inside the relative window."""
        best = max(allowed, key=lambda e: row[e])
        kept = []
        for e in allowed:
            den = max(abs(row[e]), row[best])
            # den == 0 only when both are 0: torch computes 0/0 = nan, and nan > eps is False, so e is kept
            if den == 0 or (row[best] - row[e]) / den <= 2 * self.jitter_eps:
                kept.append(e)
        z = sum(math.exp(row[e] - row[best]) for e in kept)
        return best, 1.0 / z

    def forward(self, hidden):
        b, s, h = hidden.shape
        x = hidden.reshape(-1, h)
        logits = self.gate(x)
        sel_all, w_all = [], []
        for t in range(x.shape[0]):
            row = logits[t].tolist()
            first, w1 = self._round(row, list(range(len(row))))
            second, w2 = self._round(row, [e for e in range(len(row)) if e != first])
            sel_all.append([first, second])
            w_all.append([w1, w2])
        sel = torch.tensor(sel_all)
        self.last_selected = sel
        out = _combine(x, sel, torch.tensor(w_all, dtype=x.dtype), lambda e, v: self.experts[e](v))
        return out.reshape(b, s, h), logits


class GptOssExperts(nn.Module):
    def __init__(self, experts):
        super().__init__()
        self.gate_up_proj = nn.Parameter(torch.randn(experts, HIDDEN, 2 * INNER) * 0.3)
        self.gate_up_proj_bias = nn.Parameter(torch.randn(experts, 2 * INNER) * 0.1)
        self.down_proj = nn.Parameter(torch.randn(experts, INNER, HIDDEN) * 0.3)
        self.down_proj_bias = nn.Parameter(torch.randn(experts, HIDDEN) * 0.1)
        self.alpha, self.limit = 1.702, 7.0


class GptOssMoe(nn.Module):
    """Router with bias, top-k of logits then softmax over the k; interleaved clamped SwiGLU experts."""

    def __init__(self, experts, top_k):
        super().__init__()
        self.top_k = top_k
        self.router = nn.Linear(HIDDEN, experts, bias=True)
        self.experts = GptOssExperts(experts)
        self.last_selected = None

    def _expert(self, e, v):
        p = self.experts
        gu = v @ p.gate_up_proj[e] + p.gate_up_proj_bias[e]
        gate, up = gu[..., ::2].clamp(max=p.limit), gu[..., 1::2].clamp(-p.limit, p.limit)
        return ((up + 1) * gate * torch.sigmoid(gate * p.alpha)) @ p.down_proj[e] + p.down_proj_bias[e]

    def forward(self, hidden):
        b, s, h = hidden.shape
        x = hidden.reshape(-1, h)
        logits = self.router(x)
        top, sel = torch.topk(logits, self.top_k, dim=-1)
        w = F.softmax(top, dim=1, dtype=top.dtype)
        self.last_selected = sel
        scores = torch.zeros_like(logits).scatter_(1, sel, w)
        return _combine(x, sel, w, self._expert).reshape(b, s, h), scores


class GraniteRouter(nn.Module):
    def __init__(self, experts):
        super().__init__()
        self.layer = nn.Linear(HIDDEN, experts, bias=False)


class ParallelExperts(nn.Module):
    def __init__(self, experts, out_dim, in_dim):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(experts, out_dim, in_dim) * 0.3)


class GraniteMoe(nn.Module):
    """GraniteMoE: router.layer, top-k of logits then softmax, input_linear [E, 2I, H] (gate first)."""

    def __init__(self, experts, top_k):
        super().__init__()
        self.top_k = top_k
        self.router = GraniteRouter(experts)
        self.input_linear = ParallelExperts(experts, 2 * INNER, HIDDEN)
        self.output_linear = ParallelExperts(experts, HIDDEN, INNER)
        self.activation = F.silu
        self.last_selected = None

    def _expert(self, e, v):
        g, u = F.linear(v, self.input_linear.weight[e]).chunk(2, dim=-1)
        return F.linear(self.activation(g) * u, self.output_linear.weight[e])

    def forward(self, hidden):
        b, s, h = hidden.shape
        x = hidden.reshape(-1, h)
        top, sel = self.router.layer(x).float().topk(self.top_k, dim=1)
        w = torch.softmax(top, dim=1)
        self.last_selected = sel
        return _combine(x, sel, w, self._expert).reshape(b, s, h), None


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(HIDDEN, 3 * HIDDEN, bias=False)
        self.o_proj = nn.Linear(HIDDEN, HIDDEN, bias=False)

    def forward(self, x, attention_mask):
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        scores = q @ k.transpose(-1, -2) / HIDDEN ** 0.5
        idx = torch.cumsum(torch.ones_like(attention_mask[0]), 0)
        allowed = (idx.unsqueeze(0) <= idx.unsqueeze(1)).unsqueeze(0) & attention_mask.bool().unsqueeze(1)
        return self.o_proj(torch.softmax(scores.masked_fill(~allowed, -1e9), -1) @ v)


class Layer(nn.Module):
    def __init__(self, ffn_attr, ffn):
        super().__init__()
        self.input_layernorm = RMSNorm(HIDDEN)
        self.self_attn = Attention()
        self.post_attention_layernorm = RMSNorm(HIDDEN)
        self.ffn_attr = ffn_attr
        setattr(self, ffn_attr, ffn)

    def forward(self, x, attention_mask):
        h = x + self.self_attn(self.input_layernorm(x), attention_mask)
        y = getattr(self, self.ffn_attr)(self.post_attention_layernorm(h))
        if isinstance(y, tuple):
            y = y[0]
        return (h + y,)


class Base(nn.Module):
    def __init__(self, layers):
        super().__init__()
        self.embed_tokens = nn.Embedding(VOCAB, HIDDEN)
        self.embed_positions = nn.Embedding(64, HIDDEN)
        self.layers = nn.ModuleList(layers)
        self.norm = RMSNorm(HIDDEN)


class MirrorCausalLM(nn.Module):
    def __init__(self, config, layers):
        super().__init__()
        self.config = config
        self.model = Base(layers)
        self.lm_head = nn.Linear(HIDDEN, VOCAB, bias=False)

    def forward(self, input_ids, attention_mask, position_ids, use_cache=False, return_dict=True):
        x = self.model.embed_tokens(input_ids) + self.model.embed_positions(position_ids)
        for layer in self.model.layers:
            x = layer(x, attention_mask)[0]
        return SimpleNamespace(logits=self.lm_head(self.model.norm(x)))


def _config(model_type, **kw):
    return SimpleNamespace(model_type=model_type, vocab_size=VOCAB, hidden_size=HIDDEN, **kw)


def build(family: str, seed: int = 0) -> MirrorCausalLM:
    """A seeded mirror of ``family`` (one of :data:`FAMILIES`)."""
    torch.manual_seed(seed)
    if family == "mixtral":
        cfg = _config("mixtral", num_local_experts=8, num_experts_per_tok=2)
        layers = [Layer("block_sparse_moe", SoftmaxTopKMoe(8, 2, True, ("w1", "w3", "w2"), returns_tuple=True))
                  for _ in range(LAYERS)]
    elif family == "olmoe":
        cfg = _config("olmoe", num_experts=8, num_experts_per_tok=3, norm_topk_prob=False)
        layers = [Layer("mlp", SoftmaxTopKMoe(8, 3, False)) for _ in range(LAYERS)]
    elif family == "qwen3_moe":
        cfg = _config("qwen3_moe", num_experts=6, num_experts_per_tok=2, norm_topk_prob=True)
        layers = [Layer("mlp", FusedSoftmaxMoe(6, 2)) for _ in range(LAYERS)]
    elif family == "qwen2_moe":
        cfg = _config("qwen2_moe", num_experts=6, num_experts_per_tok=2, norm_topk_prob=False,
                      shared_expert_intermediate_size=2 * INNER)
        layers = [Layer("mlp", SoftmaxTopKMoe(6, 2, False, shared="qwen")) for _ in range(LAYERS)]
    elif family == "deepseek":
        cfg = _config("deepseek", n_routed_experts=8, num_experts_per_tok=3, norm_topk_prob=False,
                      n_shared_experts=2)
        layers = [Layer("mlp", Mlp())] + [Layer("mlp", SoftmaxTopKMoe(8, 3, False, shared="deepseek"))
                                          for _ in range(LAYERS)]
    elif family == "deepseek_v3":
        cfg = _config("deepseek_v3", n_routed_experts=8, num_experts_per_tok=2, norm_topk_prob=True,
                      n_group=4, topk_group=2, routed_scaling_factor=2.5, n_shared_experts=1)
        layers = [Layer("mlp", Mlp())] + [Layer("mlp", DeepseekV3Moe(8, 2, 4, 2, 2.5)) for _ in range(LAYERS)]
    elif family == "deepseek_v2":
        cfg = _config("deepseek_v2", n_routed_experts=8, num_experts_per_tok=2, norm_topk_prob=False,
                      topk_method="group_limited_greedy", n_group=4, topk_group=2, routed_scaling_factor=1.5,
                      n_shared_experts=2)
        layers = [Layer("mlp", Mlp())] + [Layer("mlp", DeepseekV2Moe(8, 2, 4, 2, 1.5)) for _ in range(LAYERS)]
    elif family == "phimoe":
        cfg = _config("phimoe", num_local_experts=6, num_experts_per_tok=2, router_jitter_noise=0.3)
        layers = [Layer("block_sparse_moe", PhiMoe(6, 0.3)) for _ in range(LAYERS)]
    elif family == "gpt_oss":
        cfg = _config("gpt_oss", num_local_experts=4, num_experts_per_tok=2)
        layers = [Layer("mlp", GptOssMoe(4, 2)) for _ in range(LAYERS)]
    elif family == "granitemoe":
        cfg = _config("granitemoe", num_local_experts=5, num_experts_per_tok=2)
        layers = [Layer("block_sparse_moe", GraniteMoe(5, 2)) for _ in range(LAYERS)]
    else:
        raise ValueError(family)
    model = MirrorCausalLM(cfg, layers)
    model.eval()
    return model


FAMILIES = ("mixtral", "olmoe", "qwen3_moe", "qwen2_moe", "deepseek", "deepseek_v2", "deepseek_v3", "phimoe",
            "gpt_oss", "granitemoe")
