"""The exporter on tiny randomly initialised transformers models of each real family.

Skipped where transformers is not importable (it is not on the project's CI machine; it is on GPU machines).
Each family is a subtest, so one family's failure does not hide the others. DeepSeek-MoE v1 needs remote code
and is not covered here; its layout is covered by the mirror tests.
"""

import os
import sys
import tempfile
import unittest
import warnings

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from moescope_export.export import export_model  # noqa: E402

try:
    import transformers
except ImportError:  # the CI machine: the mirror tests cover the exporter there
    transformers = None

COMMON = dict(vocab_size=128, hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
              num_key_value_heads=2, max_position_embeddings=64)

FAMILIES = {
    "mixtral": ("MixtralConfig", dict(num_local_experts=4, num_experts_per_tok=2)),
    "qwen2_moe": ("Qwen2MoeConfig", dict(num_experts=4, num_experts_per_tok=2, moe_intermediate_size=24,
                                         shared_expert_intermediate_size=48, norm_topk_prob=False)),
    "qwen3_moe": ("Qwen3MoeConfig", dict(num_experts=4, num_experts_per_tok=2, moe_intermediate_size=24,
                                         norm_topk_prob=True, head_dim=8)),
    "olmoe": ("OlmoeConfig", dict(num_experts=4, num_experts_per_tok=2)),
    "deepseek_v2": ("DeepseekV2Config", dict(n_routed_experts=4, num_experts_per_tok=2, moe_intermediate_size=24,
                                             n_shared_experts=1, first_k_dense_replace=1, kv_lora_rank=16,
                                             q_lora_rank=None, qk_rope_head_dim=8, qk_nope_head_dim=8,
                                             v_head_dim=8, num_hidden_layers=3, num_key_value_heads=4)),
    "deepseek_v3": ("DeepseekV3Config", dict(n_routed_experts=8, num_experts_per_tok=2, moe_intermediate_size=24,
                                             n_shared_experts=1, first_k_dense_replace=1, n_group=4, topk_group=2,
                                             kv_lora_rank=16, q_lora_rank=None, qk_rope_head_dim=8,
                                             qk_nope_head_dim=8, v_head_dim=8, num_hidden_layers=3, num_key_value_heads=4)),
    "phimoe": ("PhimoeConfig", dict(num_local_experts=4, num_experts_per_tok=2)),
    "granitemoe": ("GraniteMoeConfig", dict(num_local_experts=4, num_experts_per_tok=2)),
    "gpt_oss": ("GptOssConfig", dict(num_local_experts=4, num_experts_per_tok=2, head_dim=8,
                                     layer_types=["sliding_attention", "full_attention"], sliding_window=16)),
}


@unittest.skipIf(transformers is None, "transformers is not importable")
class HuggingFaceFamilies(unittest.TestCase):
    def test_each_family(self):
        warnings.filterwarnings("ignore")
        passed = []
        for family, (config_name, extra) in FAMILIES.items():
            with self.subTest(family=family):
                config_cls = getattr(transformers, config_name, None)
                if config_cls is None:
                    self.skipTest(f"transformers {transformers.__version__} has no {config_name}")
                kwargs = dict(COMMON, **extra)
                config = config_cls(**kwargs)
                config._attn_implementation = "eager"
                torch.manual_seed(0)
                model = transformers.AutoModelForCausalLM.from_config(config)
                model.eval()
                ids = torch.randint(0, COMMON["vocab_size"], (3, 10))
                with tempfile.TemporaryDirectory() as tmp:
                    sidecar = export_model(model, family, tmp, name=f"tiny-{family}", reference_ids=ids,
                                           min_top1_agreement=1.0)
                check = sidecar["verification"]["pytorch_all_experts_vs_own_forward"]
                self.assertLess(check["max_abs_diff_logits"], 1e-3, check)
                passed.append(family)
        print(f"\ntransformers {transformers.__version__}: families passed: {', '.join(passed)}",
              file=sys.stderr)


if __name__ == "__main__":
    unittest.main()
