package dev.moescope.core.djl;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.training.optimizer.Optimizer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** Each step's optimizer sees that step's gradient only (PyTorch would otherwise accumulate across steps). */
class ScopedTrainerTest {

    /** Records the gradients it is given, updates nothing. */
    private static final class Recorder extends Optimizer {
        final List<float[]> seen = new ArrayList<>();

        Recorder() {
            super(new Builder());
        }

        @Override
        public void update(String id, NDArray weight, NDArray grad) {
            seen.add(grad.toFloatArray());
        }

        private static final class Builder extends OptimizerBuilder<Builder> {
            @Override
            protected Builder self() {
                return this;
            }
        }
    }

    @Test
    void gradientsDoNotAccumulateAcrossSteps() {
        Engine engine = DjlRuntime.pytorch(1);
        Recorder rec = new Recorder();
        try (ScopedTrainer t = new ScopedTrainer(engine, rec)) {
            NDArray p = t.addParameter("p", t.manager().create(new float[]{0f, 0f}));
            for (int i = 0; i < 3; i++) {
                t.step(() -> p.mul(t.manager().create(new float[]{1f, 2f})).sum());
            }
        }
        for (float[] g : rec.seen) {
            assertArrayEquals(new float[]{1f, 2f}, g);
        }
    }
}
