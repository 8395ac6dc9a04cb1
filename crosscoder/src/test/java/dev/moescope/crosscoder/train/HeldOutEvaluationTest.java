package dev.moescope.crosscoder.train;

import ai.djl.engine.Engine;
import dev.moescope.core.djl.DjlRuntime;
import dev.moescope.crosscoder.data.PairedSource;
import dev.moescope.crosscoder.data.SyntheticPairSource;
import dev.moescope.sae.dictionary.Parallel;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Held-out FVE: on a synthetic held-out draw, an untrained crosscoder explains little variance and a trained one
 * most of it, per source and pooled (the pooled figure lies between the per-source ones), with both the batch top-k
 * and the inference-threshold encodings; their L0 is near k; a source without held-out rows
 * reports zero tokens.
 */
class HeldOutEvaluationTest {

    @Test
    void trainedCrosscoderExplainsHeldOutVariance() {
        Engine engine = DjlRuntime.pytorch(2);
        SyntheticPairSource src = new SyntheticPairSource(16, 6, 6, 6, 0.1, 4);
        CrosscoderConfig cfg = CrosscoderConfig.defaults(48, 3, 2, 128, 1200, 6).withLr(3e-3)
                .withDeadTokens(128L * 50).withThreshold(0.99, 300);
        try (Parallel par = new Parallel(2)) {
            CrosscoderTraining t = CrosscoderTraining.start(engine, src, cfg, par);
            try (Crosscoder cc = t.model()) {
                HeldOutEvaluation.Report before = t.evaluate(1024);
                assertEquals(1024, before.tokens());
                assertNull(before.threshold(), "no threshold before training");
                while (t.stepsDone() < cfg.steps()) {
                    t.step();
                }
                HeldOutEvaluation.Report after = t.evaluate(1024);
                assertEquals(1024, after.tokens());
                for (HeldOutEvaluation.Fve f : new HeldOutEvaluation.Fve[]{after.topK(), after.threshold()}) {
                    assertEquals(2, f.perSource().length);
                    assertTrue(f.pooled() > 0.8, "trained pooled FVE " + f.pooled());
                    double lo = Math.min(f.perSource()[0], f.perSource()[1]);
                    double hi = Math.max(f.perSource()[0], f.perSource()[1]);
                    assertTrue(f.pooled() >= lo - 1e-9 && f.pooled() <= hi + 1e-9, "pooled between per-source");
                }
                assertTrue(after.topK().pooled() > before.topK().pooled() + 0.3,
                        "before " + before.topK().pooled() + " after " + after.topK().pooled());
                // batch top-k keeps k per token on average when enough pre-activations are positive, fewer otherwise
                assertTrue(after.topK().l0() <= 3 + 1e-9 && after.topK().l0() > 1.5, "top-k L0 " + after.topK().l0());
                double l0 = after.threshold().l0();
                assertTrue(l0 > 1.5 && l0 < 6, "threshold L0 " + l0);
            }
        }
    }

    @Test
    void aSourceWithoutHeldOutRowsReportsNone() {
        Engine engine = DjlRuntime.pytorch(2);
        SyntheticPairSource synth = new SyntheticPairSource(8, 2, 2, 2, 0.2, 1);
        PairedSource noHeldOut = new PairedSource() {
            @Override
            public int[] widths() {
                return synth.widths();
            }

            @Override
            public List<String> names() {
                return synth.names();
            }

            @Override
            public Map<String, String> describe() {
                return synth.describe();
            }

            @Override
            public float[][] trainBatch(long index, int rows) {
                return synth.trainBatch(index, rows);
            }
        };
        try (Parallel par = new Parallel(1)) {
            CrosscoderTraining t = CrosscoderTraining.start(engine, noHeldOut,
                    CrosscoderConfig.defaults(16, 2, 0, 32, 2, 1), par);
            try (Crosscoder cc = t.model()) {
                t.step();
                HeldOutEvaluation.Report r = t.evaluate(1000);
                assertEquals(0, r.tokens());
                assertNull(r.topK());
            }
        }
    }
}
