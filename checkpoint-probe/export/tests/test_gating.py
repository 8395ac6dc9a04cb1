"""Gating math on hand-computed cases, one per variant of the gating table."""

import math
import os
import sys
import unittest

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from moescope_export import hooks  # noqa: E402
from moescope_export.gating import GatingSpec, dense_weights, route  # noqa: E402


def logits_for(probs):
    return torch.log(torch.tensor([probs], dtype=torch.float64)).float()


class SoftmaxTopK(unittest.TestCase):
    def test_renormalised_top2(self):
        # softmax of log(p) is p: top-2 of (0.1, 0.5, 0.3, 0.1) is experts 1 and 2, renormalised 5/8 and 3/8
        ids, w = route(logits_for([0.1, 0.5, 0.3, 0.1]), GatingSpec(4, 2, normalize_topk=True))
        self.assertEqual(ids.tolist(), [[1, 2]])
        self.assertTrue(torch.allclose(w, torch.tensor([[0.625, 0.375]]), atol=1e-6))

    def test_raw_top2_keeps_softmax_values(self):
        ids, w = route(logits_for([0.1, 0.5, 0.3, 0.1]), GatingSpec(4, 2, normalize_topk=False))
        self.assertEqual(ids.tolist(), [[1, 2]])
        self.assertTrue(torch.allclose(w, torch.tensor([[0.5, 0.3]]), atol=1e-6))

    def test_scaling_factor_applies_after_renormalisation(self):
        _, w = route(logits_for([0.1, 0.5, 0.3, 0.1]),
                     GatingSpec(4, 2, normalize_topk=True, routed_scaling_factor=2.0))
        self.assertTrue(torch.allclose(w, torch.tensor([[1.25, 0.75]]), atol=1e-6))

    def test_dense_weights_are_zero_off_the_top_k(self):
        d = dense_weights(logits_for([0.1, 0.5, 0.3, 0.1]), GatingSpec(4, 2, normalize_topk=True))
        self.assertTrue(torch.allclose(d, torch.tensor([[0.0, 0.625, 0.375, 0.0]]), atol=1e-6))


class TopKThenSoftmax(unittest.TestCase):
    def test_softmax_over_selected_logits_only(self):
        spec = GatingSpec(4, 2, score_before_topk=False, router_bias=True)
        ids, w = route(torch.tensor([[1.0, 3.0, 2.0, -5.0]]), spec)
        self.assertEqual(ids.tolist(), [[1, 2]])
        e = 1 / (1 + math.exp(-1.0))  # softmax(3, 2) = (sigmoid(1), 1 - sigmoid(1))
        self.assertTrue(torch.allclose(w, torch.tensor([[e, 1 - e]]), atol=1e-6))


class SigmoidBiasGroups(unittest.TestCase):
    def spec(self, **kw):
        return GatingSpec(8, 2, score_function="sigmoid", normalize_topk=True, selection_bias=True, n_group=4,
                          topk_group=2, group_score="top2_sum", **kw)

    def test_bias_chooses_but_does_not_weigh(self):
        logits = torch.zeros(1, 8)            # every score sigmoid(0) = 0.5
        bias = torch.tensor([0, 0, 0, 0, 0, 0, 0.2, 0.1])
        ids, w = route(logits, self.spec(), bias)
        self.assertEqual(ids.tolist(), [[6, 7]])
        self.assertTrue(torch.allclose(w, torch.tensor([[0.5, 0.5]])))

    def test_group_limit_excludes_the_best_expert_of_a_weak_group(self):
        # groups of two: (0,1) (2,3) (4,5) (6,7); with the bias on expert 5 the group sums are
        # 1.0, 0.9, 0.95 - 1.0 = -0.05 and ~0, so groups (0,1) and (2,3) are kept
        s = torch.tensor([[0.5, 0.5, 0.45, 0.45, 0.95, -0.75, 0.0, 0.0]])
        logits = torch.log(s.clamp(1e-6, 1 - 1e-6) / (1 - s.clamp(1e-6, 1 - 1e-6)))  # sigmoid^-1
        bias = torch.zeros(8)
        bias[5] = -1.0
        ids, _ = route(logits, self.spec(), bias)
        self.assertNotIn(4, ids[0].tolist())   # 0.95 is the best single score, but its group is dropped
        self.assertEqual(sorted(ids[0].tolist()), [0, 1])

    def test_masked_experts_score_zero_not_minus_infinity(self):
        # all biased scores in the kept groups are negative: a masked expert (0.0) then outranks them, as in
        # DeepSeek-V3's masked_fill(..., 0.0); this pins that behaviour
        logits = torch.zeros(1, 8)
        bias = torch.tensor([-0.6, -0.6, -0.7, -0.7, -2.0, -2.0, -2.0, -2.0])
        ids, _ = route(logits, GatingSpec(8, 3, score_function="sigmoid", selection_bias=True, n_group=4,
                                          topk_group=2, group_score="top2_sum"), bias)
        # kept groups (0,1) and (2,3) hold only negative biased scores, so all three picks are masked experts
        self.assertTrue(all(i >= 4 for i in ids[0].tolist()), ids)

    def test_group_max_variant(self):
        spec = GatingSpec(4, 1, n_group=2, topk_group=1, group_score="max")
        ids, w = route(logits_for([0.3, 0.3, 0.4, 0.0001]), spec)
        self.assertEqual(ids.tolist(), [[2]])

    def test_needs_bias(self):
        with self.assertRaises(ValueError):
            route(torch.zeros(1, 8), self.spec())


class SparseMixer(unittest.TestCase):
    def test_first_is_argmax_second_is_runner_up(self):
        spec = GatingSpec(4, 2, score_function="sparsemixer", jitter_eps=0.01)
        logits = torch.tensor([[0.1, 2.0, 1.5, -1.0]])
        ids, w = route(logits, spec)
        self.assertEqual(ids.tolist(), [[1, 2]])
        # the window 2*eps is narrow: each round keeps one expert, weight 1
        self.assertTrue(torch.allclose(w, torch.ones(1, 2)))

    def test_wide_window_shares_weight(self):
        spec = GatingSpec(4, 2, score_function="sparsemixer", jitter_eps=0.5)
        ids, w = route(torch.tensor([[1.0, 1.0, 0.0, -1.0]]), spec)
        self.assertEqual(sorted(ids[0].tolist()), [0, 1])
        self.assertLess(w[0, 0].item(), 1.0)


class SpecValidation(unittest.TestCase):
    def test_rejects_inconsistent_specs(self):
        for kw in ({"num_experts": 4, "top_k": 5}, {"num_experts": 4, "top_k": 2, "score_function": "relu"},
                   {"num_experts": 6, "top_k": 2, "n_group": 4, "topk_group": 2, "group_score": "max"},
                   {"num_experts": 8, "top_k": 2, "n_group": 4},
                   {"num_experts": 8, "top_k": 3, "score_function": "sparsemixer", "jitter_eps": 0.1}):
            with self.assertRaises(ValueError, msg=str(kw)):
                GatingSpec(**kw)

    def test_json_round_trip(self):
        spec = GatingSpec(8, 2, normalize_topk=True)
        self.assertEqual(GatingSpec(**spec.to_json()), spec)


class HookNames(unittest.TestCase):
    def test_convention(self):
        self.assertEqual(hooks.layer_hooks(3, True),
                         ["blocks.3.router_logits", "blocks.3.moe_out", "blocks.3.resid_post"])
        self.assertEqual(hooks.layer_hooks(0, False), ["blocks.0.mlp_out", "blocks.0.resid_post"])
        with self.assertRaises(ValueError):
            hooks.hook_name(1, "attn_out")


if __name__ == "__main__":
    unittest.main()
