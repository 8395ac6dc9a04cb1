"""Command line: ``python3 -m moescope_export --model <checkpoint dir> --out <dir>`` (needs transformers)."""

from __future__ import annotations

import argparse
import sys

from . import families


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        prog="python3 -m moescope_export",
        description="Export a Hugging Face MoE checkpoint to ONNX with hook outputs and a gating sidecar.",
        epilog="Example: python3 -m moescope_export --model ./OLMoE-1B-7B-0924 --out ./olmoe-onnx --dtype float16")
    p.add_argument("--model", required=True, help="local checkpoint directory (nothing is downloaded)")
    p.add_argument("--out", required=True, help="output directory: model.onnx, moescope-export.json, reference.npz")
    p.add_argument("--dtype", choices=("float32", "float16", "bfloat16"), default="float32",
                   help="export precision (fp16/bf16 need ONNX Runtime CUDA for most ops; default float32)")
    p.add_argument("--device", default="cpu",
                   help="where PyTorch runs the model while tracing and verifying: cpu or cuda (fp16/bf16 need cuda)")
    p.add_argument("--logits-only", action="store_true", help="export only the logits output")
    p.add_argument("--opset", type=int, default=17)
    p.add_argument("--external-data", choices=("auto", "yes", "no"), default="auto",
                   help="weights in model.onnx_data beside the graph (auto: when over 2 GB)")
    p.add_argument("--trust-remote-code", action="store_true", help="needed for DeepSeek-MoE v1 checkpoints")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    try:
        import torch
        import transformers
    except ImportError as e:
        print(f"moescope_export: {e.name} is not importable; install transformers to export checkpoints",
              file=sys.stderr)
        return 2
    from .export import ExportError, export_model

    dtype = getattr(torch, args.dtype)
    try:
        config = transformers.AutoConfig.from_pretrained(args.model, trust_remote_code=args.trust_remote_code,
                                                         local_files_only=True)
    except (OSError, ValueError) as e:
        print(f"moescope_export: {args.model}: {str(e).splitlines()[0]}", file=sys.stderr)
        return 3
    if config.model_type not in families.SUPPORTED:
        print(f"moescope_export: {args.model}: model_type {config.model_type} is not supported "
              f"({', '.join(families.SUPPORTED)})", file=sys.stderr)
        return 3
    model = transformers.AutoModelForCausalLM.from_pretrained(
        args.model, torch_dtype=dtype, attn_implementation="eager", trust_remote_code=args.trust_remote_code,
        local_files_only=True)
    model = model.to(args.device)
    ext = {"auto": None, "yes": True, "no": False}[args.external_data]
    try:
        sidecar = export_model(model, config.model_type, args.out, name=args.model.rstrip("/").split("/")[-1],
                               with_hooks=not args.logits_only, seed=args.seed, opset=args.opset,
                               external_data=ext, source=args.model)
    except ExportError as e:
        print(f"moescope_export: {e}", file=sys.stderr)
        return 1
    check = sidecar["verification"]["pytorch_all_experts_vs_own_forward"]
    print(f"exported {args.out}/model.onnx: {len(sidecar['outputs'])} outputs, "
          f"{len(sidecar['model']['moe_layers'])} MoE layers; all-experts vs own forward: max |diff| "
          f"{check['max_abs_diff_logits']:.3g}, top-1 agreement {check['top1_agreement']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
