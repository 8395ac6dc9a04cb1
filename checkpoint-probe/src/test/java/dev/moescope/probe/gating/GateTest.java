package dev.moescope.probe.gating;

import dev.moescope.core.error.ExitCode;
import dev.moescope.core.error.MoescopeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every gating scheme against values computed by hand. */
class GateTest {

    /** logits = ln(1..4): softmax = 0.1, 0.2, 0.3, 0.4 exactly. */
    static final float[] LN_1_TO_4 = {0f, (float) Math.log(2), (float) Math.log(3), (float) Math.log(4)};

    static void assertRouting(int[] ids, double[] weights, Routing r) {
        assertArrayEquals(ids, r.experts(), r.toString());
        for (int i = 0; i < weights.length; i++) {
            assertEquals(weights[i], r.weights()[i], 1e-6, r.toString());
        }
    }

    @Test
    void softmaxTopKRenormalisesOverTheChosen() {
        Routing r = new Gate(GatingConfig.of(GatingScheme.SOFTMAX_TOPK_RENORM, 4, 2)).route(LN_1_TO_4);
        assertRouting(new int[]{3, 2}, new double[]{4.0 / 7, 3.0 / 7}, r);
    }

    @Test
    void softmaxTopKKeepsRawWeights() {
        Routing r = new Gate(GatingConfig.of(GatingScheme.SOFTMAX_TOPK, 4, 2)).route(LN_1_TO_4);
        assertRouting(new int[]{3, 2}, new double[]{0.4, 0.3}, r);
        // top-1 without renormalisation keeps the raw top weight: the MoE Lens "single expert" ablation
        Routing one = new Gate(GatingConfig.of(GatingScheme.SOFTMAX_TOPK, 4, 1)).route(LN_1_TO_4);
        assertRouting(new int[]{3}, new double[]{0.4}, one);
    }

    @Test
    void ortMoeFollowsItsNormalizeAttribute() {
        Routing raw = new Gate(new GatingConfig(GatingScheme.ORT_MOE, 4, 2, false, 1, 1, 1, null)).route(LN_1_TO_4);
        Routing norm = new Gate(new GatingConfig(GatingScheme.ORT_MOE, 4, 2, true, 1, 1, 1, null)).route(LN_1_TO_4);
        assertRouting(new int[]{3, 2}, new double[]{0.4, 0.3}, raw);
        assertRouting(new int[]{3, 2}, new double[]{4.0 / 7, 3.0 / 7}, norm);
    }

    @Test
    void topKThenSoftmaxOverTheSelectedLogitsOnly() {
        float[] logits = {1.0f, 3.0f, 2.0f, 0.5f};
        Routing r = new Gate(GatingConfig.of(GatingScheme.TOPK_SOFTMAX, 4, 2)).route(logits);
        double e = Math.E;
        assertRouting(new int[]{1, 2}, new double[]{e / (e + 1), 1 / (e + 1)}, r);
    }

    @Test
    void tiesGoToTheLowerExpertId() {
        float[] logits = {1f, 2f, 2f, 0f, 2f};
        Gate g = new Gate(GatingConfig.of(GatingScheme.SOFTMAX_TOPK, 5, 2));
        assertArrayEquals(new int[]{1, 2}, g.route(logits).experts());
        Gate g3 = new Gate(GatingConfig.of(GatingScheme.TOPK_SOFTMAX, 5, 3));
        Routing r = g3.route(logits);
        assertArrayEquals(new int[]{1, 2, 4}, r.experts());
        assertRouting(new int[]{1, 2, 4}, new double[]{1 / 3.0, 1 / 3.0, 1 / 3.0}, r);
    }

    /**
     * DeepSeek-V3, E = 8 in 4 groups of 2, keep 2 groups, k = 2. Scores: sigmoid(-4) = 0.01799 for expert 0,
     * sigmoid(ln 3) = 0.75 for expert 2, 0.5 elsewhere. Biased: [0.018, 0.95, 1.05, 0.5, 0.5, 0.7, 0.5, 0.55].
     * Group scores (sum of top-2): g0 0.968, g1 1.55, g2 1.2, g3 1.05 → groups 1 and 2 (experts 2..5) survive,
     * so expert 1 (second-best biased score overall) is excluded; top-2 = [2, 5]. Weights from unbiased scores
     * [0.75, 0.5] → normalised [0.6, 0.4] → × 2.5 = [1.5, 1.0].
     */
    @Test
    void sigmoidWithBiasAndGroupLimitedSelection() {
        float[] logits = {-4f, 0f, (float) Math.log(3), 0f, 0f, 0f, 0f, 0f};
        double[] bias = {0, 0.45, 0.3, 0, 0, 0.2, 0, 0.05};
        Gate grouped = new Gate(new GatingConfig(GatingScheme.SIGMOID_GROUPED, 8, 2, true, 4, 2, 2.5, new double[][]{bias}));
        assertRouting(new int[]{2, 5}, new double[]{1.5, 1.0}, grouped.route(logits));
        // without the group limit the second choice is expert 1 (biased 0.95); its weight is still its plain score 0.5
        Gate flat = new Gate(new GatingConfig(GatingScheme.SIGMOID_GROUPED, 8, 2, true, 1, 1, 2.5, new double[][]{bias}));
        assertRouting(new int[]{2, 1}, new double[]{1.5, 1.0}, flat.route(logits));
        // no renormalisation, no scaling: the raw sigmoid scores
        Gate raw = new Gate(new GatingConfig(GatingScheme.SIGMOID_GROUPED, 8, 2, false, 4, 2, 1.0, new double[][]{bias}));
        assertRouting(new int[]{2, 5}, new double[]{0.75, 0.5}, raw.route(logits));
    }

    @Test
    void perLayerBiasRowsApplyToTheirLayer() {
        float[] logits = new float[4];
        double[][] bias = {{0, 0, 0, 1}, {1, 0, 0, 0}};
        Gate g = new Gate(new GatingConfig(GatingScheme.SIGMOID_GROUPED, 4, 1, false, 1, 1, 1, bias));
        assertEquals(3, g.route(logits, 0, 0).top1());
        assertEquals(0, g.route(logits, 0, 1).top1());
        assertEquals(ExitCode.BAD_INPUT, assertThrows(MoescopeException.class, () -> g.route(logits, 0, 2)).exitCode());
    }

    @Test
    void routesARowAtAnOffsetAndRejectsNaN() {
        float[] two = {9, 9, 9, 9, 0f, (float) Math.log(2), (float) Math.log(3), (float) Math.log(4)};
        Gate g = new Gate(GatingConfig.of(GatingScheme.SOFTMAX_TOPK, 4, 2));
        assertRouting(new int[]{3, 2}, new double[]{0.4, 0.3}, g.route(two, 4, 0));
        float[] nan = {0, Float.NaN, 1, 2};
        MoescopeException e = assertThrows(MoescopeException.class, () -> g.route(nan));
        assertTrue(e.getMessage().contains("NaN"), e.getMessage());
    }

    @Test
    void parsesGatingOptionAndPresets() {
        assertEquals(GatingConfig.of(GatingScheme.SOFTMAX_TOPK_RENORM, 8, 2).describe(),
                GatingConfig.parse("mixtral", 8).describe());
        GatingConfig olmoe = GatingConfig.parse("olmoe:e=64", 0);
        assertEquals(GatingScheme.SOFTMAX_TOPK, olmoe.scheme());
        assertEquals(8, olmoe.topK());
        GatingConfig v3 = GatingConfig.parse("sigmoid-grouped:e=256,k=8,groups=8,topk-groups=4,scale=2.5", 0);
        assertEquals(8, v3.numGroups());
        assertEquals(4, v3.topKGroups());
        assertEquals(2.5, v3.routedScaling());
        assertTrue(v3.normalize());
        GatingConfig ort = GatingConfig.parse("ort-moe:k=2", 4);
        assertEquals(false, ort.normalize());
        assertEquals(4, ort.numExperts());
        for (String bad : new String[]{"softmax-topk", "nope:k=2", "softmax-topk:k=9", "softmax-topk:k=2,normalize=true",
                "softmax-topk:k=2,colour=red", "softmax-topk:k=x"}) {
            MoescopeException e = assertThrows(MoescopeException.class, () -> GatingConfig.parse(bad, 8), bad);
            assertEquals(ExitCode.USAGE, e.exitCode(), bad);
        }
    }

    @Test
    void readsSidecarsInHuggingFaceAndMoescopeSpelling(@TempDir Path dir) throws Exception {
        Path hf = dir.resolve("hf.json");
        Files.writeString(hf, "{\"model_type\":\"olmoe\",\"num_experts\":64,\"num_experts_per_tok\":8,\"norm_topk_prob\":false}");
        GatingConfig a = GatingConfig.fromSidecar(hf);
        assertEquals("softmax-topk:e=64,k=8", a.describe());
        Path mixtral = dir.resolve("mixtral.json");
        Files.writeString(mixtral, "{\"model_type\":\"mixtral\",\"num_local_experts\":8,\"num_experts_per_tok\":2}");
        assertEquals(GatingScheme.SOFTMAX_TOPK_RENORM, GatingConfig.fromSidecar(mixtral).scheme());
        Path nested = dir.resolve("nested.json");
        Files.writeString(nested, "{\"model\":\"tiny\",\"gating\":{\"scheme\":\"softmax-topk\",\"num_experts\":8,\"top_k\":2}}");
        assertEquals("softmax-topk:e=8,k=2", GatingConfig.fromSidecar(nested).describe());
        Path v3 = dir.resolve("v3.json");
        Files.writeString(v3, "{\"model_type\":\"deepseek_v3\",\"n_routed_experts\":8,\"num_experts_per_tok\":2,"
                + "\"n_group\":4,\"topk_group\":2,\"routed_scaling_factor\":2.5,\"norm_topk_prob\":true,"
                + "\"e_score_correction_bias\":[0,0.45,0.3,0,0,0.2,0,0.05]}");
        GatingConfig c = GatingConfig.fromSidecar(v3);
        float[] logits = {-4f, 0f, (float) Math.log(3), 0f, 0f, 0f, 0f, 0f};
        assertRouting(new int[]{2, 5}, new double[]{1.5, 1.0}, new Gate(c).route(logits));
        // the export sidecar's per-layer selection bias (MoE layers 1 and 2 only): layer 2's row steers layer 2
        Path export = dir.resolve("export.json");
        Files.writeString(export, "{\"gating\":{\"num_experts\":4,\"top_k\":1,\"score_function\":\"sigmoid\","
                + "\"normalize_topk\":false,\"selection_bias\":true,\"n_group\":null,\"topk_group\":null,"
                + "\"selection_bias_values\":{\"1\":[0,0,0,0],\"2\":[0,0,0,0.9]}}}");
        Gate exported = new Gate(GatingConfig.fromSidecar(export));
        float[] row = {1f, 0f, 0f, 0f};
        assertEquals(0, exported.route(row, 0, 1).top1());
        assertEquals(3, exported.route(row, 0, 2).top1());
        assertArrayEquals(new double[4], exported.config().biasFor(0));

        Path broken = dir.resolve("broken.json");
        Files.writeString(broken, "{\"model_type\": ");
        MoescopeException e = assertThrows(MoescopeException.class, () -> GatingConfig.fromSidecar(broken));
        assertEquals(ExitCode.BAD_INPUT, e.exitCode());
        assertTrue(e.getMessage().startsWith(broken.toString()), e.getMessage());
        Path missing = dir.resolve("missing.json");
        e = assertThrows(MoescopeException.class, () -> GatingConfig.fromSidecar(missing));
        assertEquals(ExitCode.BAD_INPUT, e.exitCode());
        Path noK = dir.resolve("nok.json");
        Files.writeString(noK, "{\"scheme\":\"softmax-topk\",\"num_experts\":8}");
        e = assertThrows(MoescopeException.class, () -> GatingConfig.fromSidecar(noK));
        assertTrue(e.getMessage().contains("top_k"), e.getMessage());
    }

    @Test
    void aSparsemixerSidecarIsRefusedRatherThanReadAsSoftmax() {
        com.google.gson.JsonObject o = com.google.gson.JsonParser.parseString(
                "{\"num_experts\": 4, \"top_k\": 2, \"score_function\": \"sparsemixer\", \"jitter_eps\": 0.01}")
                .getAsJsonObject();
        MoescopeException e = assertThrows(MoescopeException.class, () -> GatingConfig.fromJson(o));
        assertEquals(ExitCode.BAD_INPUT, e.exitCode());
        assertTrue(e.getMessage().contains("sparsemixer"), e.getMessage());
    }
}
