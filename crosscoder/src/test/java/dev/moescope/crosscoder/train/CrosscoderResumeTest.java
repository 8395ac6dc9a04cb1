package dev.moescope.crosscoder.train;

import ai.djl.engine.Engine;
import dev.moescope.core.djl.DjlRuntime;
import dev.moescope.core.error.ExitCode;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.crosscoder.data.SyntheticPairSource;
import dev.moescope.sae.dictionary.Parallel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A crosscoder run stopped at a checkpoint and resumed takes exactly the same next steps as an uninterrupted run:
 * same losses, same final weights bit for bit. AuxK, the threshold EMA, the LR warm-up, gradient clipping, the L1
 * term and shared-latent tying are all live in the resumed window, so their state is covered too.
 */
class CrosscoderResumeTest {

    @Test
    void resumedRunMatchesUninterruptedRun(@TempDir Path dir) {
        Engine engine = DjlRuntime.pytorch(2);
        SyntheticPairSource src = new SyntheticPairSource(12, 4, 4, 4, 0.1, 5);
        CrosscoderConfig cfg = CrosscoderConfig.defaults(40, 3, 2, 64, 16, 9).withLr(3e-3).withDeadTokens(128)
                .withThreshold(0.9, 4).withGradClip(0.5);
        List<Crosscoder.StepStats> straight = new ArrayList<>();
        List<float[]> straightParams = new ArrayList<>();
        try (Parallel par = new Parallel(2)) {
            CrosscoderTraining t = CrosscoderTraining.start(engine, src, cfg, par);
            try (Crosscoder cc = t.model()) {
                for (int i = 0; i < 16; i++) {
                    straight.add(t.step());
                }
                for (String p : cc.parameterNames()) {
                    straightParams.add(cc.read(p));
                }
            }
            Path ckpt = dir.resolve(CrosscoderCheckpoint.FILE);
            t = CrosscoderTraining.start(engine, src, cfg, par);
            try (Crosscoder cc = t.model()) {
                for (int i = 0; i < 8; i++) {
                    t.step();
                }
                t.checkpoint(ckpt);
            }
            t = CrosscoderTraining.resume(engine, src, cfg, ckpt, par);
            try (Crosscoder cc = t.model()) {
                assertEquals(8, t.stepsDone());
                boolean sawAux = false;
                boolean sawClip = false;
                for (int i = 8; i < 16; i++) {
                    Crosscoder.StepStats s = t.step();
                    Crosscoder.StepStats want = straight.get(i);
                    assertEquals(want.loss(), s.loss(), 0.0, "loss at step " + (i + 1));
                    assertArrayEquals(want.reconstruction(), s.reconstruction(), 0.0);
                    assertEquals(want.auxk(), s.auxk(), 0.0);
                    assertEquals(want.sparsity(), s.sparsity(), 0.0);
                    assertEquals(want.gradNorm(), s.gradNorm(), 0.0);
                    assertEquals(want.lr(), s.lr(), 0.0);
                    sawAux |= s.auxk() > 0;
                    sawClip |= s.gradNorm() > 0.5;
                }
                assertTrue(sawAux, "AuxK active in the resumed window");
                assertTrue(sawClip, "clipping active in the resumed window");
                assertTrue(cc.threshold() > 0, "threshold tracked in the resumed window");
                int p = 0;
                for (String name : cc.parameterNames()) {
                    assertArrayEquals(straightParams.get(p++), cc.read(name), name);
                }
            }
            // a checkpoint of another shape is refused with a usage error naming the options
            MoescopeException e = assertThrows(MoescopeException.class, () -> CrosscoderTraining.resume(engine, src,
                    CrosscoderConfig.defaults(48, 3, 2, 64, 16, 9), ckpt, par));
            assertEquals(ExitCode.USAGE, e.exitCode());
            assertTrue(e.getMessage().contains("--latents 40"), e.getMessage());
        }
    }
}
