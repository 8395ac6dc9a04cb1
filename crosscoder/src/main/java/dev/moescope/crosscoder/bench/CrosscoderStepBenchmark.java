package dev.moescope.crosscoder.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import dev.moescope.core.error.Require;
import dev.moescope.crosscoder.data.PairedSource;
import dev.moescope.crosscoder.data.SyntheticPairSource;
import dev.moescope.crosscoder.train.Crosscoder;
import dev.moescope.crosscoder.train.CrosscoderConfig;
import dev.moescope.crosscoder.train.CrosscoderTraining;
import dev.moescope.sae.dictionary.Parallel;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Times the real crosscoder training step ({@link CrosscoderTraining#step()}: sae's sparse step with the crosscoder
 * objective, clipping, Adam, shared-decoder re-tying) on a two-source synthetic workload, with a per-phase
 * breakdown, and the floor: the encoder forward matmul of the same shape alone. Data generation is not timed (four
 * batches are generated up front and cycled), as in the Python reference.
 */
public final class CrosscoderStepBenchmark {

    private CrosscoderStepBenchmark() {
    }

    /**
     * @param width           d of each of the two sources
     * @param latents         F
     * @param k               k
     * @param shared          designated shared latents
     * @param batch           B
     * @param steps           timed steps
     * @param warmup          untimed steps first
     * @param sparsityPenalty λ_f of the decoder-norm L1 term (λ_s = 0.15·λ_f), 0 off
     * @param threads         Java kernel threads (PyTorch's are set when the engine starts)
     * @param seed            data and init seed
     */
    public record Spec(int width, int latents, int k, int shared, int batch, int steps, int warmup,
                       double sparsityPenalty, int threads, long seed) {
        public Spec {
            Require.positive("d", width);
            Require.positive("steps", steps);
            Require.that(warmup >= 0, "warmup", "non-negative", warmup);
        }
    }

    /** Results; phase times are milliseconds per step. */
    public record Result(Spec spec, double tokensPerSecond, double stepMs, Map<String, Double> phasesMs,
                         Map<String, Double> kernelPhasesMs, double encoderMatmulFloorMs, double finalLoss) {
    }

    public static Result run(Engine engine, Spec spec) {
        SyntheticPairSource synth = new SyntheticPairSource(spec.width(), spec.width() / 2, spec.width() / 4,
                spec.width() / 4, Math.min(0.25, 32.0 / spec.width()), spec.seed());
        float[][][] cached = new float[4][][];
        for (int i = 0; i < cached.length; i++) {
            cached[i] = synth.trainBatch(i, spec.batch());
        }
        PairedSource cycling = new PairedSource() {
            @Override
            public int[] widths() {
                return synth.widths();
            }

            @Override
            public List<String> names() {
                return synth.names();
            }

            @Override
            public Map<String, String> describe() {
                return synth.describe();
            }

            @Override
            public float[][] trainBatch(long index, int rows) {
                float[][] b = cached[(int) (index % cached.length)];
                return new float[][]{b[0].clone(), b[1].clone()};
            }
        };
        int total = spec.warmup() + spec.steps();
        CrosscoderConfig cfg = CrosscoderConfig.defaults(spec.latents(), spec.k(), spec.shared(), spec.batch(), total,
                spec.seed()).withSparsityPenalties(spec.sparsityPenalty(), 0.15 * spec.sparsityPenalty());
        Map<String, Double> phases = new LinkedHashMap<>();
        Map<String, Double> kernel = new LinkedHashMap<>();
        double seconds;
        double loss = 0;
        try (Parallel par = new Parallel(spec.threads())) {
            CrosscoderTraining t = CrosscoderTraining.start(engine, cycling, cfg, par);
            try (Crosscoder cc = t.model()) {
                for (int i = 0; i < spec.warmup(); i++) {
                    t.step();
                }
                cc.times().reset();
                cc.kernelTimes().reset();
                long t0 = System.nanoTime();
                for (int i = 0; i < spec.steps(); i++) {
                    loss = t.step().loss();
                }
                seconds = (System.nanoTime() - t0) / 1e9;
                cc.times().nanos().forEach((k, v) -> phases.put(k, v / 1e6 / spec.steps()));
                cc.kernelTimes().nanos().forEach((k, v) -> kernel.put(k, v / 1e6 / spec.steps()));
            }
        }
        return new Result(spec, spec.batch() * spec.steps() / seconds, 1000 * seconds / spec.steps(), phases, kernel,
                matmulFloorMs(engine, spec), loss);
    }

    /** The encoder forward alone: {@code (B x 2d)·(F x 2d)ᵀ + b}, median of 5 after a warm-up. */
    static double matmulFloorMs(Engine engine, Spec spec) {
        try (NDManager m = engine.newBaseManager()) {
            NDArray w = m.randomNormal(new Shape(spec.latents(), 2L * spec.width()));
            NDArray b = m.zeros(new Shape(spec.latents()));
            NDArray x = m.randomNormal(new Shape(spec.batch(), 2L * spec.width()));
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
