"""A causal LM with its MoE blocks swapped for a traceable dense forward and its hooks as extra outputs.

Why the swap: transformers' sparse MoE forwards loop only over the experts the current tokens hit
(``expert_hit = ...nonzero()``); tracing unrolls that loop for the example input, so the exported graph silently
drops every expert the example did not route to. The replacement forward computes every expert on every token
and multiplies by a dense [tokens, experts] weight matrix that is zero off the top-k (:func:`gating.dense_weights`),
so the graph holds all experts and no data-dependent control flow. It costs experts/top_k times the FLOPs.

The swapped forward is the family's gating re-implemented from :mod:`moescope_export.gating` over the block's own
parameters; :func:`verify_patch` checks it against the original model's logits before anything is exported.
"""

from __future__ import annotations

import types
from typing import Dict, List, Optional

import torch
from torch import nn

from . import families, gating
from . import hooks as hk


class HookedCausalLM(nn.Module):
    """Wraps a Hugging Face style causal LM (``model.model.layers``, ``model(...).logits``).

    ``forward(input_ids, attention_mask)`` returns ``logits`` followed, when ``with_hooks``, by each layer's
    hooks in :func:`hooks.layer_hooks` order. Position ids are ``cumsum(attention_mask) - 1`` so left padding is
    handled as in generation.
    """

    def __init__(self, model: nn.Module, model_type: str, with_hooks: bool = True):
        super().__init__()
        self.model = model
        self.model_type = model_type
        self.with_hooks = with_hooks
        # a plain list, not a ModuleList: registering the layers twice would rename their ONNX initializers
        self.layers = list(families.decoder_layers(model))
        self._router: Dict[int, torch.Tensor] = {}
        self._ffn: Dict[int, torch.Tensor] = {}
        self._resid: Dict[int, torch.Tensor] = {}
        self.moe_layers: List[int] = []
        self.parts: Dict[int, families.MoeParts] = {}
        self.spec: Optional[gating.GatingSpec] = None
        self._originals = {}
        for i, layer in enumerate(self.layers):
            block = families.moe_block(layer)
            if block is None:
                families.ffn_module(layer).register_forward_hook(self._store(self._ffn, i))
                layer.register_forward_hook(self._store(self._resid, i))
                continue
            parts = families.moe_parts(model_type, block, model.config)
            spec = families.gating_spec(model_type, model.config, parts.num_experts)
            if self.spec is None:
                self.spec = spec
            elif spec != self.spec:
                raise ValueError("MoE layers with different gating are not supported")
            self.moe_layers.append(i)
            self.parts[i] = parts
            self._patch(i, block, parts)
            layer.register_forward_hook(self._store(self._resid, i))

    @staticmethod
    def _store(slot, i):
        def hook(_module, _inputs, output):
            slot[i] = output[0] if isinstance(output, (tuple, list)) else output
        return hook

    def _patch(self, i: int, block: nn.Module, parts: families.MoeParts) -> None:
        returns_tuple = _returns_tuple(block, parts.router_weight)
        spec_holder = self

        def dense_forward(_self, hidden_states, *args, **kwargs):
            shape = hidden_states.shape
            x = hidden_states.reshape(-1, shape[-1])
            logits = torch.nn.functional.linear(x, parts.router_weight, parts.router_bias)
            weights = gating.dense_weights(logits, spec_holder.spec, parts.selection_bias).to(x.dtype)
            out = torch.zeros_like(x)
            for e in range(parts.num_experts):
                out = out + weights[:, e:e + 1] * parts.expert(e, x)
            if parts.shared is not None:
                out = out + parts.shared(x)
            out = out.reshape(shape)
            spec_holder._router[i] = logits.reshape(shape[0], shape[1], -1)
            spec_holder._ffn[i] = out
            return (out, logits) if returns_tuple else out

        self._originals[i] = block.forward
        block.forward = types.MethodType(dense_forward, block)

    def restore(self) -> None:
        """Puts the original (sparse) forwards back, e.g. to compare against them."""
        for i, fwd in self._originals.items():
            families.moe_block(self.layers[i]).forward = fwd
        self._originals.clear()

    def output_names(self) -> List[str]:
        names = [hk.LOGITS]
        if self.with_hooks:
            for i in range(len(self.layers)):
                names += hk.layer_hooks(i, i in self.moe_layers)
        return names

    def forward(self, input_ids, attention_mask):
        self._router.clear()
        self._ffn.clear()
        self._resid.clear()
        positions = (torch.cumsum(attention_mask, dim=-1) - 1).clamp(min=0)
        out = self.model(input_ids=input_ids, attention_mask=attention_mask, position_ids=positions,
                         use_cache=False, return_dict=True)
        result = [out.logits]
        if self.with_hooks:
            for i in range(len(self.layers)):
                if i in self.moe_layers:
                    result.append(self._router[i])
                result += [self._ffn[i], self._resid[i]]
        return tuple(result)

    def top_k_ids(self) -> Dict[int, torch.Tensor]:
        """Per MoE layer, the top-k ids [batch, seq, k] that :mod:`gating` derives from the last forward's logits."""
        ids = {}
        for i in self.moe_layers:
            logits = self._router[i]
            flat = logits.reshape(-1, logits.shape[-1])
            chosen, _ = gating.route(flat, self.spec, self.parts[i].selection_bias)
            ids[i] = chosen.reshape(logits.shape[0], logits.shape[1], -1)
        return ids


def _returns_tuple(block: nn.Module, router_weight: torch.Tensor) -> bool:
    """Whether the block's original forward returns (hidden, router_logits) rather than a tensor."""
    x = torch.zeros(1, 2, router_weight.shape[1], dtype=router_weight.dtype, device=router_weight.device)
    was_training = block.training
    block.eval()
    with torch.no_grad():
        out = block(x)
    block.train(was_training)
    return isinstance(out, (tuple, list))


@torch.no_grad()
def verify_patch(hooked: HookedCausalLM, input_ids, attention_mask) -> dict:
    """Logits of the patched dense forward vs the model's own forward on the same batch."""
    positions = (torch.cumsum(attention_mask, dim=-1) - 1).clamp(min=0)
    patched = hooked(input_ids, attention_mask)[0].float()
    originals = dict(hooked._originals)
    blocks = {i: families.moe_block(hooked.layers[i]) for i in originals}
    dense = {i: b.forward for i, b in blocks.items()}
    try:
        for i, b in blocks.items():
            b.forward = originals[i]
        own = hooked.model(input_ids=input_ids, attention_mask=attention_mask, position_ids=positions,
                           use_cache=False, return_dict=True).logits.float()
    finally:
        for i, b in blocks.items():
            b.forward = dense[i]
    valid = attention_mask.bool()
    diff = (patched - own).abs()[valid]
    return {"max_abs_diff_logits": float(diff.max()),
            "top1_agreement": float((patched.argmax(-1) == own.argmax(-1))[valid].float().mean())}
