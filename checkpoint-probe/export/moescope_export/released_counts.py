"""Released per-expert routing counts to moescope's JSON counts format, and an independent numpy check.

``moescope probe reproduce`` reads only JSON. This module converts the two released artifact kinds the
reproduction targets use (spec moe-probe.md section 7):

* ``olmoe``: allenai/OLMoE ``scripts/routing_output/<model>/expert_counts[_top1]/<domain>.pkl``, plain pickles
  of a list ``[Counter(layer 0), Counter(layer 7), Counter(layer 15)]`` mapping numpy int64 expert ids to
  assignment counts (written by ``scripts/run_routing_analysis.py``). An expert never chosen is absent from its
  Counter, so the number of experts comes from ``--num-experts`` (or the known-model table).
* ``moe-lens``: MarmikChaudhari/moe-interp (branch moe-lens) ``data/routing/<domain>_expert_data_<model>.pt``,
  ``torch.save`` dicts ``{layer: float32 tensor[E]}`` of per-layer assignment counts, layers numbered as the
  notebooks did (DeepSeek 1..27, OLMoE 1..16).

Pickles are read with an unpickler that admits only ``collections.Counter`` and numpy scalars/dtypes, and
``.pt`` files with ``torch.load(weights_only=True)``: a released file cannot run code here.

The JSON format ``moescope-expert-counts/1``::

    {
      "format": "moescope-expert-counts/1",
      "model": "olmoe",                 # label of the released model
      "selection": "top-k",             # "top-k": every expert of a token's top-k counted; "top-1": first choice only
      "numExperts": 64,                 # E
      "topK": 8,                        # experts counted per token (1 for top-1); tokens = sum(counts) / topK
      "modelTopK": 8,                   # the model's routing k (uniform share of top-k counts = topK / E)
      "layers": [0, 7, 15],             # layer numbers as released
      "domains": {"arxiv": [[...E counts of layer 0...], [...layer 7...], [...layer 15...]], ...},
      "source": {"repository": "...", "commit": "...", "license": "...", "converter": "...",
                 "files": {"arxiv": {"path": "...", "sha256": "..."}}}
    }

``python3 -m moescope_export.released_counts metrics FILE`` recomputes every per-layer and per-domain figure the
Java reproduction reports with numpy, from the JSON alone, so the two implementations can be compared.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import pickle
import re
import sys
from collections import Counter

FORMAT = "moescope-expert-counts/1"

# (numExperts, model top-k) of the released models, so that the usual conversions need no flags.
KNOWN_MODELS = {
    "olmoe": (64, 8),
    "olmoe-sft": (64, 8),
    "olmoe-dpo": (64, 8),
    "mistral": (8, 2),
    "mixtral": (8, 2),
    "deepseek-base": (64, 6),
    "deepseek-chat": (64, 6),
    "qwen": (60, 4),
}

# run_routing_analysis.py dumps [layer_counters[0], layer_counters[7], layer_counters[15]].
OLMOE_LAYERS = [0, 7, 15]


class _CountsUnpickler(pickle.Unpickler):
    """Admits only what OLMoE's count pickles contain."""

    ALLOWED = {
        ("collections", "Counter"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy", "dtype"),
    }

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing {module}.{name}: not part of a released counts pickle")
        return super().find_class(module, name)


def sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _fail(path: str, problem: str) -> "SystemExit":
    return SystemExit(f"{path}: {problem}")


def read_olmoe_pickle(path: str, num_experts: int) -> list[list[int]]:
    """One list of E counts per released layer (0, 7, 15)."""
    with open(path, "rb") as f:
        try:
            data = _CountsUnpickler(io.BytesIO(f.read())).load()
        except (pickle.UnpicklingError, EOFError, AttributeError, ImportError) as e:
            raise _fail(path, f"not an OLMoE expert-counts pickle ({e})")
    if not isinstance(data, list) or len(data) != len(OLMOE_LAYERS) or not all(isinstance(c, Counter) for c in data):
        raise _fail(path, f"expected a list of {len(OLMOE_LAYERS)} Counters (layers {OLMOE_LAYERS})")
    layers = []
    for counter in data:
        counts = [0] * num_experts
        for expert, n in counter.items():
            e = int(expert)
            if not 0 <= e < num_experts:
                raise _fail(path, f"expert id {e} outside [0, {num_experts})")
            counts[e] = int(n)
        layers.append(counts)
    return layers


def read_moe_lens_pt(path: str) -> tuple[list[int], list[list[int]]]:
    """(layer numbers, counts per layer) of a MoE Lens ``{layer: tensor[E]}`` file."""
    import torch

    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many types for a bad file
        raise _fail(path, f"not a torch-saved counts dict ({e})")
    if not isinstance(data, dict) or not data:
        raise _fail(path, "expected a non-empty dict {layer: tensor[E]}")
    layers = sorted(data)
    counts = []
    for layer in layers:
        t = data[layer]
        if not isinstance(t, torch.Tensor) or t.dim() != 1:
            raise _fail(path, f"layer {layer}: expected a 1-D tensor of counts")
        v = t.double()
        if bool((v != v.round()).any()) or bool((v < 0).any()):
            raise _fail(path, f"layer {layer}: counts must be non-negative integers")
        counts.append([int(x) for x in v.tolist()])
    return [int(layer) for layer in layers], counts


def _model_shape(model: str, num_experts, top_k):
    known = KNOWN_MODELS.get(model, (None, None))
    e = num_experts if num_experts is not None else known[0]
    k = top_k if top_k is not None else known[1]
    if e is None or k is None:
        raise SystemExit(f"model {model!r} is not in the known-model table: give --num-experts and --top-k")
    return e, k


def convert_olmoe(src_dir: str, model: str, top1: bool, num_experts=None, top_k=None, only=None, **source) -> dict:
    e, k = _model_shape(model, num_experts, top_k)
    files = sorted(f for f in os.listdir(src_dir) if f.endswith(".pkl") and (not only or f[:-4] in only))
    if not files:
        raise _fail(src_dir, "no <domain>.pkl files")
    domains, hashes = {}, {}
    for f in files:
        path = os.path.join(src_dir, f)
        domains[f[:-4]] = read_olmoe_pickle(path, e)
        hashes[f[:-4]] = {"path": _source_path(source, src_dir, f), "sha256": sha256(path)}
    return _document(model, "top-1" if top1 else "top-k", e, 1 if top1 else k, k, OLMOE_LAYERS, domains,
                     hashes, source)


def convert_moe_lens(src_dir: str, model: str, num_experts=None, top_k=None, only=None, **source) -> dict:
    suffix = f"_expert_data_{model}.pt"
    files = sorted(f for f in os.listdir(src_dir) if f.endswith(suffix) and (not only or f[: -len(suffix)] in only))
    if not files:
        raise _fail(src_dir, f"no <domain>{suffix} files")
    domains, hashes, layers, width = {}, {}, None, None
    for f in files:
        path = os.path.join(src_dir, f)
        ls, counts = read_moe_lens_pt(path)
        if layers is not None and ls != layers:
            raise _fail(path, f"layers {ls} differ from the other domains' {layers}")
        layers = ls
        widths = {len(c) for c in counts}
        if len(widths) != 1 or (width is not None and widths != {width}):
            raise _fail(path, "expert count differs between layers or domains")
        width = widths.pop()
        domains[f[: -len(suffix)]] = counts
        hashes[f[: -len(suffix)]] = {"path": _source_path(source, src_dir, f), "sha256": sha256(path)}
    e, k = _model_shape(model, num_experts if num_experts is not None else width, top_k)
    if e != width:
        raise SystemExit(f"{src_dir}: files hold {width} experts per layer, --num-experts says {e}")
    return _document(model, "top-k", e, k, k, layers, domains, hashes, source)


def _source_path(source: dict, src_dir: str, name: str) -> str:
    prefix = source.get("path_prefix")
    return f"{prefix.rstrip('/')}/{name}" if prefix else os.path.join(src_dir, name)


def _document(model, selection, e, k, model_k, layers, domains, hashes, source) -> dict:
    for d, per_layer in domains.items():
        totals = {sum(c) for c in per_layer}
        if len(totals) != 1:
            raise SystemExit(f"{hashes[d]['path']}: layers count different numbers of assignments {sorted(totals)}")
        total = totals.pop()
        if total % k:
            raise SystemExit(f"{hashes[d]['path']}: {total} assignments is not a multiple of top-k {k}")
        if max(max(c) for c in per_layer) > total // k:
            raise SystemExit(f"{hashes[d]['path']}: an expert is counted more often than the {total // k} tokens "
                             f"that top-k {k} implies (wrong --top-k?)")
    return {
        "format": FORMAT,
        "model": model,
        "selection": selection,
        "numExperts": e,
        "topK": k,
        "modelTopK": model_k,
        "layers": layers,
        "domains": domains,
        "source": {
            "repository": source.get("repository"),
            "commit": source.get("commit"),
            "license": source.get("license"),
            "converter": "checkpoint-probe/export/moescope_export/released_counts.py",
            "files": hashes,
        },
    }


def to_json(doc: dict) -> str:
    """Indented JSON with each list of numbers on one line (one line per layer's counts)."""
    text = json.dumps(doc, indent=1)
    return re.sub(r"\[\s*(-?\d[\d,\s-]*?)\s*\]",
                  lambda m: "[" + ",".join(x.strip() for x in m.group(1).split(",")) + "]", text) + "\n"


def metrics(doc: dict) -> dict:
    """Every figure the Java reproduction reports, recomputed with numpy from the JSON alone."""
    import numpy as np

    e, k = doc["numExperts"], doc["topK"]
    out = {}
    for domain, per_layer in doc["domains"].items():
        rows = []
        for layer, counts in zip(doc["layers"], per_layer):
            c = np.asarray(counts, dtype=np.float64)
            tokens = c.sum() / k
            p = c / c.sum()
            nz = p[p > 0]
            rows.append({
                "layer": layer,
                "tokens": float(tokens),
                "largestShare": float(c.max() / tokens),
                "largestExpert": int(np.argmax(c)),
                "normalizedEntropy": float(-(nz * np.log(nz)).sum() / np.log(e)),
                "coefficientOfVariation": float(c.std() / c.mean()),
                "expertsAbove2xUniform": int((c / tokens > 2 * k / e).sum()),
            })
        best = max(rows, key=lambda r: r["largestShare"])
        out[domain] = {
            "layers": rows,
            "maxShare": best["largestShare"],
            "maxShareLayer": best["layer"],
            "layersWithExpertOverHalf": int(sum(r["largestShare"] > 0.5 for r in rows)),
            "meanNormalizedEntropy": float(np.mean([r["normalizedEntropy"] for r in rows])),
            "meanCv": float(np.mean([r["coefficientOfVariation"] for r in rows])),
        }
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        prog="python3 -m moescope_export.released_counts",
        description="Convert released per-expert routing counts to moescope's JSON counts format.",
        epilog="Example: python3 -m moescope_export.released_counts olmoe "
               "OLMoE/scripts/routing_output/olmoe/expert_counts --model olmoe --out olmoe-expert-counts.json")
    sub = p.add_subparsers(dest="kind", required=True)
    for kind, help_text in (("olmoe", "allenai/OLMoE expert_counts[_top1]/<domain>.pkl directory"),
                            ("moe-lens", "moe-interp data/routing directory (<domain>_expert_data_<model>.pt)")):
        s = sub.add_parser(kind, help=help_text)
        s.add_argument("src", help="the directory holding the released files")
        s.add_argument("--model", required=True, help="model label (olmoe, mistral, deepseek-base, qwen, ...)")
        s.add_argument("--out", required=True, help="JSON file to write")
        s.add_argument("--num-experts", type=int)
        s.add_argument("--top-k", type=int)
        s.add_argument("--repository", help="source repository recorded in the JSON (owner/name)")
        s.add_argument("--commit", help="source commit recorded in the JSON")
        s.add_argument("--license", help="licence of the source files, recorded in the JSON")
        s.add_argument("--path-prefix", help="the source directory's path inside its repository")
        s.add_argument("--domains", help="comma-separated domains to keep (default: every file)")
        if kind == "olmoe":
            s.add_argument("--top1", action="store_true", help="the directory holds first-choice (top-1) counts")
    m = sub.add_parser("metrics", help="recompute the reproduction's figures from a JSON counts file with numpy")
    m.add_argument("file")
    args = p.parse_args(argv)

    if args.kind == "metrics":
        with open(args.file) as f:
            json.dump(metrics(json.load(f)), sys.stdout, indent=1)
        print()
        return 0
    source = dict(repository=args.repository, commit=args.commit, license=args.license,
                  path_prefix=args.path_prefix, only=set(args.domains.split(",")) if args.domains else None)
    if not os.path.isdir(args.src):
        raise SystemExit(f"{args.src}: not a directory")
    if args.kind == "olmoe":
        doc = convert_olmoe(args.src, args.model, args.top1, args.num_experts, args.top_k, **source)
    else:
        doc = convert_moe_lens(args.src, args.model, args.num_experts, args.top_k, **source)
    tmp = args.out + ".tmp"
    with open(tmp, "w") as f:
        f.write(to_json(doc))
    os.replace(tmp, args.out)
    print(f"{args.out}: {doc['model']} {doc['selection']}, {len(doc['domains'])} domains, layers {doc['layers']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
