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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Over a whole training run: top-1 without LB leaves the router frozen up to weight decay; LB moves it. */
class RouterGradientTrainingTest {

    private static TrainResult train(double lb, InstanceSpec spec, ToyWeights start, int steps) {
        Architecture arch = new Architecture(20, 5, 4, 1);
        TrainingConfig cfg = TrainingConfig.paperDefaults().withSteps(steps).withBatch(256).withLoadBalancing(lb);
        return new BatchTrainer(arch, cfg, 1).train(new InstanceSpec[] {spec}, start, "router");
    }

    @Test
    void topOneRouterOnlyShrinksByWeightDecayUnlessLoadBalancingIsOn() {
        Architecture arch = new Architecture(20, 5, 4, 1);
        InstanceSpec spec = new InstanceSpec(InstanceSpec.uniformDensity(20, 0.1), Importance.geometric(20, 0.7),
                RouterInit.XAVIER, 3, "r");
        int steps = 1500;
        ToyWeights a = ToyWeights.initialise(arch, new InstanceSpec[] {spec}, BiasInit.XAVIER);
        float[] before = a.gate.clone();
        TrainResult off = train(0, spec, a, steps);
        // exactly what AdamW's decoupled decay does in float32 when the gradient is exactly zero
        float decay = (float) (1 - 1e-3 * 0.01);
        float[] expected = before.clone();
        for (int s = 0; s < steps; s++) {
            for (int j = 0; j < expected.length; j++) {
                expected[j] *= decay;
            }
        }
        for (int j = 0; j < before.length; j++) {
            assertEquals(expected[j], off.weights().gate[j], "router entry " + j + " moved beyond weight decay");
        }
        double shrink = Math.pow(1 - 1e-3 * 0.01, steps);

        ToyWeights b = ToyWeights.initialise(arch, new InstanceSpec[] {spec}, BiasInit.XAVIER);
        TrainResult on = train(0.01, spec, b, steps);
        double moved = 0;
        for (int j = 0; j < before.length; j++) {
            moved = Math.max(moved, Math.abs(on.weights().gate[j] - before[j] * shrink));
        }
        assertTrue(moved > 1e-3, "load balancing should move the router, moved " + moved);
        assertEquals(off.weights().w.length, on.weights().w.length);
    }
}
