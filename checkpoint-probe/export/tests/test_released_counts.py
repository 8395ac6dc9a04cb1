"""Released-count conversion: synthetic files in the released layouts, converted and checked by hand."""

import json
import os
import pickle
import sys
import tempfile
import unittest
from collections import Counter

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from moescope_export import released_counts as rc  # noqa: E402


class _Evil:
    def __reduce__(self):
        return (os.system, ("true",))


class OlmoePickles(unittest.TestCase):
    def test_counters_become_dense_counts_per_layer(self):
        with tempfile.TemporaryDirectory() as d:
            src = os.path.join(d, "expert_counts")
            os.mkdir(src)
            # E = 4, k = 2, 3 tokens: expert 3 never chosen at layer 0 (absent from the Counter, as in the releases)
            layers = [Counter({np.int64(0): 3, np.int64(1): 2, np.int64(2): 1}),
                      Counter({np.int64(3): 3, np.int64(0): 3}),
                      Counter({np.int64(1): 1, np.int64(2): 2, np.int64(3): 3})]
            with open(os.path.join(src, "arxiv.pkl"), "wb") as f:
                pickle.dump(layers, f)
            out = os.path.join(d, "counts.json")
            rc.main(["olmoe", src, "--model", "toy", "--num-experts", "4", "--top-k", "2", "--out", out,
                     "--repository", "allenai/OLMoE", "--commit", "abc", "--license", "Apache-2.0",
                     "--path-prefix", "scripts/routing_output/toy/expert_counts"])
            with open(out) as f:
                doc = json.load(f)
            self.assertEqual(doc["format"], rc.FORMAT)
            self.assertEqual(doc["layers"], [0, 7, 15])
            self.assertEqual(doc["domains"]["arxiv"], [[3, 2, 1, 0], [3, 0, 0, 3], [0, 1, 2, 3]])
            self.assertEqual((doc["numExperts"], doc["topK"], doc["selection"]), (4, 2, "top-k"))
            files = doc["source"]["files"]["arxiv"]
            self.assertEqual(files["path"], "scripts/routing_output/toy/expert_counts/arxiv.pkl")
            self.assertEqual(files["sha256"], rc.sha256(os.path.join(src, "arxiv.pkl")))

            m = rc.metrics(doc)["arxiv"]
            # layer 7: counts (3, 0, 0, 3) over 3 tokens: share 1.0, entropy log 2 / log 4 = 0.5, CV = 1
            l7 = m["layers"][1]
            self.assertEqual(l7["tokens"], 3.0)
            self.assertAlmostEqual(l7["largestShare"], 1.0)
            self.assertAlmostEqual(l7["normalizedEntropy"], 0.5)
            self.assertAlmostEqual(l7["coefficientOfVariation"], 1.0)
            self.assertEqual(m["maxShareLayer"], 0)  # layer 0 also reaches 3/3 first
            self.assertEqual(m["layersWithExpertOverHalf"], 3)

    def test_pickles_that_would_run_code_are_refused(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "c4.pkl")
            with open(path, "wb") as f:
                pickle.dump([_Evil()], f)
            with self.assertRaises(SystemExit) as e:
                rc.read_olmoe_pickle(path, 4)
            self.assertIn("refusing posix.system", str(e.exception).replace("os.system", "posix.system"))

    def test_counts_that_are_not_whole_tokens_are_rejected(self):
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "c4.pkl"), "wb") as f:
                pickle.dump([Counter({np.int64(0): 3})] * 3, f)
            with self.assertRaises(SystemExit) as e:
                rc.convert_olmoe(d, "toy", False, 4, 2)
            self.assertIn("not a multiple of top-k 2", str(e.exception))


class MoeLensTensors(unittest.TestCase):
    def test_layer_dicts_of_float_tensors(self):
        with tempfile.TemporaryDirectory() as d:
            for domain, scale in (("gsm8k", 1.0), ("english", 2.0)):
                torch.save({1: torch.tensor([3.0, 3.0, 0.0]) * scale, 2: torch.tensor([2.0, 2.0, 2.0]) * scale},
                           os.path.join(d, f"{domain}_expert_data_toy.pt"))
            torch.save({1: torch.tensor([1.0])}, os.path.join(d, "gsm8k_expert_data_other.pt"))
            doc = rc.convert_moe_lens(d, "toy", top_k=2)
            self.assertEqual(sorted(doc["domains"]), ["english", "gsm8k"])
            self.assertEqual(doc["layers"], [1, 2])
            self.assertEqual(doc["numExperts"], 3)
            self.assertEqual(doc["domains"]["english"], [[6, 6, 0], [4, 4, 4]])
            m = rc.metrics(doc)["gsm8k"]
            self.assertEqual(m["layers"][0]["tokens"], 3.0)
            self.assertAlmostEqual(m["maxShare"], 1.0)
            self.assertEqual(m["maxShareLayer"], 1)
            self.assertAlmostEqual(m["layers"][1]["normalizedEntropy"], 1.0)
            self.assertAlmostEqual(m["layers"][1]["largestShare"], 2.0 / 3)
            # read with k = 3, english's 12 assignments are 4 tokens, yet expert 0 is counted 6 times: rejected
            with self.assertRaises(SystemExit) as e:
                rc.convert_moe_lens(d, "toy", top_k=3)
            self.assertIn("wrong --top-k", str(e.exception))

    def test_fractional_counts_are_rejected(self):
        with tempfile.TemporaryDirectory() as d:
            torch.save({1: torch.tensor([1.5, 0.5])}, os.path.join(d, "x_expert_data_toy.pt"))
            with self.assertRaises(SystemExit) as e:
                rc.convert_moe_lens(d, "toy", top_k=1)
            self.assertIn("non-negative integers", str(e.exception))


if __name__ == "__main__":
    unittest.main()
