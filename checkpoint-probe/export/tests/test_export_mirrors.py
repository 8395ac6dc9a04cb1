"""The exporter on plain-PyTorch mirrors of each MoE family (no transformers needed).

For each family: the traced all-experts forward reproduces the mirror's own sparse forward, the gating module
re-derives the mirror's own top-k choices, the ONNX graph holds every expert, outputs follow the hook convention,
and the sidecar records the family's gating. A negative control shows the trap the exporter avoids: tracing the
sparse forward on an input that hits few experts drops the others from the graph.

With ``MOESCOPE_MIRROR_EXPORTS`` set, the exports are kept there (one directory per family) so the Java test
ExportToolingPythonTest can run them under ONNX Runtime Java and check them against reference.npz.
"""

import collections
import os
import sys
import tempfile
import unittest
import warnings

import numpy as np
import onnx
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)
import mirrors  # noqa: E402
from moescope_export import families  # noqa: E402
from moescope_export.export import export_model  # noqa: E402
from moescope_export.hooked import HookedCausalLM  # noqa: E402

# what each family's sidecar must say (a subset of GatingSpec fields)
EXPECTED_GATING = {
    "mixtral": {"score_function": "softmax", "top_k": 2, "num_experts": 8, "normalize_topk": True},
    "olmoe": {"score_function": "softmax", "top_k": 3, "normalize_topk": False},
    "qwen3_moe": {"score_function": "softmax", "top_k": 2, "normalize_topk": True},
    "qwen2_moe": {"normalize_topk": False, "shared_experts": 1, "shared_expert_gate": "sigmoid"},
    "deepseek": {"normalize_topk": False, "shared_experts": 2, "shared_expert_gate": "none"},
    "deepseek_v3": {"score_function": "sigmoid", "selection_bias": True, "n_group": 4, "topk_group": 2,
                    "group_score": "top2_sum", "routed_scaling_factor": 2.5, "normalize_topk": True},
    "deepseek_v2": {"score_function": "softmax", "n_group": 4, "topk_group": 2, "group_score": "max",
                    "routed_scaling_factor": 1.5, "normalize_topk": False, "shared_experts": 2},
    "phimoe": {"score_function": "sparsemixer", "top_k": 2, "jitter_eps": 0.3},
    "gpt_oss": {"score_before_topk": False, "router_bias": True, "top_k": 2},
    "granitemoe": {"score_before_topk": False, "router_bias": False, "top_k": 2},
}


def batch(seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, mirrors.VOCAB, (3, 12), generator=g)


def matmuls_per_layer(model_path):
    """MatMul nodes per decoder layer index, from node scope names (``.../layers.<i>/...``)."""
    counts = collections.Counter()
    for node in onnx.load(model_path).graph.node:
        if node.op_type in ("MatMul", "Gemm"):
            for part in node.name.split("/"):
                if part.startswith("layers."):
                    counts[int(part.split(".")[1])] += 1
    return counts


class ExportMirrors(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        warnings.filterwarnings("ignore")
        keep = os.environ.get("MOESCOPE_MIRROR_EXPORTS")
        cls._tmp = None if keep else tempfile.TemporaryDirectory()
        cls.root = keep or cls._tmp.name
        os.makedirs(cls.root, exist_ok=True)

    @classmethod
    def tearDownClass(cls):
        if cls._tmp is not None:
            cls._tmp.cleanup()

    def test_every_family(self):
        for family in mirrors.FAMILIES:
            with self.subTest(family=family):
                self.check_family(family)

    def check_family(self, family):
        model = mirrors.build(family, seed=1)
        out = os.path.join(self.root, family)
        sidecar = export_model(model, family, out, name=f"mirror-{family}", seed=3, reference_ids=batch(5),
                               source="tests/mirrors.py")

        # 1. the all-experts forward equals the mirror's own sparse forward (on full and padded rows)
        check = sidecar["verification"]["pytorch_all_experts_vs_own_forward"]
        self.assertLess(check["max_abs_diff_logits"], 1e-4, check)
        self.assertEqual(check["top1_agreement"], 1.0)

        # 2. the gating module re-derives the mirror's own top-k choice, token by token
        ref = np.load(os.path.join(out, "reference.npz"))
        moe_layers = sidecar["model"]["moe_layers"]
        own = {i: families.moe_block(model.model.layers[i]).last_selected for i in moe_layers}
        for i in moe_layers:
            derived = torch.from_numpy(ref[f"blocks.{i}.topk_ids"]).reshape(-1, own[i].shape[1])
            self.assertTrue(torch.equal(derived, own[i]), f"layer {i}: {derived} vs {own[i]}")

        # 3. outputs follow the hook convention, with the reference holding each of them
        names = [o["name"] for o in sidecar["outputs"]]
        expected = ["logits"]
        for i in range(len(model.model.layers)):
            expected += ([f"blocks.{i}.router_logits", f"blocks.{i}.moe_out"] if i in moe_layers
                         else [f"blocks.{i}.mlp_out"]) + [f"blocks.{i}.resid_post"]
        self.assertEqual(names, expected)
        graph = onnx.load(os.path.join(out, "model.onnx"))
        self.assertEqual([o.name for o in graph.graph.output], expected)
        self.assertEqual([i.name for i in graph.graph.input], ["input_ids", "attention_mask"])
        for name in expected:
            self.assertIn(name, ref.files)
        experts = sidecar["gating"]["num_experts"]
        self.assertEqual(ref["blocks.%d.router_logits" % moe_layers[0]].shape, (3, 12, experts))

        # 4. every expert is in the graph: attention (4) + router (1) + each expert's MatMuls in every MoE layer
        per_layer = matmuls_per_layer(os.path.join(out, "model.onnx"))
        per_expert = 3 if isinstance(getattr(families.moe_block(model.model.layers[moe_layers[0]]), "experts",
                                             None), torch.nn.ModuleList) else 2
        for i in moe_layers:
            self.assertGreaterEqual(per_layer[i], 5 + per_expert * experts, f"layer {i}: {per_layer[i]} MatMuls")

        # 5. the sidecar names the router, expert, final-norm and unembedding weights as they are in the graph
        initializers = {t.name for t in graph.graph.initializer}
        named = [sidecar["model"]["final_norm"]["weight"], sidecar["model"]["unembedding"]]
        for i in moe_layers:
            w = sidecar["model"]["moe_weights"][str(i)]
            named.append(w["router"])
            for role, value in w.items():
                if role not in ("layout", "router") and value is not None:
                    named += value if isinstance(value, list) else [value]
            if "gate" in w:
                self.assertEqual(len(w["gate"]), experts)
        for name in named:
            self.assertIn(name, initializers)

        # 6. the sidecar says how this family gates
        for key, value in EXPECTED_GATING[family].items():
            self.assertEqual(sidecar["gating"][key], value, key)
        if family == "deepseek_v3":
            self.assertEqual(len(sidecar["gating"]["selection_bias_values"][str(moe_layers[0])]), experts)
            self.assertEqual(moe_layers, [1, 2])

    def test_tracing_the_sparse_forward_drops_experts(self):
        """The trap: a traced 'hit experts only' forward keeps only the experts the example input routed to."""
        model = mirrors.build("mixtral", seed=1)
        one_token = torch.tensor([[7]])
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "sparse.onnx")

            class Plain(torch.nn.Module):
                def __init__(self, m):
                    super().__init__()
                    self.m = m

                def forward(self, ids, mask):
                    pos = (torch.cumsum(mask, -1) - 1).clamp(min=0)
                    return self.m(ids, mask, pos).logits

            with torch.no_grad():
                torch.onnx.export(Plain(model), (one_token, torch.ones_like(one_token)), path, opset_version=17)
            sparse_counts = matmuls_per_layer(path)
            hooked = HookedCausalLM(mirrors.build("mixtral", seed=1), "mixtral")
            dense_path = os.path.join(tmp, "dense.onnx")
            with torch.no_grad():
                torch.onnx.export(hooked, (one_token, torch.ones_like(one_token)), dense_path, opset_version=17)
            dense_counts = matmuls_per_layer(dense_path)
        for layer in range(mirrors.LAYERS):
            # 2 of 8 experts traced: far fewer expert MatMuls than the all-experts graph
            self.assertLess(sparse_counts[layer], 5 + 3 * 8, sparse_counts)
            self.assertGreaterEqual(dense_counts[layer], 5 + 3 * 8, dense_counts)

    def test_logits_only_export(self):
        with tempfile.TemporaryDirectory() as tmp:
            sidecar = export_model(mirrors.build("olmoe", seed=2), "olmoe", tmp, name="olmoe-logits",
                                   with_hooks=False, reference_ids=batch(6))
            self.assertEqual([o["name"] for o in sidecar["outputs"]], ["logits"])
            self.assertEqual([o.name for o in onnx.load(os.path.join(tmp, "model.onnx")).graph.output],
                             ["logits"])

    def test_external_data(self):
        with tempfile.TemporaryDirectory() as tmp:
            sidecar = export_model(mirrors.build("olmoe", seed=2), "olmoe", tmp, name="olmoe-ext",
                                   external_data=True, reference_ids=batch(6))
            self.assertEqual(sidecar["files"]["external_data"], "model.onnx_data")
            self.assertGreater(os.path.getsize(os.path.join(tmp, "model.onnx_data")), 0)
            graph = onnx.load(os.path.join(tmp, "model.onnx"), load_external_data=False)
            external = [t.name for t in graph.graph.initializer
                        if t.data_location == onnx.TensorProto.EXTERNAL]
            self.assertIn("model.model.embed_tokens.weight", external)
            onnx.checker.check_model(os.path.join(tmp, "model.onnx"))

    def test_unknown_family_is_refused(self):
        with self.assertRaises(ValueError):
            families.gating_spec("switch_transformers", mirrors._config("x", num_experts_per_tok=1), 8)


if __name__ == "__main__":
    unittest.main()
