"""Compares a ``moescope probe run`` store of a tiny transformers export with transformers itself (target 8, Java).

Usage (python-hf venv plus pyarrow): ``python tests/check_probe_store.py FAMILY STORE SEQ_LEN``. The store must come
from the export that ``tests/test_hf_families.py`` writes for FAMILY (its weights are rebuilt here from the same
seed). Windows are rebuilt from the store's tokens table (each document cut every SEQ_LEN positions, no overlap),
run through the untouched transformers model, and every token's experts chosen by transformers' own routers are
compared with the experts Java re-derived (routing tables) and the router logits ONNX Runtime Java recorded.
"""

import glob
import json
import os
import sys

import numpy as np
import pyarrow.ipc as ipc
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from test_hf_families import build, router_choices  # noqa: E402


def table(store, name):
    parts = [ipc.open_file(f).read_all() for f in sorted(glob.glob(os.path.join(store, "shard-*", name + ".arrow")))]
    return parts


def main(family, store, seq_len):
    model = build(family)
    tokens = [t.to_pydict() for t in table(store, "tokens")]
    layers = sorted(int(os.path.basename(f).split(".")[2]) for f in
                    glob.glob(os.path.join(store, "shard-00000", "routing.blocks.*.arrow")))
    java_ids = {l: np.concatenate([np.array(t.column("expert_ids").to_pylist()) for t in table(store, f"routing.blocks.{l}")])
                for l in layers}
    java_w = {l: np.concatenate([np.array(t.column("gate_weights").to_pylist()) for t in table(store, f"routing.blocks.{l}")])
              for l in layers}
    java_logits = {l: np.concatenate([np.array(t.column(0).to_pylist()) for t in table(store, f"blocks.{l}.router_logits")])
                   for l in layers}
    doc = np.concatenate([t["doc_index"] for t in tokens])
    pos = np.concatenate([t["position"] for t in tokens])
    ids = np.concatenate([t["token_id"] for t in tokens])
    window = doc * 1_000_000 + pos // seq_len
    same, total, logit_diff, weight_diff = 0, 0, 0.0, 0.0
    starts = np.flatnonzero(np.r_[True, window[1:] != window[:-1]])
    ends = np.r_[starts[1:], len(ids)]
    for s, e in zip(starts, ends):
        _, ref_logits, chosen = router_choices(model, torch.tensor(ids[s:e], dtype=torch.long)[None])
        for i, l in enumerate(layers):
            ref_ids, ref_w = chosen[i][0].numpy(), chosen[i][1].float().numpy()
            j_ids, j_w = java_ids[l][s:e], java_w[l][s:e]
            eq = np.all(np.sort(ref_ids, -1) == np.sort(j_ids, -1), -1)
            same += int(eq.sum())
            total += len(eq)
            logit_diff = max(logit_diff, float(np.abs(ref_logits[i] - java_logits[l][s:e]).max()))
            o_r, o_j = np.argsort(ref_ids, -1), np.argsort(j_ids, -1)
            wd = np.abs(np.take_along_axis(ref_w, o_r, -1) - np.take_along_axis(j_w, o_j, -1))[eq]
            weight_diff = max(weight_diff, float(wd.max()) if wd.size else 0.0)
    print(json.dumps({"family": family, "windows": len(starts), "token_layers": total,
                      "java_ids_equal_transformers": same / total, "mismatches": total - same,
                      "max_abs_diff_router_logits": logit_diff, "max_abs_diff_weights_where_equal": weight_diff}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
