package dev.moescope.sae.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import dev.moescope.core.error.Require;
import dev.moescope.sae.data.ActivationBatch;
import dev.moescope.sae.data.ActivationSource;
import dev.moescope.sae.data.SyntheticSource;
import dev.moescope.sae.train.SaeConfig;
import dev.moescope.sae.train.SaeTraining;
import dev.moescope.sae.train.SparseStep;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Times the real training step ({@link SaeTraining#step()}, sparse kernel) on a synthetic workload, with a
 * per-phase breakdown, and the floor: the encoder forward matmul of the same shape run alone. Data generation is
 * not timed (a few batches are generated up front and cycled), as in the Python reference.
 */
public final class StepBenchmark {

    private StepBenchmark() {
    }

    /**
     * @param width   d
     * @param latents F
     * @param k       k
     * @param batch   B
     * @param steps   timed steps
     * @param warmup  untimed steps first
     * @param threads Java kernel threads (PyTorch's are set when the engine starts)
     * @param seed    data and init seed
     */
    public record Spec(int width, int latents, int k, int batch, int steps, int warmup, int threads, long seed) {
        public Spec {
            Require.positive("d", width);
            Require.positive("steps", steps);
            Require.that(warmup >= 0, "warmup", "non-negative", warmup);
        }
    }

    /** Results; phase times are milliseconds per step. */
    public record Result(Spec spec, double tokensPerSecond, double stepMs, Map<String, Double> phasesMs,
                         Map<String, Double> kernelPhasesMs, double encoderMatmulFloorMs) {
    }

    public static Result run(Engine engine, Spec spec) {
        SyntheticSource synth = new SyntheticSource(new SyntheticSource.Spec(spec.width(), 4 * spec.width(),
                spec.k(), 0.01, 1024, spec.seed()));
        ActivationBatch[] cached = new ActivationBatch[4];
        for (int i = 0; i < cached.length; i++) {
            cached[i] = synth.trainBatch(i, spec.batch());
        }
        ActivationSource cycling = new ActivationSource() {
            @Override
            public int width() {
                return spec.width();
            }

            @Override
            public String name() {
                return "synthetic (4 cached batches)";
            }

            @Override
            public Map<String, String> describe() {
                return synth.describe();
            }

            @Override
            public long trainRows() {
                return -1;
            }

            @Override
            public long validationRows() {
                return 0;
            }

            @Override
            public ActivationBatch trainBatch(long index, int rows) {
                ActivationBatch b = cached[(int) (index % cached.length)];
                return new ActivationBatch(b.data().clone(), b.rows(), b.width(), b.rowIds(), b.documents());
            }

            @Override
            public void forEachValidation(int rows, Consumer<ActivationBatch> consumer) {
            }
        };
        SaeConfig cfg = SaeConfig.defaults(spec.latents(), spec.k(), spec.batch(), spec.warmup() + spec.steps())
                .withSchedule(Math.min(1000, spec.warmup() + spec.steps() - 1), 1000);
        Map<String, Double> phases = new LinkedHashMap<>();
        Map<String, Double> kernel = new LinkedHashMap<>();
        double seconds;
        try (SaeTraining t = SaeTraining.start(engine, cycling, cfg, spec.seed(), spec.threads())) {
            for (int i = 0; i < spec.warmup(); i++) {
                t.step();
            }
            SparseStep sparse = (SparseStep) t.kernel();
            t.times().reset();
            sparse.times().reset();
            long t0 = System.nanoTime();
            for (int i = 0; i < spec.steps(); i++) {
                t.step();
            }
            seconds = (System.nanoTime() - t0) / 1e9;
            t.times().nanos().forEach((k, v) -> phases.put(k, v / 1e6 / spec.steps()));
            sparse.times().nanos().forEach((k, v) -> kernel.put(k, v / 1e6 / spec.steps()));
        }
        return new Result(spec, spec.batch() * spec.steps() / seconds, 1000 * seconds / spec.steps(), phases, kernel,
                matmulFloorMs(engine, spec));
    }

    /** The encoder forward alone: {@code (B x d)·(F x d)ᵀ + b}, median of 5 after a warm-up. */
    static double matmulFloorMs(Engine engine, Spec spec) {
        try (NDManager m = engine.newBaseManager()) {
            NDArray w = m.randomNormal(new Shape(spec.latents(), spec.width()));
            NDArray b = m.zeros(new Shape(spec.latents()));
            NDArray x = m.randomNormal(new Shape(spec.batch(), spec.width()));
            double[] t = new double[6];
            for (int i = 0; i < t.length; i++) {
                long t0 = System.nanoTime();
                try (NDScope s = new NDScope()) {
                    x.matMul(w.transpose()).addi(b).toByteBuffer(true);
                }
                t[i] = (System.nanoTime() - t0) / 1e6;
            }
            double[] timed = java.util.Arrays.copyOfRange(t, 1, t.length);
            java.util.Arrays.sort(timed);
            return timed[timed.length / 2];
        }
    }
}
