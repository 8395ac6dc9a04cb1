package dev.moescope.toy;

import dev.moescope.toy.model.Architecture;
import dev.moescope.toy.model.BiasInit;
import dev.moescope.toy.model.Importance;
import dev.moescope.toy.model.InstanceSpec;
import dev.moescope.toy.model.LossReduction;
import dev.moescope.toy.model.RouterGradient;
import dev.moescope.toy.model.RouterInit;
import dev.moescope.toy.model.TrainingConfig;
import dev.moescope.toy.model.ToyWeights;
import dev.moescope.toy.train.BatchTrainer;
import dev.moescope.toy.train.TrainResult;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The top-1 router under PyTorch's float32 autograd (RouterGradient.PYTORCH_FLOAT32) against the exact gradient.
 * Measured with torch 1.13 on the Fig 5 model (n=2, m=1, k=1, p=0.5, batch 100, zero router, Xavier W and b, 3000
 * steps, four seeds each, bench/toy/reference.py): with E = 3 the router drifts off zero to max|g| = 4.4e-3 and
 * routes 95–100% of [0,1]² to one expert, not always expert 0; with E = 2 and E = 4 it stays exactly zero (1/p is
 * exact). The emulation must show the same: drift of that order for E = 3, none for E = 2 or 4, and the exact mode
 * none at all.
 */
class RouterRoundoffTest {

    private static float maxAbsRouter(int experts, RouterGradient mode, boolean batchMajor) {
        // n=2, m=1 runs the batch-major kernel; n=20, m=5 the per-sample one
        int n = batchMajor ? 2 : 20;
        int m = batchMajor ? 1 : 5;
        Architecture arch = new Architecture(n, m, experts, 1);
        InstanceSpec[] specs = new InstanceSpec[4];
        for (int r = 0; r < specs.length; r++) {
            specs[r] = new InstanceSpec(InstanceSpec.uniformDensity(n, batchMajor ? 0.5 : 0.1),
                    Importance.uniform(n), RouterInit.ZERO, 100 + r, "seed " + r);
        }
        TrainingConfig cfg = TrainingConfig.paperDefaults().withReduction(LossReduction.SUM_FEATURES).withBatch(100)
                .withSteps(batchMajor ? 3000 : 1500).withRouterGradient(mode);
        TrainResult res = new BatchTrainer(arch, cfg, 2).train(specs,
                ToyWeights.initialise(arch, specs, BiasInit.XAVIER), "router round-off");
        float max = 0f;
        for (float g : res.weights().gate) {
            max = Math.max(max, Math.abs(g));
        }
        return max;
    }

    @Test
    void aZeroThreeExpertRouterDriftsLikePyTorchWhileTwoAndFourStayAtZero() {
        float three = maxAbsRouter(3, RouterGradient.PYTORCH_FLOAT32, true);
        assertTrue(three > 4.4e-4 && three < 4.4e-2, "E=3 drift " + three + " (PyTorch: 4.4e-3)");
        assertEquals(0f, maxAbsRouter(2, RouterGradient.PYTORCH_FLOAT32, true));
        assertEquals(0f, maxAbsRouter(4, RouterGradient.PYTORCH_FLOAT32, true));
        assertEquals(0f, maxAbsRouter(3, RouterGradient.EXACT, true), "the exact gradient never moves it");
    }

    @Test
    void thePerSampleKernelCarriesTheSameResidue() {
        float three = maxAbsRouter(3, RouterGradient.PYTORCH_FLOAT32, false);
        assertTrue(three > 1e-5, "E=3 drift " + three);
        assertEquals(0f, maxAbsRouter(4, RouterGradient.PYTORCH_FLOAT32, false));
        assertEquals(0f, maxAbsRouter(3, RouterGradient.EXACT, false));
    }
}
