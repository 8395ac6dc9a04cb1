package dev.moescope.crosscoder.train;

import ai.djl.engine.Engine;
import dev.moescope.core.djl.DjlRuntime;
import dev.moescope.core.error.ExitCode;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.crosscoder.data.SyntheticPairSource;
import dev.moescope.sae.dictionary.Parallel;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Properties of one crosscoder and its step that do not need a long training run. */
class CrosscoderStepTest {

    @Test
    void stepSelectsExactlyKPerTokenAndWeightsByDecoderNorms() {
        Engine engine = DjlRuntime.pytorch(2);
        SyntheticPairSource src = new SyntheticPairSource(16, 4, 4, 4, 0.2, 3);
        CrosscoderConfig config = CrosscoderConfig.defaults(24, 3, 2, 128, 10, 5);
        try (Parallel par = new Parallel(2); Crosscoder cc = Crosscoder.initialise(engine, config, src.widths(), par)) {
            float[] w = cc.selectionWeights();
            for (float v : w) {
                assertEquals(2f, v, 1e-5f); // unit decoder rows in both sources at init: Σ_s ‖d^s‖ = 2
            }
            Crosscoder.StepStats s = cc.step(src.trainBatch(0, 128), 128);
            assertEquals(3.0, s.l0(), 1e-12); // BatchTopK: exactly k·B winners
            assertEquals(2, s.reconstruction().length);
            assertTrue(Double.isFinite(s.loss()) && s.loss() > 0);
            // after a step the weights are the updated decoder norms, still one per latent
            float[] after = cc.selectionWeights();
            boolean changed = false;
            for (int i = 0; i < after.length; i++) {
                changed |= Math.abs(after[i] - 2f) > 1e-6f;
            }
            assertTrue(changed);
        }
    }

    @Test
    void sharedLatentsNeedEqualWidthsAndAtMostF() {
        Engine engine = DjlRuntime.pytorch(2);
        CrosscoderConfig config = CrosscoderConfig.defaults(24, 3, 2, 128, 10, 5);
        try (Parallel par = new Parallel(1)) {
            MoescopeException e = assertThrows(MoescopeException.class,
                    () -> Crosscoder.initialise(engine, config, new int[]{16, 12}, par));
            assertEquals(ExitCode.BAD_INPUT, e.exitCode());
        }
        MoescopeException e = assertThrows(MoescopeException.class,
                () -> CrosscoderConfig.defaults(24, 3, 25, 128, 10, 5));
        assertEquals(ExitCode.USAGE, e.exitCode());
    }
}
