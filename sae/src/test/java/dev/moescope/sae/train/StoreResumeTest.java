package dev.moescope.sae.train;

import ai.djl.engine.Engine;
import dev.moescope.core.djl.DjlRuntime;
import dev.moescope.core.error.ExitCode;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.sae.data.GroundTruthStores;
import dev.moescope.sae.data.StoreSource;
import dev.moescope.sae.data.SyntheticSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Resume through the store path is exact: a run checkpointed mid-epoch and resumed on a freshly opened
 * {@link StoreSource} takes the same steps as an uninterrupted one (bit for bit), across an epoch boundary. A
 * checkpoint resumed on a hook of another width is refused with exit 3 and left intact.
 */
class StoreResumeTest {

    private static final String[] PARAMS = {SaeModel.ENCODER, SaeModel.ENCODER_BIAS, SaeModel.DECODER,
            SaeModel.DECODER_BIAS};

    @Test
    void resumedRunOnAFreshStoreSourceMatchesUninterruptedRun(@TempDir Path dir) throws Exception {
        Engine engine = DjlRuntime.pytorch(2);
        Path store = dir.resolve("store");
        GroundTruthStores.write(store, new SyntheticSource(new SyntheticSource.Spec(16, 40, 3, 0.05, 64, 9)),
                40, 32, 150, -1);
        StoreSource.Spec spec = new StoreSource.Spec(store, GroundTruthStores.HOOK, 3, 0.1, 4);
        SaeConfig cfg = SaeConfig.defaults(64, 4, 64, 24).withLr(2e-3).withSchedule(10, 3).withDeadTokens(64, 0.5);
        List<StepStats> straight = new ArrayList<>();
        float[][] straightParams = new float[4][];
        long perEpoch;
        try (StoreSource src = new StoreSource(spec); SaeTraining t = SaeTraining.start(engine, src, cfg, 3, 2)) {
            perEpoch = src.trainRows() / 64;
            for (int i = 0; i < 24; i++) {
                straight.add(t.step());
            }
            for (int p = 0; p < 4; p++) {
                straightParams[p] = t.model().read(PARAMS[p]);
            }
        }
        assertTrue(perEpoch > 11 && perEpoch < 24, "the resumed window crosses an epoch boundary: " + perEpoch);
        Path ckpt = dir.resolve(Checkpoint.FILE);
        try (StoreSource src = new StoreSource(spec); SaeTraining t = SaeTraining.start(engine, src, cfg, 3, 2)) {
            for (int i = 0; i < 11; i++) {
                t.step();
            }
            t.checkpoint(ckpt);
        }
        try (StoreSource src = new StoreSource(spec); SaeTraining t = SaeTraining.resume(engine, src, cfg, ckpt, 2)) {
            assertEquals(11, t.stepsDone());
            for (int i = 11; i < 24; i++) {
                assertEquals(straight.get(i), t.step(), "step " + (i + 1));
            }
            for (int p = 0; p < 4; p++) {
                assertArrayEquals(straightParams[p], t.model().read(PARAMS[p]), PARAMS[p]);
            }
        }
        // a store whose hook has another width: exit 3, checkpoint untouched
        Path other = dir.resolve("other");
        GroundTruthStores.write(other, new SyntheticSource(new SyntheticSource.Spec(12, 40, 3, 0.05, 64, 9)),
                10, 32, 150, -1);
        byte[] before = Files.readAllBytes(ckpt);
        try (StoreSource src = new StoreSource(new StoreSource.Spec(other, GroundTruthStores.HOOK, 3, 0.1, 4))) {
            MoescopeException e = assertThrows(MoescopeException.class,
                    () -> SaeTraining.resume(engine, src, cfg, ckpt, 2));
            assertEquals(ExitCode.BAD_INPUT, e.exitCode());
            assertTrue(e.getMessage().contains("width mismatch"), e.getMessage());
        }
        assertArrayEquals(before, Files.readAllBytes(ckpt));
    }
}
