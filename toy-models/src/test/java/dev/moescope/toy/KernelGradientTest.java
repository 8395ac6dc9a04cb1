package dev.moescope.toy;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import dev.moescope.core.djl.DjlRuntime;
import dev.moescope.core.djl.ScopedTrainer;
import dev.moescope.toy.model.Architecture;
import dev.moescope.toy.model.BiasInit;
import dev.moescope.toy.model.Importance;
import dev.moescope.toy.model.InstanceSpec;
import dev.moescope.toy.model.LossReduction;
import dev.moescope.toy.model.RouterInit;
import dev.moescope.toy.model.ToyWeights;
import dev.moescope.toy.train.ToyKernel;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hand-written backward pass of {@link ToyKernel} against DJL (PyTorch) autograd of the same forward pass,
 * on random instances: dense, top-1 and top-2 MoE, with and without the load-balancing loss.
 */
class KernelGradientTest {

    @Test
    void moeTopTwoWithLoadBalancingMatchesAutograd() {
        compare(new Architecture(12, 3, 4, 2), RouterInit.XAVIER, 0.01, LossReduction.MEAN_FEATURES, 0.3, 1);
    }

    @Test
    void moeTopOneMatchesAutogradAndGivesRouterNoReconstructionGradient() {
        Map<String, float[]> g = compare(new Architecture(10, 2, 3, 1), RouterInit.XAVIER, 0.0,
                LossReduction.SUM_FEATURES, 0.4, 2);
        // hand-written: exactly zero; autograd agreed within round-off in compare()
        for (float v : g.get("kernel.gate")) {
            assertEquals(0f, v);
        }
        double autogradGate = maxAbs(g.get("djl.gate"));
        double autogradW = maxAbs(g.get("djl.w"));
        assertTrue(autogradGate <= 1e-6 * autogradW, "autograd router gradient " + autogradGate + " vs W " + autogradW);
    }

    @Test
    void topOneWithLoadBalancingMovesOnlyThroughTheBalanceTerm() {
        Map<String, float[]> g = compare(new Architecture(8, 2, 3, 1), RouterInit.XAVIER, 0.05,
                LossReduction.MEAN_FEATURES, 0.5, 3);
        assertTrue(maxAbs(g.get("kernel.gate")) > 0, "LB must reach the router");
    }

    @Test
    void denseMatchesAutograd() {
        compare(Architecture.dense(20, 5), RouterInit.ZERO, 0.0, LossReduction.MEAN_FEATURES, 0.2, 4);
    }

    @Test
    void topThreeOfFiveWithKHotRouterMatchesAutograd() {
        compare(new Architecture(15, 4, 5, 3), RouterInit.RANDOM_K_HOT, 0.0, LossReduction.SUM_FEATURES, 0.25, 5);
    }

    @Test
    void topFiveOfTwentyOneDimensionalExpertsMatchesAutograd() {
        // the Fig 3 E20 k5 m1 shape (n cut to 24): narrow experts, router gradient through the renormalisation and LB
        compare(new Architecture(24, 1, 20, 5), RouterInit.XAVIER, 0.01, LossReduction.MEAN_FEATURES, 0.5, 6);
    }

    @Test
    void wideExpertsTopTwoMatchesAutograd() {
        // m ≥ ToyKernel's wide threshold: ∂L/∂h along W's rows, the input's share accumulated in W's layout
        compare(new Architecture(16, 9, 3, 2), RouterInit.XAVIER, 0.0, LossReduction.SUM_FEATURES, 0.3, 7);
    }

    @Test
    void topKSelectsTheLargestProbabilitiesWithTiesToTheLowestIndex() {
        for (RouterInit init : new RouterInit[] {RouterInit.XAVIER, RouterInit.ZERO, RouterInit.ORDERED_K_HOT}) {
            Architecture arch = new Architecture(20, 1, 8, 3);
            int n = arch.features();
            InstanceSpec spec = new InstanceSpec(InstanceSpec.uniformDensity(n, 0.3), Importance.uniform(n), init, 9,
                    "t");
            ToyWeights w = ToyWeights.initialise(arch, new InstanceSpec[] {spec}, BiasInit.XAVIER);
            float[][] x = new float[300][n];
            SplittableRandom rnd = new SplittableRandom(13);
            for (int s = 0; s < x.length; s++) {
                for (int i = 0; i < n; i++) { // every tenth row all zero: every score 0, a full tie
                    x[s][i] = s % 10 != 0 && rnd.nextDouble() < 0.3 ? (float) rnd.nextDouble() : 0f;
                }
            }
            int[][] sel = new ToyKernel(arch, x.length).routeBatch(w, 0, x);
            for (int s = 0; s < x.length; s++) {
                double[] score = new double[arch.experts()];
                for (int e = 0; e < score.length; e++) {
                    for (int i = 0; i < n; i++) {
                        score[e] += (double) w.gate[e * n + i] * x[s][i];
                    }
                }
                int[] expected = java.util.stream.IntStream.range(0, score.length).boxed()
                        .sorted((a, b) -> score[a] != score[b] ? Double.compare(score[b], score[a])
                                : Integer.compare(a, b))
                        .limit(arch.active()).mapToInt(Integer::intValue).toArray();
                assertEquals(java.util.Arrays.toString(expected), java.util.Arrays.toString(sel[s]),
                        init + " row " + s);
            }
        }
    }

    @Test
    void batchMajorPathMatchesPerSamplePath() {
        for (Architecture arch : new Architecture[] {new Architecture(3, 2, 3, 1), new Architecture(2, 1, 2, 1),
                Architecture.dense(3, 2), new Architecture(3, 1, 3, 1)}) {
            for (double lb : new double[] {0, 0.01}) {
                int n = arch.features();
                InstanceSpec spec = new InstanceSpec(InstanceSpec.uniformDensity(n, 0.6), Importance.lastFeature(n, 1.7),
                        RouterInit.XAVIER, 11, "t");
                ToyWeights w = ToyWeights.initialise(arch, new InstanceSpec[] {spec}, BiasInit.XAVIER);
                float[][] x = new float[200][n];
                SplittableRandom rnd = new SplittableRandom(5);
                for (float[] row : x) {
                    for (int i = 0; i < n; i++) {
                        row[i] = rnd.nextDouble() < 0.6 ? (float) rnd.nextDouble() : 0f;
                    }
                }
                ToyKernel fast = new ToyKernel(arch, 256);
                ToyKernel slow = new ToyKernel(arch, 256, false);
                assertTrue(fast.isBatchMajor() && !slow.isBatchMajor(), arch.label());
                double[] pf = fast.evaluate(w, 0, spec.importance(), x, LossReduction.MEAN_FEATURES, lb);
                double[] ps = slow.evaluate(w, 0, spec.importance(), x, LossReduction.MEAN_FEATURES, lb);
                assertEquals(ps[0], pf[0], 1e-6 * Math.abs(ps[0]), arch.label() + " recon");
                assertEquals(ps[1], pf[1], 1e-6, arch.label() + " lb");
                float[][] gf = fast.gradients();
                float[][] gs = slow.gradients();
                for (int t = 0; t < 3; t++) {
                    assertClose(arch.label() + " lb=" + lb + " grad " + t, gs[t], gf[t]);
                }
            }
        }
    }

    private static Map<String, float[]> compare(Architecture arch, RouterInit init, double lb, LossReduction red,
                                                double density, long seed) {
        int n = arch.features();
        int e = arch.experts();
        int m = arch.hidden();
        int batch = 64;
        float[] importance = Importance.geometric(n, 0.9);
        InstanceSpec spec = new InstanceSpec(InstanceSpec.uniformDensity(n, density), importance, init, seed, "t");
        ToyWeights w = ToyWeights.initialise(arch, new InstanceSpec[] {spec}, BiasInit.XAVIER);
        if (init == RouterInit.RANDOM_K_HOT) { // perturb so that probabilities do not tie
            SplittableRandom r = new SplittableRandom(seed);
            for (int j = 0; j < w.gate.length; j++) {
                w.gate[j] += (float) (0.1 * r.nextGaussian());
            }
        }
        float[][] x = new float[batch][n];
        SplittableRandom rnd = new SplittableRandom(seed + 100);
        for (float[] row : x) {
            for (int i = 0; i < n; i++) {
                row[i] = rnd.nextDouble() < density ? (float) rnd.nextDouble() : 0f;
            }
        }
        ToyKernel kernel = new ToyKernel(arch, batch);
        double[] parts = kernel.evaluate(w, 0, importance, x, red, lb);
        float[][] grads = kernel.gradients();
        int[][] sel = kernel.routeBatch(w, 0, x);

        Engine engine = DjlRuntime.pytorch(1);
        Map<String, float[]> out = new HashMap<>();
        try (ScopedTrainer trainer = new ScopedTrainer(engine,
                Optimizer.sgd().setLearningRateTracker(Tracker.fixed(0f)).build())) {
            NDManager mg = trainer.manager();
            NDArray pw = trainer.addParameter("w", mg.create(w.w, new Shape(e, n, m)));
            NDArray pb = trainer.addParameter("b", mg.create(w.b, new Shape(e, n)));
            NDArray pg = trainer.addParameter("gate", mg.create(w.gate, new Shape(e, n)));
            float[] maskData = new float[batch * e];
            for (int s = 0; s < batch; s++) {
                for (int slot : sel[s]) {
                    maskData[s * e + slot] = 1f;
                }
            }
            float[] xFlat = new float[batch * n];
            for (int s = 0; s < batch; s++) {
                System.arraycopy(x[s], 0, xFlat, s * n, n);
            }
            NDArray xs = mg.create(xFlat, new Shape(batch, n));
            NDArray mask = mg.create(maskData, new Shape(batch, e));
            NDArray imp = mg.create(importance, new Shape(1, n));
            double featureScale = red == LossReduction.MEAN_FEATURES ? 1.0 / n : 1.0;
            double[] djlLoss = new double[1];
            trainer.gradientTransform((name, p, g) -> {
                out.put("djl." + name, g.toFloatArray());
                return g;
            });
            float total = trainer.step(() -> {
                NDArray p = xs.matMul(pg.transpose()).softmax(1);
                NDArray mp = p.mul(mask);
                NDArray gt = mp.div(mp.sum(new int[] {1}, true));
                NDArray xr = null;
                for (int ex = 0; ex < e; ex++) {
                    NDArray we = pw.get(ex);
                    NDArray y = Activation.relu(xs.matMul(we).matMul(we.transpose()).add(pb.get(ex)));
                    NDArray term = y.mul(gt.get(":, " + ex + ":" + (ex + 1)));
                    xr = xr == null ? term : xr.add(term);
                }
                NDArray d = xr.sub(xs);
                NDArray loss = d.mul(d).mul(imp).sum(new int[] {1}).mean().mul((float) featureScale);
                if (lb > 0) {
                    NDArray f = mask.mean(new int[] {0});
                    loss = loss.add(f.mul(p.mean(new int[] {0})).sum().mul((float) (lb * e)));
                }
                return loss;
            });
            djlLoss[0] = total;
            assertEquals(djlLoss[0], parts[0] + parts[1], 1e-5 * Math.max(1, Math.abs(djlLoss[0])), "loss");
        }
        out.put("kernel.w", grads[0]);
        out.put("kernel.b", grads[1]);
        out.put("kernel.gate", grads[2]);
        assertClose("w", out.get("djl.w"), grads[0]);
        assertClose("b", out.get("djl.b"), grads[1]);
        if (e > 1) {
            assertClose("gate", out.get("djl.gate"), grads[2]);
        }
        return out;
    }

    @Test
    void pytorchTopOneResidueIsBitForBitWhatAutogradLeaves() {
        // ∂/∂p of Σ a·(p·mask)/Σ(p·mask) with a one-hot mask: exactly 0, but PyTorch leaves a float32 residue
        int batch = 2000;
        int e = 3;
        SplittableRandom rnd = new SplittableRandom(17);
        float[] p = new float[batch * e];
        float[] a = new float[batch * e];
        float[] mask = new float[batch * e];
        for (int s = 0; s < batch; s++) {
            int top = rnd.nextInt(e);
            for (int j = 0; j < e; j++) {
                p[s * e + j] = (float) (0.02 + 0.96 * rnd.nextDouble());
                a[s * e + j] = (float) (rnd.nextGaussian() * 1e-3);
            }
            mask[s * e + top] = 1f;
        }
        Engine engine = DjlRuntime.pytorch(1);
        float[][] grad = new float[1][];
        try (ScopedTrainer trainer = new ScopedTrainer(engine,
                Optimizer.sgd().setLearningRateTracker(Tracker.fixed(0f)).build())) {
            NDManager mg = trainer.manager();
            NDArray pp = trainer.addParameter("p", mg.create(p, new Shape(batch, e)));
            NDArray am = mg.create(a, new Shape(batch, e));
            NDArray mm = mg.create(mask, new Shape(batch, e));
            trainer.gradientTransform((name, param, g) -> {
                grad[0] = g.toFloatArray();
                return g;
            });
            trainer.step(() -> {
                NDArray mp = pp.mul(mm);
                return mp.div(mp.sum(new int[] {1}, true)).mul(am).sum();
            });
        }
        int nonZero = 0;
        for (int s = 0; s < batch; s++) {
            for (int j = 0; j < e; j++) {
                float expected = mask[s * e + j] == 1f ? ToyKernel.torchTopOneResidue(a[s * e + j], p[s * e + j]) : 0f;
                assertEquals(expected, grad[0][s * e + j], 0f, "sample " + s + " expert " + j);
                nonZero += expected != 0f ? 1 : 0;
            }
        }
        assertTrue(nonZero > batch / 10, "a residue for a generic p: " + nonZero + " of " + batch);
    }

    private static void assertClose(String name, float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length, name + " length");
        double scale = Math.max(maxAbs(expected), 1e-7);
        double worst = 0;
        for (int j = 0; j < expected.length; j++) {
            worst = Math.max(worst, Math.abs(expected[j] - actual[j]));
        }
        assertTrue(worst <= 2e-4 * scale + 1e-8, name + ": max deviation " + worst + " vs scale " + scale);
    }

    static double maxAbs(float[] v) {
        double m = 0;
        for (float f : v) {
            m = Math.max(m, Math.abs(f));
        }
        return m;
    }
}
