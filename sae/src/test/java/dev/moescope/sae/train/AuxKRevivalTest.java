package dev.moescope.sae.train;

import ai.djl.engine.Engine;
import dev.moescope.core.djl.DjlRuntime;
import dev.moescope.sae.data.SyntheticSource;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * AuxK brings back latents that were killed on purpose (encoder rows shrunk to 3% so they never make the batch top-k; few other latents are dead):
 * with AuxK most of them fire again within 2800 steps; with AuxK off (α = 0) the same latents stay dead.
 */
@Tag("slow")
class AuxKRevivalTest {

    @Test
    void auxKRevivesLatentsMadeDeadOnPurpose(@TempDir Path dir) {
        Engine engine = DjlRuntime.pytorch(2);
        SyntheticSource src = new SyntheticSource(new SyntheticSource.Spec(32, 48, 3, 0.01, 256, 4));
        int latents = 48;
        int batch = 256;
        long deadTokens = 5L * batch;
        SaeConfig base = SaeConfig.defaults(latents, 3, batch, 3000).withLr(1e-3).withSchedule(20, 1000)
                .withDeadTokens(deadTokens, 1.0 / 32);
        Path ckpt = dir.resolve(Checkpoint.FILE);
        int[] killed = new int[12];
        for (int i = 0; i < killed.length; i++) {
            killed[i] = 4 * i;
        }
        try (SaeTraining t = SaeTraining.start(engine, src, base, 2, 2)) {
            StepStats last = null;
            for (int i = 0; i < 200; i++) {
                last = t.step();
            }
            assertTrue(last.deadFraction() < 0.1, "few latents dead before the kill: " + last.deadFraction());
            float[] enc = t.model().read(SaeModel.ENCODER);
            float[] encB = t.model().read(SaeModel.ENCODER_BIAS);
            for (int i : killed) {
                for (int j = 0; j < 32; j++) {
                    enc[i * 32 + j] *= 0.03f;
                }
                encB[i] = -0.2f;
            }
            t.model().write(SaeModel.ENCODER, enc);
            t.model().write(SaeModel.ENCODER_BIAS, encB);
            t.checkpoint(ckpt);
        }
        SaeConfig revive = base.withLr(3e-3);
        double withAux = aliveAfter(engine, src, revive, ckpt, killed);
        double without = aliveAfter(engine, src, revive.withDeadTokens(deadTokens, 0), ckpt, killed);
        System.out.printf("killed latents firing again: with AuxK %.2f, without %.2f%n", withAux, without);
        // AuxK is the only source of gradient for a latent that never makes the top-k: without it none return
        assertEquals(0.0, without, "without AuxK " + without + " came back");
        assertTrue(withAux >= 0.5, "AuxK revived only " + withAux);
    }

    /** Fraction of {@code killed} that fired in the last 20 of the steps up to 3000. */
    private static double aliveAfter(Engine engine, SyntheticSource src, SaeConfig cfg, Path ckpt, int[] killed) {
        try (SaeTraining t = SaeTraining.resume(engine, src, cfg, ckpt, 2)) {
            while (t.stepsDone() < 3000) {
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
