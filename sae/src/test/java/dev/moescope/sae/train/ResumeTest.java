package dev.moescope.sae.train;

import ai.djl.engine.Engine;
import dev.moescope.core.djl.DjlRuntime;
import dev.moescope.sae.data.SyntheticSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A run stopped at a checkpoint and resumed takes exactly the same next steps as an uninterrupted run: same
 * losses, same parameters bit for bit. AuxK, the threshold EMA and the LR warm-up are all live in the window, so
 * their state is covered too.
 */
class ResumeTest {

    private static final String[] PARAMS = {SaeModel.ENCODER, SaeModel.ENCODER_BIAS, SaeModel.DECODER,
            SaeModel.DECODER_BIAS};

    @Test
    void resumedRunMatchesUninterruptedRun(@TempDir Path dir) {
        Engine engine = DjlRuntime.pytorch(2);
        SyntheticSource src = new SyntheticSource(new SyntheticSource.Spec(16, 40, 3, 0.05, 256, 9));
        SaeConfig cfg = SaeConfig.defaults(64, 4, 64, 16).withLr(2e-3).withSchedule(10, 3).withDeadTokens(64, 0.5);
        List<StepStats> straight = new ArrayList<>();
        float[][] straightParams = new float[4][];
        try (SaeTraining t = SaeTraining.start(engine, src, cfg, 3, 2)) {
            for (int i = 0; i < 16; i++) {
                straight.add(t.step());
            }
            for (int p = 0; p < 4; p++) {
                straightParams[p] = t.model().read(PARAMS[p]);
            }
        }
        Path ckpt = dir.resolve(Checkpoint.FILE);
        try (SaeTraining t = SaeTraining.start(engine, src, cfg, 3, 2)) {
            for (int i = 0; i < 8; i++) {
                t.step();
            }
            t.checkpoint(ckpt);
        }
        try (SaeTraining t = SaeTraining.resume(engine, src, cfg, ckpt, 2)) {
            assertEquals(8, t.stepsDone());
            boolean sawAux = false;
            for (int i = 8; i < 16; i++) {
                StepStats s = t.step();
                assertEquals(straight.get(i), s, "step " + (i + 1));
                sawAux |= s.auxk() > 0;
            }
            assertTrue(sawAux, "AuxK was active in the resumed window");
            assertTrue(t.threshold().isSet(), "threshold tracked in the resumed window");
            for (int p = 0; p < 4; p++) {
                assertArrayEquals(straightParams[p], t.model().read(PARAMS[p]), PARAMS[p]);
            }
        }
    }
}
