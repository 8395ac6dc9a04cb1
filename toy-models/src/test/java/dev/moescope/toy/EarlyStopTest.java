package dev.moescope.toy;

import dev.moescope.toy.model.Architecture;
import dev.moescope.toy.model.BiasInit;
import dev.moescope.toy.model.Importance;
import dev.moescope.toy.model.InstanceSpec;
import dev.moescope.toy.model.RouterInit;
import dev.moescope.toy.model.TrainingConfig;
import dev.moescope.toy.model.ToyWeights;
import dev.moescope.toy.train.BatchTrainer;
import dev.moescope.toy.train.TrainResult;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * The Fig 5 schedule in the authors' order ({@code other_optimize}): the step's update is applied at the current
 * rate before the loss is compared with the thresholds; the lower rate only applies from the next step, and the
 * stopping step's update is kept.
 */
class EarlyStopTest {

    private static final Architecture ARCH = new Architecture(2, 1, 3, 1);
    private static final InstanceSpec SPEC = new InstanceSpec(InstanceSpec.uniformDensity(2, 0.5),
            Importance.uniform(2), RouterInit.DIAGONAL, 11, "fig5-like");

    private static TrainResult train(int steps, TrainingConfig.EarlyStop early) {
        TrainingConfig cfg = TrainingConfig.paperDefaults().withBatch(100).withSteps(steps).withEarlyStop(early);
        ToyWeights w = ToyWeights.initialise(ARCH, new InstanceSpec[] {SPEC}, BiasInit.XAVIER);
        return new BatchTrainer(ARCH, cfg, 1).train(new InstanceSpec[] {SPEC}, w, "early stop");
    }

    @Test
    void theStoppingStepStillUpdatesAtTheUndecayedRate() {
        ToyWeights init = ToyWeights.initialise(ARCH, new InstanceSpec[] {SPEC}, BiasInit.XAVIER);
        TrainResult plain = train(1, null);
        // every loss is below both thresholds: decay after the update, then stop, after exactly one step
        TrainResult stopped = train(50, new TrainingConfig.EarlyStop(1e9, 1e9, 0.1));
        assertEquals(1, stopped.stepsRun()[0]);
        assertFalse(java.util.Arrays.equals(init.w, stopped.weights().w), "the stopping step's update is applied");
        assertArrayEquals(plain.weights().w, stopped.weights().w, "first update at the full learning rate");
        assertArrayEquals(plain.weights().b, stopped.weights().b);
    }

    @Test
    void aDecayAppliesFromTheNextStep() {
        // decay on every step, never stop: step 1 at lr, step 2 at lr·0.1, so after one step equal to plain training
        TrainResult plain = train(1, null);
        TrainResult decayedOne = train(1, new TrainingConfig.EarlyStop(1e-30, 1e9, 0.1));
        assertArrayEquals(plain.weights().w, decayedOne.weights().w);
        TrainResult plainTwo = train(2, null);
        TrainResult decayedTwo = train(2, new TrainingConfig.EarlyStop(1e-30, 1e9, 0.1));
        assertFalse(java.util.Arrays.equals(plainTwo.weights().w, decayedTwo.weights().w),
                "the second update uses the decayed rate");
    }
}
