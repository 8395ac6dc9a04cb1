"""ONNX export, reference batches, verification and the sidecar JSON, shared by every exported model.

The sidecar (``moescope-export.json`` beside ``model.onnx``) is what the Java probe reads to know what the graph's
named outputs are and how the architecture gates. Format ``moescope.export/1``:

``model``: name, family, layers, hidden size, vocab size, dtype, which layers are MoE.
``inputs`` / ``outputs``: names, element types and axes of the graph's inputs and outputs.
``gating``: a :class:`moescope_export.gating.GatingSpec` as JSON, plus ``selection_bias_values`` per MoE layer when the
family has one (DeepSeek-V3).
``verification``: how the export was checked (PyTorch vs ONNX Runtime when Python onnxruntime is importable,
else the reference batch that a Java test checks with ONNX Runtime Java).
``provenance``: tool, versions, time, source checkpoint, seed.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import os
import platform
import shutil
import tempfile
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch

from . import hooks as hk

FORMAT = "moescope.export/1"
SIDECAR = "moescope-export.json"
MODEL_FILE = "model.onnx"
EXTERNAL_DATA_FILE = "model.onnx_data"
PROTOBUF_LIMIT = 2 ** 31 - 1


def export_onnx(module: torch.nn.Module, example: Sequence[torch.Tensor], out_dir: str, output_names: List[str],
                opset: int = 17, external_data: Optional[bool] = None, constant_folding: bool = False) -> str:
    """Trace ``module(*example)`` to ``out_dir/model.onnx`` with inputs ``input_ids`` and ``attention_mask``.

    Batch and sequence axes of every input and output are dynamic. Models whose weights exceed protobuf's 2 GB
    (or ``external_data=True``) are written with all weights in one ``model.onnx_data`` beside the graph;
    load such models by path so ONNX Runtime resolves it.

    Constant folding is off by default: folding turns each Linear's transposed weight into an anonymous
    initializer (``onnx::MatMul_123``), while unfolded graphs keep the PyTorch parameter names
    (``model.layers.3.mlp.experts.5.down_proj.weight``) that the probe uses to find router and expert weights.
    ONNX Runtime folds the transposes itself when it creates the session.
    """
    import onnx

    os.makedirs(out_dir, exist_ok=True)
    target = os.path.join(out_dir, MODEL_FILE)
    axes = {hk.INPUT_IDS: {0: "batch", 1: "sequence"}, hk.ATTENTION_MASK: {0: "batch", 1: "sequence"}}
    for name in output_names:
        axes[name] = {0: "batch", 1: "sequence"}
    weight_bytes = sum(p.numel() * p.element_size() for p in module.parameters())
    if external_data is None:
        external_data = weight_bytes > PROTOBUF_LIMIT - (64 << 20)
    with tempfile.TemporaryDirectory(dir=out_dir) as tmp, _keep_equal_initializers():
        raw = os.path.join(tmp, MODEL_FILE)
        with torch.no_grad():
            torch.onnx.export(module, tuple(example), raw, input_names=[hk.INPUT_IDS, hk.ATTENTION_MASK],
                              output_names=list(output_names), dynamic_axes=axes, opset_version=opset,
                              do_constant_folding=constant_folding, **_torchscript_exporter())
        model = onnx.load(raw, load_external_data=True)
        got = [o.name for o in model.graph.output]
        if got != list(output_names):
            raise RuntimeError(f"exported outputs {got} differ from the requested {list(output_names)}")
        for path in (target, os.path.join(out_dir, EXTERNAL_DATA_FILE)):
            if os.path.exists(path):
                os.remove(path)
        if external_data:
            onnx.save_model(model, target, save_as_external_data=True, all_tensors_to_one_file=True,
                            location=EXTERNAL_DATA_FILE, size_threshold=1024)
        else:
            onnx.save_model(model, target)
    onnx.checker.check_model(target)
    return target


def _torchscript_exporter() -> dict:
    """Selects the TorchScript (tracing) exporter where torch.onnx defaults to the dynamo one (torch >= 2.9).

    The dynamo exporter renames and lifts parameters (``p_model_layers_0_...``) and cannot be told to keep equal
    initializers apart; the tracing exporter keeps every parameter's PyTorch name, which the sidecar cites.
    """
    import inspect
    return {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}


@contextlib.contextmanager
def _keep_equal_initializers():
    """Stops the exporter from merging initializers that merely have equal values.

    In eval mode torch.onnx deduplicates initializers by value as well as by storage, so two RMSNorm weights that
    are still all ones (or two zero biases) end up as one initializer under one of their names, and the other
    names vanish from the graph. The probe finds weights by name, so only storage-shared (tied) tensors may merge:
    that is the exporter's training-mode behaviour, requested here through its ``is_train`` flag.
    """
    original = torch._C._jit_pass_onnx_deduplicate_initializers

    def by_storage_only(graph, params, _is_train):
        return original(graph, params, True)

    torch._C._jit_pass_onnx_deduplicate_initializers = by_storage_only
    try:
        yield
    finally:
        torch._C._jit_pass_onnx_deduplicate_initializers = original


def tensor_name(root: torch.nn.Module, tensor: Optional[torch.Tensor]) -> Optional[str]:
    """The name a parameter or buffer of ``root`` carries as an ONNX initializer (constant folding off), or None.

    Shared (tied) tensors export under their first name, which is what ``named_parameters`` yields.
    """
    if tensor is None:
        return None
    for name, p in root.named_parameters():
        if p is tensor:
            return name
    for name, b in root.named_buffers():
        if b is tensor:
            return name
    return None


def missing_initializers(out_dir: str, model_info: dict) -> List[str]:
    """Weight names the sidecar's model section cites (final norm, unembedding, MoE weights) that the graph lacks."""
    import onnx

    graph = onnx.load(os.path.join(out_dir, MODEL_FILE), load_external_data=False).graph
    present = {t.name for t in graph.initializer}
    cited = []
    norm = model_info.get("final_norm") or {}
    cited += [norm.get("weight"), norm.get("bias"), model_info.get("unembedding"),
              model_info.get("unembedding_bias")]
    for layer in (model_info.get("moe_weights") or {}).values():
        for role, value in layer.items():
            if role != "layout":
                cited += value if isinstance(value, list) else [value]
    return [n for n in cited if n is not None and n not in present]


def save_reference(path: str, arrays: Dict[str, torch.Tensor]) -> None:
    """An uncompressed ``.npz`` of named arrays (input ids, mask, PyTorch outputs) for checks in Java."""
    np.savez(path, **{k: v.detach().cpu().numpy() for k, v in arrays.items()})


def compare(reference: Dict[str, np.ndarray], actual: Dict[str, np.ndarray], top_k: int,
            valid: Optional[np.ndarray] = None) -> dict:
    """Max abs difference per output, plus top-1 / top-k agreement of logits and router logits."""
    report = {}
    for name, ref in reference.items():
        if name not in actual:
            continue
        got = actual[name].astype(np.float64)
        ref = ref.astype(np.float64)
        entry = {"max_abs_diff": float(np.max(np.abs(got - ref)))}
        if name == hk.LOGITS or name.endswith("." + hk.ROUTER_LOGITS):
            k = 1 if name == hk.LOGITS else top_k
            ref_top = np.argsort(-ref, axis=-1, kind="stable")[..., :k]
            got_top = np.argsort(-got, axis=-1, kind="stable")[..., :k]
            same_top1 = ref_top[..., 0] == got_top[..., 0]
            same_set = np.all(np.sort(ref_top, -1) == np.sort(got_top, -1), axis=-1)
            if valid is not None:
                same_top1, same_set = same_top1[valid], same_set[valid]
            entry["top1_agreement"] = float(same_top1.mean())
            entry[f"top{k}_set_agreement"] = float(same_set.mean())
        report[name] = entry
    return report


def run_onnxruntime(model_path: str, feeds: Dict[str, np.ndarray]) -> Optional[Dict[str, np.ndarray]]:
    """Outputs of the model under Python onnxruntime, or None when onnxruntime is not importable."""
    try:
        import onnxruntime as ort
    except ImportError:
        return None
    session = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(names, feeds)))


def sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_sidecar(out_dir: str, model: dict, gating: Optional[dict], output_names: List[str],
                  output_dtype: str, verification: dict, provenance: dict) -> str:
    """Writes ``moescope-export.json`` beside the model (atomically)."""
    outputs = []
    for name in output_names:
        if name == hk.LOGITS:
            axes = ["batch", "sequence", "vocab"]
        elif name.endswith("." + hk.ROUTER_LOGITS):
            axes = ["batch", "sequence", "experts"]
        else:
            axes = ["batch", "sequence", "hidden"]
        outputs.append({"name": name, "dtype": output_dtype, "axes": axes})
    model_path = os.path.join(out_dir, MODEL_FILE)
    doc = {
        "format": FORMAT,
        "model": model,
        "files": {"model": MODEL_FILE, "model_sha256": sha256(model_path),
                  "external_data": EXTERNAL_DATA_FILE
                  if os.path.exists(os.path.join(out_dir, EXTERNAL_DATA_FILE)) else None},
        "inputs": [{"name": hk.INPUT_IDS, "dtype": "int64", "axes": ["batch", "sequence"]},
                   {"name": hk.ATTENTION_MASK, "dtype": "int64", "axes": ["batch", "sequence"]}],
        "outputs": outputs,
        "hook_convention": "blocks.<layer>.{router_logits,moe_out,mlp_out,resid_post}",
        "gating": gating,
        "verification": verification,
        "provenance": dict(provenance, **{
            "tool": "moescope_export",
            "torch": torch.__version__,
            "onnx": __import__("onnx").__version__,
            "python": platform.python_version(),
            "created": datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat(),
        }),
    }
    path = os.path.join(out_dir, SIDECAR)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    shutil.move(tmp, path)
    return path
