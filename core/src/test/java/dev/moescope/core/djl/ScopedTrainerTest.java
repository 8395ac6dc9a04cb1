package dev.moescope.core.djl;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ScopedTrainerTest {

    private static Engine engine;

    @BeforeAll
    static void startEngine() {
        engine = DjlRuntime.pytorch(2);
    }

    /** Least squares y = X·w*: the trainer must converge, and live native arrays must stay flat every step. */
    @Test
    void trainsWithoutLeakingNativeArrays() {
        try (NDManager data = engine.newBaseManager();
             ScopedTrainer trainer = new ScopedTrainer(engine, adam(0.05f))) {
            NDArray x = data.create(seededNormal(256 * 8, 42), new Shape(256, 8)); // fixed data: a repeatable test
            NDArray wTrue = data.arange(8f).reshape(8, 1);
            NDArray y = x.matMul(wTrue);
            NDArray w = trainer.addParameter("w", trainer.manager().zeros(new Shape(8, 1)));

            float first = trainer.step(() -> x.matMul(w).sub(y).square().mean());
            trainer.step(() -> x.matMul(w).sub(y).square().mean()); // Adam state now exists
            int live = trainer.liveArrays();
            int dataLive = data.getManagedArrays().size();
            float last = first;
            for (int i = 0; i < 400; i++) {
                last = trainer.step(() -> x.matMul(w).sub(y).square().mean());
                assertEquals(live, trainer.liveArrays(), "arrays leaked into the parameters' manager at step " + i);
                assertEquals(dataLive, data.getManagedArrays().size(), "arrays leaked into the data manager at step " + i);
            }
            assertTrue(last < first * 1e-3, "loss should fall by 1000x, went " + first + " -> " + last);
            float[] learned = w.toFloatArray();
            for (int i = 0; i < 8; i++) {
                assertEquals(i, learned[i], 0.05, "weight " + i);
            }
            assertEquals(402, trainer.steps());
        }
    }

    /** The gradient transform sees every parameter's gradient, and the hook runs after each update. */
    @Test
    void appliesGradientTransformAndParameterHook() {
        List<String> transformed = new ArrayList<>();
        try (NDManager data = engine.newBaseManager();
             // plain SGD: normalize((1-2η)·r + 2η·t) converges to t/|t|; Adam's per-coordinate scaling would not
             ScopedTrainer trainer = new ScopedTrainer(engine,
                     Optimizer.sgd().setLearningRateTracker(Tracker.fixed(0.05f)).build())) {
            NDArray target = data.create(new float[] {3, 4}).reshape(1, 2);
            NDArray row = trainer.addParameter("row", trainer.manager().create(new float[] {1, 0}).reshape(1, 2));
            NDArray bias = trainer.addParameter("bias", trainer.manager().zeros(new Shape(1)));
            trainer.gradientTransform((name, p, g) -> {
                transformed.add(name);
                return name.equals("bias") ? g.zerosLike() : g; // freeze the bias
            });
            trainer.parameterHook(params -> {
                NDArray r = params.get("row");
                NDArray unit = r.div(r.norm());
                r.set(unit.toFloatArray()); // keep the row on the unit sphere, as SAE decoders are
            });
            for (int i = 0; i < 200; i++) {
                trainer.step(() -> row.sub(target).square().sum().add(bias.sum()));
            }
            float[] r = row.toFloatArray();
            assertEquals(1.0, Math.hypot(r[0], r[1]), 1e-5, "hook keeps unit norm");
            assertEquals(0.6, r[0], 0.02, "direction of the target (3,4)/5");
            assertEquals(0.8, r[1], 0.02);
            assertEquals(0f, bias.getFloat(0), "a zeroed gradient leaves the bias untouched");
            assertEquals(400, transformed.size());
        }
    }

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

    /** Each step's optimizer sees that step's gradient only (PyTorch would otherwise accumulate into .grad). */
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

    private static float[] seededNormal(int n, long seed) {
        java.util.Random r = new java.util.Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }

    private static Optimizer adam(float lr) {
        return Optimizer.adam().optLearningRateTracker(Tracker.fixed(lr)).build();
    }
}
