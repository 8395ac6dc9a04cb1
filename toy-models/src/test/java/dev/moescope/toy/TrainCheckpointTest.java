package dev.moescope.toy;

import dev.moescope.core.provenance.Provenance;
import dev.moescope.toy.experiments.ExperimentContext;
import dev.moescope.toy.io.TrainCheckpoint;
import dev.moescope.toy.model.Architecture;
import dev.moescope.toy.model.Importance;
import dev.moescope.toy.model.InstanceSpec;
import dev.moescope.toy.model.RouterInit;
import dev.moescope.toy.model.TrainingConfig;
import dev.moescope.toy.train.TrainResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A resumable run keeps each finished training batch and loads it instead of retraining, exactly, and only for
 * the very training it recorded.
 */
class TrainCheckpointTest {

    private static final Architecture ARCH = new Architecture(6, 2, 3, 2);

    private static InstanceSpec[] specs(long seed) {
        return new InstanceSpec[] {
            new InstanceSpec(InstanceSpec.uniformDensity(6, 0.4), Importance.uniform(6), RouterInit.XAVIER, seed, "a"),
            new InstanceSpec(InstanceSpec.uniformDensity(6, 0.2), Importance.geometric(6, 0.8), RouterInit.XAVIER,
                    seed + 1, "b")};
    }

    private static ExperimentContext context(Path dir) {
        return new ExperimentContext(dir, true, 0, 1, Provenance.start("test").build(), 0, 0, List.of(), null, null,
                true);
    }

    @Test
    void aFinishedBatchIsLoadedBitForBitAndOnlyForTheSameTraining(@TempDir Path dir) throws Exception {
        TrainingConfig config = TrainingConfig.paperDefaults().withSteps(200).withBatch(64);
        ExperimentContext ctx = context(dir);
        TrainResult first = ctx.train(ARCH, config, specs(5), "family x");
        Path checkpoints = dir.resolve(ExperimentContext.CHECKPOINTS);
        Path[] files;
        try (var list = Files.list(checkpoints)) {
            files = list.toArray(Path[]::new);
        }
        assertEquals(1, files.length, Arrays.toString(files));
        assertTrue(files[0].getFileName().toString().startsWith("family_x-"), files[0].toString());

        // the same training again: loaded, every loss bit-exact and the weights identical
        TrainResult again = ctx.train(ARCH, config, specs(5), "family x");
        assertArrayEquals(first.weights().w, again.weights().w);
        assertArrayEquals(first.weights().gate, again.weights().gate);
        assertArrayEquals(first.heldOutLoss(), again.heldOutLoss());
        assertArrayEquals(first.lastRecon(), again.lastRecon());
        assertArrayEquals(first.stepsRun(), again.stepsRun());
        assertArrayEquals(first.lossLog()[1], again.lossLog()[1]);
        assertEquals(first.seconds(), again.seconds());

        // proof that it was loaded, not retrained: a marked checkpoint under the same key comes back marked
        String key = TrainCheckpoint.key(ARCH, config.withBiasInit(config.biasInit()), specs(5),
                ctx.provenance().version() + " " + ctx.provenance().gitCommit());
        float[] marked = new float[first.weights().w.length];
        Arrays.fill(marked, 7f);
        System.arraycopy(marked, 0, first.weights().w, 0, marked.length);
        TrainCheckpoint.save(files[0], first, key);
        assertEquals(7f, ctx.train(ARCH, config, specs(5), "family x").weights().w[0]);

        // another seed or step count is another training: trained afresh, beside the kept one
        assertFalse(ctx.train(ARCH, config, specs(6), "family x").weights().w[0] == 7f);
        assertFalse(ctx.train(ARCH, config.withSteps(150), specs(5), "family x").weights().w[0] == 7f);
        try (var list = Files.list(checkpoints)) {
            assertEquals(3, list.count());
        }

        // a truncated checkpoint (a crash mid-write cannot leave one, but a disk can) is trained again
        Files.write(files[0], new byte[] {1, 2, 3});
        assertFalse(ctx.train(ARCH, config, specs(5), "family x").weights().w[0] == 7f);
    }
}
