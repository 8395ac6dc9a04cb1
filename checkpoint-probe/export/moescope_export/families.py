"""Per-family knowledge: where a decoder layer's MoE block is, how its router and experts are laid out, and which
:class:`~moescope_export.gating.GatingSpec` its config implies.

Everything here reads module attributes and config fields by the names Hugging Face transformers uses (and
DeepSeek's remote code for ``deepseek``); nothing imports transformers, so the plain-PyTorch mirror modules of the
tests exercise the same code. Expert weights come in two layouts, both handled:

- a ``ModuleList`` of per-expert MLPs with three Linears (``gate_proj/up_proj/down_proj`` or Mixtral's
  ``w1/w3/w2``);
- fused 3-D parameters with a leading expert axis (``gate_up_proj`` + ``down_proj`` in recent transformers and
  GPT-OSS, and GraniteMoE from transformers 5; ``input_linear``/``output_linear`` in older GraniteMoE).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import torch
import torch.nn.functional as F
from torch import nn

from .gating import GatingSpec

SUPPORTED = ("mixtral", "qwen2_moe", "qwen3_moe", "olmoe", "deepseek", "deepseek_v2", "deepseek_v3", "phimoe",
             "granitemoe", "gpt_oss")


@dataclass
class MoeParts:
    """What a dense all-experts forward needs from one MoE block (views of its parameters, never copies)."""

    router_weight: torch.Tensor                      # [E, H]
    router_bias: Optional[torch.Tensor]              # [E] (GPT-OSS)
    selection_bias: Optional[torch.Tensor]           # [E] (DeepSeek-V3 e_score_correction_bias)
    num_experts: int
    expert: Callable[[int, torch.Tensor], torch.Tensor]    # (e, x [T, H]) -> [T, H]
    shared: Optional[Callable[[torch.Tensor], torch.Tensor]]  # x -> shared experts' (gated) output
    # the expert weights by role, for the sidecar: {"layout": str, role: tensor or [tensor per expert]}
    expert_weights: dict


def config_value(config, *names, default=None):
    for n in names:
        v = getattr(config, n, None)
        if v is not None:
            return v
    return default


def moe_block(layer: nn.Module) -> Optional[nn.Module]:
    """The layer's MoE block, or None for a dense layer (DeepSeek's first layers, Qwen2-MoE's mlp_only_layers)."""
    for attr in ("block_sparse_moe", "mlp"):
        m = getattr(layer, attr, None)
        if m is not None and (hasattr(m, "experts") or hasattr(m, "input_linear")):
            return m
    return None


def ffn_module(layer: nn.Module) -> nn.Module:
    for attr in ("block_sparse_moe", "mlp", "feed_forward"):
        m = getattr(layer, attr, None)
        if m is not None:
            return m
    raise ValueError(f"cannot find the feed-forward module of {type(layer).__name__}")


def decoder_layers(model: nn.Module):
    base = getattr(model, "model", model)
    layers = getattr(base, "layers", None)
    if layers is None:
        raise ValueError(f"{type(model).__name__} has no .model.layers")
    return layers


def gating_spec(model_type: str, config, num_experts: int) -> GatingSpec:
    """The gating a family's config implies (see gating.py's table)."""
    top_k = int(config_value(config, "num_experts_per_tok", "experts_per_token", "top_k"))
    norm = bool(config_value(config, "norm_topk_prob", default=False))
    if model_type in ("mixtral",):
        return GatingSpec(num_experts, top_k, normalize_topk=True, notes="softmax, top-k, renormalised")
    if model_type == "qwen3_moe":
        return GatingSpec(num_experts, top_k, normalize_topk=norm)
    if model_type == "olmoe":
        return GatingSpec(num_experts, top_k, normalize_topk=norm)
    if model_type == "qwen2_moe":
        shared = 1 if config_value(config, "shared_expert_intermediate_size", default=0) else 0
        return GatingSpec(num_experts, top_k, normalize_topk=norm, shared_experts=shared,
                          shared_expert_gate="sigmoid" if shared else "none")
    if model_type == "deepseek":
        return GatingSpec(num_experts, top_k, normalize_topk=norm,
                          shared_experts=int(config_value(config, "n_shared_experts", default=0) or 0),
                          notes="shared experts added unweighted")
    if model_type == "deepseek_v2":
        grouped = config_value(config, "topk_method", default="greedy") == "group_limited_greedy"
        return GatingSpec(num_experts, top_k, normalize_topk=norm and top_k > 1,
                          routed_scaling_factor=float(config_value(config, "routed_scaling_factor", default=1.0)),
                          n_group=int(config.n_group) if grouped else None,
                          topk_group=int(config.topk_group) if grouped else None,
                          group_score="max" if grouped else None,
                          shared_experts=int(config_value(config, "n_shared_experts", default=0) or 0))
    if model_type == "deepseek_v3":
        return GatingSpec(num_experts, top_k, score_function="sigmoid", normalize_topk=norm,
                          routed_scaling_factor=float(config_value(config, "routed_scaling_factor", default=1.0)),
                          selection_bias=True, n_group=int(config.n_group), topk_group=int(config.topk_group),
                          group_score="top2_sum",
                          shared_experts=int(config_value(config, "n_shared_experts", default=0) or 0))
    if model_type == "phimoe":
        return GatingSpec(num_experts, 2, score_function="sparsemixer",
                          jitter_eps=float(config_value(config, "router_jitter_noise", default=0.01)),
                          notes="PhiMoE sparsemixer, inference branch")
    if model_type in ("granitemoe", "gpt_oss"):
        return GatingSpec(num_experts, top_k, score_before_topk=False, router_bias=model_type == "gpt_oss",
                          notes="top-k of logits, softmax over the k selected")
    raise ValueError(f"model_type {model_type!r} is not supported; supported: {', '.join(SUPPORTED)}")


def moe_parts(model_type: str, block: nn.Module, config) -> MoeParts:
    """Router, experts and shared experts of one MoE block of the given family."""
    router_w, router_b, sel_bias = _router(block)
    experts = getattr(block, "experts", None)
    if hasattr(block, "input_linear"):  # GraniteMoE before transformers 5 (from 5: router + fused experts)
        expert = _granite_expert(block)
        weights = {"layout": "fused_gate_up [E, 2I, H] gate rows first; down [E, H, I]",
                   "gate_up": block.input_linear.weight, "down": block.output_linear.weight}
    elif model_type == "gpt_oss":
        expert = _gpt_oss_expert(experts, config)
        weights = {"layout": "gpt_oss: gate_up [E, H, 2I] interleaved (gate even, up odd columns) + bias; "
                             "down [E, I, H] + bias; clamped SwiGLU",
                   "gate_up": experts.gate_up_proj, "gate_up_bias": experts.gate_up_proj_bias,
                   "down": experts.down_proj, "down_bias": experts.down_proj_bias}
    elif isinstance(experts, nn.ModuleList):
        expert = _listed_expert(experts)
        names = ("w1", "w3", "w2") if hasattr(experts[0], "w1") else ("gate_proj", "up_proj", "down_proj")
        weights = {"layout": "linear_per_expert: gate, up [I, H]; down [H, I] (torch Linear [out, in])"}
        for role, attr in zip(("gate", "up", "down"), names):
            weights[role] = [getattr(e, attr).weight for e in experts]
    elif experts is not None and hasattr(experts, "gate_up_proj"):
        expert = _fused_expert(experts, router_w.shape[1])
        weights = {"layout": "fused_gate_up [E, 2I, H] gate rows first; down [E, H, I]",
                   "gate_up": experts.gate_up_proj, "down": experts.down_proj}
    else:
        raise ValueError(f"{type(block).__name__}: unknown expert layout")
    return MoeParts(router_w, router_b, sel_bias if model_type == "deepseek_v3" else None, router_w.shape[0],
                    expert, _shared(block), weights)


def _router(block):
    gate = getattr(block, "gate", None) or getattr(block, "router", None)
    if gate is None:
        raise ValueError(f"{type(block).__name__}: no gate/router")
    if hasattr(gate, "layer"):  # GraniteMoE's TopKGating wraps a Linear
        gate = gate.layer
    weight = gate.weight
    bias = getattr(gate, "bias", None)
    if bias is not None and bias.dim() != 1:
        bias = None
    selection = getattr(gate, "e_score_correction_bias", None)
    return weight, bias, selection


def _act(module, default=F.silu):
    act = getattr(module, "act_fn", None) or getattr(module, "activation", None)
    return act if callable(act) else default


def _listed_expert(experts: nn.ModuleList):
    first = experts[0]
    if hasattr(first, "w1"):
        names = ("w1", "w3", "w2")      # Mixtral, PhiMoE: w1 gate, w3 up, w2 down
    else:
        names = ("gate_proj", "up_proj", "down_proj")

    def run(e, x):
        m = experts[e]
        g, u, d = (getattr(m, n) for n in names)
        return d(_act(m)(g(x)) * u(x))
    return run


def _fused_expert(experts, hidden: int):
    """Recent transformers: gate_up_proj [E, 2I, H] (F.linear layout, gate then up) and down_proj [E, H, I]."""
    act = _act(experts)

    def run(e, x):
        gu = experts.gate_up_proj[e]
        h = F.linear(x, gu) if gu.shape[-1] == hidden else x @ gu
        g, u = h.chunk(2, dim=-1)
        down = experts.down_proj[e]
        inner = g.shape[-1]
        y = act(g) * u
        return F.linear(y, down) if down.shape[-1] == inner else y @ down
    return run


def _granite_expert(block):
    """GraniteMoE: input_linear.weight [E, 2I, H] (gate then up), output_linear.weight [E, H, I]."""
    act = _act(block)

    def run(e, x):
        g, u = F.linear(x, block.input_linear.weight[e]).chunk(2, dim=-1)
        return F.linear(act(g) * u, block.output_linear.weight[e])
    return run


def _gpt_oss_expert(experts, config):
    """GPT-OSS: gate_up_proj [E, H, 2I] interleaved (gate even, up odd columns) with biases, clamped SwiGLU."""
    alpha = float(getattr(experts, "alpha", 1.702))
    limit = float(getattr(experts, "limit", config_value(config, "swiglu_limit", default=7.0)))

    def run(e, x):
        gu = x @ experts.gate_up_proj[e] + experts.gate_up_proj_bias[e]
        g, u = gu[..., ::2], gu[..., 1::2]
        g = g.clamp(max=limit)
        u = u.clamp(min=-limit, max=limit)
        glu = g * torch.sigmoid(g * alpha)
        return ((u + 1) * glu) @ experts.down_proj[e] + experts.down_proj_bias[e]
    return run


def _shared(block):
    shared = getattr(block, "shared_expert", None)
    if shared is not None:          # Qwen2-MoE: sigmoid-gated single shared expert
        gate = getattr(block, "shared_expert_gate", None)
        if gate is None:
            return shared
        return lambda x: torch.sigmoid(gate(x)) * shared(x)
    shared = getattr(block, "shared_experts", None)   # DeepSeek: unweighted
    return shared
