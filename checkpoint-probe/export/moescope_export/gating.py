"""Gating (routing) math of the MoE families moescope probes, as one description plus one reference implementation.

A :class:`GatingSpec` is what the export sidecar records so the Java probe can re-derive every token's top-k
experts and weights from the exported router logits. :func:`route` is the PyTorch reference of that math; the
exporter uses it in the dense forward it traces, and the tests check it against mirror modules of each family.

Variants (the gating table of the moe-probe research notes, section 3.7):

==================  ===========  ==========================  =====================================
family              score        selection                   weights
==================  ===========  ==========================  =====================================
mixtral, qwen3_moe  softmax      top-k of scores             renormalised over the k
olmoe, qwen2_moe,   softmax      top-k of scores             raw softmax values (norm_topk_prob off)
deepseek (v1)
deepseek_v2         softmax      optional group-limited      raw or renormalised, x scaling factor
deepseek_v3         sigmoid      + selection bias, groups    from unbiased scores, renorm, x scaling
                                 by sum of top-2
gpt_oss, granitemoe logits       top-k of logits first       softmax over the k selected logits
phimoe              sparsemixer  two argmax rounds with      softmax over the experts inside the
                                 a relative-gap mask          jitter window, per round
==================  ===========  ==========================  =====================================
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Optional, Tuple

import torch

SCORE_FUNCTIONS = ("softmax", "sigmoid", "sparsemixer")
GROUP_SCORES = ("max", "top2_sum")
SHARED_GATES = ("none", "sigmoid")


@dataclass(frozen=True)
class GatingSpec:
    """How router logits [tokens, experts] become top-k expert ids and weights.

    ``score_before_topk``: True when scores are computed over all experts and then the top-k taken (Mixtral);
    False when the top-k is taken on raw logits and ``score_function`` is applied to the k selected values only
    (GPT-OSS, GraniteMoE). ``selection_bias``: DeepSeek-V3's ``e_score_correction_bias`` is added to the scores
    for choosing experts only, never to the weights; its per-layer values go in the sidecar. ``n_group`` /
    ``topk_group`` / ``group_score``: group-limited routing (DeepSeek-V2/V3), masked-out groups score 0.
    ``shared_experts``: always-on experts added to the routed output, optionally scaled by
    ``sigmoid(shared_expert_gate(x))`` (Qwen2-MoE). ``router_bias``: the router Linear has a bias, included in the
    exported router logits (GPT-OSS). ``jitter_eps``: PhiMoE's sparsemixer threshold.
    """

    num_experts: int
    top_k: int
    score_function: str = "softmax"
    score_before_topk: bool = True
    normalize_topk: bool = False
    routed_scaling_factor: float = 1.0
    selection_bias: bool = False
    n_group: Optional[int] = None
    topk_group: Optional[int] = None
    group_score: Optional[str] = None
    shared_experts: int = 0
    shared_expert_gate: str = "none"
    router_bias: bool = False
    jitter_eps: Optional[float] = None
    notes: str = ""
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.num_experts <= 0 or not 0 < self.top_k <= self.num_experts:
            raise ValueError(f"bad expert counts: num_experts={self.num_experts}, top_k={self.top_k}")
        if self.score_function not in SCORE_FUNCTIONS:
            raise ValueError(f"score_function must be one of {SCORE_FUNCTIONS}, not {self.score_function}")
        if self.shared_expert_gate not in SHARED_GATES:
            raise ValueError(f"shared_expert_gate must be one of {SHARED_GATES}")
        if (self.n_group is None) != (self.topk_group is None):
            raise ValueError("n_group and topk_group go together")
        if self.n_group is not None:
            if self.num_experts % self.n_group != 0:
                raise ValueError(f"{self.num_experts} experts do not split into {self.n_group} groups")
            if self.group_score not in GROUP_SCORES:
                raise ValueError(f"group_score must be one of {GROUP_SCORES}")
        if self.score_function == "sparsemixer" and (self.top_k != 2 or self.jitter_eps is None):
            raise ValueError("sparsemixer routes exactly two experts and needs jitter_eps")

    def to_json(self) -> dict:
        d = asdict(self)
        if not d["extra"]:
            d.pop("extra")
        return d


def route(logits: torch.Tensor, spec: GatingSpec, selection_bias: Optional[torch.Tensor] = None
          ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Top-k expert ids [tokens, k] (int64) and their weights [tokens, k] (float32) from router logits.

    Computed in float32 whatever the logits' dtype, as the families do. Ids are ordered by selection score,
    highest first (torch.topk order), except group-limited routing, whose order is torch.topk's on masked scores.
    """
    x = logits.float()
    if spec.score_function == "sparsemixer":
        return _sparsemixer(x, spec.jitter_eps)
    if not spec.score_before_topk:
        top_logits, ids = torch.topk(x, spec.top_k, dim=-1)
        weights = _score(top_logits, spec.score_function)
    else:
        scores = _score(x, spec.score_function)
        choice = scores
        if spec.selection_bias:
            if selection_bias is None:
                raise ValueError("this gating needs the layer's selection bias")
            choice = scores + selection_bias.float()
        if spec.n_group is not None:
            choice = _group_mask(choice, spec)
        _, ids = torch.topk(choice, spec.top_k, dim=-1)
        weights = scores.gather(-1, ids)
    if spec.normalize_topk:
        weights = weights / (weights.sum(dim=-1, keepdim=True) + 1e-20)
    weights = weights * spec.routed_scaling_factor
    return ids, weights


def dense_weights(logits: torch.Tensor, spec: GatingSpec, selection_bias: Optional[torch.Tensor] = None
                  ) -> torch.Tensor:
    """[tokens, experts] routing weights, zero off each token's top-k: what a dense all-experts forward multiplies."""
    ids, weights = route(logits, spec, selection_bias)
    return torch.zeros(logits.shape, dtype=torch.float32, device=logits.device).scatter(-1, ids, weights)


def _score(x: torch.Tensor, fn: str) -> torch.Tensor:
    return torch.softmax(x, dim=-1) if fn == "softmax" else torch.sigmoid(x)


def _group_mask(choice: torch.Tensor, spec: GatingSpec) -> torch.Tensor:
    tokens = choice.shape[0]
    grouped = choice.view(tokens, spec.n_group, -1)
    if spec.group_score == "max":
        group_scores = grouped.max(dim=-1).values
    else:
        group_scores = grouped.topk(2, dim=-1).values.sum(dim=-1)
    _, keep = torch.topk(group_scores, spec.topk_group, dim=-1)
    mask = torch.zeros_like(group_scores).scatter(1, keep, 1.0)
    mask = mask.unsqueeze(-1).expand(-1, -1, grouped.shape[-1]).reshape(tokens, -1)
    # DeepSeek fills masked experts with 0.0, not -inf: a negative biased score can lose to a masked one
    return choice.masked_fill(mask == 0, 0.0)


def _sparsemixer(scores: torch.Tensor, jitter_eps: float) -> Tuple[torch.Tensor, torch.Tensor]:
    """PhiMoE's inference-time sparsemixer (transformers' modeling_phimoe, eval branch)."""
    threshold, first = scores.max(dim=-1, keepdim=True)
    factor = scores.abs().clamp(min=threshold)
    masked = scores.masked_fill((threshold - scores) / factor > 2 * jitter_eps, float("-inf"))
    w1 = torch.softmax(masked, dim=-1).gather(-1, first)

    rest = scores.scatter(-1, first, float("-inf"))
    threshold2, second = rest.max(dim=-1, keepdim=True)
    factor2 = scores.abs().clamp(min=threshold2)
    masked2 = rest.masked_fill((threshold2 - scores) / factor2 > 2 * jitter_eps, float("-inf"))
    w2 = torch.softmax(masked2, dim=-1).gather(-1, second)
    return torch.cat((first, second), dim=-1), torch.cat((w1, w2), dim=-1)
