package dev.moescope.toy;

import dev.moescope.core.error.ExitCode;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.toy.model.Architecture;
import dev.moescope.toy.model.Importance;
import dev.moescope.toy.model.InstanceSpec;
import dev.moescope.toy.model.RouterInit;
import dev.moescope.toy.model.TrainingConfig;
import dev.moescope.toy.train.BatchTrainer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Invalid shapes and settings are one-line usage errors; a diverging run names the instance and step. */
class BadInputTest {

    @Test
    void invalidShapesAreUsageErrors() {
        MoescopeException k = assertThrows(MoescopeException.class, () -> new Architecture(5, 2, 2, 3));
        assertEquals(ExitCode.USAGE, k.exitCode());
        assertTrue(k.getMessage().contains("active experts (k)"), k.getMessage());
        assertEquals(ExitCode.USAGE, assertThrows(MoescopeException.class,
                () -> new Architecture(5, 0, 1, 1)).exitCode());
        MoescopeException s = assertThrows(MoescopeException.class, () -> new InstanceSpec(
                InstanceSpec.uniformDensity(3, 0.0), Importance.uniform(3), RouterInit.ZERO, 0, "x"));
        assertTrue(s.getMessage().startsWith("sparsity S must be in [0, 1)"), s.getMessage());
        MoescopeException init = assertThrows(MoescopeException.class, () -> RouterInit.parse("gaussian"));
        assertEquals(ExitCode.USAGE, init.exitCode());
        assertEquals(RouterInit.RANDOM_K_HOT, RouterInit.parse("random-k-hot"));
    }

    @Test
    void divergenceNamesInstanceAndStep() {
        // an absurd learning rate: weights reach ~1e30 after one AdamW step, so W·Wᵀx overflows float32
        Architecture arch = Architecture.dense(5, 2);
        InstanceSpec spec = new InstanceSpec(InstanceSpec.uniformDensity(5, 0.5), Importance.uniform(5),
                RouterInit.ZERO, 2, "huge lr");
        TrainingConfig cfg = new TrainingConfig(64, 50, 1e30, 0.01, dev.moescope.toy.model.LossReduction.MEAN_FEATURES,
                dev.moescope.toy.model.BiasInit.XAVIER, 0, null, 16, 10);
        MoescopeException e = assertThrows(MoescopeException.class,
                () -> new BatchTrainer(arch, cfg, 1).train(new InstanceSpec[] {spec}, "nan"));
        assertEquals(ExitCode.FAILURE, e.exitCode());
        assertTrue(e.getMessage().matches("training diverged: instance 0 \\(huge lr\\) has loss .* at step \\d+"),
                e.getMessage());
    }
}
