"""Export pipeline for one causal MoE LM: patch, verify against PyTorch, export, reference batch, sidecar."""

from __future__ import annotations

import os
from typing import Optional

import torch

from . import onnx_io
from .hooked import HookedCausalLM, verify_patch


def _weights_doc(hooked, parts) -> dict:
    """ONNX initializer names of one MoE layer's router and experts (the probe recomputes experts from them)."""
    doc = {"router": onnx_io.tensor_name(hooked, parts.router_weight),
           "router_bias": onnx_io.tensor_name(hooked, parts.router_bias),
           "selection_bias": onnx_io.tensor_name(hooked, parts.selection_bias)}
    for role, value in parts.expert_weights.items():
        if role == "layout":
            doc[role] = value
        elif isinstance(value, (list, tuple)):
            doc[role] = [onnx_io.tensor_name(hooked, t) for t in value]
        else:
            doc[role] = onnx_io.tensor_name(hooked, value)
    return doc


class ExportError(Exception):
    """A checkpoint that cannot be exported faithfully; the message names the problem."""


def example_batch(vocab_size: int, seed: int, ids: Optional[torch.Tensor] = None):
    """A reference batch of three rows: full, right-padded and left-padded (from ``ids`` or seeded random ids)."""
    g = torch.Generator().manual_seed(seed)
    if ids is None:
        ids = torch.randint(3, vocab_size, (3, 16), generator=g)
    ids = ids.clone()
    mask = torch.ones_like(ids)
    seq = ids.shape[1]
    if ids.shape[0] >= 3:
        mask[1, seq * 2 // 3:] = 0
        mask[2, :seq // 3] = 0
    return ids, mask


def export_model(model: torch.nn.Module, model_type: str, out_dir: str, *, name: str, with_hooks: bool = True,
                 seed: int = 0, opset: int = 17, external_data: Optional[bool] = None,
                 reference_ids: Optional[torch.Tensor] = None, source: str = "",
                 min_top1_agreement: float = 0.99) -> dict:
    """Exports ``model`` (a transformers-style causal LM in eval mode) to ``out_dir``. Returns the sidecar dict.

    Raises :class:`ExportError` when the patched all-experts forward disagrees with the model's own forward.
    """
    model.eval()
    torch.manual_seed(seed)
    config = model.config
    vocab = int(getattr(config, "vocab_size"))
    hooked = HookedCausalLM(model, model_type, with_hooks=with_hooks)
    if not hooked.moe_layers:
        raise ExportError(f"{name}: no MoE layer found (model_type {model_type})")
    device = next(model.parameters()).device
    ids, mask = (t.to(device) for t in example_batch(vocab, seed, reference_ids))
    patch_check = verify_patch(hooked, ids, mask)
    if patch_check["top1_agreement"] < min_top1_agreement:
        raise ExportError(f"{name}: the all-experts forward disagrees with the model's own forward "
                          f"(top-1 agreement {patch_check['top1_agreement']:.4f}, max abs diff "
                          f"{patch_check['max_abs_diff_logits']:.3g}); gating of {model_type} misread?")
    names = hooked.output_names()
    with torch.no_grad():
        outputs = dict(zip(names, hooked(ids, mask)))
        top_ids = hooked.top_k_ids()
    # a different, smaller example for tracing: every axis must stay symbolic, nothing may be specialised to it
    trace_ids = torch.randint(3, vocab, (2, 5), generator=torch.Generator().manual_seed(seed + 1)).to(device)
    onnx_io.export_onnx(hooked, (trace_ids, torch.ones_like(trace_ids)), out_dir, names, opset=opset,
                        external_data=external_data)
    arrays = {"input_ids": ids, "attention_mask": mask}
    arrays.update({k: v.float() for k, v in outputs.items()})
    if with_hooks:
        arrays.update({f"blocks.{i}.topk_ids": t for i, t in top_ids.items()})
    onnx_io.save_reference(os.path.join(out_dir, "reference.npz"), arrays)

    verification = {"pytorch_all_experts_vs_own_forward": patch_check, "reference": "reference.npz"}
    ort = onnx_io.run_onnxruntime(os.path.join(out_dir, onnx_io.MODEL_FILE),
                                  {"input_ids": ids.cpu().numpy(), "attention_mask": mask.cpu().numpy()})
    if ort is None:
        verification["onnxruntime"] = "Python onnxruntime not importable: check reference.npz with ONNX Runtime"
    else:
        verification["onnxruntime"] = onnx_io.compare({k: v.float().cpu().numpy() for k, v in outputs.items()},
                                                      ort, hooked.spec.top_k, mask.cpu().numpy().astype(bool))
    gating_doc = hooked.spec.to_json()
    if hooked.spec.selection_bias:
        gating_doc["selection_bias_values"] = {str(i): hooked.parts[i].selection_bias.float().tolist()
                                        for i in hooked.moe_layers}
    dtype = str(next(model.parameters()).dtype).replace("torch.", "")
    base = getattr(model, "model", model)
    norm = getattr(base, "norm", None)
    head = getattr(model, "lm_head", None)
    model_info = {
        "name": name, "family": model_type,
        "num_layers": len(hooked.layers),
        "hidden_size": int(getattr(config, "hidden_size")),
        "vocab_size": vocab, "dtype": dtype, "moe_layers": hooked.moe_layers,
        "final_norm": None if norm is None else {
            "type": "layernorm" if isinstance(norm, torch.nn.LayerNorm) else "rmsnorm",
            "eps": float(getattr(norm, "variance_epsilon", getattr(norm, "eps", 1e-6))),
            "weight": onnx_io.tensor_name(hooked, norm.weight),
            "bias": onnx_io.tensor_name(hooked, getattr(norm, "bias", None))},
        "unembedding": None if head is None else onnx_io.tensor_name(hooked, head.weight),
        "unembedding_bias": None if head is None else onnx_io.tensor_name(hooked, getattr(head, "bias", None)),
        "moe_weights": {str(i): _weights_doc(hooked, hooked.parts[i]) for i in hooked.moe_layers},
        "positions": "cumsum(attention_mask) - 1: left and right padding both work",
    }
    missing = onnx_io.missing_initializers(out_dir, model_info)
    if missing:
        raise ExportError(f"{name}: weights named in the sidecar are not graph initializers: {missing[:5]}")
    return_path = onnx_io.write_sidecar(out_dir, model_info, gating_doc, names, dtype, verification,
                                        {"source": source, "seed": seed})
    import json
    with open(return_path) as f:
        return json.load(f)
