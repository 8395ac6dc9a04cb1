package dev.moescope.sae.train;

import ai.djl.engine.Engine;
import dev.moescope.core.djl.DjlRuntime;
import dev.moescope.sae.data.SyntheticSource;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * AuxK brings back latents that were killed on purpose (encoder rows shrunk so they never make the batch top-k):
 * with AuxK they fire again within a few hundred steps; with AuxK off (α = 0) the same latents stay dead.
 */
@Tag("slow")
class AuxKRevivalTest {

    @Test
    void auxKRevivesLatentsMadeDeadOnPurpose(@TempDir Path dir) {
        Engine engine = DjlRuntime.pytorch(2);
        SyntheticSource src = new SyntheticSource(new SyntheticSource.Spec(32, 48, 3, 0.01, 256, 4));
        int latents = 96;
        int batch = 256;
        long deadTokens = 5L * batch;
        SaeConfig base = SaeConfig.defaults(latents, 3, batch, 500).withLr(1e-3).withSchedule(20, 1000)
                .withDeadTokens(deadTokens, 1.0 / 32);
        Path ckpt = dir.resolve(Checkpoint.FILE);
        int[] killed = new int[24];
        for (int i = 0; i < killed.length; i++) {
            killed[i] = 4 * i;
        }
        try (SaeTraining t = SaeTraining.start(engine, src, base, 2, 2)) {
            for (int i = 0; i < 100; i++) {
                t.step();
            }
            float[] enc = t.model().read(SaeModel.ENCODER);
            float[] encB = t.model().read(SaeModel.ENCODER_BIAS);
            for (int i : killed) {
                for (int j = 0; j < 32; j++) {
                    enc[i * 32 + j] *= 0.01f;
                }
                encB[i] = 0;
            }
            t.model().write(SaeModel.ENCODER, enc);
            t.model().write(SaeModel.ENCODER_BIAS, encB);
            t.checkpoint(ckpt);
        }
        double withAux = aliveAfter(engine, src, base, ckpt, killed);
        double without = aliveAfter(engine, src, base.withDeadTokens(deadTokens, 0), ckpt, killed);
        System.out.printf("killed latents firing again: with AuxK %.2f, without %.2f%n", withAux, without);
        assertTrue(withAux >= 0.5, "AuxK revived only " + withAux);
        assertTrue(without <= 0.1, "without AuxK " + without + " came back");
    }

    /** Fraction of {@code killed} that fired in the last 20 of 400 further steps. */
    private static double aliveAfter(Engine engine, SyntheticSource src, SaeConfig cfg, Path ckpt, int[] killed) {
        try (SaeTraining t = SaeTraining.resume(engine, src, cfg, ckpt, 2)) {
            while (t.stepsDone() < 500) {
                t.step();
            }
            long[] since = t.dead().state();
            int alive = 0;
            for (int i : killed) {
                if (since[i] < 20L * cfg.batchSize()) {
                    alive++;
                }
            }
            return (double) alive / killed.length;
        }
    }
}
