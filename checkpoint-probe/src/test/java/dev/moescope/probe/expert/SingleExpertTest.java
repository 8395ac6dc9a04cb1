package dev.moescope.probe.expert;

import dev.moescope.probe.gating.GatingConfig;
import dev.moescope.probe.gating.GatingScheme;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The H¹ variants and their cosines on a hand-computed 2-D case, and the top weights per gating. */
class SingleExpertTest {

    // H = 2, k = 2. u = (1, 0), x = (0, 2), E1 = (0, 1), E2 = (1, 1); weights (0.6, 0.2) (raw, do not sum to 1)
    static final float[] U = {1, 0};
    static final float[] X = {0, 2};
    static final float[] E1 = {0, 1};
    static final float[] E2 = {1, 1};
    // H^k = u + 0.6 E1 + 0.2 E2 = (1.2, 0.8)
    static final float[] HK = {1.2f, 0.8f};

    static SingleExpert.Token token(float[] shared) {
        float[] hk = shared == null ? HK : new float[]{HK[0] + shared[0], HK[1] + shared[1]};
        return new SingleExpert.Token(X, U, hk, new float[][]{E1, E2}, new float[]{0.6f, 0.2f}, 0.5, 1.0, shared);
    }

    static double cos(double ax, double ay, double bx, double by) {
        return (ax * bx + ay * by) / Math.hypot(ax, ay) / Math.hypot(bx, by);
    }

    @Test
    void correctedVariantsAreTheResidualPlusTheWeightedTopExpert() {
        SingleExpert.Token t = token(null);
        assertArrayEquals(new float[]{1, 0.5f}, SingleExpert.h1(SingleExpert.Variant.RAW, t), 1e-7f);       // p1 = 0.5
        assertArrayEquals(new float[]{1, 1}, SingleExpert.h1(SingleExpert.Variant.RENORMALISED, t), 1e-7f); // weight 1
        assertArrayEquals(new float[]{1, 0.6f}, SingleExpert.h1(SingleExpert.Variant.MIXTURE_WEIGHT, t), 1e-7f);
        assertEquals(cos(1, 0.5, 1.2, 0.8), SingleExpert.cosine(SingleExpert.Variant.RAW, t), 1e-6);
        assertEquals(cos(1, 1, 1.2, 0.8), SingleExpert.cosine(SingleExpert.Variant.RENORMALISED, t), 1e-6);
        assertEquals(cos(1, 0.6, 1.2, 0.8), SingleExpert.cosine(SingleExpert.Variant.MIXTURE_WEIGHT, t), 1e-6);
    }

    @Test
    void sharedExpertsJoinEveryCorrectedVariantButNotMoeInterps() {
        float[] s = {-3, 4};
        SingleExpert.Token t = token(s);
        assertArrayEquals(new float[]{-2, 4.5f}, SingleExpert.h1(SingleExpert.Variant.RAW, t), 1e-6f);
        assertEquals(cos(-2, 4.5, -1.8, 4.8), SingleExpert.cosine(SingleExpert.Variant.RAW, t), 1e-6);
        assertEquals(SingleExpert.cosine(SingleExpert.Variant.MOE_INTERP, token(null)),
                SingleExpert.cosine(SingleExpert.Variant.MOE_INTERP, t), 1e-12);
    }

    @Test
    void moeInterpCompatibleIsTheUnweightedExpertPlusTheNormalisedInputAgainstTheRenormalisedMixture() {
        SingleExpert.Token t = token(null);
        // E1 + x = (0, 3); (0.6 (E1 + x) + 0.2 (E2 + x)) / 0.8 = (0.6 (0, 3) + 0.2 (1, 3)) / 0.8 = (0.25, 3)
        assertEquals(cos(0, 3, 0.25, 3), SingleExpert.cosine(SingleExpert.Variant.MOE_INTERP, t), 1e-6);
        // it does not use u at all: a different residual leaves it unchanged
        SingleExpert.Token other = new SingleExpert.Token(X, new float[]{-7, 9}, HK, new float[][]{E1, E2},
                new float[]{0.6f, 0.2f}, 0.5, 1.0, null);
        assertEquals(SingleExpert.cosine(SingleExpert.Variant.MOE_INTERP, t),
                SingleExpert.cosine(SingleExpert.Variant.MOE_INTERP, other), 1e-12);
    }

    @Test
    void theRow0VariantIsMoeInterpOnAnotherTokensExpertOutputs() {
        float[][] row0 = {{2, 0}, E2};
        SingleExpert.Token t = new SingleExpert.Token(X, U, HK, new float[][]{E1, E2}, new float[]{0.6f, 0.2f}, 0.5,
                1.0, null, row0);
        // E1' + x = (2, 2); (0.6 (2, 2) + 0.2 (1, 3)) / 0.8 = (1.75, 2.25)
        assertEquals(cos(2, 2, 1.75, 2.25), SingleExpert.cosine(SingleExpert.Variant.MOE_INTERP_ROW0, t), 1e-6);
        assertTrue(Double.isNaN(SingleExpert.cosine(SingleExpert.Variant.MOE_INTERP_ROW0, token(null))));
    }

    @Test
    void expertOnlyComparesTheTopExpertWithTheRoutedMixtureWithoutResidual() {
        // 0.6 E1 + 0.2 E2 = (0.2, 0.8); E1 = (0, 1); shared experts and u play no part
        assertEquals(cos(0, 1, 0.2, 0.8), SingleExpert.cosine(SingleExpert.Variant.EXPERT_ONLY, token(null)), 1e-6);
        assertEquals(cos(0, 1, 0.2, 0.8), SingleExpert.cosine(SingleExpert.Variant.EXPERT_ONLY,
                token(new float[]{5, -5})), 1e-6);
    }

    @Test
    void eachRankedExpertAloneCarriesItsMixtureWeight() {
        SingleExpert.Token t = token(null);
        assertArrayEquals(SingleExpert.h1(SingleExpert.Variant.MIXTURE_WEIGHT, t), SingleExpert.ranked(t, 0));
        assertArrayEquals(new float[]{1.2f, 0.2f}, SingleExpert.ranked(t, 1), 1e-6f); // u + 0.2 E2
        assertArrayEquals(new float[]{-1.8f, 4.2f}, SingleExpert.ranked(token(new float[]{-3, 4}), 1), 1e-6f);
    }

    @Test
    void rawScoreIsNanWithoutARawVariantAndIsSkipped() {
        SingleExpert.Token t = new SingleExpert.Token(X, U, HK, new float[][]{E1, E2}, new float[]{0.75f, 0.25f},
                Double.NaN, 1.0, null);
        assertTrue(Double.isNaN(SingleExpert.cosine(SingleExpert.Variant.RAW, t)));
    }

    @Test
    void topWeightsFollowTheGating() {
        float[] logits = {2f, 0f, 1f, -1f};
        double z = Math.exp(2) + 1 + Math.exp(1) + Math.exp(-1);
        GatingConfig mixtral = GatingConfig.parse("mixtral", 4);
        GatingConfig olmoe = GatingConfig.parse("olmoe:k=2", 4);
        assertEquals(Math.exp(2) / z, SingleExpert.rawTopWeight(mixtral, logits, 0, 0), 1e-9);
        assertEquals(Math.exp(2) / z, SingleExpert.rawTopWeight(olmoe, logits, 0, 0), 1e-9);
        assertEquals(SingleExpert.Variant.RENORMALISED, SingleExpert.modelTop1(mixtral));
        assertEquals(SingleExpert.Variant.RAW, SingleExpert.modelTop1(olmoe));
        GatingConfig v3 = new GatingConfig(GatingScheme.SIGMOID_GROUPED, 4, 2, true, 1, 1, 2.5, null);
        assertEquals(2.5 / (1 + Math.exp(-2)), SingleExpert.rawTopWeight(v3, logits, 0, 0), 1e-9);
        assertEquals(2.5, SingleExpert.renormalisedTopWeight(v3), 1e-12);
        assertTrue(Double.isNaN(SingleExpert.rawTopWeight(GatingConfig.parse("gpt_oss:k=2", 4), logits, 0, 0)));
    }
}
