package dev.moescope.toy.metrics;

import dev.moescope.toy.model.Architecture;
import dev.moescope.toy.model.InstanceSpec;
import dev.moescope.toy.model.ToyWeights;
import dev.moescope.toy.train.ToyKernel;

import java.util.SplittableRandom;

/** Routing statistics of a trained MoE instance on a set of inputs, and the MoE-level superposition measures. */
public final class ExpertUsage {

    private ExpertUsage() {
    }

    /** {@code count} inputs from the spec's distribution (feature i is U[0,1) with probability density[i]). */
    public static float[][] sample(InstanceSpec spec, int count, SplittableRandom rnd) {
        int n = spec.features();
        float[][] x = new float[count][n];
        for (float[] row : x) {
            for (int i = 0; i < n; i++) {
                if (rnd.nextDouble() < spec.densityAt(i)) {
                    row[i] = (float) rnd.nextDouble();
                }
            }
        }
        return x;
    }

    /** Fraction of inputs whose top-1 expert is e. */
    public static double[] topOneUsage(ToyWeights w, int instance, float[][] inputs) {
        Architecture a = w.architecture();
        double[] u = new double[a.experts()];
        forEachChunk(w, inputs, (kernel, chunk, routes) -> {
            for (int[] r : routes) {
                u[r[0]] += 1.0 / inputs.length;
            }
        }, instance);
        return u;
    }

    /** p_e: batch mean of the renormalised gate weight g̃_e (Σ_e p_e = 1). */
    public static double[] meanRouteWeight(ToyWeights w, int instance, float[][] inputs) {
        double[] p = new double[w.architecture().experts()];
        forEachChunk(w, inputs, (kernel, chunk, routes) -> {
            float[][] g = kernel.lastRouteWeights(chunk.length);
            for (float[] row : g) {
                for (int e = 0; e < p.length; e++) {
                    p[e] += row[e] / inputs.length;
                }
            }
        }, instance);
        return p;
    }

    /**
     * The MoE paper's features per dimension: (1/k) Σ_e p_e ‖W_e‖_F² / m. The 1/k undoes the ≈1/k scaling of each
     * selected expert's output, which makes represented features have ‖W_i‖² ≈ k. Equals ‖W‖_F²/m for E = 1.
     */
    public static double moeFeaturesPerDimension(ToyWeights w, int instance, float[][] inputs) {
        Architecture a = w.architecture();
        double[] p = meanRouteWeight(w, instance, inputs);
        double sum = 0;
        for (int e = 0; e < a.experts(); e++) {
            sum += p[e] * FeatureGeometry.frobeniusSquared(w.expertMatrix(instance, e)) / a.hidden();
        }
        return sum / a.active();
    }

    /**
     * Usage-weighted feature dimensionality D_i = Σ_e α_i^e D_i^e with α_i^e = P(e ∈ top-k | x_i &gt; 0) estimated on
     * {@code inputs}; features never active in the inputs get 0.
     */
    public static double[] globalDimensionality(ToyWeights w, int instance, float[][] inputs) {
        Architecture a = w.architecture();
        int n = a.features();
        double[][] hits = new double[n][a.experts()];
        double[] active = new double[n];
        int[] offset = {0};
        forEachChunk(w, inputs, (kernel, chunk, routes) -> {
            for (int s = 0; s < chunk.length; s++) {
                for (int i = 0; i < n; i++) {
                    if (chunk[s][i] > 0) {
                        active[i]++;
                        for (int e : routes[s]) {
                            hits[i][e]++;
                        }
                    }
                }
            }
            offset[0] += chunk.length;
        }, instance);
        double[] out = new double[n];
        for (int e = 0; e < a.experts(); e++) {
            double[] d = FeatureGeometry.dimensionality(w.expertMatrix(instance, e));
            for (int i = 0; i < n; i++) {
                if (active[i] > 0) {
                    out[i] += hits[i][e] / active[i] * d[i];
                }
            }
        }
        return out;
    }

    /** Median of the values (the Table 1 baseline across experts). */
    public static double median(double[] values) {
        double[] v = values.clone();
        java.util.Arrays.sort(v);
        int h = v.length / 2;
        return v.length % 2 == 1 ? v[h] : (v[h - 1] + v[h]) / 2;
    }

    private interface ChunkVisitor {
        void visit(ToyKernel kernel, float[][] chunk, int[][] routes);
    }

    private static void forEachChunk(ToyWeights w, float[][] inputs, ChunkVisitor visitor, int instance) {
        int chunkSize = 1024;
        ToyKernel kernel = new ToyKernel(w.architecture(), chunkSize);
        for (int start = 0; start < inputs.length; start += chunkSize) {
            int len = Math.min(chunkSize, inputs.length - start);
            float[][] chunk = java.util.Arrays.copyOfRange(inputs, start, start + len);
            visitor.visit(kernel, chunk, kernel.routeBatch(w, instance, chunk));
        }
    }
}
