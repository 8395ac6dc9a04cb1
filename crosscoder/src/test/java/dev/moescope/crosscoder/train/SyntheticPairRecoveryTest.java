package dev.moescope.crosscoder.train;

import ai.djl.engine.Engine;
import dev.moescope.core.djl.DjlRuntime;
import dev.moescope.crosscoder.data.SyntheticPairSource;
import dev.moescope.crosscoder.diff.LatentClass;
import dev.moescope.crosscoder.diff.RelativeNorms;
import dev.moescope.sae.dictionary.Parallel;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * On two synthetic sources with known shared and source-specific dictionaries, the crosscoder recovers every
 * ground-truth feature (a latent whose concatenated decoder has cosine ≥ 0.9 with the feature's concatenated true
 * directions) and the relative-norm rule classifies those latents into shared / A-specific / B-specific with at
 * least 90% accuracy; designated shared latents have r = 0.5 and decoder cosine 1 exactly.
 */
class SyntheticPairRecoveryTest {

    @Test
    void recoversAndClassifiesSharedAndSpecificFeatures() {
        Engine engine = DjlRuntime.pytorch(2);
        int d = 24;
        SyntheticPairSource source = new SyntheticPairSource(d, 10, 10, 10, 0.08, 7);
        int designated = 2;
        CrosscoderConfig config = CrosscoderConfig.defaults(40, 3, designated, 256, 4000, 11)
                .withLr(3e-3).withDeadTokens(256L * 50);
        try (Parallel par = new Parallel(2);
             Crosscoder cc = CrosscoderTraining.train(engine, source, config, par).model()) {
            float[] decA = cc.decoderRows(0);
            float[] decB = cc.decoderRows(1);
            double[] nA = RelativeNorms.rowNorms(decA, cc.latents(), d);
            double[] nB = RelativeNorms.rowNorms(decB, cc.latents(), d);
            for (int i = 0; i < designated; i++) {
                assertEquals(0.5, RelativeNorms.relativeNorm(nA[i], nB[i]), 0.0, "designated latent " + i + " r");
                for (int j = 0; j < d; j++) {
                    assertEquals(decA[i * d + j], decB[i * d + j], 0.0, "designated latent " + i + " tied");
                }
                assertEquals(1.0, RelativeNorms.cosine(decA, i * d, decB, i * d, d), 1e-12);
            }
            RelativeNorms rules = RelativeNorms.defaults();
            int recovered = 0;
            int correct = 0;
            for (int t = 0; t < source.features(); t++) {
                float[] ta = source.direction(0, t);
                float[] tb = source.direction(1, t);
                int best = -1;
                double bestCos = -2;
                for (int i = designated; i < cc.latents(); i++) {
                    double c = concatCosine(ta, tb, decA, decB, i, d);
                    if (c > bestCos) {
                        bestCos = c;
                        best = i;
                    }
                }
            if (bestCos < 0.9) {
                    continue;
                }
                recovered++;
                LatentClass cls = rules.classify(RelativeNorms.relativeNorm(nA[best], nB[best]), false);
                LatentClass expected = switch (source.truth(t)) {
                    case SHARED -> LatentClass.SHARED;
                    case ONLY_A -> LatentClass.A_SPECIFIC;
                    case ONLY_B -> LatentClass.B_SPECIFIC;
                };
                if (cls == expected) {
                    correct++;
                }
            }
            // designated latents may absorb up to two shared features; those are then not matched above
            assertTrue(recovered >= source.features() - designated - 1,
                    "recovered " + recovered + " of " + source.features());
            double accuracy = (double) correct / source.features();
            assertTrue(accuracy >= 0.9, "classification accuracy " + accuracy + " (recovered " + recovered + ")");
        }
    }

    private static double concatCosine(float[] ta, float[] tb, float[] decA, float[] decB, int i, int d) {
        double dot = 0;
        double nt = 0;
        double nl = 0;
        for (int j = 0; j < d; j++) {
            dot += (double) ta[j] * decA[i * d + j] + (double) tb[j] * decB[i * d + j];
            nt += (double) ta[j] * ta[j] + (double) tb[j] * tb[j];
            nl += (double) decA[i * d + j] * decA[i * d + j] + (double) decB[i * d + j] * decB[i * d + j];
        }
        return nt == 0 || nl == 0 ? 0 : dot / Math.sqrt(nt * nl);
    }
}
